#pragma once
// The timing rules of a market-data session, apart from any socket so they can be tested
// exactly: when to ping, when a silent connection is dead, and how long to wait before the
// next connection attempt.
//
// Bybit's public streams want a JSON ping every 20 s and cut a connection that stays silent
// for long; a connection is taken as dead when neither data nor a pong has arrived for one
// ping interval plus the pong timeout (20 + 10 s by default, as Bybit's own SDK does).
// Reconnection backs off exponentially — 1, 2, 4, 8, 16, 32 s, then 32 s again — each delay
// spread by a random factor in [1 − jitter, 1 + jitter] so that many clients cut off at once
// do not all come back in the same instant; a session that got as far as its subscriptions
// being acknowledged resets the schedule.
//
// Time is always passed in (nanoseconds on any monotonic clock), never read here. Value
// types, no allocation, no system calls; not thread-safe (the feed thread owns them).

#include <cstdint>

#include "kinetic/core/types.hpp"

namespace kinetic::feed {

inline constexpr TimestampNs kNanosPerSecond = 1'000'000'000;

/// Timing parameters of a session. Plain aggregate; check valid() at start-up.
struct SessionTiming {
  TimestampNs ping_interval_ns = 20 * kNanosPerSecond;
  TimestampNs pong_timeout_ns = 10 * kNanosPerSecond;
  TimestampNs connect_timeout_ns = 10 * kNanosPerSecond;
  TimestampNs backoff_initial_ns = 1 * kNanosPerSecond;
  TimestampNs backoff_max_ns = 32 * kNanosPerSecond;
  double backoff_jitter = 0.2;  ///< in [0, 1): each delay × a factor in [1 − j, 1 + j]

  [[nodiscard]] constexpr bool valid() const noexcept {
    return ping_interval_ns > 0 && pong_timeout_ns > 0 && connect_timeout_ns > 0 &&
           backoff_initial_ns > 0 && backoff_max_ns >= backoff_initial_ns &&
           backoff_jitter >= 0.0 && backoff_jitter < 1.0;
  }
};

/// Ping schedule and dead-connection detection for one connection. Any received message
/// (data, pong, acknowledgement) counts as a sign of life.
class Heartbeat {
 public:
  explicit constexpr Heartbeat(const SessionTiming& timing = {}) noexcept
      : interval_(timing.ping_interval_ns), timeout_(timing.pong_timeout_ns) {}

  /// The connection is up (handshakes done) at `now`: the clocks start.
  constexpr void start(TimestampNs now) noexcept {
    last_received_ = now;
    last_ping_ = now;
  }
  constexpr void on_received(TimestampNs now) noexcept { last_received_ = now; }
  constexpr void on_ping_sent(TimestampNs now) noexcept { last_ping_ = now; }

  /// A ping is due: one interval since the last one.
  [[nodiscard]] constexpr bool ping_due(TimestampNs now) const noexcept {
    return now - last_ping_ >= interval_;
  }
  /// Nothing received for longer than one ping interval plus the pong timeout.
  [[nodiscard]] constexpr bool dead(TimestampNs now) const noexcept {
    return now - last_received_ > interval_ + timeout_;
  }
  /// How long the connection has been silent.
  [[nodiscard]] constexpr TimestampNs silence(TimestampNs now) const noexcept {
    return now - last_received_;
  }

 private:
  TimestampNs interval_;
  TimestampNs timeout_;
  TimestampNs last_received_ = 0;
  TimestampNs last_ping_ = 0;
};

/// The reconnection schedule: exponential from backoff_initial_ns, capped at backoff_max_ns,
/// with multiplicative jitter from a small deterministic generator (seeded by the caller, so
/// a test or a replay sees the same delays).
class ReconnectBackoff {
 public:
  explicit constexpr ReconnectBackoff(const SessionTiming& timing = {},
                                      std::uint64_t seed = 0x9E3779B97F4A7C15ULL) noexcept
      : initial_(timing.backoff_initial_ns),
        max_(timing.backoff_max_ns),
        jitter_(timing.backoff_jitter),
        state_(seed != 0 ? seed : 1) {}

  /// The delay before the next attempt; each call doubles the base up to the cap.
  [[nodiscard]] constexpr TimestampNs next_delay() noexcept {
    const TimestampNs base = base_ > 0 ? base_ : initial_;
    base_ = base >= max_ / 2 ? max_ : base * 2;
    ++attempts_;
    if (jitter_ <= 0.0)
      return base;
    const double factor = 1.0 + jitter_ * (2.0 * uniform() - 1.0);
    return static_cast<TimestampNs>(static_cast<double>(base) * factor);
  }
  /// A session succeeded (subscriptions acknowledged): start again from the initial delay.
  constexpr void reset() noexcept {
    base_ = 0;
    attempts_ = 0;
  }
  /// Attempts since the last reset.
  [[nodiscard]] constexpr std::uint32_t attempts() const noexcept { return attempts_; }

 private:
  // xorshift64*: fast, and good enough to spread reconnection times.
  [[nodiscard]] constexpr double uniform() noexcept {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const std::uint64_t bits = (state_ * 0x2545F4914F6CDD1DULL) >> 11;
    return static_cast<double>(bits) * (1.0 / 9007199254740992.0);  // [0, 1)
  }

  TimestampNs initial_;
  TimestampNs max_;
  double jitter_;
  std::uint64_t state_;
  TimestampNs base_ = 0;
  std::uint32_t attempts_ = 0;
};

}  // namespace kinetic::feed
