#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/math/correlation.hpp"
#include "kinetic/core/risk/portfolio.hpp"

namespace {

using kinetic::Amount;
using kinetic::Price;
using kinetic::Qty;
using kinetic::Side;
using kinetic::SymbolId;
using kinetic::TimestampNs;
using kinetic::math::BasicReturnCorrelation;
using kinetic::math::ReturnCorrelation;
using kinetic::math::ReturnCorrelationParams;
using kinetic::risk::EntryRoom;
using kinetic::risk::PortfolioCheck;
using kinetic::risk::PortfolioLimits;
using kinetic::risk::PortfolioParams;
using kinetic::risk::RejectReason;
using kinetic::risk::SizeBound;

constexpr TimestampNs kSecond = 1'000'000'000;

Price px(std::int64_t units) {
  return Price::from_units(units);
}
Qty qty(std::int64_t units) {
  return Qty::from_units(units);
}
Amount amount(std::int64_t units) {
  return Amount::from_units(units);
}
Qty plus_one_raw(Qty q) {
  return Qty::from_raw(q.raw() + 1);
}

// ---------------------------------------------------------------------------------------------
// ReturnCorrelation

// Feeds two price paths built from log-returns into a correlation estimator, one sample each.
template <std::size_t N>
void feed_returns(BasicReturnCorrelation<N>& corr, const std::vector<double>& rx,
                  const std::vector<double>& ry, TimestampNs& now) {
  double px0 = 100.0;
  double py0 = 50.0;
  corr.update(0, px0);
  corr.update(1, py0);
  corr.sample(now);
  for (std::size_t k = 0; k < rx.size(); ++k) {
    px0 *= std::exp(rx[k]);
    py0 *= std::exp(ry[k]);
    corr.update(0, px0);
    corr.update(1, py0);
    now += kSecond;
    ASSERT_TRUE(corr.sample(now));
  }
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    mx += x[k];
    my += y[k];
  }
  mx /= n;
  my /= n;
  double sxx = 0, syy = 0, sxy = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    sxx += (x[k] - mx) * (x[k] - mx);
    syy += (y[k] - my) * (y[k] - my);
    sxy += (x[k] - mx) * (y[k] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

// Two-pass Pearson with the estimator's weights: w_1 = (1−α)^(n−1), w_k = α(1−α)^(n−k).
double weighted_pearson(const std::vector<double>& x, const std::vector<double>& y, double alpha) {
  const std::size_t n = x.size();
  std::vector<double> w(n);
  for (std::size_t k = 0; k < n; ++k) {
    const double age = static_cast<double>(n - 1 - k);
    w[k] = (k == 0 ? 1.0 : alpha) * std::pow(1.0 - alpha, age);
  }
  double mx = 0, my = 0;
  for (std::size_t k = 0; k < n; ++k) {
    mx += w[k] * x[k];
    my += w[k] * y[k];
  }
  double sxx = 0, syy = 0, sxy = 0;
  for (std::size_t k = 0; k < n; ++k) {
    sxx += w[k] * (x[k] - mx) * (x[k] - mx);
    syy += w[k] * (y[k] - my) * (y[k] - my);
    sxy += w[k] * (x[k] - mx) * (y[k] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

struct ReturnPair {
  std::vector<double> x, y;
};

// Returns with correlation rho built from shared normal shocks: y = ρ z0 + √(1−ρ²) z1.
ReturnPair correlated_returns(double rho, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  ReturnPair out;
  const double sigma = 0.001;  // 0.1 % per sample, a typical 1 s crypto move
  for (std::size_t k = 0; k < n; ++k) {
    const double z0 = normal(rng);
    const double z1 = normal(rng);
    out.x.push_back(sigma * z0);
    out.y.push_back(sigma * (rho * z0 + std::sqrt(1.0 - rho * rho) * z1));
  }
  return out;
}

// The returns the estimator actually sees: ln(p_k / p_{k−1}) of the rebuilt price path.
std::vector<double> realised_returns(const std::vector<double>& r, double p0) {
  std::vector<double> out;
  double prev = p0;
  for (double step : r) {
    const double next = prev * std::exp(step);
    out.push_back(std::log(next / prev));
    prev = next;
  }
  return out;
}

TEST(ReturnCorrelation, NotReadyAndZeroUntilMinSamples) {
  ReturnCorrelation corr({.num_series = 2, .interval_ns = kSecond, .alpha = 0.1, .min_samples = 5});
  const ReturnPair r = correlated_returns(0.9, 4, 1);
  TimestampNs now = 0;
  feed_returns(corr, r.x, r.y, now);
  EXPECT_EQ(corr.common_samples(0, 1), 4u);  // the first snapshot has no returns
  EXPECT_FALSE(corr.ready(0, 1));
  EXPECT_EQ(corr.correlation(0, 1), 0.0);
  corr.update(0, 101.0);
  corr.update(1, 50.5);
  ASSERT_TRUE(corr.sample(now + kSecond));
  EXPECT_TRUE(corr.ready(0, 1));
  EXPECT_TRUE(corr.ready(1, 0));
  EXPECT_NE(corr.correlation(0, 1), 0.0);
  EXPECT_EQ(corr.correlation(0, 1), corr.correlation(1, 0));
}

TEST(ReturnCorrelation, ConstantSeriesIsNeverReady) {
  ReturnCorrelation corr({.num_series = 2, .interval_ns = kSecond, .alpha = 0.1, .min_samples = 2});
  for (int k = 0; k < 10; ++k) {
    corr.update(0, 100.0 + k);
    corr.update(1, 7.0);  // no variance: correlation undefined
    corr.sample(k * kSecond);
  }
  EXPECT_EQ(corr.common_samples(0, 1), 9u);
  EXPECT_FALSE(corr.ready(0, 1));
  EXPECT_EQ(corr.correlation(0, 1), 0.0);
}

TEST(ReturnCorrelation, IdenticalSeriesCorrelateExactlyOne) {
  ReturnCorrelation corr(
      {.num_series = 3, .interval_ns = kSecond, .alpha = 0.05, .min_samples = 3});
  const ReturnPair r = correlated_returns(0.0, 200, 2);
  double p = 100.0;
  double q = 30.0;
  for (std::size_t k = 0; k < r.x.size(); ++k) {
    p *= std::exp(r.x[k]);
    q /= std::exp(r.x[k]);  // the inverse price: returns negated (up to rounding)
    corr.update(0, p);
    corr.update(1, p);
    corr.update(2, q);
    corr.sample(static_cast<TimestampNs>(k) * kSecond);
  }
  ASSERT_TRUE(corr.ready(0, 1));
  EXPECT_EQ(corr.correlation(0, 1), 1.0);  // identical samples: cov == var bit for bit
  EXPECT_NEAR(corr.correlation(0, 2), -1.0, 1e-9);
  EXPECT_GE(corr.correlation(0, 2), -1.0);
  EXPECT_EQ(corr.correlation(1, 1), 1.0);
}

TEST(ReturnCorrelation, RecurrenceEqualsWeightedTwoPassPearson) {
  const double alpha = 0.02;
  ReturnCorrelation corr(
      {.num_series = 2, .interval_ns = kSecond, .alpha = alpha, .min_samples = 10});
  const ReturnPair r = correlated_returns(0.6, 500, 3);
  TimestampNs now = 0;
  feed_returns(corr, r.x, r.y, now);
  const std::vector<double> x = realised_returns(r.x, 100.0);
  const std::vector<double> y = realised_returns(r.y, 50.0);
  EXPECT_NEAR(corr.correlation(0, 1), weighted_pearson(x, y, alpha), 1e-9);
}

TEST(ReturnCorrelation, EstimatesRhoPointNineFromSharedShocks) {
  const ReturnPair r = correlated_returns(0.9, 20'000, 4);
  const double direct = pearson(r.x, r.y);
  EXPECT_NEAR(direct, 0.9, 0.01);  // the construction itself
  ReturnCorrelation corr(
      {.num_series = 2, .interval_ns = kSecond, .alpha = 0.002, .min_samples = 100});
  TimestampNs now = 0;
  feed_returns(corr, r.x, r.y, now);
  ASSERT_TRUE(corr.ready(0, 1));
  // ~1/α = 500 effective samples: standard error (1 − ρ²)/√500 ≈ 0.0085.
  EXPECT_NEAR(corr.correlation(0, 1), direct, 0.04);
}

TEST(ReturnCorrelation, EstimatesZeroForIndependentShocks) {
  const ReturnPair r = correlated_returns(0.0, 20'000, 5);
  const double direct = pearson(r.x, r.y);
  EXPECT_NEAR(direct, 0.0, 0.03);
  ReturnCorrelation corr(
      {.num_series = 2, .interval_ns = kSecond, .alpha = 0.001, .min_samples = 100});
  TimestampNs now = 0;
  feed_returns(corr, r.x, r.y, now);
  ASSERT_TRUE(corr.ready(0, 1));
  // ~1000 effective samples: standard error ≈ 0.032.
  EXPECT_NEAR(corr.correlation(0, 1), 0.0, 0.13);
}

TEST(ReturnCorrelation, SamplesOnAFixedGridAndSkipsSeriesWithoutPrices) {
  ReturnCorrelation corr({.num_series = 3, .interval_ns = kSecond, .alpha = 0.5, .min_samples = 1});
  corr.update(0, 100.0);
  corr.update(1, 10.0);
  EXPECT_TRUE(corr.sample(500));             // starts the clock; next due at 1 s + 500 ns
  EXPECT_FALSE(corr.sample(kSecond + 499));  // before the interval: nothing
  corr.update(0, 101.0);
  corr.update(1, 10.2);
  EXPECT_TRUE(corr.sample(kSecond + 500));
  EXPECT_EQ(corr.common_samples(0, 1), 1u);
  // Late by 2.3 intervals: one sample, and the grid stays on ...500 ns.
  corr.update(0, 102.0);
  corr.update(1, 10.1);
  EXPECT_TRUE(corr.sample(3 * kSecond + 800));
  EXPECT_FALSE(corr.sample(4 * kSecond + 499));
  EXPECT_TRUE(corr.sample(4 * kSecond + 500));
  EXPECT_EQ(corr.common_samples(0, 1), 3u);
  EXPECT_EQ(corr.common_samples(0, 2), 0u);  // series 2 never priced
  EXPECT_FALSE(corr.ready(0, 2));
  // Invalid prices and indices are ignored, never written.
  corr.update(2, -1.0);
  corr.update(2, std::nan(""));
  corr.update(7, 5.0);
  corr.sample(5 * kSecond + 500);
  corr.sample(6 * kSecond + 500);
  EXPECT_EQ(corr.common_samples(0, 2), 0u);
  EXPECT_EQ(corr.common_samples(0, 7), 0u);
  EXPECT_EQ(corr.correlation(0, 7), 0.0);
}

// ---------------------------------------------------------------------------------------------
// PortfolioLimits. Equity 10 000; symbol limit 20 % = 2 000; total limit 50 % = 5 000.

PortfolioParams default_params() {
  return {.max_symbol_exposure_bps = 2'000,
          .max_total_exposure_bps = 5'000,
          .max_open_positions = 3,
          .max_correlation = 0.8};
}
const Amount kEquity = amount(10'000);

class Portfolio : public ::testing::Test {
 protected:
  PortfolioLimits book{default_params()};
  // Not ready: the correlation limit stays out of the way of the exposure tests.
  ReturnCorrelation no_history{
      {.num_series = 8, .interval_ns = kSecond, .alpha = 0.1, .min_samples = 10}};

  PortfolioCheck check(SymbolId s, Side side, Qty q, Price p, Amount equity = kEquity) const {
    return book.check_new(s, side, q, p, equity, no_history);
  }
  EntryRoom room(SymbolId s, Side side, Price p, Amount equity = kEquity) const {
    return book.entry_room(s, side, p, equity, no_history);
  }
};

__extension__ using Int128 = __int128;
// The value price.raw() × qty.raw() of `units` of notional, and the largest value whose
// notional (rounded down to 1e-8) is still `units`.
constexpr Int128 kValuePerUnit = Int128{10'000'000'000'000'000};
constexpr Int128 largest_value_of(std::int64_t units) {
  return Int128{units} * kValuePerUnit + 99'999'999;
}

TEST_F(Portfolio, LimitsAreBasisPointsOfEquity) {
  EXPECT_EQ(book.symbol_exposure_limit(kEquity), amount(2'000));
  EXPECT_EQ(book.total_exposure_limit(kEquity), amount(5'000));
  // ⌊0.00000003 × 2000 / 10000⌋ raw = ⌊0.6⌋ = 0.
  EXPECT_EQ(book.symbol_exposure_limit(Amount::from_raw(3)).raw(), 0);
  EXPECT_EQ(book.symbol_exposure_limit(amount(-5)).raw(), 0);
}

TEST_F(Portfolio, SymbolLimitExactlyAtBoundaryAllowedOneRawUnitAboveRefused) {
  // 20 × 100 = 2 000 = the limit.
  const PortfolioCheck at = check(0, Side::buy, qty(20), px(100));
  EXPECT_EQ(at.reason, RejectReason::none);
  EXPECT_EQ(at.max_qty_allowed, qty(20));
  EXPECT_EQ(at.bound, SizeBound::symbol_exposure);
  const PortfolioCheck above = check(0, Side::buy, plus_one_raw(qty(20)), px(100));
  EXPECT_EQ(above.reason, RejectReason::symbol_exposure_limit);
  EXPECT_EQ(above.max_qty_allowed, qty(20));
  // Price 3: 3 × 666.66666666 = 1999.99999998 fits; 3 × 666.66666667 = 2000.00000001 does not.
  const Qty room = Qty::from_raw(66'666'666'666);
  EXPECT_EQ(check(1, Side::sell, room, px(3)).reason, RejectReason::none);
  EXPECT_EQ(check(1, Side::sell, room, px(3)).max_qty_allowed, room);
  EXPECT_EQ(check(1, Side::sell, plus_one_raw(room), px(3)).reason,
            RejectReason::symbol_exposure_limit);
}

TEST_F(Portfolio, IncreasingAPositionUsesTheRoomLeft) {
  book.on_fill(0, Side::buy, qty(15), px(100));
  EXPECT_EQ(book.position(0).exposure, amount(1'500));
  const PortfolioCheck more = check(0, Side::buy, qty(5), px(100));
  EXPECT_EQ(more.reason, RejectReason::none);
  EXPECT_EQ(more.max_qty_allowed, qty(5));
  EXPECT_EQ(check(0, Side::buy, plus_one_raw(qty(5)), px(100)).reason,
            RejectReason::symbol_exposure_limit);
  // At 125 the 15 held are worth 1 875: room 1 (= 125); the held qty is revalued at the order
  // price, not its mark.
  EXPECT_EQ(check(0, Side::buy, qty(1), px(125)).reason, RejectReason::none);
  EXPECT_EQ(check(0, Side::buy, qty(1), px(125)).max_qty_allowed, qty(1));
}

TEST_F(Portfolio, TotalLimitExactlyAtBoundary) {
  book.on_fill(0, Side::buy, qty(20), px(100));  // 2 000
  book.on_fill(1, Side::sell, qty(40), px(50));  // 2 000, short: gross exposure counts it
  EXPECT_EQ(book.total_exposure(), amount(4'000));
  // Room under the total: 1 000 → 10 at 100 (the symbol limit would allow 20).
  const PortfolioCheck at = check(2, Side::buy, qty(10), px(100));
  EXPECT_EQ(at.reason, RejectReason::none);
  EXPECT_EQ(at.max_qty_allowed, qty(10));
  EXPECT_EQ(at.bound, SizeBound::total_exposure);
  const PortfolioCheck above = check(2, Side::buy, plus_one_raw(qty(10)), px(100));
  EXPECT_EQ(above.reason, RejectReason::total_exposure_limit);
  EXPECT_EQ(above.max_qty_allowed, qty(10));
  EXPECT_EQ(above.bound, SizeBound::total_exposure);
}

TEST_F(Portfolio, MarksMoveExposureAndReductionsAlwaysPass) {
  book.on_fill(0, Side::buy, qty(20), px(100));
  book.on_mark(0, px(150));  // 3 000: above the symbol limit now
  EXPECT_EQ(book.position(0).exposure, amount(3'000));
  EXPECT_EQ(book.total_exposure(), amount(3'000));
  const PortfolioCheck add = check(0, Side::buy, Qty::from_raw(1), px(150));
  EXPECT_EQ(add.reason, RejectReason::symbol_exposure_limit);
  EXPECT_EQ(add.max_qty_allowed.raw(), 0);
  // Reductions: any size up to the whole position, even with no equity at all.
  for (const Qty q : {Qty::from_raw(1), qty(7), qty(20)}) {
    const PortfolioCheck reduce = check(0, Side::sell, q, px(150));
    EXPECT_EQ(reduce.reason, RejectReason::none);
    EXPECT_EQ(reduce.max_qty_allowed, qty(20));
    EXPECT_EQ(reduce.bound, SizeBound::none);
    EXPECT_EQ(check(0, Side::sell, q, px(150), Amount{}).reason, RejectReason::none);
  }
  book.on_fill(0, Side::sell, qty(8), px(150));
  EXPECT_EQ(book.position(0).qty, qty(12));
  EXPECT_EQ(book.total_exposure(), amount(1'800));
}

TEST_F(Portfolio, FlippingChecksTheNewSideOnly) {
  book.on_fill(0, Side::buy, qty(10), px(100));
  // Sell 30: closes 10, opens a 20 short worth 2 000 = the limit.
  const PortfolioCheck flip = check(0, Side::sell, qty(30), px(100));
  EXPECT_EQ(flip.reason, RejectReason::none);
  EXPECT_EQ(flip.max_qty_allowed, qty(30));
  EXPECT_EQ(check(0, Side::sell, plus_one_raw(qty(30)), px(100)).reason,
            RejectReason::symbol_exposure_limit);
  book.on_fill(0, Side::sell, qty(30), px(100));
  EXPECT_EQ(book.position(0).qty, -qty(20));
  EXPECT_EQ(book.open_positions(), 1u);
}

TEST_F(Portfolio, MaxOpenPositions) {
  book.on_fill(0, Side::buy, qty(1), px(100));
  book.on_fill(1, Side::sell, qty(1), px(100));
  book.on_fill(2, Side::buy, qty(1), px(100));
  EXPECT_EQ(book.open_positions(), 3u);
  const PortfolioCheck fourth = check(3, Side::buy, qty(1), px(100));
  EXPECT_EQ(fourth.reason, RejectReason::max_open_positions);
  EXPECT_EQ(fourth.max_qty_allowed.raw(), 0);
  // Adding to or reducing an open one is not a new position.
  EXPECT_EQ(check(1, Side::sell, qty(1), px(100)).reason, RejectReason::none);
  EXPECT_EQ(check(2, Side::sell, qty(1), px(100)).reason, RejectReason::none);
  // Closing one frees a slot (swap-remove from the middle of the open list).
  book.on_fill(1, Side::buy, qty(1), px(100));
  EXPECT_EQ(book.open_positions(), 2u);
  EXPECT_EQ(check(3, Side::buy, qty(1), px(100)).reason, RejectReason::none);
  book.set_position(3, -qty(2), px(10));
  EXPECT_EQ(book.open_positions(), 3u);
  EXPECT_EQ(book.position(3).exposure, amount(20));
  book.set_position(0, Qty{}, px(100));
  book.set_position(2, Qty{}, px(100));
  book.set_position(3, Qty{}, px(100));
  EXPECT_EQ(book.open_positions(), 0u);
  EXPECT_EQ(book.total_exposure().raw(), 0);
}

TEST_F(Portfolio, ExtremeMagnitudesSaturateInsteadOfOverflowing) {
  // Limit 2e8 units at a price of 1e-8: the room (2e16 units) is beyond the Qty range.
  const Amount huge_equity = amount(1'000'000'000);
  const PortfolioCheck room = check(0, Side::buy, qty(1), Price::from_raw(1), huge_equity);
  EXPECT_EQ(room.reason, RejectReason::none);
  EXPECT_EQ(room.max_qty_allowed.raw(), std::numeric_limits<std::int64_t>::max());
  // 9e10 units at 9e10: the exposure saturates at the Amount range and blocks any addition.
  book.set_position(1, qty(90'000'000'000), px(90'000'000'000));
  EXPECT_EQ(book.total_exposure().raw(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(check(2, Side::buy, Qty::from_raw(1), px(1), huge_equity).reason,
            RejectReason::total_exposure_limit);
  EXPECT_EQ(check(1, Side::sell, qty(1), px(1)).reason, RejectReason::none);
}

TEST_F(Portfolio, InvalidInput) {
  EXPECT_EQ(check(0, Side::none, qty(1), px(100)).reason, RejectReason::invalid_input);
  EXPECT_EQ(check(0, Side::buy, Qty{}, px(100)).reason, RejectReason::invalid_input);
  EXPECT_EQ(check(0, Side::buy, -qty(1), px(100)).reason, RejectReason::invalid_input);
  EXPECT_EQ(check(0, Side::buy, qty(1), Price{}).reason, RejectReason::invalid_input);
  EXPECT_EQ(check(64, Side::buy, qty(1), px(100)).reason, RejectReason::invalid_input);
  EXPECT_EQ(check(0, Side::buy, qty(1), px(100), Amount{}).reason, RejectReason::invalid_input);
  // Ignored updates leave the book unchanged.
  book.on_fill(64, Side::buy, qty(1), px(100));
  book.on_fill(0, Side::none, qty(1), px(100));
  book.on_fill(0, Side::buy, -qty(1), px(100));
  book.on_mark(0, -px(1));
  EXPECT_EQ(book.open_positions(), 0u);
  EXPECT_EQ(book.total_exposure().raw(), 0);
}

// Three series: 1 moves exactly with 0 (ρ = 1), 2 exactly against it (ρ ≈ −1).
ReturnCorrelation correlated_book(std::uint32_t min_samples) {
  ReturnCorrelation corr(
      {.num_series = 4, .interval_ns = kSecond, .alpha = 0.1, .min_samples = min_samples});
  const ReturnPair r = correlated_returns(0.0, 50, 6);
  double p = 100.0;
  for (std::size_t k = 0; k < r.x.size(); ++k) {
    p *= std::exp(r.x[k]);
    corr.update(0, p);
    corr.update(1, p);
    corr.update(2, 1e4 / p);
    corr.update(3, 100.0 * std::exp(r.y[k]));  // independent of the others
    corr.sample(static_cast<TimestampNs>(k) * kSecond);
  }
  return corr;
}

TEST_F(Portfolio, CorrelationLimitBlocksSameDirectionOnly) {
  const auto corr = std::make_unique<ReturnCorrelation>(correlated_book(20));
  ASSERT_TRUE(corr->ready(0, 1));
  ASSERT_EQ(corr->correlation(0, 1), 1.0);
  book.on_fill(0, Side::buy, qty(1), px(100));  // long 0
  const PortfolioCheck same = book.check_new(1, Side::buy, qty(1), px(100), kEquity, *corr);
  EXPECT_EQ(same.reason, RejectReason::correlated_position);
  EXPECT_EQ(same.correlated_with, 0);
  EXPECT_EQ(same.correlation, 1.0);
  EXPECT_EQ(same.max_qty_allowed.raw(), 0);
  // Short 1 against long 0: a hedge, allowed.
  EXPECT_EQ(book.check_new(1, Side::sell, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::none);
  // 2 is anti-correlated with 0: long 2 is allowed, short 2 too (ρ < 0 is not above 0.8).
  EXPECT_EQ(book.check_new(2, Side::buy, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::none);
  EXPECT_EQ(book.check_new(2, Side::sell, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::none);
  // Adding to the open position itself is not a new position.
  EXPECT_EQ(book.check_new(0, Side::buy, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::none);
  // An existing long in 1 (set by reconciliation) may grow: the limit guards new positions.
  book.set_position(1, qty(1), px(100));
  EXPECT_EQ(book.check_new(1, Side::buy, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::none);
  // But flipping 1 to short when 0 were short too would open a correlated short.
  book.set_position(0, -qty(1), px(100));
  const PortfolioCheck flip = book.check_new(1, Side::sell, qty(2), px(100), kEquity, *corr);
  EXPECT_EQ(flip.reason, RejectReason::correlated_position);
  EXPECT_EQ(flip.correlated_with, 0);
  // Closing 1 (a reduction) is fine.
  EXPECT_EQ(book.check_new(1, Side::sell, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::none);
}

TEST_F(Portfolio, EntryRoomIsTheExposureRoomAsAValue) {
  // Flat: the symbol limit (2 000) binds; the largest value whose exposure stays 2 000.
  EntryRoom flat = room(0, Side::buy, px(100));
  EXPECT_EQ(flat.reason, RejectReason::none);
  EXPECT_EQ(flat.bound, SizeBound::symbol_exposure);
  EXPECT_TRUE(flat.max_value == largest_value_of(2'000));
  // Holding 15 at 100: 500 left, the same room check_new reports in quantity (5 at 100).
  book.on_fill(0, Side::buy, qty(15), px(100));
  EXPECT_TRUE(room(0, Side::buy, px(100)).max_value == largest_value_of(500));
  EXPECT_EQ(check(0, Side::buy, qty(5), px(100)).max_qty_allowed, qty(5));
  // Against the position it is a flip: closing 15 (1 500) and opening up to 2 000 short.
  EXPECT_TRUE(room(0, Side::sell, px(100)).max_value == largest_value_of(3'500));
  // The total limit (5 000) binds once others hold 4 000: 1 000 for symbol 2.
  book.on_fill(1, Side::sell, qty(50), px(50));  // 2 500
  const EntryRoom total = room(2, Side::buy, px(100));
  EXPECT_EQ(total.bound, SizeBound::total_exposure);
  EXPECT_TRUE(total.max_value == largest_value_of(1'000));
}

TEST_F(Portfolio, EntryRoomOverTheLimitIsNegativeAndClosingAlwaysFits) {
  book.on_fill(0, Side::buy, qty(20), px(100));
  book.on_mark(0, px(150));  // 3 000 against a 2 000 limit
  EXPECT_TRUE(room(0, Side::buy, px(150)).max_value < 0);
  // Others above the total limit: a flip of 0 may still close all of it (10 at 100), no more.
  book.on_fill(0, Side::sell, qty(10), px(100));  // long 10 at 100: 1 000
  book.on_fill(1, Side::sell, qty(40), px(50));   // 2 000
  book.on_fill(2, Side::buy, qty(40), px(100));   // 4 000: 7 000 in all
  const EntryRoom closing = room(0, Side::sell, px(100));
  EXPECT_EQ(closing.reason, RejectReason::none);
  EXPECT_EQ(closing.bound, SizeBound::total_exposure);
  EXPECT_TRUE(closing.max_value == Int128{px(100).raw()} * qty(10).raw());
}

TEST_F(Portfolio, EntryRoomAdmitsAsCheckNewDoes) {
  EXPECT_EQ(room(0, Side::none, px(100)).reason, RejectReason::invalid_input);
  EXPECT_EQ(room(0, Side::buy, Price{}).reason, RejectReason::invalid_input);
  EXPECT_EQ(room(0, Side::buy, px(100), Amount{}).reason, RejectReason::invalid_input);
  EXPECT_EQ(room(64, Side::buy, px(100)).reason, RejectReason::invalid_input);
  const auto corr = std::make_unique<ReturnCorrelation>(correlated_book(20));
  book.on_fill(0, Side::buy, qty(1), px(100));
  const EntryRoom same = book.entry_room(1, Side::buy, px(100), kEquity, *corr);
  EXPECT_EQ(same.reason, RejectReason::correlated_position);
  EXPECT_EQ(same.correlated_with, 0);
  EXPECT_EQ(same.correlation, 1.0);
  EXPECT_EQ(book.entry_room(1, Side::sell, px(100), kEquity, *corr).reason, RejectReason::none);
  EXPECT_EQ(book.entry_room(0, Side::buy, px(100), kEquity, *corr).reason, RejectReason::none);
  PortfolioParams two = default_params();
  two.max_open_positions = 2;
  PortfolioLimits small(two);
  small.on_fill(0, Side::buy, qty(1), px(100));
  small.on_fill(1, Side::sell, qty(1), px(100));
  EXPECT_EQ(small.entry_room(2, Side::buy, px(100), kEquity, no_history).reason,
            RejectReason::max_open_positions);
  EXPECT_EQ(small.entry_room(1, Side::sell, px(100), kEquity, no_history).reason,
            RejectReason::none);
}

TEST_F(Portfolio, CorrelationExactlyAtThresholdIsAllowed) {
  PortfolioParams params = default_params();
  params.max_correlation = 1.0;  // ρ(0, 1) is exactly 1: not above
  PortfolioLimits strict(params);
  const auto corr = std::make_unique<ReturnCorrelation>(correlated_book(20));
  strict.on_fill(0, Side::buy, qty(1), px(100));
  EXPECT_EQ(strict.check_new(1, Side::buy, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::none);
  params.max_correlation = std::nextafter(1.0, 0.0);
  PortfolioLimits tighter(params);
  tighter.on_fill(0, Side::buy, qty(1), px(100));
  EXPECT_EQ(tighter.check_new(1, Side::buy, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::correlated_position);
}

TEST_F(Portfolio, CorrelationNotReadyDoesNotBlock) {
  const auto corr = std::make_unique<ReturnCorrelation>(correlated_book(1'000));
  ASSERT_FALSE(corr->ready(0, 1));
  book.on_fill(0, Side::buy, qty(1), px(100));
  EXPECT_EQ(book.check_new(1, Side::buy, qty(1), px(100), kEquity, *corr).reason,
            RejectReason::none);
}

TEST(PortfolioProperty, AcceptedOrdersNeverBreachTheLimits) {
  constexpr SymbolId kSymbols = 8;
  PortfolioParams params = default_params();
  params.max_open_positions = 4;
  PortfolioLimits book(params);
  const auto corr = std::make_unique<ReturnCorrelation>(correlated_book(20));
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> pick_symbol(0, kSymbols - 1);
  std::uniform_int_distribution<std::int64_t> pick_price(50 * Price::kScale, 150 * Price::kScale);
  std::uniform_int_distribution<std::int64_t> pick_qty(1, 30 * Qty::kScale);
  std::uniform_int_distribution<int> pick_action(0, 9);
  std::uniform_int_distribution<std::int64_t> pick_equity(5'000, 20'000);
  int accepted_new = 0, accepted_reductions = 0, refused = 0;
  for (int step = 0; step < 50'000; ++step) {
    const auto symbol = static_cast<SymbolId>(pick_symbol(rng));
    const Price price = Price::from_raw(pick_price(rng));
    if (pick_action(rng) == 0) {  // markets move, possibly past the limits
      book.on_mark(symbol, price);
      continue;
    }
    const Side side = (rng() & 1) != 0 ? Side::buy : Side::sell;
    const Qty q = Qty::from_raw(pick_qty(rng));
    const Amount equity = amount(pick_equity(rng));
    const PortfolioCheck result = book.check_new(symbol, side, q, price, equity, *corr);
    // The division-free answer (room only when refused) must agree on every decision.
    const PortfolioCheck quick = book.check_new(symbol, side, q, price, equity, *corr,
                                                kinetic::risk::RoomWanted::when_refused);
    ASSERT_EQ(quick.reason, result.reason) << "step " << step;
    if (!quick.ok()) {
      ASSERT_EQ(quick.max_qty_allowed, result.max_qty_allowed) << "step " << step;
    }
    const std::int64_t held = book.position(symbol).qty.raw();
    const bool reduction =
        held != 0 && (held > 0) != (side == Side::buy) && q.raw() <= (held < 0 ? -held : held);
    if (!result.ok()) {
      ++refused;
      ASSERT_FALSE(reduction);
      if (result.reason == RejectReason::symbol_exposure_limit ||
          result.reason == RejectReason::total_exposure_limit) {
        ASSERT_LT(result.max_qty_allowed, q);
        // The room itself is accepted, unless it is zero.
        if (result.max_qty_allowed.raw() > 0) {
          ASSERT_TRUE(
              book.check_new(symbol, side, result.max_qty_allowed, price, equity, *corr).ok());
        }
      }
      continue;
    }
    ASSERT_LE(q, result.max_qty_allowed);
    if (!reduction) {  // the room is exact: one raw unit more breaks a limit
      const PortfolioCheck beyond =
          book.check_new(symbol, side, plus_one_raw(result.max_qty_allowed), price, equity, *corr);
      ASSERT_TRUE(beyond.reason == RejectReason::symbol_exposure_limit ||
                  beyond.reason == RejectReason::total_exposure_limit);
    }
    const std::size_t open_before = book.open_positions();
    book.on_fill(symbol, side, q, price);
    if (reduction) {
      ++accepted_reductions;
      ASSERT_LE(book.open_positions(), open_before);
      continue;
    }
    ++accepted_new;
    ASSERT_LE(book.position(symbol).exposure, book.symbol_exposure_limit(equity));
    ASSERT_LE(book.total_exposure(), book.total_exposure_limit(equity));
    ASSERT_LE(book.open_positions(), params.max_open_positions);
  }
  // The walk exercised every branch.
  EXPECT_GT(accepted_new, 1'000);
  EXPECT_GT(accepted_reductions, 1'000);
  EXPECT_GT(refused, 1'000);
}

TEST(PortfolioAllocations, ChecksAndUpdatesDoNotAllocate) {
  const auto corr = std::make_unique<ReturnCorrelation>(ReturnCorrelationParams{
      .num_series = 8, .interval_ns = kSecond, .alpha = 0.05, .min_samples = 5});
  PortfolioLimits book(default_params());
  std::uint64_t sink = 0;
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (int k = 0; k < 100'000; ++k) {
      const auto symbol = static_cast<SymbolId>(k % 8);
      const Price price = Price::from_raw(100 * Price::kScale + (k % 97) * 1'000'000);
      corr->update(symbol, price);
      corr->sample(static_cast<TimestampNs>(k) * (kSecond / 4));
      const PortfolioCheck result = book.check_new(symbol, (k & 1) != 0 ? Side::buy : Side::sell,
                                                   qty(1), price, kEquity, *corr);
      if (result.ok())
        book.on_fill(symbol, (k & 1) != 0 ? Side::buy : Side::sell, qty(1), price);
      book.on_mark(symbol, price);
      sink += static_cast<std::uint64_t>(result.reason);
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(sink + book.open_positions(), 0u);  // keeps the loop observable
}

}  // namespace
