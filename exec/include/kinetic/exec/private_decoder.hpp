#pragma once
// PrivateDecoder: Bybit v5 private-stream messages (docs/bybit-v5.md §2.1–2.6) and the REST
// lists reconciliation reads (§4.4) in, the POD events of private_events.hpp out.
//
// Usage (the execution thread):
//
//   feed::SymbolTable symbols(256);
//   PrivateDecoder decoder(symbols);            // allocates here, never again
//   // `text` lies in a buffer with >= kMessagePadding readable bytes after it (the
//   // WebSocket receive buffer guarantees that); decode_unpadded() copies when it cannot.
//   const PrivateDecodeResult r = decoder.decode(text, sink);
//   if (r.status == PrivateDecodeStatus::error) ++errors;   // r.error says why
//
// Delivery: one sink call per message, never per item. A data message's items are decoded
// into the decoder's fixed-capacity array of its topic (PrivateDecoderConfig::max_items,
// allocated in the constructor) and, only when the WHOLE message decoded, handed over as one
// span: on_orders / on_executions / on_positions / on_wallets. A malformed message delivers
// nothing (no half messages reach the order manager) and is reported as an error value. The
// spans point into the decoder and are valid during the call only.
//
// Dispatch is by keys, never by key order (pybit's rule, §1.3): a control reply when `op` is
// auth/subscribe/unsubscribe/ping/pong, or `ret_msg` is "pong"; otherwise data keyed by
// `topic`: order, execution (also execution.fast), position, wallet, with or without a
// category suffix (".linear"). `data` may come before `topic`. Unknown fields are ignored.
//
// Fields (strings unless noted; any may be missing, then it stays zero/empty):
// - order: orderId (required), orderLinkId (ours → client_order_id, see order_link_id.hpp),
//   symbol (required), side, orderType, timeInForce, orderStatus (required), reduceOnly
//   (bool), price, qty, leavesQty, cumExecQty, cumExecValue, cumExecFee, avgPrice, takeProfit,
//   stopLoss, createdTime, updatedTime (ms; string or number), rejectReason, cancelType.
// - execution: execId (required), orderId, orderLinkId, symbol (required), side, execType,
//   isMaker (bool), execPrice, execQty, execValue, execFee, leavesQty, execPnl, closedSize,
//   execTime, seq (number or string).
// - position: symbol (required), side ("" = flat), positionIdx, size, entryPrice (WS) or
//   avgPrice (REST), leverage, markPrice, liqPrice, positionValue, unrealisedPnl,
//   cumRealisedPnl, takeProfit, stopLoss, updatedTime, seq.
// - wallet: totalEquity, totalAvailableBalance, and from the `coin` entry "USDT": equity,
//   walletBalance, unrealisedPnl, cumRealisedPnl, totalPositionIM, totalOrderIM (zero when
//   there is no USDT entry). Wallet amounts are USD valuations, not order prices: digits past
//   the 8th decimal are cut (toward zero) instead of refusing the message.
// Decimals are exact (Price/Qty/Amount::parse); "" is zero (avgPrice "", takeProfit "", a
// flat position's liqPrice ""). Enumerations never fail a message: an unknown orderStatus is
// ExchangeOrderStatus::unknown, an unknown execType ExecType::other (Delivery → settle), an
// unknown side Side::none, an unknown orderType OrderType::limit, timeInForce RPI →
// post_only and any other unknown → gtc. Items of another category than "linear" (spot,
// inverse, option: the all-in-one topics carry them) are skipped and counted; an item
// without a category is kept. Text ids longer than 40 bytes are malformed; reason texts
// longer than 32 are cut.
//
// Ownership: refers to `symbols` (must outlive it; interned into from decode) and owns its
// simdjson parser, a padded copy buffer and the item arrays, all allocated in the
// constructor. decode*() never allocate, throw, or make a system call. Thread-safety: none;
// one decoder per thread. Movable, not copyable.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "kinetic/exec/private_events.hpp"
#include "kinetic/feed/symbol_table.hpp"

namespace kinetic::exec {

/// Which kind of message it was.
enum class PrivateDecodeStatus : std::uint8_t {
  data = 0,       ///< items were delivered to the sink (one span)
  control,        ///< a control reply was delivered (on_control)
  ignored,        ///< a data message with no item for us (empty, or only other categories)
  unknown_topic,  ///< a data message on a topic we do not decode (greeks, dcp, ...)
  error,          ///< malformed or too many items: nothing delivered; see `error`
};

/// Why a message was refused (none otherwise).
enum class PrivateDecodeError : std::uint8_t {
  none = 0,
  too_large,          ///< longer than PrivateDecoderConfig::max_message_bytes
  json,               ///< not valid JSON, or not an object at the root
  missing_field,      ///< topic/data of a data message, or a required item field
  wrong_type,         ///< a field of the wrong JSON type (e.g. a number for a price)
  bad_decimal,        ///< a price or size Price/Qty/Amount::parse refuses
  bad_value,          ///< an impossible value (an id longer than 40, a negative seq, ...)
  symbol_table_full,  ///< the SymbolTable is full, or the symbol is empty or too long
  overflow,           ///< more items than PrivateDecoderConfig::max_items
};

/// The topics of the private stream.
enum class PrivateTopic : std::uint8_t { none = 0, order, execution, position, wallet };

/// Control replies of the private stream (§2.1, §1.3).
enum class PrivateControlKind : std::uint8_t {
  auth_ok = 0,         ///< op auth, success true
  auth_failed,         ///< op auth, success false (ret_msg says why: "Params Error", ...)
  subscribed,          ///< op subscribe, success true
  subscribe_failed,    ///< op subscribe, success false
  unsubscribed,        ///< op unsubscribe, success true
  unsubscribe_failed,  ///< op unsubscribe, success false
  pong,                ///< op pong (with args), or ret_msg "pong"
  other,               ///< any other op (an error reply to a bad request, ...)
};

/// A control reply, copied out of the message. Trivial value type.
struct PrivateControl {
  PrivateControlKind kind = PrivateControlKind::other;
  bool success = false;      ///< `success`, or retCode == 0 (trade-stream shape)
  bool truncated = false;    ///< req_id or ret_msg was cut to fit
  std::int64_t pong_ms = 0;  ///< a pong's args[0] (server time, ms) when it has one; else 0
  FixedText<64> req_id;
  FixedText<128> ret_msg;  ///< ret_msg (or retMsg)
};

/// Receives decoded messages. Every method is called on the decoding thread, at most once
/// per message; spans are valid during the call only. Defaults do nothing.
class PrivateSink {
 public:
  virtual ~PrivateSink() = default;
  virtual void on_orders(std::span<const OrderUpdate> /*orders*/) {}
  virtual void on_executions(std::span<const ExecutionReport> /*executions*/) {}
  virtual void on_positions(std::span<const PositionUpdate> /*positions*/) {}
  virtual void on_wallets(std::span<const WalletUpdate> /*wallets*/) {}
  virtual void on_control(const PrivateControl& /*control*/) {}
};

/// Outcome of decode(). Trivial value type.
struct PrivateDecodeResult {
  PrivateDecodeStatus status = PrivateDecodeStatus::error;
  PrivateDecodeError error = PrivateDecodeError::none;
  PrivateTopic topic = PrivateTopic::none;  ///< for data / ignored
  std::uint32_t items = 0;                  ///< items delivered
  std::uint32_t skipped = 0;                ///< items of other categories, skipped
};

/// The REST lists reconciliation reads; each has the same items as a private topic.
enum class RestList : std::uint8_t {
  orders = 0,  ///< GET /v5/order/realtime → OrderUpdate
  executions,  ///< GET /v5/execution/list → ExecutionReport
  positions,   ///< GET /v5/position/list → PositionUpdate (avgPrice)
  wallets,     ///< GET /v5/account/wallet-balance → WalletUpdate
};

/// Outcome of decode_rest(). Trivial value type.
struct RestListResult {
  PrivateDecodeError error = PrivateDecodeError::none;  ///< none: the body was understood
  std::int64_t ret_code = 0;  ///< Bybit's retCode; items are delivered only when 0
  std::uint32_t items = 0;
  std::uint32_t skipped = 0;
  FixedText<128> ret_msg;           ///< cut to fit
  FixedText<255> next_page_cursor;  ///< "" on the last page; empty too when longer than 255
  [[nodiscard]] bool ok() const noexcept {
    return error == PrivateDecodeError::none && ret_code == 0;
  }
};

/// Running totals. Plain value type.
struct PrivateDecoderStats {
  std::uint64_t messages = 0;
  std::uint64_t data_messages = 0;
  std::uint64_t items = 0;
  std::uint64_t skipped_items = 0;
  std::uint64_t control = 0;
  std::uint64_t ignored = 0;
  std::uint64_t unknown_topics = 0;
  std::uint64_t errors = 0;
};

/// Capacities fixed at construction.
struct PrivateDecoderConfig {
  /// Longest message accepted (the parser and the copy buffer are sized for it; a longer
  /// message is an error, never an allocation). REST pages of 200 positions are ~250 KB.
  std::size_t max_message_bytes = 1U << 20;
  /// Most items of one message or REST page (Bybit's REST pages hold at most 200).
  std::size_t max_items = 256;
  std::size_t max_depth = 32;
};

/// Decodes private-stream messages and REST lists (see the file comment).
class PrivateDecoder {
 public:
  /// Bytes that must be readable after every message given to decode().
  static constexpr std::size_t kMessagePadding = 64;  // == simdjson::SIMDJSON_PADDING (checked)

  /// Allocates everything (start-up; throws std::bad_alloc, or std::invalid_argument for a
  /// zero capacity).
  explicit PrivateDecoder(feed::SymbolTable& symbols, PrivateDecoderConfig config = {});
  ~PrivateDecoder();
  PrivateDecoder(PrivateDecoder&&) noexcept;
  PrivateDecoder& operator=(PrivateDecoder&&) noexcept;
  PrivateDecoder(const PrivateDecoder&) = delete;
  PrivateDecoder& operator=(const PrivateDecoder&) = delete;

  /// Decodes one WebSocket text message. Precondition: kMessagePadding readable bytes follow
  /// message (their content does not matter).
  [[nodiscard]] PrivateDecodeResult decode(std::string_view message, PrivateSink& sink) noexcept;
  /// The same for a message without padding: it is copied into the decoder's buffer first.
  [[nodiscard]] PrivateDecodeResult decode_unpadded(std::string_view message,
                                                    PrivateSink& sink) noexcept;
  /// Decodes a REST response body ({"retCode","retMsg","result":{"list":[…],
  /// "nextPageCursor"},…}) of `list` (copied first: no padding needed). When retCode is 0
  /// the page's items go to the sink as one span (also when empty: an empty span says
  /// "none", which reconciliation needs to know).
  [[nodiscard]] RestListResult decode_rest(RestList list, std::string_view body,
                                           PrivateSink& sink) noexcept;

  [[nodiscard]] const PrivateDecoderStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

[[nodiscard]] std::string_view to_string(PrivateDecodeStatus status) noexcept;
[[nodiscard]] std::string_view to_string(PrivateDecodeError error) noexcept;
[[nodiscard]] std::string_view to_string(PrivateControlKind kind) noexcept;

}  // namespace kinetic::exec
