// Cost of one KinematicKalman update (predict + Joseph-form correction) and one forecast.
// Inputs are precomputed so the loop measures the filter, not the random number generator:
// irregular Δt (log-uniform 1 µs to 10 s, one in eight repeating the timestamp) and prices
// from a random walk.
#include <benchmark/benchmark.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kinetic/core/math/kalman.hpp"
#include "kinetic/core/math/random.hpp"

namespace {

using kinetic::math::KalmanError;
using kinetic::math::KalmanParams;
using kinetic::math::KinematicKalman;

constexpr std::size_t kCount = 4096;  // power of two: index with a mask

struct Inputs {
  std::array<double, kCount> dt{};
  std::array<double, kCount> price{};
  std::array<double, kCount> horizon{};
  Inputs() {
    kinetic::math::Rng rng(42);
    const double log_lo = std::log(1e-6);
    const double log_span = std::log(10.0) - log_lo;
    double p = 65000.0;
    for (std::size_t i = 0; i < kCount; ++i) {
      dt[i] = (i % 8 == 7) ? 0.0 : std::exp(log_lo + log_span * rng.uniform());
      p += 0.5 * rng.normal();
      price[i] = p;
      horizon[i] = 0.001 + 5.0 * rng.uniform();
    }
  }
};

const Inputs& inputs() {
  static const Inputs in;
  return in;
}

KalmanParams bench_params(bool adaptive) {
  KalmanParams params;
  params.q = 1.0;
  params.r = 0.25;
  params.sigma_v0 = 10.0;
  params.sigma_a0 = 10.0;
  params.adaptive = adaptive;
  return params;
}

void BM_KalmanUpdate(benchmark::State& state) {
  const Inputs& in = inputs();
  KinematicKalman filter(bench_params(state.range(0) != 0));
  double t = 0.0;
  std::size_t i = 0;
  for (auto _ : state) {
    t += in.dt[i];
    const KalmanError error = filter.update(t, in.price[i]);
    benchmark::DoNotOptimize(error);
    i = (i + 1) & (kCount - 1);
  }
  benchmark::DoNotOptimize(filter.state());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KalmanUpdate)->Arg(0)->Arg(1)->ArgName("adaptive");

void BM_KalmanForecast(benchmark::State& state) {
  const Inputs& in = inputs();
  KinematicKalman filter(bench_params(false));
  double t = 0.0;
  for (std::size_t j = 0; j < 256; ++j) {
    t += in.dt[j];
    if (filter.update(t, in.price[j]) != KalmanError::ok)
      state.SkipWithError("update failed");
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const auto forecast = filter.forecast(in.horizon[i]);
    benchmark::DoNotOptimize(forecast);
    i = (i + 1) & (kCount - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KalmanForecast);

}  // namespace
