#include "kinetic/feed/order_book.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace kinetic::feed {

std::string_view to_string(BookStatus status) noexcept {
  switch (status) {
    case BookStatus::ok:
      return "ok";
    case BookStatus::resync_needed:
      return "resync_needed";
    case BookStatus::duplicate:
      return "duplicate";
    case BookStatus::malformed:
      return "malformed";
    case BookStatus::overflow:
      return "overflow";
  }
  return "unknown";
}

namespace detail {

template <bool kDescending>
BookSide<kDescending>::BookSide(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {
  // Room for a full side plus as much again, split between both ends, so that after a
  // re-centre each end has free room whenever the side is not full.
  buffer_size_ = 2 * capacity_ + 2;
  buffer_ = std::make_unique<BookLevel[]>(buffer_size_ + 1);
  merged_ = std::make_unique<BookLevel[]>(capacity_ + 2);
  begin_ = end_ = buffer_size_ / 2;
}

template <bool kDescending>
void BookSide<kDescending>::clear(std::size_t expected_levels) noexcept {
  // Snapshots arrive best first, so their levels are appended: leave the room at the back.
  const std::size_t expected = std::min(expected_levels, capacity_);
  begin_ = end_ = (buffer_size_ - expected) / 2;
}

namespace {

/// Number of the `length` levels at `levels` (sorted best first) that rank before `price`.
/// Branch-free binary search: log2(length) steps whatever the data; the select compiles to a
/// conditional move, so random positions cost no mispredicted branches.
template <bool kDescending>
[[gnu::always_inline]] inline std::size_t count_better(const BookLevel* levels, std::size_t length,
                                                       Price price) noexcept {
  const auto better = [](Price a, Price b) { return kDescending ? a > b : a < b; };
  if (length == 0)
    return 0;
  const BookLevel* base = levels;
  while (length > 1) {
    const std::size_t half = length / 2;
    base = better(base[half].price, price) ? base + half : base;
    length -= half;
  }
  return static_cast<std::size_t>(base - levels) + (better(base->price, price) ? 1u : 0u);
}

}  // namespace

template <bool kDescending>
[[gnu::always_inline]] inline std::size_t BookSide<kDescending>::lower_bound_from(
    Price price, std::size_t from) const noexcept {
  // Exponential (galloping) search forward from `from`: probes from+0, +2, +6, +14, ... until
  // a level not better than `price`, then a branch-free binary search inside the last stride.
  // Bybit sends each side of a message best first, so the caller passes where the previous
  // level was found, and a level g slots further costs about 2·log2(g) steps instead of
  // log2(size); out of order, or for the first level, it starts at the top, where most
  // changes are. The probes are branches on purpose: predicted, they let the next level's
  // search start before this one's loads arrive. Measured slower on the 50-level bench
  // (bench/book_bench.cpp): a full branch-free binary search (one chain of dependent loads
  // per level, ~1.5×), a branch-free search of the 8 or 16 levels after `from` before the
  // gallop (~1.4×), an AVX2 compare of the 8 prices after `from` (~1.4×), a branchy inner
  // binary search (~1.1×).
  const BookLevel* const levels = buffer_.get() + begin_;
  const std::size_t count = size();
  std::size_t low = from < count ? from : count;  // every level before `low` is better
  std::size_t stride = 1;
  while (stride <= count - low) {
    if (!better(levels[low + stride - 1].price, price))
      return low + count_better<kDescending>(levels + low, stride - 1, price);
    low += stride;
    stride *= 2;
  }
  return low + count_better<kDescending>(levels + low, count - low, price);
}

template <bool kDescending>
void BookSide<kDescending>::recentre() noexcept {
  const std::size_t count = size();
  const std::size_t new_begin = (buffer_size_ - count) / 2;
  std::memmove(buffer_.get() + new_begin, buffer_.get() + begin_, count * sizeof(BookLevel));
  begin_ = new_begin;
  end_ = new_begin + count;
}

template <bool kDescending>
void BookSide<kDescending>::insert_at(std::size_t index, BookLevel level) noexcept {
  // Precondition: size() < capacity_, so after a re-centre both ends have room.
  const std::size_t above = index;
  const std::size_t below = size() - index;
  const bool move_above = above <= below;
  if ((move_above && begin_ == 0) || (!move_above && end_ == buffer_size_))
    recentre();
  BookLevel* const levels = buffer_.get() + begin_;
  if (move_above) {
    std::memmove(levels - 1, levels, above * sizeof(BookLevel));
    --begin_;
  } else {
    std::memmove(levels + index + 1, levels + index, below * sizeof(BookLevel));
    ++end_;
  }
  buffer_[begin_ + index] = level;
}

template <bool kDescending>
void BookSide<kDescending>::erase_at(std::size_t index) noexcept {
  const std::size_t above = index;
  const std::size_t below = size() - index - 1;
  BookLevel* const levels = buffer_.get() + begin_;
  if (above < below) {
    std::memmove(levels + 1, levels, above * sizeof(BookLevel));
    ++begin_;
  } else {
    std::memmove(levels + index, levels + index + 1, below * sizeof(BookLevel));
    --end_;
  }
}

template <bool kDescending>
bool BookSide<kDescending>::set(Price price, Qty qty, std::size_t& hint) noexcept {
  const std::size_t count = size();
  // Appending past the worst level is the whole of a snapshot (sent best first): skip the
  // search there.
  std::size_t index = count;
  if (count != 0 && !better(buffer_[end_ - 1].price, price))
    index = lower_bound_from(price, hint);
  // Out: the levels up to and including `price` where it stays; the next, worse price of the
  // message starts its search after them.
  hint = index;
  if (index < count && buffer_[begin_ + index].price == price) {
    if (qty.is_zero()) {
      erase_at(index);
    } else {
      buffer_[begin_ + index].qty = qty;
      hint = index + 1;
    }
    return true;
  }
  if (qty.is_zero())
    return true;  // deleting a level we do not have: nothing to do
  if (index == count && end_ < buffer_size_ && count < capacity_) {
    buffer_[end_++] = BookLevel{price, qty};  // a new worst level: the whole of a snapshot
    hint = index + 1;
    return true;
  }
  if (count == capacity_) {
    if (index == count)
      return false;  // worse than every level kept: drop it
    erase_at(count - 1);
    insert_at(index, BookLevel{price, qty});
    hint = index + 1;
    return false;
  }
  insert_at(index, BookLevel{price, qty});
  hint = index + 1;
  return true;
}

template <bool kDescending>
std::size_t BookSide<kDescending>::append_sorted(std::span<const MarketEvent> events, Side side,
                                                 bool& complete) noexcept {
  // Sorted into an empty side, every level is a new worst one: append until full; once full,
  // every later level is worse than all kept and is dropped (a size 0 deletes nothing).
  const std::size_t room = std::min(events.size(), capacity_);
  if (buffer_size_ - end_ < room)
    recentre();
  BookLevel* const levels = buffer_.get() + begin_;
  std::size_t count = 0;
  std::size_t taken = 0;
  Price previous = kNoPrice;
  for (; taken < events.size(); ++taken) {
    const MarketEvent& event = events[taken];
    if (event.side != side || !better(previous, event.level.price)) [[unlikely]]
      break;
    previous = event.level.price;
    const bool keep = !event.level.qty.is_zero();
    if (count == capacity_) [[unlikely]] {
      complete &= !keep;
      continue;
    }
    // Written whatever `keep` (into free room or the spare slot when it is not), counted only
    // when kept: no branch on the size.
    levels[count] = BookLevel{event.level.price, event.level.qty};
    count += keep ? 1u : 0u;
  }
  end_ = begin_ + count;
  return taken;
}

template <bool kDescending>
std::size_t BookSide<kDescending>::set_sorted(std::span<const MarketEvent> events, Side side,
                                              bool& complete) noexcept {
  if (size() == 0)
    return append_sorted(events, side, complete);
  // Every search runs on the side as it was (sizes change in place meanwhile), from where the
  // previous level was found; inserts and deletes are collected and made in one merge at the
  // end, so that each level moves at most once. Whether the level is there stays a branch on
  // purpose: predicted, it lets the next level's search start before this one's loads arrive
  // (measured: a select there, which makes the next search wait for this compare, ~1.4× on
  // bench/book_bench.cpp); what follows from it (update or delete, insert or nothing) is
  // selected without branches.
  PendingChange pending[kMaxPending];
  std::size_t pending_count = 0;
  std::ptrdiff_t growth = 0;  // inserts minus deletes pending
  std::size_t hint = 0;       // every level before it ranks before the next price
  BookLevel* levels = buffer_.get() + begin_;
  std::size_t count = size();
  const auto make_pending = [&] {
    apply_pending(pending, pending_count, growth);
    hint = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(hint) + growth);
    pending_count = 0;
    growth = 0;
    levels = buffer_.get() + begin_;
    count = size();
  };
  Price previous = kNoPrice;
  std::size_t taken = 0;
  for (; taken < events.size(); ++taken) {
    const MarketEvent& event = events[taken];
    const Price price = event.level.price;
    if (event.side != side || !better(previous, price)) [[unlikely]]
      break;
    previous = price;
    const Qty qty = event.level.qty;
    const std::size_t index = lower_bound_from(price, hint);
    const bool nonzero = !qty.is_zero();
    pending[pending_count] = PendingChange{index, BookLevel{price, qty}};
    if (index < count && levels[index].price == price) {
      hint = index + 1;
      // An update in place or a pending delete, chosen without a branch.
      const Qty kept = levels[index].qty;
      levels[index].qty = nonzero ? qty : kept;
      pending_count += nonzero ? 0u : 1u;
      growth -= nonzero ? 0 : 1;
    } else {
      hint = index;
      if (nonzero && static_cast<std::ptrdiff_t>(count) + growth ==
                         static_cast<std::ptrdiff_t>(capacity_)) [[unlikely]] {
        // The side would overflow: make what is pending, then this level the one-at-a-time
        // way, which drops the worst level as it goes (the result depends on that order).
        make_pending();
        complete &= set(price, qty, hint);
        levels = buffer_.get() + begin_;
        count = size();
        continue;
      }
      // A pending insert, or nothing (deleting a level we do not have).
      pending_count += nonzero ? 1u : 0u;
      growth += nonzero ? 1 : 0;
    }
    if (pending_count == kMaxPending) [[unlikely]]
      make_pending();
  }
  make_pending();
  return taken;
}

template <bool kDescending>
void BookSide<kDescending>::apply_pending(const PendingChange* changes, std::size_t count,
                                          std::ptrdiff_t growth) noexcept {
  if (count == 0)
    return;
  const std::size_t old_size = size();
  const std::size_t first = changes[0].index;
  const PendingChange& last = changes[count - 1];
  const std::size_t last_end = last.index + (last.level.qty.is_zero() ? 1u : 0u);
  // The levels before `first` and from `last_end` on keep their order and only shift: one
  // memmove for the shorter of the two parts (the other stays), as in insert_at().
  const bool move_head = first <= old_size - last_end;
  if (move_head ? static_cast<std::ptrdiff_t>(begin_) < growth
                : static_cast<std::ptrdiff_t>(buffer_size_ - end_) < growth)
    recentre();
  // The part between: merged with the changes into merged_ (the destination can overlap what
  // is still to read), then copied into place.
  const BookLevel* const old = buffer_.get() + begin_;
  BookLevel* out = merged_.get();
  std::size_t from = first;
  for (std::size_t i = 0; i < count; ++i) {
    const PendingChange& change = changes[i];
    const std::size_t kept = change.index - from;
    std::memcpy(out, old + from, kept * sizeof(BookLevel));
    out += kept;
    const bool insert = !change.level.qty.is_zero();
    *out = change.level;
    out += insert ? 1 : 0;
    from = change.index + (insert ? 0u : 1u);
  }
  const auto merged = static_cast<std::size_t>(out - merged_.get());
  if (move_head) {
    const auto new_begin = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(begin_) - growth);
    std::memmove(buffer_.get() + new_begin, buffer_.get() + begin_, first * sizeof(BookLevel));
    begin_ = new_begin;
  } else {
    const std::size_t tail = old_size - last_end;
    std::memmove(buffer_.get() + begin_ + first + merged, buffer_.get() + begin_ + last_end,
                 tail * sizeof(BookLevel));
    end_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(end_) + growth);
  }
  std::memcpy(buffer_.get() + begin_ + first, merged_.get(), merged * sizeof(BookLevel));
}

template class BookSide<true>;
template class BookSide<false>;

}  // namespace detail

namespace {

constexpr std::size_t kHeaderOffset = offsetof(MarketEvent, symbol);
static_assert(offsetof(MarketEvent, aux) + sizeof(std::uint16_t) - kHeaderOffset ==
              sizeof(std::uint64_t));

/// Bytes 16..23 of a MarketEvent with these fields (symbol, type, side, flags, aux), as one
/// word in the machine's byte order, so that a whole header compares in one instruction.
std::uint64_t header_word(SymbolId symbol, MarketEventType type, Side side, std::uint16_t flags,
                          std::uint16_t aux) noexcept {
  MarketEvent event{};
  event.symbol = symbol;
  event.type = type;
  event.side = side;
  event.flags = flags;
  event.aux = aux;
  std::uint64_t word = 0;
  std::memcpy(&word, reinterpret_cast<const unsigned char*>(&event) + kHeaderOffset, sizeof word);
  return word;
}

}  // namespace

OrderBook::OrderBook(std::size_t capacity_per_side, SymbolId symbol)
    : bids_(capacity_per_side), asks_(capacity_per_side), symbol_(symbol) {}

bool OrderBook::well_formed(std::span<const MarketEvent> message) const noexcept {
  if (message.empty())
    return false;
  const MarketEvent& first = message.front();
  if ((first.flags & kFlagBeginOfBatch) == 0 || (message.back().flags & kFlagEndOfBatch) == 0)
    return false;
  const std::size_t count = message.size();
  if (count == 1 && first.side == Side::none) {
    // A message without levels: one event that only carries u.
    return first.type == MarketEventType::book_level && first.symbol == symbol_ &&
           first.level.price.is_zero() && first.level.qty.is_zero();
  }
  // Every event must agree with the first on symbol, type, depth (aux) and the snapshot flag:
  // bytes 16..23 of the event, compared as one word under a mask (side and the other flags
  // vary), with u and seq as two more words. Accumulated without branches into a few
  // independent values: a well-formed message (the only kind the exchange sends) runs straight
  // through, about 1.4 ns a level with AVX2 (2 ns without; 3.7 ns field by field).
  const std::uint64_t mask =
      header_word(0xFFFF, static_cast<MarketEventType>(0xFF), Side::none, kFlagSnapshot, 0xFFFF);
  const std::uint64_t expected =
      header_word(symbol_, MarketEventType::book_level, Side::none,
                  static_cast<std::uint16_t>(first.flags & kFlagSnapshot), first.aux);
  const std::uint64_t update_id = first.level.update_id;
  const std::uint64_t sequence = first.level.sequence;
  std::uint64_t differences = 0;
  std::uint64_t signs = 0;
  std::uint64_t marks = 0;
#if defined(__AVX2__)
  static_assert(offsetof(MarketEvent, level) == 24 && offsetof(BookLevelData, qty) == 8 &&
                    offsetof(BookLevelData, update_id) == 16 &&
                    offsetof(BookLevelData, sequence) == 24 && alignof(MarketEvent) >= 32,
                "the lanes below follow MarketEvent's layout");
  // The same checks on the event's two 32-byte halves, four words at a time: (recv_ts,
  // exch_ts, header, price) and (qty, u, seq, reserved). Masks distribute over OR, so each
  // half is XORed with what it must hold and ORed up unmasked, and masked once at the end
  // (the same bits as the scalar checks): 8 vector operations a level.
  //  * header word: symbol, type, snapshot flag and depth as the first's; price lane: its sign
  //    (price < 0); qty lane: its sign; u and seq lanes: as the first's.
  //  * header - (side 1): the side byte becomes 0 or 1 exactly for buy or sell (none borrows
  //    to 0xFF); price - 1: its sign is set for a price of 0 (and below).
  //  * the batch marks summed in place: the lane holds their exact sum (below 2^32).
  const auto lanes = [](std::uint64_t price, std::uint64_t header) {
    return _mm256_set_epi64x(static_cast<std::int64_t>(price), static_cast<std::int64_t>(header), 0,
                             0);
  };
  constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63u;
  const __m256i front_expected = lanes(0, expected);
  const __m256i back_expected = _mm256_set_epi64x(0, static_cast<std::int64_t>(sequence),
                                                  static_cast<std::int64_t>(update_id), 0);
  const __m256i side_and_price_one = lanes(1, header_word(0, MarketEventType{}, Side::buy, 0, 0));
  const __m256i marks_mask =
      lanes(0, header_word(0, MarketEventType{}, Side::none,
                           static_cast<std::uint16_t>(kFlagBeginOfBatch | kFlagEndOfBatch), 0));
  __m256i front_differences = _mm256_setzero_si256();
  __m256i back_differences = _mm256_setzero_si256();
  __m256i decremented = _mm256_setzero_si256();
  __m256i mark_sums = _mm256_setzero_si256();
  for (const MarketEvent& event : message) {
    const auto* halves = reinterpret_cast<const __m256i*>(&event);
    const __m256i front = _mm256_load_si256(halves);
    const __m256i back = _mm256_load_si256(halves + 1);
    front_differences = _mm256_or_si256(front_differences, _mm256_xor_si256(front, front_expected));
    back_differences = _mm256_or_si256(back_differences, _mm256_xor_si256(back, back_expected));
    decremented = _mm256_or_si256(decremented, _mm256_sub_epi64(front, side_and_price_one));
    mark_sums = _mm256_add_epi64(mark_sums, _mm256_and_si256(front, marks_mask));
  }
  const __m256i front_mask = lanes(kSignBit, mask);
  const __m256i back_mask = _mm256_set_epi64x(0, -1, -1, static_cast<std::int64_t>(kSignBit));
  const __m256i decremented_mask =
      lanes(kSignBit, header_word(0, MarketEventType{}, static_cast<Side>(0xFE), 0, 0));
  const __m256i violations =
      _mm256_or_si256(_mm256_or_si256(_mm256_and_si256(front_differences, front_mask),
                                      _mm256_and_si256(back_differences, back_mask)),
                      _mm256_and_si256(decremented, decremented_mask));
  differences = _mm256_testz_si256(violations, violations) != 0 ? 0u : 1u;
  marks = static_cast<std::uint64_t>(_mm256_extract_epi64(mark_sums, 2)) >>
          (8u * (offsetof(MarketEvent, flags) - kHeaderOffset));
#else
  for (const MarketEvent& event : message) {
    std::uint64_t header = 0;
    std::memcpy(&header, reinterpret_cast<const unsigned char*>(&event) + kHeaderOffset,
                sizeof header);
    // Every level is a bid or an ask: side - 1 is 0 or 1 (buy = 1, sell = 2), so shifted
    // right by one it is zero exactly then (side none wraps to 255).
    const std::uint64_t side_out_of_range = static_cast<std::uint64_t>(static_cast<std::uint8_t>(
                                                static_cast<unsigned>(event.side) - 1u)) >>
                                            1u;
    differences |= ((header & mask) ^ expected) | (event.level.update_id ^ update_id) |
                   (event.level.sequence ^ sequence) | side_out_of_range;
    // A positive price and a size >= 0: the sign bit of price - 1, of price (the wrap of the
    // lowest int64) and of the size are all clear.
    const auto price = static_cast<std::uint64_t>(event.level.price.raw());
    signs |= (price - 1u) | price | static_cast<std::uint64_t>(event.level.qty.raw());
    marks += static_cast<std::uint64_t>(event.flags & (kFlagBeginOfBatch | kFlagEndOfBatch));
  }
#endif

  // The first event has the begin mark and the last the end mark (checked above): no other.
  return differences == 0 && (signs >> 63u) == 0 && marks == (kFlagBeginOfBatch | kFlagEndOfBatch);
}

bool OrderBook::set_levels(std::span<const MarketEvent> message) noexcept {
  // The shape Bybit sends, bids best first then asks best first, goes through each side's
  // merge; from the first level out of that order on (never seen from the exchange), level by
  // level. Either way the result is that of set() on each level in message order.
  bool complete = true;
  std::size_t done = bids_.set_sorted(message, Side::buy, complete);
  done += asks_.set_sorted(message.subspan(done), Side::sell, complete);
  // Each side's search starts where the previous level of that side was found as long as the
  // side's levels come best first; a level out of that order searches from the top again (a
  // select, not a branch: random order costs no mispredictions here).
  std::size_t bid_hint = 0;
  std::size_t ask_hint = 0;
  Price last_bid = Price::from_raw(std::numeric_limits<std::int64_t>::max());
  Price last_ask = Price::from_raw(std::numeric_limits<std::int64_t>::min());
  for (const MarketEvent& event : message.subspan(done)) {
    const Price price = event.level.price;
    if (event.side == Side::buy) {
      bid_hint = price < last_bid ? bid_hint : 0;
      last_bid = price;
      complete &= bids_.set(price, event.level.qty, bid_hint);
    } else if (event.side == Side::sell) {
      ask_hint = price > last_ask ? ask_hint : 0;
      last_ask = price;
      complete &= asks_.set(price, event.level.qty, ask_hint);
    }
  }
  return complete;
}

BookStatus OrderBook::apply(std::span<const MarketEvent> message) noexcept {
  if (!well_formed(message))
    return BookStatus::malformed;
  const MarketEvent& first = message.front();
  const std::uint64_t update_id = first.level.update_id;
  bool complete = true;
  if ((first.flags & kFlagSnapshot) != 0) {
    // u = 1: the service restarted, take it whatever came before. An invalid book takes any
    // snapshot. Otherwise an older or equal u is a re-send (level 1 every 3 s) or stale.
    if (valid_ && update_id != 1 && update_id <= update_id_)
      return BookStatus::duplicate;
    std::size_t bid_count = 0;
    for (const MarketEvent& event : message)
      bid_count += event.side == Side::buy ? 1u : 0u;
    bids_.clear(bid_count);
    asks_.clear(message.size() - bid_count);
    stream_depth_ = first.aux;
    complete = set_levels(message);
  } else {
    if (!valid_)
      return BookStatus::resync_needed;
    if (first.aux != stream_depth_)
      return BookStatus::malformed;  // a delta of another depth's stream
    if (update_id != update_id_ + 1) {
      // u = 1 in a delta: the service restarted and we missed its snapshot; an older u is a
      // re-delivery; anything else skipped messages. "When u != 1, the next u must be the
      // previous u + 1" (§1.7 rule 4).
      if (update_id != 1 && update_id <= update_id_)
        return BookStatus::duplicate;
      valid_ = false;
      return BookStatus::resync_needed;
    }
    complete = set_levels(message);
  }
  update_id_ = update_id;
  sequence_ = first.level.sequence;
  exch_ts_ = message.back().exch_ts;
  recv_ts_ = message.back().recv_ts;
  valid_ = true;
  return complete ? BookStatus::ok : BookStatus::overflow;
}

bool OrderBook::crossed() const noexcept {
  return bid_depth() != 0 && ask_depth() != 0 && bids().front().price >= asks().front().price;
}

std::optional<BookLevel> OrderBook::best_bid() const noexcept {
  if (bid_depth() == 0)
    return std::nullopt;
  return bids().front();
}

std::optional<BookLevel> OrderBook::best_ask() const noexcept {
  if (ask_depth() == 0)
    return std::nullopt;
  return asks().front();
}

std::optional<double> OrderBook::mid() const noexcept {
  if (bid_depth() == 0 || ask_depth() == 0)
    return std::nullopt;
  return (bids().front().price.to_double() + asks().front().price.to_double()) * 0.5;
}

std::optional<double> OrderBook::microprice() const noexcept {
  if (bid_depth() == 0 || ask_depth() == 0)
    return std::nullopt;
  const BookLevel bid = bids().front();
  const BookLevel ask = asks().front();
  const double bid_qty = bid.qty.to_double();
  const double ask_qty = ask.qty.to_double();
  return (bid.price.to_double() * ask_qty + ask.price.to_double() * bid_qty) / (bid_qty + ask_qty);
}

std::optional<double> OrderBook::imbalance(std::size_t levels) const noexcept {
  // Summed as double: a thousand int64 sizes of a low-priced coin can overflow int64, and the
  // result is a ratio anyway (the 1e-8 scale cancels).
  double bid_sum = 0.0;
  double ask_sum = 0.0;
  for (const BookLevel& level : bids().first(std::min(levels, bid_depth())))
    bid_sum += static_cast<double>(level.qty.raw());
  for (const BookLevel& level : asks().first(std::min(levels, ask_depth())))
    ask_sum += static_cast<double>(level.qty.raw());
  const double total = bid_sum + ask_sum;
  if (total == 0.0)
    return std::nullopt;
  return (bid_sum - ask_sum) / total;
}

}  // namespace kinetic::feed
