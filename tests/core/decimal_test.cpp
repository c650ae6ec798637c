// Tests of the exact fixed-point decimals: parse (valid, invalid with the exact error, the
// int64 limits), format and format_fixed, round trips over millions of raw values, rounding to
// steps, notional, from_double, and that parse and format never allocate.

#include "kinetic/core/decimal.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "alloc_counter.hpp"
#include "decimal_reference.hpp"

namespace kinetic {
namespace {

__extension__ using Int128 = __int128;

constexpr std::int64_t kMaxRaw = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinRaw = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kScale = Price::kScale;

static_assert(sizeof(Price) == 8);
static_assert(std::is_trivially_copyable_v<Price>);
static_assert(!std::is_same_v<Price, Qty> && !std::is_convertible_v<Price, Qty>,
              "the tags must keep prices and quantities apart");

std::string format(Price value) {
  char buffer[Price::kMaxFormattedLength];
  const std::size_t length = value.format(buffer);
  return std::string(buffer, length);
}

std::string format_fixed(Price value, int digits) {
  char buffer[Price::kMaxFormattedLength];
  const std::size_t length = value.format_fixed(buffer, digits);
  return std::string(buffer, length);
}

Price price(std::string_view text) {
  const auto parsed = Price::parse(text);
  EXPECT_TRUE(parsed.ok()) << "'" << text << "': " << to_string(parsed.error());
  return parsed.value_or(Price{});
}

// ---- slow references, written independently of the implementation ----

/// Digit-by-digit formatter with std::string.
std::string reference_format(std::int64_t raw) {
  Int128 magnitude = raw;
  const bool negative = magnitude < 0;
  if (negative) {
    magnitude = -magnitude;
  }
  std::string integer_digits;
  Int128 integer_part = magnitude / kScale;
  do {
    integer_digits.insert(integer_digits.begin(), static_cast<char>('0' + integer_part % 10));
    integer_part /= 10;
  } while (integer_part != 0);
  std::string fraction_digits(8, '0');
  Int128 fraction = magnitude % kScale;
  for (int i = 7; i >= 0; --i) {
    fraction_digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  while (!fraction_digits.empty() && fraction_digits.back() == '0') {
    fraction_digits.pop_back();
  }
  std::string text = negative ? "-" : "";
  text += integer_digits;
  if (!fraction_digits.empty()) {
    text += '.' + fraction_digits;
  }
  return text;
}

/// Exact value of a double times 1e8, rounded half away from zero, from its binary digits.
/// Returns false when out of the int64 range.
bool reference_from_double(double value, std::int64_t& raw) {
  if (!std::isfinite(value)) {
    return false;
  }
  int exponent = 0;
  const double mantissa = std::frexp(std::fabs(value), &exponent);       // value = m * 2^exponent
  const auto m53 = static_cast<std::int64_t>(std::ldexp(mantissa, 53));  // exact integer
  const int shift = exponent - 53;                                       // value = m53 * 2^shift
  Int128 scaled = Int128{m53} * kScale;
  Int128 rounded = 0;
  if (shift >= 0) {
    if (shift > 40) {
      return false;
    }
    rounded = scaled << shift;
  } else if (-shift >= 120) {
    rounded = 0;  // far below half a unit
  } else {
    const Int128 unit = Int128{1} << -shift;
    rounded = scaled >> -shift;
    const Int128 remainder = scaled - (rounded << -shift);
    if (2 * remainder >= unit) {
      ++rounded;
    }
  }
  if (value < 0) {
    rounded = -rounded;
  }
  if (rounded < kMinRaw || rounded > kMaxRaw) {
    return false;
  }
  raw = static_cast<std::int64_t>(rounded);
  return true;
}

// ---- parse: valid input ----

struct ValidCase {
  std::string_view text;
  std::int64_t raw;
};

TEST(DecimalParse, AcceptsWellFormedInputExactly) {
  const ValidCase cases[] = {
      {"0", 0},
      {"1", 100'000'000},
      {"-1", -100'000'000},
      {"+1", 100'000'000},
      {"-0", 0},
      {"+0.0", 0},
      {"65114.2", 6'511'420'000'000},
      {"65114.2035", 6'511'420'350'000},
      {"-65114.2035", -6'511'420'350'000},
      {"0.00012345", 12'345},
      {"93512.40", 9'351'240'000'000},
      {"0.1", 10'000'000},
      {"0.10000000", 10'000'000},
      {".5", 50'000'000},
      {"5.", 500'000'000},
      {"-.5", -50'000'000},
      {"+5.", 500'000'000},
      {"0.00000001", 1},
      {"-0.00000001", -1},
      {"007.5", 750'000'000},
      {"1234567.12345678", 123'456'712'345'678},     // 16 characters
      {"12345678.12345678", 1'234'567'812'345'678},  // 17: past the 16-byte fast path
      {"12345678901", 1'234'567'890'100'000'000},    // 11 integer digits
      {"12345678901.12345678", 1'234'567'890'112'345'678},
      {"000000000000000000000001.5", 150'000'000},  // leading zeros do not count
      {"0000000000000000", 0},
      {"00000000000000000000.00000000", 0},
      {"-000000000092233720368.54775808", kMinRaw},
      {"92233720368", 9'223'372'036'800'000'000},
      {"92233720368.54775807", kMaxRaw},
      {"+92233720368.54775807", kMaxRaw},
      {"-92233720368.54775807", -kMaxRaw},
      {"-92233720368.54775808", kMinRaw},
      {"92233720368.54775806", kMaxRaw - 1},
      {"-92233720368.5477580", -9'223'372'036'854'775'800},
  };
  for (const auto& c : cases) {
    const auto parsed = Price::parse(c.text);
    ASSERT_TRUE(parsed.ok()) << "'" << c.text << "': " << to_string(parsed.error());
    EXPECT_EQ(parsed.value().raw(), c.raw) << "'" << c.text << "'";
  }
}

TEST(DecimalParse, EveryTagParsesTheSameWay) {
  EXPECT_EQ(Qty::parse("0.001").value().raw(), 100'000);
  EXPECT_EQ(Amount::parse("-12.5").value().raw(), -1'250'000'000);
  EXPECT_EQ(Price::parse("12.5").value().raw(), 1'250'000'000);
}

TEST(DecimalParse, IgnoresBytesOutsideTheView) {
  // The fast path loads whole words; it must only look at the view's bytes.
  const char buffer[] = "65114.2035999";
  EXPECT_EQ(Price::parse(std::string_view(buffer, 7)).value().raw(), 6'511'420'000'000);
  EXPECT_EQ(Price::parse(std::string_view(buffer, 1)).value().raw(), 600'000'000);
  EXPECT_EQ(Price::parse(std::string_view(buffer + 5, 3)).value().raw(), 20'000'000);
}

// ---- parse: invalid input ----

struct InvalidCase {
  std::string_view text;
  DecimalError error;
};

TEST(DecimalParse, RefusesMalformedInputWithTheExactError) {
  using E = DecimalError;
  const InvalidCase cases[] = {
      {"", E::empty},
      {"-", E::empty},
      {"+", E::empty},
      {".", E::empty},
      {"-.", E::empty},
      {"+.", E::empty},
      {"1.2.3", E::invalid_character},
      {"1e5", E::invalid_character},
      {"1E5", E::invalid_character},
      {" 1", E::invalid_character},
      {"1 ", E::invalid_character},
      {"0x10", E::invalid_character},
      {"nan", E::invalid_character},
      {"NaN", E::invalid_character},
      {"inf", E::invalid_character},
      {"-inf", E::invalid_character},
      {"--1", E::invalid_character},
      {"+-1", E::invalid_character},
      {"-+1", E::invalid_character},
      {"1-", E::invalid_character},
      {"1,5", E::invalid_character},
      {"..5", E::invalid_character},
      {"5..", E::invalid_character},
      {"-x", E::invalid_character},
      {"1_000", E::invalid_character},
      {"\xff"
       "1",
       E::invalid_character},
      {"1\xb0", E::invalid_character},
      {std::string_view("1\0", 2), E::invalid_character},
      {std::string_view("\0", 1), E::invalid_character},
      {"12345678901234567.5x", E::invalid_character},  // long: slow path
      {"1.000000000", E::too_many_fraction_digits},    // strict: even trailing zeros
      {"0.123456789", E::too_many_fraction_digits},
      {"-1.123456789", E::too_many_fraction_digits},
      {".000000000", E::too_many_fraction_digits},
      {"1.0000000001", E::too_many_fraction_digits},
      {"1.123456789x", E::invalid_character},  // a stray character wins over the rest
      {"123456789012345678901234567890x", E::invalid_character},
      {"123456789012345.123456789", E::too_many_fraction_digits},  // wins over overflow
      {"92233720368.54775808", E::overflow},
      {"-92233720368.54775809", E::overflow},
      {"92233720369", E::overflow},
      {"99999999999", E::overflow},
      {"100000000000", E::overflow},
      {"-100000000000.5", E::overflow},
      {"18446744073709551616", E::overflow},   // 2^64: would wrap to 0 in 64 bits
      {"184467440737.09551616", E::overflow},  // 2^64 raw units
      {"123456789012345678901234567890", E::overflow},
      {"1234567890123456789012.5", E::overflow},
      {"0000000000000092233720369", E::overflow},
  };
  for (const auto& c : cases) {
    const auto parsed = Price::parse(c.text);
    ASSERT_FALSE(parsed.ok()) << "'" << c.text << "' parsed as " << parsed.value().raw();
    EXPECT_EQ(parsed.error(), c.error) << "'" << c.text << "': got " << to_string(parsed.error())
                                       << ", want " << to_string(c.error);
  }
}

TEST(DecimalParse, ErrorNamesAreDistinct) {
  EXPECT_EQ(to_string(DecimalError::ok), "ok");
  EXPECT_EQ(to_string(DecimalError::empty), "empty");
  EXPECT_EQ(to_string(DecimalError::invalid_character), "invalid_character");
  EXPECT_EQ(to_string(DecimalError::too_many_fraction_digits), "too_many_fraction_digits");
  EXPECT_EQ(to_string(DecimalError::overflow), "overflow");
}

/// Random strings in the grammar and near it, checked against a digit-by-digit parse with
/// 128-bit integers: covers both parse paths and the split between them.
TEST(DecimalParse, AgreesWithAReferenceParserOnRandomText) {
  std::mt19937_64 rng(20240611);
  const std::string_view alphabet = "0123456789.-+e x";
  std::string text;
  for (int iteration = 0; iteration < 500'000; ++iteration) {
    text.clear();
    const auto shape = rng() % 4;
    if (shape == 0) {  // arbitrary characters from a small alphabet
      const auto length = rng() % 20;
      for (std::uint64_t i = 0; i < length; ++i) {
        text += alphabet[rng() % alphabet.size()];
      }
    } else {  // [sign] int digits [. frac digits], sometimes long
      const auto sign = rng() % 3;
      if (sign == 1) {
        text += '-';
      } else if (sign == 2) {
        text += '+';
      }
      const auto zeros = rng() % 4 == 0 ? rng() % 12 : 0;
      text.append(zeros, '0');
      const auto integer_digits = rng() % 13;
      for (std::uint64_t i = 0; i < integer_digits; ++i) {
        text += static_cast<char>('0' + rng() % 10);
      }
      if (rng() % 4 != 0) {
        text += '.';
        const auto fraction_digits = rng() % 10;
        for (std::uint64_t i = 0; i < fraction_digits; ++i) {
          text += static_cast<char>('0' + rng() % 10);
        }
      }
    }

    const test::ReferenceParse expected = test::reference_parse(text);
    const auto parsed = Price::parse(text);
    ASSERT_EQ(parsed.error(), expected.error) << "'" << text << "'";
    if (expected.error == DecimalError::ok) {
      ASSERT_EQ(parsed.value().raw(), expected.raw) << "'" << text << "'";
    }
  }
}

// ---- format ----

TEST(DecimalFormat, WritesTheShortestExactText) {
  const std::pair<std::int64_t, std::string_view> cases[] = {
      {0, "0"},
      {1, "0.00000001"},
      {-1, "-0.00000001"},
      {50'000'000, "0.5"},
      {-50'000'000, "-0.5"},
      {100'000'000, "1"},
      {1'000'000'000, "10"},
      {6'511'420'000'000, "65114.2"},
      {6'511'420'350'000, "65114.2035"},
      {12'345, "0.00012345"},
      {1'234'567'800'000'000, "12345678"},
      {12'345'678'900'000'000, "123456789"},
      {10'000'000'050'000'000, "100000000.5"},
      {1'000'000'000'000'000'000, "10000000000"},
      {10'000'001, "0.10000001"},
      {kMaxRaw, "92233720368.54775807"},
      {kMinRaw, "-92233720368.54775808"},
      {-kMaxRaw, "-92233720368.54775807"},
  };
  for (const auto& [raw, text] : cases) {
    EXPECT_EQ(format(Price::from_raw(raw)), text) << raw;
  }
}

TEST(DecimalFormat, StaysWithinTheDocumentedLength) {
  // Canary bytes after kMaxFormattedLength must survive, for the longest values too.
  const std::int64_t raws[] = {kMinRaw, kMaxRaw, -kMaxRaw, 0, -1, 1, -100'000'000};
  for (const std::int64_t raw : raws) {
    for (int digits = -1; digits <= 9; ++digits) {
      std::array<char, Price::kMaxFormattedLength + 8> buffer{};
      buffer.fill('#');
      const std::size_t length = digits < 0
                                     ? Price::from_raw(raw).format(buffer.data())
                                     : Price::from_raw(raw).format_fixed(buffer.data(), digits);
      EXPECT_LE(length, Price::kMaxFormattedLength);
      for (std::size_t i = Price::kMaxFormattedLength; i < buffer.size(); ++i) {
        EXPECT_EQ(buffer[i], '#') << raw << " digits " << digits;
      }
    }
  }
  char buffer[Price::kMaxFormattedLength];
  EXPECT_EQ(Price::from_raw(kMinRaw).format(buffer), Price::kMaxFormattedLength);
}

TEST(DecimalFormat, FixedPadsAndTruncates) {
  struct Case {
    std::string_view value;
    int digits;
    std::string_view text;
  };
  const Case cases[] = {
      {"65114.2", 2, "65114.20"},
      {"65114.2", 0, "65114"},
      {"65114.2", 8, "65114.20000000"},
      {"0.00012345", 8, "0.00012345"},
      {"0.00012345", 4, "0.0001"},  // beyond the digits: cut toward zero
      {"0.99999999", 2, "0.99"},
      {"-0.99999999", 2, "-0.99"},
      {"-1.5", 3, "-1.500"},
      {"-0.001", 3, "-0.001"},
      {"-0.001", 2, "0.00"},  // prints as zero: no sign
      {"-0.5", 0, "0"},
      {"0", 0, "0"},
      {"0", 3, "0.000"},
      {"1.5", -1, "1"},           // clamped to 0 digits
      {"1.5", 12, "1.50000000"},  // clamped to 8 digits
      {"123456789.25", 1, "123456789.2"},
      {"-92233720368.54775808", 8, "-92233720368.54775808"},
      {"-92233720368.54775808", 0, "-92233720368"},
      {"92233720368.54775807", 3, "92233720368.547"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_fixed(price(c.value), c.digits), c.text) << c.value << " " << c.digits;
  }
}

/// Raw values spread over every magnitude, with plenty of trailing zeros.
std::int64_t random_raw(std::mt19937_64& rng) {
  const auto kind = rng() % 4;
  const auto bits = rng();
  if (kind == 0) {
    return static_cast<std::int64_t>(bits);  // uniform over all of int64
  }
  const auto magnitude = bits >> (rng() % 64);  // log-uniform-ish magnitude
  auto raw = static_cast<std::int64_t>(magnitude >> 1);
  if (kind == 2) {
    static constexpr std::int64_t kPowers[] = {10,      100,       1'000,      10'000,
                                               100'000, 1'000'000, 10'000'000, 100'000'000};
    const std::int64_t power = kPowers[rng() % 8];
    raw -= raw % power;  // trailing zeros in the fraction or integer
  }
  return (rng() & 1) != 0 ? -raw : raw;
}

TEST(DecimalRoundTrip, FormatThenParseGivesTheSameValue) {
  std::mt19937_64 rng(42);
  std::vector<std::int64_t> raws = {0,       1,           -1,          kMaxRaw,
                                    kMinRaw, kMaxRaw - 1, kMinRaw + 1, kScale,
                                    -kScale, 99'999'999,  -99'999'999};
  for (std::int64_t i = 0; i < 4'000'000; ++i) {
    raws.push_back(random_raw(rng));
  }
  char buffer[Price::kMaxFormattedLength];
  for (const std::int64_t raw : raws) {
    const std::size_t length = Price::from_raw(raw).format(buffer);
    const std::string_view text(buffer, length);
    const auto parsed = Price::parse(text);
    ASSERT_TRUE(parsed.ok()) << raw << " -> '" << text << "'";
    ASSERT_EQ(parsed.value().raw(), raw) << "'" << text << "'";
    // Fixed with 8 digits is exact too.
    const std::size_t fixed_length = Price::from_raw(raw).format_fixed(buffer, 8);
    const auto fixed = Price::parse(std::string_view(buffer, fixed_length));
    ASSERT_TRUE(fixed.ok());
    ASSERT_EQ(fixed.value().raw(), raw);
  }
}

TEST(DecimalRoundTrip, FormatMatchesAReferenceFormatter) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1'000'000; ++i) {
    const std::int64_t raw = random_raw(rng);
    ASSERT_EQ(format(Price::from_raw(raw)), reference_format(raw)) << raw;
  }
  for (const std::int64_t raw : {kMinRaw, kMaxRaw, std::int64_t{0}}) {
    EXPECT_EQ(format(Price::from_raw(raw)), reference_format(raw));
  }
}

// ---- rounding ----

struct RoundingCase {
  std::string_view value;
  std::string_view step;
  std::string_view down;
  std::string_view up;
  std::string_view nearest;
};

TEST(DecimalRounding, TickSizesAndQuantitySteps) {
  const RoundingCase cases[] = {
      // tick 0.1
      {"65114.23", "0.1", "65114.2", "65114.3", "65114.2"},
      {"65114.25", "0.1", "65114.2", "65114.3", "65114.3"},
      {"65114.2", "0.1", "65114.2", "65114.2", "65114.2"},
      {"-65114.23", "0.1", "-65114.3", "-65114.2", "-65114.2"},
      {"-65114.25", "0.1", "-65114.3", "-65114.2", "-65114.3"},
      {"0.05", "0.1", "0", "0.1", "0.1"},
      {"-0.05", "0.1", "-0.1", "0", "-0.1"},
      {"0", "0.1", "0", "0", "0"},
      // tick 0.01
      {"93512.405", "0.01", "93512.4", "93512.41", "93512.41"},
      {"93512.40499999", "0.01", "93512.4", "93512.41", "93512.4"},
      {"-93512.405", "0.01", "-93512.41", "-93512.4", "-93512.41"},
      {"0.00999999", "0.01", "0", "0.01", "0.01"},
      {"-0.00000001", "0.01", "-0.01", "0", "0"},
      // tick 0.5
      {"1.25", "0.5", "1", "1.5", "1.5"},
      {"1.24999999", "0.5", "1", "1.5", "1"},
      {"1.75", "0.5", "1.5", "2", "2"},
      {"-1.25", "0.5", "-1.5", "-1", "-1.5"},
      {"-1.74", "0.5", "-2", "-1.5", "-1.5"},
      // tick 0.0001
      {"0.00012345", "0.0001", "0.0001", "0.0002", "0.0001"},
      {"0.00015", "0.0001", "0.0001", "0.0002", "0.0002"},
      {"-0.00015", "0.0001", "-0.0002", "-0.0001", "-0.0002"},
      {"-0.00014999", "0.0001", "-0.0002", "-0.0001", "-0.0001"},
      // quantity step 0.001
      {"1.2345", "0.001", "1.234", "1.235", "1.235"},
      {"1.23449999", "0.001", "1.234", "1.235", "1.234"},
      {"-1.2345", "0.001", "-1.235", "-1.234", "-1.235"},
      {"0.0009", "0.001", "0", "0.001", "0.001"},
      // quantity step 1
      {"2.5", "1", "2", "3", "3"},
      {"2.49999999", "1", "2", "3", "2"},
      {"-2.5", "1", "-3", "-2", "-3"},
      {"-2.49999999", "1", "-3", "-2", "-2"},
      {"7", "1", "7", "7", "7"},
      // quantity step 10
      {"15", "10", "10", "20", "20"},
      {"14.99999999", "10", "10", "20", "10"},
      {"-15", "10", "-20", "-10", "-20"},
      {"25", "10", "20", "30", "30"},
      {"100", "10", "100", "100", "100"},
      {"3", "10", "0", "10", "0"},
  };
  for (const auto& c : cases) {
    const Price value = price(c.value);
    const Price step = price(c.step);
    EXPECT_EQ(format(value.round_down(step)), c.down) << c.value << " down to " << c.step;
    EXPECT_EQ(format(value.round_up(step)), c.up) << c.value << " up to " << c.step;
    EXPECT_EQ(format(value.round_nearest(step)), c.nearest) << c.value << " nearest " << c.step;
  }
}

TEST(DecimalRounding, AgreesWithA128BitReference) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 500'000; ++i) {
    const std::int64_t raw = random_raw(rng);
    std::int64_t step = random_raw(rng);
    step = step < 0 ? -(step + 1) : step;  // non-negative, no overflow
    step = step % (rng() % 2 == 0 ? 1'000'000'000 : kMaxRaw) + 1;
    const Price value = Price::from_raw(raw);
    const Price step_price = Price::from_raw(step);

    const test::ReferenceRounding expected = test::reference_round(raw, step);
    ASSERT_EQ(value.round_down(step_price).raw(), expected.down) << raw << " " << step;
    ASSERT_EQ(value.round_up(step_price).raw(), expected.up) << raw << " " << step;
    ASSERT_EQ(value.round_nearest(step_price).raw(), expected.nearest) << raw << " " << step;
    ASSERT_TRUE(value.round_down(step_price).is_multiple_of(step_price));
  }
}

TEST(DecimalRounding, NearTheLimitsStaysInRangeOneStepInside) {
  // The exact result would not fit: the multiple one step toward zero is returned.
  const Price one = Price::from_units(1);
  const Price max = Price::from_raw(kMaxRaw);
  const Price min = Price::from_raw(kMinRaw);
  EXPECT_EQ(max.round_up(one).raw(), 9'223'372'036'800'000'000);
  EXPECT_EQ(max.round_nearest(one).raw(), 9'223'372'036'800'000'000);
  EXPECT_EQ(max.round_down(one).raw(), 9'223'372'036'800'000'000);
  EXPECT_EQ(min.round_down(one).raw(), -9'223'372'036'800'000'000);
  EXPECT_EQ(min.round_nearest(one).raw(), -9'223'372'036'800'000'000);
  EXPECT_EQ(min.round_up(one).raw(), -9'223'372'036'800'000'000);
  // Steps of one raw unit and of the whole range.
  EXPECT_EQ(min.round_down(Price::from_raw(1)), min);
  EXPECT_EQ(max.round_up(Price::from_raw(1)), max);
  EXPECT_EQ(max.round_down(max), max);
  EXPECT_EQ(min.round_up(max).raw(), -kMaxRaw);
  EXPECT_EQ(min.round_down(max).raw(), -kMaxRaw);  // -2 * max does not fit
}

TEST(DecimalRounding, NonPositiveStepLeavesTheValueAlone) {
  const Price value = price("1.23");
  EXPECT_EQ(value.round_down(Price{}), value);
  EXPECT_EQ(value.round_up(price("-0.1")), value);
  EXPECT_EQ(value.round_nearest(Price{}), value);
  EXPECT_FALSE(value.is_multiple_of(Price{}));
  EXPECT_TRUE(price("1.2").is_multiple_of(price("0.1")));
  EXPECT_FALSE(price("1.25").is_multiple_of(price("0.1")));
}

// ---- notional ----

TEST(DecimalNotional, ExactProductTruncatedTowardZero) {
  auto product = [](std::string_view p, std::string_view q) {
    const auto result = notional(Price::parse(p).value(), Qty::parse(q).value());
    return result.ok() ? std::string(format(Price::from_raw(result.value().raw())))
                       : std::string(to_string(result.error()));
  };
  EXPECT_EQ(product("65114.2", "0.001"), "65.1142");
  EXPECT_EQ(product("65114.2", "1.5"), "97671.3");
  EXPECT_EQ(product("-65114.2", "0.5"), "-32557.1");
  EXPECT_EQ(product("65114.2", "-0.5"), "-32557.1");
  EXPECT_EQ(product("0.00000001", "0.5"), "0");
  EXPECT_EQ(product("-0.00000001", "0.5"), "0");  // toward zero, not -0.00000001
  EXPECT_EQ(product("0.00000003", "0.5"), "0.00000001");
  EXPECT_EQ(product("-0.00000003", "0.5"), "-0.00000001");
  EXPECT_EQ(product("0.12345678", "0.12345678"), "0.01524157");  // 0.0152415765279684
  EXPECT_EQ(product("92233720368", "1"), "92233720368");
  EXPECT_EQ(product("92233720368.54775807", "1"), "92233720368.54775807");
  EXPECT_EQ(product("-92233720368.54775808", "1"), "-92233720368.54775808");
  EXPECT_EQ(product("-92233720368.54775808", "-1"), "overflow");
  EXPECT_EQ(product("92233720368", "2"), "overflow");
  EXPECT_EQ(product("10000000", "10000"), "overflow");
  EXPECT_EQ(product("30000", "3000000"), "90000000000");
  EXPECT_EQ(product("0", "92233720368"), "0");
}

TEST(DecimalNotional, AgreesWithA128BitReference) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 500'000; ++i) {
    const std::int64_t p = random_raw(rng);
    const std::int64_t q = random_raw(rng);
    const Int128 exact = Int128{p} * q / kScale;
    const auto result = notional(Price::from_raw(p), Qty::from_raw(q));
    if (exact < kMinRaw || exact > kMaxRaw) {
      ASSERT_EQ(result.error(), DecimalError::overflow) << p << " " << q;
    } else {
      ASSERT_TRUE(result.ok()) << p << " " << q;
      ASSERT_EQ(result.value().raw(), static_cast<std::int64_t>(exact)) << p << " " << q;
    }
  }
}

// ---- from_double ----

TEST(DecimalFromDouble, NearestRepresentable) {
  EXPECT_EQ(Price::from_double(0.1).value().raw(), 10'000'000);
  EXPECT_EQ(Price::from_double(65114.2).value().raw(), 6'511'420'000'000);
  EXPECT_EQ(Price::from_double(-65114.2).value().raw(), -6'511'420'000'000);
  EXPECT_EQ(Price::from_double(0.00012345).value().raw(), 12'345);
  EXPECT_EQ(Price::from_double(1e-9).value().raw(), 0);
  EXPECT_EQ(Price::from_double(-1e-9).value().raw(), 0);
  EXPECT_EQ(Price::from_double(0.0).value().raw(), 0);
  EXPECT_EQ(Price::from_double(-0.0).value().raw(), 0);
  EXPECT_EQ(Price::from_double(1e-300).value().raw(), 0);
  EXPECT_EQ(Price::from_double(std::numeric_limits<double>::denorm_min()).value().raw(), 0);
  EXPECT_EQ(Price::from_double(92233720368.0).value().raw(), 9'223'372'036'800'000'000);
  // 2^-9 * 1e8 = 195312.5 exactly: a true tie, broken away from zero.
  EXPECT_EQ(Price::from_double(0.001953125).value().raw(), 195'313);
  EXPECT_EQ(Price::from_double(-0.001953125).value().raw(), -195'313);
  // These doubles lie just below the tie, yet value * 1e8 rounds up onto it in double
  // (2.5e-8 * 1e8 == 2.5): the exact product decides, so they round down.
  EXPECT_EQ(Price::from_double(2.5e-8).value().raw(), 2);
  EXPECT_EQ(Price::from_double(-2.5e-8).value().raw(), -2);
  EXPECT_EQ(Price::from_double(4.5e-8).value().raw(), 4);
  EXPECT_EQ(Price::from_double(1.5e-8).value().raw(), 1);
  EXPECT_EQ(Price::from_double(5e-9).value().raw(), 1);  // just above the tie
}

TEST(DecimalFromDouble, RefusesNonFiniteAndOutOfRange) {
  const double refused[] = {std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            1e11,
                            -1e11,
                            92233720368.548,
                            -92233720368.548,
                            1e300,
                            std::numeric_limits<double>::max()};
  for (const double value : refused) {
    const auto result = Price::from_double(value);
    EXPECT_FALSE(result.ok()) << value;
    EXPECT_EQ(result.error(), DecimalError::overflow) << value;
  }
}

TEST(DecimalFromDouble, AgreesWithAnExactReference) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int near_ties_checked = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    double value = 0;
    if (i % 2 == 0) {  // any magnitude up to just past the range
      value = std::ldexp(unit(rng), static_cast<int>(rng() % 80) - 40);
    } else {  // next to a half unit, where rounding of the product matters
      const auto units = static_cast<double>(rng() % 100'000'000'000'000ULL);
      const double tie = (units + 0.5) / static_cast<double>(kScale);
      value = std::nextafter(tie, (rng() & 1) != 0 ? 1e300 : -1e300);
      ++near_ties_checked;
    }
    if ((rng() & 1) != 0) {
      value = -value;
    }
    std::int64_t expected = 0;
    const bool in_range = reference_from_double(value, expected);
    const auto result = Price::from_double(value);
    if (!in_range) {
      ASSERT_EQ(result.error(), DecimalError::overflow) << value;
    } else {
      ASSERT_TRUE(result.ok()) << value;
      ASSERT_EQ(result.value().raw(), expected) << std::hexfloat << value;
    }
  }
  EXPECT_GT(near_ties_checked, 0);

  // Edges: the ends of the range, and where value * 1e8 stops having a fraction (2^52).
  const double limit = 92233720368.54775807;
  const double edges[] = {limit,
                          std::nextafter(limit, 0.0),
                          std::nextafter(std::nextafter(limit, 0.0), 0.0),
                          std::nextafter(limit, 1e300),
                          -limit,
                          std::nextafter(-limit, 0.0),
                          std::nextafter(-limit, -1e300),
                          0x1p63 / 1e8,
                          -0x1p63 / 1e8,
                          0x1p52 / 1e8,
                          std::nextafter(0x1p52 / 1e8, 0.0),
                          std::nextafter(0x1p52 / 1e8, 1.0),
                          0x1p53 / 1e8 + 0.5e-8};
  for (const double value : edges) {
    std::int64_t expected = 0;
    const bool in_range = reference_from_double(value, expected);
    const auto result = Price::from_double(value);
    ASSERT_EQ(result.ok(), in_range) << std::hexfloat << value;
    if (in_range) {
      EXPECT_EQ(result.value().raw(), expected) << std::hexfloat << value;
    }
  }
}

// ---- allocation ----

TEST(DecimalAllocation, ParseAndFormatAllocateNothing) {
  const std::string_view texts[] = {
      "65114.2035",           "0.00012345",          "93512.40", "-1", "1e5", "12345678.12345678",
      "000000000000000001.5", "92233720368.54775808"};
  char buffer[Price::kMaxFormattedLength];
  std::int64_t checksum = 0;
  const std::uint64_t before = test::allocations_on_this_thread();
  for (int round = 0; round < 1000; ++round) {
    for (const std::string_view text : texts) {
      const auto parsed = Price::parse(text);
      checksum += parsed.value_or(Price{}).raw();
      checksum += static_cast<std::int64_t>(parsed.value_or(Price{}).format(buffer));
      checksum += static_cast<std::int64_t>(parsed.value_or(Price{}).format_fixed(buffer, 2));
    }
  }
  const std::uint64_t after = test::allocations_on_this_thread();
  EXPECT_EQ(after - before, 0u);
  EXPECT_NE(checksum, 0);
}

}  // namespace
}  // namespace kinetic
