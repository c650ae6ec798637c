#pragma once
// Slow, obviously-correct references for parsing decimal text and rounding fixed-point raw
// values to a step, in 128-bit arithmetic. Shared by the decimal unit tests and the decimal
// fuzzer so both check the library against the same definition.
#include <cstdint>
#include <limits>
#include <string_view>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/int128.hpp"

namespace kinetic::test {

struct ReferenceParse {
  kinetic::DecimalError error = kinetic::DecimalError::ok;
  std::int64_t raw = 0;
};

/// The grammar and the value, the slow and obvious way. Error precedence as documented:
/// invalid_character, empty, too_many_fraction_digits, overflow.
inline ReferenceParse reference_parse(std::string_view text) {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
    negative = text[pos] == '-';
    ++pos;
  }
  int128 value = 0;
  bool too_big = false;
  int digits = 0;
  int fraction_digits = 0;
  bool seen_dot = false;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      too_big = too_big || value > (int128{1} << 100);
      if (too_big) {
        value = int128{1} << 100;  // keep it bounded; the result is overflow anyway
      }
      ++digits;
      if (seen_dot) {
        ++fraction_digits;
      }
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      return {kinetic::DecimalError::invalid_character, 0};
    }
  }
  if (digits == 0) {
    return {kinetic::DecimalError::empty, 0};
  }
  if (fraction_digits > 8) {
    return {kinetic::DecimalError::too_many_fraction_digits, 0};
  }
  for (int i = fraction_digits; i < 8; ++i) {
    value *= 10;
  }
  if (negative) {
    value = -value;
  }
  if (too_big || value < kMin || value > kMax) {
    return {kinetic::DecimalError::overflow, 0};
  }
  return {kinetic::DecimalError::ok, static_cast<std::int64_t>(value)};
}

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
