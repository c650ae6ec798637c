#pragma once
// Market sources of the exchange simulator and the public-stream publisher.
//
// A MarketSource produces the market one step at a time: a change of one symbol's book or one
// public trade. Sources: `synthetic` (seeded; the feed's SyntheticMarket price process with an
// L2 book kept around the price, trades that walk it, and the book refilled behind them) and
// `replay` of a kinetic capture (.kcap) or of Bybit's raw WebSocket JSON-lines capture (as in
// ../shared/data/bybit-ws-v5-cryptofeed), optionally looped (timestamps keep increasing).
//
// PublicFeed turns the steps into Bybit v5 public messages, exactly in Bybit's shapes
// (docs/bybit-v5.md §1.5–1.9): `orderbook.{1,50,200}.{symbol}` (a snapshot for each new
// subscriber carrying the topic's current u, then deltas with u + 1 each, computed as the
// difference between the top N levels before and after), `publicTrade.{symbol}`,
// `tickers.{symbol}` (snapshot on subscribe, then deltas of the changed fields) and
// `kline.1.{symbol}`. Prices and sizes carry the instrument's decimals ("93512.40").
//
// Ownership: a source owns its books; PublicFeed reads the source it was given, which must
// outlive it. Not thread-safe: the simulator's loop thread drives both.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "instruments.hpp"
#include "kinetic/core/decimal.hpp"
#include "kinetic/core/risk/instrument.hpp"
#include "kinetic/core/types.hpp"
#include "kinetic/feed/order_book.hpp"

namespace kinetic::exchange {

/// One step of a market source. A trade step changes the book too (the synthetic taker takes
/// the level it printed at: book() after it shows the level reduced or gone), so a consumer
/// that mirrors the book reads it after every step, not only after book steps.
struct MarketStep {
  enum class Kind : std::uint8_t { book, trade, end };
  Kind kind = Kind::end;
  std::size_t symbol_index = 0;  ///< into MarketSource::symbols()
  std::int64_t exch_ts_ns = 0;   ///< the source's time (simulated or recorded), increasing
  std::uint64_t sequence = 0;    ///< cross sequence (Bybit's `seq`/`cs`), increasing per symbol
  // Kind::trade only:
  Price price{};
  Qty qty{};
  Side taker_side = Side::none;
  std::string trade_id;  ///< Bybit-shaped id ("UUID" on linear; a replay keeps the recorded one)
};

class MarketSource {
 public:
  virtual ~MarketSource() = default;
  [[nodiscard]] virtual const std::vector<std::string>& symbols() const noexcept = 0;
  /// The next step; Kind::end when a replay without loop is over (and from then on).
  virtual MarketStep next() = 0;
  /// The book of a symbol after the steps returned so far (empty before its first snapshot).
  [[nodiscard]] virtual const feed::OrderBook& book(std::size_t symbol_index) const noexcept = 0;
};

struct SyntheticSourceOptions {
  std::uint64_t seed = 42;
  /// Symbols and their starting prices; each gets its own generator seeded from `seed`.
  std::vector<std::pair<std::string, double>> symbols = {
      {"BTCUSDT", 65000.0}, {"ETHUSDT", 3500.0}, {"SOLUSDT", 150.0}};
  std::vector<ExchangeInstrument> instruments;  ///< ticks and steps of those symbols
  std::size_t book_levels = 200;                ///< per side
  double mean_interarrival_ms = 20.0;           ///< per symbol
};
/// Throws std::invalid_argument for a symbol without instrument rules.
[[nodiscard]] std::unique_ptr<MarketSource> make_synthetic_source(
    const SyntheticSourceOptions& options);

struct ReplaySourceOptions {
  std::string path;   ///< a kinetic capture or a raw Bybit WebSocket JSON-lines file
  bool loop = false;  ///< start again at the end, with time continuing
  std::size_t book_levels = 1000;
};
/// Reads the whole file at start-up; throws std::runtime_error with the file and the reason
/// when it cannot be read or holds no market data.
[[nodiscard]] std::unique_ptr<MarketSource> make_replay_source(const ReplaySourceOptions& options);

enum class PublicCategory : std::uint8_t { linear, spot };

/// One 1-minute candle.
struct Candle {
  std::int64_t start_ms = 0;
  Price open{}, high{}, low{}, close{};
  Qty volume{};
  Amount turnover{};
  std::int64_t last_trade_ms = 0;
};

/// A topic the feed serves, as an index (stable for the feed's life).
using TopicId = std::uint32_t;

/// A message for everyone subscribed to `topic`.
struct TopicMessage {
  TopicId topic = 0;
  std::string json;
};

class PublicFeed {
 public:
  PublicFeed(const MarketSource& source, std::vector<ExchangeInstrument> instruments,
             PublicCategory category);
  ~PublicFeed();
  PublicFeed(const PublicFeed&) = delete;
  PublicFeed& operator=(const PublicFeed&) = delete;

  /// The id of a topic this feed serves ("orderbook.50.BTCUSDT", "publicTrade.BTCUSDT",
  /// "tickers.BTCUSDT", "kline.1.BTCUSDT"), or nullopt (the caller answers a failed
  /// subscribe).
  [[nodiscard]] std::optional<TopicId> find_topic(std::string_view topic) const;
  [[nodiscard]] std::string_view topic_name(TopicId topic) const;

  /// How many connections are subscribed to `topic`: topics nobody listens to are not
  /// computed (a new subscriber starts from a snapshot anyway).
  void set_subscriber_count(TopicId topic, std::size_t count);

  /// What a new subscriber gets at once: the book snapshot (current u), the tickers
  /// snapshot, the current candle; nothing for publicTrade. Appended to `out`.
  void initial_messages(TopicId topic, std::int64_t now_ms, std::vector<TopicMessage>& out);

  /// The messages caused by `step` for topics with subscribers, appended to `out`; also
  /// updates the tickers and candles (always, subscribers or not).
  void on_step(const MarketStep& step, std::int64_t now_ms, std::vector<TopicMessage>& out);

  /// Time-driven messages due at `now_ms`: the unchanged level-1 snapshot re-sent every 3 s
  /// with the same u, the candle pushed every second and confirmed at the minute's end.
  void on_timer(std::int64_t now_ms, std::vector<TopicMessage>& out);

  /// Candles of a symbol, oldest first (at most the last 1000), for GET /v5/market/kline.
  [[nodiscard]] std::vector<Candle> candles(std::string_view symbol) const;
  /// The current u of the symbol's 1000-level book (GET /v5/market/orderbook's `u`).
  [[nodiscard]] std::uint64_t book_update_id(std::string_view symbol) const;
  /// The last trade price of a symbol (0 before any).
  [[nodiscard]] Price last_price(std::string_view symbol) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinetic::exchange
