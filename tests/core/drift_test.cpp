// Tests of the drift estimator and the alignment filter on simulated geometric Brownian
// motion (fixed seeds, so every run sees the same paths).
#include "kinetic/core/math/drift.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/math/random.hpp"

namespace {

using kinetic::math::AlignmentVerdict;
using kinetic::math::DriftAlignment;
using kinetic::math::DriftError;
using kinetic::math::DriftEstimator;
using kinetic::math::EntrySide;
using kinetic::math::Rng;

constexpr double kStartPrice = 50000.0;

/// Exact GBM step over dt: log-price moves by N(μ dt, σ² dt).
double gbm_log_step(Rng& rng, double mu, double sigma, double dt) {
  return mu * dt + sigma * std::sqrt(dt) * rng.normal();
}

/// Feeds `steps` ticks one `dt` apart of a GBM path into `estimator`.
void feed_gbm(DriftEstimator& estimator, Rng& rng, double mu, double sigma, double dt, int steps) {
  double log_price = std::log(kStartPrice);
  ASSERT_EQ(estimator.update(0.0, kStartPrice), DriftError::ok);
  for (int i = 1; i <= steps; ++i) {
    log_price += gbm_log_step(rng, mu, sigma, dt);
    ASSERT_EQ(estimator.update(dt * i, std::exp(log_price)), DriftError::ok);
  }
}

double mean(const std::vector<double>& xs) {
  double sum = 0.0;
  for (const double x : xs)
    sum += x;
  return sum / static_cast<double>(xs.size());
}

double stddev(const std::vector<double>& xs) {
  const double m = mean(xs);
  double sum = 0.0;
  for (const double x : xs)
    sum += (x - m) * (x - m);
  return std::sqrt(sum / static_cast<double>(xs.size() - 1));
}

TEST(NormalCdf, KnownValues) {
  EXPECT_DOUBLE_EQ(kinetic::math::normal_cdf(0.0), 0.5);
  EXPECT_NEAR(kinetic::math::normal_cdf(1.959963984540054), 0.975, 1e-12);
  EXPECT_NEAR(kinetic::math::normal_cdf(-1.0), 0.15865525393145707, 1e-14);
  // The far tail keeps relative accuracy (1 − erf would round to 0).
  EXPECT_NEAR(kinetic::math::normal_cdf(-10.0) / 7.61985302416047e-24, 1.0, 1e-10);
}

TEST(DriftEstimator, EmptyAndSingleTickReportNoEvidence) {
  DriftEstimator estimator(3600.0);
  EXPECT_EQ(estimator.drift_per_s(), 0.0);
  EXPECT_EQ(estimator.t_stat(), 0.0);
  EXPECT_EQ(estimator.flip_probability(), 0.5);
  EXPECT_FALSE(estimator.significant(0.5));
  ASSERT_EQ(estimator.update(10.0, 100.0), DriftError::ok);
  ASSERT_EQ(estimator.update(11.0, 110.0), DriftError::ok);
  // One interval: a drift, but no degrees of freedom for its uncertainty.
  EXPECT_NEAR(estimator.drift_per_s(), std::log(1.1), 1e-15);
  EXPECT_TRUE(std::isnan(estimator.standard_error()));
  EXPECT_EQ(estimator.t_stat(), 0.0);
  EXPECT_EQ(estimator.flip_probability(), 0.5);
}

TEST(DriftEstimator, ConvergesToTrueDriftWithinStandardErrors) {
  const double mu = 5e-5;     // per second
  const double sigma = 1e-3;  // per √second
  DriftEstimator estimator(3600.0);
  Rng rng(42);
  feed_gbm(estimator, rng, mu, sigma, 1.0, 5 * 3600);
  const double se = estimator.standard_error();
  // Equal 1 s intervals after n ticks: S_t = (1 − dⁿ)/(1 − d), S_v = (1 − d²ⁿ)/(1 − d²),
  // T_eff = S_t²/S_v (≈ 2H in the steady state).
  const double d = std::exp(-1.0 / 3600.0);
  const double dn = std::pow(d, 5 * 3600);
  const double expected_t_eff =
      std::pow((1.0 - dn) / (1.0 - d), 2.0) / ((1.0 - dn * dn) / (1.0 - d * d));
  EXPECT_NEAR(estimator.effective_time_s(), expected_t_eff, 1e-9 * expected_t_eff);
  EXPECT_NEAR(expected_t_eff, 7200.0, 0.02 * 7200.0);
  EXPECT_NEAR(se, sigma / std::sqrt(expected_t_eff), 0.05 * sigma / std::sqrt(expected_t_eff));
  EXPECT_NEAR(estimator.drift_per_s(), mu, 4.0 * se);
  EXPECT_NEAR(std::sqrt(estimator.variance_per_s()), sigma, 0.05 * sigma);
}

TEST(DriftEstimator, ReportedStandardErrorMatchesSpreadOverSeeds) {
  const double mu = 2e-5;
  const double sigma = 1e-3;
  constexpr int kRuns = 200;
  std::vector<double> drifts;
  std::vector<double> errors;
  for (int seed = 0; seed < kRuns; ++seed) {
    DriftEstimator estimator(1800.0);
    Rng rng(1000 + static_cast<std::uint64_t>(seed));
    feed_gbm(estimator, rng, mu, sigma, 1.0, 5 * 1800);
    drifts.push_back(estimator.drift_per_s());
    errors.push_back(estimator.standard_error());
  }
  // The sample standard deviation of 200 normal draws has a relative error of about
  // 1/√400 = 5%, so 20% is four of its standard errors.
  const double empirical = stddev(drifts);
  const double reported = mean(errors);
  EXPECT_NEAR(empirical / reported, 1.0, 0.20);
  EXPECT_NEAR(mean(drifts), mu, 4.0 * empirical / std::sqrt(double{kRuns}));
}

TEST(DriftEstimator, VarianceIsUnbiasedForShortHeavilyWeightedIrregularSamples) {
  // H = 3 s over 20 ticks at Poisson times: about 3.5 effective intervals, where dividing by
  // Σw instead of ν = Σw − S_v/S_t would bias σ̂² by roughly 15%.
  const double sigma = 1e-3;
  constexpr int kRuns = 20000;
  std::vector<double> ratios;
  for (int seed = 0; seed < kRuns; ++seed) {
    DriftEstimator estimator(3.0);
    Rng rng(900000 + static_cast<std::uint64_t>(seed));
    double time = 0.0;
    double log_price = std::log(kStartPrice);
    ASSERT_EQ(estimator.update(time, kStartPrice), DriftError::ok);
    for (int i = 0; i < 20; ++i) {
      const double dt = rng.exponential(1.0);
      time += dt;
      log_price += gbm_log_step(rng, 2e-4, sigma, dt);
      ASSERT_EQ(estimator.update(time, std::exp(log_price)), DriftError::ok);
    }
    // A long last gap can leave ν < 1; ν depends on the times only, and σ̂² is unbiased
    // given the times, so skipping those runs keeps the mean unbiased.
    if (estimator.degrees_of_freedom() < 1.0)
      continue;
    ratios.push_back(estimator.variance_per_s() / (sigma * sigma));
  }
  ASSERT_GT(ratios.size(), kRuns * 9 / 10);
  EXPECT_NEAR(mean(ratios), 1.0,
              4.0 * stddev(ratios) / std::sqrt(static_cast<double>(ratios.size())));
}

TEST(DriftEstimator, TStatisticUnderZeroDriftRejectsAtNominalRate) {
  constexpr int kRuns = 1000;
  const double horizon = 300.0;
  int rejections = 0;
  std::vector<double> flips;
  for (int seed = 0; seed < kRuns; ++seed) {
    DriftEstimator estimator(horizon);
    Rng rng(77000 + static_cast<std::uint64_t>(seed));
    feed_gbm(estimator, rng, 0.0, 2e-3, 1.0, 5 * 300);
    if (std::fabs(estimator.t_stat()) > 1.959963984540054)
      ++rejections;
    flips.push_back(estimator.sign_error_probability());
  }
  const double rate = rejections / double{kRuns};
  const double binomial_sd = std::sqrt(0.05 * 0.95 / kRuns);
  EXPECT_NEAR(rate, 0.05, 4.0 * binomial_sd);
  // Under zero drift t ~ N(0,1), so Φ(−|t|) is uniform on (0, 0.5): mean 0.25, sd 0.5/√12.
  EXPECT_NEAR(mean(flips), 0.25, 4.0 * (0.5 / std::sqrt(12.0)) / std::sqrt(double{kRuns}));
}

TEST(DriftEstimator, FlipProbabilityNearHalfWithoutDriftNearZeroWithStrongDrift) {
  // Alternating up/down moves: plenty of noise, no net drift.
  DriftEstimator flat(600.0);
  for (int i = 0; i <= 3000; ++i)
    ASSERT_EQ(flat.update(i, i % 2 == 0 ? 100.0 : 100.1), DriftError::ok);
  EXPECT_GT(flat.standard_error(), 0.0);
  EXPECT_NEAR(flat.flip_probability(), 0.5, 0.02);
  EXPECT_NEAR(flat.sign_error_probability(), 0.5, 0.02);
  EXPECT_FALSE(flat.significant(1.0));

  DriftEstimator trending(600.0);
  Rng rng(5);
  feed_gbm(trending, rng, 1e-3, 1e-3, 1.0, 3000);  // t ≈ √(2·600) ≈ 35
  EXPECT_GT(trending.t_stat(), 20.0);
  EXPECT_LT(trending.flip_probability(), 1e-12);
  EXPECT_LT(trending.sign_error_probability(), trending.flip_probability());
  EXPECT_TRUE(trending.significant(3.0));
}

// The flip probability predicts whether the estimate one horizon later has the other sign.
// Calibration check: true drifts drawn uniformly over ±2 standard errors (a flat prior over
// the region where flips happen), each run measured at 6 H and again at 7 H; the observed flip
// rate must match the mean predicted probability, and be nearer to it than to the sign error
// probability Φ(−|t|), which ignores the noise of the future estimate.
TEST(DriftEstimator, FlipProbabilityIsCalibratedOneHorizonAhead) {
  constexpr int kRuns = 6000;
  constexpr double kHorizon = 100.0;
  constexpr double kSigma = 1e-3;  // per √s
  // Standard error of the exponentially weighted drift estimate: σ √(2/H) (T_eff = H/2).
  const double se = kSigma * std::sqrt(2.0 / kHorizon);
  Rng rng(4242);
  double predicted = 0.0;
  double sign_error = 0.0;
  int flips = 0;
  for (int run = 0; run < kRuns; ++run) {
    const double mu = se * (4.0 * rng.uniform() - 2.0);
    DriftEstimator estimator(kHorizon);
    double log_price = std::log(kStartPrice);
    ASSERT_EQ(estimator.update(0.0, kStartPrice), DriftError::ok);
    const int first = static_cast<int>(6 * kHorizon);
    const int second = static_cast<int>(7 * kHorizon);
    double sign_then = 0.0;
    for (int i = 1; i <= second; ++i) {
      log_price += gbm_log_step(rng, mu, kSigma, 1.0);
      ASSERT_EQ(estimator.update(i, std::exp(log_price)), DriftError::ok);
      if (i == first) {
        predicted += estimator.flip_probability();
        sign_error += estimator.sign_error_probability();
        sign_then = estimator.drift_per_s();
      }
    }
    if (estimator.drift_per_s() * sign_then < 0.0)
      ++flips;
  }
  const double rate = flips / double{kRuns};
  const double mean_predicted = predicted / kRuns;
  const double binomial_sd = std::sqrt(mean_predicted * (1.0 - mean_predicted) / kRuns);
  EXPECT_NEAR(rate, mean_predicted, 4.0 * binomial_sd + 0.01)
      << "sign error " << sign_error / kRuns;
  // The two predictions differ by only ~3 binomial standard deviations here, so the check is
  // which one the observed rate is nearer.
  EXPECT_LT(std::fabs(rate - mean_predicted), std::fabs(rate - sign_error / kRuns))
      << "predicted " << mean_predicted;
}

TEST(DriftEstimator, NoiselessTrendHasInfiniteTAndExactDrift) {
  const double mu = -3e-4;
  DriftEstimator estimator(100.0);
  Rng rng(9);
  double t = 0.0;
  for (int i = 0; i < 2000; ++i) {
    t += rng.exponential(0.7);
    ASSERT_EQ(estimator.update(t, kStartPrice * std::exp(mu * t)), DriftError::ok);
  }
  EXPECT_NEAR(estimator.drift_per_s(), mu, 1e-9 * std::fabs(mu));
  EXPECT_LT(estimator.t_stat(), -1e6);  // σ̂ is rounding noise or exactly 0
  EXPECT_LT(estimator.flip_probability(), 1e-12);
}

TEST(DriftEstimator, IrregularSamplingGivesTheSameDriftAsRegular) {
  // One GBM path, observed both on a 1 s grid and at Poisson times (mean gap 1 s); the path
  // is simulated exactly at the union of both sets of times.
  const double mu = 4e-5;
  const double sigma = 1e-3;
  const double horizon = 3600.0;
  const double end = 5.0 * horizon;
  DriftEstimator regular(horizon);
  DriftEstimator irregular(horizon);
  Rng path_rng(123);
  Rng time_rng(456);
  double log_price = std::log(kStartPrice);
  ASSERT_EQ(regular.update(0.0, kStartPrice), DriftError::ok);
  ASSERT_EQ(irregular.update(0.0, kStartPrice), DriftError::ok);
  double now = 0.0;
  double next_grid = 1.0;
  double next_random = time_rng.exponential(1.0);
  while (now < end) {
    const double next = std::fmin(next_grid, next_random);
    log_price += gbm_log_step(path_rng, mu, sigma, next - now);
    now = next;
    const double price = std::exp(log_price);
    if (next == next_grid) {
      ASSERT_EQ(regular.update(now, price), DriftError::ok);
      next_grid += 1.0;
    }
    if (next == next_random) {
      ASSERT_EQ(irregular.update(now, price), DriftError::ok);
      next_random += time_rng.exponential(1.0);
    }
  }
  const double se = regular.standard_error();
  // Both see the same path, so they agree far more closely than either agrees with μ.
  EXPECT_NEAR(irregular.drift_per_s(), regular.drift_per_s(), 0.25 * se);
  EXPECT_NEAR(irregular.standard_error(), se, 0.1 * se);
  EXPECT_NEAR(regular.drift_per_s(), mu, 4.0 * se);
}

TEST(DriftEstimator, SameTimestampTickRevisesTheNewestInterval) {
  DriftEstimator with_repeat(60.0);
  DriftEstimator without_repeat(60.0);
  const std::array<std::array<double, 2>, 6> ticks{{{0.0, 100.0},
                                                    {0.0, 100.4},  // replaces the start
                                                    {1.0, 101.0},
                                                    {1.0, 102.0},  // revises 100.4 → 102
                                                    {2.5, 101.5},
                                                    {4.0, 103.0}}};
  for (const auto& [time, price] : ticks)
    ASSERT_EQ(with_repeat.update(time, price), DriftError::ok);
  for (const auto& [time, price] : std::array<std::array<double, 2>, 4>{
           {{0.0, 100.4}, {1.0, 102.0}, {2.5, 101.5}, {4.0, 103.0}}})
    ASSERT_EQ(without_repeat.update(time, price), DriftError::ok);
  EXPECT_NEAR(with_repeat.drift_per_s(), without_repeat.drift_per_s(), 1e-15);
  EXPECT_NEAR(with_repeat.variance_per_s(), without_repeat.variance_per_s(), 1e-15);
  EXPECT_EQ(with_repeat.effective_time_s(), without_repeat.effective_time_s());
  EXPECT_EQ(with_repeat.degrees_of_freedom(), without_repeat.degrees_of_freedom());
}

TEST(DriftEstimator, BadInputLeavesStateBitIdentical) {
  DriftEstimator estimator(600.0);
  Rng rng(3);
  feed_gbm(estimator, rng, 1e-5, 1e-3, 1.0, 1000);
  std::array<unsigned char, sizeof(DriftEstimator)> before{};
  std::memcpy(before.data(), &estimator, sizeof estimator);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(estimator.update(1001.0, 0.0), DriftError::non_positive_price);
  EXPECT_EQ(estimator.update(1001.0, -5.0), DriftError::non_positive_price);
  EXPECT_EQ(estimator.update(1001.0, nan), DriftError::non_finite_input);
  EXPECT_EQ(estimator.update(1001.0, inf), DriftError::non_finite_input);
  EXPECT_EQ(estimator.update(nan, 100.0), DriftError::non_finite_input);
  EXPECT_EQ(estimator.update(inf, 100.0), DriftError::non_finite_input);
  EXPECT_EQ(estimator.update(999.5, 100.0), DriftError::time_backwards);
  EXPECT_EQ(std::memcmp(before.data(), &estimator, sizeof estimator), 0);
  // A good tick afterwards changes it.
  EXPECT_EQ(estimator.update(1001.0, 50000.0), DriftError::ok);
  EXPECT_NE(std::memcmp(before.data(), &estimator, sizeof estimator), 0);
}

TEST(DriftEstimator, BadFirstTickIsRefused) {
  DriftEstimator estimator(600.0);
  EXPECT_EQ(estimator.update(0.0, 0.0), DriftError::non_positive_price);
  ASSERT_EQ(estimator.update(1.0, 100.0), DriftError::ok);
  ASSERT_EQ(estimator.update(2.0, 101.0), DriftError::ok);
  EXPECT_NEAR(estimator.drift_per_s(), std::log(1.01), 1e-15);  // from the good tick only
}

TEST(DriftEstimator, UpdateDoesNotAllocate) {
  DriftEstimator hour(3600.0);
  DriftEstimator day(86400.0);
  Rng rng(11);
  double log_price = std::log(kStartPrice);
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (int i = 0; i < 10000; ++i) {
      log_price += gbm_log_step(rng, 0.0, 1e-3, 0.5);
      const double price = std::exp(log_price);
      if (hour.update(0.5 * i, price) != DriftError::ok ||
          day.update(0.5 * i, price) != DriftError::ok)
        std::abort();
      if (hour.update(0.5 * i, price) != DriftError::ok)  // Δt = 0 path too
        std::abort();
    }
  });
  EXPECT_EQ(allocations, 0U);
  EXPECT_TRUE(std::isfinite(hour.t_stat()));
}

// Estimators with known sign and strength of drift for the alignment tests.
DriftEstimator make_trend(double mu, std::uint64_t seed) {
  DriftEstimator estimator(3600.0);
  Rng rng(seed);
  feed_gbm(estimator, rng, mu, 1e-3, 1.0, 4 * 3600);
  return estimator;
}

TEST(DriftAlignment, VetoesEntriesAgainstSignificantHigherDrift) {
  const DriftAlignment filter(2.0);
  const std::array<DriftEstimator, 1> falling{make_trend(-2e-4, 21)};
  const std::array<DriftEstimator, 1> rising{make_trend(2e-4, 22)};
  ASSERT_LT(falling[0].t_stat(), -5.0);
  ASSERT_GT(rising[0].t_stat(), 5.0);
  EXPECT_EQ(filter.check(EntrySide::long_entry, falling), AlignmentVerdict::vetoed_negative_drift);
  EXPECT_EQ(filter.check(EntrySide::short_entry, falling), AlignmentVerdict::permitted);
  EXPECT_EQ(filter.check(EntrySide::short_entry, rising), AlignmentVerdict::vetoed_positive_drift);
  EXPECT_EQ(filter.check(EntrySide::long_entry, rising), AlignmentVerdict::permitted);
}

TEST(DriftAlignment, PermitsWhenDriftIsInsignificantOrUnknown) {
  const DriftAlignment filter(2.0);
  const std::array<DriftEstimator, 2> quiet{DriftEstimator(3600.0), make_trend(0.0, 31)};
  ASSERT_LT(std::fabs(quiet[1].t_stat()), 2.0);
  EXPECT_EQ(filter.check(EntrySide::long_entry, quiet), AlignmentVerdict::permitted);
  EXPECT_EQ(filter.check(EntrySide::short_entry, quiet), AlignmentVerdict::permitted);
  EXPECT_EQ(filter.check(EntrySide::long_entry, {}), AlignmentVerdict::permitted);
}

TEST(DriftAlignment, ThresholdIsInclusiveAndAnyHorizonCanVeto) {
  const std::array<DriftEstimator, 2> horizons{make_trend(0.0, 31), make_trend(-3e-5, 41)};
  const double t = horizons[1].t_stat();
  ASSERT_LT(t, -1.0);
  ASSERT_GT(horizons[0].t_stat(), t);  // only the second horizon is at the threshold
  // |t| exactly at the threshold vetoes; just above it does not.
  EXPECT_EQ(DriftAlignment(-t).check(EntrySide::long_entry, horizons),
            AlignmentVerdict::vetoed_negative_drift);
  EXPECT_EQ(DriftAlignment(std::nextafter(-t, 1e9)).check(EntrySide::long_entry, horizons),
            AlignmentVerdict::permitted);
}

}  // namespace
