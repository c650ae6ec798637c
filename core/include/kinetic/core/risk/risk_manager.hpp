#pragma once
// RiskManager: every order intent passes through here before it may be sent.
//
// It owns, per symbol, the instrument rules, the σ of price behind the volatility stop, the
// last trade price and the tick validator's statistics; and, for the account, the portfolio
// limits, the return correlations, the kill switch, the pre-trade gate and the closed-trade
// statistics that give Kelly its win probability.
//
// An entry (check_entry) is decided in this order; the first refusal wins and carries its
// RejectReason:
//   1. the tick that triggered it failed data validation (policy drop) → flagged_market_data;
//   2. the kill switch: HALTED → halted, REDUCING → reduce_only_required (an entry adds risk);
//   3. the volatility stop: stop = entry ∓ k σ (no σ yet → no_volatility), where a limit
//      order's entry is its price rounded onto the tick toward the passive side;
//   4. the portfolio (portfolio.hpp's entry_room): open positions, correlation with open
//      positions on the same side, and the exposure room, which becomes a bound on the size;
//   5. sizing (sizing.hpp): stop and target on the right sides, reward/risk ≥ the minimum,
//      Kelly (p from the closed trades with a prior, b and a from the target and stop
//      distances) against the risk fraction (scaled by confidence), the instrument's
//      maximum, the exposure room and the pre-trade gate's maximum order notional (the size
//      then says it was bound by symbol_exposure, total_exposure or order_notional), the
//      free margin, rounding to the step, the exchange minimums, leverage on the instrument's
//      grid that fits the free margin. The size is computed once within every limit, so it
//      meets the instrument rules at the entry without a second check;
//   6. the pre-trade gate (price band, order notional, orders per second, duplicates).
// An exit (check_exit) is a reduce-only market order for the whole position; it passes even
// when the kill switch is HALTED (closing is what HALTED asks for), but not the rate limit.
//
// Free margin is taken as equity − Σ exposure / max_leverage: every open position is assumed
// to use the highest leverage allowed, the least margin it could need. That is optimistic by
// design only where leverage is uniform; the exchange's own margin check remains the last word.
//
// Hot path: every call is noexcept and allocates nothing; construct it once at start-up (it is
// large — keep it in a unique_ptr). Not thread-safe: the strategy/risk thread owns it, and time
// is always passed in.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/math/correlation.hpp"
#include "kinetic/core/risk/data_validation.hpp"
#include "kinetic/core/risk/instrument.hpp"
#include "kinetic/core/risk/kill_switch.hpp"
#include "kinetic/core/risk/portfolio.hpp"
#include "kinetic/core/risk/pre_trade.hpp"
#include "kinetic/core/risk/reasons.hpp"
#include "kinetic/core/risk/sizing.hpp"
#include "kinetic/core/risk/trade_statistics.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic {
struct Config;
}

namespace kinetic::risk {

/// Every parameter of the risk manager. Plain aggregate; see risk_params(Config).
struct RiskParams {
  SizingParams sizing{};
  PortfolioParams portfolio{};
  KillSwitchParams kill_switch{};
  PreTradeParams pre_trade{};
  TickValidatorParams validation{};
  math::ReturnCorrelationParams correlation{};
  double prior_win_probability = 0.55;
  double prior_trades = 20.0;

  [[nodiscard]] bool valid() const noexcept;
};

/// The risk manager's parameters from [risk] (and [exchange] for nothing yet). Start-up only.
[[nodiscard]] RiskParams risk_params(const Config& config);

/// What the strategy wants to do: open (or add to) a position on `side`.
struct EntryProposal {
  SymbolId symbol = 0;
  Side side = Side::none;
  OrderType type = OrderType::market;
  Price entry{};            ///< limit price, or the expected fill of a market order
  Price target{};           ///< take-profit: the Taylor forecast
  double confidence = 0.0;  ///< the combined signal's confidence, [0, 1]
  TimestampNs now = 0;
  bool flagged_tick = false;  ///< the triggering tick failed data validation
};

/// The answer: an order ready to send, or the reason there is none. Plain aggregate.
struct RiskDecision {
  RejectReason reason = RejectReason::none;
  SizeBound bound = SizeBound::none;  ///< which limit decided the size (accepted entries)
  OrderIntent order{};                ///< the order when accepted; when the instrument rules or
                                      ///< the pre-trade gate refused, the order they refused
  Amount leverage{};
  Amount risk_amount{};  ///< loss at the stop
  double win_probability = 0.0;
  double kelly_fraction = 0.0;

  [[nodiscard]] constexpr bool accepted() const noexcept { return reason == RejectReason::none; }
};

/// See the file comment. Fixed capacity: symbol ids 0 .. kMaxSymbols − 1.
class RiskManager {
 public:
  static constexpr std::size_t kMaxSymbols = 16;

  /// `instruments[i]` are the rules of symbol id i (at most kMaxSymbols). Preconditions:
  /// params.valid(), every rule valid(), equity > 0.
  RiskManager(const RiskParams& params, std::span<const InstrumentRules> instruments, Amount equity,
              TimestampNs now) noexcept;

  /// A trade print: data validation, σ of price, last price, correlation input, and the
  /// kill switch's data clock. Returns the validator's verdict (drop it when `drop`).
  TickVerdict on_trade(SymbolId symbol, Price price, Qty qty, TimestampNs now) noexcept;

  /// Periodic work: the kill switch's staleness check and the correlation sampling grid.
  void on_timer(TimestampNs now) noexcept;

  /// Sizes and checks an entry; see the file comment for the order of the checks.
  [[nodiscard]] RiskDecision check_entry(const EntryProposal& proposal) noexcept;

  /// Checks an order that is already sized (an operator's order, a strategy that sizes
  /// itself, a retry): the kill switch (HALTED and REDUCING pass reduce-only orders only),
  /// the instrument rules, the portfolio limits for an order that adds exposure (no cutting
  /// down here: too large is refused), and the pre-trade gate. `reference` is the price of a
  /// market order's notional (the last trade when zero).
  [[nodiscard]] RejectReason check_intent(const OrderIntent& order, TimestampNs now,
                                          Price reference = Price{}) const noexcept;

  /// A reduce-only market order closing the whole position of `symbol` (none when flat).
  [[nodiscard]] RiskDecision check_exit(SymbolId symbol, TimestampNs now) noexcept;

  /// The order went out: rate limit and duplicate memory, the kill switch's error window.
  void on_order_sent(const OrderIntent& order, TimestampNs now) noexcept;
  /// The exchange refused an order we sent.
  void on_order_rejected(TimestampNs now) noexcept;
  /// One of our orders filled: the portfolio's position.
  void on_fill(SymbolId symbol, Side side, Qty qty, Price price) noexcept;
  /// A position closed with this realised P&L (after fees): trade statistics, kill switch.
  void on_trade_closed(TimestampNs now, Amount pnl, Amount equity) noexcept;
  /// Account equity (marked to market): drawdown and daily-loss triggers, sizing.
  void on_equity(TimestampNs now, Amount equity) noexcept;

  [[nodiscard]] KillSwitch& kill_switch() noexcept { return kill_switch_; }
  [[nodiscard]] const KillSwitch& kill_switch() const noexcept { return kill_switch_; }
  [[nodiscard]] const PortfolioLimits& portfolio() const noexcept { return portfolio_; }
  [[nodiscard]] const TradeStatistics& trade_statistics() const noexcept { return statistics_; }
  [[nodiscard]] double price_sigma(SymbolId symbol) const noexcept;
  [[nodiscard]] Price last_price(SymbolId symbol) const noexcept;
  [[nodiscard]] const RiskParams& params() const noexcept { return params_; }
  [[nodiscard]] Amount equity() const noexcept { return equity_; }

 private:
  struct SymbolState {
    InstrumentRules rules{};
    SizingLimits limits{};  // the order-independent part of sizing, computed once
    PriceVolatility volatility{};
    double sigma = 0.0;  // σ of price over the window, kept current by on_trade
    Price last_price{};
    bool known = false;
  };

  [[nodiscard]] Amount free_margin() const noexcept;
  /// check_entry's checks, filling `decision` in place; returns its reason.
  [[nodiscard]] RejectReason decide_entry(const EntryProposal& proposal,
                                          RiskDecision& decision) noexcept;
  /// The state the pre-trade gate sees for an order that got past the kill switch: closing is
  /// allowed in every state (HALTED asks for it), so REDUCING at worst.
  [[nodiscard]] TradingState gate_state() const noexcept {
    return kill_switch_.state() == TradingState::active ? TradingState::active
                                                        : TradingState::reducing;
  }
  [[nodiscard]] RiskDecision reject(RejectReason reason) const noexcept {
    RiskDecision decision;
    decision.reason = reason;
    return decision;
  }

  RiskParams params_;
  std::array<SymbolState, kMaxSymbols> symbols_{};
  PortfolioLimits portfolio_;
  math::ReturnCorrelation correlation_;
  KillSwitch kill_switch_;
  PreTradeChecks pre_trade_;
  TickValidator validator_;
  TradeStatistics statistics_;
  Amount equity_{};
  double inverse_max_leverage_ = 0.1;  // 1 / params.sizing.max_leverage
  int128 max_order_value_ = 0;         // the gate's max_order_notional as price.raw() × qty.raw()
  std::uint64_t next_order_id_ = 1;
};

}  // namespace kinetic::risk
