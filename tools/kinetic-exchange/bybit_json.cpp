// Bybit's JSON shapes of orders, executions, positions and wallets (docs/bybit-v5.md §2.3–2.6,
// §4.4), shared by the REST results, the private pushes and the state dump.

#include "api.hpp"
#include "kinetic/core/int128.hpp"

namespace kinetic::exchange {

namespace {

/// price × qty as an Amount, exact to 1e-8 (0 when it would overflow: display only).
Amount value_of(Price price, Qty qty) noexcept {
  const auto product = notional(price, qty);
  return product ? product.value() : Amount{};
}

/// A fee rate in ppm as Bybit prints it: 550 → "0.00055".
Amount ppm_rate(std::int64_t ppm) noexcept {
  return Amount::from_raw(ppm * 100);
}

void optional_price(JsonOut& out, std::string_view name, const std::optional<Price>& price,
                    int decimals) {
  out.key(name);
  if (price && !price->is_zero())
    out.decimal_fixed(*price, decimals);
  else
    out.string("");
}

/// numerator / denominator rounded down to 4 decimals ("0.0123"), "0" for a zero denominator.
Amount ratio4(Amount numerator, Amount denominator) noexcept {
  if (denominator.raw() <= 0 || numerator.raw() <= 0)
    return Amount{};
  const auto scaled = static_cast<int128>(numerator.raw()) * 10'000 / denominator.raw();
  return Amount::from_raw(static_cast<std::int64_t>(scaled) * 10'000);
}

}  // namespace

void write_order(JsonOut& out, const exec::sim::OrderState& order,
                 const ExchangeInstrument& instrument) {
  const int pd = instrument.price_decimals;
  const int qd = instrument.qty_decimals;
  out.begin_object();
  out.field("category", "linear");
  out.field("symbol", order.symbol);
  out.field("orderId", order.order_id);
  out.field("orderLinkId", order.order_link_id);
  out.field("side", exec::sim::to_bybit(order.side));
  out.field("orderType", exec::sim::to_bybit(order.type));
  out.key("price").decimal_fixed(order.price, pd);
  out.key("qty").decimal_fixed(order.qty, qd);
  out.field("timeInForce", exec::sim::to_bybit(order.time_in_force));
  out.field("orderStatus", exec::sim::to_bybit(order.status));
  out.field("positionIdx", 0);
  out.field("reduceOnly", order.reduce_only);
  out.field("closeOnTrigger", false);
  out.key("leavesQty").decimal_fixed(order.leaves_qty, qd);
  out.field("leavesValue", value_of(order.price, order.leaves_qty));
  out.key("cumExecQty").decimal_fixed(order.cum_exec_qty, qd);
  out.field("cumExecValue", order.cum_exec_value);
  out.field("cumExecFee", order.cum_exec_fee);
  out.key("avgPrice");
  if (order.avg_price.is_zero())
    out.string("");
  else
    out.decimal(order.avg_price);
  out.field("cancelType", order.cancel_type);
  out.field("rejectReason", order.reject_reason);
  out.field("createType", order.create_type);
  out.field("stopOrderType", order.stop_order_type);
  out.field("triggerPrice", "");
  out.field("triggerDirection", 0);
  out.field("triggerBy", "");
  optional_price(out, "takeProfit", order.take_profit, pd);
  optional_price(out, "stopLoss", order.stop_loss, pd);
  out.field("tpslMode", (order.take_profit || order.stop_loss) ? "Full" : "");
  out.field("tpTriggerBy", order.take_profit ? "LastPrice" : "");
  out.field("slTriggerBy", order.stop_loss ? "LastPrice" : "");
  out.field("tpLimitPrice", "");
  out.field("slLimitPrice", "");
  out.key("createdTime").number_string(order.created_ms);
  out.key("updatedTime").number_string(order.updated_ms);
  out.field("closedPnl", "0");
  out.key("cumFeeDetail").begin_object();
  if (!order.cum_exec_fee.is_zero())
    out.field("USDT", order.cum_exec_fee);
  out.end_object();
  out.field("smpType", "None");
  out.field("smpGroup", 0);
  out.field("smpOrderId", "");
  out.field("isLeverage", "");
  out.field("feeCurrency", "");
  out.field("placeType", "");
  out.end_object();
}

void write_execution(JsonOut& out, const exec::sim::Execution& execution,
                     const ExchangeInstrument& instrument) {
  const int pd = instrument.price_decimals;
  const int qd = instrument.qty_decimals;
  out.begin_object();
  out.field("category", "linear");
  out.field("symbol", execution.symbol);
  out.field("orderId", execution.order_id);
  out.field("orderLinkId", execution.order_link_id);
  out.field("side", exec::sim::to_bybit(execution.side));
  out.key("orderPrice").decimal_fixed(execution.order_price, pd);
  out.key("orderQty").decimal_fixed(execution.order_qty, qd);
  out.key("leavesQty").decimal_fixed(execution.leaves_qty, qd);
  // A take-profit or stop-loss fill comes from the order the venue created for it.
  out.field("createType", execution.stop_order_type == "TakeProfit" ? "CreateByTakeProfit"
                          : execution.stop_order_type == "StopLoss" ? "CreateByStopLoss"
                                                                    : "CreateByUser");
  out.field("orderType", exec::sim::to_bybit(execution.order_type));
  out.field("stopOrderType", execution.stop_order_type);
  out.field("execId", execution.exec_id);
  out.key("execPrice").decimal_fixed(execution.exec_price, pd);
  out.key("execQty").decimal_fixed(execution.exec_qty, qd);
  out.field("execValue", execution.exec_value);
  out.field("execFee", execution.exec_fee);
  out.field("feeRate", ppm_rate(execution.fee_rate_ppm));
  out.field("execType", "Trade");
  out.key("execTime").number_string(execution.exec_time_ms);
  out.field("isMaker", execution.is_maker);
  out.field("execPnl", execution.exec_pnl);
  out.key("closedSize").decimal_fixed(execution.closed_size, qd);
  out.key("markPrice").decimal_fixed(execution.mark_price, pd);
  out.field("indexPrice", "");
  out.field("underlyingPrice", "");
  out.field("blockTradeId", "");
  out.field("seq", execution.seq);
  out.field("feeCurrency", "USDT");
  out.field("marketUnit", "");
  out.field("extraFees", "");
  out.end_object();
}

void write_position(JsonOut& out, const exec::sim::PositionState& position,
                    const ExchangeInstrument& instrument, bool rest) {
  const int pd = instrument.price_decimals;
  const int qd = instrument.qty_decimals;
  const bool flat = position.size.is_zero();
  out.begin_object();
  if (!rest)
    out.field("category", "linear");
  out.field("positionIdx", 0);
  out.field("riskId", 1);
  out.field("riskLimitValue", "2000000");
  out.field("symbol", position.symbol);
  out.field("side", exec::sim::to_bybit(flat ? Side::none : position.side));
  out.key("size").decimal_fixed(position.size, qd);
  out.key(rest ? "avgPrice" : "entryPrice");
  if (flat)
    out.string("0");
  else
    out.decimal(position.avg_price);
  out.field("positionValue", position.position_value);
  out.field("leverage", position.leverage);
  out.key("markPrice").decimal_fixed(position.mark_price, pd);
  out.key("liqPrice");
  if (flat || position.liq_price.is_zero())
    out.string("");
  else
    out.decimal_fixed(position.liq_price, pd);
  out.key("bustPrice").string("");
  out.key("breakEvenPrice");
  if (flat)
    out.string("0");
  else
    out.decimal(position.avg_price);
  out.field("positionIM", position.position_im);
  out.field("positionMM", position.position_mm);
  out.field("positionBalance", position.position_im);
  optional_price(out, "takeProfit", position.take_profit, pd);
  optional_price(out, "stopLoss", position.stop_loss, pd);
  out.field("trailingStop", "0");
  out.field("unrealisedPnl", position.unrealised_pnl);
  out.field("curRealisedPnl", position.cur_realised_pnl);
  out.field("cumRealisedPnl", position.cum_realised_pnl);
  out.field("positionStatus", "Normal");
  out.field("adlRankIndicator", flat ? 0 : 2);
  out.field("autoAddMargin", 0);
  out.field("isReduceOnly", false);
  out.key("createdTime").number_string(position.created_ms);
  out.key("updatedTime").number_string(position.updated_ms);
  out.field("seq", position.seq);
  out.field("tradeMode", 0);
  out.field("tpslMode", "Full");
  out.end_object();
}

void write_wallet(JsonOut& out, const exec::sim::WalletState& wallet) {
  const Amount initial_margin = wallet.total_position_im + wallet.total_order_im;
  out.begin_object();
  out.field("accountType", "UNIFIED");
  out.field("accountIMRate", ratio4(initial_margin, wallet.equity));
  out.field("accountMMRate", ratio4(wallet.total_position_mm, wallet.equity));
  out.field("accountLTV", "0");
  out.field("totalEquity", wallet.equity);
  out.field("totalWalletBalance", wallet.wallet_balance);
  out.field("totalMarginBalance", wallet.equity);
  out.field("totalAvailableBalance", wallet.available_balance);
  out.field("totalPerpUPL", wallet.unrealised_pnl);
  out.field("totalInitialMargin", initial_margin);
  out.field("totalMaintenanceMargin", wallet.total_position_mm);
  out.key("coin").begin_array().begin_object();
  out.field("coin", "USDT");
  out.field("equity", wallet.equity);
  out.field("usdValue", wallet.equity);
  out.field("walletBalance", wallet.wallet_balance);
  out.field("free", "");
  out.field("locked", "0");
  out.field("spotHedgingQty", "0");
  out.field("borrowAmount", "0");
  out.field("accruedInterest", "0");
  out.field("totalOrderIM", wallet.total_order_im);
  out.field("totalPositionIM", wallet.total_position_im);
  out.field("totalPositionMM", wallet.total_position_mm);
  out.field("unrealisedPnl", wallet.unrealised_pnl);
  out.field("cumRealisedPnl", wallet.cum_realised_pnl);
  out.field("bonus", "0");
  out.field("collateralSwitch", true);
  out.field("marginCollateral", true);
  out.field("availableToWithdraw", "");
  out.field("availableToBorrow", "");
  out.field("spotBorrow", "0");
  out.end_object().end_array();
  out.end_object();
}

}  // namespace kinetic::exchange
