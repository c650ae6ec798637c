// PrivateSession against the real kinetic-exchange on loopback (tests/support/
// local_exchange.hpp): auth, subscribe, the events of a real order, a wrong secret, a dropped
// connection, JSON pings, and no allocation while streaming.

#include "kinetic/exec/private_session.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/clock.hpp"
#include "kinetic/exec/order_link_id.hpp"
#include "kinetic/feed/websocket.hpp"
#include "local_exchange.hpp"

namespace kinetic::exec {
namespace {

using test::LocalExchange;

constexpr std::string_view kKey = "pk1";
constexpr std::string_view kSecret = "ps1-secret";

Amount amount(std::string_view text) {
  return Amount::parse(text).value();
}
Qty qty(std::string_view text) {
  return Qty::parse(text).value();
}

std::string now_ms_text() {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

/// A signed REST call (docs §4.2): sign = hex HMAC(secret, ts + key + recvWindow + payload).
test::HttpReply signed_request(LocalExchange& exchange, std::string_view method,
                               std::string_view path, std::string_view query_or_body) {
  HmacSha256 signer(kSecret);
  const std::string ts = now_ms_text();
  const std::string sign = signer.sign_hex({ts, kKey, "5000", query_or_body});
  const std::string headers = "X-BAPI-API-KEY: " + std::string(kKey) +
                              "\r\nX-BAPI-TIMESTAMP: " + ts + "\r\nX-BAPI-SIGN: " + sign +
                              "\r\nX-BAPI-RECV-WINDOW: 5000\r\n";
  if (method == "GET") {
    const std::string target = std::string(path) + "?" + std::string(query_or_body);
    return exchange.request("GET", target, {}, headers);
  }
  return exchange.request(method, path, query_or_body, headers);
}

/// Keeps what the session reports (allocates; the allocation test counts poll() only and
/// reserves these vectors first).
struct RecordingSink final : PrivateSessionSink {
  std::vector<OrderUpdate> orders;
  std::vector<ExecutionReport> executions;
  std::vector<PositionUpdate> positions;
  std::vector<WalletUpdate> wallets;
  std::vector<PrivateControlKind> controls;
  std::vector<bool> ready;  // the reconnect flag of each on_ready
  int ups = 0;
  int downs = 0;
  std::vector<std::string> auth_failures;
  std::vector<bool> auth_gave_up;

  void on_orders(std::span<const OrderUpdate> s) override {
    orders.insert(orders.end(), s.begin(), s.end());
  }
  void on_executions(std::span<const ExecutionReport> s) override {
    executions.insert(executions.end(), s.begin(), s.end());
  }
  void on_positions(std::span<const PositionUpdate> s) override {
    positions.insert(positions.end(), s.begin(), s.end());
  }
  void on_wallets(std::span<const WalletUpdate> s) override {
    wallets.insert(wallets.end(), s.begin(), s.end());
  }
  void on_control(const PrivateControl& c) override { controls.push_back(c.kind); }
  void on_connection(bool up, std::string_view, TimestampNs) override { ++(up ? ups : downs); }
  void on_ready(bool reconnect, TimestampNs) override { ready.push_back(reconnect); }
  void on_auth_failed(std::string_view ret_msg, bool stopped, TimestampNs) override {
    auth_failures.emplace_back(ret_msg);
    auth_gave_up.push_back(stopped);
  }
  void reserve(std::size_t n) {
    orders.reserve(n);
    executions.reserve(n);
    positions.reserve(n);
    wallets.reserve(n);
    controls.reserve(n);
    ready.reserve(n);
  }
};

PrivateSessionOptions options_for(const LocalExchange& exchange, std::string_view secret) {
  PrivateSessionOptions options;
  options.url = exchange.ws_url("/v5/private");
  options.api_key = std::string(kKey);
  options.api_secret = std::string(secret);
  // Quick reconnects for the tests (the schedule itself is tested in session_policy's tests).
  options.timing.backoff_initial_ns = 20'000'000;
  options.timing.backoff_max_ns = 100'000'000;
  return options;
}

class PrivateSessionTest : public ::testing::Test {
 protected:
  PrivateSessionTest()
      : exchange({"--account", std::string(kKey) + ":" + std::string(kSecret) + ":10000"}) {}

  /// Polls until `done` or 10 s (a bound for a broken build, not a timing assumption).
  bool poll_until(PrivateSession& session, RecordingSink& sink, const std::function<bool()>& done,
                  std::uint64_t* allocations = nullptr) {
    const TimestampNs deadline = Clock::now_ns() + 10'000'000'000;
    while (!done()) {
      if (Clock::now_ns() > deadline)
        return false;
      const std::uint64_t before = test::allocations_on_this_thread();
      session.poll(Clock::now_ns(), sink);
      if (allocations != nullptr)
        *allocations += test::allocations_on_this_thread() - before;
      session.wait(5);
    }
    return true;
  }

  LocalExchange exchange;
  feed::SymbolTable symbols{16};
};

/// A scripted /v5/private server on loopback for what kinetic-exchange never does: going
/// silent. It accepts connections one after another (blocking sockets on its own thread,
/// test support only), completes the WebSocket handshake, answers auth and subscribe as
/// Bybit does (unless `answer_auth` is false) and never answers a ping.
class SilentPeer {
 public:
  explicit SilentPeer(bool answer_auth) : answer_auth_(answer_auth) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 4) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("SilentPeer: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~SilentPeer() {
    done_ = true;
    thread_.join();
    ::close(listener_);
  }
  [[nodiscard]] std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(port_) + "/v5/private";
  }
  [[nodiscard]] int connections() const { return connections_; }

 private:
  /// Waits until `fd` is readable or the peer is told to finish.
  bool readable(int fd) const {
    while (!done_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10) > 0)
        return true;
    }
    return false;
  }
  void run() {
    while (readable(listener_)) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0)
        continue;
      ++connections_;
      serve(fd);
      ::close(fd);
    }
  }
  void serve(int fd) {
    std::string request;
    char chunk[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      if (!readable(fd))
        return;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0)
        return;
      request.append(chunk, static_cast<std::size_t>(n));
    }
    const std::size_t at = request.find("Sec-WebSocket-Key: ");
    if (at == std::string::npos)
      return;
    feed::WsKey key;
    request.copy(key.chars.data(), key.chars.size(), at + 19);
    const std::string response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        std::string(feed::compute_ws_accept(key).view()) + "\r\n\r\n";
    (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    feed::WsDeframer deframer(feed::WsRole::server, 1 << 16);
    feed::WsFramer framer(feed::WsRole::server, 7);
    std::vector<char> buffer(1 << 18);
    std::size_t begin = 0, end = request.size() - (request.find("\r\n\r\n") + 4);
    request.copy(buffer.data(), end, request.find("\r\n\r\n") + 4);
    for (;;) {
      for (;;) {
        const feed::WsEvent event = deframer.next(std::span(buffer.data() + begin, end - begin));
        begin += event.consumed;
        if (event.kind == feed::WsEventKind::need_more)
          break;
        if (event.kind != feed::WsEventKind::message)
          return;  // close or error: this connection is over
        std::string_view reply;
        if (event.payload.find(R"("op":"auth")") != std::string_view::npos && answer_auth_)
          reply = R"({"success":true,"ret_msg":"","op":"auth","conn_id":"silent"})";
        else if (event.payload.find(R"("op":"subscribe")") != std::string_view::npos)
          reply = R"({"success":true,"ret_msg":"","op":"subscribe","conn_id":"silent"})";
        if (!reply.empty()) {
          char frame[256];
          const std::size_t n = framer.text(reply, frame);
          (void)::send(fd, frame, n, MSG_NOSIGNAL);
        }
      }
      if (begin == end)
        begin = end = 0;
      if (!readable(fd))
        return;
      const ssize_t n = ::recv(fd, buffer.data() + end, buffer.size() - 64 - end, 0);
      if (n <= 0)
        return;
      end += static_cast<std::size_t>(n);
    }
  }

  bool answer_auth_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

/// Polls a session without an exchange until `done` or 10 s.
bool poll_alone(PrivateSession& session, RecordingSink& sink, const std::function<bool()>& done) {
  const TimestampNs deadline = Clock::now_ns() + 10'000'000'000;
  while (!done()) {
    if (Clock::now_ns() > deadline)
      return false;
    session.poll(Clock::now_ns(), sink);
    session.wait(5);
  }
  return true;
}

TEST(PrivateSessionLink, SilentConnectionIsTakenAsDeadAndReplaced) {
  SilentPeer peer(true);
  feed::SymbolTable symbols(4);
  PrivateSessionOptions options;
  options.url = peer.url();
  options.api_key = "k";
  options.api_secret = "s";
  options.timing.ping_interval_ns = 30'000'000;  // pings unanswered: dead after 30 + 30 ms
  options.timing.pong_timeout_ns = 30'000'000;
  options.timing.backoff_initial_ns = 10'000'000;
  PrivateSession session(std::move(options), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_alone(session, sink, [&] { return sink.ready.size() == 2; }))
      << session.last_error();
  EXPECT_FALSE(sink.ready[0]);
  EXPECT_TRUE(sink.ready[1]);
  EXPECT_GE(sink.downs, 1);
  EXPECT_GE(session.stats().pings_sent, 1u);
  EXPECT_EQ(session.stats().pongs, 0u);
  session.stop();
  EXPECT_GE(peer.connections(), 2);
}

TEST(PrivateSessionLink, UnansweredAuthTimesOutAndRetries) {
  SilentPeer peer(false);
  feed::SymbolTable symbols(4);
  PrivateSessionOptions options;
  options.url = peer.url();
  options.api_key = "k";
  options.api_secret = "s";
  options.reply_timeout_ms = 30;
  options.timing.backoff_initial_ns = 10'000'000;
  PrivateSession session(std::move(options), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_alone(session, sink, [&] { return session.stats().connects >= 2; }));
  EXPECT_EQ(session.last_error(), "no reply to the auth request in time");
  EXPECT_TRUE(sink.ready.empty());
  EXPECT_TRUE(sink.auth_failures.empty());  // silence is not a refusal: keep trying
  session.stop();
}

TEST(PrivateSessionAuth, AuthRequestMatchesTheDocsVector) {
  // docs/bybit-v5.md §5: expires 1700000010000 with the docs' key and secret.
  feed::SymbolTable symbols(4);
  PrivateSessionOptions options;
  options.url = "ws://127.0.0.1:1/v5/private";
  options.api_key = "qTd7Yc3Lx9PwB2mNa1";
  options.api_secret = "Zr4Kp8Wq2Xv6Nb0Jt5Hs9Lc3Fg7Dm1Ay4Ue8";
  PrivateSession session(std::move(options), symbols);
  char out[256];
  std::size_t n = 0;
  EXPECT_EQ(test::count_allocations([&] { n = session.encode_auth(1700000010000, out); }), 0u);
  EXPECT_EQ(std::string_view(out, n),
            R"({"op":"auth","args":["qTd7Yc3Lx9PwB2mNa1",1700000010000,)"
            R"("2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8"]})");
  char tiny[40];
  EXPECT_EQ(session.encode_auth(1700000010000, tiny), 0u);
}

TEST(PrivateSessionAuth, BadOptionsAreRefusedAtConstruction) {
  feed::SymbolTable symbols(4);
  const auto make = [&](const std::function<void(PrivateSessionOptions&)>& change) {
    PrivateSessionOptions options;
    options.url = "ws://127.0.0.1:1/v5/private";
    options.api_key = "key";
    options.api_secret = "secret";
    change(options);
    PrivateSession session(std::move(options), symbols);
  };
  EXPECT_NO_THROW(make([](PrivateSessionOptions&) {}));
  EXPECT_THROW(make([](PrivateSessionOptions& o) { o.url = "http://x/"; }), std::invalid_argument);
  EXPECT_THROW(make([](PrivateSessionOptions& o) { o.url = "wss://x/v5/private"; }),
               std::invalid_argument);  // no TLS context
  EXPECT_THROW(make([](PrivateSessionOptions& o) { o.api_key = ""; }), std::invalid_argument);
  EXPECT_THROW(make([](PrivateSessionOptions& o) { o.api_key = "a\"b"; }), std::invalid_argument);
  EXPECT_THROW(make([](PrivateSessionOptions& o) { o.topics.clear(); }), std::invalid_argument);
  EXPECT_THROW(make([](PrivateSessionOptions& o) { o.max_auth_failures = 0; }),
               std::invalid_argument);
}

TEST_F(PrivateSessionTest, AuthenticatesAndSubscribes) {
  PrivateSession session(options_for(exchange, kSecret), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_until(session, sink, [&] { return session.ready(); }))
      << session.last_error() << "\n"
      << exchange.log();
  EXPECT_EQ(sink.ups, 1);
  ASSERT_EQ(sink.ready.size(), 1u);
  EXPECT_FALSE(sink.ready[0]);  // the first connection is not a reconnect
  ASSERT_GE(sink.controls.size(), 2u);
  EXPECT_EQ(sink.controls[0], PrivateControlKind::auth_ok);
  EXPECT_EQ(sink.controls[1], PrivateControlKind::subscribed);
  EXPECT_EQ(session.stats().connects, 1u);
  EXPECT_EQ(session.stats().ready, 1u);
  EXPECT_EQ(session.stats().auth_failures, 0u);
  const std::string log = exchange.log();
  EXPECT_NE(log.find("/v5/private auth key=pk1 -> ok"), std::string::npos) << log;
  EXPECT_NE(log.find("subscribe [order,execution,position,wallet] -> ok"), std::string::npos)
      << log;
}

TEST_F(PrivateSessionTest, MarketOrderGivesOrderExecutionPositionAndWallet) {
  PrivateSession session(options_for(exchange, kSecret), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_until(session, sink, [&] { return session.ready(); })) << session.last_error();

  const std::string body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market",)"
      R"("qty":"0.001","orderLinkId":"kn-0000000000000042"})";
  const test::HttpReply created = signed_request(exchange, "POST", "/v5/order/create", body);
  ASSERT_EQ(created.status, 200);
  ASSERT_NE(created.body.find(R"("retCode":0)"), std::string::npos) << created.body;

  ASSERT_TRUE(poll_until(session, sink, [&] {
    return !sink.orders.empty() && !sink.executions.empty() && !sink.positions.empty() &&
           !sink.wallets.empty();
  })) << exchange.log();

  const OrderUpdate& order = sink.orders.back();
  const ExecutionReport& fill = sink.executions.at(0);
  const PositionUpdate& position = sink.positions.back();
  const WalletUpdate& wallet = sink.wallets.back();

  EXPECT_NE(created.body.find(std::string(order.order_id.view())), std::string::npos);
  EXPECT_EQ(order.client_order_id, 0x42u);
  EXPECT_EQ(symbols.name(order.symbol), "BTCUSDT");
  EXPECT_EQ(order.side, Side::buy);
  EXPECT_EQ(order.type, OrderType::market);
  EXPECT_EQ(order.tif, TimeInForce::ioc);  // a market order runs as IOC
  EXPECT_EQ(order.status, ExchangeOrderStatus::filled);
  EXPECT_EQ(order.qty, qty("0.001"));
  EXPECT_EQ(order.cum_exec_qty, qty("0.001"));
  EXPECT_EQ(order.leaves_qty, Qty{});
  EXPECT_EQ(order.avg_price, fill.exec_price);
  EXPECT_EQ(order.cum_exec_fee, fill.exec_fee);

  EXPECT_EQ(fill.order_id, order.order_id);
  EXPECT_EQ(fill.client_order_id, 0x42u);
  EXPECT_EQ(fill.symbol, order.symbol);
  EXPECT_EQ(fill.exec_type, ExecType::trade);
  EXPECT_FALSE(fill.is_maker);
  EXPECT_EQ(fill.exec_qty, qty("0.001"));
  EXPECT_GT(fill.exec_price.raw(), 0);
  // value = price × 0.001 (exact in 1e-8) and the taker fee 0.055 % of it
  EXPECT_EQ(fill.exec_value.raw(), fill.exec_price.raw() / 1000);
  // (the exchange rounds the fee to 1e-8: floor or ceiling of the exact product)
  const std::int64_t fee_times_1e5 = fill.exec_value.raw() * 55;
  EXPECT_GE(fill.exec_fee.raw(), fee_times_1e5 / 100'000);
  EXPECT_LE(fill.exec_fee.raw(), (fee_times_1e5 + 99'999) / 100'000);
  EXPECT_EQ(fill.leaves_qty, Qty{});

  EXPECT_EQ(position.symbol, order.symbol);
  EXPECT_EQ(position.side, Side::buy);
  EXPECT_EQ(position.size, qty("0.001"));
  EXPECT_EQ(position.entry_price, fill.exec_price);
  EXPECT_EQ(position.position_value, fill.exec_value);
  EXPECT_EQ(position.cum_realised_pnl, -fill.exec_fee);
  EXPECT_EQ(position.seq, fill.seq);

  EXPECT_EQ(wallet.wallet_balance, amount("10000") - fill.exec_fee);
  EXPECT_EQ(wallet.cum_realised_pnl, -fill.exec_fee);

  // The REST lists reconciliation reads say the same (same decoder, REST shapes).
  PrivateDecoder rest_decoder(symbols);
  RecordingSink rest;
  const test::HttpReply executions =
      signed_request(exchange, "GET", "/v5/execution/list", "category=linear&symbol=BTCUSDT");
  ASSERT_TRUE(rest_decoder.decode_rest(RestList::executions, executions.body, rest).ok())
      << executions.body;
  ASSERT_EQ(rest.executions.size(), 1u);
  EXPECT_EQ(rest.executions[0].exec_id, fill.exec_id);
  EXPECT_EQ(rest.executions[0].exec_fee, fill.exec_fee);
  const test::HttpReply positions =
      signed_request(exchange, "GET", "/v5/position/list", "category=linear&symbol=BTCUSDT");
  ASSERT_TRUE(rest_decoder.decode_rest(RestList::positions, positions.body, rest).ok())
      << positions.body;
  ASSERT_EQ(rest.positions.size(), 1u);
  EXPECT_EQ(rest.positions[0].entry_price, fill.exec_price);  // avgPrice in REST
  EXPECT_EQ(rest.positions[0].size, qty("0.001"));
  const test::HttpReply balance =
      signed_request(exchange, "GET", "/v5/account/wallet-balance", "accountType=UNIFIED");
  ASSERT_TRUE(rest_decoder.decode_rest(RestList::wallets, balance.body, rest).ok()) << balance.body;
  ASSERT_EQ(rest.wallets.size(), 1u);
  EXPECT_EQ(rest.wallets[0].wallet_balance, wallet.wallet_balance);
  const test::HttpReply open_orders =
      signed_request(exchange, "GET", "/v5/order/realtime", "category=linear&settleCoin=USDT");
  const RestListResult open = rest_decoder.decode_rest(RestList::orders, open_orders.body, rest);
  ASSERT_TRUE(open.ok()) << open_orders.body;
  for (const OrderUpdate& o : rest.orders)  // a filled market order is no longer open
    EXPECT_NE(o.order_id, order.order_id);
}

TEST_F(PrivateSessionTest, WrongSecretIsReportedAndNotRetried) {
  PrivateSession session(options_for(exchange, "not-the-secret"), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_until(session, sink, [&] {
    return session.state() == PrivateSessionState::auth_failed;
  })) << to_string(session.state());
  ASSERT_EQ(sink.auth_failures.size(), 1u);
  EXPECT_EQ(sink.auth_failures[0], "Params Error");  // the exchange's (and Bybit's) text
  EXPECT_TRUE(sink.auth_gave_up[0]);
  EXPECT_EQ(session.last_error(), "Params Error");
  EXPECT_TRUE(sink.ready.empty());
  EXPECT_EQ(session.stats().auth_failures, 1u);
  // It stays down: polling more makes no new attempt.
  for (int i = 0; i < 20; ++i)
    session.poll(Clock::now_ns() + 60'000'000'000LL, sink);
  EXPECT_EQ(session.stats().connects, 1u);
  EXPECT_EQ(session.state(), PrivateSessionState::auth_failed);
  // restart() tries again (and fails the same way).
  session.restart();
  ASSERT_TRUE(poll_until(session, sink, [&] { return sink.auth_failures.size() == 2; }));
  EXPECT_EQ(session.stats().connects, 2u);
}

TEST_F(PrivateSessionTest, RetriesAuthUpToTheConfiguredCount) {
  PrivateSessionOptions options = options_for(exchange, "not-the-secret");
  options.max_auth_failures = 3;
  PrivateSession session(std::move(options), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_until(session, sink,
                         [&] { return session.state() == PrivateSessionState::auth_failed; }));
  ASSERT_EQ(sink.auth_failures.size(), 3u);
  EXPECT_FALSE(sink.auth_gave_up[0]);
  EXPECT_FALSE(sink.auth_gave_up[1]);
  EXPECT_TRUE(sink.auth_gave_up[2]);
  EXPECT_EQ(session.stats().connects, 3u);
}

TEST_F(PrivateSessionTest, DroppedConnectionReconnectsResubscribesAndSaysSo) {
  PrivateSession session(options_for(exchange, kSecret), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_until(session, sink, [&] { return session.ready(); }));
  const test::HttpReply fault =
      exchange.request("POST", "/kinetic/fault", R"({"fault":"drop_connections"})");
  ASSERT_EQ(fault.status, 200) << fault.body;
  ASSERT_TRUE(poll_until(session, sink, [&] { return sink.ready.size() == 2; }))
      << session.last_error();
  EXPECT_FALSE(sink.ready[0]);
  EXPECT_TRUE(sink.ready[1]);  // the owner reconciles here
  EXPECT_GE(sink.downs, 1);
  EXPECT_EQ(session.stats().connects, 2u);
  EXPECT_EQ(session.stats().ready, 2u);
  EXPECT_GE(session.stats().disconnects, 1u);

  // The new connection is subscribed: a new order's events arrive on it.
  const std::string body =
      R"({"category":"linear","symbol":"ETHUSDT","side":"Sell","orderType":"Market",)"
      R"("qty":"0.01","orderLinkId":"kn-0000000000000043"})";
  ASSERT_EQ(signed_request(exchange, "POST", "/v5/order/create", body).status, 200);
  ASSERT_TRUE(poll_until(session, sink, [&] { return !sink.executions.empty(); }));
  EXPECT_EQ(sink.executions[0].client_order_id, 0x43u);
  EXPECT_EQ(sink.executions[0].side, Side::sell);
  EXPECT_EQ(symbols.name(sink.executions[0].symbol), "ETHUSDT");
}

TEST_F(PrivateSessionTest, PingsAndPongs) {
  PrivateSessionOptions options = options_for(exchange, kSecret);
  options.timing.ping_interval_ns = 20'000'000;  // 20 ms instead of 20 s
  PrivateSession session(std::move(options), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_until(session, sink, [&] { return session.stats().pongs >= 3; }));
  EXPECT_GE(session.stats().pings_sent, 3u);
  EXPECT_EQ(session.stats().disconnects, 0u);
  EXPECT_TRUE(session.ready());
}

TEST_F(PrivateSessionTest, NoAllocationWhileStreaming) {
  PrivateSessionOptions options = options_for(exchange, kSecret);
  options.timing.ping_interval_ns = 50'000'000;  // pings are part of streaming too
  PrivateSession session(std::move(options), symbols);
  RecordingSink sink;
  sink.reserve(1000);
  ASSERT_TRUE(poll_until(session, sink, [&] { return session.ready(); }));
  std::uint64_t allocations = 0;
  for (int i = 0; i < 5; ++i) {
    char link[24];
    format_order_link_id(0x100 + static_cast<std::uint64_t>(i), link);
    const std::string body = R"({"category":"linear","symbol":"BTCUSDT","side":")" +
                             std::string(i % 2 == 0 ? "Buy" : "Sell") +
                             R"(","orderType":"Market","qty":"0.001","orderLinkId":")" +
                             std::string(link, kOrderLinkIdLength) + R"("})";
    ASSERT_EQ(signed_request(exchange, "POST", "/v5/order/create", body).status, 200);
    const std::size_t want = static_cast<std::size_t>(i) + 1;
    // Only poll() is counted: the REST call above is the test's, on this thread.
    ASSERT_TRUE(poll_until(
        session, sink,
        [&] { return sink.executions.size() >= want && sink.wallets.size() >= want; },
        &allocations));
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(sink.executions.size(), 5u);
  EXPECT_EQ(session.stats().decode_errors, 0u);
  EXPECT_GT(session.stats().items, 15u);
}

TEST_F(PrivateSessionTest, StopClosesAndStaysClosed) {
  PrivateSession session(options_for(exchange, kSecret), symbols);
  RecordingSink sink;
  ASSERT_TRUE(poll_until(session, sink, [&] { return session.ready(); }));
  session.stop();
  EXPECT_EQ(session.state(), PrivateSessionState::stopped);
  session.poll(Clock::now_ns() + 60'000'000'000LL, sink);
  EXPECT_EQ(session.stats().connects, 1u);
  session.restart();
  ASSERT_TRUE(poll_until(session, sink, [&] { return sink.ready.size() == 2; }));
}

}  // namespace
}  // namespace kinetic::exec
