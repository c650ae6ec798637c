#pragma once
// LatencyHistogram: fixed-size log-linear histogram of nanosecond latencies, in the manner of
// HdrHistogram, for recording on the hot path and reporting percentiles off it.
//
// Buckets. Values below 128 each have their own bucket (exact). Above, every power of two
// [2^m, 2^(m+1)) is split into 64 equal sub-buckets of width 2^(m-6), so a bucket is at most
// 1/64 of the values in it wide. A percentile reports the midpoint of its bucket, which is
// within half a bucket of every value in it: relative error at most 1/128 (0.78%) for any
// uint64 value, and zero below 128. min, max, count and the sum are kept exactly.

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace kinetic {

/// Log-linear latency histogram over std::uint64_t nanoseconds.
///
/// Ownership and memory: all storage is a fixed array inside the object (about 30 KB); no
/// member ever allocates except the text and JSON formatters. Because of its size, keep it
/// in a long-lived object, a static, or on the heap at start-up, not on a hot thread's stack
/// by accident.
///
/// Thread-safety: none inside. One thread records into its own histogram; reading it from
/// another thread needs the owner to have stopped (or to hand over a copy). Aggregate
/// several threads' histograms with merge() on a control thread. All reading members are
/// const.
///
/// Empty histogram: count(), min(), max(), mean() and every percentile are 0.
class LatencyHistogram {
 public:
  /// Largest relative error of any percentile against the value it stands for.
  static constexpr double kMaxRelativeError = 1.0 / 128.0;
  /// Values below this are recorded and reported exactly.
  static constexpr std::uint64_t kExactBelow = 128;
  /// Number of buckets: 128 exact ones, then 64 for each power of two from 2^7 to 2^63.
  static constexpr std::size_t kBucketCount = 128 + 57 * 64;

  /// The usual percentiles, plus exact min, max, mean and count.
  struct Summary {
    std::uint64_t count = 0;
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    double mean = 0.0;
    std::uint64_t p50 = 0;
    std::uint64_t p90 = 0;
    std::uint64_t p99 = 0;
    std::uint64_t p99_9 = 0;
    std::uint64_t p99_99 = 0;
  };

  LatencyHistogram() noexcept { reset(); }

  /// Records one value. Hot path: a count-leading-zeros, a shift, some increments.
  void record(std::uint64_t ns) noexcept { record_n(ns, 1); }

  /// Records `count` occurrences of one value; count 0 changes nothing.
  void record_n(std::uint64_t ns, std::uint64_t count) noexcept {
    if (count == 0) {
      return;
    }
    counts_[bucket_index(ns)] += count;
    total_count_ += count;
    sum_ += static_cast<Uint128>(ns) * count;
    min_ = ns < min_ ? ns : min_;
    max_ = ns > max_ ? ns : max_;
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return total_count_; }
  [[nodiscard]] std::uint64_t min() const noexcept { return total_count_ == 0 ? 0 : min_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  /// Exact arithmetic mean (the sum is kept in 128 bits), rounded to double.
  [[nodiscard]] double mean() const noexcept;

  /// The value at rank ceil(p/100 · count), 1-based, within kMaxRelativeError, clamped to
  /// [min, max]. p is clamped to [0, 100]; p = 0 gives min and p = 100 gives max exactly.
  [[nodiscard]] std::uint64_t percentile(double p) const noexcept;

  /// Adds every value recorded in `other` to this histogram.
  void merge(const LatencyHistogram& other) noexcept;

  /// Forgets every value.
  void reset() noexcept;

  [[nodiscard]] Summary summary() const noexcept;

  /// One-line header plus one-line row: count, min, p50, p90, p99, p99.9, p99.99, max, mean,
  /// with the unit label after the header. Allocates: not for the hot path.
  [[nodiscard]] std::string to_text(std::string_view unit = "ns") const;
  /// Writes to_text() to `out`.
  void write_text(std::FILE* out, std::string_view unit = "ns") const;
  /// {"count":..,"min":..,"mean":..,"p50":..,"p90":..,"p99":..,"p99_9":..,"p99_99":..,
  /// "max":..}. Allocates: not for the hot path.
  [[nodiscard]] std::string to_json() const;

  /// The value a recorded `ns` is reported as (its bucket's midpoint, before clamping to
  /// [min, max]). Exposed so callers and tests can see the quantisation.
  [[nodiscard]] static std::uint64_t equivalent_value(std::uint64_t ns) noexcept {
    return bucket_midpoint(bucket_index(ns));
  }

 private:
  __extension__ using Uint128 = unsigned __int128;

  // m = index of the highest set bit, but at least 6 so values below 128 land in the exact
  // region; `| 64` also keeps the argument of clz non-zero. For v in [2^m, 2^(m+1)), m >= 6,
  // the top 7 bits of v (64..127) pick the sub-bucket, and octave m starts at (m-5)·64.
  [[nodiscard]] static std::size_t bucket_index(std::uint64_t v) noexcept {
    const unsigned m = 63U - static_cast<unsigned>(std::countl_zero(v | 64U));
    const unsigned shift = m - 6U;
    return (static_cast<std::size_t>(shift) << 6U) + static_cast<std::size_t>(v >> shift);
  }
  [[nodiscard]] static std::uint64_t bucket_lowest(std::size_t index) noexcept;
  [[nodiscard]] static std::uint64_t bucket_midpoint(std::size_t index) noexcept;

  std::array<std::uint64_t, kBucketCount> counts_;
  Uint128 sum_;
  std::uint64_t total_count_;
  std::uint64_t min_;
  std::uint64_t max_;
};

}  // namespace kinetic
