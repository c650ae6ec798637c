#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "alloc_counter.hpp"
#include "kinetic/core/risk/pre_trade.hpp"

namespace kinetic::risk {
namespace {

constexpr TimestampNs kMs = 1'000'000;
constexpr TimestampNs kSecond = 1'000 * kMs;

Price px(std::int64_t units) {
  return Price::from_units(units);
}

OrderIntent limit_order(Price price, Qty qty, Side side = Side::buy, SymbolId symbol = 1) {
  OrderIntent o{};
  o.price = price;
  o.qty = qty;
  o.side = side;
  o.symbol = symbol;
  o.type = OrderType::limit;
  o.tif = TimeInForce::gtc;
  return o;
}

OrderIntent market_order(Qty qty, Side side = Side::buy) {
  OrderIntent o = limit_order(Price::from_raw(0), qty, side);
  o.type = OrderType::market;
  o.tif = TimeInForce::ioc;
  return o;
}

const Qty kOne = Qty::from_units(1);

TEST(PreTrade, DefaultsAreValid) {
  EXPECT_TRUE(PreTradeParams{}.valid());
  PreTradeParams p;
  p.max_orders_per_second = PreTradeParams::kMaxRecentOrders + 1;
  EXPECT_FALSE(p.valid());
  p = {};
  p.duplicate_window_ns = kSecond + 1;
  EXPECT_FALSE(p.valid());
  p = {};
  p.max_order_notional = Amount::from_raw(0);
  EXPECT_FALSE(p.valid());
}

TEST(PreTrade, AcceptsAPlainOrder) {
  const PreTradeChecks checks;
  EXPECT_EQ(checks.check(limit_order(px(100), kOne), 0, px(100), TradingState::active),
            RejectReason::none);
}

TEST(PreTrade, HaltedRefusesEverything) {
  const PreTradeChecks checks;
  OrderIntent o = limit_order(px(100), kOne);
  o.reduce_only = true;
  EXPECT_EQ(checks.check(o, 0, px(100), TradingState::halted), RejectReason::halted);
}

TEST(PreTrade, ReducingAllowsOnlyReduceOnly) {
  const PreTradeChecks checks;
  OrderIntent o = limit_order(px(100), kOne);
  EXPECT_EQ(checks.check(o, 0, px(100), TradingState::reducing),
            RejectReason::reduce_only_required);
  o.reduce_only = true;
  EXPECT_EQ(checks.check(o, 0, px(100), TradingState::reducing), RejectReason::none);
}

TEST(PreTrade, InvalidInput) {
  const PreTradeChecks checks;
  EXPECT_EQ(checks.check(limit_order(px(100), Qty::from_raw(0)), 0, px(100), TradingState::active),
            RejectReason::invalid_input);
  EXPECT_EQ(checks.check(limit_order(px(0), kOne), 0, px(100), TradingState::active),
            RejectReason::invalid_input);
  EXPECT_EQ(checks.check(limit_order(px(100), kOne, Side::none), 0, px(100), TradingState::active),
            RejectReason::invalid_input);
}

TEST(PreTrade, PriceBandAtFivePercentAbove) {
  const PreTradeChecks checks;
  EXPECT_EQ(checks.check(limit_order(px(105), kOne), 0, px(100), TradingState::active),
            RejectReason::none);
  EXPECT_EQ(checks.check(limit_order(Price::from_raw(10'500'000'001), kOne), 0, px(100),
                         TradingState::active),
            RejectReason::price_band);
}

TEST(PreTrade, PriceBandAtFivePercentBelow) {
  const PreTradeChecks checks;
  EXPECT_EQ(checks.check(limit_order(px(95), kOne, Side::sell), 0, px(100), TradingState::active),
            RejectReason::none);
  EXPECT_EQ(checks.check(limit_order(Price::from_raw(9'499'999'999), kOne, Side::sell), 0, px(100),
                         TradingState::active),
            RejectReason::price_band);
}

TEST(PreTrade, MarketOrdersPassTheBandButNeedALastPrice) {
  const PreTradeChecks checks;
  EXPECT_EQ(checks.check(market_order(kOne), 0, px(100), TradingState::active), RejectReason::none);
  EXPECT_EQ(checks.check(market_order(kOne), 0, Price::from_raw(0), TradingState::active),
            RejectReason::price_band);
  EXPECT_EQ(checks.check(limit_order(px(100), kOne), 0, Price::from_raw(0), TradingState::active),
            RejectReason::price_band);
}

TEST(PreTrade, NotionalLimitAtTheBoundary) {
  const PreTradeChecks checks;  // max 100 000
  EXPECT_EQ(
      checks.check(limit_order(px(100), Qty::from_units(1'000)), 0, px(100), TradingState::active),
      RejectReason::none);
  EXPECT_EQ(checks.check(limit_order(px(100), Qty::from_raw(100'000'000'001)), 0, px(100),
                         TradingState::active),
            RejectReason::order_notional_limit);
}

TEST(PreTrade, MarketNotionalUsesTheLastPrice) {
  const PreTradeChecks checks;
  EXPECT_EQ(checks.check(market_order(Qty::from_units(1'000)), 0, px(100), TradingState::active),
            RejectReason::none);
  EXPECT_EQ(checks.check(market_order(Qty::from_units(1'000)), 0, Price::from_raw(10'000'000'001),
                         TradingState::active),
            RejectReason::order_notional_limit);
}

TEST(PreTrade, NotionalDoesNotOverflowOnHugeOrders) {
  const PreTradeChecks checks;
  EXPECT_EQ(
      checks.check(limit_order(Price::from_units(90'000'000'000), Qty::from_units(90'000'000'000)),
                   0, Price::from_units(90'000'000'000), TradingState::active),
      RejectReason::order_notional_limit);
}

TEST(PreTrade, RateLimitOverTheLastSecond) {
  PreTradeChecks checks;  // 10 per second
  for (int i = 0; i < 10; ++i)
    checks.record_sent(limit_order(px(90 + i), kOne), i);  // t = 0 .. 9 ns
  const OrderIntent next = limit_order(px(100), kOne);
  // The 10th most recent order (t = 0) is still inside (now − 1 s, now].
  EXPECT_EQ(checks.check(next, kSecond - 1, px(100), TradingState::active),
            RejectReason::order_rate_limit);
  EXPECT_EQ(checks.check(next, kSecond, px(100), TradingState::active), RejectReason::none);
}

TEST(PreTrade, NineOrdersInTheLastSecondLeaveRoomForATenth) {
  PreTradeChecks checks;
  for (int i = 0; i < 9; ++i)
    checks.record_sent(limit_order(px(90 + i), kOne), i);
  EXPECT_EQ(checks.check(limit_order(px(100), kOne), 10, px(100), TradingState::active),
            RejectReason::none);
}

TEST(PreTrade, RateLimitAfterTheRingWraps) {
  PreTradeChecks checks;
  TimestampNs t = 0;
  for (int i = 0; i < 100; ++i, t += 200 * kMs)  // 5 per second: never limited
    checks.record_sent(limit_order(px(100), Qty::from_units(i + 1)), t);
  EXPECT_EQ(checks.sent_count(), 100u);
  EXPECT_EQ(checks.check(limit_order(px(100), kOne), t, px(100), TradingState::active),
            RejectReason::none);
  for (int i = 0; i < 10; ++i)  // 10 more within 10 ns
    checks.record_sent(limit_order(px(99), Qty::from_units(1'000 + i)), t + i);
  EXPECT_EQ(checks.check(limit_order(px(100), kOne), t + 10, px(100), TradingState::active),
            RejectReason::order_rate_limit);
  EXPECT_EQ(checks.check(limit_order(px(100), kOne), t + kSecond, px(100), TradingState::active),
            RejectReason::none);
}

TEST(PreTrade, DuplicateWithinTheWindow) {
  PreTradeChecks checks;  // 500 ms
  const OrderIntent o = limit_order(px(100), kOne);
  checks.record_sent(o, 0);
  EXPECT_EQ(checks.check(o, 500 * kMs - 1, px(100), TradingState::active),
            RejectReason::duplicate_order);
  EXPECT_EQ(checks.check(o, 500 * kMs, px(100), TradingState::active), RejectReason::none);
}

TEST(PreTrade, DuplicateNeedsEveryFieldEqual) {
  PreTradeChecks checks;
  const OrderIntent o = limit_order(px(100), kOne);
  checks.record_sent(o, 0);
  const TimestampNs now = 1;
  EXPECT_EQ(checks.check(limit_order(px(101), kOne), now, px(100), TradingState::active),
            RejectReason::none);
  EXPECT_EQ(
      checks.check(limit_order(px(100), Qty::from_units(2)), now, px(100), TradingState::active),
      RejectReason::none);
  EXPECT_EQ(
      checks.check(limit_order(px(100), kOne, Side::sell), now, px(100), TradingState::active),
      RejectReason::none);
  EXPECT_EQ(
      checks.check(limit_order(px(100), kOne, Side::buy, 2), now, px(100), TradingState::active),
      RejectReason::none);
  OrderIntent market = o;
  market.type = OrderType::market;
  EXPECT_EQ(checks.check(market, now, px(100), TradingState::active), RejectReason::none);
  OrderIntent other_id = o;  // a new client id does not make it a different order
  other_id.client_order_id = 99;
  EXPECT_EQ(checks.check(other_id, now, px(100), TradingState::active),
            RejectReason::duplicate_order);
}

TEST(PreTrade, DuplicateOlderThanOtherRecentOrders) {
  PreTradeChecks checks;
  const OrderIntent o = limit_order(px(100), kOne);
  checks.record_sent(o, 0);
  for (int i = 0; i < 5; ++i)
    checks.record_sent(limit_order(px(101), Qty::from_units(i + 2)), 10 * kMs + i);
  EXPECT_EQ(checks.check(o, 400 * kMs, px(100), TradingState::active),
            RejectReason::duplicate_order);
}

TEST(PreTrade, DuplicateGuardOff) {
  PreTradeParams p;
  p.duplicate_window_ns = 0;
  PreTradeChecks checks(p);
  const OrderIntent o = limit_order(px(100), kOne);
  checks.record_sent(o, 0);
  EXPECT_EQ(checks.check(o, 0, px(100), TradingState::active), RejectReason::none);
}

TEST(PreTrade, RulesApplyInTheDocumentedOrder) {
  PreTradeChecks checks;
  const OrderIntent o = limit_order(px(200), Qty::from_units(10'000));  // band and notional
  checks.record_sent(o, 0);
  EXPECT_EQ(checks.check(o, 1, px(100), TradingState::reducing),
            RejectReason::reduce_only_required);
  EXPECT_EQ(checks.check(o, 1, px(100), TradingState::active), RejectReason::price_band);
  EXPECT_EQ(checks.check(o, 1, px(200), TradingState::active), RejectReason::order_notional_limit);
}

TEST(PreTrade, NoAllocationOverLongRandomSequences) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::int64_t> price(95, 106);
  std::uniform_int_distribution<std::int64_t> qty(1, 3);
  std::uniform_int_distribution<std::int64_t> gap(0, 300 * kMs);
  std::uniform_int_distribution<int> state(0, 9);
  PreTradeChecks checks;
  TimestampNs now = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (int i = 0; i < 200'000; ++i) {
      now += gap(rng);
      const OrderIntent o = limit_order(px(price(rng)), Qty::from_units(qty(rng)));
      const int s = state(rng);
      const TradingState ts =
          s == 0 ? TradingState::halted : (s == 1 ? TradingState::reducing : TradingState::active);
      if (checks.check(o, now, px(100), ts) == RejectReason::none) {
        checks.record_sent(o, now);
        ++accepted;
      } else {
        ++rejected;
      }
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace kinetic::risk
