// Tests of the calculus signal: the 6-case matrix (from exact quadratic price series and from
// numbers), the dead band, SNR and confidence, the configurable case → action mapping, the
// coordinator's formulas, and no allocation.
#include "kinetic/core/strategy/signal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "alloc_counter.hpp"
#include "kinetic/core/math/derivatives.hpp"

namespace {

using kinetic::math::DerivativeError;
using kinetic::math::DerivativeEstimator;
using kinetic::math::DerivativeParams;
using kinetic::strategy::CaseActions;
using kinetic::strategy::classify;
using kinetic::strategy::confidence;
using kinetic::strategy::CoordinatorError;
using kinetic::strategy::evaluate;
using kinetic::strategy::Signal;
using kinetic::strategy::SignalAction;
using kinetic::strategy::SignalCoordinator;
using kinetic::strategy::SignalParams;
using kinetic::strategy::snr;
using kinetic::strategy::TrendCase;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Kinematics {
  double velocity;
  double acceleration;
};

/// Feeds p(t) = 100 + b t + c t²/2 at t = 0, 1, 2 to an unsmoothed estimator and returns its
/// v (= b + 2c at t = 2) and a (= c). Dyadic b, c keep everything exact.
Kinematics from_quadratic(double b, double c) {
  DerivativeEstimator estimator(DerivativeParams{1.0, 0.0});
  for (int i = 0; i < 3; ++i) {
    const double t = static_cast<double>(i);
    EXPECT_EQ(estimator.update(t, 100.0 + b * t + 0.5 * c * t * t), DerivativeError::ok);
  }
  EXPECT_TRUE(estimator.ready());
  return {estimator.velocity(), estimator.acceleration()};
}

struct CaseExample {
  double b;  // initial slope
  double c;  // acceleration
  TrendCase expected;
  SignalAction default_action;
};

TEST(SignalClassify, SixCasesFromQuadraticPriceSeries) {
  const double sigma_v = 0.125;
  const CaseExample examples[] = {
      {1.0, 0.5, TrendCase::strong_uptrend, SignalAction::strong_buy},       // v = 2
      {3.0, -0.5, TrendCase::decelerating_uptrend, SignalAction::hold},      // v = 2
      {-3.0, 0.5, TrendCase::decelerating_downtrend, SignalAction::sell},    // v = −2
      {-1.0, -0.5, TrendCase::strong_downtrend, SignalAction::strong_sell},  // v = −2
      {-1.0, 0.5, TrendCase::bottoming_out, SignalAction::buy},              // v = 0
      {1.0, -0.5, TrendCase::topping_out, SignalAction::sell},               // v = 0
  };
  for (const CaseExample& example : examples) {
    const Kinematics k = from_quadratic(example.b, example.c);
    EXPECT_NEAR(k.acceleration, example.c, 1e-9);
    EXPECT_EQ(classify(k.velocity, k.acceleration, sigma_v, 1.0), example.expected)
        << to_string(example.expected);
    // SNR of v is 2/0.125 = 16, of a 0.5/0.0625 = 8: well above the default threshold 2.
    const Signal signal = evaluate(k.velocity, k.acceleration, sigma_v, 0.0625, SignalParams{});
    EXPECT_EQ(signal.trend_case, example.expected);
    EXPECT_EQ(signal.action, example.default_action) << to_string(example.expected);
    EXPECT_DOUBLE_EQ(signal.score, kinetic::strategy::score(example.default_action));
    EXPECT_GT(signal.confidence, 0.0);
  }
}

TEST(SignalClassify, SixCasesFromNumbers) {
  EXPECT_EQ(classify(5.0, 1.0, 1.0, 1.0), TrendCase::strong_uptrend);
  EXPECT_EQ(classify(5.0, -1.0, 1.0, 1.0), TrendCase::decelerating_uptrend);
  EXPECT_EQ(classify(-5.0, 1.0, 1.0, 1.0), TrendCase::decelerating_downtrend);
  EXPECT_EQ(classify(-5.0, -1.0, 1.0, 1.0), TrendCase::strong_downtrend);
  EXPECT_EQ(classify(0.5, 1.0, 1.0, 1.0), TrendCase::bottoming_out);
  EXPECT_EQ(classify(-0.5, -1.0, 1.0, 1.0), TrendCase::topping_out);
}

TEST(SignalClassify, DeadBandBoundaryBelongsToTheBand) {
  // band = 2 · 0.5 = 1
  EXPECT_EQ(classify(1.0, 1.0, 0.5, 2.0), TrendCase::bottoming_out);
  EXPECT_EQ(classify(-1.0, -1.0, 0.5, 2.0), TrendCase::topping_out);
  EXPECT_EQ(classify(std::nextafter(1.0, 2.0), 1.0, 0.5, 2.0), TrendCase::strong_uptrend);
  EXPECT_EQ(classify(std::nextafter(-1.0, -2.0), 1.0, 0.5, 2.0), TrendCase::decelerating_downtrend);
  // The band scales with σv and with dead_band_sigma.
  EXPECT_EQ(classify(1.5, 1.0, 1.0, 1.0), TrendCase::strong_uptrend);
  EXPECT_EQ(classify(1.5, 1.0, 2.0, 1.0), TrendCase::bottoming_out);
  EXPECT_EQ(classify(1.5, 1.0, 1.0, 2.0), TrendCase::bottoming_out);
  // No dead band: only v = 0 exactly is "≈ 0".
  EXPECT_EQ(classify(0.0, 1.0, 1.0, 0.0), TrendCase::bottoming_out);
  EXPECT_EQ(classify(1e-300, 1.0, 1.0, 0.0), TrendCase::strong_uptrend);
}

TEST(SignalClassify, ZeroAccelerationAndBadInputGiveNone) {
  EXPECT_EQ(classify(5.0, 0.0, 1.0, 1.0), TrendCase::none);
  EXPECT_EQ(classify(0.0, 0.0, 1.0, 1.0), TrendCase::none);
  EXPECT_EQ(classify(0.0, -0.0, 1.0, 1.0), TrendCase::none);
  EXPECT_EQ(classify(kNaN, 1.0, 1.0, 1.0), TrendCase::none);
  EXPECT_EQ(classify(1.0, kInf, 1.0, 1.0), TrendCase::none);
  EXPECT_EQ(classify(1.0, 1.0, kNaN, 1.0), TrendCase::none);
  EXPECT_EQ(classify(1.0, 1.0, -1.0, 1.0), TrendCase::none);
  // A constant price (v = a = 0 exactly from the estimator) is none.
  const Kinematics flat = from_quadratic(0.0, 0.0);
  EXPECT_EQ(classify(flat.velocity, flat.acceleration, 0.1, 1.0), TrendCase::none);
}

TEST(SignalSnr, EdgeCasesNeverNaN) {
  EXPECT_DOUBLE_EQ(snr(3.0, 1.5), 2.0);
  EXPECT_DOUBLE_EQ(snr(-3.0, 1.5), 2.0);
  EXPECT_EQ(snr(1.0, 0.0), kInf);
  EXPECT_EQ(snr(-1.0, 0.0), kInf);
  EXPECT_EQ(snr(0.0, 0.0), 0.0);
  EXPECT_EQ(snr(1.0, kInf), 0.0);
  EXPECT_EQ(snr(1.0, -1.0), 0.0);
  EXPECT_EQ(snr(1.0, kNaN), 0.0);
  EXPECT_EQ(snr(kNaN, 1.0), 0.0);
  EXPECT_EQ(snr(kInf, 1.0), 0.0);
}

TEST(SignalConfidence, ZeroAtOrBelowThresholdMonotoneAndBounded) {
  EXPECT_EQ(confidence(0.0, 2.0), 0.0);
  EXPECT_EQ(confidence(1.9, 2.0), 0.0);
  EXPECT_EQ(confidence(2.0, 2.0), 0.0);
  EXPECT_EQ(confidence(kNaN, 2.0), 0.0);
  EXPECT_EQ(confidence(kInf, 2.0), 1.0);
  EXPECT_DOUBLE_EQ(confidence(4.0, 2.0), 0.5);  // 1 − T/snr
  EXPECT_DOUBLE_EQ(confidence(20.0, 2.0), 0.9);
  EXPECT_DOUBLE_EQ(confidence(3.0, 0.0), 0.75);  // no threshold: 1 − 1/(1 + snr)
  EXPECT_EQ(confidence(0.0, 0.0), 0.0);
  double previous = 0.0;
  for (int i = 0; i <= 4000; ++i) {
    const double s = 0.01 * static_cast<double>(i);
    const double c = confidence(s, 2.0);
    EXPECT_GE(c, 0.0);
    EXPECT_LE(c, 1.0);
    EXPECT_GE(c, previous) << "snr " << s;
    if (s > 2.0) {
      EXPECT_GT(c, 0.0);
    }
    previous = c;
  }
  EXPECT_GT(confidence(4.0, 2.0), confidence(3.0, 2.0));
}

TEST(SignalEvaluate, BelowThresholdIsNone) {
  const SignalParams params;  // threshold 2
  // Strong uptrend by sign, but |v|/σv = 1.5/1 ≤ 2 (outside the dead band of 1).
  const Signal weak = evaluate(1.5, 1.0, 1.0, 0.1, params);
  EXPECT_EQ(weak.trend_case, TrendCase::strong_uptrend);
  EXPECT_DOUBLE_EQ(weak.snr, 1.5);
  EXPECT_EQ(weak.action, SignalAction::none);
  EXPECT_EQ(weak.confidence, 0.0);
  EXPECT_EQ(weak.score, 0.0);
  // Exactly at the threshold: still none.
  EXPECT_EQ(evaluate(2.0, 1.0, 1.0, 0.1, params).action, SignalAction::none);
  const Signal strong = evaluate(3.0, 1.0, 1.0, 0.1, params);
  EXPECT_EQ(strong.action, SignalAction::strong_buy);
  EXPECT_DOUBLE_EQ(strong.confidence, 1.0 - 2.0 / 3.0);
}

TEST(SignalEvaluate, DeadBandCasesAreGatedByAccelerationSnr) {
  const SignalParams params;
  // v inside the band; |a|/σa = 1/0.25 = 4 > 2 → BUY.
  const Signal bottom = evaluate(0.1, 1.0, 1.0, 0.25, params);
  EXPECT_EQ(bottom.trend_case, TrendCase::bottoming_out);
  EXPECT_DOUBLE_EQ(bottom.snr, 4.0);
  EXPECT_EQ(bottom.action, SignalAction::buy);
  EXPECT_DOUBLE_EQ(bottom.score, 0.5);
  // |a|/σa = 1/1 = 1 ≤ 2 → none.
  const Signal noisy_top = evaluate(-0.1, -1.0, 1.0, 1.0, params);
  EXPECT_EQ(noisy_top.trend_case, TrendCase::topping_out);
  EXPECT_EQ(noisy_top.action, SignalAction::none);
  // Unknown σa (NaN) earns nothing.
  EXPECT_EQ(evaluate(0.1, 1.0, 1.0, kNaN, params).action, SignalAction::none);
}

TEST(SignalEvaluate, CustomCaseMappingIsHonoured) {
  SignalParams params;
  params.actions.decelerating_uptrend = SignalAction::sell;  // exit long as a sell
  params.actions.bottoming_out = SignalAction::strong_buy;
  params.actions.strong_downtrend = SignalAction::none;  // disabled case
  const Signal decel = evaluate(5.0, -1.0, 1.0, 0.1, params);
  EXPECT_EQ(decel.action, SignalAction::sell);
  EXPECT_DOUBLE_EQ(decel.score, -0.5);
  EXPECT_EQ(evaluate(0.0, 1.0, 1.0, 0.1, params).action, SignalAction::strong_buy);
  const Signal disabled = evaluate(-5.0, -1.0, 1.0, 0.1, params);
  EXPECT_EQ(disabled.trend_case, TrendCase::strong_downtrend);
  EXPECT_EQ(disabled.action, SignalAction::none);
  EXPECT_EQ(disabled.confidence, 0.0);
  // The unchanged entries keep their defaults.
  EXPECT_EQ(evaluate(5.0, 1.0, 1.0, 0.1, params).action, SignalAction::strong_buy);
}

TEST(SignalStrings, NamesAndScores) {
  EXPECT_EQ(to_string(SignalAction::strong_buy), "STRONG_BUY");
  EXPECT_EQ(to_string(SignalAction::strong_sell), "STRONG_SELL");
  EXPECT_EQ(to_string(SignalAction::hold), "HOLD");
  EXPECT_EQ(to_string(SignalAction::none), "NONE");
  EXPECT_EQ(to_string(TrendCase::bottoming_out), "bottoming_out");
  EXPECT_EQ(kinetic::strategy::score(SignalAction::strong_buy), 1.0);
  EXPECT_EQ(kinetic::strategy::score(SignalAction::buy), 0.5);
  EXPECT_EQ(kinetic::strategy::score(SignalAction::hold), 0.0);
  EXPECT_EQ(kinetic::strategy::score(SignalAction::sell), -0.5);
  EXPECT_EQ(kinetic::strategy::score(SignalAction::strong_sell), -1.0);
  const CaseActions defaults;
  EXPECT_EQ(defaults.for_case(TrendCase::none), SignalAction::none);
  EXPECT_EQ(defaults.for_case(TrendCase::topping_out), SignalAction::sell);
}

TEST(SignalCoordinatorTest, WeightedMeanAndConfidenceOnHandComputedExample) {
  SignalCoordinator<4> coordinator;
  ASSERT_EQ(coordinator.set_weight(0, 1.0), CoordinatorError::ok);
  ASSERT_EQ(coordinator.set_weight(1, 2.0), CoordinatorError::ok);
  ASSERT_EQ(coordinator.set_weight(2, 1.0), CoordinatorError::ok);
  ASSERT_EQ(coordinator.submit(0, 1.0, 0.5), CoordinatorError::ok);
  ASSERT_EQ(coordinator.submit(1, 0.5, 0.25), CoordinatorError::ok);
  ASSERT_EQ(coordinator.submit(2, 0.5, 1.0), CoordinatorError::ok);
  const auto out = coordinator.combined();
  EXPECT_EQ(out.sources, 3u);
  // score = (1·1 + 2·0.5 + 1·0.5)/4 = 0.625
  EXPECT_DOUBLE_EQ(out.score, 0.625);
  // Σw²c² = 0.25 + 4·0.0625 + 1 = 1.5, Σw² = 6 → √1.5 / 6; all signs agree.
  EXPECT_DOUBLE_EQ(out.agreement, 1.0);
  EXPECT_DOUBLE_EQ(out.confidence, std::sqrt(1.5) / 6.0);
}

TEST(SignalCoordinatorTest, SingleUnitWeightSourcePassesThroughAndClampIsApplied) {
  SignalCoordinator<2> coordinator;
  ASSERT_EQ(coordinator.set_weight(0, 1.0), CoordinatorError::ok);
  ASSERT_EQ(coordinator.submit(0, -1.0, 0.7), CoordinatorError::ok);
  EXPECT_DOUBLE_EQ(coordinator.combined().score, -1.0);
  EXPECT_DOUBLE_EQ(coordinator.combined().confidence, 0.7);
  // Weight 0.25: raw = 0.25·0.7 / 0.0625 = 2.8 → clamped to 1.
  ASSERT_EQ(coordinator.set_weight(0, 0.25), CoordinatorError::ok);
  EXPECT_DOUBLE_EQ(coordinator.combined().confidence, 1.0);
}

TEST(SignalCoordinatorTest, ConflictingSignsLowerConfidence) {
  SignalCoordinator<3> agreeing;
  SignalCoordinator<3> conflicting;
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(agreeing.set_weight(i, 1.0), CoordinatorError::ok);
    ASSERT_EQ(conflicting.set_weight(i, 1.0), CoordinatorError::ok);
    ASSERT_EQ(agreeing.submit(i, 0.5, 0.9), CoordinatorError::ok);
    ASSERT_EQ(conflicting.submit(i, i == 2 ? -0.5 : 0.5, 0.9), CoordinatorError::ok);
  }
  const auto agree = agreeing.combined();
  const auto conflict = conflicting.combined();
  EXPECT_DOUBLE_EQ(agree.agreement, 1.0);
  EXPECT_DOUBLE_EQ(conflict.agreement, 1.0 / 3.0);
  EXPECT_LT(conflict.confidence, agree.confidence);
  EXPECT_DOUBLE_EQ(conflict.confidence, agree.confidence / 3.0);
  // Equal and opposite: no confidence at all.
  SignalCoordinator<2> cancelled;
  ASSERT_EQ(cancelled.set_weight(0, 1.0), CoordinatorError::ok);
  ASSERT_EQ(cancelled.set_weight(1, 1.0), CoordinatorError::ok);
  ASSERT_EQ(cancelled.submit(0, 1.0, 1.0), CoordinatorError::ok);
  ASSERT_EQ(cancelled.submit(1, -1.0, 1.0), CoordinatorError::ok);
  EXPECT_EQ(cancelled.combined().score, 0.0);
  EXPECT_EQ(cancelled.combined().confidence, 0.0);
}

TEST(SignalCoordinatorTest, UnsubmittedAndZeroWeightSourcesAreIgnored) {
  SignalCoordinator<4> coordinator;
  EXPECT_EQ(coordinator.combined().sources, 0u);
  EXPECT_EQ(coordinator.combined().confidence, 0.0);
  ASSERT_EQ(coordinator.set_weight(0, 1.0), CoordinatorError::ok);
  ASSERT_EQ(coordinator.set_weight(1, 3.0), CoordinatorError::ok);  // never submits
  // source 2: submits with the default weight 0
  ASSERT_EQ(coordinator.submit(0, 0.5, 0.6), CoordinatorError::ok);
  ASSERT_EQ(coordinator.submit(2, -1.0, 1.0), CoordinatorError::ok);
  auto out = coordinator.combined();
  EXPECT_EQ(out.sources, 1u);
  EXPECT_DOUBLE_EQ(out.score, 0.5);
  EXPECT_DOUBLE_EQ(out.confidence, 0.6);
  // Only zero-weight submissions: nothing.
  coordinator.withdraw(0);
  out = coordinator.combined();
  EXPECT_EQ(out.sources, 0u);
  EXPECT_EQ(out.score, 0.0);
  EXPECT_EQ(out.confidence, 0.0);
  // clear() forgets submissions but keeps weights.
  ASSERT_EQ(coordinator.submit(1, 1.0, 1.0), CoordinatorError::ok);
  coordinator.clear();
  EXPECT_EQ(coordinator.combined().sources, 0u);
  EXPECT_EQ(coordinator.weight(1), 3.0);
}

TEST(SignalCoordinatorTest, RejectsBadInputWithoutChangingState) {
  SignalCoordinator<2> coordinator;
  EXPECT_EQ(coordinator.set_weight(2, 1.0), CoordinatorError::index_out_of_range);
  EXPECT_EQ(coordinator.set_weight(0, -1.0), CoordinatorError::invalid_weight);
  EXPECT_EQ(coordinator.set_weight(0, kNaN), CoordinatorError::invalid_weight);
  EXPECT_EQ(coordinator.set_weight(0, kInf), CoordinatorError::invalid_weight);
  EXPECT_EQ(coordinator.set_weight(0, 1e-200), CoordinatorError::invalid_weight);
  EXPECT_EQ(coordinator.weight(0), 0.0);
  ASSERT_EQ(coordinator.set_weight(0, 1.0), CoordinatorError::ok);
  EXPECT_EQ(coordinator.submit(2, 0.0, 0.0), CoordinatorError::index_out_of_range);
  EXPECT_EQ(coordinator.submit(0, 1.5, 0.5), CoordinatorError::invalid_score);
  EXPECT_EQ(coordinator.submit(0, kNaN, 0.5), CoordinatorError::invalid_score);
  EXPECT_EQ(coordinator.submit(0, 0.5, -0.1), CoordinatorError::invalid_confidence);
  EXPECT_EQ(coordinator.submit(0, 0.5, kNaN), CoordinatorError::invalid_confidence);
  EXPECT_EQ(coordinator.combined().sources, 0u);
}

TEST(SignalAllocation, EvaluateAndCoordinatorAllocateNothing) {
  SignalCoordinator<4> coordinator;
  const SignalParams params;
  double sink = 0.0;
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (std::size_t i = 0; i < 4; ++i)
      (void)coordinator.set_weight(i, 1.0 + static_cast<double>(i));
    for (int step = 0; step < 1000; ++step) {
      const double v = 0.01 * static_cast<double>(step - 500);
      const Signal signal = evaluate(v, (step % 3) - 1.0, 0.5, 0.25, params);
      (void)coordinator.submit(static_cast<std::size_t>(step) % 4, signal);
      sink += coordinator.combined().confidence;
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_GE(sink, 0.0);
}

}  // namespace
