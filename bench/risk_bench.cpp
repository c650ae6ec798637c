// With the built-in configuration's limits. Cost of one full risk check of an entry
// (RiskManager::check_entry: kill-switch state, volatility stop, Kelly and risk-fraction sizing
// with rounding and leverage, portfolio limits with correlation, instrument rules, pre-trade gate),
// against the market-data update that precedes it (on_trade: tick validation, σ window, marks)
// measured in the same run.
//
// BM_RiskCheckEntryPerCall times every call with the TSC and reports p50 / p99 / p99.9 / max,
// with the timer's own cost (an empty timed region in the same loop) alongside.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/config.hpp"
#include "kinetic/core/latency_histogram.hpp"
#include "kinetic/core/risk/risk_manager.hpp"

namespace {

using namespace kinetic;
using namespace kinetic::risk;

constexpr TimestampNs kStart = 1'767'225'600'000'000'000;

InstrumentRules btc_rules() {
  InstrumentRules rules;
  std::strcpy(rules.symbol, "BTCUSDT");
  rules.tick_size = Price::parse("0.1").value();
  rules.min_price = Price::parse("0.1").value();
  rules.max_price = Price::parse("1999999.8").value();
  rules.qty_step = Qty::parse("0.001").value();
  rules.min_order_qty = Qty::parse("0.001").value();
  rules.max_order_qty = Qty::parse("1190").value();
  rules.max_market_order_qty = Qty::parse("500").value();
  rules.min_notional = Amount::parse("5").value();
  rules.min_leverage = Amount::parse("1").value();
  rules.max_leverage = Amount::parse("100").value();
  rules.leverage_step = Amount::parse("0.01").value();
  return rules;
}

struct Setup {
  InstrumentRules rules = btc_rules();
  std::unique_ptr<RiskManager> manager;
  TimestampNs now = kStart;
  Setup() {
    manager = std::make_unique<RiskManager>(
        RiskParams{}, std::span<const InstrumentRules>(&rules, 1), Amount::from_units(10'000), now);
    for (int i = 0; i < 2000; ++i)
      tick(i);
  }
  void tick(int i) {
    now += 1'000'000;
    const std::int64_t tenths = 650'000 + (i % 7) - 3;  // 65000 ± 0.3
    const Price price = Price::from_raw(tenths * 10'000'000);
    (void)manager->on_trade(0, price, Qty::from_raw(1'000'000), now);
  }
  EntryProposal proposal(int i) const {
    EntryProposal p;
    p.side = (i & 1) != 0 ? Side::buy : Side::sell;
    p.type = OrderType::market;
    p.entry = manager->last_price(0);
    const std::int64_t hundred = 100 * Price::kScale;  // target 100 away from the entry
    p.target = Price::from_raw(p.entry.raw() + ((i & 1) != 0 ? hundred : -hundred));
    p.confidence = 0.8;
    p.now = now;
    return p;
  }
};

// The check as the engine calls it: one real call per check. With LTO the compiler would
// otherwise inline it into the benchmark loop and overlap consecutive checks.
[[gnu::noinline]] RiskDecision check_entry(RiskManager& manager, const EntryProposal& proposal) {
  return manager.check_entry(proposal);
}

void BM_RiskCheckEntry(benchmark::State& state) {
  Setup setup;
  int i = 0;
  for (auto _ : state) {
    const RiskDecision decision = check_entry(*setup.manager, setup.proposal(i++));
    benchmark::DoNotOptimize(decision);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RiskCheckEntry);

// Baseline in the same run: the market-data side of the risk manager.
void BM_RiskOnTrade(benchmark::State& state) {
  Setup setup;
  int i = 0;
  for (auto _ : state)
    setup.tick(i++);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RiskOnTrade);

// A sized intent (an operator's order, a retry): kill switch, instrument rules, portfolio
// limits and the pre-trade gate, without sizing.
void BM_RiskCheckIntent(benchmark::State& state) {
  Setup setup;
  OrderIntent order{};
  order.symbol = 0;
  order.side = Side::buy;
  order.type = OrderType::limit;
  order.tif = TimeInForce::gtc;
  order.qty = Qty::from_raw(1'500'000);  // 0.015
  int i = 0;
  for (auto _ : state) {
    order.price = Price::from_raw((649'900 + (i++ & 7)) * 10'000'000LL);
    const RejectReason reason = setup.manager->check_intent(order, setup.now);
    benchmark::DoNotOptimize(reason);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RiskCheckIntent);

void BM_RiskCheckEntryPerCall(benchmark::State& state) {
  Clock::calibrate();
  Setup setup;
  auto timed = std::make_unique<LatencyHistogram>();
  auto empty = std::make_unique<LatencyHistogram>();
  int i = 0;
  std::uint64_t accepted = 0;
  for (auto _ : state) {
    const EntryProposal proposal = setup.proposal(i++);
    const std::uint64_t t0 = Clock::ticks();
    const RiskDecision decision = check_entry(*setup.manager, proposal);
    const std::uint64_t t1 = Clock::ticks();
    benchmark::DoNotOptimize(decision);
    const std::uint64_t t2 = Clock::ticks();
    benchmark::ClobberMemory();
    const std::uint64_t t3 = Clock::ticks();
    accepted += decision.accepted() ? 1U : 0U;
    timed->record(static_cast<std::uint64_t>(Clock::ticks_to_ns(t1 - t0)));
    empty->record(static_cast<std::uint64_t>(Clock::ticks_to_ns(t3 - t2)));
  }
  state.counters["accepted_fraction"] =
      static_cast<double>(accepted) / static_cast<double>(state.iterations());
  state.counters["p50_ns"] = static_cast<double>(timed->percentile(50));
  state.counters["p99_ns"] = static_cast<double>(timed->percentile(99));
  state.counters["p999_ns"] = static_cast<double>(timed->percentile(99.9));
  state.counters["max_ns"] = static_cast<double>(timed->max());
  state.counters["timer_p50_ns"] = static_cast<double>(empty->percentile(50));
}
BENCHMARK(BM_RiskCheckEntryPerCall)->Iterations(1'000'000);

}  // namespace
