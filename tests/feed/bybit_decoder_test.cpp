#include "kinetic/feed/bybit_decoder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/feed/ws_capture.hpp"

namespace kinetic::feed {
namespace {

constexpr std::int64_t kMs = 1'000'000;

/// A message copied into a buffer followed by 64 padding bytes of `fill`.
class Padded {
 public:
  explicit Padded(std::string_view text, char fill = '\0')
      : bytes_(text.size() + BybitDecoder::kMessagePadding, fill), size_(text.size()) {
    std::memcpy(bytes_.data(), text.data(), text.size());
  }
  [[nodiscard]] std::string_view view() const { return {bytes_.data(), size_}; }

 private:
  std::vector<char> bytes_;
  std::size_t size_;
};

Price price(std::string_view text) {
  return Price::parse(text).value();
}
Qty qty(std::string_view text) {
  return Qty::parse(text).value();
}

class BybitDecoderTest : public ::testing::Test {
 protected:
  DecodeResult decode(std::string_view text, TimestampNs recv_ts = 7) {
    const Padded padded(text);
    return decoder.decode(padded.view(), recv_ts, events);
  }

  SymbolTable symbols{16};
  BybitDecoder decoder{symbols};
  std::array<MarketEvent, 64> events{};
};

// ---------------------------------------------------------------------------------------
// publicTrade

TEST_F(BybitDecoderTest, DecodesOneTradeExactly) {
  const auto r =
      decode(R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1735689600123,)"
             R"("data":[{"T":1735689600120,"s":"BTCUSDT","S":"Sell","v":"0.015","p":"93512.40",)"
             R"("L":"MinusTick","i":"7c1e6a2b-3f4d-5e6f-8a9b-0c1d2e3f4a5b","BT":false,"RPI":false,)"
             R"("seq":412345678901}]})",
             42);
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(r.events, 1u);
  const MarketEvent& e = events[0];
  EXPECT_EQ(e.type, MarketEventType::trade);
  EXPECT_EQ(e.recv_ts, 42);
  EXPECT_EQ(e.exch_ts, 1'735'689'600'120'000'000);
  EXPECT_EQ(symbols.name(e.symbol), "BTCUSDT");
  EXPECT_EQ(e.side, Side::sell);
  EXPECT_EQ(e.trade.price.raw(), 9'351'240'000'000);  // 93512.40 * 1e8
  EXPECT_EQ(e.trade.qty.raw(), 1'500'000);            // 0.015 * 1e8
  EXPECT_EQ(e.trade.trade_id, text_id_hash("7c1e6a2b-3f4d-5e6f-8a9b-0c1d2e3f4a5b"));
  EXPECT_EQ(e.trade.sequence, 412'345'678'901u);
  EXPECT_EQ(e.flags, kFlagBeginOfBatch | kFlagEndOfBatch);
  EXPECT_EQ(e.aux, 0);
  EXPECT_EQ(decoder.stats().events, 1u);
  EXPECT_EQ(decoder.stats().data_messages, 1u);
}

TEST_F(BybitDecoderTest, TradeBatchWithShuffledKeysAndUnknownFields) {
  // Spot shape: numeric ids, ts before type, data before topic; extra unknown fields.
  const auto r = decode(
      R"({"data":[{"i":"2280000001739247417","T":1786310821917,"p":"1923.28","v":"0.04537",)"
      R"("S":"Sell","seq":178477362706,"s":"ETHUSDT","BT":false,"RPI":false,"zz":{"x":[1]}},)"
      R"({"s":"ETHUSDT","S":"Buy","p":"1923.3","v":"1","T":1786310821918,"i":"12"},)"
      R"({"seq":5,"S":"Buy","T":1,"s":"SOLUSDT","p":"0.00000001","v":"100000","i":"18446744073709551616"}],)"
      R"("extra":null,"ts":1786310821917,"type":"snapshot","topic":"publicTrade.ETHUSDT"})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(r.events, 3u);
  EXPECT_EQ(events[0].trade.trade_id, 2'280'000'001'739'247'417u);
  EXPECT_EQ(events[0].trade.price.raw(), 192'328'000'000);
  EXPECT_EQ(events[0].trade.qty.raw(), 4'537'000);
  EXPECT_EQ(events[0].side, Side::sell);
  EXPECT_EQ(events[0].trade.sequence, 178'477'362'706u);
  EXPECT_EQ(events[0].flags, kFlagBeginOfBatch);
  EXPECT_EQ(events[1].side, Side::buy);
  EXPECT_EQ(events[1].trade.trade_id, 12u);
  EXPECT_EQ(events[1].trade.sequence, 0u);  // seq absent
  EXPECT_EQ(events[1].exch_ts, 1'786'310'821'918'000'000);
  EXPECT_EQ(events[1].flags, 0);
  EXPECT_EQ(symbols.name(events[2].symbol), "SOLUSDT");
  EXPECT_EQ(events[2].trade.price.raw(), 1);
  EXPECT_EQ(events[2].trade.qty.raw(), 10'000'000'000'000);
  // 2^64 does not fit: hashed.
  EXPECT_EQ(events[2].trade.trade_id, text_id_hash("18446744073709551616"));
  EXPECT_EQ(events[2].flags, kFlagEndOfBatch);
  EXPECT_NE(events[0].symbol, events[2].symbol);
}

TEST_F(BybitDecoderTest, EmptyTradeBatchIsIgnored) {
  const auto r = decode(R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[]})");
  EXPECT_EQ(r.status, DecodeStatus::ignored);
  EXPECT_EQ(r.events, 0u);
  EXPECT_EQ(decoder.stats().ignored, 1u);
}

// ---------------------------------------------------------------------------------------
// orderbook

TEST_F(BybitDecoderTest, BookSnapshotExact) {
  const auto r =
      decode(R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1735689600210,)"
             R"("data":{"s":"BTCUSDT","b":[["93510.10","1.204"],["93510.00","0.350"]],)"
             R"("a":[["93510.20","0.882"],["93510.50","2.010"]],"u":5123401,"seq":412345679000},)"
             R"("cts":1735689600205})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(r.events, 4u);
  const Side sides[] = {Side::buy, Side::buy, Side::sell, Side::sell};
  const std::int64_t prices[] = {9'351'010'000'000, 9'351'000'000'000, 9'351'020'000'000,
                                 9'351'050'000'000};
  const std::int64_t sizes[] = {120'400'000, 35'000'000, 88'200'000, 201'000'000};
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i].type, MarketEventType::book_level);
    EXPECT_EQ(events[i].side, sides[i]);
    EXPECT_EQ(events[i].level.price.raw(), prices[i]);
    EXPECT_EQ(events[i].level.qty.raw(), sizes[i]);
    EXPECT_EQ(events[i].level.update_id, 5'123'401u);
    EXPECT_EQ(events[i].level.sequence, 412'345'679'000u);
    EXPECT_EQ(events[i].exch_ts, 1'735'689'600'205'000'000);  // cts, not ts
    EXPECT_EQ(events[i].aux, 50);
    EXPECT_EQ(symbols.name(events[i].symbol), "BTCUSDT");
  }
  EXPECT_EQ(events[0].flags, kFlagSnapshot | kFlagBeginOfBatch);
  EXPECT_EQ(events[1].flags, kFlagSnapshot);
  EXPECT_EQ(events[3].flags, kFlagSnapshot | kFlagEndOfBatch);
}

TEST_F(BybitDecoderTest, BookDeltaAsksFirstOnWireStillBidsFirst) {
  // No cts: exch_ts falls back to ts. "a" before "b", u/seq before the levels.
  const auto r =
      decode(R"({"ts":1000,"data":{"u":9,"seq":77,"a":[["10.5","0"]],"s":"X",)"
             R"("b":[["10.1","2"],["10.0","0"]]},"type":"delta","topic":"orderbook.1000.XUSDT"})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(r.events, 3u);
  EXPECT_EQ(events[0].side, Side::buy);
  EXPECT_EQ(events[0].level.price.raw(), 1'010'000'000);
  EXPECT_EQ(events[0].level.qty.raw(), 200'000'000);
  EXPECT_EQ(events[1].side, Side::buy);
  EXPECT_EQ(events[1].level.price.raw(), 1'000'000'000);
  EXPECT_EQ(events[1].level.qty.raw(), 0);  // delete
  EXPECT_EQ(events[2].side, Side::sell);
  EXPECT_EQ(events[2].level.price.raw(), 1'050'000'000);
  EXPECT_EQ(events[0].flags, kFlagBeginOfBatch);
  EXPECT_EQ(events[1].flags, 0);
  EXPECT_EQ(events[2].flags, kFlagEndOfBatch);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(events[i].exch_ts, 1000 * kMs);
    EXPECT_EQ(events[i].level.update_id, 9u);
    EXPECT_EQ(events[i].level.sequence, 77u);
    EXPECT_EQ(events[i].aux, 1000);
  }
}

TEST_F(BybitDecoderTest, BookWithoutLevelsGivesOneMarkerEvent) {
  const auto r = decode(R"({"topic":"orderbook.1.BTCUSDT","type":"snapshot","ts":5,"cts":4,)"
                        R"("data":{"s":"BTCUSDT","b":[],"a":[],"u":1,"seq":3}})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(events[0].side, Side::none);
  EXPECT_EQ(events[0].level.price.raw(), 0);
  EXPECT_EQ(events[0].level.qty.raw(), 0);
  EXPECT_EQ(events[0].level.update_id, 1u);
  EXPECT_EQ(events[0].level.sequence, 3u);
  EXPECT_EQ(events[0].exch_ts, 4 * kMs);
  EXPECT_EQ(events[0].aux, 1);
  EXPECT_EQ(events[0].flags, kFlagSnapshot | kFlagBeginOfBatch | kFlagEndOfBatch);
}

TEST_F(BybitDecoderTest, BookDepthNotInTheListIsUnknownTopic) {
  const auto r = decode(R"({"topic":"orderbook.7.BTCUSDT","type":"delta","ts":5,)"
                        R"("data":{"b":[],"a":[],"u":2}})");
  EXPECT_EQ(r.status, DecodeStatus::unknown_topic);
  EXPECT_EQ(decoder.stats().unknown_topics, 1u);
}

// ---------------------------------------------------------------------------------------
// tickers

TEST_F(BybitDecoderTest, TickerSnapshotThenTwoDeltasMerged) {
  auto r = decode(
      R"({"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT",)"
      R"("tickDirection":"ZeroPlusTick","lastPrice":"65114.30","markPrice":"65117.44",)"
      R"("bid1Price":"65114.20","bid1Size":"5.954","ask1Price":"65114.30","ask1Size":"10.470"},)"
      R"("cs":753843907770,"ts":1786310817800})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(r.events, 1u);
  EXPECT_EQ(events[0].type, MarketEventType::ticker);
  EXPECT_EQ(events[0].exch_ts, 1'786'310'817'800 * kMs);
  EXPECT_EQ(events[0].ticker.last, price("65114.30"));
  EXPECT_EQ(events[0].ticker.bid_qty, qty("5.954"));
  EXPECT_EQ(events[0].flags, kFlagBeginOfBatch | kFlagEndOfBatch);

  // Delta 1: only the bid side changes.
  r = decode(R"({"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT",)"
             R"("bid1Price":"65114.10","bid1Size":"6.054"},"cs":1,"ts":1786310817900})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  EXPECT_EQ(events[0].ticker.last.raw(), 6'511'430'000'000);
  EXPECT_EQ(events[0].ticker.bid.raw(), 6'511'410'000'000);
  EXPECT_EQ(events[0].ticker.bid_qty.raw(), 605'400'000);
  EXPECT_EQ(events[0].ticker.ask.raw(), 6'511'430'000'000);
  EXPECT_EQ(events[0].ticker.ask_qty.raw(), 1'047'000'000);

  // Delta 2: last and ask size change; key order shuffled.
  r = decode(R"({"ts":1786310818000,"data":{"ask1Size":"0.5","lastPrice":"65114.10"},)"
             R"("type":"delta","topic":"tickers.BTCUSDT"})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  EXPECT_EQ(events[0].exch_ts, 1'786'310'818'000 * kMs);
  EXPECT_EQ(events[0].ticker.last.raw(), 6'511'410'000'000);
  EXPECT_EQ(events[0].ticker.bid.raw(), 6'511'410'000'000);
  EXPECT_EQ(events[0].ticker.bid_qty.raw(), 605'400'000);
  EXPECT_EQ(events[0].ticker.ask.raw(), 6'511'430'000'000);
  EXPECT_EQ(events[0].ticker.ask_qty.raw(), 50'000'000);
}

TEST_F(BybitDecoderTest, SpotTickerHasOnlyLastPrice) {
  const auto r =
      decode(R"({"topic":"tickers.ETHUSDT","ts":1786310819126,"type":"snapshot","cs":112488546160,)"
             R"("data":{"symbol":"ETHUSDT","lastPrice":"1923.5","highPrice24h":"1950",)"
             R"("usdIndexPrice":"1922.459221"}})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  EXPECT_EQ(events[0].ticker.last.raw(), 192'350'000'000);
  EXPECT_EQ(events[0].ticker.bid.raw(), 0);
  EXPECT_EQ(events[0].ticker.bid_qty.raw(), 0);
  EXPECT_EQ(events[0].ticker.ask.raw(), 0);
  EXPECT_EQ(events[0].ticker.ask_qty.raw(), 0);
}

TEST_F(BybitDecoderTest, MalformedTickerDeltaLeavesStateUntouched) {
  ASSERT_EQ(
      decode(R"({"topic":"tickers.A","type":"snapshot","ts":1,"data":{"lastPrice":"2"}})").status,
      DecodeStatus::data);
  EXPECT_EQ(decode(R"({"topic":"tickers.A","type":"delta","ts":2,)"
                   R"("data":{"lastPrice":"3","bid1Price":"1.2.3"}})")
                .status,
            DecodeStatus::malformed);
  const auto r = decode(R"({"topic":"tickers.A","type":"delta","ts":3,"data":{}})");
  ASSERT_EQ(r.status, DecodeStatus::data);
  EXPECT_EQ(events[0].ticker.last.raw(), 200'000'000);  // not 3
}

// ---------------------------------------------------------------------------------------
// kline

TEST_F(BybitDecoderTest, KlineExact) {
  const auto r = decode(
      R"({"topic":"kline.1.BTCUSDT","type":"snapshot","ts":1735689659990,)"
      R"("data":[{"start":1735689600000,"end":1735689659999,"interval":"1","open":"93500.0",)"
      R"("close":"93510.2","high":"93530.0","low":"93488.1","volume":"12.345",)"
      R"("turnover":"1154321.77","confirm":false,"timestamp":1735689659985}]})");
  ASSERT_EQ(r.status, DecodeStatus::data) << to_string(r.error);
  ASSERT_EQ(r.events, 1u);
  const MarketEvent& e = events[0];
  EXPECT_EQ(e.type, MarketEventType::kline);
  EXPECT_EQ(e.exch_ts, 1'735'689'600'000 * kMs);
  EXPECT_EQ(e.aux, 1);
  EXPECT_EQ(e.kline.open.raw(), 9'350'000'000'000);
  EXPECT_EQ(e.kline.high.raw(), 9'353'000'000'000);
  EXPECT_EQ(e.kline.low.raw(), 9'348'810'000'000);
  EXPECT_EQ(e.kline.close.raw(), 9'351'020'000'000);
  EXPECT_EQ(e.kline.volume.raw(), 1'234'500'000);
  EXPECT_EQ(e.flags, kFlagBeginOfBatch | kFlagEndOfBatch);  // not confirmed
}

TEST_F(BybitDecoderTest, KlineIntervalsInMinutesAndConfirmFlag) {
  const std::pair<std::string_view, std::uint16_t> cases[] = {
      {"D", 1440}, {"W", 10080}, {"M", 43200}, {"720", 720}, {"15", 15}};
  for (const auto& [interval, minutes] : cases) {
    const std::string text = std::string(R"({"type":"snapshot","ts":1,"topic":"kline.)") +
                             std::string(interval) +
                             R"(.SOLUSDT","data":[{"confirm":true,"volume":"1","low":"1",)"
                             R"("high":"2","close":"1.5","open":"1","start":60000}]})";
    const auto r = decode(text);
    ASSERT_EQ(r.status, DecodeStatus::data) << interval << " " << to_string(r.error);
    EXPECT_EQ(events[0].aux, minutes);
    EXPECT_EQ(events[0].exch_ts, 60'000 * kMs);
    EXPECT_EQ(events[0].flags, kFlagConfirmed | kFlagBeginOfBatch | kFlagEndOfBatch);
  }
  EXPECT_EQ(decode(R"({"topic":"kline.2.SOLUSDT","type":"snapshot","ts":1,"data":[]})").status,
            DecodeStatus::unknown_topic);
}

// ---------------------------------------------------------------------------------------
// control replies (bybit-v5.md §1.3)

struct ControlCase {
  const char* text;
  ControlKind kind;
  bool success;
  std::string_view req_id;
  std::string_view ret_msg;
  std::uint32_t fail_topics;
};

TEST_F(BybitDecoderTest, EveryControlReplyShape) {
  const ControlCase cases[] = {
      // pongs: spot, linear, option, private
      {R"({"success":true,"ret_msg":"pong","conn_id":"abc","op":"ping"})", ControlKind::pong, true,
       "", "pong", 0},
      {R"({"success":true,"ret_msg":"pong","conn_id":"abc","req_id":"100001","op":"ping"})",
       ControlKind::pong, true, "100001", "pong", 0},
      {R"({"args":["1672916271846"],"op":"pong"})", ControlKind::pong, true, "", "", 0},
      {R"({"req_id":"test","op":"pong","args":["1672916271846"],"conn_id":"x"})", ControlKind::pong,
       true, "test", "", 0},
      // subscribe acks: spot, linear (real capture), option/spread COMMAND_RESP, private
      {R"({"success":true,"ret_msg":"subscribe","conn_id":"c","req_id":"10001","op":"subscribe"})",
       ControlKind::subscribed, true, "10001", "subscribe", 0},
      {R"({"success":true,"ret_msg":"","conn_id":"d8bu1olkndm7crnfs1e0-j6akw","req_id":"","op":"subscribe"})",
       ControlKind::subscribed, true, "", "", 0},
      {R"({"success":true,"conn_id":"c","data":{"failTopics":[],"successTopics":["publicTrade.BTC"]},"type":"COMMAND_RESP"})",
       ControlKind::subscribed, true, "", "", 0},
      {R"({"data":{"successTopics":[],"failTopics":["x.1","y.2"]},"type":"COMMAND_RESP","success":true})",
       ControlKind::subscribe_failed, true, "", "", 2},
      {R"({"success":true,"ret_msg":"","op":"subscribe","conn_id":"c"})", ControlKind::subscribed,
       true, "", "", 0},
      // failure
      {R"({"success":false,"ret_msg":"Invalid topic: [orderbook.9.BTCUSDT]","conn_id":"c","req_id":"sub-1","op":"subscribe"})",
       ControlKind::subscribe_failed, false, "sub-1", "Invalid topic: [orderbook.9.BTCUSDT]", 0},
      // unsubscribe, auth
      {R"({"op":"unsubscribe","success":true,"ret_msg":"","req_id":"u1"})",
       ControlKind::unsubscribed, true, "u1", "", 0},
      {R"({"success":true,"ret_msg":"","op":"auth","conn_id":"c"})", ControlKind::other, true, "",
       "", 0},
  };
  std::uint64_t n = 0;
  for (const ControlCase& c : cases) {
    SCOPED_TRACE(c.text);
    const auto r = decode(c.text);
    ASSERT_EQ(r.status, DecodeStatus::control) << to_string(r.error);
    EXPECT_EQ(r.events, 0u);
    EXPECT_EQ(r.control.kind, c.kind) << to_string(r.control.kind);
    EXPECT_EQ(r.control.success, c.success);
    EXPECT_EQ(r.control.req_id(), c.req_id);
    EXPECT_EQ(r.control.ret_msg(), c.ret_msg);
    EXPECT_EQ(r.control.fail_topics, c.fail_topics);
    EXPECT_FALSE(r.control.truncated);
    ++n;
  }
  EXPECT_EQ(decoder.stats().control, n);
}

TEST_F(BybitDecoderTest, LongControlTextIsCut) {
  const std::string long_msg(300, 'x');
  const auto r = decode(R"({"op":"subscribe","success":false,"ret_msg":")" + long_msg + R"("})");
  ASSERT_EQ(r.status, DecodeStatus::control);
  EXPECT_TRUE(r.control.truncated);
  EXPECT_EQ(r.control.ret_msg(), std::string(ControlReply::kMaxRetMsg, 'x'));
}

// ---------------------------------------------------------------------------------------
// malformed input

TEST_F(BybitDecoderTest, MalformedMessagesAreCountedAndTheNextGoodOneDecodes) {
  const std::string_view good =
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":2,"s":"BTCUSDT",)"
      R"("S":"Buy","v":"1","p":"100","i":"9","seq":3}]})";
  const std::pair<std::string_view, DecodeError> bad[] = {
      {R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":2,"s":"BTC)",
       DecodeError::json},  // truncated
      {R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot"})", DecodeError::missing_field},
      {R"({"topic":"orderbook.50.BTCUSDT","ts":1,"type":"delta","data":{"b":[],"a":[]}})",
       DecodeError::missing_field},  // no u
      {R"({"topic":"publicTrade.BTCUSDT","data":[{"T":"2","s":"B","S":"Buy","v":"1","p":"1","i":"1"}]})",
       DecodeError::wrong_type},  // T as a string
      {R"({"topic":"publicTrade.BTCUSDT","data":[{"T":2,"s":"B","S":"Buy","v":1,"p":"1","i":"1"}]})",
       DecodeError::wrong_type},  // v as a number
      {R"({"topic":"publicTrade.BTCUSDT","data":{}})", DecodeError::wrong_type},
      {R"({"topic":"publicTrade.BTCUSDT","data":[{"T":2,"s":"B","S":"Buy","v":"1","p":"1.2.3","i":"1"}]})",
       DecodeError::bad_decimal},
      {R"({"topic":"orderbook.1.B","ts":1,"type":"snapshot","data":{"b":[["1.123456789","1"]],"a":[],"u":1}})",
       DecodeError::bad_decimal},  // 9 decimals
      {R"({"topic":"publicTrade.BTCUSDT","data":[{"T":2,"s":"B","S":"Up","v":"1","p":"1","i":"1"}]})",
       DecodeError::bad_value},
      {R"({"topic":"publicTrade.BTCUSDT","data":[{"T":2,"s":"B","S":"Buy","v":"1","p":"1"}]})",
       DecodeError::missing_field},  // no i
      {R"({"topic":"","type":"snapshot","ts":1,"data":[]})", DecodeError::bad_topic},
      {R"({"topic":"tickers.","type":"snapshot","ts":1,"data":{}})", DecodeError::bad_topic},
      {R"({"type":"snapshot","ts":1,"data":[]})", DecodeError::missing_field},  // no topic
      {R"({"topic":"orderbook.1.B","ts":1,"type":"snapshot","data":{"b":[["1"]],"a":[],"u":1}})",
       DecodeError::missing_field},  // level without size
      {R"({"topic":"orderbook.1.B","ts":1,"type":"snapshot","data":{"b":[["1","2","3"]],"a":[],"u":1}})",
       DecodeError::bad_value},
      {R"({"topic":"orderbook.1.B","ts":1,"type":"full","data":{"b":[],"a":[],"u":1}})",
       DecodeError::bad_value},
      {R"({"topic":"tickers.A","type":"delta","data":{}})", DecodeError::missing_field},  // no ts
      {R"({"topic":"publicTrade.A","data":[]} trailing)", DecodeError::json},
      {R"([1,2,3])", DecodeError::json},
      {"", DecodeError::json},
      {"   ", DecodeError::json},
      {"{\"topic\":\"public\x01Trade.A\",\"data\":[]}", DecodeError::json},
  };
  std::uint64_t expected_malformed = 0;
  for (const auto& [text, error] : bad) {
    SCOPED_TRACE(text);
    const auto r = decode(text);
    EXPECT_EQ(r.status, DecodeStatus::malformed);
    EXPECT_EQ(r.error, error) << to_string(r.error);
    EXPECT_EQ(r.events, 0u);
    ++expected_malformed;
    EXPECT_EQ(decoder.stats().malformed, expected_malformed);
    const auto next = decode(good);
    ASSERT_EQ(next.status, DecodeStatus::data) << to_string(next.error);
    EXPECT_EQ(events[0].trade.price.raw(), 10'000'000'000);
  }
}

TEST_F(BybitDecoderTest, TooLargeMessageIsRefusedWithoutAllocating) {
  SymbolTable table(4);
  BybitDecoderConfig config;
  config.max_message_bytes = 128;
  BybitDecoder small(table, config);
  const Padded big(R"({"topic":"publicTrade.A","data":[)" + std::string(200, ' ') + "]}");
  std::array<MarketEvent, 4> out{};
  DecodeResult r{};
  const auto allocations = test::count_allocations([&] { r = small.decode(big.view(), 0, out); });
  EXPECT_EQ(r.status, DecodeStatus::malformed);
  EXPECT_EQ(r.error, DecodeError::too_large);
  EXPECT_EQ(allocations, 0u);
}

TEST_F(BybitDecoderTest, FullSymbolTableIsMalformed) {
  SymbolTable table(1);
  BybitDecoder d(table);
  std::array<MarketEvent, 4> out{};
  const Padded a(R"({"topic":"tickers.A","type":"snapshot","ts":1,"data":{}})");
  const Padded b(R"({"topic":"tickers.B","type":"snapshot","ts":1,"data":{}})");
  EXPECT_EQ(d.decode(a.view(), 0, out).status, DecodeStatus::data);
  const auto r = d.decode(b.view(), 0, out);
  EXPECT_EQ(r.status, DecodeStatus::malformed);
  EXPECT_EQ(r.error, DecodeError::symbol_table_full);
}

TEST_F(BybitDecoderTest, UnknownTopicIsCounted) {
  const auto r = decode(R"({"topic":"liquidation.BTCUSDT","type":"snapshot","ts":1,"data":{}})");
  EXPECT_EQ(r.status, DecodeStatus::unknown_topic);
  EXPECT_EQ(decoder.stats().unknown_topics, 1u);
}

TEST_F(BybitDecoderTest, OverflowWhenOutIsTooSmall) {
  const Padded book(R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,)"
                    R"("data":{"b":[["1","1"],["2","1"]],"a":[["3","1"]],"u":2}})");
  std::array<MarketEvent, 2> two{};
  auto r = decoder.decode(book.view(), 0, two);
  EXPECT_EQ(r.status, DecodeStatus::overflow);
  EXPECT_EQ(r.events, 0u);
  EXPECT_EQ(decoder.stats().overflows, 1u);
  std::array<MarketEvent, 3> three{};
  r = decoder.decode(book.view(), 0, three);
  EXPECT_EQ(r.status, DecodeStatus::data);
  EXPECT_EQ(r.events, 3u);
  // Even a ticker needs one slot.
  const Padded ticker(R"({"topic":"tickers.A","type":"snapshot","ts":1,"data":{}})");
  EXPECT_EQ(decoder.decode(ticker.view(), 0, std::span<MarketEvent>{}).status,
            DecodeStatus::overflow);
}

// The padding after a message may hold anything (the next frame): same result whatever it is.
TEST_F(BybitDecoderTest, PaddingContentDoesNotMatter) {
  const std::string_view texts[] = {
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":2,"s":"BTCUSDT","S":"Buy","v":"1","p":"100","i":"9","seq":3}]})",
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":2,"s":"BTC)",
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":2)",
      R"({"topic":"tickers.A","type":"snapshot","ts":1,"data":{"lastPrice":"12)",
      R"({"topic":"tickers.A","type":"snapshot","ts":12)",
      R"({"op":"pong"})",
      R"({"op":"pong")",
      "1",
      "\"",
  };
  const char fills[] = {'\0', '"', '1', '}', ']', ' ', '\\'};
  for (const std::string_view text : texts) {
    SCOPED_TRACE(text);
    const Padded zero(text);
    const auto expected = decoder.decode(zero.view(), 0, events);
    const MarketEvent first = events[0];
    for (const char fill : fills) {
      const Padded other(text, fill);
      const auto r = decoder.decode(other.view(), 0, events);
      EXPECT_EQ(r.status, expected.status) << fill;
      EXPECT_EQ(r.error, expected.error) << fill;
      EXPECT_EQ(r.events, expected.events) << fill;
      if (r.events > 0) {
        EXPECT_EQ(std::memcmp(&events[0], &first, sizeof first), 0) << fill;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// requests

TEST(BybitRequests, SubscribeUnsubscribePing) {
  std::array<char, 256> buf{};
  const std::string_view topics[] = {"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"};
  auto n = encode_subscribe(buf, "sub-1", topics);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(
      std::string_view(buf.data(), n.value()),
      R"({"req_id":"sub-1","op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"]})");
  n = encode_unsubscribe(buf, "", std::span(topics).first(1));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string_view(buf.data(), n.value()),
            R"({"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]})");
  n = encode_ping(buf, "100001");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string_view(buf.data(), n.value()), R"({"req_id":"100001","op":"ping"})");
  n = encode_ping(buf, "");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string_view(buf.data(), n.value()), R"({"op":"ping"})");
}

TEST(BybitRequests, EncoderErrorsAndNoAllocation) {
  std::array<char, 256> buf{};
  const std::string_view topics[] = {"publicTrade.BTCUSDT"};
  const std::string_view bad_topics[] = {"a\"b"};
  EXPECT_EQ(encode_subscribe(std::span(buf).first(20), "1", topics).error(),
            EncodeError::buffer_too_small);
  EXPECT_EQ(encode_subscribe(buf, "1", {}).error(), EncodeError::no_topics);
  EXPECT_EQ(encode_subscribe(buf, "1", bad_topics).error(), EncodeError::bad_topic);
  EXPECT_EQ(encode_ping(buf, "a\\b").error(), EncodeError::bad_req_id);
  EXPECT_EQ(encode_ping(std::span(buf).first(12), "").error(), EncodeError::buffer_too_small);
  EXPECT_EQ(encode_ping(std::span(buf).first(13), "").value(), 13u);  // exactly fits
  const auto allocations = test::count_allocations([&] {
    (void)encode_subscribe(buf, "x", topics);
    (void)encode_ping(buf, "x");
    (void)make_topic(buf, "book.50", "BTCUSDT");
  });
  EXPECT_EQ(allocations, 0u);
}

TEST(BybitRequests, MakeTopic) {
  std::array<char, 64> buf{};
  const auto topic = [&](std::string_view short_form, std::string_view symbol) {
    const auto n = make_topic(buf, short_form, symbol);
    return n.ok() ? std::string(buf.data(), n.value())
                  : std::string("error:") + std::to_string(static_cast<int>(n.error()));
  };
  EXPECT_EQ(topic("trade", "BTCUSDT"), "publicTrade.BTCUSDT");
  EXPECT_EQ(topic("book.50", "BTCUSDT"), "orderbook.50.BTCUSDT");
  EXPECT_EQ(topic("book.1", "ETHUSDT"), "orderbook.1.ETHUSDT");
  EXPECT_EQ(topic("book.1000", "ETHUSDT"), "orderbook.1000.ETHUSDT");
  EXPECT_EQ(topic("ticker", "SOLUSDT"), "tickers.SOLUSDT");
  EXPECT_EQ(topic("kline.1", "BTCUSDT"), "kline.1.BTCUSDT");
  EXPECT_EQ(topic("kline.D", "BTCUSDT"), "kline.D.BTCUSDT");
  const std::string unknown =
      "error:" + std::to_string(static_cast<int>(EncodeError::unknown_short_form));
  EXPECT_EQ(topic("book.7", "BTCUSDT"), unknown);
  EXPECT_EQ(topic("kline.2", "BTCUSDT"), unknown);
  EXPECT_EQ(topic("trades", "BTCUSDT"), unknown);
  EXPECT_EQ(topic("book.", "BTCUSDT"), unknown);
  EXPECT_EQ(topic("", "BTCUSDT"), unknown);
  const std::string bad_symbol =
      "error:" + std::to_string(static_cast<int>(EncodeError::bad_symbol));
  EXPECT_EQ(topic("trade", ""), bad_symbol);
  EXPECT_EQ(topic("trade", "BTC\"USDT"), bad_symbol);
  EXPECT_EQ(make_topic(std::span(buf).first(10), "trade", "BTCUSDT").error(),
            EncodeError::buffer_too_small);
}

// ---------------------------------------------------------------------------------------
// the real capture

const std::string kCapture =
    std::string(KINETIC_SOURCE_DIR) + "/../shared/data/bybit-ws-v5-cryptofeed/BYBIT.jsonl.zst";

struct CaptureFrames {
  std::vector<char> storage;  ///< every frame followed by kMessagePadding bytes
  std::vector<std::pair<std::size_t, std::size_t>> frames;  ///< offset, length
  std::vector<std::string> conns;
  [[nodiscard]] std::string_view frame(std::size_t i) const {
    return {storage.data() + frames[i].first, frames[i].second};
  }
};

/// The raw text of every `recv` record, in file order (tool code: allocates).
CaptureFrames load_capture() {
  CaptureFrames out;
  auto source = CaptureLineSource::open_file(kCapture);
  simdjson::ondemand::parser parser;
  std::string_view line;
  std::vector<std::string> texts;
  while (source.next(line)) {
    const simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS)
      continue;
    std::string_view t;
    if (doc["t"].get_string().get(t) != simdjson::SUCCESS || t != "recv")
      continue;
    std::string_view conn;
    if (doc["conn"].get_string().get(conn) != simdjson::SUCCESS)
      continue;
    out.conns.emplace_back(conn);
    std::string_view data;
    if (doc["data"].get_string().get(data) != simdjson::SUCCESS)
      continue;
    texts.emplace_back(data);
  }
  for (const std::string& text : texts) {
    out.frames.emplace_back(out.storage.size(), text.size());
    out.storage.insert(out.storage.end(), text.begin(), text.end());
    out.storage.insert(out.storage.end(), BybitDecoder::kMessagePadding, '\x7f');
  }
  return out;
}

TEST(BybitDecoderCapture, EveryMessageOfTheRealCaptureDecodes) {
  if (!std::filesystem::exists(kCapture))
    GTEST_SKIP() << "capture not found: " << kCapture;
  const CaptureFrames capture = load_capture();
  ASSERT_EQ(capture.frames.size(), 3227u);  // README: 3,227 recv records

  SymbolTable symbols(64);
  BybitDecoder decoder(symbols);
  std::vector<MarketEvent> events(BybitDecoder::kRecommendedEventCapacity);
  std::map<MarketEventType, std::uint64_t> messages_by_type, events_by_type;
  std::uint64_t controls = 0, subscribed = 0;
  std::vector<MarketEvent> trades;
  for (std::size_t i = 0; i < capture.frames.size(); ++i) {
    const auto r = decoder.decode(capture.frame(i), static_cast<TimestampNs>(i), events);
    ASSERT_TRUE(r.status == DecodeStatus::data || r.status == DecodeStatus::control)
        << "frame " << i << ": " << to_string(r.status) << "/" << to_string(r.error) << " "
        << capture.frame(i).substr(0, 200);
    if (r.status == DecodeStatus::control) {
      ++controls;
      subscribed += r.control.kind == ControlKind::subscribed ? 1 : 0;
      continue;
    }
    ++messages_by_type[events[0].type];
    events_by_type[events[0].type] += r.events;
    for (std::uint32_t k = 0; k < r.events; ++k) {
      ASSERT_EQ(events[k].type, events[0].type);
      ASSERT_EQ(events[k].recv_ts, static_cast<TimestampNs>(i));
      if (events[k].type == MarketEventType::trade)
        trades.push_back(events[k]);
    }
  }
  // README's table: publicTrade 16+12+57+17 + 11+7, orderbook 414+421+383+380 + 300+250,
  // tickers 185+216+193+164 + 41+40, kline 22+12+25+12 + 15+10, acks 17+7.
  EXPECT_EQ(messages_by_type[MarketEventType::trade], 120u);
  EXPECT_EQ(events_by_type[MarketEventType::trade], 56u + 23 + 165 + 83 + 11 + 9);
  EXPECT_EQ(messages_by_type[MarketEventType::book_level], 2148u);
  EXPECT_EQ(messages_by_type[MarketEventType::ticker], 839u);
  EXPECT_EQ(events_by_type[MarketEventType::ticker], 839u);
  EXPECT_EQ(messages_by_type[MarketEventType::kline], 96u);
  EXPECT_EQ(controls, 24u);
  EXPECT_EQ(subscribed, 24u);
  EXPECT_EQ(decoder.stats().malformed, 0u);
  EXPECT_EQ(decoder.stats().unknown_topics, 0u);
  EXPECT_EQ(decoder.stats().messages, 3227u);

  // Every trade agrees with the independent capture reader (its own parse of the raw text).
  WsCaptureTradeReader reader(kCapture);
  CaptureTrade expected;
  std::size_t n = 0;
  while (reader.next(expected)) {
    ASSERT_LT(n, trades.size());
    const MarketEvent& e = trades[n];
    EXPECT_EQ(symbols.name(e.symbol), expected.symbol) << n;
    EXPECT_EQ(e.side, expected.side) << n;
    EXPECT_EQ(e.trade.price, expected.price) << n;
    EXPECT_EQ(e.trade.qty, expected.qty) << n;
    EXPECT_EQ(e.exch_ts, expected.trade_time_ms * kMs) << n;
    ++n;
  }
  EXPECT_EQ(n, trades.size());
  // The README's example frame: the first linear BTCUSDT trade.
  ASSERT_FALSE(trades.empty());
  const auto first_btc = std::find_if(trades.begin(), trades.end(), [&](const MarketEvent& e) {
    return symbols.name(e.symbol) == "BTCUSDT";
  });
  ASSERT_NE(first_btc, trades.end());
  EXPECT_EQ(first_btc->exch_ts, 1'786'310'819'680 * kMs);
  EXPECT_EQ(first_btc->trade.price.raw(), 6'511'420'000'000);
  EXPECT_EQ(first_btc->trade.qty.raw(), 400'000);
  EXPECT_EQ(first_btc->trade.sequence, 753'843'954'913u);
  EXPECT_EQ(first_btc->trade.trade_id, text_id_hash("a9188a0a-82bc-50de-be60-03eedbe3cdd7"));
  EXPECT_EQ(first_btc->side, Side::sell);
}

// ---------------------------------------------------------------------------------------
// The fast path against the exact (simdjson-only) path

/// Two decoders over equal symbol tables: the default one (fast path first) and one with
/// the fast path off. Every message must give both the same result, events and counters.
class FastVersusExact : public ::testing::Test {
 protected:
  FastVersusExact() {
    for (SymbolTable* table : {&fast_symbols, &exact_symbols}) {
      EXPECT_TRUE(table->intern("BTCUSDT").has_value());
      EXPECT_TRUE(table->intern("ETHUSDT").has_value());
    }
  }
  static BybitDecoderConfig exact_config() {
    BybitDecoderConfig config;
    config.fast_path = false;
    return config;
  }

  /// Decodes `text` with both and checks they agree; returns the fast decoder's result.
  DecodeResult both(std::string_view text, std::size_t capacity = 64) {
    const Padded padded(text, '"');
    const auto fast_stats_before = fast.stats().fast_path;
    const DecodeResult a = fast.decode(padded.view(), 9, std::span(fast_events).first(capacity));
    const DecodeResult b = exact.decode(padded.view(), 9, std::span(exact_events).first(capacity));
    last_was_fast = fast.stats().fast_path != fast_stats_before;
    EXPECT_EQ(a.status, b.status) << text;
    EXPECT_EQ(a.error, b.error) << text;
    EXPECT_EQ(a.events, b.events) << text;
    if (a.status == DecodeStatus::data && a.events == b.events) {
      EXPECT_EQ(
          std::memcmp(fast_events.data(), exact_events.data(), a.events * sizeof(MarketEvent)), 0)
          << text;
    }
    EXPECT_EQ(fast.stats().data_messages, exact.stats().data_messages);
    EXPECT_EQ(fast.stats().events, exact.stats().events);
    EXPECT_EQ(fast.stats().malformed, exact.stats().malformed);
    EXPECT_EQ(fast.stats().ignored, exact.stats().ignored);
    EXPECT_EQ(fast.stats().overflows, exact.stats().overflows);
    EXPECT_EQ(fast_symbols.size(), exact_symbols.size()) << text;
    return a;
  }

  SymbolTable fast_symbols{16};
  SymbolTable exact_symbols{16};
  BybitDecoder fast{fast_symbols};
  BybitDecoder exact{exact_symbols, exact_config()};
  std::array<MarketEvent, 64> fast_events{};
  std::array<MarketEvent, 64> exact_events{};
  bool last_was_fast = false;
};

constexpr std::string_view kFastTrade =
    R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1786310819681,"data":[{"T":1786310819680,"s":"BTCUSDT","S":"Sell","v":"0.004","p":"65114.20","L":"MinusTick","i":"a9188a0a-82bc-50de-be60-03eedbe3cdd7","BT":false,"RPI":false,"seq":753843954913}]})";
constexpr std::string_view kFastBook =
    R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1786310818130,"data":{"s":"BTCUSDT","b":[["65095.10","0.123"],["65095","0"]],"a":[["65116.2","1.5"]],"u":15076953,"seq":753843913870},"cts":1786310818129})";

TEST_F(FastVersusExact, CompactTradeAndBookTakeTheFastPathWithTheSameEvents) {
  const auto trade = both(kFastTrade);
  ASSERT_EQ(trade.status, DecodeStatus::data);
  EXPECT_TRUE(last_was_fast);
  EXPECT_EQ(fast_events[0].trade.price.raw(), 6'511'420'000'000);
  EXPECT_EQ(fast_events[0].trade.qty.raw(), 400'000);
  EXPECT_EQ(fast_events[0].trade.trade_id, text_id_hash("a9188a0a-82bc-50de-be60-03eedbe3cdd7"));

  const auto book = both(kFastBook);
  ASSERT_EQ(book.status, DecodeStatus::data);
  EXPECT_TRUE(last_was_fast);
  ASSERT_EQ(book.events, 3u);
  EXPECT_EQ(fast_events[0].level.price.raw(), 6'509'510'000'000);
  EXPECT_EQ(fast_events[1].level.price.raw(), 6'509'500'000'000);
  EXPECT_EQ(fast_events[1].level.qty.raw(), 0);
  EXPECT_EQ(fast_events[2].side, Side::sell);
  EXPECT_EQ(fast_events[2].exch_ts, 1'786'310'818'129 * kMs);  // cts wins over ts
  EXPECT_EQ(fast_events[2].level.update_id, 15'076'953u);
  EXPECT_EQ(fast_events[2].flags, kFlagEndOfBatch);
  EXPECT_EQ(fast.stats().fast_path, 2u);

  // Asks first on the wire, a snapshot without cts, no seq: still the fast path.
  const auto asks_first = both(
      R"({"topic":"orderbook.1.ETHUSDT","ts":5,"type":"snapshot","data":{"a":[["2","1"],["3","1"]],"b":[["1","1"]],"u":1}})");
  ASSERT_EQ(asks_first.status, DecodeStatus::data);
  EXPECT_TRUE(last_was_fast);
  EXPECT_EQ(fast_events[0].side, Side::buy);
  EXPECT_EQ(fast_events[1].side, Side::sell);
  EXPECT_EQ(fast_events[0].flags, kFlagSnapshot | kFlagBeginOfBatch);
  EXPECT_EQ(fast_events[0].exch_ts, 5 * kMs);
}

// The fast path recognizes Bybit's keys, sides, types and the cached topic and symbol by
// word compares against the bytes in place; each must stop at the message's end (the padding
// here is '"', so a cut `"Buy` followed by padding reads as `"Buy"`) and refuse any changed
// byte. Every prefix and every one-byte change of both compact messages, with the caches
// warm, must give what the exact path gives.
TEST_F(FastVersusExact, EveryPrefixAndOneByteChangeAgrees) {
  for (const std::string_view message : {kFastTrade, kFastBook}) {
    ASSERT_EQ(both(message).status, DecodeStatus::data);  // warms the topic and symbol caches
    ASSERT_TRUE(last_was_fast);
    for (std::size_t length = 0; length < message.size(); ++length) {
      both(message.substr(0, length));
      ASSERT_FALSE(last_was_fast) << message.substr(0, length);
    }
    std::string changed(message);
    for (std::size_t i = 0; i < changed.size(); ++i) {
      for (const char c : {'"', ':', ',', '0', 'x', '\\', '\x7f', '\x01', '\xc3'}) {
        const char original = changed[i];
        if (c == original)
          continue;
        changed[i] = c;
        both(changed);
        changed[i] = original;
      }
    }
    ASSERT_EQ(both(message).status, DecodeStatus::data);  // and the caches still work
    EXPECT_TRUE(last_was_fast);
  }
}

TEST_F(FastVersusExact, OtherShapesFallBackToTheExactPath) {
  const std::vector<std::string> cases = {
      // Valid, but not the compact shape: the exact path decodes them.
      R"({"topic": "publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}],"topic":"publicTrade.BTCUSDT"})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTC\u0055SDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"NEWUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"6\u0035.5","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3","x":{"y":[]}}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3","L":"\u00e9"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3","n":null}]})",
      R"({"topic":"publicTrade.BTCUSDT","id":"x","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"orderbook.50.SOLUSDT","type":"delta","ts":1,"data":{"b":[],"a":[["1","1"]],"u":2}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[ ["1","1"]],"a":[],"u":2}})",
      R"({"topic":"publicTrade.BTCUSDT","data":[]})",
      // Malformed in every way the fast path could meet: classified by the exact path.
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"ts":2,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","p":"3","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Up","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":-1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":01,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1.5,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":999999999999999999,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1.123456789","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":1,"p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]}x)",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}])",
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"},]})",
      R"({"topic":"publicTrade.BTCUSDT","type":"COMMAND_RESP","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.BTCUSDT","op":"pong","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"publicTrade.","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2","i":"3"}]})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1","1","1"]],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1","1"]],"b":[],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","data":{"b":[["1","1"]],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"full","ts":1,"data":{"b":[["1","1"]],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.BTCUSDT","ts":1,"data":{"b":[["1","1"]],"a":[],"u":2}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1","1"]],"a":[]}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1","1"]],"a":[],"u":-2}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1","1"]],"a":[],"u":2,"seq":"x"}})",
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["1","x"]],"a":[],"u":2}})",
      "{\"topic\":\"publicTrade.BTCUSDT\",\"data\":[{\"T\":1,\"s\":\"BTCUSDT\",\"S\":\"Buy\","
      "\"v\":\"1\",\"p\":\"2\",\"i\":\"3\",\"L\":\"\xff\"}]}",
      "{\"topic\":\"publicTrade.BTCUSDT\",\"data\":[{\"T\":1,\"s\":\"BTCUSDT\",\"S\":\"Buy\","
      "\"v\":\"1\",\"p\":\"2\",\"i\":\"3\",\"L\":\"a\x01\"}]}",
  };
  for (const std::string& text : cases) {
    both(text);
    EXPECT_FALSE(last_was_fast) << text;
  }
  // Decimals of other shapes stay on the fast path, parsed by Price::parse / Qty::parse.
  const auto signs = both(
      R"({"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"-1","p":"+2.","i":"3"}]})");
  EXPECT_TRUE(last_was_fast);
  ASSERT_EQ(signs.status, DecodeStatus::data);
  EXPECT_EQ(fast_events[0].trade.qty.raw(), -100'000'000);
  EXPECT_EQ(fast_events[0].trade.price.raw(), 200'000'000);
  const auto long_numbers = both(
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"b":[["12345678.5","123456789"]],"a":[],"u":2}})");
  EXPECT_TRUE(last_was_fast);
  ASSERT_EQ(long_numbers.status, DecodeStatus::data);
  EXPECT_EQ(fast_events[0].level.price.raw(), 1'234'567'850'000'000);
  EXPECT_EQ(fast_events[0].level.qty.raw(), 12'345'678'900'000'000);
  // Every prefix of the compact messages (truncated frames) agrees too.
  for (const std::string_view text : {kFastTrade, kFastBook}) {
    for (std::size_t n = 0; n < text.size(); ++n) {
      both(text.substr(0, n));
      EXPECT_FALSE(last_was_fast) << n;
    }
  }
  // And `out` too small: overflow from both.
  EXPECT_EQ(both(kFastBook, 2).status, DecodeStatus::overflow);
}

/// The fast path's inline decimal parse gives exactly Price::parse / Qty::parse, or hands the
/// text to them: random and edge-case strings as a book level's price and size.
TEST_F(FastVersusExact, WireDecimalsAgreeWithPriceParse) {
  std::vector<std::string> texts = {"0",
                                    "00",
                                    "0.0",
                                    "1.",
                                    ".5",
                                    "5.",
                                    "1234567.12345678",
                                    "12345678.1",
                                    "9999999.99999999",
                                    "0.000000001",
                                    "0.00000001",
                                    "92233720368.54775807",
                                    "92233720368.54775808",
                                    "-1",
                                    "+1",
                                    "1e5",
                                    "",
                                    ".",
                                    "1..2",
                                    "01.10",
                                    "1234567",
                                    "12345678",
                                    "0.12345678",
                                    "0000001.5",
                                    "00000000000000001.5",
                                    " 1",
                                    "1 ",
                                    "65114.20",
                                    "0.004",
                                    "7.",
                                    "1.2.3",
                                    "99999999999",
                                    "1234567.123456789",
                                    "-0",
                                    "-0.00000001",
                                    "0x10",
                                    "1,5",
                                    "١"};
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  constexpr std::string_view kAlphabet = "0123456789.-+e ";
  for (int i = 0; i < 20'000; ++i) {
    std::string text;
    if (next() % 4 != 0) {  // mostly well-shaped: digits, maybe a dot and fraction digits
      const auto integer_digits = next() % 12;
      for (std::uint64_t k = 0; k < integer_digits; ++k)
        text += static_cast<char>('0' + next() % 10);
      if (next() % 3 != 0) {
        text += '.';
        const auto fraction_digits = next() % 11;
        for (std::uint64_t k = 0; k < fraction_digits; ++k)
          text += static_cast<char>('0' + next() % 10);
      }
    } else {
      const auto length = next() % 20;
      for (std::uint64_t k = 0; k < length; ++k)
        text += kAlphabet[next() % kAlphabet.size()];
    }
    texts.push_back(std::move(text));
  }
  for (const std::string& text : texts) {
    const std::string message = R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,)"
                                R"("data":{"b":[[")" +
                                text + R"(","1"]],"a":[["1",")" + text + R"("]],"u":2}})";
    const auto r = both(message);
    const auto as_price = Price::parse(text);
    const auto as_qty = Qty::parse(text);
    ASSERT_EQ(as_price.ok(), as_qty.ok());
    if (as_price.ok()) {
      ASSERT_EQ(r.status, DecodeStatus::data) << text;
      EXPECT_EQ(fast_events[0].level.price, as_price.value()) << text;
      EXPECT_EQ(fast_events[1].level.qty, as_qty.value()) << text;
    } else {
      EXPECT_EQ(r.status, DecodeStatus::malformed) << text;
      EXPECT_EQ(r.error, DecodeError::bad_decimal) << text;
    }
  }
}

// The fast path checks and converts a level's price and size together (one vector for
// both): every pairing of shapes, each side common or not, must still give Price::parse and
// Qty::parse of each text, or bad_decimal when either is refused.
TEST_F(FastVersusExact, LevelPriceAndSizeShapesAgreeInEveryPairing) {
  const std::vector<std::string> texts = {"0",
                                          "1",
                                          "1.5",
                                          "65114.20",
                                          "0.004",
                                          "1234567",
                                          "9999999.99999999",
                                          "12345678",
                                          "0.12345678",
                                          "1234567.123456789",
                                          "1.",
                                          ".5",
                                          "-1",
                                          "01.10",
                                          "1..2",
                                          "",
                                          "00000000000001.5",
                                          "1e5"};
  for (const std::string& price_text : texts) {
    for (const std::string& qty_text : texts) {
      const std::string message = R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,)"
                                  R"("data":{"b":[["1","2"],[")" +
                                  price_text + R"(",")" + qty_text + R"("]],"a":[],"u":2}})";
      const auto r = both(message);
      const auto price = Price::parse(price_text);
      const auto qty = Qty::parse(qty_text);
      if (price.ok() && qty.ok()) {
        ASSERT_EQ(r.status, DecodeStatus::data) << message;
        ASSERT_EQ(r.events, 2u);
        EXPECT_EQ(fast_events[1].level.price, price.value()) << message;
        EXPECT_EQ(fast_events[1].level.qty, qty.value()) << message;
        EXPECT_EQ(fast_events[1].level.reserved, 0u);
        EXPECT_EQ(fast_events[1].flags, kFlagEndOfBatch);
        EXPECT_EQ(fast_events[1].level.update_id, 2u);
      } else {
        EXPECT_EQ(r.status, DecodeStatus::malformed) << message;
        EXPECT_EQ(r.error, DecodeError::bad_decimal) << message;
      }
    }
  }
}

TEST(BybitDecoderCapture, FastPathGivesTheExactPathsEventsOnEveryMessage) {
  if (!std::filesystem::exists(kCapture))
    GTEST_SKIP() << "capture not found: " << kCapture;
  const CaptureFrames capture = load_capture();
  SymbolTable fast_symbols(64), exact_symbols(64);
  BybitDecoder fast(fast_symbols);
  BybitDecoderConfig config;
  config.fast_path = false;
  BybitDecoder exact(exact_symbols, config);
  std::vector<MarketEvent> a(BybitDecoder::kRecommendedEventCapacity);
  std::vector<MarketEvent> b(BybitDecoder::kRecommendedEventCapacity);
  for (std::size_t i = 0; i < capture.frames.size(); ++i) {
    const auto ra = fast.decode(capture.frame(i), static_cast<TimestampNs>(i), a);
    const auto rb = exact.decode(capture.frame(i), static_cast<TimestampNs>(i), b);
    ASSERT_EQ(ra.status, rb.status) << i;
    ASSERT_EQ(ra.events, rb.events) << i;
    if (ra.status == DecodeStatus::data) {
      ASSERT_EQ(std::memcmp(a.data(), b.data(), ra.events * sizeof(MarketEvent)), 0) << i;
    }
  }
  // All 120 trade and 2,148 book messages but those naming a symbol for the first time (the
  // exact path interns it): at most 9 symbols x (1 trade + 1 book topic).
  EXPECT_GE(fast.stats().fast_path, 120u + 2148u - 18u);
  EXPECT_LE(fast.stats().fast_path, 120u + 2148u);
  EXPECT_EQ(exact.stats().fast_path, 0u);
}

TEST(BybitDecoderCapture, BookUpdateIdsAreContinuousAndFirstIsSnapshot) {
  if (!std::filesystem::exists(kCapture))
    GTEST_SKIP() << "capture not found: " << kCapture;
  const CaptureFrames capture = load_capture();
  SymbolTable symbols(64);
  BybitDecoder decoder(symbols);
  std::vector<MarketEvent> events(BybitDecoder::kRecommendedEventCapacity);
  std::map<std::pair<std::string, SymbolId>, std::uint64_t> last_u;
  std::uint64_t checked = 0;
  for (std::size_t i = 0; i < capture.frames.size(); ++i) {
    const auto r = decoder.decode(capture.frame(i), 0, events);
    if (r.status != DecodeStatus::data || events[0].type != MarketEventType::book_level)
      continue;
    const auto key = std::make_pair(capture.conns[i], events[0].symbol);
    const auto it = last_u.find(key);
    if (it == last_u.end()) {
      EXPECT_TRUE(events[0].flags & kFlagSnapshot) << i;
    } else if (!(events[0].flags & kFlagSnapshot)) {
      EXPECT_EQ(events[0].level.update_id, it->second + 1) << i;
      ++checked;
    }
    last_u[key] = events[0].level.update_id;
  }
  EXPECT_GT(checked, 2000u);
}

TEST(BybitDecoderCapture, NoAllocationPerMessageAfterWarmUp) {
  if (!std::filesystem::exists(kCapture))
    GTEST_SKIP() << "capture not found: " << kCapture;
  const CaptureFrames capture = load_capture();
  SymbolTable symbols(64);
  BybitDecoder decoder(symbols);
  std::vector<MarketEvent> events(BybitDecoder::kRecommendedEventCapacity);
  const std::string_view warm_up =
      R"({"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":2,"s":"BTCUSDT","S":"Buy","v":"1","p":"100","i":"9","seq":3}]})";
  const Padded padded(warm_up);
  ASSERT_EQ(decoder.decode(padded.view(), 0, events).status, DecodeStatus::data);
  std::uint64_t decoded = 0;
  const auto allocations = test::count_allocations([&] {
    for (std::size_t i = 0; i < capture.frames.size(); ++i) {
      const auto r = decoder.decode(capture.frame(i), 0, events);
      decoded += r.status == DecodeStatus::data || r.status == DecodeStatus::control ? 1 : 0;
    }
  });
  EXPECT_EQ(decoded, 3227u);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace kinetic::feed

namespace kinetic::feed {
namespace {

TEST(TextIdHash, DistinctForManyIdsAndSensitiveToEveryByte) {
  // 200,000 random UUID-shaped ids: no two share a hash.
  std::mt19937_64 rng(11);
  std::unordered_set<std::uint64_t> seen;
  char id[37];
  for (int i = 0; i < 200'000; ++i) {
    const std::uint64_t a = rng();
    const std::uint64_t b = rng();
    std::snprintf(id, sizeof id, "%08llx-%04llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(a >> 32),
                  static_cast<unsigned long long>((a >> 16) & 0xFFFF),
                  static_cast<unsigned long long>(a & 0xFFFF),
                  static_cast<unsigned long long>(b >> 48),
                  static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
    ASSERT_TRUE(seen.insert(text_id_hash(std::string_view(id, 36))).second) << id;
  }
  // Changing any one character, or the length, changes the hash.
  const std::string base = "a9188a0a-82bc-50de-be60-03eedbe3cdd7";
  const std::uint64_t h = text_id_hash(base);
  for (std::size_t k = 0; k < base.size(); ++k) {
    std::string changed = base;
    changed[k] = changed[k] == '0' ? '1' : '0';
    EXPECT_NE(text_id_hash(changed), h) << k;
  }
  EXPECT_NE(text_id_hash(base.substr(0, 35)), h);
  EXPECT_NE(text_id_hash("t-1"), text_id_hash("t-2"));
  EXPECT_NE(text_id_hash(""), text_id_hash(std::string_view("\0", 1)));
}

}  // namespace
}  // namespace kinetic::feed
