// The session's timing rules: the ping schedule, dead-connection detection and the
// reconnection backoff (exact without jitter, bounded with it, reset on success).
#include "kinetic/feed/session_policy.hpp"

#include <gtest/gtest.h>

namespace kinetic::feed {
namespace {

constexpr TimestampNs kS = kNanosPerSecond;

TEST(Heartbeat, PingsEveryIntervalAndDeclaresSilenceDead) {
  Heartbeat heartbeat;  // 20 s pings, 10 s pong timeout
  heartbeat.start(100 * kS);
  EXPECT_FALSE(heartbeat.ping_due(100 * kS + 20 * kS - 1));
  EXPECT_TRUE(heartbeat.ping_due(120 * kS));
  heartbeat.on_ping_sent(120 * kS);
  EXPECT_FALSE(heartbeat.ping_due(139 * kS));
  EXPECT_TRUE(heartbeat.ping_due(140 * kS));
  // Silent since 100 s: alive at exactly 30 s of silence, dead one nanosecond later.
  EXPECT_FALSE(heartbeat.dead(130 * kS));
  EXPECT_TRUE(heartbeat.dead(130 * kS + 1));
  EXPECT_EQ(heartbeat.silence(130 * kS), 30 * kS);
  // A pong (or any message) brings it back.
  heartbeat.on_received(125 * kS);
  EXPECT_FALSE(heartbeat.dead(155 * kS));
  EXPECT_TRUE(heartbeat.dead(155 * kS + 1));
}

TEST(ReconnectBackoff, DoublesToTheCapAndResets) {
  SessionTiming timing;
  timing.backoff_jitter = 0.0;
  ReconnectBackoff backoff(timing);
  for (const TimestampNs expected : {1, 2, 4, 8, 16, 32, 32, 32})
    EXPECT_EQ(backoff.next_delay(), expected * kS);
  EXPECT_EQ(backoff.attempts(), 8u);
  backoff.reset();
  EXPECT_EQ(backoff.attempts(), 0u);
  EXPECT_EQ(backoff.next_delay(), 1 * kS);
  EXPECT_EQ(backoff.next_delay(), 2 * kS);
}

TEST(ReconnectBackoff, JitterStaysWithinItsBandAndVaries) {
  SessionTiming timing;  // jitter 0.2
  ReconnectBackoff backoff(timing, 42);
  const TimestampNs bases[] = {1, 2, 4, 8, 16, 32, 32, 32, 32, 32};
  TimestampNs previous_at_cap = 0;
  bool varied = false;
  for (const TimestampNs base : bases) {
    const TimestampNs delay = backoff.next_delay();
    EXPECT_GE(delay, static_cast<TimestampNs>(0.8 * static_cast<double>(base * kS)));
    EXPECT_LE(delay, static_cast<TimestampNs>(1.2 * static_cast<double>(base * kS)));
    if (base == 32) {
      varied = varied || (previous_at_cap != 0 && delay != previous_at_cap);
      previous_at_cap = delay;
    }
  }
  EXPECT_TRUE(varied) << "jitter must spread the capped delays";
  // The same seed gives the same schedule (replays and tests are reproducible).
  ReconnectBackoff again(timing, 42);
  ReconnectBackoff same(timing, 42);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(again.next_delay(), same.next_delay());
}

TEST(SessionTiming, Validity) {
  EXPECT_TRUE(SessionTiming{}.valid());
  SessionTiming bad;
  bad.backoff_jitter = 1.0;
  EXPECT_FALSE(bad.valid());
  bad = SessionTiming{};
  bad.backoff_max_ns = bad.backoff_initial_ns - 1;
  EXPECT_FALSE(bad.valid());
}

}  // namespace
}  // namespace kinetic::feed
