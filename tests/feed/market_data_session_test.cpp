// MarketDataSession against an independent peer on loopback: Debian's python3-websockets
// serving a small Bybit-like stream (tests/feed/bybit_ws_peer.py) over ws:// and over wss://
// with a certificate made in the test. The peer sends a snapshot and deltas with every third
// message fragmented and a protocol ping, drops the first connection without a close frame,
// and closes the second properly; the session must reconnect, resubscribe and resync its book.
#include "kinetic/feed/market_data_session.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/clock.hpp"
#include "ws_peer.hpp"

namespace kinetic::feed {
namespace {

using test::Peer;
using test::peer_available;

/// Records what the session reports.
struct Sink : FeedSink {
  std::uint64_t trades = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t ups = 0;
  std::uint64_t downs = 0;
  std::string last_down;
  std::uint64_t last_update_id = 0;
  std::size_t bid_depth = 0;
  std::size_t ask_depth = 0;
  BookLevel best_bid{};
  BookLevel best_ask{};
  std::uint64_t raw_messages = 0;

  void on_message(std::string_view, TimestampNs) override { ++raw_messages; }
  void on_events(std::span<const MarketEvent> events) override {
    for (const MarketEvent& e : events) {
      trades += e.type == MarketEventType::trade ? 1U : 0U;
      snapshots += e.type == MarketEventType::book_level && (e.flags & kFlagSnapshot) != 0 &&
                           (e.flags & kFlagBeginOfBatch) != 0
                       ? 1U
                       : 0U;
    }
  }
  void on_book(const OrderBook& book) override {
    last_update_id = book.update_id();
    bid_depth = book.bid_depth();
    ask_depth = book.ask_depth();
    best_bid = *book.best_bid();
    best_ask = *book.best_ask();
  }
  void on_connection(bool up, std::string_view detail, TimestampNs) override {
    (up ? ups : downs) += 1;
    if (!up)
      last_down = std::string(detail);
  }
};

MarketDataSessionOptions options_for(const std::string& url, const TlsContext* tls) {
  MarketDataSessionOptions options;
  options.url = url;
  options.topics = {"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"};
  options.tls = tls;
  options.timing.backoff_initial_ns = 20'000'000;  // 20 ms: keep the test short
  options.timing.backoff_max_ns = 100'000'000;
  options.timing.backoff_jitter = 0.0;
  options.book_levels = 200;
  options.max_message_bytes = 1U << 16;
  return options;
}

// Runs the session until the peer's second connection has been closed by the peer.
void run_until_second_close(MarketDataSession& session, Sink& sink) {
  Clock::calibrate();
  const TimestampNs deadline = Clock::now_ns() + 20'000'000'000;
  while (Clock::now_ns() < deadline && !(sink.ups >= 2 && sink.downs >= 2)) {
    session.poll(Clock::now_ns(), sink);
    session.wait(5);
  }
  session.stop();
}

void expect_reconnected_and_resynced(const MarketDataSession& session, const Sink& sink,
                                     const std::vector<std::string>& peer_log) {
  EXPECT_EQ(session.stats().connects, 2u);
  EXPECT_EQ(sink.ups, 2u);
  EXPECT_GE(sink.downs, 2u);
  EXPECT_EQ(sink.last_down, "the server closed the WebSocket");
  // Both connections subscribed to the same topics.
  int subscriptions = 0;
  for (const std::string& line : peer_log) {
    if (line.find("\"op\":\"subscribe\"") != std::string::npos) {
      EXPECT_NE(line.find("\"args\":[\"orderbook.50.BTCUSDT\",\"publicTrade.BTCUSDT\"]"),
                std::string::npos)
          << line;
      ++subscriptions;
    }
  }
  EXPECT_EQ(subscriptions, 2);
  // The client answered the server's close frame with its own (a clean closing handshake).
  bool closed_cleanly = false;
  for (const std::string& line : peer_log)
    closed_cleanly = closed_cleanly || line == "CLOSED 2 rcvd=1000";
  EXPECT_TRUE(closed_cleanly);
  // A fresh snapshot on each connection; the second connection's book after its 5 deltas:
  // bids 65000.0×1.5, 64999.5×2, 64999…64995 ×1…5; asks 65001.0×3 and 65003…65006 ×0.5
  // (65000.5 deleted by the first delta).
  EXPECT_EQ(sink.snapshots, 2u);
  EXPECT_EQ(sink.last_update_id, 2005u);
  EXPECT_EQ(sink.bid_depth, 7u);
  EXPECT_EQ(sink.ask_depth, 5u);
  EXPECT_EQ(sink.best_bid.price, Price::parse("65000.0").value());
  EXPECT_EQ(sink.best_bid.qty, Qty::parse("1.5").value());
  EXPECT_EQ(sink.best_ask.price, Price::parse("65001.0").value());
  EXPECT_EQ(sink.best_ask.qty, Qty::parse("3").value());
  EXPECT_GE(sink.trades, 5u);  // all of the second connection's, some of the first's
  EXPECT_EQ(session.stats().decode_errors, 0u);
  EXPECT_EQ(session.stats().protocol_errors, 0u);
  EXPECT_EQ(session.stats().book_gaps, 0u);
}

TEST(MarketDataSession, ReconnectsResubscribesAndResyncsOverPlainWebSocket) {
  if (!peer_available())
    GTEST_SKIP() << "python3-websockets is not installed (tools/install-deps.sh installs it)";
  Peer peer({"--deltas", "5"});
  ASSERT_GT(peer.port(), 0);
  SymbolTable symbols(16);
  MarketDataSession session(
      options_for("ws://127.0.0.1:" + std::to_string(peer.port()) + "/v5/public/linear", nullptr),
      symbols);
  Sink sink;
  run_until_second_close(session, sink);
  expect_reconnected_and_resynced(session, sink, peer.finish());
}

TEST(MarketDataSession, ReconnectsResubscribesAndResyncsOverTls) {
  if (!peer_available())
    GTEST_SKIP() << "python3-websockets is not installed (tools/install-deps.sh installs it)";
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kinetic-wss-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  const std::string make_cert =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_cert.c_str()), 0) << "openssl could not make a certificate";
  Peer peer({"--deltas", "5", "--cert", cert, "--key", key});
  ASSERT_GT(peer.port(), 0);
  TlsClientOptions tls_options;
  tls_options.ca_file = cert;  // trust exactly the test's certificate
  auto context = TlsContext::client(tls_options);
  ASSERT_TRUE(context);
  SymbolTable symbols(16);
  MarketDataSession session(
      options_for("wss://localhost:" + std::to_string(peer.port()) + "/v5/public/linear",
                  &context.value()),
      symbols);
  Sink sink;
  run_until_second_close(session, sink);
  expect_reconnected_and_resynced(session, sink, peer.finish());
  std::filesystem::remove_all(dir);
}

// Counts events without allocating itself, so the count below sees only the session's.
struct CountingSink : FeedSink {
  std::uint64_t messages = 0;
  std::uint64_t events = 0;
  std::uint64_t downs = 0;
  void on_message(std::string_view, TimestampNs) override { ++messages; }
  void on_events(std::span<const MarketEvent> e) override { events += e.size(); }
  void on_connection(bool up, std::string_view, TimestampNs) override { downs += up ? 0U : 1U; }
};

TEST(MarketDataSession, StreamingAllocatesNothingFromReceiveBufferToEvents) {
  if (!peer_available())
    GTEST_SKIP() << "python3-websockets is not installed (tools/install-deps.sh installs it)";
  // One connection, 300 deltas and 300 trades (every third message fragmented, a ping).
  Peer peer({"--deltas", "300", "--max-connections", "1"});
  ASSERT_GT(peer.port(), 0);
  SymbolTable symbols(16);
  MarketDataSession session(
      options_for("ws://127.0.0.1:" + std::to_string(peer.port()) + "/v5/public/linear", nullptr),
      symbols);
  CountingSink sink;
  Clock::calibrate();
  const TimestampNs deadline = Clock::now_ns() + 20'000'000'000;
  // Every poll that starts on an established connection is counted: connecting (the
  // transport's buffers) happens in a poll of its own, which returns once subscribed, and
  // everything after it — every byte from the socket to the events — must allocate nothing.
  std::uint64_t allocations = 0;
  std::uint64_t counted_polls = 0;
  while (Clock::now_ns() < deadline && sink.downs == 0) {
    const bool streaming = session.state() == SessionState::streaming;
    const std::uint64_t start = test::allocations_on_this_thread();
    session.poll(Clock::now_ns(), sink);
    if (streaming) {
      allocations += test::allocations_on_this_thread() - start;
      ++counted_polls;
    }
    session.wait(5);
  }
  session.stop();
  (void)peer.finish();
  EXPECT_EQ(sink.messages, 602u);  // the ack, the snapshot, 300 deltas and 300 trades
  EXPECT_GE(sink.events, 600u);
  EXPECT_GT(counted_polls, 0u);
  EXPECT_EQ(allocations, 0u);
}

TEST(MarketDataSession, RefusesBadOptionsAtConstruction) {
  SymbolTable symbols(4);
  MarketDataSessionOptions options;
  options.url = "http://127.0.0.1:1/x";
  options.topics = {"publicTrade.BTCUSDT"};
  EXPECT_THROW(MarketDataSession(options, symbols), std::invalid_argument);
  options.url = "wss://127.0.0.1:1/x";  // no TLS context
  EXPECT_THROW(MarketDataSession(options, symbols), std::invalid_argument);
  options.url = "ws://127.0.0.1:1/x";
  options.topics = {"publicTrade"};
  EXPECT_THROW(MarketDataSession(options, symbols), std::invalid_argument);
}

TEST(MarketDataSession, AFailedConnectionBacksOff) {
  // Nothing listens on the port: refused, then retried only after the backoff delay.
  SymbolTable symbols(4);
  MarketDataSessionOptions options = options_for("ws://127.0.0.1:1/v5/public/linear", nullptr);
  MarketDataSession session(options, symbols);
  Sink sink;
  session.poll(1'000'000'000, sink);
  EXPECT_EQ(session.state(), SessionState::waiting);
  EXPECT_EQ(session.stats().connect_failures, 1u);
  EXPECT_EQ(session.next_attempt_at(), 1'000'000'000 + 20'000'000);
  session.poll(1'000'000'000 + 19'999'999, sink);  // not yet due
  EXPECT_EQ(session.stats().connect_failures, 1u);
  session.poll(1'000'000'000 + 20'000'000, sink);
  EXPECT_EQ(session.stats().connect_failures, 2u);
  EXPECT_EQ(session.next_attempt_at(), 1'020'000'000 + 40'000'000);  // doubled
  EXPECT_EQ(sink.downs, 2u);
}

}  // namespace
}  // namespace kinetic::feed
