// Single-thread cost of the SPSC ring (push then pop), against a mutex-guarded std::deque
// measured in the same binary as the baseline. The cross-thread hop is measured by the
// latency suite (bench/latency_suite.cpp), which pins the two threads.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "kinetic/core/spsc_ring.hpp"
#include "kinetic/core/types.hpp"

namespace {

using kinetic::MarketEvent;
using kinetic::PushResult;
using kinetic::SpscRing;

void BM_RingPushPop_u64(benchmark::State& state) {
  auto ring = std::make_unique<SpscRing<std::uint64_t, 1024>>();
  std::uint64_t value = 0;
  std::uint64_t out = 0;
  for (auto _ : state) {
    if (ring->try_push(value++) != PushResult::ok)
      state.SkipWithError("ring full");
    if (!ring->try_pop(out))
      state.SkipWithError("ring empty");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_RingPushPop_u64);

void BM_RingPushPop_MarketEvent(benchmark::State& state) {
  auto ring = std::make_unique<SpscRing<MarketEvent, 1024>>();
  MarketEvent event{};
  MarketEvent out{};
  for (auto _ : state) {
    ++event.recv_ts;
    if (ring->try_push(event) != PushResult::ok)
      state.SkipWithError("ring full");
    if (!ring->try_pop(out))
      state.SkipWithError("ring empty");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_RingPushPop_MarketEvent);

// Batched: fill 64, then drain with consume_all (one index release per batch).
void BM_RingBatch64_MarketEvent(benchmark::State& state) {
  auto ring = std::make_unique<SpscRing<MarketEvent, 1024>>();
  MarketEvent event{};
  std::int64_t sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) {
      ++event.recv_ts;
      if (ring->try_push(event) != PushResult::ok)
        state.SkipWithError("ring full");
    }
    ring->consume_all([&](const MarketEvent& e) { sum += e.recv_ts; });
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_RingBatch64_MarketEvent);

// Baseline: the same push-then-pop through a std::deque under a std::mutex.
void BM_MutexDequePushPop_MarketEvent(benchmark::State& state) {
  std::deque<MarketEvent> queue;
  std::mutex mutex;
  MarketEvent event{};
  MarketEvent out{};
  for (auto _ : state) {
    ++event.recv_ts;
    {
      const std::lock_guard lock(mutex);
      queue.push_back(event);
    }
    {
      const std::lock_guard lock(mutex);
      out = queue.front();
      queue.pop_front();
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_MutexDequePushPop_MarketEvent);

}  // namespace
