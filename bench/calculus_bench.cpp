// Cost of one full per-tick update of the calculus engine (derivatives and their spread,
// tick Kalman filter, both tick signals, the 1 s / 1 min resampled Kalman filters and drift
// when a bar closes, the coordinator, the Taylor forecast), with its parts measured in the
// same run as the baseline it is compared against.
//
// Inputs are 65 536 trades of the seeded synthetic market (Poisson arrivals, mean 20 ms
// apart, so a 1 s bar closes about every 50 ticks), precomputed so the loop measures the
// engine rather than the generator; each pass over them is shifted forward in time by the
// span of the series so time never goes backwards.
//
// BM_CalculusUpdatePerCall times every call with the TSC and reports p50 / p99 / p99.9 / max
// as counters, with the cost of the timing itself (an empty timed region, measured in the
// same run) subtracted from the percentiles labelled _net.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/latency_histogram.hpp"
#include "kinetic/core/math/derivatives.hpp"
#include "kinetic/core/math/kalman.hpp"
#include "kinetic/core/strategy/calculus_engine.hpp"
#include "kinetic/feed/synthetic_market.hpp"

namespace {

using kinetic::TimestampNs;
using kinetic::strategy::CalculusEngine;
using kinetic::strategy::CalculusError;
using kinetic::strategy::CalculusParams;

constexpr std::size_t kCount = 1 << 16;  // power of two: index with a mask

struct Ticks {
  std::vector<TimestampNs> time_ns;
  std::vector<double> price;
  TimestampNs span_ns = 0;  // shift per pass
  Ticks() {
    kinetic::feed::SyntheticMarket market(kinetic::feed::SyntheticMarketParams{});
    time_ns.reserve(kCount);
    price.reserve(kCount);
    for (std::size_t i = 0; i < kCount; ++i) {
      const kinetic::MarketEvent event = market.next();
      time_ns.push_back(event.exch_ts);
      price.push_back(event.trade.price.to_double());
    }
    span_ns = time_ns.back() - time_ns.front() + 1'000'000;
  }
};

const Ticks& ticks() {
  static const Ticks t;
  return t;
}

/// Parameters sized for the synthetic BTC-like market (price ~65 000, trades ~20 ms apart).
CalculusParams bench_params() {
  CalculusParams params;
  params.kalman.q = 1.0;
  params.kalman.r = 0.05;
  return params;
}

/// Feeds the whole series once so the engine is past its start-up branches.
void warm_up(CalculusEngine& engine, TimestampNs& offset) {
  const Ticks& in = ticks();
  for (std::size_t i = 0; i < kCount; ++i)
    (void)engine.update(in.time_ns[i] + offset, in.price[i]);
  offset += in.span_ns;
}

void BM_CalculusUpdate(benchmark::State& state) {
  const Ticks& in = ticks();
  auto engine = std::make_unique<CalculusEngine>(bench_params());
  TimestampNs offset = 0;
  warm_up(*engine, offset);
  std::size_t i = 0;
  for (auto _ : state) {
    const CalculusError error = engine->update(in.time_ns[i] + offset, in.price[i]);
    benchmark::DoNotOptimize(error);
    i = (i + 1) & (kCount - 1);
    if (i == 0)
      offset += in.span_ns;
  }
  benchmark::DoNotOptimize(engine->combined());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_CalculusUpdate);

// Baselines in the same run: the two tick-level estimators alone.
void BM_TickKalmanOnly(benchmark::State& state) {
  const Ticks& in = ticks();
  kinetic::math::KinematicKalman filter(bench_params().kalman);
  const TimestampNs origin = in.time_ns.front();
  TimestampNs offset = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto error =
        filter.update(static_cast<double>(in.time_ns[i] + offset - origin) * 1e-9, in.price[i]);
    benchmark::DoNotOptimize(error);
    i = (i + 1) & (kCount - 1);
    if (i == 0)
      offset += in.span_ns;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TickKalmanOnly);

void BM_DerivativesOnly(benchmark::State& state) {
  const Ticks& in = ticks();
  kinetic::math::DerivativeEstimator estimator(bench_params().derivatives);
  const TimestampNs origin = in.time_ns.front();
  TimestampNs offset = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto error =
        estimator.update(static_cast<double>(in.time_ns[i] + offset - origin) * 1e-9, in.price[i]);
    benchmark::DoNotOptimize(error);
    i = (i + 1) & (kCount - 1);
    if (i == 0)
      offset += in.span_ns;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DerivativesOnly);

void BM_CalculusUpdatePerCall(benchmark::State& state) {
  kinetic::Clock::calibrate();
  const Ticks& in = ticks();
  auto engine = std::make_unique<CalculusEngine>(bench_params());
  auto timed = std::make_unique<kinetic::LatencyHistogram>();
  auto empty = std::make_unique<kinetic::LatencyHistogram>();
  TimestampNs offset = 0;
  warm_up(*engine, offset);
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = kinetic::Clock::ticks();
    const CalculusError error = engine->update(in.time_ns[i] + offset, in.price[i]);
    const std::uint64_t t1 = kinetic::Clock::ticks();
    benchmark::DoNotOptimize(error);
    const std::uint64_t t2 = kinetic::Clock::ticks();
    benchmark::ClobberMemory();
    const std::uint64_t t3 = kinetic::Clock::ticks();
    timed->record(static_cast<std::uint64_t>(kinetic::Clock::ticks_to_ns(t1 - t0)));
    empty->record(static_cast<std::uint64_t>(kinetic::Clock::ticks_to_ns(t3 - t2)));
    i = (i + 1) & (kCount - 1);
    if (i == 0)
      offset += in.span_ns;
  }
  const auto timer_p50 = static_cast<double>(empty->percentile(50));
  state.counters["p50_ns"] = static_cast<double>(timed->percentile(50));
  state.counters["p99_ns"] = static_cast<double>(timed->percentile(99));
  state.counters["p999_ns"] = static_cast<double>(timed->percentile(99.9));
  state.counters["max_ns"] = static_cast<double>(timed->max());
  state.counters["timer_p50_ns"] = timer_p50;
  state.counters["p50_net_ns"] = static_cast<double>(timed->percentile(50)) - timer_p50;
  state.counters["p99_net_ns"] = static_cast<double>(timed->percentile(99)) - timer_p50;
}
BENCHMARK(BM_CalculusUpdatePerCall)->Iterations(2'000'000);

}  // namespace
