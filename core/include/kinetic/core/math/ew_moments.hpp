#pragma once
// Exponentially weighted mean and variance of a stream, with a fixed weight per sample.
//
// With weight α ∈ (0, 1] per new sample x (West's incremental form, which never subtracts two
// large sums and so keeps its precision over any number of samples):
//   δ = x − m,   m ← m + α δ,   var ← (1 − α) (var + α δ²)
// The first sample sets m = x, var = 0. After n samples of a stationary stream the mean
// and variance are those of the most recent ~1/α samples.

#include <cmath>
#include <cstdint>

namespace kinetic::math {

/// Streaming exponentially weighted mean and variance. Value type (three words), never
/// allocates, no exceptions; not thread-safe (one thread updates and reads it).
class EwMoments {
 public:
  /// `alpha`: weight of a new sample. Precondition: 0 < alpha ≤ 1.
  explicit constexpr EwMoments(double alpha = 0.01) noexcept : alpha_(alpha) {}

  /// Adds one sample. Non-finite samples are ignored (they would poison every later value).
  constexpr void add(double x) noexcept {
    if (!(x - x == 0.0))  // NaN or ±inf; constexpr-friendly isfinite
      return;
    if (count_ == 0) {
      mean_ = x;
      variance_ = 0.0;
    } else {
      const double delta = x - mean_;
      mean_ += alpha_ * delta;
      variance_ = (1.0 - alpha_) * (variance_ + alpha_ * delta * delta);
    }
    ++count_;
  }

  [[nodiscard]] constexpr double mean() const noexcept { return mean_; }
  [[nodiscard]] constexpr double variance() const noexcept { return variance_; }
  [[nodiscard]] double stddev() const noexcept { return std::sqrt(variance_); }
  /// Root mean square about zero, √(var + m²): the typical size of a sample.
  [[nodiscard]] double rms() const noexcept { return std::sqrt(variance_ + mean_ * mean_); }
  [[nodiscard]] constexpr std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] constexpr double alpha() const noexcept { return alpha_; }

 private:
  double alpha_;
  double mean_ = 0.0;
  double variance_ = 0.0;
  std::uint64_t count_ = 0;
};

}  // namespace kinetic::math
