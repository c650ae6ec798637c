#include "alloc_counter.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace kinetic::test {
namespace {

// Makes a pointer escape so the compiler cannot elide a new/delete pair (it may, since C++14).
template <class T>
T* escape(T* p) {
  asm volatile("" : : "g"(p) : "memory");
  return p;
}

TEST(AllocationCounter, CountsEveryFormOfNew) {
  const AllocationScope scope;
  delete escape(new int(1));
  delete[] escape(new int[4]);
  struct alignas(64) Wide {
    char bytes[64];
  };
  delete escape(new Wide{});
  delete escape(new (std::nothrow) int(2));
  EXPECT_EQ(scope.allocations(), 4u);
}

TEST(AllocationCounter, CountsLibraryAllocations) {
  const std::uint64_t n = count_allocations([] {
    std::vector<int> v;
    v.reserve(100);
    std::string s(200, 'x');  // beyond the small-string buffer
    (void)s;
  });
  EXPECT_EQ(n, 2u);
}

TEST(AllocationCounter, ReportsZeroForAllocationFreeCode) {
  std::vector<int> v;
  v.reserve(16);
  const std::uint64_t n = count_allocations([&] {
    for (int i = 0; i < 16; ++i)
      v.push_back(i);
  });
  EXPECT_EQ(n, 0u);
}

TEST(AllocationCounter, OtherThreadsDoNotCountOnThisThread) {
  const AllocationScope scope;
  std::uint64_t on_worker = 0;
  const std::uint64_t process_before = allocations_in_process();
  {
    // The std::thread's own state is allocated here, on this thread: measure it separately.
    std::thread worker([&] {
      const AllocationScope inner;
      auto p = std::make_unique<int[]>(32);
      p[0] = 1;
      on_worker = inner.allocations();
    });
    worker.join();
  }
  EXPECT_EQ(on_worker, 1u);
  EXPECT_GE(allocations_in_process() - process_before, 2u);  // worker's + the thread state
  const std::uint64_t here = scope.allocations();
  EXPECT_LE(here, 1u);  // at most the thread's start-up state, never the worker's array
}

TEST(AllocationCounter, DeallocationsAreCounted) {
  const std::uint64_t before = deallocations_on_this_thread();
  delete escape(new int(3));
  EXPECT_EQ(deallocations_on_this_thread() - before, 1u);
}

}  // namespace
}  // namespace kinetic::test
