// OrderBook: snapshots and deltas (insert, update, delete at the top, middle and bottom),
// continuity of `u` (gaps, u = 1 restarts, level-1 re-sends, stale messages), malformed
// messages, overflow, every query with hand-computed values, a randomized comparison against a
// std::map reference, and no allocation after construction.
#include "kinetic/feed/order_book.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "alloc_counter.hpp"

namespace kinetic::feed {
namespace {

constexpr SymbolId kSymbol = 7;
constexpr std::uint16_t kDepth = 50;

using Levels = std::vector<std::pair<std::string_view, std::string_view>>;  // (price, size)

Price price(std::string_view text) {
  const auto parsed = Price::parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.value_or(Price{});
}
Qty qty(std::string_view text) {
  const auto parsed = Qty::parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.value_or(Qty{});
}

/// Where the events of a test message differ from the decoder's defaults.
struct MessageOptions {
  std::uint16_t depth = kDepth;
  SymbolId symbol = kSymbol;
  std::uint64_t sequence = 0;  ///< 0: u * 10
  TimestampNs exch_ts = 0;     ///< 0: u * 1000
};

/// One level of a message already in fixed point (the randomized test builds these directly).
struct RawLevel {
  Side side;
  Price price;
  Qty qty;
};

/// The events the decoder makes of one orderbook message: one book_level event per level
/// (bids first, then asks), all carrying u, seq and the depth; kFlagSnapshot on each event of
/// a snapshot, begin/end of batch on the first/last; a message with no level is one event with
/// side none, price 0, qty 0.
std::vector<MarketEvent> make_events(bool snapshot, std::uint64_t update_id,
                                     const std::vector<RawLevel>& levels,
                                     const MessageOptions& options = {}) {
  std::vector<MarketEvent> events;
  const auto add = [&](Side side, Price level_price, Qty level_qty) {
    MarketEvent event{};
    event.recv_ts = static_cast<TimestampNs>(update_id) * 1000 + 5;
    event.exch_ts =
        options.exch_ts != 0 ? options.exch_ts : static_cast<TimestampNs>(update_id) * 1000;
    event.symbol = options.symbol;
    event.type = MarketEventType::book_level;
    event.side = side;
    event.flags = snapshot ? kFlagSnapshot : kFlagNone;
    event.aux = options.depth;
    event.level.price = level_price;
    event.level.qty = level_qty;
    event.level.update_id = update_id;
    event.level.sequence = options.sequence != 0 ? options.sequence : update_id * 10;
    events.push_back(event);
  };
  for (const RawLevel& level : levels)
    add(level.side, level.price, level.qty);
  if (events.empty())
    add(Side::none, Price{}, Qty{});
  events.front().flags |= kFlagBeginOfBatch;
  events.back().flags |= kFlagEndOfBatch;
  return events;
}

/// The test helper of the brief: the events of one message from (snapshot?, u, bids, asks)
/// given as decimal strings, in the order given.
std::vector<MarketEvent> message(bool snapshot, std::uint64_t update_id, const Levels& bids,
                                 const Levels& asks, const MessageOptions& options = {}) {
  std::vector<RawLevel> levels;
  for (const auto& [p, q] : bids)
    levels.push_back({Side::buy, price(p), qty(q)});
  for (const auto& [p, q] : asks)
    levels.push_back({Side::sell, price(p), qty(q)});
  return make_events(snapshot, update_id, levels, options);
}
std::vector<MarketEvent> snapshot(std::uint64_t update_id, const Levels& bids, const Levels& asks,
                                  const MessageOptions& options = {}) {
  return message(true, update_id, bids, asks, options);
}
std::vector<MarketEvent> delta(std::uint64_t update_id, const Levels& bids, const Levels& asks,
                               const MessageOptions& options = {}) {
  return message(false, update_id, bids, asks, options);
}

std::vector<BookLevel> levels_of(const Levels& expected) {
  std::vector<BookLevel> result;
  for (const auto& [p, q] : expected)
    result.push_back({price(p), qty(q)});
  return result;
}
std::vector<BookLevel> levels_of(std::span<const BookLevel> side) {
  return {side.begin(), side.end()};
}

// A five-level book either side, used by most tests.
const Levels kBids = {{"100", "1"}, {"99", "2"}, {"98", "3"}, {"97", "4"}, {"96", "5"}};
const Levels kAsks = {{"101", "1"}, {"102", "2"}, {"103", "3"}, {"104", "4"}, {"105", "5"}};

OrderBook book_with_snapshot(std::uint64_t update_id = 100, std::size_t capacity = 16) {
  OrderBook book(capacity, kSymbol);
  EXPECT_EQ(book.apply(snapshot(update_id, kBids, kAsks)), BookStatus::ok);
  return book;
}

TEST(OrderBook, SnapshotFillsBothSidesBestFirst) {
  const OrderBook book = book_with_snapshot();
  EXPECT_TRUE(book.valid());
  EXPECT_EQ(levels_of(book.bids()), levels_of(kBids));
  EXPECT_EQ(levels_of(book.asks()), levels_of(kAsks));
  EXPECT_EQ(book.update_id(), 100u);
  EXPECT_EQ(book.sequence(), 1000u);
  EXPECT_EQ(book.exch_ts(), 100'000);
  EXPECT_EQ(book.recv_ts(), 100'005);
  EXPECT_EQ(book.stream_depth(), kDepth);
  EXPECT_FALSE(book.crossed());
}

TEST(OrderBook, SnapshotInAnyOrderIsSorted) {
  OrderBook book(16, kSymbol);
  ASSERT_EQ(book.apply(snapshot(3, {{"97", "4"}, {"100", "1"}, {"96", "5"}, {"99", "2"}},
                                {{"105", "5"}, {"101", "1"}, {"103", "3"}})),
            BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()),
            levels_of({{"100", "1"}, {"99", "2"}, {"97", "4"}, {"96", "5"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"101", "1"}, {"103", "3"}, {"105", "5"}}));
}

TEST(OrderBook, SnapshotReplacesTheWholeBook) {
  OrderBook book = book_with_snapshot();
  ASSERT_EQ(book.apply(snapshot(150, {{"90", "7"}}, {{"91", "8"}, {"92", "9"}})), BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"90", "7"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"91", "8"}, {"92", "9"}}));
  EXPECT_EQ(book.update_id(), 150u);
}

TEST(OrderBook, DeltaUpdatesTopMiddleAndBottom) {
  OrderBook book = book_with_snapshot();
  ASSERT_EQ(book.apply(delta(101, {{"100", "1.5"}, {"98", "0.25"}, {"96", "9"}},
                             {{"101", "0.1"}, {"103", "30"}, {"105", "0.00000001"}})),
            BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()),
            levels_of({{"100", "1.5"}, {"99", "2"}, {"98", "0.25"}, {"97", "4"}, {"96", "9"}}));
  EXPECT_EQ(
      levels_of(book.asks()),
      levels_of(
          {{"101", "0.1"}, {"102", "2"}, {"103", "30"}, {"104", "4"}, {"105", "0.00000001"}}));
  EXPECT_EQ(book.update_id(), 101u);
  EXPECT_EQ(book.sequence(), 1010u);
}

TEST(OrderBook, DeltaInsertsAtTopMiddleAndBottom) {
  OrderBook book = book_with_snapshot();
  ASSERT_EQ(book.apply(delta(101, {{"100.5", "7"}, {"97.5", "8"}, {"95", "9"}},
                             {{"100.9", "7"}, {"103.5", "8"}, {"110", "9"}})),
            BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"100.5", "7"},
                                               {"100", "1"},
                                               {"99", "2"},
                                               {"98", "3"},
                                               {"97.5", "8"},
                                               {"97", "4"},
                                               {"96", "5"},
                                               {"95", "9"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"100.9", "7"},
                                               {"101", "1"},
                                               {"102", "2"},
                                               {"103", "3"},
                                               {"103.5", "8"},
                                               {"104", "4"},
                                               {"105", "5"},
                                               {"110", "9"}}));
}

TEST(OrderBook, DeltaDeletesAtTopMiddleAndBottom) {
  OrderBook book = book_with_snapshot();
  ASSERT_EQ(book.apply(delta(101, {{"100", "0"}, {"98", "0"}, {"96", "0"}},
                             {{"101", "0"}, {"103", "0"}, {"105", "0"}})),
            BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"99", "2"}, {"97", "4"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"102", "2"}, {"104", "4"}}));
  // Deleting everything that is left empties the sides.
  ASSERT_EQ(book.apply(delta(102, {{"99", "0"}, {"97", "0"}}, {{"102", "0"}, {"104", "0"}})),
            BookStatus::ok);
  EXPECT_EQ(book.bid_depth(), 0u);
  EXPECT_EQ(book.ask_depth(), 0u);
  EXPECT_TRUE(book.valid());
}

TEST(OrderBook, ATrendingBookKeepsItsLevelsAsTheWindowDrifts) {
  // Each delta adds a level above the top and removes the bottom one (a rising market), then
  // the reverse (a falling one). The levels drift toward one end of the side's buffer, which
  // must re-centre them without losing or reordering any; the buffer holds 2 × 8 + 2 levels,
  // so 40 steps each way re-centre several times.
  OrderBook book(8, kSymbol);
  ASSERT_EQ(book.apply(make_events(true, 1,
                                   {{Side::buy, Price::from_units(100), Qty::from_units(1)},
                                    {Side::buy, Price::from_units(99), Qty::from_units(1)},
                                    {Side::buy, Price::from_units(98), Qty::from_units(1)},
                                    {Side::buy, Price::from_units(97), Qty::from_units(1)}})),
            BookStatus::ok);
  std::uint64_t u = 1;
  std::int64_t top = 100;
  const auto expect_four_from = [&](std::int64_t best) {
    ASSERT_EQ(book.bid_depth(), 4u);
    for (std::size_t i = 0; i < 4; ++i)
      EXPECT_EQ(book.bid(i).price, Price::from_units(best - static_cast<std::int64_t>(i)))
          << "u " << u << " level " << i;
  };
  for (int step = 0; step < 40; ++step, ++top) {
    ASSERT_EQ(book.apply(make_events(false, ++u,
                                     {{Side::buy, Price::from_units(top + 1), Qty::from_units(1)},
                                      {Side::buy, Price::from_units(top - 3), Qty{}}})),
              BookStatus::ok);
    expect_four_from(top + 1);
  }
  for (int step = 0; step < 40; ++step, --top) {
    ASSERT_EQ(
        book.apply(make_events(false, ++u,
                               {{Side::buy, Price::from_units(top), Qty{}},
                                {Side::buy, Price::from_units(top - 4), Qty::from_units(1)}})),
        BookStatus::ok);
    expect_four_from(top - 1);
  }
}

TEST(OrderBook, DeletingAnAbsentLevelIsHarmless) {
  OrderBook book = book_with_snapshot();
  ASSERT_EQ(book.apply(delta(101, {{"100.5", "0"}, {"98.5", "0"}, {"1", "0"}},
                             {{"100.5", "0"}, {"200", "0"}})),
            BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()), levels_of(kBids));
  EXPECT_EQ(levels_of(book.asks()), levels_of(kAsks));
  EXPECT_EQ(book.update_id(), 101u);

  OrderBook empty(4, kSymbol);
  ASSERT_EQ(empty.apply(snapshot(1, {}, {})), BookStatus::ok);
  ASSERT_EQ(empty.apply(delta(2, {{"5", "0"}}, {{"6", "0"}})), BookStatus::ok);
  EXPECT_EQ(empty.bid_depth(), 0u);
  EXPECT_EQ(empty.ask_depth(), 0u);
}

TEST(OrderBook, LaterLevelOfTheSamePriceInOneMessageWins) {
  OrderBook book = book_with_snapshot();
  ASSERT_EQ(book.apply(delta(101, {{"99", "0"}, {"99", "6"}, {"95", "1"}, {"95", "0"}}, {})),
            BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()),
            levels_of({{"100", "1"}, {"99", "6"}, {"98", "3"}, {"97", "4"}, {"96", "5"}}));
}

TEST(OrderBook, CrossedInputKeepsEachSideSorted) {
  OrderBook book = book_with_snapshot();
  // A bid above the best ask and an ask below the best bid: never sent by the exchange, but it
  // must not corrupt the arrays; crossed() tells.
  ASSERT_EQ(book.apply(delta(101, {{"102.5", "1"}}, {{"99.5", "2"}})), BookStatus::ok);
  EXPECT_TRUE(book.crossed());
  EXPECT_EQ(
      levels_of(book.bids()),
      levels_of(
          {{"102.5", "1"}, {"100", "1"}, {"99", "2"}, {"98", "3"}, {"97", "4"}, {"96", "5"}}));
  EXPECT_EQ(
      levels_of(book.asks()),
      levels_of(
          {{"99.5", "2"}, {"101", "1"}, {"102", "2"}, {"103", "3"}, {"104", "4"}, {"105", "5"}}));
  ASSERT_EQ(book.apply(delta(102, {{"102.5", "0"}}, {{"99.5", "0"}})), BookStatus::ok);
  EXPECT_FALSE(book.crossed());
  EXPECT_EQ(levels_of(book.bids()), levels_of(kBids));
  EXPECT_EQ(levels_of(book.asks()), levels_of(kAsks));
}

TEST(OrderBook, SnapshotWithUpdateIdOneResets) {
  OrderBook book = book_with_snapshot(500);
  ASSERT_EQ(book.apply(delta(501, {{"100", "3"}}, {})), BookStatus::ok);
  // The service restarted: u = 1 is taken although it is older.
  ASSERT_EQ(book.apply(snapshot(1, {{"50", "1"}}, {{"51", "1"}})), BookStatus::ok);
  EXPECT_EQ(book.update_id(), 1u);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"50", "1"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"51", "1"}}));
  // Continuity restarts from 1.
  EXPECT_EQ(book.apply(delta(2, {{"49", "2"}}, {})), BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"50", "1"}, {"49", "2"}}));
  EXPECT_EQ(book.apply(delta(501, {{"49", "3"}}, {})), BookStatus::resync_needed);
}

TEST(OrderBook, DeltaWithUpdateIdOneNeedsResync) {
  // u = 1 only comes with a snapshot after a restart; a delta with it means we missed that.
  OrderBook book = book_with_snapshot(500);
  EXPECT_EQ(book.apply(delta(1, {{"100", "3"}}, {})), BookStatus::resync_needed);
  EXPECT_FALSE(book.valid());
  EXPECT_EQ(levels_of(book.bids()), levels_of(kBids));
}

TEST(OrderBook, GapNeedsResyncAndDeltasAreIgnoredUntilASnapshot) {
  OrderBook book = book_with_snapshot(100);
  EXPECT_EQ(book.apply(delta(102, {{"100", "9"}}, {})), BookStatus::resync_needed);
  EXPECT_FALSE(book.valid());
  EXPECT_EQ(book.update_id(), 100u);
  EXPECT_EQ(book.apply(delta(103, {{"100", "9"}}, {})), BookStatus::resync_needed);
  EXPECT_EQ(book.apply(delta(101, {{"100", "9"}}, {})), BookStatus::resync_needed);
  EXPECT_EQ(levels_of(book.bids()), levels_of(kBids));  // untouched
  EXPECT_EQ(book.update_id(), 100u);
  // Any snapshot is taken while invalid, even one not newer.
  ASSERT_EQ(book.apply(snapshot(90, {{"10", "1"}}, {})), BookStatus::ok);
  EXPECT_TRUE(book.valid());
  EXPECT_EQ(book.update_id(), 90u);
  EXPECT_EQ(book.apply(delta(91, {{"10", "2"}}, {})), BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"10", "2"}}));
}

TEST(OrderBook, DeltaBeforeAnySnapshotNeedsResync) {
  OrderBook book(8, kSymbol);
  EXPECT_FALSE(book.valid());
  EXPECT_EQ(book.apply(delta(5, {{"100", "1"}}, {})), BookStatus::resync_needed);
  EXPECT_EQ(book.bid_depth(), 0u);
  EXPECT_EQ(book.update_id(), 0u);
}

TEST(OrderBook, InvalidateRefusesDeltasUntilASnapshot) {
  OrderBook book = book_with_snapshot(100);
  book.invalidate();
  EXPECT_FALSE(book.valid());
  EXPECT_EQ(book.apply(delta(101, {{"100", "9"}}, {})), BookStatus::resync_needed);
  EXPECT_EQ(book.apply(snapshot(100, kBids, {})), BookStatus::ok);  // same u, but taken
  EXPECT_EQ(book.ask_depth(), 0u);
}

TEST(OrderBook, LevelOneSnapshotResentWithTheSameUpdateIdIsDuplicate) {
  const MessageOptions level_one{.depth = 1};
  OrderBook book(1, kSymbol);
  ASSERT_EQ(book.apply(snapshot(7, {{"100", "1"}}, {{"101", "2"}}, level_one)), BookStatus::ok);
  // 3 s later the same book is re-sent with the same u (a later ts): not a gap, no change.
  EXPECT_EQ(book.apply(snapshot(7, {{"100", "1"}}, {{"101", "2"}},
                                {.depth = 1, .sequence = 99, .exch_ts = 3'000'000})),
            BookStatus::duplicate);
  EXPECT_TRUE(book.valid());
  EXPECT_EQ(book.update_id(), 7u);
  EXPECT_EQ(book.sequence(), 70u);
  EXPECT_EQ(book.exch_ts(), 7000);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"100", "1"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"101", "2"}}));
  // The next change comes as a snapshot with the next u.
  ASSERT_EQ(book.apply(snapshot(8, {{"100.5", "3"}}, {{"101", "2"}}, level_one)), BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"100.5", "3"}}));
  EXPECT_EQ(book.stream_depth(), 1u);
}

TEST(OrderBook, StaleMessagesAreDuplicatesAndChangeNothing) {
  OrderBook book = book_with_snapshot(100);
  ASSERT_EQ(book.apply(delta(101, {{"100", "9"}}, {})), BookStatus::ok);
  EXPECT_EQ(book.apply(delta(101, {{"100", "8"}}, {})), BookStatus::duplicate);
  EXPECT_EQ(book.apply(delta(50, {{"100", "8"}}, {})), BookStatus::duplicate);
  EXPECT_EQ(book.apply(snapshot(99, {{"1", "1"}}, {})), BookStatus::duplicate);
  EXPECT_TRUE(book.valid());
  EXPECT_EQ(book.update_id(), 101u);
  EXPECT_EQ(book.bid(0), (BookLevel{price("100"), qty("9")}));
  EXPECT_EQ(book.bid_depth(), 5u);
  EXPECT_EQ(book.apply(delta(102, {{"100", "8"}}, {})), BookStatus::ok);
  EXPECT_EQ(book.bid(0), (BookLevel{price("100"), qty("8")}));
}

TEST(OrderBook, OverflowKeepsTheBestLevels) {
  OrderBook book(3, kSymbol);
  // Five levels a side into three: the best three are kept, whatever the order given.
  EXPECT_EQ(book.apply(snapshot(
                10, kBids, {{"105", "5"}, {"103", "3"}, {"101", "1"}, {"104", "4"}, {"102", "2"}})),
            BookStatus::overflow);
  EXPECT_TRUE(book.valid());
  EXPECT_EQ(book.update_id(), 10u);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"100", "1"}, {"99", "2"}, {"98", "3"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"101", "1"}, {"102", "2"}, {"103", "3"}}));
  // A better level pushes the worst out; a worse one is dropped; both say overflow.
  EXPECT_EQ(book.apply(delta(11, {{"99.5", "7"}}, {})), BookStatus::overflow);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"100", "1"}, {"99.5", "7"}, {"99", "2"}}));
  EXPECT_EQ(book.apply(delta(12, {}, {{"110", "7"}})), BookStatus::overflow);
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"101", "1"}, {"102", "2"}, {"103", "3"}}));
  EXPECT_EQ(book.update_id(), 12u);
  // Updates and deletes on a full side are no overflow.
  EXPECT_EQ(book.apply(delta(13, {{"100", "4"}}, {{"102", "0"}})), BookStatus::ok);
  EXPECT_EQ(book.apply(delta(14, {}, {{"101.5", "1"}})), BookStatus::ok);
  EXPECT_EQ(levels_of(book.bids()), levels_of({{"100", "4"}, {"99.5", "7"}, {"99", "2"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of({{"101", "1"}, {"101.5", "1"}, {"103", "3"}}));
}

TEST(OrderBook, EmptyMessageAdvancesTheUpdateId) {
  OrderBook book = book_with_snapshot(100);
  const auto empty = delta(101, {}, {});
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].side, Side::none);
  EXPECT_EQ(book.apply(empty), BookStatus::ok);
  EXPECT_EQ(book.update_id(), 101u);
  EXPECT_EQ(book.sequence(), 1010u);
  EXPECT_EQ(levels_of(book.bids()), levels_of(kBids));
  EXPECT_EQ(book.apply(delta(102, {{"100", "2"}}, {})), BookStatus::ok);
  // An empty snapshot empties the book.
  EXPECT_EQ(book.apply(snapshot(103, {}, {})), BookStatus::ok);
  EXPECT_EQ(book.bid_depth(), 0u);
  EXPECT_EQ(book.ask_depth(), 0u);
  EXPECT_TRUE(book.valid());
}

TEST(OrderBook, MalformedMessagesLeaveTheBookAlone) {
  OrderBook book = book_with_snapshot(100);
  const auto good = delta(101, {{"100", "9"}, {"99", "8"}}, {{"101", "7"}});
  std::vector<std::pair<const char*, std::vector<MarketEvent>>> cases;
  const auto with = [&](const char* name, const std::function<void(std::vector<MarketEvent>&)>& f) {
    auto events = good;
    f(events);
    cases.emplace_back(name, std::move(events));
  };
  with("empty span", [](auto& e) { e.clear(); });
  with("trade event", [](auto& e) { e[1].type = MarketEventType::trade; });
  with("other symbol", [](auto& e) { e[2].symbol = kSymbol + 1; });
  with("mixed u", [](auto& e) { e[1].level.update_id = 102; });
  with("mixed seq", [](auto& e) { e[1].level.sequence = 1; });
  with("mixed depth", [](auto& e) { e[2].aux = 200; });
  with("mixed snapshot flag", [](auto& e) { e[1].flags |= kFlagSnapshot; });
  with("no begin", [](auto& e) { e[0].flags = kFlagNone; });
  with("no end", [](auto& e) { e[2].flags = kFlagNone; });
  with("begin inside", [](auto& e) { e[1].flags |= kFlagBeginOfBatch; });
  with("end inside", [](auto& e) { e[1].flags |= kFlagEndOfBatch; });
  with("zero price", [](auto& e) { e[1].level.price = Price{}; });
  with("negative price", [](auto& e) { e[1].level.price = price("-99"); });
  with("negative size", [](auto& e) { e[1].level.qty = qty("-1"); });
  with("side none among levels", [](auto& e) { e[1].side = Side::none; });
  with("bad side value", [](auto& e) { e[1].side = static_cast<Side>(9); });
  with("side 255", [](auto& e) { e[1].side = static_cast<Side>(255); });
  with("side none on the first of several", [](auto& e) { e[0].side = Side::none; });
  with("side just past sell", [](auto& e) { e[2].side = static_cast<Side>(3); });
  with("lowest int64 price", [](auto& e) {
    e[1].level.price = Price::from_raw(std::numeric_limits<std::int64_t>::min());
  });
  with("lowest int64 size",
       [](auto& e) { e[0].level.qty = Qty::from_raw(std::numeric_limits<std::int64_t>::min()); });
  with("other type on the last event", [](auto& e) { e[2].type = MarketEventType::ticker; });
  with("symbol differs in the high byte",
       [](auto& e) { e[1].symbol = static_cast<SymbolId>(kSymbol + 0x100); });
  with("depth differs in the high byte",
       [](auto& e) { e[0].aux = static_cast<std::uint16_t>(kDepth + 0x100); });
  with("delta of another depth", [](auto& e) {
    for (auto& event : e)
      event.aux = 200;
  });
  for (const auto& [name, events] : cases) {
    EXPECT_EQ(book.apply(events), BookStatus::malformed) << name;
    EXPECT_TRUE(book.valid()) << name;
    EXPECT_EQ(book.update_id(), 100u) << name;
    EXPECT_EQ(levels_of(book.bids()), levels_of(kBids)) << name;
    EXPECT_EQ(levels_of(book.asks()), levels_of(kAsks)) << name;
  }
  // An empty-message event with a price or size is malformed too.
  auto empty = delta(101, {}, {});
  empty[0].level.qty = qty("1");
  EXPECT_EQ(book.apply(empty), BookStatus::malformed);
  EXPECT_EQ(book.apply(good), BookStatus::ok);
}

TEST(OrderBook, QueriesGiveExactValues) {
  OrderBook book(8, kSymbol);
  EXPECT_FALSE(book.best_bid().has_value());
  EXPECT_FALSE(book.best_ask().has_value());
  EXPECT_FALSE(book.mid().has_value());
  EXPECT_FALSE(book.microprice().has_value());
  EXPECT_FALSE(book.imbalance(5).has_value());
  EXPECT_EQ(book.capacity(), 8u);
  EXPECT_EQ(book.symbol(), kSymbol);
  EXPECT_EQ(book.stream_depth(), 0u);

  ASSERT_EQ(book.apply(snapshot(42, {{"100.5", "2"}, {"100", "3"}, {"99", "5"}},
                                {{"101", "6"}, {"101.5", "1"}, {"102", "4"}},
                                {.depth = 200, .sequence = 123456789, .exch_ts = 1735689600205})),
            BookStatus::ok);
  EXPECT_EQ(book.best_bid(), (BookLevel{price("100.5"), qty("2")}));
  EXPECT_EQ(book.best_ask(), (BookLevel{price("101"), qty("6")}));
  EXPECT_EQ(book.bid_depth(), 3u);
  EXPECT_EQ(book.ask_depth(), 3u);
  EXPECT_EQ(book.bid(1), (BookLevel{price("100"), qty("3")}));
  EXPECT_EQ(book.bid(2), (BookLevel{price("99"), qty("5")}));
  EXPECT_EQ(book.ask(1), (BookLevel{price("101.5"), qty("1")}));
  EXPECT_EQ(book.ask(2), (BookLevel{price("102"), qty("4")}));
  // (100.5 + 101) / 2
  EXPECT_EQ(book.mid(), 100.75);
  // (100.5·6 + 101·2) / (2 + 6) = 805 / 8
  EXPECT_EQ(book.microprice(), 100.625);
  // (2 − 6) / 8; (5 − 7) / 12; (10 − 11) / 21; deeper than the book counts what there is.
  EXPECT_EQ(book.imbalance(1), -0.5);
  EXPECT_EQ(book.imbalance(2), -2.0 / 12.0);
  EXPECT_EQ(book.imbalance(3), -1.0 / 21.0);
  EXPECT_EQ(book.imbalance(1000), -1.0 / 21.0);
  EXPECT_FALSE(book.imbalance(0).has_value());
  EXPECT_EQ(book.update_id(), 42u);
  EXPECT_EQ(book.sequence(), 123456789u);
  EXPECT_EQ(book.exch_ts(), 1735689600205);
  EXPECT_EQ(book.stream_depth(), 200u);
  EXPECT_FALSE(book.crossed());

  // One side empty: best of the other stays, mid and microprice do not exist, imbalance is 1.
  ASSERT_EQ(book.apply(delta(43, {}, {{"101", "0"}, {"101.5", "0"}, {"102", "0"}}, {.depth = 200})),
            BookStatus::ok);
  EXPECT_FALSE(book.best_ask().has_value());
  EXPECT_EQ(book.best_bid(), (BookLevel{price("100.5"), qty("2")}));
  EXPECT_FALSE(book.mid().has_value());
  EXPECT_FALSE(book.microprice().has_value());
  EXPECT_EQ(book.imbalance(2), 1.0);
}

TEST(OrderBook, CrossedOnlyWhenBestBidReachesBestAsk) {
  OrderBook book(4, kSymbol);
  ASSERT_EQ(book.apply(snapshot(1, {{"100", "1"}}, {{"100.1", "1"}})), BookStatus::ok);
  EXPECT_FALSE(book.crossed());
  ASSERT_EQ(book.apply(delta(2, {{"100.1", "1"}}, {})), BookStatus::ok);  // locked
  EXPECT_TRUE(book.crossed());
}

TEST(OrderBook, StatusNames) {
  EXPECT_EQ(to_string(BookStatus::ok), "ok");
  EXPECT_EQ(to_string(BookStatus::resync_needed), "resync_needed");
  EXPECT_EQ(to_string(BookStatus::duplicate), "duplicate");
  EXPECT_EQ(to_string(BookStatus::malformed), "malformed");
  EXPECT_EQ(to_string(BookStatus::overflow), "overflow");
}

// ---------------------------------------------------------------------------------------------
// Randomized: streams of snapshots and deltas applied both to the book and to a plain
// reference (a std::map per side, cut to the capacity after each change the way the book is
// specified to), compared level by level after every message, with the expected status.

class ReferenceBook {
 public:
  explicit ReferenceBook(std::size_t capacity) : capacity_(capacity) {}

  void clear() {
    bids_.clear();
    asks_.clear();
  }
  /// Returns false when a level had to be dropped.
  bool set(Side side, Price level_price, Qty level_qty) {
    if (side == Side::buy)
      return set(bids_, level_price, level_qty);
    return set(asks_, level_price, level_qty);
  }
  [[nodiscard]] std::vector<BookLevel> bids() const {
    std::vector<BookLevel> result;
    for (auto it = bids_.rbegin(); it != bids_.rend(); ++it)
      result.push_back({it->first, it->second});
    return result;
  }
  [[nodiscard]] std::vector<BookLevel> asks() const {
    std::vector<BookLevel> result;
    for (const auto& [p, q] : asks_)
      result.push_back({p, q});
    return result;
  }

 private:
  using LevelMap = std::map<Price, Qty>;
  bool set(LevelMap& levels, Price level_price, Qty level_qty) {
    if (level_qty.is_zero()) {
      levels.erase(level_price);
      return true;
    }
    levels[level_price] = level_qty;
    if (levels.size() <= capacity_)
      return true;
    // Drop the worst: the lowest bid or the highest ask.
    if (&levels == &bids_)
      levels.erase(levels.begin());
    else
      levels.erase(std::prev(levels.end()));
    return false;
  }

  std::size_t capacity_;
  LevelMap bids_;
  LevelMap asks_;
};

TEST(OrderBook, RandomStreamsMatchAReferenceBook) {
  std::mt19937_64 rng(20261124);
  const auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  constexpr std::int64_t kTick = 10'000'000;  // 0.1
  std::size_t messages_checked = 0;
  std::size_t sorted_messages = 0;
  std::size_t overflows = 0;
  std::size_t resyncs = 0;
  for (int stream = 0; stream < 2000; ++stream) {
    const auto capacity =
        static_cast<std::size_t>(stream % 4 == 0 ? uniform(1, 6) : uniform(20, 80));
    const std::int64_t centre = uniform(100, 100000);  // in ticks
    const std::int64_t spread = uniform(1, 60);        // price range either side, in ticks
    OrderBook book(capacity, kSymbol);
    ReferenceBook reference(capacity);
    bool valid = false;
    std::uint64_t last_u = 0;
    const int length = static_cast<int>(uniform(5, 50));
    for (int m = 0; m < length; ++m) {
      const bool is_snapshot = m == 0 || uniform(0, 19) == 0;
      // Continuity: mostly the next u; sometimes a gap, a stale u or a restart.
      std::uint64_t u = last_u + 1;
      const auto roll = uniform(0, 99);
      if (roll < 3)
        u = last_u + 2 + static_cast<std::uint64_t>(uniform(0, 5));
      else if (roll < 5 && last_u > 1)
        u = last_u - static_cast<std::uint64_t>(uniform(0, 1));
      else if (roll < 6)
        u = 1;
      std::vector<RawLevel> levels;
      const auto count = uniform(0, is_snapshot ? 2 * static_cast<std::int64_t>(capacity) : 30);
      for (std::int64_t i = 0; i < count; ++i) {
        const Side side = uniform(0, 1) == 0 ? Side::buy : Side::sell;
        // Mostly on the own side of the centre, sometimes across (a crossed book).
        const std::int64_t offset =
            uniform(side == Side::buy ? -spread : -3, side == Side::buy ? 3 : spread);
        const Price level_price = Price::from_raw((centre + offset) * kTick);
        const Qty level_qty =
            (!is_snapshot && uniform(0, 2) == 0) ? Qty{} : Qty::from_raw(uniform(1, 5'000'000'000));
        levels.push_back({side, level_price, level_qty});
      }
      // Half the messages sorted best first, as Bybit sends them (bids, then asks), which the
      // book searches from the previous level; some of those with one pair swapped (a level
      // out of order falls back to the full search); the rest in random order. Repeated
      // prices stay in message order (the later one wins).
      const auto order = uniform(0, 7);
      if (order < 4) {
        std::stable_sort(levels.begin(), levels.end(), [](const RawLevel& a, const RawLevel& b) {
          if (a.side != b.side)
            return a.side == Side::buy;
          return a.side == Side::buy ? a.price > b.price : a.price < b.price;
        });
        sorted_messages += 1;
        if (order == 0 && levels.size() >= 2) {
          const auto last = static_cast<std::int64_t>(levels.size()) - 1;
          std::swap(levels[static_cast<std::size_t>(uniform(0, last))],
                    levels[static_cast<std::size_t>(uniform(0, last))]);
        }
      }
      const auto events = make_events(is_snapshot, u, levels);

      // What the book must answer.
      BookStatus expected;
      bool applies = false;
      if (is_snapshot) {
        applies = !valid || u == 1 || u > last_u;
        expected = applies ? BookStatus::ok : BookStatus::duplicate;
      } else if (!valid) {
        expected = BookStatus::resync_needed;
      } else if (u == last_u + 1) {
        applies = true;
        expected = BookStatus::ok;
      } else if (u != 1 && u <= last_u) {
        expected = BookStatus::duplicate;
      } else {
        expected = BookStatus::resync_needed;
        valid = false;
      }
      if (applies) {
        if (is_snapshot)
          reference.clear();
        bool complete = true;
        for (const RawLevel& level : levels)
          complete &= reference.set(level.side, level.price, level.qty);
        if (!complete)
          expected = BookStatus::overflow;
        valid = true;
        last_u = u;
      }

      const BookStatus status = book.apply(events);
      ASSERT_EQ(status, expected) << "stream " << stream << " message " << m;
      ASSERT_EQ(book.valid(), valid);
      ASSERT_EQ(book.update_id(), last_u);
      ASSERT_EQ(levels_of(book.bids()), reference.bids())
          << "stream " << stream << " message " << m;
      ASSERT_EQ(levels_of(book.asks()), reference.asks())
          << "stream " << stream << " message " << m;
      ++messages_checked;
      overflows += status == BookStatus::overflow ? 1u : 0u;
      resyncs += status == BookStatus::resync_needed ? 1u : 0u;
    }
  }
  // The generator really reached the interesting cases.
  EXPECT_GT(messages_checked, 40'000u);
  EXPECT_GT(sorted_messages, 15'000u);
  EXPECT_GT(overflows, 500u);
  EXPECT_GT(resyncs, 500u);
}

TEST(OrderBook, SortedDeltasOnADeepBookMatchAReferenceBook) {
  // The shape of the real stream (orderbook.200 / .500): a deep book, deltas of 25 levels a
  // side sent best first, most near the top, some hundreds of levels down or past the bottom,
  // so the search from the previous level crosses gaps of every length, inserts, updates and
  // deletes alike.
  std::mt19937_64 rng(500);
  const auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  constexpr std::int64_t kTick = 1'000'000;
  constexpr std::int64_t kBestBid = 50'000;  // in ticks; asks start one tick above
  constexpr std::size_t kCapacity = 500;
  OrderBook book(kCapacity, kSymbol);
  ReferenceBook reference(kCapacity);
  std::vector<RawLevel> levels;
  for (std::int64_t i = 0; i < 300; ++i) {
    levels.push_back({Side::buy, Price::from_raw((kBestBid - 2 * i) * kTick), Qty::from_units(1)});
    levels.push_back(
        {Side::sell, Price::from_raw((kBestBid + 1 + 2 * i) * kTick), Qty::from_units(2)});
  }
  for (const RawLevel& level : levels)
    ASSERT_TRUE(reference.set(level.side, level.price, level.qty));
  ASSERT_EQ(book.apply(make_events(true, 1, levels)), BookStatus::ok);
  for (std::uint64_t u = 2; u < 400; ++u) {
    levels.clear();
    for (const Side side : {Side::buy, Side::sell}) {
      std::map<std::int64_t, Qty> changes;  // by distance from the best, in ticks
      while (changes.size() < 25) {
        const std::int64_t distance = uniform(0, 3) == 0 ? uniform(-5, 700) : uniform(-2, 40);
        changes[distance] = uniform(0, 3) == 0 ? Qty{} : Qty::from_raw(uniform(1, 1'000'000));
      }
      for (const auto& [distance, level_qty] : changes) {
        const std::int64_t ticks =
            side == Side::buy ? kBestBid - distance : kBestBid + 1 + distance;
        levels.push_back({side, Price::from_raw(ticks * kTick), level_qty});
      }
    }
    for (const RawLevel& level : levels)
      (void)reference.set(level.side, level.price, level.qty);
    const BookStatus status = book.apply(make_events(false, u, levels));
    ASSERT_TRUE(status == BookStatus::ok || status == BookStatus::overflow) << "u " << u;
    ASSERT_EQ(levels_of(book.bids()), reference.bids()) << "u " << u;
    ASSERT_EQ(levels_of(book.asks()), reference.asks()) << "u " << u;
  }
  EXPECT_GT(book.bid_depth(), 300u);
}

TEST(OrderBook, LargeSortedDeltasNearAndPastCapacityMatchAReferenceBook) {
  // The merge path of sorted runs (each side's inserts and deletes collected, then made in one
  // pass) against the reference: runs longer than its batch of pending changes, inserts and
  // deletes at the top, middle, bottom and past the bottom, books kept full (every insert past
  // the capacity drops the worst, in message order), snapshots with size-0 levels and more
  // levels than the capacity, and messages that leave Bybit's order part-way (asks first, a
  // bid after the asks, one level out of order): from there on level by level.
  std::mt19937_64 rng(77);
  const auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  constexpr std::int64_t kTick = 1'000'000;
  constexpr std::int64_t kMid = 100'000;  // in ticks; bids below, asks above
  std::size_t overflows = 0;
  std::size_t long_runs = 0;
  std::size_t unordered = 0;
  for (int stream = 0; stream < 60; ++stream) {
    const auto capacity =
        static_cast<std::size_t>(uniform(1, 4) == 1 ? uniform(1, 8) : uniform(40, 300));
    const auto span = static_cast<std::int64_t>(capacity) * 2 + 10;  // prices either side
    OrderBook book(capacity, kSymbol);
    ReferenceBook reference(capacity);
    const auto level_at = [&](Side side, std::int64_t distance, Qty level_qty) {
      const std::int64_t ticks = side == Side::buy ? kMid - distance : kMid + 1 + distance;
      return RawLevel{side, Price::from_raw(ticks * kTick), level_qty};
    };
    for (std::uint64_t u = 1; u < 40; ++u) {
      const bool is_snapshot = u == 1 || uniform(0, 15) == 0;
      std::vector<RawLevel> levels;
      for (const Side side : {Side::buy, Side::sell}) {
        std::map<std::int64_t, Qty> changes;  // by distance from the mid, best first
        const auto count =
            is_snapshot ? uniform(0, span) : uniform(0, uniform(0, 3) == 0 ? 150 : 30);
        for (std::int64_t i = 0; i < count; ++i) {
          const auto where = uniform(0, 3);
          const std::int64_t distance = where == 0   ? uniform(0, 5)             // top
                                        : where == 1 ? uniform(0, span)          // anywhere
                                        : where == 2 ? uniform(span - 10, span)  // bottom, past
                                                     : uniform(0, 40);
          changes[distance] = uniform(0, 2) == 0 ? Qty{} : Qty::from_raw(uniform(1, 1'000'000));
        }
        for (const auto& [distance, level_qty] : changes)
          levels.push_back(level_at(side, distance, level_qty));
      }
      long_runs += levels.size() > 130 ? 1u : 0u;
      const auto order = uniform(0, 9);
      if (order == 0 && levels.size() >= 2) {  // one level out of order
        std::swap(levels[static_cast<std::size_t>(
                      uniform(0, static_cast<std::int64_t>(levels.size()) - 1))],
                  levels[static_cast<std::size_t>(
                      uniform(0, static_cast<std::int64_t>(levels.size()) - 1))]);
        ++unordered;
      } else if (order == 1) {  // asks first
        std::stable_partition(levels.begin(), levels.end(),
                              [](const RawLevel& level) { return level.side == Side::sell; });
        ++unordered;
      } else if (order == 2) {  // one more bid after the asks
        levels.push_back(level_at(Side::buy, uniform(0, span), Qty::from_raw(uniform(0, 9))));
        ++unordered;
      }
      if (is_snapshot)
        reference.clear();
      bool complete = true;
      for (const RawLevel& level : levels)
        complete &= reference.set(level.side, level.price, level.qty);
      const BookStatus status = book.apply(make_events(is_snapshot, u, levels));
      ASSERT_EQ(status, complete ? BookStatus::ok : BookStatus::overflow)
          << "stream " << stream << " u " << u;
      ASSERT_EQ(levels_of(book.bids()), reference.bids()) << "stream " << stream << " u " << u;
      ASSERT_EQ(levels_of(book.asks()), reference.asks()) << "stream " << stream << " u " << u;
      overflows += complete ? 0u : 1u;
    }
  }
  EXPECT_GT(overflows, 200u);
  EXPECT_GT(long_runs, 100u);
  EXPECT_GT(unordered, 300u);
}

TEST(OrderBook, SortedDeltaWithMoreChangesThanOneMergeHolds) {
  // 150 inserts on the bid side (into the gaps between 150 levels two ticks apart) and 150
  // deletes on the ask side, plus updates between: more than one merge's worth of pending
  // changes, so the side is merged several times within one run.
  constexpr std::int64_t kTick = 1'000'000;
  std::vector<RawLevel> levels;
  ReferenceBook reference(1000);
  for (std::int64_t i = 0; i < 150; ++i) {
    levels.push_back({Side::buy, Price::from_raw((10'000 - 2 * i) * kTick), Qty::from_raw(1 + i)});
    levels.push_back({Side::sell, Price::from_raw((10'001 + i) * kTick), Qty::from_raw(2 + i)});
  }
  OrderBook book(1000, kSymbol);
  ASSERT_EQ(book.apply(make_events(true, 1, levels)), BookStatus::ok);
  for (const RawLevel& level : levels)
    ASSERT_TRUE(reference.set(level.side, level.price, level.qty));
  levels.clear();
  for (std::int64_t i = 0; i < 150; ++i) {
    levels.push_back(
        {Side::buy, Price::from_raw((10'000 - 2 * i) * kTick), Qty::from_raw(500 + i)});
    levels.push_back({Side::buy, Price::from_raw((9'999 - 2 * i) * kTick), Qty::from_raw(700 + i)});
  }
  for (std::int64_t i = 0; i < 150; ++i)
    levels.push_back(
        {Side::sell, Price::from_raw((10'001 + i) * kTick), i % 5 == 4 ? Qty::from_raw(9) : Qty{}});
  for (const RawLevel& level : levels)
    ASSERT_TRUE(reference.set(level.side, level.price, level.qty));
  ASSERT_EQ(book.apply(make_events(false, 2, levels)), BookStatus::ok);
  EXPECT_EQ(book.bid_depth(), 300u);
  EXPECT_EQ(book.ask_depth(), 30u);
  EXPECT_EQ(levels_of(book.bids()), reference.bids());
  EXPECT_EQ(levels_of(book.asks()), reference.asks());
}

TEST(OrderBook, SortedDeltaInsertsAndDeletesAtTopMiddleAndBottomInOneMessage) {
  // One message per side touching the top, the middle and the bottom at once (one merge),
  // worked out by hand.
  OrderBook book = book_with_snapshot(100);
  ASSERT_EQ(
      book.apply(delta(
          101, {{"100.5", "7"}, {"100", "0"}, {"98", "9"}, {"97.5", "6"}, {"96", "0"}, {"95", "4"}},
          {{"100.8", "3"}, {"102", "0"}, {"103", "0"}, {"105", "8"}, {"106", "2"}})),
      BookStatus::ok);
  EXPECT_EQ(
      levels_of(book.bids()),
      levels_of(
          {{"100.5", "7"}, {"99", "2"}, {"98", "9"}, {"97.5", "6"}, {"97", "4"}, {"95", "4"}}));
  EXPECT_EQ(levels_of(book.asks()),
            levels_of({{"100.8", "3"}, {"101", "1"}, {"104", "4"}, {"105", "8"}, {"106", "2"}}));
}

TEST(OrderBook, SortedDeltaOnAFullSideDropsTheWorstInMessageOrder) {
  // Capacity 5, full: a new best bid drops the worst (96); the later delete of 99 leaves room
  // that 96 does not come back into; a new level below all of a full side is dropped.
  OrderBook book = book_with_snapshot(100, 5);
  EXPECT_EQ(book.apply(delta(101, {{"100.5", "7"}, {"99", "0"}}, {{"106", "1"}})),
            BookStatus::overflow);
  EXPECT_EQ(levels_of(book.bids()),
            levels_of({{"100.5", "7"}, {"100", "1"}, {"98", "3"}, {"97", "4"}}));
  EXPECT_EQ(levels_of(book.asks()), levels_of(kAsks));
  // With room again, inserts are taken.
  EXPECT_EQ(book.apply(delta(102, {{"96.5", "2"}}, {})), BookStatus::ok);
  EXPECT_EQ(book.bid(4), (BookLevel{price("96.5"), qty("2")}));
}

TEST(OrderBook, FlagsOtherThanSnapshotAndBatchMarksMayDifferBetweenLevels) {
  OrderBook book = book_with_snapshot(100);
  auto events = delta(101, {{"100", "9"}, {"99", "8"}}, {{"101", "7"}});
  events[1].flags |= kFlagSuspect;
  ASSERT_EQ(book.apply(events), BookStatus::ok);
  EXPECT_EQ(book.bid(1), (BookLevel{price("99"), qty("8")}));
}

// ---------------------------------------------------------------------------------------------

TEST(OrderBook, SortedDeltasAroundTheTopLevelsMatchAReferenceBook) {
  // Sorted deltas whose levels cluster in and around the best few dozen levels (where the
  // book finds a sorted run's levels without searching from level to level) and past them:
  // deletes and inserts within the top, long runs of inserts above the best (more than one
  // merge's worth), levels just past the top, deep ones; on books with free room, nearly
  // full and full. Compared with the reference after every message.
  constexpr std::int64_t kTick = 1'000'000;
  for (const std::size_t capacity : {std::size_t{40}, std::size_t{64}, std::size_t{1000}}) {
    std::mt19937_64 rng(capacity);
    OrderBook book(capacity, kSymbol);
    ReferenceBook reference(capacity);
    std::vector<RawLevel> levels;
    // 48 levels a side two ticks apart around 10000 / 10001.
    for (std::int64_t i = 0; i < 48; ++i) {
      levels.push_back(
          {Side::buy, Price::from_raw((10'000 - 2 * i) * kTick), Qty::from_raw(1 + i)});
      levels.push_back(
          {Side::sell, Price::from_raw((10'001 + 2 * i) * kTick), Qty::from_raw(1 + i)});
    }
    bool complete = true;
    for (const RawLevel& level : levels)
      complete &= reference.set(level.side, level.price, level.qty);
    ASSERT_EQ(book.apply(make_events(true, 1, levels)),
              complete ? BookStatus::ok : BookStatus::overflow);
    std::uniform_int_distribution<std::int64_t> near_top(-90, 80);  // ticks from the best
    std::uniform_int_distribution<std::int64_t> deep(0, 300);
    std::uniform_int_distribution<int> percent(0, 99);
    for (std::uint64_t u = 2; u < 400; ++u) {
      levels.clear();
      const int count = 1 + percent(rng) % 60;
      for (const Side side : {Side::buy, Side::sell}) {
        std::map<std::int64_t, std::int64_t> changes;  // ticks from the best (worse: up) -> qty
        const bool run_above = percent(rng) < 10;      // a long run of inserts above the best
        for (int i = 0; i < count; ++i) {
          const std::int64_t ticks = run_above           ? -2 * i - 1
                                     : percent(rng) < 80 ? near_top(rng)
                                                         : deep(rng);
          changes[ticks] = percent(rng) < 30 ? 0 : 1 + percent(rng);
        }
        for (const auto& [ticks, size] : changes) {
          const std::int64_t raw =
              side == Side::buy ? (10'000 - ticks) * kTick : (10'001 + ticks) * kTick;
          levels.push_back({side, Price::from_raw(raw), Qty::from_raw(size)});
        }
      }
      complete = true;
      for (const RawLevel& level : levels)
        complete &= reference.set(level.side, level.price, level.qty);
      ASSERT_EQ(book.apply(make_events(false, u, levels)),
                complete ? BookStatus::ok : BookStatus::overflow)
          << "capacity " << capacity << " u " << u;
      ASSERT_EQ(levels_of(book.bids()), reference.bids()) << "capacity " << capacity << " u " << u;
      ASSERT_EQ(levels_of(book.asks()), reference.asks()) << "capacity " << capacity << " u " << u;
    }
  }
}

TEST(OrderBook, NoAllocationAfterConstruction) {
  // Messages are built before counting; only apply() and the queries are counted.
  std::vector<RawLevel> deep;
  for (std::int64_t i = 0; i < 1200; ++i) {
    deep.push_back({Side::buy, Price::from_units(10'000 - i), Qty::from_units(1 + i % 7)});
    deep.push_back({Side::sell, Price::from_units(10'001 + i), Qty::from_units(1 + i % 5)});
  }
  const auto big_snapshot = make_events(true, 1, deep);  // overflows a 1000-level book
  std::vector<std::vector<MarketEvent>> deltas;
  for (std::uint64_t u = 2; u < 200; ++u) {
    const auto step = static_cast<std::int64_t>(u);
    deltas.push_back(
        make_events(false, u,
                    {{Side::buy, Price::from_units(10'000 + step % 3), Qty::from_units(step)},
                     {Side::buy, Price::from_units(9'000 - step), Qty{}},
                     {Side::buy, Price::from_units(9'500 - step % 11), Qty::from_units(2)},
                     {Side::sell, Price::from_units(10'001 + step % 4), Qty{}},
                     {Side::sell, Price::from_units(10'500 + step % 13), Qty::from_units(3)}}));
  }
  OrderBook book(1000, kSymbol);
  double sink = 0.0;
  const auto allocations = test::count_allocations([&] {
    EXPECT_EQ(book.apply(big_snapshot), BookStatus::overflow);
    for (const auto& events : deltas) {
      const BookStatus status = book.apply(events);
      EXPECT_TRUE(status == BookStatus::ok || status == BookStatus::overflow);
      sink += book.mid().value_or(0.0) + book.microprice().value_or(0.0) +
              book.imbalance(5).value_or(0.0) + book.best_bid()->price.to_double();
    }
    EXPECT_EQ(book.apply(big_snapshot), BookStatus::overflow);  // u = 1 again: a restart, taken
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(book.bid_depth(), 1000u);
  EXPECT_EQ(book.ask_depth(), 1000u);
  EXPECT_GT(sink, 0.0);
}

}  // namespace
}  // namespace kinetic::feed
