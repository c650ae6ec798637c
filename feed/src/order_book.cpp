#include "kinetic/feed/order_book.hpp"

#include <algorithm>
#include <cstring>

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

template <bool kDescending>
std::size_t BookSide<kDescending>::lower_bound(Price price) const noexcept {
  // Branch-free binary search: log2(n) steps whatever the data; the select compiles to a
  // conditional move, so random positions cost no mispredicted branches. Tried first on
  // 200- and 1000-level books with changes near the top (bench/book_bench.cpp), and no faster:
  // a branch-free count over the top 16 or 32 levels, an exponential search from the top.
  const BookLevel* const levels = buffer_.get() + begin_;
  std::size_t length = size();
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
bool BookSide<kDescending>::set(Price price, Qty qty) noexcept {
  const std::size_t count = size();
  // Appending past the worst level is the whole of a snapshot (sent best first): skip the
  // search there.
  const std::size_t index =
      (count == 0 || better(buffer_[end_ - 1].price, price)) ? count : lower_bound(price);
  if (index < count && buffer_[begin_ + index].price == price) {
    if (qty.is_zero())
      erase_at(index);
    else
      buffer_[begin_ + index].qty = qty;
    return true;
  }
  if (qty.is_zero())
    return true;  // deleting a level we do not have: nothing to do
  if (index == count && end_ < buffer_size_ && count < capacity_) {
    buffer_[end_++] = BookLevel{price, qty};  // a new worst level: the whole of a snapshot
    return true;
  }
  if (count == capacity_) {
    if (index == count)
      return false;  // worse than every level kept: drop it
    erase_at(count - 1);
    insert_at(index, BookLevel{price, qty});
    return false;
  }
  insert_at(index, BookLevel{price, qty});
  return true;
}

template class BookSide<true>;
template class BookSide<false>;

}  // namespace detail

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
  const std::uint64_t update_id = first.level.update_id;
  const std::uint64_t sequence = first.level.sequence;
  const auto snapshot_flag = static_cast<std::uint16_t>(first.flags & kFlagSnapshot);
  // Accumulated without branches: a well-formed message (the only kind the exchange sends)
  // runs straight through, a few cycles a level.
  bool bad = false;
  std::size_t begin_marks = 0;
  std::size_t end_marks = 0;
  for (const MarketEvent& event : message) {
    bad |= event.type != MarketEventType::book_level;
    bad |= event.symbol != symbol_;
    bad |= event.aux != first.aux;
    bad |= event.level.update_id != update_id;
    bad |= event.level.sequence != sequence;
    bad |= (event.flags & kFlagSnapshot) != snapshot_flag;
    begin_marks += (event.flags & kFlagBeginOfBatch) != 0 ? 1u : 0u;
    end_marks += (event.flags & kFlagEndOfBatch) != 0 ? 1u : 0u;
    // Every level is a bid or an ask with a positive price and a size >= 0.
    bad |= static_cast<unsigned>(event.side) - 1u > 1u;  // buy = 1, sell = 2
    bad |= event.level.price.raw() <= 0;
    bad |= event.level.qty.raw() < 0;
  }
  // The first event has the begin mark and the last the end mark (checked above): no other.
  return !bad && begin_marks == 1 && end_marks == 1;
}

bool OrderBook::set_levels(std::span<const MarketEvent> message) noexcept {
  bool complete = true;
  for (const MarketEvent& event : message) {
    if (event.side == Side::buy)
      complete &= bids_.set(event.level.price, event.level.qty);
    else if (event.side == Side::sell)
      complete &= asks_.set(event.level.price, event.level.qty);
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
