// Position sizing: Kelly, the volatility stop, reward/risk and the sizer, against
// hand-computed exact values; a random property test of the rules an accepted size keeps;
// and an allocation count over many calls.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/risk/sizing.hpp"

namespace {

using kinetic::Amount;
using kinetic::OrderType;
using kinetic::Price;
using kinetic::Qty;
using kinetic::Side;
using kinetic::risk::InstrumentRules;
using kinetic::risk::PriceVolatility;
using kinetic::risk::RejectReason;
using kinetic::risk::SizeBound;
using kinetic::risk::SizeDecision;
using kinetic::risk::SizeRequest;
using kinetic::risk::SizingParams;
__extension__ using Int128 = __int128;

Price px(const char* text) {
  return Price::parse(text).value();
}
Qty qt(const char* text) {
  return Qty::parse(text).value();
}
Amount am(const char* text) {
  return Amount::parse(text).value();
}

/// BTCUSDT-like linear perpetual.
InstrumentRules btc_rules() {
  InstrumentRules r{};
  r.tick_size = px("0.1");
  r.min_price = px("0.1");
  r.max_price = px("1999999.8");
  r.qty_step = qt("0.001");
  r.min_order_qty = qt("0.001");
  r.max_order_qty = qt("100");
  r.max_market_order_qty = qt("10");
  r.min_notional = am("5");
  r.min_leverage = am("1");
  r.max_leverage = am("100");
  r.leverage_step = am("0.01");
  return r;
}

/// A cheap coin with a 5 USDT minimum notional and a whole-coin step.
InstrumentRules cheap_coin_rules() {
  InstrumentRules r{};
  r.tick_size = px("0.0001");
  r.qty_step = qt("1");
  r.min_order_qty = qt("1");
  r.max_order_qty = qt("1000000");
  r.min_notional = am("5");
  r.min_leverage = am("1");
  r.max_leverage = am("25");
  r.leverage_step = am("0.01");
  return r;
}

/// Buy 65000, stop 64870 (distance 130), target 65195 (reward/risk exactly 1.5), equity
/// 10000, p = 0.6 with equal wins and losses (full Kelly 0.2, half Kelly 0.1).
SizeRequest btc_request() {
  SizeRequest q{};
  q.side = Side::buy;
  q.entry = px("65000");
  q.stop = px("64870");
  q.target = px("65195");
  q.confidence = 1.0;
  q.win_probability = 0.6;
  q.avg_win = 0.01;
  q.avg_loss = 0.01;
  q.equity = am("10000");
  q.available_margin = am("20000");  // margin at leverage 10 would allow 3.07 BTC
  q.type = OrderType::limit;
  return q;
}

// ---------------------------------------------------------------------------------------------
// Kelly

TEST(Kelly, FormulaValues) {
  using kinetic::risk::kelly_fraction;
  EXPECT_NEAR(kelly_fraction(0.6, 0.01, 0.01), 0.2, 1e-15);
  EXPECT_NEAR(kelly_fraction(0.6, 1.0, 1.0), 0.2, 1e-15);     // only b/a matters
  EXPECT_NEAR(kelly_fraction(0.5, 0.02, 0.01), 0.25, 1e-15);  // 0.5 − 0.5·(1/2)
  EXPECT_NEAR(kelly_fraction(0.4, 0.01, 0.01), -0.2, 1e-15);
  EXPECT_DOUBLE_EQ(kelly_fraction(1.0, 0.01, 0.03), 1.0);
  EXPECT_DOUBLE_EQ(kelly_fraction(0.0, 0.01, 0.03), -3.0);
  // The notional form is f* / a: twenty times equity for 1 % wins and losses at p = 0.6.
  EXPECT_NEAR(kinetic::risk::kelly_notional_fraction(0.6, 0.01, 0.01), 20.0, 1e-12);
}

TEST(Kelly, InvalidStatisticsGiveNaN) {
  using kinetic::risk::kelly_fraction;
  EXPECT_TRUE(std::isnan(kelly_fraction(1.1, 0.01, 0.01)));
  EXPECT_TRUE(std::isnan(kelly_fraction(-0.1, 0.01, 0.01)));
  EXPECT_TRUE(std::isnan(kelly_fraction(0.5, 0.0, 0.01)));
  EXPECT_TRUE(std::isnan(kelly_fraction(0.5, 0.01, -0.01)));
  EXPECT_TRUE(std::isnan(kelly_fraction(std::nan(""), 0.01, 0.01)));
  EXPECT_TRUE(std::isnan(kelly_fraction(0.5, INFINITY, 0.01)));
}

TEST(Kelly, FractionalClampsToZeroAndCap) {
  using kinetic::risk::fractional_kelly;
  EXPECT_NEAR(fractional_kelly(0.2, 0.5, 0.25), 0.1, 1e-15);
  EXPECT_DOUBLE_EQ(fractional_kelly(0.8, 0.5, 0.25), 0.25);  // 0.4 clamped to the cap
  EXPECT_DOUBLE_EQ(fractional_kelly(-0.2, 0.5, 0.25), 0.0);
  EXPECT_DOUBLE_EQ(fractional_kelly(std::nan(""), 0.5, 0.25), 0.0);
}

TEST(Sizing, NoEdgeIsRejected) {
  SizeRequest q = btc_request();
  q.win_probability = 0.4;  // f* = −0.2
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::no_edge);
  q.win_probability = 0.5;  // f* = 0 exactly: still no edge
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::no_edge);
}

// ---------------------------------------------------------------------------------------------
// Parameters

TEST(SizingParams, Validity) {
  EXPECT_TRUE(SizingParams{}.valid());
  auto with = [](auto change) {
    SizingParams p{};
    change(p);
    return p.valid();
  };
  EXPECT_TRUE(with([](SizingParams& p) { p.risk_fraction = 0.02; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.risk_fraction = 0.0201; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.risk_fraction = 0.0; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.kelly_multiplier = 0.0; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.kelly_multiplier = 1.5; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.kelly_cap = 0.0; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.min_reward_risk = -1.0; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.min_reward_risk = std::nan(""); }));
  EXPECT_FALSE(with([](SizingParams& p) { p.stop_sigma_k = 0.0; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.max_leverage = 0.5; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.volatility_window = 1; }));
  EXPECT_FALSE(with([](SizingParams& p) { p.volatility_window = 1025; }));
  EXPECT_TRUE(with([](SizingParams& p) { p.volatility_window = 1024; }));
}

TEST(Sizing, InvalidParamsOrRulesOrRequestAreInvalidInput) {
  const InstrumentRules rules = btc_rules();
  SizingParams params{};
  params.risk_fraction = 0.03;
  EXPECT_EQ(size_order(btc_request(), rules, params).reason, RejectReason::invalid_input);

  InstrumentRules bad = rules;
  bad.qty_step = Qty{};
  EXPECT_EQ(size_order(btc_request(), bad, SizingParams{}).reason, RejectReason::invalid_input);
  bad = rules;
  bad.min_order_qty = qt("200");  // above max_order_qty
  EXPECT_EQ(size_order(btc_request(), bad, SizingParams{}).reason, RejectReason::invalid_input);

  auto rejects = [&](auto change) {
    SizeRequest q = btc_request();
    change(q);
    return size_order(q, rules, SizingParams{}).reason;
  };
  EXPECT_EQ(rejects([](SizeRequest& q) { q.equity = Amount{}; }), RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) { q.available_margin = am("-1"); }),
            RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) { q.side = Side::none; }), RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) { q.entry = Price{}; }), RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) { q.target = Price{}; }), RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) { q.confidence = std::nan(""); }),
            RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) { q.confidence = 1.01; }), RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) { q.win_probability = 1.2; }), RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) { q.avg_loss = 0.0; }), RejectReason::invalid_input);
  EXPECT_EQ(rejects([](SizeRequest& q) {
              q.entry = px("2000000");
              q.stop = px("1999870");
              q.target = px("2000195");
            }),
            RejectReason::price_out_of_range);
}

// ---------------------------------------------------------------------------------------------
// Reward/risk and stop geometry

TEST(RewardRisk, ExactlyAtMinimumAcceptedJustBelowRejected) {
  EXPECT_DOUBLE_EQ(kinetic::risk::reward_risk(px("65000"), px("64870"), px("65195")), 1.5);
  EXPECT_EQ(size_order(btc_request(), btc_rules(), SizingParams{}).reason, RejectReason::none);

  SizeRequest q = btc_request();
  q.target = px("65194.99999999");  // reward 1e-8 short of 1.5 × 130
  EXPECT_LT(kinetic::risk::reward_risk(q.entry, q.stop, q.target), 1.5);
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::reward_risk_too_low);

  // A sell: entry 65000, stop 65130, target 64805 is 195/130 = 1.5; 64805.1 is not.
  q = btc_request();
  q.side = Side::sell;
  q.stop = px("65130");
  q.target = px("64805");
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::none);
  q.target = px("64805.1");
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::reward_risk_too_low);

  SizingParams no_minimum{};
  no_minimum.min_reward_risk = 0.0;
  EXPECT_EQ(size_order(q, btc_rules(), no_minimum).reason, RejectReason::none);
}

TEST(RewardRisk, StopOrTargetOnTheWrongSideIsInvalidStop) {
  auto reason = [](Side side, const char* stop, const char* target) {
    SizeRequest q = btc_request();
    q.side = side;
    q.stop = px(stop);
    q.target = px(target);
    return size_order(q, btc_rules(), SizingParams{}).reason;
  };
  EXPECT_EQ(reason(Side::buy, "65000", "65195"), RejectReason::invalid_stop);   // at entry
  EXPECT_EQ(reason(Side::buy, "65130", "65195"), RejectReason::invalid_stop);   // above entry
  EXPECT_EQ(reason(Side::buy, "64870", "64000"), RejectReason::invalid_stop);   // target below
  EXPECT_EQ(reason(Side::buy, "64870", "65000"), RejectReason::invalid_stop);   // target at entry
  EXPECT_EQ(reason(Side::sell, "64870", "64805"), RejectReason::invalid_stop);  // stop below
  EXPECT_EQ(reason(Side::sell, "65000", "64805"), RejectReason::invalid_stop);  // at entry
  EXPECT_EQ(reason(Side::sell, "65130", "65195"), RejectReason::invalid_stop);  // target above
  EXPECT_EQ(kinetic::risk::reward_risk(px("1"), px("1"), px("2")), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Volatility stop

TEST(StopPrice, KSigmaFromEntryRoundedOutward) {
  using kinetic::risk::stop_price;
  EXPECT_EQ(stop_price(Side::buy, px("100"), 1.25, 2.0).value(), px("97.5"));
  EXPECT_EQ(stop_price(Side::sell, px("100"), 1.25, 2.0).value(), px("102.5"));
  EXPECT_EQ(stop_price(Side::buy, px("100"), 1.25, 2.0, px("1")).value(), px("97"));
  EXPECT_EQ(stop_price(Side::sell, px("100"), 1.25, 2.0, px("1")).value(), px("103"));
  EXPECT_EQ(stop_price(Side::buy, px("100"), 1.0, 2.0, px("1")).value(), px("98"));  // on grid
  EXPECT_EQ(stop_price(Side::buy, px("100"), 0.0, 2.0).error(), RejectReason::invalid_stop);
  EXPECT_EQ(stop_price(Side::buy, px("100"), 50.0, 2.0).error(), RejectReason::invalid_stop);
  EXPECT_EQ(stop_price(Side::none, px("100"), 1.0, 2.0).error(), RejectReason::invalid_input);
  EXPECT_EQ(stop_price(Side::buy, px("100"), std::nan(""), 2.0).error(),
            RejectReason::invalid_input);
  EXPECT_EQ(stop_price(Side::buy, px("100"), -1.0, 2.0).error(), RejectReason::invalid_input);
}

/// Sample variance of the last `window` raw prices, two passes in long double.
double two_pass_variance(const std::vector<std::int64_t>& raws, std::size_t window) {
  const std::size_t n = raws.size() < window ? raws.size() : window;
  if (n < 2) {
    return 0.0;
  }
  long double mean = 0;
  for (std::size_t i = raws.size() - n; i < raws.size(); ++i) {
    mean += static_cast<long double>(raws[i]) / 1e8L;
  }
  mean /= static_cast<long double>(n);
  long double sum = 0;
  for (std::size_t i = raws.size() - n; i < raws.size(); ++i) {
    const long double d = static_cast<long double>(raws[i]) / 1e8L - mean;
    sum += d * d;
  }
  return static_cast<double>(sum / static_cast<long double>(n - 1));
}

TEST(PriceVolatility, MatchesTwoPassOverRandomDataAndAfterWrapAround) {
  std::mt19937_64 rng(42);
  for (const std::size_t window :
       {std::size_t{2}, std::size_t{7}, std::size_t{100}, std::size_t{1024}}) {
    PriceVolatility vol(window);
    ASSERT_EQ(vol.window(), window);
    std::vector<std::int64_t> raws;
    // A random walk around 65000 with 1e-8 resolution, long enough to wrap many times.
    std::int64_t raw = 6'500'000'000'000;
    std::uniform_int_distribution<std::int64_t> step(-5'000'000'000, 5'000'000'000);
    for (int i = 0; i < 5000; ++i) {
      raw += step(rng);
      raws.push_back(raw);
      ASSERT_TRUE(vol.add(Price::from_raw(raw)));
      if (i % 97 == 0 || i > 4990) {
        const double expected = two_pass_variance(raws, window);
        ASSERT_NEAR(vol.variance(), expected, 1e-12 * expected + 1e-20) << window << " " << i;
        ASSERT_NEAR(vol.sigma(), std::sqrt(expected), 1e-12 * std::sqrt(expected) + 1e-10);
      }
    }
    EXPECT_TRUE(vol.full());
    EXPECT_EQ(vol.count(), window);
  }
}

TEST(PriceVolatility, ExactSmallCasesAndEdges) {
  PriceVolatility vol(4);
  EXPECT_EQ(vol.variance(), 0.0);
  ASSERT_TRUE(vol.add(px("10")));
  EXPECT_EQ(vol.variance(), 0.0);  // one price: no spread yet
  ASSERT_TRUE(vol.add(px("12")));
  EXPECT_DOUBLE_EQ(vol.mean(), 11.0);
  EXPECT_DOUBLE_EQ(vol.variance(), 2.0);  // ((−1)² + 1²) / 1
  ASSERT_TRUE(vol.add(px("14")));
  ASSERT_TRUE(vol.add(px("16")));
  EXPECT_DOUBLE_EQ(vol.variance(), 20.0 / 3.0);  // 10,12,14,16
  ASSERT_TRUE(vol.add(px("18")));                // drops 10: 12,14,16,18
  EXPECT_DOUBLE_EQ(vol.mean(), 15.0);
  EXPECT_DOUBLE_EQ(vol.variance(), 20.0 / 3.0);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(vol.add(px("15.5")));
  }
  EXPECT_EQ(vol.variance(), 0.0);  // exact: a constant window has no spread at all

  EXPECT_FALSE(vol.add(Price{}));
  EXPECT_FALSE(vol.add(px("-1")));
  EXPECT_FALSE(vol.add(px("100000000")));  // 1e8 from the reference: out of exact range
  EXPECT_EQ(vol.count(), 4u);
  vol.reset();
  EXPECT_EQ(vol.count(), 0u);
  EXPECT_TRUE(vol.add(px("100000000")));  // a new reference after reset

  EXPECT_EQ(PriceVolatility(0).window(), 2u);
  EXPECT_EQ(PriceVolatility(5000).window(), PriceVolatility::kMaxWindow);
}

TEST(PriceVolatility, FeedsTheStop) {
  PriceVolatility vol(4);
  for (const char* p : {"100", "102", "104"}) {
    ASSERT_TRUE(vol.add(px(p)));
  }
  // Three of four prices: σ is not known yet.
  EXPECT_EQ(kinetic::risk::stop_price(Side::buy, px("104"), vol, 2.0).error(),
            RejectReason::no_volatility);
  ASSERT_TRUE(vol.add(px("106")));
  EXPECT_EQ(kinetic::risk::stop_price(Side::buy, px("106"), vol, 2.0, px("0.01")).value(),
            px("100.83"));
  // σ² = (9 + 1 + 1 + 9) / 3 = 20/3 → σ ≈ 2.5819889; 2σ ≈ 5.1639778.
  const auto stop = kinetic::risk::stop_price(Side::buy, px("106"), vol.sigma(), 2.0, px("0.01"));
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(stop.value(), px("100.83"));  // 106 − 5.16397779 = 100.83602221 → down to 100.83
}

// ---------------------------------------------------------------------------------------------
// The sizer

TEST(Sizing, RiskFractionBindsAtBtcPrices) {
  const SizeDecision d = size_order(btc_request(), btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  // Risk budget 2 % of 10000 = 200; 200 / 130 = 1.53846… → 1.538 at step 0.001. Kelly
  // (0.1 × 10000 / 130 = 7.69) is larger.
  EXPECT_EQ(d.bound, SizeBound::risk_fraction);
  EXPECT_EQ(d.qty, qt("1.538"));
  EXPECT_EQ(d.risk_amount, am("199.94"));  // 1.538 × 130
  EXPECT_EQ(d.notional, am("99970"));      // 1.538 × 65000
  EXPECT_EQ(d.leverage, am("5"));          // 99970 / 20000 = 4.9985 → 5.00 on the grid
  EXPECT_EQ(d.initial_margin, am("19994"));
  EXPECT_NEAR(d.kelly_fraction, 0.1, 1e-15);
  EXPECT_NEAR(d.risk_fraction_used, 0.019994, 1e-15);
}

TEST(Sizing, KellyBindsWhenTheEdgeIsSmall) {
  SizeRequest q = btc_request();
  q.win_probability = 0.51;  // f* = 0.02, half Kelly 0.01: budget 100 < 200
  const SizeDecision d = size_order(q, btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::kelly);
  EXPECT_EQ(d.qty, qt("0.769"));  // 100 / 130 = 0.76923…
  EXPECT_EQ(d.risk_amount, am("99.97"));
  EXPECT_EQ(d.leverage, am("2.5"));  // 0.769 × 65000 = 49985 over 20000 → 2.49925 → 2.50
}

TEST(Sizing, ConfidenceScalesTheRiskBound) {
  SizeRequest q = btc_request();
  q.confidence = 0.5;  // budget 100
  SizeDecision d = size_order(q, btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::risk_fraction);
  EXPECT_EQ(d.qty, qt("0.769"));

  SizingParams unscaled{};
  unscaled.scale_by_confidence = false;
  d = size_order(q, btc_rules(), unscaled);
  EXPECT_EQ(d.qty, qt("1.538"));

  q.confidence = 0.0;
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::zero_size);
}

TEST(Sizing, CappedByMaxOrderQtyAndMaxMarketOrderQty) {
  SizeRequest q = btc_request();
  q.stop = px("64999");  // distance 1: risk allows 200 BTC
  q.target = px("65001.5");
  q.available_margin = am("1000000");  // margin allows 1e6 × 10 / 65000 = 153.8
  SizeDecision d = size_order(q, btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::max_order_qty);
  EXPECT_EQ(d.qty, qt("100"));
  EXPECT_EQ(d.leverage, am("6.5"));  // 6 500 000 / 1 000 000 exactly
  EXPECT_EQ(d.initial_margin, am("1000000"));

  q.type = OrderType::market;  // maxMktOrderQty 10
  d = size_order(q, btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::max_order_qty);
  EXPECT_EQ(d.qty, qt("10"));
  EXPECT_EQ(d.leverage, am("1"));  // 0.65 needed; the minimum leverage is 1
  EXPECT_EQ(d.initial_margin, am("650000"));

  InstrumentRules no_market_max = btc_rules();
  no_market_max.max_market_order_qty = Qty{};  // 0: same as max_order_qty
  EXPECT_EQ(size_order(q, no_market_max, SizingParams{}).qty, qt("100"));
}

TEST(Sizing, MarginBindsAtTheHighestAllowedLeverage) {
  SizeRequest q = btc_request();
  q.available_margin = am("1000");  // 1000 × 10 / 65000 = 0.1538… BTC
  SizeDecision d = size_order(q, btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::margin);
  EXPECT_EQ(d.qty, qt("0.153"));
  EXPECT_EQ(d.notional, am("9945"));
  EXPECT_EQ(d.leverage, am("9.95"));                // 9.945 → next grid step
  EXPECT_EQ(d.initial_margin, am("999.49748744"));  // 9945 / 9.95, rounded up

  // The instrument's maximum leverage is lower than the parameter's: it applies.
  InstrumentRules low_max = btc_rules();
  low_max.max_leverage = am("5");
  d = size_order(q, low_max, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.qty, qt("0.076"));      // 1000 × 5 / 65000 = 0.0769…
  EXPECT_EQ(d.leverage, am("4.94"));  // 4940 / 1000

  q.available_margin = Amount{};
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::insufficient_margin);
  q.available_margin = am("0.4");  // allows 0.00006 BTC: below the 0.001 minimum
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::insufficient_margin);
}

TEST(Sizing, LeverageGridExactEdges) {
  // Cheap coin: 10 coins at 0.5 is 5 USDT notional. Margin 0.5 needs exactly leverage 10.
  InstrumentRules rules = cheap_coin_rules();
  SizeRequest q{};
  q.side = Side::buy;
  q.entry = px("0.5");
  q.stop = px("0.49");
  q.target = px("0.6");
  q.win_probability = 0.6;
  q.avg_win = q.avg_loss = 1.0;
  q.equity = am("100");           // risk 2 → 200 coins; Kelly 0.1 × 100 / 0.01 = 1000 coins
  q.available_margin = am("10");  // × 10 / 0.5 = 200 coins: tie with the risk bound
  SizeDecision d = size_order(q, rules, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::risk_fraction);  // ties go to the earlier bound
  EXPECT_EQ(d.qty, qt("200"));
  EXPECT_EQ(d.leverage, am("10"));  // 100 / 10 exactly: equal to the margin fits
  EXPECT_EQ(d.initial_margin, am("10"));

  q.available_margin = am("9.99999999");  // one unit less: the margin now binds, at 199
  d = size_order(q, rules, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::margin);
  EXPECT_EQ(d.qty, qt("199"));
  EXPECT_EQ(d.leverage, am("9.96"));  // 99.5 / 9.99999999 = 9.95000001 → 9.96

  // A coarse grid starting above 1: min 2, step 0.5; needs 1.2 → the minimum 2.
  rules.min_leverage = am("2");
  rules.leverage_step = am("0.5");
  q.available_margin = am("83.33333334");
  d = size_order(q, rules, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.qty, qt("200"));
  EXPECT_EQ(d.leverage, am("2"));

  // The grid starts at the minimum: min 1.5, step 1 gives 1.5, 2.5, …; 2 needed → 2.5.
  rules.min_leverage = am("1.5");
  rules.leverage_step = am("1");
  q.available_margin = am("50");
  d = size_order(q, rules, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.qty, qt("200"));
  EXPECT_EQ(d.leverage, am("2.5"));

  // The instrument's maximum is allowed although off the grid: max 4.2 (grid 1.5, 2.5, 3.5);
  // 100 / 24 = 4.1666… needs 4.2.
  rules.max_leverage = am("4.2");
  q.available_margin = am("24");
  d = size_order(q, rules, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.qty, qt("200"));
  EXPECT_EQ(d.bound, SizeBound::risk_fraction);  // margin allows 24 × 4.2 / 0.5 = 201.6
  EXPECT_EQ(d.leverage, am("4.2"));
  // A parameter maximum below the instrument's is rounded down onto the grid: 4 → 3.5.
  SizingParams capped{};
  capped.max_leverage = 4.0;
  d = size_order(q, rules, capped);
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::margin);  // 24 × 3.5 / 0.5 = 168 coins
  EXPECT_EQ(d.qty, qt("168"));
  EXPECT_EQ(d.leverage, am("3.5"));

  // Parameter maximum below the instrument's minimum leverage: a configuration error.
  rules.min_leverage = am("2");
  rules.leverage_step = am("0.5");
  SizingParams params{};
  params.max_leverage = 1.5;
  EXPECT_EQ(size_order(q, rules, params).reason, RejectReason::invalid_input);
}

TEST(Sizing, RaisedToMinimumOnlyWithinTheRiskLimit) {
  // Price 100, step 0.1, min qty 1; equity 100 → risk limit 2 USDT.
  InstrumentRules rules = cheap_coin_rules();
  rules.qty_step = qt("0.1");
  SizeRequest q{};
  q.side = Side::buy;
  q.entry = px("100");
  q.stop = px("98");  // distance 2: risk allows exactly 1 coin
  q.target = px("103");
  q.win_probability = 0.6;
  q.avg_win = q.avg_loss = 1.0;
  q.equity = am("100");
  q.available_margin = am("100");
  SizeDecision d = size_order(q, rules, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::risk_fraction);
  EXPECT_EQ(d.qty, qt("1"));

  q.confidence = 0.5;  // risk target 1 → 0.5 coin, below the minimum 1 whose risk is 2 ≤ 2
  d = size_order(q, rules, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::minimum);
  EXPECT_EQ(d.qty, qt("1"));
  EXPECT_EQ(d.risk_amount, am("2"));
  EXPECT_DOUBLE_EQ(d.risk_fraction_used, 0.02);

  q.stop = px("97.99");  // the minimum would risk 2.01 > 2
  q.target = px("104");
  d = size_order(q, rules, SizingParams{});
  EXPECT_EQ(d.reason, RejectReason::qty_below_min);
  EXPECT_EQ(d.qty, Qty{});
}

TEST(Sizing, TheCallersValueCapBindsAndNamesItsLimit) {
  // The cap is a value: price.raw() × qty.raw() = notional × 1e16.
  SizeRequest q = btc_request();
  q.max_value = Int128{1000} * 10'000'000'000'000'000;  // 1000 USDT of notional
  q.max_value_bound = SizeBound::symbol_exposure;
  SizeDecision d = size_order(q, btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::symbol_exposure);
  EXPECT_EQ(d.qty, qt("0.015"));  // 1000 / 65000 = 0.01538… down to the step
  EXPECT_EQ(d.notional, am("975"));

  // A tie with the margin names the margin; one raw unit below it, the cap.
  q.available_margin = am("1000");  // 1000 × 10: a value of 1e20
  q.max_value = Int128{100'000'000'000} * 1'000'000'000;
  q.max_value_bound = SizeBound::total_exposure;
  d = size_order(q, btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::margin);
  EXPECT_EQ(d.qty, qt("0.153"));
  q.max_value -= 1;
  d = size_order(q, btc_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::total_exposure);
  EXPECT_EQ(d.qty, qt("0.153"));

  // Under the exchange minimum (5 USDT of notional), the cap's own refusal.
  q.max_value = Int128{4} * 10'000'000'000'000'000;
  q.max_value_bound = SizeBound::order_notional;
  d = size_order(q, btc_rules(), SizingParams{});
  EXPECT_EQ(d.reason, RejectReason::order_notional_limit);
  EXPECT_EQ(d.qty, Qty{});
  // No room at all (a negative cap: the position already exceeds the limit).
  q.max_value = -1;
  q.max_value_bound = SizeBound::symbol_exposure;
  EXPECT_EQ(size_order(q, btc_rules(), SizingParams{}).reason, RejectReason::symbol_exposure_limit);
}

TEST(Sizing, TheValueCapStopsTheRaiseToTheMinimum) {
  // As in RaisedToMinimumOnlyWithinTheRiskLimit: 0.5 coin by risk, raised to the minimum of 1
  // coin (100 USDT) — unless the cap (60 USDT) does not hold it.
  InstrumentRules rules = cheap_coin_rules();
  rules.qty_step = qt("0.1");
  SizeRequest q{};
  q.side = Side::buy;
  q.entry = px("100");
  q.stop = px("98");
  q.target = px("103");
  q.confidence = 0.5;
  q.win_probability = 0.6;
  q.avg_win = q.avg_loss = 1.0;
  q.equity = am("100");
  q.available_margin = am("100");
  q.max_value = Int128{60} * 10'000'000'000'000'000;
  q.max_value_bound = SizeBound::total_exposure;
  const SizeDecision d = size_order(q, rules, SizingParams{});
  EXPECT_EQ(d.reason, RejectReason::total_exposure_limit);
  q.max_value = Int128{100} * 10'000'000'000'000'000;  // exactly the minimum's value: fits
  const SizeDecision fits = size_order(q, rules, SizingParams{});
  ASSERT_EQ(fits.reason, RejectReason::none);
  EXPECT_EQ(fits.bound, SizeBound::minimum);
  EXPECT_EQ(fits.qty, qt("1"));
}

TEST(Sizing, RoundsDownToTheStep) {
  InstrumentRules rules = btc_rules();
  rules.qty_step = qt("0.01");
  rules.min_order_qty = qt("0.01");
  const SizeDecision d = size_order(btc_request(), rules, SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.qty, qt("1.53"));  // 1.53846… down, never up to 1.54
  EXPECT_TRUE(d.qty.is_multiple_of(rules.qty_step));
}

TEST(Sizing, NoMinimumAndLessThanOneStepIsZeroSize) {
  InstrumentRules rules = btc_rules();
  rules.min_order_qty = Qty{};
  rules.min_notional = Amount{};
  rules.qty_step = qt("10");  // 1.538 BTC is less than one step
  EXPECT_EQ(size_order(btc_request(), rules, SizingParams{}).reason, RejectReason::zero_size);
}

// ---------------------------------------------------------------------------------------------
// A one-dollar account

/// Equity 1 USDT; a coin at 0.5 with min notional 5 USDT (10 coins) and leverage up to 25.
SizeRequest one_dollar_request() {
  SizeRequest q{};
  q.side = Side::buy;
  q.entry = px("0.5");
  q.stop = px("0.498");  // distance 0.002: 10 coins risk 0.02 = exactly 2 % of 1 USDT
  q.target = px("0.503");
  q.confidence = 0.5;  // risk target 0.01 → 5 coins, under the minimum
  q.win_probability = 0.6;
  q.avg_win = q.avg_loss = 1.0;
  q.equity = am("1");
  q.available_margin = am("1");
  return q;
}

TEST(SizingOneDollar, MinimumNotionalAcceptedWhenItsRiskFits) {
  SizeDecision d = size_order(one_dollar_request(), cheap_coin_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.bound, SizeBound::minimum);
  EXPECT_EQ(d.qty, qt("10"));
  EXPECT_EQ(d.notional, am("5"));
  EXPECT_EQ(d.risk_amount, am("0.02"));
  EXPECT_EQ(d.leverage, am("5"));  // the smallest leverage that fits 5 into 1
  EXPECT_EQ(d.initial_margin, am("1"));

  // With 0.5 USDT of free margin it needs leverage 10 exactly (margin 0.5).
  SizeRequest q = one_dollar_request();
  q.available_margin = am("0.5");
  d = size_order(q, cheap_coin_rules(), SizingParams{});
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.qty, qt("10"));
  EXPECT_EQ(d.leverage, am("10"));
  EXPECT_EQ(d.initial_margin, am("0.5"));

  // With 0.49 it would need 10.2 > the parameter maximum 10.
  q.available_margin = am("0.49");
  EXPECT_EQ(size_order(q, cheap_coin_rules(), SizingParams{}).reason,
            RejectReason::insufficient_margin);
  // … which a higher allowed leverage fixes: 5 / 0.49 = 10.204… → 10.21.
  SizingParams more_leverage{};
  more_leverage.max_leverage = 20.0;
  d = size_order(q, cheap_coin_rules(), more_leverage);
  ASSERT_EQ(d.reason, RejectReason::none);
  EXPECT_EQ(d.leverage, am("10.21"));
}

TEST(SizingOneDollar, RejectedWithThePreciseReasonWhenTheMinimumRisksTooMuch) {
  SizeRequest q = one_dollar_request();
  q.stop = px("0.497");  // 10 coins would risk 0.03 > 0.02
  q.target = px("0.5045");
  // Risk allows 0.01 / 0.003 = 3 coins: above minOrderQty 1, below the notional minimum.
  EXPECT_EQ(size_order(q, cheap_coin_rules(), SizingParams{}).reason,
            RejectReason::notional_below_min);

  InstrumentRules rules = cheap_coin_rules();
  rules.min_order_qty = qt("20");
  // Now 3 coins is under minOrderQty as well: that is the reason given.
  EXPECT_EQ(size_order(q, rules, SizingParams{}).reason, RejectReason::qty_below_min);
}

// ---------------------------------------------------------------------------------------------
// Property test

TEST(SizingProperty, AcceptedSizesKeepEveryRuleAndTheRiskLimit) {
  std::mt19937_64 rng(7);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  constexpr std::int64_t kPow10[] = {
      1,         10,         100,         1'000,         10'000,        100'000,
      1'000'000, 10'000'000, 100'000'000, 1'000'000'000, 10'000'000'000};
  int accepted = 0;
  int by_bound[9] = {};
  int by_reason[32] = {};
  for (int i = 0; i < 200'000; ++i) {
    InstrumentRules r{};
    const std::int64_t step = kPow10[pick(2, 10)] * pick(1, 5);  // 1e-6 .. 500
    r.qty_step = Qty::from_raw(step);
    r.min_order_qty = Qty::from_raw(step * pick(0, 20));
    r.max_order_qty = Qty::from_raw(r.min_order_qty.raw() + step * pick(1, 100'000));
    r.max_market_order_qty = pick(0, 1) ? Qty{} : Qty::from_raw(step * pick(1, 100'000));
    r.min_notional = Amount::from_raw(kPow10[8] * pick(0, 10));
    r.tick_size = Price::from_raw(kPow10[pick(0, 8)]);
    r.leverage_step = Amount::from_raw(pick(0, 1) ? 1'000'000 : 50'000'000);    // 0.01 or 0.5
    r.min_leverage = Amount::from_raw(pick(0, 1) ? 100'000'000 : 150'000'000);  // 1 or 1.5
    // A maximum often off the grid min + k × step (e.g. 12.37 with step 0.5).
    r.max_leverage = Amount::from_raw(r.min_leverage.raw() + 1'000'000 * pick(0, 10'000));

    SizingParams p{};
    p.risk_fraction = uniform(0.001, 0.02);
    p.kelly_multiplier = uniform(0.1, 1.0);
    p.max_leverage = uniform(1.0, 50.0);
    p.scale_by_confidence = pick(0, 1) == 1;

    SizeRequest q{};
    q.side = pick(0, 1) ? Side::buy : Side::sell;
    q.type = pick(0, 1) ? OrderType::market : OrderType::limit;
    const double entry = std::pow(10.0, uniform(-3.0, 5.0));
    q.entry = Price::from_double(entry).value().round_nearest(r.tick_size);
    if (q.entry.raw() <= 0) {
      q.entry = r.tick_size;
    }
    const double distance_fraction = std::pow(10.0, uniform(-4.0, -0.5));
    const auto distance = Price::from_raw(
        std::max<std::int64_t>(1, Price::from_double(entry * distance_fraction).value().raw()));
    const double rr = uniform(1.4, 4.0);
    const auto reward = Price::from_double(distance.to_double() * rr).value();
    if (q.side == Side::buy) {
      q.stop = q.entry - distance;
      q.target = q.entry + reward;
    } else {
      q.stop = q.entry + distance;
      q.target = q.entry - reward;
    }
    q.confidence = uniform(0.0, 1.0);
    q.win_probability = uniform(0.3, 0.9);
    q.avg_win = uniform(0.001, 0.05);
    q.avg_loss = uniform(0.001, 0.05);
    q.equity = Amount::from_double(std::pow(10.0, uniform(0.0, 7.0))).value();
    q.available_margin = Amount::from_double(q.equity.to_double() * uniform(0.0, 1.2)).value();
    if (pick(0, 2) == 0) {  // an exposure room, sometimes none at all
      const double room = q.equity.to_double() * uniform(-0.1, 3.0);
      q.max_value = static_cast<Int128>(room * 1e8) * 100'000'000;
      q.max_value_bound = pick(0, 1) ? SizeBound::symbol_exposure : SizeBound::total_exposure;
    }

    const SizeDecision d = size_order(q, r, p);
    ++by_reason[static_cast<int>(d.reason)];
    if (d.reason != RejectReason::none) {
      ASSERT_EQ(d.qty, Qty{});
      continue;
    }
    ++accepted;
    ++by_bound[static_cast<int>(d.bound)];
    ASSERT_NE(d.bound, SizeBound::none);
    // Instrument rules.
    ASSERT_TRUE(d.qty.is_multiple_of(r.qty_step)) << i;
    ASSERT_GT(d.qty.raw(), 0);
    ASSERT_GE(d.qty, r.min_order_qty) << i;
    ASSERT_LE(d.qty, r.max_order_qty) << i;
    if (q.type == OrderType::market && r.max_market_order_qty.raw() > 0) {
      ASSERT_LE(d.qty, r.max_market_order_qty) << i;
    }
    const Int128 notional_exact = Int128{q.entry.raw()} * d.qty.raw();  // × 1e16
    ASSERT_GE(notional_exact, Int128{r.min_notional.raw()} * 100'000'000) << i;
    ASSERT_LE(notional_exact, q.max_value) << i;
    ASSERT_EQ(d.notional, kinetic::notional(q.entry, d.qty).value());
    // The risk limit, exactly against the budget and approximately against the doubles.
    const Int128 risk_exact = Int128{d.qty.raw()} * distance.raw();  // × 1e16
    const auto budget = std::llround(p.risk_fraction * static_cast<double>(q.equity.raw()));
    ASSERT_LE(risk_exact, Int128{budget} * 100'000'000) << i;
    ASSERT_LE(static_cast<double>(risk_exact) / 1e16,
              p.risk_fraction * q.equity.to_double() * (1 + 1e-12) + 1e-8)
        << i;
    ASSERT_LE(d.risk_fraction_used, p.risk_fraction * (1 + 1e-9) + 1e-8 / q.equity.to_double());
    // The instrument helper agrees the order is valid (limit: entry is on the tick grid).
    ASSERT_EQ(kinetic::risk::check_order(r, q.side, q.type, q.entry, d.qty), RejectReason::none)
        << i;
    // Leverage allowed, within the parameter, and the margin fits.
    ASSERT_TRUE(kinetic::risk::is_allowed_leverage(r, d.leverage)) << i;
    ASSERT_LE(d.leverage.to_double(), p.max_leverage);
    ASSERT_LE(notional_exact, Int128{q.available_margin.raw()} * d.leverage.raw()) << i;
    ASSERT_LE(d.initial_margin, q.available_margin);
    // Smallest such leverage: the allowed value just below it would not fit.
    const std::int64_t above_min = d.leverage.raw() - r.min_leverage.raw();
    const std::int64_t lower_raw =
        r.min_leverage.raw() + (above_min % r.leverage_step.raw() == 0
                                    ? above_min - r.leverage_step.raw()
                                    : above_min / r.leverage_step.raw() * r.leverage_step.raw());
    if (lower_raw >= r.min_leverage.raw()) {
      ASSERT_GT(notional_exact, Int128{q.available_margin.raw()} * lower_raw) << i;
    }
  }
  // The generator must exercise both outcomes and several bounds, or the test proves little.
  std::printf("accepted %d of 200000; by bound:", accepted);
  for (int b = 0; b < 9; ++b) {
    std::printf(" %s=%d", std::string(to_string(static_cast<SizeBound>(b))).c_str(), by_bound[b]);
  }
  std::printf("\nrejected by reason:");
  for (int r = 1; r < 23; ++r) {
    if (by_reason[r] != 0) {
      std::printf(" %s=%d", std::string(to_string(static_cast<RejectReason>(r))).c_str(),
                  by_reason[r]);
    }
  }
  std::printf("\n");
  EXPECT_GT(accepted, 20'000);
  for (const SizeBound b :
       {SizeBound::kelly, SizeBound::risk_fraction, SizeBound::max_order_qty, SizeBound::margin,
        SizeBound::minimum, SizeBound::symbol_exposure, SizeBound::total_exposure}) {
    EXPECT_GT(by_bound[static_cast<int>(b)], 100) << to_string(b);
  }
  for (const RejectReason reason :
       {RejectReason::qty_below_min, RejectReason::notional_below_min,
        RejectReason::insufficient_margin, RejectReason::reward_risk_too_low, RejectReason::no_edge,
        RejectReason::symbol_exposure_limit, RejectReason::total_exposure_limit}) {
    EXPECT_GT(by_reason[static_cast<int>(reason)], 100) << to_string(reason);
  }
}

// ---------------------------------------------------------------------------------------------
// Allocation

TEST(SizingAllocation, NoAllocationAcross100kCalls) {
  const InstrumentRules rules = btc_rules();
  const SizingParams params{};
  SizeRequest q = btc_request();
  std::int64_t checksum = 0;
  PriceVolatility vol(256);
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (int i = 0; i < 100'000; ++i) {
      q.stop = Price::from_raw(px("64870").raw() - (i % 1000) * 1'000'000);
      q.available_margin = Amount::from_units(1000 + i % 20'000);
      const SizeDecision d = size_order(q, rules, params);
      checksum += d.qty.raw() + static_cast<std::int64_t>(d.reason);
      (void)vol.add(Price::from_raw(q.stop.raw()));
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(checksum, 0);
  // The counter does see allocations (else the zero above would prove nothing).
  EXPECT_GE(kinetic::test::count_allocations([] {
              std::vector<int> v(16);
              v[0] = 1;
            }),
            1u);
  EXPECT_GT(vol.sigma(), 0.0);
}

}  // namespace
