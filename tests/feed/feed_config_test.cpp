// feed::market_data_options: [exchange] and [feed] of a Config mapped onto the options of a
// MarketDataSession — defaults, every key with its exact value, and the order of the topics.

#include "kinetic/feed/feed_config.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "kinetic/feed/market_data_session.hpp"
#include "kinetic/feed/symbol_table.hpp"

namespace kinetic::feed {
namespace {

Config load(std::string_view toml) {
  return load_config_from_string(toml, "feed_config_test.toml", empty_environment());
}

TEST(FeedConfig, DefaultsMapToTheExpectedOptions) {
  const MarketDataSessionOptions options = market_data_options(default_config());
  EXPECT_EQ(options.url, "wss://stream.bybit.com/v5/public/linear");
  EXPECT_EQ(options.topics, (std::vector<std::string>{"publicTrade.BTCUSDT", "orderbook.50.BTCUSDT",
                                                      "tickers.BTCUSDT"}));
  EXPECT_EQ(options.tls, nullptr);

  EXPECT_EQ(options.tcp.backend, TcpBackend::automatic);
  EXPECT_EQ(options.tcp.connect_timeout_ms, 10'000);
  EXPECT_EQ(options.tcp.busy_poll_us, 0);
  EXPECT_FALSE(options.tcp.sqpoll);
  EXPECT_EQ(options.tcp.sqpoll_idle_ms, 100);
  EXPECT_TRUE(options.tcp.multishot_recv);
  // Not configurable: the transport's own defaults.
  const TcpOptions tcp_defaults;
  EXPECT_EQ(options.tcp.recv_buffer_count, tcp_defaults.recv_buffer_count);
  EXPECT_EQ(options.tcp.recv_buffer_size, tcp_defaults.recv_buffer_size);
  EXPECT_EQ(options.tcp.send_buffer_size, tcp_defaults.send_buffer_size);

  EXPECT_EQ(options.timing.ping_interval_ns, 20'000'000'000);
  EXPECT_EQ(options.timing.pong_timeout_ns, 10'000'000'000);
  EXPECT_EQ(options.timing.connect_timeout_ns, 10'000'000'000);
  EXPECT_EQ(options.timing.backoff_initial_ns, 1'000'000'000);
  EXPECT_EQ(options.timing.backoff_max_ns, 32'000'000'000);
  EXPECT_EQ(options.timing.backoff_jitter, 0.2);
  EXPECT_TRUE(options.timing.valid());

  EXPECT_EQ(options.handshake_timeout_ms, 5000);
  EXPECT_EQ(options.max_message_bytes, 1'048'576U);
  EXPECT_EQ(options.book_levels, 1000U);
  EXPECT_EQ(options.seed, MarketDataSessionOptions{}.seed);
}

TEST(FeedConfig, EveryFeedKeyMapsToItsOption) {
  const Config config = load(R"(
[exchange]
ws_public_url = "ws://127.0.0.1:9001/v5/public/spot"
symbols = ["SOLUSDT"]
[feed]
topics = ["kline.D", "book.1000"]
io_backend = "plain"
busy_poll_us = 50
sqpoll = true
sqpoll_idle_ms = 7
multishot_recv = false
connect_timeout_ms = 1500
handshake_timeout_ms = 2500
ping_interval_ms = 5000
pong_timeout_ms = 3000
reconnect_initial_ms = 250
reconnect_max_ms = 8000
reconnect_jitter = 0.5
max_message_bytes = 65536
book_levels = 200
)");
  const MarketDataSessionOptions options = market_data_options(config);
  EXPECT_EQ(options.url, "ws://127.0.0.1:9001/v5/public/spot");
  EXPECT_EQ(options.topics,
            (std::vector<std::string>{"kline.D.SOLUSDT", "orderbook.1000.SOLUSDT"}));

  EXPECT_EQ(options.tcp.backend, TcpBackend::plain);
  EXPECT_EQ(options.tcp.busy_poll_us, 50);
  EXPECT_TRUE(options.tcp.sqpoll);
  EXPECT_EQ(options.tcp.sqpoll_idle_ms, 7);
  EXPECT_FALSE(options.tcp.multishot_recv);
  EXPECT_EQ(options.tcp.connect_timeout_ms, 1500);

  EXPECT_EQ(options.timing.connect_timeout_ns, 1'500'000'000);
  EXPECT_EQ(options.timing.ping_interval_ns, 5'000'000'000);
  EXPECT_EQ(options.timing.pong_timeout_ns, 3'000'000'000);
  EXPECT_EQ(options.timing.backoff_initial_ns, 250'000'000);
  EXPECT_EQ(options.timing.backoff_max_ns, 8'000'000'000);
  EXPECT_EQ(options.timing.backoff_jitter, 0.5);
  EXPECT_TRUE(options.timing.valid());

  EXPECT_EQ(options.handshake_timeout_ms, 2500);
  EXPECT_EQ(options.max_message_bytes, 65'536U);
  EXPECT_EQ(options.book_levels, 200U);
}

TEST(FeedConfig, IoBackendNamesMapToTcpBackends) {
  EXPECT_EQ(market_data_options(load("[feed]\nio_backend = \"auto\"\n")).tcp.backend,
            TcpBackend::automatic);
  EXPECT_EQ(market_data_options(load("[feed]\nio_backend = \"io_uring\"\n")).tcp.backend,
            TcpBackend::io_uring);
  EXPECT_EQ(market_data_options(load("[feed]\nio_backend = \"plain\"\n")).tcp.backend,
            TcpBackend::plain);
}

TEST(FeedConfig, TopicsAreEachTopicOfEachSymbolInOrder) {
  const Config config = load(R"(
[exchange]
symbols = ["ETHUSDT", "BTCUSDT"]
[feed]
topics = ["ticker", "kline.15", "book.200"]
)");
  EXPECT_EQ(
      market_data_options(config).topics,
      (std::vector<std::string>{"tickers.ETHUSDT", "kline.15.ETHUSDT", "orderbook.200.ETHUSDT",
                                "tickers.BTCUSDT", "kline.15.BTCUSDT", "orderbook.200.BTCUSDT"}));
}

// The configuration's topic check and make_topic agree: every shape the file accepts maps.
TEST(FeedConfig, EveryAcceptedTopicShapeMakesATopic) {
  const Config config = load(R"(
[exchange]
symbols = ["BTCUSDT"]
[feed]
topics = ["trade", "ticker", "book.1", "book.50", "book.200", "book.500", "book.1000",
          "kline.1", "kline.3", "kline.5", "kline.15", "kline.30", "kline.60", "kline.120",
          "kline.240", "kline.360", "kline.720", "kline.D", "kline.W", "kline.M"]
)");
  const std::vector<std::string> topics = market_data_options(config).topics;
  ASSERT_EQ(topics.size(), 20U);
  EXPECT_EQ(topics[0], "publicTrade.BTCUSDT");
  EXPECT_EQ(topics[6], "orderbook.1000.BTCUSDT");
  EXPECT_EQ(topics[19], "kline.M.BTCUSDT");
}

TEST(FeedConfig, ATopicMakeTopicRefusesThrowsNamingIt) {
  Config config;  // built by hand, so not validated
  config.feed.topics = {"trade", "depth.5"};
  try {
    (void)market_data_options(config);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("\"depth.5\" for symbol \"BTCUSDT\""),
              std::string::npos)
        << error.what();
  }
}

TEST(FeedConfig, MappedOptionsAreAcceptedByTheSession) {
  // The constructor checks the URL, the topics and the timing; it does not connect.
  const Config config = load(R"(
[exchange]
ws_public_url = "ws://127.0.0.1:9/v5/public/linear"
symbols = ["BTCUSDT", "ETHUSDT"]
[feed]
book_levels = 50
)");
  SymbolTable symbols(16);
  MarketDataSession session(market_data_options(config), symbols);
  EXPECT_EQ(session.state(), SessionState::waiting);
  ASSERT_TRUE(symbols.find("ETHUSDT").has_value());
  EXPECT_NE(session.book(*symbols.find("ETHUSDT")), nullptr);
}

}  // namespace
}  // namespace kinetic::feed
