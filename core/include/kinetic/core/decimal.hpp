#pragma once
// Exact fixed-point decimals for prices, quantities and amounts that cross the wire.
//
// A Decimal holds an int64 count of 1e-8 units: 8 fractional digits, range about ±9.2e10.
// Parsing a decimal string is exact (no binary floating point anywhere), and formatting
// gives the shortest exact decimal back ("65114.2", never "6.51142e4" or "65114.19999").
// Distinct tags make Price, Qty and Amount different types, so a price cannot be passed
// where a quantity is expected. Mathematics converts to double with to_double().

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kinetic/core/result.hpp"

namespace kinetic {

/// Why a decimal string was refused. `ok` (zero) means it was accepted.
enum class DecimalError : std::uint8_t {
  ok = 0,
  empty,                     ///< the input is empty, or a lone sign or dot
  invalid_character,         ///< anything but an optional leading '-' or '+', digits and one '.'
  too_many_fraction_digits,  ///< more than Decimal::kFractionDigits digits after the dot
  overflow,                  ///< the value does not fit in the int64 fixed-point range
};

/// Human-readable name of a DecimalError, for tools and tests (static storage).
[[nodiscard]] std::string_view to_string(DecimalError error) noexcept;

/// Fixed-point decimal with 8 fractional digits. Value type, trivial (like an int: `Price p;`
/// is uninitialized, `Price p{};` is zero), 8 bytes, so the POD hot-path types that hold it
/// stay trivial; no ownership; immutable operations, so safe to share between threads by copy.
template <class Tag>
class Decimal {
 public:
  static constexpr int kFractionDigits = 8;
  static constexpr std::int64_t kScale = 100'000'000;  ///< raw units per 1
  /// Longest text format() can write: sign, 11 integer digits, dot, 8 fraction digits.
  static constexpr std::size_t kMaxFormattedLength = 21;

  constexpr Decimal() noexcept = default;

  /// From a raw count of 1e-8 units (no scaling).
  [[nodiscard]] static constexpr Decimal from_raw(std::int64_t raw) noexcept {
    Decimal d{};
    d.raw_ = raw;
    return d;
  }
  /// From a whole number of units. The caller keeps |units| below about 9.2e10.
  [[nodiscard]] static constexpr Decimal from_units(std::int64_t units) noexcept {
    return from_raw(units * kScale);
  }

  /// Exact parse of "[-+]digits[.digits]" (also ".5" and "5."), at most 8 fraction digits.
  /// Never returns a wrong number: anything it cannot represent exactly is an error.
  /// Strict: "1.000000000" (9 fraction digits, even zeros) is too_many_fraction_digits.
  /// When several problems occur the error is, by precedence: invalid_character, empty,
  /// too_many_fraction_digits, overflow. No allocation; no floating point; no locale.
  [[nodiscard]] static Result<Decimal, DecimalError> parse(std::string_view text) noexcept;

  /// Nearest representable value to a double, for converting the output of mathematics.
  /// Returns `overflow` for NaN, infinities and values out of range. Decided on the double's
  /// exact binary value times 1e8, ties away from zero (the double nearest 2.5e-8 lies just
  /// below 2.5 units, so it gives 2).
  [[nodiscard]] static Result<Decimal, DecimalError> from_double(double value) noexcept;

  /// Writes the shortest exact decimal text (no exponent, no trailing fraction zeros, "0"
  /// for zero) into `out`, which must hold kMaxFormattedLength bytes. Returns the length.
  /// Does not write a terminating NUL.
  std::size_t format(char* out) const noexcept;

  /// Like format() but always writes exactly `fraction_digits` (0..8) digits after the dot,
  /// padding with zeros; digits beyond are expected to be zero (round to the step first).
  /// Digits beyond are cut toward zero; a value that then prints as zero gets no '-' sign;
  /// `fraction_digits` outside 0..8 is clamped into it.
  std::size_t format_fixed(char* out, int fraction_digits) const noexcept;

  [[nodiscard]] constexpr std::int64_t raw() const noexcept { return raw_; }
  [[nodiscard]] constexpr double to_double() const noexcept {
    return static_cast<double>(raw_) / static_cast<double>(kScale);
  }
  [[nodiscard]] constexpr bool is_zero() const noexcept { return raw_ == 0; }

  /// Rounding to a step (tick size or quantity step); `step` must be positive. Exact.
  /// Down is toward negative infinity, up toward positive infinity; nearest breaks ties away
  /// from zero. A step <= 0 returns the value unchanged. Where the exact result does not fit
  /// in int64 (only within one step of the limits), the multiple one step nearer zero is
  /// returned.
  [[nodiscard]] Decimal round_down(Decimal step) const noexcept;
  [[nodiscard]] Decimal round_up(Decimal step) const noexcept;
  [[nodiscard]] Decimal round_nearest(Decimal step) const noexcept;
  /// True when the value is a whole multiple of `step`.
  [[nodiscard]] constexpr bool is_multiple_of(Decimal step) const noexcept {
    return step.raw_ != 0 && raw_ % step.raw_ == 0;
  }

  constexpr auto operator<=>(const Decimal&) const noexcept = default;
  constexpr Decimal operator-() const noexcept { return from_raw(-raw_); }
  constexpr Decimal operator+(Decimal o) const noexcept { return from_raw(raw_ + o.raw_); }
  constexpr Decimal operator-(Decimal o) const noexcept { return from_raw(raw_ - o.raw_); }
  constexpr Decimal& operator+=(Decimal o) noexcept {
    raw_ += o.raw_;
    return *this;
  }
  constexpr Decimal& operator-=(Decimal o) noexcept {
    raw_ -= o.raw_;
    return *this;
  }

 private:
  std::int64_t raw_;
};

struct PriceTag {};
struct QtyTag {};
struct AmountTag {};
using Price = Decimal<PriceTag>;    ///< a price in quote currency per unit
using Qty = Decimal<QtyTag>;        ///< a quantity of the base asset (contracts)
using Amount = Decimal<AmountTag>;  ///< money in quote currency: fees, P&L, balances

extern template class Decimal<PriceTag>;
extern template class Decimal<QtyTag>;
extern template class Decimal<AmountTag>;

/// Exact notional price × qty, rounded toward zero to 1e-8; `overflow` when out of range.
[[nodiscard]] Result<Amount, DecimalError> notional(Price price, Qty qty) noexcept;

}  // namespace kinetic
