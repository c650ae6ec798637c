#pragma once
// Order encoding: an OrderIntent becomes the exact bytes Bybit v5 wants (docs/bybit-v5.md §3,
// §4.2, §4.4), with no allocation, into a buffer the caller preallocated:
//   * the JSON body of POST /v5/order/create, /v5/order/cancel and /v5/order/cancel-all;
//   * the whole signed HTTP/1.1 request (request line, Host, X-BAPI-* headers, Content-Type,
//     Content-Length, blank line, body), ready to hand to TLS;
//   * the trade WebSocket request {"reqId":…,"header":{…},"op":"order.create","args":[body]}.
// Prices and quantities are written from fixed point by Decimal::format (shortest exact
// text), never through floating point. Errors are EncodeError values, never exceptions.
//
// Body of order.create, keys always in this order (absent keys skipped):
//   category, symbol, side, orderType, qty, price (Limit only), timeInForce (Limit only:
//   Bybit runs every Market order as IOC), orderLinkId, reduceOnly (only when true),
//   takeProfit, stopLoss (only when non-zero), positionIdx (unless configured off).
//
// OrderIdGenerator hands out client_order_ids that never repeat across restarts:
// (boot number << 40) | counter, the boot number persisted before the first order of a run.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kinetic/core/result.hpp"
#include "kinetic/core/types.hpp"
#include "kinetic/exec/hmac_signer.hpp"
#include "kinetic/feed/symbol_table.hpp"

namespace kinetic::exec {

enum class EncodeError : std::uint8_t {
  ok = 0,
  unknown_symbol,           ///< the SymbolId has no name in the SymbolTable
  buffer_too_small,         ///< the output span cannot hold the bytes
  zero_qty,                 ///< qty is 0
  negative_qty,             ///< qty is below 0
  invalid_side,             ///< side is neither buy nor sell
  invalid_order_type,       ///< type is neither market nor limit
  invalid_time_in_force,    ///< a limit order's tif is not one of the four
  invalid_price,            ///< limit price <= 0, or a negative take-profit / stop-loss
  missing_client_order_id,  ///< client_order_id 0 (OrderIdGenerator never issues it)
  invalid_order_link_id,    ///< an explicit orderLinkId longer than 36 or not [A-Za-z0-9_-]
  invalid_req_id,           ///< a reqId longer than 36 or not [A-Za-z0-9_.:-]
  invalid_argument,         ///< a negative timestamp, or a path/op with unsafe characters
};

/// Name of an EncodeError, for logs and tools (static storage).
[[nodiscard]] std::string_view to_string(EncodeError error) noexcept;

inline constexpr std::string_view kOrderCreatePath = "/v5/order/create";
inline constexpr std::string_view kOrderCancelPath = "/v5/order/cancel";
inline constexpr std::string_view kOrderCancelAllPath = "/v5/order/cancel-all";
inline constexpr std::string_view kWsOrderCreate = "order.create";
inline constexpr std::string_view kWsOrderCancel = "order.cancel";

/// Start-up settings of an OrderEncoder.
struct OrderEncoderConfig {
  std::string api_key;                          ///< X-BAPI-API-KEY
  std::string host = "api.bybit.com";           ///< Host header (add ":port" when not 443/80)
  std::uint32_t recv_window_ms = 5000;          ///< X-BAPI-RECV-WINDOW
  std::string category = "linear";              ///< "category" of every body
  std::string settle_coin = "USDT";             ///< cancel-all without a symbol
  std::optional<std::uint8_t> position_idx{0};  ///< 0 one-way; nullopt leaves the key out
};

/// Encodes and signs orders. Built at start-up (the only place it allocates: the config's
/// strings and the precomputed header fragments). Keeps a reference to `symbols`, which must
/// outlive it; owns its HmacSha256. Every encode method is const, allocation-free and
/// touches only the caller's buffers and its own stack, so one encoder may be shared by
/// threads that only encode (and `symbols` is only read: the SymbolTable's rules apply).
/// The returned string_views point into the caller's `out`.
class OrderEncoder {
 public:
  /// Longest body these methods write (and the stack scratch the one-call forms use).
  static constexpr std::size_t kMaxBodyLength = 512;
  /// A buffer this size always holds a whole request for a config with key and host under
  /// 100 bytes each.
  static constexpr std::size_t kRecommendedBufferLength = 1024;

  /// Start-up: throws std::invalid_argument when the key, host, category or settle coin is
  /// empty or holds characters that would break a header or the JSON.
  OrderEncoder(const feed::SymbolTable& symbols, OrderEncoderConfig config, HmacSha256 signer);

  using Bytes = Result<std::string_view, EncodeError>;

  // ---- JSON bodies ----
  /// order.create body with orderLinkId = format_order_link_id(intent.client_order_id).
  [[nodiscard]] Bytes create_body(const OrderIntent& intent, std::span<char> out) const noexcept;
  /// Same with an explicit orderLinkId (the operator's --link-id); empty leaves the key out.
  [[nodiscard]] Bytes create_body(const OrderIntent& intent, std::string_view order_link_id,
                                  std::span<char> out) const noexcept;
  /// {"category":…,"symbol":…,"orderLinkId":"kn-…"}
  [[nodiscard]] Bytes cancel_body(SymbolId symbol, std::uint64_t client_order_id,
                                  std::span<char> out) const noexcept;
  /// {"category":…,"settleCoin":…}: every order of the category (kill switch).
  [[nodiscard]] Bytes cancel_all_body(std::span<char> out) const noexcept;
  /// {"category":…,"symbol":…}: every order of one symbol.
  [[nodiscard]] Bytes cancel_all_body(SymbolId symbol, std::span<char> out) const noexcept;

  // ---- framing ----
  /// The signed HTTP/1.1 POST of `body` to `path`, timestamped `timestamp_ms` (server-synced
  /// Unix ms). `body` must not overlap `out`.
  [[nodiscard]] Bytes http_post(std::string_view path, std::string_view body,
                                std::int64_t timestamp_ms, std::span<char> out) const noexcept;
  /// The trade WebSocket request for `op` with `body` as its one argument. An empty `req_id`
  /// leaves "reqId" out (the reply then carries none). `body` must not overlap `out`.
  [[nodiscard]] Bytes ws_request(std::string_view op, std::string_view req_id,
                                 std::string_view body, std::int64_t timestamp_ms,
                                 std::span<char> out) const noexcept;
  /// {"op":"auth","args":[key,expires_ms,signature]} for the private and trade streams.
  [[nodiscard]] Bytes ws_auth(std::int64_t expires_ms, std::span<char> out) const noexcept;

  // ---- one call from intent to wire bytes ----
  [[nodiscard]] Bytes create_http(const OrderIntent& intent, std::int64_t timestamp_ms,
                                  std::span<char> out) const noexcept;
  [[nodiscard]] Bytes create_ws(const OrderIntent& intent, std::string_view req_id,
                                std::int64_t timestamp_ms, std::span<char> out) const noexcept;
  [[nodiscard]] Bytes cancel_http(SymbolId symbol, std::uint64_t client_order_id,
                                  std::int64_t timestamp_ms, std::span<char> out) const noexcept;
  [[nodiscard]] Bytes cancel_ws(SymbolId symbol, std::uint64_t client_order_id,
                                std::string_view req_id, std::int64_t timestamp_ms,
                                std::span<char> out) const noexcept;
  [[nodiscard]] Bytes cancel_all_http(std::int64_t timestamp_ms,
                                      std::span<char> out) const noexcept;
  [[nodiscard]] Bytes cancel_all_http(SymbolId symbol, std::int64_t timestamp_ms,
                                      std::span<char> out) const noexcept;

  [[nodiscard]] const OrderEncoderConfig& config() const noexcept { return config_; }
  [[nodiscard]] const HmacSha256& signer() const noexcept { return signer_; }

 private:
  const feed::SymbolTable* symbols_;
  OrderEncoderConfig config_;
  HmacSha256 signer_;
  std::string recv_window_text_;  ///< "5000"
  std::string body_prefix_;       ///< {"category":"linear",
  std::string
      http_after_path_;  ///< " HTTP/1.1\r\nHost: …\r\nX-BAPI-API-KEY: …\r\nX-BAPI-TIMESTAMP: "
  std::string
      http_after_sign_;  ///< "\r\nX-BAPI-RECV-WINDOW: …\r\nContent-Type: …\r\nContent-Length: "
  std::string ws_after_timestamp_;  ///< "\",\"X-BAPI-RECV-WINDOW\":\"5000\"},\"op\":\""
};

/// Issues client_order_ids (boot number << 40) | counter, counter from 1. The constructor
/// reads the boot number from `state_file` (absent: 0), adds one and writes it back durably
/// (temporary file, fsync, rename, fsync of the directory) before any id is issued, so a
/// restarted engine never reissues an id even if it crashed a moment after starting.
/// Ownership: plain value, no resources kept after construction. Thread-safety: next()
/// mutates; one owner thread.
class OrderIdGenerator {
 public:
  static constexpr unsigned kCounterBits = 40;
  static constexpr std::uint32_t kMaxBootNumber = (1u << 24) - 1;

  /// Start-up: throws std::runtime_error when the file cannot be read or written, holds
  /// anything but a decimal boot number, or the boot numbers are used up. Fails closed: a
  /// corrupt file stops the engine rather than risk reusing ids.
  explicit OrderIdGenerator(const std::string& state_file);

  /// The next id; 0 once 2^40 - 1 ids were issued in this run (the encoder rejects 0).
  [[nodiscard]] std::uint64_t next() noexcept {
    if (counter_ >= kCounterMask)
      return 0;
    return base_ | ++counter_;
  }
  [[nodiscard]] std::uint32_t boot_number() const noexcept {
    return static_cast<std::uint32_t>(base_ >> kCounterBits);
  }
  /// The boot number of an id this scheme issued.
  [[nodiscard]] static constexpr std::uint32_t boot_number_of(std::uint64_t id) noexcept {
    return static_cast<std::uint32_t>(id >> kCounterBits);
  }

 private:
  static constexpr std::uint64_t kCounterMask = (std::uint64_t{1} << kCounterBits) - 1;
  std::uint64_t base_ = 0;
  std::uint64_t counter_ = 0;
};

}  // namespace kinetic::exec
