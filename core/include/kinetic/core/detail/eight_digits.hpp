#pragma once
// Eight ASCII digits' values to their number, a word at a time: the one conversion shared
// by the exact decimal parser (core/src/decimal.cpp) and the feed's fast decoder
// (feed/src/bybit_decoder.cpp). Internal: not part of the public API.

#include <cstdint>

#if defined(__SSSE3__)
#include <immintrin.h>
#endif

namespace kinetic::detail {

/// Eight digit values (0..9), most significant in the lowest byte, to their number.
[[nodiscard]] constexpr std::uint64_t eight_digits_value(std::uint64_t v) noexcept {
  v = (v * 10 + (v >> 8)) & 0x00ff'00ff'00ff'00ffULL;          // pairs: 0..99 in 16-bit lanes
  v = (v * 100 + (v >> 16)) & 0x0000'ffff'0000'ffffULL;        // quads: 0..9999 in 32-bit lanes
  return (v * 10'000 + (v >> 32)) & 0x0000'0000'ffff'ffffULL;  // 0..99'999'999
}

#if defined(__SSSE3__)
/// Raw 1e-8 units from two words of digit values in one register: bytes 0..7 the integer
/// digits, bytes 8..15 the fraction digits, each most significant in the lowest byte. Both
/// words at once: fewer instructions than eight_digits_value twice.
[[nodiscard]] [[gnu::always_inline]] inline std::uint64_t digit_vector_to_raw(
    __m128i digits) noexcept {
  const __m128i pairs = _mm_maddubs_epi16(digits, _mm_set1_epi16(0x010a));   // d0 * 10 + d1
  const __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x0001'0064));  // p0 * 100 + p1
  const __m128i eights = _mm_add_epi64(_mm_mul_epu32(quads, _mm_set1_epi32(10'000)),
                                       _mm_srli_epi64(quads, 32));  // q0 * 10'000 + q1
  const auto integer = static_cast<std::uint64_t>(_mm_cvtsi128_si64(eights));
  const auto fraction =
      static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(eights, eights)));
  return integer * 100'000'000ULL + fraction;
}
#endif

}  // namespace kinetic::detail
