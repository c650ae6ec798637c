#pragma once
// Slow, obviously-correct reference for rounding fixed-point raw values to a step, in 128-bit
// arithmetic. Shared by the decimal unit tests and the decimal fuzzer so both check the
// library against the same definition.
#include <cstdint>
#include <limits>

#include "kinetic/core/int128.hpp"

namespace kinetic::test {

struct ReferenceRounding {
  std::int64_t down;
  std::int64_t up;
  std::int64_t nearest;
};

/// Down toward −∞, up toward +∞, nearest with ties away from zero; a result outside the
/// int64 range is replaced by the multiple one step nearer zero (Decimal's documented rule).
/// `step` must be positive.
inline ReferenceRounding reference_round(std::int64_t raw, std::int64_t step) {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  const int128 a = raw;
  const int128 b = step;
  int128 quotient = a / b;
  if (a % b != 0 && a < 0)
    --quotient;  // floor division (b > 0)
  const int128 down = quotient * b;
  const int128 up = down == a ? down : down + b;
  const int128 below = a - down;
  const int128 above = up - a;
  const int128 nearest = below < above ? down : (above < below ? up : (a < 0 ? down : up));
  const auto clamp = [b](int128 v) {
    return static_cast<std::int64_t>(v < kMin ? v + b : (v > kMax ? v - b : v));
  };
  return {clamp(down), clamp(up), clamp(nearest)};
}

}  // namespace kinetic::test
