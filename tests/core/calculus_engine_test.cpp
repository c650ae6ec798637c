// Tests of the whole per-tick calculus update: bar resampling, the resampled sources, the
// coordinator's use of weights, the forecast, the drift veto, bad input, configuration
// wiring, and no allocation across the full update.
#include "kinetic/core/strategy/calculus_engine.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/config.hpp"
#include "kinetic/core/math/random.hpp"

namespace kinetic::strategy {
namespace {

constexpr TimestampNs kSecond = 1'000'000'000;
constexpr TimestampNs kStart = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z

CalculusParams test_params() {
  CalculusParams params;
  params.kalman.q = 1.0;
  params.kalman.r = 0.05;
  return params;
}

/// Everything an observer can read from an engine, for exact comparisons.
struct Observed {
  double fd_price, fd_v, fd_a, fd_sv, fd_sa;
  double k_p, k_v, k_a, k_sv, k1s_p, k1m_p, forecast_mean, forecast_var;
  double score, conf, drift0, drift1;
  std::uint64_t ticks;
  std::array<TrendCase, kSourceCount> cases;
  bool operator==(const Observed&) const = default;
};

Observed observe(const CalculusEngine& e) {
  Observed o{};
  o.fd_price = e.derivatives().price();
  o.fd_v = e.derivatives().velocity();
  o.fd_a = e.derivatives().acceleration();
  o.fd_sv = e.derivative_velocity_sigma();
  o.fd_sa = e.derivative_acceleration_sigma();
  o.k_p = e.kalman().price();
  o.k_v = e.kalman().velocity();
  o.k_a = e.kalman().acceleration();
  o.k_sv = e.kalman().velocity_stddev();
  o.k1s_p = e.kalman(Source::kalman_1s).price();
  o.k1m_p = e.kalman(Source::kalman_1m).price();
  o.forecast_mean = e.forecast().mean;
  o.forecast_var = e.forecast().variance;
  o.score = e.combined().score;
  o.conf = e.combined().confidence;
  o.drift0 = e.drift()[0].drift_per_s();
  o.drift1 = e.drift()[1].drift_per_s();
  o.ticks = e.ticks();
  for (std::size_t i = 0; i < kSourceCount; ++i)
    o.cases[i] = e.signals()[i].trend_case;
  return o;
}

/// A random walk of trades about 20 ms apart (some sharing a millisecond).
struct Tape {
  std::vector<TimestampNs> time_ns;
  std::vector<double> price;
};

Tape random_tape(std::size_t count, std::uint64_t seed) {
  math::Rng rng(seed);
  Tape tape;
  TimestampNs now = kStart;
  double p = 65000.0;
  for (std::size_t i = 0; i < count; ++i) {
    now += static_cast<TimestampNs>(40.0 * rng.uniform()) * 1'000'000;  // 0..39 ms
    p += 0.5 * rng.normal();
    tape.time_ns.push_back(now);
    tape.price.push_back(std::round(p * 10.0) / 10.0);
  }
  return tape;
}

TEST(BarResampler, ClosesABarWhenATickFallsInALaterBucket) {
  BarResampler bars(kSecond);
  ClosedBar bar;
  EXPECT_FALSE(bars.add(kStart + 100'000'000, 100.0, bar));  // opens [0 s, 1 s)
  EXPECT_FALSE(bars.add(kStart + 999'999'999, 101.0, bar));
  ASSERT_TRUE(bars.add(kStart + kSecond, 102.0, bar));  // the boundary belongs to the next bar
  EXPECT_EQ(bar.end_ns, kStart + kSecond);
  EXPECT_EQ(bar.close, 101.0);
  // A gap of several buckets closes one bar, stamped at the end of its own bucket.
  ASSERT_TRUE(bars.add(kStart + 5 * kSecond + 7, 103.0, bar));
  EXPECT_EQ(bar.end_ns, kStart + 2 * kSecond);
  EXPECT_EQ(bar.close, 102.0);
}

TEST(BarResampler, BucketsAreAlignedToTheEpochAlsoBeforeIt) {
  BarResampler bars(60 * kSecond);
  ClosedBar bar;
  EXPECT_FALSE(bars.add(-90 * kSecond, 1.0, bar));  // bucket [−120 s, −60 s)
  EXPECT_FALSE(bars.add(-61 * kSecond, 2.0, bar));
  ASSERT_TRUE(bars.add(-60 * kSecond, 3.0, bar));
  EXPECT_EQ(bar.end_ns, -60 * kSecond);
  EXPECT_EQ(bar.close, 2.0);
}

TEST(CalculusEngine, ResampledSourcesSeeBarClosesOnly) {
  CalculusEngine engine(test_params());
  ASSERT_EQ(engine.update(kStart + 100'000'000, 100.0), CalculusError::ok);
  ASSERT_EQ(engine.update(kStart + 500'000'000, 101.0), CalculusError::ok);
  EXPECT_FALSE(engine.kalman(Source::kalman_1s).initialised());
  EXPECT_EQ(engine.signal(Source::kalman_1s).trend_case, TrendCase::none);
  ASSERT_EQ(engine.update(kStart + 1'200'000'000, 102.0), CalculusError::ok);
  // The 1 s filter got the bar [0 s, 1 s): last price 101 at its end, 0.9 s after the first
  // tick (the engine's time origin).
  const math::KinematicKalman& one_second = engine.kalman(Source::kalman_1s);
  ASSERT_TRUE(one_second.initialised());
  EXPECT_EQ(one_second.price(), 101.0);
  EXPECT_DOUBLE_EQ(one_second.last_time(), 0.9);
  EXPECT_FALSE(engine.kalman(Source::kalman_1m).initialised());
  ASSERT_EQ(engine.update(kStart + 61 * kSecond, 103.0), CalculusError::ok);
  const math::KinematicKalman& one_minute = engine.kalman(Source::kalman_1m);
  ASSERT_TRUE(one_minute.initialised());
  EXPECT_EQ(one_minute.price(), 102.0);
  EXPECT_DOUBLE_EQ(one_minute.last_time(), 59.9);
}

TEST(CalculusEngine, BadInputIsRefusedAndChangesNothingObservable) {
  const Tape tape = random_tape(4000, 7);
  CalculusEngine engine(test_params());
  CalculusEngine twin(test_params());  // never sees the bad ticks
  for (std::size_t i = 0; i < tape.price.size(); ++i) {
    ASSERT_EQ(engine.update(tape.time_ns[i], tape.price[i]), CalculusError::ok);
    ASSERT_EQ(twin.update(tape.time_ns[i], tape.price[i]), CalculusError::ok);
    if (i % 500 == 250) {
      const TimestampNs now = tape.time_ns[i];
      EXPECT_EQ(engine.update(now, std::numeric_limits<double>::quiet_NaN()),
                CalculusError::non_finite_price);
      EXPECT_EQ(engine.update(now, std::numeric_limits<double>::infinity()),
                CalculusError::non_finite_price);
      EXPECT_EQ(engine.update(now, 0.0), CalculusError::non_positive_price);
      EXPECT_EQ(engine.update(now, -1.0), CalculusError::non_positive_price);
      EXPECT_EQ(engine.update(now - 1, 65000.0), CalculusError::time_went_backwards);
      ASSERT_EQ(observe(engine), observe(twin)) << "after the bad ticks at " << i;
    }
  }
  EXPECT_EQ(observe(engine), observe(twin));
}

TEST(CalculusEngine, FirstTickCanBeRefused) {
  CalculusEngine engine(test_params());
  EXPECT_EQ(engine.update(kStart, -5.0), CalculusError::non_positive_price);
  EXPECT_EQ(engine.ticks(), 0U);
  EXPECT_EQ(engine.update(kStart, 10.0), CalculusError::ok);
  EXPECT_EQ(engine.ticks(), 1U);
}

/// p(t) = 10000 + sign·(2 t + 0.001 t²), sampled every 50 ms with tiny noise.
void feed_trend(CalculusEngine& engine, double sign, double seconds) {
  math::Rng rng(3);
  for (TimestampNs t = 0; t <= static_cast<TimestampNs>(seconds * 1e9); t += 50'000'000) {
    const double s = static_cast<double>(t) * 1e-9;
    const double price = 10000.0 + sign * (2.0 * s + 0.001 * s * s) + 0.01 * rng.normal();
    ASSERT_EQ(engine.update(kStart + t, price), CalculusError::ok);
  }
}

TEST(CalculusEngine, StrongTrendsGiveStrongSignalsOnEverySource) {
  // The model's own assumption (constant acceleration), so a tiny jerk density is right.
  CalculusParams params = test_params();
  params.kalman.q = 1e-8;
  params.kalman.r = 1e-4;
  for (const double sign : {+1.0, -1.0}) {
    CalculusEngine engine(params);
    feed_trend(engine, sign, 1200.0);  // 20 one-minute bars
    const TrendCase expected = sign > 0 ? TrendCase::strong_uptrend : TrendCase::strong_downtrend;
    for (const Source source : {Source::tick_kalman, Source::kalman_1s, Source::kalman_1m}) {
      EXPECT_EQ(engine.signal(source).trend_case, expected) << to_string(source);
      EXPECT_EQ(engine.signal(source).score, sign) << to_string(source);
    }
    EXPECT_GT(engine.combined().score * sign, 0.5);
    EXPECT_GT(engine.combined().confidence, 0.0);
    EXPECT_EQ(engine.combined().sources, kSourceCount);
  }
}

TEST(CalculusEngine, DerivativeSourceWaitsForItsNoiseEstimate) {
  CalculusParams params = test_params();
  params.derivative_noise_alpha = 0.1;  // 10 samples of spread before it may act
  CalculusEngine engine(params);
  math::Rng rng(9);
  int first_action_at = -1;
  for (int i = 0; i < 200; ++i) {
    const double s = 0.05 * i;
    const double price = 10000.0 + 20.0 * s + 5.0 * s * s + 0.001 * rng.normal();
    ASSERT_EQ(engine.update(kStart + TimestampNs{i} * 50'000'000, price), CalculusError::ok);
    if (first_action_at < 0 && engine.signal(Source::tick_derivatives).action != SignalAction::none)
      first_action_at = i;
  }
  // Derivatives need 3 timestamps, then 10 spread samples: never before the 12th tick.
  EXPECT_GE(first_action_at, 11);
  EXPECT_GT(first_action_at, 0) << "a strong quadratic trend must eventually signal";
  EXPECT_EQ(engine.signal(Source::tick_derivatives).trend_case, TrendCase::strong_uptrend);
}

TEST(CalculusEngine, ZeroWeightLeavesASourceOutOfTheCombination) {
  CalculusParams params = test_params();
  params.weights = {0.0, 1.0, 0.0, 0.0};
  CalculusEngine engine(params);
  feed_trend(engine, +1.0, 120.0);
  EXPECT_EQ(engine.combined().sources, 1U);
  EXPECT_EQ(engine.combined().score, engine.signal(Source::tick_kalman).score);
  EXPECT_EQ(engine.combined().confidence, engine.signal(Source::tick_kalman).confidence);
}

TEST(CalculusEngine, ForecastIsTheTickKalmanTaylorForecast) {
  CalculusParams params = test_params();
  params.forecast_horizon_s = 2.5;
  CalculusEngine engine(params);
  feed_trend(engine, +1.0, 30.0);
  const auto expected = engine.kalman().forecast(2.5);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(engine.forecast().mean, expected.value().mean);
  EXPECT_EQ(engine.forecast().variance, expected.value().variance);
  // P + v h + ½ a h² of the filter's state.
  const math::KinematicKalman& k = engine.kalman();
  EXPECT_NEAR(engine.forecast().mean,
              k.price() + k.velocity() * 2.5 + 0.5 * k.acceleration() * 2.5 * 2.5, 1e-9);
}

TEST(CalculusEngine, SignificantDriftVetoesOpposingEntriesOnly) {
  CalculusParams params = test_params();
  params.drift_horizons_s = {600.0, 3600.0};
  CalculusEngine engine(params);
  math::Rng rng(11);
  double log_price = std::log(100.0);
  // Two hours of one trade per 250 ms with drift 2e-5/s and volatility 1e-4/√s: t ≈ 8.
  for (TimestampNs t = 0; t < 7200 * kSecond; t += 250'000'000) {
    log_price += 2e-5 * 0.25 + 1e-4 * 0.5 * rng.normal();
    ASSERT_EQ(engine.update(kStart + t, std::exp(log_price)), CalculusError::ok);
  }
  EXPECT_GT(engine.drift()[0].t_stat(), params.drift_t_threshold);
  EXPECT_EQ(engine.entry_permitted(math::EntrySide::long_entry), math::AlignmentVerdict::permitted);
  EXPECT_EQ(engine.entry_permitted(math::EntrySide::short_entry),
            math::AlignmentVerdict::vetoed_positive_drift);
}

TEST(CalculusEngine, WithoutDriftNothingIsVetoed) {
  CalculusEngine engine(test_params());
  feed_trend(engine, +1.0, 0.5);  // too short for any drift statistic
  EXPECT_EQ(engine.entry_permitted(math::EntrySide::long_entry), math::AlignmentVerdict::permitted);
  EXPECT_EQ(engine.entry_permitted(math::EntrySide::short_entry),
            math::AlignmentVerdict::permitted);
}

TEST(CalculusEngine, FullPerTickUpdateAllocatesNothing) {
  const Tape tape = random_tape(200'000, 5);  // about 65 minutes: 1 s and 1 min bars close
  CalculusEngine engine(test_params());
  std::uint64_t accepted = 0;
  const std::uint64_t allocations = test::count_allocations([&] {
    for (std::size_t i = 0; i < tape.price.size(); ++i)
      accepted += engine.update(tape.time_ns[i], tape.price[i]) == CalculusError::ok ? 1U : 0U;
    (void)engine.entry_permitted(math::EntrySide::long_entry);
  });
  EXPECT_EQ(allocations, 0U);
  EXPECT_EQ(accepted, tape.price.size());
  EXPECT_TRUE(engine.kalman(Source::kalman_1m).initialised());
  EXPECT_GT(engine.drift()[0].degrees_of_freedom(), 1.0);
}

TEST(CalculusParamsTest, ValidRejectsBadFields) {
  EXPECT_TRUE(test_params().valid());
  CalculusParams params = test_params();
  params.weights = {0.0, 0.0, 0.0, 0.0};
  EXPECT_FALSE(params.valid());
  params = test_params();
  params.weights[2] = -1.0;
  EXPECT_FALSE(params.valid());
  params = test_params();
  params.weights[1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(params.valid());
  params = test_params();
  params.drift_horizons_s[1] = 0.0;
  EXPECT_FALSE(params.valid());
  params = test_params();
  params.derivative_noise_alpha = 0.0;
  EXPECT_FALSE(params.valid());
  params = test_params();
  params.kalman.r = 0.0;
  EXPECT_FALSE(params.valid());
  params = test_params();
  params.forecast_horizon_s = -1.0;
  EXPECT_FALSE(params.valid());
}

TEST(CalculusParamsTest, EveryFieldComesFromTheConfiguration) {
  const Config config = load_config_from_string(R"(
[strategy]
ema_lambda = 0.25
half_life_ms = 1500
derivative_noise_alpha = 0.05
snr_threshold = 3.0
dead_band_sigma = 0.5
forecast_horizon_ms = 2500
action_strong_uptrend = "buy"
action_decelerating_uptrend = "sell"
action_decelerating_downtrend = "none"
action_strong_downtrend = "sell"
action_bottoming_out = "hold"
action_topping_out = "strong_sell"
weight_tick_derivatives = 0.0
weight_tick_kalman = 2.0
weight_kalman_1s = 0.5
weight_kalman_1m = 3.0
drift_short_horizon_s = 600
drift_long_horizon_s = 7200
drift_t_threshold = 2.5
[kalman]
process_noise_q = 4.0
measurement_noise_r = 0.2
sigma_v0 = 3.0
sigma_a0 = 5.0
adaptive = true
adaptive_alpha = 0.1
)",
                                                "test.toml", empty_environment());
  const CalculusParams params = calculus_params(config);
  EXPECT_TRUE(params.valid());
  EXPECT_EQ(params.derivatives.lambda, 0.25);
  EXPECT_EQ(params.derivatives.half_life_s, 1.5);
  EXPECT_EQ(params.derivative_noise_alpha, 0.05);
  EXPECT_EQ(params.signal.snr_threshold, 3.0);
  EXPECT_EQ(params.signal.dead_band_sigma, 0.5);
  EXPECT_EQ(params.forecast_horizon_s, 2.5);
  EXPECT_EQ(params.signal.actions.strong_uptrend, SignalAction::buy);
  EXPECT_EQ(params.signal.actions.decelerating_uptrend, SignalAction::sell);
  EXPECT_EQ(params.signal.actions.decelerating_downtrend, SignalAction::none);
  EXPECT_EQ(params.signal.actions.strong_downtrend, SignalAction::sell);
  EXPECT_EQ(params.signal.actions.bottoming_out, SignalAction::hold);
  EXPECT_EQ(params.signal.actions.topping_out, SignalAction::strong_sell);
  EXPECT_EQ(params.weights, (std::array<double, kSourceCount>{0.0, 2.0, 0.5, 3.0}));
  EXPECT_EQ(params.drift_horizons_s, (std::array<double, 2>{600.0, 7200.0}));
  EXPECT_EQ(params.drift_t_threshold, 2.5);
  EXPECT_EQ(params.kalman.q, 4.0);
  EXPECT_EQ(params.kalman.r, 0.2);
  EXPECT_EQ(params.kalman.sigma_v0, 3.0);
  EXPECT_EQ(params.kalman.sigma_a0, 5.0);
  EXPECT_TRUE(params.kalman.adaptive);
  EXPECT_EQ(params.kalman.adaptive_alpha, 0.1);
  EXPECT_TRUE(calculus_params(default_config()).valid());
}

TEST(CalculusParamsTest, AllZeroWeightsAreAConfigurationError) {
  const char* toml = R"(
[strategy]
weight_tick_derivatives = 0.0
weight_tick_kalman = 0.0
weight_kalman_1s = 0.0
weight_kalman_1m = 0.0
)";
  try {
    (void)load_config_from_string(toml, "zero.toml", empty_environment());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("every source weight is 0"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace kinetic::strategy
