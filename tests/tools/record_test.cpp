// `kinetic record` against the independent peer: every message lands in the capture with
// the connection record before it, in order, and a bad topic is refused before connecting.
#include "record.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "kinetic/feed/capture_file.hpp"
#include "ws_peer.hpp"

namespace kinetic::tools {
namespace {

TEST(RecordCommand, WritesEveryMessageAfterItsConnectionRecord) {
  if (!test::peer_available())
    GTEST_SKIP() << "python3-websockets is not installed (tools/install-deps.sh installs it)";
  test::Peer peer({"--deltas", "5", "--max-connections", "1"});
  ASSERT_GT(peer.port(), 0);
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("kinetic-record-" + std::to_string(::getpid()) + ".kcap"))
                              .string();
  std::filesystem::remove(out);
  RecordOptions options;
  options.url = "ws://127.0.0.1:" + std::to_string(peer.port()) + "/v5/public/linear";
  options.symbols = "BTCUSDT";
  options.topics = "book.50,trade";
  options.out = out;
  options.max_messages = 12;  // the ack, the snapshot and 5 × (delta + trade)
  options.quiet = true;
  ASSERT_EQ(run_record(options), 0);
  (void)peer.finish();

  feed::CaptureReader reader = feed::CaptureReader::open(out);
  EXPECT_NE(reader.header().source.find("orderbook.50.BTCUSDT publicTrade.BTCUSDT"),
            std::string::npos)
      << reader.header().source;
  feed::CaptureRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.kind, feed::RecordKind::connection_opened);
  EXPECT_EQ(record.payload, options.url);
  std::vector<std::string> messages;
  std::int64_t previous_ts = record.recv_ts_ns;
  while (reader.next(record)) {
    if (record.kind != feed::RecordKind::text_message)
      continue;
    EXPECT_GE(record.recv_ts_ns, previous_ts);
    previous_ts = record.recv_ts_ns;
    messages.emplace_back(record.payload);
  }
  EXPECT_FALSE(reader.torn());
  ASSERT_EQ(messages.size(), 12u);
  EXPECT_NE(messages[0].find("\"op\": \"subscribe\""), std::string::npos) << messages[0];
  EXPECT_NE(messages[1].find("\"type\":\"snapshot\""), std::string::npos) << messages[1];
  EXPECT_NE(messages[11].find("publicTrade.BTCUSDT"), std::string::npos) << messages[11];
  // Wall-clock receive times: after 2020-01-01.
  EXPECT_GT(previous_ts, 1'577'836'800'000'000'000);
  std::filesystem::remove(out);
}

TEST(RecordCommand, RefusesABadTopicBeforeConnecting) {
  RecordOptions options;
  options.url = "ws://127.0.0.1:1/v5/public/linear";  // never reached
  options.topics = "trades";
  options.out = "/nonexistent/never-written.kcap";
  EXPECT_EQ(run_record(options), 2);
  options.topics = "trade";
  options.symbols = "BTC/USDT";
  EXPECT_EQ(run_record(options), 2);
}

}  // namespace
}  // namespace kinetic::tools
