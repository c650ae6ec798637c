// SimVenue: the life of each order type with numbers computed by hand, P&L and margins,
// Bybit's error codes, listener order and determinism.
//
// Defaults unless a test says otherwise: maker 0.02%, taker 0.055%, leverage 10,
// maintenance 0.5%, balance 10000 USDT. BTCUSDT-like rules: tick 0.1, step 0.001.

#include "kinetic/exec/sim_venue.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace kinetic::exec::sim {
namespace {

Price px(std::string_view text) {
  return Price::parse(text).value();
}
Qty qy(std::string_view text) {
  return Qty::parse(text).value();
}
Amount am(std::string_view text) {
  return Amount::parse(text).value();
}

risk::InstrumentRules rules_for(const char* symbol) {
  risk::InstrumentRules rules;
  std::strncpy(rules.symbol, symbol, sizeof rules.symbol - 1);
  rules.tick_size = px("0.1");
  rules.min_price = px("0.1");
  rules.max_price = px("199999.8");
  rules.qty_step = qy("0.001");
  rules.min_order_qty = qy("0.001");
  rules.max_order_qty = qy("1190");
  rules.max_market_order_qty = qy("500");
  rules.min_notional = am("5");
  rules.min_leverage = am("1");
  rules.max_leverage = am("100");
  rules.leverage_step = am("0.01");
  return rules;
}

/// Records every push as a short tag and keeps the payloads.
struct Recorder : VenueListener {
  std::vector<std::string> kinds;
  std::vector<OrderState> orders;
  std::vector<Execution> executions;
  std::vector<PositionState> positions;
  std::vector<WalletState> wallets;
  void on_order(AccountId, const OrderState& order) override {
    kinds.push_back("order:" + std::string(to_bybit(order.status)));
    orders.push_back(order);
  }
  void on_execution(AccountId, const Execution& execution) override {
    kinds.push_back("execution");
    executions.push_back(execution);
  }
  void on_position(AccountId, const PositionState& position) override {
    kinds.push_back("position");
    positions.push_back(position);
  }
  void on_wallet(AccountId, const WalletState& wallet) override {
    kinds.push_back("wallet");
    wallets.push_back(wallet);
  }
  void clear() {
    kinds.clear();
    orders.clear();
    executions.clear();
    positions.clear();
    wallets.clear();
  }
};

/// 8-4-4-4-12 lowercase hex digits (std::regex trips a GCC 12 warning under ASan).
bool uuid_shaped(const std::string& id) {
  if (id.size() != 36)
    return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

NewOrder market(Side side, std::string_view qty) {
  NewOrder order;
  order.symbol = "BTCUSDT";
  order.side = side;
  order.type = OrderType::market;
  order.qty = qy(qty);
  return order;
}

NewOrder limit(Side side, std::string_view qty, std::string_view price,
               TimeInForce tif = TimeInForce::gtc) {
  NewOrder order;
  order.symbol = "BTCUSDT";
  order.side = side;
  order.type = OrderType::limit;
  order.qty = qy(qty);
  order.price = px(price);
  order.time_in_force = tif;
  return order;
}

class SimVenueTest : public ::testing::Test {
 protected:
  SimVenueTest() : venue_({rules_for("BTCUSDT"), rules_for("ETHUSDT")}, VenueOptions{}) {
    venue_.set_listener(&recorder_);
    account_ = venue_.add_account(Amount::from_units(10'000));
  }

  void book(std::vector<feed::BookLevel> bids, std::vector<feed::BookLevel> asks,
            std::string_view symbol = "BTCUSDT") {
    venue_.on_book(symbol, bids, asks, now_);
  }
  static feed::BookLevel lv(std::string_view price, std::string_view qty) {
    return feed::BookLevel{px(price), qy(qty)};
  }

  OrderState ok(const std::variant<OrderState, VenueError>& result) {
    if (const auto* failure = std::get_if<VenueError>(&result)) {
      ADD_FAILURE() << failure->ret_code << " " << failure->ret_msg;
      return {};
    }
    return std::get<OrderState>(result);
  }
  static VenueError err(const std::variant<OrderState, VenueError>& result) {
    if (const auto* failure = std::get_if<VenueError>(&result))
      return *failure;
    ADD_FAILURE() << "expected an error";
    return {};
  }

  PositionState btc_position() { return venue_.positions(account_, "BTCUSDT").at(0); }

  Recorder recorder_;
  SimVenue venue_;
  AccountId account_ = 0;
  std::int64_t now_ = 1'700'000'000'000;
};

TEST_F(SimVenueTest, MarketBuyWalksTwoLevelsWithTakerFees) {
  book({lv("99.5", "1")}, {lv("100", "0.5"), lv("100.5", "1")});
  recorder_.clear();
  const OrderState order = ok(venue_.create(account_, market(Side::buy, "1"), now_));

  EXPECT_EQ(order.status, OrderStatus::filled);
  EXPECT_EQ(order.time_in_force, TimeInForce::ioc);
  EXPECT_EQ(order.cum_exec_qty, qy("1"));
  EXPECT_EQ(order.leaves_qty, Qty{});
  EXPECT_EQ(order.cum_exec_value, am("100.25"));  // 0.5×100 + 0.5×100.5
  // 50 × 0.00055 = 0.0275; 50.25 × 0.00055 = 0.0276375
  EXPECT_EQ(order.cum_exec_fee, am("0.0551375"));
  EXPECT_EQ(order.avg_price, px("100.25"));
  EXPECT_EQ(order.price, px("100.5"));  // the worst level reached

  ASSERT_EQ(recorder_.kinds, (std::vector<std::string>{"order:Filled", "execution", "execution",
                                                       "position", "wallet"}));
  const Execution& first = recorder_.executions[0];
  EXPECT_EQ(first.exec_price, px("100"));
  EXPECT_EQ(first.exec_qty, qy("0.5"));
  EXPECT_EQ(first.exec_value, am("50"));
  EXPECT_EQ(first.exec_fee, am("0.0275"));
  EXPECT_EQ(first.fee_rate_ppm, 550);
  EXPECT_FALSE(first.is_maker);
  EXPECT_EQ(first.leaves_qty, qy("0.5"));
  EXPECT_EQ(recorder_.executions[1].exec_fee, am("0.0276375"));
  EXPECT_EQ(first.mark_price, px("100"));     // no trade yet: the fill's own price
  EXPECT_EQ(first.order_price, px("100.5"));  // every fill carries the order's price
  EXPECT_EQ(recorder_.executions[1].order_price, px("100.5"));
  EXPECT_EQ(recorder_.executions[1].leaves_qty, Qty{});
  EXPECT_LT(first.seq, recorder_.executions[1].seq);

  const PositionState position = btc_position();
  EXPECT_EQ(position.side, Side::buy);
  EXPECT_EQ(position.size, qy("1"));
  EXPECT_EQ(position.avg_price, px("100.25"));
  EXPECT_EQ(position.position_value, am("100.25"));
  EXPECT_EQ(position.leverage, am("10"));
  EXPECT_EQ(position.position_im, am("10.025"));
  EXPECT_EQ(position.position_mm, am("0.50125"));
  EXPECT_EQ(position.unrealised_pnl, Amount{});  // no trade yet: mark = entry
  EXPECT_EQ(position.cur_realised_pnl, am("-0.0551375"));
  EXPECT_EQ(position.liq_price, px("90.7"));  // 100.25 × (1 − 0.1 + 0.005) = 90.72625
  EXPECT_EQ(position.seq, recorder_.executions[1].seq);

  const WalletState wallet = venue_.wallet(account_);
  EXPECT_EQ(wallet.wallet_balance, am("9999.9448625"));
  EXPECT_EQ(wallet.total_position_im, am("10.025"));
  EXPECT_EQ(wallet.available_balance, am("9989.9198625"));
  EXPECT_EQ(recorder_.wallets.back().wallet_balance, am("9999.9448625"));

  venue_.on_trade("BTCUSDT", px("101"), qy("0.1"), Side::buy, now_);
  EXPECT_EQ(btc_position().unrealised_pnl, am("0.75"));
  EXPECT_EQ(btc_position().mark_price, px("101"));
  EXPECT_EQ(venue_.wallet(account_).equity, am("10000.6948625"));
}

TEST_F(SimVenueTest, MarketOrderOnEmptyBookIsCancelled) {
  const OrderState order = ok(venue_.create(account_, market(Side::buy, "1"), now_));
  EXPECT_EQ(order.status, OrderStatus::cancelled);
  EXPECT_EQ(order.cum_exec_qty, Qty{});
  EXPECT_EQ(order.reject_reason, "EC_NoImmediateQtyToFill");
  EXPECT_TRUE(venue_.open_orders(account_, "").empty());
  EXPECT_EQ(venue_.wallet(account_).wallet_balance, am("10000"));
}

TEST_F(SimVenueTest, MarketOrderBeyondTheBookFillsWhatIsThereAndCancelsTheRest) {
  book({}, {lv("100", "0.3")});
  const OrderState order = ok(venue_.create(account_, market(Side::buy, "1"), now_));
  EXPECT_EQ(order.status, OrderStatus::cancelled);
  EXPECT_EQ(order.cum_exec_qty, qy("0.3"));
  EXPECT_EQ(order.leaves_qty, Qty{});  // closed: nothing left to execute
  EXPECT_EQ(btc_position().size, qy("0.3"));
}

TEST_F(SimVenueTest, RestingLimitWaitsForTheQueueAheadThenFillsAsMaker) {
  book({lv("99.5", "2"), lv("99", "3")}, {lv("100", "1")});
  recorder_.clear();
  OrderState order = ok(venue_.create(account_, limit(Side::buy, "1", "99.5"), now_));
  EXPECT_EQ(order.status, OrderStatus::new_);
  EXPECT_EQ(order.queue_ahead, qy("2"));
  EXPECT_EQ(recorder_.kinds, (std::vector<std::string>{"order:New", "position", "wallet"}));
  // Order IM: 99.5 / 10 + 99.5 × 0.00055 = 9.95 + 0.054725
  EXPECT_EQ(venue_.wallet(account_).total_order_im, am("10.004725"));
  EXPECT_EQ(venue_.wallet(account_).available_balance, am("9989.995275"));

  venue_.on_trade("BTCUSDT", px("99.5"), qy("1.5"), Side::sell, now_);  // queue 2 → 0.5
  order = venue_.open_orders(account_, "BTCUSDT").at(0);
  EXPECT_EQ(order.queue_ahead, qy("0.5"));
  EXPECT_EQ(order.cum_exec_qty, Qty{});
  venue_.on_trade("BTCUSDT", px("99.6"), qy("5"), Side::buy, now_);  // above a buy: nothing
  EXPECT_EQ(venue_.open_orders(account_, "BTCUSDT").at(0).cum_exec_qty, Qty{});

  recorder_.clear();
  venue_.on_trade("BTCUSDT", px("99.5"), qy("0.8"), Side::sell, now_);  // 0.5 queue, 0.3 ours
  ASSERT_EQ(recorder_.kinds,
            (std::vector<std::string>{"order:PartiallyFilled", "execution", "position", "wallet"}));
  const Execution& maker = recorder_.executions[0];
  EXPECT_TRUE(maker.is_maker);
  EXPECT_EQ(maker.exec_qty, qy("0.3"));
  EXPECT_EQ(maker.exec_price, px("99.5"));
  EXPECT_EQ(maker.exec_fee, am("0.00597"));  // 29.85 × 0.0002
  EXPECT_EQ(maker.fee_rate_ppm, 200);
  EXPECT_EQ(venue_.open_orders(account_, "BTCUSDT").at(0).queue_ahead, Qty{});

  // A trade through the price fills the rest at the order's own price.
  venue_.on_trade("BTCUSDT", px("99.4"), qy("2"), Side::sell, now_);
  const OrderState done = venue_.all_orders(account_).at(0);
  EXPECT_EQ(done.status, OrderStatus::filled);
  EXPECT_EQ(done.cum_exec_fee, am("0.0199"));  // 0.00597 + 69.65 × 0.0002
  EXPECT_EQ(done.avg_price, px("99.5"));
  EXPECT_TRUE(venue_.open_orders(account_, "").empty());
  const PositionState position = btc_position();
  EXPECT_EQ(position.size, qy("1"));
  EXPECT_EQ(position.avg_price, px("99.5"));
  EXPECT_EQ(position.unrealised_pnl, am("-0.1"));  // mark 99.4
  EXPECT_EQ(venue_.wallet(account_).wallet_balance, am("9999.9801"));
  EXPECT_EQ(venue_.wallet(account_).total_order_im, Amount{});
}

TEST_F(SimVenueTest, TradeThroughFillsAtMostTheTradeQty) {
  book({lv("99.5", "2")}, {lv("100", "1")});
  ok(venue_.create(account_, limit(Side::sell, "1", "100.5"), now_));
  venue_.on_trade("BTCUSDT", px("100.6"), qy("0.4"), Side::buy, now_);
  const OrderState order = venue_.open_orders(account_, "BTCUSDT").at(0);
  EXPECT_EQ(order.status, OrderStatus::partially_filled);
  EXPECT_EQ(order.cum_exec_qty, qy("0.4"));
  EXPECT_EQ(order.avg_price, px("100.5"));
  EXPECT_EQ(btc_position().side, Side::sell);
}

TEST_F(SimVenueTest, QueueAheadShrinksWithTheBookButNeverGrows) {
  book({lv("99.5", "2"), lv("99.4", "1"), lv("99", "3")}, {lv("100", "1")});
  ok(venue_.create(account_, limit(Side::buy, "1", "99.5"), now_));
  ok(venue_.create(account_, limit(Side::buy, "1", "99.4"), now_));
  ok(venue_.create(account_, limit(Side::buy, "1", "98"), now_));        // below the shown depth
  EXPECT_EQ(venue_.open_orders(account_, "").at(0).queue_ahead, Qty{});  // 98: empty level

  book({lv("99.5", "5"), lv("99", "3")}, {lv("100", "1")});  // 99.5 grew, 99.4 vanished
  auto open = venue_.open_orders(account_, "BTCUSDT");       // newest first
  EXPECT_EQ(open.at(2).queue_ahead, qy("2"));                // never grows
  EXPECT_EQ(open.at(1).queue_ahead, Qty{});  // inside the shown range, no level: empty
  book({lv("99.5", "1.2"), lv("99", "3")}, {lv("100", "1")});
  EXPECT_EQ(venue_.open_orders(account_, "BTCUSDT").at(2).queue_ahead, qy("1.2"));
}

TEST_F(SimVenueTest, BookMovingThroughARestingOrderFillsItAtItsPrice) {
  book({lv("99.5", "2")}, {lv("100", "1")});
  ok(venue_.create(account_, limit(Side::buy, "1", "99.5"), now_));
  recorder_.clear();
  book({lv("99", "2")}, {lv("99.4", "0.4"), lv("99.5", "0.3"), lv("99.6", "5")});
  ASSERT_EQ(recorder_.kinds,
            (std::vector<std::string>{"order:PartiallyFilled", "execution", "position", "wallet"}));
  EXPECT_TRUE(recorder_.executions[0].is_maker);
  EXPECT_EQ(recorder_.executions[0].exec_price, px("99.5"));
  EXPECT_EQ(recorder_.executions[0].exec_qty, qy("0.7"));  // 0.4 + 0.3 reach 99.5
  EXPECT_EQ(btc_position().size, qy("0.7"));
}

TEST_F(SimVenueTest, MarketableLimitTakesThenRestsTheRemainder) {
  book({lv("99.5", "1")}, {lv("100", "0.5"), lv("100.5", "1")});
  recorder_.clear();
  const OrderState order = ok(venue_.create(account_, limit(Side::buy, "1", "100"), now_));
  EXPECT_EQ(order.status, OrderStatus::partially_filled);
  EXPECT_EQ(order.cum_exec_qty, qy("0.5"));
  EXPECT_EQ(order.leaves_qty, qy("0.5"));
  EXPECT_EQ(order.queue_ahead, Qty{});
  EXPECT_EQ(order.price, px("100"));
  EXPECT_EQ(recorder_.kinds,
            (std::vector<std::string>{"order:PartiallyFilled", "execution", "position", "wallet"}));
  EXPECT_FALSE(recorder_.executions[0].is_maker);
  EXPECT_EQ(venue_.open_orders(account_, "BTCUSDT").size(), 1U);
}

TEST_F(SimVenueTest, IocFillsWhatItCanAndCancelsTheRest) {
  book({lv("99.5", "1")}, {lv("100", "0.5"), lv("100.5", "1")});
  const OrderState order =
      ok(venue_.create(account_, limit(Side::buy, "1", "100", TimeInForce::ioc), now_));
  EXPECT_EQ(order.status, OrderStatus::cancelled);
  EXPECT_EQ(order.cum_exec_qty, qy("0.5"));
  EXPECT_EQ(order.leaves_qty, Qty{});
  EXPECT_EQ(order.reject_reason, "EC_NoImmediateQtyToFill");
  EXPECT_TRUE(venue_.open_orders(account_, "").empty());
  EXPECT_EQ(btc_position().size, qy("0.5"));
}

TEST_F(SimVenueTest, FokFillsCompletelyOrNotAtAll) {
  book({lv("99.5", "1")}, {lv("100", "0.5"), lv("100.5", "1")});
  recorder_.clear();
  const OrderState killed =
      ok(venue_.create(account_, limit(Side::buy, "1", "100", TimeInForce::fok), now_));
  EXPECT_EQ(killed.status, OrderStatus::cancelled);
  EXPECT_EQ(killed.cum_exec_qty, Qty{});
  EXPECT_EQ(killed.reject_reason, "EC_CancelForNoFullFill");
  EXPECT_EQ(recorder_.kinds, (std::vector<std::string>{"order:Cancelled", "position", "wallet"}));
  EXPECT_EQ(btc_position().size, Qty{});

  const OrderState filled =
      ok(venue_.create(account_, limit(Side::buy, "1", "100.5", TimeInForce::fok), now_));
  EXPECT_EQ(filled.status, OrderStatus::filled);
  EXPECT_EQ(filled.cum_exec_value, am("100.25"));
}

TEST_F(SimVenueTest, PostOnlyThatWouldCrossIsCreatedThenCancelled) {
  book({lv("99.5", "1")}, {lv("100", "0.5")});
  recorder_.clear();
  const OrderState crossed =
      ok(venue_.create(account_, limit(Side::buy, "1", "100", TimeInForce::post_only), now_));
  EXPECT_EQ(crossed.status, OrderStatus::cancelled);
  EXPECT_EQ(crossed.reject_reason, "EC_PostOnlyWillTakeLiquidity");
  EXPECT_EQ(crossed.cancel_type, "UNKNOWN");
  EXPECT_FALSE(crossed.order_id.empty());
  EXPECT_EQ(recorder_.kinds, (std::vector<std::string>{"order:Cancelled", "position", "wallet"}));
  EXPECT_EQ(venue_.all_orders(account_).size(), 1U);

  const OrderState rests =
      ok(venue_.create(account_, limit(Side::buy, "1", "99.9", TimeInForce::post_only), now_));
  EXPECT_EQ(rests.status, OrderStatus::new_);
  EXPECT_EQ(rests.time_in_force, TimeInForce::post_only);
}

TEST_F(SimVenueTest, ReduceOnlyNeedsAPositionToReduceAndIsCappedToIt) {
  book({lv("100", "5")}, {lv("100.1", "5")});
  NewOrder reduce = market(Side::sell, "2");
  reduce.reduce_only = true;
  VenueError refused = err(venue_.create(account_, reduce, now_));
  EXPECT_EQ(refused.ret_code, 110017);
  EXPECT_EQ(refused.ret_msg, "Reduce-only rule not satisfied");

  ok(venue_.create(account_, market(Side::buy, "1"), now_));  // long 1 @ 100.1
  NewOrder same_side = market(Side::buy, "1");
  same_side.reduce_only = true;
  EXPECT_EQ(err(venue_.create(account_, same_side, now_)).ret_code, 110017);

  const OrderState closing = ok(venue_.create(account_, reduce, now_));
  EXPECT_EQ(closing.qty, qy("1"));  // capped from 2
  EXPECT_EQ(closing.status, OrderStatus::filled);
  EXPECT_TRUE(closing.reduce_only);
  EXPECT_EQ(btc_position().size, Qty{});
  EXPECT_EQ(btc_position().side, Side::none);
}

TEST_F(SimVenueTest, ReduceOnlyRestingOrderIsCancelledWhenThePositionCloses) {
  book({lv("100", "5")}, {lv("100.1", "5")});
  ok(venue_.create(account_, market(Side::buy, "1"), now_));
  NewOrder take_profit = limit(Side::sell, "1", "105");
  take_profit.reduce_only = true;
  ok(venue_.create(account_, take_profit, now_));
  EXPECT_EQ(venue_.wallet(account_).total_order_im, Amount{});  // reduce-only: no order IM
  recorder_.clear();
  ok(venue_.create(account_, market(Side::sell, "1"), now_));
  ASSERT_EQ(recorder_.kinds, (std::vector<std::string>{"order:Filled", "execution", "position",
                                                       "wallet", "order:Cancelled"}));
  EXPECT_EQ(recorder_.orders.back().cancel_type, "CancelByReduceOnly");
  EXPECT_TRUE(venue_.open_orders(account_, "").empty());
}

TEST_F(SimVenueTest, AmendingAReduceOnlyOrderKeepsItWithinThePosition) {
  book({lv("100", "5")}, {lv("100.1", "5")});
  ok(venue_.create(account_, market(Side::buy, "1"), now_));
  NewOrder reduce = limit(Side::sell, "0.5", "105");
  reduce.reduce_only = true;
  const OrderState order = ok(venue_.create(account_, reduce, now_));
  AmendOrder amend;
  amend.symbol = "BTCUSDT";
  amend.order_id = order.order_id;
  amend.qty = qy("3");
  const OrderState amended = ok(venue_.amend(account_, amend, now_));
  EXPECT_EQ(amended.qty, qy("1"));
  EXPECT_EQ(amended.leaves_qty, qy("1"));
}

TEST_F(SimVenueTest, TakeProfitClosesThePositionWithAMarketOrder) {
  book({lv("99.9", "1")}, {lv("100", "1")});
  NewOrder buy = market(Side::buy, "1");
  buy.take_profit = px("102");
  ok(venue_.create(account_, buy, now_));
  EXPECT_EQ(btc_position().take_profit, px("102"));

  book({lv("101.9", "2")}, {lv("102.1", "2")});
  venue_.on_trade("BTCUSDT", px("101.9"), qy("0.1"), Side::sell, now_);  // below TP
  EXPECT_EQ(btc_position().size, qy("1"));
  recorder_.clear();
  venue_.on_trade("BTCUSDT", px("102"), qy("0.1"), Side::buy, now_);
  ASSERT_EQ(recorder_.kinds,
            (std::vector<std::string>{"order:Filled", "execution", "position", "wallet"}));
  const OrderState& tp = recorder_.orders[0];
  EXPECT_EQ(tp.create_type, "CreateByTakeProfit");
  EXPECT_EQ(tp.stop_order_type, "TakeProfit");
  EXPECT_EQ(tp.type, OrderType::market);
  EXPECT_TRUE(tp.reduce_only);
  EXPECT_EQ(tp.side, Side::sell);
  const Execution& exec = recorder_.executions[0];
  EXPECT_EQ(exec.exec_price, px("101.9"));
  EXPECT_EQ(exec.exec_pnl, am("1.9"));
  EXPECT_EQ(exec.closed_size, qy("1"));
  EXPECT_EQ(exec.exec_fee, am("0.056045"));
  EXPECT_EQ(exec.stop_order_type, "TakeProfit");
  EXPECT_EQ(exec.mark_price, px("102"));
  EXPECT_EQ(recorder_.positions[0].size, Qty{});
  EXPECT_FALSE(recorder_.positions[0].take_profit.has_value());
  // 10000 − 0.055 (open) + 1.9 − 0.056045 (close)
  EXPECT_EQ(recorder_.wallets[0].wallet_balance, am("10001.788955"));
  EXPECT_EQ(venue_.wallet(account_).cum_realised_pnl, am("1.788955"));
}

TEST_F(SimVenueTest, TakeProfitWaitsForABookToCloseInto) {
  book({lv("99.9", "1")}, {lv("100", "1")});
  NewOrder buy = market(Side::buy, "1");
  buy.take_profit = px("102");
  ok(venue_.create(account_, buy, now_));
  book({}, {lv("102.5", "1")});  // no bids to sell into
  recorder_.clear();
  venue_.on_trade("BTCUSDT", px("102.2"), qy("0.1"), Side::buy, now_);
  EXPECT_TRUE(recorder_.kinds.empty());
  EXPECT_EQ(venue_.all_orders(account_).size(), 1U);
  EXPECT_EQ(btc_position().take_profit, px("102"));
  book({lv("102.1", "0.4")}, {lv("102.5", "1")});  // only 0.4 to sell into
  venue_.on_trade("BTCUSDT", px("102.2"), qy("0.1"), Side::buy, now_);
  const OrderState tp = venue_.all_orders(account_).at(0);
  EXPECT_EQ(tp.status, OrderStatus::cancelled);
  EXPECT_EQ(tp.cum_exec_qty, qy("0.4"));
  EXPECT_EQ(btc_position().size, qy("0.6"));
  EXPECT_EQ(btc_position().take_profit, px("102"));  // still armed for the rest
}

TEST_F(SimVenueTest, StopLossClosesAShortPosition) {
  book({lv("100", "1")}, {lv("100.1", "1")});
  NewOrder sell = market(Side::sell, "1");
  sell.stop_loss = px("101");
  ok(venue_.create(account_, sell, now_));
  EXPECT_EQ(btc_position().side, Side::sell);
  EXPECT_EQ(btc_position().stop_loss, px("101"));

  book({lv("100.9", "3")}, {lv("101.2", "3")});
  venue_.on_trade("BTCUSDT", px("101"), qy("0.2"), Side::buy, now_);
  const OrderState sl = venue_.all_orders(account_).at(0);
  EXPECT_EQ(sl.create_type, "CreateByStopLoss");
  EXPECT_EQ(sl.status, OrderStatus::filled);
  EXPECT_EQ(sl.avg_price, px("101.2"));
  EXPECT_EQ(btc_position().size, Qty{});
  // P&L 100 − 101.2 = −1.2; fees 0.055 + 0.05566
  EXPECT_EQ(venue_.wallet(account_).wallet_balance, am("9998.68934"));
  EXPECT_EQ(venue_.executions(account_, "BTCUSDT", 1).at(0).exec_pnl, am("-1.2"));
}

TEST_F(SimVenueTest, TakeProfitOnTheWrongSideIsRefused) {
  NewOrder buy = limit(Side::buy, "1", "100");
  buy.take_profit = px("99");
  const VenueError refused = err(venue_.create(account_, buy, now_));
  EXPECT_EQ(refused.ret_code, 10001);
  EXPECT_NE(refused.ret_msg.find("TakeProfit:99 set for Buy position should be higher"),
            std::string::npos)
      << refused.ret_msg;
}

TEST_F(SimVenueTest, RealisedPnlOnCloseAndFlip) {
  book({lv("110", "5")}, {lv("100", "1")});                   // a crossed book is fine for the test
  ok(venue_.create(account_, market(Side::buy, "1"), now_));  // long 1 @ 100, fee 0.055
  recorder_.clear();
  ok(venue_.create(account_, market(Side::sell, "3"), now_));  // closes 1 @ 110, short 2 @ 110
  const Execution& flip = recorder_.executions.at(0);
  EXPECT_EQ(flip.exec_qty, qy("3"));
  EXPECT_EQ(flip.exec_value, am("330"));
  EXPECT_EQ(flip.exec_fee, am("0.1815"));
  EXPECT_EQ(flip.exec_pnl, am("10"));
  EXPECT_EQ(flip.closed_size, qy("1"));
  const PositionState position = btc_position();
  EXPECT_EQ(position.side, Side::sell);
  EXPECT_EQ(position.size, qy("2"));
  EXPECT_EQ(position.avg_price, px("110"));
  EXPECT_EQ(position.position_value, am("220"));
  EXPECT_EQ(position.cur_realised_pnl, am("9.8185"));  // reset when the flip reopened it
  EXPECT_EQ(position.cum_realised_pnl, am("9.7635"));
  EXPECT_EQ(venue_.wallet(account_).wallet_balance, am("10009.7635"));
  // Short 2 @ 110: liq = 110 × (1 + 1/10 − 0.005) = 120.45
  EXPECT_EQ(position.liq_price, px("120.5"));  // 120.45 rounded to the nearest tick
}

TEST_F(SimVenueTest, PartialClosesSumToTheExactRoundTripPnl) {
  book({lv("101", "10")}, {lv("100", "1"), lv("100.1", "2")});
  ok(venue_.create(account_, market(Side::buy, "3"), now_));  // entry value 100 + 200.2
  EXPECT_EQ(btc_position().avg_price, px("100.06666667"));
  ok(venue_.create(account_, market(Side::sell, "1"), now_));
  const Execution first = venue_.executions(account_, "BTCUSDT", 1).at(0);
  EXPECT_EQ(first.exec_pnl, am("0.93333333"));  // 101 − 300.2/3 (rounded to nearest)
  EXPECT_EQ(btc_position().position_value, am("200.13333333"));
  ok(venue_.create(account_, market(Side::sell, "2"), now_));
  const Execution second = venue_.executions(account_, "BTCUSDT", 1).at(0);
  EXPECT_EQ(second.exec_pnl, am("1.86666667"));
  EXPECT_EQ(first.exec_pnl + second.exec_pnl, am("2.8"));  // 303 − 300.2 exactly
}

TEST_F(SimVenueTest, InsufficientBalanceIsRefused) {
  const AccountId poor = venue_.add_account(Amount::from_units(100));
  // 10 × 100 = 1000: IM 100 + fee 0.55 > 100
  VenueError refused = err(venue_.create(poor, limit(Side::buy, "10", "100"), now_));
  EXPECT_EQ(refused.ret_code, 110007);
  EXPECT_EQ(refused.ret_msg, "ab not enough for new order");
  EXPECT_TRUE(venue_.all_orders(poor).empty());
  ok(venue_.create(poor, limit(Side::buy, "9.9", "100"), now_));  // 99 + 0.5445
  EXPECT_EQ(venue_.wallet(poor).available_balance, am("0.4555"));
  EXPECT_EQ(err(venue_.create(poor, limit(Side::buy, "0.1", "100"), now_)).ret_code, 110007);
}

TEST_F(SimVenueTest, OrdersThatCloseThePositionNeedNoMargin) {
  const AccountId small = venue_.add_account(Amount::from_units(20));
  book({lv("99.9", "5")}, {lv("100", "5")});
  ok(venue_.create(small, market(Side::buy, "1"), now_));  // IM 10 of 20
  // A sell of 1 only closes: no order IM, even though 10 × 100 would not fit.
  const OrderState closing = ok(venue_.create(small, limit(Side::sell, "1", "105"), now_));
  EXPECT_EQ(closing.status, OrderStatus::new_);
  EXPECT_EQ(venue_.wallet(small).total_order_im, Amount{});
  // A sell of 2 more would open a short of 2 × 105: IM 21 + 0.1155 > available.
  EXPECT_EQ(err(venue_.create(small, limit(Side::sell, "2", "105"), now_)).ret_code, 110007);
}

TEST_F(SimVenueTest, DuplicateOrderLinkIdIsRefusedEvenAfterCancel) {
  NewOrder first = limit(Side::buy, "1", "90");
  first.order_link_id = "link-1";
  const OrderState order = ok(venue_.create(account_, first, now_));
  EXPECT_EQ(order.order_link_id, "link-1");
  VenueError refused = err(venue_.create(account_, first, now_));
  EXPECT_EQ(refused.ret_code, 110072);
  EXPECT_EQ(refused.ret_msg, "OrderLinkedID is duplicate");
  ok(venue_.cancel(account_, "BTCUSDT", "", "link-1", now_));
  EXPECT_EQ(err(venue_.create(account_, first, now_)).ret_code, 110072);
  // Another account may use the same id.
  const AccountId other = venue_.add_account(Amount::from_units(1000));
  ok(venue_.create(other, first, now_));
}

TEST_F(SimVenueTest, ValidationErrorsUseBybitCodes) {
  NewOrder unknown = limit(Side::buy, "1", "100");
  unknown.symbol = "DOGEUSDT";
  EXPECT_EQ(err(venue_.create(account_, unknown, now_)).ret_code, 10001);
  EXPECT_EQ(err(venue_.create(account_, unknown, now_)).ret_msg, "params error: symbol invalid");
  EXPECT_EQ(err(venue_.create(account_, limit(Side::buy, "0.0005", "100"), now_)).ret_code,
            10001);  // off the step
  EXPECT_EQ(err(venue_.create(account_, limit(Side::buy, "1191", "100"), now_)).ret_code, 10001);
  EXPECT_EQ(err(venue_.create(account_, market(Side::buy, "501"), now_)).ret_code, 10001);
  EXPECT_EQ(err(venue_.create(account_, limit(Side::buy, "1", "100.05"), now_)).ret_code, 10001);
  EXPECT_EQ(err(venue_.create(account_, limit(Side::buy, "1", "200000"), now_)).ret_code, 110003);
  const VenueError small = err(venue_.create(account_, limit(Side::buy, "0.001", "100"), now_));
  EXPECT_EQ(small.ret_code, 110094);
  EXPECT_EQ(small.ret_msg, "The order value is lower than the minimum");
  EXPECT_TRUE(venue_.all_orders(account_).empty());
}

TEST_F(SimVenueTest, TooManyOpenOrders) {
  VenueOptions options;
  options.max_active_orders_per_symbol = 2;
  SimVenue venue({rules_for("BTCUSDT")}, options);
  const AccountId id = venue.add_account(Amount::from_units(10'000));
  ok(venue.create(id, limit(Side::buy, "1", "90"), now_));
  ok(venue.create(id, limit(Side::buy, "1", "91"), now_));
  EXPECT_EQ(err(venue.create(id, limit(Side::buy, "1", "92"), now_)).ret_code, 110020);
}

TEST_F(SimVenueTest, CancelByIdAndByLinkId) {
  NewOrder request = limit(Side::buy, "1", "90");
  request.order_link_id = "c1";
  const OrderState order = ok(venue_.create(account_, request, now_));
  EXPECT_GT(venue_.wallet(account_).total_order_im, Amount{});
  recorder_.clear();
  const OrderState cancelled = ok(venue_.cancel(account_, "BTCUSDT", order.order_id, "", now_ + 5));
  EXPECT_EQ(cancelled.status, OrderStatus::cancelled);
  EXPECT_EQ(cancelled.cancel_type, "CancelByUser");
  EXPECT_EQ(cancelled.updated_ms, now_ + 5);
  EXPECT_EQ(recorder_.kinds, (std::vector<std::string>{"order:Cancelled", "position", "wallet"}));
  EXPECT_EQ(venue_.wallet(account_).total_order_im, Amount{});
  const VenueError gone = err(venue_.cancel(account_, "BTCUSDT", "", "c1", now_));
  EXPECT_EQ(gone.ret_code, 110001);
  EXPECT_EQ(gone.ret_msg, "Order does not exist.");
  EXPECT_EQ(err(venue_.cancel(account_, "BTCUSDT", "nope", "", now_)).ret_code, 110001);
}

TEST_F(SimVenueTest, CancelAllBySymbolThenEverything) {
  ok(venue_.create(account_, limit(Side::buy, "1", "90"), now_));
  ok(venue_.create(account_, limit(Side::sell, "1", "110"), now_));
  NewOrder eth = limit(Side::buy, "1", "50");
  eth.symbol = "ETHUSDT";
  ok(venue_.create(account_, eth, now_));
  recorder_.clear();
  const auto btc = venue_.cancel_all(account_, "BTCUSDT", now_);
  EXPECT_EQ(btc.size(), 2U);
  EXPECT_EQ(recorder_.kinds,
            (std::vector<std::string>{"order:Cancelled", "order:Cancelled", "position", "wallet"}));
  EXPECT_EQ(venue_.open_orders(account_, "").size(), 1U);
  const auto rest = venue_.cancel_all(account_, "", now_);
  ASSERT_EQ(rest.size(), 1U);
  EXPECT_EQ(rest[0].symbol, "ETHUSDT");
  EXPECT_TRUE(venue_.open_orders(account_, "").empty());
  EXPECT_TRUE(venue_.cancel_all(account_, "", now_).empty());
}

TEST_F(SimVenueTest, AmendQtyKeepsQueueAndPriceLosesIt) {
  book({lv("99.5", "2"), lv("99", "3")}, {lv("100", "1")});
  NewOrder request = limit(Side::buy, "1", "99.5");
  request.order_link_id = "a1";
  const OrderState order = ok(venue_.create(account_, request, now_));
  venue_.on_trade("BTCUSDT", px("99.5"), qy("1.5"), Side::sell, now_);  // queue 0.5

  AmendOrder amend;
  amend.symbol = "BTCUSDT";
  amend.order_id = order.order_id;
  amend.qty = qy("2");
  recorder_.clear();
  OrderState amended = ok(venue_.amend(account_, amend, now_));
  EXPECT_EQ(amended.qty, qy("2"));
  EXPECT_EQ(amended.leaves_qty, qy("2"));
  EXPECT_EQ(amended.queue_ahead, qy("0.5"));
  EXPECT_EQ(recorder_.kinds, (std::vector<std::string>{"order:New", "position", "wallet"}));

  AmendOrder reprice;
  reprice.symbol = "BTCUSDT";
  reprice.order_link_id = "a1";
  reprice.price = px("99");
  amended = ok(venue_.amend(account_, reprice, now_));
  EXPECT_EQ(amended.price, px("99"));
  EXPECT_EQ(amended.queue_ahead, qy("3"));  // the back of the 99 level

  EXPECT_EQ(err(venue_.amend(account_, reprice, now_)).ret_code, 10001);  // unchanged
  AmendOrder missing = reprice;
  missing.order_link_id = "zz";
  EXPECT_EQ(err(venue_.amend(account_, missing, now_)).ret_code, 110001);
  AmendOrder off_tick = reprice;
  off_tick.price = px("99.05");
  EXPECT_EQ(err(venue_.amend(account_, off_tick, now_)).ret_code, 10001);
}

TEST_F(SimVenueTest, AmendToACrossingPriceTakes) {
  book({lv("99.5", "2")}, {lv("100", "0.4")});
  const OrderState order = ok(venue_.create(account_, limit(Side::buy, "1", "99"), now_));
  AmendOrder amend;
  amend.symbol = "BTCUSDT";
  amend.order_id = order.order_id;
  amend.price = px("100");
  recorder_.clear();
  const OrderState amended = ok(venue_.amend(account_, amend, now_));
  EXPECT_EQ(amended.status, OrderStatus::partially_filled);
  EXPECT_EQ(amended.cum_exec_qty, qy("0.4"));
  EXPECT_EQ(recorder_.kinds,
            (std::vector<std::string>{"order:PartiallyFilled", "execution", "position", "wallet"}));
  EXPECT_FALSE(recorder_.executions[0].is_maker);
  // The filled part cannot be amended away.
  AmendOrder shrink;
  shrink.symbol = "BTCUSDT";
  shrink.order_id = order.order_id;
  shrink.qty = qy("0.4");
  EXPECT_EQ(err(venue_.amend(account_, shrink, now_)).ret_code, 10001);
}

TEST_F(SimVenueTest, AmendTakeProfitAppliesWhenTheOrderFills) {
  book({lv("99.5", "2")}, {lv("100", "1")});
  const OrderState order = ok(venue_.create(account_, limit(Side::buy, "1", "99.5"), now_));
  AmendOrder amend;
  amend.symbol = "BTCUSDT";
  amend.order_id = order.order_id;
  amend.take_profit = px("105");
  amend.stop_loss = px("95");
  ok(venue_.amend(account_, amend, now_));
  venue_.on_trade("BTCUSDT", px("99.4"), qy("2"), Side::sell, now_);
  EXPECT_EQ(btc_position().take_profit, px("105"));
  EXPECT_EQ(btc_position().stop_loss, px("95"));
  // set_trading_stop removes with 0.
  EXPECT_FALSE(venue_.set_trading_stop(account_, "BTCUSDT", px("0"), std::nullopt, now_));
  EXPECT_FALSE(btc_position().take_profit.has_value());
  EXPECT_EQ(btc_position().stop_loss, px("95"));
}

TEST_F(SimVenueTest, SetLeverage) {
  EXPECT_EQ(venue_.set_leverage(account_, "BTCUSDT", am("10"), now_)->ret_code, 110043);
  EXPECT_EQ(venue_.set_leverage(account_, "BTCUSDT", am("10"), now_)->ret_msg,
            "Set leverage has not been modified.");
  EXPECT_EQ(venue_.set_leverage(account_, "BTCUSDT", am("0.5"), now_)->ret_code, 10001);
  EXPECT_EQ(venue_.set_leverage(account_, "BTCUSDT", am("100.5"), now_)->ret_code, 10001);
  EXPECT_EQ(venue_.set_leverage(account_, "BTCUSDT", am("10.005"), now_)->ret_code, 10001);
  EXPECT_EQ(venue_.set_leverage(account_, "XUSDT", am("5"), now_)->ret_code, 10001);

  book({lv("99.5", "1")}, {lv("100", "0.5"), lv("100.5", "1")});
  ok(venue_.create(account_, market(Side::buy, "1"), now_));
  EXPECT_EQ(btc_position().position_im, am("10.025"));
  recorder_.clear();
  EXPECT_FALSE(venue_.set_leverage(account_, "BTCUSDT", am("20"), now_).has_value());
  EXPECT_EQ(recorder_.kinds, (std::vector<std::string>{"position", "wallet"}));
  EXPECT_EQ(btc_position().leverage, am("20"));
  EXPECT_EQ(btc_position().position_im, am("5.0125"));
  EXPECT_EQ(venue_.positions(account_, "ETHUSDT").at(0).leverage, am("10"));  // per symbol
}

TEST_F(SimVenueTest, DefaultLeverageStaysInsideTheFilter) {
  auto rules = rules_for("BTCUSDT");
  rules.max_leverage = am("5");
  SimVenue venue({rules}, VenueOptions{});
  const AccountId id = venue.add_account(Amount::from_units(1000));
  EXPECT_EQ(venue.positions(id, "BTCUSDT").at(0).leverage, am("5"));
  EXPECT_EQ(venue.set_leverage(id, "BTCUSDT", am("5"), now_)->ret_code, 110043);
}

TEST_F(SimVenueTest, LoweringLeverageNeedsMargin) {
  const AccountId small = venue_.add_account(Amount::from_units(20));
  book({lv("99.9", "5")}, {lv("100", "5")});
  ok(venue_.create(small, market(Side::buy, "1"), now_));                     // IM 10
  const auto refused = venue_.set_leverage(small, "BTCUSDT", am("2"), now_);  // IM 50 > 20
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->ret_code, 110044);
  EXPECT_EQ(venue_.positions(small, "BTCUSDT").at(0).leverage, am("10"));
}

TEST_F(SimVenueTest, FlatPositionRowAndQueries) {
  const auto rows = venue_.positions(account_, "BTCUSDT");
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].side, Side::none);
  EXPECT_EQ(rows[0].size, Qty{});
  EXPECT_EQ(rows[0].leverage, am("10"));
  EXPECT_TRUE(venue_.positions(account_, "").empty());
  EXPECT_TRUE(venue_.positions(account_, "NOPE").empty());
  EXPECT_EQ(venue_.account_count(), 1U);

  book({lv("99.5", "10")}, {lv("100", "10")});
  ok(venue_.create(account_, market(Side::buy, "0.1"), now_));
  ok(venue_.create(account_, market(Side::buy, "0.2"), now_));
  const auto latest = venue_.executions(account_, "BTCUSDT", 1);
  ASSERT_EQ(latest.size(), 1U);
  EXPECT_EQ(latest[0].exec_qty, qy("0.2"));  // newest first
  EXPECT_EQ(venue_.executions(account_, "", 10).size(), 2U);
  EXPECT_EQ(venue_.executions(account_, "ETHUSDT", 10).size(), 0U);
  EXPECT_EQ(venue_.positions(account_, "").size(), 1U);
}

TEST_F(SimVenueTest, IdsAreUuidShapedAndDeterministic) {
  auto run = [this](std::uint64_t seed) {
    VenueOptions options;
    options.seed = seed;
    SimVenue venue({rules_for("BTCUSDT")}, options);
    const AccountId id = venue.add_account(Amount::from_units(10'000));
    const std::vector<feed::BookLevel> bids{lv("99.5", "1")};
    const std::vector<feed::BookLevel> asks{lv("100", "0.5"), lv("100.5", "1")};
    venue.on_book("BTCUSDT", bids, asks, now_);
    std::vector<std::string> ids;
    ids.push_back(ok(venue.create(id, limit(Side::buy, "1", "90"), now_)).order_id);
    ids.push_back(ok(venue.create(id, market(Side::buy, "1"), now_)).order_id);
    for (const Execution& execution : venue.executions(id, "", 10))
      ids.push_back(execution.exec_id);
    return ids;
  };
  const auto first = run(7);
  const auto again = run(7);
  const auto other = run(8);
  ASSERT_EQ(first.size(), 4U);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  for (const std::string& id : first)
    EXPECT_TRUE(uuid_shaped(id)) << id;
  EXPECT_NE(first[0], first[1]);
  EXPECT_NE(first[2], first[3]);
}

TEST_F(SimVenueTest, AccountsDoNotSeeEachOther) {
  const AccountId other = venue_.add_account(Amount::from_units(5000));
  EXPECT_EQ(other, 2U);
  book({lv("99.5", "2")}, {lv("100", "1")});
  ok(venue_.create(account_, limit(Side::buy, "1", "99.5"), now_));
  ok(venue_.create(other, limit(Side::buy, "1", "99.5"), now_));
  venue_.on_trade("BTCUSDT", px("99.4"), qy("1"), Side::sell, now_);
  EXPECT_EQ(venue_.positions(account_, "BTCUSDT").at(0).size, qy("1"));
  EXPECT_EQ(venue_.positions(other, "BTCUSDT").at(0).size, qy("1"));
  EXPECT_EQ(venue_.wallet(other).wallet_balance, am("4999.9801"));
}

TEST(SimVenueNames, BybitStrings) {
  EXPECT_EQ(to_bybit(OrderType::market), "Market");
  EXPECT_EQ(to_bybit(OrderType::limit), "Limit");
  EXPECT_EQ(to_bybit(TimeInForce::post_only), "PostOnly");
  EXPECT_EQ(to_bybit(TimeInForce::fok), "FOK");
  EXPECT_EQ(to_bybit(OrderStatus::partially_filled), "PartiallyFilled");
  EXPECT_EQ(to_bybit(OrderStatus::cancelled), "Cancelled");
  EXPECT_EQ(to_bybit(Side::sell), "Sell");
  EXPECT_EQ(to_bybit(Side::none), "");
}

}  // namespace
}  // namespace kinetic::exec::sim
