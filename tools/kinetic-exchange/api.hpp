#pragma once
// The Bybit v5 API of the exchange simulator, shared by REST (rest_api.cpp) and the private and
// trade WebSockets (exchange_app.cpp): API keys and signatures, the clock (with the skew
// fault), per-UID rate limits, faults, the JSON shapes of orders/executions/positions/wallets,
// and the order operations with Bybit's parameter checks and retCodes.
//
// Ownership: ExchangeContext owns the keys, limiters, faults and the log; it borrows the venue
// and the market (which outlive it). Thread-safety: none; the server's loop thread only.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "instruments.hpp"
#include "json_out.hpp"
#include "kinetic/exec/sim_venue.hpp"
#include "market_source.hpp"
#include "server.hpp"

namespace kinetic::exchange {

/// One account given by `--account KEY:SECRET[:BALANCE_USDT]`.
struct ApiAccount {
  std::string key;
  std::string secret;  ///< never logged
  exec::sim::AccountId account = 0;
};

/// Parses "KEY:SECRET[:BALANCE]" (default balance 10000). Throws std::invalid_argument with a
/// message that does not contain the secret.
struct AccountSpec {
  std::string key;
  std::string secret;
  Amount balance = Amount::from_units(10'000);
};
[[nodiscard]] AccountSpec parse_account_spec(std::string_view text);

/// A Bybit error: retCode and retMsg, and the HTTP status that goes with it (200 for business
/// errors, as Bybit).
struct ApiError {
  int ret_code = 0;
  std::string ret_msg;
  int http_status = 200;
};

/// Injected faults (POST /kinetic/fault and start-up flags). See --help for the list.
struct Faults {
  struct Reject {
    std::string path;  ///< "/v5/order/create"; trade-WS ops map to their REST path
    int ret_code = 10006;
    int count = 0;  ///< left to inject
  };
  struct Delay {
    std::string path;
    std::chrono::milliseconds delay{0};
  };
  std::vector<Reject> rejects;
  std::vector<Delay> delays;
  std::int64_t clock_skew_ms = 0;               ///< added to the server's clock
  std::int64_t pause_market_data_until_ms = 0;  ///< no public data before this time
  int malformed_frames = 0;                     ///< next N public pushes are broken JSON
};

/// Applies one fault given as JSON ({"fault":"reject","path":...,"retCode":...,"count":...},
/// ...). `drop_connections` calls `drop`. Returns an error text for an unknown or bad fault.
[[nodiscard]] std::optional<std::string> apply_fault(Faults& faults, std::string_view json,
                                                     std::int64_t now_ms,
                                                     const std::function<void()>& drop);

/// Takes one injected reject for `path` (count-limited; the fault is removed when used up), or
/// nullopt when none is armed. Used by REST for every Bybit path and by run_order_op (so the
/// trade WebSocket's ops hit the rejects of their REST paths). The retMsg is Bybit's text for
/// the code when known (10006 "Too many visits!", ...).
[[nodiscard]] std::optional<ApiError> take_reject(Faults& faults, std::string_view path);
/// The injected delay for `path` (0 when none).
[[nodiscard]] std::chrono::milliseconds delay_for(const Faults& faults, std::string_view path);
/// Bybit's retMsg for a retCode an injected reject uses ("Too many visits!" for 10006...).
[[nodiscard]] std::string_view default_ret_msg(int ret_code) noexcept;

/// Result of a rate-limit check: Bybit's X-Bapi-Limit, -Status and -Reset-Timestamp values.
struct RateDecision {
  bool allowed = true;
  int limit = 0;
  int remaining = 0;
  std::int64_t reset_ms = 0;
};

/// Per-UID, per-endpoint rolling 1-second windows with Bybit's default limits (docs §4.6).
/// Shared by REST and the trade WebSocket.
class RateLimiter {
 public:
  /// Limit per second of an endpoint path ("/v5/order/create" → 10); 0 for unlimited.
  [[nodiscard]] static int limit_for(std::string_view path) noexcept;
  /// Counts one request of `account` on `path` at `now_ms`.
  RateDecision take(exec::sim::AccountId account, std::string_view path, std::int64_t now_ms);

 private:
  std::map<std::pair<exec::sim::AccountId, std::string>, std::vector<std::int64_t>> windows_;
};

/// The request/outcome log: one line per request, to a FILE* (stderr by default).
class RequestLog {
 public:
  explicit RequestLog(std::FILE* out) noexcept : out_(out) {}
  /// Writes "<ISO time> <line>\n" and flushes. Never pass secrets.
  void write(std::string_view line);

 private:
  std::FILE* out_;
};

struct ExchangeContext {
  exec::sim::SimVenue& venue;
  const std::vector<ExchangeInstrument>& instruments;
  const MarketSource& market;
  PublicFeed& linear_feed;
  std::vector<ApiAccount> accounts;
  Faults faults;
  RateLimiter limiter;
  RequestLog log{stderr};
  std::function<void()> drop_connections;  ///< set by the app: Server::drop_all_connections

  /// The server's clock: CLOCK_REALTIME in ms plus the skew fault.
  [[nodiscard]] std::int64_t now_ms() const;
  /// The account with this API key, or nullptr.
  [[nodiscard]] const ApiAccount* find_key(std::string_view key) const noexcept;
};

/// Verifies a signed REST request (X-BAPI-API-KEY, -TIMESTAMP, -SIGN, -RECV-WINDOW; payload =
/// timestamp + key + recvWindow + (query for GET | body for POST)). Errors: 10003 unknown key
/// (also missing headers → 10003/10001 as Bybit), 10002 outside
/// [now − recvWindow, now + 1000) with Bybit's message, 10004 wrong signature ("error sign!
/// origin_string[...]").
[[nodiscard]] std::variant<const ApiAccount*, ApiError> verify_rest_signature(
    const ExchangeContext& context, const HttpRequest& request);

/// Verifies a WebSocket auth op's args (key, expires ms, signature over "GET/realtime" +
/// expires). Errors as ApiError (10003 unknown key, 10002 expired, 10004 bad signature).
[[nodiscard]] std::variant<const ApiAccount*, ApiError> verify_ws_auth(
    const ExchangeContext& context, std::string_view key, std::int64_t expires,
    std::string_view signature);

// ---- Bybit JSON shapes (shared by REST results and private pushes) ----
void write_order(JsonOut& out, const exec::sim::OrderState& order,
                 const ExchangeInstrument& instrument);
void write_execution(JsonOut& out, const exec::sim::Execution& execution,
                     const ExchangeInstrument& instrument);
/// `rest` = true writes avgPrice (REST /v5/position/list); false writes entryPrice (WS).
void write_position(JsonOut& out, const exec::sim::PositionState& position,
                    const ExchangeInstrument& instrument, bool rest);
void write_wallet(JsonOut& out, const exec::sim::WalletState& wallet);

/// The order operations of REST and the trade WebSocket.
enum class OrderOp : std::uint8_t { create, amend, cancel };
[[nodiscard]] std::string_view rest_path(OrderOp op) noexcept;  ///< "/v5/order/create", ...

/// Outcome of an order operation: retCode/retMsg and the `result` object's JSON ("{}" on
/// error), ready for both the REST envelope and the trade-WS reply.
struct OrderOpResult {
  int ret_code = 0;
  std::string ret_msg = "OK";
  std::string result_json = "{}";
};

/// Parses `args_json` (one JSON object with Bybit's parameters) and runs the operation for
/// `account`, applying injected reject faults for its path. Parameter errors are 10001 with
/// Bybit-like messages; venue errors pass through.
[[nodiscard]] OrderOpResult run_order_op(ExchangeContext& context, exec::sim::AccountId account,
                                         OrderOp op, std::string_view args_json);

/// The whole state as JSON: {"time":..,"accounts":[{"key":..,"wallet":{..},"positions":[..],
/// "orders":[..],"executions":[..]}],"faults":{..}} (no secrets). GET /kinetic/state and
/// --state-out.
[[nodiscard]] std::string state_json(const ExchangeContext& context);

/// REST: every Bybit path of the issue plus /kinetic/state and /kinetic/fault. Unknown paths:
/// HTTP 404 with retCode 10017 "route not found". Logs each request and its outcome.
[[nodiscard]] HttpResponse handle_rest(ExchangeContext& context, const HttpRequest& request);

}  // namespace kinetic::exchange
