#pragma once
// OrderBook: one symbol's L2 book for one Bybit `orderbook.{depth}.{symbol}` stream, kept from
// the decoded `book_level` MarketEvents (docs/bybit-v5.md §1.7).
//
// Input contract (what the decoder produces): one exchange message is a span of book_level
// events, one per level (bids with side buy, then asks with side sell; absolute size, size 0
// deletes the level), all carrying the message's `u` in level.update_id, its `seq` in
// level.sequence and the stream depth in `aux`; kFlagSnapshot on every event of a snapshot,
// kFlagBeginOfBatch on the first event and kFlagEndOfBatch on the last. A message without any
// level is a single event with side none, price 0, qty 0 (it still carries `u`).
//
// Storage. Each side is one contiguous array of (price, qty), best level first, inside a buffer
// twice the capacity with free room on both ends. Bybit sends each side of a message best
// first: such a run is applied in one pass (set_sorted): each level is found by a galloping
// search from where the previous one was found, on the side as it was; sizes change in place,
// and the inserts and deletes found are collected and then made in one merge that moves each
// level at most once, moving the shorter outer part (the levels above the first change toward
// the front room, or those below the last change toward the back room). So both common cases
// are cheap: changes near the top (move the few levels above them) and a level falling off the
// bottom of the exchange's depth window (moves the few levels below it). A level out of that
// order (never seen from the exchange) and the levels after it are applied one at a time (set:
// the same search, one move per insert or delete). When one end runs out of room the window is
// re-centred (one move of the whole side, rare). Against a tree or a hash map this keeps the top
// levels in one or two cache lines, queries are plain array reads, and there is nothing to allocate
// per level; against a fixed price-indexed ladder it needs no tick size and copes with any price
// range.
//
// Ownership: owns its level buffers (two a side), allocated once in the constructor; apply() and
// the queries never allocate. Not copyable (move only). Thread-safety: none; one thread (the feed
// or strategy thread) owns a book; other threads must receive copies of what they need.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::feed {

/// What apply() did with a message.
enum class BookStatus : std::uint8_t {
  ok = 0,         ///< applied
  resync_needed,  ///< a gap in `u`, a delta before any snapshot, or a delta with u = 1 (the
                  ///< service restarted): the book is now invalid and ignores deltas until the
                  ///< next snapshot; resubscribe to get one
  duplicate,      ///< nothing newer: a snapshot re-sent with the same `u` (level 1 does that
                  ///< every 3 s when nothing changed) or a message whose `u` is older; book
                  ///< left as it was
  malformed,      ///< not a well-formed book message (see apply()); book left as it was
  overflow,       ///< applied, but the message wanted more levels on a side than the capacity:
                  ///< the best `capacity()` levels were kept, the worst dropped
};

/// Name of a BookStatus, for tools and tests (static storage).
[[nodiscard]] std::string_view to_string(BookStatus status) noexcept;

/// One price level: an exact price and the absolute size resting there.
struct BookLevel {
  Price price;
  Qty qty;
  friend constexpr bool operator==(const BookLevel&, const BookLevel&) noexcept = default;
};

namespace detail {

/// One side of a book: levels sorted best first (bids: descending price; asks: ascending),
/// stored contiguously in a buffer with free room at both ends. Owns its buffer. See the file
/// comment for why.
template <bool kDescending>
class BookSide {
 public:
  explicit BookSide(std::size_t capacity);

  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::span<const BookLevel> levels() const noexcept {
    return {buffer_.get() + begin_, size()};
  }

  /// Empties the side and centres the free room for about `expected_levels` appended levels.
  void clear(std::size_t expected_levels) noexcept;
  /// Sets the absolute size at `price` (qty zero deletes; deleting an absent level does
  /// nothing). Returns false when the side was full and a level was dropped: either the new
  /// level (worse than all) or the previous worst one.
  ///
  /// `hint`, in: an index before which every level ranks before `price` (0 always holds;
  /// after a set() of a price better than this one, that call's `hint` out holds); the search
  /// starts there. Out: the number of levels that now rank before `price` or at it.
  [[nodiscard]] bool set(Price price, Qty qty, std::size_t& hint) noexcept;
  [[nodiscard]] bool set(Price price, Qty qty) noexcept {
    std::size_t hint = 0;
    return set(price, qty, hint);
  }
  /// The same as set() on each of the leading `events` that are of `side` and strictly best
  /// first (as Bybit sends each side), in one pass: every search runs on the side as it was,
  /// and the inserts and deletes found are then made in one merge (each level moves at most
  /// once) instead of one move each. Returns how many events it took (it stops at the first
  /// of another side or out of order); clears `complete` when a level was dropped.
  [[nodiscard]] std::size_t set_sorted(std::span<const MarketEvent> events, Side side,
                                       bool& complete) noexcept;

 private:
  /// True when `a` ranks strictly before `b` on this side.
  [[nodiscard]] static constexpr bool better(Price a, Price b) noexcept {
    return kDescending ? a > b : a < b;
  }
  /// Index (from the best level) of the first level not better than `price`, knowing that
  /// every level before `from` is better than `price` (0: nothing known).
  [[nodiscard]] std::size_t lower_bound_from(Price price, std::size_t from) const noexcept;
  /// An insert (qty > 0: `level` goes before the level at `index`) or a delete (qty 0: the
  /// level at `index` goes) found by set_sorted() and not made yet; `index` in the side as it
  /// was before the pending changes.
  struct PendingChange {
    std::size_t index;
    BookLevel level;
  };
  /// How many changes set_sorted() collects before making them (a bound for its stack array;
  /// a longer run is made in several merges).
  static constexpr std::size_t kMaxPending = 64;

  /// set_sorted() on an empty side (a snapshot): appends, no search.
  [[nodiscard]] std::size_t append_sorted(std::span<const MarketEvent> events, Side side,
                                          bool& complete) noexcept;
  /// Ranks before every price on this side (the previous price before a run's first level).
  static constexpr Price kNoPrice =
      Price::from_raw(kDescending ? std::numeric_limits<std::int64_t>::max()
                                  : std::numeric_limits<std::int64_t>::min());
  /// Makes `count` pending changes (indices non-decreasing, in message order) that add
  /// `growth` levels in all (size() + growth <= capacity_).
  void apply_pending(const PendingChange* changes, std::size_t count,
                     std::ptrdiff_t growth) noexcept;
  void insert_at(std::size_t index, BookLevel level) noexcept;
  void erase_at(std::size_t index) noexcept;
  void recentre() noexcept;

  std::unique_ptr<BookLevel[]> buffer_;  ///< buffer_size_ + 1 levels: one spare past the end,
                                         ///< so the slot after the worst level is always there
  std::unique_ptr<BookLevel[]> merged_;  ///< apply_pending()'s output, capacity_ + 2 levels
  std::size_t buffer_size_;
  std::size_t capacity_;
  std::size_t begin_;  ///< index in buffer_ of the best level
  std::size_t end_;    ///< one past the worst level
};

extern template class BookSide<true>;
extern template class BookSide<false>;

}  // namespace detail

/// One symbol's L2 order book for one depth stream. See the file comment for ownership,
/// storage and thread-safety.
class OrderBook {
 public:
  /// `capacity_per_side` levels at most on each side (at least 1; e.g. 1000 for the deepest
  /// Bybit stream). Events for a symbol other than `symbol` are malformed.
  explicit OrderBook(std::size_t capacity_per_side, SymbolId symbol = 0);

  /// Applies one exchange message (a span of book_level events as described in the file
  /// comment). Malformed (book untouched): an empty span; an event of another type or symbol;
  /// events of one message disagreeing on u, seq, depth (aux) or the snapshot flag; begin/end
  /// flags not exactly on the first/last event; a level with side none (other than the single
  /// event of an empty message), a non-positive price or a negative size; a delta whose depth
  /// differs from the snapshot's. A malformed message does not advance `u`, so the next delta
  /// shows up as a gap.
  ///
  /// Continuity (§1.7): a snapshot replaces the whole book; one with u = 1 (service restart)
  /// or one arriving while the book is invalid is always taken, else one with u not newer than
  /// the book's is a duplicate. A delta must carry exactly the book's u + 1: older or equal is
  /// a duplicate, u = 1 or a jump is resync_needed (the book turns invalid).
  [[nodiscard]] BookStatus apply(std::span<const MarketEvent> message) noexcept;

  /// Forgets continuity (e.g. after a reconnect): the book turns invalid, deltas are refused
  /// until the next snapshot, which is taken whatever its u. Levels stay until that snapshot.
  void invalidate() noexcept { valid_ = false; }

  /// True once a snapshot was applied and no gap was seen since.
  [[nodiscard]] bool valid() const noexcept { return valid_; }
  /// True when both sides have levels and the best bid is at or above the best ask (the
  /// exchange never sends that; it shows that a message was lost or misapplied).
  [[nodiscard]] bool crossed() const noexcept;

  // --- levels (best first; spans are valid until the next apply()) ---
  [[nodiscard]] std::span<const BookLevel> bids() const noexcept { return bids_.levels(); }
  [[nodiscard]] std::span<const BookLevel> asks() const noexcept { return asks_.levels(); }
  [[nodiscard]] std::size_t bid_depth() const noexcept { return bids_.size(); }
  [[nodiscard]] std::size_t ask_depth() const noexcept { return asks_.size(); }
  /// Level `index` from the best (0); `index` must be below the side's depth.
  [[nodiscard]] BookLevel bid(std::size_t index) const noexcept { return bids()[index]; }
  [[nodiscard]] BookLevel ask(std::size_t index) const noexcept { return asks()[index]; }
  [[nodiscard]] std::optional<BookLevel> best_bid() const noexcept;
  [[nodiscard]] std::optional<BookLevel> best_ask() const noexcept;

  // --- derived values (double; none when a side they need is empty) ---
  /// (best bid + best ask) / 2.
  [[nodiscard]] std::optional<double> mid() const noexcept;
  /// Size-weighted mid: (bid·askQty + ask·bidQty) / (bidQty + askQty).
  [[nodiscard]] std::optional<double> microprice() const noexcept;
  /// (ΣbidQty − ΣaskQty) / (ΣbidQty + ΣaskQty) over the best `levels` levels of each side
  /// (fewer where a side is shallower); in [-1, 1]; none when both sums are zero.
  [[nodiscard]] std::optional<double> imbalance(std::size_t levels) const noexcept;

  // --- stream state ---
  [[nodiscard]] std::uint64_t update_id() const noexcept { return update_id_; }  ///< last u
  [[nodiscard]] std::uint64_t sequence() const noexcept { return sequence_; }    ///< last seq
  [[nodiscard]] TimestampNs exch_ts() const noexcept { return exch_ts_; }  ///< of last message
  [[nodiscard]] TimestampNs recv_ts() const noexcept { return recv_ts_; }  ///< of last message
  /// The stream depth (aux) of the last snapshot; 0 before any.
  [[nodiscard]] std::uint16_t stream_depth() const noexcept { return stream_depth_; }
  [[nodiscard]] SymbolId symbol() const noexcept { return symbol_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return bids_.capacity(); }

 private:
  [[nodiscard]] bool well_formed(std::span<const MarketEvent> message) const noexcept;
  [[nodiscard]] bool set_levels(std::span<const MarketEvent> message) noexcept;

  detail::BookSide<true> bids_;
  detail::BookSide<false> asks_;
  std::uint64_t update_id_ = 0;
  std::uint64_t sequence_ = 0;
  TimestampNs exch_ts_ = 0;
  TimestampNs recv_ts_ = 0;
  std::uint16_t stream_depth_ = 0;
  SymbolId symbol_;
  bool valid_ = false;
};

}  // namespace kinetic::feed
