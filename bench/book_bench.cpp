// Micro-benchmarks of the L2 order book (kinetic::feed::OrderBook), fed already-decoded
// book_level events as the Bybit decoder produces them:
//   * a 50-level delta (25 bids + 25 asks) on a book kept at a steady state of about 200
//     (or 1000) levels a side: 40 changes in the top 30 ticks of each side, updates, inserts and
//     deletes mixed as they come (each change hits a price slot that is present ~75% of the
//     time), and 10 updates spread over the whole depth; `sorted:1` sends each side best first
//     as Bybit does (every orderbook message of the captures in shared/data is sorted so),
//     `sorted:0` in random order (the book's fallback: each search from the top);
//   * the same message refused as a duplicate: the cost of the well-formedness check alone;
//   * a 500-level-a-side snapshot into a 1000-level book;
//   * the queries the strategy asks per message.
// The deltas are a ring of 256 messages with u = 2..257; at the wrap the timer is paused and
// the book is reset by the u = 1 snapshot they were generated from, so every pass replays
// exactly the same states (the pause costs a few ns amortised per iteration).
//
// Run: book_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <span>
#include <vector>

#include "kinetic/feed/order_book.hpp"

namespace {

using kinetic::MarketEvent;
using kinetic::MarketEventType;
using kinetic::Price;
using kinetic::Qty;
using kinetic::Side;
using kinetic::feed::BookStatus;
using kinetic::feed::OrderBook;

constexpr std::int64_t kTick = 10'000'000;       // 0.1
constexpr std::int64_t kBestBidTicks = 935'100;  // 93510.0
constexpr std::int64_t kBestAskTicks = 935'101;  // 93510.1
constexpr std::uint16_t kDepthAux = 200;

struct Level {
  Side side;
  std::int64_t ticks;
  std::int64_t qty_raw;  // 0 deletes
};

std::vector<MarketEvent> make_events(bool snapshot, std::uint64_t update_id,
                                     const std::vector<Level>& levels) {
  std::vector<MarketEvent> events;
  for (const Level& level : levels) {
    MarketEvent event{};
    event.exch_ts = static_cast<std::int64_t>(update_id) * 20'000'000;
    event.recv_ts = event.exch_ts + 1'000'000;
    event.type = MarketEventType::book_level;
    event.side = level.side;
    event.flags = snapshot ? kinetic::kFlagSnapshot : kinetic::kFlagNone;
    event.aux = kDepthAux;
    event.level.price = Price::from_raw(level.ticks * kTick);
    event.level.qty = Qty::from_raw(level.qty_raw);
    event.level.update_id = update_id;
    event.level.sequence = update_id * 7;
    events.push_back(event);
  }
  events.front().flags |= kinetic::kFlagBeginOfBatch;
  events.back().flags |= kinetic::kFlagEndOfBatch;
  return events;
}

/// A snapshot of `depth` levels a side, one tick apart, best first (as Bybit sends them).
std::vector<MarketEvent> make_snapshot(std::size_t depth, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> size(1'000'000, 500'000'000);
  std::vector<Level> levels;
  for (std::size_t i = 0; i < depth; ++i)
    levels.push_back({Side::buy, kBestBidTicks - static_cast<std::int64_t>(i), size(rng)});
  for (std::size_t i = 0; i < depth; ++i)
    levels.push_back({Side::sell, kBestAskTicks + static_cast<std::int64_t>(i), size(rng)});
  return make_events(true, 1, levels);
}

/// 256 deltas (u = 2..257) of 25 bids + 25 asks each, see the file comment. `sorted`: each
/// side's levels best first, as Bybit sends them (every message of the captures in
/// shared/data is); else in the random order they were drawn (the book's fallback path).
std::vector<std::vector<MarketEvent>> make_deltas(std::size_t depth, std::mt19937_64& rng,
                                                  bool sorted = true) {
  std::uniform_int_distribution<std::int64_t> size(1'000'000, 500'000'000);
  std::uniform_int_distribution<std::int64_t> near_top(0, 29);
  std::uniform_int_distribution<std::int64_t> anywhere(0, static_cast<std::int64_t>(depth) - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  std::vector<std::vector<MarketEvent>> deltas;
  for (std::uint64_t u = 2; u < 258; ++u) {
    std::vector<Level> levels;
    for (const Side side : {Side::buy, Side::sell}) {
      const std::int64_t direction = side == Side::buy ? -1 : 1;
      const std::int64_t best = side == Side::buy ? kBestBidTicks : kBestAskTicks;
      std::set<std::int64_t> used;  // one change per price per message, as the exchange does
      while (used.size() < 20) {
        const std::int64_t ticks = best + direction * near_top(rng);
        if (used.insert(ticks).second)
          levels.push_back({side, ticks, percent(rng) < 75 ? size(rng) : 0});
      }
      while (used.size() < 25) {
        const std::int64_t ticks = best + direction * anywhere(rng);
        if (used.insert(ticks).second)
          levels.push_back({side, ticks, size(rng)});
      }
    }
    if (sorted) {
      // Bids descending, then asks ascending.
      std::stable_sort(levels.begin(), levels.end(), [](const Level& a, const Level& b) {
        if (a.side != b.side)
          return a.side == Side::buy;
        return a.side == Side::buy ? a.ticks > b.ticks : a.ticks < b.ticks;
      });
    }
    deltas.push_back(make_events(false, u, levels));
  }
  return deltas;
}

void BM_ApplyDelta50(benchmark::State& state) {
  const auto depth = static_cast<std::size_t>(state.range(0));
  std::mt19937_64 rng(42);
  const auto snapshot = make_snapshot(depth, rng);
  const bool sorted = state.range(1) != 0;
  const auto deltas = make_deltas(depth, rng, sorted);
  OrderBook book(1000);
  if (book.apply(snapshot) != BookStatus::ok)
    state.SkipWithError("snapshot refused");
  std::size_t next = 0;
  std::size_t depth_sum = 0;
  for (auto _ : state) {
    const BookStatus status = book.apply(deltas[next]);
    benchmark::DoNotOptimize(status);
    if (++next == deltas.size()) {
      state.PauseTiming();
      depth_sum += book.bid_depth() + book.ask_depth();
      if (book.apply(snapshot) != BookStatus::ok)
        state.SkipWithError("snapshot refused");
      next = 0;
      state.ResumeTiming();
    }
  }
  state.counters["levels_after_pass"] = benchmark::Counter(
      static_cast<double>(depth_sum) / static_cast<double>(state.iterations() / 256 + 1) / 2.0);
}
BENCHMARK(BM_ApplyDelta50)
    ->ArgNames({"depth", "sorted"})
    ->Args({200, 1})
    ->Args({200, 0})
    ->Args({1000, 1})
    ->Args({1000, 0});

/// The same deltas on a book whose capacity is the stream depth (a full side: each new level
/// drops the worst, in message order), as with an orderbook.200 stream kept in a 200-level book.
void BM_ApplyDelta50FullBook(benchmark::State& state) {
  const auto depth = static_cast<std::size_t>(state.range(0));
  std::mt19937_64 rng(42);
  const auto snapshot = make_snapshot(depth, rng);
  const auto deltas = make_deltas(depth, rng);
  OrderBook book(depth);
  if (book.apply(snapshot) != BookStatus::ok)
    state.SkipWithError("snapshot refused");
  std::size_t next = 0;
  for (auto _ : state) {
    const BookStatus status = book.apply(deltas[next]);
    benchmark::DoNotOptimize(status);
    if (++next == deltas.size()) {
      state.PauseTiming();
      if (book.apply(snapshot) != BookStatus::ok)
        state.SkipWithError("snapshot refused");
      next = 0;
      state.ResumeTiming();
    }
  }
}
BENCHMARK(BM_ApplyDelta50FullBook)->ArgName("depth")->Arg(200);

/// The cost of checking a 50-level message alone: a delta already applied comes again and is
/// refused as a duplicate after the well-formedness pass (nothing else runs).
void BM_RejectDuplicateDelta50(benchmark::State& state) {
  std::mt19937_64 rng(42);
  const auto snapshot = make_snapshot(200, rng);
  const auto deltas = make_deltas(200, rng);
  OrderBook book(1000);
  if (book.apply(snapshot) != BookStatus::ok || book.apply(deltas[0]) != BookStatus::ok)
    state.SkipWithError("setup refused");
  for (auto _ : state) {
    const BookStatus status = book.apply(deltas[0]);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_RejectDuplicateDelta50);

void BM_ApplySnapshot500(benchmark::State& state) {
  std::mt19937_64 rng(7);
  const auto snapshot = make_snapshot(500, rng);  // u = 1: always taken (a restart)
  OrderBook book(1000);
  for (auto _ : state) {
    const BookStatus status = book.apply(snapshot);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_ApplySnapshot500);

/// A steady-state 200-level book for the query benchmarks.
OrderBook make_query_book() {
  std::mt19937_64 rng(3);
  OrderBook book(1000);
  const auto snapshot = make_snapshot(200, rng);
  const auto deltas = make_deltas(200, rng);
  (void)book.apply(snapshot);
  for (const auto& delta : deltas)
    (void)book.apply(delta);
  return book;
}

void BM_BestBidAsk(benchmark::State& state) {
  const OrderBook book = make_query_book();
  for (auto _ : state) {
    benchmark::DoNotOptimize(&book);
    auto bid = book.best_bid();
    auto ask = book.best_ask();
    benchmark::DoNotOptimize(bid);
    benchmark::DoNotOptimize(ask);
  }
}
BENCHMARK(BM_BestBidAsk);

void BM_Mid(benchmark::State& state) {
  const OrderBook book = make_query_book();
  for (auto _ : state) {
    benchmark::DoNotOptimize(&book);
    auto mid = book.mid();
    benchmark::DoNotOptimize(mid);
  }
}
BENCHMARK(BM_Mid);

void BM_Microprice(benchmark::State& state) {
  const OrderBook book = make_query_book();
  for (auto _ : state) {
    benchmark::DoNotOptimize(&book);
    auto microprice = book.microprice();
    benchmark::DoNotOptimize(microprice);
  }
}
BENCHMARK(BM_Microprice);

void BM_Imbalance5(benchmark::State& state) {
  const OrderBook book = make_query_book();
  for (auto _ : state) {
    benchmark::DoNotOptimize(&book);
    auto imbalance = book.imbalance(5);
    benchmark::DoNotOptimize(imbalance);
  }
}
BENCHMARK(BM_Imbalance5);

}  // namespace
