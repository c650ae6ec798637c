// Tests of the exchange simulator's instruments, market sources and public feed.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "instruments.hpp"
#include "kinetic/feed/bybit_decoder.hpp"
#include "kinetic/feed/capture_file.hpp"
#include "kinetic/feed/order_book.hpp"
#include "kinetic/feed/symbol_table.hpp"
#include "kinetic/feed/ws_capture.hpp"
#include "market_source.hpp"
#include "scripted_market_source.hpp"

namespace kinetic::exchange {
namespace {

const std::string kCapture =
    KINETIC_SOURCE_DIR "/../shared/data/bybit-ws-v5-cryptofeed/BYBIT.jsonl.zst";
constexpr std::int64_t kStartMs = 1'767'225'600'000;

Price P(const char* text) {
  return Price::parse(text).value();
}
Qty Q(const char* text) {
  return Qty::parse(text).value();
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("kinetic_market_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}
void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

SyntheticSourceOptions small_options(std::uint64_t seed, std::size_t levels = 200) {
  SyntheticSourceOptions options;
  options.seed = seed;
  options.instruments = builtin_instruments();
  options.book_levels = levels;
  return options;
}

/// A client of the public stream: decodes messages with the engine's decoder into books.
class Client {
 public:
  Client() : decoder_(symbols_), events_(feed::BybitDecoder::kRecommendedEventCapacity) {}

  /// Decodes one message; book messages go to the book of their topic.
  feed::DecodeResult decode(const std::string& json) {
    padded_ = json;
    padded_.append(feed::BybitDecoder::kMessagePadding, ' ');
    const feed::DecodeResult result =
        decoder_.decode(std::string_view(padded_.data(), json.size()), 0, events_);
    return result;
  }
  feed::BookStatus apply_book(const std::string& topic, const std::string& json) {
    const feed::DecodeResult result = decode(json);
    EXPECT_TRUE(result.is_data()) << json.substr(0, 200);
    if (!result.is_data())
      return feed::BookStatus::malformed;
    auto found = books_.find(topic);
    if (found == books_.end())
      found =
          books_.emplace(topic, std::make_unique<feed::OrderBook>(1000, events_[0].symbol)).first;
    return found->second->apply(std::span(events_.data(), result.events));
  }
  [[nodiscard]] const feed::OrderBook& book(const std::string& topic) const {
    return *books_.at(topic);
  }
  [[nodiscard]] std::span<const MarketEvent> events(std::uint32_t count) const {
    return {events_.data(), count};
  }

 private:
  feed::SymbolTable symbols_{64};
  feed::BybitDecoder decoder_;
  std::vector<MarketEvent> events_;
  std::string padded_;
  std::map<std::string, std::unique_ptr<feed::OrderBook>> books_;
};

/// The client's book equals the source's best `depth` levels on both sides.
void expect_top_equal(const feed::OrderBook& client, const feed::OrderBook& source,
                      std::size_t depth, const std::string& where) {
  const auto bids = source.bids().first(std::min(depth, source.bid_depth()));
  const auto asks = source.asks().first(std::min(depth, source.ask_depth()));
  ASSERT_EQ(client.bid_depth(), bids.size()) << where;
  ASSERT_EQ(client.ask_depth(), asks.size()) << where;
  for (std::size_t i = 0; i < bids.size(); ++i)
    ASSERT_EQ(client.bid(i), bids[i]) << where << " bid " << i;
  for (std::size_t i = 0; i < asks.size(); ++i)
    ASSERT_EQ(client.ask(i), asks[i]) << where << " ask " << i;
}

/// The JSON with its numbers abstracted so its shape can be compared exactly: a run of
/// digits after a '.' becomes as many 'd' (the decimals count), any other run one '9';
/// `id` (a trade id) becomes ID and the tick directions TICK.
std::string shape(std::string json, const std::string& id = "") {
  const auto replace_all = [&json](const std::string& what, const std::string& with) {
    for (std::size_t at = json.find(what); at != std::string::npos;
         at = json.find(what, at + with.size()))
      json.replace(at, what.size(), with);
  };
  if (!id.empty())
    replace_all(id, "ID");
  for (const char* tick : {"ZeroPlusTick", "ZeroMinusTick", "PlusTick", "MinusTick"})
    replace_all(tick, "TICK");
  std::string out;
  for (std::size_t i = 0; i < json.size();) {
    if (json[i] < '0' || json[i] > '9') {
      out.push_back(json[i++]);
      continue;
    }
    const bool fraction = i > 0 && json[i - 1] == '.';
    std::size_t end = i;
    while (end < json.size() && json[end] >= '0' && json[end] <= '9')
      ++end;
    out.append(fraction ? end - i : 1, fraction ? 'd' : '9');
    i = end;
  }
  return out;
}

std::string repeat_joined(const std::string& item, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i)
    out += (i == 0 ? "" : ",") + item;
  return out;
}

/// The `u` of an orderbook message.
std::uint64_t u_of(const std::string& json) {
  const std::size_t at = json.find("\"u\":");
  EXPECT_NE(at, std::string::npos) << json;
  return at == std::string::npos ? 0 : std::stoull(json.substr(at + 4));
}

bool is_uuid(const std::string& text) {
  if (text.size() != 36)
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = text[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

// --------------------------------------------------------------------------------------------
// Instruments

TEST(Instruments, BuiltinsCarryBybitFilters) {
  const auto instruments = builtin_instruments();
  ASSERT_EQ(instruments.size(), 3u);
  const ExchangeInstrument* btc = find_instrument(instruments, "BTCUSDT");
  const ExchangeInstrument* eth = find_instrument(instruments, "ETHUSDT");
  const ExchangeInstrument* sol = find_instrument(instruments, "SOLUSDT");
  ASSERT_TRUE(btc && eth && sol);
  EXPECT_EQ(find_instrument(instruments, "DOGEUSDT"), nullptr);
  for (const auto& instrument : instruments)
    EXPECT_TRUE(risk::valid(instrument.rules)) << instrument.rules.symbol;

  EXPECT_EQ(btc->rules.tick_size, P("0.1"));
  EXPECT_EQ(btc->rules.min_price, P("0.1"));
  EXPECT_EQ(btc->rules.max_price, P("1999999.8"));
  EXPECT_EQ(btc->rules.qty_step, Q("0.001"));
  EXPECT_EQ(btc->rules.min_order_qty, Q("0.001"));
  EXPECT_EQ(btc->rules.max_order_qty, Q("1500"));
  EXPECT_EQ(btc->rules.max_market_order_qty, Q("150"));
  EXPECT_EQ(btc->rules.min_notional, Amount::parse("5").value());
  EXPECT_EQ(btc->rules.min_leverage, Amount::parse("1").value());
  EXPECT_EQ(btc->rules.max_leverage, Amount::parse("100").value());
  EXPECT_EQ(btc->rules.leverage_step, Amount::parse("0.01").value());
  EXPECT_EQ(btc->price_decimals, 2);
  EXPECT_EQ(btc->qty_decimals, 3);

  EXPECT_EQ(eth->rules.tick_size, P("0.01"));
  EXPECT_EQ(eth->rules.max_price, P("199999.98"));
  EXPECT_EQ(eth->rules.qty_step, Q("0.01"));
  EXPECT_EQ(eth->rules.max_order_qty, Q("10000"));
  EXPECT_EQ(eth->rules.max_market_order_qty, Q("2000"));
  EXPECT_EQ(eth->price_decimals, 2);
  EXPECT_EQ(eth->qty_decimals, 2);

  EXPECT_EQ(sol->rules.tick_size, P("0.01"));
  EXPECT_EQ(sol->rules.min_price, P("0.01"));
  EXPECT_EQ(sol->rules.max_price, P("199999.98"));
  EXPECT_EQ(sol->rules.qty_step, Q("0.1"));
  EXPECT_EQ(sol->rules.min_order_qty, Q("0.1"));
  EXPECT_EQ(sol->rules.max_order_qty, Q("96000"));
  EXPECT_EQ(sol->rules.max_market_order_qty, Q("12000"));
  EXPECT_EQ(sol->price_decimals, 3);  // priceScale 3 although the tick is 0.01
  EXPECT_EQ(sol->qty_decimals, 1);
}

constexpr const char* kInstrumentsList =
    R"j({"category":"linear","list":[{"symbol":"SOLUSDT","priceScale":"3",)j"
    R"j("leverageFilter":{"minLeverage":"1","maxLeverage":"100.00","leverageStep":"0.01"},)j"
    R"j("priceFilter":{"minPrice":"0.010","maxPrice":"199999.980","tickSize":"0.010"},)j"
    R"j("lotSizeFilter":{"maxOrderQty":"96000.0","minOrderQty":"0.1","qtyStep":"0.1",)j"
    R"j("maxMktOrderQty":"12000.0","minNotionalValue":"5"}}]})j";

TEST(Instruments, LoadsResponseOrBareResultWithPriceScale) {
  const std::string response = temp_path("response.json");
  const std::string bare = temp_path("bare.json");
  write_file(response,
             std::string(R"j({"retCode":0,"retMsg":"OK","result":)j") + kInstrumentsList + "}");
  write_file(bare, kInstrumentsList);
  for (const std::string& path : {response, bare}) {
    const auto instruments = load_instruments(path);
    ASSERT_EQ(instruments.size(), 1u) << path;
    EXPECT_STREQ(instruments[0].rules.symbol, "SOLUSDT");
    EXPECT_EQ(instruments[0].rules.tick_size, P("0.01"));
    EXPECT_EQ(instruments[0].rules.max_market_order_qty, Q("12000"));
    EXPECT_EQ(instruments[0].price_decimals, 3);
    EXPECT_EQ(instruments[0].qty_decimals, 1);
  }
  std::remove(response.c_str());
  std::remove(bare.c_str());
}

TEST(Instruments, BadFilesNameThePathAndTheProblem) {
  const std::string missing = temp_path("missing.json");
  try {
    (void)load_instruments(missing);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
  }
  const std::string broken = temp_path("broken.json");
  write_file(
      broken,
      R"j({"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"X"}]}})j");
  try {
    (void)load_instruments(broken);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find(broken), std::string::npos) << what;
    EXPECT_NE(what.find("X"), std::string::npos) << what;
  }
  std::remove(broken.c_str());
}

// --------------------------------------------------------------------------------------------
// Synthetic source

struct StepRecord {
  MarketStep::Kind kind;
  std::size_t symbol;
  std::int64_t ts;
  std::uint64_t sequence;
  Price price;
  Qty qty;
  Side side;
  std::string id;
  friend bool operator==(const StepRecord&, const StepRecord&) = default;
};

std::vector<StepRecord> run_steps(MarketSource& source, std::size_t count) {
  std::vector<StepRecord> out;
  for (std::size_t i = 0; i < count; ++i) {
    const MarketStep step = source.next();
    out.push_back({step.kind, step.symbol_index, step.exch_ts_ns, step.sequence, step.price,
                   step.qty, step.taker_side, step.trade_id});
  }
  return out;
}

TEST(SyntheticSource, SameSeedSameMarketOtherSeedOtherMarket) {
  auto a = make_synthetic_source(small_options(7, 50));
  auto b = make_synthetic_source(small_options(7, 50));
  auto c = make_synthetic_source(small_options(8, 50));
  const auto steps_a = run_steps(*a, 3000);
  const auto steps_b = run_steps(*b, 3000);
  const auto steps_c = run_steps(*c, 3000);
  EXPECT_EQ(steps_a, steps_b);
  EXPECT_NE(steps_a, steps_c);
  for (std::size_t symbol = 0; symbol < 3; ++symbol) {
    ASSERT_EQ(a->book(symbol).bid_depth(), b->book(symbol).bid_depth());
    for (std::size_t i = 0; i < a->book(symbol).bid_depth(); ++i)
      ASSERT_EQ(a->book(symbol).bid(i), b->book(symbol).bid(i))
          << symbol << " " << i << " of " << a->book(symbol).bid_depth();
  }
  EXPECT_EQ(a->symbols(), (std::vector<std::string>{"BTCUSDT", "ETHUSDT", "SOLUSDT"}));
}

TEST(SyntheticSource, RejectsSymbolWithoutRules) {
  SyntheticSourceOptions options = small_options(1);
  options.symbols = {{"DOGEUSDT", 0.1}};
  EXPECT_THROW((void)make_synthetic_source(options), std::invalid_argument);
}

TEST(SyntheticSource, BooksUncrossedOnGridAndTradesWalkTheBook) {
  const auto instruments = builtin_instruments();
  auto source = make_synthetic_source(small_options(42, 200));
  std::int64_t previous_ts = 0;
  std::vector<std::uint64_t> previous_sequence(3, 0);
  std::size_t trades = 0, books = 0, multi_level_walks = 0;
  std::array<std::size_t, 3> trades_per_symbol{};
  for (int i = 0; i < 20000; ++i) {
    // What the taker of the next step, if it is a trade, must meet.
    std::array<std::optional<feed::BookLevel>, 3> best_bid, best_ask;
    for (std::size_t s = 0; s < 3; ++s) {
      best_bid[s] = source->book(s).best_bid();
      best_ask[s] = source->book(s).best_ask();
    }
    const MarketStep step = source->next();
    ASSERT_NE(step.kind, MarketStep::Kind::end);
    ASSERT_GE(step.exch_ts_ns, previous_ts);
    previous_ts = step.exch_ts_ns;
    ASSERT_GT(step.sequence, previous_sequence[step.symbol_index]);
    previous_sequence[step.symbol_index] = step.sequence;
    const std::size_t s = step.symbol_index;
    const auto& rules = instruments[s].rules;
    const feed::OrderBook& book = source->book(s);
    ASSERT_FALSE(book.crossed());
    // Takers eat levels; the next book step refills them.
    ASSERT_LE(book.bid_depth(), 200u);
    ASSERT_LE(book.ask_depth(), 200u);
    ASSERT_GE(book.bid_depth(), 150u);
    ASSERT_GE(book.ask_depth(), 150u);
    for (const auto& level : book.bids()) {
      ASSERT_TRUE(level.price.is_multiple_of(rules.tick_size));
      ASSERT_TRUE(level.qty.is_multiple_of(rules.qty_step));
      ASSERT_GT(level.qty.raw(), 0);
    }
    for (const auto& level : book.asks()) {
      ASSERT_TRUE(level.price.is_multiple_of(rules.tick_size));
      ASSERT_TRUE(level.qty.is_multiple_of(rules.qty_step));
      ASSERT_GT(level.qty.raw(), 0);
    }
    if (step.kind == MarketStep::Kind::book) {
      ++books;
      continue;
    }
    ++trades;
    ++trades_per_symbol[s];
    ASSERT_TRUE(is_uuid(step.trade_id)) << step.trade_id;
    ASSERT_GT(step.qty.raw(), 0);
    ASSERT_TRUE(step.qty.is_multiple_of(rules.qty_step));
    // The taker takes the best level of the other side: it prints at that price, and the
    // level shrinks by the trade's size or goes.
    const auto& met = step.taker_side == Side::buy ? best_ask[s] : best_bid[s];
    ASSERT_TRUE(met.has_value());
    ASSERT_EQ(step.price, met->price);
    ASSERT_LE(step.qty, met->qty);
    const auto after = step.taker_side == Side::buy ? book.best_ask() : book.best_bid();
    if (step.qty == met->qty) {
      ++multi_level_walks;
      ASSERT_NE(after->price, met->price);
    } else {
      ASSERT_EQ(after->price, met->price);
      ASSERT_EQ(after->qty, met->qty - step.qty);
    }
  }
  EXPECT_GT(trades, 1000u);
  EXPECT_GT(books, trades);
  EXPECT_GT(multi_level_walks, 10u);
  for (const std::size_t count : trades_per_symbol)
    EXPECT_GT(count, 200u);
}

// --------------------------------------------------------------------------------------------
// PublicFeed: order books

struct FeedFixture {
  std::unique_ptr<MarketSource> source;
  std::unique_ptr<PublicFeed> feed;
  std::vector<TopicMessage> out;
  std::int64_t now_ms = kStartMs;

  explicit FeedFixture(PublicCategory category = PublicCategory::linear, std::size_t levels = 200) {
    source = make_synthetic_source(small_options(99, levels));
    feed = std::make_unique<PublicFeed>(*source, builtin_instruments(), category);
  }
  TopicId topic(const std::string& name) const {
    const auto id = feed->find_topic(name);
    EXPECT_TRUE(id.has_value()) << name;
    return id.value_or(0);
  }
  /// Subscribes one more listener and returns its initial messages.
  std::vector<TopicMessage> subscribe(const std::string& name, std::size_t count) {
    const TopicId id = topic(name);
    feed->set_subscriber_count(id, count);
    std::vector<TopicMessage> initial;
    feed->initial_messages(id, now_ms, initial);
    return initial;
  }
  MarketStep step() {
    out.clear();
    now_ms += 7;
    const MarketStep step = source->next();
    feed->on_step(step, now_ms, out);
    return step;
  }
};

TEST(PublicFeed, TopicsOfEachListedSymbol) {
  FeedFixture fixture;
  for (const char* name : {"orderbook.1.BTCUSDT", "orderbook.50.ETHUSDT", "orderbook.200.SOLUSDT",
                           "publicTrade.BTCUSDT", "tickers.ETHUSDT", "kline.1.SOLUSDT"}) {
    const auto id = fixture.feed->find_topic(name);
    ASSERT_TRUE(id.has_value()) << name;
    EXPECT_EQ(fixture.feed->topic_name(*id), name);
  }
  EXPECT_FALSE(fixture.feed->find_topic("orderbook.7.BTCUSDT"));
  EXPECT_FALSE(fixture.feed->find_topic("publicTrade.DOGEUSDT"));
  EXPECT_FALSE(fixture.feed->find_topic("kline.5.BTCUSDT"));
  EXPECT_FALSE(fixture.feed->find_topic(""));
}

TEST(PublicFeed, OrderbookMessagesRebuildTheSourceTopNForEarlyAndLateSubscribers) {
  FeedFixture fixture;
  const std::vector<std::pair<std::string, std::size_t>> topics = {{"orderbook.1.BTCUSDT", 1},
                                                                   {"orderbook.50.BTCUSDT", 50},
                                                                   {"orderbook.200.BTCUSDT", 200},
                                                                   {"orderbook.50.SOLUSDT", 50}};
  Client early, late;
  std::map<TopicId, std::pair<std::string, std::size_t>> by_id;
  std::map<std::string, std::uint64_t> last_u;
  const auto check_u = [&](const std::string& topic, const std::string& json, bool snapshot) {
    const std::uint64_t u = u_of(json);
    if (!snapshot && last_u.count(topic)) {
      EXPECT_EQ(u, last_u[topic] + 1) << topic;
    }
    last_u[topic] = u;
  };
  for (const auto& [name, depth] : topics) {
    by_id[fixture.topic(name)] = {name, depth};
    const auto initial = fixture.subscribe(name, 1);
    ASSERT_EQ(initial.size(), 1u);
    EXPECT_NE(initial[0].json.find(R"j("type":"snapshot")j"), std::string::npos);
    ASSERT_EQ(early.apply_book(name, initial[0].json), feed::BookStatus::ok);
    check_u(name, initial[0].json, true);
  }
  std::size_t deltas = 0;
  for (int i = 0; i < 6000; ++i) {
    const MarketStep step = fixture.step();
    for (const TopicMessage& message : fixture.out) {
      const auto found = by_id.find(message.topic);
      if (found == by_id.end())
        continue;
      const auto& [name, depth] = found->second;
      const bool snapshot = message.json.find(R"j("type":"snapshot")j") != std::string::npos;
      EXPECT_EQ(snapshot, depth == 1) << message.json.substr(0, 120);
      deltas += snapshot ? 0 : 1;
      check_u(name, message.json, snapshot);
      ASSERT_EQ(early.apply_book(name, message.json), feed::BookStatus::ok) << name;
      if (i >= 3000) {
        ASSERT_EQ(late.apply_book(name, message.json), feed::BookStatus::ok) << name;
      }
    }
    if (i == 2999) {  // a second listener joins each topic
      for (const auto& [name, depth] : topics) {
        const auto initial = fixture.subscribe(name, 2);
        ASSERT_EQ(initial.size(), 1u);
        ASSERT_EQ(late.apply_book(name, initial[0].json), feed::BookStatus::ok);
      }
    }
    for (const auto& [name, depth] : topics) {
      const std::size_t symbol = name.find("SOL") != std::string::npos ? 2 : 0;
      if (symbol != step.symbol_index)
        continue;
      expect_top_equal(early.book(name), fixture.source->book(symbol), depth,
                       name + " step " + std::to_string(i));
      if (i >= 3000) {
        expect_top_equal(late.book(name), fixture.source->book(symbol), depth,
                         "late " + name + " step " + std::to_string(i));
      }
      if (::testing::Test::HasFatalFailure())
        return;
    }
  }
  EXPECT_GT(deltas, 1000u);
}

TEST(PublicFeed, OrderbookShapesAndKeyOrder) {
  FeedFixture fixture;
  const auto initial = fixture.subscribe("orderbook.50.BTCUSDT", 1);
  const std::string btc_level = R"j(["9.dd","9.ddd"])j";
  EXPECT_EQ(
      shape(initial[0].json),
      R"j({"topic":"orderbook.dd.BTCUSDT","type":"snapshot","ts":9,"data":{"s":"BTCUSDT","b":[)j" +
          repeat_joined(btc_level, 50) + R"j(],"a":[)j" + repeat_joined(btc_level, 50) +
          R"j(],"u":9,"seq":9},"cts":9})j");
  const auto level1 = fixture.subscribe("orderbook.1.SOLUSDT", 1);
  EXPECT_EQ(shape(level1[0].json),
            R"j({"topic":"orderbook.d.SOLUSDT","ts":9,"type":"snapshot","data":{"s":"SOLUSDT",)j"
            R"j("b":[["9.ddd","9.d"]],"a":[["9.ddd","9.d"]],"u":9,"seq":9},"cts":9})j");

  FeedFixture spot(PublicCategory::spot);
  const auto spot_book = spot.subscribe("orderbook.50.BTCUSDT", 1);
  EXPECT_EQ(spot_book[0].json.rfind(R"j({"topic":"orderbook.50.BTCUSDT","ts":)j", 0), 0u);
  EXPECT_NE(spot_book[0].json.find(R"j(,"type":"snapshot","data":{"s":"BTCUSDT","b":[[)j"),
            std::string::npos);
}

TEST(PublicFeed, Level1SnapshotIsResentAfterThreeSecondsWithTheSameU) {
  FeedFixture fixture;
  const auto initial = fixture.subscribe("orderbook.1.ETHUSDT", 1);
  std::vector<TopicMessage> out;
  fixture.feed->on_timer(fixture.now_ms + 2999, out);
  EXPECT_TRUE(out.empty());
  fixture.feed->on_timer(fixture.now_ms + 3000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(u_of(initial[0].json), u_of(out[0].json));
  Client client;
  ASSERT_EQ(client.apply_book("l1", initial[0].json), feed::BookStatus::ok);
  EXPECT_EQ(client.apply_book("l1", out[0].json), feed::BookStatus::duplicate);
}

TEST(PublicFeed, NoMessagesForTopicsWithoutSubscribers) {
  FeedFixture fixture;
  for (int i = 0; i < 500; ++i) {
    fixture.step();
    ASSERT_TRUE(fixture.out.empty());
  }
  // Unsubscribed, then subscribed again: a fresh snapshot, the book follows again.
  (void)fixture.subscribe("orderbook.50.BTCUSDT", 1);
  fixture.feed->set_subscriber_count(fixture.topic("orderbook.50.BTCUSDT"), 0);
  for (int i = 0; i < 200; ++i)
    fixture.step();
  Client client;
  const auto again = fixture.subscribe("orderbook.50.BTCUSDT", 1);
  ASSERT_EQ(client.apply_book("b", again[0].json), feed::BookStatus::ok);
  expect_top_equal(client.book("b"), fixture.source->book(0), 50, "resubscribed");
}

// --------------------------------------------------------------------------------------------
// PublicFeed: trades

TEST(PublicFeed, TradeMessagesDecodeToTheSteps) {
  FeedFixture fixture;
  EXPECT_TRUE(fixture.subscribe("publicTrade.BTCUSDT", 1).empty());
  (void)fixture.subscribe("publicTrade.SOLUSDT", 1);
  Client client;
  std::size_t trades = 0;
  for (int i = 0; i < 5000; ++i) {
    const MarketStep step = fixture.step();
    std::size_t trade_messages = 0;
    for (const TopicMessage& message : fixture.out) {
      if (message.json.find("publicTrade") == std::string::npos)
        continue;
      ++trade_messages;
      const bool btc = step.symbol_index == 0;
      const std::string side = step.taker_side == Side::buy ? "Buy" : "Sell";
      ASSERT_EQ(shape(message.json, step.trade_id),
                std::string(R"j({"topic":"publicTrade.)j") + (btc ? "BTCUSDT" : "SOLUSDT") +
                    R"j(","type":"snapshot","ts":9,"data":[{"T":9,"s":")j" +
                    (btc ? "BTCUSDT" : "SOLUSDT") + R"j(","S":")j" + side + R"j(","v":")j" +
                    (btc ? "9.ddd" : "9.d") + R"j(","p":")j" + (btc ? "9.dd" : "9.ddd") +
                    R"j(","L":"TICK","i":"ID","BT":false,"RPI":false,"seq":9}]})j");
      const feed::DecodeResult result = client.decode(message.json);
      ASSERT_TRUE(result.is_data());
      ASSERT_EQ(result.events, 1u);
      const MarketEvent& event = client.events(1)[0];
      EXPECT_EQ(event.type, MarketEventType::trade);
      EXPECT_EQ(event.trade.price, step.price);
      EXPECT_EQ(event.trade.qty, step.qty);
      EXPECT_EQ(event.side, step.taker_side);
      EXPECT_EQ(event.trade.trade_id, feed::text_id_hash(step.trade_id));
      EXPECT_EQ(event.trade.sequence, step.sequence);
      EXPECT_EQ(event.exch_ts, fixture.now_ms * 1'000'000);
      EXPECT_NE(message.json.find("\"i\":\"" + step.trade_id + "\""), std::string::npos);
    }
    const bool listened = step.kind == MarketStep::Kind::trade && step.symbol_index != 1;
    ASSERT_EQ(trade_messages, listened ? 1u : 0u);
    trades += trade_messages;
  }
  EXPECT_GT(trades, 200u);
  EXPECT_EQ(fixture.feed->last_price("ETHUSDT").raw() > 0, true);
}

TEST(PublicFeed, SpotTradeKeyOrder) {
  FeedFixture fixture(PublicCategory::spot);
  (void)fixture.subscribe("publicTrade.BTCUSDT", 1);
  for (int i = 0; i < 2000; ++i) {
    const MarketStep step = fixture.step();
    for (const TopicMessage& message : fixture.out) {
      const std::string side = step.taker_side == Side::buy ? "Buy" : "Sell";
      EXPECT_EQ(shape(message.json, step.trade_id),
                R"j({"topic":"publicTrade.BTCUSDT","ts":9,"type":"snapshot","data":[{"i":"ID",)j"
                R"j("T":9,"p":"9.dd","v":"9.ddd","S":")j" +
                    side + R"j(","seq":9,"s":"BTCUSDT","BT":false,"RPI":false}]})j");
      return;
    }
  }
  FAIL() << "no trade";
}

// --------------------------------------------------------------------------------------------
// PublicFeed: tickers

using Fields = std::map<std::string, std::string>;

Fields ticker_data(const std::string& json) {
  Fields fields;
  const nlohmann::json message = nlohmann::json::parse(json);
  for (const auto& [key, value] : message.at("data").items())
    fields[key] = value.get<std::string>();
  return fields;
}

TEST(PublicFeed, TickerDeltasMergeIntoTheSnapshot) {
  FeedFixture fixture;
  const auto initial = fixture.subscribe("tickers.BTCUSDT", 1);
  ASSERT_EQ(initial.size(), 1u);
  const auto snapshot = nlohmann::json::parse(initial[0].json);
  // Bybit's key order: topic, type, data, cs, ts.
  std::vector<std::string> keys;
  EXPECT_EQ(
      initial[0].json.rfind(
          R"j({"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","tickDirection":)j",
          0),
      0u);
  EXPECT_NE(initial[0].json.find(R"j(},"cs":)j"), std::string::npos);
  Fields merged = ticker_data(initial[0].json);
  for (const char* field :
       {"lastPrice", "bid1Price", "bid1Size", "ask1Price", "ask1Size", "markPrice", "indexPrice",
        "volume24h", "turnover24h", "price24hPcnt", "highPrice24h", "lowPrice24h", "tickDirection",
        "fundingRate", "nextFundingTime", "openInterest", "prevPrice24h"}) {
    EXPECT_TRUE(merged.count(field)) << field;
  }
  EXPECT_EQ(merged["volume24h"], "0.0000");
  std::size_t deltas = 0;
  for (int i = 0; i < 4000; ++i) {
    fixture.step();
    for (const TopicMessage& message : fixture.out) {
      if (message.json.find("\"tickers.") == std::string::npos)
        continue;
      ASSERT_NE(message.json.find(R"j("type":"delta")j"), std::string::npos);
      const Fields delta = ticker_data(message.json);
      ASSERT_EQ(delta.at("symbol"), "BTCUSDT");
      ASSERT_GT(delta.size(), 1u);
      for (const auto& [key, value] : delta) {
        if (key != "symbol") {
          ASSERT_NE(merged[key], value) << key << " sent unchanged";
        }
        merged[key] = value;
      }
      ++deltas;
    }
    if (i % 500 == 499) {
      // What a new subscriber gets equals what the first one merged, after pending changes.
      fixture.out.clear();
      fixture.now_ms += 100;
      fixture.feed->on_timer(fixture.now_ms, fixture.out);
      for (const TopicMessage& message : fixture.out) {
        if (message.json.find("\"tickers.") != std::string::npos) {
          for (const auto& [key, value] : ticker_data(message.json))
            merged[key] = value;
        }
      }
      const auto fresh = fixture.subscribe("tickers.BTCUSDT", 2);
      Fields expected = ticker_data(fresh[0].json);
      EXPECT_EQ(merged, expected) << "after step " << i;
    }
  }
  EXPECT_GT(deltas, 100u);
  // The last price and the best quotes agree with the source.
  const auto bid = fixture.source->book(0).best_bid();
  char text[32];
  EXPECT_EQ(merged["bid1Price"], std::string(text, bid->price.format_fixed(text, 2)));
}

TEST(PublicFeed, SpotTickersAreSnapshotsWithSpotFields) {
  FeedFixture fixture(PublicCategory::spot);
  const auto initial = fixture.subscribe("tickers.ETHUSDT", 1);
  EXPECT_EQ(initial[0].json.rfind(R"j({"topic":"tickers.ETHUSDT","ts":)j", 0), 0u);
  const auto fields = ticker_data(initial[0].json);
  std::vector<std::string> keys;
  for (const auto& [key, value] : fields)
    keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"highPrice24h", "lastPrice", "lowPrice24h",
                                            "prevPrice24h", "price24hPcnt", "symbol", "turnover24h",
                                            "usdIndexPrice", "volume24h"}));
  EXPECT_NE(initial[0].json.find(R"j("type":"snapshot","cs":)j"), std::string::npos);
}

// --------------------------------------------------------------------------------------------
// PublicFeed: klines (a scripted source)

using test::ScriptedSource;

MarketStep trade(const char* price, const char* qty, Side side) {
  MarketStep step;
  step.kind = MarketStep::Kind::trade;
  step.price = P(price);
  step.qty = Q(qty);
  step.taker_side = side;
  step.trade_id = "00000000-0000-0000-0000-000000000001";
  return step;
}

TEST(PublicFeed, CandlesFromTradesByHand) {
  ScriptedSource source({});
  PublicFeed feed(source, builtin_instruments(), PublicCategory::linear);
  const TopicId kline = feed.find_topic("kline.1.ETHUSDT").value();
  feed.set_subscriber_count(kline, 1);
  std::vector<TopicMessage> out;
  feed.initial_messages(kline, kStartMs, out);
  EXPECT_TRUE(out.empty());  // no candle before the first trade

  const std::int64_t minute = kStartMs;  // a whole minute
  const auto at = [&](std::int64_t ms, const char* price, const char* qty, Side side) {
    out.clear();
    feed.on_step(trade(price, qty, side), minute + ms, out);
    return out;
  };
  auto messages = at(1000, "3500.00", "1.00", Side::buy);
  ASSERT_EQ(messages.size(), 1u);                               // the first push
  EXPECT_TRUE(at(1500, "3501.50", "2.00", Side::buy).empty());  // < 1 s since the last push
  messages = at(2500, "3499.00", "0.50", Side::sell);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].json,
            R"j({"topic":"kline.1.ETHUSDT","data":[{"start":1767225600000,"end":1767225659999,)j"
            R"j("interval":"1","open":"3500","close":"3499","high":"3501.5","low":"3499",)j"
            R"j("volume":"3.5","turnover":"12252.5","confirm":false,"timestamp":1767225602500}],)j"
            R"j("ts":1767225602500,"type":"snapshot"})j");
  // 3500×1 + 3501.5×2 + 3499×0.5 = 3500 + 7003 + 1749.5 = 12252.5
  // The minute ends: the timer confirms the candle and opens the next one at the close.
  out.clear();
  feed.on_timer(minute + 60'000, out);
  ASSERT_GE(out.size(), 1u);
  EXPECT_NE(out[0].json.find(R"j("volume":"3.5","turnover":"12252.5","confirm":true,)j"),
            std::string::npos)
      << out[0].json;
  messages = at(61'000, "3502.00", "1.00", Side::buy);
  const auto candles = feed.candles("ETHUSDT");
  ASSERT_EQ(candles.size(), 2u);
  EXPECT_EQ(candles[0].start_ms, minute);
  EXPECT_EQ(candles[0].open, P("3500"));
  EXPECT_EQ(candles[0].high, P("3501.5"));
  EXPECT_EQ(candles[0].low, P("3499"));
  EXPECT_EQ(candles[0].close, P("3499"));
  EXPECT_EQ(candles[0].volume, Q("3.5"));
  EXPECT_EQ(candles[0].turnover, Amount::parse("12252.5").value());
  EXPECT_EQ(candles[0].last_trade_ms, minute + 2500);
  EXPECT_EQ(candles[1].start_ms, minute + 60'000);
  EXPECT_EQ(candles[1].open, P("3499"));  // opens at the previous close
  EXPECT_EQ(candles[1].high, P("3502"));
  EXPECT_EQ(candles[1].low, P("3499"));
  EXPECT_EQ(candles[1].close, P("3502"));
  EXPECT_EQ(candles[1].volume, Q("1"));
  EXPECT_EQ(feed.last_price("ETHUSDT"), P("3502"));
  EXPECT_TRUE(feed.candles("XRPUSDT").empty());
}

TEST(PublicFeed, SpotKlineKeyOrder) {
  ScriptedSource source({});
  PublicFeed feed(source, builtin_instruments(), PublicCategory::spot);
  const TopicId kline = feed.find_topic("kline.1.ETHUSDT").value();
  feed.set_subscriber_count(kline, 1);
  std::vector<TopicMessage> out;
  feed.on_step(trade("3500.00", "1.00", Side::buy), kStartMs, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(
      out[0].json.rfind(R"j({"type":"snapshot","topic":"kline.1.ETHUSDT","data":[{"start":)j", 0),
      0u)
      << out[0].json;
}

// --------------------------------------------------------------------------------------------
// Allocation: at most one string per message

TEST(PublicFeed, OneAllocationPerMessage) {
  FeedFixture fixture;
  for (const char* name : {"orderbook.1.BTCUSDT", "orderbook.50.BTCUSDT", "orderbook.200.BTCUSDT",
                           "publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT",
                           "orderbook.50.ETHUSDT", "publicTrade.SOLUSDT"})
    (void)fixture.subscribe(name, 1);
  std::vector<TopicMessage> out;
  out.reserve(64);
  std::uint64_t messages = 0;
  std::uint64_t allocations = 0;
  for (int i = 0; i < 3000; ++i) {
    const MarketStep step = fixture.source->next();  // the trade id may allocate: not counted
    out.clear();
    fixture.now_ms += 3;
    allocations +=
        test::count_allocations([&] { fixture.feed->on_step(step, fixture.now_ms, out); });
    messages += out.size();
  }
  EXPECT_GT(messages, 3000u);
  EXPECT_LE(allocations, messages);
}

// --------------------------------------------------------------------------------------------
// Replay

TEST(ReplaySource, ReproducesTheRecordedLinearBooks) {
  if (!std::filesystem::exists(kCapture))
    GTEST_SKIP() << "no capture at " << kCapture;
  ReplaySourceOptions options;
  options.path = kCapture;
  auto source = make_replay_source(options);
  const auto& symbols = source->symbols();
  for (const char* name : {"BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"})
    EXPECT_NE(std::find(symbols.begin(), symbols.end(), name), symbols.end()) << name;
  ASSERT_EQ(symbols.size(), 4u);  // the spot connection's books and trades are left out

  // The reference: the linear orderbook frames of the capture applied in file order.
  feed::CaptureLineSource lines = feed::CaptureLineSource::open_file(kCapture);
  Client reference;
  std::string_view line;
  std::string linear_conn;
  std::size_t recorded_trades = 0;
  std::string first_btc_trade;
  while (lines.next(line)) {
    const auto record = nlohmann::json::parse(line);
    if (record.at("t") == "connect" &&
        record.at("addr").get<std::string>().ends_with("/v5/public/linear"))
      linear_conn = record.at("conn");
    if (record.at("t") != "recv" || record.value("conn", "") != linear_conn)
      continue;
    const std::string frame = record.at("data");
    const auto message = nlohmann::json::parse(frame);
    const std::string topic = message.value("topic", "");
    if (topic.starts_with("orderbook.200."))
      (void)reference.apply_book(topic.substr(14), frame);
    if (topic.starts_with("publicTrade.")) {
      recorded_trades += message.at("data").size();
      if (first_btc_trade.empty() && topic == "publicTrade.BTCUSDT")
        first_btc_trade = message.at("data")[0].at("i");
    }
  }
  ASSERT_FALSE(first_btc_trade.empty());

  std::size_t books = 0, trades = 0;
  std::int64_t previous_ts = 0;
  bool saw_first_btc = false;
  for (;;) {
    const MarketStep step = source->next();
    if (step.kind == MarketStep::Kind::end)
      break;
    ASSERT_GE(step.exch_ts_ns, previous_ts);
    previous_ts = step.exch_ts_ns;
    if (step.kind == MarketStep::Kind::book) {
      ++books;
      ASSERT_FALSE(source->book(step.symbol_index).crossed());
    } else {
      ++trades;
      if (!saw_first_btc && symbols[step.symbol_index] == "BTCUSDT") {
        saw_first_btc = true;
        EXPECT_EQ(step.trade_id, first_btc_trade);
      }
    }
  }
  EXPECT_EQ(trades, recorded_trades);
  EXPECT_EQ(trades, 56u + 23u + 165u + 83u);  // the README's counts
  EXPECT_GT(books, 1500u);
  for (std::size_t index = 0; index < symbols.size(); ++index) {
    const feed::OrderBook& expected = reference.book(symbols[index]);
    const feed::OrderBook& actual = source->book(index);
    EXPECT_GT(actual.bid_depth(), 100u) << symbols[index];
    EXPECT_EQ(actual.update_id(), expected.update_id()) << symbols[index];
    expect_top_equal(actual, expected, 1000, symbols[index]);
  }
  EXPECT_EQ(source->next().kind, MarketStep::Kind::end);  // and stays at the end
}

TEST(ReplaySource, KineticCaptureReplaysLikeTheJsonLines) {
  if (!std::filesystem::exists(kCapture))
    GTEST_SKIP() << "no capture at " << kCapture;
  // The same frames as a kinetic capture: the linear connection's frames on stream 0, the
  // spot connection's on stream 1 (left out by the replay).
  std::string bytes;
  feed::append_capture_header(bytes, {feed::kCaptureVersion, 0, "test"});
  feed::append_capture_record(bytes, feed::RecordKind::connection_opened, 1,
                              "wss://stream.bybit.com/v5/public/linear", 0);
  feed::append_capture_record(bytes, feed::RecordKind::connection_opened, 1,
                              "wss://stream.bybit.com/v5/public/spot", 1);
  feed::CaptureLineSource lines = feed::CaptureLineSource::open_file(kCapture);
  std::map<std::string, std::uint16_t> streams;
  std::string_view line;
  while (lines.next(line)) {
    const auto record = nlohmann::json::parse(line);
    if (record.at("t") == "connect") {
      streams[record.at("conn")] =
          record.at("addr").get<std::string>().ends_with("/linear") ? 0 : 1;
    } else if (record.at("t") == "recv") {
      const auto ts = static_cast<std::int64_t>(record.at("ts").get<double>() * 1e9);
      feed::append_capture_record(bytes, feed::RecordKind::text_message, ts,
                                  record.at("data").get<std::string>(),
                                  streams.at(record.at("conn")));
    }
  }
  const std::string kcap = temp_path("replay.kcap");
  write_file(kcap, bytes);
  ReplaySourceOptions options;
  options.path = kcap;
  auto from_kcap = make_replay_source(options);
  options.path = kCapture;
  auto from_lines = make_replay_source(options);
  EXPECT_EQ(from_kcap->symbols(), from_lines->symbols());
  std::size_t steps = 0;
  for (;; ++steps) {
    const MarketStep a = from_kcap->next();
    const MarketStep b = from_lines->next();
    ASSERT_EQ(a.kind, b.kind) << steps;
    if (a.kind == MarketStep::Kind::end)
      break;
    ASSERT_EQ(a.symbol_index, b.symbol_index);
    ASSERT_EQ(a.price, b.price);
    ASSERT_EQ(a.qty, b.qty);
    ASSERT_EQ(a.trade_id, b.trade_id);
    ASSERT_EQ(a.sequence, b.sequence);
  }
  EXPECT_GT(steps, 1800u);
  for (std::size_t index = 0; index < from_kcap->symbols().size(); ++index)
    expect_top_equal(from_kcap->book(index), from_lines->book(index), 1000, "kcap");
  std::remove(kcap.c_str());
}

TEST(ReplaySource, LoopKeepsTimeIncreasing) {
  if (!std::filesystem::exists(kCapture))
    GTEST_SKIP() << "no capture at " << kCapture;
  ReplaySourceOptions options;
  options.path = kCapture;
  options.loop = true;
  auto source = make_replay_source(options);
  std::int64_t previous_ts = 0;
  std::size_t trades = 0;
  for (int i = 0; i < 5000; ++i) {  // more steps than one pass holds
    const MarketStep step = source->next();
    ASSERT_NE(step.kind, MarketStep::Kind::end);
    ASSERT_GE(step.exch_ts_ns, previous_ts);
    previous_ts = step.exch_ts_ns;
    trades += step.kind == MarketStep::Kind::trade ? 1 : 0;
  }
  EXPECT_GT(trades, 327u);
  for (std::size_t index = 0; index < source->symbols().size(); ++index)
    EXPECT_FALSE(source->book(index).crossed());
}

TEST(ReplaySource, PublicFeedRebuildsReplayedBooks) {
  if (!std::filesystem::exists(kCapture))
    GTEST_SKIP() << "no capture at " << kCapture;
  ReplaySourceOptions options;
  options.path = kCapture;
  auto source = make_replay_source(options);
  PublicFeed feed(*source, builtin_instruments(), PublicCategory::linear);
  EXPECT_FALSE(feed.find_topic("orderbook.50.DOGEUSDT"));  // no instrument: not served
  const TopicId topic = feed.find_topic("orderbook.200.SOLUSDT").value();
  feed.set_subscriber_count(topic, 1);
  Client client;
  std::vector<TopicMessage> out;
  std::int64_t now = kStartMs;
  bool subscribed = false;
  const auto sol = static_cast<std::size_t>(
      std::find(source->symbols().begin(), source->symbols().end(), "SOLUSDT") -
      source->symbols().begin());
  for (;;) {
    const MarketStep step = source->next();
    if (step.kind == MarketStep::Kind::end)
      break;
    out.clear();
    feed.on_step(step, ++now, out);
    if (!subscribed && source->book(sol).bid_depth() > 0) {
      feed.initial_messages(topic, now, out);
      subscribed = true;
    }
    for (const TopicMessage& message : out)
      ASSERT_EQ(client.apply_book("sol", message.json), feed::BookStatus::ok);
    if (subscribed && step.symbol_index == sol)
      expect_top_equal(client.book("sol"), source->book(sol), 200, "replay");
  }
  EXPECT_TRUE(subscribed);
}

TEST(ReplaySource, BadFilesGiveClearErrors) {
  const auto expect_error = [](const std::string& path, const std::string& part) {
    ReplaySourceOptions options;
    options.path = path;
    try {
      (void)make_replay_source(options);
      ADD_FAILURE() << "no exception for " << path;
    } catch (const std::runtime_error& error) {
      const std::string what = error.what();
      EXPECT_EQ(what.rfind(path, 0), 0u) << what;
      EXPECT_NE(what.find(part), std::string::npos) << what;
    }
  };
  expect_error(temp_path("absent.jsonl"), "cannot open");

  const std::string text = temp_path("text.txt");
  write_file(text, "hello, this is not a capture\n");
  expect_error(text, "not JSON");

  const std::string empty = temp_path("nodata.jsonl");
  write_file(empty, R"j({"t":"header","format":2})j"
                    "\n"
                    R"j({"t":"recv","conn":"c","ts":1.5,"data":"{\"op\":\"pong\"}"})j"
                    "\n");
  expect_error(empty, "no linear market data");

  const std::string kcap = temp_path("damaged.kcap");
  write_file(kcap, std::string("\x89KCAP\r\n\x1a", 8) + std::string(40, '\x07'));
  expect_error(kcap, "");

  const std::string zst = temp_path("broken.zst");
  write_file(zst, std::string("\x28\xb5\x2f\xfd", 4) + std::string(64, '\x55'));
  expect_error(zst, "zstd");
  for (const auto& path : {text, empty, kcap, zst})
    std::remove(path.c_str());
}

}  // namespace
}  // namespace kinetic::exchange
