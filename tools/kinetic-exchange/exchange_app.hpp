#pragma once
// ExchangeApp: the Bybit-specific Handler behind the exchange simulator's Server. It wires the
// market source, the public feeds, the simulated venue and the REST API together:
// - REST requests go to handle_rest (api.hpp).
// - Public WebSockets (/v5/public/linear, /v5/public/spot): subscribe/unsubscribe/ping with
//   Bybit's per-market reply shapes (docs/bybit-v5.md §1.3), the topics' initial messages, then
//   every message the PublicFeed produces, fanned out to the topic's subscribers.
// - The private WebSocket (/v5/private): the auth op, then the order, execution, position and
//   wallet topics fed by the venue's VenueListener callbacks (§2).
// - The trade WebSocket (/v5/trade): auth, order.create/amend/cancel with reqId and header,
//   answered in Bybit's camelCase shape with the rate-limit header (§3).
// - Pacing of the market: `--speed 1` follows the source's timestamps in wall time, N× runs
//   them N times faster, `max` steps as fast as the slowest public subscriber drains.
// - The faults that touch WebSockets: pause_market_data, malformed_frames, drop_connections.
//
// Ownership: borrows everything (context, source, feeds, server); they must outlive the app.
// The app registers itself as the venue's listener for its lifetime.
// Thread-safety: none. Every member runs on the Server's loop thread, as the Handler contract
// says.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "api.hpp"
#include "market_source.hpp"
#include "server.hpp"

namespace kinetic::exchange {

/// How fast the market source is replayed into the feeds and the venue.
struct PacingOptions {
  /// Source time runs this many times faster than wall time (1 = real time). Ignored when
  /// `as_fast_as_possible`.
  double speed = 1.0;
  /// `--speed max`: step whenever every public subscriber has less than `max_queued_bytes`
  /// waiting in the server's output buffer.
  bool as_fast_as_possible = false;
  std::size_t max_queued_bytes = std::size_t{1} << 20;
  /// At most this many source steps per loop pass, so that requests are served in between.
  std::size_t max_steps_per_tick = 1024;
  /// Levels per side handed to the venue on each book change (a market order walks them).
  std::size_t venue_book_levels = 200;
};

/// Counters for the log and the tests.
struct AppStats {
  std::uint64_t steps = 0;            ///< market steps consumed from the source
  std::uint64_t public_messages = 0;  ///< public pushes sent (one per subscriber)
  std::uint64_t private_messages = 0;
  std::uint64_t malformed_sent = 0;
  bool source_ended = false;  ///< a replay without --loop reached its end
};

class ExchangeApp final : public Handler {
 public:
  /// `linear_feed` must be `context.linear_feed`; `spot_feed` serves /v5/public/spot from the
  /// same source. Registers the app as `context.venue`'s listener and sets
  /// `context.drop_connections` (the drop happens on the next loop pass, after the reply of
  /// the request that asked for it has been queued).
  ExchangeApp(ExchangeContext& context, MarketSource& source, PublicFeed& linear_feed,
              PublicFeed& spot_feed, const PacingOptions& pacing);
  ~ExchangeApp() override;
  ExchangeApp(const ExchangeApp&) = delete;
  ExchangeApp& operator=(const ExchangeApp&) = delete;

  /// The server that carries this app's connections. Call once, before Server::run(); the
  /// Server is constructed with the app as its Handler, hence the two steps.
  void attach(Server& server) noexcept;

  // ---- Handler ----
  HttpResponse on_http(ConnId connection, const HttpRequest& request) override;
  bool on_ws_open(ConnId connection, std::string_view path, std::string_view query) override;
  void on_ws_text(ConnId connection, std::string_view message) override;
  void on_ws_closed(ConnId connection) override;
  void on_tick(std::int64_t now_ns) override;
  [[nodiscard]] std::int64_t next_tick_ns() const override;

  [[nodiscard]] const AppStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinetic::exchange
