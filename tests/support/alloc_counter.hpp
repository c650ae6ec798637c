#pragma once
// Allocation counting for tests.
//
// alloc_counter.cpp replaces the global operator new and operator delete (every form:
// plain, array, sized, aligned, nothrow) in each test binary. The replacements count each
// call per thread and in total, then allocate with malloc/aligned_alloc as usual. A test
// asserts that a region of code allocated nothing by comparing the calling thread's count
// before and after it; counts from other threads (gtest, a helper thread) do not interfere.

#include <cstdint>

namespace kinetic::test {

/// operator new calls (any form) made so far by the calling thread.
[[nodiscard]] std::uint64_t allocations_on_this_thread() noexcept;
/// operator delete calls (any form, non-null pointer) made so far by the calling thread.
[[nodiscard]] std::uint64_t deallocations_on_this_thread() noexcept;
/// operator new calls made so far by every thread of the process.
[[nodiscard]] std::uint64_t allocations_in_process() noexcept;

/// Counts the calling thread's allocations from construction to allocations().
/// Value type; use on one thread only.
class AllocationScope {
 public:
  AllocationScope() noexcept : start_(allocations_on_this_thread()) {}
  [[nodiscard]] std::uint64_t allocations() const noexcept {
    return allocations_on_this_thread() - start_;
  }

 private:
  std::uint64_t start_;
};

/// Runs `fn` and returns how many allocations the calling thread made while it ran.
template <class Fn>
[[nodiscard]] std::uint64_t count_allocations(Fn&& fn) {
  const AllocationScope scope;
  static_cast<Fn&&>(fn)();
  return scope.allocations();
}

}  // namespace kinetic::test
