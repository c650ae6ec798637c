// The order operations shared by REST (/v5/order/create, amend, cancel) and the trade
// WebSocket (order.create, order.amend, order.cancel): Bybit's parameter checks (10001 with a
// Bybit-like message), then the venue, whose errors pass through unchanged.

#include <simdjson.h>

#include <string>

#include "api.hpp"

namespace kinetic::exchange {

namespace {

namespace sim = exec::sim;

simdjson::dom::parser& args_parser() {
  // One parser per thread, reused by every call (the loop thread in practice).
  thread_local simdjson::dom::parser parser;
  return parser;
}

OrderOpResult failure(int code, std::string message) {
  return OrderOpResult{code, std::move(message), "{}"};
}

OrderOpResult params_error(std::string_view detail) {
  return failure(10001, "params error: " + std::string(detail));
}

/// A string field: absent → nullopt; present but not a string → `bad` set.
std::optional<std::string_view> string_field(simdjson::dom::object args, std::string_view name,
                                             bool& bad) {
  simdjson::dom::element element;
  if (args[name].get(element) != simdjson::SUCCESS || element.is_null())
    return std::nullopt;
  std::string_view text;
  if (element.get_string().get(text) != simdjson::SUCCESS) {
    bad = true;
    return std::nullopt;
  }
  return text;
}

bool valid_order_link_id(std::string_view id) noexcept {
  if (id.size() > 36)
    return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

/// The common checks of every op: a JSON object, category linear, a symbol the venue lists.
struct CommonArgs {
  simdjson::dom::object object;
  std::string_view symbol;
};

std::variant<CommonArgs, OrderOpResult> parse_common(const ExchangeContext& context,
                                                     std::string_view args_json) {
  simdjson::dom::element document;
  if (args_json.empty())
    return params_error("request body is empty");
  if (args_parser().parse(args_json.data(), args_json.size()).get(document) != simdjson::SUCCESS)
    return params_error("request body is not valid JSON");
  CommonArgs common;
  if (document.get_object().get(common.object) != simdjson::SUCCESS)
    return params_error("request body is not a JSON object");
  bool bad = false;
  const auto category = string_field(common.object, "category", bad);
  if (bad || !category || category->empty())
    return failure(10001, "Illegal category");
  if (*category != "linear")
    return failure(10001, "Illegal category");
  const auto symbol = string_field(common.object, "symbol", bad);
  if (bad || !symbol || symbol->empty())
    return params_error("symbol invalid");
  if (context.venue.instrument(*symbol) == nullptr)
    return params_error("symbol invalid");
  common.symbol = *symbol;
  return common;
}

/// An optional decimal string field; "" and absent are "not given". `error` set when bad.
template <class D>
std::optional<D> decimal_field(simdjson::dom::object args, std::string_view name,
                               std::optional<OrderOpResult>& error) {
  bool bad = false;
  const auto text = string_field(args, name, bad);
  if (bad) {
    error = params_error(std::string(name) + " must be a string");
    return std::nullopt;
  }
  if (!text || text->empty())
    return std::nullopt;
  const auto value = D::parse(*text);
  if (!value || value.value().raw() < 0) {
    error = params_error(std::string(name) + " invalid");
    return std::nullopt;
  }
  return value.value();
}

/// Reads orderId / orderLinkId; one of them is required.
std::optional<OrderOpResult> read_ids(simdjson::dom::object args, std::string_view& order_id,
                                      std::string_view& order_link_id) {
  bool bad = false;
  order_id = string_field(args, "orderId", bad).value_or("");
  order_link_id = string_field(args, "orderLinkId", bad).value_or("");
  if (bad)
    return params_error("orderId and orderLinkId must be strings");
  if (order_id.empty() && order_link_id.empty())
    return params_error("orderId or orderLinkId is required");
  return std::nullopt;
}

OrderOpResult acknowledgement(std::string_view order_id, std::string_view order_link_id) {
  OrderOpResult result;
  result.result_json.clear();
  JsonOut out(result.result_json);
  out.begin_object().field("orderId", order_id).field("orderLinkId", order_link_id).end_object();
  return result;
}

OrderOpResult from_venue(const std::variant<sim::OrderState, sim::VenueError>& outcome) {
  if (const auto* error = std::get_if<sim::VenueError>(&outcome))
    return failure(error->ret_code, error->ret_msg);
  const auto& order = std::get<sim::OrderState>(outcome);
  return acknowledgement(order.order_id, order.order_link_id);
}

OrderOpResult create(ExchangeContext& context, sim::AccountId account, const CommonArgs& common) {
  const simdjson::dom::object args = common.object;
  sim::NewOrder order;
  order.symbol = std::string(common.symbol);
  bool bad = false;

  const auto side = string_field(args, "side", bad);
  if (side == "Buy")
    order.side = Side::buy;
  else if (side == "Sell")
    order.side = Side::sell;
  else
    return params_error("side invalid");

  const auto type = string_field(args, "orderType", bad);
  if (type == "Market")
    order.type = sim::OrderType::market;
  else if (type == "Limit")
    order.type = sim::OrderType::limit;
  else
    return params_error("orderType invalid");

  bad = false;
  const auto qty_text = string_field(args, "qty", bad);
  if (bad)
    return params_error("qty must be a string");
  if (!qty_text || qty_text->empty())
    return params_error("qty is required");
  const auto qty = Qty::parse(*qty_text);
  if (!qty || qty.value().raw() <= 0)
    return params_error("qty invalid");
  order.qty = qty.value();

  std::optional<OrderOpResult> error;
  const auto price = decimal_field<Price>(args, "price", error);
  if (error)
    return *error;
  if (order.type == sim::OrderType::limit) {
    if (!price || price->raw() <= 0)
      return params_error("price invalid");
    order.price = *price;
  }

  const auto tif = string_field(args, "timeInForce", bad);
  if (bad)
    return params_error("timeInForce must be a string");
  if (!tif || tif == "GTC")
    order.time_in_force = sim::TimeInForce::gtc;
  else if (tif == "IOC")
    order.time_in_force = sim::TimeInForce::ioc;
  else if (tif == "FOK")
    order.time_in_force = sim::TimeInForce::fok;
  else if (tif == "PostOnly")
    order.time_in_force = sim::TimeInForce::post_only;
  else
    return params_error("timeInForce invalid");

  const auto link = string_field(args, "orderLinkId", bad);
  if (bad || (link && !valid_order_link_id(*link)))
    return params_error("orderLinkId invalid: at most 36 characters of A-Z a-z 0-9 _ -");
  order.order_link_id = std::string(link.value_or(""));

  simdjson::dom::element element;
  if (args["positionIdx"].get(element) == simdjson::SUCCESS && !element.is_null()) {
    std::int64_t index = -1;
    if (element.get_int64().get(index) != simdjson::SUCCESS) {
      std::string_view text;  // some clients send it as a string
      if (element.get_string().get(text) == simdjson::SUCCESS && text.size() == 1)
        index = text[0] - '0';
    }
    if (index == 1 || index == 2)
      return failure(10001, "position idx not match position mode");
    if (index != 0)
      return params_error("positionIdx invalid");
  }
  if (args["reduceOnly"].get(element) == simdjson::SUCCESS && !element.is_null()) {
    bool reduce = false;
    if (element.get_bool().get(reduce) != simdjson::SUCCESS)
      return params_error("reduceOnly must be a boolean");
    order.reduce_only = reduce;
  }
  if (args["closeOnTrigger"].get(element) == simdjson::SUCCESS && !element.is_null()) {
    bool close = false;
    if (element.get_bool().get(close) != simdjson::SUCCESS)
      return params_error("closeOnTrigger must be a boolean");
  }

  const auto take_profit = decimal_field<Price>(args, "takeProfit", error);
  if (error)
    return *error;
  const auto stop_loss = decimal_field<Price>(args, "stopLoss", error);
  if (error)
    return *error;
  if (take_profit && !take_profit->is_zero())
    order.take_profit = take_profit;
  if (stop_loss && !stop_loss->is_zero())
    order.stop_loss = stop_loss;

  return from_venue(context.venue.create(account, order, context.now_ms()));
}

OrderOpResult amend(ExchangeContext& context, sim::AccountId account, const CommonArgs& common) {
  const simdjson::dom::object args = common.object;
  sim::AmendOrder amend_order;
  amend_order.symbol = std::string(common.symbol);
  std::string_view order_id, order_link_id;
  if (auto error = read_ids(args, order_id, order_link_id))
    return *error;
  amend_order.order_id = std::string(order_id);
  amend_order.order_link_id = std::string(order_link_id);
  std::optional<OrderOpResult> error;
  amend_order.qty = decimal_field<Qty>(args, "qty", error);
  if (!error)
    amend_order.price = decimal_field<Price>(args, "price", error);
  if (!error)
    amend_order.take_profit = decimal_field<Price>(args, "takeProfit", error);
  if (!error)
    amend_order.stop_loss = decimal_field<Price>(args, "stopLoss", error);
  if (error)
    return *error;
  if (amend_order.qty && amend_order.qty->is_zero())
    return params_error("qty invalid");
  if (amend_order.price && amend_order.price->is_zero())
    return params_error("price invalid");
  return from_venue(context.venue.amend(account, amend_order, context.now_ms()));
}

OrderOpResult cancel(ExchangeContext& context, sim::AccountId account, const CommonArgs& common) {
  std::string_view order_id, order_link_id;
  if (auto error = read_ids(common.object, order_id, order_link_id))
    return *error;
  return from_venue(
      context.venue.cancel(account, common.symbol, order_id, order_link_id, context.now_ms()));
}

}  // namespace

std::string_view rest_path(OrderOp op) noexcept {
  switch (op) {
    case OrderOp::create:
      return "/v5/order/create";
    case OrderOp::amend:
      return "/v5/order/amend";
    case OrderOp::cancel:
      return "/v5/order/cancel";
  }
  return "";
}

OrderOpResult run_order_op(ExchangeContext& context, exec::sim::AccountId account, OrderOp op,
                           std::string_view args_json) {
  if (auto reject = take_reject(context.faults, rest_path(op)))
    return failure(reject->ret_code, std::move(reject->ret_msg));
  auto parsed = parse_common(context, args_json);
  if (auto* error = std::get_if<OrderOpResult>(&parsed))
    return std::move(*error);
  const CommonArgs& common = std::get<CommonArgs>(parsed);
  switch (op) {
    case OrderOp::create:
      return create(context, account, common);
    case OrderOp::amend:
      return amend(context, account, common);
    case OrderOp::cancel:
      return cancel(context, account, common);
  }
  return params_error("unknown operation");
}

}  // namespace kinetic::exchange
