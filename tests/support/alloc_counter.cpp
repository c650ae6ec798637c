// Replacement global operator new/delete that count calls. Linked whole-archive into every
// test binary (see tests/CMakeLists.txt). Only malloc-family functions are used underneath,
// so the sanitizers' interceptors still see every allocation.
#include "alloc_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

// constinit thread_local with a trivial type: no TLS init guard, safe inside operator new.
constinit thread_local std::uint64_t t_allocations = 0;
constinit thread_local std::uint64_t t_deallocations = 0;
std::atomic<std::uint64_t> g_allocations{0};

void count_new() noexcept {
  ++t_allocations;
  g_allocations.fetch_add(1, std::memory_order_relaxed);
}

void* allocate(std::size_t size) noexcept {
  count_new();
  return std::malloc(size == 0 ? 1 : size);
}

void* allocate_aligned(std::size_t size, std::align_val_t align) noexcept {
  count_new();
  const auto alignment = static_cast<std::size_t>(align);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
  return std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
}

void release(void* p) noexcept {
  if (p != nullptr) {
    ++t_deallocations;
    std::free(p);
  }
}

}  // namespace

namespace kinetic::test {
std::uint64_t allocations_on_this_thread() noexcept {
  return t_allocations;
}
std::uint64_t deallocations_on_this_thread() noexcept {
  return t_deallocations;
}
std::uint64_t allocations_in_process() noexcept {
  return g_allocations.load(std::memory_order_relaxed);
}
}  // namespace kinetic::test

void* operator new(std::size_t size) {
  if (void* p = allocate(size))
    return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = allocate(size))
    return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = allocate_aligned(size, align))
    return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = allocate_aligned(size, align))
    return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate_aligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate_aligned(size, align);
}

void operator delete(void* p) noexcept {
  release(p);
}
void operator delete[](void* p) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  release(p);
}
