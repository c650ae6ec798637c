// TSC clock: invariant-TSC detection, calibration against CLOCK_MONOTONIC, and the
// multiply-and-shift conversion from ticks to nanoseconds.
//
// State. The conversion lives in an immutable `Calibration` record. calibrate() fills one of
// two static slots and publishes it with a release store of `g_current`; readers take it with
// an acquire load (a plain load on x86) and then read plain fields. That one load doubles as
// the "calibrated yet?" check: null means not yet, and the first reader calibrates under a
// mutex (start-up cost, once per process). After that every read is lock-free and
// allocation-free.
//
// Calibration happens once per process: the first calibrate() (or the first read) measures,
// later calibrate() calls return at once. So several components may each call calibrate()
// at start-up without costing 20 ms each, and a running hot thread never sees the base pair
// move under it (which would make now_ns() step). Only force_fallback_for_testing()
// re-measures; it writes a slot a reader could still hold, hence "tests only".

#include "kinetic/core/clock.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define KINETIC_HAVE_TSC 1
#else
#define KINETIC_HAVE_TSC 0
#endif

namespace kinetic {
namespace {

// 128-bit intermediate so (tick delta × multiplier) cannot overflow: a 64-bit delta times a
// multiplier below 2^42 (any TSC above the 1 MHz floor below) stays below 2^106, and the
// shifted result overflows int64 only after 292 years. __extension__ keeps -Wpedantic quiet.
__extension__ using Uint128 = unsigned __int128;

// Fixed-point fraction bits of the ns-per-tick multiplier. 2^-32 ns of resolution per tick
// is far finer than any calibration can measure, and a GHz-class TSC gives a multiplier near
// 2^32, so the product stays well inside 128 bits.
constexpr unsigned kShift = 32;

struct Calibration {
  Clock::Source source = Clock::Source::clock_monotonic;
  std::uint64_t tsc0 = 0;        // base pair: a TSC reading ...
  std::int64_t mono_ns0 = 0;     // ... and CLOCK_MONOTONIC at the same instant
  std::uint64_t multiplier = 0;  // ns per tick × 2^kShift
  double tsc_hz = 0.0;
};

// Read by every hot thread, written only at calibration: a cache line of their own keeps
// writes to unrelated globals from invalidating them.
alignas(64) Calibration g_slots[2];
alignas(64) std::atomic<const Calibration*> g_current{nullptr};
std::atomic<bool> g_force_fallback{false};
// Serialises the first calibrate() callers and force_fallback_for_testing() (start-up only,
// so a mutex is acceptable).
std::mutex g_calibrate_mutex;

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

#if KINETIC_HAVE_TSC
inline std::uint64_t read_tsc() noexcept {
  return __rdtsc();
}
#else
inline std::uint64_t read_tsc() noexcept {
  return 0;
}
#endif

bool cpuid_invariant_tsc() noexcept {
#if KINETIC_HAVE_TSC
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  // __get_cpuid checks the maximum extended leaf first and returns 0 when it is absent.
  if (__get_cpuid(0x80000007U, &eax, &ebx, &ecx, &edx) == 0) {
    return false;
  }
  return (edx & (1U << 8)) != 0;  // "TscInvariant": constant rate across P-, C- and T-states
#else
  return false;
#endif
}

// One bracketed sample: the TSC read between two CLOCK_MONOTONIC reads. The true monotonic
// time of the TSC read lies in [mono_before, mono_after]; its midpoint is off by at most half
// the bracket width.
struct BracketedSample {
  std::uint64_t tsc = 0;
  std::int64_t mono_mid_ns = 0;
  std::int64_t width_ns = 0;
};

// The narrowest of several brackets: a sample whose thread was preempted or interrupted
// between the reads has a wide bracket and is discarded.
BracketedSample narrowest_bracket() noexcept {
  constexpr int kTries = 64;
  BracketedSample best{};
  best.width_ns = INT64_MAX;
  for (int i = 0; i < kTries; ++i) {
    const std::int64_t before = monotonic_ns();
    const std::uint64_t tsc = read_tsc();
    const std::int64_t after = monotonic_ns();
    const std::int64_t width = after - before;
    if (width < best.width_ns) {
      best = BracketedSample{tsc, before + width / 2, width};
    }
  }
  return best;
}

Calibration measure_fallback() noexcept {
  return Calibration{};
}

Calibration measure_tsc(int calibration_ms) noexcept {
  const BracketedSample start = narrowest_bracket();
  // Sleeping (not spinning) lets a 2-core machine keep running other start-up work; the
  // length of the interval, not how it is spent, sets the precision.
  std::this_thread::sleep_for(std::chrono::milliseconds(std::max(calibration_ms, 1)));
  const BracketedSample end = narrowest_bracket();

  const std::int64_t elapsed_ns = end.mono_mid_ns - start.mono_mid_ns;
  if (end.tsc <= start.tsc || elapsed_ns <= 0) {
    return measure_fallback();  // the TSC did not advance: unusable
  }
  const double ticks = static_cast<double>(end.tsc - start.tsc);
  const double hz = ticks * 1e9 / static_cast<double>(elapsed_ns);
  // Below 1 MHz the TSC is either broken or virtualised badly; the fallback is safer.
  if (!(hz > 1e6)) {
    return measure_fallback();
  }
  // Rate error is bounded by (start.width + end.width) / 2 / elapsed: about 50 ns over 20 ms
  // is 2.5 ppm, i.e. 2.5 µs of drift per second since calibration.
  Calibration result;
  result.source = Clock::Source::tsc;
  result.tsc_hz = hz;
  // The later sample is the base, so the error right after start-up is smallest.
  result.tsc0 = end.tsc;
  result.mono_ns0 = end.mono_mid_ns;
  result.multiplier =
      static_cast<std::uint64_t>(1e9 / hz * static_cast<double>(1ULL << kShift) + 0.5);  // rounded
  return result;
}

void publish(const Calibration& calibration) noexcept {
  // Write the slot readers are not using, then switch them over.
  const Calibration* current = g_current.load(std::memory_order_relaxed);
  Calibration* next = (current == &g_slots[0]) ? &g_slots[1] : &g_slots[0];
  *next = calibration;
  g_current.store(next, std::memory_order_release);
}

void calibrate_locked(int calibration_ms) noexcept {
  const bool use_tsc = KINETIC_HAVE_TSC && !g_force_fallback.load(std::memory_order_relaxed) &&
                       cpuid_invariant_tsc();
  publish(use_tsc ? measure_tsc(calibration_ms) : measure_fallback());
}

const Calibration& calibration() noexcept {
  const Calibration* current = g_current.load(std::memory_order_acquire);
  if (current != nullptr) [[likely]] {
    return *current;
  }
  Clock::calibrate();  // once per process; concurrent first readers wait on its mutex
  return *g_current.load(std::memory_order_acquire);
}

inline std::int64_t scale(const Calibration& c, std::uint64_t tick_delta) noexcept {
  return static_cast<std::int64_t>((static_cast<Uint128>(tick_delta) * c.multiplier) >> kShift);
}

inline std::int64_t to_time_ns(const Calibration& c, std::uint64_t tsc) noexcept {
  // Another core's TSC may read a few ticks behind the base taken on this one; handle the
  // negative delta instead of letting it wrap to a huge positive one.
  if (tsc >= c.tsc0) [[likely]] {
    return c.mono_ns0 + scale(c, tsc - c.tsc0);
  }
  return c.mono_ns0 - scale(c, c.tsc0 - tsc);
}

}  // namespace

void Clock::calibrate(int calibration_ms) noexcept {
  if (g_current.load(std::memory_order_acquire) != nullptr) {
    return;
  }
  const std::lock_guard lock(g_calibrate_mutex);
  if (g_current.load(std::memory_order_relaxed) == nullptr) {  // a racing caller may have won
    calibrate_locked(calibration_ms);
  }
}

std::int64_t Clock::now_ns() noexcept {
  const Calibration& c = calibration();
  if (c.source == Source::tsc) [[likely]] {
    return to_time_ns(c, read_tsc());
  }
  return monotonic_ns();
}

std::uint64_t Clock::ticks() noexcept {
  const Calibration& c = calibration();
  if (c.source == Source::tsc) [[likely]] {
    return read_tsc();
  }
  return static_cast<std::uint64_t>(monotonic_ns());
}

std::int64_t Clock::ticks_to_ns(std::uint64_t tick_delta) noexcept {
  const Calibration& c = calibration();
  if (c.source == Source::tsc) [[likely]] {
    return scale(c, tick_delta);
  }
  return static_cast<std::int64_t>(tick_delta);
}

std::int64_t Clock::ticks_to_time_ns(std::uint64_t ticks) noexcept {
  const Calibration& c = calibration();
  if (c.source == Source::tsc) [[likely]] {
    return to_time_ns(c, ticks);
  }
  return static_cast<std::int64_t>(ticks);
}

Clock::Source Clock::source() noexcept {
  return calibration().source;
}

double Clock::tsc_hz() noexcept {
  return calibration().tsc_hz;
}

bool Clock::tsc_is_invariant() noexcept {
  static const bool invariant = cpuid_invariant_tsc();
  return invariant;
}

void Clock::force_fallback_for_testing(bool use_fallback) noexcept {
  const std::lock_guard lock(g_calibrate_mutex);
  g_force_fallback.store(use_fallback, std::memory_order_relaxed);
  calibrate_locked(20);
}

}  // namespace kinetic
