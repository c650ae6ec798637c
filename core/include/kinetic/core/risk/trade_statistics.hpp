#pragma once
// The win probability that Kelly sizing needs, from the engine's own closed trades with a
// prior, so that sizing is defined from the first trade on.
//
// With a prior of p₀ over n₀ pseudo-trades (a Beta(p₀ n₀, (1 − p₀) n₀) prior) and w wins in n
// closed trades, the posterior mean is
//   p = (w + p₀ n₀) / (n + n₀).
// The average win and loss (Kelly's b and a) are not estimated here: they come from the
// proposed trade itself (target and stop distance over the entry), which is what the order
// will actually risk and aim for.

#include <cstdint>

namespace kinetic::risk {

/// Closed-trade win counter with a prior. Value type, no allocation; one thread.
class TradeStatistics {
 public:
  /// Precondition: 0 < prior_win_probability < 1, prior_trades ≥ 0.
  constexpr TradeStatistics(double prior_win_probability, double prior_trades) noexcept
      : prior_p_(prior_win_probability), prior_n_(prior_trades) {}

  /// Records a closed trade; a P&L of exactly 0 counts as a loss (it paid its fees).
  constexpr void on_trade_closed(double pnl) noexcept {
    ++trades_;
    wins_ += pnl > 0.0 ? 1U : 0U;
  }

  /// Posterior mean win probability; the prior while no trade has closed (or p₀ when n₀ = 0
  /// and nothing is known).
  [[nodiscard]] constexpr double win_probability() const noexcept {
    const double n = static_cast<double>(trades_) + prior_n_;
    if (!(n > 0.0))
      return prior_p_;
    return (static_cast<double>(wins_) + prior_p_ * prior_n_) / n;
  }

  [[nodiscard]] constexpr std::uint64_t trades() const noexcept { return trades_; }
  [[nodiscard]] constexpr std::uint64_t wins() const noexcept { return wins_; }

 private:
  double prior_p_;
  double prior_n_;
  std::uint64_t trades_ = 0;
  std::uint64_t wins_ = 0;
};

}  // namespace kinetic::risk
