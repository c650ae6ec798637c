// OrderEncoder (exact bytes of /v5/order/create, cancel, cancel-all, the signed HTTP request
// and the trade-WebSocket message; docs/bybit-v5.md §3, §4.2, §4.4, §5) and OrderIdGenerator.

#include "kinetic/exec/order_encoder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "alloc_counter.hpp"
#include "kinetic/core/decimal.hpp"
#include "kinetic/exec/order_link_id.hpp"

namespace {

using kinetic::OrderIntent;
using kinetic::OrderType;
using kinetic::Price;
using kinetic::Qty;
using kinetic::Side;
using kinetic::SymbolId;
using kinetic::TimeInForce;
using kinetic::exec::EncodeError;
using kinetic::exec::HmacSha256;
using kinetic::exec::OrderEncoder;
using kinetic::exec::OrderEncoderConfig;
using kinetic::exec::OrderIdGenerator;

constexpr std::string_view kKey = "qTd7Yc3Lx9PwB2mNa1";
constexpr std::string_view kSecret = "Zr4Kp8Wq2Xv6Nb0Jt5Hs9Lc3Fg7Dm1Ay4Ue8";
constexpr std::int64_t kTimestamp = 1700000000000;
constexpr std::uint64_t kFirstId = (std::uint64_t{1} << 40) | 1;  // boot 1, order 1

Price price(std::string_view text) {
  return Price::parse(text).value();
}
Qty qty(std::string_view text) {
  return Qty::parse(text).value();
}

class OrderEncoderTest : public ::testing::Test {
 protected:
  OrderEncoderTest() {
    btc_ = *symbols_.intern("BTCUSDT");
    eth_ = *symbols_.intern("ETHUSDT");
  }

  OrderEncoder make_encoder(OrderEncoderConfig config = default_config()) const {
    return OrderEncoder(symbols_, std::move(config), HmacSha256(kSecret));
  }
  static OrderEncoderConfig default_config() {
    OrderEncoderConfig config;
    config.api_key = std::string(kKey);
    return config;
  }

  OrderIntent limit(Side side, std::string_view q, std::string_view p,
                    TimeInForce tif = TimeInForce::gtc) const {
    OrderIntent intent{};
    intent.client_order_id = kFirstId;
    intent.symbol = btc_;
    intent.side = side;
    intent.type = OrderType::limit;
    intent.tif = tif;
    intent.qty = qty(q);
    intent.price = price(p);
    return intent;
  }
  OrderIntent market(Side side, std::string_view q) const {
    OrderIntent intent{};
    intent.client_order_id = kFirstId;
    intent.symbol = btc_;
    intent.side = side;
    intent.type = OrderType::market;
    intent.tif = TimeInForce::ioc;
    intent.qty = qty(q);
    return intent;
  }

  /// The body of `intent`, or the error's name (so a failure prints something useful).
  std::string body_of(const OrderEncoder& encoder, const OrderIntent& intent) {
    const auto body = encoder.create_body(intent, buffer_);
    return body ? std::string(body.value())
                : "error " + std::string(kinetic::exec::to_string(body.error()));
  }

  kinetic::feed::SymbolTable symbols_{16};
  SymbolId btc_{};
  SymbolId eth_{};
  std::array<char, OrderEncoder::kRecommendedBufferLength> buffer_{};
};

// ---- the §5 vectors, reproduced from OrderIntents ----

TEST_F(OrderEncoderTest, DocsVectorCompactLimitBodyAndSignature) {
  // §5 "POST /v5/order/create, compact body": no positionIdx, orderLinkId "test-0001".
  OrderEncoderConfig config = default_config();
  config.position_idx.reset();
  const OrderEncoder encoder = make_encoder(std::move(config));
  const auto body = encoder.create_body(limit(Side::buy, "0.001", "30000"), "test-0001", buffer_);
  ASSERT_TRUE(body);
  const std::string expected_body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"30000","timeInForce":"GTC","orderLinkId":"test-0001"})";
  EXPECT_EQ(body.value(), expected_body);

  std::array<char, 1024> request{};
  const auto http =
      encoder.http_post(kinetic::exec::kOrderCreatePath, body.value(), kTimestamp, request);
  ASSERT_TRUE(http);
  EXPECT_EQ(http.value(),
            "POST /v5/order/create HTTP/1.1\r\n"
            "Host: api.bybit.com\r\n"
            "X-BAPI-API-KEY: qTd7Yc3Lx9PwB2mNa1\r\n"
            "X-BAPI-TIMESTAMP: 1700000000000\r\n"
            "X-BAPI-SIGN: 90e37d5df4e00108ed91c6e73fe4158bd1d5e7b625e98d97e03057cce631040c\r\n"
            "X-BAPI-RECV-WINDOW: 5000\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 149\r\n"
            "\r\n" +
                expected_body);
  EXPECT_EQ(expected_body.size(), 149u);
}

TEST_F(OrderEncoderTest, DocsVectorReduceOnlyMarketBodyAndSignature) {
  // §5 last order vector: a market order has no timeInForce; no orderLinkId was given.
  const OrderEncoder encoder = make_encoder();
  OrderIntent intent = market(Side::sell, "0.001");
  intent.reduce_only = true;
  const auto body = encoder.create_body(intent, "", buffer_);
  ASSERT_TRUE(body);
  EXPECT_EQ(
      body.value(),
      R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.001","reduceOnly":true,"positionIdx":0})");
  std::array<char, 1024> request{};
  const auto http = encoder.http_post("/v5/order/create", body.value(), kTimestamp, request);
  ASSERT_TRUE(http);
  EXPECT_NE(
      http.value().find("\r\nX-BAPI-SIGN: "
                        "ed754350bafbfbd8cb44468a1e5d38799731bf1856b434a25409226eef637512\r\n"),
      std::string_view::npos);
}

TEST_F(OrderEncoderTest, DocsVectorCancelAllBySettleCoin) {
  const OrderEncoder encoder = make_encoder();
  const auto http = encoder.cancel_all_http(kTimestamp, buffer_);
  ASSERT_TRUE(http);
  EXPECT_EQ(http.value(),
            "POST /v5/order/cancel-all HTTP/1.1\r\n"
            "Host: api.bybit.com\r\n"
            "X-BAPI-API-KEY: qTd7Yc3Lx9PwB2mNa1\r\n"
            "X-BAPI-TIMESTAMP: 1700000000000\r\n"
            "X-BAPI-SIGN: 34345dc2b41e775fce85a1ee205d855cc5ad94b2cc20b69eb02299e3256ff9d3\r\n"
            "X-BAPI-RECV-WINDOW: 5000\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 41\r\n"
            "\r\n"
            R"({"category":"linear","settleCoin":"USDT"})");
}

TEST_F(OrderEncoderTest, DocsVectorWebSocketAuth) {
  const OrderEncoder encoder = make_encoder();
  const auto auth = encoder.ws_auth(1700000010000, buffer_);
  ASSERT_TRUE(auth);
  EXPECT_EQ(
      auth.value(),
      R"({"op":"auth","args":["qTd7Yc3Lx9PwB2mNa1",1700000010000,"2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8"]})");
}

// ---- exact bodies per order kind ----

TEST_F(OrderEncoderTest, MarketOrderBody) {
  const OrderEncoder encoder = make_encoder();
  EXPECT_EQ(
      body_of(encoder, market(Side::buy, "0.5")),
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.5","orderLinkId":"kn-0000010000000001","positionIdx":0})");
}

TEST_F(OrderEncoderTest, LimitOrderBodiesForEveryTimeInForce) {
  const OrderEncoder encoder = make_encoder();
  const std::string head =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Limit","qty":"0.01","price":"93400.5","timeInForce":")";
  const std::string tail = R"(","orderLinkId":"kn-0000010000000001","positionIdx":0})";
  // "0.010" and "93400.50" come out shortest exact.
  EXPECT_EQ(body_of(encoder, limit(Side::sell, "0.010", "93400.50", TimeInForce::gtc)),
            head + "GTC" + tail);
  EXPECT_EQ(body_of(encoder, limit(Side::sell, "0.010", "93400.50", TimeInForce::ioc)),
            head + "IOC" + tail);
  EXPECT_EQ(body_of(encoder, limit(Side::sell, "0.010", "93400.50", TimeInForce::fok)),
            head + "FOK" + tail);
  EXPECT_EQ(body_of(encoder, limit(Side::sell, "0.010", "93400.50", TimeInForce::post_only)),
            head + "PostOnly" + tail);
}

TEST_F(OrderEncoderTest, ReduceOnlyLimitAndExtremeDecimals) {
  const OrderEncoder encoder = make_encoder();
  OrderIntent intent = limit(Side::buy, "12345678.00000001", "0.00000001");
  intent.reduce_only = true;
  intent.symbol = eth_;
  intent.client_order_id = 0xFFFFFF000000ABCDull;
  EXPECT_EQ(
      body_of(encoder, intent),
      R"({"category":"linear","symbol":"ETHUSDT","side":"Buy","orderType":"Limit","qty":"12345678.00000001","price":"0.00000001","timeInForce":"GTC","orderLinkId":"kn-ffffff000000abcd","reduceOnly":true,"positionIdx":0})");
}

TEST_F(OrderEncoderTest, TakeProfitAndStopLossOnlyWhenSet) {
  const OrderEncoder encoder = make_encoder();
  OrderIntent intent = limit(Side::buy, "0.001", "93400");
  intent.take_profit = price("95000.1");
  intent.stop_loss = price("92000");
  EXPECT_EQ(
      body_of(encoder, intent),
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"93400","timeInForce":"GTC","orderLinkId":"kn-0000010000000001","takeProfit":"95000.1","stopLoss":"92000","positionIdx":0})");
  intent.take_profit = Price{};
  EXPECT_EQ(
      body_of(encoder, intent),
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"93400","timeInForce":"GTC","orderLinkId":"kn-0000010000000001","stopLoss":"92000","positionIdx":0})");
  OrderIntent market_with_tp = market(Side::sell, "1");
  market_with_tp.take_profit = price("90000");
  market_with_tp.reduce_only = true;
  EXPECT_EQ(
      body_of(encoder, market_with_tp),
      R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"1","orderLinkId":"kn-0000010000000001","reduceOnly":true,"takeProfit":"90000","positionIdx":0})");
}

TEST_F(OrderEncoderTest, MarketOrderIgnoresItsPriceField) {
  const OrderEncoder encoder = make_encoder();
  OrderIntent intent = market(Side::buy, "2");
  intent.price = price("123");  // meaningless for a market order; never sent
  EXPECT_EQ(body_of(encoder, intent).find("price"), std::string::npos);
}

TEST_F(OrderEncoderTest, ConfiguredPositionIdxAndCategory) {
  OrderEncoderConfig config = default_config();
  config.position_idx = 2;
  config.category = "inverse";
  const OrderEncoder encoder = make_encoder(std::move(config));
  EXPECT_EQ(
      body_of(encoder, market(Side::sell, "3")),
      R"({"category":"inverse","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"3","orderLinkId":"kn-0000010000000001","positionIdx":2})");
}

// ---- whole requests ----

TEST_F(OrderEncoderTest, CreateHttpIsTheWholeSignedRequest) {
  OrderEncoderConfig config = default_config();
  config.host = "127.0.0.1:18080";
  const OrderEncoder encoder = make_encoder(std::move(config));
  const auto http = encoder.create_http(limit(Side::buy, "0.01", "93400.5"), kTimestamp, buffer_);
  ASSERT_TRUE(http);
  // Signature computed independently: python3 hmac.new(secret, ts+key+"5000"+body, sha256).
  EXPECT_EQ(
      http.value(),
      "POST /v5/order/create HTTP/1.1\r\n"
      "Host: 127.0.0.1:18080\r\n"
      "X-BAPI-API-KEY: qTd7Yc3Lx9PwB2mNa1\r\n"
      "X-BAPI-TIMESTAMP: 1700000000000\r\n"
      "X-BAPI-SIGN: da0a2142832d1808334f586020f682e8e4ff6f4dbc76d0029d308b3f8379b036\r\n"
      "X-BAPI-RECV-WINDOW: 5000\r\n"
      "Content-Type: application/json\r\n"
      "Content-Length: 176\r\n"
      "\r\n"
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"93400.5","timeInForce":"GTC","orderLinkId":"kn-0000010000000001","positionIdx":0})");
}

TEST_F(OrderEncoderTest, CancelBodiesAndRequests) {
  const OrderEncoder encoder = make_encoder();
  const auto cancel = encoder.cancel_body(btc_, kFirstId, buffer_);
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel.value(),
            R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":"kn-0000010000000001"})");
  const auto cancel_http = encoder.cancel_http(btc_, kFirstId, kTimestamp, buffer_);
  ASSERT_TRUE(cancel_http);
  EXPECT_TRUE(cancel_http.value().starts_with("POST /v5/order/cancel HTTP/1.1\r\n"));
  EXPECT_NE(cancel_http.value().find(
                "X-BAPI-SIGN: afb1e480df80762d49d197aaa1231fc8564ad157269b92f63411ccca136a4357"),
            std::string_view::npos);
  EXPECT_TRUE(cancel_http.value().ends_with(
      "Content-Length: 76\r\n\r\n"
      R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":"kn-0000010000000001"})"));

  const auto by_symbol = encoder.cancel_all_body(eth_, buffer_);
  ASSERT_TRUE(by_symbol);
  EXPECT_EQ(by_symbol.value(), R"({"category":"linear","symbol":"ETHUSDT"})");
  const auto all_http = encoder.cancel_all_http(eth_, kTimestamp, buffer_);
  ASSERT_TRUE(all_http);
  EXPECT_TRUE(all_http.value().ends_with(R"({"category":"linear","symbol":"ETHUSDT"})"));

  const auto ws = encoder.cancel_ws(btc_, kFirstId, "c-1", kTimestamp, buffer_);
  ASSERT_TRUE(ws);
  EXPECT_EQ(
      ws.value(),
      R"({"reqId":"c-1","header":{"X-BAPI-TIMESTAMP":"1700000000000","X-BAPI-RECV-WINDOW":"5000"},"op":"order.cancel","args":[{"category":"linear","symbol":"BTCUSDT","orderLinkId":"kn-0000010000000001"}]})");
}

TEST_F(OrderEncoderTest, TradeWebSocketCreateExactBytesAndParsedBack) {
  OrderEncoderConfig config = default_config();
  config.recv_window_ms = 20000;
  const OrderEncoder encoder = make_encoder(std::move(config));
  OrderIntent intent = limit(Side::buy, "0.010", "93400.0", TimeInForce::post_only);
  intent.take_profit = price("95000");
  const auto ws = encoder.create_ws(intent, "eng-req-000042", 1735689601000, buffer_);
  ASSERT_TRUE(ws);
  EXPECT_EQ(
      ws.value(),
      R"({"reqId":"eng-req-000042","header":{"X-BAPI-TIMESTAMP":"1735689601000","X-BAPI-RECV-WINDOW":"20000"},"op":"order.create","args":[{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"93400","timeInForce":"PostOnly","orderLinkId":"kn-0000010000000001","takeProfit":"95000","positionIdx":0}]})");

  simdjson::dom::parser parser;
  const simdjson::padded_string json(ws.value());
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(root["reqId"]), "eng-req-000042");
  EXPECT_EQ(std::string_view(root["op"]), "order.create");
  EXPECT_EQ(std::string_view(root["header"]["X-BAPI-TIMESTAMP"]), "1735689601000");
  EXPECT_EQ(std::string_view(root["header"]["X-BAPI-RECV-WINDOW"]), "20000");
  const simdjson::dom::array args = root["args"];
  ASSERT_EQ(args.size(), 1u);
  const simdjson::dom::element order = args.at(0);
  EXPECT_EQ(std::string_view(order["category"]), "linear");
  EXPECT_EQ(std::string_view(order["symbol"]), "BTCUSDT");
  EXPECT_EQ(std::string_view(order["side"]), "Buy");
  EXPECT_EQ(std::string_view(order["qty"]), "0.01");
  EXPECT_EQ(std::string_view(order["price"]), "93400");
  EXPECT_EQ(std::string_view(order["timeInForce"]), "PostOnly");
  EXPECT_EQ(std::string_view(order["orderLinkId"]), "kn-0000010000000001");
  EXPECT_EQ(std::int64_t(order["positionIdx"]), 0);
  EXPECT_EQ(kinetic::exec::parse_order_link_id(std::string_view(order["orderLinkId"])), kFirstId);

  // Without a reqId the key is left out and the message stays valid JSON.
  const auto anonymous = encoder.create_ws(intent, "", 1735689601000, buffer_);
  ASSERT_TRUE(anonymous);
  EXPECT_TRUE(anonymous.value().starts_with(R"({"header":{"X-BAPI-TIMESTAMP":"1735689601000")"));
  const simdjson::padded_string anonymous_json(anonymous.value());
  ASSERT_EQ(parser.parse(anonymous_json).get(root), simdjson::SUCCESS);
  EXPECT_EQ(root["reqId"].error(), simdjson::NO_SUCH_FIELD);
}

TEST_F(OrderEncoderTest, ARetryEncodesTheSameBodyAndLinkId) {
  const OrderEncoder encoder = make_encoder();
  const OrderIntent intent = limit(Side::buy, "0.001", "30000");
  const std::string first = body_of(encoder, intent);
  EXPECT_EQ(body_of(encoder, intent), first);
  // Only timestamp and signature differ between two sends of one intent.
  std::array<char, 1024> a{}, b{};
  const auto ra = encoder.create_http(intent, kTimestamp, a);
  const auto rb = encoder.create_http(intent, kTimestamp + 1, b);
  ASSERT_TRUE(ra && rb);
  EXPECT_TRUE(ra.value().ends_with(first));
  EXPECT_TRUE(rb.value().ends_with(first));
}

TEST_F(OrderEncoderTest, ThousandEncodesAllocateNothing) {
  const OrderEncoder encoder = make_encoder();
  OrderIntent intent = limit(Side::buy, "0.001", "30000");
  intent.take_profit = price("31000");
  std::size_t total = 0;
  bool ok = true;
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (std::uint64_t i = 1; i <= 1000; ++i) {
      intent.client_order_id = kFirstId + i;
      const auto http =
          encoder.create_http(intent, kTimestamp + static_cast<std::int64_t>(i), buffer_);
      const auto ws = encoder.create_ws(intent, "r-1", kTimestamp, buffer_);
      const auto cancel = encoder.cancel_http(btc_, intent.client_order_id, kTimestamp, buffer_);
      const auto kill = encoder.cancel_all_http(kTimestamp, buffer_);
      ok = ok && http && ws && cancel && kill;
      total += http.value_or({}).size();
    }
  });
  EXPECT_TRUE(ok);
  EXPECT_GT(total, 1000u * 300u);
  EXPECT_EQ(allocations, 0u);
}

// ---- errors ----

TEST_F(OrderEncoderTest, InvalidIntentsAreRejectedWithTheirReason) {
  const OrderEncoder encoder = make_encoder();
  const auto error_of = [&](const OrderIntent& intent) {
    return encoder.create_body(intent, buffer_).error();
  };
  OrderIntent intent = limit(Side::buy, "1", "100");
  EXPECT_EQ(error_of(intent), EncodeError::ok);

  OrderIntent bad = intent;
  bad.symbol = 7;  // never interned
  EXPECT_EQ(error_of(bad), EncodeError::unknown_symbol);
  bad = intent;
  bad.qty = Qty{};
  EXPECT_EQ(error_of(bad), EncodeError::zero_qty);
  bad.qty = qty("-1");
  EXPECT_EQ(error_of(bad), EncodeError::negative_qty);
  bad = intent;
  bad.side = Side::none;
  EXPECT_EQ(error_of(bad), EncodeError::invalid_side);
  bad = intent;
  bad.type = static_cast<OrderType>(9);
  EXPECT_EQ(error_of(bad), EncodeError::invalid_order_type);
  bad = intent;
  bad.tif = static_cast<TimeInForce>(0);
  EXPECT_EQ(error_of(bad), EncodeError::invalid_time_in_force);
  bad = intent;
  bad.price = Price{};
  EXPECT_EQ(error_of(bad), EncodeError::invalid_price);
  bad.price = price("-5");
  EXPECT_EQ(error_of(bad), EncodeError::invalid_price);
  bad = intent;
  bad.stop_loss = price("-1");
  EXPECT_EQ(error_of(bad), EncodeError::invalid_price);
  bad = intent;
  bad.client_order_id = 0;
  EXPECT_EQ(error_of(bad), EncodeError::missing_client_order_id);
  EXPECT_EQ(encoder.cancel_body(btc_, 0, buffer_).error(), EncodeError::missing_client_order_id);
  EXPECT_EQ(encoder.cancel_body(9, kFirstId, buffer_).error(), EncodeError::unknown_symbol);
  EXPECT_EQ(encoder.cancel_all_body(9, buffer_).error(), EncodeError::unknown_symbol);

  // Explicit link ids: Bybit's alphabet, at most 36 characters.
  EXPECT_TRUE(encoder.create_body(intent, std::string(36, 'a'), buffer_));
  EXPECT_EQ(encoder.create_body(intent, std::string(37, 'a'), buffer_).error(),
            EncodeError::invalid_order_link_id);
  EXPECT_EQ(encoder.create_body(intent, "a\"b", buffer_).error(),
            EncodeError::invalid_order_link_id);

  // reqId: at most 36, no JSON-breaking characters.
  EXPECT_TRUE(encoder.create_ws(intent, std::string(36, 'r'), kTimestamp, buffer_));
  EXPECT_EQ(encoder.create_ws(intent, std::string(37, 'r'), kTimestamp, buffer_).error(),
            EncodeError::invalid_req_id);
  EXPECT_EQ(encoder.create_ws(intent, "r\"1", kTimestamp, buffer_).error(),
            EncodeError::invalid_req_id);

  // Framing arguments.
  EXPECT_EQ(encoder.create_http(intent, -1, buffer_).error(), EncodeError::invalid_argument);
  EXPECT_EQ(encoder.http_post("/v5/order/create\r\nX: y", "{}", kTimestamp, buffer_).error(),
            EncodeError::invalid_argument);
  EXPECT_EQ(encoder.http_post("v5/order/create", "{}", kTimestamp, buffer_).error(),
            EncodeError::invalid_argument);
  EXPECT_EQ(encoder.ws_request("order\"create", "", "{}", kTimestamp, buffer_).error(),
            EncodeError::invalid_argument);
  EXPECT_EQ(encoder.ws_auth(-1, buffer_).error(), EncodeError::invalid_argument);
}

TEST_F(OrderEncoderTest, EveryTooSmallBufferIsReportedAndNeverOverrun) {
  const OrderEncoder encoder = make_encoder();
  OrderIntent intent = limit(Side::buy, "0.001", "30000");
  intent.stop_loss = price("29000");
  const auto full = encoder.create_http(intent, kTimestamp, buffer_);
  ASSERT_TRUE(full);
  const std::string expected(full.value());
  const std::string expected_ws(encoder.create_ws(intent, "q", kTimestamp, buffer_).value());
  const std::string expected_body(encoder.create_body(intent, buffer_).value());
  // One guard byte past the span must survive every attempt.
  std::array<char, 1024> storage{};
  for (std::size_t size = 0; size <= expected.size(); ++size) {
    storage.fill('#');
    const std::span<char> out(storage.data(), size);
    // Each result is checked before the next call reuses `out`.
    const auto http = encoder.create_http(intent, kTimestamp, out);
    if (size < expected.size()) {
      ASSERT_EQ(http.error(), EncodeError::buffer_too_small) << size;
    } else {
      ASSERT_TRUE(http);
      EXPECT_EQ(http.value(), expected);
    }
    const auto ws = encoder.create_ws(intent, "q", kTimestamp, out);
    EXPECT_EQ(ws ? std::string(ws.value()) : "", size >= expected_ws.size() ? expected_ws : "");
    const auto body = encoder.create_body(intent, out);
    EXPECT_EQ(body ? std::string(body.value()) : "",
              size >= expected_body.size() ? expected_body : "");
    EXPECT_EQ(storage[size], '#') << "wrote past a span of " << size;
  }
  EXPECT_EQ(encoder.ws_auth(1, std::span<char>(storage.data(), 10)).error(),
            EncodeError::buffer_too_small);
}

TEST_F(OrderEncoderTest, BadConfigurationThrowsAtStartUp) {
  OrderEncoderConfig no_key = default_config();
  no_key.api_key.clear();
  EXPECT_THROW(make_encoder(no_key), std::invalid_argument);
  OrderEncoderConfig header_injection = default_config();
  header_injection.api_key = "key\r\nX-Evil: 1";
  EXPECT_THROW(make_encoder(header_injection), std::invalid_argument);
  OrderEncoderConfig bad_host = default_config();
  bad_host.host = "api.bybit.com/x";
  EXPECT_THROW(make_encoder(bad_host), std::invalid_argument);
  OrderEncoderConfig bad_category = default_config();
  bad_category.category = "lin\"ear";
  EXPECT_THROW(make_encoder(bad_category), std::invalid_argument);
}

TEST(EncodeError, EveryCodeHasAName) {
  EXPECT_EQ(kinetic::exec::to_string(EncodeError::buffer_too_small), "buffer_too_small");
  EXPECT_EQ(kinetic::exec::to_string(EncodeError::invalid_argument), "invalid_argument");
  EXPECT_EQ(kinetic::exec::to_string(static_cast<EncodeError>(200)), "unknown");
}

// ---- OrderIdGenerator ----

class OrderIdGeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("kinetic_order_ids_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
    state_file_ = (directory_ / "boot").string();
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string file_content() const {
    std::string content(std::filesystem::file_size(state_file_), '\0');
    std::ifstream(state_file_, std::ios::binary)
        .read(content.data(), static_cast<std::streamsize>(content.size()));
    return content;
  }

  std::filesystem::path directory_;
  std::string state_file_;
};

TEST_F(OrderIdGeneratorTest, IdsNeverRepeatAcrossRestarts) {
  std::set<std::uint64_t> seen;
  {
    OrderIdGenerator first_run(state_file_);
    EXPECT_EQ(first_run.boot_number(), 1u);
    EXPECT_EQ(file_content(), "1\n");
    const std::uint64_t id = first_run.next();
    EXPECT_EQ(id, (std::uint64_t{1} << 40) | 1);
    seen.insert(id);
    for (int i = 0; i < 999; ++i)
      EXPECT_TRUE(seen.insert(first_run.next()).second);
  }
  {
    // A "restart": a new generator on the same file continues with the next boot number.
    OrderIdGenerator second_run(state_file_);
    EXPECT_EQ(second_run.boot_number(), 2u);
    EXPECT_EQ(file_content(), "2\n");
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t id = second_run.next();
      EXPECT_EQ(OrderIdGenerator::boot_number_of(id), 2u);
      EXPECT_TRUE(seen.insert(id).second) << id;
    }
  }
  OrderIdGenerator third_run(state_file_);
  EXPECT_EQ(third_run.boot_number(), 3u);
  EXPECT_TRUE(seen.insert(third_run.next()).second);
  EXPECT_EQ(seen.size(), 2001u);
  // The temporary file of the atomic replace is gone.
  EXPECT_FALSE(std::filesystem::exists(state_file_ + ".tmp"));
  // Every id stays a valid orderLinkId that parses back to itself.
  char link_id[kinetic::exec::kOrderLinkIdLength];
  for (const std::uint64_t id : seen) {
    kinetic::exec::format_order_link_id(id, link_id);
    ASSERT_EQ(kinetic::exec::parse_order_link_id(
                  std::string_view(link_id, kinetic::exec::kOrderLinkIdLength)),
              id);
  }
}

TEST_F(OrderIdGeneratorTest, ACorruptOrExhaustedStateFileFailsClosed) {
  std::ofstream(state_file_) << "12x\n";
  EXPECT_THROW(OrderIdGenerator{state_file_}, std::runtime_error);
  std::ofstream(state_file_) << "";
  EXPECT_THROW(OrderIdGenerator{state_file_}, std::runtime_error);
  std::ofstream(state_file_) << OrderIdGenerator::kMaxBootNumber << "\n";
  EXPECT_THROW(OrderIdGenerator{state_file_}, std::runtime_error);
  // A valid file written by hand is continued from.
  std::ofstream(state_file_) << "41";
  EXPECT_EQ(OrderIdGenerator{state_file_}.boot_number(), 42u);
}

TEST_F(OrderIdGeneratorTest, AnUnwritableDirectoryFailsAtStartUp) {
  EXPECT_THROW(OrderIdGenerator{(directory_ / "missing" / "boot").string()}, std::runtime_error);
}

}  // namespace
