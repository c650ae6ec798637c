#pragma once
// SpscRing: the single-producer single-consumer ring that joins hot-path threads.
//
// A typed wrapper over boost::lockfree::spsc_queue with its capacity fixed at compile time,
// so the storage lives inside the object (no allocation, ever) and the index arithmetic uses
// a constant. Back-pressure is a value: try_push() says `full` and the producer decides
// (drop, count, spin); nothing blocks and nothing throws.

#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace kinetic {

enum class PushResult : std::uint8_t { ok = 0, full };

/// Ring of `Capacity` elements of T between exactly one producer thread and exactly one
/// consumer thread. Owns its elements (constructed on push, destroyed on pop). The object is
/// Capacity * sizeof(T) bytes: allocate large rings once at start-up (std::make_unique),
/// not on a thread's stack. Not copyable or movable, since threads hold references to it.
/// Thread-safety: try_push/write_available from the producer only; try_pop/front/consume_*/
/// read_available from the consumer only; empty() from either.
template <class T, std::size_t Capacity>
class SpscRing {
  static_assert(Capacity >= 2, "a ring needs at least two slots");
  static_assert(std::is_nothrow_copy_constructible_v<T> || std::is_nothrow_move_constructible_v<T>,
                "hot-path ring elements must not throw when copied");

 public:
  static constexpr std::size_t kCapacity = Capacity;

  SpscRing() = default;
  /// Destroys the elements still queued. boost's compile-time-sized ring does not, so a
  /// ring of owning elements would otherwise leak them (the counting test catches this).
  /// Call only when both threads have stopped using the ring.
  ~SpscRing() {
    queue_.consume_all([](const T&) noexcept {});
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  /// Producer: copies `value` in, or returns `full` and leaves the ring unchanged.
  [[nodiscard]] PushResult try_push(const T& value) noexcept {
    return queue_.push(value) ? PushResult::ok : PushResult::full;
  }

  /// Consumer: moves the oldest element into `out`; false when the ring is empty.
  [[nodiscard]] bool try_pop(T& out) noexcept { return queue_.pop(out); }

  /// Consumer: calls `fn(const T&)` on each element available now, then releases them all
  /// at once (one index store for the batch). Returns how many it consumed.
  template <class Fn>
  std::size_t consume_all(Fn&& fn) noexcept(noexcept(fn(std::declval<const T&>()))) {
    return queue_.consume_all(fn);
  }

  /// Consumer: calls `fn(const T&)` on the oldest element, if any, and releases it.
  template <class Fn>
  bool consume_one(Fn&& fn) noexcept(noexcept(fn(std::declval<const T&>()))) {
    return queue_.consume_one(fn);
  }

  /// Consumer: elements ready to pop.
  [[nodiscard]] std::size_t read_available() const noexcept { return queue_.read_available(); }
  /// Producer: free slots.
  [[nodiscard]] std::size_t write_available() const noexcept { return queue_.write_available(); }
  /// Either side: a snapshot that may be stale by the time it is read.
  [[nodiscard]] bool empty() const noexcept { return queue_.read_available() == 0; }

  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }

 private:
  boost::lockfree::spsc_queue<T, boost::lockfree::capacity<Capacity>> queue_;
};

}  // namespace kinetic
