// SimVenue: matching, positions and wallets of the exchange simulator. See sim_venue.hpp.
//
// Rules this file chooses where Bybit leaves room (each is tested in sim_venue_test.cpp):
// - Validation order of create(): symbol, side, qty (step, min, max, max market), price (tick
//   10001, min/max 110003), take-profit/stop-loss side (10001), min notional (110094),
//   duplicate orderLinkId (110072), too many open orders (110020), reduce-only (110017),
//   margin (110007). A reduce-only order's qty is capped to the position's size.
// - A market order is IOC walking only the current book; its reported `price` is the worst
//   level it reached (0 when nothing filled). An IOC/market remainder is cancelled with
//   rejectReason EC_NoImmediateQtyToFill, a FOK that cannot fill completely with
//   EC_CancelForNoFullFill (no fill at all), a crossing PostOnly with
//   EC_PostOnlyWillTakeLiquidity (cancelType stays "UNKNOWN" for all three, as Bybit).
// - Liquidity taken by a simulated order is not removed from the market data: the simulated
//   orders never change the market, and accounts never trade with each other.
// - A resting limit order (buy at P; sells mirror it) and a public trade at price T, qty Q
//   (the taker side is not used: the price alone says whether the trade reached the order):
//     T < P: the market traded through the order: it fills min(leaves, Q) at P;
//     T = P: the trade first eats the queue ahead (queue_ahead -= min(queue_ahead, Q)), and
//            what is left of Q fills the order;
//     T > P: nothing.
//   Each simulated order sees the whole trade (they do not share its volume).
// - on_book: a resting buy at P that the best ask now reaches (ask <= P) fills at P (maker)
//   by min(leaves, the asks' total size at prices <= P). The queue ahead of a resting order
//   never exceeds the size now shown at its price (cancellations ahead of it); a price inside
//   the shown range of its side with no level means an empty queue; a price beyond the shown
//   depth keeps its queue.
// - Fills are processed account by account (id order), orders oldest first.
// - Arithmetic is exact in 1e-8 units: exec value = price × qty cut toward zero (exact for
//   real tick and step sizes); fee = value × ppm / 1e6 rounded to nearest (ties away from
//   zero); the position keeps its entry value (sum of the opening exec values), avgPrice =
//   entry value / size rounded to nearest; a partial close takes entry × closed / size rounded
//   to nearest out of the entry value, a full close takes all that is left, so the realised
//   P&L of a whole round trip is exactly exit value − entry value. Position IM = entry value /
//   leverage and MM = entry value × maintenance ppm, both rounded up.
// - Order IM (non-reduce-only open orders): per symbol and side, Σ leaves × price, less the
//   share of it that would only close the opposite position; IM = that / leverage (up) +
//   that × taker fee (nearest). A new order or amend needs its increase of order IM to be at
//   most the available balance (110007 "ab not enough for new order").
// - curRealisedPnl: Σ (execPnl − fee) since the position was last opened from flat; it is
//   kept after a close until the next opening. cumRealisedPnl: all of them, ever. The wallet
//   balance moves by execPnl − fee on every execution.
// - liqPrice is an estimate with the isolated-margin formula: long avg × (1 − 1/L + mmr),
//   short avg × (1 + 1/L − mmr), rounded to the tick. Nothing is ever liquidated.
// - Take-profit / stop-loss fire on a public trade at or through the level (long: TP when
//   last >= TP, SL when last <= SL; short mirrored): a reduce-only market order for the whole
//   position walks the book (createType CreateByTakeProfit/CreateByStopLoss). While the book
//   side it would close into is empty nothing fires and the level stays armed (a trades-only
//   replay would otherwise cancel a market order on every trade); what the book cannot fill
//   is cancelled and the level stays. A position that goes flat loses its TP/SL.
// - The default leverage is clamped into each instrument's leverage filter.
// - Reduce-only open orders are trimmed to the position after every fill, and cancelled
//   (cancelType CancelByReduceOnly) when the position is flat or on their side.

#include "kinetic/exec/sim_venue.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <tuple>
#include <utility>

#include "kinetic/core/int128.hpp"
#include "kinetic/feed/bybit_names.hpp"

namespace kinetic::exec::sim {

std::string_view to_bybit(OrderType type) noexcept {
  return type == OrderType::market ? "Market" : "Limit";
}

std::string_view to_bybit(TimeInForce tif) noexcept {
  switch (tif) {
    case TimeInForce::gtc:
      return "GTC";
    case TimeInForce::ioc:
      return "IOC";
    case TimeInForce::fok:
      return "FOK";
    case TimeInForce::post_only:
      return "PostOnly";
  }
  return "GTC";
}

std::string_view to_bybit(OrderStatus status) noexcept {
  switch (status) {
    case OrderStatus::created:
      return "Created";
    case OrderStatus::new_:
      return "New";
    case OrderStatus::partially_filled:
      return "PartiallyFilled";
    case OrderStatus::filled:
      return "Filled";
    case OrderStatus::cancelled:
      return "Cancelled";
    case OrderStatus::rejected:
      return "Rejected";
  }
  return "New";
}

std::string_view to_bybit(Side side) noexcept {
  return feed::bybit_side_name(side);
}

namespace {

constexpr std::int64_t kPpm = 1'000'000;
constexpr std::int64_t kScale = Amount::kScale;

/// a × b / d rounded to nearest, ties away from zero (d > 0).
std::int64_t mul_div_nearest(std::int64_t a, std::int64_t b, std::int64_t d) noexcept {
  const int128 product = static_cast<int128>(a) * b;
  const int128 half = d / 2;
  const int128 q = product >= 0 ? (product + half) / d : -((-product + half) / d);
  return static_cast<std::int64_t>(q);
}

/// a × b / d rounded toward positive infinity (d > 0).
std::int64_t mul_div_up(std::int64_t a, std::int64_t b, std::int64_t d) noexcept {
  const int128 product = static_cast<int128>(a) * b;
  int128 q = product / d;
  if (product % d > 0)
    q += 1;
  return static_cast<std::int64_t>(q);
}

Amount value_of(Price price, Qty qty) noexcept {
  const auto result = notional(price, qty);
  return result.ok() ? result.value() : Amount{};
}

Amount fee_of(Amount value, std::int64_t ppm) noexcept {
  return Amount::from_raw(mul_div_nearest(value.raw(), ppm, kPpm));
}

Amount divide_by_leverage_up(Amount value, Amount leverage) noexcept {
  if (leverage.raw() <= 0)
    return value;
  return Amount::from_raw(mul_div_up(value.raw(), kScale, leverage.raw()));
}

std::string format_decimal(std::int64_t raw) {
  char buffer[Price::kMaxFormattedLength];
  const std::size_t length = Price::from_raw(raw).format(buffer);
  return std::string(buffer, length);
}

/// True when a buy at `limit` would trade with an ask at `level` (or a sell with a bid).
bool reaches(Side side, Price limit, Price level) noexcept {
  return side == Side::buy ? level <= limit : level >= limit;
}

/// splitmix64: a small, well-mixed deterministic generator for the ids.
class IdGenerator {
 public:
  explicit IdGenerator(std::uint64_t seed) noexcept : state_(seed) {}

  std::uint64_t next() noexcept {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase hex.
  std::string uuid() {
    const std::uint64_t high = next();
    const std::uint64_t low = next();
    char text[37];
    std::snprintf(text, sizeof text, "%08llx-%04llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(high >> 32),
                  static_cast<unsigned long long>((high >> 16) & 0xFFFFULL),
                  static_cast<unsigned long long>(high & 0xFFFFULL),
                  static_cast<unsigned long long>(low >> 48),
                  static_cast<unsigned long long>(low & 0xFFFF'FFFF'FFFFULL));
    return std::string(text, 36);
  }

 private:
  std::uint64_t state_;
};

struct Position {
  Side side = Side::none;
  Qty size{};
  Amount entry_value{};
  Amount cur_realised{};
  Amount cum_realised{};
  std::optional<Price> take_profit;
  std::optional<Price> stop_loss;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::uint64_t seq = 0;
};

struct SymbolMarket {
  std::vector<feed::BookLevel> bids;
  std::vector<feed::BookLevel> asks;
  Price last{};
};

struct Account {
  Amount wallet_balance{};
  std::map<std::string, Amount, std::less<>> leverage;
  std::map<std::string, Position, std::less<>> positions;
  std::vector<OrderState> orders;        ///< every order, oldest first
  std::vector<std::size_t> open_orders;  ///< indices into `orders`, oldest first
  std::vector<Execution> executions;     ///< oldest first
  std::set<std::string, std::less<>> link_ids;
};

bool is_open(const OrderState& order) noexcept {
  return order.status == OrderStatus::new_ || order.status == OrderStatus::partially_filled;
}

VenueError error(int code, std::string message) {
  return VenueError{code, std::move(message)};
}

}  // namespace

struct SimVenue::Impl {
  std::vector<risk::InstrumentRules> instruments;
  VenueOptions options;
  VenueListener* listener = nullptr;
  std::vector<Account> accounts;
  std::map<std::string, SymbolMarket, std::less<>> markets;
  IdGenerator ids;
  std::uint64_t seq = 0;

  Impl(std::vector<risk::InstrumentRules> rules, const VenueOptions& venue_options)
      : instruments(std::move(rules)), options(venue_options), ids(venue_options.seed) {}

  // ---- lookups ----
  const risk::InstrumentRules* rules(std::string_view symbol) const noexcept {
    for (const auto& rule : instruments) {
      if (symbol == std::string_view(rule.symbol))
        return &rule;
    }
    return nullptr;
  }

  Account* find_account(AccountId id) noexcept {
    return id >= 1 && id <= accounts.size() ? &accounts[id - 1] : nullptr;
  }
  const Account* find_account(AccountId id) const noexcept {
    return id >= 1 && id <= accounts.size() ? &accounts[id - 1] : nullptr;
  }

  SymbolMarket& market(std::string_view symbol) {
    auto it = markets.find(symbol);
    if (it == markets.end())
      it = markets.emplace(std::string(symbol), SymbolMarket{}).first;
    return it->second;
  }
  const SymbolMarket* market_if(std::string_view symbol) const noexcept {
    const auto it = markets.find(symbol);
    return it == markets.end() ? nullptr : &it->second;
  }

  Amount leverage_of(const Account& account, std::string_view symbol) const {
    const auto it = account.leverage.find(symbol);
    if (it != account.leverage.end())
      return it->second;
    // The default, kept inside the instrument's leverage filter.
    Amount leverage = options.default_leverage;
    if (const risk::InstrumentRules* rule = rules(symbol)) {
      leverage = std::min(leverage, rule->max_leverage);
      leverage = std::max(leverage, rule->min_leverage);
    }
    return leverage;
  }

  Position& position(Account& account, std::string_view symbol) {
    auto it = account.positions.find(symbol);
    if (it == account.positions.end())
      it = account.positions.emplace(std::string(symbol), Position{}).first;
    return it->second;
  }
  static const Position* position_if(const Account& account, std::string_view symbol) {
    const auto it = account.positions.find(symbol);
    return it == account.positions.end() ? nullptr : &it->second;
  }

  Price last_price(std::string_view symbol) const noexcept {
    const SymbolMarket* m = market_if(symbol);
    return m == nullptr ? Price{} : m->last;
  }

  /// The mark: the last trade; before any trade, the position's own average price.
  Price mark_for(std::string_view symbol, const Position& pos) const noexcept {
    const Price last = last_price(symbol);
    if (!last.is_zero())
      return last;
    return average_price(pos);
  }

  static Price average_price(const Position& pos) noexcept {
    if (pos.size.raw() <= 0)
      return Price{};
    return Price::from_raw(mul_div_nearest(pos.entry_value.raw(), kScale, pos.size.raw()));
  }

  Amount unrealised(std::string_view symbol, const Position& pos) const noexcept {
    if (pos.size.raw() <= 0)
      return Amount{};
    const Amount mark_value = value_of(mark_for(symbol, pos), pos.size);
    return pos.side == Side::buy ? mark_value - pos.entry_value : pos.entry_value - mark_value;
  }

  Amount position_im(const Position& pos, Amount leverage) const noexcept {
    return divide_by_leverage_up(pos.entry_value, leverage);
  }
  Amount position_mm(const Position& pos) const noexcept {
    return Amount::from_raw(
        mul_div_up(pos.entry_value.raw(), options.maintenance_margin_ppm, kPpm));
  }

  Price liquidation_price(const risk::InstrumentRules* rule, const Position& pos,
                          Amount leverage) const noexcept {
    if (pos.size.raw() <= 0 || leverage.raw() <= 0)
      return Price{};
    const int128 avg = average_price(pos).raw();
    const int128 lev = leverage.raw();
    const int128 mm = options.maintenance_margin_ppm;
    const int128 scale_ppm = static_cast<int128>(kScale) * kPpm;
    const int128 numerator =
        pos.side == Side::buy ? lev * (kPpm + mm) - scale_ppm : lev * (kPpm - mm) + scale_ppm;
    int128 raw = avg * numerator / (lev * kPpm);
    if (raw < 0)
      raw = 0;
    Price price = Price::from_raw(static_cast<std::int64_t>(raw));
    if (rule != nullptr)
      price = price.round_nearest(rule->tick_size);
    return price;
  }

  /// One pending order for the order-IM computation (the new order or an amended one).
  struct PendingOrder {
    const OrderState* replaces = nullptr;  ///< an open order this one stands in for
    Side side = Side::none;
    Qty qty{};
    Amount value{};
  };

  /// Order IM of one symbol's open non-reduce-only orders (plus `pending`), see the file comment.
  Amount symbol_order_im(const Account& account, std::string_view symbol,
                         const PendingOrder* pending) const {
    std::array<Qty, 3> qty{};
    std::array<Amount, 3> value{};
    for (const std::size_t index : account.open_orders) {
      const OrderState& order = account.orders[index];
      if (order.symbol != symbol || order.reduce_only)
        continue;
      if (pending != nullptr && pending->replaces == &order)
        continue;
      const auto side = static_cast<std::size_t>(order.side);
      qty[side] += order.leaves_qty;
      value[side] += value_of(order.price, order.leaves_qty);
    }
    if (pending != nullptr && pending->side != Side::none) {
      const auto side = static_cast<std::size_t>(pending->side);
      qty[side] += pending->qty;
      value[side] += pending->value;
    }
    const Position* pos = position_if(account, symbol);
    const Amount leverage = leverage_of(account, symbol);
    Amount total{};
    for (const Side side : {Side::buy, Side::sell}) {
      const auto s = static_cast<std::size_t>(side);
      if (qty[s].raw() <= 0)
        continue;
      Amount opening = value[s];
      if (pos != nullptr && pos->size.raw() > 0 && pos->side == opposite(side)) {
        const Qty closing = std::min(pos->size, qty[s]);
        opening =
            Amount::from_raw(mul_div_up(value[s].raw(), (qty[s] - closing).raw(), qty[s].raw()));
      }
      total += divide_by_leverage_up(opening, leverage) + fee_of(opening, options.taker_fee_ppm);
    }
    return total;
  }

  Amount order_im(const Account& account) const {
    std::set<std::string_view> symbols;
    for (const std::size_t index : account.open_orders)
      symbols.insert(account.orders[index].symbol);
    Amount total{};
    for (const std::string_view symbol : symbols)
      total += symbol_order_im(account, symbol, nullptr);
    return total;
  }

  WalletState wallet_state(const Account& account) const {
    WalletState wallet;
    wallet.wallet_balance = account.wallet_balance;
    for (const auto& [symbol, pos] : account.positions) {
      wallet.cum_realised_pnl += pos.cum_realised;
      if (pos.size.raw() <= 0)
        continue;
      wallet.unrealised_pnl += unrealised(symbol, pos);
      wallet.total_position_im += position_im(pos, leverage_of(account, symbol));
      wallet.total_position_mm += position_mm(pos);
    }
    wallet.total_order_im = order_im(account);
    wallet.equity = wallet.wallet_balance + wallet.unrealised_pnl;
    wallet.available_balance = wallet.equity - wallet.total_position_im - wallet.total_order_im;
    return wallet;
  }

  PositionState position_state(const Account& account, std::string_view symbol) const {
    PositionState state;
    state.symbol = std::string(symbol);
    state.leverage = leverage_of(account, symbol);
    state.mark_price = last_price(symbol);
    const Position* pos = position_if(account, symbol);
    if (pos == nullptr)
      return state;
    state.cur_realised_pnl = pos->cur_realised;
    state.cum_realised_pnl = pos->cum_realised;
    state.created_ms = pos->created_ms;
    state.updated_ms = pos->updated_ms;
    state.seq = pos->seq;
    if (pos->size.raw() <= 0)
      return state;
    state.side = pos->side;
    state.size = pos->size;
    state.avg_price = average_price(*pos);
    state.position_value = pos->entry_value;
    state.mark_price = mark_for(symbol, *pos);
    state.unrealised_pnl = unrealised(symbol, *pos);
    state.position_im = position_im(*pos, state.leverage);
    state.position_mm = position_mm(*pos);
    state.liq_price = liquidation_price(rules(symbol), *pos, state.leverage);
    state.take_profit = pos->take_profit;
    state.stop_loss = pos->stop_loss;
    return state;
  }

  // ---- events ----
  void emit_order(AccountId id, const OrderState& order) {
    if (listener != nullptr)
      listener->on_order(id, order);
  }
  void emit_tail(AccountId id, const std::vector<Execution>& executions, std::string_view symbol) {
    if (listener == nullptr)
      return;
    for (const Execution& execution : executions)
      listener->on_execution(id, execution);
    const Account& account = accounts[id - 1];
    listener->on_position(id, position_state(account, symbol));
    listener->on_wallet(id, wallet_state(account));
  }
  /// Bybit's order of pushes for one order's change: order, executions, position, wallet.
  void emit_all(AccountId id, const OrderState& order, const std::vector<Execution>& executions) {
    emit_order(id, order);
    emit_tail(id, executions, order.symbol);
  }

  // ---- fills ----
  /// Applies one fill of `qty` at `price` to `order` and its position and wallet; records and
  /// returns the execution. `qty` must be > 0 and ≤ leaves (reduce-only callers cap it first).
  Execution fill(AccountId id, OrderState& order, Price price, Qty qty, bool maker,
                 std::int64_t now_ms) {
    Account& account = accounts[id - 1];
    Position& pos = position(account, order.symbol);
    const Amount exec_value = value_of(price, qty);
    const std::int64_t fee_ppm = maker ? options.maker_fee_ppm : options.taker_fee_ppm;
    const Amount fee = fee_of(exec_value, fee_ppm);

    Amount pnl{};
    Qty closed{};
    if (pos.size.raw() > 0 && pos.side == opposite(order.side)) {
      closed = std::min(qty, pos.size);
      const Amount closed_entry = closed == pos.size
                                      ? pos.entry_value
                                      : Amount::from_raw(mul_div_nearest(
                                            pos.entry_value.raw(), closed.raw(), pos.size.raw()));
      const Amount closed_exit = value_of(price, closed);
      pnl = pos.side == Side::buy ? closed_exit - closed_entry : closed_entry - closed_exit;
      pos.entry_value -= closed_entry;
      pos.size -= closed;
      if (pos.size.raw() == 0) {
        pos.side = Side::none;
        pos.entry_value = Amount{};
        pos.take_profit.reset();
        pos.stop_loss.reset();
      }
    }
    const Qty opening = qty - closed;
    if (opening.raw() > 0) {
      if (pos.size.raw() == 0) {
        pos.side = order.side;
        pos.cur_realised = Amount{};
        pos.created_ms = now_ms;
      }
      pos.size += opening;
      pos.entry_value += opening == qty ? exec_value : value_of(price, opening);
      if (!order.reduce_only) {
        if (order.take_profit)
          pos.take_profit = order.take_profit;
        if (order.stop_loss)
          pos.stop_loss = order.stop_loss;
      }
    }
    pos.cur_realised += pnl - fee;
    pos.cum_realised += pnl - fee;
    pos.updated_ms = now_ms;
    pos.seq = ++seq;
    account.wallet_balance += pnl - fee;

    order.cum_exec_qty += qty;
    order.leaves_qty -= qty;
    order.cum_exec_value += exec_value;
    order.cum_exec_fee += fee;
    order.avg_price = Price::from_raw(
        mul_div_nearest(order.cum_exec_value.raw(), kScale, order.cum_exec_qty.raw()));
    order.status =
        order.leaves_qty.raw() == 0 ? OrderStatus::filled : OrderStatus::partially_filled;
    order.updated_ms = now_ms;

    Execution execution;
    execution.exec_id = ids.uuid();
    execution.order_id = order.order_id;
    execution.order_link_id = order.order_link_id;
    execution.symbol = order.symbol;
    execution.side = order.side;
    execution.order_type = order.type;
    execution.order_price = order.price;
    execution.order_qty = order.qty;
    execution.leaves_qty = order.leaves_qty;
    execution.exec_price = price;
    execution.exec_qty = qty;
    execution.exec_value = exec_value;
    execution.exec_fee = fee;
    execution.fee_rate_ppm = fee_ppm;
    execution.is_maker = maker;
    execution.exec_pnl = pnl;
    execution.closed_size = closed;
    const Price last = last_price(order.symbol);
    execution.mark_price = last.is_zero() ? price : last;
    execution.stop_order_type = order.stop_order_type;
    execution.exec_time_ms = now_ms;
    execution.seq = pos.seq;
    account.executions.push_back(execution);
    return execution;
  }

  /// The largest qty a reduce-only order may fill now (its leaves otherwise).
  Qty fillable(const Account& account, const OrderState& order) const {
    if (!order.reduce_only)
      return order.leaves_qty;
    const Position* pos = position_if(account, order.symbol);
    if (pos == nullptr || pos->size.raw() <= 0 || pos->side != opposite(order.side))
      return Qty{};
    return std::min(order.leaves_qty, pos->size);
  }

  /// Walks the current opposite book (up to the order's limit price for limit orders) as taker.
  std::vector<Execution> take_liquidity(AccountId id, OrderState& order, std::int64_t now_ms) {
    std::vector<Execution> executions;
    const SymbolMarket* m = market_if(order.symbol);
    if (m == nullptr)
      return executions;
    // Copy: fills do not change the book, but keep the walk independent of later on_book calls.
    const std::vector<feed::BookLevel> levels = order.side == Side::buy ? m->asks : m->bids;
    if (order.type == OrderType::market) {
      // The reported price of a market order: the worst level its walk reaches, set before
      // the fills so that every execution carries the same orderPrice.
      Qty remaining = fillable(accounts[id - 1], order);
      for (const feed::BookLevel& level : levels) {
        if (remaining.raw() <= 0)
          break;
        order.price = level.price;
        remaining -= std::min(remaining, level.qty);
      }
    }
    for (const feed::BookLevel& level : levels) {
      if (order.type == OrderType::limit && !reaches(order.side, order.price, level.price))
        break;
      const Qty allowed = fillable(accounts[id - 1], order);
      const Qty qty = std::min(allowed, level.qty);
      if (qty.raw() <= 0)
        break;
      executions.push_back(fill(id, order, level.price, qty, false, now_ms));
    }
    return executions;
  }

  /// Total size the opposite book offers to `order` within its limit (all of it for market).
  Qty reachable_liquidity(const OrderState& order) const {
    const SymbolMarket* m = market_if(order.symbol);
    Qty total{};
    if (m == nullptr)
      return total;
    for (const feed::BookLevel& level : order.side == Side::buy ? m->asks : m->bids) {
      if (order.type == OrderType::limit && !reaches(order.side, order.price, level.price))
        break;
      total += level.qty;
    }
    return total;
  }

  bool crosses(const OrderState& order) const {
    const SymbolMarket* m = market_if(order.symbol);
    if (m == nullptr)
      return false;
    const auto& levels = order.side == Side::buy ? m->asks : m->bids;
    return !levels.empty() && reaches(order.side, order.price, levels.front().price);
  }

  /// The size the book shows at `price` on the order's own side (0 when no level there).
  Qty book_size_at(std::string_view symbol, Side side, Price price) const {
    const SymbolMarket* m = market_if(symbol);
    if (m == nullptr)
      return Qty{};
    for (const feed::BookLevel& level : side == Side::buy ? m->bids : m->asks) {
      if (level.price == price)
        return level.qty;
    }
    return Qty{};
  }

  void close_order(Account& account, OrderState& order) {
    // Bybit reports nothing left to execute on a closed order: a cancelled one shows
    // leavesQty "0" whatever it had open.
    order.leaves_qty = Qty{};
    const std::size_t index = static_cast<std::size_t>(&order - account.orders.data());
    const auto it = std::find(account.open_orders.begin(), account.open_orders.end(), index);
    if (it != account.open_orders.end())
      account.open_orders.erase(it);
  }

  /// After a fill changed the position: trims or cancels reduce-only orders that would no
  /// longer reduce it, pushing their order updates.
  void reconcile_reduce_only(AccountId id, std::string_view symbol, std::int64_t now_ms) {
    Account& account = accounts[id - 1];
    const std::vector<std::size_t> open = account.open_orders;
    for (const std::size_t index : open) {
      OrderState& order = account.orders[index];
      if (!order.reduce_only || order.symbol != symbol)
        continue;
      const Position* pos = position_if(account, symbol);
      const bool reduces =
          pos != nullptr && pos->size.raw() > 0 && pos->side == opposite(order.side);
      if (!reduces) {
        order.status = OrderStatus::cancelled;
        order.cancel_type = "CancelByReduceOnly";
        order.updated_ms = now_ms;
        close_order(account, order);
        emit_order(id, order);
      } else if (order.leaves_qty > pos->size) {
        order.leaves_qty = pos->size;
        order.qty = order.cum_exec_qty + pos->size;
        order.updated_ms = now_ms;
        emit_order(id, order);
      }
    }
  }

  /// Settles an order after its immediate (taker) part: IOC/FOK/market remainders are
  /// cancelled, others rest.
  void finish_taker(Account& account, OrderState& order, std::int64_t now_ms) {
    order.updated_ms = now_ms;
    if (order.leaves_qty.raw() == 0) {
      order.status = OrderStatus::filled;
      close_order(account, order);
      return;
    }
    const bool rests =
        order.type == OrderType::limit &&
        (order.time_in_force == TimeInForce::gtc || order.time_in_force == TimeInForce::post_only);
    if (rests) {
      order.status =
          order.cum_exec_qty.raw() > 0 ? OrderStatus::partially_filled : OrderStatus::new_;
      order.queue_ahead = book_size_at(order.symbol, order.side, order.price);
      return;
    }
    order.status = OrderStatus::cancelled;
    order.reject_reason = "EC_NoImmediateQtyToFill";
    close_order(account, order);
  }

  std::optional<VenueError> check_tpsl(Side side, Price base, const std::optional<Price>& tp,
                                       const std::optional<Price>& sl) const {
    if (base.is_zero())
      return std::nullopt;
    const std::string side_name(to_bybit(side));
    if (tp && !tp->is_zero()) {
      const bool ok = side == Side::buy ? *tp > base : *tp < base;
      if (!ok) {
        return error(10001, "TakeProfit:" + format_decimal(tp->raw()) + " set for " + side_name +
                                " position should be " + (side == Side::buy ? "higher" : "lower") +
                                " than base_price:" + format_decimal(base.raw()) + "??LastPrice");
      }
    }
    if (sl && !sl->is_zero()) {
      const bool ok = side == Side::buy ? *sl < base : *sl > base;
      if (!ok) {
        return error(10001, "StopLoss:" + format_decimal(sl->raw()) + " set for " + side_name +
                                " position should be " + (side == Side::buy ? "lower" : "higher") +
                                " than base_price:" + format_decimal(base.raw()) + "??LastPrice");
      }
    }
    return std::nullopt;
  }

  std::optional<VenueError> check_qty(const risk::InstrumentRules& rule, OrderType type,
                                      Qty qty) const {
    if (qty.raw() <= 0 || !qty.is_multiple_of(rule.qty_step))
      return error(10001, "Qty invalid");
    if (qty < rule.min_order_qty)
      return error(10001, "The number of contracts exceeds minimum limit allowed");
    if (qty > rule.max_order_qty)
      return error(10001, "The number of contracts exceeds maximum limit allowed");
    if (type == OrderType::market && !rule.max_market_order_qty.is_zero() &&
        qty > rule.max_market_order_qty) {
      return error(10001, "The number of contracts exceeds maximum limit allowed");
    }
    return std::nullopt;
  }

  std::optional<VenueError> check_price(const risk::InstrumentRules& rule, Price price) const {
    if (price.raw() <= 0 || !price.is_multiple_of(rule.tick_size))
      return error(10001, "Price invalid");
    if ((!rule.min_price.is_zero() && price < rule.min_price) ||
        (!rule.max_price.is_zero() && price > rule.max_price)) {
      return error(110003, "Order price has exceeded the price range limit.");
    }
    return std::nullopt;
  }

  std::optional<VenueError> check_notional(const risk::InstrumentRules& rule, Price price,
                                           Qty qty) const {
    if (price.raw() > 0 && value_of(price, qty) < rule.min_notional)
      return error(110094, "The order value is lower than the minimum");
    return std::nullopt;
  }

  /// The price a market order is checked at: the best opposite quote, else the last trade.
  Price market_reference(std::string_view symbol, Side side) const {
    const SymbolMarket* m = market_if(symbol);
    if (m == nullptr)
      return Price{};
    const auto& levels = side == Side::buy ? m->asks : m->bids;
    return levels.empty() ? m->last : levels.front().price;
  }

  /// Value and qty a market order would fill now (for its margin check).
  std::pair<Qty, Amount> market_walk(std::string_view symbol, Side side, Qty qty) const {
    const SymbolMarket* m = market_if(symbol);
    Qty filled{};
    Amount value{};
    if (m == nullptr)
      return {filled, value};
    for (const feed::BookLevel& level : side == Side::buy ? m->asks : m->bids) {
      const Qty take = std::min(qty - filled, level.qty);
      if (take.raw() <= 0)
        break;
      filled += take;
      value += value_of(level.price, take);
    }
    return {filled, value};
  }

  std::variant<OrderState, VenueError> create(AccountId id, const NewOrder& request,
                                              std::int64_t now_ms) {
    Account* account = find_account(id);
    if (account == nullptr)
      return error(10003, "API key is invalid.");
    const risk::InstrumentRules* rule = rules(request.symbol);
    if (rule == nullptr)
      return error(10001, "params error: symbol invalid");
    if (request.side != Side::buy && request.side != Side::sell)
      return error(10001, "params error: side invalid");
    if (auto bad = check_qty(*rule, request.type, request.qty))
      return *bad;
    const bool is_limit = request.type == OrderType::limit;
    if (is_limit) {
      if (auto bad = check_price(*rule, request.price))
        return *bad;
    }
    const Price reference =
        is_limit ? request.price : market_reference(request.symbol, request.side);
    if (auto bad = check_tpsl(request.side, reference, request.take_profit, request.stop_loss))
      return *bad;
    if (!request.reduce_only) {
      if (auto bad = check_notional(*rule, reference, request.qty))
        return *bad;
    }
    if (!request.order_link_id.empty() && account->link_ids.count(request.order_link_id) != 0)
      return error(110072, "OrderLinkedID is duplicate");
    std::size_t open_on_symbol = 0;
    for (const std::size_t index : account->open_orders)
      open_on_symbol += account->orders[index].symbol == request.symbol ? 1U : 0U;
    if (open_on_symbol >= options.max_active_orders_per_symbol)
      return error(110020, "Number of active orders exceeds the limit.");

    Qty qty = request.qty;
    if (request.reduce_only) {
      const Position* pos = position_if(*account, request.symbol);
      if (pos == nullptr || pos->size.raw() <= 0 || pos->side != opposite(request.side))
        return error(110017, "Reduce-only rule not satisfied");
      qty = std::min(qty, pos->size);
    } else {
      PendingOrder pending;
      pending.side = request.side;
      if (is_limit) {
        pending.qty = qty;
        pending.value = value_of(request.price, qty);
      } else {
        std::tie(pending.qty, pending.value) = market_walk(request.symbol, request.side, qty);
      }
      const Amount before = symbol_order_im(*account, request.symbol, nullptr);
      const Amount after = symbol_order_im(*account, request.symbol, &pending);
      const Amount available = wallet_state(*account).available_balance;
      if (after > before && after - before > available)
        return error(110007, "ab not enough for new order");
    }

    OrderState order;
    order.order_id = ids.uuid();
    order.order_link_id = request.order_link_id;
    order.symbol = request.symbol;
    order.side = request.side;
    order.type = request.type;
    order.time_in_force = is_limit ? request.time_in_force : TimeInForce::ioc;
    order.status = OrderStatus::new_;
    order.price = is_limit ? request.price : Price{};
    order.qty = qty;
    order.leaves_qty = qty;
    order.reduce_only = request.reduce_only;
    order.take_profit = request.take_profit;
    order.stop_loss = request.stop_loss;
    order.created_ms = now_ms;
    order.updated_ms = now_ms;
    if (!request.order_link_id.empty())
      account->link_ids.insert(request.order_link_id);
    account->orders.push_back(std::move(order));
    const std::size_t index = account->orders.size() - 1;
    account->open_orders.push_back(index);
    return run_new(id, index, now_ms);
  }

  /// Matches a just-accepted order (create, TP/SL) and pushes its events.
  OrderState run_new(AccountId id, std::size_t index, std::int64_t now_ms) {
    Account& account = accounts[id - 1];
    std::vector<Execution> executions;
    {
      OrderState& order = account.orders[index];
      const bool is_limit = order.type == OrderType::limit;
      if (is_limit && order.time_in_force == TimeInForce::post_only && crosses(order)) {
        order.status = OrderStatus::cancelled;
        order.reject_reason = "EC_PostOnlyWillTakeLiquidity";
        close_order(account, order);
      } else if (order.time_in_force == TimeInForce::fok &&
                 std::min(reachable_liquidity(order), fillable(account, order)) < order.qty) {
        order.status = OrderStatus::cancelled;
        order.reject_reason = "EC_CancelForNoFullFill";
        close_order(account, order);
      } else {
        if (!is_limit || crosses(order))
          executions = take_liquidity(id, order, now_ms);
        finish_taker(account, account.orders[index], now_ms);
      }
    }
    const OrderState snapshot = account.orders[index];
    emit_all(id, snapshot, executions);
    if (!executions.empty())
      reconcile_reduce_only(id, snapshot.symbol, now_ms);
    return snapshot;
  }

  OrderState* find_open(Account& account, std::string_view symbol, std::string_view order_id,
                        std::string_view link_id) {
    for (const std::size_t index : account.open_orders) {
      OrderState& order = account.orders[index];
      if (!symbol.empty() && order.symbol != symbol)
        continue;
      if (!order_id.empty() ? order.order_id == order_id
                            : (!link_id.empty() && order.order_link_id == link_id)) {
        return &order;
      }
    }
    return nullptr;
  }

  std::variant<OrderState, VenueError> amend(AccountId id, const AmendOrder& request,
                                             std::int64_t now_ms) {
    Account* account = find_account(id);
    if (account == nullptr)
      return error(10003, "API key is invalid.");
    const risk::InstrumentRules* rule = rules(request.symbol);
    if (rule == nullptr)
      return error(10001, "params error: symbol invalid");
    OrderState* found =
        find_open(*account, request.symbol, request.order_id, request.order_link_id);
    if (found == nullptr)
      return error(110001, "Order does not exist.");
    OrderState& order = *found;
    const Qty new_qty = request.qty.value_or(order.qty);
    const Price new_price = request.price.value_or(order.price);
    auto normalise = [](const std::optional<Price>& value) -> std::optional<Price> {
      if (value && value->is_zero())
        return std::nullopt;
      return value;
    };
    const std::optional<Price> new_tp =
        request.take_profit ? normalise(request.take_profit) : order.take_profit;
    const std::optional<Price> new_sl =
        request.stop_loss ? normalise(request.stop_loss) : order.stop_loss;
    if (new_qty == order.qty && new_price == order.price && new_tp == order.take_profit &&
        new_sl == order.stop_loss) {
      return error(10001,
                   "The order remains unchanged as the parameters entered match the existing "
                   "ones.");
    }
    if (auto bad = check_qty(*rule, order.type, new_qty))
      return *bad;
    if (new_qty <= order.cum_exec_qty)
      return error(10001, "The new quantity must be greater than the filled quantity.");
    if (auto bad = check_price(*rule, new_price))
      return *bad;
    if (auto bad = check_tpsl(order.side, new_price, new_tp, new_sl))
      return *bad;
    Qty new_leaves = new_qty - order.cum_exec_qty;
    if (order.reduce_only) {
      const Position* pos = position_if(*account, order.symbol);
      if (pos == nullptr || pos->size.raw() <= 0 || pos->side != opposite(order.side))
        return error(110017, "Reduce-only rule not satisfied");
      new_leaves = std::min(new_leaves, pos->size);
    } else {
      if (auto bad = check_notional(*rule, new_price, new_qty))
        return *bad;
      PendingOrder pending;
      pending.replaces = &order;
      pending.side = order.side;
      pending.qty = new_leaves;
      pending.value = value_of(new_price, new_leaves);
      const Amount before = symbol_order_im(*account, order.symbol, nullptr);
      const Amount after = symbol_order_im(*account, order.symbol, &pending);
      const Amount available = wallet_state(*account).available_balance;
      if (after > before && after - before > available)
        return error(110007, "ab not enough for new order");
    }

    const bool price_changed = new_price != order.price;
    order.qty = order.cum_exec_qty + new_leaves;
    order.leaves_qty = new_leaves;
    order.price = new_price;
    order.take_profit = new_tp;
    order.stop_loss = new_sl;
    order.updated_ms = now_ms;
    std::vector<Execution> executions;
    if (price_changed) {
      // A new price loses the place in the queue: the order joins the back of its new level.
      order.queue_ahead = book_size_at(order.symbol, order.side, order.price);
      if (crosses(order)) {
        if (order.time_in_force == TimeInForce::post_only) {
          order.status = OrderStatus::cancelled;
          order.reject_reason = "EC_PostOnlyWillTakeLiquidity";
          close_order(*account, order);
        } else {
          executions = take_liquidity(id, order, now_ms);
          finish_taker(*account, order, now_ms);
        }
      }
    }
    const OrderState snapshot = order;
    emit_all(id, snapshot, executions);
    if (!executions.empty())
      reconcile_reduce_only(id, snapshot.symbol, now_ms);
    return snapshot;
  }

  OrderState cancel_one(Account& account, OrderState& order, std::int64_t now_ms) {
    order.status = OrderStatus::cancelled;
    order.cancel_type = "CancelByUser";
    order.updated_ms = now_ms;
    close_order(account, order);
    return order;
  }

  /// Fills resting orders on `symbol` that `qty_for` says are reached (maker, at their price).
  template <class QtyFor>
  void fill_resting(std::string_view symbol, std::int64_t now_ms, QtyFor qty_for) {
    for (std::size_t a = 0; a < accounts.size(); ++a) {
      const auto id = static_cast<AccountId>(a + 1);
      Account& account = accounts[a];
      bool any = false;
      const std::vector<std::size_t> open = account.open_orders;
      for (const std::size_t index : open) {
        OrderState& order = account.orders[index];
        if (!is_open(order) || order.symbol != symbol || order.type != OrderType::limit)
          continue;
        const Qty qty = std::min(qty_for(order), fillable(account, order));
        if (qty.raw() <= 0)
          continue;
        std::vector<Execution> executions{fill(id, order, order.price, qty, true, now_ms)};
        if (order.leaves_qty.raw() == 0)
          close_order(account, order);
        emit_all(id, order, executions);
        any = true;
      }
      if (any)
        reconcile_reduce_only(id, symbol, now_ms);
    }
  }

  void on_trade(std::string_view symbol, Price price, Qty qty, std::int64_t now_ms) {
    if (rules(symbol) == nullptr || price.raw() <= 0)
      return;
    market(symbol).last = price;
    if (qty.raw() > 0) {
      fill_resting(symbol, now_ms, [&](OrderState& order) -> Qty {
        if (order.price == price) {
          const Qty eaten = std::min(order.queue_ahead, qty);
          order.queue_ahead -= eaten;
          return qty - eaten;
        }
        const bool through = order.side == Side::buy ? price < order.price : price > order.price;
        return through ? qty : Qty{};
      });
    }
    fire_tpsl(symbol, price, now_ms);
  }

  void fire_tpsl(std::string_view symbol, Price last, std::int64_t now_ms) {
    for (std::size_t a = 0; a < accounts.size(); ++a) {
      const auto id = static_cast<AccountId>(a + 1);
      Account& account = accounts[a];
      const auto it = account.positions.find(symbol);
      if (it == account.positions.end())
        continue;
      const Position& pos = it->second;
      if (pos.size.raw() <= 0)
        continue;
      const bool is_long = pos.side == Side::buy;
      const bool take_profit =
          pos.take_profit && (is_long ? last >= *pos.take_profit : last <= *pos.take_profit);
      const bool stop_loss = !take_profit && pos.stop_loss &&
                             (is_long ? last <= *pos.stop_loss : last >= *pos.stop_loss);
      if (!take_profit && !stop_loss)
        continue;
      // With no book to close into, the level stays armed (rather than a cancelled market
      // order on every trade of a trades-only replay).
      const SymbolMarket* m = market_if(symbol);
      if (m == nullptr || (is_long ? m->bids.empty() : m->asks.empty()))
        continue;
      OrderState order;
      order.order_id = ids.uuid();
      order.symbol = std::string(symbol);
      order.side = opposite(pos.side);
      order.type = OrderType::market;
      order.time_in_force = TimeInForce::ioc;
      order.status = OrderStatus::new_;
      order.qty = pos.size;
      order.leaves_qty = pos.size;
      order.reduce_only = true;
      order.create_type = take_profit ? "CreateByTakeProfit" : "CreateByStopLoss";
      order.stop_order_type = take_profit ? "TakeProfit" : "StopLoss";
      order.created_ms = now_ms;
      order.updated_ms = now_ms;
      account.orders.push_back(std::move(order));
      const std::size_t index = account.orders.size() - 1;
      account.open_orders.push_back(index);
      run_new(id, index, now_ms);
    }
  }

  void on_book(std::string_view symbol, std::span<const feed::BookLevel> bids,
               std::span<const feed::BookLevel> asks, std::int64_t now_ms) {
    if (rules(symbol) == nullptr)
      return;
    SymbolMarket& m = market(symbol);
    m.bids.assign(bids.begin(), bids.end());
    m.asks.assign(asks.begin(), asks.end());
    // The queue ahead can only shrink to what the book now shows at the order's price.
    for (Account& account : accounts) {
      for (const std::size_t index : account.open_orders) {
        OrderState& order = account.orders[index];
        if (order.symbol != symbol || order.queue_ahead.raw() <= 0)
          continue;
        const auto& own = order.side == Side::buy ? m.bids : m.asks;
        if (own.empty())
          continue;
        const bool within = order.side == Side::buy ? order.price >= own.back().price
                                                    : order.price <= own.back().price;
        if (!within)
          continue;
        order.queue_ahead =
            std::min(order.queue_ahead, book_size_at(symbol, order.side, order.price));
      }
    }
    fill_resting(symbol, now_ms, [&](OrderState& order) -> Qty {
      Qty total{};
      for (const feed::BookLevel& level : order.side == Side::buy ? m.asks : m.bids) {
        if (!reaches(order.side, order.price, level.price))
          break;
        total += level.qty;
      }
      return total;
    });
  }
};

SimVenue::SimVenue(std::vector<risk::InstrumentRules> instruments, const VenueOptions& options)
    : impl_(std::make_unique<Impl>(std::move(instruments), options)) {}

SimVenue::~SimVenue() = default;

void SimVenue::set_listener(VenueListener* listener) noexcept {
  impl_->listener = listener;
}

const std::vector<risk::InstrumentRules>& SimVenue::instruments() const noexcept {
  return impl_->instruments;
}

const risk::InstrumentRules* SimVenue::instrument(std::string_view symbol) const noexcept {
  return impl_->rules(symbol);
}

AccountId SimVenue::add_account(Amount balance) {
  Account account;
  account.wallet_balance = balance;
  impl_->accounts.push_back(std::move(account));
  return static_cast<AccountId>(impl_->accounts.size());
}

void SimVenue::on_book(std::string_view symbol, std::span<const feed::BookLevel> bids,
                       std::span<const feed::BookLevel> asks, std::int64_t now_ms) {
  impl_->on_book(symbol, bids, asks, now_ms);
}

void SimVenue::on_trade(std::string_view symbol, Price price, Qty qty, Side /*taker_side*/,
                        std::int64_t now_ms) {
  impl_->on_trade(symbol, price, qty, now_ms);
}

std::variant<OrderState, VenueError> SimVenue::create(AccountId account, const NewOrder& order,
                                                      std::int64_t now_ms) {
  return impl_->create(account, order, now_ms);
}

std::variant<OrderState, VenueError> SimVenue::amend(AccountId account, const AmendOrder& amend,
                                                     std::int64_t now_ms) {
  return impl_->amend(account, amend, now_ms);
}

std::variant<OrderState, VenueError> SimVenue::cancel(AccountId account, std::string_view symbol,
                                                      std::string_view order_id,
                                                      std::string_view order_link_id,
                                                      std::int64_t now_ms) {
  Account* acc = impl_->find_account(account);
  if (acc == nullptr)
    return error(10003, "API key is invalid.");
  if (impl_->rules(symbol) == nullptr)
    return error(10001, "params error: symbol invalid");
  OrderState* order = impl_->find_open(*acc, symbol, order_id, order_link_id);
  if (order == nullptr)
    return error(110001, "Order does not exist.");
  const OrderState snapshot = impl_->cancel_one(*acc, *order, now_ms);
  impl_->emit_all(account, snapshot, {});
  return snapshot;
}

std::vector<OrderState> SimVenue::cancel_all(AccountId account, std::string_view symbol,
                                             std::int64_t now_ms) {
  std::vector<OrderState> cancelled;
  Account* acc = impl_->find_account(account);
  if (acc == nullptr)
    return cancelled;
  const std::vector<std::size_t> open = acc->open_orders;
  std::set<std::string> symbols;
  for (const std::size_t index : open) {
    OrderState& order = acc->orders[index];
    if (!symbol.empty() && order.symbol != symbol)
      continue;
    cancelled.push_back(impl_->cancel_one(*acc, order, now_ms));
    symbols.insert(order.symbol);
    impl_->emit_order(account, cancelled.back());
  }
  if (impl_->listener != nullptr) {
    if (!symbol.empty() && symbols.empty())
      symbols.insert(std::string(symbol));
    for (const std::string& name : symbols)
      impl_->listener->on_position(account, impl_->position_state(*acc, name));
    impl_->listener->on_wallet(account, impl_->wallet_state(*acc));
  }
  return cancelled;
}

std::optional<VenueError> SimVenue::set_leverage(AccountId account, std::string_view symbol,
                                                 Amount leverage, std::int64_t now_ms) {
  Account* acc = impl_->find_account(account);
  if (acc == nullptr)
    return error(10003, "API key is invalid.");
  const risk::InstrumentRules* rule = impl_->rules(symbol);
  if (rule == nullptr)
    return error(10001, "params error: symbol invalid");
  if (!risk::is_allowed_leverage(*rule, leverage))
    return error(10001, "params error: leverage invalid");
  const Amount current = impl_->leverage_of(*acc, symbol);
  if (leverage == current)
    return error(110043, "Set leverage has not been modified.");
  // Afford the new margins: with the new leverage the available balance may not go negative.
  acc->leverage[std::string(symbol)] = leverage;
  if (leverage < current && impl_->wallet_state(*acc).available_balance.raw() < 0) {
    acc->leverage[std::string(symbol)] = current;
    return error(110044, "Available margin is insufficient.");
  }
  Position& pos = impl_->position(*acc, symbol);
  pos.updated_ms = now_ms;
  if (impl_->listener != nullptr) {
    impl_->listener->on_position(account, impl_->position_state(*acc, symbol));
    impl_->listener->on_wallet(account, impl_->wallet_state(*acc));
  }
  return std::nullopt;
}

std::optional<VenueError> SimVenue::set_trading_stop(AccountId account, std::string_view symbol,
                                                     std::optional<Price> take_profit,
                                                     std::optional<Price> stop_loss,
                                                     std::int64_t now_ms) {
  Account* acc = impl_->find_account(account);
  if (acc == nullptr)
    return error(10003, "API key is invalid.");
  if (impl_->rules(symbol) == nullptr)
    return error(10001, "params error: symbol invalid");
  Position* pos = acc->positions.count(symbol) != 0 ? &impl_->position(*acc, symbol) : nullptr;
  if (pos == nullptr || pos->size.raw() <= 0)
    return error(10001, "can not set tp/sl/ts for zero position");
  const Price base = impl_->mark_for(symbol, *pos);
  if (auto bad = impl_->check_tpsl(pos->side, base, take_profit, stop_loss))
    return bad;
  if (take_profit)
    pos->take_profit = take_profit->is_zero() ? std::nullopt : take_profit;
  if (stop_loss)
    pos->stop_loss = stop_loss->is_zero() ? std::nullopt : stop_loss;
  pos->updated_ms = now_ms;
  if (impl_->listener != nullptr)
    impl_->listener->on_position(account, impl_->position_state(*acc, symbol));
  return std::nullopt;
}

Price SimVenue::last_price(std::string_view symbol) const noexcept {
  return impl_->last_price(symbol);
}

std::vector<OrderState> SimVenue::open_orders(AccountId account, std::string_view symbol,
                                              std::string_view order_id,
                                              std::string_view order_link_id) const {
  std::vector<OrderState> result;
  const Account* acc = impl_->find_account(account);
  if (acc == nullptr)
    return result;
  for (auto it = acc->open_orders.rbegin(); it != acc->open_orders.rend(); ++it) {
    const OrderState& order = acc->orders[*it];
    if (!symbol.empty() && order.symbol != symbol)
      continue;
    if (!order_id.empty() && order.order_id != order_id)
      continue;
    if (!order_link_id.empty() && order.order_link_id != order_link_id)
      continue;
    result.push_back(order);
  }
  return result;
}

std::vector<OrderState> SimVenue::all_orders(AccountId account) const {
  std::vector<OrderState> result;
  const Account* acc = impl_->find_account(account);
  if (acc != nullptr)
    result.assign(acc->orders.rbegin(), acc->orders.rend());
  return result;
}

std::vector<PositionState> SimVenue::positions(AccountId account, std::string_view symbol) const {
  std::vector<PositionState> result;
  const Account* acc = impl_->find_account(account);
  if (acc == nullptr)
    return result;
  if (!symbol.empty()) {
    if (impl_->rules(symbol) != nullptr)
      result.push_back(impl_->position_state(*acc, symbol));
    return result;
  }
  for (const auto& [name, pos] : acc->positions) {
    if (pos.size.raw() > 0)
      result.push_back(impl_->position_state(*acc, name));
  }
  return result;
}

WalletState SimVenue::wallet(AccountId account) const {
  const Account* acc = impl_->find_account(account);
  return acc == nullptr ? WalletState{} : impl_->wallet_state(*acc);
}

std::vector<Execution> SimVenue::executions(AccountId account, std::string_view symbol,
                                            std::size_t limit) const {
  std::vector<Execution> result;
  const Account* acc = impl_->find_account(account);
  if (acc == nullptr)
    return result;
  for (auto it = acc->executions.rbegin(); it != acc->executions.rend() && result.size() < limit;
       ++it) {
    if (symbol.empty() || it->symbol == symbol)
      result.push_back(*it);
  }
  return result;
}

std::size_t SimVenue::account_count() const noexcept {
  return impl_->accounts.size();
}

}  // namespace kinetic::exec::sim
