#pragma once
// Streaming, exponentially weighted correlation of the log-returns of N price series that tick
// at their own pace, resampled on a common clock.
//
// Ticks only record each series' last price (update(), O(1)). Every `interval_ns` (sample())
// the last prices are snapshotted; a series with a price at this snapshot and at the previous
// one contributes the log-return r_i = ln(p_i / p_i,prev). Each pair (i, j) with a return from
// both series in the same snapshot then gets one sample (x, y) = (r_i, r_j) in its own
// exponentially weighted moments, with weight α per sample (West's incremental form, as in
// ew_moments.hpp; the first sample sets the means and zeroes the rest):
//   dx = x − mx,  dy = y − my,  mx ← mx + α dx,  my ← my + α dy,
//   vx ← (1 − α)(vx + α dx²),  vy ← (1 − α)(vy + α dy²),  cxy ← (1 − α)(cxy + α dx dy)
// These equal, exactly in real arithmetic, the weighted moments Σ w_k (·)(·) of the pair's
// samples with w_k = α (1 − α)^(n−k) for k ≥ 2 and w_1 = (1 − α)^(n−1) (Σ w_k = 1), and
//   ρ_ij = cxy / √(vx vy).
// Keeping a pair's own means and variances (rather than sharing per-series ones) weights x, y
// and xy alike, so Cauchy–Schwarz holds and |ρ| ≤ 1 even when series start at different times.
//
// Cost: update() O(1); sample() O(n²) for the n series configured (n ≤ MaxSeries).

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::math {

/// Parameters of a ReturnCorrelation.
struct ReturnCorrelationParams {
  std::size_t num_series = 0;               ///< series in use, 0..MaxSeries (more are clamped)
  TimestampNs interval_ns = 1'000'000'000;  ///< resampling interval (must be > 0)
  double alpha = 0.01;                      ///< EW weight of one sample, 0 < alpha ≤ 1
  std::uint32_t min_samples = 30;           ///< common samples before a pair is ready
};

/// Streaming EW correlation matrix of resampled log-returns. Holds fixed-size arrays sized by
/// MaxSeries (about 48 bytes per pair: ~100 KB for 64), never allocates, no exceptions. Value
/// type owning its state; not thread-safe (one thread updates and reads it). Series index i is
/// whatever the caller maps it to (the engine uses SymbolId).
template <std::size_t MaxSeries = 64>
class BasicReturnCorrelation {
  static_assert(MaxSeries >= 2, "correlation needs at least two series");

 public:
  static constexpr std::size_t kMaxSeries = MaxSeries;

  explicit BasicReturnCorrelation(const ReturnCorrelationParams& params) noexcept
      : num_series_(params.num_series < MaxSeries ? params.num_series : MaxSeries),
        interval_ns_(params.interval_ns > 0 ? params.interval_ns : 1),
        alpha_(params.alpha > 0.0 && params.alpha <= 1.0 ? params.alpha : 1.0),
        min_samples_(params.min_samples) {}

  /// Records the latest price of series `i` (O(1)). Ignores an out-of-range index and prices
  /// that are not finite and positive (a log-return needs p > 0).
  void update(std::size_t i, double price) noexcept {
    if (i >= num_series_ || !(price > 0.0) || !std::isfinite(price))
      return;
    last_price_[i] = price;
  }
  void update(std::size_t i, Price price) noexcept { update(i, price.to_double()); }

  /// Takes one sample when `now` has reached the next point of the sampling grid, which the
  /// first call starts at its own time (that call only snapshots the prices: no returns yet);
  /// returns whether it sampled. Called late (several intervals elapsed), it takes one sample
  /// whose returns span the whole gap, and the grid stays put: the next sample is due at the
  /// next grid point after `now`, not one interval after `now`.
  bool sample(TimestampNs now) noexcept {
    if (started_ && now < next_due_)
      return false;
    if (!started_) {
      started_ = true;
      next_due_ = now + interval_ns_;
    } else {
      next_due_ = now - (now - next_due_) % interval_ns_ + interval_ns_;
    }
    sample_now();
    return true;
  }

  /// Snapshots the prices and updates every pair with returns on both sides, regardless of the
  /// clock (for callers who keep their own). O(n²).
  void sample_now() noexcept {
    for (std::size_t i = 0; i < num_series_; ++i) {
      const double price = last_price_[i];
      has_return_[i] = price > 0.0 && prev_price_[i] > 0.0;
      returns_[i] = has_return_[i] ? std::log(price / prev_price_[i]) : 0.0;
      prev_price_[i] = price;
    }
    for (std::size_t i = 0; i + 1 < num_series_; ++i) {
      if (!has_return_[i])
        continue;
      for (std::size_t j = i + 1; j < num_series_; ++j) {
        if (has_return_[j])
          add_pair_sample(pairs_[pair_index(i, j)], returns_[i], returns_[j]);
      }
    }
  }

  /// True when pair (i, j) has had at least min_samples common samples and both variances are
  /// positive (a constant series has no correlation). False for i == j or an index out of range.
  [[nodiscard]] bool ready(std::size_t i, std::size_t j) const noexcept {
    if (!is_pair(i, j))
      return false;
    const PairMoments& pair = at(i, j);
    return pair.count >= min_samples_ && pair.var_x > 0.0 && pair.var_y > 0.0;
  }

  /// EW correlation of the returns of i and j, in [−1, 1]; 0 while !ready(i, j).
  /// correlation(i, i) is 1 for a valid index.
  [[nodiscard]] double correlation(std::size_t i, std::size_t j) const noexcept {
    if (i == j)
      return i < num_series_ ? 1.0 : 0.0;
    if (!ready(i, j))
      return 0.0;
    const PairMoments& pair = at(i, j);
    const double rho = pair.cov / std::sqrt(pair.var_x * pair.var_y);
    // Rounding can push |ρ| a few ulps past 1 for (nearly) collinear returns.
    return rho > 1.0 ? 1.0 : (rho < -1.0 ? -1.0 : rho);
  }

  /// Common samples seen by pair (i, j); 0 for i == j or an index out of range.
  [[nodiscard]] std::uint32_t common_samples(std::size_t i, std::size_t j) const noexcept {
    return is_pair(i, j) ? at(i, j).count : 0;
  }
  /// EW covariance of the returns of i and j over their common samples (symmetric).
  [[nodiscard]] double covariance(std::size_t i, std::size_t j) const noexcept {
    return is_pair(i, j) ? at(i, j).cov : 0.0;
  }

  [[nodiscard]] std::size_t num_series() const noexcept { return num_series_; }
  [[nodiscard]] TimestampNs interval_ns() const noexcept { return interval_ns_; }
  [[nodiscard]] double alpha() const noexcept { return alpha_; }
  [[nodiscard]] std::uint32_t min_samples() const noexcept { return min_samples_; }

 private:
  struct PairMoments {
    double mean_x = 0.0;
    double mean_y = 0.0;
    double var_x = 0.0;
    double var_y = 0.0;
    double cov = 0.0;
    std::uint32_t count = 0;
  };
  static constexpr std::size_t kPairs = MaxSeries * (MaxSeries - 1) / 2;

  // Upper triangle without the diagonal, row by row: pair (i, j) with i < j.
  [[nodiscard]] static constexpr std::size_t pair_index(std::size_t i, std::size_t j) noexcept {
    return i * MaxSeries - i * (i + 1) / 2 + (j - i - 1);
  }
  [[nodiscard]] bool is_pair(std::size_t i, std::size_t j) const noexcept {
    return i != j && i < num_series_ && j < num_series_;
  }
  // Precondition: is_pair(i, j).
  [[nodiscard]] const PairMoments& at(std::size_t i, std::size_t j) const noexcept {
    return i < j ? pairs_[pair_index(i, j)] : pairs_[pair_index(j, i)];
  }

  void add_pair_sample(PairMoments& pair, double x, double y) noexcept {
    if (pair.count == 0) {
      pair.mean_x = x;
      pair.mean_y = y;
      pair.var_x = pair.var_y = pair.cov = 0.0;
    } else {
      const double dx = x - pair.mean_x;
      const double dy = y - pair.mean_y;
      pair.mean_x += alpha_ * dx;
      pair.mean_y += alpha_ * dy;
      const double keep = 1.0 - alpha_;
      pair.var_x = keep * (pair.var_x + alpha_ * dx * dx);
      pair.var_y = keep * (pair.var_y + alpha_ * dy * dy);
      pair.cov = keep * (pair.cov + alpha_ * dx * dy);
    }
    if (pair.count != UINT32_MAX)
      ++pair.count;
  }

  std::size_t num_series_;
  TimestampNs interval_ns_;
  double alpha_;
  std::uint32_t min_samples_;
  bool started_ = false;
  TimestampNs next_due_ = 0;
  std::array<double, MaxSeries> last_price_{};
  std::array<double, MaxSeries> prev_price_{};
  std::array<double, MaxSeries> returns_{};
  std::array<bool, MaxSeries> has_return_{};
  std::array<PairMoments, kPairs> pairs_{};
};

/// The engine's correlation matrix: up to 64 symbols (SymbolId as the series index).
using ReturnCorrelation = BasicReturnCorrelation<64>;

}  // namespace kinetic::math
