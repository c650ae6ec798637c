// Tests of the RiskManager: an entry through every stage, each stage's refusal, exits in
// every kill-switch state, the configuration mapping, a property test over random entries
// and no allocation per check.
#include "kinetic/core/risk/risk_manager.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "alloc_counter.hpp"
#include "kinetic/core/config.hpp"
#include "kinetic/core/math/random.hpp"

namespace kinetic::risk {
namespace {

constexpr TimestampNs kSecond = 1'000'000'000;
constexpr TimestampNs kStart = 1'767'225'600 * kSecond;

Price price(const char* text) {
  return Price::parse(text).value();
}
Qty qty(const char* text) {
  return Qty::parse(text).value();
}
Amount amount(const char* text) {
  return Amount::parse(text).value();
}

/// Bybit's published BTCUSDT linear rules (the documentation example).
InstrumentRules btc_rules() {
  InstrumentRules rules;
  std::strcpy(rules.symbol, "BTCUSDT");
  rules.tick_size = price("0.1");
  rules.min_price = price("0.1");
  rules.max_price = price("1999999.8");
  rules.qty_step = qty("0.001");
  rules.min_order_qty = qty("0.001");
  rules.max_order_qty = qty("1190");
  rules.max_market_order_qty = qty("500");
  rules.min_notional = amount("5");
  rules.min_leverage = amount("1");
  rules.max_leverage = amount("100");
  rules.leverage_step = amount("0.01");
  return rules;
}

struct Fixture {
  RiskParams params;
  InstrumentRules rules = btc_rules();
  std::unique_ptr<RiskManager> manager;
  TimestampNs now = kStart;

  explicit Fixture(const RiskParams& p = RiskParams{}, const char* equity = "10000") : params(p) {
    manager = std::make_unique<RiskManager>(params, std::span<const InstrumentRules>(&rules, 1),
                                            amount(equity), now);
  }

  /// Trades alternating 65000 ± 5 (σ of price exactly 5), enough to fill the σ window.
  void warm_up() {
    for (std::uint32_t i = 0; i < params.sizing.volatility_window + 64; ++i) {
      now += 100'000'000;
      (void)manager->on_trade(0, i % 2 == 0 ? price("64995") : price("65005"), qty("0.01"), now);
    }
    // End on 65000 so the band is measured from it.
    now += 100'000'000;
    (void)manager->on_trade(0, price("65000"), qty("0.01"), now);
  }

  EntryProposal long_entry(const char* target = "65100") const {
    EntryProposal proposal;
    proposal.symbol = 0;
    proposal.side = Side::buy;
    proposal.type = OrderType::market;
    proposal.entry = price("65000");
    proposal.target = price(target);
    proposal.confidence = 1.0;
    proposal.now = now;
    return proposal;
  }
};

TEST(RiskManager, AcceptedEntryRespectsEveryRule) {
  Fixture f;
  f.warm_up();
  const RiskDecision decision = f.manager->check_entry(f.long_entry());
  ASSERT_TRUE(decision.accepted()) << to_string(decision.reason);
  const OrderIntent& order = decision.order;
  EXPECT_EQ(order.side, Side::buy);
  EXPECT_EQ(order.type, OrderType::market);
  EXPECT_FALSE(order.reduce_only);
  // Stop 2σ below the entry: σ ≈ 5, so about 64990, on the tick, below the entry.
  EXPECT_LT(order.stop_loss, price("65000"));
  EXPECT_GT(order.stop_loss, price("64980"));
  EXPECT_EQ(order.stop_loss.raw() % f.rules.tick_size.raw(), 0);
  EXPECT_EQ(order.take_profit, price("65100"));
  // On the step, within the exchange limits, and never more than 2% of equity at risk.
  EXPECT_EQ(order.qty.raw() % f.rules.qty_step.raw(), 0);
  EXPECT_EQ(check_order(f.rules, order.side, order.type, price("65000"), order.qty),
            RejectReason::none);
  EXPECT_LE(decision.risk_amount, amount("200"));
  EXPECT_GT(decision.risk_amount, Amount{});
  EXPECT_NE(decision.bound, SizeBound::none);
  EXPECT_GE(decision.leverage, amount("1"));
  EXPECT_DOUBLE_EQ(decision.win_probability, 0.55);  // the prior: no trade has closed
}

TEST(RiskManager, EachStageRefusesWithItsReason) {
  {
    Fixture f;  // no trades yet: no σ for the stop
    EXPECT_EQ(f.manager->check_entry(f.long_entry()).reason, RejectReason::no_volatility);
  }
  {
    Fixture f;
    f.warm_up();
    EntryProposal flagged = f.long_entry();
    flagged.flagged_tick = true;
    EXPECT_EQ(f.manager->check_entry(flagged).reason, RejectReason::flagged_market_data);
  }
  {
    Fixture f;
    f.warm_up();
    // Reward 10 against a stop about 10 away: reward/risk ≈ 1 < 1.5.
    EXPECT_EQ(f.manager->check_entry(f.long_entry("65010")).reason,
              RejectReason::reward_risk_too_low);
    // Target below a long entry.
    EXPECT_EQ(f.manager->check_entry(f.long_entry("64900")).reason, RejectReason::invalid_stop);
  }
  {
    Fixture f;
    f.warm_up();
    EntryProposal far = f.long_entry("75000");
    far.type = OrderType::limit;
    far.entry = price("70000");  // 7.7% above the last trade: a fat finger
    EXPECT_EQ(f.manager->check_entry(far).reason, RejectReason::price_band);
  }
  {
    Fixture f;
    f.warm_up();
    f.manager->kill_switch().halt(f.now);
    EXPECT_EQ(f.manager->check_entry(f.long_entry()).reason, RejectReason::halted);
  }
  {
    Fixture f;
    f.warm_up();
    // One trade lost 6% of equity: REDUCING, so entries must wait.
    f.manager->on_trade_closed(f.now, amount("-600"), amount("9400"));
    EXPECT_EQ(f.manager->kill_switch().state(), TradingState::reducing);
    EXPECT_EQ(f.manager->check_entry(f.long_entry()).reason, RejectReason::reduce_only_required);
  }
}

TEST(RiskManager, ExposureLimitCutsTheSizeAndSaysSo) {
  RiskParams params;
  params.portfolio.max_symbol_exposure_bps = 100;  // 1% of 10000 = 100 USDT of BTC
  Fixture f(params);
  f.warm_up();
  const RiskDecision decision = f.manager->check_entry(f.long_entry());
  ASSERT_TRUE(decision.accepted()) << to_string(decision.reason);
  // 100 / 65000 = 0.00153… → 0.001 on the step.
  EXPECT_EQ(decision.order.qty, qty("0.001"));
  EXPECT_EQ(decision.bound, SizeBound::symbol_exposure);
}

TEST(RiskManager, OrderNotionalLimitBoundsTheSize) {
  RiskParams params;
  params.portfolio.max_symbol_exposure_bps = 50'000;  // 5× equity: out of the way
  params.portfolio.max_total_exposure_bps = 50'000;
  params.pre_trade.max_order_notional = amount("500");
  Fixture f(params);
  f.warm_up();
  const RiskDecision decision = f.manager->check_entry(f.long_entry());
  ASSERT_TRUE(decision.accepted()) << to_string(decision.reason);
  EXPECT_EQ(decision.bound, SizeBound::order_notional);
  EXPECT_EQ(decision.order.qty, qty("0.007"));        // 500 / 65000 = 0.00769…
  params.pre_trade.max_order_notional = amount("4");  // below BTC's 5 USDT minimum notional
  Fixture tiny(params);
  tiny.warm_up();
  EXPECT_EQ(tiny.manager->check_entry(tiny.long_entry()).reason,
            RejectReason::order_notional_limit);
}

TEST(RiskManager, LimitEntryIsSizedAtItsPriceOnTheTick) {
  RiskParams params;
  params.portfolio.max_symbol_exposure_bps = 200;  // 2% of 10000 = 200 USDT of BTC
  Fixture f(params);
  f.warm_up();
  EntryProposal sell;
  sell.symbol = 0;
  sell.side = Side::sell;
  sell.type = OrderType::limit;
  sell.entry = Price::from_raw(price("65000.05").raw());  // between ticks: up, passive
  sell.target = price("64900");
  sell.confidence = 1.0;
  sell.now = f.now;
  const RiskDecision decision = f.manager->check_entry(sell);
  ASSERT_TRUE(decision.accepted()) << to_string(decision.reason);
  EXPECT_EQ(decision.order.price, price("65000.1"));
  EXPECT_EQ(decision.order.tif, TimeInForce::gtc);
  EXPECT_GT(decision.order.stop_loss, price("65000.1"));  // stopped from the order's price
  EXPECT_EQ(decision.order.qty, qty("0.003"));            // 200 / 65000.1 = 0.00307…
  EXPECT_EQ(decision.bound, SizeBound::symbol_exposure);
}

TEST(RiskManager, TinyBalanceIsSizedOrRefusedWithAReason) {
  // 1 USDT of equity: BTC's smallest order (0.001 × 65000 = 65 USDT of notional) risks only
  // 0.001 × ~10 = 0.01 USDT at the stop (within 2% of 1), but needs 6.5 USDT of margin at the
  // highest leverage allowed (10): with exposure limits that allow it (up to 100× equity),
  // refused for margin, with that reason.
  RiskParams loose;
  loose.portfolio.max_symbol_exposure_bps = 1'000'000;
  loose.portfolio.max_total_exposure_bps = 1'000'000;
  Fixture f(loose, "1");
  f.warm_up();
  const RiskDecision decision = f.manager->check_entry(f.long_entry());
  EXPECT_FALSE(decision.accepted());
  EXPECT_EQ(decision.reason, RejectReason::insufficient_margin) << to_string(decision.reason);

  // Under the default limits (20% of equity per symbol: 0.2 USDT) the exposure room is the
  // tighter limit, and the refusal names it.
  Fixture tight(RiskParams{}, "1");
  tight.warm_up();
  EXPECT_EQ(tight.manager->check_entry(tight.long_entry()).reason,
            RejectReason::symbol_exposure_limit);
}

TEST(RiskManager, ExitClosesTheWholePositionEvenWhenHalted) {
  Fixture f;
  f.warm_up();
  EXPECT_EQ(f.manager->check_exit(0, f.now).reason, RejectReason::no_position);
  f.manager->on_fill(0, Side::buy, qty("0.25"), price("65000"));
  f.manager->kill_switch().halt(f.now);
  const RiskDecision exit = f.manager->check_exit(0, f.now);
  ASSERT_TRUE(exit.accepted()) << to_string(exit.reason);
  EXPECT_EQ(exit.order.side, Side::sell);
  EXPECT_EQ(exit.order.qty, qty("0.25"));
  EXPECT_TRUE(exit.order.reduce_only);
  EXPECT_EQ(exit.order.type, OrderType::market);
  EXPECT_TRUE(f.manager->kill_switch().take_actions().close_all);
}

TEST(RiskManager, SizedIntentsAreCheckedWithoutBeingResized) {
  RiskParams params;
  params.portfolio.max_symbol_exposure_bps = 1000;  // 10% of 10000 = 1000 USDT of BTC
  Fixture f(params);
  f.warm_up();
  OrderIntent order{};
  order.symbol = 0;
  order.side = Side::buy;
  order.type = OrderType::limit;
  order.tif = TimeInForce::gtc;
  order.price = price("64990");
  order.qty = qty("0.015");  // 974.85 USDT: within the 1000 limit
  EXPECT_EQ(f.manager->check_intent(order, f.now), RejectReason::none);
  order.qty = qty("0.016");  // 1039.84 USDT: over it, and not cut down here
  EXPECT_EQ(f.manager->check_intent(order, f.now), RejectReason::symbol_exposure_limit);
  order.qty = qty("0.0155");  // off the 0.001 step
  EXPECT_EQ(f.manager->check_intent(order, f.now), RejectReason::invalid_input);
  order.qty = qty("0.01");
  order.price = price("69000");  // 6.2% above the last trade (690 USDT: within exposure)
  EXPECT_EQ(f.manager->check_intent(order, f.now), RejectReason::price_band);
  order.price = price("64990");
  order.qty = qty("0.015");
  f.manager->kill_switch().halt(f.now);
  EXPECT_EQ(f.manager->check_intent(order, f.now), RejectReason::halted);
  f.manager->on_fill(0, Side::buy, qty("0.015"), price("64990"));
  OrderIntent close{};
  close.symbol = 0;
  close.side = Side::sell;
  close.type = OrderType::market;
  close.tif = TimeInForce::ioc;
  close.qty = qty("0.015");
  close.reduce_only = true;
  EXPECT_EQ(f.manager->check_intent(close, f.now), RejectReason::none)
      << "a reduce-only close passes a HALTED switch";
}

TEST(RiskManager, ClosedTradesMoveKellysWinProbability) {
  RiskParams params;
  params.prior_win_probability = 0.5;
  params.prior_trades = 2;
  Fixture f(params);
  f.warm_up();
  f.manager->on_trade_closed(f.now, amount("10"), amount("10010"));
  f.manager->on_trade_closed(f.now, amount("10"), amount("10020"));
  // (2 wins + 0.5 × 2) / (2 + 2) = 0.75
  EXPECT_DOUBLE_EQ(f.manager->trade_statistics().win_probability(), 0.75);
  EXPECT_DOUBLE_EQ(f.manager->check_entry(f.long_entry()).win_probability, 0.75);
}

TEST(RiskManager, ConfigurationMapsEveryLimit) {
  const RiskParams defaults = risk_params(default_config());
  EXPECT_TRUE(defaults.valid());
  EXPECT_EQ(defaults.kill_switch.max_drawdown_bps, 1500);
  EXPECT_EQ(defaults.kill_switch.max_daily_loss_bps, 800);
  EXPECT_EQ(defaults.kill_switch.max_trade_loss_bps, 500);
  EXPECT_EQ(defaults.kill_switch.max_error_rate_bps, 1000);
  EXPECT_EQ(defaults.kill_switch.stale_data_timeout_ns, 60 * kSecond);
  EXPECT_EQ(defaults.sizing.risk_fraction, 0.02);
  EXPECT_EQ(defaults.sizing.min_reward_risk, 1.5);
  EXPECT_EQ(defaults.portfolio.max_symbol_exposure_bps, 30'000U);
  EXPECT_EQ(defaults.pre_trade.price_band_bps, 500);
  EXPECT_EQ(defaults.pre_trade.max_order_notional, amount("1000000"));
  EXPECT_EQ(defaults.validation.price_sigmas, 5.0);
  EXPECT_EQ(defaults.validation.volume_multiple, 3.0);
  const Config custom = load_config_from_string(
      "[risk]\nmax_drawdown = 0.1\nprice_band = 0.01\nflagged_ticks = \"pass\"\n"
      "max_symbol_exposure = 0.5\nduplicate_window_ms = 200\n",
      "custom.toml", empty_environment());
  const RiskParams params = risk_params(custom);
  EXPECT_EQ(params.kill_switch.max_drawdown_bps, 1000);
  EXPECT_EQ(params.pre_trade.price_band_bps, 100);
  EXPECT_EQ(params.validation.policy, FlaggedTickPolicy::pass_with_flag);
  EXPECT_EQ(params.portfolio.max_symbol_exposure_bps, 5000U);
  EXPECT_EQ(params.pre_trade.duplicate_window_ns, 200'000'000);
}

// Random entries against random markets: whatever is accepted is on the exchange's grid,
// within its limits, and risks at most 2% of equity.
TEST(RiskManagerProperty, AcceptedEntriesNeverBreakTheRules) {
  math::Rng rng(2024);
  int accepted = 0;
  for (int run = 0; run < 200; ++run) {
    const double equity = std::exp(std::log(1.0) + rng.uniform() * std::log(1e6));  // 1 .. 1e6
    char equity_text[32];
    std::snprintf(equity_text, sizeof equity_text, "%.2f", equity < 0.01 ? 0.01 : equity);
    Fixture f(RiskParams{}, equity_text);
    const double sigma = 1.0 + 200.0 * rng.uniform();
    double p = 65000.0;
    for (std::uint32_t i = 0; i < f.params.sizing.volatility_window + 10; ++i) {
      f.now += 50'000'000;
      p += sigma * rng.normal() * 0.5;
      const auto px = Price::from_double(std::round(p * 10.0) / 10.0).value();
      (void)f.manager->on_trade(0, px, qty("0.01"), f.now);
    }
    const Price last = f.manager->last_price(0);
    for (int k = 0; k < 20; ++k) {
      EntryProposal proposal;
      proposal.side = rng.uniform() < 0.5 ? Side::buy : Side::sell;
      proposal.type = rng.uniform() < 0.5 ? OrderType::market : OrderType::limit;
      proposal.entry = last;
      const double move = (rng.uniform() * 10.0) * sigma * (proposal.side == Side::buy ? 1 : -1);
      proposal.target = Price::from_double(last.to_double() + move).value();
      proposal.confidence = rng.uniform();
      proposal.now = f.now;
      const RiskDecision d = f.manager->check_entry(proposal);
      if (!d.accepted())
        continue;
      ++accepted;
      const OrderIntent& o = d.order;
      const Price reference = o.type == OrderType::limit ? o.price : last;
      ASSERT_EQ(check_order(f.rules, o.side, o.type, reference, o.qty), RejectReason::none);
      ASSERT_EQ(o.qty.raw() % f.rules.qty_step.raw(), 0);
      ASSERT_LE(d.risk_amount.to_double(), 0.02 * f.manager->equity().to_double() + 1e-8);
      ASSERT_LE(notional(reference, o.qty).value(), f.params.pre_trade.max_order_notional);
      // Filled at its price, the position keeps within the portfolio's limits.
      f.manager->on_fill(0, o.side, o.qty, reference);
      const PortfolioLimits& book = f.manager->portfolio();
      ASSERT_LE(book.position(0).exposure, book.symbol_exposure_limit(f.manager->equity()));
      ASSERT_LE(book.total_exposure(), book.total_exposure_limit(f.manager->equity()));
      f.manager->on_order_sent(o, f.now);
      f.now += kSecond;  // keep clear of the rate limit and the duplicate guard
    }
  }
  EXPECT_GT(accepted, 100) << "the property must be exercised";
}

TEST(RiskManager, FullCheckAllocatesNothing) {
  Fixture f;
  f.warm_up();
  std::uint64_t accepted = 0;
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int i = 0; i < 100'000; ++i) {
      f.now += 1'000'000;
      (void)f.manager->on_trade(0, i % 2 == 0 ? price("64995") : price("65005"), qty("0.01"),
                                f.now);
      f.manager->on_timer(f.now);
      EntryProposal proposal = f.long_entry();
      proposal.now = f.now;
      accepted += f.manager->check_entry(proposal).accepted() ? 1U : 0U;
    }
  });
  EXPECT_EQ(allocations, 0U);
  EXPECT_GT(accepted, 0U);
}

}  // namespace
}  // namespace kinetic::risk
