// PublicFeed: the market source's steps as Bybit v5 public stream messages. See
// market_source.hpp for the contract and docs/bybit-v5.md §1.5–1.9 for the shapes; the key
// orders follow the frames recorded in ../shared/data/bybit-ws-v5-cryptofeed.

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <map>
#include <string>

#include "json_out.hpp"
#include "kinetic/core/int128.hpp"
#include "market_source.hpp"

namespace kinetic::exchange {
namespace {

enum TopicKind : std::uint32_t {
  kBook1 = 0,
  kBook50,
  kBook200,
  kTrade,
  kTicker,
  kKline,
  kTopicsPerSymbol
};
constexpr std::size_t kBookDepths[] = {1, 50, 200};
constexpr std::int64_t kLevel1ResendMs = 3000;
constexpr std::int64_t kTickerIntervalMs = 100;
constexpr std::int64_t kKlinePushMs = 1000;
constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::size_t kMaxCandles = 1000;
constexpr std::uint64_t kFirstUpdateId = 10'000;

/// The last published top N of one orderbook topic and its update id.
struct BookTopic {
  std::size_t depth = 1;
  bool tracking = false;  ///< published state follows the book (someone subscribed)
  std::uint64_t u = kFirstUpdateId;
  std::vector<feed::BookLevel> bids;
  std::vector<feed::BookLevel> asks;
  std::int64_t last_sent_ms = 0;
};

/// One ticker field's text (fixed room: the longest is a 21-character decimal).
struct FieldText {
  char text[32] = {};
  std::uint8_t length = 0;
  [[nodiscard]] std::string_view view() const noexcept { return {text, length}; }
  void set(std::string_view value) noexcept {
    length = static_cast<std::uint8_t>(std::min(value.size(), sizeof text));
    std::memcpy(text, value.data(), length);
  }
  friend bool operator==(const FieldText& a, const FieldText& b) noexcept {
    return a.view() == b.view();
  }
};

// Bybit's linear ticker fields, in the order of a recorded snapshot.
constexpr std::string_view kLinearTickerFields[] = {
    "symbol",       "tickDirection",     "price24hPcnt", "lastPrice", "prevPrice24h",
    "highPrice24h", "lowPrice24h",       "prevPrice1h",  "markPrice", "indexPrice",
    "openInterest", "openInterestValue", "turnover24h",  "volume24h", "fundingIntervalHour",
    "fundingCap",   "nextFundingTime",   "fundingRate",  "bid1Price", "bid1Size",
    "ask1Price",    "ask1Size",          "preOpenPrice", "preQty",    "curPreListingPhase"};
enum LinearField : std::size_t {
  fSymbol,
  fTickDirection,
  fPrice24hPcnt,
  fLastPrice,
  fPrevPrice24h,
  fHighPrice24h,
  fLowPrice24h,
  fPrevPrice1h,
  fMarkPrice,
  fIndexPrice,
  fOpenInterest,
  fOpenInterestValue,
  fTurnover24h,
  fVolume24h,
  fFundingIntervalHour,
  fFundingCap,
  fNextFundingTime,
  fFundingRate,
  fBid1Price,
  fBid1Size,
  fAsk1Price,
  fAsk1Size,
  fPreOpenPrice,
  fPreQty,
  fCurPreListingPhase,
  kLinearFieldCount
};
static_assert(std::size(kLinearTickerFields) == kLinearFieldCount);
// Bybit's spot ticker fields (snapshot only).
constexpr std::string_view kSpotTickerFields[] = {"symbol",      "lastPrice",    "highPrice24h",
                                                  "lowPrice24h", "prevPrice24h", "volume24h",
                                                  "turnover24h", "price24hPcnt", "usdIndexPrice"};

using TickerFields = std::array<FieldText, kLinearFieldCount>;

enum class TickDirection : std::uint8_t { plus, zero_plus, minus, zero_minus };
constexpr std::string_view to_text(TickDirection direction) noexcept {
  switch (direction) {
    case TickDirection::plus:
      return "PlusTick";
    case TickDirection::zero_plus:
      return "ZeroPlusTick";
    case TickDirection::minus:
      return "MinusTick";
    case TickDirection::zero_minus:
      return "ZeroMinusTick";
  }
  return "ZeroPlusTick";
}

struct SymbolState {
  std::string name;
  std::size_t source_index = 0;
  ExchangeInstrument instrument;
  std::array<BookTopic, 3> books;
  std::array<std::size_t, kTopicsPerSymbol> subscribers{};
  std::uint64_t book_update_id = kFirstUpdateId;  ///< the virtual 1000-level stream's u
  std::uint64_t sequence = 0;

  // Trades so far.
  Price last_price{};
  Price first_price{};
  Price high{};
  Price low{};
  TickDirection direction = TickDirection::zero_plus;
  Qty volume{};
  Amount turnover{};
  bool traded = false;

  // Tickers.
  TickerFields published{};
  bool ticker_tracking = false;
  bool ticker_dirty = false;
  std::int64_t ticker_pushed_ms = 0;

  // Candles.
  Candle candle{};
  bool have_candle = false;
  bool kline_dirty = false;
  std::int64_t kline_pushed_ms = 0;
  std::deque<Candle> history;
};

/// The amount price × qty, cut to 1e-8 (0 when out of range).
Amount times(Price price, Qty qty) noexcept {
  return notional(price, qty).value_or(Amount{});
}

}  // namespace

struct PublicFeed::Impl {
  const MarketSource& source;
  std::vector<ExchangeInstrument> instruments;
  PublicCategory category;
  std::vector<SymbolState> symbols;
  std::vector<int> state_of_source;  ///< source index → symbols index, or -1
  std::vector<std::string> topic_names;
  std::map<std::string, TopicId, std::less<>> topics;
  // Scratch for deltas (reserved once).
  std::vector<feed::BookLevel> bid_changes;
  std::vector<feed::BookLevel> ask_changes;
  TickerFields current{};

  Impl(const MarketSource& market, std::vector<ExchangeInstrument> list, PublicCategory kind)
      : source(market), instruments(std::move(list)), category(kind) {
    const auto& names = source.symbols();
    state_of_source.assign(names.size(), -1);
    std::size_t deepest = 1;
    for (std::size_t index = 0; index < names.size(); ++index) {
      const ExchangeInstrument* instrument = find_instrument(instruments, names[index]);
      if (instrument == nullptr)
        continue;  // not listed: nothing to trade, nothing to publish
      state_of_source[index] = static_cast<int>(symbols.size());
      SymbolState state;
      state.name = names[index];
      state.source_index = index;
      state.instrument = *instrument;
      state.sequence = source.book(index).sequence();
      for (std::size_t depth = 0; depth < 3; ++depth) {
        state.books[depth].depth = kBookDepths[depth];
        state.books[depth].bids.reserve(kBookDepths[depth]);
        state.books[depth].asks.reserve(kBookDepths[depth]);
        deepest = std::max(deepest, kBookDepths[depth]);
      }
      const auto symbol_number = static_cast<TopicId>(symbols.size());
      const std::string topic_texts[kTopicsPerSymbol] = {
          "orderbook.1." + state.name, "orderbook.50." + state.name, "orderbook.200." + state.name,
          "publicTrade." + state.name, "tickers." + state.name,      "kline.1." + state.name};
      for (TopicId kind_index = 0; kind_index < kTopicsPerSymbol; ++kind_index) {
        topics.emplace(topic_texts[kind_index], symbol_number * kTopicsPerSymbol + kind_index);
        topic_names.push_back(topic_texts[kind_index]);
      }
      symbols.push_back(std::move(state));
    }
    bid_changes.reserve(2 * deepest);
    ask_changes.reserve(2 * deepest);
  }

  [[nodiscard]] const feed::OrderBook& book_of(const SymbolState& state) const noexcept {
    return source.book(state.source_index);
  }
  [[nodiscard]] bool linear() const noexcept { return category == PublicCategory::linear; }

  // --- orderbook ---------------------------------------------------------------------------

  static void take_top(const feed::OrderBook& book, BookTopic& topic) {
    const auto bids = book.bids().first(std::min(topic.depth, book.bid_depth()));
    const auto asks = book.asks().first(std::min(topic.depth, book.ask_depth()));
    topic.bids.assign(bids.begin(), bids.end());
    topic.asks.assign(asks.begin(), asks.end());
  }

  /// Changes from `before` to `after` (both best first) into `changes`, best first; a level
  /// gone gets size 0.
  template <bool kBid>
  static void diff(std::span<const feed::BookLevel> before, std::span<const feed::BookLevel> after,
                   std::vector<feed::BookLevel>& changes) {
    changes.clear();
    std::size_t i = 0, j = 0;
    while (i < before.size() && j < after.size()) {
      const Price old_price = before[i].price;
      const Price new_price = after[j].price;
      if (old_price == new_price) {
        if (before[i].qty != after[j].qty)
          changes.push_back(after[j]);
        ++i;
        ++j;
      } else if (kBid ? old_price > new_price : old_price < new_price) {
        changes.push_back({old_price, Qty{}});
        ++i;
      } else {
        changes.push_back(after[j]);
        ++j;
      }
    }
    for (; i < before.size(); ++i)
      changes.push_back({before[i].price, Qty{}});
    for (; j < after.size(); ++j)
      changes.push_back(after[j]);
  }

  /// `[["price","size"],...]`: each level formatted into a stack buffer and appended at once
  /// (the bulk of a book message; JsonOut would add it a character at a time).
  static void write_levels(JsonOut& json, const SymbolState& state,
                           std::span<const feed::BookLevel> levels) {
    json.raw("[");
    std::string& text = json.str();
    char level_text[2 * Price::kMaxFormattedLength + 8];
    for (std::size_t i = 0; i < levels.size(); ++i) {
      char* cursor = level_text;
      if (i != 0)
        *cursor++ = ',';
      *cursor++ = '[';
      *cursor++ = '"';
      cursor += levels[i].price.format_fixed(cursor, state.instrument.price_decimals);
      *cursor++ = '"';
      *cursor++ = ',';
      *cursor++ = '"';
      cursor += levels[i].qty.format_fixed(cursor, state.instrument.qty_decimals);
      *cursor++ = '"';
      *cursor++ = ']';
      text.append(level_text, static_cast<std::size_t>(cursor - level_text));
    }
    text.push_back(']');
  }

  std::string book_message(const SymbolState& state, const BookTopic& topic, bool snapshot,
                           std::span<const feed::BookLevel> bids,
                           std::span<const feed::BookLevel> asks, std::int64_t now_ms) const {
    std::string text;
    text.reserve(192 + state.name.size() + 32 * (bids.size() + asks.size()));
    JsonOut json(text);
    json.begin_object();
    json.key("topic").raw("\"orderbook.");
    text.append(std::to_string(topic.depth));  // small: no allocation past SSO
    text.push_back('.');
    text.append(state.name);
    text.push_back('"');
    const std::string_view type = snapshot ? "snapshot" : "delta";
    // Spot (all depths) and linear level 1 put ts before type (docs §1.5).
    if (!linear() || topic.depth == 1) {
      json.field("ts", now_ms).field("type", type);
    } else {
      json.field("type", type).field("ts", now_ms);
    }
    json.key("data").begin_object().field("s", std::string_view(state.name));
    json.key("b");
    write_levels(json, state, bids);
    json.key("a");
    write_levels(json, state, asks);
    json.field("u", topic.u).field("seq", state.sequence).end_object();
    json.field("cts", now_ms).end_object();
    return text;
  }

  void publish_book(SymbolState& state, std::size_t depth_index, std::int64_t now_ms,
                    std::vector<TopicMessage>& out) {
    BookTopic& topic = state.books[depth_index];
    const auto topic_id = topic_of(state, static_cast<TopicKind>(kBook1 + depth_index));
    const feed::OrderBook& book = book_of(state);
    const auto bids = book.bids().first(std::min(topic.depth, book.bid_depth()));
    const auto asks = book.asks().first(std::min(topic.depth, book.ask_depth()));
    diff<true>(topic.bids, bids, bid_changes);
    diff<false>(topic.asks, asks, ask_changes);
    if (bid_changes.empty() && ask_changes.empty())
      return;
    ++topic.u;
    topic.bids.assign(bids.begin(), bids.end());
    topic.asks.assign(asks.begin(), asks.end());
    if (topic.depth == 1) {  // level 1: snapshots only
      out.push_back({topic_id, book_message(state, topic, true, topic.bids, topic.asks, now_ms)});
      topic.last_sent_ms = now_ms;
      return;
    }
    out.push_back({topic_id, book_message(state, topic, false, bid_changes, ask_changes, now_ms)});
  }

  void start_book(SymbolState& state, BookTopic& topic, std::int64_t now_ms) {
    if (topic.tracking)
      return;
    take_top(book_of(state), topic);
    ++topic.u;
    topic.tracking = true;
    topic.last_sent_ms = now_ms;
  }

  // --- trades ------------------------------------------------------------------------------

  std::string trade_message(const SymbolState& state, const MarketStep& step,
                            std::int64_t now_ms) const {
    std::string text;
    text.reserve(320 + 2 * state.name.size() + step.trade_id.size());
    JsonOut json(text);
    const std::string_view side = step.taker_side == Side::buy ? "Buy" : "Sell";
    json.begin_object().key("topic").raw("\"publicTrade.");
    text.append(state.name);
    text.push_back('"');
    if (linear()) {
      json.field("type", "snapshot").field("ts", now_ms);
      json.key("data").begin_array().begin_object();
      json.field("T", now_ms).field("s", std::string_view(state.name)).field("S", side);
      json.key("v").decimal_fixed(step.qty, state.instrument.qty_decimals);
      json.key("p").decimal_fixed(step.price, state.instrument.price_decimals);
      json.field("L", to_text(state.direction)).field("i", std::string_view(step.trade_id));
      json.field("BT", false).field("RPI", false).field("seq", step.sequence);
    } else {
      json.field("ts", now_ms).field("type", "snapshot");
      json.key("data").begin_array().begin_object();
      json.field("i", std::string_view(step.trade_id)).field("T", now_ms);
      json.key("p").decimal_fixed(step.price, state.instrument.price_decimals);
      json.key("v").decimal_fixed(step.qty, state.instrument.qty_decimals);
      json.field("S", side).field("seq", step.sequence).field("s", std::string_view(state.name));
      json.field("BT", false).field("RPI", false);
    }
    json.end_object().end_array().end_object();
    return text;
  }

  static void record_trade(SymbolState& state, const MarketStep& step) {
    if (!state.traded) {
      state.first_price = state.high = state.low = step.price;
      state.traded = true;
      state.direction = TickDirection::zero_plus;
    } else if (step.price > state.last_price) {
      state.direction = TickDirection::plus;
    } else if (step.price < state.last_price) {
      state.direction = TickDirection::minus;
    } else {
      state.direction =
          state.direction == TickDirection::plus || state.direction == TickDirection::zero_plus
              ? TickDirection::zero_plus
              : TickDirection::zero_minus;
    }
    state.last_price = step.price;
    state.high = std::max(state.high, step.price);
    state.low = std::min(state.low, step.price);
    state.volume += step.qty;
    state.turnover += times(step.price, step.qty);
  }

  // --- tickers -----------------------------------------------------------------------------

  /// The ticker's reference price before any trade: the mid of the book, on the tick grid.
  [[nodiscard]] Price mark_price(const SymbolState& state) const noexcept {
    const feed::OrderBook& book = book_of(state);
    const auto bid = book.best_bid();
    const auto ask = book.best_ask();
    if (bid && ask) {
      const Price mid = Price::from_raw(bid->price.raw() / 2 + ask->price.raw() / 2);
      return mid.round_nearest(state.instrument.rules.tick_size);
    }
    if (bid)
      return bid->price;
    if (ask)
      return ask->price;
    return state.last_price;
  }

  void compute_ticker(const SymbolState& state, std::int64_t now_ms, TickerFields& fields) const {
    const int price_digits = state.instrument.price_decimals;
    const int qty_digits = state.instrument.qty_decimals;
    char buffer[Amount::kMaxFormattedLength];
    const auto fixed = [&](auto value, int digits) {
      return std::string_view(buffer, value.format_fixed(buffer, digits));
    };
    const auto shortest = [&](auto value) {
      return std::string_view(buffer, value.format(buffer));
    };
    const Price mark = mark_price(state);
    const Price last = state.traded ? state.last_price : mark;
    const Price first = state.traded ? state.first_price : mark;
    // price24hPcnt: exact ratio to 1e-6 (linear) / 1e-4 (spot), Bybit's precision.
    Amount change{};
    if (first.raw() > 0) {
      const int128 ratio =
          static_cast<int128>(last.raw() - first.raw()) * Amount::kScale / first.raw();
      const std::int64_t unit = linear() ? 100 : 10'000;
      change = Amount::from_raw(static_cast<std::int64_t>(ratio / unit * unit));
    }
    fields[fSymbol].set(state.name);
    fields[fTickDirection].set(to_text(state.direction));
    fields[fPrice24hPcnt].set(shortest(change));
    fields[fLastPrice].set(fixed(last, price_digits));
    fields[fPrevPrice24h].set(fixed(first, price_digits));
    fields[fHighPrice24h].set(fixed(state.traded ? state.high : last, price_digits));
    fields[fLowPrice24h].set(fixed(state.traded ? state.low : last, price_digits));
    fields[fPrevPrice1h].set(fixed(first, price_digits));
    fields[fMarkPrice].set(fixed(mark, price_digits));
    fields[fIndexPrice].set(fixed(mark, price_digits));
    // Open interest: a steady 40 × the largest order, a plausible size for a liquid perp.
    const Qty open_interest = Qty::from_raw(state.instrument.rules.max_order_qty.raw() * 40);
    fields[fOpenInterest].set(fixed(open_interest, qty_digits));
    fields[fOpenInterestValue].set(fixed(times(mark, open_interest), 2));
    fields[fTurnover24h].set(linear() ? fixed(state.turnover, 4) : shortest(state.turnover));
    fields[fVolume24h].set(linear() ? fixed(state.volume, 4) : shortest(state.volume));
    fields[fFundingIntervalHour].set("8");
    fields[fFundingCap].set("0.005");
    constexpr std::int64_t kFundingMs = 8 * 3600 * 1000;
    const std::int64_t next_funding = (now_ms / kFundingMs + 1) * kFundingMs;
    fields[fNextFundingTime].set(std::to_string(next_funding));  // 13 digits: SSO
    fields[fFundingRate].set("0.0001");
    const feed::OrderBook& book = book_of(state);
    const auto bid = book.best_bid();
    const auto ask = book.best_ask();
    fields[fBid1Price].set(bid ? fixed(bid->price, price_digits) : std::string_view());
    fields[fBid1Size].set(bid ? fixed(bid->qty, qty_digits) : std::string_view());
    fields[fAsk1Price].set(ask ? fixed(ask->price, price_digits) : std::string_view());
    fields[fAsk1Size].set(ask ? fixed(ask->qty, qty_digits) : std::string_view());
    fields[fPreOpenPrice].set("");
    fields[fPreQty].set("");
    fields[fCurPreListingPhase].set("");
  }

  /// A linear snapshot (all fields) or delta (symbol + the fields that differ from
  /// `published`), or a spot snapshot.
  std::string ticker_message(const SymbolState& state, const TickerFields& fields, bool snapshot,
                             std::int64_t now_ms) const {
    std::string text;
    text.reserve(linear() ? (snapshot ? 1024 : 512) : 512);
    JsonOut json(text);
    json.begin_object().key("topic").raw("\"tickers.");
    text.append(state.name);
    text.push_back('"');
    if (linear()) {
      json.field("type", snapshot ? "snapshot" : "delta");
      json.key("data").begin_object();
      for (std::size_t field = 0; field < kLinearFieldCount; ++field) {
        if (snapshot || field == fSymbol || !(fields[field] == state.published[field]))
          json.field(kLinearTickerFields[field], fields[field].view());
      }
      json.end_object().field("cs", state.sequence).field("ts", now_ms).end_object();
      return text;
    }
    json.field("ts", now_ms).field("type", "snapshot").field("cs", state.sequence);
    json.key("data").begin_object();
    const std::size_t spot_source[] = {fSymbol,      fLastPrice,    fHighPrice24h,
                                       fLowPrice24h, fPrevPrice24h, fVolume24h,
                                       fTurnover24h, fPrice24hPcnt, fIndexPrice};
    for (std::size_t field = 0; field < std::size(kSpotTickerFields); ++field)
      json.field(kSpotTickerFields[field], fields[spot_source[field]].view());
    json.end_object().end_object();
    return text;
  }

  void publish_ticker(SymbolState& state, std::int64_t now_ms, std::vector<TopicMessage>& out) {
    if (!state.ticker_tracking || state.subscribers[kTicker] == 0)
      return;
    if (now_ms - state.ticker_pushed_ms < kTickerIntervalMs) {
      state.ticker_dirty = true;
      return;
    }
    state.ticker_dirty = false;
    compute_ticker(state, now_ms, current);
    if (current == state.published)
      return;
    out.push_back({topic_of(state, kTicker), ticker_message(state, current, !linear(), now_ms)});
    state.published = current;
    state.ticker_pushed_ms = now_ms;
  }

  // --- klines ------------------------------------------------------------------------------

  std::string kline_message(const SymbolState& state, const Candle& candle, bool confirm,
                            std::int64_t now_ms) const {
    std::string text;
    text.reserve(400 + state.name.size());
    JsonOut json(text);
    json.begin_object();
    const auto topic = [&] {
      json.key("topic").raw("\"kline.1.");
      text.append(state.name);
      text.push_back('"');
    };
    if (linear()) {
      topic();
    } else {
      json.field("type", "snapshot");
      topic();
    }
    json.key("data").begin_array().begin_object();
    json.field("start", candle.start_ms).field("end", candle.start_ms + kMinuteMs - 1);
    json.field("interval", "1");
    json.field("open", candle.open).field("close", candle.close);
    json.field("high", candle.high).field("low", candle.low);
    json.field("volume", candle.volume).field("turnover", candle.turnover);
    json.field("confirm", confirm).field("timestamp", candle.last_trade_ms);
    json.end_object().end_array().field("ts", now_ms);
    if (linear())
      json.field("type", "snapshot");
    json.end_object();
    return text;
  }

  /// Closes the current candle when `now_ms` is past its minute (confirmed message for
  /// subscribers), and opens the candles up to the minute of `now_ms` from the last close.
  void roll_candle(SymbolState& state, std::int64_t now_ms, std::vector<TopicMessage>* out) {
    if (!state.have_candle || now_ms < state.candle.start_ms + kMinuteMs)
      return;
    const bool subscribed = state.subscribers[kKline] > 0;
    for (int guard = 0; state.candle.start_ms + kMinuteMs <= now_ms; ++guard) {
      if (out != nullptr && subscribed && guard == 0)
        out->push_back({topic_of(state, kKline), kline_message(state, state.candle, true, now_ms)});
      state.history.push_back(state.candle);
      if (state.history.size() > kMaxCandles)
        state.history.pop_front();
      Candle next;
      next.start_ms = state.candle.start_ms + kMinuteMs;
      if (guard >= static_cast<int>(kMaxCandles))  // a long pause: jump to now
        next.start_ms = now_ms / kMinuteMs * kMinuteMs;
      next.open = next.high = next.low = next.close = state.candle.close;
      next.last_trade_ms = next.start_ms;
      state.candle = next;
    }
    state.kline_dirty = true;
  }

  void add_to_candle(SymbolState& state, const MarketStep& step, std::int64_t now_ms,
                     std::vector<TopicMessage>& out) {
    roll_candle(state, now_ms, &out);
    Candle& candle = state.candle;
    if (!state.have_candle) {
      candle = Candle{};
      candle.start_ms = now_ms / kMinuteMs * kMinuteMs;
      candle.open = candle.high = candle.low = step.price;
      state.have_candle = true;
    }
    candle.high = std::max(candle.high, step.price);
    candle.low = std::min(candle.low, step.price);
    candle.close = step.price;
    candle.volume += step.qty;
    candle.turnover += times(step.price, step.qty);
    candle.last_trade_ms = now_ms;
    state.kline_dirty = true;
    push_candle(state, now_ms, out);
  }

  void push_candle(SymbolState& state, std::int64_t now_ms, std::vector<TopicMessage>& out) {
    if (!state.kline_dirty || state.subscribers[kKline] == 0)
      return;
    if (now_ms - state.kline_pushed_ms < kKlinePushMs)
      return;
    out.push_back({topic_of(state, kKline), kline_message(state, state.candle, false, now_ms)});
    state.kline_dirty = false;
    state.kline_pushed_ms = now_ms;
  }

  // --- topics ------------------------------------------------------------------------------

  [[nodiscard]] TopicId topic_of(const SymbolState& state, TopicKind kind) const noexcept {
    const auto symbol_number = static_cast<TopicId>(&state - symbols.data());
    return symbol_number * kTopicsPerSymbol + kind;
  }
  [[nodiscard]] SymbolState* symbol_of(TopicId topic) noexcept {
    const std::size_t number = topic / kTopicsPerSymbol;
    return number < symbols.size() ? &symbols[number] : nullptr;
  }
  [[nodiscard]] const SymbolState* find_symbol(std::string_view name) const noexcept {
    for (const SymbolState& state : symbols) {
      if (state.name == name)
        return &state;
    }
    return nullptr;
  }
};

PublicFeed::PublicFeed(const MarketSource& source, std::vector<ExchangeInstrument> instruments,
                       PublicCategory category)
    : impl_(std::make_unique<Impl>(source, std::move(instruments), category)) {}

PublicFeed::~PublicFeed() = default;

std::optional<TopicId> PublicFeed::find_topic(std::string_view topic) const {
  const auto found = impl_->topics.find(topic);
  if (found == impl_->topics.end())
    return std::nullopt;
  return found->second;
}

std::string_view PublicFeed::topic_name(TopicId topic) const {
  return topic < impl_->topic_names.size() ? std::string_view(impl_->topic_names[topic])
                                           : std::string_view();
}

void PublicFeed::set_subscriber_count(TopicId topic, std::size_t count) {
  SymbolState* state = impl_->symbol_of(topic);
  if (state == nullptr)
    return;
  const auto kind = static_cast<TopicKind>(topic % kTopicsPerSymbol);
  state->subscribers[kind] = count;
  if (count != 0)
    return;
  // Nobody listens: stop computing; the next subscriber starts from a fresh snapshot.
  if (kind <= kBook200)
    state->books[kind].tracking = false;
  if (kind == kTicker)
    state->ticker_tracking = false;
}

void PublicFeed::initial_messages(TopicId topic, std::int64_t now_ms,
                                  std::vector<TopicMessage>& out) {
  Impl& impl = *impl_;
  SymbolState* state = impl.symbol_of(topic);
  if (state == nullptr)
    return;
  const auto kind = static_cast<TopicKind>(topic % kTopicsPerSymbol);
  switch (kind) {
    case kBook1:
    case kBook50:
    case kBook200: {
      BookTopic& book = state->books[kind];
      impl.start_book(*state, book, now_ms);
      out.push_back({topic, impl.book_message(*state, book, true, book.bids, book.asks, now_ms)});
      break;
    }
    case kTicker:
      impl.compute_ticker(*state, now_ms, impl.current);
      if (!state->ticker_tracking) {
        // The first listener: later deltas are relative to this snapshot. A later listener's
        // snapshot leaves `published` alone, so the earlier ones miss no change.
        state->published = impl.current;
        state->ticker_tracking = true;
        state->ticker_pushed_ms = now_ms;
        state->ticker_dirty = false;
      }
      out.push_back({topic, impl.ticker_message(*state, impl.current, true, now_ms)});
      break;
    case kKline:
      // The candle as it is: closing it is on_timer's, which tells every subscriber.
      if (state->have_candle)
        out.push_back({topic, impl.kline_message(*state, state->candle, false, now_ms)});
      break;
    default:
      break;
  }
}

void PublicFeed::on_step(const MarketStep& step, std::int64_t now_ms,
                         std::vector<TopicMessage>& out) {
  Impl& impl = *impl_;
  if (step.kind == MarketStep::Kind::end || step.symbol_index >= impl.state_of_source.size())
    return;
  const int number = impl.state_of_source[step.symbol_index];
  if (number < 0)
    return;
  SymbolState& state = impl.symbols[static_cast<std::size_t>(number)];
  state.sequence = step.sequence != 0 ? step.sequence : state.sequence + 1;
  ++state.book_update_id;  // every step changes the book
  if (step.kind == MarketStep::Kind::trade) {
    Impl::record_trade(state, step);
    if (state.subscribers[kTrade] > 0)
      out.push_back({impl.topic_of(state, kTrade), impl.trade_message(state, step, now_ms)});
    impl.add_to_candle(state, step, now_ms, out);
  }
  for (std::size_t depth = 0; depth < state.books.size(); ++depth) {
    if (state.books[depth].tracking && state.subscribers[kBook1 + depth] > 0)
      impl.publish_book(state, depth, now_ms, out);
  }
  impl.publish_ticker(state, now_ms, out);
}

void PublicFeed::on_timer(std::int64_t now_ms, std::vector<TopicMessage>& out) {
  Impl& impl = *impl_;
  for (SymbolState& state : impl.symbols) {
    BookTopic& level1 = state.books[0];
    if (level1.tracking && state.subscribers[kBook1] > 0 &&
        now_ms - level1.last_sent_ms >= kLevel1ResendMs) {
      out.push_back({impl.topic_of(state, kBook1),
                     impl.book_message(state, level1, true, level1.bids, level1.asks, now_ms)});
      level1.last_sent_ms = now_ms;
    }
    if (state.ticker_dirty)
      impl.publish_ticker(state, now_ms, out);
    impl.roll_candle(state, now_ms, &out);
    impl.push_candle(state, now_ms, out);
  }
}

std::vector<Candle> PublicFeed::candles(std::string_view symbol) const {
  const SymbolState* state = impl_->find_symbol(symbol);
  if (state == nullptr)
    return {};
  std::vector<Candle> out(state->history.begin(), state->history.end());
  if (state->have_candle)
    out.push_back(state->candle);
  if (out.size() > kMaxCandles)
    out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(kMaxCandles));
  return out;
}

std::uint64_t PublicFeed::book_update_id(std::string_view symbol) const {
  const SymbolState* state = impl_->find_symbol(symbol);
  return state == nullptr ? 0 : state->book_update_id;
}

Price PublicFeed::last_price(std::string_view symbol) const {
  const SymbolState* state = impl_->find_symbol(symbol);
  return state == nullptr ? Price{} : state->last_price;
}

}  // namespace kinetic::exchange
