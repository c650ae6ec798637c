// Recorder: every message queued from the feed thread reaches the file intact and in order;
// a message that cannot be queued leaves a note in the file where it was lost; queuing
// allocates nothing.
#include "kinetic/feed/recorder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "alloc_counter.hpp"

namespace kinetic::feed {
namespace {

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("kinetic-recorder-") + std::to_string(::getpid()) + "-" + name))
      .string();
}

RecorderOptions options(std::size_t ring_bytes) {
  RecorderOptions o;
  o.ring_bytes = ring_bytes;
  o.writer.mode = CaptureWriterOptions::Mode::truncate;
  o.writer.source = "recorder test";
  o.writer.sync_on_close = false;
  return o;
}

TEST(Recorder, EveryQueuedMessageReachesTheFileInOrder) {
  const std::string path = temp_path("order.kcap");
  constexpr int kMessages = 50'000;
  std::uint64_t accepted = 0;
  {
    Recorder recorder(path, options(1U << 16));  // small: the writer must keep draining
    char text[64];
    for (int i = 0; i < kMessages; ++i) {
      const int n = std::snprintf(text, sizeof text, "{\"i\":%d}", i);
      // Retrying when full keeps every message (the feed itself would drop and count).
      while (!recorder.record(RecordKind::text_message, 1000 + i,
                              std::string_view(text, static_cast<std::size_t>(n)), 7)) {
      }
      ++accepted;
    }
    recorder.stop();
    EXPECT_EQ(recorder.queued(), accepted);
    EXPECT_GE(recorder.written(), accepted);
  }
  CaptureReader reader = CaptureReader::open(path);
  EXPECT_EQ(reader.header().source, "recorder test");
  CaptureRecord record;
  int i = 0;
  char text[64];
  while (reader.next(record)) {
    if (record.kind == RecordKind::note)
      continue;  // drops while the test retried
    const int n = std::snprintf(text, sizeof text, "{\"i\":%d}", i);
    ASSERT_EQ(record.payload, std::string_view(text, static_cast<std::size_t>(n)));
    ASSERT_EQ(record.recv_ts_ns, 1000 + i);
    ASSERT_EQ(record.stream, 7);
    ASSERT_EQ(record.kind, RecordKind::text_message);
    ++i;
  }
  EXPECT_EQ(i, kMessages);
  EXPECT_FALSE(reader.torn());
  std::filesystem::remove(path);
}

TEST(Recorder, ALostMessageLeavesANoteWhereItWasLost) {
  const std::string path = temp_path("drop.kcap");
  {
    Recorder recorder(path, options(4096));
    ASSERT_TRUE(recorder.record(RecordKind::connection_opened, 1, "ws://127.0.0.1:1/x"));
    const std::string too_big(5000, 'x');  // larger than the ring can ever hold
    EXPECT_FALSE(recorder.record(RecordKind::text_message, 2, too_big));
    EXPECT_FALSE(recorder.record(RecordKind::text_message, 3, too_big));
    ASSERT_TRUE(recorder.record(RecordKind::text_message, 4, "after"));
    recorder.stop();
    EXPECT_EQ(recorder.dropped(), 2u);
    EXPECT_EQ(recorder.written(), 3u);  // opened, the note, "after"
  }
  CaptureReader reader = CaptureReader::open(path);
  CaptureRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.kind, RecordKind::connection_opened);
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.kind, RecordKind::note);
  EXPECT_NE(record.payload.find("2 message(s) not recorded"), std::string_view::npos);
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.payload, "after");
  EXPECT_FALSE(reader.next(record));
  std::filesystem::remove(path);
}

TEST(Recorder, QueuingAllocatesNothing) {
  const std::string path = temp_path("alloc.kcap");
  Recorder recorder(path, options(1U << 20));
  const std::string message(300, 'm');
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int i = 0; i < 1000; ++i)
      (void)recorder.record(RecordKind::text_message, i, message);
  });
  EXPECT_EQ(allocations, 0u);
  recorder.stop();
  std::filesystem::remove(path);
}

TEST(Recorder, AnUnwritablePathIsAnErrorAtStart) {
  EXPECT_THROW(Recorder("/nonexistent-dir/x.kcap", options(4096)), CaptureFileError);
}

}  // namespace
}  // namespace kinetic::feed
