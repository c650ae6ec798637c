#pragma once
// Constant-acceleration ("kinematic") Kalman filter over the state x = [P, v, a]: price, its
// velocity (price/s) and acceleration (price/s²), observed through noisy prices at irregular
// times.
//
// Model, for a step of Δt seconds:
//   x⁺ = A(Δt) x + w,   A(Δt) = [[1, Δt, Δt²/2], [0, 1, Δt], [0, 0, 1]]
//   w ~ N(0, Q(Δt)),    Q(Δt) = q·[[Δt⁵/20, Δt⁴/8, Δt³/6], [Δt⁴/8, Δt³/3, Δt²/2],
//                                  [Δt³/6, Δt²/2, Δt]]
//   z = H x + e,        H = [1, 0, 0],  e ~ N(0, r)
// Q is the exact discretisation of continuous white jerk with spectral density q (price²/s⁵).
//
// Update rules:
// - The first observation initialises x = [price, 0, 0] with covariance diag(r, σv0², σa0²).
// - Δt > 0: predict over Δt, then the measurement update.
// - Δt = 0 (several trades in one timestamp): measurement update only, no prediction. Each
//   trade counts as an independent reading of the same latent price, so a burst of n trades
//   shrinks the price variance roughly like r/n.
// - Δt < 0, a non-finite time or price, or a price ≤ 0: an error code; the filter state
//   (every bit of x, P, r and the clock) is untouched.
// The covariance update is in Joseph form, P = (I−KH)P(I−KH)ᵀ + K r Kᵀ, of which the upper
// triangle is computed and mirrored; it stays symmetric positive definite from Δt = 1 µs up to
// hours, where Δt⁵ ~ 1e17 (the short form P − S K Kᵀ loses definiteness there within a few dozen
// log-uniform steps; see the test). With a scalar measurement the gain is P Hᵀ / S, so no
// matrix inverse is needed.
//
// Adaptive measurement noise (off by default): innovation covariance matching with an
// exponential weight α,  r̂ ← (1−α) r̂ + α (y² − H P⁻ Hᵀ),  floored at
// `adaptive_min_r_fraction · r`. E[y²] = H P⁻ Hᵀ + r for a consistent filter, so r̂ tracks the
// actual noise. The estimate is updated *after* the measurement update that produced y, so a
// sample never influences its own gain.
//
// Time is a double in seconds from any origin. Near a Unix-epoch origin (~1.7e9 s) a double
// resolves about 0.24 µs, so for microsecond steps prefer a recent origin (e.g. session start).
//
// Forecast: the Taylor extrapolation mean P + v h + ½ a h² = A(h).row(0) x, and variance
// A(h).row(0) P A(h).row(0)ᵀ + Q(h)₀₀: the uncertainty of the *latent* price at t + h,
// i.e. state uncertainty plus the process noise accumulated over h, without the
// measurement noise r of a future trade print.

#include <Eigen/Core>
#include <cassert>
#include <cmath>
#include <cstdint>

#include "kinetic/core/result.hpp"

namespace kinetic::math {

/// Why an update or a forecast was refused. `ok` (zero) means success.
enum class KalmanError : std::uint8_t {
  ok = 0,
  non_finite_time,      ///< time is NaN or infinite
  non_finite_price,     ///< price is NaN or infinite
  non_positive_price,   ///< price ≤ 0
  time_went_backwards,  ///< time earlier than the previous accepted observation
  not_initialised,      ///< forecast before the first observation
  invalid_horizon,      ///< forecast horizon negative or not finite
  invalid_params,       ///< parameters fail KinematicKalman::validate
};

/// Filter parameters. Plain aggregate; units are price and seconds.
struct KalmanParams {
  double q = 1.0;                ///< jerk spectral density, price²/s⁵ (≥ 0)
  double r = 0.01;               ///< measurement noise variance, price² (> 0)
  double sigma_v0 = 10.0;        ///< initial velocity standard deviation, price/s (> 0)
  double sigma_a0 = 10.0;        ///< initial acceleration standard deviation, price/s² (> 0)
  bool adaptive = false;         ///< estimate r from the innovations
  double adaptive_alpha = 0.01;  ///< weight of a new innovation in r̂, (0, 1]
  double adaptive_min_r_fraction = 1e-3;  ///< r̂ is kept ≥ this fraction of r, (0, 1]
};

/// Mean and variance of the latent price at a horizon; see the file comment.
struct KalmanForecast {
  double mean = 0.0;
  double variance = 0.0;
  [[nodiscard]] double stddev() const noexcept { return std::sqrt(variance); }
  [[nodiscard]] double lower(double z) const noexcept { return mean - z * stddev(); }
  [[nodiscard]] double upper(double z) const noexcept { return mean + z * stddev(); }
};

/// Kalman filter for price, velocity and acceleration of one series. Value type: holds
/// fixed-size Eigen members only, never allocates, copyable; one thread at a time (no
/// internal synchronisation).
class KinematicKalman {
 public:
  using Vector = Eigen::Vector3d;
  using Matrix = Eigen::Matrix3d;

  /// Checks parameter ranges (see KalmanParams); ok or invalid_params.
  [[nodiscard]] static KalmanError validate(const KalmanParams& params) noexcept {
    const bool good =
        std::isfinite(params.q) && params.q >= 0.0 && std::isfinite(params.r) && params.r > 0.0 &&
        std::isfinite(params.sigma_v0) && params.sigma_v0 > 0.0 && std::isfinite(params.sigma_a0) &&
        params.sigma_a0 > 0.0 &&
        (!params.adaptive ||
         (params.adaptive_alpha > 0.0 && params.adaptive_alpha <= 1.0 &&
          params.adaptive_min_r_fraction > 0.0 && params.adaptive_min_r_fraction <= 1.0));
    return good ? KalmanError::ok : KalmanError::invalid_params;
  }

  /// Precondition: validate(params) == ok (asserted in debug builds).
  explicit KinematicKalman(const KalmanParams& params) noexcept : params_(params), r_(params.r) {
    assert(validate(params) == KalmanError::ok);
  }

  /// Adds a trade price observed at `time_s` (seconds, any origin). On error nothing changes.
  [[nodiscard]] KalmanError update(double time_s, double price) noexcept {
    if (!std::isfinite(time_s))
      return KalmanError::non_finite_time;
    if (!std::isfinite(price))
      return KalmanError::non_finite_price;
    if (!(price > 0.0))
      return KalmanError::non_positive_price;
    if (!initialised_) {
      x_ << price, 0.0, 0.0;
      P_.setZero();
      P_.diagonal() << r_, params_.sigma_v0 * params_.sigma_v0, params_.sigma_a0 * params_.sigma_a0;
      last_time_s_ = time_s;
      initialised_ = true;
      innovation_ = 0.0;
      innovation_variance_ = 0.0;
      return KalmanError::ok;
    }
    const double dt = time_s - last_time_s_;
    if (dt < 0.0)
      return KalmanError::time_went_backwards;
    if (dt > 0.0)
      predict(dt);
    correct(price);
    last_time_s_ = time_s;
    return KalmanError::ok;
  }

  /// Mean and variance of the latent price `horizon_s` ≥ 0 seconds after the last observation.
  [[nodiscard]] Result<KalmanForecast, KalmanError> forecast(double horizon_s) const noexcept {
    if (!initialised_)
      return KalmanError::not_initialised;
    if (!std::isfinite(horizon_s) || horizon_s < 0.0)
      return KalmanError::invalid_horizon;
    const double h = horizon_s;
    const double h2 = 0.5 * h * h;
    // Row a = [1, h, h²/2] of A(h): mean a·x, variance a P aᵀ + Q(h)₀₀ (symmetric P).
    const double p00 = P_(0, 0), p01 = P_(0, 1), p02 = P_(0, 2);
    const double p11 = P_(1, 1), p12 = P_(1, 2), p22 = P_(2, 2);
    KalmanForecast out;
    out.mean = x_(0) + h * x_(1) + h2 * x_(2);
    out.variance = p00 + h * (2.0 * p01 + h * p11) + h2 * (2.0 * p02 + 2.0 * h * p12 + h2 * p22) +
                   params_.q * (h2 * h2 * h) * 0.2;  // q h⁵/20
    return out;
  }

  [[nodiscard]] bool initialised() const noexcept { return initialised_; }
  [[nodiscard]] double price() const noexcept { return x_(0); }
  [[nodiscard]] double velocity() const noexcept { return x_(1); }
  [[nodiscard]] double acceleration() const noexcept { return x_(2); }
  [[nodiscard]] double price_stddev() const noexcept { return std::sqrt(P_(0, 0)); }
  [[nodiscard]] double velocity_stddev() const noexcept { return std::sqrt(P_(1, 1)); }
  [[nodiscard]] double acceleration_stddev() const noexcept { return std::sqrt(P_(2, 2)); }
  /// Bounds value ± z·σ of state component `index` (0 price, 1 velocity, 2 acceleration).
  [[nodiscard]] double lower_bound(int index, double z) const noexcept {
    return x_(index) - z * std::sqrt(P_(index, index));
  }
  [[nodiscard]] double upper_bound(int index, double z) const noexcept {
    return x_(index) + z * std::sqrt(P_(index, index));
  }

  [[nodiscard]] const Vector& state() const noexcept { return x_; }
  [[nodiscard]] const Matrix& covariance() const noexcept { return P_; }
  /// Innovation y = z − H x⁻ of the last accepted update (0 after the first).
  [[nodiscard]] double innovation() const noexcept { return innovation_; }
  /// Its variance S = H P⁻ Hᵀ + r.
  [[nodiscard]] double innovation_variance() const noexcept { return innovation_variance_; }
  /// Normalised innovation squared y²/S; χ²(1) for a consistent filter (0 after the first).
  [[nodiscard]] double nis() const noexcept {
    return innovation_variance_ > 0.0 ? innovation_ * innovation_ / innovation_variance_ : 0.0;
  }
  /// Measurement noise variance in use (the configured r unless adaptive).
  [[nodiscard]] double measurement_noise() const noexcept { return r_; }
  [[nodiscard]] double last_time() const noexcept { return last_time_s_; }
  [[nodiscard]] const KalmanParams& params() const noexcept { return params_; }

  /// Transition matrix A(Δt).
  [[nodiscard]] static Matrix transition(double dt) noexcept {
    Matrix a;
    a << 1.0, dt, 0.5 * dt * dt, 0.0, 1.0, dt, 0.0, 0.0, 1.0;
    return a;
  }
  /// Process noise Q(Δt) for jerk density q.
  [[nodiscard]] static Matrix process_noise(double q, double dt) noexcept {
    const double dt2 = dt * dt;
    const double dt3 = dt2 * dt;
    Matrix m;
    m << dt3 * dt2 / 20.0, dt2 * dt2 / 8.0, dt3 / 6.0,  //
        dt2 * dt2 / 8.0, dt3 / 3.0, dt2 / 2.0,          //
        dt3 / 6.0, dt2 / 2.0, dt;
    return q * m;
  }

 private:
  // The covariance arithmetic is written out on scalars: with Eigen expressions on 3×3
  // blocks the update took ~85 ns, here it is about half, and the symmetry of P is used to
  // compute each unique entry once.
  void predict(double dt) noexcept {
    const double h = 0.5 * dt * dt;
    // x ← A x (A is upper triangular with a unit diagonal).
    x_(0) += dt * x_(1) + h * x_(2);
    x_(1) += dt * x_(2);
    // P ← A P Aᵀ + Q, entry by entry: u = P a₀ᵀ, w = P a₁ᵀ for the rows a₀, a₁ of A.
    const double p00 = P_(0, 0), p01 = P_(0, 1), p02 = P_(0, 2);
    const double p11 = P_(1, 1), p12 = P_(1, 2), p22 = P_(2, 2);
    const double u0 = p00 + dt * p01 + h * p02;
    const double u1 = p01 + dt * p11 + h * p12;
    const double u2 = p02 + dt * p12 + h * p22;
    const double w1 = p11 + dt * p12;
    const double w2 = p12 + dt * p22;
    const double q = params_.q;
    const double dt3 = dt * h;  // Δt³/2
    const double q22 = q * dt;
    const double q12 = q * h;                  // q Δt²/2
    const double q11 = q * dt3 * (2.0 / 3.0);  // q Δt³/3
    const double q02 = q * dt3 * (1.0 / 3.0);  // q Δt³/6
    const double q01 = q * h * h * 0.5;        // q Δt⁴/8
    const double q00 = q * h * dt3 * 0.2;      // q Δt⁵/20
    const double n00 = u0 + dt * u1 + h * u2 + q00;
    const double n01 = u1 + dt * u2 + q01;
    const double n02 = u2 + q02;
    const double n11 = w1 + dt * w2 + q11;
    const double n12 = w2 + q12;
    const double n22 = p22 + q22;
    P_ << n00, n01, n02, n01, n11, n12, n02, n12, n22;
  }

  void correct(double price) noexcept {
    // Prior covariance entries (P is symmetric).
    const double c0 = P_(0, 0), c1 = P_(0, 1), c2 = P_(0, 2);
    const double p11 = P_(1, 1), p12 = P_(1, 2), p22 = P_(2, 2);
    const double y = price - x_(0);
    const double s = c0 + r_;
    const double inv_s = 1.0 / s;
    const double k0 = c0 * inv_s, k1 = c1 * inv_s, k2 = c2 * inv_s;
    x_(0) += k0 * y;
    x_(1) += k1 * y;
    x_(2) += k2 * y;
    // Joseph form with H = e₀ᵀ, factor by factor (not the algebraically equal P − S K Kᵀ,
    // which loses positive definiteness to rounding):
    //   M = (I − K H) P,  Mᵢⱼ = Pᵢⱼ − kᵢ P₀ⱼ
    //   R = M (I − K H)ᵀ + r K Kᵀ,  Rᵢⱼ = Mᵢⱼ − Mᵢ₀ kⱼ + r kᵢ kⱼ
    // R is symmetric in exact arithmetic; only its upper triangle is computed and mirrored,
    // which keeps P exactly symmetric without the extra averaging step on the critical path.
    const double m00 = c0 - k0 * c0, m01 = c1 - k0 * c1, m02 = c2 - k0 * c2;
    const double m10 = c1 - k1 * c0, m11 = p11 - k1 * c1, m12 = p12 - k1 * c2;
    const double m20 = c2 - k2 * c0, m22 = p22 - k2 * c2;
    const double rk0 = r_ * k0, rk1 = r_ * k1, rk2 = r_ * k2;
    const double r00 = m00 - m00 * k0 + rk0 * k0;
    const double r01 = m01 - m00 * k1 + rk0 * k1;
    const double r02 = m02 - m00 * k2 + rk0 * k2;
    const double r11 = m11 - m10 * k1 + rk1 * k1;
    const double r12 = m12 - m10 * k2 + rk1 * k2;
    const double r22 = m22 - m20 * k2 + rk2 * k2;
    P_ << r00, r01, r02, r01, r11, r12, r02, r12, r22;
    innovation_ = y;
    innovation_variance_ = s;
    if (params_.adaptive) {
      const double floor = params_.adaptive_min_r_fraction * params_.r;
      const double sample = y * y - c0;
      const double next = (1.0 - params_.adaptive_alpha) * r_ + params_.adaptive_alpha * sample;
      r_ = next > floor ? next : floor;
    }
  }

  KalmanParams params_;
  Vector x_ = Vector::Zero();
  Matrix P_ = Matrix::Zero();
  double r_;
  double last_time_s_ = 0.0;
  double innovation_ = 0.0;
  double innovation_variance_ = 0.0;
  bool initialised_ = false;
};

}  // namespace kinetic::math
