// Per-tick cost of the drift estimator: one horizon (1 h) and two horizons (1 h and 1 day)
// fed the same tick. Prices and times are prepared up front so the loop measures update()
// (a log and an exp per horizon), not the random number generator.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "kinetic/core/math/drift.hpp"
#include "kinetic/core/math/random.hpp"

namespace {

using kinetic::math::DriftError;
using kinetic::math::DriftEstimator;

// A GBM path at Poisson times (mean gap 50 ms). Times keep increasing across laps of the
// table so that no tick is refused for going backwards.
struct PreparedTicks {
  static constexpr std::size_t kCount = 4096;  // power of two: the index is a mask
  std::vector<double> gaps;
  std::vector<double> prices;
  PreparedTicks() : gaps(kCount), prices(kCount) {
    kinetic::math::Rng rng(2024);
    double log_price = std::log(50000.0);
    for (std::size_t i = 0; i < kCount; ++i) {
      gaps[i] = rng.exponential(0.05);
      log_price += 1e-3 * std::sqrt(gaps[i]) * rng.normal();
      prices[i] = std::exp(log_price);
    }
  }
};

const PreparedTicks& ticks() {
  static const PreparedTicks prepared;
  return prepared;
}

void BM_DriftUpdate_1Horizon(benchmark::State& state) {
  const PreparedTicks& prepared = ticks();
  DriftEstimator hour(3600.0);
  double time = 0.0;
  std::size_t i = 0;
  for (auto _ : state) {
    time += prepared.gaps[i];
    const DriftError error = hour.update(time, prepared.prices[i]);
    benchmark::DoNotOptimize(error);
    i = (i + 1) & (PreparedTicks::kCount - 1);
  }
  benchmark::DoNotOptimize(hour.drift_per_s());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DriftUpdate_1Horizon)->Repetitions(9)->ReportAggregatesOnly(true);

void BM_DriftUpdate_2Horizons(benchmark::State& state) {
  const PreparedTicks& prepared = ticks();
  DriftEstimator hour(3600.0);
  DriftEstimator day(86400.0);
  double time = 0.0;
  std::size_t i = 0;
  for (auto _ : state) {
    time += prepared.gaps[i];
    const DriftError hour_error = hour.update(time, prepared.prices[i]);
    const DriftError day_error = day.update(time, prepared.prices[i]);
    benchmark::DoNotOptimize(hour_error);
    benchmark::DoNotOptimize(day_error);
    i = (i + 1) & (PreparedTicks::kCount - 1);
  }
  benchmark::DoNotOptimize(hour.drift_per_s());
  benchmark::DoNotOptimize(day.drift_per_s());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DriftUpdate_2Horizons)->Repetitions(9)->ReportAggregatesOnly(true);

// Reading the statistics (t, flip probability: a sqrt, a division and an erfc) after an
// update, as a strategy would on each tick.
void BM_DriftUpdateAndRead_1Horizon(benchmark::State& state) {
  const PreparedTicks& prepared = ticks();
  DriftEstimator hour(3600.0);
  double time = 0.0;
  std::size_t i = 0;
  for (auto _ : state) {
    time += prepared.gaps[i];
    const DriftError error = hour.update(time, prepared.prices[i]);
    benchmark::DoNotOptimize(error);
    benchmark::DoNotOptimize(hour.flip_probability());
    i = (i + 1) & (PreparedTicks::kCount - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DriftUpdateAndRead_1Horizon)->Repetitions(9)->ReportAggregatesOnly(true);

}  // namespace
