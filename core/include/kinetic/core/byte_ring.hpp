#pragma once
// ByteRing: a single-producer single-consumer ring of variable-length records, written in
// place: the producer reserves a contiguous span, fills it, and commits; the consumer peeks
// the next record as a contiguous span and releases it. This is how a hot thread hands bytes
// it does not own for long (a received message for the recorder) to a thread that may make
// system calls, with one copy and no allocation.
//
// Layout: a power-of-two byte array. Each record is an 8-byte header (its payload length)
// followed by the payload, the whole rounded up to 8 bytes, so headers stay aligned. A record
// never wraps: when it does not fit before the end of the array, the producer writes a skip
// header there and starts at offset 0. The producer and consumer positions are free-running
// 64-bit byte counters on their own cache lines, and each side keeps a cached copy of the
// other's position, refreshed only when the cached one says "full" or "empty" — the usual
// way (rigtorp's SPSCQueue) to keep the two cores from bouncing one line on every record.
//
// Back-pressure is a value: reserve() returns an empty span when the record does not fit now,
// and the producer decides (drop and count, or retry). A record larger than half the capacity
// can never be guaranteed to fit and is refused the same way (max_record()).
//
// Ownership: owns its buffer, allocated once at construction. Not copyable or movable.
// Thread-safety: reserve/commit from one producer thread; peek/release from one consumer
// thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>

namespace kinetic {

class ByteRing {
 public:
  static constexpr std::size_t kHeader = 8;
  static constexpr std::size_t kAlign = 8;

  /// `capacity_bytes` is rounded up to a power of two (at least 64).
  explicit ByteRing(std::size_t capacity_bytes)
      : capacity_(round_up_pow2(capacity_bytes < 64 ? 64 : capacity_bytes)),
        mask_(capacity_ - 1),
        buffer_(new (std::align_val_t{64}) std::byte[capacity_]) {}
  ~ByteRing() { ::operator delete[](buffer_, std::align_val_t{64}); }
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// The largest payload reserve() may ever grant.
  [[nodiscard]] std::size_t max_record() const noexcept { return capacity_ / 2 - kHeader; }

  /// Producer: `size` contiguous bytes to fill, or nullptr when the record does not fit now
  /// (or ever: size > max_record()). Nothing is visible to the consumer before commit().
  [[nodiscard]] std::byte* reserve(std::size_t size) noexcept {
    if (size > max_record())
      return nullptr;
    const std::size_t record = padded(kHeader + size);
    std::uint64_t head = producer_.position;
    const std::size_t offset = static_cast<std::size_t>(head) & mask_;
    const std::size_t to_end = capacity_ - offset;
    const std::size_t needed = record <= to_end ? record : to_end + record;  // skip the tail
    if (!has_room(head, needed))
      return nullptr;
    if (record > to_end) {  // a skip marker, and the record starts again at offset 0
      write_header(offset, kSkip);
      head += to_end;
    }
    producer_.reserved_at = head;
    producer_.reserved_size = size;
    return buffer_ + (static_cast<std::size_t>(head) & mask_) + kHeader;
  }

  /// Producer: publishes the record reserved last, with `size` ≤ the reserved size (a record
  /// may turn out shorter than reserved).
  void commit(std::size_t size) noexcept {
    if (size > producer_.reserved_size)
      size = producer_.reserved_size;
    write_header(static_cast<std::size_t>(producer_.reserved_at) & mask_, size);
    producer_.position = producer_.reserved_at + padded(kHeader + size);
    producer_.published.store(producer_.position, std::memory_order_release);
  }

  /// Producer: copies `bytes` in as one record; false when it does not fit now.
  [[nodiscard]] bool try_write(std::span<const std::byte> bytes) noexcept {
    std::byte* const slot = reserve(bytes.size());
    if (slot == nullptr)
      return false;
    if (!bytes.empty())
      std::memcpy(slot, bytes.data(), bytes.size());
    commit(bytes.size());
    return true;
  }

  /// Consumer: the oldest committed record (`valid` false when there is none). Its bytes stay
  /// put until release().
  struct Record {
    std::span<const std::byte> bytes;
    bool valid = false;
  };
  [[nodiscard]] Record peek() noexcept {
    for (;;) {
      const std::uint64_t tail = consumer_.position;
      if (tail == consumer_.cached_head) {
        consumer_.cached_head = producer_.published.load(std::memory_order_acquire);
        if (tail == consumer_.cached_head)
          return {};
      }
      const std::size_t offset = static_cast<std::size_t>(tail) & mask_;
      const std::uint64_t size = read_header(offset);
      if (size == kSkip) {  // the producer wrapped: the record is at offset 0
        consumer_.position = tail + (capacity_ - offset);
        release_to(consumer_.position);
        continue;
      }
      return {{buffer_ + offset + kHeader, static_cast<std::size_t>(size)}, true};
    }
  }
  /// Consumer: frees the record returned by the last peek().
  void release() noexcept {
    const std::size_t offset = static_cast<std::size_t>(consumer_.position) & mask_;
    consumer_.position += padded(kHeader + static_cast<std::size_t>(read_header(offset)));
    release_to(consumer_.position);
  }

 private:
  static constexpr std::uint64_t kSkip = ~std::uint64_t{0};

  static std::size_t round_up_pow2(std::size_t v) {
    std::size_t p = 1;
    while (p < v)
      p <<= 1;
    return p;
  }
  static constexpr std::size_t padded(std::size_t n) noexcept {
    return (n + kAlign - 1) & ~(kAlign - 1);
  }
  [[nodiscard]] bool has_room(std::uint64_t head, std::size_t needed) noexcept {
    if (head + needed - producer_.cached_tail <= capacity_)
      return true;
    producer_.cached_tail = consumer_.released.load(std::memory_order_acquire);
    return head + needed - producer_.cached_tail <= capacity_;
  }
  void release_to(std::uint64_t position) noexcept {
    consumer_.released.store(position, std::memory_order_release);
  }
  void write_header(std::size_t offset, std::uint64_t value) noexcept {
    std::memcpy(buffer_ + offset, &value, sizeof value);
  }
  [[nodiscard]] std::uint64_t read_header(std::size_t offset) const noexcept {
    std::uint64_t value = 0;
    std::memcpy(&value, buffer_ + offset, sizeof value);
    return value;
  }

  const std::size_t capacity_;
  const std::size_t mask_;
  std::byte* const buffer_;

  struct alignas(64) Producer {
    std::uint64_t position = 0;     // where the next record goes (producer's own)
    std::uint64_t cached_tail = 0;  // the consumer's released position, last seen
    std::uint64_t reserved_at = 0;  // the reserved record's start (after any skip)
    std::size_t reserved_size = 0;
    std::atomic<std::uint64_t> published{0};
  } producer_;
  struct alignas(64) Consumer {
    std::uint64_t position = 0;     // the next record to read (consumer's own)
    std::uint64_t cached_head = 0;  // the producer's published position, last seen
    std::atomic<std::uint64_t> released{0};
  } consumer_;
};

}  // namespace kinetic
