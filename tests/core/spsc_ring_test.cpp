#include "kinetic/core/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>

#include "alloc_counter.hpp"
#include "kinetic/core/thread.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic {
namespace {

// Counts every construction and destruction so the tests can prove that the ring constructs
// an element exactly when it is pushed and destroys it exactly when it is popped.
struct Counted {
  static inline int live = 0;
  static inline int constructed = 0;
  static inline int destroyed = 0;
  static void reset() { live = constructed = destroyed = 0; }

  Counted() noexcept : value(0) { on_construct(); }
  explicit Counted(int v) noexcept : value(v) { on_construct(); }
  Counted(const Counted& o) noexcept : value(o.value) { on_construct(); }
  Counted& operator=(const Counted& o) noexcept = default;
  ~Counted() {
    ++destroyed;
    --live;
  }
  int value;

 private:
  static void on_construct() {
    ++constructed;
    ++live;
  }
};

TEST(SpscRing, EmptyRingConstructsNoElements) {
  Counted::reset();
  {
    SpscRing<Counted, 8> ring;
    EXPECT_EQ(Counted::constructed, 0);
    EXPECT_TRUE(ring.empty());
  }
  EXPECT_EQ(Counted::destroyed, 0);
}

TEST(SpscRing, PushConstructsAndPopDestroysExactlyOnce) {
  Counted::reset();
  {
    SpscRing<Counted, 8> ring;
    const Counted a(7);
    ASSERT_EQ(ring.try_push(a), PushResult::ok);
    EXPECT_EQ(Counted::live, 2);  // `a` and its copy in the ring
    Counted out;
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out.value, 7);
    EXPECT_EQ(Counted::live, 2);  // `a` and `out`: the ring's element was destroyed
  }
  EXPECT_EQ(Counted::live, 0);
  EXPECT_EQ(Counted::constructed, Counted::destroyed);
}

TEST(SpscRing, DestroyingANonEmptyRingDestroysItsElements) {
  Counted::reset();
  {
    SpscRing<Counted, 8> ring;
    for (int i = 0; i < 5; ++i)
      ASSERT_EQ(ring.try_push(Counted(i)), PushResult::ok);
    EXPECT_EQ(Counted::live, 5);
  }
  EXPECT_EQ(Counted::live, 0);
  EXPECT_EQ(Counted::constructed, Counted::destroyed);
}

TEST(SpscRing, FullIsAValueAndLeavesTheRingUnchanged) {
  SpscRing<int, 4> ring;
  EXPECT_EQ(ring.capacity(), 4u);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(ring.try_push(i), PushResult::ok) << i;
  EXPECT_EQ(ring.write_available(), 0u);
  EXPECT_EQ(ring.try_push(99), PushResult::full);
  EXPECT_EQ(ring.read_available(), 4u);
  for (int i = 0; i < 4; ++i) {
    int out = -1;
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out, i);  // FIFO, and 99 never entered
  }
  int out = -1;
  EXPECT_FALSE(ring.try_pop(out));
  EXPECT_EQ(out, -1);
}

TEST(SpscRing, WrapsAroundManyTimesInOrder) {
  SpscRing<std::uint64_t, 7> ring;  // not a power of two on purpose
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    while (ring.try_push(next_in) == PushResult::ok)
      ++next_in;
    std::uint64_t v = 0;
    for (int k = 0; k < 3 && ring.try_pop(v); ++k)
      ASSERT_EQ(v, next_out++);
  }
  const std::uint64_t pending = next_in - next_out;
  EXPECT_EQ(pending, 4u);  // the last round filled all 7 slots, then popped 3
  const std::size_t consumed = ring.consume_all([&](std::uint64_t v) { EXPECT_EQ(v, next_out++); });
  EXPECT_EQ(consumed, pending);
  EXPECT_EQ(next_out, next_in);
}

TEST(SpscRing, ConsumeAllVisitsInOrder) {
  SpscRing<int, 16> ring;
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(ring.try_push(i), PushResult::ok);
  int expected = 0;
  const std::size_t consumed = ring.consume_all([&](int v) { EXPECT_EQ(v, expected++); });
  EXPECT_EQ(consumed, 10u);
  EXPECT_TRUE(ring.empty());
  EXPECT_FALSE(ring.consume_one([](int) {}));
}

TEST(SpscRing, PushAndPopAllocateNothing) {
  auto ring = std::make_unique<SpscRing<MarketEvent, 1024>>();  // allocated at start-up
  MarketEvent event{};
  event.symbol = 3;
  const auto scope = test::AllocationScope();
  for (int i = 0; i < 10'000; ++i) {
    event.recv_ts = i;
    ASSERT_EQ(ring->try_push(event), PushResult::ok);
    MarketEvent out;
    ASSERT_TRUE(ring->try_pop(out));
    ASSERT_EQ(out.recv_ts, i);
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

// Two threads, one producer and one consumer, pass a long sequence through a small ring, so
// the ring is full and empty many times. Every value must arrive once, in order. The tsan
// preset runs this to prove the ring's synchronisation is race-free.
TEST(SpscRing, TwoThreadStressDeliversEverythingInOrder) {
  constexpr std::uint64_t kCount = 2'000'000;
  struct Payload {
    std::uint64_t seq;
    std::uint64_t check;
  };
  auto ring = std::make_unique<SpscRing<Payload, 64>>();
  std::uint64_t received = 0;
  std::uint64_t errors = 0;

  std::thread consumer([&] {
    std::uint64_t expected = 0;
    Payload p{};
    while (expected < kCount) {
      if (ring->try_pop(p)) {
        if (p.seq != expected || p.check != ~p.seq)
          ++errors;
        ++expected;
      } else {
        cpu_relax();
      }
    }
    received = expected;
  });
  std::uint64_t full_count = 0;
  for (std::uint64_t i = 0; i < kCount; ++i) {
    while (ring->try_push(Payload{i, ~i}) == PushResult::full) {
      ++full_count;
      cpu_relax();
    }
  }
  consumer.join();
  EXPECT_EQ(received, kCount);
  EXPECT_EQ(errors, 0u);
  EXPECT_TRUE(ring->empty());
}

}  // namespace
}  // namespace kinetic
