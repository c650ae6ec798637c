// Order books rebuilt from real recorded Bybit data — every orderbook message of the
// cryptofeed WebSocket capture and of Bybit's ob500 history sample — decoded by BybitDecoder
// and applied to OrderBook, compared at every step with a plain reference book (two
// std::maps) written here, level by level.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "kinetic/feed/bybit_decoder.hpp"
#include "kinetic/feed/order_book.hpp"
#include "kinetic/feed/symbol_table.hpp"
#include "kinetic/feed/ws_capture.hpp"
#include "kinetic/feed/zip_member.hpp"

namespace kinetic::feed {
namespace {

const std::string kData = std::string(KINETIC_SOURCE_DIR) + "/../shared/data";

/// The plainest possible book: a snapshot replaces both sides, a delta sets absolute sizes
/// and a zero size deletes.
struct ReferenceBook {
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;

  void apply(std::span<const MarketEvent> events) {
    if ((events.front().flags & kFlagSnapshot) != 0) {
      bids.clear();
      asks.clear();
    }
    for (const MarketEvent& e : events) {
      if (e.side == Side::none)
        continue;
      const std::int64_t price = e.level.price.raw();
      const std::int64_t qty = e.level.qty.raw();
      if (e.side == Side::buy) {
        if (qty == 0)
          bids.erase(price);
        else
          bids[price] = qty;
      } else {
        if (qty == 0)
          asks.erase(price);
        else
          asks[price] = qty;
      }
    }
  }
};

template <class Map>
::testing::AssertionResult same_side(const Map& reference, std::span<const BookLevel> levels,
                                     const char* side, std::size_t message) {
  if (reference.size() != levels.size())
    return ::testing::AssertionFailure() << side << " depth " << levels.size() << " vs reference "
                                         << reference.size() << " at message " << message;
  std::size_t i = 0;
  for (const auto& [price, qty] : reference) {
    if (levels[i].price.raw() != price || levels[i].qty.raw() != qty)
      return ::testing::AssertionFailure()
             << side << " level " << i << " differs at message " << message;
    ++i;
  }
  return ::testing::AssertionSuccess();
}

/// One book and its reference per (connection, symbol, depth) stream.
struct Streams {
  struct Stream {
    std::unique_ptr<OrderBook> book;
    ReferenceBook reference;
  };
  std::map<std::tuple<std::string, SymbolId, std::uint16_t>, Stream> streams;
  std::size_t messages = 0;
  std::size_t snapshots = 0;
  std::size_t compared_levels = 0;

  void apply(const std::string& connection, std::span<const MarketEvent> events) {
    Stream& stream = streams[{connection, events.front().symbol, events.front().aux}];
    if (!stream.book)
      stream.book = std::make_unique<OrderBook>(1000, events.front().symbol);
    const BookStatus status = stream.book->apply(events);
    ASSERT_EQ(status, BookStatus::ok) << to_string(status) << " at message " << messages;
    stream.reference.apply(events);
    ++messages;
    snapshots += (events.front().flags & kFlagSnapshot) != 0 ? 1U : 0U;
    ASSERT_TRUE(same_side(stream.reference.bids, stream.book->bids(), "bid", messages));
    ASSERT_TRUE(same_side(stream.reference.asks, stream.book->asks(), "ask", messages));
    compared_levels += stream.book->bid_depth() + stream.book->ask_depth();
  }
};

TEST(BookRealData, CryptofeedCaptureBooksMatchTheReferenceAtEveryStep) {
  const std::string path = kData + "/bybit-ws-v5-cryptofeed/BYBIT.jsonl.zst";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " is not here";
  auto source = CaptureLineSource::open_file(path);
  SymbolTable symbols(256);
  BybitDecoder decoder(symbols);
  std::vector<MarketEvent> events(BybitDecoder::kRecommendedEventCapacity);
  simdjson::ondemand::parser line_parser;
  Streams streams;
  std::string_view line;
  while (source.next(line)) {
    const simdjson::padded_string padded_line(line);
    simdjson::ondemand::document record;
    std::string_view t;
    std::string_view connection;
    std::string_view data;
    if (line_parser.iterate(padded_line).get(record) != simdjson::SUCCESS ||
        record["t"].get_string().get(t) != simdjson::SUCCESS || t != "recv" ||
        record["conn"].get_string().get(connection) != simdjson::SUCCESS)
      continue;
    const std::string conn(connection);
    if (record["data"].get_string().get(data) != simdjson::SUCCESS)
      continue;
    const simdjson::padded_string message(data);
    const DecodeResult result = decoder.decode(message, 0, std::span(events));
    ASSERT_NE(result.status, DecodeStatus::malformed);
    if (!result.is_data() || events.front().type != MarketEventType::book_level)
      continue;
    streams.apply(conn, std::span<const MarketEvent>(events.data(), result.events));
    if (::testing::Test::HasFatalFailure())
      return;
  }
  EXPECT_EQ(streams.messages, 2148u);  // every orderbook message of the capture (README)
  EXPECT_GE(streams.snapshots, streams.streams.size());
  EXPECT_GT(streams.compared_levels, 100'000u);
}

TEST(BookRealData, Ob500HistoryBookMatchesTheReferenceAtEveryStep) {
  const std::string path = kData + "/bybit-orderbook-ob500-xrpusdt-nautilus/xrpusdt-ob500.data.zip";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " is not here";
  ZipMember zip = ZipMember::open(path);
  SymbolTable symbols(16);
  BybitDecoder decoder(symbols);
  std::vector<MarketEvent> events(BybitDecoder::kRecommendedEventCapacity);
  Streams streams;
  std::string_view line;
  while (zip.next_line(line)) {
    const simdjson::padded_string message(line);
    const DecodeResult result = decoder.decode(message, 0, std::span(events));
    ASSERT_TRUE(result.is_data()) << to_string(result.status) << " line " << zip.line_number();
    streams.apply("history", std::span<const MarketEvent>(events.data(), result.events));
    if (::testing::Test::HasFatalFailure())
      return;
  }
  EXPECT_EQ(streams.messages, 50u);  // README: 1 snapshot + 49 deltas, u contiguous
  EXPECT_EQ(streams.snapshots, 1u);
  const OrderBook& book = *streams.streams.begin()->second.book;
  EXPECT_EQ(book.update_id(), 20254918u);  // README: u 20254869 → 20254918
  EXPECT_GE(book.bid_depth(), 400u);
  EXPECT_FALSE(book.crossed());
}

}  // namespace
}  // namespace kinetic::feed
