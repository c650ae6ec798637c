// The mapping of [exchange] and [feed] onto MarketDataSessionOptions.

#include "kinetic/feed/feed_config.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kinetic/feed/bybit_decoder.hpp"

namespace kinetic::feed {
namespace {

constexpr TimestampNs kNanosPerMilli = 1'000'000;

TcpBackend to_tcp_backend(FeedConfig::IoBackend backend) {
  switch (backend) {
    case FeedConfig::IoBackend::automatic:
      return TcpBackend::automatic;
    case FeedConfig::IoBackend::io_uring:
      return TcpBackend::io_uring;
    case FeedConfig::IoBackend::plain:
      return TcpBackend::plain;
  }
  throw std::invalid_argument("feed.io_backend: unknown backend " +
                              std::to_string(static_cast<int>(backend)));
}

std::string_view reason(EncodeError error) {
  switch (error) {
    case EncodeError::unknown_short_form:
      return "not trade, ticker, book.N or kline.I";
    case EncodeError::bad_symbol:
      return "the symbol is empty, too long or has a character other than A-Z a-z 0-9 _ -";
    case EncodeError::buffer_too_small:
      return "the topic name is too long";
    default:
      return "cannot be encoded";
  }
}

}  // namespace

MarketDataSessionOptions market_data_options(const Config& config) {
  const FeedConfig& feed = config.feed;
  MarketDataSessionOptions options;
  options.url = config.exchange.ws_public_url;

  options.topics.reserve(config.exchange.symbols.size() * feed.topics.size());
  // Longer than any topic make_topic can produce: "orderbook.1000." plus a symbol name.
  std::array<char, 128> name{};
  for (const std::string& symbol : config.exchange.symbols) {
    for (const std::string& topic : feed.topics) {
      const auto made = make_topic(name, topic, symbol);
      if (!made) {
        throw std::invalid_argument("feed.topics: cannot make a topic of \"" + topic +
                                    "\" for symbol \"" + symbol +
                                    "\": " + std::string(reason(made.error())));
      }
      options.topics.emplace_back(name.data(), made.value());
    }
  }

  options.tcp.backend = to_tcp_backend(feed.io_backend);
  options.tcp.connect_timeout_ms = feed.connect_timeout_ms;
  options.tcp.busy_poll_us = feed.busy_poll_us;
  options.tcp.sqpoll = feed.sqpoll;
  options.tcp.sqpoll_idle_ms = feed.sqpoll_idle_ms;
  options.tcp.multishot_recv = feed.multishot_recv;

  options.timing.ping_interval_ns = feed.ping_interval_ms * kNanosPerMilli;
  options.timing.pong_timeout_ns = feed.pong_timeout_ms * kNanosPerMilli;
  options.timing.connect_timeout_ns = TimestampNs{feed.connect_timeout_ms} * kNanosPerMilli;
  options.timing.backoff_initial_ns = feed.reconnect_initial_ms * kNanosPerMilli;
  options.timing.backoff_max_ns = feed.reconnect_max_ms * kNanosPerMilli;
  options.timing.backoff_jitter = feed.reconnect_jitter;

  options.handshake_timeout_ms = feed.handshake_timeout_ms;
  options.max_message_bytes = feed.max_message_bytes;
  options.book_levels = feed.book_levels;
  return options;
}

}  // namespace kinetic::feed
