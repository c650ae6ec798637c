// LatencyHistogram: the error bound over the whole uint64 range, percentiles of known
// distributions, merge, the empty histogram, exact extremes, no allocation while recording,
// and the text and JSON reports.

#include "kinetic/core/latency_histogram.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "alloc_counter.hpp"

namespace kinetic {
namespace {

constexpr std::uint64_t kU64Max = UINT64_MAX;

double relative_error(std::uint64_t reported, std::uint64_t actual) {
  const double a = static_cast<double>(actual);
  return std::fabs(static_cast<double>(reported) - a) / a;
}

// Values to probe: around every power of two, and random ones inside every octave.
std::vector<std::uint64_t> log_sweep() {
  std::vector<std::uint64_t> values;
  std::mt19937_64 rng(42);
  for (unsigned e = 0; e < 64; ++e) {
    const std::uint64_t power = std::uint64_t{1} << e;
    values.push_back(power);
    values.push_back(power - 1);
    values.push_back(power + 1);
    values.push_back(power + power / 2);
    for (int i = 0; i < 50; ++i) {
      values.push_back(power + (rng() & (power - 1)));  // uniform in [2^e, 2^(e+1))
    }
  }
  values.push_back(kU64Max);
  values.push_back(kU64Max - 1);
  return values;
}

// Histograms are ~30 KB; tests keep them on the heap like real code should.
std::unique_ptr<LatencyHistogram> make_histogram() {
  return std::make_unique<LatencyHistogram>();
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  auto h = make_histogram();
  for (std::uint64_t v = 0; v < LatencyHistogram::kExactBelow; ++v) {
    EXPECT_EQ(LatencyHistogram::equivalent_value(v), v);
    h->record(v);
  }
  // 128 values 0..127, each once: rank k (1-based) is the value k - 1, exactly.
  for (std::uint64_t rank = 1; rank <= 128; ++rank) {
    const double p = static_cast<double>(rank) * 100.0 / 128.0;
    EXPECT_EQ(h->percentile(p), rank - 1) << "p" << p;
  }
}

TEST(LatencyHistogram, RelativeErrorWithinBoundOverTheWholeRange) {
  auto h = make_histogram();
  std::uint64_t previous_equivalent = 0;
  std::uint64_t previous_value = 0;
  for (const std::uint64_t v : log_sweep()) {
    const std::uint64_t equivalent = LatencyHistogram::equivalent_value(v);
    if (v > 0) {
      ASSERT_LE(relative_error(equivalent, v), LatencyHistogram::kMaxRelativeError) << v;
      ASSERT_LE(relative_error(equivalent, v), 0.01) << v;
    }
    // Quantisation preserves order.
    if (v >= previous_value) {
      ASSERT_GE(equivalent, previous_equivalent) << v;
    }
    previous_value = v;
    previous_equivalent = equivalent;

    // Through the histogram: sentinels at both ends keep the clamp to [min, max] from hiding
    // the quantisation, so the median is the reported value of v itself.
    h->reset();
    h->record(0);
    h->record(v);
    h->record(kU64Max);
    const std::uint64_t median = h->percentile(50.0);
    ASSERT_EQ(median, equivalent) << v;
    if (v > 0) {
      ASSERT_LE(relative_error(median, v), 0.01) << v;
    }
  }
}

TEST(LatencyHistogram, BoundIsReachedNotJustRespected) {
  // Guards against a sweep that passes because nothing is quantised: above 128 values do
  // share buckets, and the worst error is close to the stated bound.
  double worst = 0.0;
  for (std::uint64_t v = 128; v < 1'000'000; ++v) {
    worst = std::max(worst, relative_error(LatencyHistogram::equivalent_value(v), v));
  }
  EXPECT_LE(worst, LatencyHistogram::kMaxRelativeError);
  EXPECT_GT(worst, LatencyHistogram::kMaxRelativeError * 0.9);
}

TEST(LatencyHistogram, UniformDistributionPercentiles) {
  auto h = make_histogram();
  for (std::uint64_t v = 1; v <= 100'000; ++v) {
    h->record(v);
  }
  EXPECT_EQ(h->count(), 100'000U);
  EXPECT_EQ(h->min(), 1U);
  EXPECT_EQ(h->max(), 100'000U);
  EXPECT_DOUBLE_EQ(h->mean(), 50'000.5);
  EXPECT_LE(relative_error(h->percentile(50.0), 50'000), 0.01);
  EXPECT_LE(relative_error(h->percentile(90.0), 90'000), 0.01);
  EXPECT_LE(relative_error(h->percentile(99.0), 99'000), 0.01);
  EXPECT_LE(relative_error(h->percentile(99.9), 99'900), 0.01);
  EXPECT_LE(relative_error(h->percentile(99.99), 99'990), 0.01);
  EXPECT_EQ(h->percentile(100.0), 100'000U);
  EXPECT_EQ(h->percentile(0.0), 1U);
  // Out-of-range p is clamped.
  EXPECT_EQ(h->percentile(150.0), 100'000U);
  EXPECT_EQ(h->percentile(-5.0), 1U);
  EXPECT_EQ(h->percentile(std::nan("")), 1U);
}

TEST(LatencyHistogram, PercentilesAreMonotoneInP) {
  auto h = make_histogram();
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(8.0, 1.5);  // a long right tail, like latency
  for (int i = 0; i < 200'000; ++i) {
    h->record(static_cast<std::uint64_t>(latency(rng)));
  }
  std::uint64_t previous = 0;
  for (double p = 0.0; p <= 100.0; p += 0.25) {
    const std::uint64_t value = h->percentile(p);
    ASSERT_GE(value, previous) << "p" << p;
    ASSERT_GE(value, h->min());
    ASSERT_LE(value, h->max());
    previous = value;
  }
}

TEST(LatencyHistogram, SkewedDistributionUsesTheCeilRank) {
  auto h = make_histogram();
  h->record_n(100, 90);
  h->record_n(1000, 9);
  h->record_n(10'000, 1);
  EXPECT_EQ(h->count(), 100U);
  EXPECT_EQ(h->percentile(50.0), 100U);
  EXPECT_EQ(h->percentile(90.0), 100U);                        // rank 90 is the last 100
  EXPECT_LE(relative_error(h->percentile(90.5), 1000), 0.01);  // rank 91
  EXPECT_LE(relative_error(h->percentile(99.0), 1000), 0.01);  // rank 99
  EXPECT_EQ(h->percentile(99.5), 10'000U);                     // rank 100 = max
  EXPECT_DOUBLE_EQ(h->mean(), (100.0 * 90 + 1000.0 * 9 + 10'000.0) / 100.0);
}

TEST(LatencyHistogram, DecimalPercentileDoesNotRoundUpARank) {
  // 99.9 is not exact in binary; rank must still be 999 of 1000, not 1000.
  auto h = make_histogram();
  h->record_n(5, 999);
  h->record(7);
  EXPECT_EQ(h->percentile(99.9), 5U);
  EXPECT_EQ(h->percentile(99.91), 7U);
  auto g = make_histogram();
  g->record_n(5, 9999);
  g->record(7);
  EXPECT_EQ(g->percentile(99.99), 5U);
}

TEST(LatencyHistogram, RecordNEqualsRepeatedRecord) {
  auto a = make_histogram();
  auto b = make_histogram();
  a->record_n(12'345, 1000);
  a->record_n(99, 0);  // no-op: must not touch min
  for (int i = 0; i < 1000; ++i) {
    b->record(12'345);
  }
  EXPECT_EQ(a->summary().count, b->summary().count);
  EXPECT_EQ(a->min(), 12'345U);
  EXPECT_EQ(a->percentile(37.0), b->percentile(37.0));
  EXPECT_DOUBLE_EQ(a->mean(), b->mean());
}

void expect_same(const LatencyHistogram& a, const LatencyHistogram& b) {
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  EXPECT_DOUBLE_EQ(a.mean(), b.mean());
  for (double p = 0.0; p <= 100.0; p += 0.1) {
    ASSERT_EQ(a.percentile(p), b.percentile(p)) << "p" << p;
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingIntoOne) {
  auto all = make_histogram();
  auto left = make_histogram();
  auto right = make_histogram();
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);  // spread over every octave
    all->record(v);
    (i % 3 == 0 ? left : right)->record(v);
  }
  left->merge(*right);
  expect_same(*left, *all);

  // Merging into or from an empty histogram.
  auto empty = make_histogram();
  empty->merge(*all);
  expect_same(*empty, *all);
  auto nothing = make_histogram();
  all->merge(*nothing);
  expect_same(*empty, *all);
}

TEST(LatencyHistogram, EmptyHistogramReportsZeros) {
  const auto h = make_histogram();
  EXPECT_EQ(h->count(), 0U);
  EXPECT_EQ(h->min(), 0U);
  EXPECT_EQ(h->max(), 0U);
  EXPECT_EQ(h->mean(), 0.0);
  EXPECT_EQ(h->percentile(0.0), 0U);
  EXPECT_EQ(h->percentile(50.0), 0U);
  EXPECT_EQ(h->percentile(100.0), 0U);
  const LatencyHistogram::Summary s = h->summary();
  EXPECT_EQ(s.count, 0U);
  EXPECT_EQ(s.p50, 0U);
  EXPECT_EQ(s.p99_99, 0U);
  EXPECT_EQ(s.max, 0U);
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  auto h = make_histogram();
  h->record(5);
  h->record(1'000'000);
  h->reset();
  EXPECT_EQ(h->count(), 0U);
  EXPECT_EQ(h->min(), 0U);
  EXPECT_EQ(h->max(), 0U);
  EXPECT_EQ(h->percentile(50.0), 0U);
  h->record(300);
  EXPECT_EQ(h->min(), 300U);
  EXPECT_EQ(h->max(), 300U);
  EXPECT_EQ(h->percentile(50.0), 300U);
}

TEST(LatencyHistogram, ExtremesAreExact) {
  auto h = make_histogram();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10'000; ++i) {
    h->record(1000 + rng() % 1'000'000);
  }
  h->record(123'456'789);  // not a bucket midpoint
  h->record(777);
  EXPECT_EQ(h->max(), 123'456'789U);
  EXPECT_EQ(h->percentile(100.0), 123'456'789U);
  EXPECT_EQ(h->min(), 777U);
  EXPECT_EQ(h->percentile(0.0), 777U);
}

TEST(LatencyHistogram, HugeValuesKeepAnExactSum) {
  auto h = make_histogram();
  h->record(kU64Max);
  h->record(kU64Max);
  EXPECT_EQ(h->max(), kU64Max);
  EXPECT_EQ(h->min(), kU64Max);
  // A 64-bit sum would have wrapped to kU64Max - 1 and a mean near 2^63.
  EXPECT_DOUBLE_EQ(h->mean(), static_cast<double>(kU64Max));
}

TEST(LatencyHistogram, RecordingAndReadingAllocateNothing) {
  auto h = make_histogram();
  auto other = make_histogram();
  std::vector<std::uint64_t> values(10'000);
  std::mt19937_64 rng(5);
  for (auto& v : values) {
    v = rng() >> (rng() % 64);
  }
  const std::uint64_t allocations = test::count_allocations([&] {
    for (const std::uint64_t v : values) {
      h->record(v);
    }
    h->record_n(42, 10);
    other->merge(*h);
    volatile std::uint64_t sink = h->percentile(99.9) + h->summary().p50;
    (void)sink;
    h->reset();
  });
  EXPECT_EQ(allocations, 0U);
  EXPECT_EQ(other->count(), 10'010U);  // the work really ran
}

TEST(LatencyHistogram, JsonHasEveryKeyWithTheSummaryValues) {
  auto h = make_histogram();
  for (std::uint64_t v = 1; v <= 10'000; ++v) {
    h->record(v * 3);
  }
  const LatencyHistogram& reader = *h;  // reading works on a const object
  const std::string json = reader.to_json();
  const LatencyHistogram::Summary s = reader.summary();

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  const std::pair<const char*, std::uint64_t> expected[] = {
      {"count", s.count}, {"min", s.min},     {"p50", s.p50},       {"p90", s.p90},
      {"p99", s.p99},     {"p99_9", s.p99_9}, {"p99_99", s.p99_99}, {"max", s.max}};
  for (const auto& [key, value] : expected) {
    std::uint64_t parsed = 0;
    ASSERT_EQ(root[key].get(parsed), simdjson::SUCCESS) << key << " in " << json;
    EXPECT_EQ(parsed, value) << key;
  }
  double mean = 0.0;
  ASSERT_EQ(root["mean"].get(mean), simdjson::SUCCESS) << json;
  EXPECT_NEAR(mean, s.mean, 1e-3);
  EXPECT_EQ(s.count, 10'000U);
}

TEST(LatencyHistogram, EmptyJsonIsValid) {
  const auto h = make_histogram();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(h->to_json()).get(root), simdjson::SUCCESS);
  std::uint64_t count = 1;
  ASSERT_EQ(root["count"].get(count), simdjson::SUCCESS);
  EXPECT_EQ(count, 0U);
}

TEST(LatencyHistogram, TextHasTheLabelsTheUnitAndTheNumbers) {
  auto h = make_histogram();
  h->record(10);
  h->record(20);
  h->record(98'765);
  const std::string text = h->to_text("us");
  for (const char* label :
       {"count", "min", "p50", "p90", "p99", "p99.9", "p99.99", "max", "mean", "(us)"}) {
    EXPECT_NE(text.find(label), std::string::npos) << label << " missing from:\n" << text;
  }
  EXPECT_NE(text.find("98765"), std::string::npos) << text;  // the exact max
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace kinetic
