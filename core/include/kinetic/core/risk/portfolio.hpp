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
// entry_room() answers the same question for an entry that is not sized yet: rules 1, 3, 4
// and 5, then the exposure room as a value (price × qty in raw units) that the sizer takes as
// one more bound, so an entry is sized once within every limit.
// max_qty_allowed is the room for the sizer to cap against (not rounded to the qty step: round
// it down); `bound` says which limit gave it. It is 0 when rules 1, 3, 4 or 5 refuse, and
// |position| (bound none) for a reduction: flipping beyond it is checked as a new direction.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/int128.hpp"
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

/// What entry_room() decided: whether a new position may open, and its exposure room as a
/// value (price.raw() × qty.raw(), the notional × 1e16) for the sizer to bound against.
struct EntryRoom {
  RejectReason reason = RejectReason::none;
  int128 max_value = 0;               ///< largest price.raw() × qty.raw() within the limits
  SizeBound bound = SizeBound::none;  ///< the limit that gives max_value
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
    const Held held = held_against(symbol, side);
    if (held.opposite_side && qty.raw() <= held.abs) {
      check.max_qty_allowed = Qty::from_raw(held.abs);  // a reduction may close it all
      return check;
    }
    if (equity.raw() <= 0) {
      check.reason = RejectReason::invalid_input;
      return check;
    }
    check.reason = admit(symbol, side, held, correlation, check.correlated_with, check.correlation);
    if (check.reason != RejectReason::none)
      return check;

    const ValueRoom room = value_room(symbol, price, equity, held.base());
    // The order fits when price × qty is within the smaller room: products only, no division.
    if (room_wanted == RoomWanted::when_refused &&
        Int128{price.raw()} * qty.raw() <= std::min(room.by_symbol, room.by_total))
      return check;
    // In quantity, each room rounded down on its own: ties go to the symbol limit, the one
    // the operator set for this symbol.
    const std::int64_t by_symbol = qty_within(room.by_symbol, price);
    const std::int64_t by_total = qty_within(room.by_total, price);
    const bool symbol_binds = by_symbol <= by_total;
    check.max_qty_allowed = Qty::from_raw(symbol_binds ? by_symbol : by_total);
    check.bound = symbol_binds ? SizeBound::symbol_exposure : SizeBound::total_exposure;
    if (qty.raw() > check.max_qty_allowed.raw()) {
      check.reason =
          symbol_binds ? RejectReason::symbol_exposure_limit : RejectReason::total_exposure_limit;
    }
    return check;
  }

  /// Room for an entry that is still to be sized: rules 1, 3, 4 and 5 of the header comment,
  /// and then, instead of a quantity, the largest VALUE price.raw() × qty.raw() (the notional
  /// × 1e16) the order may have within both exposure limits, so the sizer can take it as one
  /// more bound and divide once, by the entry price it divides by anyway. An entry against an
  /// open opposite position is a flip: a new direction (rules 4 and 5 apply), and closing the
  /// whole position always fits (value_within() ≥ 0). `max_value` is negative when the
  /// position already exceeds a limit (no room at all).
  template <std::size_t MaxSeries>
  [[nodiscard]] EntryRoom entry_room(
      SymbolId symbol, Side side, Price price, Amount equity,
      const math::BasicReturnCorrelation<MaxSeries>& correlation) const noexcept {
    EntryRoom entry;
    if (symbol >= MaxSymbols || side == Side::none || price.raw() <= 0 || equity.raw() <= 0) {
      entry.reason = RejectReason::invalid_input;
      return entry;
    }
    const Held held = held_against(symbol, side);
    entry.reason = admit(symbol, side, held, correlation, entry.correlated_with, entry.correlation);
    if (entry.reason != RejectReason::none)
      return entry;
    const ValueRoom room = value_room(symbol, price, equity, held.base());
    const bool symbol_binds = room.by_symbol <= room.by_total;
    entry.max_value = symbol_binds ? room.by_symbol : room.by_total;
    entry.bound = symbol_binds ? SizeBound::symbol_exposure : SizeBound::total_exposure;
    return entry;
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

  /// The symbol's position seen from an order on one side.
  struct Held {
    std::int64_t signed_qty;  ///< the position (raw, signed)
    std::int64_t abs;         ///< |position| (raw)
    bool opposite_side;       ///< the order is against an open position
    /// The position in the order's direction: +|position| same side, −|position| opposite.
    [[nodiscard]] constexpr Int128 base() const noexcept {
      return opposite_side ? -Int128{abs} : Int128{abs};
    }
  };

  /// Each limit's room for the order, as the largest value price.raw() × order qty.raw():
  /// the post-trade exposure ⌊price × (base + Q) / 1e8⌋ ≤ limit ⇔ price × (base + Q) ≤
  /// (limit + 1) × 1e8 − 1 ⇔ price × Q ≤ that − price × base.
  struct ValueRoom {
    Int128 by_symbol;
    Int128 by_total;
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
  // The largest value price × Q (raw × raw) whose exposure ⌊price × Q / 1e8⌋ is within
  // `limit`; with no room (limit < 0) only a flat position, value 0.
  [[nodiscard]] static constexpr Int128 value_within(Int128 limit) noexcept {
    return limit < 0 ? 0 : (limit + 1) * kScale - 1;
  }
  // The largest qty whose value price × qty is within `value` (0 when there is none).
  [[nodiscard]] static constexpr std::int64_t qty_within(Int128 value, Price price) noexcept {
    return value <= 0 ? 0 : clamp_to_int64(floor_div(value, price.raw()));
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

  [[nodiscard]] Held held_against(SymbolId symbol, Side side) const noexcept {
    const std::int64_t held = positions_[symbol].qty.raw();
    const bool opposite_side = held != 0 && (held > 0) != (side == Side::buy);
    const std::int64_t held_abs =
        held >= 0 ? held : (held == std::numeric_limits<std::int64_t>::min() ? -(held + 1) : -held);
    return Held{held, held_abs, opposite_side};
  }

  // Rules 4 and 5 for an order that is more than a reduction.
  template <std::size_t MaxSeries>
  [[nodiscard]] RejectReason admit(SymbolId symbol, Side side, const Held& held,
                                   const math::BasicReturnCorrelation<MaxSeries>& correlation,
                                   SymbolId& correlated_with, double& rho_out) const noexcept {
    if (held.signed_qty == 0 && open_count_ >= params_.max_open_positions)
      return RejectReason::max_open_positions;
    if (held.signed_qty != 0 && !held.opposite_side)
      return RejectReason::none;  // adds to its own direction: no new correlation
    const bool buy = side == Side::buy;
    for (std::size_t k = 0; k < open_count_; ++k) {
      const SymbolId other = open_symbols_[k];
      if (other == symbol)
        continue;
      const bool other_long = positions_[other].qty.raw() > 0;
      if (other_long != buy)
        continue;  // opposite directions hedge
      if (!correlation.ready(symbol, other))
        continue;
      const double rho = correlation.correlation(symbol, other);
      if (rho > params_.max_correlation) {
        correlated_with = other;
        rho_out = rho;
        return RejectReason::correlated_position;
      }
    }
    return RejectReason::none;
  }

  [[nodiscard]] ValueRoom value_room(SymbolId symbol, Price price, Amount equity,
                                     Int128 base) const noexcept {
    const Int128 others = total_exposure_raw_ - positions_[symbol].exposure.raw();
    const Int128 held_value = Int128{price.raw()} * base;
    return ValueRoom{
        value_within(limit_raw(equity, params_.max_symbol_exposure_bps)) - held_value,
        value_within(limit_raw(equity, params_.max_total_exposure_bps) - others) - held_value};
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
