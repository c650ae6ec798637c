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

// Events prepared up front. Writing one field of an event and then copying the whole event
// would measure a failed store-to-load forward (an 8-byte store read back by 16- or 32-byte
// loads, about 10 ns on this class of CPU), not the ring.
struct PreparedEvents {
  static constexpr std::size_t kCount = 64;
  MarketEvent events[kCount];
  PreparedEvents() {
    for (std::size_t i = 0; i < kCount; ++i) {
      events[i] = MarketEvent{};
      events[i].recv_ts = static_cast<std::int64_t>(i);
      events[i].trade.price = kinetic::Price::from_units(65000 + static_cast<std::int64_t>(i));
    }
  }
  const MarketEvent& operator[](std::size_t i) const { return events[i % kCount]; }
};

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

// Push then pop one event, copying it out as a consumer that keeps the event would.
void BM_RingPushPop_MarketEvent(benchmark::State& state) {
  auto ring = std::make_unique<SpscRing<MarketEvent, 1024>>();
  const PreparedEvents prepared;
  MarketEvent out{};
  std::size_t i = 0;
  for (auto _ : state) {
    if (ring->try_push(prepared[i++]) != PushResult::ok)
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
  const PreparedEvents prepared;
  std::int64_t sum = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < 64; ++i) {
      if (ring->try_push(prepared[i]) != PushResult::ok)
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
  const PreparedEvents prepared;
  MarketEvent out{};
  std::size_t i = 0;
  for (auto _ : state) {
    {
      const std::lock_guard lock(mutex);
      queue.push_back(prepared[i++]);
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

namespace {
// Consumer reads the element in place (consume_one) instead of copying it out.
void BM_RingPushConsumeOne_MarketEvent(benchmark::State& state) {
  auto ring = std::make_unique<SpscRing<MarketEvent, 1024>>();
  const PreparedEvents prepared;
  std::int64_t sum = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    if (ring->try_push(prepared[i++]) != PushResult::ok)
      state.SkipWithError("ring full");
    ring->consume_one([&](const MarketEvent& e) { sum += e.recv_ts; });
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_RingPushConsumeOne_MarketEvent);
}  // namespace
