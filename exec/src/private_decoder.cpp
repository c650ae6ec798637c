#include "kinetic/exec/private_decoder.hpp"

#include <simdjson.h>

#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kinetic/exec/order_link_id.hpp"
#include "kinetic/feed/bybit_names.hpp"

namespace kinetic::exec {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;
using Error = PrivateDecodeError;

static_assert(PrivateDecoder::kMessagePadding == simdjson::SIMDJSON_PADDING);

namespace {

// ---------------------------------------------------------------------------------------
// Reading values

[[nodiscard]] Error classify(error_code error) noexcept {
  if (error == simdjson::INCORRECT_TYPE || error == simdjson::NUMBER_OUT_OF_RANGE ||
      error == simdjson::NUMBER_ERROR) {
    return Error::wrong_type;
  }
  return Error::json;
}

/// The key of a field as it is on the wire (between its quotes, escapes not undone): the
/// names we look for have no escapes, and a key with one simply matches none of them. The
/// scan stops at `limit` (the end of the message) whatever the document holds.
[[nodiscard]] std::string_view key_of(od::field& field, const char* limit) noexcept {
  const char* const begin = field.key().raw();
  const char* end = begin;
  while (end < limit && *end != '"') {
    if (*end == '\\')
      ++end;
    ++end;
  }
  if (end > limit)
    end = limit;
  return {begin, end > begin ? static_cast<std::size_t>(end - begin) : 0};
}

[[nodiscard]] Error read_string(od::value& value, std::string_view& out) noexcept {
  const error_code e = value.get_string().get(out);
  return e == SUCCESS ? Error::none : classify(e);
}

/// A decimal string; "" is zero.
template <class D>
[[nodiscard]] Error read_decimal(od::value& value, D& out) noexcept {
  std::string_view text;
  if (const Error e = read_string(value, text); e != Error::none)
    return e;
  if (text.empty()) {
    out = D{};
    return Error::none;
  }
  const auto parsed = D::parse(text);
  if (!parsed)
    return Error::bad_decimal;
  out = parsed.value();
  return Error::none;
}

/// A decimal text cut (toward zero) after the 8th fraction digit: for USD valuations only.
[[nodiscard]] Error parse_amount_cut(std::string_view text, Amount& out) noexcept {
  if (text.empty()) {
    out = Amount{};
    return Error::none;
  }
  const std::size_t dot = text.find('.');
  if (dot != std::string_view::npos && text.size() - dot - 1 > 8)
    text = text.substr(0, dot + 9);
  const auto parsed = Amount::parse(text);
  if (!parsed)
    return Error::bad_decimal;
  out = parsed.value();
  return Error::none;
}

/// Digits only, at most 18 of them (fits int64); "" is zero.
[[nodiscard]] bool parse_digits(std::string_view text, std::int64_t& out) noexcept {
  if (text.size() > 18)
    return false;
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

/// A non-negative integer sent as a JSON number or as a string of digits ("" is zero):
/// Bybit sends times as strings in items and as numbers in envelopes, seq as either.
[[nodiscard]] Error read_count(od::value& value, std::int64_t& out) noexcept {
  od::json_type type;
  if (const error_code e = value.type().get(type); e != SUCCESS)
    return classify(e);
  if (type == od::json_type::string) {
    std::string_view text;
    if (const Error e = read_string(value, text); e != Error::none)
      return e;
    return parse_digits(text, out) ? Error::none : Error::bad_value;
  }
  if (type != od::json_type::number)
    return Error::wrong_type;
  std::int64_t number = 0;
  if (const error_code e = value.get_int64().get(number); e != SUCCESS)
    return classify(e);
  if (number < 0)
    return Error::bad_value;
  out = number;
  return Error::none;
}

[[nodiscard]] Error read_bool(od::value& value, bool& out) noexcept {
  const error_code e = value.get_bool().get(out);
  return e == SUCCESS ? Error::none : classify(e);
}

/// Exchange ids: longer than the array is malformed (Bybit's are at most 36).
template <std::size_t N>
[[nodiscard]] Error read_id(od::value& value, FixedText<N>& out) noexcept {
  std::string_view text;
  if (const Error e = read_string(value, text); e != Error::none)
    return e;
  return out.assign(text) ? Error::none : Error::bad_value;
}

/// Copies as much as fits; false when cut.
template <std::size_t N>
bool assign_cut(FixedText<N>& out, std::string_view text) noexcept {
  const bool fits = text.size() <= N;
  (void)out.assign(fits ? text : text.substr(0, N));
  return fits;
}

template <std::size_t N>
[[nodiscard]] Error read_reason(od::value& value, FixedText<N>& out) noexcept {
  std::string_view text;
  if (const Error e = read_string(value, text); e != Error::none)
    return e;
  (void)assign_cut(out, text);
  return Error::none;
}

// ---------------------------------------------------------------------------------------
// Enumerations (unknown text is never an error)

[[nodiscard]] OrderType order_type_of(std::string_view text) noexcept {
  return text == "Market" ? OrderType::market : OrderType::limit;
}

[[nodiscard]] TimeInForce tif_of(std::string_view text) noexcept {
  if (text == "IOC")
    return TimeInForce::ioc;
  if (text == "FOK")
    return TimeInForce::fok;
  if (text == "PostOnly" || text == "RPI")
    return TimeInForce::post_only;
  return TimeInForce::gtc;
}

[[nodiscard]] ExchangeOrderStatus status_of(std::string_view text) noexcept {
  struct Entry {
    std::string_view name;
    ExchangeOrderStatus status;
  };
  static constexpr Entry kStatuses[] = {
      {"New", ExchangeOrderStatus::new_},
      {"PartiallyFilled", ExchangeOrderStatus::partially_filled},
      {"Filled", ExchangeOrderStatus::filled},
      {"Cancelled", ExchangeOrderStatus::cancelled},
      {"Rejected", ExchangeOrderStatus::rejected},
      {"Created", ExchangeOrderStatus::created},
      {"PartiallyFilledCanceled", ExchangeOrderStatus::partially_filled_canceled},
      {"Untriggered", ExchangeOrderStatus::untriggered},
      {"Triggered", ExchangeOrderStatus::triggered},
      {"Deactivated", ExchangeOrderStatus::deactivated},
  };
  for (const Entry& entry : kStatuses)
    if (entry.name == text)
      return entry.status;
  return ExchangeOrderStatus::unknown;
}

[[nodiscard]] ExecType exec_type_of(std::string_view text) noexcept {
  if (text == "Trade")
    return ExecType::trade;
  if (text == "Funding")
    return ExecType::funding;
  if (text == "AdlTrade")
    return ExecType::adl_trade;
  if (text == "BustTrade")
    return ExecType::bust_trade;
  if (text == "Settle" || text == "Delivery")
    return ExecType::settle;
  return ExecType::other;
}

/// "order", "order.linear", "execution.fast", "wallet", ...: the part before the first dot.
[[nodiscard]] PrivateTopic topic_of(std::string_view text) noexcept {
  const std::string_view base = text.substr(0, text.find('.'));
  if (base == "order")
    return PrivateTopic::order;
  if (base == "execution")
    return PrivateTopic::execution;
  if (base == "position")
    return PrivateTopic::position;
  if (base == "wallet")
    return PrivateTopic::wallet;
  return PrivateTopic::none;
}

enum class Op : std::uint8_t { none, auth, subscribe, unsubscribe, ping, pong, other };

[[nodiscard]] Op op_of(std::string_view text) noexcept {
  if (text == "auth")
    return Op::auth;
  if (text == "subscribe")
    return Op::subscribe;
  if (text == "unsubscribe")
    return Op::unsubscribe;
  if (text == "ping")
    return Op::ping;
  if (text == "pong")
    return Op::pong;
  return Op::other;
}

/// What an item's `category` says: kept unless it names another category than linear.
[[nodiscard]] bool other_category(std::string_view category) noexcept {
  return !category.empty() && category != "linear";
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The decoder

struct PrivateDecoder::Impl {
  Impl(feed::SymbolTable& table, const PrivateDecoderConfig& cfg)
      : symbols(table),
        config(cfg),
        copy(std::make_unique<char[]>(cfg.max_message_bytes + simdjson::SIMDJSON_PADDING)),
        orders(cfg.max_items),
        executions(cfg.max_items),
        positions(cfg.max_items),
        wallets(cfg.max_items) {
    if (cfg.max_items == 0 || cfg.max_message_bytes == 0 || cfg.max_depth == 0)
      throw std::invalid_argument("PrivateDecoder: zero capacity");
    if (parser.allocate(cfg.max_message_bytes, cfg.max_depth) != SUCCESS)
      throw std::bad_alloc();
    std::memset(copy.get(), ' ', cfg.max_message_bytes + simdjson::SIMDJSON_PADDING);
  }

  feed::SymbolTable& symbols;
  PrivateDecoderConfig config;
  od::parser parser;
  std::unique_ptr<char[]> copy;
  std::vector<OrderUpdate> orders;
  std::vector<ExecutionReport> executions;
  std::vector<PositionUpdate> positions;
  std::vector<WalletUpdate> wallets;
  PrivateDecoderStats stats;
  const char* limit = nullptr;  // one past the message being decoded (keys never pass it)

  /// Items of one `data` array or REST `list` decoded into the arrays.
  struct Items {
    Error error = Error::none;
    std::uint32_t count = 0;
    std::uint32_t skipped = 0;
  };

  [[nodiscard]] Error intern(std::string_view name, SymbolId& out) noexcept {
    const auto id = symbols.intern(name);
    if (!id)
      return Error::symbol_table_full;
    out = *id;
    return Error::none;
  }

  // One item each: `skip` set for another category. Required fields are checked at the end.
  [[nodiscard]] Error decode_order(od::object& object, OrderUpdate& out, bool& skip) noexcept {
    out = OrderUpdate{};
    std::string_view symbol;
    bool has_id = false, has_symbol = false, has_status = false;
    for (auto field_result : object) {
      od::field field;
      if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
        return classify(e);
      const std::string_view key = key_of(field, limit);
      od::value value = field.value();
      Error e = Error::none;
      std::string_view text;
      if (key == "orderId") {
        e = read_id(value, out.order_id);
        has_id = true;
      } else if (key == "orderLinkId") {
        e = read_id(value, out.order_link_id);
        if (e == Error::none)
          out.client_order_id = parse_order_link_id(out.order_link_id.view()).value_or(0);
      } else if (key == "symbol") {
        e = read_string(value, symbol);
        has_symbol = true;
      } else if (key == "side") {
        if ((e = read_string(value, text)) == Error::none)
          out.side = feed::parse_bybit_side(text);
      } else if (key == "orderType") {
        if ((e = read_string(value, text)) == Error::none)
          out.type = order_type_of(text);
      } else if (key == "timeInForce") {
        if ((e = read_string(value, text)) == Error::none)
          out.tif = tif_of(text);
      } else if (key == "orderStatus") {
        if ((e = read_string(value, text)) == Error::none)
          out.status = status_of(text);
        has_status = true;
      } else if (key == "reduceOnly") {
        e = read_bool(value, out.reduce_only);
      } else if (key == "price") {
        e = read_decimal(value, out.price);
      } else if (key == "qty") {
        e = read_decimal(value, out.qty);
      } else if (key == "leavesQty") {
        e = read_decimal(value, out.leaves_qty);
      } else if (key == "cumExecQty") {
        e = read_decimal(value, out.cum_exec_qty);
      } else if (key == "cumExecValue") {
        e = read_decimal(value, out.cum_exec_value);
      } else if (key == "cumExecFee") {
        e = read_decimal(value, out.cum_exec_fee);
      } else if (key == "avgPrice") {
        e = read_decimal(value, out.avg_price);
      } else if (key == "takeProfit") {
        e = read_decimal(value, out.take_profit);
      } else if (key == "stopLoss") {
        e = read_decimal(value, out.stop_loss);
      } else if (key == "createdTime") {
        e = read_count(value, out.created_ms);
      } else if (key == "updatedTime") {
        e = read_count(value, out.updated_ms);
      } else if (key == "rejectReason") {
        e = read_reason(value, out.reject_reason);
      } else if (key == "cancelType") {
        e = read_reason(value, out.cancel_type);
      } else if (key == "category") {
        if ((e = read_string(value, text)) == Error::none)
          skip = other_category(text);
      }
      if (e != Error::none)
        return e;
    }
    if (!has_id || !has_symbol || !has_status)
      return Error::missing_field;
    return skip ? Error::none : intern(symbol, out.symbol);
  }

  [[nodiscard]] Error decode_execution(od::object& object, ExecutionReport& out,
                                       bool& skip) noexcept {
    out = ExecutionReport{};
    std::string_view symbol;
    bool has_id = false, has_symbol = false;
    std::int64_t seq = 0;
    for (auto field_result : object) {
      od::field field;
      if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
        return classify(e);
      const std::string_view key = key_of(field, limit);
      od::value value = field.value();
      Error e = Error::none;
      std::string_view text;
      if (key == "execId") {
        e = read_id(value, out.exec_id);
        has_id = true;
      } else if (key == "orderId") {
        e = read_id(value, out.order_id);
      } else if (key == "orderLinkId") {
        e = read_id(value, out.order_link_id);
        if (e == Error::none)
          out.client_order_id = parse_order_link_id(out.order_link_id.view()).value_or(0);
      } else if (key == "symbol") {
        e = read_string(value, symbol);
        has_symbol = true;
      } else if (key == "side") {
        if ((e = read_string(value, text)) == Error::none)
          out.side = feed::parse_bybit_side(text);
      } else if (key == "execType") {
        if ((e = read_string(value, text)) == Error::none)
          out.exec_type = exec_type_of(text);
      } else if (key == "isMaker") {
        e = read_bool(value, out.is_maker);
      } else if (key == "execPrice") {
        e = read_decimal(value, out.exec_price);
      } else if (key == "execQty") {
        e = read_decimal(value, out.exec_qty);
      } else if (key == "execValue") {
        e = read_decimal(value, out.exec_value);
      } else if (key == "execFee") {
        e = read_decimal(value, out.exec_fee);
      } else if (key == "leavesQty") {
        e = read_decimal(value, out.leaves_qty);
      } else if (key == "execPnl") {
        e = read_decimal(value, out.exec_pnl);
      } else if (key == "closedSize") {
        e = read_decimal(value, out.closed_size);
      } else if (key == "execTime") {
        e = read_count(value, out.exec_time_ms);
      } else if (key == "seq") {
        if ((e = read_count(value, seq)) == Error::none)
          out.seq = static_cast<std::uint64_t>(seq);
      } else if (key == "category") {
        if ((e = read_string(value, text)) == Error::none)
          skip = other_category(text);
      }
      if (e != Error::none)
        return e;
    }
    if (!has_id || !has_symbol)
      return Error::missing_field;
    return skip ? Error::none : intern(symbol, out.symbol);
  }

  [[nodiscard]] Error decode_position(od::object& object, PositionUpdate& out,
                                      bool& skip) noexcept {
    out = PositionUpdate{};
    std::string_view symbol;
    bool has_symbol = false;
    std::int64_t number = 0;
    for (auto field_result : object) {
      od::field field;
      if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
        return classify(e);
      const std::string_view key = key_of(field, limit);
      od::value value = field.value();
      Error e = Error::none;
      std::string_view text;
      if (key == "symbol") {
        e = read_string(value, symbol);
        has_symbol = true;
      } else if (key == "side") {
        if ((e = read_string(value, text)) == Error::none)
          out.side = feed::parse_bybit_side(text);
      } else if (key == "positionIdx") {
        if ((e = read_count(value, number)) == Error::none) {
          if (number > 2)
            e = Error::bad_value;
          out.position_idx = static_cast<std::uint8_t>(number);
        }
      } else if (key == "size") {
        e = read_decimal(value, out.size);
      } else if (key == "entryPrice" || key == "avgPrice") {
        e = read_decimal(value, out.entry_price);
      } else if (key == "leverage") {
        e = read_decimal(value, out.leverage);
      } else if (key == "markPrice") {
        e = read_decimal(value, out.mark_price);
      } else if (key == "liqPrice") {
        e = read_decimal(value, out.liq_price);
      } else if (key == "positionValue") {
        e = read_decimal(value, out.position_value);
      } else if (key == "unrealisedPnl") {
        e = read_decimal(value, out.unrealised_pnl);
      } else if (key == "cumRealisedPnl") {
        e = read_decimal(value, out.cum_realised_pnl);
      } else if (key == "takeProfit") {
        e = read_decimal(value, out.take_profit);
      } else if (key == "stopLoss") {
        e = read_decimal(value, out.stop_loss);
      } else if (key == "updatedTime") {
        e = read_count(value, out.updated_ms);
      } else if (key == "seq") {
        if ((e = read_count(value, number)) == Error::none)
          out.seq = static_cast<std::uint64_t>(number);
      } else if (key == "category") {
        if ((e = read_string(value, text)) == Error::none)
          skip = other_category(text);
      }
      if (e != Error::none)
        return e;
    }
    if (!has_symbol)
      return Error::missing_field;
    return skip ? Error::none : intern(symbol, out.symbol);
  }

  /// The USDT entry of `coin` (texts kept until its name is known: an entry's keys come in
  /// any order, and only USDT's amounts are parsed).
  [[nodiscard]] Error decode_coins(od::value& coins, WalletUpdate& out) noexcept {
    od::array array;
    if (const error_code e = coins.get_array().get(array); e != SUCCESS)
      return classify(e);
    for (auto element : array) {
      od::object object;
      if (const error_code e = element.get_object().get(object); e != SUCCESS)
        return classify(e);
      std::string_view name, equity, wallet_balance, upnl, cum_rpnl, position_im, order_im;
      for (auto field_result : object) {
        od::field field;
        if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
          return classify(e);
        const std::string_view key = key_of(field, limit);
        od::value value = field.value();
        std::string_view* target = nullptr;
        if (key == "coin")
          target = &name;
        else if (key == "equity")
          target = &equity;
        else if (key == "walletBalance")
          target = &wallet_balance;
        else if (key == "unrealisedPnl")
          target = &upnl;
        else if (key == "cumRealisedPnl")
          target = &cum_rpnl;
        else if (key == "totalPositionIM")
          target = &position_im;
        else if (key == "totalOrderIM")
          target = &order_im;
        if (target != nullptr)
          if (const Error e = read_string(value, *target); e != Error::none)
            return e;
      }
      if (name != "USDT")
        continue;
      for (const auto& [text, amount] :
           {std::pair{equity, &out.equity}, std::pair{wallet_balance, &out.wallet_balance},
            std::pair{upnl, &out.unrealised_pnl}, std::pair{cum_rpnl, &out.cum_realised_pnl},
            std::pair{position_im, &out.total_position_im},
            std::pair{order_im, &out.total_order_im}}) {
        if (const Error e = parse_amount_cut(text, *amount); e != Error::none)
          return e;
      }
    }
    return Error::none;
  }

  [[nodiscard]] Error decode_wallet(od::object& object, WalletUpdate& out) noexcept {
    out = WalletUpdate{};
    for (auto field_result : object) {
      od::field field;
      if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
        return classify(e);
      const std::string_view key = key_of(field, limit);
      od::value value = field.value();
      Error e = Error::none;
      std::string_view text;
      if (key == "totalEquity") {
        if ((e = read_string(value, text)) == Error::none)
          e = parse_amount_cut(text, out.total_equity);
      } else if (key == "totalAvailableBalance") {
        if ((e = read_string(value, text)) == Error::none)
          e = parse_amount_cut(text, out.total_available_balance);
      } else if (key == "coin") {
        e = decode_coins(value, out);
      }
      if (e != Error::none)
        return e;
    }
    return Error::none;
  }

  /// The items of a `data` array (or a REST `list`) into the topic's array.
  [[nodiscard]] Items decode_items(PrivateTopic topic, od::value& value) noexcept {
    Items items;
    od::array array;
    if (const error_code e = value.get_array().get(array); e != SUCCESS) {
      items.error = classify(e);
      return items;
    }
    for (auto element : array) {
      od::object object;
      if (const error_code e = element.get_object().get(object); e != SUCCESS) {
        items.error = classify(e);
        return items;
      }
      if (items.count == config.max_items) {
        items.error = Error::overflow;
        return items;
      }
      bool skip = false;
      Error e = Error::none;
      switch (topic) {
        case PrivateTopic::order:
          e = decode_order(object, orders[items.count], skip);
          break;
        case PrivateTopic::execution:
          e = decode_execution(object, executions[items.count], skip);
          break;
        case PrivateTopic::position:
          e = decode_position(object, positions[items.count], skip);
          break;
        case PrivateTopic::wallet:
          e = decode_wallet(object, wallets[items.count]);
          break;
        case PrivateTopic::none:
          break;
      }
      if (e != Error::none) {
        items.error = e;
        return items;
      }
      if (skip)
        ++items.skipped;
      else
        ++items.count;
    }
    return items;
  }

  void deliver(PrivateTopic topic, std::uint32_t count, PrivateSink& sink) noexcept {
    switch (topic) {
      case PrivateTopic::order:
        sink.on_orders(std::span<const OrderUpdate>(orders.data(), count));
        break;
      case PrivateTopic::execution:
        sink.on_executions(std::span<const ExecutionReport>(executions.data(), count));
        break;
      case PrivateTopic::position:
        sink.on_positions(std::span<const PositionUpdate>(positions.data(), count));
        break;
      case PrivateTopic::wallet:
        sink.on_wallets(std::span<const WalletUpdate>(wallets.data(), count));
        break;
      case PrivateTopic::none:
        break;
    }
  }

  [[nodiscard]] PrivateDecodeResult fail(Error error) noexcept {
    ++stats.errors;
    PrivateDecodeResult result;
    result.status = PrivateDecodeStatus::error;
    result.error = error;
    return result;
  }

  [[nodiscard]] PrivateDecodeResult decode(std::string_view message, PrivateSink& sink) noexcept {
    ++stats.messages;
    // Longer than the parser's fixed capacity: iterate() would allocate; refuse instead.
    if (message.size() > config.max_message_bytes)
      return fail(Error::too_large);
    limit = message.data() + message.size();
    od::document doc;
    if (parser.iterate(message.data(), message.size(), message.size() + simdjson::SIMDJSON_PADDING)
            .get(doc) != SUCCESS) {
      return fail(Error::json);
    }
    od::object root;
    if (doc.get_object().get(root) != SUCCESS)
      return fail(Error::json);

    // One pass over the top-level keys in any order. Texts are copied or turned into values
    // at once: a rewind (data before topic) reuses the parser's string buffer.
    PrivateControl control;
    Op op = Op::none;
    bool has_success = false, has_ret_code = false, ret_msg_pong = false;
    std::int64_t ret_code = 0;
    bool has_topic = false, has_data = false, data_deferred = false;
    PrivateTopic topic = PrivateTopic::none;
    Items items;
    for (auto field_result : root) {
      od::field field;
      if (std::move(field_result).get(field) != SUCCESS)
        return fail(Error::json);
      const std::string_view key = key_of(field, limit);
      od::value value = field.value();
      Error e = Error::none;
      std::string_view text;
      if (key == "topic") {
        if ((e = read_string(value, text)) == Error::none) {
          has_topic = true;
          topic = topic_of(text);
        }
      } else if (key == "data") {
        has_data = true;
        if (!has_topic) {
          data_deferred = true;
        } else if (topic != PrivateTopic::none) {
          items = decode_items(topic, value);
          e = items.error;
        }
      } else if (key == "op") {
        if ((e = read_string(value, text)) == Error::none)
          op = op_of(text);
      } else if (key == "success") {
        e = read_bool(value, control.success);
        has_success = true;
      } else if (key == "ret_msg" || key == "retMsg") {
        if ((e = read_string(value, text)) == Error::none) {
          ret_msg_pong = text == "pong";
          if (!assign_cut(control.ret_msg, text))
            control.truncated = true;
        }
      } else if (key == "retCode") {
        od::json_type type;
        if (value.type().get(type) == SUCCESS && type == od::json_type::number) {
          const error_code ec = value.get_int64().get(ret_code);
          e = ec == SUCCESS ? Error::none : classify(ec);
          has_ret_code = true;
        }
      } else if (key == "req_id" || key == "reqId") {
        if ((e = read_string(value, text)) == Error::none && !assign_cut(control.req_id, text))
          control.truncated = true;
      } else if (key == "args") {
        e = read_pong_args(value, control.pong_ms);
      }
      if (e != Error::none)
        return fail(e);
    }
    // Nothing may follow the root object.
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return fail(Error::json);

    const bool is_control = op == Op::auth || op == Op::subscribe || op == Op::unsubscribe ||
                            op == Op::ping || op == Op::pong || op == Op::other || ret_msg_pong;
    if (is_control) {
      if (!has_success && has_ret_code)
        control.success = ret_code == 0;
      else if (!has_success && !has_ret_code)
        control.success = op == Op::pong || ret_msg_pong;  // pongs carry no success
      if (op == Op::pong || ret_msg_pong)
        control.kind = PrivateControlKind::pong;
      else if (op == Op::auth)
        control.kind =
            control.success ? PrivateControlKind::auth_ok : PrivateControlKind::auth_failed;
      else if (op == Op::subscribe)
        control.kind =
            control.success ? PrivateControlKind::subscribed : PrivateControlKind::subscribe_failed;
      else if (op == Op::unsubscribe)
        control.kind = control.success ? PrivateControlKind::unsubscribed
                                       : PrivateControlKind::unsubscribe_failed;
      else
        control.kind = PrivateControlKind::other;
      ++stats.control;
      sink.on_control(control);
      PrivateDecodeResult result;
      result.status = PrivateDecodeStatus::control;
      return result;
    }
    if (!has_topic || !has_data)
      return fail(Error::missing_field);
    if (topic == PrivateTopic::none) {
      ++stats.unknown_topics;
      PrivateDecodeResult result;
      result.status = PrivateDecodeStatus::unknown_topic;
      return result;
    }
    if (data_deferred) {
      doc.rewind();
      if (doc.get_object().get(root) != SUCCESS)
        return fail(Error::json);
      for (auto field_result : root) {
        od::field field;
        if (std::move(field_result).get(field) != SUCCESS)
          return fail(Error::json);
        if (key_of(field, limit) != "data")
          continue;
        od::value value = field.value();
        items = decode_items(topic, value);
        break;
      }
      if (items.error != Error::none)
        return fail(items.error);
    }
    return finish(topic, items, sink);
  }

  [[nodiscard]] PrivateDecodeResult finish(PrivateTopic topic, const Items& items,
                                           PrivateSink& sink) noexcept {
    PrivateDecodeResult result;
    result.topic = topic;
    result.skipped = items.skipped;
    stats.skipped_items += items.skipped;
    if (items.count == 0) {
      ++stats.ignored;
      result.status = PrivateDecodeStatus::ignored;
      return result;
    }
    ++stats.data_messages;
    stats.items += items.count;
    result.status = PrivateDecodeStatus::data;
    result.items = items.count;
    deliver(topic, items.count, sink);
    return result;
  }

  /// A pong's args: ["<ms>"] (private stream) or [<ms>]; anything else leaves 0.
  [[nodiscard]] static Error read_pong_args(od::value& value, std::int64_t& out) noexcept {
    od::json_type type;
    if (const error_code e = value.type().get(type); e != SUCCESS)
      return classify(e);
    if (type != od::json_type::array)
      return Error::none;
    od::array array;
    if (const error_code e = value.get_array().get(array); e != SUCCESS)
      return classify(e);
    bool first = true;
    for (auto element : array) {
      od::value item;
      if (const error_code e = element.get(item); e != SUCCESS)
        return classify(e);
      if (!first)
        continue;
      first = false;
      std::int64_t ms = 0;
      if (read_count(item, ms) == Error::none)
        out = ms;
    }
    return Error::none;
  }

  [[nodiscard]] const char* padded_copy(std::string_view text) noexcept {
    std::memcpy(copy.get(), text.data(), text.size());
    // Same padding every time: simdjson's on-demand parser may look at it when a broken
    // document ends too early, and the verdict must not depend on an earlier message.
    std::memset(copy.get() + text.size(), ' ', simdjson::SIMDJSON_PADDING);
    return copy.get();
  }

  [[nodiscard]] RestListResult decode_rest(RestList list, std::string_view body,
                                           PrivateSink& sink) noexcept {
    RestListResult result;
    const auto failed = [&](Error error) noexcept {
      result.error = error;
      result.items = 0;
      return result;
    };
    if (body.size() > config.max_message_bytes)
      return failed(Error::too_large);
    const char* const data = padded_copy(body);
    limit = data + body.size();
    od::document doc;
    if (parser.iterate(data, body.size(), body.size() + simdjson::SIMDJSON_PADDING).get(doc) !=
        SUCCESS) {
      return failed(Error::json);
    }
    od::object root;
    if (doc.get_object().get(root) != SUCCESS)
      return failed(Error::json);
    PrivateTopic topic = PrivateTopic::order;
    switch (list) {
      case RestList::orders:
        topic = PrivateTopic::order;
        break;
      case RestList::executions:
        topic = PrivateTopic::execution;
        break;
      case RestList::positions:
        topic = PrivateTopic::position;
        break;
      case RestList::wallets:
        topic = PrivateTopic::wallet;
        break;
    }
    bool has_ret_code = false, has_list = false, other = false;
    Items items;
    for (auto field_result : root) {
      od::field field;
      if (std::move(field_result).get(field) != SUCCESS)
        return failed(Error::json);
      const std::string_view key = key_of(field, limit);
      od::value value = field.value();
      Error e = Error::none;
      std::string_view text;
      if (key == "retCode") {
        const error_code ec = value.get_int64().get(result.ret_code);
        e = ec == SUCCESS ? Error::none : classify(ec);
        has_ret_code = true;
      } else if (key == "retMsg") {
        if ((e = read_string(value, text)) == Error::none)
          (void)assign_cut(result.ret_msg, text);
      } else if (key == "result") {
        od::json_type type;
        if (const error_code ec = value.type().get(type); ec != SUCCESS) {
          e = classify(ec);
        } else if (type == od::json_type::object) {
          od::object object;
          if (const error_code ec2 = value.get_object().get(object); ec2 != SUCCESS)
            return failed(classify(ec2));
          for (auto inner_result : object) {
            od::field inner;
            if (std::move(inner_result).get(inner) != SUCCESS)
              return failed(Error::json);
            const std::string_view inner_key = key_of(inner, limit);
            od::value inner_value = inner.value();
            if (inner_key == "list") {
              has_list = true;
              items = decode_items(topic, inner_value);
              e = items.error;
            } else if (inner_key == "nextPageCursor") {
              if ((e = read_string(inner_value, text)) == Error::none)
                (void)result.next_page_cursor.assign(text);
            } else if (inner_key == "category") {
              if ((e = read_string(inner_value, text)) == Error::none)
                other = other_category(text);
            }
            if (e != Error::none)
              break;
          }
        }
      }
      if (e != Error::none)
        return failed(e);
    }
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
      return failed(Error::json);
    if (!has_ret_code)
      return failed(Error::missing_field);
    if (result.ret_code != 0)
      return result;
    if (!has_list)
      return failed(Error::missing_field);
    if (other) {  // a page of another category: nothing of it is ours
      items.skipped += items.count;
      items.count = 0;
    }
    result.items = items.count;
    result.skipped = items.skipped;
    deliver(topic, items.count, sink);
    return result;
  }
};

PrivateDecoder::PrivateDecoder(feed::SymbolTable& symbols, PrivateDecoderConfig config)
    : impl_(std::make_unique<Impl>(symbols, config)) {}
PrivateDecoder::~PrivateDecoder() = default;
PrivateDecoder::PrivateDecoder(PrivateDecoder&&) noexcept = default;
PrivateDecoder& PrivateDecoder::operator=(PrivateDecoder&&) noexcept = default;

PrivateDecodeResult PrivateDecoder::decode(std::string_view message, PrivateSink& sink) noexcept {
  return impl_->decode(message, sink);
}

PrivateDecodeResult PrivateDecoder::decode_unpadded(std::string_view message,
                                                    PrivateSink& sink) noexcept {
  if (message.size() > impl_->config.max_message_bytes) {
    ++impl_->stats.messages;
    return impl_->fail(Error::too_large);
  }
  return impl_->decode(std::string_view(impl_->padded_copy(message), message.size()), sink);
}

RestListResult PrivateDecoder::decode_rest(RestList list, std::string_view body,
                                           PrivateSink& sink) noexcept {
  return impl_->decode_rest(list, body, sink);
}

const PrivateDecoderStats& PrivateDecoder::stats() const noexcept {
  return impl_->stats;
}

std::string_view to_string(PrivateDecodeStatus status) noexcept {
  switch (status) {
    case PrivateDecodeStatus::data:
      return "data";
    case PrivateDecodeStatus::control:
      return "control";
    case PrivateDecodeStatus::ignored:
      return "ignored";
    case PrivateDecodeStatus::unknown_topic:
      return "unknown_topic";
    case PrivateDecodeStatus::error:
      return "error";
  }
  return "?";
}

std::string_view to_string(PrivateDecodeError error) noexcept {
  switch (error) {
    case Error::none:
      return "none";
    case Error::too_large:
      return "too_large";
    case Error::json:
      return "json";
    case Error::missing_field:
      return "missing_field";
    case Error::wrong_type:
      return "wrong_type";
    case Error::bad_decimal:
      return "bad_decimal";
    case Error::bad_value:
      return "bad_value";
    case Error::symbol_table_full:
      return "symbol_table_full";
    case Error::overflow:
      return "overflow";
  }
  return "?";
}

std::string_view to_string(PrivateControlKind kind) noexcept {
  switch (kind) {
    case PrivateControlKind::auth_ok:
      return "auth_ok";
    case PrivateControlKind::auth_failed:
      return "auth_failed";
    case PrivateControlKind::subscribed:
      return "subscribed";
    case PrivateControlKind::subscribe_failed:
      return "subscribe_failed";
    case PrivateControlKind::unsubscribed:
      return "unsubscribed";
    case PrivateControlKind::unsubscribe_failed:
      return "unsubscribe_failed";
    case PrivateControlKind::pong:
      return "pong";
    case PrivateControlKind::other:
      return "other";
  }
  return "?";
}

}  // namespace kinetic::exec
