// Clock: agreement with CLOCK_MONOTONIC, monotonicity, tick conversion, and the fallback.
//
// Every comparison brackets the clock between two clock_gettime(CLOCK_MONOTONIC) reads and
// allows 1 ms plus 1% of the time since calibration, so a loaded machine (preemption between
// reads, a slightly mis-measured rate) cannot fail it by bad luck. ctest runs each test in its
// own process, so each one starts uncalibrated.

#include "kinetic/core/clock.hpp"

#include <gtest/gtest.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace kinetic {
namespace {

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// 1 ms plus 1% of the time since calibration.
std::int64_t tolerance_ns(std::int64_t since_calibration_ns) {
  return 1'000'000 + since_calibration_ns / 100;
}

// Spins (no sleep) until CLOCK_MONOTONIC has advanced by `ns`, so a later check spans a
// real interval.
void spin_for(std::int64_t ns) {
  const std::int64_t until = monotonic_ns() + ns;
  while (monotonic_ns() < until) {
  }
}

// Calibrates afresh (force_fallback_for_testing(false) re-measures; calibrate() would be a
// no-op after an earlier test in the same process) so "time since calibration" is known, and
// resets the fallback flag a test may have set so it never leaks into the next test when the
// binary runs directly rather than one test per process under ctest.
class ClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Clock::force_fallback_for_testing(false);
    calibrated_at_ = monotonic_ns();
  }
  void TearDown() override { Clock::force_fallback_for_testing(false); }

  std::int64_t calibrated_at_ = 0;
};

TEST_F(ClockTest, NowNsNeverDecreasesOnOneThread) {
  std::int64_t previous = Clock::now_ns();
  for (int i = 0; i < 2'000'000; ++i) {
    const std::int64_t now = Clock::now_ns();
    ASSERT_GE(now, previous) << "at read " << i;
    previous = now;
  }
}

TEST_F(ClockTest, TicksNeverDecreaseOnOneThread) {
  std::uint64_t previous = Clock::ticks();
  for (int i = 0; i < 2'000'000; ++i) {
    const std::uint64_t now = Clock::ticks();
    ASSERT_GE(now, previous) << "at read " << i;
    previous = now;
  }
}

TEST_F(ClockTest, NowNsAgreesWithClockMonotonic) {
  // Right after calibration, then after spans of real time: the rate error shows as drift.
  for (const std::int64_t wait_ns : {0LL, 10'000'000LL, 50'000'000LL}) {
    spin_for(wait_ns);
    for (int i = 0; i < 1000; ++i) {
      const std::int64_t before = monotonic_ns();
      const std::int64_t now = Clock::now_ns();
      const std::int64_t after = monotonic_ns();
      const std::int64_t tolerance = tolerance_ns(after - calibrated_at_);
      ASSERT_GE(now, before - tolerance) << "after " << wait_ns << " ns";
      ASSERT_LE(now, after + tolerance) << "after " << wait_ns << " ns";
    }
  }
}

TEST_F(ClockTest, TicksToNsMatchesAMeasuredInterval) {
  const std::int64_t start_before = monotonic_ns();
  const std::uint64_t start_ticks = Clock::ticks();
  const std::int64_t start_after = monotonic_ns();
  spin_for(30'000'000);
  const std::int64_t end_before = monotonic_ns();
  const std::uint64_t end_ticks = Clock::ticks();
  const std::int64_t end_after = monotonic_ns();

  const std::int64_t measured = Clock::ticks_to_ns(end_ticks - start_ticks);
  // The true interval between the two tick reads lies within these bounds.
  const std::int64_t shortest = end_before - start_after;
  const std::int64_t longest = end_after - start_before;
  const std::int64_t tolerance = tolerance_ns(longest);
  EXPECT_GE(measured, shortest - tolerance);
  EXPECT_LE(measured, longest + tolerance);
  EXPECT_GE(measured, 29'000'000);  // the spin really happened and was converted, not zero
}

TEST_F(ClockTest, TicksToNsOfZeroIsZeroAndScalesLinearly) {
  EXPECT_EQ(Clock::ticks_to_ns(0), 0);
  // One hour of ticks, then ten days: the 128-bit product must not overflow, and the
  // conversion stays linear (within rounding of the fixed-point multiplier).
  const double hz = Clock::source() == Clock::Source::tsc ? Clock::tsc_hz() : 1e9;
  const auto hour_ticks = static_cast<std::uint64_t>(hz * 3600.0);
  const std::int64_t hour_ns = Clock::ticks_to_ns(hour_ticks);
  const std::int64_t ten_days_ns = Clock::ticks_to_ns(hour_ticks * 240);
  EXPECT_NEAR(static_cast<double>(hour_ns), 3600e9, 3600e9 * 1e-6);
  EXPECT_NEAR(static_cast<double>(ten_days_ns), 240.0 * static_cast<double>(hour_ns), 240.0);
}

TEST_F(ClockTest, TicksToTimeNsIsOnTheNowNsTimeBase) {
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t before = Clock::now_ns();
    const std::uint64_t ticks = Clock::ticks();
    const std::int64_t after = Clock::now_ns();
    const std::int64_t converted = Clock::ticks_to_time_ns(ticks);
    // Same conversion as now_ns(), so only the read order (plus a tick of rounding) matters.
    ASSERT_GE(converted, before - 1);
    ASSERT_LE(converted, after + 1);
  }
}

TEST_F(ClockTest, ForcedFallbackReadsClockMonotonicExactly) {
  Clock::force_fallback_for_testing(true);
  EXPECT_EQ(Clock::source(), Clock::Source::clock_monotonic);
  EXPECT_EQ(Clock::tsc_hz(), 0.0);
  EXPECT_EQ(Clock::ticks_to_ns(12345), 12345);
  EXPECT_EQ(Clock::ticks_to_time_ns(777), 777);
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t before = monotonic_ns();
    const std::int64_t now = Clock::now_ns();
    const std::uint64_t ticks = Clock::ticks();
    const std::int64_t after = monotonic_ns();
    // The fallback *is* CLOCK_MONOTONIC: no tolerance at all.
    ASSERT_GE(now, before);
    ASSERT_LE(static_cast<std::int64_t>(ticks), after);
    ASSERT_LE(now, static_cast<std::int64_t>(ticks));
  }

  Clock::force_fallback_for_testing(false);
  if (Clock::tsc_is_invariant()) {
    EXPECT_EQ(Clock::source(), Clock::Source::tsc);
  } else {
    EXPECT_EQ(Clock::source(), Clock::Source::clock_monotonic);
  }
}

TEST_F(ClockTest, LaterCalibrateCallsKeepTheConversion) {
  const double hz = Clock::tsc_hz();
  const std::uint64_t ticks = Clock::ticks();
  const std::int64_t converted = Clock::ticks_to_time_ns(ticks);
  Clock::calibrate(1);  // would measure a (slightly) different rate if it ran again
  EXPECT_EQ(Clock::tsc_hz(), hz);
  EXPECT_EQ(Clock::ticks_to_time_ns(ticks), converted);
}

TEST_F(ClockTest, TscFrequencyIsPlausible) {
  if (Clock::source() != Clock::Source::tsc) {
    GTEST_SKIP() << "no invariant TSC on this machine: the clock uses CLOCK_MONOTONIC";
  }
  EXPECT_GT(Clock::tsc_hz(), 100e6);
  EXPECT_LT(Clock::tsc_hz(), 20e9);
}

TEST_F(ClockTest, SourceIsTscExactlyWhenInvariant) {
  const Clock::Source expected =
      Clock::tsc_is_invariant() ? Clock::Source::tsc : Clock::Source::clock_monotonic;
  EXPECT_EQ(Clock::source(), expected);
}

#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
TEST_F(ClockTest, InvariantTscDetectionAgreesWithTheKernel) {
  // Linux sets the "nonstop_tsc" flag from the same CPUID bit (0x80000007 EDX[8]).
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool found_flags = false;
  bool kernel_says_nonstop = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      found_flags = true;
      kernel_says_nonstop = (line + " ").find(" nonstop_tsc ") != std::string::npos;
      break;
    }
  }
  if (!found_flags) {
    GTEST_SKIP() << "/proc/cpuinfo has no flags line";
  }
  if (kernel_says_nonstop) {
    EXPECT_TRUE(Clock::tsc_is_invariant());
  }
}
#endif

// Not a ClockTest: no calibration before the threads start. Under ctest (one process per
// test) they race to the lazy calibration.
TEST(ClockFirstUse, ConcurrentFirstReadsCalibrateOnceAndAgree) {
  constexpr int kThreads = 4;
  std::atomic<bool> go{false};
  std::vector<std::int64_t> first_reads(kThreads);
  std::vector<std::int64_t> brackets_before(kThreads);
  std::vector<std::int64_t> brackets_after(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load(std::memory_order_acquire)) {
      }
      const auto index = static_cast<std::size_t>(t);
      brackets_before[index] = monotonic_ns();
      first_reads[index] = Clock::now_ns();
      brackets_after[index] = monotonic_ns();
    });
  }
  go.store(true, std::memory_order_release);
  for (auto& thread : threads) {
    thread.join();
  }
  for (std::size_t i = 0; i < kThreads; ++i) {
    // The reading is taken after calibration finished, so it lies within [before, after]
    // (which includes the calibration time) up to the tolerance.
    EXPECT_GE(first_reads[i], brackets_before[i] - tolerance_ns(0));
    EXPECT_LE(first_reads[i], brackets_after[i] + tolerance_ns(0));
  }
}

}  // namespace
}  // namespace kinetic
