#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/risk/data_validation.hpp"

namespace kinetic::risk {
namespace {

Price px(std::int64_t units) {
  return Price::from_units(units);
}
Qty qty(std::int64_t units) {
  return Qty::from_units(units);
}

/// Window and warm-up of 4 so that the statistics are easy to compute by hand.
TickValidatorParams small_window() {
  TickValidatorParams p;
  p.window = 4;
  p.warmup_ticks = 4;
  return p;
}

/// Prices 100, 102, 100, 102 (mean 101, population σ exactly 1), volumes 1 each (mean 1).
void warm(TickValidator& v, SymbolId symbol) {
  for (const std::int64_t p : {100, 102, 100, 102})
    ASSERT_FALSE(v.validate(symbol, px(p), qty(1)).flagged());
}

// The validator is 33 KiB: keep it off the test's stack.
std::unique_ptr<TickValidator> make(const TickValidatorParams& p = small_window()) {
  return std::make_unique<TickValidator>(p);
}

TEST(TickValidator, ParamsValidity) {
  EXPECT_TRUE(TickValidatorParams{}.valid());
  EXPECT_TRUE(small_window().valid());
  TickValidatorParams p = small_window();
  p.warmup_ticks = 5;
  EXPECT_FALSE(p.valid());
  p = {};
  p.window = TickValidatorParams::kMaxWindow + 1;
  EXPECT_FALSE(p.valid());
  p = {};
  p.price_sigmas = 0.0;
  EXPECT_FALSE(p.valid());
  p = {};
  p.max_consecutive_outliers = 0;
  EXPECT_FALSE(p.valid());
}

TEST(TickValidator, StatisticsOfTheConstructedWindow) {
  auto v = make();
  warm(*v, 0);
  const auto s = v->stats(0);
  EXPECT_EQ(s.price_samples, 4u);
  EXPECT_DOUBLE_EQ(s.price_mean, 101.0);
  EXPECT_DOUBLE_EQ(s.price_sigma, 1.0);
  EXPECT_EQ(s.volume_samples, 4u);
  EXPECT_DOUBLE_EQ(s.volume_mean, 1.0);
}

TEST(TickValidator, PriceExactlyFiveSigmaAboveIsNotFlagged) {
  auto v = make();
  warm(*v, 0);
  EXPECT_EQ(v->validate(0, px(106), qty(1)).flags, kTickOk);
}

TEST(TickValidator, PriceJustBeyondFiveSigmaAboveIsFlagged) {
  auto v = make();
  warm(*v, 0);
  const TickVerdict verdict = v->validate(0, Price::from_raw(10'600'000'001), qty(1));
  EXPECT_EQ(verdict.flags, kTickPriceOutlier);
  EXPECT_TRUE(verdict.drop);
}

TEST(TickValidator, PriceFiveSigmaBelowBoundary) {
  auto v = make();
  warm(*v, 0);
  warm(*v, 1);
  EXPECT_EQ(v->validate(0, px(96), qty(1)).flags, kTickOk);
  EXPECT_EQ(v->validate(1, Price::from_raw(9'599'999'999), qty(1)).flags, kTickPriceOutlier);
}

TEST(TickValidator, VolumeExactlyThreeTimesTheAverageIsNotFlagged) {
  auto v = make();
  warm(*v, 0);
  EXPECT_EQ(v->validate(0, px(101), qty(3)).flags, kTickOk);
}

TEST(TickValidator, VolumeAboveThreeTimesTheAverageIsFlagged) {
  auto v = make();
  warm(*v, 0);
  EXPECT_EQ(v->validate(0, px(101), Qty::from_raw(300'000'001)).flags, kTickVolumeSpike);
}

TEST(TickValidator, BothFlagsTogether) {
  auto v = make();
  warm(*v, 0);
  EXPECT_EQ(v->validate(0, px(200), qty(50)).flags, kTickPriceOutlier | kTickVolumeSpike);
}

TEST(TickValidator, NothingIsFlaggedDuringWarmUp) {
  auto v = make();
  EXPECT_FALSE(v->validate(0, px(100), qty(1)).flagged());
  EXPECT_FALSE(v->validate(0, px(10'000), qty(1'000)).flagged());
  EXPECT_FALSE(v->validate(0, px(1), qty(1)).flagged());
  // Three samples so far (< 4): the fourth tick is still not judged, whatever it is.
  EXPECT_FALSE(v->validate(0, px(999'999), qty(1'000'000)).flagged());
  EXPECT_EQ(v->stats(0).price_samples, 4u);
}

TEST(TickValidator, FirstJudgedTickIsTheOneAfterWarmUp) {
  auto v = make();
  warm(*v, 0);  // 4 samples
  EXPECT_TRUE(v->validate(0, px(1'000), qty(1)).flagged());
}

TEST(TickValidator, AnOutlierDoesNotEnterTheStatistics) {
  auto v = make();
  warm(*v, 0);
  ASSERT_TRUE(v->validate(0, px(1'000), qty(1)).flagged());
  const auto s = v->stats(0);
  EXPECT_EQ(s.price_samples, 4u);
  EXPECT_DOUBLE_EQ(s.price_mean, 101.0);
  EXPECT_DOUBLE_EQ(s.price_sigma, 1.0);
  // Had 1000 poisoned the window, 106.00000001 would pass; it is still beyond 5σ.
  EXPECT_TRUE(v->validate(0, Price::from_raw(10'600'000'001), qty(1)).flagged());
}

TEST(TickValidator, AVolumeSpikeStillUpdatesThePriceWindow) {
  auto v = make();
  warm(*v, 0);
  ASSERT_EQ(v->validate(0, px(104), qty(10)).flags, kTickVolumeSpike);
  const auto s = v->stats(0);
  // 104 replaced the oldest price (100): window 104, 102, 100, 102.
  EXPECT_DOUBLE_EQ(s.price_mean, 102.0);
  EXPECT_DOUBLE_EQ(s.volume_mean, 1.0) << "the spike stays out of the volume window";
}

TEST(TickValidator, ZeroQuantitySkipsTheVolumeRule) {
  auto v = make();
  warm(*v, 0);
  EXPECT_EQ(v->validate(0, px(101), Qty::from_raw(0)).flags, kTickOk);
  EXPECT_EQ(v->stats(0).volume_samples, 4u);
}

TEST(TickValidator, TheWindowSlides) {
  auto v = make();
  warm(*v, 0);
  for (int i = 0; i < 4; ++i)
    ASSERT_FALSE(v->validate(0, px(104), qty(2)).flagged());
  const auto s = v->stats(0);
  EXPECT_DOUBLE_EQ(s.price_mean, 104.0);
  EXPECT_DOUBLE_EQ(s.price_sigma, 0.0);
  EXPECT_DOUBLE_EQ(s.volume_mean, 2.0);
}

TEST(TickValidator, SigmaFloorInAFlatMarket) {
  auto v = make();  // floor 1 bp of 100 = 0.01, so 5σ = 0.05
  for (const SymbolId symbol : {SymbolId{0}, SymbolId{1}}) {
    for (int i = 0; i < 4; ++i)
      ASSERT_FALSE(v->validate(symbol, px(100), qty(1)).flagged());
  }
  EXPECT_FALSE(v->validate(0, Price::from_raw(10'004'000'000), qty(1)).flagged());  // 100.04
  EXPECT_TRUE(v->validate(1, Price::from_raw(10'006'000'000), qty(1)).flagged());   // 100.06
}

TEST(TickValidator, ALevelShiftRestartsThePriceWindow) {
  TickValidatorParams p = small_window();
  p.max_consecutive_outliers = 3;
  auto v = make(p);
  warm(*v, 0);
  EXPECT_TRUE(v->validate(0, px(200), qty(1)).flagged());
  EXPECT_TRUE(v->validate(0, px(200), qty(1)).flagged());
  EXPECT_EQ(v->stats(0).price_samples, 4u);
  EXPECT_TRUE(v->validate(0, px(200), qty(1)).flagged());  // the third: window restarts here
  const auto s = v->stats(0);
  EXPECT_EQ(s.price_samples, 1u);
  EXPECT_DOUBLE_EQ(s.price_mean, 200.0);
  EXPECT_FALSE(v->validate(0, px(201), qty(1)).flagged());  // warming up again
}

TEST(TickValidator, ANormalTickResetsTheOutlierRun) {
  TickValidatorParams p = small_window();
  p.max_consecutive_outliers = 2;
  auto v = make(p);
  warm(*v, 0);
  EXPECT_TRUE(v->validate(0, px(200), qty(1)).flagged());
  EXPECT_FALSE(v->validate(0, px(101), qty(1)).flagged());
  EXPECT_TRUE(v->validate(0, px(200), qty(1)).flagged());  // a run of one again
  EXPECT_EQ(v->stats(0).price_samples, 4u);
}

TEST(TickValidator, PassWithFlagPolicy) {
  TickValidatorParams p = small_window();
  p.policy = FlaggedTickPolicy::pass_with_flag;
  auto v = make(p);
  warm(*v, 0);
  const TickVerdict verdict = v->validate(0, px(200), qty(1));
  EXPECT_EQ(verdict.flags, kTickPriceOutlier);
  EXPECT_FALSE(verdict.drop);
  const TickVerdict invalid = v->validate(0, px(0), qty(1));
  EXPECT_EQ(invalid.flags, kTickInvalid);
  EXPECT_TRUE(invalid.drop) << "an invalid tick is dropped under any policy";
}

TEST(TickValidator, InvalidTicks) {
  auto v = make();
  EXPECT_EQ(v->validate(0, Price::from_raw(-1), qty(1)).flags, kTickInvalid);
  EXPECT_EQ(v->validate(TickValidator::kMaxSymbols, px(100), qty(1)).flags, kTickInvalid);
  EXPECT_EQ(v->stats(0).price_samples, 0u);
}

TEST(TickValidator, SymbolsAreIndependent) {
  auto v = make();
  warm(*v, 3);
  EXPECT_FALSE(v->validate(4, px(50'000), qty(1)).flagged());  // symbol 4 is warming up
  EXPECT_TRUE(v->validate(3, px(50'000), qty(1)).flagged());
}

TEST(TickValidator, MarketEventOverloadMarksSuspectTrades) {
  TickValidatorParams p = small_window();
  p.policy = FlaggedTickPolicy::pass_with_flag;
  auto v = make(p);
  warm(*v, 0);
  MarketEvent e{};
  e.type = MarketEventType::trade;
  e.symbol = 0;
  e.flags = kFlagEndOfBatch;
  e.trade.price = px(101);
  e.trade.qty = qty(1);
  EXPECT_FALSE(v->validate(e).flagged());
  EXPECT_EQ(e.flags, kFlagEndOfBatch);
  e.trade.price = px(150);
  EXPECT_EQ(v->validate(e).flags, kTickPriceOutlier);
  EXPECT_EQ(e.flags, kFlagEndOfBatch | kFlagSuspect);
  MarketEvent level{};
  level.type = MarketEventType::book_level;
  level.level.price = px(1);
  EXPECT_FALSE(v->validate(level).flagged());
  EXPECT_EQ(level.flags, 0);
}

TEST(TickValidator, DefaultParamsAtRealisticPriceLevels) {
  auto v = make(TickValidatorParams{});  // window 64, 5σ, 3×
  // Alternating 65000 ± 1 (σ = 1, but the 1 bp floor is 6.5): 5 × 6.5 = 32.5 from 65000.
  // Each probe on its own symbol, so that an accepted probe does not move the next one's window.
  for (const SymbolId symbol : {SymbolId{0}, SymbolId{1}, SymbolId{2}}) {
    for (int i = 0; i < 64; ++i)
      ASSERT_FALSE(v->validate(symbol, px(i % 2 == 0 ? 64'999 : 65'001), qty(2)).flagged());
  }
  EXPECT_FALSE(v->validate(0, Price::from_raw(6'503'200'000'000), qty(6)).flagged());  // +32
  EXPECT_EQ(v->validate(1, Price::from_raw(6'503'300'000'000), qty(2)).flags,
            kTickPriceOutlier);                                           // +33
  EXPECT_EQ(v->validate(2, px(65'000), qty(7)).flags, kTickVolumeSpike);  // 7 > 3 × 2
}

TEST(TickValidator, RunningStatisticsMatchATwoPassRecomputation) {
  // Nothing flagged (huge thresholds), so the window is simply the last 64 prices. Running
  // sums must agree with a fresh two-pass computation at a high price level for a long run.
  TickValidatorParams p;
  p.price_sigmas = 1e12;
  p.volume_multiple = 1e12;
  auto v = make(p);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0.0, 3.0);
  std::vector<double> history;
  double level = 65'000.0;
  for (int i = 0; i < 100'000; ++i) {
    level += noise(rng) * 0.1;
    const Price price = Price::from_double(level + noise(rng)).value();
    ASSERT_FALSE(v->validate(0, price, qty(1)).flagged());
    history.push_back(price.to_double());
    if (i % 997 != 0 || history.size() < p.window)
      continue;
    double mean = 0.0;
    for (std::size_t k = history.size() - p.window; k < history.size(); ++k)
      mean += history[k];
    mean /= static_cast<double>(p.window);
    double var = 0.0;
    for (std::size_t k = history.size() - p.window; k < history.size(); ++k)
      var += (history[k] - mean) * (history[k] - mean);
    var /= static_cast<double>(p.window);
    const auto s = v->stats(0);
    ASSERT_NEAR(s.price_mean, mean, 1e-9 * mean) << "tick " << i;
    ASSERT_NEAR(s.price_sigma, std::sqrt(var), 1e-9 * std::sqrt(var)) << "tick " << i;
  }
}

TEST(TickValidator, NoAllocationOverLongRandomSequences) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0.0, 10.0);
  std::uniform_int_distribution<int> symbol(0, 7);
  std::uniform_int_distribution<int> glitch(0, 99);
  std::uniform_int_distribution<std::int64_t> size(1, 100);
  auto v = make(TickValidatorParams{});
  std::uint64_t flagged = 0;
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (int i = 0; i < 200'000; ++i) {
      double price = 65'000.0 + noise(rng);
      if (glitch(rng) == 0)
        price *= 1.5;
      const auto result = Price::from_double(price);
      const std::int64_t q = glitch(rng) == 1 ? 10'000 : size(rng);
      const TickVerdict verdict =
          v->validate(static_cast<SymbolId>(symbol(rng)), result.value(), Qty::from_units(q));
      if (verdict.flagged())
        ++flagged;
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(flagged, 0u);
}

}  // namespace
}  // namespace kinetic::risk
