#pragma once
// Portfolio limits: exposure per symbol and in total, the number of open positions, and the
// correlation limit, checked against the open positions before a new order is sized or sent.
//
// Definitions (all exact, in 1e-8 raw units):
//   * exposure of a symbol = |position qty| × mark price, rounded down (= notional()).
//   * total exposure = Σ over symbols of their exposures (gross: longs and shorts both count).
//   * limits are fractions of equity in basis points (1 bp = 0.01 %), so they follow the
//     account as it grows or shrinks: limit = ⌊equity × bps / 10 000⌋. A total limit above
//     10 000 bp allows gross leverage.
// check_new() values the symbol's position after the order at the order's price:
//   post-trade symbol exposure = |position + signed order qty| × order price,
//   post-trade total           = total − current symbol exposure + post-trade symbol exposure,
// so an accepted order filled at its price (on_fill) leaves both within their limits; later
// marks may move them above (the check does not liquidate, it only refuses to add).
//
// Rules, in the order they are applied:
//   1. invalid_input: side none, qty ≤ 0, price ≤ 0, symbol out of range.
//   2. A reduction (opposite side, qty ≤ |position|) is always accepted, whatever the limits
//      or the equity: it only lowers exposure.
//   3. invalid_input: equity ≤ 0 (anything else than a reduction needs equity).
//   4. max_open_positions: the symbol is flat and the open positions are already at the maximum.
//   5. correlated_position: the order opens a position in a new direction (the symbol is flat,
//      or the order flips it) and some other open position in the same direction has a ready
//      return correlation with it above max_correlation. Pairs that are not ready yet (too few
//      common samples) do not block: the limit cannot judge a symbol without history, and the
//      exposure limits still bound it. Opposite directions never block (they hedge). The
//      SymbolId is the correlation's series index; a symbol beyond its series is never ready.
//   6. symbol_exposure_limit / total_exposure_limit: qty above max_qty_allowed, the largest
//      qty of this order that keeps both exposures within their limits; the reason names the
//      limit that binds (the smaller room).
// max_qty_allowed is the room for the sizer to cap against (not rounded to the qty step: round
// it down); `bound` says which limit gave it. It is 0 when rules 1, 3, 4 or 5 refuse, and
// |position| (bound none) for a reduction: flipping beyond it is checked as a new direction.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/math/correlation.hpp"
#include "kinetic/core/risk/reasons.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::risk {

/// Portfolio limit parameters. Exposure limits in basis points of equity.
struct PortfolioParams {
  std::uint32_t max_symbol_exposure_bps = 2'000;  ///< 20 % of equity per symbol
  std::uint32_t max_total_exposure_bps = 10'000;  ///< 100 % of equity in total (gross)
  std::uint32_t max_open_positions = 5;
  double max_correlation = 0.8;  ///< a same-direction pair above this blocks a new position
};

/// Whether check_new() must report the exposure room of an order it accepts.
enum class RoomWanted : std::uint8_t {
  always,        ///< max_qty_allowed and bound are filled in for every answer
  when_refused,  ///< only when an exposure limit refuses (then the caller may cut down to it);
                 ///< an accepted order costs no division
};

/// What check_new() decided.
struct PortfolioCheck {
  RejectReason reason = RejectReason::none;
  Qty max_qty_allowed{};              ///< largest qty of this order within the exposure limits
  SizeBound bound = SizeBound::none;  ///< which limit gave max_qty_allowed (none: reduction)
  SymbolId correlated_with = 0;       ///< for correlated_position: the open symbol that blocked
  double correlation = 0.0;           ///< for correlated_position: their correlation

  [[nodiscard]] constexpr bool ok() const noexcept { return reason == RejectReason::none; }
};

/// One symbol's position as the portfolio sees it.
struct PortfolioPosition {
  Qty qty{};          ///< signed: positive long, negative short
  Price mark{};       ///< last fill or mark price
  Amount exposure{};  ///< |qty| × mark, rounded down
};

/// The open positions and the portfolio limits. Fixed capacity (symbol ids 0..MaxSymbols−1),
/// never allocates, no exceptions; all hot-path calls are noexcept and O(1) except check_new,
/// which is O(open positions) for a new direction. Value type owning its state; not thread-safe:
/// the risk thread owns it (fills, marks and checks all arrive there).
template <std::size_t MaxSymbols = 64>
class BasicPortfolioLimits {
  static_assert(MaxSymbols >= 1 && MaxSymbols <= 65'536, "SymbolId is 16 bits");

 public:
  static constexpr std::size_t kMaxSymbols = MaxSymbols;

  explicit BasicPortfolioLimits(const PortfolioParams& params) noexcept : params_(params) {}

  /// Applies one of our fills: position += sign(side) × qty, and the mark becomes the fill
  /// price. Ignores an out-of-range symbol, side none or a non-positive qty/price.
  void on_fill(SymbolId symbol, Side side, Qty qty, Price price) noexcept {
    if (symbol >= MaxSymbols || side == Side::none || qty.raw() <= 0 || price.raw() <= 0)
      return;
    const Qty signed_qty = side == Side::buy ? qty : -qty;
    set_position(symbol, positions_[symbol].qty + signed_qty, price);
  }

  /// Sets a position outright (reconciliation with the exchange). A zero qty closes it.
  void set_position(SymbolId symbol, Qty signed_qty, Price mark) noexcept {
    if (symbol >= MaxSymbols)
      return;
    PortfolioPosition& position = positions_[symbol];
    const bool was_open = !position.qty.is_zero();
    const bool is_open = !signed_qty.is_zero();
    position.qty = signed_qty;
    if (mark.raw() > 0)
      position.mark = mark;
    revalue(symbol);
    if (is_open && !was_open) {
      open_index_[symbol] = static_cast<std::uint16_t>(open_count_);
      open_symbols_[open_count_++] = symbol;
    } else if (!is_open && was_open) {
      // Swap-remove keeps the list dense.
      const std::uint16_t slot = open_index_[symbol];
      const SymbolId last = open_symbols_[--open_count_];
      open_symbols_[slot] = last;
      open_index_[last] = slot;
    }
  }

  /// Marks a symbol to a new price (its exposure and the total follow).
  void on_mark(SymbolId symbol, Price price) noexcept {
    if (symbol >= MaxSymbols || price.raw() <= 0)
      return;
    positions_[symbol].mark = price;
    revalue(symbol);
  }

  /// Decides whether a new order may go, and how large it may be (see the header comment).
  template <std::size_t MaxSeries>
  [[nodiscard]] PortfolioCheck check_new(
      SymbolId symbol, Side side, Qty qty, Price price, Amount equity,
      const math::BasicReturnCorrelation<MaxSeries>& correlation,
      RoomWanted room_wanted = RoomWanted::always) const noexcept {
    PortfolioCheck check;
    if (symbol >= MaxSymbols || side == Side::none || qty.raw() <= 0 || price.raw() <= 0) {
      check.reason = RejectReason::invalid_input;
      return check;
    }
    const PortfolioPosition& position = positions_[symbol];
    const std::int64_t held = position.qty.raw();  // signed
    const std::int64_t order_sign = side == Side::buy ? 1 : -1;
    const bool opposite_side = held != 0 && (held > 0) != (order_sign > 0);
    const std::int64_t held_abs =
        held >= 0 ? held : (held == std::numeric_limits<std::int64_t>::min() ? -(held + 1) : -held);

    if (opposite_side && qty.raw() <= held_abs) {
      check.max_qty_allowed = Qty::from_raw(held_abs);  // a reduction may close it all
      return check;
    }
    if (equity.raw() <= 0) {
      check.reason = RejectReason::invalid_input;
      return check;
    }
    if (held == 0 && open_count_ >= params_.max_open_positions) {
      check.reason = RejectReason::max_open_positions;
      return check;
    }
    if (held == 0 || opposite_side) {  // a new direction for this symbol
      for (std::size_t k = 0; k < open_count_; ++k) {
        const SymbolId other = open_symbols_[k];
        if (other == symbol)
          continue;
        const bool other_long = positions_[other].qty.raw() > 0;
        if (other_long != (order_sign > 0))
          continue;  // opposite directions hedge
        if (!correlation.ready(symbol, other))
          continue;
        const double rho = correlation.correlation(symbol, other);
        if (rho > params_.max_correlation) {
          check.reason = RejectReason::correlated_position;
          check.correlated_with = other;
          check.correlation = rho;
          return check;
        }
      }
    }

    const Int128 base = opposite_side ? -Int128{held_abs} : Int128{held_abs};
    if (room_wanted == RoomWanted::when_refused) {
      // The post-trade position fits both limits when price × Q < (limit + 1) × 1e8 (the
      // exposure is rounded down): products only, no division. The room is computed below
      // only when it does not fit.
      const Int128 post_trade = base + qty.raw();
      const Int128 value = Int128{price.raw()} * post_trade;
      const Int128 others = total_exposure_raw_ - position.exposure.raw();
      const Int128 symbol_limit = limit_raw(equity, params_.max_symbol_exposure_bps);
      const Int128 total_limit = limit_raw(equity, params_.max_total_exposure_bps) - others;
      if (symbol_limit >= 0 && total_limit >= 0 && value < (symbol_limit + 1) * kScale &&
          value < (total_limit + 1) * kScale)
        return check;
    }
    // Room in qty for the symbol's post-trade position, under each limit, at the order price.
    const Room room = exposure_room(symbol, price, equity);
    // The order may take the position from `held` up to `room.qty` in its direction:
    // max order qty = room.qty − held_abs (same side or flat) or held_abs + room.qty (flip).
    Int128 allowed = Int128{room.qty} - base;
    if (allowed < 0)
      allowed = 0;
    check.max_qty_allowed = Qty::from_raw(clamp_to_int64(allowed));
    check.bound = room.bound;
    if (qty.raw() > check.max_qty_allowed.raw()) {
      check.reason = room.bound == SizeBound::symbol_exposure ? RejectReason::symbol_exposure_limit
                                                              : RejectReason::total_exposure_limit;
    }
    return check;
  }

  [[nodiscard]] const PortfolioPosition& position(SymbolId symbol) const noexcept {
    return positions_[symbol < MaxSymbols ? symbol : 0];
  }
  /// Gross exposure of every position at its mark (saturates at the Amount range).
  [[nodiscard]] Amount total_exposure() const noexcept {
    return Amount::from_raw(clamp_to_int64(total_exposure_raw_));
  }
  [[nodiscard]] std::size_t open_positions() const noexcept { return open_count_; }
  [[nodiscard]] const PortfolioParams& params() const noexcept { return params_; }

  /// Limit amounts for an equity: ⌊equity × bps / 10 000⌋ (0 for equity ≤ 0).
  [[nodiscard]] Amount symbol_exposure_limit(Amount equity) const noexcept {
    return Amount::from_raw(clamp_to_int64(limit_raw(equity, params_.max_symbol_exposure_bps)));
  }
  [[nodiscard]] Amount total_exposure_limit(Amount equity) const noexcept {
    return Amount::from_raw(clamp_to_int64(limit_raw(equity, params_.max_total_exposure_bps)));
  }

 private:
  __extension__ using Int128 = __int128;
  static constexpr std::int64_t kScale = Price::kScale;

  struct Room {
    std::int64_t qty;  ///< largest |post-trade position| (raw qty) within both limits
    SizeBound bound;
  };

  [[nodiscard]] static constexpr std::int64_t clamp_to_int64(Int128 value) noexcept {
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
    return value > kMax ? kMax : (value < kMin ? kMin : static_cast<std::int64_t>(value));
  }
  [[nodiscard]] static constexpr Int128 limit_raw(Amount equity, std::uint32_t bps) noexcept {
    if (equity.raw() <= 0)
      return 0;
    std::int64_t product = 0;
    // Common case in 64 bits, where dividing by a constant is a multiply.
    if (!__builtin_mul_overflow(equity.raw(), std::int64_t{bps}, &product))
      return product / 10'000;
    return Int128{equity.raw()} * bps / 10'000;
  }
  // Largest raw qty Q with ⌊price × Q / 1e8⌋ ≤ limit: price × Q < (limit + 1) × 1e8.
  [[nodiscard]] static constexpr Int128 max_qty_within(Int128 limit, Price price) noexcept {
    if (limit < 0)
      return 0;
    return floor_div((limit + 1) * kScale - 1, price.raw());
  }
  // ⌊num / den⌋ for num ≥ 0, den > 0, exact. A 128-bit division is a library call (tens of
  // ns); a double estimate corrected by the exact 128-bit remainder needs only a 64-bit one.
  [[nodiscard]] static constexpr Int128 floor_div(Int128 num, std::int64_t den) noexcept {
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    if (num <= kMax)
      return static_cast<std::int64_t>(num) / den;
    // num > 2⁶³ here: convert its two halves (the library's 128-bit conversion is a call).
    const double wide =
        static_cast<double>(static_cast<std::uint64_t>(num >> 64)) * 18446744073709551616.0 +
        static_cast<double>(static_cast<std::uint64_t>(num));
    const double estimate = wide / static_cast<double>(den);
    if (estimate < 4e18) {
      const auto q = static_cast<std::int64_t>(estimate);
      const Int128 remainder = num - Int128{q} * den;  // num = q·den + remainder, |remainder| small
      if (remainder > -kMax / 2 && remainder < kMax / 2) {
        const auto r = static_cast<std::int64_t>(remainder);
        const std::int64_t correction = r / den;  // one division: the quotient and the sign
        return q + correction - (r - correction * den < 0 ? 1 : 0);
      }
    }
    return num / den;
  }

  [[nodiscard]] Room exposure_room(SymbolId symbol, Price price, Amount equity) const noexcept {
    const Int128 symbol_limit = limit_raw(equity, params_.max_symbol_exposure_bps);
    const Int128 others = total_exposure_raw_ - positions_[symbol].exposure.raw();
    const Int128 total_limit = limit_raw(equity, params_.max_total_exposure_bps) - others;
    const Int128 by_symbol = max_qty_within(symbol_limit, price);
    const Int128 by_total = max_qty_within(total_limit, price);
    // Ties go to the symbol limit: it is the one the operator set for this symbol.
    if (by_symbol <= by_total)
      return {clamp_to_int64(by_symbol), SizeBound::symbol_exposure};
    return {clamp_to_int64(by_total), SizeBound::total_exposure};
  }

  void revalue(SymbolId symbol) noexcept {
    PortfolioPosition& position = positions_[symbol];
    const std::int64_t q = position.qty.raw();
    const Int128 abs_qty = q < 0 ? -Int128{q} : Int128{q};
    const std::int64_t exposure = clamp_to_int64(abs_qty * position.mark.raw() / kScale);
    total_exposure_raw_ += Int128{exposure} - position.exposure.raw();
    position.exposure = Amount::from_raw(exposure);
  }

  PortfolioParams params_;
  Int128 total_exposure_raw_ = 0;
  std::size_t open_count_ = 0;
  std::array<PortfolioPosition, MaxSymbols> positions_{};
  std::array<SymbolId, MaxSymbols> open_symbols_{};
  std::array<std::uint16_t, MaxSymbols> open_index_{};
};

/// The engine's portfolio: up to 64 symbols.
using PortfolioLimits = BasicPortfolioLimits<64>;

}  // namespace kinetic::risk
