// LatencyHistogram: the reading side (percentiles, merge, formatting). Recording is inline in
// the header so it compiles into the caller's loop.

#include "kinetic/core/latency_histogram.hpp"

#include <algorithm>
#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>

namespace kinetic {

static_assert(LatencyHistogram::kExactBelow == 128, "bucket_index assumes 64 sub-buckets");

std::uint64_t LatencyHistogram::bucket_lowest(std::size_t index) noexcept {
  if (index < kExactBelow) {
    return index;
  }
  // Inverse of bucket_index: octave k = index / 64 >= 2 covers [2^(k+5), 2^(k+6)) in buckets
  // of width 2^(k-1); the low 6 bits pick the sub-bucket.
  const std::size_t shift = (index >> 6U) - 1U;
  const std::uint64_t top_bits = 64U + (index & 63U);
  return top_bits << shift;
}

std::uint64_t LatencyHistogram::bucket_midpoint(std::size_t index) noexcept {
  if (index < kExactBelow) {
    return index;
  }
  const std::size_t shift = (index >> 6U) - 1U;
  const std::uint64_t width = std::uint64_t{1} << shift;
  // Midpoint of [lowest, lowest + width - 1], written so the top bucket (which ends at
  // 2^64 - 1) does not overflow.
  return bucket_lowest(index) + (width - 1U) / 2U;
}

double LatencyHistogram::mean() const noexcept {
  if (total_count_ == 0) {
    return 0.0;
  }
  return static_cast<double>(sum_) / static_cast<double>(total_count_);
}

std::uint64_t LatencyHistogram::percentile(double p) const noexcept {
  if (total_count_ == 0) {
    return 0;
  }
  if (!(p > 0.0)) {  // also catches NaN
    return min_;
  }
  if (p >= 100.0) {
    return max_;
  }
  const double exact_rank = p / 100.0 * static_cast<double>(total_count_);
  // A decimal p such as 99.9 is not exact in binary; without this slack, rank 999 of 1000
  // could round up to 1000. The slack (a few dozen ulps) is far below one rank for any count
  // under 2^46.
  const double rank_real = std::ceil(exact_rank - exact_rank * (64.0 * DBL_EPSILON));
  std::uint64_t rank = 1;
  if (rank_real >= static_cast<double>(total_count_)) {
    rank = total_count_;
  } else if (rank_real > 1.0) {
    rank = static_cast<std::uint64_t>(rank_real);
  }
  // The lowest and highest ranks are known exactly.
  if (rank == 1) {
    return min_;
  }
  if (rank == total_count_) {
    return max_;
  }
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::clamp(bucket_midpoint(i), min_, max_);
    }
  }
  return max_;  // unreachable while the counts add up to total_count_
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  if (other.total_count_ == 0) {
    return;
  }
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    counts_[i] += other.counts_[i];
  }
  total_count_ += other.total_count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::reset() noexcept {
  counts_.fill(0);
  sum_ = 0;
  total_count_ = 0;
  min_ = UINT64_MAX;  // so the first record() sets it
  max_ = 0;
}

LatencyHistogram::Summary LatencyHistogram::summary() const noexcept {
  Summary s;
  s.count = count();
  s.min = min();
  s.max = max();
  s.mean = mean();
  s.p50 = percentile(50.0);
  s.p90 = percentile(90.0);
  s.p99 = percentile(99.0);
  s.p99_9 = percentile(99.9);
  s.p99_99 = percentile(99.99);
  return s;
}

std::string LatencyHistogram::to_text(std::string_view unit) const {
  const Summary s = summary();
  char buffer[512];
  const int written =
      std::snprintf(buffer, sizeof(buffer),
                    "%12s %12s %12s %12s %12s %12s %12s %12s %14s  (%.*s)\n"
                    "%12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64
                    " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %14.1f\n",
                    "count", "min", "p50", "p90", "p99", "p99.9", "p99.99", "max", "mean",
                    static_cast<int>(std::min<std::size_t>(unit.size(), 64)), unit.data(), s.count,
                    s.min, s.p50, s.p90, s.p99, s.p99_9, s.p99_99, s.max, s.mean);
  if (written <= 0) {
    return {};
  }
  return std::string(buffer, std::min(static_cast<std::size_t>(written), sizeof(buffer) - 1));
}

void LatencyHistogram::write_text(std::FILE* out, std::string_view unit) const {
  const std::string text = to_text(unit);
  std::fwrite(text.data(), 1, text.size(), out);
}

std::string LatencyHistogram::to_json() const {
  const Summary s = summary();
  char buffer[512];
  const int written =
      std::snprintf(buffer, sizeof(buffer),
                    "{\"count\":%" PRIu64 ",\"min\":%" PRIu64 ",\"mean\":%.3f,\"p50\":%" PRIu64
                    ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"p99_9\":%" PRIu64
                    ",\"p99_99\":%" PRIu64 ",\"max\":%" PRIu64 "}",
                    s.count, s.min, s.mean, s.p50, s.p90, s.p99, s.p99_9, s.p99_99, s.max);
  if (written <= 0) {
    return {};
  }
  return std::string(buffer, std::min(static_cast<std::size_t>(written), sizeof(buffer) - 1));
}

}  // namespace kinetic
