// Thread utilities: pinning (and its refusals), naming with truncation, core queries, and
// SpinWait. Each pinning test runs in its own std::thread so the gtest main thread keeps its
// affinity.

#include "kinetic/core/thread.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace kinetic {
namespace {

cpu_set_t affinity_of_this_thread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(set), &set), 0);
  return set;
}

std::vector<int> allowed_cores() {
  const cpu_set_t set = affinity_of_this_thread();
  std::vector<int> cores;
  for (int core = 0; core < CPU_SETSIZE; ++core) {
    if (CPU_ISSET(static_cast<std::size_t>(core), &set)) {
      cores.push_back(core);
    }
  }
  return cores;
}

std::string name_of_this_thread() {
  char buffer[64] = {};
  EXPECT_EQ(pthread_getname_np(pthread_self(), buffer, sizeof(buffer)), 0);
  return buffer;
}

// Runs `fn` on a fresh thread and waits for it.
template <class Fn>
void on_new_thread(Fn fn) {
  std::thread thread(fn);
  thread.join();
}

TEST(Thread, PinsToTheLowestAllowedCore) {
  const std::vector<int> cores = allowed_cores();
  ASSERT_FALSE(cores.empty());
  const int target = cores.front();  // core 0 unless a cpuset excludes it
  on_new_thread([target] {
    const std::error_code error = pin_current_thread(target);
    ASSERT_FALSE(error) << error.message();
    // The kernel migrates the thread before pthread_setaffinity_np returns.
    EXPECT_EQ(current_core(), target);
    const cpu_set_t set = affinity_of_this_thread();
    EXPECT_EQ(CPU_COUNT(&set), 1);
    EXPECT_TRUE(CPU_ISSET(static_cast<std::size_t>(target), &set));
  });
}

TEST(Thread, PinsToEveryAllowedCoreInTurn) {
  const std::vector<int> cores = allowed_cores();
  on_new_thread([&cores] {
    for (const int core : cores) {
      ASSERT_FALSE(pin_current_thread(core)) << "core " << core;
      EXPECT_EQ(current_core(), core);
      const cpu_set_t set = affinity_of_this_thread();
      EXPECT_EQ(CPU_COUNT(&set), 1);
      EXPECT_TRUE(CPU_ISSET(static_cast<std::size_t>(core), &set));
    }
  });
}

TEST(Thread, RefusesCoresThatDoNotExistAndKeepsTheMask) {
  on_new_thread([] {
    const cpu_set_t before = affinity_of_this_thread();
    const long configured = sysconf(_SC_NPROCESSORS_CONF);
    ASSERT_GT(configured, 0);
    for (const int core :
         {-1, -100000, 100000, static_cast<int>(CPU_SETSIZE), static_cast<int>(configured)}) {
      const std::error_code error = pin_current_thread(core);
      EXPECT_TRUE(error) << "core " << core << " was accepted";
      EXPECT_EQ(error, std::errc::invalid_argument) << "core " << core << ": " << error.message();
    }
    const cpu_set_t after = affinity_of_this_thread();
    EXPECT_TRUE(CPU_EQUAL(&before, &after));
  });
}

TEST(Thread, NamesTheThread) {
  on_new_thread([] {
    ASSERT_FALSE(name_current_thread("kinetic-feed"));
    EXPECT_EQ(name_of_this_thread(), "kinetic-feed");
  });
}

TEST(Thread, TruncatesLongNamesTo15Bytes) {
  on_new_thread([] {
    ASSERT_FALSE(name_current_thread("kinetic-strategy-worker-7"));
    EXPECT_EQ(name_of_this_thread(), "kinetic-strateg");
    ASSERT_FALSE(name_current_thread("exactly-15-byte"));
    EXPECT_EQ(name_of_this_thread(), "exactly-15-byte");
    ASSERT_FALSE(name_current_thread(""));
    EXPECT_EQ(name_of_this_thread(), "");
  });
}

TEST(Thread, TruncationDoesNotSplitAUtf8Character) {
  on_new_thread([] {
    // 14 ASCII bytes, then "é" (2 bytes): byte 15 would be half of it, so it is dropped.
    ASSERT_FALSE(name_current_thread("abcdefghijklmn\xC3\xA9xyz"));
    EXPECT_EQ(name_of_this_thread(), "abcdefghijklmn");
    // 13 ASCII bytes + "é" fits exactly in 15 bytes and is kept.
    ASSERT_FALSE(name_current_thread("abcdefghijklm\xC3\xA9xyz"));
    EXPECT_EQ(name_of_this_thread(), "abcdefghijklm\xC3\xA9");
  });
}

TEST(Thread, NameFromAStringViewThatIsNotNulTerminated) {
  on_new_thread([] {
    const std::string_view name = std::string_view("feed-and-more").substr(0, 4);
    ASSERT_FALSE(name_current_thread(name));
    EXPECT_EQ(name_of_this_thread(), "feed");
  });
}

TEST(Thread, CurrentCoreIsOneTheThreadMayRunOn) {
  const int core = current_core();
  ASSERT_GE(core, 0);
  ASSERT_LT(core, CPU_SETSIZE);
  // It might migrate between the two calls, but only within its mask.
  const cpu_set_t set = affinity_of_this_thread();
  EXPECT_TRUE(CPU_ISSET(static_cast<std::size_t>(core), &set));
}

TEST(Thread, AvailableCoresCountsTheProcessMaskEvenFromAPinnedThread) {
  const auto expected = static_cast<int>(allowed_cores().size());  // gtest's main thread
  EXPECT_EQ(available_cores(), expected);
  EXPECT_GE(available_cores(), 1);
  on_new_thread([expected] {
    ASSERT_FALSE(pin_current_thread(allowed_cores().front()));
    EXPECT_EQ(available_cores(), expected);
  });
}

// A consumer waits with SpinWait for a flag a producer sets; both policies must get through
// (spin_then_yield goes past its spin budget and yields, which lets the producer run even on
// one core).
void consumer_waits_for_producer(WaitPolicy policy) {
  std::atomic<int> stage{0};
  std::thread producer([&stage] {
    for (int round = 1; round <= 100; ++round) {
      // Wait until the consumer has seen the previous round.
      SpinWait wait(WaitPolicy::spin_then_yield);
      while (stage.load(std::memory_order_acquire) != 2 * round - 2) {
        wait.wait();
      }
      stage.store(2 * round - 1, std::memory_order_release);
    }
  });
  SpinWait wait(policy);
  for (int round = 1; round <= 100; ++round) {
    while (stage.load(std::memory_order_acquire) != 2 * round - 1) {
      wait.wait();
    }
    wait.reset();  // work arrived
    stage.store(2 * round, std::memory_order_release);
  }
  producer.join();
  EXPECT_EQ(stage.load(), 200);
}

TEST(Thread, SpinThenYieldWaitsForAProducer) {
  consumer_waits_for_producer(WaitPolicy::spin_then_yield);
}

TEST(Thread, BusySpinWaitsForAProducer) {
  consumer_waits_for_producer(WaitPolicy::busy_spin);
}

TEST(Thread, SpinWaitSurvivesManyWaitsAndResets) {
  for (const WaitPolicy policy : {WaitPolicy::busy_spin, WaitPolicy::spin_then_yield}) {
    SpinWait wait(policy);
    for (int i = 0; i < 100'000; ++i) {
      wait.wait();
      if (i % 10'000 == 0) {
        wait.reset();
      }
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace kinetic
