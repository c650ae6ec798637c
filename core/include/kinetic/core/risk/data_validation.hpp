#pragma once
// Market-data validation: flags trade ticks whose price or volume is implausible before a
// strategy acts on them.
//
// Per symbol the validator keeps the last `window` accepted prices and the last `window`
// accepted volumes (fixed windows, not exponential weights: the statistics of a window are
// exactly those of its samples, which makes the thresholds reproducible by hand and lets an
// outlier leave the statistics after `window` ticks). Mean and σ are the population mean and
// standard deviation of the price window (divisor n), kept as running sums of deviations from
// a recent price (accurate at any price level) and recomputed exactly once per window.
//
//   price_outlier  |price − mean| > price_sigmas × max(σ, min_sigma_bps × mean / 10⁴)
//   volume_spike   qty > volume_multiple × (mean volume of the window)
//   invalid        price ≤ 0, or a symbol id ≥ kMaxSymbols
//
// A tick is only judged once its window holds warmup_ticks samples (until then nothing is
// flagged and every tick is added). A price flagged as an outlier does not enter the price
// window and a spiking volume does not enter the volume window: one bad print must not
// poison the statistics that judge the next one. The two windows are independent (a trade of
// normal price and huge size still updates the price statistics). The σ floor stops a flat
// market (σ = 0) from flagging the first one-tick move. So that a genuine jump in level is not
// rejected for ever, after max_consecutive_outliers price outliers in a row the price window
// restarts from the current tick (and warms up again).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::risk {

/// Bits of TickVerdict::flags.
enum TickFlag : std::uint8_t {
  kTickOk = 0,
  kTickPriceOutlier = 1u << 0,
  kTickVolumeSpike = 1u << 1,
  kTickInvalid = 1u << 2,
};

/// What to do with a flagged tick.
enum class FlaggedTickPolicy : std::uint8_t {
  drop,            ///< drop it: strategies never see it
  pass_with_flag,  ///< pass it on marked (MarketEvent::kFlagSuspect); the risk manager then
                   ///< refuses orders it triggers (RejectReason::flagged_market_data)
};

/// Validation thresholds. Plain aggregate; check valid() at start-up.
struct TickValidatorParams {
  double price_sigmas = 5.0;
  double volume_multiple = 3.0;
  double min_sigma_bps = 1.0;     ///< σ floor as a fraction of the mean, in basis points
  std::size_t window = 64;        ///< samples per window, 2 .. kMaxWindow
  std::size_t warmup_ticks = 64;  ///< samples needed before judging, 2 .. window
  std::uint32_t max_consecutive_outliers = 20;  ///< ≥ 1; then the price window restarts
  FlaggedTickPolicy policy = FlaggedTickPolicy::drop;

  static constexpr std::size_t kMaxWindow = 64;

  [[nodiscard]] bool valid() const noexcept {
    return std::isfinite(price_sigmas) && price_sigmas > 0.0 && std::isfinite(volume_multiple) &&
           volume_multiple > 0.0 && std::isfinite(min_sigma_bps) && min_sigma_bps >= 0.0 &&
           window >= 2 && window <= kMaxWindow && warmup_ticks >= 2 && warmup_ticks <= window &&
           max_consecutive_outliers >= 1 &&
           (policy == FlaggedTickPolicy::drop || policy == FlaggedTickPolicy::pass_with_flag);
  }
};

/// The outcome for one tick: a TickFlag bitmask and whether to drop it (flags under the drop
/// policy; an invalid tick is always dropped).
struct TickVerdict {
  std::uint8_t flags = kTickOk;
  bool drop = false;
  [[nodiscard]] constexpr bool flagged() const noexcept { return flags != kTickOk; }
};

/// Per-symbol tick validator for symbol ids 0 .. kMaxSymbols − 1. Value type of fixed size
/// (about 33 KiB, so keep it in a long-lived object rather than on a small stack), never
/// allocates, no exceptions. Not thread-safe: owned by the thread that sees the ticks.
class TickValidator {
 public:
  static constexpr std::size_t kMaxSymbols = 32;

  /// Precondition: params.valid().
  explicit TickValidator(const TickValidatorParams& params = {}) noexcept : params_(params) {}

  [[nodiscard]] const TickValidatorParams& params() const noexcept { return params_; }

  /// Judges one trade (price, qty) of `symbol` and updates that symbol's statistics.
  /// qty ≤ 0 means "no volume" (a ticker update): the volume rule is skipped.
  [[nodiscard]] TickVerdict validate(SymbolId symbol, Price price, Qty qty) noexcept {
    if (symbol >= kMaxSymbols || price.raw() <= 0)
      return {kTickInvalid, true};
    SymbolState& s = symbols_[symbol];
    std::uint8_t flags = kTickOk;

    const double p = price.to_double();
    if (s.prices.size >= params_.warmup_ticks && is_price_outlier(s.prices, p)) {
      flags |= kTickPriceOutlier;
      if (++s.consecutive_outliers >= params_.max_consecutive_outliers) {
        s.prices = {};  // a new level, not a bad print: start over from this tick
        s.consecutive_outliers = 0;
        s.prices.push(p, params_.window);
      }
    } else {
      s.consecutive_outliers = 0;
      s.prices.push(p, params_.window);
    }

    if (qty.raw() > 0) {
      const double q = qty.to_double();
      if (s.volumes.size >= params_.warmup_ticks && is_volume_spike(s.volumes, q))
        flags |= kTickVolumeSpike;
      else
        s.volumes.push(q, params_.window);
    }
    return {flags, flags != kTickOk && params_.policy == FlaggedTickPolicy::drop};
  }

  /// Validates a trade event in place: sets MarketEvent::kFlagSuspect when flagged. Other
  /// event types pass untouched (verdict ok). Returns the verdict.
  [[nodiscard]] TickVerdict validate(MarketEvent& event) noexcept {
    if (event.type != MarketEventType::trade)
      return {};
    const TickVerdict verdict = validate(event.symbol, event.trade.price, event.trade.qty);
    if (verdict.flagged())
      event.flags = static_cast<std::uint16_t>(event.flags | kFlagSuspect);
    return verdict;
  }

  /// Mean and population σ of the symbol's price window, and its mean volume (zero when
  /// empty), for monitoring and tests.
  struct Stats {
    std::size_t price_samples = 0;
    double price_mean = 0.0;
    double price_sigma = 0.0;
    std::size_t volume_samples = 0;
    double volume_mean = 0.0;
  };
  [[nodiscard]] Stats stats(SymbolId symbol) const noexcept {
    if (symbol >= kMaxSymbols)
      return {};
    const SymbolState& s = symbols_[symbol];
    Stats out;
    out.price_samples = s.prices.size;
    if (s.prices.size > 0) {
      out.price_mean = s.prices.mean();
      out.price_sigma = std::sqrt(s.prices.variance());
    }
    out.volume_samples = s.volumes.size;
    if (s.volumes.size > 0)
      out.volume_mean = s.volumes.mean();
    return out;
  }

 private:
  /// The last `window` samples with running sums of their deviations from a reference
  /// value. The reference is a recent sample, so the deviations are small and their squares
  /// keep full precision at any price level (Σx² − (Σx)²/n would cancel catastrophically at
  /// 65000 ± 1). Every `window` pushes the sums are recomputed from the samples around the
  /// latest one, so rounding cannot accumulate: O(1) per push, plus O(window) once per window.
  struct Window {
    std::array<double, TickValidatorParams::kMaxWindow> values{};
    std::size_t size = 0;
    std::size_t next = 0;
    std::size_t pushes_since_refresh = 0;
    double reference = 0.0;
    double sum = 0.0;     ///< Σ (x − reference)
    double sum_sq = 0.0;  ///< Σ (x − reference)²

    void push(double x, std::size_t window) noexcept {
      if (size == 0)
        reference = x;
      if (size == window) {
        const double old = values[next] - reference;
        sum -= old;
        sum_sq -= old * old;
      } else {
        ++size;
      }
      values[next] = x;
      next = (next + 1) % window;
      const double d = x - reference;
      sum += d;
      sum_sq += d * d;
      if (++pushes_since_refresh >= window)
        refresh(x);
    }
    void refresh(double new_reference) noexcept {
      reference = new_reference;
      sum = 0.0;
      sum_sq = 0.0;
      for (std::size_t i = 0; i < size; ++i) {
        const double d = values[i] - reference;
        sum += d;
        sum_sq += d * d;
      }
      pushes_since_refresh = 0;
    }
    [[nodiscard]] double mean() const noexcept {
      return reference + sum / static_cast<double>(size);
    }
    /// Population variance (divisor n), never negative.
    [[nodiscard]] double variance() const noexcept {
      const double n = static_cast<double>(size);
      const double mean_deviation = sum / n;
      return std::max(0.0, sum_sq / n - mean_deviation * mean_deviation);
    }
    /// Σ x over the window.
    [[nodiscard]] double total() const noexcept {
      return reference * static_cast<double>(size) + sum;
    }
  };

  struct SymbolState {
    Window prices;
    Window volumes;
    std::uint32_t consecutive_outliers = 0;
  };

  [[nodiscard]] bool is_price_outlier(const Window& w, double p) const noexcept {
    const double mean = w.mean();
    const double sigma = std::sqrt(w.variance());
    const double floor = params_.min_sigma_bps * 1e-4 * std::fabs(mean);
    return std::fabs(p - mean) > params_.price_sigmas * std::max(sigma, floor);
  }

  [[nodiscard]] bool is_volume_spike(const Window& w, double q) const noexcept {
    // q > k × sum / n, compared as q × n > k × sum so that no division rounds the boundary.
    return q * static_cast<double>(w.size) > params_.volume_multiple * w.total();
  }

  TickValidatorParams params_;
  std::array<SymbolState, kMaxSymbols> symbols_{};
};

}  // namespace kinetic::risk
