#include "kinetic/feed/synthetic_market.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "alloc_counter.hpp"

namespace kinetic::feed {
namespace {

std::vector<MarketEvent> generate(std::uint64_t seed, int n) {
  SyntheticMarketParams params;
  params.seed = seed;
  SyntheticMarket market(params);
  std::vector<MarketEvent> events;
  events.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    events.push_back(market.next());
  return events;
}

TEST(SyntheticMarket, SameSeedGivesTheSameMarket) {
  const auto a = generate(7, 5000);
  const auto b = generate(7, 5000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].trade.price, b[i].trade.price) << i;
    ASSERT_EQ(a[i].trade.qty, b[i].trade.qty) << i;
    ASSERT_EQ(a[i].exch_ts, b[i].exch_ts) << i;
    ASSERT_EQ(a[i].side, b[i].side) << i;
  }
}

TEST(SyntheticMarket, DifferentSeedsGiveDifferentMarkets) {
  const auto a = generate(1, 1000);
  const auto b = generate(2, 1000);
  int same = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    same += a[i].trade.price == b[i].trade.price ? 1 : 0;
  EXPECT_LT(same, 900);
}

TEST(SyntheticMarket, TradesAreWellFormed) {
  const SyntheticMarketParams params;
  const auto events = generate(params.seed, 50'000);
  TimestampNs previous_ts = 0;
  std::uint64_t previous_id = 0;
  for (const MarketEvent& e : events) {
    ASSERT_EQ(e.type, MarketEventType::trade);
    ASSERT_GT(e.trade.price, Price{});
    ASSERT_TRUE(e.trade.price.is_multiple_of(params.tick_size)) << e.trade.price.raw();
    ASSERT_GT(e.trade.qty, Qty{});
    ASSERT_TRUE(e.trade.qty.is_multiple_of(params.qty_step)) << e.trade.qty.raw();
    ASSERT_GT(e.exch_ts, previous_ts);
    ASSERT_GT(e.trade.trade_id, previous_id);
    ASSERT_TRUE(e.side == Side::buy || e.side == Side::sell);
    previous_ts = e.exch_ts;
    previous_id = e.trade.trade_id;
  }
}

TEST(SyntheticMarket, VisitsEveryRegimeAndStaysNearItsStart) {
  SyntheticMarketParams params;
  SyntheticMarket market(params);
  double lowest = params.initial_price;
  double highest = params.initial_price;
  for (int i = 0; i < 200'000; ++i) {
    const double p = market.next().trade.price.to_double();
    lowest = std::min(lowest, p);
    highest = std::max(highest, p);
  }
  for (std::uint64_t n : market.trades_per_regime())
    EXPECT_GT(n, 1000u);
  // About 67 simulated minutes: the price moves, but not absurdly.
  EXPECT_GT(highest - lowest, 10.0);
  EXPECT_GT(lowest, params.initial_price * 0.5);
  EXPECT_LT(highest, params.initial_price * 2.0);
}

TEST(SyntheticMarket, NextAllocatesNothing) {
  SyntheticMarket market(SyntheticMarketParams{});
  std::int64_t checksum = 0;
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int i = 0; i < 10'000; ++i)
      checksum += market.next().trade.price.raw();
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_NE(checksum, 0);
}

}  // namespace
}  // namespace kinetic::feed
