#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "alloc_counter.hpp"
#include "kinetic/core/risk/kill_switch.hpp"

namespace kinetic::risk {
namespace {

constexpr TimestampNs kSecond = 1'000'000'000;
constexpr TimestampNs kDay = 86'400 * kSecond;

Amount units(std::int64_t n) {
  return Amount::from_units(n);
}
Amount raw(std::int64_t r) {
  return Amount::from_raw(r);
}

/// Daily-loss limit at 100 %, so tests of other equity triggers see only their own.
KillSwitchParams without_daily_loss() {
  KillSwitchParams p;
  p.max_daily_loss_bps = 10'000;
  return p;
}

TEST(KillSwitch, DefaultsAreValidAndActive) {
  const KillSwitch ks;
  EXPECT_TRUE(ks.params().valid());
  EXPECT_EQ(ks.state(), TradingState::active);
  EXPECT_EQ(ks.transitions().size(), 0u);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::none);
  EXPECT_FALSE(ks.pending_actions().any());
}

TEST(KillSwitch, ParamsValidity) {
  KillSwitchParams p;
  p.error_window_seconds = 0;
  EXPECT_FALSE(p.valid());
  p = {};
  p.error_window_seconds = KillSwitchParams::kMaxErrorWindowSeconds + 1;
  EXPECT_FALSE(p.valid());
  p = {};
  p.trade_loss_action = TradingState::active;
  EXPECT_FALSE(p.valid());
  p = {};
  p.stale_data_timeout_ns = 0;
  EXPECT_FALSE(p.valid());
}

TEST(KillSwitch, DrawdownExactlyFifteenPercentDoesNotTrip) {
  KillSwitch ks(without_daily_loss());
  ks.on_equity(0, units(100));
  ks.on_equity(1, units(85));  // 15 % below the peak: at the limit, not above
  EXPECT_EQ(ks.state(), TradingState::active);
  EXPECT_EQ(ks.peak_equity(), units(100));
}

TEST(KillSwitch, DrawdownJustAboveFifteenPercentHalts) {
  KillSwitch ks(without_daily_loss());
  ks.on_equity(0, units(100));
  ks.on_equity(5, raw(8'499'999'999));  // 84.99999999: 15.00000001 %
  ASSERT_EQ(ks.state(), TradingState::halted);
  const KillTransition t = ks.last_transition();
  EXPECT_EQ(t.from, TradingState::active);
  EXPECT_EQ(t.to, TradingState::halted);
  EXPECT_EQ(t.trigger, KillTrigger::drawdown);
  EXPECT_EQ(t.time, 5);
  EXPECT_DOUBLE_EQ(t.value, 0.1500000001);
  EXPECT_DOUBLE_EQ(t.threshold, 0.15);
}

TEST(KillSwitch, DrawdownIsFromThePeakNotTheStart) {
  KillSwitch ks(without_daily_loss());
  ks.on_equity(0, units(100));
  ks.on_equity(1, units(200));
  ks.on_equity(2, units(170));  // 15 % of 200
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.on_equity(3, raw(16'999'999'999));
  EXPECT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::drawdown);
}

TEST(KillSwitch, LatchedHaltSurvivesRecoveredEquity) {
  KillSwitch ks;
  ks.on_equity(0, units(100));
  ks.on_equity(1, units(80));
  ASSERT_EQ(ks.state(), TradingState::halted);
  ks.on_equity(2, units(150));
  ks.on_market_data(3);
  ks.check(4);
  EXPECT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.transitions().total(), 1u);
}

TEST(KillSwitch, DailyLossExactlyEightPercentDoesNotTrip) {
  KillSwitch ks;
  ks.on_equity(10, units(100));
  ks.on_equity(20, units(92));
  EXPECT_EQ(ks.state(), TradingState::active);
  EXPECT_EQ(ks.day_start_equity(), units(100));
}

TEST(KillSwitch, DailyLossJustAboveEightPercentHalts) {
  KillSwitch ks;
  ks.on_equity(10, units(100));
  ks.on_equity(20, raw(9'199'999'999));
  ASSERT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::daily_loss);
  EXPECT_DOUBLE_EQ(ks.last_transition().value, 0.0800000001);
  EXPECT_DOUBLE_EQ(ks.last_transition().threshold, 0.08);
}

TEST(KillSwitch, UtcDayBoundaryRebasesDayStartEquity) {
  // Yesterday's loss of 7 % is forgotten at midnight: the first equity of the new day
  // (93) is the new day-start, so a further 8 % of 93 is allowed, a hair more is not.
  KillSwitch ks;
  ks.on_equity(3 * kDay + 1, units(100));
  ks.on_equity(4 * kDay - 1, units(93));  // last nanosecond of the day: still day 3
  EXPECT_EQ(ks.day_start_equity(), units(100));
  ks.on_equity(4 * kDay, units(93));  // first nanosecond of day 4
  EXPECT_EQ(ks.day_start_equity(), units(93));
  ks.on_equity(4 * kDay + 1, raw(8'556'000'000));  // 85.56 = 93 × 0.92: exactly 8 %
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.on_equity(4 * kDay + 2, raw(8'555'999'999));
  ASSERT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::daily_loss);
}

TEST(KillSwitch, SameLossWithinOneDayTrips) {
  // The contrast to the boundary test: 100 → 85.55999999 inside one day is 14.44 %.
  KillSwitch ks;
  ks.on_equity(4 * kDay, units(100));
  ks.on_equity(5 * kDay - 1, raw(8'555'999'999));
  EXPECT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::daily_loss);
}

TEST(KillSwitch, DayBoundaryIsFloorForNegativeTimes) {
  KillSwitch ks;
  ks.on_equity(-1, units(100));  // day −1
  ks.on_equity(0, units(95));    // day 0: new day-start 95
  EXPECT_EQ(ks.day_start_equity(), units(95));
}

TEST(KillSwitch, TradeLossExactlyFivePercentDoesNotTrip) {
  KillSwitch ks;
  ks.on_equity(0, units(105));
  ks.on_trade_closed(1, units(-5), units(100));
  EXPECT_EQ(ks.state(), TradingState::active);
}

TEST(KillSwitch, TradeLossJustAboveFivePercentReduces) {
  KillSwitch ks;
  ks.on_equity(0, units(105));
  ks.on_trade_closed(7, raw(-500'000'001), units(100));
  ASSERT_EQ(ks.state(), TradingState::reducing);
  const KillTransition t = ks.last_transition();
  EXPECT_EQ(t.trigger, KillTrigger::trade_loss);
  EXPECT_EQ(t.from, TradingState::active);
  EXPECT_EQ(t.to, TradingState::reducing);
  EXPECT_EQ(t.time, 7);
  EXPECT_DOUBLE_EQ(t.value, 0.0500000001);
  EXPECT_DOUBLE_EQ(t.threshold, 0.05);
  EXPECT_FALSE(ks.pending_actions().any()) << "REDUCING raises no actions";
}

TEST(KillSwitch, ProfitableTradeNeverTrips) {
  KillSwitch ks;
  ks.on_trade_closed(1, units(50), units(100));
  EXPECT_EQ(ks.state(), TradingState::active);
}

TEST(KillSwitch, ReducingEscalatesToHaltedButNotBack) {
  KillSwitch ks(without_daily_loss());
  ks.on_equity(0, units(100));
  ks.on_trade_closed(1, units(-6), units(94));
  ASSERT_EQ(ks.state(), TradingState::reducing);
  ks.on_trade_closed(2, units(-7), units(87));  // another bad trade: stays REDUCING
  EXPECT_EQ(ks.state(), TradingState::reducing);
  EXPECT_EQ(ks.transitions().total(), 1u);
  ks.on_equity(3, units(84));  // 16 % drawdown
  ASSERT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().from, TradingState::reducing);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::drawdown);
  ks.on_trade_closed(4, units(-10), units(74));  // a REDUCING trigger cannot downgrade
  EXPECT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.transitions().total(), 2u);
}

TEST(KillSwitch, PerTriggerActionIsConfigurable) {
  KillSwitchParams p;
  p.trade_loss_action = TradingState::halted;
  p.drawdown_action = TradingState::reducing;
  p.max_daily_loss_bps = 10'000;
  KillSwitch ks(p);
  ks.on_equity(0, units(100));
  ks.on_equity(1, units(80));
  EXPECT_EQ(ks.state(), TradingState::reducing);
  ks.on_trade_closed(2, units(-10), units(70));
  EXPECT_EQ(ks.state(), TradingState::halted);
}

// Error rate: 10 % over 60 s, at least 10 sent orders.
TEST(KillSwitch, ErrorRateAtTenPercentDoesNotTrip) {
  KillSwitch ks;
  for (int i = 0; i < 20; ++i)
    ks.on_order_sent(i);
  ks.on_order_rejected(30);
  ks.on_order_rejected(31);  // 2 / 20 = 10 %
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.check(32);
  EXPECT_EQ(ks.state(), TradingState::active);
}

TEST(KillSwitch, ErrorRateAboveTenPercentHalts) {
  KillSwitch ks;
  for (int i = 0; i < 20; ++i)
    ks.on_order_sent(i);
  ks.on_order_rejected(30);
  ks.on_order_rejected(31);
  ks.on_order_rejected(32);  // 3 / 20 = 15 %
  ASSERT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::error_rate);
  EXPECT_DOUBLE_EQ(ks.last_transition().value, 0.15);
  EXPECT_DOUBLE_EQ(ks.last_transition().threshold, 0.10);
}

TEST(KillSwitch, ErrorRateNeedsMinimumSentOrders) {
  KillSwitch ks;
  for (int i = 0; i < 9; ++i) {
    ks.on_order_sent(i);
    ks.on_order_rejected(i);  // 100 % of 9
  }
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.on_order_sent(10);  // the 10th send; a send alone never trips
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.check(11);  // 9 / 10 with 10 sent
  EXPECT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::error_rate);
}

TEST(KillSwitch, ErrorWindowStillCountsAnEventFromSecondZeroAtTheLastNanosecondOfSecond59) {
  KillSwitch ks;
  for (int i = 0; i < 10; ++i)
    ks.on_order_sent(i);
  ks.on_order_rejected(100);  // 1 / 10 = 10 %
  ASSERT_EQ(ks.state(), TradingState::active);
  const auto counts = ks.error_counts(60 * kSecond - 1);
  EXPECT_EQ(counts.sent, 10);
  EXPECT_EQ(counts.rejected, 1);
  ks.on_order_rejected(60 * kSecond - 1);  // 2 / 10 within the window
  EXPECT_EQ(ks.state(), TradingState::halted);
}

TEST(KillSwitch, ErrorWindowSlidesOutAfterSixtySeconds) {
  KillSwitch ks;
  for (int i = 0; i < 10; ++i)
    ks.on_order_sent(i);
  ks.on_order_rejected(100);
  const auto counts = ks.error_counts(60 * kSecond);
  EXPECT_EQ(counts.sent, 0);
  EXPECT_EQ(counts.rejected, 0);
  ks.on_order_rejected(60 * kSecond);  // second 0 has left: 1 rejected of 0 sent
  EXPECT_EQ(ks.state(), TradingState::active);
  EXPECT_EQ(ks.error_counts(60 * kSecond).rejected, 1);
}

TEST(KillSwitch, ErrorWindowRecyclesBucketsAcrossLongGaps) {
  KillSwitch ks;
  for (int i = 0; i < 10; ++i)
    ks.on_order_sent(5 * kSecond);
  // 1000 s later (a jump of more than one window) only the fresh count remains.
  ks.on_order_sent(1005 * kSecond);
  const auto counts = ks.error_counts(1005 * kSecond);
  EXPECT_EQ(counts.sent, 1);
  EXPECT_EQ(counts.rejected, 0);
}

TEST(KillSwitch, ErrorWindowDropsOneSecondAtATime) {
  KillSwitch ks;
  for (int i = 0; i < 10; ++i)
    ks.on_order_sent(i * kSecond);  // one send in each of seconds 0 .. 9
  ks.on_order_rejected(9 * kSecond + 5);
  EXPECT_EQ(ks.error_counts(59 * kSecond).sent, 10);
  EXPECT_EQ(ks.error_counts(60 * kSecond).sent, 9);  // second 0 left
  EXPECT_EQ(ks.error_counts(68 * kSecond).sent, 1);
  EXPECT_EQ(ks.error_counts(68 * kSecond).rejected, 1);
  EXPECT_EQ(ks.error_counts(69 * kSecond).sent, 0);
  EXPECT_EQ(ks.error_counts(69 * kSecond).rejected, 0);
  ks.check(60 * kSecond);  // advances the window for real: 1 / 9 sent is below the minimum
  EXPECT_EQ(ks.error_counts(60 * kSecond).sent, 9);
  ks.on_order_rejected(60 * kSecond);  // 2 / 9: still below the minimum of 10 sent
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.on_order_sent(60 * kSecond);
  ks.check(60 * kSecond);  // 2 / 10 = 20 %
  EXPECT_EQ(ks.state(), TradingState::halted);
}

TEST(KillSwitch, LateOrderEventsInsideTheWindowCountOlderOnesDoNot) {
  KillSwitch ks;
  ks.on_order_sent(100 * kSecond);
  ks.on_order_sent(41 * kSecond);  // 59 s late: still inside (41 .. 100]
  ks.on_order_sent(40 * kSecond);  // 60 s late: outside
  EXPECT_EQ(ks.error_counts(100 * kSecond).sent, 2);
  EXPECT_EQ(ks.error_counts(101 * kSecond).sent, 1);
}

TEST(KillSwitch, StaleDataExactlySixtySecondsDoesNotTrip) {
  KillSwitch ks;
  ks.on_market_data(1'000);
  ks.check(1'000 + 60 * kSecond);
  EXPECT_EQ(ks.state(), TradingState::active);
}

TEST(KillSwitch, StaleDataSixtySecondsPlusOneNanosecondHalts) {
  KillSwitch ks;
  ks.on_market_data(1'000);
  ks.check(1'000 + 60 * kSecond + 1);
  ASSERT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::stale_data);
  EXPECT_DOUBLE_EQ(ks.last_transition().value, 60.000000001);
  EXPECT_DOUBLE_EQ(ks.last_transition().threshold, 60.0);
}

TEST(KillSwitch, MarketDataRestartsTheStalenessClock) {
  KillSwitch ks;
  ks.on_market_data(0);
  ks.on_market_data(50 * kSecond);
  ks.check(110 * kSecond);
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.check(110 * kSecond + 1);
  EXPECT_EQ(ks.state(), TradingState::halted);
}

TEST(KillSwitch, StalenessClockStartsAtFirstCheckWithoutData) {
  KillSwitch ks;
  ks.check(5 * kSecond);
  ks.check(65 * kSecond);
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.check(65 * kSecond + 1);
  EXPECT_EQ(ks.state(), TradingState::halted);
}

TEST(KillSwitch, HaltedActionsAreEmittedOncePerEntry) {
  KillSwitch ks;
  ks.on_equity(0, units(100));
  ks.on_equity(1, units(50));
  ASSERT_EQ(ks.state(), TradingState::halted);
  EXPECT_TRUE(ks.pending_actions().cancel_all);
  EXPECT_TRUE(ks.pending_actions().close_all);
  const KillActions first = ks.take_actions();
  EXPECT_TRUE(first.cancel_all);
  EXPECT_TRUE(first.close_all);
  EXPECT_FALSE(ks.take_actions().any());
  // More triggers while halted: no new actions, no new transitions.
  ks.on_equity(2, units(10));
  ks.check(1'000 * kSecond);
  ks.halt(1'000 * kSecond);
  EXPECT_FALSE(ks.take_actions().any());
  EXPECT_EQ(ks.transitions().total(), 1u);
  // After a reset a new halt raises them again, once.
  ks.reset(2'000 * kSecond, units(10));
  ks.halt(2'001 * kSecond);
  EXPECT_TRUE(ks.take_actions().close_all);
  EXPECT_FALSE(ks.take_actions().any());
}

TEST(KillSwitch, ManualHalt) {
  KillSwitch ks;
  ks.halt(42);
  EXPECT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::manual);
  EXPECT_EQ(ks.last_transition().time, 42);
  EXPECT_TRUE(ks.pending_actions().cancel_all);
}

TEST(KillSwitch, ResetReturnsToActiveAndRebasesEquity) {
  KillSwitch ks(without_daily_loss());
  ks.on_equity(0, units(100));
  ks.on_equity(1, units(80));
  ASSERT_EQ(ks.state(), TradingState::halted);
  ks.reset(10, units(80));
  EXPECT_EQ(ks.state(), TradingState::active);
  EXPECT_EQ(ks.peak_equity(), units(80));
  EXPECT_EQ(ks.day_start_equity(), units(80));
  EXPECT_FALSE(ks.pending_actions().any()) << "reset clears untaken actions";
  const KillTransition t = ks.last_transition();
  EXPECT_EQ(t.from, TradingState::halted);
  EXPECT_EQ(t.to, TradingState::active);
  EXPECT_EQ(t.trigger, KillTrigger::manual);
  EXPECT_EQ(t.time, 10);
  // 80 would be a 20 % drawdown from the old peak; from the re-based peak it is nothing.
  ks.on_equity(11, units(80));
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.on_equity(12, units(68));  // exactly 15 % of 80
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.on_equity(13, raw(6'799'999'999));
  EXPECT_EQ(ks.state(), TradingState::halted);
}

TEST(KillSwitch, ResetClearsTheErrorWindowAndRestartsStaleness) {
  KillSwitch ks;
  for (int i = 0; i < 10; ++i)
    ks.on_order_sent(i);
  ks.on_order_rejected(10);
  ks.on_order_rejected(11);
  ASSERT_EQ(ks.state(), TradingState::halted);
  ks.reset(100, units(1));
  EXPECT_EQ(ks.error_counts(100).sent, 0);
  ks.check(100 + 60 * kSecond);
  EXPECT_EQ(ks.state(), TradingState::active);
  ks.check(100 + 60 * kSecond + 1);
  EXPECT_EQ(ks.state(), TradingState::halted);
  EXPECT_EQ(ks.last_transition().trigger, KillTrigger::stale_data);
}

TEST(KillSwitch, TransitionRingKeepsTheLastSixteen) {
  KillSwitch ks;
  for (int i = 0; i < 10; ++i) {  // 20 transitions: halt (odd) and reset (even)
    ks.halt(2 * i);
    ks.reset(2 * i + 1, units(1));
  }
  const auto log = ks.transitions();
  EXPECT_EQ(log.total(), 20u);
  ASSERT_EQ(log.size(), KillSwitch::kHistory);
  // Transitions 0..3 were overwritten; the oldest kept is the 5th: halt at time 4.
  EXPECT_EQ(log[0].time, 4);
  EXPECT_EQ(log[0].to, TradingState::halted);
  EXPECT_EQ(log[15].time, 19);
  EXPECT_EQ(log[15].to, TradingState::active);
  EXPECT_EQ(ks.last_transition().time, 19);
  for (std::size_t i = 1; i < log.size(); ++i)
    EXPECT_EQ(log[i].time, log[i - 1].time + 1);
}

TEST(KillSwitch, NoAllocationOverLongRandomSequences) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> kind(0, 7);
  std::uniform_int_distribution<std::int64_t> step(0, 3 * kSecond);
  std::uniform_int_distribution<std::int64_t> equity(50'00000000, 150'00000000);
  std::uniform_int_distribution<std::int64_t> pnl(-10'00000000, 10'00000000);
  KillSwitch ks;
  TimestampNs now = 0;
  std::uint64_t halts = 0;
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (int i = 0; i < 200'000; ++i) {
      now += step(rng);
      switch (kind(rng)) {
        case 0:
          ks.on_equity(now, raw(equity(rng)));
          break;
        case 1:
          ks.on_trade_closed(now, raw(pnl(rng)), raw(equity(rng)));
          break;
        case 2:
        case 3:
          ks.on_order_sent(now);
          break;
        case 4:
          ks.on_order_rejected(now);
          break;
        case 5:
          ks.on_market_data(now);
          break;
        case 6:
          ks.check(now);
          break;
        default:
          if (ks.take_actions().any())
            ++halts;
          if (ks.state() != TradingState::active)
            ks.reset(now, raw(equity(rng)));
      }
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(halts, 0u);  // the sequence exercised the halting paths
}

}  // namespace
}  // namespace kinetic::risk
