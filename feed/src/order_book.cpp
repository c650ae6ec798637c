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
  buffer_ = std::make_unique<BookLevel[]>(buffer_size_);
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
std::size_t count_better(const BookLevel* levels, std::size_t length, Price price) noexcept {
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
std::size_t BookSide<kDescending>::lower_bound_from(Price price, std::size_t from) const noexcept {
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
  // exch_ts, header, price) and (qty, u, seq, reserved). Side and batch marks stay scalar.
  const __m256i front_mask = _mm256_set_epi64x(0, static_cast<std::int64_t>(mask), 0, 0);
  const __m256i front_expected = _mm256_set_epi64x(0, static_cast<std::int64_t>(expected), 0, 0);
  const __m256i back_mask = _mm256_set_epi64x(0, -1, -1, 0);
  const __m256i back_expected = _mm256_set_epi64x(0, static_cast<std::int64_t>(sequence),
                                                  static_cast<std::int64_t>(update_id), 0);
  const __m256i price_lane = _mm256_set_epi64x(-1, 0, 0, 0);
  const __m256i qty_lane = _mm256_set_epi64x(0, 0, 0, -1);
  const __m256i one_in_price_lane = _mm256_set_epi64x(1, 0, 0, 0);
  __m256i vector_differences = _mm256_setzero_si256();
  __m256i vector_signs = _mm256_setzero_si256();
  for (const MarketEvent& event : message) {
    const auto* halves = reinterpret_cast<const __m256i*>(&event);
    const __m256i front = _mm256_load_si256(halves);
    const __m256i back = _mm256_load_si256(halves + 1);
    vector_differences = _mm256_or_si256(
        vector_differences,
        _mm256_or_si256(_mm256_and_si256(_mm256_xor_si256(front, front_expected), front_mask),
                        _mm256_and_si256(_mm256_xor_si256(back, back_expected), back_mask)));
    const __m256i price_signs = _mm256_or_si256(_mm256_sub_epi64(front, one_in_price_lane), front);
    vector_signs =
        _mm256_or_si256(vector_signs, _mm256_or_si256(_mm256_and_si256(price_signs, price_lane),
                                                      _mm256_and_si256(back, qty_lane)));
    differences |= static_cast<std::uint64_t>(
                       static_cast<std::uint8_t>(static_cast<unsigned>(event.side) - 1u)) >>
                   1u;
    marks += static_cast<std::uint64_t>(event.flags & (kFlagBeginOfBatch | kFlagEndOfBatch));
  }
  differences |= _mm256_testz_si256(vector_differences, vector_differences) != 0 ? 0u : 1u;
  // A sign bit in the price or size lane: the same as a sign bit in the scalar `signs`.
  signs = _mm256_movemask_pd(_mm256_castsi256_pd(vector_signs)) != 0 ? std::uint64_t{1} << 63u : 0u;
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
  // Each side's search starts where the previous level of that side was found as long as the
  // side's levels come best first (as Bybit sends them); a level out of that order searches
  // from the top again (a select, not a branch: random order costs no mispredictions here).
  // Either way the result is the same, only the search differs.
  bool complete = true;
  std::size_t bid_hint = 0;
  std::size_t ask_hint = 0;
  Price last_bid = Price::from_raw(std::numeric_limits<std::int64_t>::max());
  Price last_ask = Price::from_raw(std::numeric_limits<std::int64_t>::min());
  for (const MarketEvent& event : message) {
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
