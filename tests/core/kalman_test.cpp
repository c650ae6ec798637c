#include "kinetic/core/math/kalman.hpp"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/math/random.hpp"

namespace {

using kinetic::math::KalmanError;
using kinetic::math::KalmanParams;
using kinetic::math::KinematicKalman;
using kinetic::math::Rng;
using Matrix = Eigen::Matrix3d;
using Vector = Eigen::Vector3d;

KalmanParams test_params() {
  KalmanParams p;
  p.q = 0.5;
  p.r = 0.04;
  p.sigma_v0 = 2.0;
  p.sigma_a0 = 0.5;
  return p;
}

// Textbook filter with full matrices, as an independent reference for the optimised one.
struct ReferenceFilter {
  KalmanParams params;
  Vector x = Vector::Zero();
  Matrix P = Matrix::Zero();
  double last_time = 0.0;
  bool initialised = false;

  void update(double time, double z) {
    if (!initialised) {
      x << z, 0.0, 0.0;
      P = Vector(params.r, params.sigma_v0 * params.sigma_v0, params.sigma_a0 * params.sigma_a0)
              .asDiagonal();
      last_time = time;
      initialised = true;
      return;
    }
    const double dt = time - last_time;
    if (dt > 0.0) {
      const Matrix a = KinematicKalman::transition(dt);
      x = a * x;
      P = a * P * a.transpose() + KinematicKalman::process_noise(params.q, dt);
    }
    const Eigen::RowVector3d h(1.0, 0.0, 0.0);
    const double s = (h * P * h.transpose())(0, 0) + params.r;
    const Vector k = P * h.transpose() / s;
    x += k * (z - x(0));
    const Matrix i_kh = Matrix::Identity() - k * h;
    P = i_kh * P * i_kh.transpose() + params.r * k * k.transpose();
    P = 0.5 * (P + P.transpose()).eval();
    last_time = time;
  }
};

// True when P is exactly symmetric and its correlation matrix has a Cholesky factor with a
// strictly positive diagonal (scaling first so that 1e-2 and 1e16 variances mix safely).
bool symmetric_positive_definite(const Matrix& p) {
  if (!p.allFinite() || !(p == p.transpose()))
    return false;
  if (!(p.diagonal().array() > 0.0).all())
    return false;
  const Vector inv_sd = p.diagonal().cwiseSqrt().cwiseInverse();
  const Matrix corr = inv_sd.asDiagonal() * p * inv_sd.asDiagonal();
  const Eigen::LLT<Matrix> llt(corr);
  return llt.info() == Eigen::Success &&
         (llt.matrixL().toDenseMatrix().diagonal().array() > 0.0).all();
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool same_state_bits(const KinematicKalman& a, const KinematicKalman& b) {
  return std::memcmp(a.state().data(), b.state().data(), sizeof(double) * 3) == 0 &&
         std::memcmp(a.covariance().data(), b.covariance().data(), sizeof(double) * 9) == 0 &&
         same_bits(a.measurement_noise(), b.measurement_noise()) &&
         same_bits(a.last_time(), b.last_time()) && same_bits(a.innovation(), b.innovation()) &&
         same_bits(a.innovation_variance(), b.innovation_variance()) &&
         a.initialised() == b.initialised();
}

// Quantile of χ²(k) by the Wilson–Hilferty cube approximation (relative error < 1e-3 for
// k ≥ 100, far below the width of the bounds used here). z is the standard normal quantile.
double chi2_quantile(double k, double z) {
  const double c = 2.0 / (9.0 * k);
  const double t = 1.0 - c + z * std::sqrt(c);
  return k * t * t * t;
}
constexpr double kZ975 = 1.959963984540054;

TEST(KinematicKalman, ValidateRejectsBadParams) {
  EXPECT_EQ(KinematicKalman::validate(test_params()), KalmanError::ok);
  KalmanParams p = test_params();
  p.r = 0.0;
  EXPECT_EQ(KinematicKalman::validate(p), KalmanError::invalid_params);
  p = test_params();
  p.q = -1.0;
  EXPECT_EQ(KinematicKalman::validate(p), KalmanError::invalid_params);
  p = test_params();
  p.sigma_v0 = std::nan("");
  EXPECT_EQ(KinematicKalman::validate(p), KalmanError::invalid_params);
  p = test_params();
  p.adaptive = true;
  p.adaptive_alpha = 0.0;
  EXPECT_EQ(KinematicKalman::validate(p), KalmanError::invalid_params);
}

TEST(KinematicKalman, TransitionAndProcessNoiseMatchTheModel) {
  Matrix a_expected;
  a_expected << 1.0, 2.0, 2.0, 0.0, 1.0, 2.0, 0.0, 0.0, 1.0;
  EXPECT_EQ(KinematicKalman::transition(2.0), a_expected);
  // Δt = 2: Δt⁵/20 = 1.6, Δt⁴/8 = 2, Δt³/6 = 4/3, Δt³/3 = 8/3, Δt²/2 = 2, Δt = 2; times q = 3.
  Matrix q_expected;
  q_expected << 1.6, 2.0, 4.0 / 3.0, 2.0, 8.0 / 3.0, 2.0, 4.0 / 3.0, 2.0, 2.0;
  EXPECT_TRUE(KinematicKalman::process_noise(3.0, 2.0).isApprox(3.0 * q_expected, 1e-15));
  // One prediction from a known covariance equals A P Aᵀ + Q: observe at t = 0, then at
  // t = 2 with a price equal to the prediction's mean, and undo the (zero-innovation) update.
  const KalmanParams params = test_params();
  KinematicKalman f(params);
  ASSERT_EQ(f.update(0.0, 100.0), KalmanError::ok);
  const Matrix p0 = f.covariance();
  ASSERT_EQ(f.update(2.0, 100.0), KalmanError::ok);
  EXPECT_EQ(f.innovation(), 0.0);
  const Matrix a = KinematicKalman::transition(2.0);
  const Matrix prior = a * p0 * a.transpose() + KinematicKalman::process_noise(params.q, 2.0);
  EXPECT_NEAR(f.innovation_variance(), prior(0, 0) + params.r, 1e-12);
  const Vector k = prior.col(0) / (prior(0, 0) + params.r);
  const Matrix posterior = prior - (prior(0, 0) + params.r) * k * k.transpose();
  EXPECT_TRUE(f.covariance().isApprox(posterior, 1e-12));
}

TEST(KinematicKalman, FirstObservationInitialises) {
  KinematicKalman f(test_params());
  EXPECT_FALSE(f.initialised());
  EXPECT_EQ(f.forecast(1.0).error(), KalmanError::not_initialised);
  ASSERT_EQ(f.update(10.0, 123.5), KalmanError::ok);
  EXPECT_TRUE(f.initialised());
  EXPECT_EQ(f.price(), 123.5);
  EXPECT_EQ(f.velocity(), 0.0);
  EXPECT_EQ(f.acceleration(), 0.0);
  Matrix expected = Matrix::Zero();
  expected.diagonal() << 0.04, 4.0, 0.25;
  EXPECT_EQ(f.covariance(), expected);
  EXPECT_DOUBLE_EQ(f.price_stddev(), 0.2);
  EXPECT_DOUBLE_EQ(f.velocity_stddev(), 2.0);
  EXPECT_DOUBLE_EQ(f.acceleration_stddev(), 0.5);
  EXPECT_DOUBLE_EQ(f.lower_bound(1, 1.96), -3.92);
  EXPECT_DOUBLE_EQ(f.upper_bound(0, 2.0), 123.9);
}

TEST(KinematicKalman, MatchesTextbookFilterIncludingSameTimestamp) {
  const KalmanParams params = test_params();
  KinematicKalman f(params);
  ReferenceFilter ref{params};
  Rng rng(11);
  double t = 0.0;
  double p = 100.0;
  for (int i = 0; i < 2000; ++i) {
    // One step in five repeats the timestamp (Δt = 0), the rest span 1 ms to 10 s.
    if (i % 5 != 3)
      t += std::exp(std::log(1e-3) + rng.uniform() * std::log(1e4));
    p += 0.1 * rng.normal();
    const double prior_var = i == 0 ? 0.0 : f.covariance()(0, 0);
    ASSERT_EQ(f.update(t, p), KalmanError::ok);
    ref.update(t, p);
    for (int r = 0; r < 3; ++r) {
      ASSERT_NEAR(f.state()(r), ref.x(r), 1e-9 * (1.0 + std::abs(ref.x(r)))) << i;
      for (int c = 0; c < 3; ++c)
        ASSERT_NEAR(f.covariance()(r, c), ref.P(r, c), 1e-9 * (1.0 + std::abs(ref.P(r, c)))) << i;
    }
    if (i % 5 == 3) {
      // Δt = 0: no prediction, so S is the previous posterior price variance plus r.
      EXPECT_DOUBLE_EQ(f.innovation_variance(), prior_var + params.r);
    }
  }
}

TEST(KinematicKalman, SameTimestampIsMeasurementUpdateOnly) {
  KinematicKalman f(test_params());
  ASSERT_EQ(f.update(5.0, 100.0), KalmanError::ok);
  ASSERT_EQ(f.update(6.0, 100.5), KalmanError::ok);
  const Matrix before = f.covariance();
  const Vector x_before = f.state();
  ASSERT_EQ(f.update(6.0, 100.7), KalmanError::ok);
  EXPECT_EQ(f.last_time(), 6.0);
  // No prediction: the innovation is against the posterior price and S = P₀₀ + r.
  EXPECT_DOUBLE_EQ(f.innovation(), 100.7 - x_before(0));
  EXPECT_DOUBLE_EQ(f.innovation_variance(), before(0, 0) + 0.04);
  // Scalar update of the price variance: P₀₀ r / (P₀₀ + r).
  EXPECT_NEAR(f.covariance()(0, 0), before(0, 0) * 0.04 / (before(0, 0) + 0.04), 1e-15);
  // Repeated prints at one timestamp shrink the price variance like r/n.
  for (int i = 0; i < 98; ++i)
    ASSERT_EQ(f.update(6.0, 100.7), KalmanError::ok);
  EXPECT_LT(f.covariance()(0, 0), 0.04 / 99.0);
  EXPECT_GT(f.covariance()(0, 0), 0.04 / 102.0);
}

TEST(KinematicKalman, BadInputLeavesStateUntouched) {
  KalmanParams params = test_params();
  params.adaptive = true;
  KinematicKalman f(params);
  ASSERT_EQ(f.update(1.0, 50.0), KalmanError::ok);
  ASSERT_EQ(f.update(1.5, 50.2), KalmanError::ok);
  ASSERT_EQ(f.update(2.0, 50.1), KalmanError::ok);
  const KinematicKalman snapshot = f;
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(f.update(1.999, 50.0), KalmanError::time_went_backwards);
  EXPECT_EQ(f.update(nan, 50.0), KalmanError::non_finite_time);
  EXPECT_EQ(f.update(inf, 50.0), KalmanError::non_finite_time);
  EXPECT_EQ(f.update(-inf, 50.0), KalmanError::non_finite_time);
  EXPECT_EQ(f.update(3.0, nan), KalmanError::non_finite_price);
  EXPECT_EQ(f.update(3.0, inf), KalmanError::non_finite_price);
  EXPECT_EQ(f.update(3.0, 0.0), KalmanError::non_positive_price);
  EXPECT_EQ(f.update(3.0, -0.0), KalmanError::non_positive_price);
  EXPECT_EQ(f.update(3.0, -1.0), KalmanError::non_positive_price);
  EXPECT_TRUE(same_state_bits(f, snapshot));

  // Before the first observation too.
  KinematicKalman fresh(params);
  const KinematicKalman fresh_snapshot = fresh;
  EXPECT_EQ(fresh.update(nan, 1.0), KalmanError::non_finite_time);
  EXPECT_EQ(fresh.update(0.0, -1.0), KalmanError::non_positive_price);
  EXPECT_TRUE(same_state_bits(fresh, fresh_snapshot));
  EXPECT_FALSE(fresh.initialised());
}

TEST(KinematicKalman, ForecastFormulaAndErrors) {
  KinematicKalman f(test_params());
  ASSERT_EQ(f.update(0.0, 10.0), KalmanError::ok);
  ASSERT_EQ(f.update(0.5, 10.3), KalmanError::ok);
  ASSERT_EQ(f.update(1.25, 10.9), KalmanError::ok);
  const double h = 2.5;
  const auto fc = f.forecast(h);
  ASSERT_TRUE(fc.ok());
  const Eigen::RowVector3d row = KinematicKalman::transition(h).row(0);
  EXPECT_NEAR(fc.value().mean, row.dot(f.state()), 1e-12);
  const double state_var = (row * f.covariance() * row.transpose())(0, 0);
  const double process_var = KinematicKalman::process_noise(0.5, h)(0, 0);
  EXPECT_NEAR(fc.value().variance, state_var + process_var, 1e-12 * fc.value().variance);
  EXPECT_NEAR(fc.value().upper(1.96) - fc.value().lower(1.96),
              2.0 * 1.96 * std::sqrt(state_var + process_var), 1e-12);
  const auto now = f.forecast(0.0);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now.value().mean, f.price());
  EXPECT_EQ(now.value().variance, f.covariance()(0, 0));
  EXPECT_EQ(f.forecast(-1.0).error(), KalmanError::invalid_horizon);
  EXPECT_EQ(f.forecast(std::nan("")).error(), KalmanError::invalid_horizon);
  EXPECT_EQ(f.forecast(std::numeric_limits<double>::infinity()).error(),
            KalmanError::invalid_horizon);
}

TEST(KinematicKalman, ForecastExactOnNoiselessQuadratic) {
  KalmanParams params;
  params.q = 0.0;  // a quadratic is exactly the model with no jerk
  params.r = 1e-8;
  params.sigma_v0 = 1e3;
  params.sigma_a0 = 1e3;
  KinematicKalman f(params);
  const auto path = [](double t) { return 200.0 + 1.5 * t + 0.5 * 0.8 * t * t; };
  Rng rng(3);
  double t = 0.0;
  for (int i = 0; i < 400; ++i) {
    ASSERT_EQ(f.update(t, path(t)), KalmanError::ok);
    t += 0.01 + 0.2 * rng.uniform();
  }
  const double last = f.last_time();
  EXPECT_NEAR(f.velocity(), 1.5 + 0.8 * last, 1e-6);
  EXPECT_NEAR(f.acceleration(), 0.8, 1e-7);
  for (double h : {0.0, 0.1, 1.0, 10.0, 60.0}) {
    const auto fc = f.forecast(h);
    ASSERT_TRUE(fc.ok());
    EXPECT_NEAR(fc.value().mean, path(last + h), 1e-9 * path(last + h)) << h;
  }
}

// Monte-Carlo consistency on data drawn from the filter's own discrete model (known q, r).
// At a fixed step the NEES of run i, εᵢ = eᵢᵀ Pᵢ⁻¹ eᵢ, is χ²(3) for a consistent filter and
// independent across runs, so N·mean(ε) ~ χ²(3N): the two-sided 95% bound on mean(ε) is
// [χ²₀.₀₂₅(3N)/N, χ²₀.₉₇₅(3N)/N] (≈ 3 ± 0.152 for N = 1000).
// The seed is fixed; the checks at the final step are each a 95% event, the fraction of steps
// inside the bound is expected ≈ 0.95 and asserted ≥ 0.85.
struct NeesResult {
  double final_mean_nees = 0.0;
  double mean_nis_all_steps = 0.0;  // over runs and steps 1..K−1
  double fraction_inside = 0.0;
  double overall_mean_nees = 0.0;
};

NeesResult run_monte_carlo(double true_q, double filter_q, int runs, int steps,
                           std::uint64_t seed) {
  KalmanParams params;
  params.q = filter_q;
  params.r = 0.25;
  params.sigma_v0 = 0.1;
  params.sigma_a0 = 0.01;
  const double lo = chi2_quantile(3.0 * runs, -kZ975) / runs;
  const double hi = chi2_quantile(3.0 * runs, kZ975) / runs;
  std::vector<KinematicKalman> filters(static_cast<std::size_t>(runs), KinematicKalman(params));
  std::vector<Vector> truth(static_cast<std::size_t>(runs));
  Rng rng(seed);
  double t = 0.0;
  double nees_sum_all = 0.0;
  double nis_sum_all = 0.0;
  int inside = 0;
  NeesResult out;
  for (int k = 0; k < steps; ++k) {
    const double dt = k == 0 ? 0.0 : 0.05 + 1.95 * rng.uniform();
    t += dt;
    Eigen::Matrix3d chol = Eigen::Matrix3d::Zero();
    if (k > 0 && true_q > 0.0)
      chol = KinematicKalman::process_noise(true_q, dt).llt().matrixL();
    double nees_sum = 0.0;
    double nis_sum = 0.0;
    for (std::size_t i = 0; i < filters.size(); ++i) {
      Vector& x = truth[i];
      if (k == 0) {
        x << 1e4, params.sigma_v0 * rng.normal(), params.sigma_a0 * rng.normal();
      } else {
        const Vector w(rng.normal(), rng.normal(), rng.normal());
        x = (KinematicKalman::transition(dt) * x + chol * w).eval();
      }
      const double z = x(0) + std::sqrt(params.r) * rng.normal();
      EXPECT_EQ(filters[i].update(t, z), KalmanError::ok);
      const Vector e = x - filters[i].state();
      nees_sum += e.dot(filters[i].covariance().ldlt().solve(e));
      nis_sum += filters[i].nis();
    }
    const double mean_nees = nees_sum / runs;
    nees_sum_all += mean_nees;
    inside += (mean_nees >= lo && mean_nees <= hi) ? 1 : 0;
    out.final_mean_nees = mean_nees;
    nis_sum_all += nis_sum;
  }
  out.fraction_inside = static_cast<double>(inside) / steps;
  out.overall_mean_nees = nees_sum_all / steps;
  out.mean_nis_all_steps = nis_sum_all / (static_cast<double>(runs) * (steps - 1));
  return out;
}

TEST(KinematicKalman, NeesConsistentOnExactDiscreteModel) {
  constexpr int kRuns = 1000;
  const double lo = chi2_quantile(3.0 * kRuns, -kZ975) / kRuns;
  const double hi = chi2_quantile(3.0 * kRuns, kZ975) / kRuns;
  constexpr int kSteps = 300;
  // Innovations of a consistent filter are white, so all NIS values are independent χ²(1):
  // their sum is χ²(N·(K−1)).
  const double nis_dof = static_cast<double>(kRuns) * (kSteps - 1);
  const double nis_lo = chi2_quantile(nis_dof, -kZ975) / nis_dof;
  const double nis_hi = chi2_quantile(nis_dof, kZ975) / nis_dof;
  const NeesResult r = run_monte_carlo(1e-5, 1e-5, kRuns, kSteps, 2024);
  EXPECT_GT(r.final_mean_nees, lo);
  EXPECT_LT(r.final_mean_nees, hi);
  EXPECT_GT(r.mean_nis_all_steps, nis_lo);
  EXPECT_LT(r.mean_nis_all_steps, nis_hi);
  EXPECT_GE(r.fraction_inside, 0.85);
  EXPECT_NEAR(r.overall_mean_nees, 3.0, 0.1);
}

TEST(KinematicKalman, NeesConsistentOnConstantAcceleration) {
  // Truth with no jerk at all; the filter is told q = 0, so it is exact.
  constexpr int kRuns = 1000;
  const double lo = chi2_quantile(3.0 * kRuns, -kZ975) / kRuns;
  const double hi = chi2_quantile(3.0 * kRuns, kZ975) / kRuns;
  const NeesResult r = run_monte_carlo(0.0, 0.0, kRuns, 300, 77);
  EXPECT_GT(r.final_mean_nees, lo);
  EXPECT_LT(r.final_mean_nees, hi);
  EXPECT_GE(r.fraction_inside, 0.85);
}

TEST(KinematicKalman, ConvergesToTrueVelocityAndAcceleration) {
  KalmanParams params;
  params.q = 1e-10;
  params.r = 0.01;
  params.sigma_v0 = 10.0;
  params.sigma_a0 = 10.0;
  KinematicKalman f(params);
  const double v0 = -0.7;
  const double a = 0.03;
  const auto path = [&](double t) { return 500.0 + v0 * t + 0.5 * a * t * t; };
  Rng rng(5);
  double t = 0.0;
  double first_v_error = 0.0;
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(f.update(t, path(t) + 0.1 * rng.normal()), KalmanError::ok);
    if (i == 10)
      first_v_error = std::abs(f.velocity() - (v0 + a * t));
    t += rng.exponential(0.05);
  }
  const double v_true = v0 + a * f.last_time();
  EXPECT_NEAR(f.velocity(), v_true, 3.0 * f.velocity_stddev());
  EXPECT_NEAR(f.acceleration(), a, 3.0 * f.acceleration_stddev());
  EXPECT_LT(std::abs(f.velocity() - v_true), 0.01);
  EXPECT_LT(std::abs(f.acceleration() - a), 1e-3);
  EXPECT_LT(f.velocity_stddev(), 0.01);
  EXPECT_LT(f.acceleration_stddev(), 1e-3);
  EXPECT_LT(std::abs(f.velocity() - v_true), first_v_error);
  EXPECT_GE(f.upper_bound(2, 3.0), a);
  EXPECT_LE(f.lower_bound(2, 3.0), a);
}

void run_spd_stress(double q, int steps, std::uint64_t seed) {
  KalmanParams params;
  params.q = q;
  params.r = 0.01;
  params.sigma_v0 = 10.0;
  params.sigma_a0 = 10.0;
  KinematicKalman f(params);
  Rng rng(seed);
  const double log_lo = std::log(1e-6);
  const double log_span = std::log(3600.0) - log_lo;
  double t = 0.0;
  double log_price = std::log(30000.0);
  int checked = 0;
  for (int i = 0; i < steps; ++i) {
    const double dt = std::exp(log_lo + log_span * rng.uniform());
    t += dt;  // t reaches ~1.6e9 s, where a double still resolves 1 µs steps to ~25%
    log_price += 1e-4 * std::sqrt(dt) * rng.normal();
    ASSERT_EQ(f.update(t, std::exp(log_price)), KalmanError::ok);
    if (i % 1024 == 0 || dt > 1800.0) {
      ++checked;
      ASSERT_TRUE(symmetric_positive_definite(f.covariance()))
          << "step " << i << " dt " << dt << "\n"
          << f.covariance();
    }
  }
  EXPECT_TRUE(symmetric_positive_definite(f.covariance()));
  EXPECT_GT(checked, steps / 1024);
}

TEST(KinematicKalman, CovarianceStaysSpdOverTenMillionLogUniformSteps) {
  run_spd_stress(1.0, 10'000'000, 99);
}

TEST(KinematicKalman, CovarianceStaysSpdWithTinyProcessNoise) {
  run_spd_stress(1e-8, 1'000'000, 100);
}

TEST(KinematicKalman, AdaptiveNoiseTracksTrueMeasurementNoise) {
  KalmanParams params;
  params.q = 1e-4;
  params.r = 0.01;  // configured 4x too low
  params.sigma_v0 = 1.0;
  params.sigma_a0 = 0.1;
  params.adaptive = true;
  params.adaptive_alpha = 0.002;
  KinematicKalman adaptive(params);
  params.adaptive = false;
  KinematicKalman fixed(params);
  const double true_r = 0.04;
  Rng rng(8);
  double t = 0.0;
  double p = 100.0;
  for (int i = 0; i < 20000; ++i) {
    t += 0.1;
    p += 1e-3 * rng.normal();
    const double z = p + std::sqrt(true_r) * rng.normal();
    ASSERT_EQ(adaptive.update(t, z), KalmanError::ok);
    ASSERT_EQ(fixed.update(t, z), KalmanError::ok);
  }
  EXPECT_NEAR(adaptive.measurement_noise(), true_r, 0.2 * true_r);
  EXPECT_EQ(fixed.measurement_noise(), 0.01);  // off by default: r never moves
}

TEST(KinematicKalman, AdaptiveNoiseIsFloored) {
  KalmanParams params = test_params();
  params.adaptive = true;
  params.adaptive_alpha = 0.5;
  params.adaptive_min_r_fraction = 0.1;
  KinematicKalman f(params);
  // A noiseless constant series: innovations vanish and r̂ would go negative without a floor.
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(f.update(0.01 * i, 42.0), KalmanError::ok);
  EXPECT_DOUBLE_EQ(f.measurement_noise(), 0.1 * params.r);
  EXPECT_TRUE(symmetric_positive_definite(f.covariance()));
}

TEST(KinematicKalman, UpdateAndForecastDoNotAllocate) {
  KalmanParams params = test_params();
  params.adaptive = true;
  KinematicKalman f(params);
  std::array<double, 256> prices{};
  Rng rng(1);
  double p = 100.0;
  for (double& x : prices)
    x = (p += 0.01 * rng.normal());
  double sink = 0.0;
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    double t = 0.0;
    for (double price : prices) {
      t += 0.001;
      sink += static_cast<double>(f.update(t, price) == KalmanError::ok);
      const auto fc = f.forecast(0.5);
      sink += fc.value().mean + fc.value().variance;
    }
    sink += static_cast<double>(f.update(-1.0, 1.0) == KalmanError::ok);
  });
  EXPECT_EQ(allocations, 0U);
  EXPECT_TRUE(std::isfinite(sink));
}

}  // namespace
