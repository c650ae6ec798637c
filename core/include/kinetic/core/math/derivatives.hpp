#pragma once
// Exponentially smoothed price with velocity (price/s) and acceleration (price/s²) from exact
// three-point finite differences on the irregular time grid of the ticks.
//
// Smoothing. Each observation p at time t, Δt after the previous one, updates the smoothed
// price with a retention factor ρ = 1 − α:
//   s ← p − ρ (p − s)          (= (1 − α) s + α p, written so that α = 1 gives s = p exactly
//                               and a constant price stays exactly constant)
//   ρ = 1 − λ                  when half_life_s = 0   (a fixed weight λ per observation)
//   ρ = 2^(−Δt/half_life_s)    when half_life_s > 0   (time-aware: α = 1 − 2^(−Δt/h), so the
//                                                      memory is measured in seconds, not ticks)
// λ = 1 means no smoothing. The first observation sets s = p.
//
// Derivatives. From the last three smoothed points (t0, s0), (t1, s1), (t2, s2), t0 < t1 < t2:
//   h1 = t1 − t0,  h2 = t2 − t1,  d1 = (s1 − s0)/h1,  d2 = (s2 − s1)/h2
//   a = 2 (d2 − d1)/(h1 + h2)
//   v = d2 + a h2/2            (velocity at t2)
// These are the derivatives of the quadratic through the three points, so they are exact
// (up to rounding) for any quadratic s(t), on regular and irregular grids alike. Before three
// distinct timestamps have been seen (ready() false) v and a are reported as 0.
//
// What is exact and what is not:
// - λ = 1: s is the price itself, so v and a are exact for constant, linear and quadratic
//   prices, whatever the spacing of the ticks.
// - A constant price gives v = a = 0 exactly for any smoothing.
// - λ < 1, or a half-life, on a linear price with *regular* Δt: s converges geometrically to
//   the price minus a constant lag, so v converges to the slope and a to 0.
// - A half-life on a linear price with *irregular* Δt: the lag of a tick-sampled EMA depends
//   on the last Δt (lag = ρ (lag + slope·Δt)), so s is not exactly linear and v fluctuates
//   around the slope; only the long-run slope of s (over many ticks) equals the price slope.
//
// Same-timestamp ticks (Δt = 0, several trades in one millisecond). They are folded into one
// observation at the mean of their prices: the newest smoothed point is recomputed as
//   s2 = p̄ − ρ2 (p̄ − s1),   p̄ = (sum of prices at t2) / (their count)
// from the stored previous smoothed point s1 and the retention ρ2 used when t2 arrived, and
// v, a are recomputed from (s0, s1, s2). Nothing accumulates but the sum and the count, so k
// trades at one timestamp give exactly the same state as one trade at their mean (when p̄
// rounds the same), and repeated folding does not drift.
//
// Errors: a non-finite time or price, a price ≤ 0, or a time earlier than the newest accepted
// one return an error code and leave every bit of the state as it was.
//
// Time is a double in seconds from any origin; prefer a recent origin (session start) so that
// differences of nearby timestamps keep their precision.

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

namespace kinetic::math {

/// Why DerivativeEstimator::update refused a tick; `ok` (zero) means it was accepted.
enum class DerivativeError : std::uint8_t {
  ok = 0,
  non_finite_time,      ///< time is NaN or infinite
  non_finite_price,     ///< price is NaN or infinite
  non_positive_price,   ///< price ≤ 0
  time_went_backwards,  ///< time earlier than the newest accepted observation
};

/// Smoothing parameters. Plain aggregate.
struct DerivativeParams {
  double lambda = 0.1;       ///< weight of a new observation, (0, 1]; 1 = no smoothing
  double half_life_s = 0.0;  ///< > 0: time-aware weight 1 − 2^(−Δt/half_life_s), λ unused
};

/// Streaming estimator of smoothed price, velocity and acceleration for one symbol (see the
/// file comment for the method). Value type of fixed size, never allocates, no exceptions;
/// not thread-safe (one thread updates and reads it).
class DerivativeEstimator {
 public:
  /// True when λ ∈ (0, 1] and half_life_s is finite and ≥ 0.
  [[nodiscard]] static constexpr bool valid(const DerivativeParams& params) noexcept {
    return params.lambda > 0.0 && params.lambda <= 1.0 && params.half_life_s >= 0.0 &&
           params.half_life_s <= std::numeric_limits<double>::max();
  }

  /// Precondition: valid(params) (asserted in debug builds).
  explicit DerivativeEstimator(const DerivativeParams& params = {}) noexcept : params_(params) {
    assert(valid(params) && "DerivativeParams out of range");
  }

  /// Adds a trade price observed at `time_s` (seconds, any origin). On error nothing changes.
  [[nodiscard]] DerivativeError update(double time_s, double price) noexcept {
    if (!std::isfinite(time_s))
      return DerivativeError::non_finite_time;
    if (!std::isfinite(price))
      return DerivativeError::non_finite_price;
    if (!(price > 0.0))
      return DerivativeError::non_positive_price;
    if (observations_ == 0) {
      t2_ = time_s;
      newest_price_sum_ = price;
      newest_count_ = 1;
      newest_retention_ = 0.0;  // the first observation is taken as it is
      s2_ = price;
      observations_ = 1;
      ++ticks_;
      return DerivativeError::ok;
    }
    const double dt = time_s - t2_;
    if (dt < 0.0)
      return DerivativeError::time_went_backwards;
    if (dt == 0.0) {
      newest_price_sum_ += price;
      ++newest_count_;
    } else {
      // The newest interval's slope becomes the older one's: d1 = (s1 − s0)/h1 is never
      // recomputed (s0 and s1 no longer change).
      older_slope_ = newest_slope_;
      t0_ = t1_;
      s0_ = s1_;
      t1_ = t2_;
      s1_ = s2_;
      t2_ = time_s;
      newest_price_sum_ = price;
      newest_count_ = 1;
      newest_retention_ = retention(dt);
      ++observations_;
    }
    ++ticks_;
    // A lone trade at its timestamp (the usual case) needs no division.
    const double mean = newest_count_ == 1 ? newest_price_sum_
                                           : newest_price_sum_ / static_cast<double>(newest_count_);
    s2_ = mean - newest_retention_ * (mean - s1_);
    recompute_derivatives();
    return DerivativeError::ok;
  }

  /// Smoothed price (0 before the first observation).
  [[nodiscard]] double price() const noexcept { return s2_; }
  /// Velocity at the newest timestamp, price/s; 0 until ready().
  [[nodiscard]] double velocity() const noexcept { return velocity_; }
  /// Acceleration, price/s²; 0 until ready().
  [[nodiscard]] double acceleration() const noexcept { return acceleration_; }
  /// Distinct timestamps accepted (ticks at one timestamp count once).
  [[nodiscard]] std::uint64_t observations() const noexcept { return observations_; }
  /// Ticks accepted, every trade counted.
  [[nodiscard]] std::uint64_t ticks() const noexcept { return ticks_; }
  /// True once three distinct timestamps were seen, so velocity and acceleration are defined.
  [[nodiscard]] bool ready() const noexcept { return observations_ >= 3; }
  /// Newest accepted timestamp (0 before the first observation).
  [[nodiscard]] double last_time() const noexcept { return t2_; }
  [[nodiscard]] const DerivativeParams& params() const noexcept { return params_; }

 private:
  /// ρ = 1 − α for a step of dt > 0 seconds.
  [[nodiscard]] double retention(double dt) const noexcept {
    if (params_.half_life_s > 0.0)
      return std::exp2(-dt / params_.half_life_s);
    return 1.0 - params_.lambda;
  }

  void recompute_derivatives() noexcept {
    if (observations_ < 2) {
      velocity_ = 0.0;
      acceleration_ = 0.0;
      return;
    }
    const double h2 = t2_ - t1_;
    if (observations_ == 2) {
      newest_slope_ = (s2_ - s1_) / h2;
      velocity_ = 0.0;
      acceleration_ = 0.0;
      return;
    }
    // d2 = (s2 − s1)/h2 and a = 2 (d2 − d1)/(h1 + h2) from one reciprocal of h2 (h1 + h2):
    // divisions are the scarcest arithmetic on the tick path.
    const double span = (t1_ - t0_) + h2;
    const double reciprocal = 1.0 / (h2 * span);
    const double d2 = (s2_ - s1_) * span * reciprocal;
    newest_slope_ = d2;
    acceleration_ = 2.0 * (d2 - older_slope_) * h2 * reciprocal;
    velocity_ = d2 + 0.5 * acceleration_ * h2;
  }

  DerivativeParams params_;
  // The last three smoothed points, oldest first.
  double t0_ = 0.0, t1_ = 0.0, t2_ = 0.0;
  double s0_ = 0.0, s1_ = 0.0, s2_ = 0.0;
  // What the Δt = 0 fold needs to recompute s2_ from s1_ without accumulated error.
  double newest_price_sum_ = 0.0;
  double newest_retention_ = 0.0;
  std::uint64_t newest_count_ = 0;
  // Slopes of the newest interval, (s2 − s1)/h2, and of the one before, (s1 − s0)/h1.
  double newest_slope_ = 0.0;
  double older_slope_ = 0.0;
  double velocity_ = 0.0;
  double acceleration_ = 0.0;
  std::uint64_t observations_ = 0;
  std::uint64_t ticks_ = 0;
};

}  // namespace kinetic::math
