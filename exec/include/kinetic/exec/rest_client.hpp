#pragma once
// RestClient: Bybit v5 REST over the feed's transport (feed::Stream: plain TCP for http://,
// TLS for https://), HTTP/1.1 keep-alive with reconnection when the server closes.
//
// Per request: the signature (HmacSha256 over timestamp + key + recvWindow + the exact query
// string or body sent, docs/bybit-v5.md §4.2), the request written into a preallocated
// buffer, the response parsed in place (HttpResponseParser) and its envelope's retCode and
// retMsg read with simdjson on-demand (one parser, sized at construction). After connect()
// nothing on the request path allocates (counted in tests/exec/rest_client_test.cpp);
// reconnecting and the TLS handshake may.
//
// Policy:
// - Clock: the timestamp sent is the local CLOCK_REALTIME plus the offset measured by
//   sync_time() (GET /v5/market/time; offset = server − midpoint of the request). A 10002
//   reply triggers one resync and one retry.
// - Local token buckets per endpoint mirror Bybit's per-UID limits (§4.6) and follow the
//   X-Bapi-Limit / -Status / -Reset-Timestamp headers; a request that would exceed its bucket
//   is not sent: it returns RestError::rate_limited_locally with the time it may go.
// - Retries with exponential backoff for transient failures only: the connection lost before
//   a reply, a timeout, HTTP 5xx, retCode 10000 / 10016, and 10006 (after waiting until
//   X-Bapi-Limit-Reset-Timestamp). Never for a rejection (any other non-zero retCode). A
//   retried POST sends the same body, so an order create keeps its orderLinkId; if the answer
//   to a retry is 110072 (duplicate orderLinkId) after an attempt that may have reached the
//   exchange, the order exists: RestError::already_sent, not a rejection.
//
// This first version blocks: each call waits for its reply (and sleeps through backoffs). The
// engine calls it from its execution thread; a non-blocking, pipelined version would split
// send and poll.
//
// Ownership: owns its connection, buffers, signer and JSON parser. The TlsContext in the
// options is borrowed and must outlive the client. Views in a RestResponse point into the
// client's buffers and stay valid until the next request. Thread-safety: none; one thread
// drives a client. Not copyable or movable.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kinetic/exec/http_response.hpp"
#include "kinetic/feed/tcp_socket.hpp"

namespace kinetic::feed {
class TlsContext;
}

namespace kinetic::exec {

/// Outcome of a request, as a value.
enum class RestError : std::uint8_t {
  ok = 0,
  rejected,              ///< the exchange answered with a non-zero retCode (see ret_code)
  already_sent,          ///< 110072 after a retry: an earlier attempt created the order
  rate_limited_locally,  ///< not sent: the endpoint's bucket is empty (see retry_at_ms)
  rate_limited,          ///< 10006 still after every retry (or the reset is too far away)
  http_error,            ///< non-2xx status without a usable Bybit envelope, after retries
  connect_failed,        ///< could not (re)connect
  connection_lost,       ///< closed or reset before a whole reply, after retries
  timeout,               ///< no whole reply within request_timeout_ms, after retries
  bad_response,          ///< unparseable HTTP or JSON envelope
  request_too_large,     ///< the request does not fit the request buffer
  response_too_large,    ///< the response does not fit the response buffer
  clock_sync_failed,     ///< /v5/market/time gave no usable time
  no_credentials,        ///< a signed request on a client without key and secret
  sign_failed,           ///< OpenSSL failed to sign
};

[[nodiscard]] const char* to_string(RestError error) noexcept;

/// The rate-limit headers of a reply; -1 where absent.
struct RateLimitHeaders {
  std::int64_t limit = -1;      ///< X-Bapi-Limit
  std::int64_t remaining = -1;  ///< X-Bapi-Limit-Status
  std::int64_t reset_ms = -1;   ///< X-Bapi-Limit-Reset-Timestamp (server clock, ms)
};

/// The result of one call. Views point into the client and live until its next request.
struct [[nodiscard]] RestResponse {
  RestError error = RestError::ok;
  int http_status = 0;         ///< 0 when no reply was read
  std::int64_t ret_code = -1;  ///< -1 when there was no envelope
  std::string_view ret_msg;    ///< unescaped retMsg
  std::string_view body;       ///< the whole JSON body as received (de-chunked)
  RateLimitHeaders limits;
  int attempts = 0;  ///< requests sent (0 for rate_limited_locally)
  /// rate_limited_locally: when it may go, in ms of the buckets' clock (CLOCK_MONOTONIC, or
  /// options.bucket_clock_ns).
  std::int64_t retry_at_ms = 0;

  [[nodiscard]] bool ok() const noexcept { return error == RestError::ok; }
};

/// Settings; the strings are used at construction only.
struct RestClientOptions {
  std::string base_url;  ///< "https://api.bybit.com", "http://127.0.0.1:PORT"
  std::string api_key;   ///< empty: public requests only
  std::string api_secret;
  int recv_window_ms = 5000;
  int connect_timeout_ms = 5000;
  int request_timeout_ms = 5000;          ///< per attempt: from sending to the whole reply
  int max_retries = 3;                    ///< transient failures retried at most this often
  int backoff_initial_ms = 20;            ///< doubled after each retry ...
  int backoff_max_ms = 1000;              ///< ... up to this
  int max_rate_limit_wait_ms = 2000;      ///< a 10006 whose reset is further away is returned
  const feed::TlsContext* tls = nullptr;  ///< required for https; borrowed
  feed::TcpBackend backend = feed::TcpBackend::automatic;
  std::size_t request_buffer_size = 16 * 1024;
  std::size_t response_buffer_size = 1024 * 1024;
  /// Local token buckets (per endpoint, §4.6). Off: only the server's limits apply.
  bool local_rate_limits = true;
  /// The buckets' clock (CLOCK_MONOTONIC ns by default); tests freeze it.
  std::int64_t (*bucket_clock_ns)() noexcept = nullptr;
};

/// A token bucket: `capacity` tokens, refilled continuously at `capacity` per second.
/// Value type; no clock of its own (the caller passes now). Not thread-safe.
class TokenBucket {
 public:
  TokenBucket() noexcept = default;
  explicit TokenBucket(std::int64_t per_second) noexcept { set_limit(per_second, 0); }

  void set_limit(std::int64_t per_second, std::int64_t now_ns) noexcept;
  /// Takes one token at `now_ns`; returns 0 on success, else the ns from now_ns until one is
  /// available.
  [[nodiscard]] std::int64_t try_take(std::int64_t now_ns) noexcept;
  /// The server's view: `remaining` requests left until `blocked_until_ns` (local clock) when
  /// none remain.
  void follow_server(std::int64_t limit, std::int64_t remaining, std::int64_t blocked_until_ns,
                     std::int64_t now_ns) noexcept;
  [[nodiscard]] std::int64_t per_second() const noexcept { return per_second_; }
  /// Whole tokens available at `now_ns` (after refill).
  [[nodiscard]] std::int64_t available(std::int64_t now_ns) noexcept;

 private:
  void refill(std::int64_t now_ns) noexcept;

  static constexpr std::int64_t kScale = 1'000'000'000;  // token units per token
  std::int64_t per_second_ = 0;                          // 0: unlimited
  std::int64_t units_ = 0;                               // tokens × kScale
  std::int64_t last_ns_ = 0;
  std::int64_t blocked_until_ns_ = 0;
};

/// Endpoints with a per-UID limit (§4.6); other paths have no local bucket.
enum class RestEndpoint : std::uint8_t {
  order_create,
  order_amend,
  order_cancel,
  order_cancel_all,
  order_realtime,
  order_history,
  execution_list,
  position_list,
  position_set_leverage,
  wallet_balance,
  fee_rate,
  count,
  none = count,
};

/// The endpoint of a path ("/v5/order/create" → order_create); none if unlimited/unknown.
[[nodiscard]] RestEndpoint endpoint_of(std::string_view path) noexcept;
/// Bybit's default per-second limit (linear, UTA 2.0 Pro).
[[nodiscard]] std::int64_t default_limit_per_second(RestEndpoint endpoint) noexcept;

class RestClient {
 public:
  /// Start-up: parses the URL and allocates every buffer. Throws std::invalid_argument (bad
  /// URL, https without a TlsContext) or std::runtime_error (OpenSSL). Does not connect.
  explicit RestClient(const RestClientOptions& options);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  /// Connects now (a request connects on demand otherwise). Blocking; may allocate.
  [[nodiscard]] RestError connect() noexcept;
  void close() noexcept;
  [[nodiscard]] bool connected() const noexcept;

  /// GET /v5/market/time: sets clock_offset_ms() and round_trip_ns().
  [[nodiscard]] RestResponse sync_time() noexcept;
  /// Public GET of `path` with `query` (without '?'; may be empty).
  [[nodiscard]] RestResponse get_public(std::string_view path, std::string_view query) noexcept;
  /// Signed GET: `query` is sent and signed byte for byte.
  [[nodiscard]] RestResponse get_signed(std::string_view path, std::string_view query) noexcept;
  /// Signed POST: `body` (JSON) is sent and signed byte for byte, the same on every retry.
  [[nodiscard]] RestResponse post_signed(std::string_view path, std::string_view body) noexcept;

  /// Server time minus local time, ms (0 before the first sync).
  [[nodiscard]] std::int64_t clock_offset_ms() const noexcept { return offset_ns_ / 1'000'000; }
  [[nodiscard]] std::int64_t clock_offset_ns() const noexcept { return offset_ns_; }
  /// Round trip of the last time sync, ns.
  [[nodiscard]] std::int64_t round_trip_ns() const noexcept { return round_trip_ns_; }
  [[nodiscard]] bool clock_synced() const noexcept { return synced_; }
  /// The timestamp a request sent now would carry: local realtime ms + offset.
  [[nodiscard]] std::int64_t server_now_ms() const noexcept;

  // Counters, for tests and monitoring. connects(): connection attempts, the first included.
  [[nodiscard]] std::uint64_t connects() const noexcept { return connects_; }
  [[nodiscard]] std::uint64_t requests_sent() const noexcept { return requests_sent_; }
  [[nodiscard]] std::uint64_t time_syncs() const noexcept { return time_syncs_; }
  [[nodiscard]] std::uint64_t retries() const noexcept { return retries_; }
  /// The local bucket of an endpoint (none: nullptr).
  [[nodiscard]] TokenBucket* bucket(RestEndpoint endpoint) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::int64_t offset_ns_ = 0;
  std::int64_t round_trip_ns_ = 0;
  bool synced_ = false;
  std::uint64_t connects_ = 0;
  std::uint64_t requests_sent_ = 0;
  std::uint64_t time_syncs_ = 0;
  std::uint64_t retries_ = 0;

  enum class Method : std::uint8_t { get, post };
  RestResponse execute(Method method, bool is_signed, std::string_view path,
                       std::string_view payload) noexcept;
  friend struct RestClientAccess;
};

}  // namespace kinetic::exec
