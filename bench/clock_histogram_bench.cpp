// Cost of a timestamp (TSC against the clock_gettime baseline) and of recording into and
// reading from the latency histogram.

#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/latency_histogram.hpp"

namespace {

using kinetic::Clock;
using kinetic::LatencyHistogram;

void BM_ClockNowNs(benchmark::State& state) {
  Clock::calibrate();
  state.SetLabel(Clock::source() == Clock::Source::tsc ? "tsc" : "clock_monotonic fallback");
  for (auto _ : state) {
    benchmark::DoNotOptimize(Clock::now_ns());
  }
}
BENCHMARK(BM_ClockNowNs);

void BM_ClockNowNsFallback(benchmark::State& state) {
  Clock::force_fallback_for_testing(true);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Clock::now_ns());
  }
  Clock::force_fallback_for_testing(false);
}
BENCHMARK(BM_ClockNowNsFallback);

void BM_ClockTicks(benchmark::State& state) {
  Clock::calibrate();
  for (auto _ : state) {
    benchmark::DoNotOptimize(Clock::ticks());
  }
}
BENCHMARK(BM_ClockTicks);

void BM_ClockTicksToNs(benchmark::State& state) {
  Clock::calibrate();
  std::uint64_t delta = 12'345;
  for (auto _ : state) {
    benchmark::DoNotOptimize(delta);
    benchmark::DoNotOptimize(Clock::ticks_to_ns(delta));
  }
}
BENCHMARK(BM_ClockTicksToNs);

void BM_ClockGettimeMonotonic(benchmark::State& state) {
  timespec ts{};
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ClockGettimeMonotonic);

// Latency-like values (log-normal, median ~3 µs, long tail), precomputed so the benchmark
// measures record() and not the random generator. 64 Ki values: the array plus the ~30 KB
// histogram fit in L2, as on a hot thread.
std::vector<std::uint64_t> latency_values() {
  std::vector<std::uint64_t> values(1U << 16U);
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> latency(8.0, 1.5);
  for (auto& v : values) {
    v = static_cast<std::uint64_t>(latency(rng));
  }
  return values;
}

void BM_HistogramRecord(benchmark::State& state) {
  const std::vector<std::uint64_t> values = latency_values();
  auto histogram = std::make_unique<LatencyHistogram>();
  std::size_t i = 0;
  for (auto _ : state) {
    histogram->record(values[i]);
    i = (i + 1) & (values.size() - 1);
  }
  benchmark::DoNotOptimize(histogram->count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramPercentile(benchmark::State& state) {
  const std::vector<std::uint64_t> values = latency_values();
  auto histogram = std::make_unique<LatencyHistogram>();
  for (const std::uint64_t v : values) {
    histogram->record(v);
  }
  double p = 99.9;
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(histogram->percentile(p));
  }
}
BENCHMARK(BM_HistogramPercentile);

void BM_HistogramSummary(benchmark::State& state) {
  const std::vector<std::uint64_t> values = latency_values();
  auto histogram = std::make_unique<LatencyHistogram>();
  for (const std::uint64_t v : values) {
    histogram->record(v);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(histogram->summary());
  }
}
BENCHMARK(BM_HistogramSummary);

}  // namespace
