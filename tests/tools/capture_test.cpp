// Tests of `kinetic capture trades`: the CSV it writes from the real Bybit capture reads back
// through the price CSV reader with the trades' exact times and prices, and --out is
// all-or-nothing.
#include "capture.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "atomic_output.hpp"
#include "kinetic/feed/price_csv.hpp"
#include "kinetic/feed/ws_capture.hpp"

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

}  // namespace
}  // namespace kinetic::tools
