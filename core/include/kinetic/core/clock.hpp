#pragma once
// Clock: cheap monotonic timestamps in nanoseconds for the hot path.
//
// Where the CPU has an invariant TSC, now_ns() reads it with RDTSC and converts ticks to
// nanoseconds with a multiply and a shift calibrated once against CLOCK_MONOTONIC at
// start-up. Elsewhere (no invariant TSC, or not x86) it falls back to
// clock_gettime(CLOCK_MONOTONIC), which the vDSO serves without a system call. Either way
// the result is on the CLOCK_MONOTONIC time base, so it compares with other processes.

#include <cstdint>

namespace kinetic {

/// Process-wide calibrated clock. calibrate() runs once at start-up (it is also run lazily on
/// first use); after that every member is lock-free, allocation-free and safe to call from
/// any thread.
class Clock {
 public:
  enum class Source : std::uint8_t { tsc, clock_monotonic };

  /// Measures the TSC against CLOCK_MONOTONIC for about `calibration_ms` milliseconds and
  /// installs the conversion. Only the first call in the process measures (the first read of
  /// the clock counts as a call); later calls return at once, so the conversion never changes
  /// under a running thread. Call it before starting hot threads. The rate is measured to a
  /// few ppm or better, so now_ns() may drift from CLOCK_MONOTONIC by that fraction of the
  /// time since calibration (a few µs per second at worst), plus whatever NTP slews
  /// CLOCK_MONOTONIC by afterwards (the TSC does not follow a slew).
  static void calibrate(int calibration_ms = 20) noexcept;

  /// Nanoseconds on the CLOCK_MONOTONIC time base.
  [[nodiscard]] static std::int64_t now_ns() noexcept;

  /// Raw counter: TSC ticks, or nanoseconds with the fallback. Cheapest possible read, for
  /// timing a region; convert a difference with ticks_to_ns().
  [[nodiscard]] static std::uint64_t ticks() noexcept;
  [[nodiscard]] static std::int64_t ticks_to_ns(std::uint64_t tick_delta) noexcept;
  /// Converts an absolute ticks() reading to now_ns()'s time base.
  [[nodiscard]] static std::int64_t ticks_to_time_ns(std::uint64_t ticks) noexcept;

  [[nodiscard]] static Source source() noexcept;
  /// TSC frequency in Hz as calibrated (0 with the fallback).
  [[nodiscard]] static double tsc_hz() noexcept;
  /// True when CPUID reports an invariant TSC.
  [[nodiscard]] static bool tsc_is_invariant() noexcept;

  /// For tests: force the CLOCK_MONOTONIC fallback (true) or re-enable the TSC (false, then
  /// recalibrates). Not for use while other threads read the clock.
  static void force_fallback_for_testing(bool use_fallback) noexcept;
};

}  // namespace kinetic
