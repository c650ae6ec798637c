#pragma once
// Thread placement and waiting: pin to a core, name the thread, and spin politely.

#include <cstdint>
#include <string_view>
#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kinetic {

/// Pins the calling thread to one CPU core. Returns the OS error (for example EINVAL for a
/// core that does not exist or is outside the process's allowed set). Start-up only.
[[nodiscard]] std::error_code pin_current_thread(int core) noexcept;

/// Names the calling thread (seen in top -H, perf, gdb). Linux truncates to 15 bytes; longer
/// names are truncated here, not refused. Start-up only.
[[nodiscard]] std::error_code name_current_thread(std::string_view name) noexcept;

/// The core the calling thread is running on now, or -1 when unknown.
[[nodiscard]] int current_core() noexcept;

/// Number of cores the process may run on (its affinity mask), at least 1.
[[nodiscard]] int available_cores() noexcept;

/// One pause instruction: tells the core it is in a spin loop (saves power, yields the
/// pipeline to a hyper-thread sibling, avoids a memory-order mis-speculation on exit).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// How a consumer waits when its ring is empty: busy-spin with pause (lowest latency, burns
/// a core) or yield the core to the scheduler after a bounded spin.
enum class WaitPolicy : std::uint8_t { busy_spin, spin_then_yield };

/// Waiting strategy for one empty poll. Stateful per waiting thread; not shared.
class SpinWait {
 public:
  explicit SpinWait(WaitPolicy policy = WaitPolicy::busy_spin) noexcept : policy_(policy) {}
  /// Call once per empty poll.
  void wait() noexcept;
  /// Call when work arrived, so the next wait starts spinning again.
  void reset() noexcept { spins_ = 0; }

 private:
  WaitPolicy policy_;
  std::uint32_t spins_ = 0;
};

}  // namespace kinetic
