// Injected faults: POST /kinetic/fault and the start-up flags give the same JSON.

#include <simdjson.h>

#include <string>

#include "api.hpp"

namespace kinetic::exchange {

namespace {

/// An integer field (a JSON integer, or a double with no fraction); nullopt when absent,
/// error text when present but not an integer.
std::variant<std::optional<std::int64_t>, std::string> integer_field(simdjson::dom::object object,
                                                                     std::string_view name) {
  simdjson::dom::element element;
  if (object[name].get(element) != simdjson::SUCCESS)
    return std::optional<std::int64_t>{};
  std::int64_t value = 0;
  if (element.get_int64().get(value) == simdjson::SUCCESS)
    return std::optional<std::int64_t>{value};
  double real = 0;
  if (element.get_double().get(real) == simdjson::SUCCESS &&
      real == static_cast<double>(static_cast<std::int64_t>(real)) && real > -9e15 && real < 9e15) {
    return std::optional<std::int64_t>{static_cast<std::int64_t>(real)};
  }
  return "\"" + std::string(name) + "\" must be an integer";
}

simdjson::dom::parser& fault_parser() {
  // One parser for the process's loop thread (faults are rare; thread_local keeps it safe).
  thread_local simdjson::dom::parser parser;
  return parser;
}

}  // namespace

std::optional<std::string> apply_fault(Faults& faults, std::string_view json, std::int64_t now_ms,
                                       const std::function<void()>& drop) {
  simdjson::dom::element document;
  if (fault_parser().parse(json.data(), json.size()).get(document) != simdjson::SUCCESS)
    return std::string("the fault is not valid JSON");
  simdjson::dom::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS)
    return std::string("the fault must be a JSON object");
  std::string_view name;
  if (object["fault"].get_string().get(name) != simdjson::SUCCESS)
    return std::string("missing \"fault\" (a string)");

  // Read the optional numeric fields once; each fault says which it needs.
  std::optional<std::int64_t> count, ms, seconds, ret_code;
  for (auto [field, target] : {std::pair{"count", &count}, std::pair{"ms", &ms},
                               std::pair{"seconds", &seconds}, std::pair{"retCode", &ret_code}}) {
    auto value = integer_field(object, field);
    if (auto* problem = std::get_if<std::string>(&value))
      return *problem;
    *target = std::get<std::optional<std::int64_t>>(value);
  }
  std::string_view path;
  const bool has_path = object["path"].get_string().get(path) == simdjson::SUCCESS;

  if (name == "reject") {
    if (!has_path || path.empty())
      return std::string("reject needs \"path\" (e.g. \"/v5/order/create\")");
    const std::int64_t n = count.value_or(1);
    if (n < 0 || n > 1'000'000)
      return std::string("reject: \"count\" must be in [0, 1000000]");
    const std::int64_t code = ret_code.value_or(10006);
    if (code <= 0 || code > 999'999)
      return std::string("reject: \"retCode\" must be a positive Bybit retCode");
    std::erase_if(faults.rejects, [&](const Faults::Reject& r) { return r.path == path; });
    if (n > 0)
      faults.rejects.push_back({std::string(path), static_cast<int>(code), static_cast<int>(n)});
    return std::nullopt;
  }
  if (name == "delay") {
    if (!has_path || path.empty())
      return std::string("delay needs \"path\"");
    if (!ms || *ms < 0 || *ms > 600'000)
      return std::string("delay needs \"ms\" in [0, 600000]");
    std::erase_if(faults.delays, [&](const Faults::Delay& d) { return d.path == path; });
    if (*ms > 0)
      faults.delays.push_back({std::string(path), std::chrono::milliseconds(*ms)});
    return std::nullopt;
  }
  if (name == "clock_skew") {
    // Up to ±10 years: enough to put the server at the docs' 2023 vectors.
    constexpr std::int64_t kTenYearsMs = 3650LL * 86'400'000;
    if (!ms || *ms < -kTenYearsMs || *ms > kTenYearsMs)
      return std::string("clock_skew needs \"ms\" (an integer within ±10 years, may be negative)");
    faults.clock_skew_ms = *ms;
    return std::nullopt;
  }
  if (name == "pause_market_data") {
    if (!seconds || *seconds < 0 || *seconds > 86'400)
      return std::string("pause_market_data needs \"seconds\" in [0, 86400]");
    faults.pause_market_data_until_ms = now_ms + *seconds * 1000;
    return std::nullopt;
  }
  if (name == "malformed_frames") {
    const std::int64_t n = count.value_or(1);
    if (n < 0 || n > 1'000'000)
      return std::string("malformed_frames: \"count\" must be in [0, 1000000]");
    faults.malformed_frames = static_cast<int>(n);
    return std::nullopt;
  }
  if (name == "drop_connections") {
    if (drop)
      drop();
    return std::nullopt;
  }
  if (name == "clear") {
    faults = Faults{};
    return std::nullopt;
  }
  return "unknown fault \"" + std::string(name) +
         "\" (reject, delay, clock_skew, pause_market_data, malformed_frames, "
         "drop_connections, clear)";
}

}  // namespace kinetic::exchange

namespace kinetic::exchange {

std::string_view default_ret_msg(int ret_code) noexcept {
  switch (ret_code) {
    case 10000:
      return "Server Timeout";
    case 10001:
      return "params error";
    case 10002:
      return "invalid request, please check your server timestamp or recv_window param";
    case 10003:
      return "API key is invalid.";
    case 10004:
      return "error sign!";
    case 10005:
      return "Permission denied, please check your API key permissions.";
    case 10006:
      return "Too many visits!";
    case 10016:
      return "Internal system error.";
    case 10018:
      return "Exceeded the IP Rate Limit.";
    case 110001:
      return "Order does not exist.";
    case 110007:
      return "ab not enough for new order";
    case 110072:
      return "OrderLinkedID is duplicate";
    default:
      return "injected fault";
  }
}

std::optional<ApiError> take_reject(Faults& faults, std::string_view path) {
  for (auto it = faults.rejects.begin(); it != faults.rejects.end(); ++it) {
    if (it->path != path && it->path != "*")
      continue;
    ApiError error{it->ret_code, std::string(default_ret_msg(it->ret_code)), 200};
    if (--it->count <= 0)
      faults.rejects.erase(it);
    return error;
  }
  return std::nullopt;
}

std::chrono::milliseconds delay_for(const Faults& faults, std::string_view path) {
  for (const Faults::Delay& delay : faults.delays) {
    if (delay.path == path || delay.path == "*")
      return delay.delay;
  }
  return std::chrono::milliseconds{0};
}

}  // namespace kinetic::exchange
