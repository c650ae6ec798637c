#include "kinetic/exec/demo_engine.hpp"

#include <gtest/gtest.h>

#include <string>

#include "alloc_counter.hpp"
#include "kinetic/core/config.hpp"

namespace kinetic::exec {
namespace {

DemoParams small_run(std::uint64_t seed, std::uint64_t ticks) {
  DemoParams params;
  params.market.seed = seed;
  params.ticks = ticks;
  params.warmup_ticks = 1000;
  return params;
}

// The hot loop must not touch the heap once running: every tick after warm-up goes through
// market, calculus engine, risk manager and venue with zero allocations.
TEST(DemoEngine, PerTickLoopAllocatesNothingAfterWarmUp) {
  DemoEngine engine(small_run(42, 100'000));
  for (int i = 0; i < 1000 + 10; ++i)
    ASSERT_TRUE(engine.step());  // warm-up and a few more
  const std::uint64_t allocations = test::count_allocations([&] {
    while (engine.step()) {
    }
  });
  EXPECT_EQ(allocations, 0u);
  const DemoSummary summary = engine.summary();
  EXPECT_EQ(summary.ticks, 100'000u);
  EXPECT_GT(summary.trades, 0u) << "the run must exercise order placement to prove anything";
}

TEST(DemoEngine, SameSeedGivesTheSameTrading) {
  DemoEngine a(small_run(5, 30'000));
  DemoEngine b(small_run(5, 30'000));
  a.run();
  b.run();
  const DemoSummary sa = a.summary();
  const DemoSummary sb = b.summary();
  EXPECT_EQ(sa.signals, sb.signals);
  EXPECT_EQ(sa.trades, sb.trades);
  EXPECT_EQ(sa.pnl, sb.pnl);
  EXPECT_EQ(sa.fees, sb.fees);
  EXPECT_EQ(sa.final_position, sb.final_position);
}

// The pipelined layout moves market generation to a second thread joined by the SPSC ring;
// the trading must not change. The tsan preset runs this too.
TEST(DemoEngine, PipelinedLayoutTradesExactlyLikeFused) {
  DemoEngine fused(small_run(9, 40'000));
  fused.run();
  DemoEngine pipelined(small_run(9, 40'000));
  const std::string problems = pipelined.run_pipelined(PipelineLayout{});
  EXPECT_EQ(problems, "");
  const DemoSummary a = fused.summary();
  const DemoSummary b = pipelined.summary();
  EXPECT_EQ(b.ticks, 40'000u);
  EXPECT_EQ(pipelined.latency().count(), 40'000u);
  EXPECT_EQ(a.signals, b.signals);
  EXPECT_EQ(a.trades, b.trades);
  EXPECT_EQ(a.pnl, b.pnl);
  EXPECT_EQ(a.fees, b.fees);
  EXPECT_EQ(a.final_position, b.final_position);
  EXPECT_EQ(a.ticks_per_regime, b.ticks_per_regime);
  EXPECT_GT(a.trades, 0u);
}

TEST(DemoEngine, PipelinedLayoutReportsACoreItCannotPinTo) {
  DemoEngine engine(small_run(3, 2'000));
  PipelineLayout layout;
  layout.feed_core = 100'000;  // no such core: the run goes on unpinned and says so
  const std::string problems = engine.run_pipelined(layout);
  EXPECT_NE(problems.find("feed thread not pinned to core 100000"), std::string::npos) << problems;
  EXPECT_EQ(engine.summary().ticks, 2'000u);
}

TEST(DemoEngine, SummaryIsConsistent) {
  DemoEngine engine(small_run(11, 50'000));
  engine.run();
  const DemoSummary s = engine.summary();
  EXPECT_EQ(s.ticks, 50'000u);
  EXPECT_EQ(engine.latency().count(), 50'000u);
  EXPECT_LE(s.trades + s.rejected, s.signals);
  EXPECT_GT(s.fees, Amount{});
  // Sizes come from the risk manager: always whole quantity steps of the market.
  EXPECT_EQ(s.final_position.raw() % DemoParams{}.market.qty_step.raw(), 0);
  // Every refusal is counted under its reason.
  std::uint64_t refusals = 0;
  for (auto n : s.rejections)
    refusals += n;
  EXPECT_GE(refusals, s.risk_rejected);
  std::uint64_t regime_ticks = 0;
  for (auto n : s.ticks_per_regime)
    regime_ticks += n;
  EXPECT_EQ(regime_ticks, 50'000u + 1000u);
  // Every tick, warm-up included, went through the calculus engine and its 1 s and 1 min
  // sources saw bar closes (50 000 ticks about 20 ms apart is about 17 minutes).
  EXPECT_EQ(engine.calculus().ticks(), 51'000u);
  EXPECT_TRUE(engine.calculus().kalman(kinetic::strategy::Source::kalman_1m).initialised());
  EXPECT_GT(s.signals, 0u);
}

// The whole default run: the risk manager sizes every order, and the kill switch's daily-loss
// stop latches HALTED once the fee-bound strategy has lost 8% (a behaviour of the default
// configuration on seed 42, which the README's main command shows).
TEST(DemoEngine, KillSwitchLatchesAndStopsNewEntries) {
  DemoEngine engine(demo_params(default_config()));
  engine.run();
  const DemoSummary s = engine.summary();
  EXPECT_EQ(s.trading_state, kinetic::risk::TradingState::halted);
  EXPECT_GE(s.kill_transitions, 1u);
  EXPECT_GT(s.rejections[static_cast<std::size_t>(kinetic::risk::RejectReason::halted)], 0u);
  EXPECT_EQ(s.final_position, Qty{}) << "HALTED closes every position";
}

TEST(PaperVenue, RoundTripCostsTheSpreadAndTwoFeesExactly) {
  PaperVenue venue(PaperVenueParams{});
  MarketEvent trade{};
  trade.type = MarketEventType::trade;
  trade.trade.price = Price::parse("65000.0").value();
  venue.on_market(trade);

  OrderIntent buy{};
  buy.side = Side::buy;
  buy.qty = Qty::parse("0.01").value();
  const auto opened = venue.execute(buy, 1);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened.value().price, Price::parse("65000.1").value());
  EXPECT_EQ(venue.position(), buy.qty);

  OrderIntent sell = buy;
  sell.side = Side::sell;
  const auto closed = venue.execute(sell, 2);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed.value().price, Price::parse("64999.9").value());
  EXPECT_EQ(venue.position(), Qty{});
  // Spread: 0.2 × 0.01 = 0.002. Fees: 650.001 × 0.00055 = 0.35750055 and
  // 649.999 × 0.00055 = 0.35749945. P&L = −0.002 − 0.715 = −0.717 exactly.
  EXPECT_EQ(venue.fees_paid(), Amount::parse("0.715").value());
  EXPECT_EQ(venue.equity(), Amount::parse("-0.717").value());
}

TEST(PaperVenue, RefusesWithoutAPriceOrQuantity) {
  PaperVenue venue(PaperVenueParams{});
  OrderIntent order{};
  order.side = Side::buy;
  order.qty = Qty::parse("1").value();
  EXPECT_EQ(venue.execute(order, 0).error(), VenueError::no_market_price);
  MarketEvent trade{};
  trade.type = MarketEventType::trade;
  trade.trade.price = Price::parse("100").value();
  venue.on_market(trade);
  order.qty = Qty{};
  EXPECT_EQ(venue.execute(order, 0).error(), VenueError::zero_quantity);
}

}  // namespace
}  // namespace kinetic::exec
