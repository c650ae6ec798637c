// Per-UID, per-endpoint rolling one-second windows (docs/bybit-v5.md §4.6).

#include <algorithm>

#include "api.hpp"

namespace kinetic::exchange {

int RateLimiter::limit_for(std::string_view path) noexcept {
  // Bybit's defaults for linear (UTA 2.0 Pro).
  struct Entry {
    std::string_view path;
    int limit;
  };
  static constexpr Entry kLimits[] = {
      {"/v5/order/create", 10},           {"/v5/order/amend", 10},
      {"/v5/order/cancel", 10},           {"/v5/order/cancel-all", 10},
      {"/v5/order/create-batch", 10},     {"/v5/order/amend-batch", 10},
      {"/v5/order/cancel-batch", 10},     {"/v5/order/realtime", 50},
      {"/v5/order/history", 50},          {"/v5/execution/list", 50},
      {"/v5/position/list", 50},          {"/v5/position/set-leverage", 10},
      {"/v5/account/wallet-balance", 50}, {"/v5/account/fee-rate", 5},
  };
  for (const Entry& entry : kLimits) {
    if (entry.path == path)
      return entry.limit;
  }
  return 0;
}

RateDecision RateLimiter::take(exec::sim::AccountId account, std::string_view path,
                               std::int64_t now_ms) {
  RateDecision decision;
  decision.limit = limit_for(path);
  decision.reset_ms = now_ms;
  if (decision.limit == 0)
    return decision;
  std::vector<std::int64_t>& window = windows_[{account, std::string(path)}];
  // Rolling window: a request counts for the 1000 ms after it (times may step back with a
  // clock_skew fault; those requests simply stay counted until they age out).
  std::erase_if(window, [now_ms](std::int64_t t) { return t <= now_ms - 1000; });
  const auto limit = static_cast<std::size_t>(decision.limit);
  if (window.size() >= limit) {
    // Refused requests are not counted, so a client that waits for the reset gets through.
    decision.allowed = false;
    decision.remaining = 0;
    decision.reset_ms = *std::min_element(window.begin(), window.end()) + 1000;
    return decision;
  }
  window.push_back(now_ms);
  decision.remaining = static_cast<int>(limit - window.size());
  return decision;
}

}  // namespace kinetic::exchange
