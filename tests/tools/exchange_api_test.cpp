// The exchange simulator's Bybit v5 API (tools/kinetic-exchange/api.hpp): REST called through
// handle_rest with a real SimVenue, the synthetic market and a PublicFeed; auth with the
// docs' signature vectors (docs/bybit-v5.md §5) on a clock skewed to 1700000000000; every
// retCode path; rate limits and their headers; faults; the control endpoints; the log.

#include <gtest/gtest.h>
#include <stdio.h>  // open_memstream

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api.hpp"
#include "kinetic/exec/hmac_signer.hpp"
#include "scripted_market_source.hpp"

namespace kinetic::exchange {
namespace {

using nlohmann::json;

constexpr std::string_view kKey = "qTd7Yc3Lx9PwB2mNa1";
constexpr std::string_view kSecret = "Zr4Kp8Wq2Xv6Nb0Jt5Hs9Lc3Fg7Dm1Ay4Ue8";
constexpr std::int64_t kDocTs = 1'700'000'000'000;

Price P(const char* text) {
  return Price::parse(text).value();
}
Qty Q(const char* text) {
  return Qty::parse(text).value();
}

std::int64_t realtime_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sign(std::string_view secret, std::initializer_list<std::string_view> parts) {
  exec::HmacSha256 signer(secret);
  return signer.sign_hex(parts);
}

/// True when `text` starts with `pattern`'s shape: 'x' is a lower-case hex digit, 'd' a
/// decimal digit, anything else itself. (No std::regex: GCC 12 warns inside it under ASan.)
bool starts_with_shape(std::string_view text, std::string_view pattern) {
  if (text.size() < pattern.size())
    return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = text[i];
    const bool digit = c >= '0' && c <= '9';
    const bool ok = pattern[i] == 'x'   ? digit || (c >= 'a' && c <= 'f')
                    : pattern[i] == 'd' ? digit
                                        : c == pattern[i];
    if (!ok)
      return false;
  }
  return true;
}
bool has_shape(std::string_view text, std::string_view pattern) {
  return text.size() == pattern.size() && starts_with_shape(text, pattern);
}

/// The three numbers of Bybit's 10002 message, when `text` is exactly that message.
struct WindowMessage {
  long long request = 0, server = 0, window = 0;
};
std::optional<WindowMessage> parse_window_message(const std::string& text) {
  constexpr std::string_view kPrefix =
      "invalid request, please check your server timestamp or recv_window param. ";
  if (!text.starts_with(kPrefix))
    return std::nullopt;
  WindowMessage m;
  if (std::sscanf(text.c_str() + kPrefix.size(),
                  "req_timestamp[%lld],server_timestamp[%lld],recv_window[%lld]", &m.request,
                  &m.server, &m.window) != 3) {
    return std::nullopt;
  }
  // Exactly that text, nothing more.
  const std::string rebuilt = std::string(kPrefix) + "req_timestamp[" + std::to_string(m.request) +
                              "],server_timestamp[" + std::to_string(m.server) + "],recv_window[" +
                              std::to_string(m.window) + "]";
  if (rebuilt != text)
    return std::nullopt;
  return m;
}

/// A request whose views the test owns.
struct Request {
  std::string method = "GET";
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A response, parsed.
struct Answer {
  HttpResponse http;
  json body;
  [[nodiscard]] int ret_code() const { return body.at("retCode").get<int>(); }
  [[nodiscard]] std::string ret_msg() const { return body.at("retMsg").get<std::string>(); }
  [[nodiscard]] const json& result() const { return body.at("result"); }
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : http.headers) {
      if (key == name)
        return value;
    }
    return std::nullopt;
  }
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_file_ = open_memstream(&log_buffer_, &log_size_);
    ASSERT_NE(log_file_, nullptr);
    SyntheticSourceOptions options;
    options.seed = 7;
    options.instruments = instruments_;
    source_ = make_synthetic_source(options);
    feed_ = std::make_unique<PublicFeed>(*source_, instruments_, PublicCategory::linear);
    std::vector<risk::InstrumentRules> rules;
    for (const auto& instrument : instruments_)
      rules.push_back(instrument.rules);
    venue_ = std::make_unique<exec::sim::SimVenue>(rules, exec::sim::VenueOptions{});
    const auto account = venue_->add_account(Amount::from_units(10'000));
    const auto other = venue_->add_account(Amount::from_units(500));
    context_ = std::make_unique<ExchangeContext>(
        ExchangeContext{*venue_,
                        instruments_,
                        *source_,
                        *feed_,
                        {ApiAccount{std::string(kKey), std::string(kSecret), account},
                         ApiAccount{"other-key", "other-secret", other}},
                        Faults{},
                        RateLimiter{},
                        RequestLog{log_file_},
                        [this] { ++drops_; }});
    // The server's clock reads 1700000000000 + 100 ms now, so the docs' vectors (signed at
    // 1700000000000 with recvWindow 5000) are inside the window for the next 4.9 s.
    context_->faults.clock_skew_ms = kDocTs + 100 - realtime_ms();
    // Let the market build its books, and tell the venue.
    std::vector<TopicMessage> messages;
    for (int i = 0; i < 3000; ++i) {
      const MarketStep step = source_->next();
      feed_->on_step(step, context_->now_ms(), messages);
      messages.clear();
      const std::string& symbol = source_->symbols()[step.symbol_index];
      if (step.kind == MarketStep::Kind::book) {
        const auto& book = source_->book(step.symbol_index);
        venue_->on_book(symbol, book.bids(), book.asks(), context_->now_ms());
      } else if (step.kind == MarketStep::Kind::trade) {
        venue_->on_trade(symbol, step.price, step.qty, step.taker_side, context_->now_ms());
      }
    }
  }

  void TearDown() override {
    context_.reset();
    std::fclose(log_file_);
    std::free(log_buffer_);
  }

  std::string log_text() {
    std::fflush(log_file_);
    return std::string(log_buffer_, log_size_);
  }

  Answer call(const Request& request) {
    HttpRequest http;
    http.method = request.method;
    http.target = request.target;
    const std::size_t question = request.target.find('?');
    http.path = std::string_view(request.target).substr(0, question);
    http.query = question == std::string::npos
                     ? std::string_view{}
                     : std::string_view(request.target).substr(question + 1);
    for (const auto& [name, value] : request.headers)
      http.headers.emplace_back(name, value);
    http.body = request.body;
    Answer answer{handle_rest(*context_, http), {}};
    answer.body = json::parse(answer.http.body);
    return answer;
  }

  Answer get(std::string target) { return call(Request{"GET", std::move(target), "", {}}); }

  /// A signed request with timestamp `ts` (default: the server's now) and `key`/`secret`.
  Answer signed_call(std::string method, std::string path, std::string payload,
                     std::optional<std::int64_t> ts = std::nullopt,
                     std::string_view recv_window = "5000", std::string_view key = kKey,
                     std::string_view secret = kSecret,
                     std::optional<std::string> forced_sign = std::nullopt) {
    const std::string timestamp = std::to_string(ts.value_or(context_->now_ms()));
    Request request;
    request.method = std::move(method);
    const bool get_method = request.method == "GET";
    request.target = get_method && !payload.empty() ? path + "?" + payload : path;
    if (!get_method)
      request.body = payload;
    request.headers = {
        {"X-BAPI-API-KEY", std::string(key)},
        {"X-BAPI-TIMESTAMP", timestamp},
        {"X-BAPI-SIGN", forced_sign.value_or(sign(secret, {timestamp, key, recv_window, payload}))},
        {"X-BAPI-RECV-WINDOW", std::string(recv_window)},
        {"X-BAPI-SIGN-TYPE", "2"}};
    return call(request);
  }
  Answer signed_get(std::string path, std::string query) {
    return signed_call("GET", std::move(path), std::move(query));
  }
  Answer signed_post(std::string path, std::string body) {
    return signed_call("POST", std::move(path), std::move(body));
  }

  const feed::OrderBook& book(std::string_view symbol) const {
    const auto& symbols = source_->symbols();
    return source_->book(static_cast<std::size_t>(
        std::find(symbols.begin(), symbols.end(), symbol) - symbols.begin()));
  }

  std::vector<ExchangeInstrument> instruments_ = builtin_instruments();
  std::unique_ptr<MarketSource> source_;
  std::unique_ptr<PublicFeed> feed_;
  std::unique_ptr<exec::sim::SimVenue> venue_;
  std::unique_ptr<ExchangeContext> context_;
  std::FILE* log_file_ = nullptr;
  char* log_buffer_ = nullptr;
  std::size_t log_size_ = 0;
  int drops_ = 0;
};

// ---- envelope and public endpoints ----

TEST_F(ApiTest, MarketTimeUsesTheSkewedClockInBybitsEnvelope) {
  const Answer answer = get("/v5/market/time");
  EXPECT_EQ(answer.http.status, 200);
  EXPECT_EQ(answer.http.content_type, "application/json");
  // Key order as Bybit's.
  EXPECT_TRUE(
      answer.http.body.starts_with(R"({"retCode":0,"retMsg":"OK","result":{"timeSecond":")"))
      << answer.http.body;
  EXPECT_NE(answer.http.body.find(R"(,"retExtInfo":{},"time":)"), std::string::npos);
  const std::int64_t time = answer.body.at("time").get<std::int64_t>();
  EXPECT_GE(time, kDocTs + 100);
  EXPECT_LT(time, kDocTs + 4000);
  EXPECT_EQ(answer.result().at("timeSecond"), std::to_string(time / 1000));
  EXPECT_EQ(answer.result().at("timeNano"), std::to_string(time * 1'000'000));
  // Public: no rate-limit headers, but Traceid and Timenow.
  EXPECT_FALSE(answer.header("X-Bapi-Limit"));
  ASSERT_TRUE(answer.header("Traceid"));
  EXPECT_TRUE(has_shape(*answer.header("Traceid"), std::string(32, 'x')));
  EXPECT_NE(*answer.header("Traceid"), *get("/v5/market/time").header("Traceid"));
  ASSERT_TRUE(answer.header("Timenow"));
  EXPECT_EQ(*answer.header("Timenow"), std::to_string(time));
}

TEST_F(ApiTest, InstrumentsInfoInBybitsItemShape) {
  const Answer all = get("/v5/market/instruments-info?category=linear");
  ASSERT_EQ(all.ret_code(), 0) << all.http.body;
  EXPECT_EQ(all.result().at("category"), "linear");
  ASSERT_EQ(all.result().at("list").size(), 3u);
  EXPECT_EQ(all.result().at("nextPageCursor"), "");

  const Answer btc = get("/v5/market/instruments-info?category=linear&symbol=BTCUSDT");
  ASSERT_EQ(btc.result().at("list").size(), 1u);
  const json& item = btc.result().at("list")[0];
  EXPECT_EQ(item.at("symbol"), "BTCUSDT");
  EXPECT_EQ(item.at("contractType"), "LinearPerpetual");
  EXPECT_EQ(item.at("status"), "Trading");
  EXPECT_EQ(item.at("baseCoin"), "BTC");
  EXPECT_EQ(item.at("quoteCoin"), "USDT");
  EXPECT_EQ(item.at("settleCoin"), "USDT");
  EXPECT_EQ(item.at("priceScale"), "2");
  EXPECT_EQ(item.at("fundingInterval"), 480);
  EXPECT_EQ(item.at("leverageFilter"),
            json::parse(R"({"minLeverage":"1","maxLeverage":"100.00","leverageStep":"0.01"})"));
  EXPECT_EQ(item.at("priceFilter"),
            json::parse(R"({"minPrice":"0.10","maxPrice":"1999999.80","tickSize":"0.10"})"));
  EXPECT_EQ(item.at("lotSizeFilter"),
            json::parse(R"({"maxOrderQty":"1500.000","minOrderQty":"0.001","qtyStep":"0.001",)"
                        R"("postOnlyMaxOrderQty":"1500.000","maxMktOrderQty":"150.000",)"
                        R"("minNotionalValue":"5"})"));
  EXPECT_TRUE(item.at("preListingInfo").is_null());
  const Answer sol = get("/v5/market/instruments-info?category=linear&symbol=SOLUSDT");
  EXPECT_EQ(sol.result().at("list")[0].at("priceFilter").at("tickSize"), "0.010");
  EXPECT_EQ(sol.result().at("list")[0].at("lotSizeFilter").at("qtyStep"), "0.1");

  EXPECT_EQ(get("/v5/market/instruments-info?category=spot").result().at("list").size(), 0u);
  const Answer missing = get("/v5/market/instruments-info");
  EXPECT_EQ(missing.ret_code(), 10001);
  EXPECT_EQ(missing.ret_msg(), "Illegal category");
  EXPECT_EQ(missing.result(), json::object());
}

TEST_F(ApiTest, OrderbookIsTheMarketsBook) {
  const Answer answer = get("/v5/market/orderbook?category=linear&symbol=BTCUSDT");
  ASSERT_EQ(answer.ret_code(), 0) << answer.http.body;
  const json& result = answer.result();
  EXPECT_EQ(result.at("s"), "BTCUSDT");
  const feed::OrderBook& btc = book("BTCUSDT");
  ASSERT_GE(btc.bid_depth(), 25u);
  ASSERT_GE(btc.ask_depth(), 25u);
  ASSERT_EQ(result.at("b").size(), 25u);  // the default limit
  ASSERT_EQ(result.at("a").size(), 25u);
  for (std::size_t i = 0; i < 25; ++i) {
    char price[32], qty[32];
    price[btc.bid(i).price.format_fixed(price, 2)] = '\0';
    qty[btc.bid(i).qty.format_fixed(qty, 3)] = '\0';
    EXPECT_EQ(result.at("b")[i], json::array({price, qty}));
    price[btc.ask(i).price.format_fixed(price, 2)] = '\0';
    qty[btc.ask(i).qty.format_fixed(qty, 3)] = '\0';
    EXPECT_EQ(result.at("a")[i], json::array({price, qty}));
  }
  EXPECT_EQ(result.at("u").get<std::uint64_t>(), feed_->book_update_id("BTCUSDT"));
  EXPECT_EQ(result.at("seq").get<std::uint64_t>(), btc.sequence());
  EXPECT_TRUE(result.at("ts").is_number_integer());
  EXPECT_TRUE(result.at("cts").is_number_integer());

  const Answer one = get("/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit=1");
  EXPECT_EQ(one.result().at("b").size(), 1u);
  EXPECT_EQ(one.result().at("a").size(), 1u);
  EXPECT_EQ(get("/v5/market/orderbook?category=linear").ret_code(), 10001);
  EXPECT_EQ(get("/v5/market/orderbook?category=linear&symbol=DOGEUSDT").ret_msg(),
            "params error: symbol invalid");
  EXPECT_EQ(get("/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit=x").ret_code(), 10001);
}

/// A source that yields the trades it is given (for candles computed by hand).
using test::ScriptedSource;

TEST_F(ApiTest, KlineNewestFirstSevenStringsAndAggregated) {
  // Three candles by hand: minute m0 (3500 → 3501.5 → 3499), m1 (3502), m5 (3490).
  constexpr std::int64_t m0 = 1'767'225'600'000;  // a whole hour (and 5 minutes)
  ScriptedSource source({});
  PublicFeed feed(source, instruments_, PublicCategory::linear);
  ExchangeContext context{*venue_, instruments_, source, feed, {}, {}, {}, RequestLog{nullptr}, {}};
  std::vector<TopicMessage> out;
  const auto trade = [&](std::int64_t ms, const char* price, const char* qty) {
    MarketStep step;
    step.kind = MarketStep::Kind::trade;
    step.price = P(price);
    step.qty = Q(qty);
    step.taker_side = Side::buy;
    step.trade_id = "00000000-0000-0000-0000-000000000001";
    step.exch_ts_ns = ms * 1'000'000;
    feed.on_step(step, ms, out);
    feed.on_timer(ms, out);
  };
  trade(m0 + 1000, "3500.00", "1.00");
  trade(m0 + 1500, "3501.50", "2.00");
  trade(m0 + 2500, "3499.00", "0.50");
  trade(m0 + 61'000, "3502.00", "1.00");
  trade(m0 + 301'000, "3490.00", "2.00");
  const auto candles = feed.candles("ETHUSDT");
  ASSERT_GE(candles.size(), 3u);

  HttpRequest request;
  request.method = "GET";
  request.path = "/v5/market/kline";
  const std::string query1 =
      "category=linear&symbol=ETHUSDT&interval=1&start=" + std::to_string(m0);
  request.query = query1;
  json reply = json::parse(handle_rest(context, request).body);
  ASSERT_EQ(reply.at("retCode"), 0) << reply.dump();
  EXPECT_EQ(reply.at("result").at("category"), "linear");
  EXPECT_EQ(reply.at("result").at("symbol"), "ETHUSDT");
  const json& list = reply.at("result").at("list");
  ASSERT_EQ(list.size(), candles.size());
  // Newest first; m0's candle is the last: 3500×1 + 3501.5×2 + 3499×0.5 = 12252.5.
  EXPECT_EQ(list.back(), json::parse(R"(["1767225600000","3500.00","3501.50","3499.00",)"
                                     R"("3499.00","3.50","12252.5"])"));
  EXPECT_EQ(list.front()[0], std::to_string(m0 + 300'000));
  EXPECT_EQ(list.front()[4], "3490.00");
  for (const json& row : list) {
    ASSERT_EQ(row.size(), 7u);
    for (const json& cell : row)
      EXPECT_TRUE(cell.is_string());
  }
  // limit=1: the newest only.
  const std::string query2 = query1 + "&limit=1";
  request.query = query2;
  reply = json::parse(handle_rest(context, request).body);
  ASSERT_EQ(reply.at("result").at("list").size(), 1u);
  EXPECT_EQ(reply.at("result").at("list")[0][0], std::to_string(m0 + 300'000));
  // interval=5 merges m0..m4 into one candle: open 3500, high 3502, low 3499, close 3502,
  // volume 4.5, turnover 12252.5 + 3502 = 15754.5; m5 is the next one.
  const std::string query3 =
      "category=linear&symbol=ETHUSDT&interval=5&start=" + std::to_string(m0) +
      "&end=" + std::to_string(m0 + 300'000);
  request.query = query3;
  reply = json::parse(handle_rest(context, request).body);
  ASSERT_EQ(reply.at("result").at("list").size(), 2u) << reply.dump();
  EXPECT_EQ(reply.at("result").at("list")[1],
            json::parse(R"(["1767225600000","3500.00","3502.00","3499.00","3502.00","4.50",)"
                        R"("15754.5"])"));
  // interval=W: one candle from Monday 2025-12-29 00:00 UTC (m0 is Thursday 2026-01-01).
  request.query = "category=linear&symbol=ETHUSDT&interval=W";
  reply = json::parse(handle_rest(context, request).body);
  ASSERT_EQ(reply.at("result").at("list").size(), 1u) << reply.dump();
  EXPECT_EQ(reply.at("result").at("list")[0][0], "1766966400000");
  EXPECT_EQ(reply.at("result").at("list")[0][4], "3490.00");
  request.query = "category=linear&symbol=ETHUSDT&interval=2";
  reply = json::parse(handle_rest(context, request).body);
  EXPECT_EQ(reply.at("retCode"), 10001);
  EXPECT_EQ(reply.at("retMsg"), "Invalid period!");
}

// ---- authentication ----

TEST_F(ApiTest, EveryDocsVectorIsAcceptedAtItsTimestamp) {
  const auto vector = [&](std::string method, std::string path, std::string payload,
                          std::string signature, std::string recv_window = "5000") {
    return signed_call(std::move(method), std::move(path), std::move(payload), kDocTs, recv_window,
                       kKey, kSecret, std::move(signature));
  };
  // GET: the query as sent is signed, so both orders are valid with their own signature.
  Answer answer = vector("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT",
                         "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef");
  EXPECT_EQ(answer.ret_code(), 0) << answer.http.body;
  EXPECT_EQ(answer.result().at("list")[0].at("size"), "0.000");  // flat row for a symbol
  answer = vector("GET", "/v5/position/list", "symbol=BTCUSDT&category=linear",
                  "3885f5bf9bff1954372401fe03738ee8cb356c70c036d284ea4d1c3d9587c9f3");
  EXPECT_EQ(answer.ret_code(), 0) << answer.http.body;
  answer = vector("GET", "/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT",
                  "a395c3a2e167c11ffd8aeff94c32e1b5608e0f3784b3971f4b5c1c35c91031a7");
  EXPECT_EQ(answer.ret_code(), 0) << answer.http.body;
  EXPECT_EQ(answer.result().at("list")[0].at("totalWalletBalance"), "10000");
  // Empty query: the signature passes, then the missing category is a parameter error.
  answer = vector("GET", "/v5/position/list", "",
                  "e7f0eb5ce98da68966557bfa93ba6c5dcbfadffa3b814b321534daa4562a73d6");
  EXPECT_EQ(answer.ret_code(), 10001);
  EXPECT_EQ(answer.ret_msg(), "Illegal category");
  answer = vector("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT",
                  "6a4a927512adbf0d5ea81b95087ec2bb4a38c20820beabc32bfabcf6334a2046", "20000");
  EXPECT_EQ(answer.ret_code(), 0) << answer.http.body;

  // POST: the exact body bytes, compact or with pybit's spacing.
  const std::string body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"30000","timeInForce":"GTC","orderLinkId":"test-0001"})";
  answer = vector("POST", "/v5/order/create", body,
                  "90e37d5df4e00108ed91c6e73fe4158bd1d5e7b625e98d97e03057cce631040c");
  EXPECT_NE(answer.ret_code(), 10004) << answer.http.body;
  EXPECT_NE(answer.ret_code(), 10002);
  const int compact_code = answer.ret_code();
  const std::string spaced =
      R"({"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "30000", "timeInForce": "GTC", "orderLinkId": "test-0001"})";
  answer = vector("POST", "/v5/order/create", spaced,
                  "cf96fa202608da0f04005e9c69f7c258af50b324b35924c3c648a67d1583ea3b");
  // Signature accepted; a second order with the same orderLinkId is a duplicate (if the first
  // was accepted) or fails the same way.
  EXPECT_EQ(answer.ret_code(), compact_code == 0 ? 110072 : compact_code) << answer.http.body;
  answer = vector("POST", "/v5/order/cancel-all", R"({"category":"linear","settleCoin":"USDT"})",
                  "34345dc2b41e775fce85a1ee205d855cc5ad94b2cc20b69eb02299e3256ff9d3");
  EXPECT_EQ(answer.ret_code(), 0) << answer.http.body;
  EXPECT_EQ(answer.result().at("success"), "1");
  answer =
      vector("POST", "/v5/position/set-leverage",
             R"({"category":"linear","symbol":"BTCUSDT","buyLeverage":"10","sellLeverage":"10"})",
             "566a1bd048cfa78b7b002647ac055fffbb6ff97c783fe9f216824f7f9590a0b3");
  EXPECT_EQ(answer.ret_code(), 110043);  // 10 is the default: not modified
  EXPECT_EQ(answer.ret_msg(), "Set leverage has not been modified.");
  answer = vector(
      "POST", "/v5/order/create",
      R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.001","reduceOnly":true,"positionIdx":0})",
      "ed754350bafbfbd8cb44468a1e5d38799731bf1856b434a25409226eef637512");
  EXPECT_EQ(answer.ret_code(), 110017);  // nothing to reduce
}

TEST_F(ApiTest, OneByteChangedIsAWrongSignatureThatEchoesTheOriginString) {
  // The signature with one character changed.
  Answer answer = signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", kDocTs,
                              "5000", kKey, kSecret,
                              "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ee");
  EXPECT_EQ(answer.http.status, 200);
  EXPECT_EQ(answer.ret_code(), 10004);
  EXPECT_EQ(answer.ret_msg(),
            "error sign! origin_string[1700000000000qTd7Yc3Lx9PwB2mNa15000category=linear&"
            "symbol=BTCUSDT]");
  EXPECT_EQ(answer.result(), json::object());
  // The query with one byte changed under the original signature.
  answer = signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDU", kDocTs, "5000",
                       kKey, kSecret,
                       "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef");
  EXPECT_EQ(answer.ret_code(), 10004);
  // A body with one byte changed.
  answer = signed_call("POST", "/v5/order/cancel-all",
                       R"({"category":"linear","settleCoin":"USDC"})", kDocTs, "5000", kKey,
                       kSecret, "34345dc2b41e775fce85a1ee205d855cc5ad94b2cc20b69eb02299e3256ff9d3");
  EXPECT_EQ(answer.ret_code(), 10004);
  // The wrong secret.
  answer = signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", std::nullopt,
                       "5000", kKey, "not-the-secret");
  EXPECT_EQ(answer.ret_code(), 10004);
  // Upper-case hex is the same signature.
  answer = signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", kDocTs, "5000",
                       kKey, kSecret,
                       "BA7B211E54464150576AD90420166FD7CDAD08F425A5339596FF85994A4001EF");
  EXPECT_EQ(answer.ret_code(), 0);
}

TEST_F(ApiTest, TimestampOutsideTheWindowIs10002WithBybitsMessage) {
  const std::int64_t now = context_->now_ms();
  // Too old: more than recvWindow before the server's time.
  Answer answer =
      signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", now - 6000);
  EXPECT_EQ(answer.ret_code(), 10002);
  auto parsed = parse_window_message(answer.ret_msg());
  ASSERT_TRUE(parsed) << answer.ret_msg();
  EXPECT_EQ(parsed->request, now - 6000);
  EXPECT_GE(parsed->server, now);
  EXPECT_EQ(parsed->window, 5000);
  // Too far ahead: 1000 ms or more after the server's time.
  answer = signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", now + 3000);
  EXPECT_EQ(answer.ret_code(), 10002);
  // A small recvWindow makes a slightly old request too old.
  answer =
      signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", now - 500, "100");
  EXPECT_EQ(answer.ret_code(), 10002);
  parsed = parse_window_message(answer.ret_msg());
  ASSERT_TRUE(parsed) << answer.ret_msg();
  EXPECT_EQ(parsed->window, 100);
  // Slightly ahead (< 1000 ms) and slightly old (< recvWindow) are fine.
  EXPECT_EQ(signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", now + 500)
                .ret_code(),
            0);
  EXPECT_EQ(signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", now - 3000)
                .ret_code(),
            0);
  // The docs' vectors are refused once the server's clock is the real one.
  context_->faults.clock_skew_ms = 0;
  answer = signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", kDocTs, "5000",
                       kKey, kSecret,
                       "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef");
  EXPECT_EQ(answer.ret_code(), 10002);
}

TEST_F(ApiTest, KeyAndHeaderErrors) {
  Answer answer = signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT",
                              std::nullopt, "5000", "unknown-key", kSecret);
  EXPECT_EQ(answer.http.status, 200);
  EXPECT_EQ(answer.ret_code(), 10003);
  EXPECT_EQ(answer.ret_msg(), "API key is invalid.");
  EXPECT_FALSE(answer.header("X-Bapi-Limit"));  // no UID known, no limit headers

  // No auth headers at all.
  answer = get("/v5/position/list?category=linear&symbol=BTCUSDT");
  EXPECT_EQ(answer.http.status, 401);
  EXPECT_EQ(answer.ret_code(), 10003);

  // Each header missing in turn.
  const std::string query = "category=linear&symbol=BTCUSDT";
  const std::string ts = std::to_string(context_->now_ms());
  const std::string good_sign = sign(kSecret, {ts, kKey, "5000", query});
  const auto without = [&](std::string_view skipped) {
    Request request{"GET", "/v5/position/list?" + query, "", {}};
    for (auto [name, value] :
         {std::pair<std::string, std::string>{"X-BAPI-API-KEY", std::string(kKey)},
          {"X-BAPI-TIMESTAMP", ts},
          {"X-BAPI-SIGN", good_sign},
          {"X-BAPI-RECV-WINDOW", "5000"}}) {
      if (name != skipped)
        request.headers.emplace_back(name, value);
    }
    return call(request);
  };
  EXPECT_EQ(without("").ret_code(), 0);
  EXPECT_EQ(without("X-BAPI-API-KEY").ret_code(), 10003);
  EXPECT_EQ(without("X-BAPI-TIMESTAMP").http.status, 401);
  EXPECT_EQ(without("X-BAPI-TIMESTAMP").ret_code(), 10001);
  EXPECT_EQ(without("X-BAPI-SIGN").ret_code(), 10004);
  // The window defaults to 5000 (and the signature was made with "5000").
  EXPECT_EQ(without("X-BAPI-RECV-WINDOW").ret_code(), 0);
  // Header names are case-insensitive.
  Request lower{"GET", "/v5/position/list?" + query, "", {}};
  lower.headers = {{"x-bapi-api-key", std::string(kKey)},
                   {"x-bapi-timestamp", ts},
                   {"x-bapi-sign", good_sign},
                   {"x-bapi-recv-window", "5000"}};
  EXPECT_EQ(call(lower).ret_code(), 0);
  // Non-numeric values.
  EXPECT_EQ(signed_call("GET", "/v5/position/list", query, std::nullopt, "abc").ret_code(), 10001);
  Request bad_ts = lower;
  bad_ts.headers[1].second = "17e11";
  EXPECT_EQ(call(bad_ts).ret_code(), 10001);
}

TEST_F(ApiTest, WebSocketAuthVerification) {
  // The docs' vector: expires 1700000010000 is in the future of the skewed clock.
  auto verified =
      verify_ws_auth(*context_, kKey, 1'700'000'010'000,
                     "2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8");
  ASSERT_TRUE(std::holds_alternative<const ApiAccount*>(verified));
  EXPECT_EQ(std::get<const ApiAccount*>(verified)->key, kKey);
  verified = verify_ws_auth(*context_, kKey, 1'700'000'010'000,
                            "2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf9");
  ASSERT_TRUE(std::holds_alternative<ApiError>(verified));
  EXPECT_EQ(std::get<ApiError>(verified).ret_code, 10004);
  verified = verify_ws_auth(*context_, "nobody", 1'700'000'010'000,
                            "2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8");
  EXPECT_EQ(std::get<ApiError>(verified).ret_code, 10003);
  // Expired (the docs' other example, with our secret: correct signature, past time).
  context_->faults.clock_skew_ms = 0;
  verified = verify_ws_auth(*context_, kKey, 1'711'010'121'452,
                            "cd833d16dc7a76f3354c9fbbecb693d9815a70b069d56f581e0ea11516517bd3");
  EXPECT_EQ(std::get<ApiError>(verified).ret_code, 10002);
}

// ---- rate limits ----

TEST_F(ApiTest, RateLimiterDefaultsAndRollingWindow) {
  EXPECT_EQ(RateLimiter::limit_for("/v5/order/create"), 10);
  EXPECT_EQ(RateLimiter::limit_for("/v5/order/amend"), 10);
  EXPECT_EQ(RateLimiter::limit_for("/v5/order/cancel"), 10);
  EXPECT_EQ(RateLimiter::limit_for("/v5/order/cancel-all"), 10);
  EXPECT_EQ(RateLimiter::limit_for("/v5/order/realtime"), 50);
  EXPECT_EQ(RateLimiter::limit_for("/v5/execution/list"), 50);
  EXPECT_EQ(RateLimiter::limit_for("/v5/position/list"), 50);
  EXPECT_EQ(RateLimiter::limit_for("/v5/position/set-leverage"), 10);
  EXPECT_EQ(RateLimiter::limit_for("/v5/account/wallet-balance"), 50);
  EXPECT_EQ(RateLimiter::limit_for("/v5/market/time"), 0);

  RateLimiter limiter;
  for (int i = 0; i < 10; ++i) {
    const RateDecision d = limiter.take(1, "/v5/order/create", 1000 + i * 10);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 10);
    EXPECT_EQ(d.remaining, 9 - i);
    EXPECT_EQ(d.reset_ms, 1000 + i * 10);
  }
  RateDecision d = limiter.take(1, "/v5/order/create", 1500);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.reset_ms, 2000);  // when the oldest (t=1000) leaves the window
  // Other UID and other endpoint have their own windows.
  EXPECT_TRUE(limiter.take(2, "/v5/order/create", 1500).allowed);
  EXPECT_TRUE(limiter.take(1, "/v5/order/cancel", 1500).allowed);
  // At t=2000 the first request has left the 1-s window: one slot.
  d = limiter.take(1, "/v5/order/create", 2000);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_FALSE(limiter.take(1, "/v5/order/create", 2005).allowed);
  d = limiter.take(1, "/v5/order/create", 2010);  // t=1010 left too
  EXPECT_TRUE(d.allowed);
  // Unlimited paths always pass with limit 0.
  d = limiter.take(1, "/v5/market/time", 2010);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.limit, 0);
}

TEST_F(ApiTest, TheEleventhCreateInOneSecondIs10006WithTheLimitHeaders) {
  // Parameter errors count too (the limit comes first).
  const std::string body = R"({"category":"linear","symbol":"BTCUSDT","side":"Up"})";
  for (int i = 0; i < 10; ++i) {
    const Answer answer = signed_post("/v5/order/create", body);
    EXPECT_EQ(answer.ret_code(), 10001);
    EXPECT_EQ(answer.header("X-Bapi-Limit"), "10");
    EXPECT_EQ(answer.header("X-Bapi-Limit-Status"), std::to_string(9 - i));
    EXPECT_EQ(answer.header("X-Bapi-Limit-Reset-Timestamp"), answer.header("Timenow"));
  }
  const std::int64_t before = context_->now_ms();
  const Answer limited = signed_post("/v5/order/create", body);
  EXPECT_EQ(limited.http.status, 200);
  EXPECT_EQ(limited.ret_code(), 10006);
  EXPECT_EQ(limited.ret_msg(), "Too many visits!");
  EXPECT_EQ(limited.header("X-Bapi-Limit"), "10");
  EXPECT_EQ(limited.header("X-Bapi-Limit-Status"), "0");
  const std::int64_t reset = std::stoll(*limited.header("X-Bapi-Limit-Reset-Timestamp"));
  EXPECT_GT(reset, before);
  EXPECT_LE(reset, before + 1000);
  // Another endpoint and another key are not limited.
  EXPECT_EQ(
      signed_get("/v5/order/realtime", "category=linear&symbol=BTCUSDT").header("X-Bapi-Limit"),
      "50");
  EXPECT_EQ(signed_call("POST", "/v5/order/create", body, std::nullopt, "5000", "other-key",
                        "other-secret")
                .ret_code(),
            10001);
  // A second later (the clock moved by the skew) the window is free again.
  context_->faults.clock_skew_ms += 1001;
  const Answer later = signed_post("/v5/order/create", body);
  EXPECT_EQ(later.ret_code(), 10001);
  EXPECT_EQ(later.header("X-Bapi-Limit-Status"), "9");
}

// ---- parameters ----

TEST_F(ApiTest, OrderParameterChecks) {
  // Many requests in one second: a fresh limiter for each keeps the 10/s limit out of the way.
  const auto create = [&](std::string body) {
    context_->limiter = RateLimiter{};
    return signed_post("/v5/order/create", body);
  };
  const auto expect = [&](const Answer& answer, int code, std::string_view message) {
    EXPECT_EQ(answer.ret_code(), code) << answer.http.body;
    EXPECT_EQ(answer.ret_msg(), message) << answer.http.body;
    EXPECT_EQ(answer.result(), json::object());
  };
  expect(create(R"({"symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001"})"), 10001,
         "Illegal category");
  expect(
      create(
          R"({"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001"})"),
      10001, "Illegal category");
  expect(create(R"({"category":"linear","side":"Buy","orderType":"Market","qty":"0.001"})"), 10001,
         "params error: symbol invalid");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"buy","orderType":"Market","qty":"0.001"})"),
      10001, "params error: side invalid");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Stop","qty":"0.001"})"),
      10001, "params error: orderType invalid");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"abc"})"),
      10001, "params error: qty invalid");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":0.001})"),
      10001, "params error: qty must be a string");
  expect(create(R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market"})"),
         10001, "params error: qty is required");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001"})"),
      10001, "params error: price invalid");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"60000","timeInForce":"GTD"})"),
      10001, "params error: timeInForce invalid");
  const std::string long_id(37, 'a');
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"60000","orderLinkId":")" +
          long_id + R"("})"),
      10001, "params error: orderLinkId invalid: at most 36 characters of A-Z a-z 0-9 _ -");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"60000","orderLinkId":"a.b"})"),
      10001, "params error: orderLinkId invalid: at most 36 characters of A-Z a-z 0-9 _ -");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001","positionIdx":1})"),
      10001, "position idx not match position mode");
  expect(
      create(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001","reduceOnly":"yes"})"),
      10001, "params error: reduceOnly must be a boolean");
  expect(create("not json"), 10001, "params error: request body is not valid JSON");
  expect(create("[1,2]"), 10001, "params error: request body is not a JSON object");
  expect(create(""), 10001, "params error: request body is empty");
  // Venue errors pass through: qty off the step.
  const Answer off_step = create(
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.0015"})");
  EXPECT_EQ(off_step.ret_code(), 10001);
  // Amend and cancel need an id.
  expect(signed_post("/v5/order/cancel", R"({"category":"linear","symbol":"BTCUSDT"})"), 10001,
         "params error: orderId or orderLinkId is required");
  expect(signed_post("/v5/order/cancel",
                     R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":"nope"})"),
         110001, "Order does not exist.");
  expect(signed_post("/v5/order/amend", R"({"category":"linear","symbol":"BTCUSDT","qty":"1"})"),
         10001, "params error: orderId or orderLinkId is required");
  // Other endpoints.
  expect(signed_get("/v5/account/wallet-balance", ""), 10001, "accountType only support UNIFIED.");
  expect(signed_get("/v5/account/wallet-balance", "accountType=CONTRACT"), 10001,
         "accountType only support UNIFIED.");
  expect(signed_get("/v5/position/list", "category=linear"), 10001,
         "Missing some parameters that must be filled in, symbol or settleCoin");
  expect(signed_get("/v5/order/realtime", "category=linear"), 10001,
         "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin");
  expect(signed_post("/v5/order/cancel-all", R"({"category":"linear"})"), 10001,
         "Missing some parameters that must be filled in, symbol or baseCoin or settleCoin");
  expect(signed_post(
             "/v5/position/set-leverage",
             R"({"category":"linear","symbol":"BTCUSDT","buyLeverage":"5","sellLeverage":"6"})"),
         10001, "params error: buyLeverage must equal sellLeverage in one-way mode");
  expect(signed_get("/v5/execution/list", "category=inverse"), 10001, "Illegal category");
}

TEST_F(ApiTest, RoutesMethodsAndBodies) {
  Answer answer = get("/v5/order/nothing");
  EXPECT_EQ(answer.http.status, 404);
  EXPECT_EQ(answer.ret_code(), 10017);
  EXPECT_EQ(answer.ret_msg(), "route not found");
  answer = call(Request{"POST", "/v5/market/time", "{}", {}});
  EXPECT_EQ(answer.http.status, 400);
  EXPECT_EQ(answer.ret_code(), 10001);
  answer = signed_call("GET", "/v5/order/create", "category=linear");
  EXPECT_EQ(answer.http.status, 400);
  answer = call(Request{"GET", "/v5/market/time", R"({"a":1})", {}});
  EXPECT_EQ(answer.http.status, 403);
}

// ---- an order's life ----

TEST_F(ApiTest, AnOrdersLifeOverRest) {
  const feed::OrderBook& btc = book("BTCUSDT");
  const Price best_bid = btc.best_bid()->price;
  const Price best_ask = btc.best_ask()->price;
  char bid_text[32];
  bid_text[(best_bid - P("500")).format_fixed(bid_text, 2)] = '\0';

  // A resting limit buy well below the market.
  Answer answer = signed_post(
      "/v5/order/create",
      std::string(
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.010","price":")") +
          bid_text + R"(","timeInForce":"GTC","orderLinkId":"life-1"})");
  ASSERT_EQ(answer.ret_code(), 0) << answer.http.body;
  const std::string order_id = answer.result().at("orderId");
  EXPECT_EQ(answer.result().at("orderLinkId"), "life-1");
  EXPECT_EQ(answer.result().size(), 2u);
  EXPECT_TRUE(has_shape(order_id, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")) << order_id;
  // Duplicate orderLinkId.
  EXPECT_EQ(
      signed_post(
          "/v5/order/create",
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.010","price":")" +
              std::string(bid_text) + R"(","orderLinkId":"life-1"})")
          .ret_code(),
      110072);

  answer = signed_get("/v5/order/realtime", "category=linear&symbol=BTCUSDT");
  ASSERT_EQ(answer.ret_code(), 0);
  ASSERT_EQ(answer.result().at("list").size(), 1u);
  json order = answer.result().at("list")[0];
  EXPECT_EQ(order.at("orderId"), order_id);
  EXPECT_EQ(order.at("orderLinkId"), "life-1");
  EXPECT_EQ(order.at("orderStatus"), "New");
  EXPECT_EQ(order.at("price"), bid_text);
  EXPECT_EQ(order.at("qty"), "0.010");
  EXPECT_EQ(order.at("leavesQty"), "0.010");
  EXPECT_EQ(order.at("cumExecQty"), "0.000");
  EXPECT_EQ(order.at("avgPrice"), "");
  EXPECT_EQ(order.at("positionIdx"), 0);
  EXPECT_EQ(order.at("reduceOnly"), false);
  EXPECT_EQ(order.at("category"), "linear");
  EXPECT_TRUE(order.at("createdTime").is_string());

  // Amend the price by orderLinkId, then cancel by orderId.
  char amended[32];
  amended[(best_bid - P("600")).format_fixed(amended, 2)] = '\0';
  answer =
      signed_post("/v5/order/amend",
                  R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":"life-1","price":")" +
                      std::string(amended) + R"("})");
  ASSERT_EQ(answer.ret_code(), 0) << answer.http.body;
  EXPECT_EQ(answer.result().at("orderId"), order_id);
  answer = signed_get("/v5/order/realtime", "category=linear&orderLinkId=life-1&symbol=BTCUSDT");
  EXPECT_EQ(answer.result().at("list")[0].at("price"), amended);
  answer =
      signed_post("/v5/order/cancel",
                  R"({"category":"linear","symbol":"BTCUSDT","orderId":")" + order_id + R"("})");
  ASSERT_EQ(answer.ret_code(), 0) << answer.http.body;
  EXPECT_EQ(
      signed_get("/v5/order/realtime", "category=linear&symbol=BTCUSDT").result().at("list").size(),
      0u);
  answer = signed_get("/v5/order/realtime", "category=linear&symbol=BTCUSDT&orderId=" + order_id);
  ASSERT_EQ(answer.result().at("list").size(), 1u);
  EXPECT_EQ(answer.result().at("list")[0].at("orderStatus"), "Cancelled");
  EXPECT_EQ(answer.result().at("list")[0].at("cancelType"), "CancelByUser");

  // A market buy takes the best ask (0.001 is far below the book's size there).
  ASSERT_GE(btc.best_ask()->qty, Q("0.001"));
  answer = signed_post(
      "/v5/order/create",
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001","orderLinkId":"life-2"})");
  ASSERT_EQ(answer.ret_code(), 0) << answer.http.body;
  char ask_text[32];
  ask_text[best_ask.format_fixed(ask_text, 2)] = '\0';
  answer = signed_get("/v5/execution/list", "category=linear&symbol=BTCUSDT");
  ASSERT_EQ(answer.ret_code(), 0);
  ASSERT_EQ(answer.result().at("list").size(), 1u);
  const json execution = answer.result().at("list")[0];
  EXPECT_EQ(execution.at("orderLinkId"), "life-2");
  EXPECT_EQ(execution.at("execPrice"), ask_text);
  EXPECT_EQ(execution.at("execQty"), "0.001");
  EXPECT_EQ(execution.at("isMaker"), false);
  EXPECT_EQ(execution.at("feeRate"), "0.00055");
  EXPECT_EQ(execution.at("execType"), "Trade");
  const Amount value = notional(best_ask, Q("0.001")).value();
  char value_text[32];
  value_text[value.format(value_text)] = '\0';
  EXPECT_EQ(execution.at("execValue"), value_text);
  // fee = value × 0.00055 rounded to the nearest 1e-8 (the venue's rule).
  const Amount fee = Amount::from_raw((value.raw() * 55 + 50'000) / 100'000);
  char fee_text[32];
  fee_text[fee.format(fee_text)] = '\0';
  EXPECT_EQ(execution.at("execFee"), fee_text);

  answer = signed_get("/v5/position/list", "category=linear&symbol=BTCUSDT");
  ASSERT_EQ(answer.result().at("list").size(), 1u);
  const json position = answer.result().at("list")[0];
  EXPECT_EQ(position.at("symbol"), "BTCUSDT");
  EXPECT_EQ(position.at("side"), "Buy");
  EXPECT_EQ(position.at("size"), "0.001");
  EXPECT_EQ(position.at("leverage"), "10");
  EXPECT_EQ(position.at("positionIdx"), 0);
  EXPECT_FALSE(position.contains("entryPrice"));
  EXPECT_EQ(Price::parse(position.at("avgPrice").get<std::string>()).value(), best_ask);
  EXPECT_EQ(
      signed_get("/v5/position/list", "category=linear&settleCoin=USDT").result().at("list").size(),
      1u);

  answer = signed_get("/v5/account/wallet-balance", "accountType=UNIFIED");
  ASSERT_EQ(answer.ret_code(), 0);
  const json wallet = answer.result().at("list")[0];
  EXPECT_EQ(wallet.at("accountType"), "UNIFIED");
  const Amount balance = Amount::from_units(10'000) - fee;
  char balance_text[32];
  balance_text[balance.format(balance_text)] = '\0';
  EXPECT_EQ(wallet.at("totalWalletBalance"), balance_text);
  EXPECT_EQ(wallet.at("coin")[0].at("coin"), "USDT");
  EXPECT_EQ(wallet.at("coin")[0].at("walletBalance"), balance_text);
  EXPECT_EQ(signed_get("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDC")
                .result()
                .at("list")
                .size(),
            0u);

  // Set a new leverage, then cancel-all with nothing open.
  EXPECT_EQ(signed_post(
                "/v5/position/set-leverage",
                R"({"category":"linear","symbol":"ETHUSDT","buyLeverage":"5","sellLeverage":"5"})")
                .ret_code(),
            0);
  answer = signed_post("/v5/order/cancel-all", R"({"category":"linear","symbol":"BTCUSDT"})");
  EXPECT_EQ(answer.ret_code(), 0);
  EXPECT_EQ(answer.result(), json::parse(R"({"list":[],"success":"1"})"));
}

TEST_F(ApiTest, CancelAllListsWhatItCancelled) {
  const Price bid = book("ETHUSDT").best_bid()->price - P("100");
  char text[32];
  text[bid.format_fixed(text, 2)] = '\0';
  for (const char* id : {"ca-1", "ca-2"}) {
    ASSERT_EQ(
        signed_post(
            "/v5/order/create",
            R"({"category":"linear","symbol":"ETHUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":")" +
                std::string(text) + R"(","orderLinkId":")" + id + R"("})")
            .ret_code(),
        0);
  }
  const Answer answer =
      signed_post("/v5/order/cancel-all", R"({"category":"linear","baseCoin":"ETH"})");
  ASSERT_EQ(answer.ret_code(), 0) << answer.http.body;
  ASSERT_EQ(answer.result().at("list").size(), 2u);
  std::vector<std::string> ids;
  for (const json& item : answer.result().at("list"))
    ids.push_back(item.at("orderLinkId"));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"ca-1", "ca-2"}));
  EXPECT_TRUE(venue_->open_orders(1, "").empty());
}

// ---- faults and control ----

TEST_F(ApiTest, ApplyFaultParsesEachFault) {
  Faults faults;
  int drops = 0;
  const std::function<void()> drop = [&] { ++drops; };
  EXPECT_EQ(apply_fault(faults,
                        R"({"fault":"reject","path":"/v5/order/create","retCode":10006,"count":2})",
                        1000, drop),
            std::nullopt);
  ASSERT_EQ(faults.rejects.size(), 1u);
  EXPECT_EQ(faults.rejects[0].path, "/v5/order/create");
  EXPECT_EQ(faults.rejects[0].ret_code, 10006);
  EXPECT_EQ(faults.rejects[0].count, 2);
  EXPECT_EQ(
      apply_fault(faults, R"({"fault":"delay","path":"/v5/order/create","ms":300})", 1000, drop),
      std::nullopt);
  ASSERT_EQ(faults.delays.size(), 1u);
  EXPECT_EQ(faults.delays[0].delay, std::chrono::milliseconds(300));
  EXPECT_EQ(delay_for(faults, "/v5/order/create"), std::chrono::milliseconds(300));
  EXPECT_EQ(delay_for(faults, "/v5/order/cancel"), std::chrono::milliseconds(0));
  EXPECT_EQ(apply_fault(faults, R"({"fault":"clock_skew","ms":-5000})", 1000, drop), std::nullopt);
  EXPECT_EQ(faults.clock_skew_ms, -5000);
  EXPECT_EQ(apply_fault(faults, R"({"fault":"pause_market_data","seconds":70})", 1000, drop),
            std::nullopt);
  EXPECT_EQ(faults.pause_market_data_until_ms, 71'000);
  EXPECT_EQ(apply_fault(faults, R"({"fault":"malformed_frames","count":3})", 1000, drop),
            std::nullopt);
  EXPECT_EQ(faults.malformed_frames, 3);
  EXPECT_EQ(apply_fault(faults, R"({"fault":"drop_connections"})", 1000, drop), std::nullopt);
  EXPECT_EQ(drops, 1);
  // Taking the rejects: two, then none.
  auto reject = take_reject(faults, "/v5/order/create");
  ASSERT_TRUE(reject);
  EXPECT_EQ(reject->ret_code, 10006);
  EXPECT_EQ(reject->ret_msg, "Too many visits!");
  EXPECT_TRUE(take_reject(faults, "/v5/order/create"));
  EXPECT_FALSE(take_reject(faults, "/v5/order/create"));
  EXPECT_TRUE(faults.rejects.empty());
  // Errors.
  EXPECT_TRUE(apply_fault(faults, "nope", 0, drop));
  EXPECT_TRUE(apply_fault(faults, "[]", 0, drop));
  EXPECT_TRUE(apply_fault(faults, R"({"fault":"earthquake"})", 0, drop));
  EXPECT_TRUE(apply_fault(faults, R"({"fault":"reject","retCode":10006})", 0, drop));
  EXPECT_TRUE(apply_fault(faults, R"({"fault":"delay","path":"/x"})", 0, drop));
  EXPECT_TRUE(apply_fault(faults, R"({"fault":"clock_skew"})", 0, drop));
  EXPECT_TRUE(apply_fault(faults, R"({"fault":"clock_skew","ms":"5"})", 0, drop));
  // clear resets everything.
  EXPECT_EQ(apply_fault(faults, R"({"fault":"clear"})", 0, drop), std::nullopt);
  EXPECT_EQ(faults.clock_skew_ms, 0);
  EXPECT_TRUE(faults.delays.empty());
  EXPECT_EQ(faults.malformed_frames, 0);
}

TEST_F(ApiTest, FaultEndpointRejectsDelaysAndSkewsTheClock) {
  Answer ignored;
  HttpResponse response = handle_rest(*context_, [&] {
    HttpRequest request;
    request.method = "POST";
    request.path = "/kinetic/fault";
    request.body = R"({"fault":"reject","path":"/v5/order/create","retCode":10006,"count":2})";
    return request;
  }());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"ok":true})");
  const std::string body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001"})";
  for (int i = 0; i < 2; ++i) {
    const Answer rejected = signed_post("/v5/order/create", body);
    EXPECT_EQ(rejected.ret_code(), 10006);
    EXPECT_EQ(rejected.ret_msg(), "Too many visits!");
    EXPECT_TRUE(rejected.header("X-Bapi-Limit"));  // headers on a rejected signed request too
  }
  EXPECT_EQ(signed_post("/v5/order/create", body).ret_code(), 0);

  // A reject on a GET path, with another code; and a delay.
  ASSERT_FALSE(apply_fault(
      context_->faults, R"({"fault":"reject","path":"/v5/position/list","retCode":10016})", 0, {}));
  ASSERT_FALSE(apply_fault(context_->faults,
                           R"({"fault":"delay","path":"/v5/market/time","ms":300})", 0, {}));
  Answer answer = signed_get("/v5/position/list", "category=linear&symbol=BTCUSDT");
  EXPECT_EQ(answer.ret_code(), 10016);
  EXPECT_EQ(answer.ret_msg(), "Internal system error.");
  EXPECT_EQ(signed_get("/v5/position/list", "category=linear&symbol=BTCUSDT").ret_code(), 0);
  EXPECT_EQ(get("/v5/market/time").http.delay, std::chrono::milliseconds(300));
  EXPECT_EQ(get("/v5/market/kline?symbol=BTCUSDT&interval=1").http.delay,
            std::chrono::milliseconds(0));

  // run_order_op (the trade WebSocket's path) takes the rejects of its REST path.
  ASSERT_FALSE(apply_fault(
      context_->faults, R"({"fault":"reject","path":"/v5/order/cancel","retCode":10016})", 0, {}));
  const OrderOpResult op = run_order_op(
      *context_, 1, OrderOp::cancel, R"({"category":"linear","symbol":"BTCUSDT","orderId":"x"})");
  EXPECT_EQ(op.ret_code, 10016);
  EXPECT_EQ(op.result_json, "{}");

  // clock_skew through the endpoint moves the server's time.
  HttpRequest skew;
  skew.method = "POST";
  skew.path = "/kinetic/fault";
  skew.body = R"({"fault":"clock_skew","ms":5000})";
  EXPECT_EQ(handle_rest(*context_, skew).status, 200);
  const std::int64_t time = get("/v5/market/time").body.at("time").get<std::int64_t>();
  EXPECT_GE(time, realtime_ms() + 4000);
  EXPECT_LE(time, realtime_ms() + 5000);
  // A bad fault: HTTP 400 with the reason.
  skew.body = R"({"fault":"earthquake"})";
  response = handle_rest(*context_, skew);
  EXPECT_EQ(response.status, 400);
  const json error = json::parse(response.body);
  EXPECT_EQ(error.at("ok"), false);
  EXPECT_NE(error.at("error").get<std::string>().find("earthquake"), std::string::npos);
  // drop_connections calls the app's hook.
  skew.body = R"({"fault":"drop_connections"})";
  EXPECT_EQ(handle_rest(*context_, skew).status, 200);
  EXPECT_EQ(drops_, 1);
}

TEST_F(ApiTest, StateHasAccountsOrdersAndFaultsButNoSecret) {
  ASSERT_EQ(
      signed_post(
          "/v5/order/create",
          R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.002","orderLinkId":"st-1"})")
          .ret_code(),
      0);
  ASSERT_FALSE(apply_fault(context_->faults, R"({"fault":"malformed_frames","count":3})", 0, {}));
  const Answer answer = get("/kinetic/state");
  EXPECT_EQ(answer.http.status, 200);
  const json& state = answer.body;
  ASSERT_EQ(state.at("accounts").size(), 2u);
  const json& account = state.at("accounts")[0];
  EXPECT_EQ(account.at("key"), kKey);
  EXPECT_EQ(account.at("orders").size(), 1u);
  EXPECT_EQ(account.at("orders")[0].at("orderLinkId"), "st-1");
  EXPECT_EQ(account.at("orders")[0].at("orderStatus"), "Filled");
  EXPECT_GE(account.at("executions").size(), 1u);
  EXPECT_EQ(account.at("positions").size(), 1u);
  EXPECT_EQ(account.at("positions")[0].at("size"), "0.002");
  EXPECT_EQ(account.at("wallet").at("accountType"), "UNIFIED");
  EXPECT_EQ(state.at("accounts")[1].at("key"), "other-key");
  EXPECT_EQ(state.at("accounts")[1].at("wallet").at("totalWalletBalance"), "500");
  EXPECT_EQ(state.at("faults").at("malformedFrames"), 3);
  EXPECT_EQ(answer.http.body.find(kSecret), std::string::npos);
  EXPECT_EQ(answer.http.body.find("other-secret"), std::string::npos);
  EXPECT_EQ(call(Request{"POST", "/kinetic/state", "", {}}).http.status, 400);
  EXPECT_EQ(call(Request{"GET", "/kinetic/nothing", "", {}}).http.status, 404);
}

TEST_F(ApiTest, EveryRequestIsLoggedWithoutSecretOrSignature) {
  const std::string ts = std::to_string(context_->now_ms());
  const std::string signature = sign(kSecret, {ts, kKey, "5000", "category=linear&symbol=BTCUSDT"});
  (void)signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", std::stoll(ts));
  (void)get("/v5/market/time");
  (void)signed_call("GET", "/v5/position/list", "category=linear&symbol=BTCUSDT", kDocTs, "5000",
                    kKey, kSecret, "00");
  const std::string log = log_text();
  EXPECT_NE(log.find("rest GET /v5/position/list key=qTd7Yc3Lx9PwB2mNa1 http=200 retCode=0"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("rest GET /v5/market/time key=- http=200 retCode=0"), std::string::npos);
  EXPECT_NE(log.find("retCode=10004"), std::string::npos);
  EXPECT_NE(log.find("took="), std::string::npos);
  EXPECT_EQ(log.find(kSecret), std::string::npos);
  EXPECT_EQ(log.find(signature), std::string::npos);
  // One line per request, each starting with an ISO time.

  std::size_t lines = 0;
  std::size_t start = 0;
  while (start < log.size()) {
    const std::size_t end = log.find('\n', start);
    EXPECT_TRUE(
        starts_with_shape(log.substr(start, end - start), "dddd-dd-ddTdd:dd:dd.dddZ rest "));
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(lines, 3u);
}

TEST(ParseAccountSpec, DefaultsAndErrorsWithoutTheSecret) {
  AccountSpec spec = parse_account_spec("key-1:secret-1");
  EXPECT_EQ(spec.key, "key-1");
  EXPECT_EQ(spec.secret, "secret-1");
  EXPECT_EQ(spec.balance, Amount::from_units(10'000));
  spec = parse_account_spec("k:s:2500.5");
  EXPECT_EQ(spec.balance, Amount::parse("2500.5").value());
  for (const char* bad :
       {"nocolon", ":hidden-secret", "key:", "key:hidden-secret:abc", "key:hidden-secret:-5"}) {
    try {
      (void)parse_account_spec(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_EQ(std::string(error.what()).find("hidden-secret"), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace kinetic::exchange
