// PrivateDecoder: Bybit's private-stream pushes and the REST lists of reconciliation into
// OrderUpdate / ExecutionReport / PositionUpdate / WalletUpdate (docs/bybit-v5.md §2, §4.4).

#include "kinetic/exec/private_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alloc_counter.hpp"

namespace kinetic::exec {
namespace {

Price price(std::string_view text) {
  return Price::parse(text).value();
}
Qty qty(std::string_view text) {
  return Qty::parse(text).value();
}
Amount amount(std::string_view text) {
  return Amount::parse(text).value();
}

/// Keeps copies of everything delivered (allocates: not for the allocation test).
struct RecordingSink final : PrivateSink {
  std::vector<OrderUpdate> orders;
  std::vector<ExecutionReport> executions;
  std::vector<PositionUpdate> positions;
  std::vector<WalletUpdate> wallets;
  std::vector<PrivateControl> controls;
  int calls = 0;
  void on_orders(std::span<const OrderUpdate> items) override {
    ++calls;
    orders.insert(orders.end(), items.begin(), items.end());
  }
  void on_executions(std::span<const ExecutionReport> items) override {
    ++calls;
    executions.insert(executions.end(), items.begin(), items.end());
  }
  void on_positions(std::span<const PositionUpdate> items) override {
    ++calls;
    positions.insert(positions.end(), items.begin(), items.end());
  }
  void on_wallets(std::span<const WalletUpdate> items) override {
    ++calls;
    wallets.insert(wallets.end(), items.begin(), items.end());
  }
  void on_control(const PrivateControl& control) override {
    ++calls;
    controls.push_back(control);
  }
};

class PrivateDecoderTest : public ::testing::Test {
 protected:
  PrivateDecodeResult decode(std::string_view text) { return decoder.decode_unpadded(text, sink); }
  feed::SymbolTable symbols{64};
  PrivateDecoder decoder{symbols};
  RecordingSink sink;
};

// The docs' §2.3 example, verbatim.
constexpr std::string_view kDocsOrder =
    R"({"id":"100401_BTCUSDT_412345680001","topic":"order","creationTime":1735689601005,
 "data":[{"category":"linear","symbol":"BTCUSDT","orderId":"1e0a8c44-2b7d-4a5e-9f61-3c2d1b0a9e88",
   "orderLinkId":"eng-000123","side":"Buy","orderType":"Limit","price":"93400.0","qty":"0.010",
   "timeInForce":"GTC","orderStatus":"New","positionIdx":0,"reduceOnly":false,"closeOnTrigger":false,
   "leavesQty":"0.010","leavesValue":"934","cumExecQty":"0","cumExecValue":"0","cumExecFee":"0",
   "avgPrice":"","cancelType":"UNKNOWN","rejectReason":"EC_NoError","createType":"CreateByUser",
   "stopOrderType":"","triggerPrice":"","takeProfit":"","stopLoss":"","createdTime":"1735689601001",
   "updatedTime":"1735689601003","cumFeeDetail":{}}]})";

TEST_F(PrivateDecoderTest, DocsOrderExampleGivesEveryField) {
  const PrivateDecodeResult r = decode(kDocsOrder);
  ASSERT_EQ(r.status, PrivateDecodeStatus::data) << to_string(r.error);
  EXPECT_EQ(r.topic, PrivateTopic::order);
  EXPECT_EQ(r.items, 1u);
  ASSERT_EQ(sink.orders.size(), 1u);
  EXPECT_EQ(sink.calls, 1);
  const OrderUpdate& o = sink.orders[0];
  EXPECT_EQ(o.order_id.view(), "1e0a8c44-2b7d-4a5e-9f61-3c2d1b0a9e88");
  EXPECT_EQ(o.order_link_id.view(), "eng-000123");
  EXPECT_EQ(o.client_order_id, 0u);  // not one of ours
  EXPECT_EQ(symbols.name(o.symbol), "BTCUSDT");
  EXPECT_EQ(o.side, Side::buy);
  EXPECT_EQ(o.type, OrderType::limit);
  EXPECT_EQ(o.tif, TimeInForce::gtc);
  EXPECT_EQ(o.status, ExchangeOrderStatus::new_);
  EXPECT_FALSE(o.reduce_only);
  EXPECT_EQ(o.price, price("93400"));
  EXPECT_EQ(o.qty, qty("0.01"));
  EXPECT_EQ(o.leaves_qty, qty("0.01"));
  EXPECT_EQ(o.cum_exec_qty, Qty{});
  EXPECT_EQ(o.cum_exec_value, Amount{});
  EXPECT_EQ(o.cum_exec_fee, Amount{});
  EXPECT_EQ(o.avg_price, Price{});  // "" → 0
  EXPECT_EQ(o.take_profit, Price{});
  EXPECT_EQ(o.stop_loss, Price{});
  EXPECT_EQ(o.created_ms, 1735689601001);
  EXPECT_EQ(o.updated_ms, 1735689601003);
  EXPECT_EQ(o.reject_reason.view(), "EC_NoError");
  EXPECT_EQ(o.cancel_type.view(), "UNKNOWN");
}

TEST_F(PrivateDecoderTest, OurOrderLinkIdBecomesTheClientOrderId) {
  const std::string text =
      R"({"topic":"order.linear","id":"x","creationTime":1,"data":[{"orderId":"o-1",)"
      R"("orderLinkId":"kn-00000a000000002a","symbol":"ETHUSDT","side":"Sell",)"
      R"("orderType":"Market","timeInForce":"IOC","orderStatus":"PartiallyFilled",)"
      R"("reduceOnly":true,"price":"3000.5","qty":"1.5","leavesQty":"0.5","cumExecQty":"1",)"
      R"("cumExecValue":"3000.5","cumExecFee":"1.6502750","avgPrice":"3000.5",)"
      R"("takeProfit":"2900","stopLoss":"3100.25","createdTime":"5","updatedTime":"6"}]})";
  ASSERT_EQ(decode(text).status, PrivateDecodeStatus::data);
  ASSERT_EQ(sink.orders.size(), 1u);
  const OrderUpdate& o = sink.orders[0];
  EXPECT_EQ(o.client_order_id, 0x00000a000000002aULL);
  EXPECT_EQ(o.side, Side::sell);
  EXPECT_EQ(o.type, OrderType::market);
  EXPECT_EQ(o.tif, TimeInForce::ioc);
  EXPECT_EQ(o.status, ExchangeOrderStatus::partially_filled);
  EXPECT_TRUE(o.reduce_only);
  EXPECT_EQ(o.price, price("3000.5"));
  EXPECT_EQ(o.qty, qty("1.5"));
  EXPECT_EQ(o.leaves_qty, qty("0.5"));
  EXPECT_EQ(o.cum_exec_qty, qty("1"));
  EXPECT_EQ(o.cum_exec_value, amount("3000.5"));
  EXPECT_EQ(o.cum_exec_fee, amount("1.650275"));
  EXPECT_EQ(o.avg_price, price("3000.5"));
  EXPECT_EQ(o.take_profit, price("2900"));
  EXPECT_EQ(o.stop_loss, price("3100.25"));
  EXPECT_EQ(o.created_ms, 5);
  EXPECT_EQ(o.updated_ms, 6);
}

TEST_F(PrivateDecoderTest, UnknownEnumerationsAreNotErrors) {
  const std::string text =
      R"({"topic":"order","data":[{"orderId":"a","symbol":"BTCUSDT","side":"Up",)"
      R"("orderType":"UNKNOWN","timeInForce":"RPI","orderStatus":"Active"}]})";
  ASSERT_EQ(decode(text).status, PrivateDecodeStatus::data);
  const OrderUpdate& o = sink.orders.at(0);
  EXPECT_EQ(o.side, Side::none);
  EXPECT_EQ(o.type, OrderType::limit);
  EXPECT_EQ(o.tif, TimeInForce::post_only);
  EXPECT_EQ(o.status, ExchangeOrderStatus::unknown);

  const std::string exec =
      R"({"topic":"execution","data":[{"execId":"e","symbol":"BTCUSDT","execType":"BlockTrade"},)"
      R"({"execId":"f","symbol":"BTCUSDT","execType":"Delivery"},)"
      R"({"execId":"g","symbol":"BTCUSDT","execType":"Funding"}]})";
  ASSERT_EQ(decode(exec).status, PrivateDecodeStatus::data);
  ASSERT_EQ(sink.executions.size(), 3u);
  EXPECT_EQ(sink.executions[0].exec_type, ExecType::other);
  EXPECT_EQ(sink.executions[1].exec_type, ExecType::settle);
  EXPECT_EQ(sink.executions[2].exec_type, ExecType::funding);
}

TEST_F(PrivateDecoderTest, EveryOrderStatusMaps) {
  const std::pair<std::string_view, ExchangeOrderStatus> cases[] = {
      {"Created", ExchangeOrderStatus::created},
      {"New", ExchangeOrderStatus::new_},
      {"PartiallyFilled", ExchangeOrderStatus::partially_filled},
      {"Filled", ExchangeOrderStatus::filled},
      {"Cancelled", ExchangeOrderStatus::cancelled},
      {"PartiallyFilledCanceled", ExchangeOrderStatus::partially_filled_canceled},
      {"Rejected", ExchangeOrderStatus::rejected},
      {"Untriggered", ExchangeOrderStatus::untriggered},
      {"Triggered", ExchangeOrderStatus::triggered},
      {"Deactivated", ExchangeOrderStatus::deactivated},
  };
  for (const auto& [name, status] : cases) {
    const std::string text =
        R"({"topic":"order","data":[{"orderId":"a","symbol":"X","orderStatus":")" +
        std::string(name) + R"("}]})";
    ASSERT_EQ(decode(text).status, PrivateDecodeStatus::data) << name;
    EXPECT_EQ(sink.orders.back().status, status) << name;
  }
}

// kinetic-exchange's execution shape (tools/kinetic-exchange/bybit_json.cpp) with three fills
// of one order in one message, keys of the last in another order.
TEST_F(PrivateDecoderTest, SeveralExecutionsInOneMessageAreOneSpan) {
  const std::string text =
      R"({"id":"1_BTCUSDT_7","topic":"execution","creationTime":1735689602000,"data":[)"
      R"({"category":"linear","symbol":"BTCUSDT","orderId":"o-1","orderLinkId":"kn-0000000000000001",)"
      R"("side":"Buy","orderPrice":"93400.0","orderQty":"0.010","leavesQty":"0.007",)"
      R"("orderType":"Limit","stopOrderType":"","execId":"e-1","execPrice":"93400.0",)"
      R"("execQty":"0.003","execValue":"280.2","execFee":"0.0560400","feeRate":"0.0002",)"
      R"("execType":"Trade","execTime":"1735689601500","isMaker":true,"execPnl":"0",)"
      R"("closedSize":"0.000","markPrice":"93401.0","seq":4501,"feeCurrency":"USDT"},)"
      R"({"category":"linear","symbol":"BTCUSDT","orderId":"o-1","orderLinkId":"kn-0000000000000001",)"
      R"("side":"Buy","leavesQty":"0.002","execId":"e-2","execPrice":"93399.5","execQty":"0.005",)"
      R"("execValue":"466.9975","execFee":"-0.0466998","execType":"Trade","execTime":"1735689601501",)"
      R"("isMaker":false,"execPnl":"-1.25","closedSize":"0.001","seq":"4502"},)"
      R"({"seq":4503,"isMaker":true,"execTime":1735689601502,"execQty":"0.002","execPrice":"93399",)"
      R"("execId":"e-3","leavesQty":"0","symbol":"BTCUSDT","side":"Buy","category":"linear"}]})";
  const PrivateDecodeResult r = decode(text);
  ASSERT_EQ(r.status, PrivateDecodeStatus::data) << to_string(r.error);
  EXPECT_EQ(r.items, 3u);
  EXPECT_EQ(sink.calls, 1);
  ASSERT_EQ(sink.executions.size(), 3u);
  const ExecutionReport& a = sink.executions[0];
  EXPECT_EQ(a.exec_id.view(), "e-1");
  EXPECT_EQ(a.order_id.view(), "o-1");
  EXPECT_EQ(a.order_link_id.view(), "kn-0000000000000001");
  EXPECT_EQ(a.client_order_id, 1u);
  EXPECT_EQ(symbols.name(a.symbol), "BTCUSDT");
  EXPECT_EQ(a.side, Side::buy);
  EXPECT_EQ(a.exec_type, ExecType::trade);
  EXPECT_TRUE(a.is_maker);
  EXPECT_EQ(a.exec_price, price("93400"));
  EXPECT_EQ(a.exec_qty, qty("0.003"));
  EXPECT_EQ(a.exec_value, amount("280.2"));
  EXPECT_EQ(a.exec_fee, amount("0.05604"));
  EXPECT_EQ(a.leaves_qty, qty("0.007"));
  EXPECT_EQ(a.exec_pnl, Amount{});
  EXPECT_EQ(a.closed_size, Qty{});
  EXPECT_EQ(a.exec_time_ms, 1735689601500);
  EXPECT_EQ(a.seq, 4501u);
  const ExecutionReport& b = sink.executions[1];
  EXPECT_EQ(b.exec_id.view(), "e-2");
  EXPECT_FALSE(b.is_maker);
  EXPECT_EQ(b.exec_fee, amount("-0.0466998"));  // a maker rebate is negative
  EXPECT_EQ(b.exec_pnl, amount("-1.25"));
  EXPECT_EQ(b.closed_size, qty("0.001"));
  EXPECT_EQ(b.seq, 4502u);  // seq as a string is accepted too
  const ExecutionReport& c = sink.executions[2];
  EXPECT_EQ(c.exec_id.view(), "e-3");
  EXPECT_EQ(c.order_id.view(), "");
  EXPECT_EQ(c.exec_time_ms, 1735689601502);  // a number instead of a string
  EXPECT_EQ(c.exec_price, price("93399"));
  EXPECT_EQ(c.seq, 4503u);
}

TEST_F(PrivateDecoderTest, PositionFromTheStream) {
  const std::string text =
      R"({"id":"p1","topic":"position","creationTime":1735689601010,"data":[{"category":"linear",)"
      R"("positionIdx":0,"riskId":1,"riskLimitValue":"2000000","symbol":"BTCUSDT","side":"Buy",)"
      R"("size":"0.010","entryPrice":"93400","positionValue":"934","leverage":"10",)"
      R"("markPrice":"93410.50","liqPrice":"84530.10","bustPrice":"","breakEvenPrice":"93400",)"
      R"("positionIM":"93.4","positionMM":"4.67","takeProfit":"95000.00","stopLoss":"",)"
      R"("trailingStop":"0","unrealisedPnl":"0.105","curRealisedPnl":"-0.0560400",)"
      R"("cumRealisedPnl":"-12.5","positionStatus":"Normal","adlRankIndicator":2,)"
      R"("createdTime":"1735689000000","updatedTime":"1735689601009","seq":4501,"tradeMode":0,)"
      R"("tpslMode":"Full"},{"category":"linear","symbol":"ETHUSDT","side":"","size":"0",)"
      R"("entryPrice":"0","liqPrice":"","positionIdx":0,"seq":77}]})";
  const PrivateDecodeResult r = decode(text);
  ASSERT_EQ(r.status, PrivateDecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(sink.positions.size(), 2u);
  const PositionUpdate& p = sink.positions[0];
  EXPECT_EQ(symbols.name(p.symbol), "BTCUSDT");
  EXPECT_EQ(p.side, Side::buy);
  EXPECT_EQ(p.position_idx, 0);
  EXPECT_EQ(p.size, qty("0.01"));
  EXPECT_EQ(p.entry_price, price("93400"));
  EXPECT_EQ(p.leverage, amount("10"));
  EXPECT_EQ(p.mark_price, price("93410.5"));
  EXPECT_EQ(p.liq_price, price("84530.1"));
  EXPECT_EQ(p.position_value, amount("934"));
  EXPECT_EQ(p.unrealised_pnl, amount("0.105"));
  EXPECT_EQ(p.cum_realised_pnl, amount("-12.5"));
  EXPECT_EQ(p.take_profit, price("95000"));
  EXPECT_EQ(p.stop_loss, Price{});
  EXPECT_EQ(p.updated_ms, 1735689601009);
  EXPECT_EQ(p.seq, 4501u);
  const PositionUpdate& flat = sink.positions[1];
  EXPECT_EQ(symbols.name(flat.symbol), "ETHUSDT");
  EXPECT_EQ(flat.side, Side::none);
  EXPECT_EQ(flat.size, Qty{});
  EXPECT_EQ(flat.liq_price, Price{});
  EXPECT_EQ(flat.seq, 77u);
}

TEST_F(PrivateDecoderTest, WalletTakesTheUsdtCoinWhateverItsPlace) {
  // §2.6 fields; BTC first, USDT with its "coin" key last; amounts past 8 decimals are cut.
  const std::string text =
      R"({"id":"w1","topic":"wallet","creationTime":1735689601020,"data":[{"accountType":"UNIFIED",)"
      R"("accountIMRate":"0.0123","accountMMRate":"0.001","totalEquity":"10012.3456789012",)"
      R"("totalWalletBalance":"10000","totalMarginBalance":"10012.34","totalAvailableBalance":"9918.9",)"
      R"("totalPerpUPL":"0.105","totalInitialMargin":"93.4","totalMaintenanceMargin":"4.67",)"
      R"("coin":[{"coin":"BTC","equity":"0.00000000001","walletBalance":"zz"},)"
      R"({"equity":"10000.105","usdValue":"10000.105","walletBalance":"9999.9439600",)"
      R"("locked":"0","borrowAmount":"0","totalOrderIM":"12.5","totalPositionIM":"93.4",)"
      R"("totalPositionMM":"4.67","unrealisedPnl":"0.105","cumRealisedPnl":"-0.05604",)"
      R"("collateralSwitch":true,"marginCollateral":true,"coin":"USDT"}]}]})";
  const PrivateDecodeResult r = decode(text);
  ASSERT_EQ(r.status, PrivateDecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(sink.wallets.size(), 1u);
  const WalletUpdate& w = sink.wallets[0];
  EXPECT_EQ(w.total_equity, amount("10012.34567890"));
  EXPECT_EQ(w.total_available_balance, amount("9918.9"));
  EXPECT_EQ(w.equity, amount("10000.105"));
  EXPECT_EQ(w.wallet_balance, amount("9999.94396"));
  EXPECT_EQ(w.unrealised_pnl, amount("0.105"));
  EXPECT_EQ(w.cum_realised_pnl, amount("-0.05604"));
  EXPECT_EQ(w.total_position_im, amount("93.4"));
  EXPECT_EQ(w.total_order_im, amount("12.5"));

  // No USDT entry: the coin amounts stay zero.
  ASSERT_EQ(decode(R"({"topic":"wallet","data":[{"totalEquity":"5","coin":[]}]})").status,
            PrivateDecodeStatus::data);
  EXPECT_EQ(sink.wallets.back().total_equity, amount("5"));
  EXPECT_EQ(sink.wallets.back().wallet_balance, Amount{});
}

TEST_F(PrivateDecoderTest, KeyOrderDoesNotMatterDataBeforeTopic) {
  const std::string text =
      R"({"data":[{"orderStatus":"Filled","symbol":"SOLUSDT","orderId":"z"}],"creationTime":9,)"
      R"("topic":"order","id":"q"})";
  const PrivateDecodeResult r = decode(text);
  ASSERT_EQ(r.status, PrivateDecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(sink.orders.size(), 1u);
  EXPECT_EQ(sink.orders[0].order_id.view(), "z");
  EXPECT_EQ(symbols.name(sink.orders[0].symbol), "SOLUSDT");
  EXPECT_EQ(sink.orders[0].status, ExchangeOrderStatus::filled);
}

TEST_F(PrivateDecoderTest, OtherCategoriesAreSkipped) {
  const std::string text =
      R"({"topic":"order","data":[{"category":"spot","orderId":"s","symbol":"BTCUSDT","orderStatus":"New"},)"
      R"({"category":"linear","orderId":"l","symbol":"BTCUSDT","orderStatus":"New"}]})";
  const PrivateDecodeResult r = decode(text);
  ASSERT_EQ(r.status, PrivateDecodeStatus::data);
  EXPECT_EQ(r.items, 1u);
  EXPECT_EQ(r.skipped, 1u);
  ASSERT_EQ(sink.orders.size(), 1u);
  EXPECT_EQ(sink.orders[0].order_id.view(), "l");

  const PrivateDecodeResult only_spot = decode(
      R"({"topic":"execution","data":[{"category":"spot","execId":"s","symbol":"BTCUSDT"}]})");
  EXPECT_EQ(only_spot.status, PrivateDecodeStatus::ignored);
  EXPECT_EQ(sink.executions.size(), 0u);
  EXPECT_EQ(decode(R"({"topic":"order","data":[]})").status, PrivateDecodeStatus::ignored);
}

TEST_F(PrivateDecoderTest, UnknownTopicIsReportedNotDecoded) {
  const PrivateDecodeResult r = decode(R"({"topic":"greeks","data":[{"baseCoin":"ETH"}]})");
  EXPECT_EQ(r.status, PrivateDecodeStatus::unknown_topic);
  EXPECT_EQ(sink.calls, 0);
}

TEST_F(PrivateDecoderTest, AuthReplies) {
  ASSERT_EQ(
      decode(R"({"success":true,"ret_msg":"","op":"auth","conn_id":"cejreaspqfh3sjdnldmg-p"})")
          .status,
      PrivateDecodeStatus::control);
  ASSERT_EQ(
      decode(R"({"conn_id":"c","op":"auth","ret_msg":"Params Error","success":false})").status,
      PrivateDecodeStatus::control);
  ASSERT_EQ(sink.controls.size(), 2u);
  EXPECT_EQ(sink.controls[0].kind, PrivateControlKind::auth_ok);
  EXPECT_TRUE(sink.controls[0].success);
  EXPECT_EQ(sink.controls[1].kind, PrivateControlKind::auth_failed);
  EXPECT_FALSE(sink.controls[1].success);
  EXPECT_EQ(sink.controls[1].ret_msg.view(), "Params Error");
  // The trade stream's shape: retCode instead of success.
  ASSERT_EQ(decode(R"({"retCode":10004,"retMsg":"Invalid sign","op":"auth","connId":"x"})").status,
            PrivateDecodeStatus::control);
  EXPECT_EQ(sink.controls[2].kind, PrivateControlKind::auth_failed);
  EXPECT_EQ(sink.controls[2].ret_msg.view(), "Invalid sign");
}

TEST_F(PrivateDecoderTest, SubscribeAcksAndPongs) {
  for (const std::string_view text : {
           R"({"success":true,"ret_msg":"","op":"subscribe","conn_id":"c","req_id":"s7"})",
           R"({"success":false,"ret_msg":"error:handler not found,topic:nope","op":"subscribe"})",
           R"({"req_id":"p3","op":"pong","args":["1735689601234"],"conn_id":"c"})",
           R"({"success":true,"ret_msg":"pong","conn_id":"c","op":"ping"})",
           R"({"success":true,"ret_msg":"","op":"unsubscribe"})",
           R"({"success":false,"ret_msg":"error:invalid op","op":"hello"})",
       }) {
    ASSERT_EQ(decode(text).status, PrivateDecodeStatus::control) << text;
  }
  ASSERT_EQ(sink.controls.size(), 6u);
  EXPECT_EQ(sink.controls[0].kind, PrivateControlKind::subscribed);
  EXPECT_EQ(sink.controls[0].req_id.view(), "s7");
  EXPECT_EQ(sink.controls[1].kind, PrivateControlKind::subscribe_failed);
  EXPECT_EQ(sink.controls[1].ret_msg.view(), "error:handler not found,topic:nope");
  EXPECT_EQ(sink.controls[2].kind, PrivateControlKind::pong);
  EXPECT_EQ(sink.controls[2].pong_ms, 1735689601234);
  EXPECT_EQ(sink.controls[2].req_id.view(), "p3");
  EXPECT_EQ(sink.controls[3].kind, PrivateControlKind::pong);
  EXPECT_EQ(sink.controls[3].pong_ms, 0);
  EXPECT_EQ(sink.controls[4].kind, PrivateControlKind::unsubscribed);
  EXPECT_EQ(sink.controls[5].kind, PrivateControlKind::other);
}

// ---- REST lists

TEST_F(PrivateDecoderTest, RestOpenOrdersPage) {
  const std::string body =
      R"({"retCode":0,"retMsg":"OK","result":{"nextPageCursor":"page_args%3D2",)"
      R"("category":"linear","list":[{"orderId":"o-1","orderLinkId":"kn-0000000000000007",)"
      R"("symbol":"BTCUSDT","side":"Buy","orderType":"Limit","price":"93000","qty":"0.002",)"
      R"("timeInForce":"PostOnly","orderStatus":"New","reduceOnly":false,"leavesQty":"0.002",)"
      R"("cumExecQty":"0","avgPrice":"","createdTime":"1","updatedTime":"2"},)"
      R"({"orderId":"o-2","orderLinkId":"","symbol":"ETHUSDT","side":"Sell","orderType":"Limit",)"
      R"("price":"3500","qty":"0.1","timeInForce":"GTC","orderStatus":"PartiallyFilled",)"
      R"("leavesQty":"0.05","cumExecQty":"0.05","avgPrice":"3500"}]},"retExtInfo":{},"time":3})";
  const RestListResult r = decoder.decode_rest(RestList::orders, body, sink);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.items, 2u);
  EXPECT_EQ(r.ret_msg.view(), "OK");
  EXPECT_EQ(r.next_page_cursor.view(), "page_args%3D2");
  ASSERT_EQ(sink.orders.size(), 2u);
  EXPECT_EQ(sink.orders[0].client_order_id, 7u);
  EXPECT_EQ(sink.orders[0].tif, TimeInForce::post_only);
  EXPECT_EQ(sink.orders[0].price, price("93000"));
  EXPECT_EQ(sink.orders[1].client_order_id, 0u);
  EXPECT_EQ(symbols.name(sink.orders[1].symbol), "ETHUSDT");
  EXPECT_EQ(sink.orders[1].status, ExchangeOrderStatus::partially_filled);
  EXPECT_EQ(sink.orders[1].cum_exec_qty, qty("0.05"));
  EXPECT_EQ(sink.orders[1].avg_price, price("3500"));
}

TEST_F(PrivateDecoderTest, RestExecutionsPositionsAndWallet) {
  const std::string executions =
      R"({"retCode":0,"retMsg":"OK","result":{"list":[{"symbol":"BTCUSDT","orderId":"o","execId":"e9",)"
      R"("orderLinkId":"kn-0000000000000010","side":"Sell","execPrice":"94000","execQty":"0.001",)"
      R"("execValue":"94","execFee":"0.0517","execType":"Trade","execTime":"1700000000001",)"
      R"("isMaker":false,"seq":12}],"nextPageCursor":"","category":"linear"},"time":1})";
  RestListResult r = decoder.decode_rest(RestList::executions, executions, sink);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  ASSERT_EQ(sink.executions.size(), 1u);
  EXPECT_EQ(sink.executions[0].client_order_id, 16u);
  EXPECT_EQ(sink.executions[0].exec_fee, amount("0.0517"));
  EXPECT_EQ(sink.executions[0].seq, 12u);
  EXPECT_EQ(r.next_page_cursor.view(), "");

  // /v5/position/list calls the entry price avgPrice.
  const std::string positions =
      R"({"retCode":0,"retMsg":"OK","result":{"list":[{"positionIdx":0,"symbol":"BTCUSDT",)"
      R"("side":"Sell","size":"0.005","avgPrice":"94100.5","positionValue":"470.5025",)"
      R"("leverage":"5","markPrice":"94000","liqPrice":"","unrealisedPnl":"0.5025",)"
      R"("cumRealisedPnl":"3","seq":99,"updatedTime":"1700000000002"}],"category":"linear"},"time":1})";
  r = decoder.decode_rest(RestList::positions, positions, sink);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  ASSERT_EQ(sink.positions.size(), 1u);
  EXPECT_EQ(sink.positions[0].side, Side::sell);
  EXPECT_EQ(sink.positions[0].size, qty("0.005"));
  EXPECT_EQ(sink.positions[0].entry_price, price("94100.5"));
  EXPECT_EQ(sink.positions[0].position_value, amount("470.5025"));
  EXPECT_EQ(sink.positions[0].leverage, amount("5"));
  EXPECT_EQ(sink.positions[0].updated_ms, 1700000000002);

  const std::string wallet =
      R"({"retCode":0,"retMsg":"OK","result":{"list":[{"accountType":"UNIFIED","totalEquity":"100.5",)"
      R"("totalAvailableBalance":"90","coin":[{"coin":"USDT","walletBalance":"100","equity":"100.5",)"
      R"("unrealisedPnl":"0.5","cumRealisedPnl":"1","totalPositionIM":"10","totalOrderIM":"0.5"}]}]},)"
      R"("retExtInfo":{},"time":1})";
  r = decoder.decode_rest(RestList::wallets, wallet, sink);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  ASSERT_EQ(sink.wallets.size(), 1u);
  EXPECT_EQ(sink.wallets[0].total_equity, amount("100.5"));
  EXPECT_EQ(sink.wallets[0].wallet_balance, amount("100"));
  EXPECT_EQ(sink.wallets[0].total_order_im, amount("0.5"));
}

TEST_F(PrivateDecoderTest, RestEmptyListIsDeliveredAndRejectionIsNot) {
  RestListResult r = decoder.decode_rest(
      RestList::orders, R"({"retCode":0,"retMsg":"OK","result":{"list":[],"nextPageCursor":""}})",
      sink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.items, 0u);
  EXPECT_EQ(sink.calls, 1);  // "no open orders" is news too

  r = decoder.decode_rest(RestList::orders,
                          R"({"retCode":10004,"retMsg":"error sign!","result":{},"time":1})", sink);
  EXPECT_EQ(r.error, PrivateDecodeError::none);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.ret_code, 10004);
  EXPECT_EQ(r.ret_msg.view(), "error sign!");
  EXPECT_EQ(sink.calls, 1);

  r = decoder.decode_rest(RestList::orders, R"({"retCode":0,"retMsg":"OK","result":{}})", sink);
  EXPECT_EQ(r.error, PrivateDecodeError::missing_field);
  r = decoder.decode_rest(RestList::orders, R"({"retMsg":"OK","result":{"list":[]}})", sink);
  EXPECT_EQ(r.error, PrivateDecodeError::missing_field);
  r = decoder.decode_rest(RestList::positions, R"({"retCode":0,"result":{"list":[{"size":"1"}]}})",
                          sink);
  EXPECT_EQ(r.error, PrivateDecodeError::missing_field);
  EXPECT_EQ(sink.calls, 1);
}

// ---- malformed input: an error value, nothing delivered, the decoder still works

TEST_F(PrivateDecoderTest, MalformedMessagesAreErrorsAndDeliverNothing) {
  const std::pair<std::string_view, PrivateDecodeError> cases[] = {
      {"", PrivateDecodeError::json},
      {"{", PrivateDecodeError::json},
      {"[1,2]", PrivateDecodeError::json},
      {"nul", PrivateDecodeError::json},
      {R"({"topic":"order","data":[]} x)", PrivateDecodeError::json},
      {R"({"topic":"order"})", PrivateDecodeError::missing_field},
      {R"({"data":[]})", PrivateDecodeError::missing_field},
      {R"({"topic":"order","data":{}})", PrivateDecodeError::wrong_type},
      {R"({"topic":"order","data":[1]})", PrivateDecodeError::wrong_type},
      {R"({"topic":"order","data":[{"symbol":"BTCUSDT","orderStatus":"New"}]})",
       PrivateDecodeError::missing_field},
      {R"({"topic":"order","data":[{"orderId":"a","symbol":"B","orderStatus":"New","price":93400}]})",
       PrivateDecodeError::wrong_type},
      {R"({"topic":"order","data":[{"orderId":"a","symbol":"B","orderStatus":"New","qty":"1.2.3"}]})",
       PrivateDecodeError::bad_decimal},
      {R"({"topic":"order","data":[{"orderId":"a","symbol":"B","orderStatus":"New","qty":"0.000000001"}]})",
       PrivateDecodeError::bad_decimal},
      {R"({"topic":"order","data":[{"orderId":"0123456789012345678901234567890123456789X","symbol":"B","orderStatus":"New"}]})",
       PrivateDecodeError::bad_value},
      {R"({"topic":"order","data":[{"orderId":"a","symbol":"","orderStatus":"New"}]})",
       PrivateDecodeError::symbol_table_full},
      {R"({"topic":"order","data":[{"orderId":"a","symbol":"B","orderStatus":"New","createdTime":"-5"}]})",
       PrivateDecodeError::bad_value},
      {R"({"topic":"position","data":[{"symbol":"B","positionIdx":7}]})",
       PrivateDecodeError::bad_value},
      {R"({"topic":"execution","data":[{"execId":"e","symbol":"B","isMaker":"yes"}]})",
       PrivateDecodeError::wrong_type},
      {R"({"success":null,"op":"auth"})", PrivateDecodeError::wrong_type},
  };
  for (const auto& [text, error] : cases) {
    const PrivateDecodeResult r = decode(text);
    EXPECT_EQ(r.status, PrivateDecodeStatus::error) << text;
    EXPECT_EQ(r.error, error) << text << " gave " << to_string(r.error);
  }
  EXPECT_EQ(sink.calls, 0);
  // A valid message after all that still decodes.
  EXPECT_EQ(decode(kDocsOrder).status, PrivateDecodeStatus::data);
  EXPECT_EQ(decoder.stats().errors, std::size(cases));
}

TEST_F(PrivateDecoderTest, OneBadItemLosesTheWholeMessage) {
  const std::string text =
      R"({"topic":"order","data":[{"orderId":"a","symbol":"B","orderStatus":"New"},)"
      R"({"orderId":"b","symbol":"B","orderStatus":"New","price":"x"}]})";
  EXPECT_EQ(decode(text).error, PrivateDecodeError::bad_decimal);
  EXPECT_EQ(sink.calls, 0);
}

TEST_F(PrivateDecoderTest, EveryPrefixOfAValidMessageIsAnError) {
  for (std::size_t n = 0; n < kDocsOrder.size(); ++n) {
    const PrivateDecodeResult r = decode(kDocsOrder.substr(0, n));
    EXPECT_EQ(r.status, PrivateDecodeStatus::error) << n;
  }
  EXPECT_EQ(sink.calls, 0);
}

TEST(PrivateDecoderLimits, TooLargeAndTooManyItems) {
  feed::SymbolTable symbols(8);
  PrivateDecoderConfig config;
  config.max_message_bytes = 4096;
  config.max_items = 2;
  PrivateDecoder decoder(symbols, config);
  RecordingSink sink;
  const std::string big = R"({"topic":"order","data":[]})" + std::string(5000, ' ');
  EXPECT_EQ(decoder.decode_unpadded(big, sink).error, PrivateDecodeError::too_large);
  EXPECT_EQ(decoder.decode_rest(RestList::orders, big, sink).error, PrivateDecodeError::too_large);
  const std::string item = R"({"execId":"e","symbol":"B"})";
  const std::string three =
      R"({"topic":"execution","data":[)" + item + "," + item + "," + item + "]}";
  EXPECT_EQ(decoder.decode_unpadded(three, sink).error, PrivateDecodeError::overflow);
  const std::string two = R"({"topic":"execution","data":[)" + item + "," + item + "]}";
  EXPECT_EQ(decoder.decode_unpadded(two, sink).items, 2u);
  EXPECT_EQ(sink.calls, 1);
}

TEST(PrivateDecoderLimits, FullSymbolTableIsAnError) {
  feed::SymbolTable symbols(1);
  PrivateDecoder decoder(symbols);
  RecordingSink sink;
  const auto order = [](std::string_view symbol) {
    return R"({"topic":"order","data":[{"orderId":"a","orderStatus":"New","symbol":")" +
           std::string(symbol) + R"("}]})";
  };
  EXPECT_EQ(decoder.decode_unpadded(order("BTCUSDT"), sink).status, PrivateDecodeStatus::data);
  EXPECT_EQ(decoder.decode_unpadded(order("ETHUSDT"), sink).error,
            PrivateDecodeError::symbol_table_full);
}

/// Counts, never allocates.
struct CountingSink final : PrivateSink {
  std::size_t items = 0;
  std::size_t controls = 0;
  void on_orders(std::span<const OrderUpdate> s) override { items += s.size(); }
  void on_executions(std::span<const ExecutionReport> s) override { items += s.size(); }
  void on_positions(std::span<const PositionUpdate> s) override { items += s.size(); }
  void on_wallets(std::span<const WalletUpdate> s) override { items += s.size(); }
  void on_control(const PrivateControl&) override { ++controls; }
};

TEST(PrivateDecoderAllocations, NoneAfterWarmUp) {
  feed::SymbolTable symbols(16);
  PrivateDecoder decoder(symbols);
  CountingSink sink;
  const std::string messages[] = {
      std::string(kDocsOrder),
      R"({"topic":"execution","data":[{"execId":"e","symbol":"BTCUSDT","execQty":"0.1","seq":5}]})",
      R"({"topic":"position","data":[{"symbol":"BTCUSDT","side":"Buy","size":"0.1"}]})",
      R"({"data":[{"coin":[{"coin":"USDT","equity":"1.5"}]}],"topic":"wallet"})",
      R"({"req_id":"p","op":"pong","args":["1"]})",
      R"({"topic":"order","data":[{"broken":)",
  };
  // Padded copies, as the WebSocket receive buffer gives them.
  std::vector<std::string> padded;
  for (const std::string& m : messages)
    padded.push_back(m + std::string(PrivateDecoder::kMessagePadding, ' '));
  const std::string rest =
      R"({"retCode":0,"retMsg":"OK","result":{"list":[{"orderId":"a","symbol":"BTCUSDT","orderStatus":"New"}]}})";
  for (const std::string& m : padded)  // warm-up: the symbol is interned here
    (void)decoder.decode(std::string_view(m.data(), m.size() - PrivateDecoder::kMessagePadding),
                         sink);
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int round = 0; round < 100; ++round) {
      for (const std::string& m : padded) {
        (void)decoder.decode(std::string_view(m.data(), m.size() - PrivateDecoder::kMessagePadding),
                             sink);
      }
      (void)decoder.decode_unpadded(messages[0], sink);
      (void)decoder.decode_rest(RestList::orders, rest, sink);
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(sink.items, 101u * 4 + 100u * 2);
  EXPECT_EQ(sink.controls, 101u);
  EXPECT_EQ(decoder.stats().errors, 101u);
}

}  // namespace
}  // namespace kinetic::exec
