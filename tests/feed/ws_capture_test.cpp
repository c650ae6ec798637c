#include "kinetic/feed/ws_capture.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kinetic::feed {
namespace {

const std::string kCapturePath =
    std::string(KINETIC_SOURCE_DIR) + "/../shared/data/bybit-ws-v5-cryptofeed/BYBIT.jsonl.zst";

/// A CaptureTrade with its own strings, so it outlives the reader's next call.
struct OwnedTrade {
  std::size_t line = 0;
  std::string category, symbol, price_text, qty_text, trade_id;
  Side side = Side::none;
  Price price{};
  Qty qty{};
  std::int64_t trade_time_ms = 0, recv_time_ns = 0, message_ts_ms = 0;

  explicit OwnedTrade(const CaptureTrade& t)
      : line(t.line),
        category(t.category),
        symbol(t.symbol),
        price_text(t.price_text),
        qty_text(t.qty_text),
        trade_id(t.trade_id),
        side(t.side),
        price(t.price),
        qty(t.qty),
        trade_time_ms(t.trade_time_ms),
        recv_time_ns(t.recv_time_ns),
        message_ts_ms(t.message_ts_ms) {}
  bool operator==(const OwnedTrade&) const = default;
};

std::vector<OwnedTrade> read_all(WsCaptureTradeReader& reader) {
  std::vector<OwnedTrade> trades;
  CaptureTrade trade;
  while (reader.next(trade)) {
    trades.emplace_back(trade);
  }
  return trades;
}

std::string read_file_bytes(const std::string& path) {
  std::string bytes(std::filesystem::file_size(path), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

/// A file under the test temp dir, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(std::string_view stem)
      : path_(std::filesystem::path(::testing::TempDir()) /
              (std::string(stem) + "." + std::to_string(::getpid()))) {}
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  void write(std::string_view bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good());
  }
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

bool capture_present() {
  return std::filesystem::exists(kCapturePath);
}

#define SKIP_WITHOUT_CAPTURE()                               \
  do {                                                       \
    if (!capture_present()) {                                \
      GTEST_SKIP() << "capture not found: " << kCapturePath; \
    }                                                        \
  } while (false)

std::map<std::pair<std::string, std::string>, int> count_by_category_symbol(
    const std::vector<OwnedTrade>& trades) {
  std::map<std::pair<std::string, std::string>, int> counts;
  for (const OwnedTrade& trade : trades) {
    ++counts[{trade.category, trade.symbol}];
  }
  return counts;
}

// ---------------------------------------------------------------------------------------
// The real capture

TEST(WsCaptureRealTest, TradeCountsMatchReadmeTable) {
  SKIP_WITHOUT_CAPTURE();
  WsCaptureTradeReader reader(kCapturePath);
  const std::vector<OwnedTrade> trades = read_all(reader);
  EXPECT_TRUE(reader.compressed());
  const std::map<std::pair<std::string, std::string>, int> expected = {
      {{"linear", "BTCUSDT"}, 56},  {{"linear", "ETHUSDT"}, 23}, {{"linear", "SOLUSDT"}, 165},
      {{"linear", "DOGEUSDT"}, 83}, {{"spot", "BTCUSDT"}, 11},   {{"spot", "ETHUSDT"}, 9},
  };
  EXPECT_EQ(count_by_category_symbol(trades), expected);
  EXPECT_EQ(reader.trades(), 347u);
  EXPECT_EQ(reader.lines(), 3256u);
  EXPECT_EQ(reader.malformed_lines(), 0u);
  EXPECT_EQ(reader.malformed_trades(), 0u);
  // README: 16+12+57+17 linear and 11+7 spot publicTrade messages; 2 connect records.
  EXPECT_EQ(reader.counters().trade_messages, 120u);
  EXPECT_EQ(reader.counters().connect_lines, 2u);
  EXPECT_EQ(reader.counters().other_lines, 3256u - 120u - 2u);
}

TEST(WsCaptureRealTest, FirstLinearBtcTradeHasExactFields) {
  SKIP_WITHOUT_CAPTURE();
  WsCaptureTradeReader reader(kCapturePath, CaptureFilter{"BTCUSDT", "linear"});
  CaptureTrade trade;
  ASSERT_TRUE(reader.next(trade));
  EXPECT_EQ(trade.line, 132u);
  EXPECT_EQ(trade.category, "linear");
  EXPECT_EQ(trade.symbol, "BTCUSDT");
  EXPECT_EQ(trade.side, Side::sell);
  EXPECT_EQ(trade.price_text, "65114.20");
  EXPECT_EQ(trade.qty_text, "0.004");
  EXPECT_EQ(trade.price, Price::from_raw(6'511'420'000'000));
  EXPECT_EQ(trade.qty, Qty::from_raw(400'000));
  EXPECT_EQ(trade.trade_time_ms, 1786310819680);
  EXPECT_EQ(trade.message_ts_ms, 1786310819681);
  EXPECT_EQ(trade.recv_time_ns, 1786310819965676000);  // "ts":1786310819.965676
  EXPECT_EQ(trade.trade_id, "a9188a0a-82bc-50de-be60-03eedbe3cdd7");
}

TEST(WsCaptureRealTest, TradeTimesNonDecreasingPerCategoryAndSymbol) {
  SKIP_WITHOUT_CAPTURE();
  WsCaptureTradeReader reader(kCapturePath);
  std::map<std::pair<std::string, std::string>, std::int64_t> last_time;
  std::map<std::string, std::int64_t> last_recv_ns;  // the capture is in order per connection
  CaptureTrade trade;
  std::size_t checked = 0;
  while (reader.next(trade)) {
    auto [it, inserted] =
        last_time.try_emplace({std::string(trade.category), std::string(trade.symbol)}, 0);
    EXPECT_GE(trade.trade_time_ms, it->second) << "line " << trade.line;
    it->second = trade.trade_time_ms;
    EXPECT_GE(trade.message_ts_ms, trade.trade_time_ms) << "line " << trade.line;
    std::int64_t& last_recv = last_recv_ns[std::string(trade.category)];
    EXPECT_GE(trade.recv_time_ns, last_recv) << "line " << trade.line;
    last_recv = trade.recv_time_ns;
    ++checked;
  }
  EXPECT_EQ(checked, 347u);
  EXPECT_EQ(last_time.size(), 6u);
}

TEST(WsCaptureRealTest, FiltersBySymbolAndCategory) {
  SKIP_WITHOUT_CAPTURE();
  WsCaptureTradeReader spot_eth(kCapturePath, CaptureFilter{"ETHUSDT", "spot"});
  const std::vector<OwnedTrade> trades = read_all(spot_eth);
  ASSERT_EQ(trades.size(), 9u);
  for (const OwnedTrade& trade : trades) {
    EXPECT_EQ(trade.category, "spot");
    EXPECT_EQ(trade.symbol, "ETHUSDT");
  }
  EXPECT_EQ(spot_eth.counters().filtered_messages, 120u - 7u);

  WsCaptureTradeReader all_spot(kCapturePath, CaptureFilter{"", "spot"});
  EXPECT_EQ(read_all(all_spot).size(), 20u);
  WsCaptureTradeReader all_sol(kCapturePath, CaptureFilter{"SOLUSDT", ""});
  EXPECT_EQ(read_all(all_sol).size(), 165u);
  WsCaptureTradeReader none(kCapturePath, CaptureFilter{"", "inverse"});
  EXPECT_TRUE(read_all(none).empty());
}

TEST(WsCaptureRealTest, PlainCopyGivesSameTrades) {
  SKIP_WITHOUT_CAPTURE();
  // Decompress with the line source itself; a line source over the copy must agree.
  TempFile plain("ws_capture_plain.jsonl");
  std::string text;
  {
    CaptureLineSource source = CaptureLineSource::open_file(kCapturePath);
    std::string_view line;
    while (source.next(line)) {
      text.append(line);
      text.push_back('\n');
    }
    EXPECT_TRUE(source.compressed());
    EXPECT_EQ(source.line_number(), 3256u);
  }
  EXPECT_EQ(text.size(), 2'558'843u);  // README: uncompressed size
  plain.write(text);

  WsCaptureTradeReader compressed_reader(kCapturePath);
  WsCaptureTradeReader plain_reader(plain.path());
  const std::vector<OwnedTrade> from_zstd = read_all(compressed_reader);
  const std::vector<OwnedTrade> from_plain = read_all(plain_reader);
  EXPECT_FALSE(plain_reader.compressed());
  ASSERT_EQ(from_plain.size(), 347u);
  EXPECT_TRUE(from_plain == from_zstd);
  EXPECT_EQ(plain_reader.lines(), 3256u);
  EXPECT_EQ(plain_reader.malformed_lines(), 0u);
}

TEST(WsCaptureRealTest, TruncatedZstdThrowsTruncatedError) {
  SKIP_WITHOUT_CAPTURE();
  const std::string bytes = read_file_bytes(kCapturePath);
  ASSERT_GT(bytes.size(), 100'000u);
  for (const std::size_t keep : {std::size_t{6}, std::size_t{100'000}, bytes.size() - 1}) {
    TempFile truncated("ws_capture_truncated.zst");
    truncated.write(std::string_view(bytes).substr(0, keep));
    WsCaptureTradeReader reader(truncated.path());
    CaptureTrade trade;
    try {
      while (reader.next(trade)) {
      }
      ADD_FAILURE() << "no error for a capture cut to " << keep << " bytes";
    } catch (const CaptureError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind(truncated.path() + ": truncated zstd data", 0), 0u) << message;
    }
  }
}

// ---------------------------------------------------------------------------------------
// CaptureLineSource

TEST(CaptureLineSourceTest, MissingFileErrorNamesPathAndReason) {
  const std::string path = "/nonexistent/dir/capture.jsonl.zst";
  try {
    static_cast<void>(CaptureLineSource::open_file(path));
    FAIL() << "no error";
  } catch (const CaptureError& error) {
    EXPECT_EQ(std::string(error.what()), path + ": cannot open: No such file or directory");
  }
  EXPECT_THROW(WsCaptureTradeReader reader(path), CaptureError);
}

TEST(CaptureLineSourceTest, DirectoryIsAReadError) {
  try {
    CaptureLineSource source = CaptureLineSource::open_file(::testing::TempDir());
    std::string_view line;
    while (source.next(line)) {
    }
    FAIL() << "no error";
  } catch (const CaptureError& error) {
    EXPECT_NE(std::string(error.what()).find("Is a directory"), std::string::npos) << error.what();
  }
}

TEST(CaptureLineSourceTest, CorruptZstdReportsZstdError) {
  std::string bytes = "\x28\xB5\x2F\xFD";
  bytes += std::string(64, '\xFF');
  CaptureLineSource source = CaptureLineSource::from_memory(bytes, "bad.zst");
  EXPECT_TRUE(source.compressed());
  std::string_view line;
  try {
    while (source.next(line)) {
    }
    FAIL() << "no error";
  } catch (const CaptureError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("bad.zst: corrupt zstd data: ", 0), 0u) << message;
    EXPECT_GT(message.size(), std::string_view("bad.zst: corrupt zstd data: ").size());
  }
}

TEST(CaptureLineSourceTest, PlainLinesHandleCrLfBlankAndMissingFinalNewline) {
  const std::string_view bytes = "one\r\n\ntwo\nthree";
  CaptureLineSource source = CaptureLineSource::from_memory(bytes);
  EXPECT_FALSE(source.compressed());
  std::vector<std::string> lines;
  std::string_view line;
  while (source.next(line)) {
    lines.emplace_back(line);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "", "two", "three"}));
  EXPECT_EQ(source.line_number(), 4u);
  EXPECT_FALSE(source.next(line));  // stays at the end
}

TEST(CaptureLineSourceTest, EmptyAndShortInputs) {
  std::string_view line;
  CaptureLineSource empty = CaptureLineSource::from_memory("");
  EXPECT_FALSE(empty.next(line));
  CaptureLineSource short_plain = CaptureLineSource::from_memory("\x28\xB5");  // half a magic
  ASSERT_TRUE(short_plain.next(line));
  EXPECT_EQ(line, "\x28\xB5");
  CaptureLineSource magic_only = CaptureLineSource::from_memory("\x28\xB5\x2F\xFD", "m.zst");
  EXPECT_THROW(static_cast<void>(magic_only.next(line)), CaptureError);
}

TEST(CaptureLineSourceTest, EmptyZstdFrameIsACleanEnd) {
  std::string frame(ZSTD_compressBound(0), '\0');
  const std::size_t size = ZSTD_compress(frame.data(), frame.size(), "", 0, 1);
  ASSERT_EQ(ZSTD_isError(size), 0u);
  frame.resize(size);
  CaptureLineSource source = CaptureLineSource::from_memory(frame);
  EXPECT_TRUE(source.compressed());
  std::string_view line;
  EXPECT_FALSE(source.next(line));
  EXPECT_FALSE(source.next(line));
}

TEST(CaptureLineSourceTest, ConcatenatedZstdFramesAndLongLines) {
  // Lines longer than zstd's output chunk and a line split across two frames.
  const std::string long_line(300'000, 'x');
  const std::string first = "alpha\n" + long_line + "\nbe";
  const std::string second = "ta\ngamma\n";
  std::string compressed;
  for (const std::string* part : {&first, &second}) {
    std::string frame(ZSTD_compressBound(part->size()), '\0');
    const std::size_t size =
        ZSTD_compress(frame.data(), frame.size(), part->data(), part->size(), 3);
    ASSERT_EQ(ZSTD_isError(size), 0u);
    compressed.append(frame.data(), size);
  }
  CaptureLineSource source = CaptureLineSource::from_memory(compressed);
  EXPECT_TRUE(source.compressed());
  std::vector<std::string> lines;
  std::string_view line;
  while (source.next(line)) {
    lines.emplace_back(line);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"alpha", long_line, "beta", "gamma"}));
}

// ---------------------------------------------------------------------------------------
// CaptureLineDecoder on hand-written lines

/// Escapes text as the body of a JSON string.
std::string json_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

std::string recv_line(std::string_view conn, std::string_view ts, std::string_view frame) {
  return R"({"t":"recv","conn":")" + std::string(conn) + R"(","ts":)" + std::string(ts) +
         R"(,"data":")" + json_escape(frame) + "\"}";
}

constexpr std::string_view kConnectLinear =
    R"({"t":"connect","conn":"BYBIT.ws.2","ts":1.5,"addr":"wss://stream.bybit.com/v5/public/linear"})";
constexpr std::string_view kConnectSpot =
    R"({"addr":"wss://stream.bybit.com/v5/public/spot","ts":1.6,"conn":"BYBIT.ws.3","t":"connect"})";

const std::string kOneTradeFrame =
    R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1786310819681,"data":[)"
    R"({"T":1786310819680,"s":"BTCUSDT","S":"Sell","v":"0.004","p":"65114.20","L":"MinusTick",)"
    R"("i":"a9188a0a","BT":false,"RPI":false,"seq":753843954913}]})";

CaptureLineDecoder connected_decoder(CaptureFilter filter = {}) {
  CaptureLineDecoder decoder(std::move(filter));
  EXPECT_EQ(decoder.decode(kConnectLinear, 1), CaptureLineKind::connect);
  EXPECT_EQ(decoder.decode(kConnectSpot, 2), CaptureLineKind::connect);
  return decoder;
}

TEST(CaptureLineDecoderTest, DecodesOneTrade) {
  CaptureLineDecoder decoder = connected_decoder();
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1786310819.965676", kOneTradeFrame), 7),
            CaptureLineKind::trades);
  ASSERT_EQ(decoder.trades().size(), 1u);
  const CaptureTrade& trade = decoder.trades()[0];
  EXPECT_EQ(trade.line, 7u);
  EXPECT_EQ(trade.category, "linear");
  EXPECT_EQ(trade.symbol, "BTCUSDT");
  EXPECT_EQ(trade.side, Side::sell);
  EXPECT_EQ(trade.price, Price::from_raw(6'511'420'000'000));
  EXPECT_EQ(trade.qty, Qty::from_raw(400'000));
  EXPECT_EQ(trade.trade_time_ms, 1786310819680);
  EXPECT_EQ(trade.message_ts_ms, 1786310819681);
  EXPECT_EQ(trade.recv_time_ns, 1786310819965676000);
  EXPECT_EQ(trade.trade_id, "a9188a0a");
  EXPECT_EQ(decoder.counters().trades, 1u);
  EXPECT_EQ(decoder.counters().trade_messages, 1u);
}

TEST(CaptureLineDecoderTest, KeyOrderAndUnknownFieldsDoNotMatter) {
  CaptureLineDecoder decoder = connected_decoder();
  // Inner: data before topic and ts, extra fields everywhere; trade keys reversed.
  const std::string frame =
      R"({"data":[{"extra":{"nested":[1,2,{"x":null}]},"i":"id-1","p":"100.5","v":"2",)"
      R"("S":"Buy","s":"ETHUSDT","T":1700000000001}],"unknown":[true],)"
      R"("ts":1700000000002,"type":"snapshot","topic":"publicTrade.ETHUSDT"})";
  const std::string line = R"({"data":")" + json_escape(frame) +
                           R"(","extra":{"a":[1,2]},"ts":1700000000.25,"conn":"BYBIT.ws.3",)"
                           R"("t":"recv"})";
  ASSERT_EQ(decoder.decode(line, 3), CaptureLineKind::trades);
  ASSERT_EQ(decoder.trades().size(), 1u);
  const CaptureTrade& trade = decoder.trades()[0];
  EXPECT_EQ(trade.category, "spot");
  EXPECT_EQ(trade.symbol, "ETHUSDT");
  EXPECT_EQ(trade.side, Side::buy);
  EXPECT_EQ(trade.price_text, "100.5");
  EXPECT_EQ(trade.qty, Qty::from_units(2));
  EXPECT_EQ(trade.trade_time_ms, 1700000000001);
  EXPECT_EQ(trade.message_ts_ms, 1700000000002);
  EXPECT_EQ(trade.recv_time_ns, 1700000000250000000);
  EXPECT_EQ(trade.trade_id, "id-1");
  EXPECT_EQ(decoder.counters().malformed_lines(), 0u);
}

TEST(CaptureLineDecoderTest, YieldsEveryTradeOfABatchInOrder) {
  CaptureLineDecoder decoder = connected_decoder();
  const std::string frame = R"({"topic":"publicTrade.SOLUSDT","ts":30,"data":[)"
                            R"({"T":10,"s":"SOLUSDT","S":"Buy","v":"1","p":"150.1","i":"a"},)"
                            R"({"T":11,"s":"SOLUSDT","S":"Sell","v":"2.5","p":"150.2","i":"b"},)"
                            R"({"T":12,"s":"SOLUSDT","S":"Buy","v":"0.001","p":"150.3","i":"c"}]})";
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "5", frame), 9), CaptureLineKind::trades);
  ASSERT_EQ(decoder.trades().size(), 3u);
  EXPECT_EQ(decoder.trades()[0].trade_id, "a");
  EXPECT_EQ(decoder.trades()[1].trade_id, "b");
  EXPECT_EQ(decoder.trades()[2].trade_id, "c");
  EXPECT_EQ(decoder.trades()[1].side, Side::sell);
  EXPECT_EQ(decoder.trades()[1].qty, Qty::from_raw(250'000'000));
  EXPECT_EQ(decoder.trades()[2].price, Price::from_raw(15'030'000'000));
  EXPECT_EQ(decoder.trades()[2].trade_time_ms, 12);
  EXPECT_EQ(decoder.trades()[0].recv_time_ns, 5'000'000'000);
  EXPECT_EQ(decoder.counters().trades, 3u);

  // The reader hands out all three from the same line, then the next line's.
  const std::string text = std::string(kConnectLinear) + "\n" +
                           recv_line("BYBIT.ws.2", "5", frame) + "\n" +
                           recv_line("BYBIT.ws.2", "6", kOneTradeFrame) + "\n";
  WsCaptureTradeReader reader(CaptureLineSource::from_memory(text));
  const std::vector<OwnedTrade> trades = read_all(reader);
  ASSERT_EQ(trades.size(), 4u);
  EXPECT_EQ(trades[2].trade_id, "c");
  EXPECT_EQ(trades[2].line, 2u);
  EXPECT_EQ(trades[3].symbol, "BTCUSDT");
  EXPECT_EQ(trades[3].line, 3u);
}

TEST(CaptureLineDecoderTest, MalformedInnerJsonIsCountedAndSkipped) {
  CaptureLineDecoder decoder = connected_decoder();
  const std::vector<std::string> bad_frames = {
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,)",  // cut short
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[]} trailing)",
      R"(not json)",
      R"([1,2,3])",
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,"s":"X"]})",  // bad nesting
      "",
  };
  for (const std::string& frame : bad_frames) {
    EXPECT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1", frame), 3), CaptureLineKind::malformed)
        << frame;
    EXPECT_EQ(decoder.last_malformed(), MalformedLine::inner_json) << frame;
    EXPECT_TRUE(decoder.trades().empty());
  }
  EXPECT_EQ(decoder.counters().malformed_lines(MalformedLine::inner_json), bad_frames.size());
  // The decoder carries on with the next good line.
  EXPECT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1", kOneTradeFrame), 4),
            CaptureLineKind::trades);
  EXPECT_EQ(decoder.trades().size(), 1u);
}

TEST(CaptureLineDecoderTest, MalformedOuterJsonIsCounted) {
  CaptureLineDecoder decoder;
  const std::vector<std::string> bad_lines = {
      R"({"t":"recv","conn":"BYBIT.ws.2","ts":1,"data":"{}")",  // no closing brace
      R"({"t":"recv"} {"t":"recv"})",
      R"("just a string")",
      R"({"t":"recv","data":"bad escape \q"})",
      "\x80\x81 not utf-8",
  };
  for (const std::string& line : bad_lines) {
    EXPECT_EQ(decoder.decode(line, 1), CaptureLineKind::malformed) << line;
    EXPECT_EQ(decoder.last_malformed(), MalformedLine::outer_json) << line;
  }
  EXPECT_EQ(decoder.counters().malformed_lines(), bad_lines.size());
}

TEST(CaptureLineDecoderTest, WrongTypesAreCounted) {
  CaptureLineDecoder decoder = connected_decoder();
  // Record fields of the wrong type.
  EXPECT_EQ(decoder.decode(R"({"t":"recv","conn":"BYBIT.ws.2","ts":"1.5","data":"{}"})", 1),
            CaptureLineKind::malformed);
  EXPECT_EQ(decoder.last_malformed(), MalformedLine::record_field);
  EXPECT_EQ(decoder.decode(R"({"t":"recv","conn":"BYBIT.ws.2","ts":1.5,"data":{"a":1}})", 1),
            CaptureLineKind::malformed);
  EXPECT_EQ(decoder.decode(R"({"t":5,"conn":"BYBIT.ws.2"})", 1), CaptureLineKind::malformed);
  EXPECT_EQ(decoder.decode(R"({"t":"connect","conn":"BYBIT.ws.9","addr":7})", 1),
            CaptureLineKind::malformed);
  EXPECT_EQ(decoder.counters().malformed_lines(MalformedLine::record_field), 4u);

  // Frame fields of the wrong type.
  const std::vector<std::string> bad_messages = {
      R"({"topic":"publicTrade.BTCUSDT","ts":"1","data":[]})",
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":{"T":1}})",
      R"({"topic":"publicTrade.BTCUSDT","ts":1})",
      R"({"topic":17,"ts":1,"data":[]})",
  };
  for (const std::string& frame : bad_messages) {
    EXPECT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1", frame), 2), CaptureLineKind::malformed)
        << frame;
    EXPECT_EQ(decoder.last_malformed(), MalformedLine::message_field) << frame;
  }

  // Trade fields of the wrong type: each bad trade is skipped, its good neighbour kept.
  const std::string frame = R"({"topic":"publicTrade.BTCUSDT","ts":9,"data":[)"
                            R"({"T":"1","s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"a"},)"
                            R"({"T":1,"s":"BTCUSDT","S":"Buy","v":1,"p":"1","i":"b"},)"
                            R"({"T":1.5,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"c"},)"
                            R"({"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":null},)"
                            R"("not an object",)"
                            R"({"T":2,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"good"}]})";
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1", frame), 3), CaptureLineKind::trades);
  ASSERT_EQ(decoder.trades().size(), 1u);
  EXPECT_EQ(decoder.trades()[0].trade_id, "good");
  EXPECT_EQ(decoder.counters().malformed_trades(MalformedTrade::wrong_type), 4u);
  EXPECT_EQ(decoder.counters().malformed_trades(MalformedTrade::not_object), 1u);
}

TEST(CaptureLineDecoderTest, MissingFieldsAndBadValuesAreCountedPerKind) {
  CaptureLineDecoder decoder = connected_decoder();
  const std::string frame =
      R"({"topic":"publicTrade.BTCUSDT","ts":9,"data":[)"
      R"({"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"no-T"},)"
      R"({"T":1,"s":"BTCUSDT","S":"Buy","v":"1","i":"no-p"},)"
      R"({"T":1,"s":"BTCUSDT","S":"Hold","v":"1","p":"1","i":"bad-side"},)"
      R"({"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1e5","i":"bad-price"},)"
      R"({"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1.123456789","i":"too-precise"},)"
      R"({"T":1,"s":"BTCUSDT","S":"Buy","v":"","p":"1","i":"bad-qty"},)"
      R"({}]})";
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1", frame), 3), CaptureLineKind::trades);
  EXPECT_TRUE(decoder.trades().empty());
  const CaptureCounters& counters = decoder.counters();
  EXPECT_EQ(counters.malformed_trades(MalformedTrade::missing_field), 3u);
  EXPECT_EQ(counters.malformed_trades(MalformedTrade::bad_side), 1u);
  EXPECT_EQ(counters.malformed_trades(MalformedTrade::bad_price), 2u);
  EXPECT_EQ(counters.malformed_trades(MalformedTrade::bad_qty), 1u);
  EXPECT_EQ(counters.malformed_trades(), 7u);
  EXPECT_EQ(counters.malformed_lines(), 0u);
}

TEST(CaptureLineDecoderTest, NonTradeRecordsAreOtherNotMalformed) {
  CaptureLineDecoder decoder = connected_decoder();
  const std::vector<std::string> lines = {
      R"({"t":"header","format":2,"exchange":"BYBIT"})",
      R"({"t":"send","conn":"BYBIT.ws.2","ts":1.0,"data":"{\"op\":\"subscribe\"}"})",
      R"({"t":"http","conn":"BYBIT.http.1","ts":1.0,"url":"u","data":"{\"retCode\":0}"})",
      recv_line("BYBIT.ws.2", "1.0", R"({"success":true,"ret_msg":"","op":"subscribe"})"),
      recv_line("BYBIT.ws.2", "1.0", R"({"topic":"orderbook.200.BTCUSDT","ts":1,"data":{}})"),
      recv_line("BYBIT.ws.2", "1.0", R"({"topic":"publicTradeX","ts":1,"data":[]})"),
      "",
      "   ",
  };
  for (const std::string& line : lines) {
    EXPECT_EQ(decoder.decode(line, 1), CaptureLineKind::other) << line;
  }
  EXPECT_EQ(decoder.counters().other_lines, lines.size());
  EXPECT_EQ(decoder.counters().malformed_lines(), 0u);
}

TEST(CaptureLineDecoderTest, UnknownConnectionHasEmptyCategoryAndReconnectRemaps) {
  CaptureLineDecoder decoder;
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.7", "1", kOneTradeFrame), 1),
            CaptureLineKind::trades);
  EXPECT_EQ(decoder.trades()[0].category, "");
  ASSERT_EQ(decoder.decode(
                R"({"t":"connect","conn":"BYBIT.ws.7","addr":"wss://x/v5/public/inverse?a=1"})", 2),
            CaptureLineKind::connect);
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.7", "1", kOneTradeFrame), 3),
            CaptureLineKind::trades);
  EXPECT_EQ(decoder.trades()[0].category, "inverse");
  ASSERT_EQ(
      decoder.decode(R"({"t":"connect","conn":"BYBIT.ws.7","addr":"wss://x/v5/public/option"})", 4),
      CaptureLineKind::connect);
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.7", "1", kOneTradeFrame), 5),
            CaptureLineKind::trades);
  EXPECT_EQ(decoder.trades()[0].category, "option");
}

TEST(CaptureLineDecoderTest, FilterSkipsOtherSymbolsAndCategories) {
  CaptureLineDecoder decoder = connected_decoder(CaptureFilter{"BTCUSDT", "spot"});
  EXPECT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1", kOneTradeFrame), 3),
            CaptureLineKind::filtered);  // linear
  EXPECT_EQ(decoder.decode(recv_line("BYBIT.ws.3", "1", kOneTradeFrame), 4),
            CaptureLineKind::trades);
  EXPECT_EQ(decoder.counters().filtered_messages, 1u);
  EXPECT_EQ(decoder.counters().trades, 1u);
}

TEST(CaptureLineDecoderTest, EscapedStringsAreUnescaped) {
  CaptureLineDecoder decoder = connected_decoder();
  // The trade id holds \u0041 and an escaped quote inside the frame, escaped again outside.
  const std::string frame = R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[)"
                            R"({"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"x\u0041\"y"}]})";
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1", frame), 1), CaptureLineKind::trades);
  ASSERT_EQ(decoder.trades().size(), 1u);
  EXPECT_EQ(decoder.trades()[0].trade_id, "xA\"y");
}

TEST(CaptureLineDecoderTest, ExponentTimestampFallsBackToDouble) {
  CaptureLineDecoder decoder = connected_decoder();
  ASSERT_EQ(decoder.decode(recv_line("BYBIT.ws.2", "1.5e3", kOneTradeFrame), 1),
            CaptureLineKind::trades);
  EXPECT_EQ(decoder.trades()[0].recv_time_ns, 1'500'000'000'000);
}

TEST(ParseEpochSecondsTest, ExactFromText) {
  std::int64_t ns = 0;
  ASSERT_TRUE(parse_epoch_seconds_ns("1786310819.965676", ns));
  EXPECT_EQ(ns, 1786310819965676000);
  ASSERT_TRUE(parse_epoch_seconds_ns("1786310819.2235148", ns));
  EXPECT_EQ(ns, 1786310819223514800);
  ASSERT_TRUE(parse_epoch_seconds_ns("1.1234567899", ns));  // 10th digit cut
  EXPECT_EQ(ns, 1'123'456'789);
  ASSERT_TRUE(parse_epoch_seconds_ns("42 ", ns));
  EXPECT_EQ(ns, 42'000'000'000);
  ASSERT_TRUE(parse_epoch_seconds_ns("-0.5", ns));
  EXPECT_EQ(ns, -500'000'000);
  for (const std::string_view bad :
       {"", "-", ".5", "1.", "1e9", "1.5E2", "abc", "9223372037", "9223372036.9", "1.2.3"}) {
    EXPECT_FALSE(parse_epoch_seconds_ns(bad, ns)) << bad;
  }
  ASSERT_TRUE(parse_epoch_seconds_ns("9223372036.854775807", ns));
  EXPECT_EQ(ns, INT64_MAX);
}

}  // namespace
}  // namespace kinetic::feed
