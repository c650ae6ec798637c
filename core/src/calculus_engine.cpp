#include "kinetic/core/strategy/calculus_engine.hpp"

#include <cassert>

#include "kinetic/core/config.hpp"

namespace kinetic::strategy {

bool CalculusParams::valid() const noexcept {
  double total_weight = 0.0;
  for (const double weight : weights) {
    if (!(weight >= 0.0 && weight <= SignalCoordinator<kSourceCount>::max_weight))
      return false;
    if (weight != 0.0 && weight < SignalCoordinator<kSourceCount>::min_weight)
      return false;
    total_weight += weight;
  }
  const auto positive_finite = [](double x) { return x > 0.0 && std::isfinite(x); };
  return math::DerivativeEstimator::valid(derivatives) && derivative_noise_alpha > 0.0 &&
         derivative_noise_alpha <= 1.0 &&
         math::KinematicKalman::validate(kalman) == math::KalmanError::ok && total_weight > 0.0 &&
         std::isfinite(forecast_horizon_s) && forecast_horizon_s >= 0.0 &&
         positive_finite(drift_horizons_s[0]) && positive_finite(drift_horizons_s[1]) &&
         positive_finite(drift_t_threshold);
}

CalculusParams calculus_params(const Config& config) {
  const StrategyConfig& strategy = config.strategy;
  CalculusParams params;
  params.derivatives.lambda = strategy.ema_lambda;
  params.derivatives.half_life_s = strategy.half_life_ms * 1e-3;
  params.derivative_noise_alpha = strategy.derivative_noise_alpha;
  params.kalman.q = config.kalman.process_noise_q;
  params.kalman.r = config.kalman.measurement_noise_r;
  params.kalman.sigma_v0 = config.kalman.sigma_v0;
  params.kalman.sigma_a0 = config.kalman.sigma_a0;
  params.kalman.adaptive = config.kalman.adaptive;
  params.kalman.adaptive_alpha = config.kalman.adaptive_alpha;
  params.signal.snr_threshold = strategy.snr_threshold;
  params.signal.dead_band_sigma = strategy.dead_band_sigma;
  params.signal.actions.strong_uptrend = strategy.action_strong_uptrend;
  params.signal.actions.decelerating_uptrend = strategy.action_decelerating_uptrend;
  params.signal.actions.decelerating_downtrend = strategy.action_decelerating_downtrend;
  params.signal.actions.strong_downtrend = strategy.action_strong_downtrend;
  params.signal.actions.bottoming_out = strategy.action_bottoming_out;
  params.signal.actions.topping_out = strategy.action_topping_out;
  params.weights = {strategy.weight_tick_derivatives, strategy.weight_tick_kalman,
                    strategy.weight_kalman_1s, strategy.weight_kalman_1m};
  params.forecast_horizon_s = static_cast<double>(strategy.forecast_horizon_ms) * 1e-3;
  params.drift_horizons_s = {strategy.drift_short_horizon_s, strategy.drift_long_horizon_s};
  params.drift_t_threshold = strategy.drift_t_threshold;
  return params;
}

CalculusEngine::CalculusEngine(const CalculusParams& params) noexcept
    : params_(params),
      derivatives_(params.derivatives),
      fd_velocity_spread_(params.derivative_noise_alpha),
      fd_acceleration_spread_(params.derivative_noise_alpha),
      spread_warmup_samples_(
          static_cast<std::uint64_t>(std::ceil(1.0 / params.derivative_noise_alpha))),
      tick_kalman_(params.kalman),
      kalman_1s_(params.kalman),
      kalman_1m_(params.kalman),
      drift_{math::DriftEstimator(params.drift_horizons_s[0]),
             math::DriftEstimator(params.drift_horizons_s[1])},
      alignment_(params.drift_t_threshold) {
  assert(params.valid() && "CalculusParams out of range");
  for (std::size_t i = 0; i < kSourceCount; ++i)
    (void)coordinator_.set_weight(i, params.weights[i]);
}

// A bar is stamped at its end; its time is ≥ every earlier bar's and ≤ the tick that closed
// it, and its price is a price the engine accepted, so these updates cannot fail.
void CalculusEngine::on_second_bar(const ClosedBar& bar) noexcept {
  const double t = seconds_since_origin(bar.end_ns);
  (void)kalman_1s_.update(t, bar.close);
  signals_[index(Source::kalman_1s)] = evaluate_kalman(kalman_1s_);
  (void)coordinator_.submit(index(Source::kalman_1s), signals_[index(Source::kalman_1s)]);
  for (math::DriftEstimator& drift : drift_)
    (void)drift.update(t, bar.close);
}

void CalculusEngine::on_minute_bar(const ClosedBar& bar) noexcept {
  (void)kalman_1m_.update(seconds_since_origin(bar.end_ns), bar.close);
  signals_[index(Source::kalman_1m)] = evaluate_kalman(kalman_1m_);
  (void)coordinator_.submit(index(Source::kalman_1m), signals_[index(Source::kalman_1m)]);
}

}  // namespace kinetic::strategy
