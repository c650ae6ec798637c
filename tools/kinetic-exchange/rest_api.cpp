// Bybit v5 REST over the simulator (docs/bybit-v5.md §4): routing, the envelope, signed
// endpoints with the per-UID rate limits and their headers, the public market endpoints, the
// control endpoints (/kinetic/state, /kinetic/fault), injected faults, and the request log.
//
// Choices where Bybit's behaviour is not documented precisely (also in --help):
// - an unknown path: HTTP 404 with retCode 10017 "route not found";
// - a known path with the wrong method: HTTP 400 ("bad method"), retCode 10001;
// - a GET with a body on a Bybit path: HTTP 403, retCode 10001;
// - a missing X-BAPI-API-KEY: HTTP 401, retCode 10003; a missing X-BAPI-TIMESTAMP: HTTP 401,
//   retCode 10001; every other error is HTTP 200 with its retCode, as Bybit;
// - the rate-limit headers go on every response to a signed request once the key is known.

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "api.hpp"

namespace kinetic::exchange {

namespace {

namespace sim = exec::sim;

// ---- small helpers ----

/// The query string's parameters, percent-decoded, in order.
class Query {
 public:
  explicit Query(std::string_view text) {
    while (!text.empty()) {
      const std::size_t amp = text.find('&');
      const std::string_view pair = text.substr(0, amp);
      text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
      if (pair.empty())
        continue;
      const std::size_t eq = pair.find('=');
      params_.emplace_back(decode(pair.substr(0, eq)), eq == std::string_view::npos
                                                           ? std::string{}
                                                           : decode(pair.substr(eq + 1)));
    }
  }
  /// The first value of `name`; nullopt when absent. An empty value counts as absent, as
  /// Bybit treats "symbol=" like no symbol.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const {
    for (const auto& [key, value] : params_) {
      if (key == name)
        return value.empty() ? std::nullopt : std::optional<std::string_view>(value);
    }
    return std::nullopt;
  }

 private:
  static int hex(char c) noexcept {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  }
  static std::string decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '%' && i + 2 < text.size()) {
        const int high = hex(text[i + 1]);
        const int low = hex(text[i + 2]);
        if (high >= 0 && low >= 0) {
          out.push_back(static_cast<char>(high * 16 + low));
          i += 2;
          continue;
        }
      }
      out.push_back(text[i]);
    }
    return out;
  }
  std::vector<std::pair<std::string, std::string>> params_;
};

/// What a handler answers: the envelope's retCode/retMsg/result and the HTTP status.
struct Reply {
  int http_status = 200;
  int ret_code = 0;
  std::string ret_msg = "OK";
  std::string result_json = "{}";
  std::int64_t time_ms = 0;  ///< the envelope's `time` when set (market/time: same instant)
};

Reply error_reply(int code, std::string message, int http_status = 200) {
  return Reply{http_status, code, std::move(message), "{}", 0};
}
Reply params_error(std::string_view detail) {
  return error_reply(10001, "params error: " + std::string(detail));
}
Reply ok_reply(std::string result_json) {
  return Reply{200, 0, "OK", std::move(result_json), 0};
}

/// An integer query parameter clamped into [low, high]; `fallback` when absent; nullopt when
/// present but not an integer.
std::optional<std::int64_t> int_param(const Query& query, std::string_view name,
                                      std::int64_t fallback, std::int64_t low, std::int64_t high) {
  const auto text = query.get(name);
  if (!text)
    return fallback;
  std::int64_t value = 0;
  const auto result = std::from_chars(text->data(), text->data() + text->size(), value);
  if (result.ec != std::errc{} || result.ptr != text->data() + text->size())
    return std::nullopt;
  return std::clamp(value, low, high);
}

/// "BTCUSDT" → "BTC" (every listed instrument is a USDT linear perpetual).
std::string_view base_coin(std::string_view symbol) noexcept {
  return symbol.ends_with("USDT") ? symbol.substr(0, symbol.size() - 4) : symbol;
}

/// Digits after the dot of a decimal's shortest form: 0.01 → 2, 1 → 0.
template <class Tag>
int decimals_of(Decimal<Tag> step) noexcept {
  char text[Decimal<Tag>::kMaxFormattedLength];
  const std::string_view formatted(text, step.format(text));
  const std::size_t dot = formatted.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(formatted.size() - dot - 1);
}

const ExchangeInstrument& instrument_for(const ExchangeContext& context, std::string_view symbol) {
  if (const ExchangeInstrument* instrument = find_instrument(context.instruments, symbol))
    return *instrument;
  // Only reachable for a symbol the venue knows but the instrument list does not: print exactly.
  static const ExchangeInstrument fallback{{}, 8, 8};
  return fallback;
}

simdjson::dom::parser& body_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

/// Parses a POST body that must be a JSON object with category "linear".
std::variant<simdjson::dom::object, Reply> parse_linear_body(std::string_view body) {
  simdjson::dom::element document;
  if (body.empty())
    return params_error("request body is empty");
  if (body_parser().parse(body.data(), body.size()).get(document) != simdjson::SUCCESS)
    return params_error("request body is not valid JSON");
  simdjson::dom::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS)
    return params_error("request body is not a JSON object");
  std::string_view category;
  if (object["category"].get_string().get(category) != simdjson::SUCCESS || category != "linear")
    return error_reply(10001, "Illegal category");
  return object;
}

std::optional<std::string_view> body_string(simdjson::dom::object object, std::string_view name) {
  std::string_view text;
  if (object[name].get_string().get(text) != simdjson::SUCCESS || text.empty())
    return std::nullopt;
  return text;
}

/// category=linear is required on these GETs; anything else is "Illegal category".
std::optional<Reply> check_category(const Query& query) {
  const auto category = query.get("category");
  if (!category || *category != "linear")
    return error_reply(10001, "Illegal category");
  return std::nullopt;
}

// ---- public endpoints ----

Reply market_time(const ExchangeContext& context) {
  const std::int64_t now = context.now_ms();
  std::string result;
  JsonOut out(result);
  out.begin_object();
  out.key("timeSecond").number_string(now / 1000);
  out.key("timeNano").number_string(now * 1'000'000);
  out.end_object();
  Reply reply = ok_reply(std::move(result));
  reply.time_ms = now;
  return reply;
}

void write_instrument(JsonOut& out, const ExchangeInstrument& instrument) {
  const risk::InstrumentRules& rules = instrument.rules;
  const std::string_view symbol(rules.symbol);
  const int pd = instrument.price_decimals;
  const int qd = instrument.qty_decimals;
  const int ld = decimals_of(rules.leverage_step);
  out.begin_object();
  out.field("symbol", symbol);
  out.field("contractType", "LinearPerpetual");
  out.field("status", "Trading");
  out.field("baseCoin", base_coin(symbol));
  out.field("quoteCoin", "USDT");
  out.field("launchTime", "1585526400000");
  out.field("deliveryTime", "0");
  out.field("deliveryFeeRate", "");
  out.key("priceScale").number_string(pd);
  out.key("leverageFilter").begin_object();
  out.key("minLeverage").decimal(rules.min_leverage);
  out.key("maxLeverage").decimal_fixed(rules.max_leverage, ld);
  out.key("leverageStep").decimal_fixed(rules.leverage_step, ld);
  out.end_object();
  out.key("priceFilter").begin_object();
  out.key("minPrice").decimal_fixed(rules.min_price, pd);
  out.key("maxPrice").decimal_fixed(rules.max_price, pd);
  out.key("tickSize").decimal_fixed(rules.tick_size, pd);
  out.end_object();
  const Qty max_market =
      rules.max_market_order_qty.is_zero() ? rules.max_order_qty : rules.max_market_order_qty;
  out.key("lotSizeFilter").begin_object();
  out.key("maxOrderQty").decimal_fixed(rules.max_order_qty, qd);
  out.key("minOrderQty").decimal_fixed(rules.min_order_qty, qd);
  out.key("qtyStep").decimal_fixed(rules.qty_step, qd);
  out.key("postOnlyMaxOrderQty").decimal_fixed(rules.max_order_qty, qd);
  out.key("maxMktOrderQty").decimal_fixed(max_market, qd);
  out.key("minNotionalValue").decimal(rules.min_notional);
  out.end_object();
  out.field("unifiedMarginTrade", true);
  out.field("fundingInterval", 480);
  out.field("settleCoin", "USDT");
  out.field("copyTrading", "both");
  out.field("upperFundingRate", "0.005");
  out.field("lowerFundingRate", "-0.005");
  out.field("isPreListing", false);
  out.key("preListingInfo").null();
  out.key("riskParameters").begin_object();
  out.field("priceLimitRatioX", "0.01");
  out.field("priceLimitRatioY", "0.02");
  out.end_object();
  out.field("symbolType", "");
  out.end_object();
}

Reply instruments_info(const ExchangeContext& context, const Query& query) {
  const auto category = query.get("category");
  if (!category || (*category != "linear" && *category != "spot" && *category != "inverse" &&
                    *category != "option")) {
    return error_reply(10001, "Illegal category");
  }
  const auto symbol = query.get("symbol");
  const auto status = query.get("status");
  const auto base = query.get("baseCoin");
  const auto limit = int_param(query, "limit", 500, 1, 1000);
  if (!limit)
    return params_error("limit invalid");
  std::string result;
  JsonOut out(result);
  out.begin_object().field("category", *category).key("list").begin_array();
  std::int64_t written = 0;
  // Only linear perpetuals are listed; other categories answer an empty list.
  if (*category == "linear") {
    for (const ExchangeInstrument& instrument : context.instruments) {
      const std::string_view name(instrument.rules.symbol);
      if ((symbol && *symbol != name) || (status && *status != "Trading") ||
          (base && *base != base_coin(name)) || written >= *limit) {
        continue;
      }
      write_instrument(out, instrument);
      ++written;
    }
  }
  out.end_array().field("nextPageCursor", "").end_object();
  return ok_reply(std::move(result));
}

Reply kline(const ExchangeContext& context, const Query& query) {
  const auto category = query.get("category").value_or("linear");
  if (category != "linear")
    return error_reply(10001, "Illegal category");
  const auto symbol = query.get("symbol");
  if (!symbol || find_instrument(context.instruments, *symbol) == nullptr)
    return params_error("symbol invalid");
  const auto interval = query.get("interval");
  std::int64_t span_ms = 0;
  if (interval == "D") {
    span_ms = 86'400'000;
  } else if (interval == "W") {
    span_ms = 7 * 86'400'000LL;
  } else if (interval) {
    static constexpr std::string_view kMinutes[] = {"1",  "3",   "5",   "15",  "30",
                                                    "60", "120", "240", "360", "720"};
    if (std::find(std::begin(kMinutes), std::end(kMinutes), *interval) != std::end(kMinutes)) {
      int minutes = 0;
      std::from_chars(interval->data(), interval->data() + interval->size(), minutes);
      span_ms = minutes * 60'000LL;
    }
  }
  if (span_ms == 0)
    return error_reply(10001, "Invalid period!");
  const auto start = int_param(query, "start", 0, 0, INT64_MAX);
  const auto end = int_param(query, "end", INT64_MAX, 0, INT64_MAX);
  const auto limit = int_param(query, "limit", 200, 1, 1000);
  if (!start || !end || !limit)
    return params_error("start, end and limit must be integers");

  // Aggregate the feed's 1-minute candles into the interval. Weeks start on Monday 00:00 UTC
  // as Bybit's: the first Monday after the epoch (a Thursday) is 1970-01-05, 4 days in.
  const std::int64_t phase = span_ms == 7 * 86'400'000LL ? 4 * 86'400'000LL : 0;
  std::vector<Candle> merged;
  for (const Candle& candle : context.linear_feed.candles(*symbol)) {
    const std::int64_t bucket = (candle.start_ms - phase) / span_ms * span_ms + phase;
    if (!merged.empty() && merged.back().start_ms == bucket) {
      Candle& last = merged.back();
      last.high = std::max(last.high, candle.high);
      last.low = std::min(last.low, candle.low);
      last.close = candle.close;
      last.volume += candle.volume;
      last.turnover += candle.turnover;
    } else {
      Candle copy = candle;
      copy.start_ms = bucket;
      merged.push_back(copy);
    }
  }
  const ExchangeInstrument& instrument = instrument_for(context, *symbol);
  std::string result;
  JsonOut out(result);
  out.begin_object().field("category", "linear").field("symbol", *symbol);
  out.key("list").begin_array();
  std::int64_t written = 0;
  for (auto it = merged.rbegin(); it != merged.rend() && written < *limit; ++it) {
    if (it->start_ms < *start || it->start_ms > *end)
      continue;
    out.begin_array();
    out.number_string(it->start_ms);
    out.decimal_fixed(it->open, instrument.price_decimals);
    out.decimal_fixed(it->high, instrument.price_decimals);
    out.decimal_fixed(it->low, instrument.price_decimals);
    out.decimal_fixed(it->close, instrument.price_decimals);
    out.decimal_fixed(it->volume, instrument.qty_decimals);
    out.decimal(it->turnover);
    out.end_array();
    ++written;
  }
  out.end_array().end_object();
  return ok_reply(std::move(result));
}

Reply orderbook(const ExchangeContext& context, const Query& query) {
  if (auto error = check_category(query))
    return *error;
  const auto symbol = query.get("symbol");
  if (!symbol || find_instrument(context.instruments, *symbol) == nullptr)
    return params_error("symbol invalid");
  const auto limit = int_param(query, "limit", 25, 1, 1000);
  if (!limit)
    return params_error("limit invalid");
  const ExchangeInstrument& instrument = instrument_for(context, *symbol);
  const std::int64_t now = context.now_ms();
  const std::vector<std::string>& symbols = context.market.symbols();
  const auto found = std::find(symbols.begin(), symbols.end(), *symbol);
  const feed::OrderBook* book =
      found == symbols.end()
          ? nullptr
          : &context.market.book(static_cast<std::size_t>(found - symbols.begin()));
  const auto write_side = [&](JsonOut& out, std::span<const feed::BookLevel> levels) {
    out.begin_array();
    const std::size_t count = std::min(levels.size(), static_cast<std::size_t>(*limit));
    for (std::size_t i = 0; i < count; ++i) {
      out.begin_array();
      out.decimal_fixed(levels[i].price, instrument.price_decimals);
      out.decimal_fixed(levels[i].qty, instrument.qty_decimals);
      out.end_array();
    }
    out.end_array();
  };
  std::string result;
  JsonOut out(result);
  out.begin_object().field("s", *symbol);
  out.key("b");
  write_side(out, book != nullptr ? book->bids() : std::span<const feed::BookLevel>{});
  out.key("a");
  write_side(out, book != nullptr ? book->asks() : std::span<const feed::BookLevel>{});
  out.field("ts", now);
  out.field("u", context.linear_feed.book_update_id(*symbol));
  out.field("seq", book != nullptr ? book->sequence() : 0);
  const std::int64_t book_ms = book != nullptr ? book->exch_ts() / 1'000'000 : 0;
  out.field("cts", book_ms > 0 ? book_ms : now);
  out.end_object();
  return ok_reply(std::move(result));
}

// ---- signed endpoints ----

Reply order_op(ExchangeContext& context, const ApiAccount& account, OrderOp op,
               std::string_view body) {
  OrderOpResult outcome = run_order_op(context, account.account, op, body);
  return Reply{200, outcome.ret_code, std::move(outcome.ret_msg), std::move(outcome.result_json),
               0};
}

Reply cancel_all(ExchangeContext& context, const ApiAccount& account, std::string_view body) {
  auto parsed = parse_linear_body(body);
  if (auto* error = std::get_if<Reply>(&parsed))
    return std::move(*error);
  const auto object = std::get<simdjson::dom::object>(parsed);
  const auto symbol = body_string(object, "symbol");
  const auto base = body_string(object, "baseCoin");
  const auto settle = body_string(object, "settleCoin");
  if (!symbol && !base && !settle) {
    return error_reply(10001,
                       "Missing some parameters that must be filled in, symbol or baseCoin or "
                       "settleCoin");
  }
  std::vector<sim::OrderState> cancelled;
  const std::int64_t now = context.now_ms();
  if (symbol) {  // priority symbol > baseCoin > settleCoin, as Bybit
    if (context.venue.instrument(*symbol) == nullptr)
      return params_error("symbol invalid");
    cancelled = context.venue.cancel_all(account.account, *symbol, now);
  } else if (base) {
    for (const ExchangeInstrument& instrument : context.instruments) {
      const std::string_view name(instrument.rules.symbol);
      if (base_coin(name) != *base)
        continue;
      auto some = context.venue.cancel_all(account.account, name, now);
      cancelled.insert(cancelled.end(), some.begin(), some.end());
    }
  } else if (*settle == "USDT") {
    cancelled = context.venue.cancel_all(account.account, "", now);
  }
  std::string result;
  JsonOut out(result);
  out.begin_object().key("list").begin_array();
  for (const sim::OrderState& order : cancelled) {
    out.begin_object()
        .field("orderId", order.order_id)
        .field("orderLinkId", order.order_link_id)
        .end_object();
  }
  out.end_array().field("success", "1").end_object();
  return ok_reply(std::move(result));
}

bool symbol_matches(std::string_view name, const std::optional<std::string_view>& symbol,
                    const std::optional<std::string_view>& base,
                    const std::optional<std::string_view>& settle) {
  if (symbol && *symbol != name)
    return false;
  if (base && *base != base_coin(name))
    return false;
  if (settle && *settle != "USDT")
    return false;
  return true;
}

Reply order_realtime(const ExchangeContext& context, const ApiAccount& account,
                     const Query& query) {
  if (auto error = check_category(query))
    return *error;
  const auto symbol = query.get("symbol");
  const auto base = query.get("baseCoin");
  const auto settle = query.get("settleCoin");
  if (!symbol && !base && !settle) {
    return error_reply(10001,
                       "Missing some parameters that must be filled in, symbol or settleCoin or "
                       "baseCoin");
  }
  const auto order_id = query.get("orderId").value_or("");
  const auto link_id = query.get("orderLinkId").value_or("");
  const auto open_only = int_param(query, "openOnly", 0, 0, 2);
  const auto limit = int_param(query, "limit", 20, 1, 50);
  if (!open_only || !limit)
    return params_error("openOnly and limit must be integers");
  // Open orders only, unless asked for closed ones or for one order by its id (then its
  // final state is found too, as Bybit keeps recent closed orders queryable).
  const bool include_closed = *open_only != 0 || !order_id.empty() || !link_id.empty();
  const std::vector<sim::OrderState> orders =
      include_closed ? context.venue.all_orders(account.account)
                     : context.venue.open_orders(account.account, symbol.value_or(""));
  std::string result;
  JsonOut out(result);
  out.begin_object().field("category", "linear").key("list").begin_array();
  std::int64_t written = 0;
  for (const sim::OrderState& order : orders) {
    if (written >= *limit)
      break;
    if (!symbol_matches(order.symbol, symbol, base, settle))
      continue;
    if ((!order_id.empty() && order.order_id != order_id) ||
        (!link_id.empty() && order.order_link_id != link_id)) {
      continue;
    }
    write_order(out, order, instrument_for(context, order.symbol));
    ++written;
  }
  out.end_array().field("nextPageCursor", "").end_object();
  return ok_reply(std::move(result));
}

Reply position_list(const ExchangeContext& context, const ApiAccount& account, const Query& query) {
  if (auto error = check_category(query))
    return *error;
  const auto symbol = query.get("symbol");
  const auto settle = query.get("settleCoin");
  if (!symbol && !settle) {
    return error_reply(10001,
                       "Missing some parameters that must be filled in, symbol or settleCoin");
  }
  if (symbol && context.venue.instrument(*symbol) == nullptr)
    return params_error("symbol invalid");
  const auto limit = int_param(query, "limit", 20, 1, 200);
  if (!limit)
    return params_error("limit invalid");
  std::vector<sim::PositionState> positions;
  if (symbol)
    positions = context.venue.positions(account.account, *symbol);
  else if (*settle == "USDT")
    positions = context.venue.positions(account.account, "");
  std::string result;
  JsonOut out(result);
  out.begin_object().field("category", "linear").key("list").begin_array();
  std::int64_t written = 0;
  for (const sim::PositionState& position : positions) {
    if (written++ >= *limit)
      break;
    write_position(out, position, instrument_for(context, position.symbol), true);
  }
  out.end_array().field("nextPageCursor", "").end_object();
  return ok_reply(std::move(result));
}

Reply set_leverage(ExchangeContext& context, const ApiAccount& account, std::string_view body) {
  auto parsed = parse_linear_body(body);
  if (auto* error = std::get_if<Reply>(&parsed))
    return std::move(*error);
  const auto object = std::get<simdjson::dom::object>(parsed);
  const auto symbol = body_string(object, "symbol");
  if (!symbol || context.venue.instrument(*symbol) == nullptr)
    return params_error("symbol invalid");
  const auto buy_text = body_string(object, "buyLeverage");
  const auto sell_text = body_string(object, "sellLeverage");
  if (!buy_text || !sell_text)
    return params_error("buyLeverage and sellLeverage are required strings");
  const auto buy = Amount::parse(*buy_text);
  const auto sell = Amount::parse(*sell_text);
  if (!buy || !sell || buy.value().raw() <= 0)
    return params_error("leverage invalid");
  if (buy.value() != sell.value())
    return params_error("buyLeverage must equal sellLeverage in one-way mode");
  if (auto error =
          context.venue.set_leverage(account.account, *symbol, buy.value(), context.now_ms())) {
    return error_reply(error->ret_code, error->ret_msg);
  }
  return ok_reply("{}");
}

Reply wallet_balance(const ExchangeContext& context, const ApiAccount& account,
                     const Query& query) {
  const auto account_type = query.get("accountType");
  if (!account_type || *account_type != "UNIFIED")
    return error_reply(10001, "accountType only support UNIFIED.");
  // Only USDT is held; asking for other coins only gives an empty list.
  bool usdt = true;
  if (const auto coins = query.get("coin")) {
    usdt = false;
    std::string_view rest = *coins;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      if (rest.substr(0, comma) == "USDT")
        usdt = true;
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  std::string result;
  JsonOut out(result);
  out.begin_object().key("list").begin_array();
  if (usdt)
    write_wallet(out, context.venue.wallet(account.account));
  out.end_array().end_object();
  return ok_reply(std::move(result));
}

Reply execution_list(const ExchangeContext& context, const ApiAccount& account,
                     const Query& query) {
  if (auto error = check_category(query))
    return *error;
  const auto symbol = query.get("symbol");
  if (symbol && context.venue.instrument(*symbol) == nullptr)
    return params_error("symbol invalid");
  const auto limit = int_param(query, "limit", 50, 1, 100);
  if (!limit)
    return params_error("limit invalid");
  const auto order_id = query.get("orderId").value_or("");
  const auto link_id = query.get("orderLinkId").value_or("");
  const auto executions =
      context.venue.executions(account.account, symbol.value_or(""), static_cast<std::size_t>(-1));
  std::string result;
  JsonOut out(result);
  out.begin_object().field("category", "linear").key("list").begin_array();
  std::int64_t written = 0;
  for (const sim::Execution& execution : executions) {
    if (written >= *limit)
      break;
    if ((!order_id.empty() && execution.order_id != order_id) ||
        (!link_id.empty() && execution.order_link_id != link_id)) {
      continue;
    }
    write_execution(out, execution, instrument_for(context, execution.symbol));
    ++written;
  }
  out.end_array().field("nextPageCursor", "").end_object();
  return ok_reply(std::move(result));
}

// ---- routing ----

enum class Endpoint : std::uint8_t {
  market_time,
  instruments_info,
  kline,
  orderbook,
  order_create,
  order_amend,
  order_cancel,
  order_cancel_all,
  order_realtime,
  position_list,
  set_leverage,
  wallet_balance,
  execution_list,
};

struct Route {
  std::string_view path;
  std::string_view method;
  bool is_signed;
  Endpoint endpoint;
};

constexpr Route kRoutes[] = {
    {"/v5/market/time", "GET", false, Endpoint::market_time},
    {"/v5/market/instruments-info", "GET", false, Endpoint::instruments_info},
    {"/v5/market/kline", "GET", false, Endpoint::kline},
    {"/v5/market/orderbook", "GET", false, Endpoint::orderbook},
    {"/v5/order/create", "POST", true, Endpoint::order_create},
    {"/v5/order/amend", "POST", true, Endpoint::order_amend},
    {"/v5/order/cancel", "POST", true, Endpoint::order_cancel},
    {"/v5/order/cancel-all", "POST", true, Endpoint::order_cancel_all},
    {"/v5/order/realtime", "GET", true, Endpoint::order_realtime},
    {"/v5/position/list", "GET", true, Endpoint::position_list},
    {"/v5/position/set-leverage", "POST", true, Endpoint::set_leverage},
    {"/v5/account/wallet-balance", "GET", true, Endpoint::wallet_balance},
    {"/v5/execution/list", "GET", true, Endpoint::execution_list},
};

const Route* find_route(std::string_view path) noexcept {
  for (const Route& route : kRoutes) {
    if (route.path == path)
      return &route;
  }
  return nullptr;
}

Reply dispatch(ExchangeContext& context, const Route& route, const ApiAccount* account,
               const HttpRequest& request) {
  const Query query(request.query);
  switch (route.endpoint) {
    case Endpoint::market_time:
      return market_time(context);
    case Endpoint::instruments_info:
      return instruments_info(context, query);
    case Endpoint::kline:
      return kline(context, query);
    case Endpoint::orderbook:
      return orderbook(context, query);
    case Endpoint::order_create:
      return order_op(context, *account, OrderOp::create, request.body);
    case Endpoint::order_amend:
      return order_op(context, *account, OrderOp::amend, request.body);
    case Endpoint::order_cancel:
      return order_op(context, *account, OrderOp::cancel, request.body);
    case Endpoint::order_cancel_all:
      return cancel_all(context, *account, request.body);
    case Endpoint::order_realtime:
      return order_realtime(context, *account, query);
    case Endpoint::position_list:
      return position_list(context, *account, query);
    case Endpoint::set_leverage:
      return set_leverage(context, *account, request.body);
    case Endpoint::wallet_balance:
      return wallet_balance(context, *account, query);
    case Endpoint::execution_list:
      return execution_list(context, *account, query);
  }
  return error_reply(10016, "Internal system error.");
}

bool is_order_op(Endpoint endpoint) noexcept {
  return endpoint == Endpoint::order_create || endpoint == Endpoint::order_amend ||
         endpoint == Endpoint::order_cancel;
}

std::string envelope(const Reply& reply, std::int64_t now_ms) {
  std::string body;
  body.reserve(reply.result_json.size() + reply.ret_msg.size() + 96);
  JsonOut out(body);
  out.begin_object();
  out.field("retCode", reply.ret_code);
  out.field("retMsg", reply.ret_msg);
  out.key("result").raw(reply.result_json);
  out.key("retExtInfo").begin_object().end_object();
  out.field("time", now_ms);
  out.end_object();
  return body;
}

std::string trace_id() {
  // 32 hex characters, unique per process run (Bybit's Traceid is opaque).
  static std::uint64_t counter = 0;
  static const std::uint64_t origin =
      static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  const std::uint64_t parts[2] = {origin * 0x9E3779B97F4A7C15ull, ++counter};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t i = 0; i < 32; ++i) {
    const std::uint64_t word = parts[i / 16];
    id[i] = kHex[(word >> (60 - 4 * (i % 16))) & 0xF];
  }
  return id;
}

HttpResponse control(ExchangeContext& context, const HttpRequest& request, std::string& outcome) {
  HttpResponse response;
  if (request.path == "/kinetic/state") {
    if (request.method != "GET") {
      response.status = 400;
      response.body = R"({"ok":false,"error":"GET /kinetic/state"})";
    } else {
      response.body = state_json(context);
    }
  } else if (request.path == "/kinetic/fault") {
    if (request.method != "POST") {
      response.status = 400;
      response.body = R"({"ok":false,"error":"POST /kinetic/fault with a JSON body"})";
    } else if (auto problem = apply_fault(context.faults, request.body, context.now_ms(),
                                          context.drop_connections)) {
      response.status = 400;
      JsonOut out(response.body);
      out.begin_object().field("ok", false).field("error", *problem).end_object();
      outcome = "fault refused: " + *problem;
    } else {
      response.body = R"({"ok":true})";
      outcome = "fault applied: " + std::string(request.body);
    }
  } else {
    response.status = 404;
    response.body = R"({"ok":false,"error":"unknown control path"})";
  }
  if (outcome.empty())
    outcome = "http=" + std::to_string(response.status);
  return response;
}

}  // namespace

std::string state_json(const ExchangeContext& context) {
  std::string json;
  JsonOut out(json);
  out.begin_object();
  out.field("time", context.now_ms());
  out.key("accounts").begin_array();
  for (const ApiAccount& account : context.accounts) {
    out.begin_object();
    out.field("key", account.key);
    out.field("accountId", account.account);
    out.key("wallet");
    write_wallet(out, context.venue.wallet(account.account));
    out.key("positions").begin_array();
    for (const auto& position : context.venue.positions(account.account, ""))
      write_position(out, position, instrument_for(context, position.symbol), true);
    out.end_array();
    out.key("orders").begin_array();
    for (const auto& order : context.venue.all_orders(account.account))
      write_order(out, order, instrument_for(context, order.symbol));
    out.end_array();
    out.key("executions").begin_array();
    for (const auto& execution :
         context.venue.executions(account.account, "", static_cast<std::size_t>(-1))) {
      write_execution(out, execution, instrument_for(context, execution.symbol));
    }
    out.end_array();
    out.end_object();
  }
  out.end_array();
  const Faults& faults = context.faults;
  out.key("faults").begin_object();
  out.key("rejects").begin_array();
  for (const auto& reject : faults.rejects) {
    out.begin_object()
        .field("path", reject.path)
        .field("retCode", reject.ret_code)
        .field("count", reject.count)
        .end_object();
  }
  out.end_array();
  out.key("delays").begin_array();
  for (const auto& delay : faults.delays) {
    out.begin_object()
        .field("path", delay.path)
        .field("ms", static_cast<std::int64_t>(delay.delay.count()))
        .end_object();
  }
  out.end_array();
  out.field("clockSkewMs", faults.clock_skew_ms);
  out.field("pauseMarketDataUntilMs", faults.pause_market_data_until_ms);
  out.field("malformedFrames", faults.malformed_frames);
  out.end_object();
  out.end_object();
  return json;
}

HttpResponse handle_rest(ExchangeContext& context, const HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  std::string key_for_log = "-";
  HttpResponse response;
  std::string outcome;

  if (request.path.starts_with("/kinetic/")) {
    response = control(context, request, outcome);
  } else {
    Reply reply;
    std::optional<RateDecision> rate;
    // One instant per request: the rate window, Timenow and the envelope's time agree (an
    // answer under the limit has X-Bapi-Limit-Reset-Timestamp == Timenow, as Bybit's does).
    const std::int64_t received_ms = context.now_ms();
    const Route* route = find_route(request.path);
    if (route == nullptr) {
      reply = error_reply(10017, "route not found", 404);
    } else if (request.method != route->method) {
      reply = error_reply(
          10001, "bad method: " + std::string(route->path) + " wants " + std::string(route->method),
          400);
    } else if (request.method == "GET" && !request.body.empty()) {
      reply = error_reply(10001, "a GET request must not carry a body", 403);
    } else {
      const ApiAccount* account = nullptr;
      if (route->is_signed) {
        auto verified = verify_rest_signature(context, request);
        if (auto* error = std::get_if<ApiError>(&verified)) {
          // The key a refused request claimed (a key is not a secret), marked as not verified.
          if (const auto claimed = request.header("X-BAPI-API-KEY"); claimed && !claimed->empty())
            key_for_log = "?" + std::string(claimed->substr(0, 64));
          reply = error_reply(error->ret_code, std::move(error->ret_msg), error->http_status);
        } else {
          account = std::get<const ApiAccount*>(verified);
          key_for_log = account->key;
          rate = context.limiter.take(account->account, route->path, received_ms);
          if (!rate->allowed)
            reply = error_reply(10006, "Too many visits!");
        }
      }
      const bool authorised = !route->is_signed || account != nullptr;
      if (authorised && (!rate || rate->allowed)) {
        // Order ops take their own rejects (shared with the trade WebSocket).
        std::optional<ApiError> reject;
        if (!is_order_op(route->endpoint))
          reject = take_reject(context.faults, route->path);
        reply = reject ? error_reply(reject->ret_code, std::move(reject->ret_msg))
                       : dispatch(context, *route, account, request);
      }
    }
    const std::int64_t now = reply.time_ms != 0 ? reply.time_ms : received_ms;
    response.status = reply.http_status;
    response.body = envelope(reply, now);
    if (rate) {
      response.headers.emplace_back("X-Bapi-Limit", std::to_string(rate->limit));
      response.headers.emplace_back("X-Bapi-Limit-Status", std::to_string(rate->remaining));
      response.headers.emplace_back("X-Bapi-Limit-Reset-Timestamp", std::to_string(rate->reset_ms));
    }
    response.headers.emplace_back("Traceid", trace_id());
    response.headers.emplace_back("Timenow", std::to_string(now));
    response.delay = delay_for(context.faults, request.path);
    outcome =
        "http=" + std::to_string(reply.http_status) + " retCode=" + std::to_string(reply.ret_code);
    // A 10004 message echoes the signed string (no secret, but long): log its head only.
    outcome += reply.ret_code == 10004 ? std::string(" retMsg=\"error sign!\"")
                                       : " retMsg=\"" + reply.ret_msg + "\"";
    if (response.delay.count() > 0)
      outcome += " delayed=" + std::to_string(response.delay.count()) + "ms";
  }

  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  std::string line;
  line.reserve(128);
  line.append("rest ").append(request.method).append(" ").append(request.path);
  line.append(" key=").append(key_for_log).append(" ").append(outcome);
  line.append(" took=").append(std::to_string(micros)).append("us");
  context.log.write(line);
  return response;
}

}  // namespace kinetic::exchange
