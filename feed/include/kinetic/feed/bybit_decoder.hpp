#pragma once
// Bybit v5 public-stream decoder: one WebSocket text frame in, MarketEvents out.
//
// Usage (feed thread):
//
//   SymbolTable symbols(256);
//   BybitDecoder decoder(symbols);                       // allocates here, never again
//   std::array<MarketEvent, BybitDecoder::kRecommendedEventCapacity> events;
//   // `frame` lies in the receive buffer with >= simdjson::SIMDJSON_PADDING (64) readable
//   // bytes after it (see kMessagePadding).
//   const DecodeResult r = decoder.decode(frame, clock.now(), events);
//   switch (r.status) {
//     case DecodeStatus::data:    publish(std::span(events).first(r.events)); break;
//     case DecodeStatus::control: on_control(r.control); break;  // pong, sub acks
//     default: break;  // ignored / unknown_topic / malformed / overflow: counted in stats()
//   }
//
// Dispatch is by keys, never by key order (the shape differs per market, bybit-v5.md §1.3):
// control when `op` is subscribe/unsubscribe/ping/pong/auth or `type` is COMMAND_RESP or
// AUTH_RESP; a pong when `ret_msg` is "pong" or `op` is "pong"; else data keyed by `topic`:
// publicTrade.SYM, orderbook.N.SYM, tickers.SYM, kline.I.SYM. Unknown fields are ignored.
// Two paths, one result: Bybit's compact trade and order book messages are read by a strict
// single-pass recognizer (no simdjson stage 1, no string copies, decimals converted inline);
// anything it does not fully accept — other shapes, any error — is decoded again by the
// simdjson on-demand path, which alone decides errors (BybitDecoderConfig::fast_path).
// Prices and sizes are parsed exactly (as Price::parse / Qty::parse); anything that does not
// parse, a missing required field, a wrong type or broken JSON makes the whole message
// `malformed` (no event of it is valid, no state is changed) and the decoder stays usable.
//
// The request encoders at the end (subscribe, unsubscribe, ping, topic names) write into
// caller buffers and never allocate.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "kinetic/core/result.hpp"
#include "kinetic/core/types.hpp"
#include "kinetic/feed/symbol_table.hpp"

namespace kinetic::feed {

/// What a decoded message turned out to be.
enum class DecodeStatus : std::uint8_t {
  data = 0,       ///< market data: `events` MarketEvents were written to `out`
  control,        ///< a control reply (pong, subscribe ack, ...): see DecodeResult::control
  ignored,        ///< a known shape with nothing for us (e.g. a publicTrade with empty data)
  unknown_topic,  ///< a data message whose topic we do not decode (liquidation.X, orderbook.7.X)
  malformed,      ///< broken JSON, missing/mistyped field, bad decimal: see DecodeResult::error
  overflow,       ///< the message holds more events than `out`; nothing usable was written
};

/// Why a message was malformed (DecodeError::none otherwise).
enum class DecodeError : std::uint8_t {
  none = 0,
  too_large,          ///< longer than BybitDecoderConfig::max_message_bytes
  json,               ///< not valid JSON (or not an object at the root)
  missing_field,      ///< a required field is absent (topic, data, ts, u, T, p, ...)
  wrong_type,         ///< a field has the wrong JSON type (e.g. a number where a string is due)
  bad_decimal,        ///< a price/size refused by Price::parse / Qty::parse (exactness)
  bad_value,          ///< a field with an impossible value (side "Up", type "full", ts overflow)
  bad_topic,          ///< an empty topic, or a known topic with an empty symbol
  symbol_table_full,  ///< the SymbolTable is full (or the name is longer than it allows)
};

/// What kind of control reply it was.
enum class ControlKind : std::uint8_t {
  pong = 0,          ///< reply to our JSON ping (any market's shape)
  subscribed,        ///< subscribe ack with success (or COMMAND_RESP without fail topics)
  unsubscribed,      ///< unsubscribe ack with success
  subscribe_failed,  ///< subscribe with success:false, or COMMAND_RESP with failTopics / false
  other,             ///< auth replies, a failed unsubscribe, an echoed request, ...
};

/// A control reply, copied out of the message (no views into the receive buffer).
/// Trivial value type. Text longer than the arrays is cut and `truncated` set.
struct ControlReply {
  static constexpr std::size_t kMaxReqId = 63;
  static constexpr std::size_t kMaxRetMsg = 127;

  ControlKind kind;
  bool success;    ///< `success`; true when the key is absent (option/private pongs)
  bool truncated;  ///< req_id or ret_msg was longer than its array
  std::uint8_t req_id_length;
  std::uint8_t ret_msg_length;
  std::uint32_t fail_topics;  ///< COMMAND_RESP: number of `data.failTopics`; else 0
  char req_id_text[kMaxReqId + 1];
  char ret_msg_text[kMaxRetMsg + 1];

  [[nodiscard]] std::string_view req_id() const noexcept { return {req_id_text, req_id_length}; }
  [[nodiscard]] std::string_view ret_msg() const noexcept { return {ret_msg_text, ret_msg_length}; }
};

/// The outcome of BybitDecoder::decode. Trivial value type. `control` is meaningful only when
/// status == control (its text arrays are otherwise left unwritten, to keep data fast).
struct DecodeResult {
  DecodeStatus status;
  DecodeError error;     ///< why it was malformed; none otherwise
  std::uint32_t events;  ///< MarketEvents written to out[0, events); 0 unless status == data
  ControlReply control;

  [[nodiscard]] bool is_data() const noexcept { return status == DecodeStatus::data; }
};

/// Running totals. Plain value type.
struct BybitDecoderStats {
  std::uint64_t messages = 0;        ///< every decode() call
  std::uint64_t bytes = 0;           ///< their total length
  std::uint64_t data_messages = 0;   ///< status data
  std::uint64_t events = 0;          ///< MarketEvents produced
  std::uint64_t control = 0;         ///< status control
  std::uint64_t ignored = 0;         ///< status ignored
  std::uint64_t unknown_topics = 0;  ///< status unknown_topic
  std::uint64_t malformed = 0;       ///< status malformed
  std::uint64_t overflows = 0;       ///< status overflow
  std::uint64_t fast_path = 0;       ///< data messages taken by the fast path (a subset)
};

/// Capacities fixed at construction.
struct BybitDecoderConfig {
  /// Longest message accepted; the simdjson parser is allocated for exactly this and never
  /// grows (a longer message is malformed/too_large instead of an allocation). A 1000-level
  /// orderbook snapshot is ~45 KB; the default leaves a wide margin.
  std::size_t max_message_bytes = 1u << 20;
  /// Deepest JSON nesting accepted (Bybit's messages nest 4 deep).
  std::size_t max_depth = 32;
  /// Decode Bybit's compact trade and order book messages with the single-pass recognizer
  /// first (same events, ~3-5x faster); anything it does not fully accept goes to the exact
  /// simdjson path. False: the simdjson path only (tests and fuzzing compare the two).
  bool fast_path = true;
};

/// Decodes Bybit v5 public WebSocket messages into MarketEvents.
///
/// Events per message (recv_ts is the caller's on every event; exch_ts is Unix ns):
/// - publicTrade.SYM: one `trade` per element of `data`: T → exch_ts, s → symbol (interned),
///   S → taker side, p → price, v → qty, i → trade_id (its integer value when it is all
///   digits and fits 64 bits, else text_id_hash of its text), seq → sequence
///   (0 when absent).
/// - orderbook.N.SYM (N ∈ 1, 25, 50, 100, 200, 500, 1000): one `book_level` per level of `b`
///   (side buy), then of `a` (side sell), whatever their order on the wire; absolute size
///   ("0" deletes); level.update_id = u, level.sequence = seq; exch_ts = cts when present,
///   else ts; aux = N; kFlagSnapshot on every event of a snapshot. A message with no level
///   gives ONE event (side none, price 0, qty 0) so the book can still follow `u`.
/// - tickers.SYM: one `ticker` event with the merged last / bid1 / bid1 size / ask1 / ask1
///   size (a delta changes only the fields it carries; a snapshot replaces all, absent = 0;
///   spot has no bid/ask so those stay 0); exch_ts = ts.
/// - kline.I.SYM (I ∈ 1 3 5 15 30 60 120 240 360 720 D W M): one `kline` per element,
///   exch_ts = start, aux = minutes (D 1440, W 10080, M 43200), kFlagConfirmed when confirm.
/// Every data message's first event has kFlagBeginOfBatch and its last kFlagEndOfBatch.
///
/// Ownership: holds a reference to `symbols` (which must outlive it and is interned into from
/// decode()) and owns its simdjson parser and ticker table, all allocated in the constructor;
/// decode() never allocates, never throws, makes no system call. Thread-safety: none; one
/// decoder per feed thread. Not copyable; movable.
class BybitDecoder {
 public:
  /// Bytes that must be readable after every message given to decode().
  static constexpr std::size_t kMessagePadding = 64;  // == simdjson::SIMDJSON_PADDING (checked)
  /// An `out` this large holds any Bybit public message: a 1000-level snapshot (2000 levels)
  /// or a trade batch (at most 1024 trades).
  static constexpr std::size_t kRecommendedEventCapacity = 2048;

  /// Allocates the parser for config.max_message_bytes and a ticker slot per symbol of
  /// `symbols.capacity()`. Throws std::bad_alloc (start-up only).
  explicit BybitDecoder(SymbolTable& symbols, BybitDecoderConfig config = {});
  ~BybitDecoder();
  BybitDecoder(BybitDecoder&&) noexcept;
  BybitDecoder& operator=(BybitDecoder&&) noexcept;
  BybitDecoder(const BybitDecoder&) = delete;
  BybitDecoder& operator=(const BybitDecoder&) = delete;

  /// Decodes one complete message (a WebSocket text frame's payload).
  ///
  /// Precondition: message.data() + message.size() is followed by at least kMessagePadding
  /// READABLE bytes. Their content does not matter (they may hold the next frame): simdjson
  /// 3.0.1 documents "It does not matter what those bytes are initialized to, as long as they
  /// are allocated" — stage 1 copies the last partial block into its own space-filled buffer,
  /// and stage 2 stops at the structural indexes found within `size()` bytes; the tests decode
  /// every message again with adversarial padding ('"', digits, '}') and expect the same.
  ///
  /// Writes events to out[0, result.events). On any status other than data, the content of
  /// `out` is unspecified and must not be used.
  [[nodiscard]] DecodeResult decode(std::string_view message, TimestampNs recv_ts,
                                    std::span<MarketEvent> out) noexcept;

  [[nodiscard]] const BybitDecoderStats& stats() const noexcept;
  /// Forgets merged ticker state (after a reconnect the server sends fresh snapshots).
  void reset_tickers() noexcept;
  [[nodiscard]] std::size_t max_message_bytes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------
// Requests

/// Why a request could not be encoded (ok = 0 = success).
enum class EncodeError : std::uint8_t {
  ok = 0,
  buffer_too_small,    ///< `out` cannot hold the request
  bad_req_id,          ///< req_id has a character that would need JSON escaping, or is too long
  bad_topic,           ///< an empty topic or one with a character needing escaping
  no_topics,           ///< subscribe/unsubscribe with no topic
  unknown_short_form,  ///< make_topic: not trade / book.N / ticker / kline.I
  bad_symbol,          ///< make_topic: empty, too long, or not [A-Za-z0-9_-]
};

/// Writes `{"req_id":"ID","op":"subscribe","args":["T1","T2"]}` into `out` and returns its
/// length (no NUL). An empty req_id omits the key. No allocation.
[[nodiscard]] Result<std::size_t, EncodeError> encode_subscribe(
    std::span<char> out, std::string_view req_id,
    std::span<const std::string_view> topics) noexcept;
/// The same with "op":"unsubscribe".
[[nodiscard]] Result<std::size_t, EncodeError> encode_unsubscribe(
    std::span<char> out, std::string_view req_id,
    std::span<const std::string_view> topics) noexcept;
/// Writes `{"req_id":"ID","op":"ping"}` (or `{"op":"ping"}` for an empty req_id).
[[nodiscard]] Result<std::size_t, EncodeError> encode_ping(std::span<char> out,
                                                           std::string_view req_id) noexcept;

/// Makes a topic name from a short form: "trade" → publicTrade.SYM, "book.N" →
/// orderbook.N.SYM (N ∈ 1, 25, 50, 100, 200, 500, 1000), "ticker" → tickers.SYM, "kline.I" →
/// kline.I.SYM (I ∈ 1 3 5 15 30 60 120 240 360 720 D W M). Returns the length written to `out`.
[[nodiscard]] Result<std::size_t, EncodeError> make_topic(std::span<char> out,
                                                          std::string_view short_form,
                                                          std::string_view symbol) noexcept;

/// Names for logs and tests (static storage).
/// The 64-bit hash a non-numeric trade id ("a9188a0a-82bc-50de-be60-03eedbe3cdd7") becomes in
/// TradeData::trade_id: stable across versions and machines (little-endian), a word at a
/// time. Not cryptographic; ids are not adversarial.
[[nodiscard]] std::uint64_t text_id_hash(std::string_view text) noexcept;

[[nodiscard]] std::string_view to_string(DecodeStatus status) noexcept;
[[nodiscard]] std::string_view to_string(DecodeError error) noexcept;
[[nodiscard]] std::string_view to_string(ControlKind kind) noexcept;

}  // namespace kinetic::feed
