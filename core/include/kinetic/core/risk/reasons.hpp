#pragma once
// The risk manager's vocabulary: why an order was refused, what bound an accepted size, and
// the kill switch's states and triggers. Shared by every part of core/risk so that a
// rejection anywhere carries one reason code the engine, the logs and `kinetic quant size`
// all understand.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kinetic::risk {

/// Why an order (or a size) was refused. `none` (zero) means accepted.
enum class RejectReason : std::uint8_t {
  none = 0,
  // Input and instrument rules.
  invalid_input,         ///< NaN, non-positive price, equity ≤ 0, ... in the request
  qty_below_min,         ///< below minOrderQty after rounding down to qtyStep
  qty_above_max,         ///< above maxOrderQty
  qty_above_max_market,  ///< a market order above maxMktOrderQty
  notional_below_min,    ///< price × qty below minNotionalValue
  price_out_of_range,    ///< outside the instrument's minPrice..maxPrice
  // Sizing.
  no_edge,              ///< Kelly fraction ≤ 0: the win/loss statistics give no edge
  invalid_stop,         ///< stop on the wrong side of the entry, or at the entry
  reward_risk_too_low,  ///< |target − entry| / |entry − stop| below the minimum
  insufficient_margin,  ///< no allowed leverage lets the minimum size fit the margin
  zero_size,            ///< the limits leave less than one quantity step
  // Portfolio.
  symbol_exposure_limit,  ///< the symbol's exposure would exceed its maximum
  total_exposure_limit,   ///< the total exposure would exceed its maximum
  max_open_positions,     ///< a new position beyond the maximum number
  correlated_position,    ///< too correlated with an open position in the same direction
  // Pre-trade checks.
  price_band,            ///< fat finger: too far from the last trade
  order_notional_limit,  ///< above the maximum notional of one order
  order_rate_limit,      ///< above the maximum orders per second
  duplicate_order,       ///< same symbol, side, qty and price as a recent order
  reduce_only_required,  ///< the kill switch is REDUCING and the order would not reduce
  // Kill switch and data.
  halted,               ///< the kill switch is HALTED
  flagged_market_data,  ///< the tick that triggered the order failed data validation
  no_volatility,        ///< the σ of price behind the stop is not known yet (window filling)
  no_position,          ///< an exit for a symbol that has no position
};

/// One past the largest RejectReason: the size of a table indexed by reason.
inline constexpr std::size_t kRejectReasonCount =
    static_cast<std::size_t>(RejectReason::no_position) + 1;

[[nodiscard]] constexpr std::string_view to_string(RejectReason reason) noexcept {
  switch (reason) {
    case RejectReason::none:
      return "none";
    case RejectReason::invalid_input:
      return "invalid_input";
    case RejectReason::qty_below_min:
      return "qty_below_min";
    case RejectReason::qty_above_max:
      return "qty_above_max";
    case RejectReason::qty_above_max_market:
      return "qty_above_max_market";
    case RejectReason::notional_below_min:
      return "notional_below_min";
    case RejectReason::price_out_of_range:
      return "price_out_of_range";
    case RejectReason::no_edge:
      return "no_edge";
    case RejectReason::invalid_stop:
      return "invalid_stop";
    case RejectReason::reward_risk_too_low:
      return "reward_risk_too_low";
    case RejectReason::insufficient_margin:
      return "insufficient_margin";
    case RejectReason::zero_size:
      return "zero_size";
    case RejectReason::symbol_exposure_limit:
      return "symbol_exposure_limit";
    case RejectReason::total_exposure_limit:
      return "total_exposure_limit";
    case RejectReason::max_open_positions:
      return "max_open_positions";
    case RejectReason::correlated_position:
      return "correlated_position";
    case RejectReason::price_band:
      return "price_band";
    case RejectReason::order_notional_limit:
      return "order_notional_limit";
    case RejectReason::order_rate_limit:
      return "order_rate_limit";
    case RejectReason::duplicate_order:
      return "duplicate_order";
    case RejectReason::reduce_only_required:
      return "reduce_only_required";
    case RejectReason::halted:
      return "halted";
    case RejectReason::flagged_market_data:
      return "flagged_market_data";
    case RejectReason::no_volatility:
      return "no_volatility";
    case RejectReason::no_position:
      return "no_position";
  }
  return "unknown";
}

/// Which limit decided an accepted size (the smallest of the candidates).
enum class SizeBound : std::uint8_t {
  none = 0,
  kelly,            ///< the fractional Kelly size
  risk_fraction,    ///< risk_fraction × equity / stop distance (scaled by confidence)
  symbol_exposure,  ///< room left under the symbol's exposure limit
  total_exposure,   ///< room left under the total exposure limit
  order_notional,   ///< the maximum notional of one order
  max_order_qty,    ///< the instrument's maxOrderQty (or maxMktOrderQty for market orders)
  margin,           ///< what the available margin allows at the highest allowed leverage
  minimum,          ///< raised to the exchange minimum (allowed when it stays within risk)
};

[[nodiscard]] constexpr std::string_view to_string(SizeBound bound) noexcept {
  switch (bound) {
    case SizeBound::none:
      return "none";
    case SizeBound::kelly:
      return "kelly";
    case SizeBound::risk_fraction:
      return "risk_fraction";
    case SizeBound::symbol_exposure:
      return "symbol_exposure";
    case SizeBound::total_exposure:
      return "total_exposure";
    case SizeBound::order_notional:
      return "order_notional";
    case SizeBound::max_order_qty:
      return "max_order_qty";
    case SizeBound::margin:
      return "margin";
    case SizeBound::minimum:
      return "minimum";
  }
  return "unknown";
}

/// The refusal that goes with a limit on the size when not even the exchange minimum fits
/// under it: symbol_exposure → symbol_exposure_limit, total_exposure → total_exposure_limit,
/// order_notional → order_notional_limit, margin → insufficient_margin; zero_size otherwise.
[[nodiscard]] constexpr RejectReason refusal_for(SizeBound bound) noexcept {
  switch (bound) {
    case SizeBound::symbol_exposure:
      return RejectReason::symbol_exposure_limit;
    case SizeBound::total_exposure:
      return RejectReason::total_exposure_limit;
    case SizeBound::order_notional:
      return RejectReason::order_notional_limit;
    case SizeBound::margin:
      return RejectReason::insufficient_margin;
    default:
      return RejectReason::zero_size;
  }
}

/// The kill switch's latching states, in order of severity.
enum class TradingState : std::uint8_t { active = 0, reducing, halted };

[[nodiscard]] constexpr std::string_view to_string(TradingState state) noexcept {
  switch (state) {
    case TradingState::active:
      return "ACTIVE";
    case TradingState::reducing:
      return "REDUCING";
    case TradingState::halted:
      return "HALTED";
  }
  return "UNKNOWN";
}

/// What moved the kill switch.
enum class KillTrigger : std::uint8_t {
  none = 0,
  drawdown,    ///< equity below (1 − max_drawdown) × peak equity
  daily_loss,  ///< loss since the start of the UTC day above max_daily_loss × day-start equity
  trade_loss,  ///< one closed trade lost more than max_trade_loss × equity
  error_rate,  ///< rejected / sent orders over the window above max_error_rate
  stale_data,  ///< no market data for longer than the connectivity timeout
  manual,      ///< an operator command
};

[[nodiscard]] constexpr std::string_view to_string(KillTrigger trigger) noexcept {
  switch (trigger) {
    case KillTrigger::none:
      return "none";
    case KillTrigger::drawdown:
      return "drawdown";
    case KillTrigger::daily_loss:
      return "daily_loss";
    case KillTrigger::trade_loss:
      return "trade_loss";
    case KillTrigger::error_rate:
      return "error_rate";
    case KillTrigger::stale_data:
      return "stale_data";
    case KillTrigger::manual:
      return "manual";
  }
  return "unknown";
}

}  // namespace kinetic::risk
