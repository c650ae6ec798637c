#pragma once
// The plain-old-data types that travel the hot path through SPSC rings.
//
// Each is trivial, standard-layout and exactly one 64-byte cache line, aligned to 64, so a
// ring slot is one line (never split across two) and a copy is a few vector moves. Timestamps are
// nanoseconds: `recv_ts` on the local monotonic/TSC clock (kinetic::Clock), `exch_ts` on the
// exchange's wall clock (Unix epoch). Symbols are small integer ids assigned at start-up from the
// configured instrument list; the text names stay off the hot path.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kinetic/core/decimal.hpp"

// Every type here is trivial: `MarketEvent e;` is uninitialized, `MarketEvent e{};` is zero.

namespace kinetic {

using SymbolId = std::uint16_t;
using TimestampNs = std::int64_t;

enum class Side : std::uint8_t { none = 0, buy = 1, sell = 2 };

/// +1 for buy, -1 for sell, 0 for none.
[[nodiscard]] constexpr int sign(Side side) noexcept {
  return side == Side::buy ? 1 : (side == Side::sell ? -1 : 0);
}
[[nodiscard]] constexpr Side opposite(Side side) noexcept {
  return side == Side::buy ? Side::sell : (side == Side::sell ? Side::buy : Side::none);
}

enum class MarketEventType : std::uint8_t {
  trade = 1,       ///< one public trade; `side` is the taker's side
  book_level = 2,  ///< one price level set to an absolute size (size 0 deletes it); a book
                   ///< message with no level at all gives one event with side none, price 0
                   ///< (it still carries the update id)
  ticker = 3,      ///< best bid/ask and last price (snapshot and deltas merged)
  kline = 4,       ///< one candle: exch_ts is its start, `aux` its interval in minutes
};

/// Flags on a MarketEvent (bit set).
enum MarketEventFlag : std::uint16_t {
  kFlagNone = 0,
  kFlagSnapshot = 1u << 0,      ///< book_level: part of a snapshot that replaces the book
  kFlagEndOfBatch = 1u << 1,    ///< last event decoded from one exchange message
  kFlagSuspect = 1u << 2,       ///< failed data validation (risk may drop it)
  kFlagBeginOfBatch = 1u << 3,  ///< first event decoded from one exchange message
  kFlagConfirmed = 1u << 4,     ///< kline: the candle is closed (Bybit's "confirm": true)
};

struct TradeData {
  Price price;
  Qty qty;
  std::uint64_t trade_id;  ///< exchange trade id, hashed to 64 bits where it is not numeric
  std::uint64_t sequence;  ///< exchange cross sequence
  std::uint64_t reserved;
};
struct BookLevelData {
  Price price;
  Qty qty;                  ///< absolute size at the level; zero removes the level
  std::uint64_t update_id;  ///< the book's update id `u`
  std::uint64_t sequence;   ///< exchange cross sequence `seq`
  std::uint64_t reserved;
};
struct KlineData {
  Price open;
  Price high;
  Price low;
  Price close;
  Qty volume;  ///< base-currency volume of the candle
};
struct TickerData {
  Price last;
  Price bid;
  Qty bid_qty;
  Price ask;
  Qty ask_qty;
};

/// One market-data event. Layout (bytes): 0 recv_ts, 8 exch_ts, 16 symbol, 18 type,
/// 19 side, 20 flags, 22 aux, 24..63 payload (one of trade / level / ticker / kline by
/// `type`). `aux`: for a kline its interval in minutes (Bybit's 1..720; D = 1440,
/// W = 10080, M = 43200), else 0.
struct alignas(64) MarketEvent {
  TimestampNs recv_ts;
  TimestampNs exch_ts;
  SymbolId symbol;
  MarketEventType type;
  Side side;  ///< trade: taker side; book_level: which side of the book
  std::uint16_t flags;
  std::uint16_t aux;
  union {
    TradeData trade;
    BookLevelData level;
    TickerData ticker;
    KlineData kline;
  };
};

enum class OrderType : std::uint8_t { market = 1, limit = 2 };
enum class TimeInForce : std::uint8_t { gtc = 1, ioc = 2, fok = 3, post_only = 4 };

/// An order the strategy and risk manager decided on, ready for the encoder.
/// Layout (bytes): 0 created_ts, 8 client_order_id, 16 price, 24 qty, 32 stop_loss,
/// 40 take_profit, 48 symbol, 50 side, 51 type, 52 tif, 53 reduce_only, 54 pad, 56 reserved.
struct alignas(64) OrderIntent {
  TimestampNs created_ts;
  std::uint64_t client_order_id;  ///< becomes orderLinkId; unique, stable across retries
  Price price;                    ///< limit price; zero for market orders
  Qty qty;
  Price stop_loss;    ///< zero when none
  Price take_profit;  ///< zero when none
  SymbolId symbol;
  Side side;
  OrderType type;
  TimeInForce tif;
  bool reduce_only;
  std::uint16_t pad;
  std::uint64_t reserved;
};

/// One execution of one of our orders. Layout (bytes): 0 exch_ts, 8 recv_ts,
/// 16 client_order_id, 24 price, 32 qty, 40 fee (positive = paid), 48 exec_id,
/// 56 symbol, 58 side, 59 is_maker, 60 pad.
struct alignas(64) Fill {
  TimestampNs exch_ts;
  TimestampNs recv_ts;
  std::uint64_t client_order_id;
  Price price;
  Qty qty;
  Amount fee;
  std::uint64_t exec_id;
  SymbolId symbol;
  Side side;
  bool is_maker;
  std::uint32_t pad;
};

static_assert(sizeof(Price) == 8 && std::is_trivial_v<Price>);
#define KINETIC_HOT_POD(T)                                              \
  static_assert(sizeof(T) == 64, #T " must be exactly one cache line"); \
  static_assert(std::is_trivial_v<T>, #T " must be trivial");           \
  static_assert(std::is_standard_layout_v<T>, #T " must be standard layout")
KINETIC_HOT_POD(MarketEvent);
KINETIC_HOT_POD(OrderIntent);
KINETIC_HOT_POD(Fill);
#undef KINETIC_HOT_POD
static_assert(offsetof(MarketEvent, trade) == 24);
static_assert(offsetof(OrderIntent, symbol) == 48);
static_assert(offsetof(Fill, symbol) == 56);

}  // namespace kinetic
