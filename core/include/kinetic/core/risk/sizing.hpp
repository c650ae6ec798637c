#pragma once
// Position sizing: fractional Kelly, a volatility stop, reward/risk, the risk-per-trade limit,
// the exchange's quantity rules and the leverage that fits the available margin.
//
// Mathematics (Kelly, volatility, reward/risk, the fractions of equity) is in double; every
// quantity, price and amount that leaves this file is an exact fixed-point Decimal, and every
// check that decides whether a size is allowed (risk within budget, step multiple, minimum
// quantity, minimum notional, margin × leverage) is done exactly in 128-bit integers on the
// raw 1e-8 units, so a rounding in floating point can never let a size through that breaks a
// rule by a hair.
//
// Units used throughout:
//   - prices in quote currency per unit (Price), quantities in base units (Qty), money in
//     quote currency (Amount);
//   - `risk` of a position = qty × |entry − stop|: what it loses if the stop is hit;
//   - fractions (Kelly, risk_fraction, confidence) are plain doubles, 0.02 = 2 %.
//
// Everything here is header-only, noexcept, allocation-free and exception-free: safe on the
// hot path.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/int128.hpp"
#include "kinetic/core/result.hpp"
#include "kinetic/core/risk/instrument.hpp"
#include "kinetic/core/risk/reasons.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::risk {

namespace sizing_detail {

__extension__ using Int128 = __int128;

inline constexpr std::int64_t kScale = 100'000'000;  // raw units per 1 (all Decimals)
inline constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
inline constexpr std::size_t kMaxVolatilityWindow = 1024;

[[nodiscard]] constexpr bool is_finite(double x) noexcept {
  return x - x == 0.0;
}

// Quotient and remainder, with an unsigned 64-bit division when both operands fit (the usual
// case): a 128-bit division is a library call several times slower.
struct DivMod {
  Int128 quotient;
  Int128 remainder;
};
// Always inlined: out of line, the 32-byte result goes through memory on every call, and the
// sizer makes a dozen of them.
[[nodiscard, gnu::always_inline]] constexpr DivMod div_mod(Int128 num, Int128 den) noexcept {
  // den > 0 by every caller; num is almost always ≥ 0.
  if (num >= 0 && num <= Int128{std::numeric_limits<std::uint64_t>::max()} && den > 0 &&
      den <= kInt64Max) {
    const auto n = static_cast<std::uint64_t>(num);
    const auto d = static_cast<std::uint64_t>(den);
    return {Int128{n / d}, Int128{n % d}};
  }
  if (num > 0 && den > 0 && den <= kInt64Max) {
    // A numerator beyond 64 bits (a notional in raw², a margin times a leverage) with a
    // quotient well inside 2⁵²: estimate it in double and settle it with exact products —
    // multiplications only, where the 128-bit division is a library call.
    const double wide =
        static_cast<double>(static_cast<std::uint64_t>(num >> 64)) * 18446744073709551616.0 +
        static_cast<double>(static_cast<std::uint64_t>(num));
    const double estimate = wide / static_cast<double>(den);
    if (estimate < 4.0e15) {
      auto q = static_cast<std::int64_t>(estimate);
      Int128 remainder = num - Int128{q} * den;
      while (remainder < 0) {  // the estimate is within a unit or two of the quotient
        --q;
        remainder += den;
      }
      while (remainder >= den) {
        ++q;
        remainder -= den;
      }
      return {Int128{q}, remainder};
    }
  }
  return {num / den, num % den};
}
[[nodiscard, gnu::always_inline]] constexpr Int128 floor_div(Int128 num, Int128 den) noexcept {
  // den > 0 by every caller.
  const DivMod qr = div_mod(num, den);
  return qr.remainder < 0 ? qr.quotient - 1 : qr.quotient;
}
[[nodiscard, gnu::always_inline]] constexpr Int128 ceil_div(Int128 num, Int128 den) noexcept {
  const DivMod qr = div_mod(num, den);
  return qr.remainder > 0 ? qr.quotient + 1 : qr.quotient;
}
[[nodiscard]] constexpr std::int64_t clamp_to_int64(Int128 v) noexcept {
  if (v > kInt64Max) {
    return kInt64Max;
  }
  if (v < -kInt64Max) {
    return -kInt64Max;
  }
  return static_cast<std::int64_t>(v);
}
/// ⌊v / 1e8⌋ for v ≥ 0: with 64-bit operands a division by a constant is a multiplication;
/// beyond 64 bits, split v = hi·2⁶⁴ + lo… simply fall back to the 128-bit division.
[[nodiscard]] constexpr Int128 divide_by_scale(Int128 v) noexcept {
  if (v >= 0 && v <= Int128{std::numeric_limits<std::uint64_t>::max()})
    return Int128{static_cast<std::uint64_t>(v) / std::uint64_t{100'000'000}};
  return v / 100'000'000;
}
[[nodiscard]] constexpr std::int64_t abs64(std::int64_t v) noexcept {
  return v < 0 ? -v : v;
}

/// Rounds a non-negative raw count up to a multiple of `step` (> 0); saturates near int64 max.
[[nodiscard]] constexpr std::int64_t round_up_raw(std::int64_t raw, std::int64_t step) noexcept {
  const Int128 q = ceil_div(raw, step);
  const Int128 up = q * step;
  return up > kInt64Max ? (kInt64Max / step) * step : static_cast<std::int64_t>(up);
}
[[nodiscard]] constexpr std::int64_t round_down_raw(std::int64_t raw, std::int64_t step) noexcept {
  return static_cast<std::int64_t>(floor_div(raw, step) * step);
}

/// `fraction` × `amount`, to the nearest raw unit (1e-8); false when out of range or not
/// finite. Nearest, not floor: 0.02 × 1 USDT must give exactly 0.02 USDT although the double
/// 0.02 is a hair above or below the decimal 0.02.
[[nodiscard]] inline bool scale_raw(double fraction, std::int64_t amount_raw,
                                    std::int64_t& out) noexcept {
  const double v = fraction * static_cast<double>(amount_raw);
  if (!is_finite(v) || v < 0.0 || v >= 9.2e18) {
    return false;
  }
  // Half away from zero, as llround, without the library call: v ≥ 0 and v − trunc(v) is
  // exact in double.
  const auto whole = static_cast<std::int64_t>(v);
  out = whole + (v - static_cast<double>(whole) >= 0.5 ? 1 : 0);
  return true;
}

}  // namespace sizing_detail

// ---------------------------------------------------------------------------------------------
// Parameters

/// Sizing policy. Plain aggregate, trivially copyable; set at start-up from configuration and
/// read-only afterwards (any thread may read a copy).
struct SizingParams {
  /// Multiplier on the full Kelly fraction (0.5 = "half Kelly"), in (0, 1].
  double kelly_multiplier = 0.5;
  /// Upper clamp on the fractional Kelly fraction of equity put at risk, in (0, 1].
  double kelly_cap = 0.25;
  /// Hard limit on the equity lost if the stop is hit, as a fraction of equity: (0, 0.02].
  double risk_fraction = 0.02;
  /// Minimum |target − entry| / |entry − stop|; 0 disables the check.
  double min_reward_risk = 1.5;
  /// The volatility stop lies stop_sigma_k standard deviations of price from the entry.
  double stop_sigma_k = 2.0;
  /// Highest leverage the strategy may use (the instrument's own maximum also applies), ≥ 1.
  double max_leverage = 10.0;
  /// Scale the risk-fraction size by the signal's confidence in [0, 1].
  bool scale_by_confidence = true;
  /// Number of prices in the volatility window (PriceVolatility), 2..PriceVolatility max.
  std::uint32_t volatility_window = 100;

  /// Hard ceiling on risk_fraction: no configuration may risk more than 2 % per trade.
  static constexpr double kMaxRiskFraction = 0.02;

  [[nodiscard]] constexpr bool valid() const noexcept;
};

// ---------------------------------------------------------------------------------------------
// Kelly

/// Full Kelly fraction of EQUITY PUT AT RISK for a trade that wins with probability `p`, and
/// then gains on average `avg_win`, or otherwise loses on average `avg_loss` (both positive,
/// in the same unit: fractions of the position's notional, e.g. 0.01 = 1 %, or quote currency
/// per unit; only their ratio b/a matters):
///
///     f* = (p·b − q·a) / b = p − q·a/b,   q = 1 − p.
///
/// f* maximises the expected log growth p·ln(1 + f·b/a) + q·ln(1 − f), where a loss costs the
/// fraction f of equity (the amount at risk) and a win earns f·b/a. Example: p = 0.6,
/// b = a = 0.01 gives f* = 0.2: put 20 % of equity at risk. f* ≤ 0 means no edge.
/// Returns NaN for p outside [0, 1], non-positive or non-finite b or a.
[[nodiscard]] constexpr double kelly_fraction(double p, double avg_win, double avg_loss) noexcept {
  if (!(p >= 0.0 && p <= 1.0) || !(avg_win > 0.0) || !(avg_loss > 0.0) ||
      !sizing_detail::is_finite(avg_win) || !sizing_detail::is_finite(avg_loss)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const double q = 1.0 - p;
  return (p * avg_win - q * avg_loss) / avg_win;
}

/// The same optimum expressed as a fraction of equity to commit as NOTIONAL, when a trade
/// returns +b or −a of notional (fractions): f*_notional = (p·b − q·a)/(a·b)
/// = kelly_fraction(p, b, a) / a. For p = 0.6, b = a = 0.01 it is 20 (twenty times equity),
/// which is why the sizer works with the risk form above. NaN for invalid inputs.
[[nodiscard]] constexpr double kelly_notional_fraction(double p, double avg_win,
                                                       double avg_loss) noexcept {
  return kelly_fraction(p, avg_win, avg_loss) / avg_loss;
}

/// multiplier × f*, clamped to [0, cap]. NaN in gives 0 (no edge).
[[nodiscard]] constexpr double fractional_kelly(double full_kelly, double multiplier,
                                                double cap) noexcept {
  const double f = multiplier * full_kelly;
  if (!(f > 0.0)) {
    return 0.0;
  }
  return f < cap ? f : cap;
}

constexpr bool SizingParams::valid() const noexcept {
  using sizing_detail::is_finite;
  return kelly_multiplier > 0.0 && kelly_multiplier <= 1.0 && kelly_cap > 0.0 && kelly_cap <= 1.0 &&
         risk_fraction > 0.0 && risk_fraction <= kMaxRiskFraction && min_reward_risk >= 0.0 &&
         is_finite(min_reward_risk) && stop_sigma_k > 0.0 && is_finite(stop_sigma_k) &&
         max_leverage >= 1.0 && max_leverage <= 1e6 && volatility_window >= 2 &&
         volatility_window <= sizing_detail::kMaxVolatilityWindow;
}

// ---------------------------------------------------------------------------------------------
// Volatility stop

/// Rolling standard deviation of price over the last `window` prices (2..kMaxWindow, chosen
/// at construction). O(1) per update with no drift: prices are kept as exact integer offsets
/// from the first price seen, and the running sums Σd and Σd² are exact 128-bit integers, so
/// the variance after a billion updates is as exact as after ten (one rounding, at the end).
///
/// Value type that owns its window inline (8 KiB, no heap); not thread-safe (one thread
/// updates and reads it). Supports |price − first price| < 2^53 raw units (about 9e7 quote
/// units), which keeps n·Σd² and (Σd)² within 128 bits; add() refuses a price beyond that.
class PriceVolatility {
 public:
  static constexpr std::size_t kMaxWindow = sizing_detail::kMaxVolatilityWindow;

  /// `window` is clamped into [2, kMaxWindow].
  explicit constexpr PriceVolatility(std::size_t window = 100) noexcept
      : window_(window < 2 ? 2 : (window > kMaxWindow ? kMaxWindow : window)) {}

  /// Adds one price, dropping the oldest once the window is full. Returns false (and changes
  /// nothing) for a non-positive price or one too far from the reference price.
  constexpr bool add(Price price) noexcept {
    if (price.raw() <= 0) {
      return false;
    }
    if (count_ == 0) {
      reference_ = price.raw();
    }
    const std::int64_t offset = price.raw() - reference_;
    if (offset >= kMaxOffset || offset <= -kMaxOffset) {
      return false;
    }
    if (count_ == window_) {
      const std::int64_t oldest = offsets_[head_];
      sum_ -= oldest;
      sum_squares_ -= sizing_detail::Int128{oldest} * oldest;
    } else {
      ++count_;
    }
    offsets_[head_] = offset;
    sum_ += offset;
    sum_squares_ += sizing_detail::Int128{offset} * offset;
    head_ = head_ + 1 == window_ ? 0 : head_ + 1;
    return true;
  }

  /// Forgets every price (the next price becomes the new reference).
  constexpr void reset() noexcept {
    count_ = 0;
    head_ = 0;
    sum_ = 0;
    sum_squares_ = 0;
  }

  [[nodiscard]] constexpr std::size_t window() const noexcept { return window_; }
  /// Prices currently in the window (≤ window()).
  [[nodiscard]] constexpr std::size_t count() const noexcept { return count_; }
  [[nodiscard]] constexpr bool full() const noexcept { return count_ == window_; }

  /// Mean price of the window (0 when empty).
  [[nodiscard]] constexpr double mean() const noexcept {
    if (count_ == 0) {
      return 0.0;
    }
    const double mean_offset = static_cast<double>(sum_) / static_cast<double>(count_);
    return (static_cast<double>(reference_) + mean_offset) / static_cast<double>(kScaleRaw);
  }

  /// Sample variance of price (divisor n − 1), in price units squared; 0 below two prices.
  /// Computed as (n·Σd² − (Σd)²) / (n·(n − 1)) with an exact integer numerator.
  [[nodiscard]] constexpr double variance() const noexcept {
    if (count_ < 2) {
      return 0.0;
    }
    const auto n = static_cast<sizing_detail::Int128>(count_);
    const sizing_detail::Int128 numerator = n * sum_squares_ - sum_ * sum_;  // exact, ≥ 0
    const double n_d = static_cast<double>(count_);
    return static_cast<double>(numerator) / (n_d * (n_d - 1.0)) /
           (static_cast<double>(kScaleRaw) * static_cast<double>(kScaleRaw));
  }

  /// Sample standard deviation of price, in price units.
  [[nodiscard]] double sigma() const noexcept { return std::sqrt(variance()); }

 private:
  static constexpr std::int64_t kMaxOffset = std::int64_t{1} << 53;
  static constexpr std::int64_t kScaleRaw = sizing_detail::kScale;

  std::size_t window_;
  std::size_t count_ = 0;
  std::size_t head_ = 0;  // slot the next price goes into (the oldest once full)
  std::int64_t reference_ = 0;
  sizing_detail::Int128 sum_ = 0;
  sizing_detail::Int128 sum_squares_ = 0;
  std::array<std::int64_t, kMaxWindow> offsets_{};
};

/// The volatility stop for an entry: entry − k·σ for a buy, entry + k·σ for a sell, with
/// `sigma` in price units. The distance is rounded to 1e-8, and the stop then outward (away
/// from the entry) onto the `tick` grid when tick > 0, so the stop is never nearer than k·σ
/// by more than 1e-8. Errors: invalid_input (side none, non-finite or negative sigma or k),
/// invalid_stop (a zero distance, or a buy stop at or below zero).
[[nodiscard]] inline Result<Price, RejectReason> stop_price(Side side, Price entry, double sigma,
                                                            double k,
                                                            Price tick = Price{}) noexcept {
  if ((side != Side::buy && side != Side::sell) || entry.raw() <= 0 ||
      !sizing_detail::is_finite(sigma) || !sizing_detail::is_finite(k) || sigma < 0.0 || k < 0.0) {
    return RejectReason::invalid_input;
  }
  // k σ to the nearest 1e-8 (not the general decimal conversion: this runs on every entry and
  // the nearest raw unit is all the stop needs).
  std::int64_t distance_raw = 0;
  if (!sizing_detail::scale_raw(k * sigma, Price::kScale, distance_raw)) {
    return RejectReason::invalid_input;
  }
  const Price distance = Price::from_raw(distance_raw);
  if (distance.raw() <= 0) {
    return RejectReason::invalid_stop;
  }
  if (side == Side::buy) {
    Price stop = entry - distance;
    if (tick.raw() > 0) {
      stop = stop.round_down(tick);
    }
    if (stop.raw() <= 0) {
      return RejectReason::invalid_stop;
    }
    return stop;
  }
  if (distance.raw() > sizing_detail::kInt64Max - entry.raw()) {
    return RejectReason::invalid_input;
  }
  Price stop = entry + distance;
  if (tick.raw() > 0) {
    stop = stop.round_up(tick);
  }
  return stop;
}

/// The volatility stop from a PriceVolatility: no_volatility until its window is full (σ not
/// known yet), then stop_price(side, entry, volatility.sigma(), k, tick).
[[nodiscard]] inline Result<Price, RejectReason> stop_price(Side side, Price entry,
                                                            const PriceVolatility& volatility,
                                                            double k,
                                                            Price tick = Price{}) noexcept {
  if (!volatility.full()) {
    return RejectReason::no_volatility;
  }
  return stop_price(side, entry, volatility.sigma(), k, tick);
}

// ---------------------------------------------------------------------------------------------
// Reward / risk

/// |target − entry| / |entry − stop|, from the exact raw differences (one rounding). 0 when the
/// stop equals the entry. Exact enough that a true ratio equal to 1.5 gives exactly 1.5 and
/// one below it gives less than 1.5 for any stop distance under about 9e7 quote units.
[[nodiscard]] constexpr double reward_risk(Price entry, Price stop, Price target) noexcept {
  const std::int64_t risk = sizing_detail::abs64(entry.raw() - stop.raw());
  if (risk == 0) {
    return 0.0;
  }
  const std::int64_t reward = sizing_detail::abs64(target.raw() - entry.raw());
  return static_cast<double>(reward) / static_cast<double>(risk);
}

/// invalid_stop unless the stop is strictly on the losing side of the entry and the target
/// strictly on the winning side (buy: stop < entry < target; sell: target < entry < stop);
/// `none` otherwise. invalid_input for Side::none.
[[nodiscard]] constexpr RejectReason check_stop_and_target(Side side, Price entry, Price stop,
                                                           Price target) noexcept {
  if (side == Side::buy) {
    return stop < entry && entry < target ? RejectReason::none : RejectReason::invalid_stop;
  }
  if (side == Side::sell) {
    return target < entry && entry < stop ? RejectReason::none : RejectReason::invalid_stop;
  }
  return RejectReason::invalid_input;
}

// ---------------------------------------------------------------------------------------------
// The sizer

/// What the strategy wants to trade. Plain aggregate, trivially copyable.
struct SizeRequest {
  Side side = Side::none;
  Price entry{};            ///< expected fill price (limit price, or the touch for a market order)
  Price stop{};             ///< stop-loss price (e.g. from stop_price())
  Price target{};           ///< take-profit price
  double confidence = 1.0;  ///< signal confidence in [0, 1]
  double win_probability = 0.0;  ///< p for Kelly, in [0, 1]
  double avg_win = 0.0;          ///< average win (> 0), same unit as avg_loss
  double avg_loss = 0.0;         ///< average loss (> 0)
  Amount equity{};               ///< account equity (> 0)
  Amount available_margin{};     ///< margin free for this order (≥ 0)
  OrderType type = OrderType::limit;
  /// A cap from outside the sizer on the order's value entry.raw() × qty.raw() (the notional
  /// × 1e16): the portfolio's exposure room (portfolio.hpp's entry_room), the gate's maximum
  /// order notional. `max_value_bound` names it (symbol_exposure, total_exposure,
  /// order_notional). The default is no cap; a negative cap leaves no room.
  int128 max_value = kNoValueCap;
  SizeBound max_value_bound = SizeBound::none;

  static constexpr int128 kNoValueCap = ~(static_cast<int128>(1) << 127);
};

/// The sizer's answer. Plain aggregate, trivially copyable. On rejection (`reason` ≠ none)
/// only `reason` and `kelly_fraction` (when computed) are meaningful; the rest are zero.
struct SizeDecision {
  RejectReason reason = RejectReason::none;
  SizeBound bound = SizeBound::none;  ///< which limit decided an accepted size
  Qty qty{};                          ///< a multiple of qty_step, within the instrument's limits
  Amount leverage{};            ///< smallest allowed leverage that fits (see size_order, step 4)
  Amount notional{};            ///< entry × qty, toward zero to 1e-8
  Amount risk_amount{};         ///< qty × |entry − stop|, rounded up to 1e-8
  Amount initial_margin{};      ///< notional / leverage, rounded up to 1e-8 (≤ available margin)
  double kelly_fraction = 0.0;  ///< fractional Kelly used (fraction of equity at risk)
  double risk_fraction_used = 0.0;  ///< risk_amount / equity

  [[nodiscard]] constexpr bool accepted() const noexcept { return reason == RejectReason::none; }
};

namespace sizing_detail {

[[nodiscard]] constexpr SizeDecision reject(RejectReason reason, double kelly = 0.0) noexcept {
  SizeDecision d{};
  d.reason = reason;
  d.kelly_fraction = kelly;
  return d;
}

/// Largest qty (raw) whose risk qty × distance stays within `budget_raw` (Amount raw): exact.
[[nodiscard]] constexpr std::int64_t qty_for_risk(std::int64_t budget_raw,
                                                  std::int64_t distance_raw) noexcept {
  return clamp_to_int64(floor_div(Int128{budget_raw} * kScale, distance_raw));
}

[[nodiscard]] constexpr bool rules_valid(const InstrumentRules& r) noexcept {
  return r.qty_step.raw() > 0 && r.min_order_qty.raw() >= 0 && r.max_order_qty.raw() > 0 &&
         r.max_market_order_qty.raw() >= 0 && r.min_notional.raw() >= 0 && r.min_price.raw() >= 0 &&
         r.max_price.raw() >= 0 && r.min_leverage.raw() > 0 && r.leverage_step.raw() > 0 &&
         r.max_leverage >= r.min_leverage && r.min_order_qty <= r.max_order_qty;
}

}  // namespace sizing_detail

/// What size_order needs from the instrument and the parameters that does not depend on the
/// order, computed once per instrument (the risk manager keeps one per symbol) instead of on
/// every call: each of these is a division. Plain aggregate.
struct SizingLimits {
  std::int64_t max_qty_limit = 0;   ///< maxOrderQty, rounded down to qty_step (raw)
  std::int64_t max_qty_market = 0;  ///< also under maxMktOrderQty when set, on the step
  std::int64_t min_by_qty = 0;      ///< minOrderQty rounded up to qty_step
  std::int64_t lev_low = 0;         ///< minLeverage (raw)
  std::int64_t lev_high = 0;        ///< highest allowed leverage: the grid and params.max_leverage
  bool valid = false;               ///< params and rules valid, and lev_high ≥ lev_low
};

/// The order-independent part of size_order for one instrument and parameter set.
[[nodiscard]] inline SizingLimits sizing_limits(const InstrumentRules& rules,
                                                const SizingParams& params) noexcept {
  using namespace sizing_detail;
  SizingLimits limits;
  if (!params.valid() || !rules_valid(rules))
    return limits;
  const std::int64_t step = rules.qty_step.raw();
  limits.max_qty_limit = round_down_raw(rules.max_order_qty.raw(), step);
  // A market order must keep under both maxima (as check_order in instrument.hpp checks).
  limits.max_qty_market =
      rules.max_market_order_qty.raw() > 0 && rules.max_market_order_qty < rules.max_order_qty
          ? round_down_raw(rules.max_market_order_qty.raw(), step)
          : limits.max_qty_limit;
  limits.min_by_qty = round_up_raw(rules.min_order_qty.raw(), step);
  // Allowed leverage, as instrument.hpp's round_leverage_up defines it: the grid
  // min_leverage + k × leverage_step, or max_leverage itself; here also ≤ params.max_leverage
  // (to the nearest 1e-8; valid() keeps it finite and ≥ 1).
  const std::int64_t lev_step = rules.leverage_step.raw();
  limits.lev_low = rules.min_leverage.raw();
  const Amount param_max_lev =
      Amount::from_raw(std::llround(params.max_leverage * static_cast<double>(Amount::kScale)));
  limits.lev_high =
      rules.max_leverage <= param_max_lev
          ? rules.max_leverage.raw()
          : limits.lev_low + round_down_raw(param_max_lev.raw() - limits.lev_low, lev_step);
  limits.valid = limits.lev_high >= limits.lev_low;  // else max_leverage is below the minimum
  return limits;
}

/// Sizes one order. Pure function of its arguments: noexcept, no allocation, thread-safe.
///
/// 1. Checks: invalid_input (params.valid(), rules, side, prices > 0, confidence ∈ [0, 1],
///    p ∈ [0, 1], avg_win and avg_loss > 0, equity > 0, margin ≥ 0); price_out_of_range
///    (entry outside min_price..max_price); invalid_stop (check_stop_and_target);
///    reward_risk_too_low (reward_risk < min_reward_risk; exactly equal is accepted);
///    no_edge (kelly_fraction ≤ 0).
/// 2. Candidate sizes, each the largest quantity within its limit (exact integer arithmetic),
///    with D = |entry − stop| and E = equity:
///      kelly          = fractional_kelly × E / D   (Kelly is a fraction of equity AT RISK)
///      risk_fraction  = risk_fraction × E × (confidence if scale_by_confidence) / D
///      max_order_qty  = maxOrderQty; for a market order also maxMktOrderQty when set
///      margin         = available_margin × highest allowed leverage / entry
///      request cap    = max_value / entry (exposure room, order notional; named by
///                       max_value_bound)
///    The smallest wins and names the bound (ties: the earlier in that order; kelly against
///    risk_fraction compares the two budgets before the division by D). It is then rounded
///    down to qty_step. A zero risk budget (confidence 0) is zero_size.
/// 3. The exchange minimum is q_min = max(minOrderQty, the smallest step multiple whose exact
///    notional at the entry reaches minNotionalValue), both rounded up to qty_step. A size
///    below q_min is raised to q_min (bound = minimum) only when q_min × D ≤ risk_fraction × E
///    (the hard limit, not scaled by confidence or Kelly), q_min is within the maximum
///    quantity and entry × q_min within the request cap; else it is rejected: when the margin
///    or the request cap bound the size, with their refusal (refusal_for: insufficient_margin,
///    symbol_exposure_limit, total_exposure_limit, order_notional_limit); qty_below_min if it
///    is under minOrderQty; notional_below_min otherwise; the request cap's refusal when only
///    it stops q_min. With no exchange minimum, a size that rounds to zero is zero_size (or
///    the refusal of the margin or cap that bound it).
/// 4. Leverage: the smallest allowed leverage L ≤ params.max_leverage with notional ≤
///    L × available_margin (exactly equal fits); none gives insufficient_margin. Allowed, as
///    in round_leverage_up (instrument.hpp): minLeverage + k × leverageStep up to maxLeverage,
///    and maxLeverage itself.
/// An accepted size never risks more than risk_fraction × E (rounded to the nearest 1e-8),
/// is a multiple of qty_step, and lies within [q_min, max quantity].
[[nodiscard]] inline SizeDecision size_order(const SizeRequest& request,
                                             const InstrumentRules& rules,
                                             const SizingParams& params,
                                             const SizingLimits& limits) noexcept {
  using namespace sizing_detail;

  // 1. Inputs.
  if (!limits.valid || (request.type != OrderType::market && request.type != OrderType::limit) ||
      (request.side != Side::buy && request.side != Side::sell) || request.entry.raw() <= 0 ||
      request.stop.raw() <= 0 || request.target.raw() <= 0 ||
      !(request.confidence >= 0.0 && request.confidence <= 1.0) || request.equity.raw() <= 0 ||
      request.available_margin.raw() < 0) {
    return reject(RejectReason::invalid_input);
  }
  const double full_kelly =
      kelly_fraction(request.win_probability, request.avg_win, request.avg_loss);
  if (full_kelly != full_kelly) {  // NaN: invalid statistics
    return reject(RejectReason::invalid_input);
  }
  if ((rules.min_price.raw() > 0 && request.entry < rules.min_price) ||
      (rules.max_price.raw() > 0 && request.entry > rules.max_price)) {
    return reject(RejectReason::price_out_of_range);
  }
  if (const RejectReason geometry =
          check_stop_and_target(request.side, request.entry, request.stop, request.target);
      geometry != RejectReason::none) {
    return reject(geometry);
  }
  if (reward_risk(request.entry, request.stop, request.target) < params.min_reward_risk) {
    return reject(RejectReason::reward_risk_too_low);
  }
  if (!(full_kelly > 0.0)) {
    return reject(RejectReason::no_edge);
  }
  const double kelly = fractional_kelly(full_kelly, params.kelly_multiplier, params.kelly_cap);

  const std::int64_t entry = request.entry.raw();
  const std::int64_t distance = abs64(entry - request.stop.raw());
  const std::int64_t step = rules.qty_step.raw();
  const std::int64_t equity = request.equity.raw();
  const std::int64_t margin = request.available_margin.raw();

  const std::int64_t lev_step = rules.leverage_step.raw();
  const std::int64_t lev_low = limits.lev_low;
  const std::int64_t lev_high = limits.lev_high;

  // Budgets (Amount raw), each the nearest 1e-8 to fraction × equity.
  std::int64_t risk_limit = 0;   // the hard limit: risk_fraction × E
  std::int64_t risk_target = 0;  // scaled by confidence
  std::int64_t kelly_budget = 0;
  const double confidence = params.scale_by_confidence ? request.confidence : 1.0;
  if (!scale_raw(params.risk_fraction, equity, risk_limit) ||
      !scale_raw(params.risk_fraction * confidence, equity, risk_target) ||
      !scale_raw(kelly, equity, kelly_budget)) {
    return reject(RejectReason::invalid_input, kelly);
  }
  if (risk_target > risk_limit) {
    risk_target = risk_limit;  // confidence ≤ 1, but never trust a product of doubles
  }
  if (risk_target == 0) {
    return reject(RejectReason::zero_size, kelly);
  }

  // 2. Candidates.
  const std::int64_t max_qty =
      request.type == OrderType::market ? limits.max_qty_market : limits.max_qty_limit;

  // Both budgets buy risk at the same distance, so the smaller budget is the smaller size.
  const bool kelly_binds = kelly_budget <= risk_target;
  std::int64_t qty = qty_for_risk(kelly_binds ? kelly_budget : risk_target, distance);
  SizeBound bound = kelly_binds ? SizeBound::kelly : SizeBound::risk_fraction;
  if (max_qty < qty) {
    qty = max_qty;
    bound = SizeBound::max_order_qty;
  }
  // The value bounds: the margin at the highest allowed leverage, and the caller's cap; the
  // smaller binds (ties: the margin). Compare products, and divide only when one binds.
  Int128 value_cap = Int128{margin} * lev_high;
  SizeBound value_bound = SizeBound::margin;
  if (request.max_value < value_cap) {
    value_cap = request.max_value > 0 ? request.max_value : 0;
    value_bound = request.max_value_bound;
  }
  if (Int128{entry} * qty > value_cap) {
    if (const std::int64_t q = clamp_to_int64(floor_div(value_cap, entry)); q < qty) {
      qty = q;
      bound = value_bound;
    }
  }
  qty = round_down_raw(qty, step);

  // 3. The exchange minimum. A size on the step that meets minOrderQty and whose exact
  // notional reaches minNotionalValue is at least q_min (the smallest such step multiple):
  // products decide it, and q_min is computed only below that.
  const std::int64_t min_by_qty = limits.min_by_qty;
  const Int128 min_value = Int128{rules.min_notional.raw()} * kScale;
  if (qty < min_by_qty || Int128{entry} * qty < min_value) {
    // ⌈⌈a/b⌉/c⌉ = ⌈a/(b·c)⌉: the minimum notional's quantity, already on the step, in one
    // division.
    const std::int64_t min_by_notional =
        clamp_to_int64(ceil_div(min_value, Int128{entry} * step) * step);
    const std::int64_t min_qty = min_by_qty > min_by_notional ? min_by_qty : min_by_notional;
    if (bound == value_bound) {  // neither the margin nor the cap can be raised above
      return reject(refusal_for(bound), kelly);
    }
    const bool within_risk = Int128{min_qty} * distance <= Int128{risk_limit} * kScale;
    if (!within_risk || min_qty > max_qty) {
      return reject(
          qty < min_by_qty ? RejectReason::qty_below_min : RejectReason::notional_below_min, kelly);
    }
    if (Int128{entry} * min_qty > request.max_value) {
      return reject(refusal_for(request.max_value_bound), kelly);
    }
    qty = min_qty;
    bound = SizeBound::minimum;
  }
  if (qty <= 0) {  // no exchange minimum and less than one step
    return reject(bound == value_bound ? refusal_for(bound) : RejectReason::zero_size, kelly);
  }

  // 4. Leverage: smallest grid value L with entry × qty ≤ margin × L (both in raw², exact).
  const Int128 notional_raw2 = Int128{entry} * qty;  // notional × 1e16
  if (margin <= 0) {
    return reject(RejectReason::insufficient_margin, kelly);
  }
  // The needed leverage is ⌈N/m⌉ (N = notional in raw², m = margin); on the grid it is
  // lev_low + s·⌈(⌈N/m⌉ − lev_low)/s⌉ = lev_low + s·⌈(N − lev_low·m)/(m·s)⌉. Products decide
  // the two ends, so at most one division remains.
  if (notional_raw2 > Int128{margin} * lev_high) {
    return reject(RejectReason::insufficient_margin, kelly);
  }
  std::int64_t leverage = lev_low;
  if (notional_raw2 > Int128{margin} * lev_low) {
    const Int128 steps =
        ceil_div(notional_raw2 - Int128{margin} * lev_low, Int128{margin} * lev_step);
    leverage = clamp_to_int64(Int128{lev_low} + steps * lev_step);
    if (leverage > lev_high) {  // only when lev_high is the instrument's off-grid maximum
      leverage = lev_high;
    }
  }

  SizeDecision d{};
  d.reason = RejectReason::none;
  d.bound = bound;
  d.qty = Qty::from_raw(qty);
  d.leverage = Amount::from_raw(leverage);
  d.notional = Amount::from_raw(clamp_to_int64(divide_by_scale(notional_raw2)));
  const Int128 risk_raw2 = Int128{qty} * distance;
  const Int128 risk_floor = divide_by_scale(risk_raw2);
  d.risk_amount = Amount::from_raw(
      clamp_to_int64(risk_floor * kScale == risk_raw2 ? risk_floor : risk_floor + 1));
  d.initial_margin = Amount::from_raw(clamp_to_int64(ceil_div(notional_raw2, leverage)));
  d.kelly_fraction = kelly;
  d.risk_fraction_used =
      static_cast<double>(d.risk_amount.raw()) / static_cast<double>(request.equity.raw());
  return d;
}

/// size_order for callers that do not keep the instrument's SizingLimits.
[[nodiscard]] inline SizeDecision size_order(const SizeRequest& request,
                                             const InstrumentRules& rules,
                                             const SizingParams& params) noexcept {
  return size_order(request, rules, params, sizing_limits(rules, params));
}

}  // namespace kinetic::risk
