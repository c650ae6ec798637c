#pragma once
// The kill switch: a latching state machine that stops trading when the account or the
// connection misbehaves.
//
//   ACTIVE ──(trigger → REDUCING)──> REDUCING ──(trigger → HALTED)──> HALTED
//      └──────────────────(trigger → HALTED)──────────────────────────────┘
//
// The state only moves towards HALTED. Nothing that happens afterwards (equity recovering,
// market data coming back) moves it back: only reset(), an explicit operator command, does.
//
// Triggers (thresholds in basis points so that every comparison is exact integer arithmetic
// on the fixed-point amounts; a trigger fires when the value is strictly above its limit):
//   drawdown    (peak − equity) / peak            > max_drawdown_bps    (default 15 %)  HALTED
//   daily_loss  (day_start − equity) / day_start  > max_daily_loss_bps  (default  8 %)  HALTED
//   trade_loss  −pnl / equity (after the trade)   > max_trade_loss_bps  (default  5 %)  REDUCING
//   error_rate  rejected / sent over the window   > max_error_rate_bps  (default 10 %)  HALTED
//               (only once at least min_orders_for_error_rate were sent in the window)
//   stale_data  now − last market data            > stale_data_timeout_ns (default 60 s) HALTED
// The state each trigger moves to is a parameter (reducing or halted). A single bad trade
// only restricts trading to reducing orders: one loss says little about the strategy, while
// a deep drawdown, a bad day, a broken order path or a blind feed each mean we must stop.
//
// Every entry into HALTED raises the actions "cancel all orders" and "close all positions"
// exactly once; the engine collects them with take_actions().

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/risk/reasons.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::risk {

namespace detail {
__extension__ using Int128 = __int128;

inline constexpr std::int64_t kBpsPerUnit = 10'000;
inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;
inline constexpr std::int64_t kNsPerDay = 86'400 * kNsPerSecond;

/// floor(a / b) for b > 0 (C++ division truncates towards zero).
[[nodiscard]] constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/// Exactly `part / whole > bps / 10000`, for whole > 0 (raw fixed-point units).
[[nodiscard]] constexpr bool above_bps(std::int64_t part, std::int64_t whole,
                                       std::int64_t bps) noexcept {
  return static_cast<Int128>(part) * kBpsPerUnit > static_cast<Int128>(whole) * bps;
}
}  // namespace detail

/// Kill-switch limits. Plain aggregate; check valid() at start-up.
struct KillSwitchParams {
  std::int64_t max_drawdown_bps = 1'500;    ///< from peak equity
  std::int64_t max_daily_loss_bps = 800;    ///< of the equity at the start of the UTC day
  std::int64_t max_trade_loss_bps = 500;    ///< of the equity after the trade
  std::int64_t max_error_rate_bps = 1'000;  ///< rejected / sent over the error window
  std::int64_t error_window_seconds = 60;   ///< 1 .. kMaxErrorWindowSeconds
  std::int64_t min_orders_for_error_rate = 10;
  TimestampNs stale_data_timeout_ns = 60 * detail::kNsPerSecond;
  TradingState drawdown_action = TradingState::halted;
  TradingState daily_loss_action = TradingState::halted;
  TradingState trade_loss_action = TradingState::reducing;
  TradingState error_rate_action = TradingState::halted;
  TradingState stale_data_action = TradingState::halted;

  static constexpr std::int64_t kMaxErrorWindowSeconds = 600;

  [[nodiscard]] constexpr bool valid() const noexcept {
    const auto escalates = [](TradingState s) {
      return s == TradingState::reducing || s == TradingState::halted;
    };
    return max_drawdown_bps >= 0 && max_daily_loss_bps >= 0 && max_trade_loss_bps >= 0 &&
           max_error_rate_bps >= 0 && error_window_seconds >= 1 &&
           error_window_seconds <= kMaxErrorWindowSeconds && min_orders_for_error_rate >= 1 &&
           stale_data_timeout_ns > 0 && escalates(drawdown_action) &&
           escalates(daily_loss_action) && escalates(trade_loss_action) &&
           escalates(error_rate_action) && escalates(stale_data_action);
  }
};

/// One state change. `value` and `threshold` are in the trigger's natural unit: a fraction
/// (0.15 = 15 %) for drawdown, daily_loss, trade_loss and error_rate; seconds for stale_data;
/// zero for manual. `value` is converted to double for reporting only (the decision that
/// produced it was exact).
struct KillTransition {
  TradingState from = TradingState::active;
  TradingState to = TradingState::active;
  KillTrigger trigger = KillTrigger::none;
  TimestampNs time = 0;
  double value = 0.0;
  double threshold = 0.0;
};

/// Actions the engine must carry out; raised once per entry into HALTED.
struct KillActions {
  bool cancel_all = false;
  bool close_all = false;
  [[nodiscard]] constexpr bool any() const noexcept { return cancel_all || close_all; }
};

/// The latching kill switch. Value type, fixed size (about 10 KiB: the error window's capacity),
/// never allocates, no exceptions. Not thread-safe: the risk thread owns it and feeds it every
/// input in time order; time is always passed in (never read here).
class KillSwitch {
 public:
  static constexpr std::size_t kHistory = 16;  ///< transitions kept in the ring

  /// Read-only view of the kept transitions, oldest first. Valid until the next input.
  class TransitionLog {
   public:
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    /// i = 0 is the oldest kept, size() − 1 the latest. Precondition: i < size().
    [[nodiscard]] const KillTransition& operator[](std::size_t i) const noexcept {
      return (*ring_)[(first_ + i) % kHistory];
    }
    /// Every transition since construction, including those overwritten in the ring.
    [[nodiscard]] std::uint64_t total() const noexcept { return total_; }

   private:
    friend class KillSwitch;
    const std::array<KillTransition, kHistory>* ring_ = nullptr;
    std::size_t first_ = 0;
    std::size_t size_ = 0;
    std::uint64_t total_ = 0;
  };

  /// Precondition: params.valid().
  explicit KillSwitch(const KillSwitchParams& params = {}) noexcept : params_(params) {}

  [[nodiscard]] const KillSwitchParams& params() const noexcept { return params_; }
  [[nodiscard]] TradingState state() const noexcept { return state_; }

  /// A new account equity. Updates the peak and the UTC day, then checks drawdown and
  /// daily loss. The first equity reported on a UTC day (day = floor(now / 86400 s)) becomes
  /// that day's start equity. Non-positive equity with a positive peak is a 100 % drawdown.
  void on_equity(TimestampNs now, Amount equity) noexcept {
    note_equity(now, equity);
    check_drawdown(now, equity);
    check_daily_loss(now, equity);
  }

  /// A closed trade with profit `pnl` (negative for a loss) and the account `equity` after it
  /// was booked. Checks the single-trade loss against that equity, then does what on_equity
  /// does. A loss against non-positive equity always trips.
  void on_trade_closed(TimestampNs now, Amount pnl, Amount equity) noexcept {
    note_equity(now, equity);
    if (pnl.raw() < 0) {
      const std::int64_t loss = -pnl.raw();
      if (equity.raw() <= 0 || detail::above_bps(loss, equity.raw(), params_.max_trade_loss_bps))
        escalate(params_.trade_loss_action, KillTrigger::trade_loss, now, ratio(loss, equity.raw()),
                 bps_fraction(params_.max_trade_loss_bps));
    }
    check_drawdown(now, equity);
    check_daily_loss(now, equity);
  }

  /// An order went out. Counted in the error window (a send alone never trips).
  void on_order_sent(TimestampNs now) noexcept { count_order(now, 1, 0); }

  /// An order was rejected (by the exchange or the gateway). Counted, then the error rate
  /// over the window is checked.
  void on_order_rejected(TimestampNs now) noexcept {
    count_order(now, 0, 1);
    check_error_rate(now);
  }

  /// Market data arrived: restarts the staleness clock.
  void on_market_data(TimestampNs now) noexcept {
    last_market_data_ = now;
    market_data_clock_started_ = true;
  }

  /// Periodic check (call from the engine loop): the staleness timer and the error rate.
  /// The staleness clock starts at the first on_market_data() or check(), whichever comes
  /// first, so a feed that never delivers anything trips timeout after start-up.
  void check(TimestampNs now) noexcept {
    if (!market_data_clock_started_) {
      last_market_data_ = now;
      market_data_clock_started_ = true;
    }
    const TimestampNs silence = now - last_market_data_;
    if (silence > params_.stale_data_timeout_ns)
      escalate(params_.stale_data_action, KillTrigger::stale_data, now, seconds(silence),
               seconds(params_.stale_data_timeout_ns));
    check_error_rate(now);
  }

  /// Operator command: go to HALTED now (raises the actions like any other halt).
  void halt(TimestampNs now) noexcept {
    escalate(TradingState::halted, KillTrigger::manual, now, 0.0, 0.0);
  }

  /// Operator command: back to ACTIVE. Re-bases the peak and the day-start equity to
  /// `equity` (so the loss that tripped the switch does not trip it again at once), clears
  /// the error window and any actions not yet taken, and restarts the staleness clock at
  /// `now`. Records a transition with trigger `manual` (when the state was not ACTIVE).
  void reset(TimestampNs now, Amount equity) noexcept {
    if (state_ != TradingState::active)
      record({state_, TradingState::active, KillTrigger::manual, now, 0.0, 0.0});
    state_ = TradingState::active;
    peak_equity_ = equity;
    day_start_equity_ = equity;
    current_day_ = detail::floor_div(now, detail::kNsPerDay);
    have_equity_ = true;
    buckets_ = {};
    window_totals_ = {};
    head_second_ = kNoSecond;
    actions_ = {};
    last_market_data_ = now;
    market_data_clock_started_ = true;
  }

  /// Actions raised and not yet taken.
  [[nodiscard]] KillActions pending_actions() const noexcept { return actions_; }
  /// Returns the pending actions and clears them: each HALTED entry yields them once.
  [[nodiscard]] KillActions take_actions() noexcept {
    const KillActions taken = actions_;
    actions_ = {};
    return taken;
  }

  /// The latest transition; a default (ACTIVE → ACTIVE, trigger none) one when none yet.
  [[nodiscard]] KillTransition last_transition() const noexcept {
    if (total_transitions_ == 0)
      return {};
    return history_[(next_slot_ + kHistory - 1) % kHistory];
  }
  [[nodiscard]] TransitionLog transitions() const noexcept {
    TransitionLog log;
    log.ring_ = &history_;
    log.size_ =
        total_transitions_ < kHistory ? static_cast<std::size_t>(total_transitions_) : kHistory;
    log.first_ = (next_slot_ + kHistory - log.size_) % kHistory;
    log.total_ = total_transitions_;
    return log;
  }

  [[nodiscard]] Amount peak_equity() const noexcept { return peak_equity_; }
  [[nodiscard]] Amount day_start_equity() const noexcept { return day_start_equity_; }

  /// Sent and rejected orders in the error window ending at `now` (for monitoring).
  struct ErrorCounts {
    std::int64_t sent = 0;
    std::int64_t rejected = 0;
  };
  /// The window is the error_window_seconds whole seconds ending with the current one, so an
  /// event leaves it between W − 1 and W seconds after it happened (1 s granularity). For a
  /// `now` earlier than the latest event, the window ending at the latest event's second.
  [[nodiscard]] ErrorCounts error_counts(TimestampNs now) const noexcept {
    const std::int64_t second = detail::floor_div(now, detail::kNsPerSecond);
    if (head_second_ == kNoSecond || second <= head_second_)
      return window_totals_;
    if (second - head_second_ >= params_.error_window_seconds)
      return {};
    ErrorCounts counts = window_totals_;
    for (std::int64_t s = head_second_ + 1; s <= second; ++s) {  // the seconds that would leave
      const Bucket& b = buckets_[slot(s)];
      counts.sent -= b.sent;
      counts.rejected -= b.rejected;
    }
    return counts;
  }

 private:
  struct Bucket {
    std::int64_t sent = 0;
    std::int64_t rejected = 0;
  };

  [[nodiscard]] static constexpr double ratio(std::int64_t part, std::int64_t whole) noexcept {
    return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 1.0;
  }
  [[nodiscard]] static constexpr double bps_fraction(std::int64_t bps) noexcept {
    return static_cast<double>(bps) / static_cast<double>(detail::kBpsPerUnit);
  }
  [[nodiscard]] static constexpr double seconds(TimestampNs ns) noexcept {
    return static_cast<double>(ns) / static_cast<double>(detail::kNsPerSecond);
  }

  void note_equity(TimestampNs now, Amount equity) noexcept {
    const std::int64_t day = detail::floor_div(now, detail::kNsPerDay);
    if (!have_equity_) {
      peak_equity_ = equity;
      day_start_equity_ = equity;
      current_day_ = day;
      have_equity_ = true;
      return;
    }
    if (equity > peak_equity_)
      peak_equity_ = equity;
    if (day != current_day_) {
      current_day_ = day;
      day_start_equity_ = equity;
    }
  }

  void check_drawdown(TimestampNs now, Amount equity) noexcept {
    if (peak_equity_.raw() <= 0)
      return;  // nothing to draw down from
    const std::int64_t fall = peak_equity_.raw() - equity.raw();
    if (detail::above_bps(fall, peak_equity_.raw(), params_.max_drawdown_bps))
      escalate(params_.drawdown_action, KillTrigger::drawdown, now, ratio(fall, peak_equity_.raw()),
               bps_fraction(params_.max_drawdown_bps));
  }

  void check_daily_loss(TimestampNs now, Amount equity) noexcept {
    if (day_start_equity_.raw() <= 0)
      return;
    const std::int64_t loss = day_start_equity_.raw() - equity.raw();
    if (detail::above_bps(loss, day_start_equity_.raw(), params_.max_daily_loss_bps))
      escalate(params_.daily_loss_action, KillTrigger::daily_loss, now,
               ratio(loss, day_start_equity_.raw()), bps_fraction(params_.max_daily_loss_bps));
  }

  void check_error_rate(TimestampNs now) noexcept {
    advance_window(detail::floor_div(now, detail::kNsPerSecond));
    const ErrorCounts counts = window_totals_;
    if (counts.sent < params_.min_orders_for_error_rate)
      return;
    if (detail::above_bps(counts.rejected, counts.sent, params_.max_error_rate_bps))
      escalate(params_.error_rate_action, KillTrigger::error_rate, now,
               ratio(counts.rejected, counts.sent), bps_fraction(params_.max_error_rate_bps));
  }

  /// The bucket of second `s` (slot s mod W) while s is inside the window.
  [[nodiscard]] std::size_t slot(std::int64_t s) const noexcept {
    const std::int64_t w = params_.error_window_seconds;
    return static_cast<std::size_t>(s - detail::floor_div(s, w) * w);
  }

  /// Moves the window's end to `second`: the buckets of the seconds that leave are
  /// subtracted from the running totals and emptied for reuse. O(1) amortized (at most W
  /// buckets per call, and a jump of a whole window or more just empties everything).
  void advance_window(std::int64_t second) noexcept {
    if (head_second_ != kNoSecond && second <= head_second_)
      return;
    const std::int64_t w = params_.error_window_seconds;
    if (head_second_ == kNoSecond || second - head_second_ >= w) {
      if (window_totals_.sent != 0 || window_totals_.rejected != 0) {
        for (std::size_t i = 0; i < static_cast<std::size_t>(w); ++i)
          buckets_[i] = Bucket{};
        window_totals_ = {};
      }
    } else {
      for (std::int64_t s = head_second_ + 1; s <= second; ++s) {
        Bucket& b = buckets_[slot(s)];
        window_totals_.sent -= b.sent;
        window_totals_.rejected -= b.rejected;
        b = Bucket{};
      }
    }
    head_second_ = second;
  }

  /// Counts an order event. One older than the window (out of order by W seconds or more)
  /// is outside every window that can still be asked for and is not counted.
  void count_order(TimestampNs now, std::int64_t sent, std::int64_t rejected) noexcept {
    const std::int64_t second = detail::floor_div(now, detail::kNsPerSecond);
    advance_window(second);
    if (second <= head_second_ - params_.error_window_seconds)
      return;
    Bucket& b = buckets_[slot(second)];
    b.sent += sent;
    b.rejected += rejected;
    window_totals_.sent += sent;
    window_totals_.rejected += rejected;
  }

  void escalate(TradingState to, KillTrigger trigger, TimestampNs now, double value,
                double threshold) noexcept {
    if (to <= state_)
      return;  // latching: never downgrade, never repeat
    record({state_, to, trigger, now, value, threshold});
    state_ = to;
    if (to == TradingState::halted)
      actions_ = {true, true};
  }

  void record(const KillTransition& t) noexcept {
    history_[next_slot_] = t;
    next_slot_ = (next_slot_ + 1) % kHistory;
    ++total_transitions_;
  }

  KillSwitchParams params_;
  TradingState state_ = TradingState::active;
  KillActions actions_{};
  bool have_equity_ = false;
  bool market_data_clock_started_ = false;
  Amount peak_equity_ = Amount::from_raw(0);
  Amount day_start_equity_ = Amount::from_raw(0);
  std::int64_t current_day_ = 0;
  TimestampNs last_market_data_ = 0;
  static constexpr std::int64_t kNoSecond = std::numeric_limits<std::int64_t>::min();
  std::array<Bucket, KillSwitchParams::kMaxErrorWindowSeconds> buckets_{};
  ErrorCounts window_totals_{};           ///< sums of the buckets inside the window
  std::int64_t head_second_ = kNoSecond;  ///< the window's last second; kNoSecond: no event yet
  std::array<KillTransition, kHistory> history_{};
  std::size_t next_slot_ = 0;
  std::uint64_t total_transitions_ = 0;
};

}  // namespace kinetic::risk
