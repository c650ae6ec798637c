#pragma once
// From the engine's configuration to the market-data session's options: [exchange] says
// where to connect and which symbols to stream, [feed] which topics of each symbol and how
// the socket and the session's timers behave.
//
// Start-up code: allocates (the topic names) and throws.

#include "kinetic/core/config.hpp"
#include "kinetic/feed/market_data_session.hpp"

namespace kinetic::feed {

/// The options of the market-data session `config` describes:
/// - url: exchange.ws_public_url;
/// - topics: for each exchange symbol in order, each feed topic in order, as make_topic
///   names it ("book.50" for BTCUSDT → "orderbook.50.BTCUSDT");
/// - tcp: the socket backend, busy poll, SQPOLL and multishot receive of [feed], and its
///   connect timeout (the other TcpOptions keep their defaults);
/// - timing: ping interval, pong timeout, connect timeout and the reconnection backoff of
///   [feed], converted from milliseconds to nanoseconds;
/// - handshake_timeout_ms, max_message_bytes, book_levels from [feed].
/// `tls` is left null and `seed` at its default: the caller owns the TlsContext (built from
/// exchange.ca_file) and chooses the seed.
/// Throws std::invalid_argument when a topic cannot be made (a Config that load_config
/// accepted always can); the message names the topic and the symbol.
[[nodiscard]] MarketDataSessionOptions market_data_options(const Config& config);

}  // namespace kinetic::feed
