#pragma once
// Exchange rules of one instrument (Bybit instruments-info) and the exact rounding and
// checks an order must pass before it may be sent.
//
// Everything below the rules struct is hot-path code: noexcept, no allocation, no floating
// point; errors are RejectReason values. All arithmetic is exact in 1e-8 fixed point (128-bit
// intermediates where a product could overflow).

#include <cstdint>
#include <limits>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/int128.hpp"
#include "kinetic/core/result.hpp"
#include "kinetic/core/risk/reasons.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::risk {

/// One instrument's trading rules, exact decimals as Bybit publishes them. Plain aggregate,
/// trivially copyable; read-only after start-up (any thread may read it then).
struct InstrumentRules {
  char symbol[16] = {};        ///< NUL-terminated, e.g. "BTCUSDT"
  Price tick_size{};           ///< priceFilter.tickSize
  Price min_price{};           ///< priceFilter.minPrice (0: none)
  Price max_price{};           ///< priceFilter.maxPrice (0: none)
  Qty qty_step{};              ///< lotSizeFilter.qtyStep
  Qty min_order_qty{};         ///< lotSizeFilter.minOrderQty
  Qty max_order_qty{};         ///< lotSizeFilter.maxOrderQty (limit orders)
  Qty max_market_order_qty{};  ///< lotSizeFilter.maxMktOrderQty (0: same as max_order_qty)
  Amount min_notional{};       ///< lotSizeFilter.minNotionalValue (0: none)
  Amount min_leverage{};       ///< leverageFilter.minLeverage (1 for spot)
  Amount max_leverage{};       ///< leverageFilter.maxLeverage (1 for spot)
  Amount leverage_step{};      ///< leverageFilter.leverageStep
};

/// True when the rules are usable by the functions below: a NUL-terminated non-empty symbol,
/// positive tick, quantity step and leverage step; 0 < min_order_qty ≤ max_order_qty (0 is
/// allowed for min_order_qty: the step is then the minimum); non-negative optional fields;
/// min_price ≤ max_price when both are set; 0 < min_leverage ≤ max_leverage.
[[nodiscard]] constexpr bool valid(const InstrumentRules& rules) noexcept {
  bool terminated = false;
  for (const char c : rules.symbol) {
    if (c == '\0') {
      terminated = true;
      break;
    }
  }
  if (!terminated || rules.symbol[0] == '\0')
    return false;
  if (rules.tick_size.raw() <= 0 || rules.qty_step.raw() <= 0)
    return false;
  if (rules.min_price.raw() < 0 || rules.max_price.raw() < 0)
    return false;
  if (!rules.min_price.is_zero() && !rules.max_price.is_zero() &&
      rules.min_price > rules.max_price) {
    return false;
  }
  if (rules.min_order_qty.raw() < 0 || rules.max_order_qty.raw() <= 0 ||
      rules.min_order_qty > rules.max_order_qty) {
    return false;
  }
  if (rules.max_market_order_qty.raw() < 0 || rules.min_notional.raw() < 0)
    return false;
  if (rules.min_leverage.raw() <= 0 || rules.max_leverage < rules.min_leverage ||
      rules.leverage_step.raw() <= 0) {
    return false;
  }
  return true;
}

/// The largest multiple of qty_step not further from zero than `qty` (toward zero, so a
/// negative quantity never grows in size). A non-positive step returns `qty` unchanged.
[[nodiscard]] inline Qty round_qty_down(const InstrumentRules& rules, Qty qty) noexcept {
  return qty.raw() >= 0 ? qty.round_down(rules.qty_step) : qty.round_up(rules.qty_step);
}

/// A limit price on the tick grid, rounded toward the passive side so that rounding never
/// makes the order more aggressive: buy down, sell up. Side::none rounds to the nearest tick
/// (ties away from zero).
[[nodiscard]] inline Price round_limit_price(const InstrumentRules& rules, Side side,
                                             Price price) noexcept {
  switch (side) {
    case Side::buy:
      return price.round_down(rules.tick_size);
    case Side::sell:
      return price.round_up(rules.tick_size);
    case Side::none:
      break;
  }
  return price.round_nearest(rules.tick_size);
}

/// The nearest tick (ties away from zero), e.g. for a stop or target level.
[[nodiscard]] inline Price round_price_nearest(const InstrumentRules& rules, Price price) noexcept {
  return price.round_nearest(rules.tick_size);
}

/// Checks an order against the instrument's rules; RejectReason::none when it passes.
/// `price_for_notional` is the limit price of a limit order, or the reference price (last
/// trade, best opposite quote) of a market order; it must be positive either way.
/// The first failing check decides, in this order:
///  1. invalid_input: side none, unknown type, price ≤ 0, qty ≤ 0, qty not a multiple of
///     qty_step, a limit price not a multiple of tick_size, a notional beyond range;
///  2. price_out_of_range: a limit price below min_price or above max_price (when set);
///  3. qty_below_min, qty_above_max, qty_above_max_market (market orders, when set);
///  4. notional_below_min: price × qty (exact, cut to 1e-8) below min_notional.
[[nodiscard]] inline RejectReason check_order(const InstrumentRules& rules, Side side,
                                              OrderType type, Price price_for_notional,
                                              Qty qty) noexcept {
  if (side != Side::buy && side != Side::sell)
    return RejectReason::invalid_input;
  if (type != OrderType::market && type != OrderType::limit)
    return RejectReason::invalid_input;
  if (price_for_notional.raw() <= 0 || qty.raw() <= 0)
    return RejectReason::invalid_input;
  if (!qty.is_multiple_of(rules.qty_step))
    return RejectReason::invalid_input;
  if (type == OrderType::limit) {
    if (!price_for_notional.is_multiple_of(rules.tick_size))
      return RejectReason::invalid_input;
    if (!rules.min_price.is_zero() && price_for_notional < rules.min_price) {
      return RejectReason::price_out_of_range;
    }
    if (!rules.max_price.is_zero() && price_for_notional > rules.max_price) {
      return RejectReason::price_out_of_range;
    }
  }
  if (qty < rules.min_order_qty)
    return RejectReason::qty_below_min;
  if (qty > rules.max_order_qty)
    return RejectReason::qty_above_max;
  if (type == OrderType::market && !rules.max_market_order_qty.is_zero() &&
      qty > rules.max_market_order_qty) {
    return RejectReason::qty_above_max_market;
  }
  const auto order_notional = notional(price_for_notional, qty);
  if (!order_notional.ok())
    return RejectReason::invalid_input;
  if (order_notional.value() < rules.min_notional)
    return RejectReason::notional_below_min;
  return RejectReason::none;
}

/// The smallest positive multiple of qty_step that is at least min_order_qty and whose
/// notional at `price` (as check_order computes it) is at least min_notional. It is not
/// checked against the maxima: check_order does that. invalid_input for price ≤ 0, a
/// non-positive step, or a result beyond the Qty range.
[[nodiscard]] inline Result<Qty, RejectReason> min_qty_for_notional(const InstrumentRules& rules,
                                                                    Price price) noexcept {
  const std::int64_t step = rules.qty_step.raw();
  if (price.raw() <= 0 || step <= 0 || rules.min_notional.raw() < 0) {
    return RejectReason::invalid_input;
  }
  // notional = floor(price_raw × qty_raw / 1e8) ≥ N  ⟺  price_raw × qty_raw ≥ N × 1e8.
  const int128 needed = static_cast<int128>(rules.min_notional.raw()) * Amount::kScale;
  const int128 price_raw = price.raw();
  int128 qty_raw = (needed + price_raw - 1) / price_raw;
  if (qty_raw < rules.min_order_qty.raw())
    qty_raw = rules.min_order_qty.raw();
  if (qty_raw < step)
    qty_raw = step;
  qty_raw = (qty_raw + step - 1) / step * step;
  if (qty_raw > std::numeric_limits<std::int64_t>::max())
    return RejectReason::invalid_input;
  return Qty::from_raw(static_cast<std::int64_t>(qty_raw));
}

/// The smallest allowed leverage that is at least `leverage`: a point of the grid
/// min_leverage + k × leverage_step (k ≥ 0), or max_leverage itself when the next grid point
/// lies beyond it; min_leverage for anything at or below it. Rounding up means a margin
/// computed with the result never exceeds one computed with the request.
/// invalid_input for leverage ≤ 0 or rules without a positive step and minimum;
/// insufficient_margin when the request exceeds max_leverage.
[[nodiscard]] constexpr Result<Amount, RejectReason> round_leverage_up(const InstrumentRules& rules,
                                                                       Amount leverage) noexcept {
  const std::int64_t step = rules.leverage_step.raw();
  const std::int64_t minimum = rules.min_leverage.raw();
  if (leverage.raw() <= 0 || step <= 0 || minimum <= 0)
    return RejectReason::invalid_input;
  if (leverage > rules.max_leverage)
    return RejectReason::insufficient_margin;
  if (leverage.raw() <= minimum)
    return rules.min_leverage;
  const int128 above = static_cast<int128>(leverage.raw()) - minimum;
  const int128 rounded = minimum + (above + step - 1) / step * step;
  if (rounded > rules.max_leverage.raw())
    return rules.max_leverage;
  return Amount::from_raw(static_cast<std::int64_t>(rounded));
}

/// True when `leverage` is one round_leverage_up can return: a point of the grid
/// min_leverage + k × leverage_step within [min_leverage, max_leverage], or max_leverage.
[[nodiscard]] constexpr bool is_allowed_leverage(const InstrumentRules& rules,
                                                 Amount leverage) noexcept {
  const std::int64_t step = rules.leverage_step.raw();
  if (step <= 0 || leverage < rules.min_leverage || leverage > rules.max_leverage)
    return false;
  return leverage == rules.max_leverage || (leverage.raw() - rules.min_leverage.raw()) % step == 0;
}

}  // namespace kinetic::risk
