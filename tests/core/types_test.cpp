#include "kinetic/core/types.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace kinetic {
namespace {

TEST(HotPathTypes, DefaultConstructedEventsAreZero) {
  const MarketEvent event{};
  EXPECT_EQ(event.recv_ts, 0);
  EXPECT_EQ(event.trade.price.raw(), 0);
  EXPECT_EQ(event.trade.qty.raw(), 0);
  const OrderIntent intent{};
  EXPECT_EQ(intent.qty.raw(), 0);
  EXPECT_FALSE(intent.reduce_only);
}

TEST(HotPathTypes, CopyingByBytesPreservesEveryField) {
  MarketEvent event{};
  event.recv_ts = 123456789;
  event.exch_ts = 1786310819680LL * 1'000'000;
  event.symbol = 42;
  event.type = MarketEventType::ticker;
  event.side = Side::none;
  event.flags = kFlagEndOfBatch;
  event.ticker =
      TickerData{Price::from_raw(6511420000000), Price::from_raw(6511410000000),
                 Qty::from_raw(120400000), Price::from_raw(6511430000000), Qty::from_raw(70000000)};
  unsigned char bytes[sizeof(MarketEvent)];
  std::memcpy(bytes, &event, sizeof event);
  MarketEvent copy;
  std::memcpy(&copy, bytes, sizeof copy);
  EXPECT_EQ(copy.recv_ts, event.recv_ts);
  EXPECT_EQ(copy.exch_ts, event.exch_ts);
  EXPECT_EQ(copy.symbol, 42);
  EXPECT_EQ(copy.type, MarketEventType::ticker);
  EXPECT_EQ(copy.flags, kFlagEndOfBatch);
  EXPECT_EQ(copy.ticker.ask, event.ticker.ask);
  EXPECT_EQ(copy.ticker.ask_qty, event.ticker.ask_qty);
}

TEST(HotPathTypes, SideHelpers) {
  EXPECT_EQ(sign(Side::buy), 1);
  EXPECT_EQ(sign(Side::sell), -1);
  EXPECT_EQ(sign(Side::none), 0);
  EXPECT_EQ(opposite(Side::buy), Side::sell);
  EXPECT_EQ(opposite(Side::sell), Side::buy);
  EXPECT_EQ(opposite(Side::none), Side::none);
}

TEST(HotPathTypes, PayloadsOverlayTheSameBytes) {
  // The layout documented in types.hpp: the payload starts at byte 24 for every kind.
  EXPECT_EQ(offsetof(MarketEvent, level), 24u);
  EXPECT_EQ(offsetof(MarketEvent, ticker), 24u);
  EXPECT_EQ(offsetof(OrderIntent, client_order_id), 8u);
  EXPECT_EQ(offsetof(OrderIntent, reduce_only), 53u);
  EXPECT_EQ(offsetof(Fill, fee), 40u);
  EXPECT_EQ(offsetof(Fill, is_maker), 59u);
  EXPECT_EQ(alignof(MarketEvent), 64u);  // a ring slot never straddles two cache lines
}

}  // namespace
}  // namespace kinetic
