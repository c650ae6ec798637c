// Tests of `kinetic capture trades`: the CSV it writes from the real Bybit capture reads back
// through the price CSV reader with the trades' exact times and prices, and --out is
// all-or-nothing. Tests of `kinetic capture instruments`: the recorded instruments-info
// responses come out byte for byte and feed `kinetic quant size`.
#include "capture.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "atomic_output.hpp"
#include "kinetic/core/config.hpp"
#include "kinetic/feed/capture_file.hpp"
#include "kinetic/feed/instruments_info.hpp"
#include "kinetic/feed/price_csv.hpp"
#include "kinetic/feed/ws_capture.hpp"
#include "quant.hpp"

namespace kinetic::tools {
namespace {

const std::string kCapture =
    std::string(KINETIC_SOURCE_DIR) + "/../shared/data/bybit-ws-v5-cryptofeed/BYBIT.jsonl.zst";

bool have_capture() {
  return std::filesystem::exists(kCapture);
}

TEST(CaptureTrades, LinearBtcTradesReadBackAsAPriceSeries) {
  if (!have_capture())
    GTEST_SKIP() << kCapture << " not present";
  feed::WsCaptureTradeReader reader(kCapture, feed::CaptureFilter{"BTCUSDT", "linear"});
  std::ostringstream csv;
  const CaptureTradesSummary summary = write_capture_trades(reader, csv);
  EXPECT_EQ(summary.trades, 56U);  // the capture README's table
  EXPECT_EQ(summary.malformed_lines, 0U);
  EXPECT_EQ(summary.malformed_trades, 0U);

  const std::string text = csv.str();
  EXPECT_EQ(text.rfind("timestamp,category,symbol,side,size,price,trade_id,recv_ts_ns\n"
                       "1786310819680,linear,BTCUSDT,Sell,0.004,65114.20,"
                       "a9188a0a-82bc-50de-be60-03eedbe3cdd7,1786310819965676000\n",
                       0),
            0U)
      << text.substr(0, 300);

  std::istringstream in(text);
  feed::PriceCsvReader prices = feed::PriceCsvReader::open(in, {});
  EXPECT_EQ(prices.column_name(), "price");
  feed::PriceRow row;
  std::size_t rows = 0;
  std::int64_t previous = 0;
  while (prices.next(row)) {
    EXPECT_EQ(row.timestamp_kind, feed::TimestampKind::epoch_ms);
    EXPECT_GE(row.time_ns, previous);
    EXPECT_GT(row.price, 60000.0);
    previous = row.time_ns;
    ++rows;
  }
  EXPECT_EQ(rows, 56U);
}

TEST(CaptureTrades, FiltersAndTotalsMatchTheCapture) {
  if (!have_capture())
    GTEST_SKIP() << kCapture << " not present";
  feed::WsCaptureTradeReader all(kCapture);
  std::ostringstream sink;
  EXPECT_EQ(write_capture_trades(all, sink).trades, 347U);
  feed::WsCaptureTradeReader spot(kCapture, feed::CaptureFilter{"", "spot"});
  std::ostringstream spot_sink;
  EXPECT_EQ(write_capture_trades(spot, spot_sink).trades, 20U);  // 11 BTCUSDT + 9 ETHUSDT
}

TEST(AtomicOutputFileTest, CommitRenamesAndAbandonLeavesNothing) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kinetic-atomic-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string target = (dir / "out.csv").string();
  {
    AtomicOutputFile output(target);
    output.stream() << "half";
    EXPECT_TRUE(std::filesystem::exists(target + ".tmp"));
    EXPECT_FALSE(std::filesystem::exists(target));
  }  // abandoned: no commit
  EXPECT_FALSE(std::filesystem::exists(target + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(target));
  {
    AtomicOutputFile output(target);
    output.stream() << "whole\n";
    output.commit();
  }
  EXPECT_FALSE(std::filesystem::exists(target + ".tmp"));
  std::ifstream in(target);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "whole");
  EXPECT_THROW(AtomicOutputFile((dir / "missing" / "x.csv").string()), std::runtime_error);
  std::filesystem::remove_all(dir);
}

// --- capture instruments ------------------------------------------------------------------

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A private directory, removed at the end of the test.
class CaptureInstrumentsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           ("capture_instruments_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(CaptureInstrumentsTest, RealCaptureHoldsOneLinearAndOneSpotResponse) {
  if (!have_capture())
    GTEST_SKIP() << kCapture << " not present";
  feed::CaptureLineSource source = feed::CaptureLineSource::open_file(kCapture);
  const CapturedInstrumentsScan scan = scan_capture_instruments(source, "");
  EXPECT_EQ(scan.http_records, 2U);  // the capture README
  EXPECT_EQ(scan.malformed_http_records, 0U);
  ASSERT_EQ(scan.responses.size(), 2U);
  EXPECT_EQ(scan.responses[0].line, 2U);
  EXPECT_EQ(scan.responses[0].category, "linear");
  EXPECT_NE(scan.responses[0].url.find("category=linear"), std::string::npos);
  EXPECT_EQ(scan.responses[1].line, 3U);
  EXPECT_EQ(scan.responses[1].category, "spot");
  // 800 linear and 557 spot entries in the responses; those with 1e-9 ticks or the like are
  // skipped, not fatal.
  const feed::InstrumentsInfo linear =
      feed::parse_instruments_info(scan.responses[0].body, feed::UnrepresentablePolicy::skip);
  EXPECT_EQ(linear.rules.size() + linear.skipped.size(), 800U);
  const feed::InstrumentsInfo spot =
      feed::parse_instruments_info(scan.responses[1].body, feed::UnrepresentablePolicy::skip);
  EXPECT_EQ(spot.rules.size() + spot.skipped.size(), 557U);
  const risk::InstrumentRules* btc = feed::find(linear.rules, "BTCUSDT");
  ASSERT_NE(btc, nullptr);
  EXPECT_EQ(btc->qty_step, Qty::parse("0.001").value());
  EXPECT_EQ(btc->max_market_order_qty, Qty::parse("150").value());

  feed::CaptureLineSource again = feed::CaptureLineSource::open_file(kCapture);
  const CapturedInstrumentsScan spot_only = scan_capture_instruments(again, "spot");
  ASSERT_EQ(spot_only.responses.size(), 1U);
  EXPECT_EQ(spot_only.responses[0].body, scan.responses[1].body);
  EXPECT_EQ(spot_only.other_categories, std::vector<std::string>{"linear"});
}

TEST_F(CaptureInstrumentsTest, LinearResponseFeedsQuantSizeForBtc) {
  if (!have_capture())
    GTEST_SKIP() << kCapture << " not present";
  const std::string linear = path("linear.json");
  EXPECT_EQ(run_capture_instruments({kCapture, "linear", linear}), 0);
  EXPECT_FALSE(std::filesystem::exists(linear + ".tmp"));
  feed::CaptureLineSource source = feed::CaptureLineSource::open_file(kCapture);
  const CapturedInstrumentsScan scan = scan_capture_instruments(source, "linear");
  ASSERT_EQ(scan.responses.size(), 1U);
  EXPECT_EQ(read_whole(linear), scan.responses[0].body + "\n") << "byte for byte";

  quant::QuantOptions options;
  options.command = quant::QuantCommand::size;
  quant::SizeOptions& size = options.size;
  size.instruments = linear;
  size.symbol = "BTCUSDT";
  size.equity = "10000";
  size.entry = "65000";
  size.stop = "64870";
  size.target = "65260";
  size.confidence = 1.0;
  size.win_probability = 0.6;
  size.avg_win = 0.01;
  size.avg_loss = 0.01;
  std::ostringstream out;
  EXPECT_EQ(quant::run_quant_size(options, Config{}, out), 0);
  // The exchange's real BTCUSDT rules (qtyStep 0.001, leverage 1..100 by 0.01) give the same
  // answer as the documentation's example: 2 % of 10000 over a 130 stop.
  EXPECT_EQ(out.str(),
            "{\"qty\": \"1.538\", \"leverage\": \"10\", \"notional\": \"99970\", "
            "\"risk_amount\": \"199.94\", \"bound_by\": \"risk_fraction\", \"accepted\": true, "
            "\"reason\": \"none\"}\n");

  // A market order for 2000 BTC of risk budget stops at the real maxMktOrderQty, 150.
  size.equity = "20000000";
  size.type = OrderType::market;
  std::ostringstream market;
  EXPECT_EQ(quant::run_quant_size(options, Config{}, market), 0);
  EXPECT_EQ(market.str().rfind("{\"qty\": \"150\", ", 0), 0U) << market.str();
  EXPECT_NE(market.str().find("\"bound_by\": \"max_order_qty\""), std::string::npos);
}

TEST_F(CaptureInstrumentsTest, TwoCategoriesWithoutChoiceIsAnErrorAndWritesNothing) {
  if (!have_capture())
    GTEST_SKIP() << kCapture << " not present";
  const std::string out = path("x.json");
  try {
    (void)run_capture_instruments({kCapture, "", out});
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              kCapture +
                  ": 2 instruments-info responses (linear at line 2, spot at line 3): choose "
                  "one with --category");
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
}

// Hand-written capture lines: keys in any order, escapes in data, http records that are not
// instruments-info, broken records, and a frame that merely mentions "http".
const char* const kSyntheticCapture =
    R"({"t":"header","conn":"x","ts":1.0,"format":2})"
    "\n"
    R"({"data":"{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"spot\",\"list\":[]}}","ts":2.5,"url":"https://api.bybit.com/v5/market/instruments-info?category=spot","t":"http","conn":"h"})"
    "\n"
    R"({"t":"http","conn":"h","ts":3.0,"url":"https://api.bybit.com/v5/market/tickers?category=linear","data":"{}"})"
    "\n"
    R"({"t":"http","conn":"h","ts":3.5,"url":5,"data":"{}"})"
    "\n"
    R"({"t":"http","conn":"h","ts":4.0,"url":"https://api.bybit.com/v5/market/instruments-info?status=Trading&category=linear","data":"{\"retCode\":0,\"result\":{\"list\":[]}}"})"
    "\n"
    R"({"t":"send","conn":"w","ts":5.0,"data":"{}","via":"http"})"
    "\n"
    R"({"t":"http", truncated)"
    "\n";

TEST_F(CaptureInstrumentsTest, ScanReadsHttpRecordsInAnyKeyOrderAndCountsBrokenOnes) {
  feed::CaptureLineSource source = feed::CaptureLineSource::from_memory(kSyntheticCapture);
  const CapturedInstrumentsScan scan = scan_capture_instruments(source, "");
  EXPECT_EQ(scan.http_records, 3U);            // spot, tickers, linear
  EXPECT_EQ(scan.malformed_http_records, 2U);  // url not a string; truncated JSON
  ASSERT_EQ(scan.responses.size(), 2U);
  EXPECT_EQ(scan.responses[0].line, 2U);
  EXPECT_EQ(scan.responses[0].category, "spot");
  EXPECT_EQ(scan.responses[0].body,
            R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[]}})");
  EXPECT_EQ(scan.responses[1].line, 5U);
  EXPECT_EQ(scan.responses[1].category, "linear") << "from the url when result has none";

  feed::CaptureLineSource linear_source = feed::CaptureLineSource::from_memory(kSyntheticCapture);
  const CapturedInstrumentsScan linear = scan_capture_instruments(linear_source, "linear");
  ASSERT_EQ(linear.responses.size(), 1U);
  EXPECT_EQ(linear.responses[0].line, 5U);
  EXPECT_EQ(linear.other_categories, std::vector<std::string>{"spot"});
}

TEST_F(CaptureInstrumentsTest, UnusableResponseIsRefusedBeforeWriting) {
  const std::string capture = path("capture.jsonl");
  std::ofstream(capture)
      << R"({"t":"http","conn":"h","ts":1.0,"url":"https://api.bybit.com/v5/market/instruments-info?category=linear","data":"{\"retCode\":10001,\"retMsg\":\"params error\",\"result\":{}}"})"
      << "\n";
  const std::string out = path("linear.json");
  try {
    (void)run_capture_instruments({capture, "linear", out});
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& error) {
    const std::string what = error.what();
    EXPECT_EQ(what.rfind(capture + ": line 1: ", 0), 0U) << what;
    EXPECT_NE(what.find("10001"), std::string::npos) << what;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));

  try {
    (void)run_capture_instruments({capture, "spot", out});
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              capture +
                  ": no instruments-info response of category spot (1 http records, 0 "
                  "malformed; categories present: linear)");
  }
}

TEST(CaptureCli, InstrumentsSubcommandParses) {
  if (!have_capture())
    GTEST_SKIP() << kCapture << " not present";  // the positional must be an existing file
  CLI::App app;
  CaptureTradesOptions trades;
  CaptureInstrumentsOptions instruments;
  const CaptureCommands commands = add_capture_commands(app, trades, instruments);
  std::vector<std::string> args{"capture", "instruments", kCapture,     "--category",
                                "linear",  "--out",       "linear.json"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  EXPECT_TRUE(commands.instruments->parsed());
  EXPECT_FALSE(commands.trades->parsed());
  EXPECT_EQ(instruments.file, kCapture);
  EXPECT_EQ(instruments.category, "linear");
  EXPECT_EQ(instruments.out, "linear.json");

  CLI::App bad;
  CaptureTradesOptions trades2;
  CaptureInstrumentsOptions instruments2;
  (void)add_capture_commands(bad, trades2, instruments2);
  std::vector<std::string> inverse{"capture", "instruments", kCapture, "--category", "option"};
  std::reverse(inverse.begin(), inverse.end());
  EXPECT_THROW(bad.parse(inverse), CLI::ParseError);
}

// --- capture import -----------------------------------------------------------------------

const std::string kData = std::string(KINETIC_SOURCE_DIR) + "/../shared/data";
const std::string kTradesCsv =
    kData + "/bybit-trades-csv-fixture-bbgo/FXSUSDT-ticks-2023-10-10.csv";
const std::string kObZip = kData + "/bybit-orderbook-ob500-xrpusdt-nautilus/xrpusdt-ob500.data.zip";

struct ReadBack {
  std::vector<feed::RecordKind> kinds;
  std::vector<std::uint16_t> streams;
  std::vector<std::int64_t> times;
  std::vector<std::string> payloads;
  std::string source;
};

ReadBack read_capture(const std::string& path) {
  feed::CaptureReader reader = feed::CaptureReader::open(path);
  ReadBack back;
  back.source = reader.header().source;
  feed::CaptureRecord record;
  while (reader.next(record)) {
    back.kinds.push_back(record.kind);
    back.streams.push_back(record.stream);
    back.times.push_back(record.recv_ts_ns);
    back.payloads.emplace_back(record.payload);
  }
  EXPECT_FALSE(reader.torn());
  return back;
}

using CaptureImportTest = CaptureInstrumentsTest;  // a private directory per test

TEST_F(CaptureImportTest, WebSocketJsonLinesCapture) {
  if (!have_capture())
    GTEST_SKIP() << kCapture << " not present";
  const std::string out = path("ws.kcap");
  const CaptureImportSummary summary =
      import_capture({ImportFormat::bybit_ws_jsonl, kCapture, out, false});
  EXPECT_EQ(summary.lines, 3256U);         // the README
  EXPECT_EQ(summary.records, 3227U + 2U);  // recv + connect
  EXPECT_EQ(summary.skipped_lines, 27U);   // header, 2 http, 24 send
  EXPECT_EQ(summary.bytes, std::filesystem::file_size(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
  const ReadBack back = read_capture(out);
  ASSERT_EQ(back.payloads.size(), 3229U);
  EXPECT_EQ(back.kinds[0], feed::RecordKind::connection_opened);  // line 4
  EXPECT_EQ(back.payloads[0], "wss://stream.bybit.com/v5/public/linear");
  EXPECT_EQ(back.times[0], 1786310818223514800);  // "ts":1786310818.2235148, exact
  EXPECT_EQ(back.streams[0], 1);
  EXPECT_EQ(back.kinds[1], feed::RecordKind::text_message);  // line 22, the first recv
  EXPECT_EQ(back.times[1], 1786310819526357000);
  EXPECT_EQ(back.streams[1], 1);
  EXPECT_EQ(back.payloads[1].size(), 777U);  // the frame text, unescaped
  EXPECT_EQ(back.payloads[1].rfind(R"({"topic":"tickers.BTCUSDT","type":"snapshot","data":{)", 0),
            0U);
  const auto spot = std::find(back.payloads.begin(), back.payloads.end(),
                              "wss://stream.bybit.com/v5/public/spot");
  ASSERT_NE(spot, back.payloads.end());
  EXPECT_EQ(back.streams[static_cast<std::size_t>(spot - back.payloads.begin())], 2);
  EXPECT_EQ(std::count(back.kinds.begin(), back.kinds.end(), feed::RecordKind::text_message), 3227);
  // The frames are the ones the JSON-lines reader sees: the same 347 trades inside.
  std::size_t trade_messages = 0;
  for (const std::string& payload : back.payloads)
    trade_messages += payload.rfind(R"({"topic":"publicTrade.)", 0) == 0 ? 1U : 0U;
  EXPECT_EQ(trade_messages, 16U + 12U + 57U + 17U + 11U + 7U);  // the README's table
  EXPECT_EQ(back.source, "kinetic capture import --from bybit-ws-jsonl " + kCapture);
}

TEST_F(CaptureImportTest, TradeCsvBecomesV5TradeMessagesWithExactDecimals) {
  if (!std::filesystem::exists(kTradesCsv))
    GTEST_SKIP() << kTradesCsv << " not present";
  const std::string out = path("trades.kcap");
  const CaptureImportSummary summary =
      import_capture({ImportFormat::bybit_trades_csv, kTradesCsv, out, false});
  EXPECT_EQ(summary.lines, 16U);
  EXPECT_EQ(summary.records, 15U);
  EXPECT_EQ(summary.first_recv_ns, 1696982287492200000);
  EXPECT_EQ(summary.last_recv_ns, 1696982389629700000);
  const ReadBack back = read_capture(out);
  ASSERT_EQ(back.payloads.size(), 15U);
  // 1696982287.4922,FXSUSDT,Sell,0.86,5.2390,ZeroMinusTick,f7496ecb-...,4.50554e+08,0.86,4.50554
  EXPECT_EQ(back.payloads[0],
            R"({"topic":"publicTrade.FXSUSDT","type":"snapshot","ts":1696982287492,"data":[{)"
            R"("T":1696982287492,"s":"FXSUSDT","S":"Sell","v":"0.86","p":"5.2390",)"
            R"("L":"ZeroMinusTick","i":"f7496ecb-b174-51b9-ba56-150186ba6c27","BT":false}]})");
  EXPECT_EQ(back.times[0], 1696982287492200000);
  EXPECT_EQ(back.kinds[0], feed::RecordKind::text_message);
  // The trailing zero of 5.2495 style prices survives (never through double).
  EXPECT_NE(back.payloads[14].find(R"("v":"6.04","p":"5.2495")"), std::string::npos)
      << back.payloads[14];
}

TEST_F(CaptureImportTest, TradeCsvGzipAndDecimalTextKeptExactly) {
  // Bybit publishes the archive gzipped (SYMBOLdate.csv.gz): read it as it comes.
  const std::string csv = path("t.csv.gz");
  const std::string text =
      "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,"
      "foreignNotional,RPI\n"
      "1735689600.0974,BTCUSDT,Buy,0.00100000,93512.40,PlusTick,abc-1,1e+08,0.001,93.5,0\n"
      "1735689600.1,BTCUSDT,Sell,12345678901234567890.123456789012,0.000000001,"
      "MinusTick,abc-2,1,1,1,1\n";
  gzFile gz = gzopen(csv.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
  const std::string out = path("t.kcap");
  (void)import_capture({ImportFormat::bybit_trades_csv, csv, out, false});
  const ReadBack back = read_capture(out);
  ASSERT_EQ(back.payloads.size(), 2U);
  EXPECT_NE(back.payloads[0].find(R"("ts":1735689600097,)"), std::string::npos);
  EXPECT_NE(back.payloads[0].find(R"("v":"0.00100000","p":"93512.40")"), std::string::npos);
  EXPECT_EQ(back.times[0], 1735689600097400000);
  EXPECT_NE(back.payloads[1].find(R"("v":"12345678901234567890.123456789012","p":"0.000000001")"),
            std::string::npos);
  EXPECT_EQ(back.times[1], 1735689600100000000);
}

TEST_F(CaptureImportTest, OrderBookHistoryZip) {
  if (!std::filesystem::exists(kObZip))
    GTEST_SKIP() << kObZip << " not present";
  const std::string out = path("ob.kcap");
  const CaptureImportSummary summary =
      import_capture({ImportFormat::bybit_ob_history, kObZip, out, false});
  EXPECT_EQ(summary.lines, 50U);
  EXPECT_EQ(summary.records, 50U);
  EXPECT_EQ(summary.first_recv_ns, 1733011200691000000);
  EXPECT_EQ(summary.last_recv_ns, 1733011205490000000);
  const ReadBack back = read_capture(out);
  ASSERT_EQ(back.payloads.size(), 50U);
  EXPECT_EQ(back.times[0], 1733011200691000000);
  // The whole first line, byte for byte, without its CR LF (the file has DOS line ends).
  EXPECT_EQ(back.payloads[0].size(), 18065U);
  EXPECT_EQ(back.payloads[0].back(), '}');
  EXPECT_EQ(back.payloads[0].rfind(
                R"({"topic":"orderbook.500.XRPUSDT","type":"snapshot","ts":1733011200691,)", 0),
            0U);
  EXPECT_NE(back.payloads[49].find(R"("type":"delta","ts":1733011205490,)"), std::string::npos);
}

TEST_F(CaptureImportTest, BadInputNamesTheLineAndWritesNothing) {
  const std::string csv = path("bad.csv");
  {
    std::ofstream out(csv);
    out << "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,"
           "foreignNotional\n"
           "1735689600.0974,BTCUSDT,Buy,0.001,93512.40,PlusTick,abc-1,1,1,1\n"
           "1735689600.0975,BTCUSDT,Buy,1e-3,93512.40,PlusTick,abc-2,1,1,1\n";
  }
  const std::string out = path("bad.kcap");
  try {
    (void)import_capture({ImportFormat::bybit_trades_csv, csv, out, false});
    FAIL() << "bad size accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), csv + ":3: bad size \"1e-3\"");
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));

  const std::string jsonl = path("bad.jsonl");
  {
    std::ofstream file(jsonl);
    file << R"({"t":"connect","conn":"c","ts":1.5,"addr":"wss://x"})"
         << "\n"
         << R"({"t":"recv","conn":"c","ts":2.25})"
         << "\n";
  }
  try {
    (void)import_capture({ImportFormat::bybit_ws_jsonl, jsonl, out, false});
    FAIL() << "recv without data accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), jsonl + ":2: recv record without a string \"data\"");
  }
  const std::string ob = path("bad.data");
  {
    std::ofstream file(ob);
    file << R"({"topic":"orderbook.1.X","ts":1,"data":{}})"
         << "\n\n{\"topic\":\n";
  }
  try {
    (void)import_capture({ImportFormat::bybit_ob_history, ob, out, false});
    FAIL() << "broken JSON accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), ob + ":3: not a JSON object");
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(CaptureCli, ImportSubcommandParsesAndRuns) {
  if (!std::filesystem::exists(kObZip))
    GTEST_SKIP() << kObZip << " not present";
  const std::string out =
      testing::TempDir() + "capture_cli_import_" + std::to_string(::getpid()) + ".kcap";
  CLI::App app;
  CaptureTradesOptions trades;
  CaptureInstrumentsOptions instruments;
  const CaptureCommands commands = add_capture_commands(app, trades, instruments);
  std::vector<std::string> args{"capture", "import", "--from",       "bybit-ob-history",
                                kObZip,    out,      "--no-progress"};
  std::reverse(args.begin(), args.end());
  app.parse(args);  // the callback runs the import
  EXPECT_TRUE(commands.import->parsed());
  EXPECT_FALSE(commands.trades->parsed());
  EXPECT_EQ(read_capture(out).payloads.size(), 50U);
  std::filesystem::remove(out);

  CLI::App bad;
  CaptureTradesOptions trades2;
  CaptureInstrumentsOptions instruments2;
  (void)add_capture_commands(bad, trades2, instruments2);
  std::vector<std::string> unknown{"capture", "import", "--from", "binance", kObZip, out};
  std::reverse(unknown.begin(), unknown.end());
  EXPECT_THROW(bad.parse(unknown), CLI::ParseError);
}
}  // namespace
}  // namespace kinetic::tools
