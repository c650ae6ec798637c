#pragma once
// A seeded synthetic market: a stream of trades whose price moves through trending,
// mean-reverting and jumpy regimes, with microstructure noise and bid-ask bounce.
//
// The efficient log-price follows d ln P = μ dt + σ √dt Z, plus −κ (ln P − anchor) dt in the
// mean-reverting regime and compound-Poisson jumps in the jumpy one. Regimes last an
// exponentially distributed time. Trades arrive as a Poisson process; a buyer-initiated trade
// prints at the efficient price plus noise rounded up to the tick, a seller-initiated one
// rounded down. Everything is drawn from kinetic::math::Rng, so a seed gives the same
// market on every platform.

#include <array>
#include <cstdint>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/math/random.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::feed {

enum class Regime : std::uint8_t { trending = 0, mean_reverting = 1, jumpy = 2 };
inline constexpr std::size_t kRegimeCount = 3;

struct SyntheticMarketParams {
  std::uint64_t seed = 42;
  SymbolId symbol = 0;
  double initial_price = 65000.0;
  Price tick_size = Price::from_raw(10'000'000);  // 0.1
  Qty qty_step = Qty::from_raw(100'000);          // 0.001
  double mean_interarrival_ms = 20.0;
  double volatility_per_sqrt_s = 2e-4;  ///< diffusion σ of ln P
  double trend_drift_per_s = 1e-4;      ///< |μ| of ln P in the trending regime
  double reversion_per_s = 0.05;        ///< κ in the mean-reverting regime
  double jump_rate_per_s = 0.5;         ///< jump intensity in the jumpy regime
  double jump_sigma = 1.5e-3;           ///< σ of one jump of ln P
  double noise_ticks = 1.0;             ///< σ of the microstructure noise, in ticks
  double mean_regime_s = 60.0;          ///< mean duration of a regime
  double mean_qty = 0.05;               ///< mean trade size (exponential)
  TimestampNs start_exch_ts = 1'767'225'600'000'000'000;  ///< 2026-01-01T00:00:00Z
};

/// Generator of synthetic trades for one symbol. Owns its state (about 200 bytes, no heap);
/// next() never allocates. One thread at a time.
class SyntheticMarket {
 public:
  explicit SyntheticMarket(const SyntheticMarketParams& params) noexcept;

  /// The next trade. `recv_ts` is left 0 for the receiver to stamp; `exch_ts` is simulated
  /// time in ns since the Unix epoch.
  [[nodiscard]] MarketEvent next() noexcept;

  [[nodiscard]] Regime regime() const noexcept { return regime_; }
  [[nodiscard]] double efficient_price() const noexcept;
  /// Trades generated so far in each regime, indexed by Regime.
  [[nodiscard]] const std::array<std::uint64_t, kRegimeCount>& trades_per_regime() const noexcept {
    return trades_per_regime_;
  }

 private:
  void enter_regime(Regime regime) noexcept;

  SyntheticMarketParams params_;
  math::Rng rng_;
  Regime regime_ = Regime::trending;
  double log_price_;
  double anchor_log_price_;
  double drift_per_s_ = 0.0;
  double regime_left_s_ = 0.0;
  TimestampNs exch_ts_;
  std::uint64_t trade_id_ = 0;
  std::array<std::uint64_t, kRegimeCount> trades_per_regime_{};
};

[[nodiscard]] constexpr const char* to_string(Regime regime) noexcept {
  switch (regime) {
    case Regime::trending:
      return "trending";
    case Regime::mean_reverting:
      return "mean_reverting";
    case Regime::jumpy:
      return "jumpy";
  }
  return "unknown";
}

}  // namespace kinetic::feed
