#pragma once
// orderLinkId: how kinetic names its orders at the exchange.
//
// Every OrderIntent carries a 64-bit client_order_id; on the wire it becomes the orderLinkId
// "kn-" + 16 lowercase hex digits (19 characters, within Bybit's 36 of [A-Za-z0-9_-]). The
// same intent keeps the same id across retries, so the exchange refuses a second order with it
// (110072) instead of opening it twice. Ids stay unique across restarts because the high 24
// bits are a boot number persisted before the first order of a run (see OrderIdGenerator in
// order_encoder.hpp) and the low 40 bits count orders within the run.
//
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kinetic::exec {

inline constexpr std::string_view kOrderLinkIdPrefix = "kn-";
inline constexpr std::size_t kOrderLinkIdLength = 19;  ///< "kn-" + 16 hex digits

/// Writes the orderLinkId of `client_order_id` into `out` (kOrderLinkIdLength bytes, no NUL).
inline void format_order_link_id(std::uint64_t client_order_id, char* out) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  out[0] = 'k';
  out[1] = 'n';
  out[2] = '-';
  for (int i = 15; i >= 0; --i) {
    out[3 + i] = kHex[client_order_id & 0xF];
    client_order_id >>= 4;
  }
}

/// The client_order_id of one of our orderLinkIds; nullopt for anything else (orders placed
/// by hand or by another program are adopted by reconciliation, not mistaken for ours).
[[nodiscard]] inline std::optional<std::uint64_t> parse_order_link_id(
    std::string_view text) noexcept {
  if (text.size() != kOrderLinkIdLength || text.substr(0, 3) != kOrderLinkIdPrefix)
    return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text.substr(3)) {
    unsigned digit;
    if (c >= '0' && c <= '9')
      digit = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      digit = static_cast<unsigned>(c - 'a' + 10);
    else
      return std::nullopt;
    value = (value << 4) | digit;
  }
  return value;
}

}  // namespace kinetic::exec
