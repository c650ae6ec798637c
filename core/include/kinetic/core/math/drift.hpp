#pragma once
// Drift of a price series (mean log-return per second) over a horizon H, its standard error,
// t-statistic and sign-flip probability, with irregular sampling; and an alignment filter
// that vetoes entries against a significant drift on a higher horizon.
//
// Model. Between ticks at times t_{i−1} < t_i the log-return r_i = ln(P_i/P_{i−1}) over
// Δt_i = t_i − t_{i−1} is taken as N(μ Δt_i, σ² Δt_i) (geometric Brownian motion with drift
// μ and volatility σ per √second). Interval i carries the weight w_i = exp(−(t_now − t_i)/H),
// so the estimator remembers about one horizon of *time*, however many ticks that holds.
//
// Estimates, from five exponentially decayed sums kept in O(1) per tick
//   S_w = Σ w,  S_t = Σ w Δt,  S_r = Σ w r,  S_q = Σ w r²/Δt,  S_v = Σ w² Δt:
//   μ̂   = S_r / S_t                          (weighted maximum likelihood: minimises
//                                             Σ w (r − μΔt)²/Δt)
//   Q    = Σ w (r − μ̂Δt)²/Δt = S_q − S_r²/S_t
//   ν    = S_w − S_v / S_t                   (degrees of freedom: E[Q] = σ² ν exactly under
//                                             the model; ν = n − 1 for equal weights)
//   σ̂²  = Q / ν                              (per second)
//   T_eff = S_t² / S_v                        (effective sample time, Kish's formula for
//                                             weights; = Σ Δt for equal weights)
//   SE   = σ̂ / √T_eff                        (since Var μ̂ = σ² S_v / S_t²)
//   t    = μ̂ / SE
// One step with Δt > 0 decays every sum by d = exp(−Δt/H) (S_v by d², its weights being
// squared) and adds the new interval with weight 1.
//
// Sign error and flip probability. With a flat prior the posterior of the true drift is
// N(μ̂, SE²), so the probability that the true drift has the sign opposite to the estimate is
//   sign_error_probability() = Φ(−|t|).
// The flip probability is predictive: the chance that the estimate one horizon from now,
// μ̂(t + H), has the sign opposite to μ̂(t). With exponential weights of time constant H the
// two estimates share part of their data: under the model, the correlation of their errors
// is ρ = e^(−1) (the covariance ∫ e^(−(t−s)/H) e^(−(t+H−s)/H) ds over the variance
// ∫ e^(−2(t−s)/H) ds). Writing μ = μ̂ − SE ε₁ (posterior) and
// μ̂(t + H) − μ = ρ (μ̂ − μ) + √(1 − ρ²) SE ε₂ gives μ̂(t + H) ~ N(μ̂, 2 (1 − ρ) SE²), so
//   flip_probability() = Φ(−|t| / √(2 (1 − e^(−1)))) = Φ(−|t| / 1.1244).
// Both are 0.5 when the estimate says nothing (t = 0 or not enough data) and fall to 0 as the
// evidence for the sign grows; the flip probability is the larger, since a future estimate
// adds its own noise. Under zero true drift the sign error probability is uniform on
// (0, 0.5), mean 0.25.
//
// Same-timestamp ticks (Δt = 0). The price at a timestamp is the last one seen at it, so a
// tick at the current time revises the most recent interval's return (its Δt and weight
// stay as they are): S_r and S_q are corrected in place. Before any time has passed the
// tick just replaces the starting price. Σ r therefore still telescopes to
// ln(P_last/P_first) and no interval ever has Δt = 0.
//
// Limitation: the model has no microstructure noise. Bid-ask bounce between ticks a few
// milliseconds apart inflates σ̂ (r²/Δt is large for tiny Δt) and so the standard error; feed
// mid prices or ticks sampled at a sensible interval when that matters.

#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

namespace kinetic::math {

/// Standard normal cumulative distribution function Φ(x), accurate in both tails.
[[nodiscard]] inline double normal_cdf(double x) noexcept {
  return 0.5 * std::erfc(-x * 0.70710678118654752440);  // 1/√2
}

/// Why DriftEstimator::update refused a tick; `ok` means it was accepted.
enum class DriftError : std::uint8_t {
  ok = 0,
  non_finite_input,    ///< time or price is NaN or infinite
  non_positive_price,  ///< price ≤ 0: its logarithm is undefined
  time_backwards,      ///< time earlier than the previous accepted tick
};

/// Streaming drift estimator for one series and one horizon (see the file comment for the
/// method). Value type (11 words), no allocation, no exceptions; not thread-safe (one thread
/// updates and reads it).
class DriftEstimator {
 public:
  /// `horizon_s`: the memory time constant H in seconds. Precondition: finite and > 0.
  explicit DriftEstimator(double horizon_s) noexcept : horizon_s_(horizon_s) {
    assert(horizon_s > 0.0 && std::isfinite(horizon_s) && "drift horizon must be positive");
  }

  /// Adds a tick at `time_s` (seconds, any origin) with price `price`. On error the state is
  /// left untouched (bit for bit).
  [[nodiscard]] DriftError update(double time_s, double price) noexcept {
    if (!std::isfinite(time_s) || !std::isfinite(price))
      return DriftError::non_finite_input;
    if (!(price > 0.0))
      return DriftError::non_positive_price;
    if (!has_price_) {
      last_time_s_ = time_s;
      last_log_price_ = std::log(price);
      has_price_ = true;
      return DriftError::ok;
    }
    const double dt = time_s - last_time_s_;
    if (dt < 0.0)
      return DriftError::time_backwards;
    const double log_price = std::log(price);
    const double r = log_price - last_log_price_;
    if (dt == 0.0) {
      if (last_dt_ > 0.0) {
        // Revise the newest interval (weight 1): its return grows from last_r_ to last_r_ + r.
        const double revised = last_r_ + r;
        sum_r_ += r;
        sum_q_ += (revised * revised - last_r_ * last_r_) / last_dt_;
        last_r_ = revised;
      }
      last_log_price_ = log_price;
      return DriftError::ok;
    }
    const double decay = std::exp(-dt / horizon_s_);
    sum_w_ = decay * sum_w_ + 1.0;
    sum_t_ = decay * sum_t_ + dt;
    sum_r_ = decay * sum_r_ + r;
    sum_q_ = decay * sum_q_ + r * r / dt;
    sum_v_ = decay * decay * sum_v_ + dt;
    last_time_s_ = time_s;
    last_log_price_ = log_price;
    last_dt_ = dt;
    last_r_ = r;
    return DriftError::ok;
  }

  /// Estimated drift μ̂, mean log-return per second; 0 before any time has passed.
  [[nodiscard]] double drift_per_s() const noexcept { return sum_t_ > 0.0 ? sum_r_ / sum_t_ : 0.0; }

  /// Degrees of freedom ν of the variance estimate; statistics need ν ≥ 1.
  [[nodiscard]] double degrees_of_freedom() const noexcept {
    return sum_t_ > 0.0 ? sum_w_ - sum_v_ / sum_t_ : 0.0;
  }

  /// Effective sample time T_eff in seconds (S_t²/S_v).
  [[nodiscard]] double effective_time_s() const noexcept {
    return sum_v_ > 0.0 ? sum_t_ * sum_t_ / sum_v_ : 0.0;
  }

  /// Variance of log-returns per second, σ̂²; NaN while ν < 1.
  [[nodiscard]] double variance_per_s() const noexcept {
    const double dof = degrees_of_freedom();
    if (!(dof >= kMinDegreesOfFreedom))
      return std::numeric_limits<double>::quiet_NaN();
    const double residual = sum_q_ - sum_r_ * sum_r_ / sum_t_;
    return residual > 0.0 ? residual / dof : 0.0;  // rounding can make it slightly negative
  }

  /// Standard error of drift_per_s(); NaN while ν < 1.
  [[nodiscard]] double standard_error() const noexcept {
    return std::sqrt(variance_per_s() * sum_v_) / sum_t_;
  }

  /// t-statistic μ̂/SE: 0 while ν < 1 or μ̂ = 0; ±∞ for a noiseless trend.
  [[nodiscard]] double t_stat() const noexcept {
    const double drift = drift_per_s();
    const double se = standard_error();
    if (!(se >= 0.0) || drift == 0.0)  // NaN (not enough data) or no drift
      return 0.0;
    if (se == 0.0)
      return std::copysign(std::numeric_limits<double>::infinity(), drift);
    return drift / se;
  }

  /// Probability that the true drift has the sign opposite to the estimate: Φ(−|t|), in
  /// [0, 0.5].
  [[nodiscard]] double sign_error_probability() const noexcept {
    return normal_cdf(-std::fabs(t_stat()));
  }

  /// Probability that the estimate one horizon from now has the sign opposite to the current
  /// one: Φ(−|t| / √(2 (1 − e⁻¹))), in [0, 0.5]. See the file comment.
  [[nodiscard]] double flip_probability() const noexcept {
    // 1 / √(2 (1 − e⁻¹))
    constexpr double kInverseSpread = 0.8893752601881071;
    return normal_cdf(-std::fabs(t_stat()) * kInverseSpread);
  }

  /// True when |t| ≥ `t_threshold` (false while there is not enough data).
  [[nodiscard]] bool significant(double t_threshold) const noexcept {
    return std::fabs(t_stat()) >= t_threshold;
  }

  [[nodiscard]] double horizon_s() const noexcept { return horizon_s_; }

 private:
  static constexpr double kMinDegreesOfFreedom = 1.0;

  double horizon_s_;
  double sum_w_ = 0.0;  // Σ w
  double sum_t_ = 0.0;  // Σ w Δt
  double sum_r_ = 0.0;  // Σ w r
  double sum_q_ = 0.0;  // Σ w r²/Δt
  double sum_v_ = 0.0;  // Σ w² Δt
  double last_time_s_ = 0.0;
  double last_log_price_ = 0.0;
  double last_dt_ = 0.0;  // Δt of the newest interval, 0 before the first
  double last_r_ = 0.0;   // return of the newest interval
  bool has_price_ = false;
};

/// Direction of a proposed entry.
enum class EntrySide : std::uint8_t { long_entry, short_entry };

/// Outcome of the alignment check; `permitted` is zero.
enum class AlignmentVerdict : std::uint8_t {
  permitted = 0,
  vetoed_negative_drift,  ///< long entry against a significantly negative higher-horizon drift
  vetoed_positive_drift,  ///< short entry against a significantly positive higher-horizon drift
};

/// Vetoes entries against a significant drift on higher horizons. Holds only the threshold:
/// value type, no allocation; const methods are safe to call from any thread, the estimators
/// passed in must not be updated concurrently.
class DriftAlignment {
 public:
  /// `t_threshold`: |t| at or above which a higher-horizon drift is significant.
  explicit constexpr DriftAlignment(double t_threshold) noexcept : t_threshold_(t_threshold) {}

  /// Checks an entry against each estimator in `higher_horizons` (the caller's choice of
  /// horizons above the entry's own); the first opposing significant drift vetoes it.
  [[nodiscard]] AlignmentVerdict check(
      EntrySide side, std::span<const DriftEstimator> higher_horizons) const noexcept {
    for (const DriftEstimator& estimator : higher_horizons) {
      const double t = estimator.t_stat();
      if (side == EntrySide::long_entry && t <= -t_threshold_)
        return AlignmentVerdict::vetoed_negative_drift;
      if (side == EntrySide::short_entry && t >= t_threshold_)
        return AlignmentVerdict::vetoed_positive_drift;
    }
    return AlignmentVerdict::permitted;
  }

  [[nodiscard]] constexpr double t_threshold() const noexcept { return t_threshold_; }

 private:
  double t_threshold_;
};

}  // namespace kinetic::math
