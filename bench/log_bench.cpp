// Cost of hot-path logging (LogProducer::log) and of the control side that formats records.
//
// The hot-path figures are single-threaded: the benchmark thread pops (or batch-drains) the
// record it just pushed, so the ring never fills and no second core is needed (this
// project's machines have two, shared). A consumer on another core would add the cache-line
// transfer of each record, which the latency suite measures for rings in general.
// Run with --benchmark_repetitions=10 --benchmark_report_aggregates_only=true for medians.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/decimal.hpp"
#include "kinetic/core/log.hpp"

namespace {

using kinetic::Clock;
using kinetic::LogLevel;
using kinetic::LogProducer;
using kinetic::LogRecord;
using kinetic::Price;
using kinetic::Qty;

const Price kPrice = Price::parse("65114.2").value();
const Qty kQty = Qty::parse("0.001").value();
constexpr std::string_view kSymbol = "BTCUSDT";

std::unique_ptr<LogProducer> make_producer(LogLevel threshold) {
  Clock::calibrate();
  return std::make_unique<LogProducer>(0, "bench", threshold);
}

// log() with three arguments (Price, Qty, a 7-byte symbol copied inline), then try_pop of
// the same record on the same thread: the time is push + pop of one 128-byte record, i.e.
// the producer's cost plus the consumer's ring bookkeeping (not its formatting).
void BM_LogRecordPush(benchmark::State& state) {
  auto producer = make_producer(LogLevel::info);
  LogRecord out;
  for (auto _ : state) {
    const bool accepted =
        producer->log(LogLevel::info, "fill {} px {} qty {}", kSymbol, kPrice, kQty);
    benchmark::DoNotOptimize(accepted);
    if (!producer->try_pop(out)) {
      state.SkipWithError("ring empty");
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_LogRecordPush);

// The same log() call, with the ring drained by consume_all once every 1024 pushes, so the
// consumer's cost is amortised and the figure is close to the producer's own cost.
void BM_LogRecordPushBatchedDrain(benchmark::State& state) {
  auto producer = make_producer(LogLevel::info);
  std::uint64_t consumed_ticks = 0;
  std::size_t since_drain = 0;
  for (auto _ : state) {
    const bool accepted =
        producer->log(LogLevel::info, "fill {} px {} qty {}", kSymbol, kPrice, kQty);
    benchmark::DoNotOptimize(accepted);
    if (++since_drain == 1024) {
      producer->consume_all([&](const LogRecord& record) { consumed_ticks += record.ticks; });
      since_drain = 0;
    }
  }
  benchmark::DoNotOptimize(consumed_ticks);
}
BENCHMARK(BM_LogRecordPushBatchedDrain);

// A record below the threshold: one relaxed load and a compare; nothing is built or pushed.
void BM_LogFilteredOut(benchmark::State& state) {
  auto producer = make_producer(LogLevel::warn);
  for (auto _ : state) {
    const bool accepted =
        producer->log(LogLevel::debug, "fill {} px {} qty {}", kSymbol, kPrice, kQty);
    benchmark::DoNotOptimize(accepted);
  }
  if (producer->pending() != 0) {
    state.SkipWithError("a filtered record entered the ring");
  }
}
BENCHMARK(BM_LogFilteredOut);

// Control side: one record (the three arguments above) to a full line, timestamp included,
// into a reused string.
void BM_LogFormat(benchmark::State& state) {
  Clock::calibrate();
  kinetic::Logger logger(stderr, LogLevel::info);
  LogProducer& producer = logger.make_producer("feed");
  LogRecord record;
  kinetic::encode_log_record(record, producer.id(), LogLevel::info, Clock::ticks(),
                             "fill {} px {} qty {}", kSymbol, kPrice, kQty);
  std::string line;
  line.reserve(256);
  for (auto _ : state) {
    line.clear();
    logger.format_line(record, line);
    benchmark::DoNotOptimize(line.data());
  }
  state.SetLabel(line.substr(0, line.size() - 1));
}
BENCHMARK(BM_LogFormat);

// Control side throughput: 1024 records pushed, then one drain() formats them and writes
// them to /dev/null. Time per record includes its push (see BM_LogRecordPush to subtract).
void BM_LogDrainToDevNull(benchmark::State& state) {
  Clock::calibrate();
  std::FILE* dev_null = std::fopen("/dev/null", "w");
  if (dev_null == nullptr) {
    state.SkipWithError("cannot open /dev/null");
    return;
  }
  {
    kinetic::Logger logger(dev_null, LogLevel::info);
    LogProducer& producer = logger.make_producer("feed");
    constexpr std::int64_t kBatch = 1024;
    for (auto _ : state) {
      for (std::int64_t i = 0; i < kBatch; ++i) {
        producer.log(LogLevel::info, "fill {} px {} qty {}", kSymbol, kPrice, kQty);
      }
      benchmark::DoNotOptimize(logger.drain());
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
  }
  std::fclose(dev_null);
}
BENCHMARK(BM_LogDrainToDevNull);

}  // namespace
