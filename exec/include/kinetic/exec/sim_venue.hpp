#pragma once
// SimVenue: the matching and account core of the Bybit-compatible exchange simulator (and,
// later, of the backtest's simulated venue). Linear USDT perpetuals, one-way position mode.
//
// What it models (docs/bybit-v5.md §2.3–2.6, §4.4):
// - Accounts: USDT wallet balance, per-symbol leverage, positions with average entry price,
//   realised and unrealised P&L, initial margin of positions and of open orders, maker and
//   taker fees. Available balance = wallet balance + unrealised P&L − position IM − order IM.
// - Orders: Market and Limit; GTC, IOC, FOK, PostOnly; reduceOnly; take-profit and stop-loss
//   on the position (triggered by the last trade price, closed by a reduce-only market
//   order); unique orderLinkId per account (110072 on a duplicate); amend, cancel, cancel-all.
// - Matching against the market it is told about, never against other accounts: a market
//   (or marketable limit) order walks the current book level by level at those prices (taker);
//   a resting limit order remembers the volume queued ahead of it at its price when placed
//   (the book's size there), that queue shrinks as trades print at its price, and the order
//   fills (maker) by trades that print through its price or at its price once the queue ahead
//   is gone. The simulated orders do not change the market data.
// - Deterministic: ids come from counters and a seed; no clock is read (callers pass times).
//
// Errors are Bybit retCodes with Bybit's messages, so the REST and WebSocket layers can pass
// them through.
//
// Ownership: owns all accounts, orders and executions (std containers: this is a simulator,
// not the hot path). Thread-safety: none; one thread drives it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/risk/instrument.hpp"
#include "kinetic/core/types.hpp"
#include "kinetic/feed/order_book.hpp"

namespace kinetic::exec::sim {

using AccountId = std::uint32_t;

enum class OrderType : std::uint8_t { market, limit };
enum class TimeInForce : std::uint8_t { gtc, ioc, fok, post_only };
/// Bybit's orderStatus values used here.
enum class OrderStatus : std::uint8_t {
  created,
  new_,
  partially_filled,
  filled,
  cancelled,
  rejected
};

[[nodiscard]] std::string_view to_bybit(OrderType type) noexcept;  ///< "Market" / "Limit"
[[nodiscard]] std::string_view to_bybit(
    TimeInForce tif) noexcept;  ///< "GTC", "IOC", "FOK", "PostOnly"
[[nodiscard]] std::string_view to_bybit(
    OrderStatus status) noexcept;                             ///< "New", "PartiallyFilled", ...
[[nodiscard]] std::string_view to_bybit(Side side) noexcept;  ///< "Buy" / "Sell" / ""

/// A failure in Bybit's terms: retCode and retMsg (e.g. 110007 "ab not enough for new order").
struct VenueError {
  int ret_code = 0;
  std::string ret_msg;
};

/// A new order, already parsed and validated for syntax by the API layer.
struct NewOrder {
  std::string symbol;
  Side side = Side::none;
  OrderType type = OrderType::limit;
  Qty qty{};
  Price price{};  ///< limit price; ignored for market orders
  TimeInForce time_in_force = TimeInForce::gtc;
  bool reduce_only = false;
  std::optional<Price> take_profit;  ///< set on the position when the order fills
  std::optional<Price> stop_loss;
  std::string order_link_id;  ///< "" allowed (then none)
};

struct AmendOrder {
  std::string symbol;
  std::string order_id;  ///< one of order_id / order_link_id
  std::string order_link_id;
  std::optional<Qty> qty;
  std::optional<Price> price;
  std::optional<Price> take_profit;  ///< 0 removes
  std::optional<Price> stop_loss;    ///< 0 removes
};

/// An order as Bybit reports it (REST /v5/order/realtime and the private `order` topic).
struct OrderState {
  std::string order_id;  ///< UUID-shaped, deterministic
  std::string order_link_id;
  std::string symbol;
  Side side = Side::none;
  OrderType type = OrderType::limit;
  TimeInForce time_in_force = TimeInForce::gtc;
  OrderStatus status = OrderStatus::new_;
  Price price{};
  Qty qty{};
  Qty leaves_qty{};
  Qty cum_exec_qty{};
  Amount cum_exec_value{};
  Amount cum_exec_fee{};
  Price avg_price{};  ///< 0 until a fill
  bool reduce_only = false;
  std::optional<Price> take_profit;
  std::optional<Price> stop_loss;
  std::string cancel_type = "UNKNOWN";  ///< "CancelByUser", "UNKNOWN", ...
  std::string reject_reason = "EC_NoError";
  std::string create_type =
      "CreateByUser";           ///< "CreateByTakeProfit" / "CreateByStopLoss" for TP/SL
  std::string stop_order_type;  ///< "" or "TakeProfit" / "StopLoss"
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  Qty queue_ahead{};  ///< simulator detail: volume still ahead at its price (limits)
};

/// One fill (REST /v5/execution/list and the private `execution` topic).
struct Execution {
  std::string exec_id;
  std::string order_id;
  std::string order_link_id;
  std::string symbol;
  Side side = Side::none;
  OrderType order_type = OrderType::limit;
  Price order_price{};
  Qty order_qty{};
  Qty leaves_qty{};
  Price exec_price{};
  Qty exec_qty{};
  Amount exec_value{};
  Amount exec_fee{};
  std::int64_t fee_rate_ppm = 0;  ///< e.g. 550 for 0.055%
  bool is_maker = false;
  Amount exec_pnl{};  ///< realised P&L of the part that closed a position (before fees)
  Qty closed_size{};
  Price mark_price{};           ///< the symbol's mark (= last trade) when it filled
  std::string stop_order_type;  ///< "" or "TakeProfit" / "StopLoss" (from the order)
  std::int64_t exec_time_ms = 0;
  std::uint64_t seq = 0;
};

/// A position (one-way mode), as /v5/position/list and the `position` topic report it.
struct PositionState {
  std::string symbol;
  Side side = Side::none;  ///< none when flat
  Qty size{};
  Price avg_price{};
  Amount position_value{};
  Amount leverage{};  ///< e.g. 10
  Price mark_price{};
  Amount unrealised_pnl{};
  Amount cur_realised_pnl{};
  Amount cum_realised_pnl{};
  Amount position_im{};
  Amount position_mm{};
  Price liq_price{};  ///< 0 when flat
  std::optional<Price> take_profit;
  std::optional<Price> stop_loss;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::uint64_t seq = 0;
};

/// The USDT wallet of an account (REST wallet-balance and the `wallet` topic).
struct WalletState {
  Amount wallet_balance{};
  Amount equity{};  ///< balance + unrealised P&L
  Amount available_balance{};
  Amount total_position_im{};
  Amount total_order_im{};
  Amount total_position_mm{};
  Amount unrealised_pnl{};
  Amount cum_realised_pnl{};
};

/// What changed, for the private streams. Called synchronously from the call that caused it
/// (create, cancel, on_trade, ...), in the order Bybit would send them: order, execution,
/// position, wallet.
class VenueListener {
 public:
  virtual ~VenueListener() = default;
  virtual void on_order(AccountId account, const OrderState& order) = 0;
  virtual void on_execution(AccountId account, const Execution& execution) = 0;
  virtual void on_position(AccountId account, const PositionState& position) = 0;
  virtual void on_wallet(AccountId account, const WalletState& wallet) = 0;
};

struct VenueOptions {
  std::int64_t maker_fee_ppm = 200;  ///< 0.02%, Bybit's VIP0 linear maker fee
  std::int64_t taker_fee_ppm = 550;  ///< 0.055%
  Amount default_leverage = Amount::from_units(10);
  std::int64_t maintenance_margin_ppm = 5000;      ///< 0.5% of position value
  std::uint64_t seed = 42;                         ///< for the ids
  std::size_t max_active_orders_per_symbol = 500;  ///< 110020 beyond
};

class SimVenue {
 public:
  SimVenue(std::vector<risk::InstrumentRules> instruments, const VenueOptions& options);
  ~SimVenue();
  SimVenue(const SimVenue&) = delete;
  SimVenue& operator=(const SimVenue&) = delete;

  void set_listener(VenueListener* listener) noexcept;

  [[nodiscard]] const std::vector<risk::InstrumentRules>& instruments() const noexcept;
  [[nodiscard]] const risk::InstrumentRules* instrument(std::string_view symbol) const noexcept;

  /// Adds an account with `balance` USDT; ids are 1, 2, ... in order of creation.
  AccountId add_account(Amount balance);

  // ---- market data (from the simulator's market source) ----
  /// The current book of `symbol` (best levels first). Market orders walk it; new limit
  /// orders read their queue from it; marketable resting orders fill against it.
  void on_book(std::string_view symbol, std::span<const feed::BookLevel> bids,
               std::span<const feed::BookLevel> asks, std::int64_t now_ms);
  /// A public trade: fills resting limit orders it reaches, sets the last/mark price, and
  /// fires take-profit/stop-loss.
  void on_trade(std::string_view symbol, Price price, Qty qty, Side taker_side,
                std::int64_t now_ms);

  // ---- requests (Bybit semantics; errors are Bybit retCodes) ----
  /// Accepts (returns the order as created, status New or already filled/cancelled for
  /// IOC/FOK/market) or refuses. Checks, the first failure decides: known symbol (10001
  /// "params error: symbol invalid"), side, qty on the step and within limits (10001), price
  /// on the tick (10001) and within min/max (110003), take-profit/stop-loss on the right side
  /// of the price (10001), min notional (110094), duplicate orderLinkId (110072), too many open
  /// orders (110020), reduce-only that would not reduce (110017; the qty is capped to the
  /// position), margin (110007). A PostOnly that would cross is created then cancelled
  /// (rejectReason EC_PostOnlyWillTakeLiquidity), as Bybit does. Rejected requests leave no
  /// order behind.
  [[nodiscard]] std::variant<OrderState, VenueError> create(AccountId account,
                                                            const NewOrder& order,
                                                            std::int64_t now_ms);
  /// Changes qty/price/TP/SL of an open order (by order_id or order_link_id). 110001 when not
  /// open; 10001 when nothing changes or the qty is not above the filled qty; the create()
  /// checks otherwise. A new price loses the queue place and may trade at once (taker).
  [[nodiscard]] std::variant<OrderState, VenueError> amend(AccountId account,
                                                           const AmendOrder& amend,
                                                           std::int64_t now_ms);
  /// By order_id or order_link_id. 110001 "Order does not exist." when unknown or closed.
  [[nodiscard]] std::variant<OrderState, VenueError> cancel(AccountId account,
                                                            std::string_view symbol,
                                                            std::string_view order_id,
                                                            std::string_view order_link_id,
                                                            std::int64_t now_ms);
  /// Cancels every open order of the account on `symbol` ("" = all symbols); the cancelled.
  std::vector<OrderState> cancel_all(AccountId account, std::string_view symbol,
                                     std::int64_t now_ms);
  /// 110043 "Set leverage has not been modified." when unchanged; 10001 outside the
  /// instrument's leverage filter; 110044-like margin errors when the position cannot afford it.
  [[nodiscard]] std::optional<VenueError> set_leverage(AccountId account, std::string_view symbol,
                                                       Amount leverage, std::int64_t now_ms);

  /// Sets (or with 0 removes) the take-profit / stop-loss of the open position on `symbol`
  /// (/v5/position/trading-stop). 10001 when the symbol is unknown or the position is flat,
  /// or when the level is on the wrong side of the last price. Pushes the position.
  [[nodiscard]] std::optional<VenueError> set_trading_stop(AccountId account,
                                                           std::string_view symbol,
                                                           std::optional<Price> take_profit,
                                                           std::optional<Price> stop_loss,
                                                           std::int64_t now_ms);

  // ---- queries ----
  /// The last trade price of `symbol` (the mark), 0 before the first trade.
  [[nodiscard]] Price last_price(std::string_view symbol) const noexcept;
  /// Open orders (New, PartiallyFilled), newest first; filtered by symbol/ids when not "".
  [[nodiscard]] std::vector<OrderState> open_orders(AccountId account, std::string_view symbol,
                                                    std::string_view order_id = {},
                                                    std::string_view order_link_id = {}) const;
  /// Every order the account ever had, newest first (for the state dump and history).
  [[nodiscard]] std::vector<OrderState> all_orders(AccountId account) const;
  /// The position on `symbol` (a flat row when none), or all non-flat positions for "".
  [[nodiscard]] std::vector<PositionState> positions(AccountId account,
                                                     std::string_view symbol) const;
  [[nodiscard]] WalletState wallet(AccountId account) const;
  /// Executions, newest first, filtered by symbol when not "", at most `limit`.
  [[nodiscard]] std::vector<Execution> executions(AccountId account, std::string_view symbol,
                                                  std::size_t limit) const;
  [[nodiscard]] std::size_t account_count() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinetic::exec::sim
