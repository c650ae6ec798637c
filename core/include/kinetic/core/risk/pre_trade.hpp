#pragma once
// Pre-trade checks: the last gate an order passes before the encoder. Cheap rules that catch
// what sizing cannot: a halted or reducing kill switch, a fat-fingered price, an oversized
// order, a runaway order loop, and the same order sent twice.
//
// Rules, in the order they are applied (the first that fails is returned):
//   1. state HALTED                                     → halted
//   2. state REDUCING and the order is not reduce_only  → reduce_only_required
//   3. qty ≤ 0, a limit order with price ≤ 0, side none → invalid_input
//   4. price band: |price − last| / last > price_band_bps, where price is the limit price
//      (a market order executes near the last price, so it always passes this rule). With
//      no last trade (last ≤ 0) the band cannot be checked and the order is refused with
//      price_band: never trade blind.
//   5. notional price × qty > max_order_notional (price = limit price, or the last trade
//      price for a market order)                        → order_notional_limit
//   6. rate: max_orders_per_second orders already recorded in the last second, i.e. in the
//      half-open window (now − 1 s, now]                → order_rate_limit
//   7. duplicate: an order with the same symbol, side, type, qty and price was recorded in
//      the half-open window (now − duplicate_window_ns, now] → duplicate_order
// Rules 6 and 7 see only orders passed to record_sent(), which the engine calls once an
// order actually goes out.

#include <array>
#include <cstddef>
#include <cstdint>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/risk/reasons.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::risk {

/// Pre-trade limits. Plain aggregate; check valid() at start-up.
struct PreTradeParams {
  /// Fat-finger band around the last trade, in basis points (500 = 5 %). Wide enough for
  /// any sane limit order in crypto perpetuals, narrow enough to stop a misplaced digit.
  std::int64_t price_band_bps = 500;
  Amount max_order_notional = Amount::from_units(100'000);
  std::int64_t max_orders_per_second = 10;        ///< 1 .. kMaxRecentOrders
  TimestampNs duplicate_window_ns = 500'000'000;  ///< 0 (off) .. 1 s

  static constexpr std::int64_t kMaxRecentOrders = 64;

  [[nodiscard]] constexpr bool valid() const noexcept {
    return price_band_bps >= 0 && max_order_notional.raw() > 0 && max_orders_per_second >= 1 &&
           max_orders_per_second <= kMaxRecentOrders && duplicate_window_ns >= 0 &&
           duplicate_window_ns <= 1'000'000'000;
  }
};

/// The pre-trade gate. Value type, fixed size (remembers the last kMaxRecentOrders sent
/// orders), never allocates, no exceptions. Not thread-safe: owned by the risk thread; time
/// is passed in. Because the duplicate window is at most 1 s and at most
/// max_orders_per_second ≤ kMaxRecentOrders orders pass in any second, the ring holds every
/// order the duplicate rule must see (as long as every recorded order went through check()).
class PreTradeChecks {
 public:
  /// Precondition: params.valid().
  explicit PreTradeChecks(const PreTradeParams& params = {}) noexcept : params_(params) {}

  [[nodiscard]] const PreTradeParams& params() const noexcept { return params_; }

  /// RejectReason::none when the order may go out. Does not record it (see record_sent()).
  [[nodiscard]] RejectReason check(const OrderIntent& order, TimestampNs now,
                                   Price last_trade_price, TradingState state) const noexcept {
    if (state == TradingState::halted)
      return RejectReason::halted;
    if (state == TradingState::reducing && !order.reduce_only)
      return RejectReason::reduce_only_required;

    const bool is_market = order.type == OrderType::market;
    if (order.qty.raw() <= 0 || (!is_market && order.price.raw() <= 0) || order.side == Side::none)
      return RejectReason::invalid_input;

    if (last_trade_price.raw() <= 0)
      return RejectReason::price_band;
    const Price price = is_market ? last_trade_price : order.price;
    const std::int64_t distance = price.raw() > last_trade_price.raw()
                                      ? price.raw() - last_trade_price.raw()
                                      : last_trade_price.raw() - price.raw();
    if (static_cast<Int128>(distance) * 10'000 >
        static_cast<Int128>(last_trade_price.raw()) * params_.price_band_bps)
      return RejectReason::price_band;

    // price × qty in raw units is raw_p × raw_q / 1e8; compare without dividing (exact).
    if (static_cast<Int128>(price.raw()) * order.qty.raw() >
        static_cast<Int128>(params_.max_order_notional.raw()) * Price::kScale)
      return RejectReason::order_notional_limit;

    const auto limit = static_cast<std::size_t>(params_.max_orders_per_second);
    if (count_ >= limit && now - recent(limit - 1).time < kOneSecondNs)
      return RejectReason::order_rate_limit;

    if (params_.duplicate_window_ns > 0) {
      const std::size_t kept = count_ < kCapacity ? count_ : kCapacity;
      for (std::size_t age = 0; age < kept; ++age) {
        const Sent& s = recent(age);
        if (now - s.time >= params_.duplicate_window_ns)
          break;  // the ring is in time order: everything older is outside too
        if (s.symbol == order.symbol && s.side == order.side && s.type == order.type &&
            s.qty == order.qty && s.price == order.price)
          return RejectReason::duplicate_order;
      }
    }
    return RejectReason::none;
  }

  /// Records an order that went out at `now` (times must not decrease).
  void record_sent(const OrderIntent& order, TimestampNs now) noexcept {
    ring_[next_] = Sent{now, order.price, order.qty, order.symbol, order.side, order.type};
    next_ = (next_ + 1) % kCapacity;
    ++count_;
  }

  /// Orders recorded since construction.
  [[nodiscard]] std::uint64_t sent_count() const noexcept { return count_; }

 private:
  __extension__ using Int128 = __int128;
  static constexpr std::size_t kCapacity = PreTradeParams::kMaxRecentOrders;
  static constexpr TimestampNs kOneSecondNs = 1'000'000'000;

  struct Sent {
    TimestampNs time = 0;
    Price price = Price::from_raw(0);
    Qty qty = Qty::from_raw(0);
    SymbolId symbol = 0;
    Side side = Side::none;
    OrderType type = OrderType::market;
  };

  /// The order recorded `age` sends ago (0 = the latest). Precondition: age < min(count, cap).
  [[nodiscard]] const Sent& recent(std::size_t age) const noexcept {
    return ring_[(next_ + kCapacity - 1 - age) % kCapacity];
  }

  PreTradeParams params_;
  std::array<Sent, kCapacity> ring_{};
  std::size_t next_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace kinetic::risk
