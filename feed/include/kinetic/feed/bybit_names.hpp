#pragma once
// Bybit's spelling of the shared vocabulary ("Buy"/"Sell"), in one place for the decoders,
// the encoders, the simulator and the tools.
//
// Thread-safety: pure functions over static strings.

#include <string_view>

#include "kinetic/core/types.hpp"

namespace kinetic::feed {

/// "Buy", "Sell", or "" for Side::none (Bybit's flat-position side).
[[nodiscard]] constexpr std::string_view bybit_side_name(Side side) noexcept {
  switch (side) {
    case Side::buy:
      return "Buy";
    case Side::sell:
      return "Sell";
    case Side::none:
      break;
  }
  return "";
}

/// Side::buy for "Buy", Side::sell for "Sell", Side::none for anything else (case matters,
/// as on Bybit's derivatives API).
[[nodiscard]] constexpr Side parse_bybit_side(std::string_view text) noexcept {
  if (text == "Buy")
    return Side::buy;
  if (text == "Sell")
    return Side::sell;
  return Side::none;
}

}  // namespace kinetic::feed
