// API keys, the server clock, the request log, and Bybit's REST and WebSocket authentication
// (docs/bybit-v5.md §2.1, §4.2).

#include <array>
#include <charconv>
#include <ctime>
#include <stdexcept>
#include <string>

#include "api.hpp"
#include "kinetic/exec/hmac_signer.hpp"

namespace kinetic::exchange {

namespace {

/// A non-negative decimal integer, whole string; nullopt otherwise.
std::optional<std::int64_t> parse_integer(std::string_view text) noexcept {
  if (text.empty() || text.size() > 18)
    return std::nullopt;
  std::int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc{} || result.ptr != text.data() + text.size() || value < 0)
    return std::nullopt;
  return value;
}

ApiError error(int code, std::string message, int http_status = 200) {
  return ApiError{code, std::move(message), http_status};
}

ApiError invalid_key() {
  return error(10003, "API key is invalid.");
}

ApiError timestamp_error(std::int64_t request_ts, std::int64_t server_ts,
                         std::int64_t recv_window) {
  // Bybit's exact text (pybit#191).
  return error(10002,
               "invalid request, please check your server timestamp or recv_window param. "
               "req_timestamp[" +
                   std::to_string(request_ts) + "],server_timestamp[" + std::to_string(server_ts) +
                   "],recv_window[" + std::to_string(recv_window) + "]");
}

}  // namespace

AccountSpec parse_account_spec(std::string_view text) {
  // The secret must never appear in an error message: name only the key and the problem.
  const std::size_t first = text.find(':');
  if (first == std::string_view::npos)
    throw std::invalid_argument("--account wants KEY:SECRET[:BALANCE]: no ':' found");
  AccountSpec spec;
  spec.key = std::string(text.substr(0, first));
  const std::string_view rest = text.substr(first + 1);
  const std::size_t second = rest.find(':');
  spec.secret = std::string(rest.substr(0, second));
  if (spec.key.empty())
    throw std::invalid_argument("--account wants KEY:SECRET[:BALANCE]: the key is empty");
  if (spec.secret.empty())
    throw std::invalid_argument("--account " + spec.key + ": the secret is empty");
  for (const char c : spec.key) {
    if (c <= ' ' || c == 0x7f)
      throw std::invalid_argument("--account: the key holds a space or control character");
  }
  if (second != std::string_view::npos) {
    const std::string_view balance_text = rest.substr(second + 1);
    const auto balance = Amount::parse(balance_text);
    if (!balance || balance.value().raw() < 0) {
      throw std::invalid_argument("--account " + spec.key + ": balance '" +
                                  std::string(balance_text) +
                                  "' is not a non-negative decimal number");
    }
    spec.balance = balance.value();
  }
  return spec;
}

void RequestLog::write(std::string_view line) {
  if (out_ == nullptr)
    return;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char stamp[40];
  const std::size_t length = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::fprintf(out_, "%.*s.%03ldZ %.*s\n", static_cast<int>(length), stamp, now.tv_nsec / 1'000'000,
               static_cast<int>(line.size()), line.data());
  std::fflush(out_);
}

std::int64_t ExchangeContext::now_ms() const {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000 +
         faults.clock_skew_ms;
}

const ApiAccount* ExchangeContext::find_key(std::string_view key) const noexcept {
  for (const ApiAccount& account : accounts) {
    if (account.key == key)
      return &account;
  }
  return nullptr;
}

std::variant<const ApiAccount*, ApiError> verify_rest_signature(const ExchangeContext& context,
                                                                const HttpRequest& request) {
  // Order of checks as Bybit: the key, then the timestamp window, then the signature.
  const auto key = request.header("X-BAPI-API-KEY");
  if (!key || key->empty())
    return error(10003, "API key is invalid.", 401);
  const ApiAccount* account = context.find_key(*key);
  if (account == nullptr)
    return invalid_key();

  const auto timestamp_text = request.header("X-BAPI-TIMESTAMP");
  if (!timestamp_text || timestamp_text->empty())
    return error(10001, "params error: X-BAPI-TIMESTAMP is missing", 401);
  const auto timestamp = parse_integer(*timestamp_text);
  if (!timestamp)
    return error(10001, "params error: X-BAPI-TIMESTAMP is not an integer");

  // Bybit defaults the window to 5000 ms when the header is absent.
  std::string_view recv_window_text = "5000";
  if (const auto header = request.header("X-BAPI-RECV-WINDOW"); header && !header->empty())
    recv_window_text = *header;
  const auto recv_window = parse_integer(recv_window_text);
  if (!recv_window)
    return error(10001, "params error: X-BAPI-RECV-WINDOW is not an integer");

  const std::int64_t now = context.now_ms();
  if (*timestamp < now - *recv_window || *timestamp >= now + 1000)
    return timestamp_error(*timestamp, now, *recv_window);

  // The payload is the query exactly as sent (GET) or the exact body bytes (others).
  const std::string_view payload = request.method == "GET" ? request.query : request.body;
  const auto sign = request.header("X-BAPI-SIGN");
  exec::HmacSha256 signer(account->secret);
  std::array<char, exec::kHmacSha256HexLength> expected{};
  const bool signed_ok = signer.sign({*timestamp_text, *key, recv_window_text, payload}, expected);
  if (!signed_ok || !sign ||
      !exec::constant_time_equal_hex(*sign, std::string_view(expected.data(), expected.size()))) {
    // The origin string holds no secret; Bybit echoes it so that clients can compare.
    std::string origin;
    origin.reserve(timestamp_text->size() + key->size() + recv_window_text.size() + payload.size());
    origin.append(*timestamp_text).append(*key).append(recv_window_text).append(payload);
    return error(10004, "error sign! origin_string[" + origin + "]");
  }
  return account;
}

std::variant<const ApiAccount*, ApiError> verify_ws_auth(const ExchangeContext& context,
                                                         std::string_view key, std::int64_t expires,
                                                         std::string_view signature) {
  const ApiAccount* account = context.find_key(key);
  if (account == nullptr)
    return invalid_key();
  // The signature must be over a time still in the future (docs §2.1).
  if (expires <= context.now_ms())
    return error(10002, "Params Error: request expired");
  char expires_text[24];
  const auto written = std::to_chars(expires_text, expires_text + sizeof expires_text, expires);
  exec::HmacSha256 signer(account->secret);
  std::array<char, exec::kHmacSha256HexLength> expected{};
  const std::string_view expires_view(expires_text,
                                      static_cast<std::size_t>(written.ptr - expires_text));
  if (!signer.sign({"GET/realtime", expires_view}, expected) ||
      !exec::constant_time_equal_hex(signature,
                                     std::string_view(expected.data(), expected.size()))) {
    return error(10004, "Invalid sign");
  }
  return account;
}

}  // namespace kinetic::exchange
