#pragma once
// Exponentially smoothed price with velocity and acceleration by finite differences over the
// true time between ticks (irregular sampling).
//
// For an observation p at time t, with Δt since the previous one:
//   α = 1 − exp(−Δt/τ)           (smoothing weight for a time constant τ)
//   s ← s + α (p − s)            (smoothed price)
//   v ← v + β ((s − s_prev)/Δt − v)   (velocity, units per second, smoothed with τ_d)
//   a ← a + β ((v − v_prev)/Δt − a)   (acceleration, units per second²)
// Using exp(−Δt/τ) instead of a fixed λ per tick makes the filter independent of how many
// ticks arrive per second. Observations with Δt = 0 (several trades in one timestamp) only
// move the smoothed price; the derivatives wait for time to pass.

#include <cmath>
#include <cstdint>

namespace kinetic::math {

/// Streaming estimator of price, velocity and acceleration for one series. Value type, no
/// allocation; one thread at a time.
class EmaDerivative {
 public:
  /// `price_tau_s`: smoothing time constant of the price; `derivative_tau_s`: of v and a.
  constexpr EmaDerivative(double price_tau_s, double derivative_tau_s) noexcept
      : price_tau_s_(price_tau_s), derivative_tau_s_(derivative_tau_s) {}

  /// Adds an observation at `time_s` (seconds, any origin). Returns false, leaving the state
  /// untouched, for a price that is not finite and positive or a time that goes backwards.
  [[nodiscard]] bool update(double time_s, double price) noexcept {
    if (!(price > 0.0) || !std::isfinite(price) || !std::isfinite(time_s))
      return false;
    if (count_ == 0) {
      smoothed_ = price;
      last_time_s_ = time_s;
      count_ = 1;
      return true;
    }
    const double dt = time_s - last_time_s_;
    if (dt < 0.0)
      return false;
    if (dt == 0.0) {
      // Same timestamp: fold into the smoothed price with a small weight, keep derivatives.
      smoothed_ += kSameTimeWeight * (price - smoothed_);
      return true;
    }
    const double alpha = 1.0 - std::exp(-dt / price_tau_s_);
    const double beta = 1.0 - std::exp(-dt / derivative_tau_s_);
    const double previous_smoothed = smoothed_;
    smoothed_ += alpha * (price - smoothed_);
    const double previous_velocity = velocity_;
    velocity_ += beta * ((smoothed_ - previous_smoothed) / dt - velocity_);
    acceleration_ += beta * ((velocity_ - previous_velocity) / dt - acceleration_);
    last_time_s_ = time_s;
    ++count_;
    return true;
  }

  [[nodiscard]] constexpr double price() const noexcept { return smoothed_; }
  [[nodiscard]] constexpr double velocity() const noexcept { return velocity_; }
  [[nodiscard]] constexpr double acceleration() const noexcept { return acceleration_; }
  [[nodiscard]] constexpr std::uint64_t observations() const noexcept { return count_; }

 private:
  static constexpr double kSameTimeWeight = 0.05;
  double price_tau_s_;
  double derivative_tau_s_;
  double smoothed_ = 0.0;
  double velocity_ = 0.0;
  double acceleration_ = 0.0;
  double last_time_s_ = 0.0;
  std::uint64_t count_ = 0;
};

}  // namespace kinetic::math
