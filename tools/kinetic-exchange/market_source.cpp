// Market sources of the exchange simulator: the seeded synthetic market and the replay of
// recorded captures. See market_source.hpp for the contract.

#include "market_source.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "kinetic/core/math/random.hpp"
#include "kinetic/feed/bybit_decoder.hpp"
#include "kinetic/feed/capture_file.hpp"
#include "kinetic/feed/symbol_table.hpp"
#include "kinetic/feed/synthetic_market.hpp"
#include "kinetic/feed/ws_capture.hpp"

namespace kinetic::exchange {
namespace {

/// The depth the sources' own book messages carry (aux); PublicFeed never sees it.
constexpr std::uint16_t kSourceDepth = 1000;

/// Writes a Bybit linear trade id, "a9188a0a-82bc-50de-be60-03eedbe3cdd7", from 128 bits.
std::string uuid_text(std::uint64_t high, std::uint64_t low) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t position = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (position == 8 || position == 13 || position == 18 || position == 23)
      ++position;
    const std::uint64_t word = nibble < 16 ? high : low;
    const int shift = 60 - 4 * (nibble % 16);
    out[position++] = kHex[(word >> shift) & 0xF];
  }
  return out;
}

/// Sets the begin/end flags and the stream fields of one book message and applies it.
feed::BookStatus apply_message(feed::OrderBook& book, std::span<MarketEvent> events) {
  for (MarketEvent& event : events)
    event.flags = static_cast<std::uint16_t>(event.flags & ~(kFlagBeginOfBatch | kFlagEndOfBatch));
  events.front().flags |= kFlagBeginOfBatch;
  events.back().flags |= kFlagEndOfBatch;
  return book.apply(events);
}

// ----------------------------------------------------------------------------------------
// Synthetic

/// One level of the synthetic book, its price in ticks.
struct TickLevel {
  std::int64_t ticks;
  Qty qty;
};

/// One symbol of the synthetic market: its price process, its book (a mirror in ticks, the
/// source of truth, and the OrderBook built from the messages made of its changes) and the
/// state machine that turns each trade of the price process into steps:
///   noise (0..3 book steps: a few sizes changed, the top refilled) → requote (the book moved
///   around the trade's price) → fills (one trade step per level the taker takes).
class SyntheticSymbol {
 public:
  SyntheticSymbol(std::size_t index, double initial_price, const ExchangeInstrument& instrument,
                  std::uint64_t seed, std::size_t levels, double mean_interarrival_ms)
      : index_(index),
        tick_(instrument.rules.tick_size),
        step_(instrument.rules.qty_step),
        levels_(levels),
        market_(make_params(index, initial_price, instrument, seed, mean_interarrival_ms)),
        rng_(seed ^ (0xB00C5EEDULL + index * 0x9E3779B97F4A7C15ULL)),
        // Room for a message's inserts before its deletes at the bottom are made.
        book_(2 * levels + 16, static_cast<SymbolId>(index)) {
    mean_level_units_ =
        std::max(2.0, 4.0 * (2500.0 / initial_price) / static_cast<double>(step_.to_double()));
    bids_.reserve(levels + 4);
    asks_.reserve(levels + 4);
    scratch_.reserve(levels + 4);
    touched_bids_.reserve(4 * levels + 16);
    touched_asks_.reserve(4 * levels + 16);
    events_.reserve(2 * levels + 16);
    const std::int64_t centre = std::max<std::int64_t>(
        static_cast<std::int64_t>(std::llround(initial_price / tick_.to_double())), 2);
    target_bid_ = centre - 1;
    target_ask_ = centre;
    last_ts_ = feed::SyntheticMarketParams{}.start_exch_ts;
    emit_ts_ = last_ts_;
    // The opening snapshot: both sides filled to `levels`.
    requote(1);
    emit(true);
    draw_next_trade();
  }

  [[nodiscard]] TimestampNs next_ts() const noexcept {
    if (phase_ != Phase::noise)
      return trade_.exch_ts;
    const TimestampNs span = trade_.exch_ts - last_ts_;
    return last_ts_ + span * static_cast<TimestampNs>(noise_done_ + 1) /
                          static_cast<TimestampNs>(noise_total_ + 1);
  }

  MarketStep produce() {
    MarketStep step;
    step.symbol_index = index_;
    step.exch_ts_ns = next_ts();
    emit_ts_ = step.exch_ts_ns;
    switch (phase_) {
      case Phase::noise:
        requote(1 + static_cast<int>(rng_.next_u64() % 4));
        emit(false);
        step.kind = MarketStep::Kind::book;
        if (++noise_done_ >= noise_total_)
          phase_ = Phase::requote;
        break;
      case Phase::requote: {
        const std::int64_t price_ticks = trade_.trade.price.raw() / tick_.raw();
        const std::int64_t spread =
            rng_.uniform() < 0.8 ? 1 : 2 + static_cast<std::int64_t>(rng_.next_u64() % 2);
        if (trade_.side == Side::buy) {
          target_ask_ = std::max<std::int64_t>(price_ticks, spread + 1);
          target_bid_ = target_ask_ - spread;
        } else {
          target_bid_ = std::max<std::int64_t>(price_ticks, 1);
          target_ask_ = target_bid_ + spread;
        }
        requote(static_cast<int>(rng_.next_u64() % 3));
        emit(false);
        step.kind = MarketStep::Kind::book;
        phase_ = Phase::fill;
        remaining_ = trade_.trade.qty;
        break;
      }
      case Phase::fill: {
        std::vector<TickLevel>& side = trade_.side == Side::buy ? asks_ : bids_;
        TickLevel& level = side.front();
        const Qty filled = std::min(level.qty, remaining_);
        remaining_ -= filled;
        level.qty -= filled;
        (trade_.side == Side::buy ? touched_asks_ : touched_bids_).push_back(level.ticks);
        step.kind = MarketStep::Kind::trade;
        step.price = price_of(level.ticks);
        step.qty = filled;
        step.taker_side = trade_.side;
        step.trade_id = uuid_text(rng_.next_u64(), rng_.next_u64());
        if (level.qty.is_zero())
          side.erase(side.begin());
        emit(false);
        if (remaining_.is_zero() || side.empty()) {
          last_ts_ = trade_.exch_ts;
          draw_next_trade();
        }
        break;
      }
    }
    step.sequence = sequence_;
    return step;
  }

  [[nodiscard]] const feed::OrderBook& book() const noexcept { return book_; }

 private:
  enum class Phase : std::uint8_t { noise, requote, fill };

  static feed::SyntheticMarketParams make_params(std::size_t index, double initial_price,
                                                 const ExchangeInstrument& instrument,
                                                 std::uint64_t seed, double interarrival) {
    feed::SyntheticMarketParams params;
    std::uint64_t state = seed + index;
    params.seed = math::splitmix64(state);
    params.symbol = static_cast<SymbolId>(index);
    params.initial_price = initial_price;
    params.tick_size = instrument.rules.tick_size;
    params.qty_step = instrument.rules.qty_step;
    params.mean_interarrival_ms = interarrival;
    params.mean_qty = 2500.0 / initial_price;  // about 2 500 USDT a trade
    return params;
  }

  [[nodiscard]] Price price_of(std::int64_t ticks) const noexcept {
    return Price::from_raw(ticks * tick_.raw());
  }
  [[nodiscard]] Qty random_size() noexcept {
    const double units = std::max(1.0, std::round(rng_.exponential(mean_level_units_)));
    return Qty::from_raw(static_cast<std::int64_t>(units) * step_.raw());
  }

  void draw_next_trade() {
    trade_ = market_.next();
    phase_ = Phase::noise;
    noise_total_ = static_cast<int>(rng_.next_u64() % 4);
    noise_done_ = 0;
    if (noise_total_ == 0)
      phase_ = Phase::requote;
  }

  /// Moves one side's mirror so that its best level is `target` (removing better levels,
  /// inserting the target and, with gaps, the ticks down to the old best), changes
  /// `random_changes` sizes near the top, and keeps exactly `levels_` levels.
  template <bool kBid>
  void requote_side(std::vector<TickLevel>& side, std::vector<std::int64_t>& touched,
                    std::int64_t target, int random_changes) {
    constexpr std::int64_t kWorse = kBid ? -1 : 1;
    const auto better = [](std::int64_t a, std::int64_t b) { return kBid ? a > b : a < b; };
    std::size_t removed = 0;
    while (removed < side.size() && better(side[removed].ticks, target)) {
      touched.push_back(side[removed].ticks);
      ++removed;
    }
    side.erase(side.begin(), side.begin() + static_cast<std::ptrdiff_t>(removed));
    if (side.empty() || better(target, side.front().ticks)) {
      scratch_.clear();
      const std::int64_t stop =
          side.empty() ? target + kWorse * static_cast<std::int64_t>(levels_) : side.front().ticks;
      for (std::int64_t ticks = target; ticks != stop && scratch_.size() < levels_;
           ticks += kWorse) {
        if (ticks <= 0)
          break;
        if (ticks == target || rng_.uniform() < 0.7) {
          scratch_.push_back({ticks, random_size()});
          touched.push_back(ticks);
        }
      }
      side.insert(side.begin(), scratch_.begin(), scratch_.end());
    }
    for (int change = 0; change < random_changes && !side.empty(); ++change) {
      const std::size_t window = std::min<std::size_t>(side.size(), 40);
      TickLevel& level = side[static_cast<std::size_t>(rng_.next_u64() % window)];
      level.qty = random_size();
      touched.push_back(level.ticks);
    }
    while (side.size() > levels_) {
      touched.push_back(side.back().ticks);
      side.pop_back();
    }
    while (side.size() < levels_) {
      const std::int64_t gap = rng_.uniform() < 0.3 ? 2 : 1;
      const std::int64_t ticks = side.back().ticks + kWorse * gap;
      if (ticks <= 0)
        break;
      side.push_back({ticks, random_size()});
      touched.push_back(ticks);
    }
  }

  void requote(int random_changes) {
    requote_side<true>(bids_, touched_bids_, target_bid_, random_changes);
    requote_side<false>(asks_, touched_asks_, target_ask_, random_changes);
  }

  /// Appends one event per touched price of a side (best first), with its final size.
  template <bool kBid>
  void append_side(const std::vector<TickLevel>& side, std::vector<std::int64_t>& touched,
                   std::uint16_t flags) {
    if (kBid)
      std::sort(touched.begin(), touched.end(), std::greater<>());
    else
      std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (const std::int64_t ticks : touched) {
      const auto found = std::lower_bound(side.begin(), side.end(), ticks,
                                          [](const TickLevel& level, std::int64_t value) {
                                            return kBid ? level.ticks > value : level.ticks < value;
                                          });
      const Qty qty = found != side.end() && found->ticks == ticks ? found->qty : Qty{};
      if (flags & kFlagSnapshot && qty.is_zero())
        continue;
      MarketEvent event{};
      event.exch_ts = emit_ts_;
      event.symbol = static_cast<SymbolId>(index_);
      event.type = MarketEventType::book_level;
      event.side = kBid ? Side::buy : Side::sell;
      event.flags = flags;
      event.aux = kSourceDepth;
      event.level.price = price_of(ticks);
      event.level.qty = qty;
      event.level.update_id = update_id_;
      event.level.sequence = sequence_;
      events_.push_back(event);
    }
    touched.clear();
  }

  /// Turns the touched prices into one book message and applies it to the OrderBook.
  void emit(bool snapshot) {
    ++update_id_;
    sequence_ += 1 + rng_.next_u64() % 16;
    events_.clear();
    const std::uint16_t flags = snapshot ? kFlagSnapshot : kFlagNone;
    append_side<true>(bids_, touched_bids_, flags);
    append_side<false>(asks_, touched_asks_, flags);
    if (events_.empty()) {
      MarketEvent event{};
      event.symbol = static_cast<SymbolId>(index_);
      event.type = MarketEventType::book_level;
      event.side = Side::none;
      event.aux = kSourceDepth;
      event.level.update_id = update_id_;
      event.level.sequence = sequence_;
      events_.push_back(event);
    }
    const feed::BookStatus status = apply_message(book_, events_);
    if (status != feed::BookStatus::ok)
      throw std::logic_error("synthetic book message refused: " +
                             std::string(feed::to_string(status)));
#ifndef NDEBUG
    check_mirror();
#endif
  }

  /// The OrderBook built from the messages equals the mirror they were made from.
  void check_mirror() const {
    const auto same = [this](std::span<const feed::BookLevel> levels,
                             const std::vector<TickLevel>& mirror) {
      if (levels.size() != mirror.size())
        return false;
      for (std::size_t i = 0; i < mirror.size(); ++i) {
        if (levels[i].price != price_of(mirror[i].ticks) || levels[i].qty != mirror[i].qty)
          return false;
      }
      return true;
    };
    if (!same(book_.bids(), bids_) || !same(book_.asks(), asks_))
      throw std::logic_error("synthetic book differs from its mirror after update " +
                             std::to_string(update_id_));
  }

  std::size_t index_;
  Price tick_;
  Qty step_;
  std::size_t levels_;
  feed::SyntheticMarket market_;
  math::Rng rng_;
  feed::OrderBook book_;
  double mean_level_units_ = 4.0;

  std::vector<TickLevel> bids_;  ///< best (highest) first
  std::vector<TickLevel> asks_;  ///< best (lowest) first
  std::vector<TickLevel> scratch_;
  std::vector<std::int64_t> touched_bids_;
  std::vector<std::int64_t> touched_asks_;
  std::vector<MarketEvent> events_;
  std::int64_t target_bid_ = 0;
  std::int64_t target_ask_ = 0;
  std::uint64_t update_id_ = 0;
  std::uint64_t sequence_ = 1'000'000'000ULL;

  Phase phase_ = Phase::noise;
  MarketEvent trade_{};
  TimestampNs last_ts_ = 0;
  int noise_total_ = 0;
  int noise_done_ = 0;
  Qty remaining_{};
  TimestampNs emit_ts_ = 0;  ///< exch_ts of the step being produced
};

class SyntheticSource final : public MarketSource {
 public:
  explicit SyntheticSource(const SyntheticSourceOptions& options) {
    if (options.book_levels == 0)
      throw std::invalid_argument("synthetic market: book_levels must be at least 1");
    for (std::size_t index = 0; index < options.symbols.size(); ++index) {
      const auto& [name, price] = options.symbols[index];
      const ExchangeInstrument* instrument = find_instrument(options.instruments, name);
      if (instrument == nullptr)
        throw std::invalid_argument("synthetic market: no instrument rules for " + name);
      if (!(price > 0.0))
        throw std::invalid_argument("synthetic market: starting price of " + name +
                                    " must be positive");
      names_.push_back(name);
      symbols_.push_back(std::make_unique<SyntheticSymbol>(index, price, *instrument, options.seed,
                                                           options.book_levels,
                                                           options.mean_interarrival_ms));
    }
    if (symbols_.empty())
      throw std::invalid_argument("synthetic market: no symbols");
  }

  [[nodiscard]] const std::vector<std::string>& symbols() const noexcept override { return names_; }

  MarketStep next() override {
    std::size_t earliest = 0;
    for (std::size_t index = 1; index < symbols_.size(); ++index) {
      if (symbols_[index]->next_ts() < symbols_[earliest]->next_ts())
        earliest = index;
    }
    return symbols_[earliest]->produce();
  }

  [[nodiscard]] const feed::OrderBook& book(std::size_t symbol_index) const noexcept override {
    return symbols_[symbol_index]->book();
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<SyntheticSymbol>> symbols_;
};

// ----------------------------------------------------------------------------------------
// Replay

/// One recorded step, decoded at start-up.
struct RecordedStep {
  MarketStep::Kind kind = MarketStep::Kind::book;
  std::size_t symbol = 0;
  std::int64_t ts_ns = 0;
  std::uint16_t depth = 0;      ///< book: the stream's depth
  std::size_t first_event = 0;  ///< book: into ReplaySource::events_
  std::size_t event_count = 0;  ///< book
  Price price{};                ///< trade
  Qty qty{};                    ///< trade
  Side side = Side::none;       ///< trade
  std::uint64_t sequence = 0;
  std::string trade_id;  ///< trade
};

/// The category of a connection from its URL's last path segment ("linear", "spot", ...).
std::string category_of(std::string_view url) {
  const std::size_t query = url.find('?');
  if (query != std::string_view::npos)
    url = url.substr(0, query);
  const std::size_t slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

class ReplaySource final : public MarketSource {
 public:
  explicit ReplaySource(const ReplaySourceOptions& options)
      : path_(options.path),
        loop_(options.loop),
        table_(1024),
        decoder_(table_),
        decoded_(feed::BybitDecoder::kRecommendedEventCapacity) {
    std::ifstream probe(options.path, std::ios::binary);
    if (!probe)
      throw std::runtime_error(options.path + ": cannot open: " + std::strerror(errno));
    char magic[sizeof feed::kCaptureMagic] = {};
    probe.read(magic, sizeof magic);
    const bool is_kcap = probe.gcount() == static_cast<std::streamsize>(sizeof magic) &&
                         std::memcmp(magic, feed::kCaptureMagic, sizeof magic) == 0;
    probe.close();
    try {
      if (is_kcap)
        read_kcap();
      else
        read_json_lines();
    } catch (const std::runtime_error& error) {
      const std::string what = error.what();
      throw std::runtime_error(what.rfind(options.path, 0) == 0 ? what
                                                                : options.path + ": " + what);
    }
    keep_deepest_books();
    if (steps_.empty()) {
      throw std::runtime_error(options.path + ": holds no linear market data (no " +
                               "orderbook or publicTrade message among " + std::to_string(frames_) +
                               " frames)");
    }
    for (std::size_t index = 0; index < names_.size(); ++index)
      books_.push_back(
          std::make_unique<feed::OrderBook>(options.book_levels, static_cast<SymbolId>(index)));
    first_ts_ = steps_.front().ts_ns;
    last_ts_ = steps_.back().ts_ns;
  }

  [[nodiscard]] const std::vector<std::string>& symbols() const noexcept override { return names_; }

  MarketStep next() override {
    for (;;) {
      if (position_ == steps_.size()) {
        if (!loop_)
          return MarketStep{};
        // Time continues: the next pass starts 1 ms after this one ended.
        offset_ns_ += last_ts_ - first_ts_ + 1'000'000;
        position_ = 0;
        for (auto& book : books_)
          book->invalidate();
      }
      const RecordedStep& recorded = steps_[position_++];
      MarketStep step;
      step.kind = recorded.kind;
      step.symbol_index = recorded.symbol;
      step.sequence = recorded.sequence;
      step.exch_ts_ns = std::max(recorded.ts_ns + offset_ns_, previous_ts_);
      if (recorded.kind == MarketStep::Kind::book) {
        std::span<MarketEvent> events(events_.data() + recorded.first_event, recorded.event_count);
        const feed::BookStatus status = books_[recorded.symbol]->apply(events);
        if (status != feed::BookStatus::ok && status != feed::BookStatus::overflow)
          continue;  // a gap or a delta before the snapshot: wait for the next snapshot
      } else {
        step.price = recorded.price;
        step.qty = recorded.qty;
        step.taker_side = recorded.side;
        step.trade_id = recorded.trade_id;
      }
      previous_ts_ = step.exch_ts_ns;
      return step;
    }
  }

  [[nodiscard]] const feed::OrderBook& book(std::size_t symbol_index) const noexcept override {
    return *books_[symbol_index];
  }

 private:
  void read_kcap() {
    feed::CaptureReader reader = feed::CaptureReader::open(path_);
    std::map<std::uint16_t, std::string> categories;
    feed::CaptureRecord record;
    while (reader.next(record)) {
      if (record.kind == feed::RecordKind::connection_opened) {
        categories[record.stream] = category_of(record.payload);
      } else if (record.kind == feed::RecordKind::text_message) {
        const auto found = categories.find(record.stream);
        if (found != categories.end() && found->second != "linear")
          continue;
        add_frame(record.payload, record.recv_ts_ns);
      }
    }
  }

  void read_json_lines() {
    feed::CaptureLineSource lines = feed::CaptureLineSource::open_file(path_);
    std::map<std::string, std::string, std::less<>> categories;
    simdjson::dom::parser parser;
    std::string_view line;
    std::size_t json_lines = 0;
    while (lines.next(line)) {
      if (line.empty())
        continue;
      simdjson::dom::element root;
      if (parser.parse(line.data(), line.size()).get(root) || !root.is_object()) {
        if (json_lines == 0 && lines.line_number() <= 1) {
          throw std::runtime_error(
              "line 1 is not JSON: neither a kinetic capture nor a "
              "Bybit WebSocket JSON-lines capture");
        }
        continue;
      }
      ++json_lines;
      std::string_view type, conn;
      if (root["t"].get(type))
        continue;
      if (root["conn"].get(conn))
        conn = {};
      if (type == "connect") {
        std::string_view address;
        if (!root["addr"].get(address))
          categories[std::string(conn)] = category_of(address);
        continue;
      }
      if (type != "recv")
        continue;
      const auto found = categories.find(conn);
      if (found != categories.end() && found->second != "linear")
        continue;
      std::string_view data;
      double ts_s = 0.0;
      if (root["data"].get(data) || root["ts"].get(ts_s))
        continue;
      add_frame(data, static_cast<std::int64_t>(std::llround(ts_s * 1e9)));
    }
  }

  std::size_t symbol_index(std::string_view name) {
    for (std::size_t index = 0; index < names_.size(); ++index) {
      if (names_[index] == name)
        return index;
    }
    names_.emplace_back(name);
    return names_.size() - 1;
  }

  /// Decodes one frame; its book levels and trades become recorded steps.
  void add_frame(std::string_view frame, std::int64_t recv_ts_ns) {
    ++frames_;
    padded_.assign(frame);
    padded_.append(feed::BybitDecoder::kMessagePadding, ' ');
    const std::string_view message(padded_.data(), frame.size());
    const feed::DecodeResult result = decoder_.decode(message, recv_ts_ns, decoded_);
    if (!result.is_data() || result.events == 0)
      return;
    const std::span<const MarketEvent> events(decoded_.data(), result.events);
    const MarketEvent& first = events.front();
    if (first.type == MarketEventType::book_level) {
      RecordedStep step;
      step.kind = MarketStep::Kind::book;
      step.symbol = symbol_index(table_.name(first.symbol));
      step.ts_ns = recv_ts_ns;
      step.depth = first.aux;
      step.sequence = first.level.sequence;
      step.first_event = events_.size();
      step.event_count = events.size();
      for (MarketEvent event : events) {
        event.symbol = static_cast<SymbolId>(step.symbol);
        events_.push_back(event);
      }
      steps_.push_back(std::move(step));
    } else if (first.type == MarketEventType::trade) {
      // The decoder keeps a hash of a text id; the text itself comes from the frame.
      simdjson::dom::element root;
      simdjson::dom::array data;
      const bool have_ids =
          !frame_parser_.parse(frame.data(), frame.size()).get(root) && !root["data"].get(data);
      std::size_t position = 0;
      for (const MarketEvent& event : events) {
        RecordedStep step;
        step.kind = MarketStep::Kind::trade;
        step.symbol = symbol_index(table_.name(event.symbol));
        step.ts_ns = recv_ts_ns;
        step.price = event.trade.price;
        step.qty = event.trade.qty;
        step.side = event.side;
        step.sequence = event.trade.sequence;
        std::string_view id;
        if (have_ids && position < data.size() && !data.at(position)["i"].get(id))
          step.trade_id.assign(id);
        else
          step.trade_id = uuid_text(event.trade.trade_id, event.trade.sequence);
        ++position;
        steps_.push_back(std::move(step));
      }
    }
  }

  /// Keeps, per symbol, only the book messages of its deepest stream.
  void keep_deepest_books() {
    std::vector<std::uint16_t> deepest(names_.size(), 0);
    for (const RecordedStep& step : steps_) {
      if (step.kind == MarketStep::Kind::book)
        deepest[step.symbol] = std::max(deepest[step.symbol], step.depth);
    }
    std::erase_if(steps_, [&](const RecordedStep& step) {
      return step.kind == MarketStep::Kind::book && step.depth != deepest[step.symbol];
    });
  }

  std::string path_;
  bool loop_;
  feed::SymbolTable table_;
  feed::BybitDecoder decoder_;
  simdjson::dom::parser frame_parser_;
  std::vector<MarketEvent> decoded_;
  std::string padded_;
  std::size_t frames_ = 0;

  std::vector<std::string> names_;
  std::vector<RecordedStep> steps_;
  std::vector<MarketEvent> events_;
  std::vector<std::unique_ptr<feed::OrderBook>> books_;
  std::size_t position_ = 0;
  std::int64_t first_ts_ = 0;
  std::int64_t last_ts_ = 0;
  std::int64_t offset_ns_ = 0;
  std::int64_t previous_ts_ = 0;
};

}  // namespace

std::unique_ptr<MarketSource> make_synthetic_source(const SyntheticSourceOptions& options) {
  return std::make_unique<SyntheticSource>(options);
}

std::unique_ptr<MarketSource> make_replay_source(const ReplaySourceOptions& options) {
  return std::make_unique<ReplaySource>(options);
}

}  // namespace kinetic::exchange
