#pragma once
// The events of Bybit's private stream (docs/bybit-v5.md §2.3–2.6), decoded into fixed-size
// PODs: what the order manager consumes, from the live `/v5/private` stream or from REST
// reconciliation (`/v5/order/realtime`, `/v5/execution/list`, `/v5/position/list`), which
// carry the same fields.
//
// Ids the exchange assigns are kept as text in fixed arrays (Bybit's orderId and execId are
// 36-character UUIDs); an orderLinkId of ours is also decoded to its client_order_id (0 when
// the order is not ours). Prices and sizes are exact fixed point.
//
// Ownership: plain values, trivially copyable, no pointers. Thread-safety: values.

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::exec {

/// A fixed-capacity, NUL-padded text id (orderId, execId, orderLinkId, reason codes).
template <std::size_t N>
struct FixedText {
  char data[N] = {};
  std::uint8_t size = 0;

  [[nodiscard]] std::string_view view() const noexcept { return {data, size}; }
  /// False (and left empty) when `text` does not fit.
  bool assign(std::string_view text) noexcept {
    if (text.size() > N) {
      size = 0;
      return false;
    }
    for (std::size_t i = 0; i < N; ++i)
      data[i] = i < text.size() ? text[i] : '\0';
    size = static_cast<std::uint8_t>(text.size());
    return true;
  }
  friend bool operator==(const FixedText& a, const FixedText& b) noexcept {
    return a.view() == b.view();
  }
};

using ExchangeId = FixedText<40>;  ///< orderId / execId (UUIDs: 36)
using LinkId = FixedText<40>;      ///< orderLinkId (at most 36)
using ReasonText = FixedText<32>;  ///< rejectReason, cancelType, createType

/// Bybit's orderStatus (docs/bybit-v5.md §2.3).
enum class ExchangeOrderStatus : std::uint8_t {
  unknown = 0,
  created,
  new_,
  partially_filled,
  filled,
  cancelled,
  partially_filled_canceled,  ///< spot only
  rejected,
  untriggered,
  triggered,
  deactivated,
};

/// Bybit's execType (§2.4); `other` for the rarer kinds.
enum class ExecType : std::uint8_t { trade = 0, funding, adl_trade, bust_trade, settle, other };

/// One `order` item.
struct OrderUpdate {
  ExchangeId order_id;
  LinkId order_link_id;
  std::uint64_t client_order_id = 0;  ///< from our orderLinkId; 0 when not ours
  SymbolId symbol = 0;
  Side side = Side::none;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  ExchangeOrderStatus status = ExchangeOrderStatus::unknown;
  bool reduce_only = false;
  Price price{};
  Qty qty{};
  Qty leaves_qty{};
  Qty cum_exec_qty{};
  Amount cum_exec_value{};
  Amount cum_exec_fee{};
  Price avg_price{};  ///< 0 when Bybit sends ""
  Price take_profit{};
  Price stop_loss{};
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  ReasonText reject_reason;
  ReasonText cancel_type;
};

/// One `execution` item.
struct ExecutionReport {
  ExchangeId exec_id;
  ExchangeId order_id;
  LinkId order_link_id;
  std::uint64_t client_order_id = 0;
  SymbolId symbol = 0;
  Side side = Side::none;
  ExecType exec_type = ExecType::trade;
  bool is_maker = false;
  Price exec_price{};
  Qty exec_qty{};
  Amount exec_value{};
  Amount exec_fee{};  ///< positive = paid
  Qty leaves_qty{};
  Amount exec_pnl{};
  Qty closed_size{};
  std::int64_t exec_time_ms = 0;
  std::uint64_t seq = 0;
};

/// One `position` item (one-way mode: side none when flat).
struct PositionUpdate {
  SymbolId symbol = 0;
  Side side = Side::none;
  std::uint8_t position_idx = 0;
  Qty size{};
  Price entry_price{};  ///< WS entryPrice / REST avgPrice
  Amount leverage{};
  Price mark_price{};
  Price liq_price{};
  Amount position_value{};
  Amount unrealised_pnl{};
  Amount cum_realised_pnl{};
  Price take_profit{};
  Price stop_loss{};
  std::int64_t updated_ms = 0;
  std::uint64_t seq = 0;
};

/// The USDT part of one `wallet` item (unified account).
struct WalletUpdate {
  Amount total_equity{};
  Amount total_available_balance{};
  Amount wallet_balance{};  ///< USDT walletBalance
  Amount equity{};          ///< USDT equity
  Amount unrealised_pnl{};  ///< USDT unrealisedPnl
  Amount cum_realised_pnl{};
  Amount total_position_im{};
  Amount total_order_im{};
};

static_assert(std::is_trivially_copyable_v<OrderUpdate>);
static_assert(std::is_trivially_copyable_v<ExecutionReport>);
static_assert(std::is_trivially_copyable_v<PositionUpdate>);
static_assert(std::is_trivially_copyable_v<WalletUpdate>);

}  // namespace kinetic::exec
