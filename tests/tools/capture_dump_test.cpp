// `kinetic capture dump` and `kinetic capture book` on captures written in the test: the
// exact JSON lines for every kind of event, a malformed message counted, the book after the
// last event, and a book left invalid by a gap refused with the reason.
#include "capture_dump.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "kinetic/feed/capture_file.hpp"

namespace kinetic::tools {
namespace {

std::string write_capture(const char* name, const std::vector<std::string>& messages) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            (std::string("kinetic-dump-") + std::to_string(::getpid()) + name))
                               .string();
  feed::CaptureWriterOptions options;
  options.mode = feed::CaptureWriterOptions::Mode::truncate;
  options.sync_on_close = false;
  feed::CaptureWriter writer(path, options);
  writer.append(feed::RecordKind::connection_opened, 100, "ws://127.0.0.1:1/v5/public/linear");
  std::int64_t ts = 1000;
  for (const std::string& message : messages)
    writer.append(feed::RecordKind::text_message, ts++, message);
  writer.close();
  return path;
}

const std::vector<std::string> kMessages = {
    R"({"success":true,"ret_msg":"","conn_id":"c","req_id":"s1","op":"subscribe"})",
    R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1700000000001,"data":[{"T":1700000000000,"s":"BTCUSDT","S":"Sell","v":"0.004","p":"65114.2","L":"MinusTick","i":"8f1e-aa","BT":false},{"T":1700000000000,"s":"BTCUSDT","S":"Buy","v":"1","p":"65114.3","L":"PlusTick","i":"8f1e-ab","BT":false}]})",
    R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000010,"data":{"s":"BTCUSDT","b":[["65000.0","1.5"],["64999.5","2"]],"a":[["65000.5","1"]],"u":7,"seq":70},"cts":1700000000009})",
    R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000020,"data":{"s":"BTCUSDT","b":[["64999.5","0"]],"a":[["65001.0","0.25"]],"u":8,"seq":80},"cts":1700000000019})",
    R"({"topic":"tickers.BTCUSDT","type":"snapshot","ts":1700000000030,"cs":1,"data":{"symbol":"BTCUSDT","lastPrice":"65000.5","bid1Price":"65000.0","bid1Size":"1.5","ask1Price":"65000.5","ask1Size":"1"}})",
    R"({"topic":"kline.5.BTCUSDT","type":"snapshot","ts":1700000000040,"data":[{"start":1699999800000,"end":1700000099999,"interval":"5","open":"64990","close":"65000.5","high":"65010","low":"64980.5","volume":"12.5","turnover":"812000","confirm":false,"timestamp":1700000000040}]})",
    R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"x","p":"1"}]})",
};

TEST(CaptureDump, PrintsEveryKindOfEventExactly) {
  const std::string path = write_capture(".kcap", kMessages);
  std::ostringstream out;
  const CaptureDumpSummary summary = write_capture_dump(path, "", out);
  EXPECT_EQ(summary.records, 8u);
  EXPECT_EQ(summary.messages, 7u);
  EXPECT_EQ(summary.malformed, 1u);
  EXPECT_FALSE(summary.torn_tail);
  const std::string expected =
      R"({"type":"connection_opened","recv_ts":100,"text":"ws://127.0.0.1:1/v5/public/linear"})"
      "\n"
      R"({"type":"trade","symbol":"BTCUSDT","exch_ts":1700000000000,"recv_ts":1001,"price":"65114.2","qty":"0.004","side":"Sell","id":"8f1e-aa"})"
      "\n"
      R"({"type":"trade","symbol":"BTCUSDT","exch_ts":1700000000000,"recv_ts":1001,"price":"65114.3","qty":"1","side":"Buy","id":"8f1e-ab"})"
      "\n"
      R"({"type":"book_snapshot","symbol":"BTCUSDT","exch_ts":1700000000009,"recv_ts":1002,"update_id":7,"bids":[["65000","1.5"],["64999.5","2"]],"asks":[["65000.5","1"]]})"
      "\n"
      R"({"type":"book_delta","symbol":"BTCUSDT","exch_ts":1700000000019,"recv_ts":1003,"update_id":8,"bids":[["64999.5","0"]],"asks":[["65001","0.25"]]})"
      "\n"
      R"({"type":"ticker","symbol":"BTCUSDT","exch_ts":1700000000030,"recv_ts":1004,"last":"65000.5","bid":"65000","bid_qty":"1.5","ask":"65000.5","ask_qty":"1"})"
      "\n"
      R"({"type":"kline","symbol":"BTCUSDT","start":1699999800000,"recv_ts":1005,"interval_min":5,"open":"64990","high":"65010","low":"64980.5","close":"65000.5","volume":"12.5","confirmed":false})"
      "\n";
  EXPECT_EQ(out.str(), expected);
  // A symbol filter keeps the connection records and that symbol's events only.
  std::ostringstream none;
  write_capture_dump(path, "ETHUSDT", none);
  EXPECT_EQ(
      none.str(),
      R"({"type":"connection_opened","recv_ts":100,"text":"ws://127.0.0.1:1/v5/public/linear"})"
      "\n");
  std::filesystem::remove(path);
}

TEST(CaptureBook, TheBookAfterTheLastEvent) {
  const std::string path = write_capture("-book.kcap", kMessages);
  std::ostringstream out;
  std::string why;
  ASSERT_TRUE(write_capture_book({path, "BTCUSDT", 0}, out, why)) << why;
  EXPECT_EQ(
      out.str(),
      R"({"symbol":"BTCUSDT","update_id":8,"exch_ts":1700000000019,"bids":[["65000","1.5"]],"asks":[["65000.5","1"],["65001","0.25"]]})"
      "\n");
  std::ostringstream top;
  ASSERT_TRUE(write_capture_book({path, "BTCUSDT", 1}, top, why)) << why;
  EXPECT_EQ(
      top.str(),
      R"({"symbol":"BTCUSDT","update_id":8,"exch_ts":1700000000019,"bids":[["65000","1.5"]],"asks":[["65000.5","1"]]})"
      "\n");
  std::ostringstream missing;
  EXPECT_FALSE(write_capture_book({path, "ETHUSDT", 0}, missing, why));
  EXPECT_NE(why.find("no order book messages for ETHUSDT"), std::string::npos) << why;
  std::filesystem::remove(path);
}

TEST(CaptureBook, OneSymbolOnTwoStreamsMustBeChosen) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("kinetic-dump-" + std::to_string(::getpid()) + "-streams.kcap"))
                               .string();
  {
    feed::CaptureWriterOptions options;
    options.mode = feed::CaptureWriterOptions::Mode::truncate;
    options.sync_on_close = false;
    feed::CaptureWriter writer(path, options);
    writer.append(feed::RecordKind::connection_opened, 1, "wss://x/v5/public/linear", 1);
    writer.append(feed::RecordKind::connection_opened, 2, "wss://x/v5/public/spot", 2);
    writer.append(feed::RecordKind::text_message, 3, kMessages[2], 1);  // u 7
    writer.append(feed::RecordKind::text_message, 4, kMessages[2], 2);
    writer.append(feed::RecordKind::text_message, 5, kMessages[3], 2);  // u 8 on stream 2 only
    writer.close();
  }
  std::ostringstream out;
  std::string why;
  EXPECT_FALSE(write_capture_book({path, "BTCUSDT", 0, -1}, out, why));
  EXPECT_NE(why.find("1 (wss://x/v5/public/linear) 2 (wss://x/v5/public/spot)"), std::string::npos)
      << why;
  ASSERT_TRUE(write_capture_book({path, "BTCUSDT", 0, 1}, out, why)) << why;
  EXPECT_NE(out.str().find("\"update_id\":7"), std::string::npos) << out.str();
  std::ostringstream second;
  ASSERT_TRUE(write_capture_book({path, "BTCUSDT", 0, 2}, second, why)) << why;
  EXPECT_NE(second.str().find("\"update_id\":8"), std::string::npos) << second.str();
  std::filesystem::remove(path);
}

TEST(CaptureBook, AGapLeavesNoValidBook) {
  std::vector<std::string> messages = {kMessages[2], kMessages[3]};
  messages.push_back(
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000030,"data":{"s":"BTCUSDT","b":[],"a":[["65002.0","1"]],"u":10,"seq":100},"cts":1700000000029})");
  const std::string path = write_capture("-gap.kcap", messages);
  std::ostringstream out;
  std::string why;
  EXPECT_FALSE(write_capture_book({path, "BTCUSDT", 0}, out, why));
  EXPECT_NE(why.find("not valid at the end"), std::string::npos) << why;
  EXPECT_NE(why.find("1 gap(s)"), std::string::npos) << why;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace kinetic::tools
