#include "kinetic/feed/bybit_decoder.hpp"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "kinetic/core/detail/eight_digits.hpp"

#if defined(__SSSE3__)
#include <immintrin.h>
#endif

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

/// Trade ids: the integer value when all digits and it fits, else text_id_hash (Bybit's
/// linear ids are 36-character UUIDs: hashed a word at a time, not a byte at a time).
[[nodiscard]] std::uint64_t trade_id_of(std::string_view text) noexcept {
  if (text.empty() || text.size() > 20)
    return text_id_hash(text);
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9')
      return text_id_hash(text);
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      return text_id_hash(text);
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

/// Reads a string value; on failure sets `error`. (Reading escape-free strings straight from
/// the raw token was measured slower here than simdjson's get_string for these short texts;
/// the fast path below reads them in place instead.)
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

// ---- Inline decimal parse for the wire's common shape ----
//
// Bybit's prices and sizes are "D…D" or "D…D.F…F": 1..7 integer digits, 1..8 fraction digits,
// then the closing quote. For exactly that shape the value is integer * 1e8 + fraction *
// 10^(8 - fraction digits), which is what Price::parse / Qty::parse return for it (no sign,
// no overflow possible below 1e7); the shape is checked on the raw bytes after the opening
// quote, and anything else (a sign, "5.", ".5", long numbers, escapes, errors) goes to the
// exact parser. Reads at most 18 bytes past the opening quote: inside the message or its
// kMessagePadding.

constexpr std::uint64_t kEveryByte = 0x0101'0101'0101'0101ULL;
constexpr std::uint64_t kAsciiZeros = 0x30 * kEveryByte;

[[nodiscard]] [[gnu::always_inline]] inline std::uint64_t load_word(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

/// High bit of each byte of (word ^ '0'-per-byte) set where the byte is not a digit.
[[nodiscard]] constexpr std::uint64_t non_digit_flags(std::uint64_t x) noexcept {
  return (((x & (0x7f * kEveryByte)) + 0x76 * kEveryByte) | x) & (0x80 * kEveryByte);
}

#if defined(__SSSE3__)
using kinetic::detail::digit_vector_to_raw;
#endif

/// Raw units of 8 integer digits and 8 fraction digits, each word holding digit values
/// (0..9) most significant in the lowest byte: integer * 1e8 + fraction.
[[nodiscard]] [[gnu::always_inline]] inline std::uint64_t digits_to_raw(
    std::uint64_t integer_word, std::uint64_t fraction_word) noexcept {
#if defined(__SSSE3__)
  // Both words in one vector register: fewer instructions than two scalar conversions.
  return digit_vector_to_raw(
      _mm_set_epi64x(static_cast<long long>(fraction_word), static_cast<long long>(integer_word)));
#else
  const auto eight = [](std::uint64_t v) {
    v = (v * 10 + (v >> 8)) & 0x00ff'00ff'00ff'00ffULL;
    v = (v * 100 + (v >> 16)) & 0x0000'ffff'0000'ffffULL;
    return (v * 10'000 + (v >> 32)) & 0x0000'0000'ffff'ffffULL;
  };
  return eight(integer_word) * 100'000'000ULL + eight(fraction_word);
#endif
}

/// Raw 1e-8 units of the decimal whose text starts at `p` (just after the opening quote), if
/// it has the common shape; 0 (raw untouched) otherwise. Returns the text's length + 1 (the
/// closing quote included).
[[nodiscard]] [[gnu::always_inline]] inline std::size_t parse_common_decimal(
    const char* p, std::int64_t& raw) noexcept {
  const std::uint64_t integer_x = load_word(p) ^ kAsciiZeros;
  const std::uint64_t integer_flags = non_digit_flags(integer_x);
  if (integer_flags == 0)
    return 0;  // 8+ integer digits: rare, exact path
  const auto integer_digits = static_cast<unsigned>(std::countr_zero(integer_flags)) / 8;
  if (integer_digits == 0)
    return 0;
  // Right-align the digits: the top bytes are the number's last digits, zeros below.
  const std::uint64_t integer_word = integer_x << (8 * (8 - integer_digits));
  const char after = p[integer_digits];
  if (after == '"') {
    raw = static_cast<std::int64_t>(digits_to_raw(integer_word, 0));
    return integer_digits + 1;
  }
  if (after != '.')
    return 0;
  const char* const fraction_text = p + integer_digits + 1;
  const std::uint64_t fraction_x = load_word(fraction_text) ^ kAsciiZeros;
  const std::uint64_t fraction_flags = non_digit_flags(fraction_x);
  const unsigned fraction_digits =
      fraction_flags == 0 ? 8U : static_cast<unsigned>(std::countr_zero(fraction_flags)) / 8;
  if (fraction_digits == 0 || fraction_text[fraction_digits] != '"')
    return 0;
  // Zero the bytes past the digits: read as 8 digits that is fraction * 10^(8 - digits).
  const std::uint64_t keep = fraction_digits == 8 ? ~0ULL : (1ULL << (8 * fraction_digits)) - 1;
  raw = static_cast<std::int64_t>(digits_to_raw(integer_word, fraction_x & keep));
  return integer_digits + 1 + fraction_digits + 1;
}

template <class D>
[[nodiscard]] [[gnu::always_inline]] inline bool read_decimal(od::value& value, D& out,
                                                              DecodeError& error) noexcept {
  const std::string_view token = value.raw_json_token();
  std::int64_t raw = 0;
  if (token.size() >= 2 && token[0] == '"' && parse_common_decimal(token.data() + 1, raw) != 0) {
    out = D::from_raw(raw);
    return true;
  }
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

  /// Writes into the caller's result: one DecodeResult (~200 bytes) is never copied.
  void decode(std::string_view message, TimestampNs recv_ts, std::span<MarketEvent> out,
              DecodeResult& result) noexcept;

  Step decode_trades(od::value& data, TimestampNs recv_ts, std::span<MarketEvent> out) noexcept;
  Step decode_book(od::value& data, const Topic& topic, SymbolId symbol, TimestampNs recv_ts,
                   std::span<MarketEvent> out) noexcept;
  Step decode_klines(od::value& data, const Topic& topic, SymbolId symbol, TimestampNs recv_ts,
                     std::span<MarketEvent> out) noexcept;
  static DecodeError decode_ticker(od::value& data, TickerUpdate& update) noexcept;
  static DecodeError count_fail_topics(od::value& data, std::uint32_t& count) noexcept;

  // The fast path (see "Fast path" below) and its caches.
  bool decode_fast(std::string_view message, TimestampNs recv_ts, std::span<MarketEvent> out,
                   DecodeResult& result) noexcept;
  bool fast_topic(std::string_view text) noexcept;
  bool fast_trades(const char*& p, const char* end, TimestampNs recv_ts, std::span<MarketEvent> out,
                   std::uint32_t& count) noexcept;
  bool fast_book(const char*& p, const char* end, TimestampNs recv_ts, std::span<MarketEvent> out,
                 std::uint32_t& count, std::uint64_t& update_id, std::uint64_t& sequence) noexcept;

  /// The last topic seen by the fast path, with what it resolved to (ids never change).
  static constexpr std::size_t kMaxCachedTopic = 63;
  char cached_topic_text[kMaxCachedTopic] = {};
  std::size_t cached_topic_length = 0;  ///< 0: nothing cached
  Topic cached_topic;                   ///< its symbol view is not used (it would dangle)
  SymbolId cached_topic_symbol = 0;
  /// The last trade symbol resolved by the fast path.
  SymbolId cached_trade_symbol = 0;
  bool has_cached_trade_symbol = false;
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
    // An empty string (seen on pre-market instruments) means "no value": zero. (A string's
    // token starting with two quotes is exactly the empty string.)
    const std::string_view token = value.raw_json_token();
    if (token.size() >= 2 && token[0] == '"' && token[1] == '"') {
      if (is_qty)
        *qty = Qty::from_raw(0);
      else
        *price = Price::from_raw(0);
    } else if (is_qty) {
      if (!read_decimal(value, *qty, error))
        return error;
    } else {
      if (!read_decimal(value, *price, error))
        return error;
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

// ---------------------------------------------------------------------------------------
// Fast path
//
// Bybit sends its trade and order book messages in one compact shape. decode_fast() is a
// strict recognizer of exactly that shape, reading the bytes once, left to right, with no
// simdjson stage 1 and no string copies: no whitespace; keys and strings of printable ASCII
// without escapes; integers as plain digits (no sign, no leading zero, at most 18 digits);
// top-level keys only topic (first among topic/data), type (snapshot/delta), ts, cts, data;
// symbols already interned. Everything it accepts is valid JSON (and plain ASCII, hence valid
// UTF-8), and for it the events are built exactly as the simdjson path builds them. Anything
// else — another shape, a duplicate key, an empty batch, a new symbol, overflow, any error —
// returns false having changed no state (out aside), and the message is decoded again by the
// exact simdjson path, which then decides and classifies. The tests and the fuzzer compare
// both paths on every input (BybitDecoderConfig::fast_path = false turns this one off).

namespace {

[[nodiscard]] [[gnu::always_inline]] inline bool take(const char*& p, const char* end,
                                                      char c) noexcept {
  if (p == end || *p != c)
    return false;
  ++p;
  return true;
}

#if !defined(__AVX2__)
/// High bit of each byte of `x` set where the byte ends or spoils a plain string: the quote,
/// a backslash, a control character (< 0x20), DEL or a non-ASCII byte (>= 0x7f).
[[nodiscard]] constexpr std::uint64_t string_stop_flags(std::uint64_t x) noexcept {
  constexpr std::uint64_t kHigh = 0x80 * kEveryByte;
  const std::uint64_t low = x & (0x7f * kEveryByte);  // per-byte sums below cannot carry
  const std::uint64_t is_del = low + 0x01 * kEveryByte;
  const std::uint64_t is_control = ~(low + 0x60 * kEveryByte);
  const std::uint64_t is_quote = ~((low ^ (0x22 * kEveryByte)) + 0x7f * kEveryByte);
  const std::uint64_t is_backslash = ~((low ^ (0x5c * kEveryByte)) + 0x7f * kEveryByte);
  return (x | is_del | is_control | is_quote | is_backslash) & kHigh;
}
#endif

/// A string of printable ASCII without escapes; p at the opening quote, left past the closing.
/// 32 (AVX2) or 8 bytes a step: reads up to 31 bytes past `end` (inside the padding).
[[nodiscard]] [[gnu::always_inline]] inline bool scan_string(const char*& p, const char* end,
                                                             std::string_view& text) noexcept {
  if (p == end || *p != '"')
    return false;
  const char* const begin = p + 1;
#if defined(__AVX2__)
  // 32 bytes a step (a UUID trade id and its quote in two): reads up to 31 bytes past `end`.
  for (const char* q = begin; q < end; q += 32) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    // Signed compare: below 0x20 or at/above 0x80 (negative) in one step.
    const __m256i stops =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), bytes),
                                        _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8(0x7f))),
                        _mm256_or_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('"')),
                                        _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('\\'))));
    const auto flags = static_cast<std::uint32_t>(_mm256_movemask_epi8(stops));
    if (flags == 0)
      continue;
    const char* const stop = q + std::countr_zero(flags);
    if (stop >= end || *stop != '"')
      return false;
    text = std::string_view(begin, static_cast<std::size_t>(stop - begin));
    p = stop + 1;
    return true;
  }
  return false;
#else
  for (const char* q = begin; q < end; q += 8) {
    const std::uint64_t flags = string_stop_flags(load_word(q));
    if (flags == 0)
      continue;
    const char* const stop = q + std::countr_zero(flags) / 8;
    if (stop >= end || *stop != '"')
      return false;
    text = std::string_view(begin, static_cast<std::size_t>(stop - begin));
    p = stop + 1;
    return true;
  }
  return false;
#endif
}

/// `text == literal` for a literal of known length: a size test and an inlined compare.
template <std::size_t N>
[[nodiscard]] [[gnu::always_inline]] inline bool is(std::string_view text,
                                                    const char (&literal)[N]) noexcept {
  return text.size() == N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}

/// Equality of two short texts without a library call for the usual lengths.
[[nodiscard]] [[gnu::always_inline]] inline bool same_text(std::string_view a,
                                                           std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size())
    return false;
  if (n >= 4 && n < 8) {  // two overlapping 4-byte words (symbol names are often 7 long)
    std::uint32_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 4);
    std::memcpy(&a1, a.data() + n - 4, 4);
    std::memcpy(&b0, b.data(), 4);
    std::memcpy(&b1, b.data() + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n < 8 || n > 64)
    return std::memcmp(a.data(), b.data(), n) == 0;
  std::uint64_t differ = load_word(a.data() + n - 8) ^ load_word(b.data() + n - 8);
  for (std::size_t i = 0; i + 8 < n; i += 8)  // words, the last one overlapping
    differ |= load_word(a.data() + i) ^ load_word(b.data() + i);
  return differ == 0;
}

using kinetic::detail::eight_digits_value;

constexpr std::uint64_t kPowersOf10[9] = {1,       10,        100,        1'000,      10'000,
                                          100'000, 1'000'000, 10'000'000, 100'000'000};

/// A JSON integer of 1..15 digits without sign or leading zero (so it fits int64 and uint64),
/// ending inside the message. Up to 16 digits are looked at in two words (no loop per digit);
/// reads up to 16 bytes past `p`, inside the message's padding.
[[nodiscard]] [[gnu::always_inline]] inline bool scan_uint(const char*& p, const char* end,
                                                           std::uint64_t& value) noexcept {
  const std::uint64_t x0 = load_word(p) ^ kAsciiZeros;
  const std::uint64_t f0 = non_digit_flags(x0);
  std::size_t digits = 0;
  std::uint64_t v = 0;
  if (f0 != 0) {
    digits = static_cast<std::size_t>(std::countr_zero(f0)) / 8;
    if (digits == 0)
      return false;
    v = eight_digits_value(x0 << (8 * (8 - digits)));
  } else {
    const std::uint64_t x1 = load_word(p + 8) ^ kAsciiZeros;
    const std::uint64_t f1 = non_digit_flags(x1);
    if (f1 == 0)
      return false;  // 16 digits or more: not Bybit's; the exact path decides
    const auto more = static_cast<std::size_t>(std::countr_zero(f1)) / 8;
    v = eight_digits_value(x0) * kPowersOf10[more] +
        (more == 0 ? 0 : eight_digits_value(x1 << (8 * (8 - more))));
    digits = 8 + more;
  }
  // The digits must end inside the message (the padding may hold digits too), and JSON
  // allows no leading zero.
  if (digits >= static_cast<std::size_t>(end - p) || (digits > 1 && *p == '0'))
    return false;
  p += digits;
  value = v;
  return true;
}

[[nodiscard]] [[gnu::always_inline]] inline bool scan_ms(const char*& p, const char* end,
                                                         TimestampNs& ns) noexcept {
  std::uint64_t ms = 0;
  return scan_uint(p, end, ms) && ms_to_ns(static_cast<std::int64_t>(ms), ns);
}

/// A value we do not use inside a trade or book object: a string, an integer, true or false.
[[nodiscard]] [[gnu::always_inline]] inline bool skip_scalar(const char*& p,
                                                             const char* end) noexcept {
  if (p == end)
    return false;
  if (*p == '"') {
    std::string_view unused;
    return scan_string(p, end, unused);
  }
  if (*p == 't' || *p == 'f') {
    if (*p == 't') {  // constant-length compares: inlined, no library call
      if (end - p < 4 || std::memcmp(p, "true", 4) != 0)
        return false;
      p += 4;
      return true;
    }
    if (end - p < 5 || std::memcmp(p, "false", 5) != 0)
      return false;
    p += 5;
    return true;
  }
  std::uint64_t unused = 0;
  return scan_uint(p, end, unused);
}

#if !defined(__SSSE3__)
/// High bit set in each byte of `x` that is zero, exact for the lowest one (a borrow only
/// runs upward from a zero byte, so any false flag sits above a true one).
[[nodiscard]] constexpr std::uint64_t zero_byte_flags(std::uint64_t x) noexcept {
  return (x - kEveryByte) & ~x & (0x80 * kEveryByte);
}
#endif

#if defined(__SSSE3__)
/// pshufb masks that move I integer digits (1..7) and F fraction digits (0..8) of the text
/// "I.F" into digit_vector_to_raw's layout: integer right-aligned in bytes 0..7, fraction
/// left-aligned from byte 8; other bytes zero (index 0x80). Entry (I - 1) * 9 + F.
struct alignas(16) ShuffleMask : std::array<std::int8_t, 16> {};
constexpr auto kDigitShuffles = [] {
  std::array<ShuffleMask, 7 * 9> table{};
  for (int integer = 1; integer <= 7; ++integer) {
    for (int fraction = 0; fraction <= 8; ++fraction) {
      ShuffleMask& mask = table[static_cast<std::size_t>((integer - 1) * 9 + fraction)];
      for (auto& byte : mask)
        byte = static_cast<std::int8_t>(-128);
      for (int k = 0; k < integer; ++k)
        mask[static_cast<std::size_t>(8 - integer + k)] = static_cast<std::int8_t>(k);
      for (int k = 0; k < fraction; ++k)
        mask[static_cast<std::size_t>(8 + k)] = static_cast<std::int8_t>(integer + 1 + k);
    }
  }
  return table;
}();
#endif

/// A price or size string; p at the opening quote, left past the closing one.
///
/// The position of the next token depends only on where the closing quote is, so that is
/// found first (one 16-byte look, no loop) and the digits are checked and converted beside
/// it, off the chain that carries `p` from token to token. Common shape as in
/// parse_common_decimal; anything else goes through D::parse.
template <class D>
[[nodiscard]] [[gnu::always_inline]] inline bool scan_decimal(const char*& p, const char* end,
                                                              D& out) noexcept {
  if (p == end || *p != '"')
    return false;
  const char* const text = p + 1;
#if defined(__SSSE3__)
  // One 16-byte look: where the quote, the dot and the digits are, as bit masks; the shape
  // is checked on the masks and the digits moved into place by one shuffle.
  if (end - text > 16) {  // a quote found among the 16 bytes is inside the message
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text));
    const __m128i values = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
    const auto quotes =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'))));
    const auto dots =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('.'))));
    const auto digits = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values)));
    const auto length = static_cast<unsigned>(std::countr_zero(quotes | 0x10000U));
    const unsigned before_quote = (1U << length) - 1;
    const unsigned dot = dots & before_quote;
    const unsigned integer_digits =
        dot != 0 ? static_cast<unsigned>(std::countr_zero(dot)) : length;
    const unsigned fraction_digits = dot != 0 ? length - integer_digits - 1 : 0;
    if (quotes != 0 && ((digits | dot) & before_quote) == before_quote && (dot & (dot - 1)) == 0 &&
        integer_digits - 1 < 7 && fraction_digits <= 8 && (dot == 0 || fraction_digits != 0)) {
      const __m128i shuffle = _mm_load_si128(reinterpret_cast<const __m128i*>(
          kDigitShuffles[(integer_digits - 1) * 9 + fraction_digits].data()));
      out = D::from_raw(
          static_cast<std::int64_t>(digit_vector_to_raw(_mm_shuffle_epi8(values, shuffle))));
      p = text + length + 1;
      return true;
    }
  }
#else
  const std::uint64_t w0 = load_word(text);
  const std::uint64_t w1 = load_word(text + 8);
  constexpr std::uint64_t kQuotes = 0x22 * kEveryByte;
  const std::uint64_t q0 = zero_byte_flags(w0 ^ kQuotes);
  const std::uint64_t q1 = zero_byte_flags(w1 ^ kQuotes);
  if ((q0 | q1) != 0 && end - text > 16) {  // the closing quote is among the 16 bytes read
    const auto length = q0 != 0 ? static_cast<unsigned>(std::countr_zero(q0)) / 8
                                : 8 + static_cast<unsigned>(std::countr_zero(q1)) / 8;
    const std::uint64_t x0 = w0 ^ kAsciiZeros;
    const std::uint64_t non_digits = non_digit_flags(x0);
    const unsigned integer_digits =
        non_digits != 0 ? static_cast<unsigned>(std::countr_zero(non_digits)) / 8 : 8;
    if (integer_digits >= 1 && integer_digits <= 7) {
      const std::uint64_t integer_word = x0 << (8 * (8 - integer_digits));
      if (integer_digits == length) {
        out = D::from_raw(static_cast<std::int64_t>(digits_to_raw(integer_word, 0)));
        p = text + length + 1;
        return true;
      }
      const unsigned fraction_digits = length - integer_digits - 1;  // wraps when length < int
      if (text[integer_digits] == '.' && fraction_digits >= 1 && fraction_digits <= 8) {
        const std::uint64_t fraction_x = load_word(text + integer_digits + 1) ^ kAsciiZeros;
        const std::uint64_t keep =
            fraction_digits == 8 ? ~0ULL : (1ULL << (8 * fraction_digits)) - 1;
        if ((non_digit_flags(fraction_x) & keep) == 0) {
          out = D::from_raw(
              static_cast<std::int64_t>(digits_to_raw(integer_word, fraction_x & keep)));
          p = text + length + 1;
          return true;
        }
      }
    }
  }
#endif
  std::string_view text_view;
  if (!scan_string(p, end, text_view))
    return false;
  const auto parsed = D::parse(text_view);
  if (!parsed)
    return false;
  out = parsed.value();
  return true;
}

#if defined(__SSSE3__)
/// The positions of '"' from `begin` on, found 64 bytes at a time into a bit mask and then
/// taken one by one (tzcnt, clear lowest bit). Walking a book's levels from quote to quote
/// this way, the position of the next token no longer waits on loading and scanning the bytes
/// of the previous one: the masks of later blocks are computed independently. Reads whole
/// 64-byte blocks starting before `end` (at most 63 bytes past it: inside the padding).
class QuoteCursor {
 public:
  QuoteCursor(const char* begin, const char* end) noexcept : block_(begin), end_(end) { load(); }
  /// The next quote before `end`, or nullptr.
  [[nodiscard]] [[gnu::always_inline]] const char* next() noexcept {
    while (bits_ == 0) {
      block_ += 64;
      if (block_ >= end_)
        return nullptr;
      load();
    }
    const char* const quote = block_ + std::countr_zero(bits_);
    bits_ &= bits_ - 1;
    return quote;
  }

 private:
  void load() noexcept {
    const __m128i quote = _mm_set1_epi8('"');
    std::uint64_t bits = 0;
    for (int i = 0; i < 4; ++i) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block_ + 16 * i));
      bits |= static_cast<std::uint64_t>(
                  static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, quote))))
              << (16 * i);
    }
    const auto remaining = static_cast<std::size_t>(end_ - block_);
    if (remaining < 64)
      bits &= (1ULL << remaining) - 1;
    bits_ = bits;
  }

  const char* block_;
  const char* end_;
  std::uint64_t bits_ = 0;
};

/// The decimal whose text is [text, close) (close: its closing quote, inside the message).
template <class D>
[[nodiscard]] [[gnu::always_inline]] inline bool decimal_between(const char* text,
                                                                 const char* close,
                                                                 D& out) noexcept {
  const auto length = static_cast<unsigned>(close - text);
  if (length >= 1 && length <= 15) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text));
    const __m128i values = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
    const auto dots =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('.'))));
    const auto digits = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values)));
    const unsigned before_quote = (1U << length) - 1;
    const unsigned dot = dots & before_quote;
    const unsigned integer_digits =
        dot != 0 ? static_cast<unsigned>(std::countr_zero(dot)) : length;
    const unsigned fraction_digits = dot != 0 ? length - integer_digits - 1 : 0;
    if (((digits | dot) & before_quote) == before_quote && (dot & (dot - 1)) == 0 &&
        integer_digits - 1 < 7 && fraction_digits <= 8 && (dot == 0 || fraction_digits != 0)) {
      const __m128i shuffle = _mm_load_si128(reinterpret_cast<const __m128i*>(
          kDigitShuffles[(integer_digits - 1) * 9 + fraction_digits].data()));
      out = D::from_raw(
          static_cast<std::int64_t>(digit_vector_to_raw(_mm_shuffle_epi8(values, shuffle))));
      return true;
    }
  }
  // Other shapes: the exact parser (which also refuses any escape or stray character).
  const auto parsed = D::parse(std::string_view(text, static_cast<std::size_t>(close - text)));
  if (!parsed)
    return false;
  out = parsed.value();
  return true;
}
#endif

#if defined(__AVX2__)
/// Index into kDigitShuffles of a decimal of `length` (1..15) bytes whose '.' bits (bit i:
/// byte i) are `dots`, or kNoShape when it is not the common shape "I" or "I.F" (I: 1..7
/// digits, F: 1..8); that the other bytes are digits is checked by the caller.
constexpr unsigned kNoShape = ~0U;
[[nodiscard]] [[gnu::always_inline]] inline unsigned shape_index(unsigned length,
                                                                 unsigned dots) noexcept {
  const unsigned integer_digits =
      dots != 0 ? static_cast<unsigned>(std::countr_zero(dots)) : length;
  const unsigned fraction_digits = dots != 0 ? length - integer_digits - 1 : 0;
  const bool common = (dots & (dots - 1)) == 0 && integer_digits - 1 < 7 && fraction_digits <= 8 &&
                      (dots == 0 || fraction_digits != 0);
  return common ? (integer_digits - 1) * 9 + fraction_digits : kNoShape;
}

/// A level's price and size, texts [price_text, price_close) and [qty_text, qty_close) (each
/// close: its closing quote, inside the message), into level.price and level.qty.
///
/// Both decimals are checked and converted in one 256-bit register (price in the low lane,
/// size in the high), and the 1e-8 units are formed there too and stored as one 16-byte
/// write: half the instructions of two decimal_between() calls and no trip through the
/// integer registers, so the conversions' dependent chains are short and run side by side.
/// Other shapes: decimal_between() each (its exact fallback).
[[nodiscard]] [[gnu::always_inline]] inline bool level_between(const char* price_text,
                                                               const char* price_close,
                                                               const char* qty_text,
                                                               const char* qty_close,
                                                               BookLevelData& level) noexcept {
  static_assert(offsetof(BookLevelData, price) == 0 && offsetof(BookLevelData, qty) == 8 &&
                sizeof(Price) == 8 && sizeof(Qty) == 8);
  const auto price_length = static_cast<unsigned>(price_close - price_text);
  const auto qty_length = static_cast<unsigned>(qty_close - qty_text);
  if (price_length - 1 < 15 && qty_length - 1 < 15) {
    const __m256i bytes = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(price_text))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(qty_text)), 1);
    const __m256i values = _mm256_sub_epi8(bytes, _mm256_set1_epi8('0'));
    const auto dots = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('.'))));
    const auto digits = static_cast<std::uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_min_epu8(values, _mm256_set1_epi8(9)), values)));
    const std::uint32_t texts = ((1U << price_length) - 1) | (((1U << qty_length) - 1) << 16);
    const std::uint32_t text_dots = dots & texts;
    const unsigned price_shape = shape_index(price_length, text_dots & 0xffffU);
    const unsigned qty_shape = shape_index(qty_length, text_dots >> 16);
    if (((digits | text_dots) & texts) == texts && (price_shape | qty_shape) != kNoShape) {
      const __m256i shuffle = _mm256_inserti128_si256(
          _mm256_castsi128_si256(
              _mm_load_si128(reinterpret_cast<const __m128i*>(kDigitShuffles[price_shape].data()))),
          _mm_load_si128(reinterpret_cast<const __m128i*>(kDigitShuffles[qty_shape].data())), 1);
      // Lanes (64-bit): price integer, price fraction, size integer, size fraction; as in
      // digit_vector_to_raw, each < 10^8 so it fits the 32 bits that vpmuludq multiplies.
      const __m256i placed = _mm256_shuffle_epi8(values, shuffle);
      const __m256i pairs = _mm256_maddubs_epi16(placed, _mm256_set1_epi16(0x010a));
      const __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x0001'0064));
      const __m256i eights = _mm256_add_epi64(_mm256_mul_epu32(quads, _mm256_set1_epi32(10'000)),
                                              _mm256_srli_epi64(quads, 32));
      // integer * 10^8 + fraction, in lanes 0 (price) and 2 (size).
      const __m256i raws =
          _mm256_add_epi64(_mm256_mul_epu32(eights, _mm256_set1_epi64x(100'000'000)),
                           _mm256_bsrli_epi128(eights, 8));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(&level.price),
                       _mm256_castsi256_si128(_mm256_permute4x64_epi64(raws, 0b1000)));
      return true;
    }
  }
  return decimal_between(price_text, price_close, level.price) &&
         decimal_between(qty_text, qty_close, level.qty);
}
#endif

/// The first N - 1 (<= 8) bytes of `literal` as a little-endian word, and its byte mask.
template <std::size_t N>
constexpr std::uint64_t literal_word(const char (&literal)[N]) noexcept {
  static_assert(N - 1 >= 1 && N - 1 <= 8);
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < N - 1; ++i)
    word |= static_cast<std::uint64_t>(static_cast<unsigned char>(literal[i])) << (8 * i);
  return word;
}
template <std::size_t N>
constexpr std::uint64_t literal_mask() noexcept {
  return N - 1 == 8 ? ~0ULL : (1ULL << (8 * (N - 1))) - 1;
}

/// True when the bytes at p are `literal` (<= 8 bytes, all inside the message). One word
/// compare, and p then advances by a constant: the next token's position does not wait on
/// scanning this one's bytes (the compare is checked beside it, by a predicted branch).
template <std::size_t N>
[[nodiscard]] [[gnu::always_inline]] inline bool match(const char* p, const char* end,
                                                       const char (&literal)[N]) noexcept {
  constexpr std::uint64_t kMask = literal_mask<N>();
  return end - p >= static_cast<std::ptrdiff_t>(N - 1) &&
         (load_word(p) & kMask) == (literal_word(literal) & kMask);
}

#if defined(__SSSE3__)
/// The levels of one side, `["price","size"]` each, p at the first level's '[' (after the
/// array's own): writes their events from out[count] on and returns the position past the
/// array's ']', or nullptr for anything else (then out is unspecified). Four quotes a level
/// come from the cursor and are checked to sit exactly where that shape puts them.
///
/// Its own function, not inlined into decode_fast: with only this loop's values live, the
/// cursor, count and position stay in registers (inlined, they were spilled to the stack and
/// reloaded on every level). exch_ts, flags, update_id and sequence are the same for every
/// level and known only at the message's end: decode_fast writes them then, not here.
[[gnu::noinline]] const char* scan_levels(const char* p, const char* end,
                                          std::span<MarketEvent> out, std::uint32_t& count,
                                          TimestampNs recv_ts, SymbolId symbol, Side side,
                                          std::uint16_t depth) noexcept {
  std::uint32_t n = count;
  MarketEvent* const events = out.data();
  const std::size_t room = out.size();
#if defined(__AVX2__)
  // What every level's event holds but its price and size, as two 32-byte halves stored
  // whole: two stores a level instead of one per field (exch_ts, flags, u and seq are zero
  // here and written by decode_fast).
  MarketEvent prototype{};
  prototype.recv_ts = recv_ts;
  prototype.symbol = symbol;
  prototype.type = MarketEventType::book_level;
  prototype.side = side;
  prototype.aux = depth;
  prototype.level.reserved = 0;
  static_assert(sizeof(MarketEvent) == 64);
  const __m256i front = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&prototype));
  const __m256i back = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&prototype) + 1);
#endif
  QuoteCursor quotes(p, end);
  for (;;) {
    if (n == room || end - p < 2 || p[0] != '[' || p[1] != '"')
      return nullptr;
    const char* const open_price = p + 1;
    if (quotes.next() != open_price)
      return nullptr;
    const char* const close_price = quotes.next();
    if (close_price == nullptr || close_price[1] != ',' || close_price[2] != '"')
      return nullptr;
    const char* const open_qty = quotes.next();
    if (open_qty != close_price + 2)
      return nullptr;
    const char* const close_qty = quotes.next();
    if (close_qty == nullptr || end - close_qty < 3 || close_qty[1] != ']')
      return nullptr;
    MarketEvent& event = events[n];
#if defined(__AVX2__)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(&event), front);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(&event) + 1, back);
    if (!level_between(open_price + 1, close_price, open_qty + 1, close_qty, event.level))
      return nullptr;
#else
    event.recv_ts = recv_ts;
    event.symbol = symbol;
    event.type = MarketEventType::book_level;
    event.side = side;
    event.aux = depth;
    event.level.reserved = 0;
    if (!decimal_between(open_price + 1, close_price, event.level.price) ||
        !decimal_between(open_qty + 1, close_qty, event.level.qty))
      return nullptr;
#endif
    ++n;
    p = close_qty + 2;  // inside the message: checked above
    if (*p == ',') {
      ++p;
      continue;
    }
    if (*p != ']')
      return nullptr;
    count = n;
    return p + 1;
  }
}
#endif

/// Reads `"key":`; p left at the value.
[[nodiscard]] [[gnu::always_inline]] inline bool scan_key(const char*& p, const char* end,
                                                          std::string_view& key) noexcept {
  return scan_string(p, end, key) && take(p, end, ':');
}

/// Reads `"key":` as scan_key does, but Bybit's keys (one letter, seq, BT, RPI and the
/// envelope's) are recognized by word compares and skipped by their constant length, so the
/// cursor does not wait on a scan of each key's bytes. Anything else: scan_key.
[[nodiscard]] [[gnu::always_inline]] inline bool read_key(const char*& p, const char* end,
                                                          std::string_view& key) noexcept {
  if (end - p >= 8 && p[0] == '"') {
    const char letter = p[1];
    const bool is_letter = (letter >= 'a' && letter <= 'z') || (letter >= 'A' && letter <= 'Z');
    std::size_t length = 0;
    if (is_letter && p[2] == '"' && p[3] == ':')
      length = 1;
    else if (match(p, end, "\"seq\":") || match(p, end, "\"RPI\":") || match(p, end, "\"cts\":"))
      length = 3;
    else if (match(p, end, "\"BT\":") || match(p, end, "\"ts\":"))
      length = 2;
    else if (match(p, end, "\"type\":") || match(p, end, "\"data\":"))
      length = 4;
    else if (match(p, end, "\"topic\":"))
      length = 5;
    if (length != 0) {
      key = std::string_view(p + 1, length);
      p += length + 3;
      return true;
    }
  }
  return scan_key(p, end, key);
}

/// A string value equal to `known` (printable ASCII without quote or backslash: a text the
/// fast path scanned before), compared in place; p advances past its closing quote.
[[nodiscard]] [[gnu::always_inline]] inline bool match_known(const char*& p, const char* end,
                                                             std::string_view known) noexcept {
  const std::size_t n = known.size();
  if (n == 0 || end - p < static_cast<std::ptrdiff_t>(n + 2) || p[0] != '"' || p[n + 1] != '"' ||
      !same_text(std::string_view(p + 1, n), known))
    return false;
  p += n + 2;
  return true;
}

/// After a member or element: true with `more` set at ',' (consumed), false `more` at the
/// closer (consumed); false on anything else.
[[nodiscard]] [[gnu::always_inline]] inline bool next_or_close(const char*& p, const char* end,
                                                               char closer, bool& more) noexcept {
  if (p == end)
    return false;
  if (*p == ',') {
    more = true;
    ++p;
    return true;
  }
  if (*p == closer) {
    more = false;
    ++p;
    return true;
  }
  return false;
}

}  // namespace

bool BybitDecoder::Impl::fast_topic(std::string_view text) noexcept {
  if (cached_topic_length != 0 &&
      same_text(text, std::string_view(cached_topic_text, cached_topic_length)))
    return true;
  const Topic topic = parse_topic(text);
  if ((topic.kind != TopicKind::trade && topic.kind != TopicKind::book) || topic.symbol.empty() ||
      text.size() > kMaxCachedTopic)
    return false;
  SymbolId symbol = 0;
  if (topic.kind == TopicKind::book) {
    const auto id = symbols.find(topic.symbol);  // never intern here: no state may change
    if (!id)
      return false;
    symbol = *id;
  }
  std::memcpy(cached_topic_text, text.data(), text.size());
  cached_topic_length = text.size();
  cached_topic = topic;
  cached_topic.symbol = {};
  cached_topic_symbol = symbol;
  return true;
}

bool BybitDecoder::Impl::fast_trades(const char*& position, const char* end, TimestampNs recv_ts,
                                     std::span<MarketEvent> out, std::uint32_t& events) noexcept {
  // Locals, so they stay in registers: the events' one-byte fields could alias what a
  // reference points to, which would force a store and reload per field.
  const char* p = position;
  std::uint32_t count = 0;
  if (!take(p, end, '['))
    return false;
  for (bool more = true; more;) {
    if (!take(p, end, '{') || count == out.size())
      return false;
    MarketEvent& event = out[count];
    begin_event(event, recv_ts, 0, MarketEventType::trade, Side::none);
    event.trade.sequence = 0;
    event.trade.reserved = 0;
    enum : std::uint8_t { kTime = 1, kSymbol = 2, kSide = 4, kQty = 8, kPrice = 16, kId = 32 };
    constexpr std::uint8_t kRequired = kTime | kSymbol | kSide | kQty | kPrice | kId;
    std::uint8_t seen = 0;
    bool seen_seq = false;
    for (bool more_keys = true; more_keys;) {
      std::string_view key;
      if (!read_key(p, end, key))
        return false;
      std::uint8_t bit = 0;
      bool ok = false;
      if (key.size() == 1) {
        switch (key[0]) {
          case 'T':
            bit = kTime;
            ok = scan_ms(p, end, event.exch_ts);
            break;
          case 's': {
            bit = kSymbol;
            if (has_cached_trade_symbol && match_known(p, end, symbols.name(cached_trade_symbol))) {
              event.symbol = cached_trade_symbol;
              ok = true;
              break;
            }
            std::string_view name;
            if (!scan_string(p, end, name))
              return false;
            if (!has_cached_trade_symbol || !same_text(symbols.name(cached_trade_symbol), name)) {
              const auto id = symbols.find(name);
              if (!id)
                return false;
              cached_trade_symbol = *id;
              has_cached_trade_symbol = true;
            }
            event.symbol = cached_trade_symbol;
            ok = true;
            break;
          }
          case 'S': {
            bit = kSide;
            if (match(p, end, "\"Buy\"")) {
              event.side = Side::buy;
              p += 5;
              ok = true;
              break;
            }
            if (match(p, end, "\"Sell\"")) {
              event.side = Side::sell;
              p += 6;
              ok = true;
              break;
            }
            std::string_view side;
            if (!scan_string(p, end, side))
              return false;
            event.side = is(side, "Buy") ? Side::buy : (is(side, "Sell") ? Side::sell : Side::none);
            ok = event.side != Side::none;
            break;
          }
          case 'v':
            bit = kQty;
            ok = scan_decimal(p, end, event.trade.qty);
            break;
          case 'p':
            bit = kPrice;
            ok = scan_decimal(p, end, event.trade.price);
            break;
          case 'i': {
            bit = kId;
            std::string_view id;
            ok = scan_string(p, end, id);
            if (ok)
              event.trade.trade_id = trade_id_of(id);
            break;
          }
          default:
            ok = skip_scalar(p, end);
            break;
        }
      } else if (is(key, "seq")) {
        ok = !seen_seq && scan_uint(p, end, event.trade.sequence);
        seen_seq = true;
      } else {
        ok = skip_scalar(p, end);
      }
      if (!ok || (seen & bit) != 0)  // a duplicate key: let the exact path decide
        return false;
      seen = static_cast<std::uint8_t>(seen | bit);
      if (!next_or_close(p, end, '}', more_keys))
        return false;
    }
    if (seen != kRequired)
      return false;
    ++count;
    if (!next_or_close(p, end, ']', more))
      return false;
  }
  position = p;
  events = count;
  return true;
}

bool BybitDecoder::Impl::fast_book(const char*& position, const char* end, TimestampNs recv_ts,
                                   std::span<MarketEvent> out, std::uint32_t& events,
                                   std::uint64_t& update_id_out,
                                   std::uint64_t& sequence_out) noexcept {
  // Locals, so they stay in registers (see fast_trades).
  const char* p = position;
  std::uint32_t count = 0;
  std::uint64_t update_id = 0, sequence = 0;
  if (!take(p, end, '{'))
    return false;
  const std::uint16_t depth = cached_topic.param;
  const SymbolId symbol = cached_topic_symbol;
  bool has_bids = false, has_asks = false, has_update_id = false, has_sequence = false;
  bool asks_first = false;
  for (bool more_keys = true; more_keys;) {
    std::string_view key;
    if (!read_key(p, end, key))
      return false;
    if (key.size() == 1 && (key[0] == 'b' || key[0] == 'a')) {
      const bool bids = key[0] == 'b';
      if (bids ? has_bids : has_asks)
        return false;
      (bids ? has_bids : has_asks) = true;
      asks_first = asks_first || (!bids && !has_bids);
      const Side side = bids ? Side::buy : Side::sell;
      if (!take(p, end, '['))
        return false;
      if (p != end && *p == ']') {
        ++p;
      } else {
#if defined(__SSSE3__)
        p = scan_levels(p, end, out, count, recv_ts, symbol, side, depth);
        if (p == nullptr)
          return false;
#else
        for (bool more = true; more;) {
          if (count == out.size() || !take(p, end, '['))
            return false;
          MarketEvent& event = out[count];
          begin_event(event, recv_ts, symbol, MarketEventType::book_level, side);
          event.aux = depth;
          event.level.reserved = 0;
          if (!scan_decimal(p, end, event.level.price) || !take(p, end, ',') ||
              !scan_decimal(p, end, event.level.qty) || !take(p, end, ']'))
            return false;
          ++count;
          if (!next_or_close(p, end, ']', more))
            return false;
        }
#endif
      }
    } else if (is(key, "u")) {
      if (has_update_id || !scan_uint(p, end, update_id))
        return false;
      has_update_id = true;
    } else if (is(key, "seq")) {
      if (has_sequence || !scan_uint(p, end, sequence))
        return false;
      has_sequence = true;
    } else if (!skip_scalar(p, end)) {
      return false;
    }
    if (!next_or_close(p, end, '}', more_keys))
      return false;
  }
  if (!has_bids || !has_asks || !has_update_id || count == 0)
    return false;
  if (asks_first) {
    // Bids first, whatever the wire order: find where the bids start (the first buy event).
    std::uint32_t bid_begin = 0;
    while (bid_begin < count && out[bid_begin].side != Side::buy)
      ++bid_begin;
    std::rotate(out.begin(), out.begin() + bid_begin, out.begin() + count);
  }
  position = p;
  events = count;
  update_id_out = update_id;
  sequence_out = sequence;
  return true;
}

bool BybitDecoder::Impl::decode_fast(std::string_view message, TimestampNs recv_ts,
                                     std::span<MarketEvent> out, DecodeResult& result) noexcept {
  const char* p = message.data();
  const char* const end = p + message.size();
  if (!take(p, end, '{'))
    return false;
  enum : std::uint8_t { kTopic = 1, kType = 2, kTs = 4, kCts = 8, kData = 16 };
  std::uint8_t seen = 0;
  MessageType type = MessageType::none;
  TimestampNs ts = 0, cts = 0;
  std::uint32_t count = 0;
  std::uint64_t update_id = 0, sequence = 0;
  for (bool more = true; more;) {
    std::string_view key;
    if (!read_key(p, end, key))
      return false;
    std::uint8_t bit = 0;
    bool ok = false;
    if (is(key, "topic")) {
      bit = kTopic;
      std::string_view text;
      // The cached topic again (the usual case): compared in place, no scan.
      ok = match_known(p, end, std::string_view(cached_topic_text, cached_topic_length)) ||
           (scan_string(p, end, text) && fast_topic(text));
    } else if (is(key, "type")) {
      bit = kType;
      if (match(p, end, "\"delta\"")) {
        type = MessageType::delta;
        p += 7;
        ok = true;
      } else if (match(p, end, "\"snapsho") && end - p >= 10 && p[8] == 't' && p[9] == '"') {
        type = MessageType::snapshot;
        p += 10;
        ok = true;
      } else {
        std::string_view text;
        ok = scan_string(p, end, text);
        type = is(text, "delta")
                   ? MessageType::delta
                   : (is(text, "snapshot") ? MessageType::snapshot : MessageType::other);
        ok = ok && type != MessageType::other;
      }
    } else if (is(key, "ts")) {
      bit = kTs;
      ok = scan_ms(p, end, ts);
    } else if (is(key, "cts")) {
      bit = kCts;
      ok = scan_ms(p, end, cts);
    } else if (is(key, "data")) {
      bit = kData;
      if ((seen & kTopic) == 0)
        return false;
      ok = cached_topic.kind == TopicKind::trade
               ? fast_trades(p, end, recv_ts, out, count)
               : fast_book(p, end, recv_ts, out, count, update_id, sequence);
    }
    if (!ok || (seen & bit) != 0)
      return false;
    seen = static_cast<std::uint8_t>(seen | bit);
    if (!next_or_close(p, end, '}', more))
      return false;
  }
  if (p != end || (seen & kData) == 0 || count == 0)
    return false;
  if (cached_topic.kind == TopicKind::book) {
    if ((seen & (kTs | kCts)) == 0 || (seen & kType) == 0)
      return false;
    // Copies whose address is never taken: kept in registers, where the originals (passed
    // by reference to fast_book) would be reloaded after every store to an event.
    const TimestampNs exch_ts = (seen & kCts) != 0 ? cts : ts;
    const std::uint16_t flags = type == MessageType::snapshot ? kFlagSnapshot : kFlagNone;
    const std::uint64_t book_update_id = update_id;
    const std::uint64_t book_sequence = sequence;
    MarketEvent* const events = out.data();
#if defined(__AVX2__)
    // scan_levels left flags zero: only a snapshot's need writing. u and seq are adjacent:
    // one 16-byte store.
    static_assert(offsetof(BookLevelData, sequence) == offsetof(BookLevelData, update_id) + 8);
    const __m128i ids = _mm_set_epi64x(static_cast<std::int64_t>(book_sequence),
                                       static_cast<std::int64_t>(book_update_id));
    for (std::uint32_t i = 0; i < count; ++i) {
      events[i].exch_ts = exch_ts;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(&events[i].level.update_id), ids);
    }
    if (flags != kFlagNone) {
      for (std::uint32_t i = 0; i < count; ++i)
        events[i].flags = flags;
    }
#else
    for (std::uint32_t i = 0; i < count; ++i) {
      events[i].exch_ts = exch_ts;
      events[i].flags = flags;
      events[i].level.update_id = book_update_id;
      events[i].level.sequence = book_sequence;
    }
#endif
  }
  out[0].flags = static_cast<std::uint16_t>(out[0].flags | kFlagBeginOfBatch);
  out[count - 1].flags = static_cast<std::uint16_t>(out[count - 1].flags | kFlagEndOfBatch);
  ++stats.data_messages;
  ++stats.fast_path;
  stats.events += count;
  result.events = count;
  return true;
}

void BybitDecoder::Impl::decode(std::string_view message, TimestampNs recv_ts,
                                std::span<MarketEvent> out, DecodeResult& result) noexcept {
  ++stats.messages;
  stats.bytes += message.size();

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
  };
  const auto overflow = [&]() noexcept {
    ++stats.overflows;
    result.status = DecodeStatus::overflow;
    result.events = 0;
  };

  // Longer than the parser's fixed capacity: iterate() would allocate; refuse instead.
  if (message.size() > config.max_message_bytes)
    return malformed(DecodeError::too_large);

  if (config.fast_path && decode_fast(message, recv_ts, out, result))
    return;

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
      return;
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
    return;
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
    return;
  }
  out[0].flags = static_cast<std::uint16_t>(out[0].flags | kFlagBeginOfBatch);
  out[step.events - 1].flags =
      static_cast<std::uint16_t>(out[step.events - 1].flags | kFlagEndOfBatch);
  ++stats.data_messages;
  stats.events += step.events;
  result.events = step.events;
  return;
}

BybitDecoder::BybitDecoder(SymbolTable& symbols, BybitDecoderConfig config)
    : impl_(std::make_unique<Impl>(symbols, config)) {}
BybitDecoder::~BybitDecoder() = default;
BybitDecoder::BybitDecoder(BybitDecoder&&) noexcept = default;
BybitDecoder& BybitDecoder::operator=(BybitDecoder&&) noexcept = default;

DecodeResult BybitDecoder::decode(std::string_view message, TimestampNs recv_ts,
                                  std::span<MarketEvent> out) noexcept {
  DecodeResult result;  // the caller's return slot (NRVO)
  impl_->decode(message, recv_ts, out, result);
  return result;
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

std::uint64_t text_id_hash(std::string_view text) noexcept {
  // 8 bytes at a time (the last word overlaps the one before it), each folded in with a
  // multiply and a shift: 5 dependent steps for a UUID where FNV-1a takes 36.
  const auto mix = [](std::uint64_t x) noexcept {
    x ^= x >> 32;
    x *= 0xD6E8FEB86659FD93ULL;
    x ^= x >> 32;
    return x;
  };
  const char* const p = text.data();
  const std::size_t n = text.size();
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  if (n < 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, n);
    return mix(mix(h ^ word));
  }
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p + i, 8);
    h = mix(h ^ word);
  }
  if (i < n) {
    std::uint64_t word = 0;
    std::memcpy(&word, p + n - 8, 8);
    h = mix(h ^ word);
  }
  return mix(h);
}

}  // namespace kinetic::feed
