// Micro-benchmarks of the fixed-point decimals: parse, format, rounding to a tick, notional.
// Each benchmark rotates through several inputs of different shapes so that the branch
// predictor cannot learn a single one. The strtod and std::from_chars rows parse the same
// strings into double, as a baseline only (they are not exact and are not used on the wire).
//
// Run: decimal_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kinetic/core/decimal.hpp"

namespace {

using kinetic::Price;
using kinetic::Qty;

// 16 ten-character prices with the dot in every position a price can have it.
constexpr std::array<std::string_view, 16> kTenCharPrices = {
    "65114.2035", "0.00012345", "93512.4012", "1.23456789", "12.3456789", "123.456789",
    "1234.56789", "12345.6789", "123456.789", "1234567.89", "12345678.9", "-651.14203",
    "3512.40125", "0.10000000", "2.71828182", "65114.1999",
};

// Short prices and quantities as they appear in trade and book messages.
constexpr std::array<std::string_view, 16> kShortTexts = {
    "0.1", "93512.4", "1",      "65114.2", "0.001", "93512.40", "5",   "-2.5",
    "12",  "0.5",     "3512.5", "100",     "0.01",  "7.25",     "999", "65114",
};

constexpr std::size_t kMask = 15;  // the arrays above have 16 entries

void BM_DecimalParse10Char(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto result = Price::parse(kTenCharPrices[i++ & kMask]);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_DecimalParse10Char);

void BM_DecimalParseShort(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto result = Price::parse(kShortTexts[i++ & kMask]);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_DecimalParseShort);

// Longer than the 16-byte fast path, and leading zeros: the digit-by-digit path.
void BM_DecimalParseLong(benchmark::State& state) {
  constexpr std::array<std::string_view, 4> kLong = {"12345678901.12345678",
                                                     "-92233720368.54775808",
                                                     "00000000000000065114.2", "1234567.123456789"};
  std::size_t i = 0;
  for (auto _ : state) {
    auto result = Price::parse(kLong[i++ & 3]);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_DecimalParseLong);

std::array<Price, 16> ten_char_values() {
  std::array<Price, 16> values{};
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = Price::parse(kTenCharPrices[i]).value();
  }
  return values;
}

void BM_DecimalFormat(benchmark::State& state) {
  const auto values = ten_char_values();
  char buffer[Price::kMaxFormattedLength];
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t length = values[i++ & kMask].format(buffer);
    benchmark::DoNotOptimize(length);
    benchmark::DoNotOptimize(buffer);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_DecimalFormat);

void BM_DecimalFormatFixed(benchmark::State& state) {
  const auto values = ten_char_values();
  char buffer[Price::kMaxFormattedLength];
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t length = values[i++ & kMask].format_fixed(buffer, 2);
    benchmark::DoNotOptimize(length);
    benchmark::DoNotOptimize(buffer);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_DecimalFormatFixed);

void BM_RoundToTick(benchmark::State& state) {
  const auto values = ten_char_values();
  Price tick = Price::parse("0.1").value();
  benchmark::DoNotOptimize(tick);  // a run-time tick size, as read from instrument info
  std::size_t i = 0;
  for (auto _ : state) {
    const Price rounded = values[i++ & kMask].round_nearest(tick);
    benchmark::DoNotOptimize(rounded);
  }
}
BENCHMARK(BM_RoundToTick);

void BM_Notional(benchmark::State& state) {
  const auto prices = ten_char_values();
  const std::array<Qty, 4> quantities = {Qty::parse("0.001").value(), Qty::parse("1.5").value(),
                                         Qty::parse("25").value(),
                                         Qty::parse("0.12345678").value()};
  std::size_t i = 0;
  for (auto _ : state) {
    auto result = kinetic::notional(prices[i & kMask], quantities[i & 3]);
    ++i;
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_Notional);

// ---- baselines: the same ten-character strings into double ----

void BM_BaselineStrtod10Char(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    // The literals are NUL-terminated, which strtod needs.
    const double value = std::strtod(kTenCharPrices[i++ & kMask].data(), nullptr);
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_BaselineStrtod10Char);

void BM_BaselineFromChars10Char(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string_view text = kTenCharPrices[i++ & kMask];
    double value = 0;
    auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    benchmark::DoNotOptimize(result);
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_BaselineFromChars10Char);

}  // namespace
