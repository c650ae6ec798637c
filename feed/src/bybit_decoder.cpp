#include "kinetic/feed/bybit_decoder.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

namespace kinetic::feed {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

static_assert(BybitDecoder::kMessagePadding == simdjson::SIMDJSON_PADDING);

namespace {

// ---------------------------------------------------------------------------------------
// Small helpers

/// Error of a failed step: INCORRECT_TYPE and number errors are wrong types; the rest means
/// the document itself is broken.
[[nodiscard]] DecodeError classify(error_code error) noexcept {
  if (error == simdjson::INCORRECT_TYPE || error == simdjson::NUMBER_OUT_OF_RANGE ||
      error == simdjson::NUMBER_ERROR) {
    return DecodeError::wrong_type;
  }
  return DecodeError::json;
}

constexpr std::int64_t kNsPerMs = 1'000'000;

[[nodiscard]] bool ms_to_ns(std::int64_t ms, TimestampNs& ns) noexcept {
  constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max() / kNsPerMs;
  if (ms > kLimit || ms < -kLimit)
    return false;
  ns = ms * kNsPerMs;
  return true;
}

[[nodiscard]] std::uint64_t fnv1a(std::string_view text) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

/// Trade ids: the integer value when all digits and it fits, else the FNV-1a hash.
[[nodiscard]] std::uint64_t trade_id_of(std::string_view text) noexcept {
  if (text.empty() || text.size() > 20)
    return fnv1a(text);
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9')
      return fnv1a(text);
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      return fnv1a(text);
    value = value * 10 + digit;
  }
  return value;
}

/// Copies `text` into a fixed array, cutting it; returns false when cut.
template <std::size_t N>
bool copy_text(std::string_view text, char (&dst)[N], std::uint8_t& length) noexcept {
  static_assert(N - 1 <= 255);
  const std::size_t n = std::min(text.size(), N - 1);
  std::memcpy(dst, text.data(), n);
  dst[n] = '\0';
  length = static_cast<std::uint8_t>(n);
  return n == text.size();
}

enum class TopicKind : std::uint8_t { none, trade, book, ticker, kline, unknown };

struct Topic {
  TopicKind kind = TopicKind::none;
  std::uint16_t param = 0;  ///< book depth or kline minutes
  std::string_view symbol;  ///< valid only until the next string is read
};

[[nodiscard]] bool parse_depth(std::string_view text, std::uint16_t& depth) noexcept {
  if (text == "1")
    depth = 1;
  else if (text == "25")
    depth = 25;
  else if (text == "50")
    depth = 50;
  else if (text == "100")
    depth = 100;
  else if (text == "200")
    depth = 200;
  else if (text == "500")
    depth = 500;
  else if (text == "1000")
    depth = 1000;
  else
    return false;
  return true;
}

[[nodiscard]] bool parse_interval(std::string_view text, std::uint16_t& minutes) noexcept {
  struct Entry {
    std::string_view name;
    std::uint16_t minutes;
  };
  static constexpr Entry kIntervals[] = {
      {"1", 1},    {"3", 3},     {"5", 5},     {"15", 15},   {"30", 30},
      {"60", 60},  {"120", 120}, {"240", 240}, {"360", 360}, {"720", 720},
      {"D", 1440}, {"W", 10080}, {"M", 43200},
  };
  for (const Entry& entry : kIntervals) {
    if (entry.name == text) {
      minutes = entry.minutes;
      return true;
    }
  }
  return false;
}

/// Splits "prefix.rest"; kind unknown for an unknown prefix or parameter.
[[nodiscard]] Topic parse_topic(std::string_view text) noexcept {
  Topic topic;
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) {
    topic.kind = TopicKind::unknown;
    return topic;
  }
  const std::string_view prefix = text.substr(0, dot);
  const std::string_view rest = text.substr(dot + 1);
  if (prefix == "publicTrade" || prefix == "tickers") {
    topic.kind = prefix == "tickers" ? TopicKind::ticker : TopicKind::trade;
    topic.symbol = rest;
    return topic;
  }
  const bool book = prefix == "orderbook";
  if (book || prefix == "kline") {
    const std::size_t dot2 = rest.find('.');
    if (dot2 == std::string_view::npos) {
      topic.kind = TopicKind::unknown;
      return topic;
    }
    const std::string_view param = rest.substr(0, dot2);
    const bool known = book ? parse_depth(param, topic.param) : parse_interval(param, topic.param);
    topic.kind = !known ? TopicKind::unknown : (book ? TopicKind::book : TopicKind::kline);
    topic.symbol = rest.substr(dot2 + 1);
    return topic;
  }
  topic.kind = TopicKind::unknown;
  return topic;
}

enum class MessageType : std::uint8_t { none, snapshot, delta, command_resp, auth_resp, other };
enum class Op : std::uint8_t { none, subscribe, unsubscribe, ping, pong, auth, other };

[[nodiscard]] MessageType message_type_of(std::string_view text) noexcept {
  if (text == "snapshot")
    return MessageType::snapshot;
  if (text == "delta")
    return MessageType::delta;
  if (text == "COMMAND_RESP")
    return MessageType::command_resp;
  if (text == "AUTH_RESP")
    return MessageType::auth_resp;
  return MessageType::other;
}

[[nodiscard]] Op op_of(std::string_view text) noexcept {
  if (text == "subscribe")
    return Op::subscribe;
  if (text == "unsubscribe")
    return Op::unsubscribe;
  if (text == "ping")
    return Op::ping;
  if (text == "pong")
    return Op::pong;
  if (text == "auth")
    return Op::auth;
  return Op::other;
}

/// Outcome of decoding a `data` value: events written, or why not.
struct Step {
  DecodeError error = DecodeError::none;
  bool overflow = false;
  std::uint32_t events = 0;
};

[[nodiscard]] Step fail(DecodeError error) noexcept {
  Step step;
  step.error = error;
  return step;
}
[[nodiscard]] Step overflowed() noexcept {
  Step step;
  step.overflow = true;
  return step;
}

/// Reads a string value; on failure sets `error`.
[[nodiscard]] [[gnu::always_inline]] inline bool read_string(od::value& value,
                                                             std::string_view& out,
                                                             DecodeError& error) noexcept {
  const error_code e = value.get_string().get(out);
  if (e != SUCCESS) {
    error = classify(e);
    return false;
  }
  return true;
}

template <class D>
[[nodiscard]] [[gnu::always_inline]] inline bool read_decimal(od::value& value, D& out,
                                                              DecodeError& error) noexcept {
  std::string_view text;
  if (!read_string(value, text, error))
    return false;
  const auto parsed = D::parse(text);
  if (!parsed) {
    error = DecodeError::bad_decimal;
    return false;
  }
  out = parsed.value();
  return true;
}

[[nodiscard]] [[gnu::always_inline]] inline bool read_int64(od::value& value, std::int64_t& out,
                                                            DecodeError& error) noexcept {
  const error_code e = value.get_int64().get(out);
  if (e != SUCCESS) {
    error = classify(e);
    return false;
  }
  return true;
}

[[nodiscard]] [[gnu::always_inline]] inline bool read_uint64(od::value& value, std::uint64_t& out,
                                                             DecodeError& error) noexcept {
  const error_code e = value.get_uint64().get(out);
  if (e != SUCCESS) {
    error = classify(e);
    return false;
  }
  return true;
}

[[nodiscard]] [[gnu::always_inline]] inline bool read_ms(od::value& value, TimestampNs& out,
                                                         DecodeError& error) noexcept {
  std::int64_t ms = 0;
  if (!read_int64(value, ms, error))
    return false;
  if (!ms_to_ns(ms, out)) {
    error = DecodeError::bad_value;
    return false;
  }
  return true;
}

/// Ticker fields carried by one message (presence bits), merged after the message is whole.
struct TickerUpdate {
  enum : std::uint8_t { kLast = 1, kBid = 2, kBidQty = 4, kAsk = 8, kAskQty = 16 };
  std::uint8_t present = 0;
  TickerData values{};
};

}  // namespace

// ---------------------------------------------------------------------------------------
// The decoder

struct BybitDecoder::Impl {
  Impl(SymbolTable& table, BybitDecoderConfig cfg)
      : symbols(table), config(cfg), parser(cfg.max_message_bytes), tickers(table.capacity()) {
    // Allocate now, at the final size, so iterate() never allocates: it only allocates when
    // a document is longer than capacity(), and decode() refuses those first.
    if (parser.allocate(cfg.max_message_bytes, cfg.max_depth) != SUCCESS)
      throw std::bad_alloc();
  }

  SymbolTable& symbols;
  BybitDecoderConfig config;
  od::parser parser;
  std::vector<TickerData> tickers;  ///< merged state per SymbolId
  BybitDecoderStats stats;

  DecodeResult decode(std::string_view message, TimestampNs recv_ts,
                      std::span<MarketEvent> out) noexcept;

  Step decode_trades(od::value& data, TimestampNs recv_ts, std::span<MarketEvent> out) noexcept;
  Step decode_book(od::value& data, const Topic& topic, SymbolId symbol, TimestampNs recv_ts,
                   std::span<MarketEvent> out) noexcept;
  Step decode_klines(od::value& data, const Topic& topic, SymbolId symbol, TimestampNs recv_ts,
                     std::span<MarketEvent> out) noexcept;
  static DecodeError decode_ticker(od::value& data, TickerUpdate& update) noexcept;
  static DecodeError count_fail_topics(od::value& data, std::uint32_t& count) noexcept;
};

namespace {

void begin_event(MarketEvent& event, TimestampNs recv_ts, SymbolId symbol, MarketEventType type,
                 Side side) noexcept {
  event.recv_ts = recv_ts;
  event.exch_ts = 0;
  event.symbol = symbol;
  event.type = type;
  event.side = side;
  event.flags = kFlagNone;
  event.aux = 0;
}

}  // namespace

Step BybitDecoder::Impl::decode_trades(od::value& data, TimestampNs recv_ts,
                                       std::span<MarketEvent> out) noexcept {
  od::array trades;
  if (const error_code e = data.get_array().get(trades); e != SUCCESS)
    return fail(classify(e));
  std::uint32_t count = 0;
  for (auto element : trades) {
    od::object trade;
    if (const error_code e = element.get_object().get(trade); e != SUCCESS)
      return fail(classify(e));
    if (count == out.size())
      return overflowed();
    MarketEvent& event = out[count];
    begin_event(event, recv_ts, 0, MarketEventType::trade, Side::none);
    event.trade.sequence = 0;
    event.trade.reserved = 0;
    enum : std::uint8_t { kTime = 1, kSymbol = 2, kSide = 4, kQty = 8, kPrice = 16, kId = 32 };
    constexpr std::uint8_t kRequired = kTime | kSymbol | kSide | kQty | kPrice | kId;
    std::uint8_t seen = 0;
    DecodeError error = DecodeError::none;
    for (auto field_result : trade) {
      od::field field;
      if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
        return fail(classify(e));
      const od::raw_json_string key = field.key();
      od::value value = field.value();
      if (key == "T") {
        if (!read_ms(value, event.exch_ts, error))
          return fail(error);
        seen |= kTime;
      } else if (key == "s") {
        std::string_view name;
        if (!read_string(value, name, error))
          return fail(error);
        const auto id = symbols.intern(name);
        if (!id)
          return fail(name.empty() ? DecodeError::bad_value : DecodeError::symbol_table_full);
        event.symbol = *id;
        seen |= kSymbol;
      } else if (key == "S") {
        std::string_view side;
        if (!read_string(value, side, error))
          return fail(error);
        if (side == "Buy")
          event.side = Side::buy;
        else if (side == "Sell")
          event.side = Side::sell;
        else
          return fail(DecodeError::bad_value);
        seen |= kSide;
      } else if (key == "v") {
        if (!read_decimal(value, event.trade.qty, error))
          return fail(error);
        seen |= kQty;
      } else if (key == "p") {
        if (!read_decimal(value, event.trade.price, error))
          return fail(error);
        seen |= kPrice;
      } else if (key == "i") {
        std::string_view id;
        if (!read_string(value, id, error))
          return fail(error);
        event.trade.trade_id = trade_id_of(id);
        seen |= kId;
      } else if (key == "seq") {
        if (!read_uint64(value, event.trade.sequence, error))
          return fail(error);
      }
    }
    if (seen != kRequired)
      return fail(DecodeError::missing_field);
    ++count;
  }
  Step step;
  step.events = count;
  return step;
}

Step BybitDecoder::Impl::decode_book(od::value& data, const Topic& topic, SymbolId symbol,
                                     TimestampNs recv_ts, std::span<MarketEvent> out) noexcept {
  od::object book;
  if (const error_code e = data.get_object().get(book); e != SUCCESS)
    return fail(classify(e));
  std::uint32_t count = 0;
  std::uint32_t bid_begin = 0, bid_end = 0, ask_begin = 0, ask_end = 0;
  bool has_bids = false, has_asks = false, has_update_id = false;
  std::uint64_t update_id = 0, sequence = 0;
  DecodeError error = DecodeError::none;
  for (auto field_result : book) {
    od::field field;
    if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
      return fail(classify(e));
    const od::raw_json_string key = field.key();
    od::value value = field.value();
    const bool bids = key == "b";
    if (bids || key == "a") {
      od::array levels;
      if (const error_code e = value.get_array().get(levels); e != SUCCESS)
        return fail(classify(e));
      const std::uint32_t begin = count;
      const Side side = bids ? Side::buy : Side::sell;
      for (auto level_result : levels) {
        od::array pair;
        if (const error_code e = level_result.get_array().get(pair); e != SUCCESS)
          return fail(classify(e));
        if (count == out.size())
          return overflowed();
        MarketEvent& event = out[count];
        begin_event(event, recv_ts, symbol, MarketEventType::book_level, side);
        event.aux = topic.param;
        event.level.reserved = 0;
        int index = 0;
        for (auto item : pair) {
          od::value item_value;
          if (const error_code e = item.get(item_value); e != SUCCESS)
            return fail(classify(e));
          if (index == 0) {
            if (!read_decimal(item_value, event.level.price, error))
              return fail(error);
          } else if (index == 1) {
            if (!read_decimal(item_value, event.level.qty, error))
              return fail(error);
          } else {
            return fail(DecodeError::bad_value);  // a level is exactly [price, size]
          }
          ++index;
        }
        if (index != 2)
          return fail(DecodeError::missing_field);
        ++count;
      }
      if (bids) {
        if (has_bids)
          return fail(DecodeError::bad_value);  // duplicate key
        has_bids = true;
        bid_begin = begin;
        bid_end = count;
      } else {
        if (has_asks)
          return fail(DecodeError::bad_value);
        has_asks = true;
        ask_begin = begin;
        ask_end = count;
      }
    } else if (key == "u") {
      if (!read_uint64(value, update_id, error))
        return fail(error);
      has_update_id = true;
    } else if (key == "seq") {
      if (!read_uint64(value, sequence, error))
        return fail(error);
    }
  }
  if (!has_bids || !has_asks || !has_update_id)
    return fail(DecodeError::missing_field);
  // Bids first, whatever the wire order (in place, no allocation).
  if (ask_end == bid_begin && ask_begin < bid_begin) {
    std::rotate(out.begin() + ask_begin, out.begin() + bid_begin, out.begin() + bid_end);
  }
  if (count == 0) {
    if (out.empty())
      return overflowed();
    MarketEvent& event = out[0];
    begin_event(event, recv_ts, symbol, MarketEventType::book_level, Side::none);
    event.aux = topic.param;
    event.level.price = Price::from_raw(0);
    event.level.qty = Qty::from_raw(0);
    event.level.reserved = 0;
    count = 1;
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    out[i].level.update_id = update_id;
    out[i].level.sequence = sequence;
  }
  Step step;
  step.events = count;
  return step;
}

Step BybitDecoder::Impl::decode_klines(od::value& data, const Topic& topic, SymbolId symbol,
                                       TimestampNs recv_ts, std::span<MarketEvent> out) noexcept {
  od::array klines;
  if (const error_code e = data.get_array().get(klines); e != SUCCESS)
    return fail(classify(e));
  std::uint32_t count = 0;
  for (auto element : klines) {
    od::object kline;
    if (const error_code e = element.get_object().get(kline); e != SUCCESS)
      return fail(classify(e));
    if (count == out.size())
      return overflowed();
    MarketEvent& event = out[count];
    begin_event(event, recv_ts, symbol, MarketEventType::kline, Side::none);
    event.aux = topic.param;
    enum : std::uint8_t {
      kStart = 1,
      kOpen = 2,
      kHigh = 4,
      kLow = 8,
      kClose = 16,
      kVolume = 32,
      kConfirm = 64
    };
    constexpr std::uint8_t kRequired = kStart | kOpen | kHigh | kLow | kClose | kVolume | kConfirm;
    std::uint8_t seen = 0;
    DecodeError error = DecodeError::none;
    for (auto field_result : kline) {
      od::field field;
      if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
        return fail(classify(e));
      const od::raw_json_string key = field.key();
      od::value value = field.value();
      if (key == "start") {
        if (!read_ms(value, event.exch_ts, error))
          return fail(error);
        seen |= kStart;
      } else if (key == "open") {
        if (!read_decimal(value, event.kline.open, error))
          return fail(error);
        seen |= kOpen;
      } else if (key == "high") {
        if (!read_decimal(value, event.kline.high, error))
          return fail(error);
        seen |= kHigh;
      } else if (key == "low") {
        if (!read_decimal(value, event.kline.low, error))
          return fail(error);
        seen |= kLow;
      } else if (key == "close") {
        if (!read_decimal(value, event.kline.close, error))
          return fail(error);
        seen |= kClose;
      } else if (key == "volume") {
        if (!read_decimal(value, event.kline.volume, error))
          return fail(error);
        seen |= kVolume;
      } else if (key == "confirm") {
        bool confirm = false;
        if (const error_code e = value.get_bool().get(confirm); e != SUCCESS)
          return fail(classify(e));
        if (confirm)
          event.flags = static_cast<std::uint16_t>(event.flags | kFlagConfirmed);
        seen |= kConfirm;
      }
    }
    if (seen != kRequired)
      return fail(DecodeError::missing_field);
    ++count;
  }
  Step step;
  step.events = count;
  return step;
}

DecodeError BybitDecoder::Impl::decode_ticker(od::value& data, TickerUpdate& update) noexcept {
  od::object ticker;
  if (const error_code e = data.get_object().get(ticker); e != SUCCESS)
    return classify(e);
  DecodeError error = DecodeError::none;
  for (auto field_result : ticker) {
    od::field field;
    if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
      return classify(e);
    const od::raw_json_string key = field.key();
    od::value value = field.value();
    std::uint8_t bit = 0;
    bool is_qty = false;
    Price* price = nullptr;
    Qty* qty = nullptr;
    if (key == "lastPrice") {
      bit = TickerUpdate::kLast;
      price = &update.values.last;
    } else if (key == "bid1Price") {
      bit = TickerUpdate::kBid;
      price = &update.values.bid;
    } else if (key == "bid1Size") {
      bit = TickerUpdate::kBidQty;
      qty = &update.values.bid_qty;
      is_qty = true;
    } else if (key == "ask1Price") {
      bit = TickerUpdate::kAsk;
      price = &update.values.ask;
    } else if (key == "ask1Size") {
      bit = TickerUpdate::kAskQty;
      qty = &update.values.ask_qty;
      is_qty = true;
    } else {
      continue;
    }
    std::string_view text;
    if (!read_string(value, text, error))
      return error;
    // An empty string (seen on pre-market instruments) means "no value": zero.
    if (text.empty()) {
      if (is_qty)
        *qty = Qty::from_raw(0);
      else
        *price = Price::from_raw(0);
    } else if (is_qty) {
      const auto parsed = Qty::parse(text);
      if (!parsed)
        return DecodeError::bad_decimal;
      *qty = parsed.value();
    } else {
      const auto parsed = Price::parse(text);
      if (!parsed)
        return DecodeError::bad_decimal;
      *price = parsed.value();
    }
    update.present = static_cast<std::uint8_t>(update.present | bit);
  }
  return DecodeError::none;
}

DecodeError BybitDecoder::Impl::count_fail_topics(od::value& data, std::uint32_t& count) noexcept {
  od::object object;
  if (const error_code e = data.get_object().get(object); e != SUCCESS)
    return classify(e);
  for (auto field_result : object) {
    od::field field;
    if (const error_code e = std::move(field_result).get(field); e != SUCCESS)
      return classify(e);
    if (field.key() != "failTopics")
      continue;
    od::array topics;
    if (const error_code e = field.value().get_array().get(topics); e != SUCCESS)
      return classify(e);
    std::size_t n = 0;
    if (const error_code e = topics.count_elements().get(n); e != SUCCESS)
      return classify(e);
    count = static_cast<std::uint32_t>(std::min<std::size_t>(n, UINT32_MAX));
  }
  return DecodeError::none;
}

DecodeResult BybitDecoder::Impl::decode(std::string_view message, TimestampNs recv_ts,
                                        std::span<MarketEvent> out) noexcept {
  ++stats.messages;
  stats.bytes += message.size();

  DecodeResult result;
  result.status = DecodeStatus::data;
  result.error = DecodeError::none;
  result.events = 0;
  result.control.kind = ControlKind::other;
  result.control.success = true;
  result.control.truncated = false;
  result.control.req_id_length = 0;
  result.control.ret_msg_length = 0;
  result.control.fail_topics = 0;

  const auto malformed = [&](DecodeError error) noexcept {
    ++stats.malformed;
    result.status = DecodeStatus::malformed;
    result.error = error;
    result.events = 0;
    return result;
  };
  const auto overflow = [&]() noexcept {
    ++stats.overflows;
    result.status = DecodeStatus::overflow;
    result.events = 0;
    return result;
  };

  // Longer than the parser's fixed capacity: iterate() would allocate; refuse instead.
  if (message.size() > config.max_message_bytes)
    return malformed(DecodeError::too_large);

  od::document doc;
  if (parser.iterate(message.data(), message.size(), message.size() + simdjson::SIMDJSON_PADDING)
          .get(doc) != SUCCESS) {
    return malformed(DecodeError::json);
  }
  od::object root;
  if (doc.get_object().get(root) != SUCCESS)
    return malformed(DecodeError::json);

  // One pass over the top-level keys in whatever order they come. Strings are read into the
  // parser's string buffer, which a rewind reuses, so each is turned into a value at once.
  Topic topic;
  bool has_topic = false, topic_empty = false;
  SymbolId symbol = 0;
  MessageType type = MessageType::none;
  Op op = Op::none;
  bool has_ts = false, has_cts = false, has_data = false, data_done = false;
  bool ret_msg_pong = false;
  TimestampNs ts = 0, cts = 0;
  Step step;
  TickerUpdate ticker;
  DecodeError error = DecodeError::none;

  // Turns the topic into kind + interned symbol (trades intern each trade's `s` instead).
  const auto accept_topic = [&](std::string_view text) noexcept -> DecodeError {
    has_topic = true;
    if (text.empty()) {
      topic_empty = true;
      return DecodeError::none;
    }
    topic = parse_topic(text);
    if (topic.kind == TopicKind::unknown)
      return DecodeError::none;
    if (topic.symbol.empty())
      return DecodeError::bad_topic;
    if (topic.kind == TopicKind::trade)
      return DecodeError::none;
    const auto id = symbols.intern(topic.symbol);
    if (!id)
      return DecodeError::symbol_table_full;
    symbol = *id;
    return DecodeError::none;
  };
  const auto decode_data = [&](od::value& value) noexcept -> DecodeError {
    data_done = true;
    switch (topic.kind) {
      case TopicKind::trade:
        step = decode_trades(value, recv_ts, out);
        return step.error;
      case TopicKind::book:
        step = decode_book(value, topic, symbol, recv_ts, out);
        return step.error;
      case TopicKind::kline:
        step = decode_klines(value, topic, symbol, recv_ts, out);
        return step.error;
      case TopicKind::ticker:
        return decode_ticker(value, ticker);
      case TopicKind::none:
      case TopicKind::unknown:
        break;
    }
    if (type == MessageType::command_resp)
      return count_fail_topics(value, result.control.fail_topics);
    data_done = false;  // not known yet what it is: come back after the other keys
    return DecodeError::none;
  };

  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field) != SUCCESS)
      return malformed(DecodeError::json);
    const od::raw_json_string key = field.key();
    od::value value = field.value();
    if (key == "topic") {
      std::string_view text;
      if (!read_string(value, text, error))
        return malformed(error);
      if (const DecodeError e = accept_topic(text); e != DecodeError::none)
        return malformed(e);
    } else if (key == "type") {
      std::string_view text;
      if (!read_string(value, text, error))
        return malformed(error);
      type = message_type_of(text);
    } else if (key == "ts") {
      if (!read_ms(value, ts, error))
        return malformed(error);
      has_ts = true;
    } else if (key == "cts") {
      if (!read_ms(value, cts, error))
        return malformed(error);
      has_cts = true;
    } else if (key == "data") {
      has_data = true;
      if (const DecodeError e = decode_data(value); e != DecodeError::none)
        return malformed(e);
      if (step.overflow)
        return overflow();
    } else if (key == "op") {
      std::string_view text;
      if (!read_string(value, text, error))
        return malformed(error);
      op = op_of(text);
    } else if (key == "success") {
      if (const error_code e = value.get_bool().get(result.control.success); e != SUCCESS)
        return malformed(classify(e));
    } else if (key == "ret_msg") {
      std::string_view text;
      if (!read_string(value, text, error))
        return malformed(error);
      ret_msg_pong = text == "pong";
      if (!copy_text(text, result.control.ret_msg_text, result.control.ret_msg_length))
        result.control.truncated = true;
    } else if (key == "req_id") {
      std::string_view text;
      if (!read_string(value, text, error))
        return malformed(error);
      if (!copy_text(text, result.control.req_id_text, result.control.req_id_length))
        result.control.truncated = true;
    }
  }
  // Nothing may follow the root object.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return malformed(DecodeError::json);

  const bool is_control = op == Op::subscribe || op == Op::unsubscribe || op == Op::ping ||
                          op == Op::pong || op == Op::auth || type == MessageType::command_resp ||
                          type == MessageType::auth_resp;
  if (!is_control) {
    if (!has_topic)
      return malformed(DecodeError::missing_field);
    if (topic_empty)
      return malformed(DecodeError::bad_topic);
    if (topic.kind == TopicKind::unknown) {
      ++stats.unknown_topics;
      result.status = DecodeStatus::unknown_topic;
      return result;
    }
    if (!has_data)
      return malformed(DecodeError::missing_field);
  }

  // `data` came before the key that says what it is: find it again.
  if (has_data && !data_done && (!is_control || type == MessageType::command_resp)) {
    doc.rewind();
    od::value data;
    if (doc.find_field_unordered("data").get(data) != SUCCESS)
      return malformed(DecodeError::json);
    if (const DecodeError e = decode_data(data); e != DecodeError::none)
      return malformed(e);
    if (step.overflow)
      return overflow();
  }

  if (is_control) {
    ControlReply& control = result.control;
    if (ret_msg_pong || op == Op::pong) {
      control.kind = ControlKind::pong;
    } else if (type == MessageType::command_resp) {
      control.kind = control.success && control.fail_topics == 0 ? ControlKind::subscribed
                                                                 : ControlKind::subscribe_failed;
    } else if (op == Op::subscribe) {
      control.kind = control.success ? ControlKind::subscribed : ControlKind::subscribe_failed;
    } else if (op == Op::unsubscribe && control.success) {
      control.kind = ControlKind::unsubscribed;
    } else {
      control.kind = ControlKind::other;
    }
    ++stats.control;
    result.status = DecodeStatus::control;
    return result;
  }

  std::uint16_t common_flags = kFlagNone;
  TimestampNs exch_ts = 0;
  switch (topic.kind) {
    case TopicKind::book:
      if (type == MessageType::snapshot)
        common_flags = kFlagSnapshot;
      else if (type != MessageType::delta)
        return malformed(type == MessageType::none ? DecodeError::missing_field
                                                   : DecodeError::bad_value);
      if (!has_cts && !has_ts)
        return malformed(DecodeError::missing_field);
      exch_ts = has_cts ? cts : ts;
      for (std::uint32_t i = 0; i < step.events; ++i) {
        out[i].exch_ts = exch_ts;
        out[i].flags = common_flags;
      }
      break;
    case TopicKind::ticker: {
      if (type != MessageType::snapshot && type != MessageType::delta)
        return malformed(type == MessageType::none ? DecodeError::missing_field
                                                   : DecodeError::bad_value);
      if (!has_ts)
        return malformed(DecodeError::missing_field);
      if (out.empty())
        return overflow();
      // Merge only now that the whole message is known good.
      TickerData& state = tickers[symbol];
      if (type == MessageType::snapshot) {
        state = ticker.values;
      } else {
        if (ticker.present & TickerUpdate::kLast)
          state.last = ticker.values.last;
        if (ticker.present & TickerUpdate::kBid)
          state.bid = ticker.values.bid;
        if (ticker.present & TickerUpdate::kBidQty)
          state.bid_qty = ticker.values.bid_qty;
        if (ticker.present & TickerUpdate::kAsk)
          state.ask = ticker.values.ask;
        if (ticker.present & TickerUpdate::kAskQty)
          state.ask_qty = ticker.values.ask_qty;
      }
      MarketEvent& event = out[0];
      begin_event(event, recv_ts, symbol, MarketEventType::ticker, Side::none);
      event.exch_ts = ts;
      event.ticker = state;
      step.events = 1;
      break;
    }
    case TopicKind::trade:
    case TopicKind::kline:
    case TopicKind::none:
    case TopicKind::unknown:
      break;
  }

  if (step.events == 0) {
    ++stats.ignored;
    result.status = DecodeStatus::ignored;
    return result;
  }
  out[0].flags = static_cast<std::uint16_t>(out[0].flags | kFlagBeginOfBatch);
  out[step.events - 1].flags =
      static_cast<std::uint16_t>(out[step.events - 1].flags | kFlagEndOfBatch);
  ++stats.data_messages;
  stats.events += step.events;
  result.events = step.events;
  return result;
}

BybitDecoder::BybitDecoder(SymbolTable& symbols, BybitDecoderConfig config)
    : impl_(std::make_unique<Impl>(symbols, config)) {}
BybitDecoder::~BybitDecoder() = default;
BybitDecoder::BybitDecoder(BybitDecoder&&) noexcept = default;
BybitDecoder& BybitDecoder::operator=(BybitDecoder&&) noexcept = default;

DecodeResult BybitDecoder::decode(std::string_view message, TimestampNs recv_ts,
                                  std::span<MarketEvent> out) noexcept {
  return impl_->decode(message, recv_ts, out);
}

const BybitDecoderStats& BybitDecoder::stats() const noexcept {
  return impl_->stats;
}

void BybitDecoder::reset_tickers() noexcept {
  std::fill(impl_->tickers.begin(), impl_->tickers.end(), TickerData{});
}

std::size_t BybitDecoder::max_message_bytes() const noexcept {
  return impl_->config.max_message_bytes;
}

// ---------------------------------------------------------------------------------------
// Requests

namespace {

/// Appends into a fixed buffer; remembers overflow instead of failing at each step.
class Writer {
 public:
  explicit Writer(std::span<char> out) noexcept : out_(out) {}
  void put(std::string_view text) noexcept {
    if (text.size() > out_.size() - size_) {
      overflow_ = true;
      return;
    }
    std::memcpy(out_.data() + size_, text.data(), text.size());
    size_ += text.size();
  }
  [[nodiscard]] bool overflow() const noexcept { return overflow_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  std::span<char> out_;
  std::size_t size_ = 0;
  bool overflow_ = false;
};

/// True when `text` can go between JSON quotes without escaping.
[[nodiscard]] bool json_safe(std::string_view text) noexcept {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == '"' || c == '\\')
      return false;
  }
  return true;
}

Result<std::size_t, EncodeError> encode_request(std::span<char> out, std::string_view req_id,
                                                std::string_view op,
                                                std::span<const std::string_view> topics,
                                                bool with_args) noexcept {
  if (!json_safe(req_id) || req_id.size() > ControlReply::kMaxReqId)
    return EncodeError::bad_req_id;
  if (with_args) {
    if (topics.empty())
      return EncodeError::no_topics;
    for (const std::string_view topic : topics) {
      if (topic.empty() || !json_safe(topic))
        return EncodeError::bad_topic;
    }
  }
  Writer w(out);
  w.put("{");
  if (!req_id.empty()) {
    w.put("\"req_id\":\"");
    w.put(req_id);
    w.put("\",");
  }
  w.put("\"op\":\"");
  w.put(op);
  w.put("\"");
  if (with_args) {
    w.put(",\"args\":[");
    for (std::size_t i = 0; i < topics.size(); ++i) {
      if (i != 0)
        w.put(",");
      w.put("\"");
      w.put(topics[i]);
      w.put("\"");
    }
    w.put("]");
  }
  w.put("}");
  if (w.overflow())
    return EncodeError::buffer_too_small;
  return w.size();
}

}  // namespace

Result<std::size_t, EncodeError> encode_subscribe(
    std::span<char> out, std::string_view req_id,
    std::span<const std::string_view> topics) noexcept {
  return encode_request(out, req_id, "subscribe", topics, true);
}

Result<std::size_t, EncodeError> encode_unsubscribe(
    std::span<char> out, std::string_view req_id,
    std::span<const std::string_view> topics) noexcept {
  return encode_request(out, req_id, "unsubscribe", topics, true);
}

Result<std::size_t, EncodeError> encode_ping(std::span<char> out,
                                             std::string_view req_id) noexcept {
  return encode_request(out, req_id, "ping", {}, false);
}

Result<std::size_t, EncodeError> make_topic(std::span<char> out, std::string_view short_form,
                                            std::string_view symbol) noexcept {
  if (symbol.empty() || symbol.size() > SymbolTable::kMaxNameLength)
    return EncodeError::bad_symbol;
  for (const char c : symbol) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok)
      return EncodeError::bad_symbol;
  }
  std::string_view prefix;
  std::string_view param;
  std::uint16_t unused = 0;
  if (short_form == "trade") {
    prefix = "publicTrade.";
  } else if (short_form == "ticker") {
    prefix = "tickers.";
  } else if (short_form.starts_with("book.")) {
    prefix = "orderbook.";
    param = short_form.substr(5);
    if (!parse_depth(param, unused))
      return EncodeError::unknown_short_form;
  } else if (short_form.starts_with("kline.")) {
    prefix = "kline.";
    param = short_form.substr(6);
    if (!parse_interval(param, unused))
      return EncodeError::unknown_short_form;
  } else {
    return EncodeError::unknown_short_form;
  }
  Writer w(out);
  w.put(prefix);
  if (!param.empty()) {
    w.put(param);
    w.put(".");
  }
  w.put(symbol);
  if (w.overflow())
    return EncodeError::buffer_too_small;
  return w.size();
}

std::string_view to_string(DecodeStatus status) noexcept {
  switch (status) {
    case DecodeStatus::data:
      return "data";
    case DecodeStatus::control:
      return "control";
    case DecodeStatus::ignored:
      return "ignored";
    case DecodeStatus::unknown_topic:
      return "unknown_topic";
    case DecodeStatus::malformed:
      return "malformed";
    case DecodeStatus::overflow:
      return "overflow";
  }
  return "?";
}

std::string_view to_string(DecodeError error) noexcept {
  switch (error) {
    case DecodeError::none:
      return "none";
    case DecodeError::too_large:
      return "too_large";
    case DecodeError::json:
      return "json";
    case DecodeError::missing_field:
      return "missing_field";
    case DecodeError::wrong_type:
      return "wrong_type";
    case DecodeError::bad_decimal:
      return "bad_decimal";
    case DecodeError::bad_value:
      return "bad_value";
    case DecodeError::bad_topic:
      return "bad_topic";
    case DecodeError::symbol_table_full:
      return "symbol_table_full";
  }
  return "?";
}

std::string_view to_string(ControlKind kind) noexcept {
  switch (kind) {
    case ControlKind::pong:
      return "pong";
    case ControlKind::subscribed:
      return "subscribed";
    case ControlKind::unsubscribed:
      return "unsubscribed";
    case ControlKind::subscribe_failed:
      return "subscribe_failed";
    case ControlKind::other:
      return "other";
  }
  return "?";
}

}  // namespace kinetic::feed
