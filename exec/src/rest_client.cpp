// Bybit v5 REST client (see rest_client.hpp).

#include "kinetic/exec/rest_client.hpp"

#include <simdjson.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>

#include "kinetic/exec/hmac_signer.hpp"
#include "kinetic/feed/tls_session.hpp"

namespace kinetic::exec {
namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;

std::int64_t realtime_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * kNsPerSecond + now.tv_nsec;
}

std::int64_t monotonic_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * kNsPerSecond + now.tv_nsec;
}

// Backoff and rate-limit waits of this blocking version (never on the success path).
void sleep_ns(std::int64_t ns) noexcept {
  if (ns <= 0)
    return;
  timespec duration{static_cast<time_t>(ns / kNsPerSecond), static_cast<long>(ns % kNsPerSecond)};
  while (nanosleep(&duration, &duration) != 0) {
  }
}

/// Appends text into a fixed buffer; remembers an overflow instead of failing at each call.
class FixedWriter {
 public:
  FixedWriter(char* data, std::size_t capacity) noexcept : data_(data), capacity_(capacity) {}
  FixedWriter& operator<<(std::string_view text) noexcept {
    if (text.size() > capacity_ - size_) {
      overflow_ = true;
      return *this;
    }
    std::memcpy(data_ + size_, text.data(), text.size());
    size_ += text.size();
    return *this;
  }
  FixedWriter& operator<<(std::int64_t value) noexcept {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    return *this << std::string_view(digits, static_cast<std::size_t>(result.ptr - digits));
  }
  [[nodiscard]] bool overflow() const noexcept { return overflow_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  char* data_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  bool overflow_ = false;
};

bool is_transport_loss(RestError error) noexcept {
  return error == RestError::connection_lost || error == RestError::timeout;
}

// A decimal integer, whole string; nullopt otherwise.
std::optional<std::int64_t> parse_int(std::string_view text) noexcept {
  std::int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc{} || result.ptr != text.data() + text.size())
    return std::nullopt;
  return value;
}

struct EndpointLimit {
  std::string_view path;
  RestEndpoint endpoint;
  std::int64_t per_second;
};

// docs/bybit-v5.md §4.6 (inverse + linear column).
constexpr std::array<EndpointLimit, static_cast<std::size_t>(RestEndpoint::count)> kLimits = {{
    {"/v5/order/create", RestEndpoint::order_create, 10},
    {"/v5/order/amend", RestEndpoint::order_amend, 10},
    {"/v5/order/cancel", RestEndpoint::order_cancel, 10},
    {"/v5/order/cancel-all", RestEndpoint::order_cancel_all, 10},
    {"/v5/order/realtime", RestEndpoint::order_realtime, 50},
    {"/v5/order/history", RestEndpoint::order_history, 50},
    {"/v5/execution/list", RestEndpoint::execution_list, 50},
    {"/v5/position/list", RestEndpoint::position_list, 50},
    {"/v5/position/set-leverage", RestEndpoint::position_set_leverage, 10},
    {"/v5/account/wallet-balance", RestEndpoint::wallet_balance, 50},
    {"/v5/account/fee-rate", RestEndpoint::fee_rate, 5},
}};

}  // namespace

const char* to_string(RestError error) noexcept {
  switch (error) {
    case RestError::ok:
      return "ok";
    case RestError::rejected:
      return "rejected by the exchange";
    case RestError::already_sent:
      return "already sent (duplicate orderLinkId after a retry: the order exists)";
    case RestError::rate_limited_locally:
      return "rate limited locally (not sent)";
    case RestError::rate_limited:
      return "rate limited by the exchange (10006)";
    case RestError::http_error:
      return "HTTP error";
    case RestError::connect_failed:
      return "connect failed";
    case RestError::connection_lost:
      return "connection lost before a reply";
    case RestError::timeout:
      return "timed out waiting for a reply";
    case RestError::bad_response:
      return "malformed response";
    case RestError::request_too_large:
      return "request too large for the request buffer";
    case RestError::response_too_large:
      return "response too large for the response buffer";
    case RestError::clock_sync_failed:
      return "server time sync failed";
    case RestError::no_credentials:
      return "no API key and secret";
    case RestError::sign_failed:
      return "signing failed";
  }
  return "unknown";
}

RestEndpoint endpoint_of(std::string_view path) noexcept {
  for (const EndpointLimit& entry : kLimits) {
    if (entry.path == path)
      return entry.endpoint;
  }
  return RestEndpoint::none;
}

std::int64_t default_limit_per_second(RestEndpoint endpoint) noexcept {
  for (const EndpointLimit& entry : kLimits) {
    if (entry.endpoint == endpoint)
      return entry.per_second;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// TokenBucket

void TokenBucket::set_limit(std::int64_t per_second, std::int64_t now_ns) noexcept {
  per_second_ = per_second < 0 ? 0 : per_second;
  units_ = per_second_ * kScale;
  last_ns_ = now_ns;
  blocked_until_ns_ = 0;
}

void TokenBucket::refill(std::int64_t now_ns) noexcept {
  if (now_ns <= last_ns_)
    return;
  // per_second_ tokens per kScale ns: units gained = elapsed × per_second (units = tokens×1e9).
  const std::int64_t capacity = per_second_ * kScale;
  const std::int64_t elapsed = now_ns - last_ns_;
  // Saturate: a long idle time refills completely (and avoids overflow).
  if (elapsed >= kScale)
    units_ = capacity;
  else
    units_ = std::min(capacity, units_ + elapsed * per_second_);
  last_ns_ = now_ns;
}

std::int64_t TokenBucket::available(std::int64_t now_ns) noexcept {
  if (per_second_ == 0)
    return INT64_MAX;
  refill(now_ns);
  return units_ / kScale;
}

std::int64_t TokenBucket::try_take(std::int64_t now_ns) noexcept {
  if (per_second_ == 0)
    return 0;
  refill(now_ns);
  // Time until the missing units have dripped in (rounded up), and until the server's reset.
  const std::int64_t refill_wait =
      units_ >= kScale ? 0 : (kScale - units_ + per_second_ - 1) / per_second_;
  const std::int64_t reset_wait = blocked_until_ns_ > now_ns ? blocked_until_ns_ - now_ns : 0;
  const std::int64_t wait = std::max(refill_wait, reset_wait);
  if (wait == 0)
    units_ -= kScale;
  return wait;
}

void TokenBucket::follow_server(std::int64_t limit, std::int64_t remaining,
                                std::int64_t blocked_until_ns, std::int64_t now_ns) noexcept {
  if (limit > 0 && limit != per_second_) {
    per_second_ = limit;
    last_ns_ = now_ns;
    units_ = std::min(units_, per_second_ * kScale);
  }
  if (per_second_ == 0 || remaining < 0)
    return;
  refill(now_ns);
  units_ = std::min(units_, remaining * kScale);
  if (remaining == 0 && blocked_until_ns > now_ns)
    blocked_until_ns_ = blocked_until_ns;
}

// ---------------------------------------------------------------------------------------------
// RestClient

struct RestClient::Impl {
  RestClientOptions options;
  feed::Url url;
  std::string path_prefix;  // the base URL's path without its trailing '/'
  std::string host_header;  // "Host: host[:port]\r\n"
  std::string recv_window_text;
  feed::StreamOptions stream_options;
  feed::Stream stream;
  std::optional<HmacSha256> signer;

  std::unique_ptr<char[]> request;
  std::size_t request_capacity = 0;
  std::unique_ptr<char[]> response;  // response_capacity + simdjson padding
  std::size_t response_capacity = 0;
  std::size_t response_size = 0;
  HttpResponseParser http;
  simdjson::ondemand::parser json;

  std::array<TokenBucket, static_cast<std::size_t>(RestEndpoint::count)> buckets;

  // The last attempt's local realtime before sending and after the reply (time sync).
  std::int64_t sent_realtime_ns = 0;
  std::int64_t replied_realtime_ns = 0;
  std::int64_t server_time_ns = 0;  // from the last envelope's result.timeNano / time

  std::int64_t bucket_now() const noexcept {
    return options.bucket_clock_ns != nullptr ? options.bucket_clock_ns() : monotonic_ns();
  }
};

RestClient::RestClient(const RestClientOptions& options) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.options = options;
  auto url = feed::parse_url(options.base_url);
  if (!url || (url.value().scheme != "http" && url.value().scheme != "https"))
    throw std::invalid_argument("RestClient: bad base URL '" + options.base_url + "'");
  s.url = url.value();
  if (s.url.tls && options.tls == nullptr)
    throw std::invalid_argument("RestClient: https needs a TlsContext");
  s.path_prefix = s.url.target;
  while (!s.path_prefix.empty() && s.path_prefix.back() == '/')
    s.path_prefix.pop_back();
  const bool default_port = s.url.port == (s.url.tls ? 443 : 80);
  s.host_header = "Host: " + s.url.host;
  if (!default_port)
    s.host_header += ":" + std::to_string(s.url.port);
  s.host_header += "\r\n";
  if (options.recv_window_ms <= 0)
    throw std::invalid_argument("RestClient: recv_window_ms must be positive");
  s.recv_window_text = std::to_string(options.recv_window_ms);
  s.stream_options.tcp.backend = options.backend;
  s.stream_options.tcp.connect_timeout_ms = options.connect_timeout_ms;
  s.stream_options.tls = options.tls;
  s.stream_options.handshake_timeout_ms = options.connect_timeout_ms;
  if (!options.api_key.empty() || !options.api_secret.empty()) {
    if (options.api_key.empty() || options.api_secret.empty())
      throw std::invalid_argument("RestClient: give both API key and secret, or neither");
    s.signer.emplace(options.api_secret);
  }
  s.request_capacity = std::max<std::size_t>(options.request_buffer_size, 1024);
  s.request = std::make_unique<char[]>(s.request_capacity);
  s.response_capacity = std::max<std::size_t>(options.response_buffer_size, 4096);
  s.response = std::make_unique<char[]>(s.response_capacity + simdjson::SIMDJSON_PADDING);
  if (s.json.allocate(s.response_capacity) != simdjson::SUCCESS)
    throw std::runtime_error("RestClient: cannot allocate the JSON parser");
  const std::int64_t now = s.bucket_now();
  for (const EndpointLimit& entry : kLimits)
    s.buckets[static_cast<std::size_t>(entry.endpoint)].set_limit(entry.per_second, now);
}

RestClient::~RestClient() = default;

RestError RestClient::connect() noexcept {
  Impl& s = *impl_;
  s.stream.close();
  ++connects_;
  if (s.stream.connect(s.url, s.stream_options) != feed::NetError::ok) {
    s.stream.close();
    return RestError::connect_failed;
  }
  s.response_size = 0;
  return RestError::ok;
}

void RestClient::close() noexcept {
  impl_->stream.close();
}

bool RestClient::connected() const noexcept {
  return impl_->stream.is_open();
}

TokenBucket* RestClient::bucket(RestEndpoint endpoint) noexcept {
  if (endpoint == RestEndpoint::none)
    return nullptr;
  return &impl_->buckets[static_cast<std::size_t>(endpoint)];
}

std::int64_t RestClient::server_now_ms() const noexcept {
  return (realtime_ns() + offset_ns_) / kNsPerMs;
}

// One attempt: (re)connect if needed, write, sign and send the request, read one whole
// response and decode its envelope into `out`. `sent` becomes true once the request's bytes
// were handed to the connection (the exchange may have received them).
struct RestClientAccess {
  static RestError attempt(RestClient& client, RestClient::Method method, bool is_signed,
                           std::string_view path, std::string_view payload, RestResponse& out,
                           bool& sent, bool want_time) noexcept {
    RestClient::Impl& s = *client.impl_;
    feed::Stream& stream = s.stream;
    const auto buffer = [&s]() noexcept {
      return std::span<std::byte>(reinterpret_cast<std::byte*>(s.response.get()),
                                  s.response_capacity);
    };

    // A kept-alive connection the server has closed meanwhile (idle timeout, a drop) shows as
    // closed or reset here; stray bytes would desynchronise replies. Either way: reconnect.
    if (stream.is_open()) {
      auto probe = stream.receive_into(buffer());
      if (probe.ok() || probe.error() != feed::NetError::would_block)
        stream.close();
    }
    if (!stream.is_open() && client.connect() != RestError::ok)
      return RestError::connect_failed;

    // The request, signed with the timestamp of this attempt.
    FixedWriter w(s.request.get(), s.request_capacity);
    const bool is_get = method == RestClient::Method::get;
    w << (is_get ? std::string_view("GET ") : std::string_view("POST ")) << s.path_prefix << path;
    if (is_get && !payload.empty())
      w << "?" << payload;
    w << " HTTP/1.1\r\n" << s.host_header << "User-Agent: kinetic\r\n";
    if (is_signed) {
      char timestamp[24];
      const auto ts_end =
          std::to_chars(timestamp, timestamp + sizeof timestamp, client.server_now_ms());
      const std::string_view ts(timestamp, static_cast<std::size_t>(ts_end.ptr - timestamp));
      std::array<char, kHmacSha256HexLength> signature;
      const std::array<std::string_view, 4> parts = {ts, s.options.api_key, s.recv_window_text,
                                                     payload};
      if (!s.signer->sign(std::span<const std::string_view>(parts), signature))
        return RestError::sign_failed;
      w << "X-BAPI-API-KEY: " << s.options.api_key << "\r\nX-BAPI-TIMESTAMP: " << ts
        << "\r\nX-BAPI-SIGN: " << std::string_view(signature.data(), signature.size())
        << "\r\nX-BAPI-RECV-WINDOW: " << s.recv_window_text << "\r\nX-BAPI-SIGN-TYPE: 2\r\n";
    }
    if (!is_get) {
      w << "Content-Type: application/json\r\nContent-Length: "
        << static_cast<std::int64_t>(payload.size()) << "\r\n";
    }
    w << "\r\n";
    if (!is_get)
      w << payload;
    if (w.overflow())
      return RestError::request_too_large;

    const std::int64_t deadline = monotonic_ns() + s.options.request_timeout_ms * kNsPerMs;
    const auto wait_until_deadline = [&]() noexcept -> RestError {
      const std::int64_t left = deadline - monotonic_ns();
      if (left <= 0)
        return RestError::timeout;
      const feed::NetError waited =
          stream.wait(static_cast<int>(std::min<std::int64_t>(left / kNsPerMs + 1, 1000)));
      if (waited != feed::NetError::ok && waited != feed::NetError::would_block)
        return RestError::connection_lost;
      return RestError::ok;
    };

    s.sent_realtime_ns = realtime_ns();
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(s.request.get()),
                                           w.size());
    for (;;) {
      const feed::NetError queued = stream.send(bytes);
      if (queued == feed::NetError::ok)
        break;
      if (queued == feed::NetError::message_too_large)
        return RestError::request_too_large;
      if (queued != feed::NetError::would_block) {
        stream.close();
        return RestError::connection_lost;
      }
      if (stream.flush() != feed::NetError::ok) {
        stream.close();
        return RestError::connection_lost;
      }
      if (const RestError waited = wait_until_deadline(); waited != RestError::ok) {
        stream.close();
        return waited;
      }
    }
    sent = true;
    ++client.requests_sent_;
    if (stream.flush() != feed::NetError::ok) {
      stream.close();
      return RestError::connection_lost;
    }

    // The reply.
    s.http.reset();
    s.response_size = 0;
    HttpParseStatus parsed = HttpParseStatus::need_more;
    for (;;) {
      if (s.response_size == s.response_capacity) {
        stream.close();
        return RestError::response_too_large;
      }
      auto received = stream.receive_into(buffer().subspan(s.response_size));
      if (received.ok()) {
        s.response_size += received.value();
        parsed = s.http.parse(std::span<char>(s.response.get(), s.response_size));
      } else if (received.error() == feed::NetError::would_block) {
        if (const RestError waited = wait_until_deadline(); waited != RestError::ok) {
          stream.close();  // a late reply must not be taken for the next request's
          return waited;
        }
        continue;
      } else {
        // Closed or reset: a body delimited by the close ends here; anything else is lost.
        stream.close();
        parsed = s.http.parse(std::span<char>(s.response.get(), s.response_size), true);
        if (parsed != HttpParseStatus::complete)
          return RestError::connection_lost;
      }
      if (parsed == HttpParseStatus::complete)
        break;
      if (parsed == HttpParseStatus::error) {
        stream.close();
        return RestError::bad_response;
      }
    }
    s.replied_realtime_ns = realtime_ns();
    // One request at a time: bytes after the reply can only be garbage; close so they cannot
    // be read as the next reply. So does a server that says it closes.
    if (!s.http.keep_alive() || s.http.consumed() != s.response_size)
      stream.close();

    out.http_status = s.http.status();
    out.body = s.http.body();
    out.limits.limit = s.http.header_int("X-Bapi-Limit").value_or(-1);
    out.limits.remaining = s.http.header_int("X-Bapi-Limit-Status").value_or(-1);
    out.limits.reset_ms = s.http.header_int("X-Bapi-Limit-Reset-Timestamp").value_or(-1);

    // The envelope. The body lies inside the response buffer, which has simdjson's padding
    // after its capacity.
    const char* const buffer_end =
        s.response.get() + s.response_capacity + simdjson::SIMDJSON_PADDING;
    const std::size_t room = static_cast<std::size_t>(buffer_end - out.body.data());
    simdjson::ondemand::document doc;
    if (s.json.iterate(simdjson::padded_string_view(out.body.data(), out.body.size(), room))
            .get(doc) != simdjson::SUCCESS)
      return RestError::ok;  // no envelope: ret_code stays -1, the caller judges the status
    std::int64_t code = 0;
    if (doc["retCode"].get_int64().get(code) != simdjson::SUCCESS)
      return RestError::ok;
    std::string_view message;
    if (doc["retMsg"].get_string().get(message) != simdjson::SUCCESS)
      message = {};
    out.ret_code = code;
    out.ret_msg = message;
    if (want_time) {
      s.server_time_ns = 0;
      std::string_view nanos;
      std::int64_t millis = 0;
      if (doc["result"]["timeNano"].get_string().get(nanos) == simdjson::SUCCESS) {
        s.server_time_ns = parse_int(nanos).value_or(0);
      } else if (doc["time"].get_int64().get(millis) == simdjson::SUCCESS) {
        s.server_time_ns = millis * kNsPerMs;
      }
    }
    return RestError::ok;
  }
};

RestResponse RestClient::execute(Method method, bool is_signed, std::string_view path,
                                 std::string_view payload) noexcept {
  Impl& s = *impl_;
  RestResponse out;
  if (is_signed && !s.signer) {
    out.error = RestError::no_credentials;
    return out;
  }
  if (is_signed && !synced_) {
    const RestResponse synced = sync_time();
    if (!synced.ok())
      return synced;
  }
  const bool want_time = path == "/v5/market/time";
  TokenBucket* const limiter = s.options.local_rate_limits ? bucket(endpoint_of(path)) : nullptr;
  if (limiter != nullptr) {
    const std::int64_t now = s.bucket_now();
    const std::int64_t wait = limiter->try_take(now);
    if (wait > 0) {
      out.error = RestError::rate_limited_locally;
      out.retry_at_ms = (now + wait + kNsPerMs - 1) / kNsPerMs;
      return out;
    }
  }

  bool maybe_delivered = false;  // an earlier attempt may have reached the exchange
  bool resynced = false;
  int retries_left = s.options.max_retries;
  std::int64_t backoff_ns = std::int64_t{s.options.backoff_initial_ms} * kNsPerMs;
  int attempts = 0;
  for (;;) {
    out = RestResponse{};
    bool sent = false;
    const RestError transport =
        RestClientAccess::attempt(*this, method, is_signed, path, payload, out, sent, want_time);
    attempts += sent ? 1 : 0;
    out.attempts = attempts;

    bool transient = false;
    std::int64_t wait_ns = backoff_ns;
    if (transport != RestError::ok) {
      out.error = transport;
      if (is_transport_loss(transport)) {
        transient = true;
        maybe_delivered = maybe_delivered || sent;
      } else if (transport == RestError::connect_failed) {
        transient = true;
      } else {
        return out;
      }
    } else {
      if (limiter != nullptr && out.limits.remaining >= 0) {
        const std::int64_t now = s.bucket_now();
        const std::int64_t until =
            out.limits.reset_ms >= 0 ? now + (out.limits.reset_ms - server_now_ms()) * kNsPerMs : 0;
        limiter->follow_server(out.limits.limit, out.limits.remaining, until, now);
      }
      const bool success_status = out.http_status >= 200 && out.http_status < 300;
      if (out.http_status >= 500) {
        out.error = RestError::http_error;
        transient = true;
        maybe_delivered = true;
      } else if (out.ret_code < 0) {
        out.error = success_status ? RestError::bad_response : RestError::http_error;
        return out;
      } else if (out.ret_code == 0 && success_status) {
        out.error = RestError::ok;
        return out;
      } else if (out.ret_code == 10002 && is_signed && !resynced) {
        // Our clock (or the offset) is off: measure again and retry once at once.
        resynced = true;
        const RestResponse synced = sync_time();
        if (!synced.ok())
          return synced;
        continue;
      } else if (out.ret_code == 10000 || out.ret_code == 10016) {
        out.error = RestError::rejected;
        transient = true;
        maybe_delivered = true;  // a server-side timeout may still have executed it
      } else if (out.ret_code == 10006) {
        out.error = RestError::rate_limited;
        transient = true;
        if (out.limits.reset_ms >= 0) {
          const std::int64_t until_reset = (out.limits.reset_ms - server_now_ms()) * kNsPerMs;
          if (until_reset > std::int64_t{s.options.max_rate_limit_wait_ms} * kNsPerMs)
            return out;
          // One ms past the reset: our estimate of the server's clock is only good to about
          // a millisecond, and waking a hair early would burn a retry on another 10006.
          wait_ns = std::max(until_reset + kNsPerMs, backoff_ns);
        }
      } else if (out.ret_code == 110072 && maybe_delivered) {
        out.error = RestError::already_sent;
        return out;
      } else {
        out.error = RestError::rejected;
        return out;
      }
    }
    if (!transient || retries_left == 0)
      return out;
    --retries_left;
    ++retries_;
    sleep_ns(wait_ns);
    backoff_ns = std::min(backoff_ns * 2, std::int64_t{s.options.backoff_max_ms} * kNsPerMs);
    // A retry is a request like any other for the exchange's per-second window.
    if (limiter != nullptr) {
      for (std::int64_t w = limiter->try_take(s.bucket_now()); w > 0;
           w = limiter->try_take(s.bucket_now())) {
        if (s.options.bucket_clock_ns != nullptr)
          break;  // a frozen test clock would never refill
        sleep_ns(w);
      }
    }
  }
}

RestResponse RestClient::sync_time() noexcept {
  Impl& s = *impl_;
  RestResponse out = execute(Method::get, false, "/v5/market/time", {});
  if (!out.ok())
    return out;
  if (s.server_time_ns <= 0) {
    out.error = RestError::clock_sync_failed;
    return out;
  }
  // The server read its clock somewhere within the round trip; the midpoint halves the error.
  const std::int64_t midpoint =
      s.sent_realtime_ns + (s.replied_realtime_ns - s.sent_realtime_ns) / 2;
  offset_ns_ = s.server_time_ns - midpoint;
  round_trip_ns_ = s.replied_realtime_ns - s.sent_realtime_ns;
  synced_ = true;
  ++time_syncs_;
  return out;
}

RestResponse RestClient::get_public(std::string_view path, std::string_view query) noexcept {
  return execute(Method::get, false, path, query);
}

RestResponse RestClient::get_signed(std::string_view path, std::string_view query) noexcept {
  return execute(Method::get, true, path, query);
}

RestResponse RestClient::post_signed(std::string_view path, std::string_view body) noexcept {
  return execute(Method::post, true, path, body);
}

}  // namespace kinetic::exec
