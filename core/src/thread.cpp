// Thread placement (Linux affinity and names) and the polite spin used by ring consumers.

#include "kinetic/core/thread.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <thread>

namespace kinetic {
namespace {

// Linux limits a thread name to 16 bytes including the terminating NUL.
constexpr std::size_t kMaxThreadNameBytes = 15;

// Spins before spin_then_yield gives the core away: each pause is ~10-140 cycles depending
// on the micro-architecture, so this is roughly 1-10 µs of spinning, enough to catch a
// producer that is mid-publish without burning a shared core for a whole time slice.
constexpr std::uint32_t kSpinsBeforeYield = 256;

// Cuts `name` to at most kMaxThreadNameBytes without splitting a UTF-8 sequence, so tools
// that display the name never see a broken character.
std::size_t truncated_length(std::string_view name) noexcept {
  if (name.size() <= kMaxThreadNameBytes) {
    return name.size();
  }
  std::size_t length = kMaxThreadNameBytes;
  // A byte of the form 10xxxxxx continues a sequence; back up to the start of that sequence.
  while (length > 0 && (static_cast<unsigned char>(name[length]) & 0xC0U) == 0x80U) {
    --length;
  }
  return length;
}

}  // namespace

std::error_code pin_current_thread(int core) noexcept {
  // cpu_set_t holds CPU_SETSIZE (1024) cores; refuse what it cannot represent instead of
  // letting CPU_SET write out of bounds.
  if (core < 0 || core >= CPU_SETSIZE) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(core), &set);
  // Returns the error number directly (EINVAL when the core is offline or not allowed).
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  return std::error_code(rc, std::generic_category());
}

std::error_code name_current_thread(std::string_view name) noexcept {
  char buffer[kMaxThreadNameBytes + 1] = {};
  const std::size_t length = truncated_length(name);
  std::copy_n(name.data(), length, buffer);
  const int rc = pthread_setname_np(pthread_self(), buffer);
  return std::error_code(rc, std::generic_category());
}

int current_core() noexcept {
  return sched_getcpu();
}

int available_cores() noexcept {
  // The main thread's mask (its tid is the pid) stands for the process: threads inherit it
  // at creation, and it stays meaningful after a worker pinned itself to one core. If the
  // main thread pins itself, call this before it does.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(getpid(), sizeof(set), &set) != 0) {
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? static_cast<int>(online) : 1;
  }
  return std::max(CPU_COUNT(&set), 1);
}

void SpinWait::wait() noexcept {
  if (policy_ == WaitPolicy::busy_spin) {
    cpu_relax();
    return;
  }
  if (spins_ < kSpinsBeforeYield) {
    ++spins_;
    cpu_relax();
    return;
  }
  // The producer is not about to publish: let another thread have the core (it may be the
  // producer itself on a machine with fewer cores than busy threads).
  std::this_thread::yield();
}

}  // namespace kinetic
