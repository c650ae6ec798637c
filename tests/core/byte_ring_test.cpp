// ByteRing: records in order with their exact bytes, wrap-around with the skip marker,
// back-pressure when full, records too big, a producer/consumer stress across two threads,
// and no allocation after construction.
#include "kinetic/core/byte_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"

namespace kinetic {
namespace {

bool write(ByteRing& ring, std::string_view text) {
  return ring.try_write(std::as_bytes(std::span(text.data(), text.size())));
}
std::string read(ByteRing& ring) {
  const ByteRing::Record record = ring.peek();
  if (!record.valid)
    return "<none>";
  std::string text(reinterpret_cast<const char*>(record.bytes.data()), record.bytes.size());
  ring.release();
  return text;
}

TEST(ByteRing, RecordsComeOutInOrderWithTheirBytes) {
  ByteRing ring(64);
  EXPECT_EQ(ring.capacity(), 64u);
  EXPECT_EQ(read(ring), "<none>");
  ASSERT_TRUE(write(ring, "hello"));
  ASSERT_TRUE(write(ring, ""));  // an empty record is a record
  ASSERT_TRUE(write(ring, "world!"));
  EXPECT_EQ(read(ring), "hello");
  EXPECT_EQ(read(ring), "");
  EXPECT_EQ(read(ring), "world!");
  EXPECT_EQ(read(ring), "<none>");
}

TEST(ByteRing, FullIsAValueAndSpaceComesBackOnRelease) {
  ByteRing ring(64);  // records of 16 bytes: 8 header + up to 8 payload
  EXPECT_EQ(ring.max_record(), 24u);
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(write(ring, "12345678")) << i;
  EXPECT_FALSE(write(ring, "x"));        // 64 bytes in use
  EXPECT_EQ(ring.reserve(25), nullptr);  // never fits
  EXPECT_EQ(read(ring), "12345678");
  EXPECT_TRUE(write(ring, "abc"));  // 16 bytes freed: fits again
  EXPECT_FALSE(write(ring, "d"));
}

TEST(ByteRing, ARecordThatWouldWrapStartsAgainAtTheBeginning) {
  ByteRing ring(64);
  ASSERT_TRUE(write(ring, std::string(16, 'a')));  // 24 bytes at 0
  ASSERT_TRUE(write(ring, std::string(16, 'b')));  // 24 bytes at 24
  EXPECT_EQ(read(ring), std::string(16, 'a'));     // frees 0..24
  // 24 bytes do not fit in the 16 left at the end: a skip marker there, and the record at
  // offset 0 (16 + 24 = 40 bytes needed, 40 free).
  ASSERT_TRUE(write(ring, std::string(16, 'c')));
  EXPECT_FALSE(write(ring, "dddddddd"));  // 64 bytes in use now
  EXPECT_EQ(read(ring), std::string(16, 'b'));
  EXPECT_EQ(read(ring), std::string(16, 'c'));  // past the skip marker
  EXPECT_EQ(read(ring), "<none>");
  ASSERT_TRUE(write(ring, "dddddddd"));
  EXPECT_EQ(read(ring), "dddddddd");
}

TEST(ByteRing, ReserveCommitAndAShorterCommit) {
  ByteRing ring(128);
  std::byte* slot = ring.reserve(10);
  ASSERT_NE(slot, nullptr);
  std::memcpy(slot, "abcdefghij", 10);
  EXPECT_EQ(read(ring), "<none>");  // not committed yet
  ring.commit(4);                   // it turned out shorter
  EXPECT_EQ(read(ring), "abcd");
}

TEST(ByteRing, TwoThreadsPassEveryRecordIntactAndInOrder) {
  ByteRing ring(4096);
  constexpr std::uint32_t kRecords = 50'000;
  std::thread producer([&] {
    std::byte buffer[300];
    for (std::uint32_t i = 0; i < kRecords; ++i) {
      const std::size_t size = 4 + (i * 7919u) % 280;  // varied sizes, so wraps happen
      std::memcpy(buffer, &i, 4);
      for (std::size_t k = 4; k < size; ++k)
        buffer[k] = static_cast<std::byte>(i + k);
      while (!ring.try_write(std::span<const std::byte>(buffer, size))) {
      }
    }
  });
  std::uint32_t expected = 0;
  while (expected < kRecords) {
    const ByteRing::Record record = ring.peek();
    if (!record.valid)
      continue;
    const std::size_t size = 4 + (expected * 7919u) % 280;
    ASSERT_EQ(record.bytes.size(), size);
    std::uint32_t index = 0;
    std::memcpy(&index, record.bytes.data(), 4);
    ASSERT_EQ(index, expected);
    for (std::size_t k = 4; k < size; ++k)
      ASSERT_EQ(record.bytes[k], static_cast<std::byte>(expected + k));
    ring.release();
    ++expected;
  }
  producer.join();
  EXPECT_FALSE(ring.peek().valid);
}

TEST(ByteRing, NoAllocationAfterConstruction) {
  ByteRing ring(1024);
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int i = 0; i < 10'000; ++i) {
      ASSERT_TRUE(write(ring, "a message of some length"));
      ASSERT_TRUE(ring.peek().valid);
      ring.release();
    }
  });
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace kinetic
