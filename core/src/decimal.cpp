// Exact fixed-point decimals: parse, format, rounding, conversion (see decimal.hpp).
//
// Parsing has two paths. The fast path takes the shapes prices and quantities have on the
// wire: 1..7 characters after the sign, or 8..16 characters with at most 8 integer digits and
// 1..8 fraction digits. It reads the characters with at most two fixed-size loads (never
// outside the input), checks every byte at once, and converts the integer and the fraction
// digits with a few multiplications per 8 digits (SWAR; with SSSE3, both halves in one vector
// register), so there is no loop and no branch per digit. Everything else (errors, long
// inputs, leading zeros past the 16th character) goes to a plain digit-by-digit parser, which
// is also the one place that decides which error is reported.
//
// Neither path uses floating point, strtod, locale or the heap. The code assumes a
// little-endian machine (checked at compile time); the project targets x86-64 only.

#include "kinetic/core/decimal.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "kinetic/core/detail/eight_digits.hpp"

#if defined(__SSSE3__)
#include <immintrin.h>
#endif

namespace kinetic {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the SWAR parse and format assume a little-endian byte order");

__extension__ using Int128 = __int128;

constexpr int kFractionDigits = 8;
constexpr std::uint64_t kScale = 100'000'000;
/// 11 integer digits reach 99'999'999'999 units, which still fits in uint64 once scaled by
/// 1e8 (9.99e18 < 1.8e19), so the magnitude can be range-checked after the fact.
constexpr std::ptrdiff_t kMaxIntegerDigits = 11;
constexpr std::uint64_t kMaxPositiveMagnitude =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
constexpr std::uint64_t kMaxNegativeMagnitude = kMaxPositiveMagnitude + 1;  // |INT64_MIN|

constexpr std::uint64_t kPow10[kFractionDigits + 1] = {
    1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000};

constexpr std::uint64_t kEveryByte = 0x0101'0101'0101'0101ULL;
constexpr std::uint64_t kAsciiZeros = 0x30 * kEveryByte;

[[nodiscard]] constexpr bool is_digit(char c) noexcept {
  return static_cast<unsigned char>(c - '0') < 10U;
}
[[nodiscard]] constexpr std::uint64_t digit_value(char c) noexcept {
  return static_cast<std::uint64_t>(c - '0');
}

/// Applies the sign to a magnitude, refusing what int64 cannot hold. The conversion of an
/// unsigned value above INT64_MAX to int64 is modular (defined since C++20), which is exactly
/// what makes 2^63 with a minus sign come out as INT64_MIN.
[[nodiscard]] constexpr bool signed_raw(std::uint64_t magnitude, bool negative,
                                        std::int64_t& raw) noexcept {
  if (magnitude > (negative ? kMaxNegativeMagnitude : kMaxPositiveMagnitude)) {
    return false;
  }
  raw = static_cast<std::int64_t>(negative ? 0 - magnitude : magnitude);
  return true;
}

// ---- slow path: digit by digit, full error classification ----

/// Parses [first, last) after the sign has been taken off. Errors by precedence:
/// invalid_character, then empty (no digit at all), then too_many_fraction_digits, then
/// overflow; so the reported error does not depend on where the first problem sits.
[[nodiscard]] DecimalError parse_slow(const char* first, const char* last, bool negative,
                                      std::int64_t& raw) noexcept {
  const char* p = first;
  while (p != last && *p == '0') {  // leading zeros carry no value and do not count
    ++p;
  }
  const char* const significant = p;
  std::uint64_t integer_part = 0;
  for (; p != last && is_digit(*p); ++p) {
    if (p - significant < kMaxIntegerDigits) {  // beyond this it overflows anyway
      integer_part = integer_part * 10 + digit_value(*p);
    }
  }
  const std::ptrdiff_t integer_digits = p - first;
  const std::ptrdiff_t significant_digits = p - significant;

  std::uint64_t fraction = 0;
  std::ptrdiff_t fraction_digits = 0;
  if (p != last && *p == '.') {
    ++p;
    const char* const fraction_start = p;
    for (; p != last && is_digit(*p); ++p) {
      if (p - fraction_start < kFractionDigits) {
        fraction = fraction * 10 + digit_value(*p);
      }
    }
    fraction_digits = p - fraction_start;
  }

  if (p != last) {
    return DecimalError::invalid_character;
  }
  if (integer_digits == 0 && fraction_digits == 0) {
    return DecimalError::empty;
  }
  if (fraction_digits > kFractionDigits) {
    return DecimalError::too_many_fraction_digits;
  }
  if (significant_digits > kMaxIntegerDigits) {
    return DecimalError::overflow;
  }
  const std::uint64_t magnitude =
      integer_part * kScale + fraction * kPow10[kFractionDigits - fraction_digits];
  return signed_raw(magnitude, negative, raw) ? DecimalError::ok : DecimalError::overflow;
}

// ---- fast path: SWAR over at most 16 characters ----
//
// Words hold characters little-endian: the first character in the lowest byte. After an XOR
// with '0' in every byte, digits are 0..9, the dot is 0x1e and zero padding is 0x30.

[[nodiscard]] inline std::uint64_t load_u64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[nodiscard]] inline std::uint64_t load_u32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[nodiscard]] inline std::uint64_t byte_at(const char* p) noexcept {
  return static_cast<unsigned char>(*p);
}

/// The n (1..7) bytes at p as a word, zero above byte n. Two overlapping loads of the same
/// width cover every length without reading outside [p, p + n).
[[nodiscard]] inline std::uint64_t load_short(const char* p, std::size_t n) noexcept {
  if (n >= 4) {
    return load_u32(p) | (load_u32(p + n - 4) << (8 * (n - 4)));
  }
  const std::size_t middle = n / 2;
  return byte_at(p) | (byte_at(p + middle) << (8 * middle)) | (byte_at(p + n - 1) << (8 * (n - 1)));
}

constexpr std::uint64_t kDotAfterXor = '.' ^ '0';

/// High bit of each byte of an XORed word set where the byte is not a digit: either it is
/// >= 0x80, or its low 7 bits are >= 10 (then adding 118 carries into bit 7; it cannot carry
/// into the next byte).
[[nodiscard]] constexpr std::uint64_t non_digit_flags(std::uint64_t x) noexcept {
  return (((x & (0x7f * kEveryByte)) + 0x76 * kEveryByte) | x) & (0x80 * kEveryByte);
}

/// Byte index of the lowest flag; 8 when there is none.
[[nodiscard]] constexpr std::size_t first_flagged_byte(std::uint64_t flags) noexcept {
  return static_cast<std::size_t>(std::countr_zero(flags)) / 8;
}

/// Integer digits in the low `count` (0..8) bytes of x, and fraction digits already placed
/// first-digit-lowest and zero-filled to 8 digits, to the magnitude in raw units.
[[nodiscard]] inline std::uint64_t combine(std::uint64_t x, std::size_t count,
                                           std::uint64_t fraction_word) noexcept {
  // Right-align the integer digits: the top bytes become the number's last digits, the
  // bytes below (the dot and what follows) are shifted out. No integer digits: zero.
  const std::uint64_t integer_word = count == 0 ? 0 : x << (8 * (8 - count));
  // A zero-filled fraction word reads as the fraction times 10^(8 - digits): already scaled.
#if defined(__SSSE3__)
  return kinetic::detail::digit_vector_to_raw(
      _mm_set_epi64x(static_cast<long long>(fraction_word), static_cast<long long>(integer_word)));
#else
  return detail::eight_digits_value(integer_word) * kScale +
         detail::eight_digits_value(fraction_word);
#endif
}

/// Parses the common shapes: 1..7 characters after the sign of any valid form, or 8..16
/// characters with at most 8 integer digits and 1..8 fraction digits. Writes the
/// magnitude (below 1e16, so no range check is needed) and returns true, or returns false
/// without judging the input; the slow path then decides, errors included.
[[nodiscard]] inline bool parse_fast(const char* p, std::size_t n,
                                     std::uint64_t& magnitude) noexcept {
  if (n - 8 < 9) {  // 8..16 characters: a head and a tail word cover them all
    const std::uint64_t head = load_u64(p) ^ kAsciiZeros;
    const std::uint64_t tail = load_u64(p + n - 8) ^ kAsciiZeros;
    // The first non-digit of the head is the dot; 8 when the head is all digits, and then
    // the dot may still be the ninth character.
    const std::size_t dot = first_flagged_byte(non_digit_flags(head));
    const char dot_char = p[dot < n ? dot : 0];
    const std::size_t fraction_digits = n - dot - 1;  // the last 1..8 characters, if valid
    const std::size_t fraction_shift = (8 * (8 - fraction_digits)) & 63;
    // The integer digits are digits by the choice of `dot`; the fraction digits are the top
    // `fraction_digits` bytes of the tail.
    const bool shape_ok = (dot_char == '.') & (fraction_digits - 1 < 8) &
                          ((non_digit_flags(tail) >> fraction_shift) == 0);
    if (!shape_ok) {
      return false;
    }
    magnitude = combine(head, dot, tail >> fraction_shift);
    return true;
  }
  if (n - 1 < 7) {  // 1..7 characters: one zero-padded word (padding flags as non-digit)
    const std::uint64_t x = load_short(p, n) ^ kAsciiZeros;
    const std::uint64_t flags = non_digit_flags(x);
    const std::size_t dot = first_flagged_byte(flags);  // n when there is no dot
    const bool has_dot = dot < n;
    const std::size_t fraction_digits = n - dot - std::size_t{has_dot};
    const std::uint64_t text_bytes = (std::uint64_t{1} << (8 * n)) - 1;
    const std::uint64_t stray = flags & text_bytes & ~(std::uint64_t{0x80} << (8 * dot));
    const bool dot_ok = !has_dot || ((x >> (8 * dot)) & 0xff) == kDotAfterXor;
    if (stray != 0 || !dot_ok || n == std::size_t{has_dot}) {
      return false;  // a stray character or a lone dot
    }
    const std::uint64_t fraction_word =
        ((x >> (8 * dot)) >> 8) & ((std::uint64_t{1} << (8 * fraction_digits)) - 1);
    magnitude = combine(x, dot, fraction_word);
    return true;
  }
  return false;
}

// ---- format helpers ----

/// The 8 decimal digits of v (< 1e8) as digit values 0..9, most significant in the lowest
/// byte: the inverse of eight_digits_value, with divisions done as multiply-and-shift per lane.
[[nodiscard]] constexpr std::uint64_t eight_digit_values(std::uint64_t v) noexcept {
  // 32-bit lanes: high four digits in the low lane (it is written first).
  std::uint64_t lanes = (v / 10'000) | ((v % 10'000) << 32);
  // Each lane x < 10'000 into x / 100 and x % 100 in 16-bit lanes; x / 100 == x * 10486 >> 20
  // for x < 43'699.
  std::uint64_t hundreds = ((lanes * 10'486) >> 20) & 0x0000'007f'0000'007fULL;
  lanes = hundreds | ((lanes - hundreds * 100) << 16);
  // Each 16-bit lane x < 100 into x / 10 and x % 10 in bytes; x / 10 == x * 103 >> 10 for x < 179.
  const std::uint64_t tens = ((lanes * 103) >> 10) & 0x000f'000f'000f'000fULL;
  return tens | ((lanes - tens * 10) << 8);
}

/// Writes the decimal digits of v (an integer part: below 1e11), at least one digit, and
/// returns the end. Stores whole 8-byte words, so it may write up to 11 bytes from `out` even
/// for a short number; the callers' layout keeps that inside kMaxFormattedLength.
char* write_integer(char* out, std::uint64_t v) noexcept {
  const std::uint64_t high = v / kScale;  // 0..922 for an int64 range integer part
  const std::uint64_t low = v % kScale;
  const std::uint64_t low_digits = eight_digit_values(low);
  if (high == 0) {
    // Skip the leading zero digits (the low bytes), keeping at least one digit.
    const int leading_zero_bytes = low_digits == 0 ? 7 : std::countr_zero(low_digits) / 8;
    const std::uint64_t text = (low_digits | kAsciiZeros) >> (8 * leading_zero_bytes);
    std::memcpy(out, &text, sizeof text);
    return out + (8 - leading_zero_bytes);
  }
  if (high >= 100) {
    *out++ = static_cast<char>('0' + high / 100);
  }
  if (high >= 10) {
    *out++ = static_cast<char>('0' + high / 10 % 10);
  }
  *out++ = static_cast<char>('0' + high % 10);
  const std::uint64_t text = low_digits | kAsciiZeros;
  std::memcpy(out, &text, sizeof text);
  return out + 8;
}

/// Splits a raw value into sign and magnitude (exact for INT64_MIN too).
[[nodiscard]] constexpr std::uint64_t magnitude_of(std::int64_t raw) noexcept {
  const auto bits = static_cast<std::uint64_t>(raw);
  return raw < 0 ? 0 - bits : bits;
}

/// Brings an exact multiple of step that lies outside int64 back in by one step, toward
/// zero. Only reachable within one step of the int64 limits.
[[nodiscard]] constexpr std::int64_t clamp_multiple(Int128 multiple, std::int64_t step) noexcept {
  if (multiple < std::numeric_limits<std::int64_t>::min()) {
    multiple += step;
  } else if (multiple > std::numeric_limits<std::int64_t>::max()) {
    multiple -= step;
  }
  return static_cast<std::int64_t>(multiple);
}

}  // namespace

std::string_view to_string(DecimalError error) noexcept {
  switch (error) {
    case DecimalError::ok:
      return "ok";
    case DecimalError::empty:
      return "empty";
    case DecimalError::invalid_character:
      return "invalid_character";
    case DecimalError::too_many_fraction_digits:
      return "too_many_fraction_digits";
    case DecimalError::overflow:
      return "overflow";
  }
  return "unknown";
}

template <class Tag>
Result<Decimal<Tag>, DecimalError> Decimal<Tag>::parse(std::string_view text) noexcept {
  const char* p = text.data();
  std::size_t n = text.size();
  if (n == 0) {
    return DecimalError::empty;
  }
  const bool negative = *p == '-';
  const std::size_t sign_length = (negative || *p == '+') ? 1 : 0;
  p += sign_length;
  n -= sign_length;
  std::uint64_t magnitude = 0;
  if (parse_fast(p, n, magnitude)) {  // magnitude < 1e16: the sign cannot overflow
    return from_raw(negative ? -static_cast<std::int64_t>(magnitude)
                             : static_cast<std::int64_t>(magnitude));
  }
  std::int64_t raw = 0;
  const DecimalError error = parse_slow(p, p + n, negative, raw);
  if (error != DecimalError::ok) {
    return error;
  }
  return from_raw(raw);
}

template <class Tag>
Result<Decimal<Tag>, DecimalError> Decimal<Tag>::from_double(double value) noexcept {
  if (!std::isfinite(value)) {
    return DecimalError::overflow;
  }
  // value * 1e8 rounded half away from zero, decided on the exact product: 1e8 is exact in
  // binary, so product + error (error from fma) equals the true product exactly.
  const double scale = static_cast<double>(kScale);
  const double product = value * scale;
  const double error = std::fma(value, scale, -product);
  const double rounded = std::round(product);  // half away from zero, of the rounded product
  double adjustment = 0;                       // whole units to add to `rounded`
  if (std::fabs(product) < 0x1p52) {
    // Only an exact tie in `product` can be decided wrongly (otherwise |product - rounded| is
    // at most 0.5 - ulp and the error, at most ulp / 2, cannot cross a tie): the error then
    // says on which side of the tie the true product lies. 2.5e-8 * 1e8 is such a case.
    const double offset = product - rounded;  // exact (Sterbenz)
    if (offset == -0.5 && error < 0) {
      adjustment = -1;  // a positive tie rounded up, but the true product is just below it
    } else if (offset == 0.5 && error > 0) {
      adjustment = 1;  // a negative tie rounded down, but the true product is just above it
    }
  } else {
    // `product` is a whole number here, but its ulp is 1 or more, so the error can be worth
    // whole units; round product + error half away from zero.
    adjustment = product > 0 ? std::floor(error + 0.5) : std::ceil(error - 0.5);
  }
  // rounded is a whole number; 2^63 itself may still come back in range through adjustment.
  if (!(rounded >= -0x1p63 && rounded <= 0x1p63)) {
    return DecimalError::overflow;
  }
  auto units = static_cast<std::int64_t>(adjustment);  // |adjustment| <= 1024
  std::int64_t base = 0;
  if (rounded == 0x1p63) {
    base = std::numeric_limits<std::int64_t>::max();
    units += 1;
  } else {
    base = static_cast<std::int64_t>(rounded);
  }
  std::int64_t raw = 0;
  if (__builtin_add_overflow(base, units, &raw)) {
    return DecimalError::overflow;
  }
  return from_raw(raw);
}

template <class Tag>
std::size_t Decimal<Tag>::format(char* out) const noexcept {
  char* p = out;
  if (raw_ < 0) {
    *p++ = '-';
  }
  const std::uint64_t magnitude = magnitude_of(raw_);
  p = write_integer(p, magnitude / kScale);
  const std::uint64_t fraction = magnitude % kScale;
  if (fraction != 0) {
    const std::uint64_t digits = eight_digit_values(fraction);
    // Trailing zero digits are the zero high bytes.
    const auto kept = static_cast<std::size_t>(8 - std::countl_zero(digits) / 8);
    *p++ = '.';
    const std::uint64_t text = digits | kAsciiZeros;
    std::memcpy(p, &text, sizeof text);  // at most out[13..20]: within kMaxFormattedLength
    p += kept;
  }
  return static_cast<std::size_t>(p - out);
}

template <class Tag>
std::size_t Decimal<Tag>::format_fixed(char* out, int fraction_digits) const noexcept {
  // Out-of-range requests are clamped to 0..8 rather than refused: it cannot fail.
  const auto kept = static_cast<std::size_t>(
      fraction_digits < 0
          ? 0
          : (fraction_digits > kFractionDigits ? kFractionDigits : fraction_digits));
  const std::uint64_t magnitude = magnitude_of(raw_);
  const std::uint64_t integer_part = magnitude / kScale;
  const std::uint64_t fraction = magnitude % kScale;
  // Digits beyond `kept` are cut (toward zero); a value that prints as zero gets no sign.
  const bool prints_as_zero = integer_part == 0 && fraction / kPow10[kFractionDigits - kept] == 0;
  char* p = out;
  if (raw_ < 0 && !prints_as_zero) {
    *p++ = '-';
  }
  p = write_integer(p, integer_part);
  if (kept > 0) {
    *p++ = '.';
    const std::uint64_t text = eight_digit_values(fraction) | kAsciiZeros;
    std::memcpy(p, &text, sizeof text);
    p += kept;
  }
  return static_cast<std::size_t>(p - out);
}

template <class Tag>
Decimal<Tag> Decimal<Tag>::round_down(Decimal step) const noexcept {
  if (step.raw_ <= 0) {
    return *this;  // precondition broken: leave the value alone rather than divide by zero
  }
  std::int64_t quotient = raw_ / step.raw_;  // truncates toward zero
  if (raw_ % step.raw_ < 0) {
    --quotient;
  }
  return from_raw(clamp_multiple(Int128{quotient} * step.raw_, step.raw_));
}

template <class Tag>
Decimal<Tag> Decimal<Tag>::round_up(Decimal step) const noexcept {
  if (step.raw_ <= 0) {
    return *this;
  }
  std::int64_t quotient = raw_ / step.raw_;
  if (raw_ % step.raw_ > 0) {
    ++quotient;
  }
  return from_raw(clamp_multiple(Int128{quotient} * step.raw_, step.raw_));
}

template <class Tag>
Decimal<Tag> Decimal<Tag>::round_nearest(Decimal step) const noexcept {
  if (step.raw_ <= 0) {
    return *this;
  }
  std::int64_t quotient = raw_ / step.raw_;  // toward zero; the remainder has raw_'s sign
  const std::int64_t remainder = raw_ % step.raw_;
  const std::int64_t distance = remainder < 0 ? -remainder : remainder;
  if (distance >= step.raw_ - distance) {  // at or past half a step: away from zero
    quotient += raw_ < 0 ? -1 : 1;
  }
  return from_raw(clamp_multiple(Int128{quotient} * step.raw_, step.raw_));
}

template class Decimal<PriceTag>;
template class Decimal<QtyTag>;
template class Decimal<AmountTag>;

Result<Amount, DecimalError> notional(Price price, Qty qty) noexcept {
  std::int64_t product = 0;
  if (!__builtin_mul_overflow(price.raw(), qty.raw(), &product)) {
    // Common case (small quantities): 64-bit division by a constant is a multiply.
    return Amount::from_raw(product / Price::kScale);
  }
  const Int128 wide = Int128{price.raw()} * qty.raw() / Price::kScale;  // toward zero
  if (wide < std::numeric_limits<std::int64_t>::min() ||
      wide > std::numeric_limits<std::int64_t>::max()) {
    return DecimalError::overflow;
  }
  return Amount::from_raw(static_cast<std::int64_t>(wide));
}

}  // namespace kinetic
