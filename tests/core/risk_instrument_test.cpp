// Exact rounding and order checks against an instrument's rules (risk/instrument.hpp).
// Expected values are computed by hand from Bybit's published BTCUSDT / DOGEUSDT /
// SHIB1000USDT linear rules (as in the recorded instruments-info response).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string_view>

#include "alloc_counter.hpp"
#include "kinetic/core/int128.hpp"
#include "kinetic/core/risk/instrument.hpp"

namespace {

using kinetic::Amount;
using kinetic::int128;
using kinetic::OrderType;
using kinetic::Price;
using kinetic::Qty;
using kinetic::Side;
using kinetic::risk::check_order;
using kinetic::risk::InstrumentRules;
using kinetic::risk::is_allowed_leverage;
using kinetic::risk::min_qty_for_notional;
using kinetic::risk::RejectReason;
using kinetic::risk::round_leverage_up;
using kinetic::risk::round_limit_price;
using kinetic::risk::round_price_nearest;
using kinetic::risk::round_qty_down;
using kinetic::risk::valid;

Price px(std::string_view text) {
  return Price::parse(text).value();
}
Qty qty(std::string_view text) {
  return Qty::parse(text).value();
}
Amount amount(std::string_view text) {
  return Amount::parse(text).value();
}

void set_symbol(InstrumentRules& rules, std::string_view symbol) {
  std::memset(rules.symbol, 0, sizeof(rules.symbol));
  std::memcpy(rules.symbol, symbol.data(), symbol.size());
}

/// BTCUSDT linear, as in the capture's instruments-info response.
InstrumentRules btc_rules() {
  InstrumentRules rules{};
  set_symbol(rules, "BTCUSDT");
  rules.tick_size = px("0.10");
  rules.min_price = px("0.10");
  rules.max_price = px("1999999.80");
  rules.qty_step = qty("0.001");
  rules.min_order_qty = qty("0.001");
  rules.max_order_qty = qty("1500.000");
  rules.max_market_order_qty = qty("150.000");
  rules.min_notional = amount("5");
  rules.min_leverage = amount("1");
  rules.max_leverage = amount("100.00");
  rules.leverage_step = amount("0.01");
  return rules;
}

/// DOGEUSDT linear: whole-coin steps, so the minimum notional dominates the minimum qty.
InstrumentRules doge_rules() {
  InstrumentRules rules{};
  set_symbol(rules, "DOGEUSDT");
  rules.tick_size = px("0.00001");
  rules.min_price = px("0.00001");
  rules.max_price = px("199.99998");
  rules.qty_step = qty("1");
  rules.min_order_qty = qty("1");
  rules.max_order_qty = qty("43678900");
  rules.max_market_order_qty = qty("5991100");
  rules.min_notional = amount("5");
  rules.min_leverage = amount("1");
  rules.max_leverage = amount("75.00");
  rules.leverage_step = amount("0.01");
  return rules;
}

constexpr Qty raw_qty(std::int64_t raw) {
  return Qty::from_raw(raw);
}
constexpr Price raw_price(std::int64_t raw) {
  return Price::from_raw(raw);
}

// ---- rounding ------------------------------------------------------------------------------

TEST(RoundQtyDown, ExactlyOnStepIsUnchanged) {
  const auto rules = btc_rules();
  EXPECT_EQ(round_qty_down(rules, qty("0.005")), qty("0.005"));
  EXPECT_EQ(round_qty_down(rules, qty("1500")), qty("1500"));
}

TEST(RoundQtyDown, OneRawUnitEitherSideOfAStep) {
  const auto rules = btc_rules();
  const Qty on_step = qty("0.005");  // 500000 raw
  EXPECT_EQ(round_qty_down(rules, raw_qty(on_step.raw() + 1)), qty("0.005"));
  EXPECT_EQ(round_qty_down(rules, raw_qty(on_step.raw() - 1)), qty("0.004"));
  EXPECT_EQ(round_qty_down(rules, qty("0.00599999")), qty("0.005"));
}

TEST(RoundQtyDown, ZeroAndBelowOneStepGiveZero) {
  const auto rules = btc_rules();
  EXPECT_EQ(round_qty_down(rules, Qty{}), Qty{});
  EXPECT_EQ(round_qty_down(rules, qty("0.00099999")), Qty{});
}

TEST(RoundQtyDown, NegativeRoundsTowardZero) {
  const auto rules = btc_rules();
  EXPECT_EQ(round_qty_down(rules, qty("-0.0015")), qty("-0.001"));
  EXPECT_EQ(round_qty_down(rules, raw_qty(qty("-0.001").raw() - 1)), qty("-0.001"));
  EXPECT_EQ(round_qty_down(rules, qty("-0.002")), qty("-0.002"));
  EXPECT_EQ(round_qty_down(rules, qty("-0.0009")), Qty{});
}

TEST(RoundLimitPrice, BuyRoundsDownSellRoundsUp) {
  const auto rules = btc_rules();
  EXPECT_EQ(round_limit_price(rules, Side::buy, px("65000.15")), px("65000.1"));
  EXPECT_EQ(round_limit_price(rules, Side::sell, px("65000.15")), px("65000.2"));
}

TEST(RoundLimitPrice, OnTickUnchangedAndOneRawUnitEitherSide) {
  const auto rules = btc_rules();
  const Price on_tick = px("65000.1");
  EXPECT_EQ(round_limit_price(rules, Side::buy, on_tick), on_tick);
  EXPECT_EQ(round_limit_price(rules, Side::sell, on_tick), on_tick);
  const Price above = raw_price(on_tick.raw() + 1);
  EXPECT_EQ(round_limit_price(rules, Side::buy, above), px("65000.1"));
  EXPECT_EQ(round_limit_price(rules, Side::sell, above), px("65000.2"));
  const Price below = raw_price(on_tick.raw() - 1);
  EXPECT_EQ(round_limit_price(rules, Side::buy, below), px("65000.0"));
  EXPECT_EQ(round_limit_price(rules, Side::sell, below), px("65000.1"));
}

TEST(RoundLimitPrice, SideNoneAndRoundPriceNearestTieAwayFromZero) {
  const auto rules = btc_rules();
  EXPECT_EQ(round_limit_price(rules, Side::none, px("65000.15")), px("65000.2"));
  EXPECT_EQ(round_limit_price(rules, Side::none, px("65000.14999999")), px("65000.1"));
  EXPECT_EQ(round_price_nearest(rules, px("65000.05")), px("65000.1"));
  EXPECT_EQ(round_price_nearest(rules, px("65000.04999999")), px("65000.0"));
}

// ---- check_order ---------------------------------------------------------------------------

TEST(CheckOrder, AcceptsAnOrdinaryOrder) {
  const auto rules = btc_rules();
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("65000.1"), qty("0.010")),
            RejectReason::none);
  EXPECT_EQ(check_order(rules, Side::sell, OrderType::market, px("65000.15"), qty("0.010")),
            RejectReason::none);  // a market order's reference price need not be on the tick
}

TEST(CheckOrder, InvalidInputs) {
  const auto rules = btc_rules();
  const Price price = px("65000.1");
  EXPECT_EQ(check_order(rules, Side::none, OrderType::limit, price, qty("0.01")),
            RejectReason::invalid_input);
  EXPECT_EQ(check_order(rules, Side::buy, static_cast<OrderType>(7), price, qty("0.01")),
            RejectReason::invalid_input);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, price, Qty{}),
            RejectReason::invalid_input);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, price, qty("-0.01")),
            RejectReason::invalid_input);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::market, Price{}, qty("0.01")),
            RejectReason::invalid_input);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::market, px("-1"), qty("0.01")),
            RejectReason::invalid_input);
  // Not a step multiple: one raw unit above a step, and half a step.
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, price, raw_qty(qty("0.01").raw() + 1)),
            RejectReason::invalid_input);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, price, qty("0.0105")),
            RejectReason::invalid_input);
  // A limit price off the tick.
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("65000.15"), qty("0.01")),
            RejectReason::invalid_input);
}

TEST(CheckOrder, MinimumQuantityBoundary) {
  auto rules = btc_rules();
  rules.min_order_qty = qty("0.005");
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("65000"), qty("0.005")),
            RejectReason::none);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("65000"), qty("0.004")),
            RejectReason::qty_below_min);
}

TEST(CheckOrder, MaximumQuantityBoundary) {
  const auto rules = btc_rules();
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("65000"), qty("1500")),
            RejectReason::none);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("65000"), qty("1500.001")),
            RejectReason::qty_above_max);
  EXPECT_EQ(check_order(rules, Side::sell, OrderType::market, px("65000"), qty("1500.001")),
            RejectReason::qty_above_max);
}

TEST(CheckOrder, MarketMaximumBoundary) {
  auto rules = btc_rules();
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::market, px("65000"), qty("150")),
            RejectReason::none);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::market, px("65000"), qty("150.001")),
            RejectReason::qty_above_max_market);
  // The market maximum does not bind limit orders.
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("65000"), qty("150.001")),
            RejectReason::none);
  // Unset (0): market orders are bound by max_order_qty only.
  rules.max_market_order_qty = Qty{};
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::market, px("65000"), qty("1500")),
            RejectReason::none);
}

TEST(CheckOrder, MinimumNotionalBoundary) {
  const auto rules = btc_rules();
  // 5000.0 × 0.001 = 5 exactly.
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("5000.0"), qty("0.001")),
            RejectReason::none);
  // 4999.9 × 0.001 = 4.9999.
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("4999.9"), qty("0.001")),
            RejectReason::notional_below_min);
  // 4999.99999999 × 0.001 = 4.99999999999, cut to 4.99999999: still below.
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::market, px("4999.99999999"), qty("0.001")),
            RejectReason::notional_below_min);
}

TEST(CheckOrder, LimitPriceBand) {
  auto rules = btc_rules();
  rules.min_price = px("1.0");
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("1.0"), qty("10")),
            RejectReason::none);
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::limit, px("0.9"), qty("10")),
            RejectReason::price_out_of_range);
  EXPECT_EQ(check_order(rules, Side::sell, OrderType::limit, px("1999999.8"), qty("0.001")),
            RejectReason::none);
  EXPECT_EQ(check_order(rules, Side::sell, OrderType::limit, px("1999999.9"), qty("0.001")),
            RejectReason::price_out_of_range);
  // The band applies to limit prices only, not to a market order's reference price.
  EXPECT_EQ(check_order(rules, Side::sell, OrderType::market, px("1999999.9"), qty("0.001")),
            RejectReason::none);
  // No band when unset.
  rules.min_price = Price{};
  rules.max_price = Price{};
  EXPECT_EQ(check_order(rules, Side::sell, OrderType::limit, px("2999999.9"), qty("0.001")),
            RejectReason::none);
}

// ---- min_qty_for_notional ------------------------------------------------------------------

TEST(MinQtyForNotional, BtcMinimumQuantityDominates) {
  const auto rules = btc_rules();
  // 5 / 65000 = 0.0000769..., below minOrderQty 0.001.
  const auto minimum = min_qty_for_notional(rules, px("65000"));
  ASSERT_TRUE(minimum.ok());
  EXPECT_EQ(minimum.value(), qty("0.001"));
  EXPECT_EQ(check_order(rules, Side::buy, OrderType::market, px("65000"), minimum.value()),
            RejectReason::none);
}

TEST(MinQtyForNotional, BtcAtLowPriceNotionalDominates) {
  const auto rules = btc_rules();
  // 5 / 3000 = 0.001666... → 0.002 (0.001 would be 3 < 5).
  EXPECT_EQ(min_qty_for_notional(rules, px("3000")).value(), qty("0.002"));
  // 5 / 5000 = 0.001 exactly: no rounding up past an exact multiple.
  EXPECT_EQ(min_qty_for_notional(rules, px("5000")).value(), qty("0.001"));
  // 5 / 4999.9 = 0.00100002 → 0.002.
  EXPECT_EQ(min_qty_for_notional(rules, px("4999.9")).value(), qty("0.002"));
}

TEST(MinQtyForNotional, CheapCoinNotionalDominates) {
  const auto doge = doge_rules();
  // 5 / 0.12345 = 40.50... → 41; 41 × 0.12345 = 5.06145 and 40 × 0.12345 = 4.938.
  const Price price = px("0.12345");
  EXPECT_EQ(min_qty_for_notional(doge, price).value(), qty("41"));
  EXPECT_EQ(check_order(doge, Side::buy, OrderType::limit, price, qty("41")), RejectReason::none);
  EXPECT_EQ(check_order(doge, Side::buy, OrderType::limit, price, qty("40")),
            RejectReason::notional_below_min);
  // 5 / 0.125 = 40 exactly.
  EXPECT_EQ(min_qty_for_notional(doge, px("0.125")).value(), qty("40"));

  // SHIB1000USDT: step and minimum 10. 5 / 0.012345 = 405.02 → 410.
  auto shib = doge;
  set_symbol(shib, "SHIB1000USDT");
  shib.tick_size = px("0.000001");
  shib.qty_step = qty("10");
  shib.min_order_qty = qty("10");
  EXPECT_EQ(min_qty_for_notional(shib, px("0.012345")).value(), qty("410"));
  EXPECT_EQ(check_order(shib, Side::buy, OrderType::limit, px("0.012345"), qty("400")),
            RejectReason::notional_below_min);
}

TEST(MinQtyForNotional, NoMinimumNotionalGivesMinimumQuantity) {
  auto rules = btc_rules();
  rules.min_notional = Amount{};
  EXPECT_EQ(min_qty_for_notional(rules, px("0.1")).value(), qty("0.001"));
  rules.min_order_qty = Qty{};  // then one step
  EXPECT_EQ(min_qty_for_notional(rules, px("0.1")).value(), qty("0.001"));
}

TEST(MinQtyForNotional, RefusesBadInput) {
  auto rules = btc_rules();
  EXPECT_EQ(min_qty_for_notional(rules, Price{}).error(), RejectReason::invalid_input);
  EXPECT_EQ(min_qty_for_notional(rules, px("-1")).error(), RejectReason::invalid_input);
  // 5 at a price of 1e-8 needs 5e8 BTC: 5e16 raw still fits; 5e9 notional would not.
  rules.min_notional = amount("50000000000");
  EXPECT_EQ(min_qty_for_notional(rules, raw_price(1)).error(), RejectReason::invalid_input);
  rules.qty_step = Qty{};
  EXPECT_EQ(min_qty_for_notional(rules, px("65000")).error(), RejectReason::invalid_input);
}

// ---- leverage ------------------------------------------------------------------------------

TEST(RoundLeverageUp, RoundsUpToTheGridWithinBounds) {
  const auto rules = btc_rules();
  EXPECT_EQ(round_leverage_up(rules, amount("10")).value(), amount("10"));
  EXPECT_EQ(round_leverage_up(rules, amount("10.01")).value(), amount("10.01"));
  EXPECT_EQ(round_leverage_up(rules, amount("10.001")).value(), amount("10.01"));
  EXPECT_EQ(round_leverage_up(rules, Amount::from_raw(amount("10.01").raw() + 1)).value(),
            amount("10.02"));
  EXPECT_EQ(round_leverage_up(rules, amount("0.5")).value(), amount("1"));
  EXPECT_EQ(round_leverage_up(rules, amount("100")).value(), amount("100"));
  EXPECT_EQ(round_leverage_up(rules, amount("100.001")).error(), RejectReason::insufficient_margin);
  EXPECT_EQ(round_leverage_up(rules, Amount{}).error(), RejectReason::invalid_input);
  EXPECT_EQ(round_leverage_up(rules, amount("-2")).error(), RejectReason::invalid_input);
}

TEST(RoundLeverageUp, GridIsAnchoredAtTheMinimum) {
  auto rules = btc_rules();
  rules.min_leverage = amount("1.5");
  rules.leverage_step = amount("1");
  rules.max_leverage = amount("10.5");
  EXPECT_EQ(round_leverage_up(rules, amount("2")).value(), amount("2.5"));
  EXPECT_EQ(round_leverage_up(rules, amount("2.5")).value(), amount("2.5"));
  EXPECT_EQ(round_leverage_up(rules, amount("10.5")).value(), amount("10.5"));
  EXPECT_EQ(round_leverage_up(rules, amount("10.50000001")).error(),
            RejectReason::insufficient_margin);
  EXPECT_TRUE(is_allowed_leverage(rules, amount("3.5")));
  EXPECT_FALSE(is_allowed_leverage(rules, amount("3")));
  EXPECT_FALSE(is_allowed_leverage(rules, amount("0.5")));
  EXPECT_FALSE(is_allowed_leverage(rules, amount("11.5")));
  // A maximum off the grid is itself allowed, and requests between the last grid point
  // and it round to it.
  rules.max_leverage = amount("10.8");
  EXPECT_EQ(round_leverage_up(rules, amount("10.6")).value(), amount("10.8"));
  EXPECT_TRUE(is_allowed_leverage(rules, amount("10.8")));
  EXPECT_FALSE(is_allowed_leverage(rules, amount("10.6")));
}

// ---- valid ---------------------------------------------------------------------------------

TEST(ValidRules, PublishedRulesAreValid) {
  EXPECT_TRUE(valid(btc_rules()));
  EXPECT_TRUE(valid(doge_rules()));
}

TEST(ValidRules, EachBrokenFieldMakesThemInvalid) {
  const auto good = btc_rules();
  auto rules = good;
  rules.tick_size = Price{};
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.qty_step = qty("-0.001");
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.min_order_qty = qty("2000");
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.max_order_qty = Qty{};
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.min_price = px("3000000");
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.max_price = px("-1");
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.min_notional = amount("-5");
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.max_leverage = amount("0.5");
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.leverage_step = Amount{};
  EXPECT_FALSE(valid(rules));
  rules = good;
  rules.symbol[0] = '\0';
  EXPECT_FALSE(valid(rules));
  rules = good;
  std::memset(rules.symbol, 'A', sizeof(rules.symbol));  // no terminator
  EXPECT_FALSE(valid(rules));
}

// ---- hot path ------------------------------------------------------------------------------

TEST(InstrumentHotPath, RoundingAndChecksDoNotAllocate) {
  const auto rules = btc_rules();
  std::int64_t sink = 0;
  const auto allocations = kinetic::test::count_allocations([&] {
    for (std::int64_t i = 1; i < 1000; ++i) {
      const Qty q = round_qty_down(rules, Qty::from_raw(i * 77'777));
      const Price p = round_limit_price(rules, (i & 1) != 0 ? Side::buy : Side::sell,
                                        Price::from_raw(6'500'000'000'000 + i * 333));
      sink += static_cast<std::int64_t>(check_order(rules, Side::buy, OrderType::limit, p, q));
      sink += min_qty_for_notional(rules, p).value_or(Qty{}).raw();
      sink += round_leverage_up(rules, Amount::from_raw(i * 1'000'001)).value_or(Amount{}).raw();
      sink += valid(rules) ? 1 : 0;
    }
  });
  EXPECT_EQ(allocations, 0U);
  EXPECT_NE(sink, 0);
}

// ---- property test -------------------------------------------------------------------------

/// A power of ten times 1, 2 or 5, between 1e-8 and 1e4, in raw units.
std::int64_t random_step(std::mt19937_64& rng) {
  static constexpr std::int64_t kMantissa[] = {1, 2, 5};
  std::int64_t step = kMantissa[rng() % 3];
  const auto exponent = rng() % 12;
  for (std::uint64_t i = 0; i < exponent; ++i)
    step *= 10;
  return step;
}

std::int64_t uniform(std::mt19937_64& rng, std::int64_t low, std::int64_t high) {
  return std::uniform_int_distribution<std::int64_t>(low, high)(rng);
}

InstrumentRules random_rules(std::mt19937_64& rng) {
  InstrumentRules rules{};
  set_symbol(rules, "RANDUSDT");
  rules.tick_size = Price::from_raw(random_step(rng));
  rules.qty_step = Qty::from_raw(random_step(rng));
  const std::int64_t step = rules.qty_step.raw();
  rules.min_order_qty = Qty::from_raw(step * uniform(rng, 0, 100));
  rules.max_order_qty =
      Qty::from_raw(std::max(rules.min_order_qty.raw(), step) + step * uniform(rng, 0, 100'000));
  rules.max_market_order_qty = rng() % 3 == 0
                                   ? Qty{}
                                   : Qty::from_raw(std::max(rules.min_order_qty.raw(), step) +
                                                   step * uniform(rng, 0, 10'000));
  rules.min_notional = Amount::from_raw(uniform(rng, 0, 100) * Amount::kScale / 10);
  if (rng() % 2 == 0) {
    rules.min_price = Price::from_raw(rules.tick_size.raw() * uniform(rng, 1, 1000));
    rules.max_price = Price::from_raw(rules.min_price.raw() +
                                      rules.tick_size.raw() * uniform(rng, 0, 10'000'000));
  }
  rules.min_leverage = Amount::from_units(1);
  rules.max_leverage = Amount::from_units(uniform(rng, 1, 125));
  rules.leverage_step = Amount::from_raw(random_step(rng) % Amount::kScale + 1'000'000);
  return rules;
}

TEST(InstrumentProperty, RoundedOrdersPassExactlyWhenTheRulesHold) {
  std::mt19937_64 rng(20261124);
  int accepted = 0;
  for (int trial = 0; trial < 200'000; ++trial) {
    const auto rules = random_rules(rng);
    ASSERT_TRUE(valid(rules));
    const std::int64_t step = rules.qty_step.raw();
    const std::int64_t tick = rules.tick_size.raw();

    const Qty wanted = Qty::from_raw(uniform(rng, 0, rules.max_order_qty.raw() * 2 + step));
    const Qty q = round_qty_down(rules, wanted);
    ASSERT_EQ(q.raw() % step, 0);
    ASSERT_LE(q, wanted);
    ASSERT_LT(wanted.raw() - q.raw(), step);

    const Side side = rng() % 2 == 0 ? Side::buy : Side::sell;
    const Price raw_limit = Price::from_raw(uniform(rng, 1, 1'000'000 * Price::kScale));
    const Price limit = round_limit_price(rules, side, raw_limit);
    ASSERT_EQ(limit.raw() % tick, 0);
    if (side == Side::buy) {
      ASSERT_LE(limit, raw_limit);
      ASSERT_LT(raw_limit.raw() - limit.raw(), tick);
    } else {
      ASSERT_GE(limit, raw_limit);
      ASSERT_LT(limit.raw() - raw_limit.raw(), tick);
    }

    const OrderType type = rng() % 2 == 0 ? OrderType::limit : OrderType::market;
    const Price price = type == OrderType::limit ? limit : raw_limit;
    const auto reason = check_order(rules, side, type, price, q);

    // The same rules, decided independently in 128-bit arithmetic.
    const int128 order_notional = static_cast<int128>(price.raw()) * q.raw() / Price::kScale;
    bool expected_ok = q.raw() > 0 && price.raw() > 0 && q >= rules.min_order_qty &&
                       q <= rules.max_order_qty && order_notional >= rules.min_notional.raw() &&
                       order_notional <= std::numeric_limits<std::int64_t>::max();
    if (type == OrderType::market && !rules.max_market_order_qty.is_zero()) {
      expected_ok = expected_ok && q <= rules.max_market_order_qty;
    }
    if (type == OrderType::limit) {
      expected_ok = expected_ok && price.raw() % tick == 0 &&
                    (rules.min_price.is_zero() || price >= rules.min_price) &&
                    (rules.max_price.is_zero() || price <= rules.max_price);
    }
    ASSERT_EQ(reason == RejectReason::none, expected_ok)
        << "trial " << trial << " reason " << kinetic::risk::to_string(reason);
    if (reason == RejectReason::none)
      ++accepted;

    // The minimum for the notional passes every check but the maxima, and one step less
    // fails the minimum quantity or the notional.
    const auto minimum = min_qty_for_notional(rules, raw_limit);
    ASSERT_TRUE(minimum.ok());
    const auto at_minimum = check_order(rules, side, OrderType::market, raw_limit, minimum.value());
    // (invalid_input only where price × qty leaves the Amount range.)
    const int128 minimum_notional =
        static_cast<int128>(raw_limit.raw()) * minimum.value().raw() / Price::kScale;
    const bool notional_fits = minimum_notional <= std::numeric_limits<std::int64_t>::max();
    ASSERT_TRUE(at_minimum == RejectReason::none || at_minimum == RejectReason::qty_above_max ||
                at_minimum == RejectReason::qty_above_max_market ||
                (!notional_fits && at_minimum == RejectReason::invalid_input))
        << kinetic::risk::to_string(at_minimum) << " qty " << minimum.value().raw() << " price "
        << raw_limit.raw() << " step " << step;
    const Qty one_less = Qty::from_raw(minimum.value().raw() - step);
    if (one_less.raw() > 0 && at_minimum == RejectReason::none) {
      const auto below = check_order(rules, side, OrderType::market, raw_limit, one_less);
      ASSERT_TRUE(below == RejectReason::qty_below_min || below == RejectReason::notional_below_min)
          << kinetic::risk::to_string(below);
    }

    // Leverage: on the grid, within bounds, not below the request, less than a step above.
    const Amount lever = Amount::from_raw(uniform(rng, 1, 130 * Amount::kScale));
    const auto rounded = round_leverage_up(rules, lever);
    if (rounded.ok()) {
      ASSERT_TRUE(is_allowed_leverage(rules, rounded.value()));
      ASSERT_GE(rounded.value(), lever);
      if (lever > rules.min_leverage) {
        ASSERT_LT(rounded.value().raw() - lever.raw(), rules.leverage_step.raw());
      }
    } else {
      ASSERT_EQ(rounded.error(), RejectReason::insufficient_margin);
      ASSERT_GT(lever, rules.max_leverage);
    }
  }
  EXPECT_GT(accepted, 1000);  // the generator exercises the accepting side too
}

}  // namespace
