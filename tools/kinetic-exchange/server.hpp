#pragma once
// The exchange simulator's network front: one listening TCP port that serves HTTP/1.1
// (keep-alive, pipelined requests answered in order) and WebSocket upgrades, plain or TLS
// (the feed's TlsSession in the server role), with one single-threaded epoll loop.
//
// Division of labour: the Server owns sockets, TLS, HTTP parsing, the WebSocket handshake and
// framing (the feed's WsDeframer/WsFramer in the server role: pings answered with pongs, a
// close answered and the connection shut), output buffering and idle time-outs. Everything
// Bybit-specific is the Handler's: the server hands it parsed requests and text messages and
// sends what it returns. The simulator is a tool, not the engine's hot path: it may allocate.
//
// Ownership: the Server owns its connections; the Handler is borrowed and must outlive run().
// Thread-safety: every member runs on the thread that calls run(), except request_stop(),
// which is async-signal-safe (a SIGTERM handler may call it).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kinetic::exchange {

/// Identifies a connection for its whole life; never reused within one Server.
using ConnId = std::uint64_t;

/// One parsed HTTP request. Views point into the server's receive buffer and stay valid only
/// during the Handler call.
struct HttpRequest {
  std::string_view method;  ///< "GET", "POST", ...
  std::string_view target;  ///< as sent: "/v5/position/list?category=linear&symbol=BTCUSDT"
  std::string_view path;    ///< target before '?'
  std::string_view query;   ///< target after '?', exactly as sent (no decoding), "" if none
  std::vector<std::pair<std::string_view, std::string_view>> headers;  ///< in order received
  std::string_view body;  ///< exact bytes (Content-Length or de-chunked)

  /// The first header with this name, compared case-insensitively; nullopt if absent.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// The Handler's answer to an HTTP request.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers, in order
  std::string body;
  /// Sent this long after the request instead of at once (the "delay" fault). Later requests
  /// on the same connection are answered after it, in order.
  std::chrono::milliseconds delay{0};
};

/// The Bybit-specific logic behind the server. All calls come from the run() thread.
class Handler {
 public:
  virtual ~Handler() = default;
  /// A complete HTTP request that is not a WebSocket upgrade.
  virtual HttpResponse on_http(ConnId connection, const HttpRequest& request) = 0;
  /// A valid WebSocket upgrade request for `path` (query string in `query`). Return false to
  /// refuse it (the server answers 404 and closes).
  virtual bool on_ws_open(ConnId connection, std::string_view path, std::string_view query) = 0;
  /// One complete text message (fragments joined, UTF-8 checked).
  virtual void on_ws_text(ConnId connection, std::string_view message) = 0;
  /// The connection is gone (closed by either side, failed, or timed out). Called once, for
  /// WebSocket connections only.
  virtual void on_ws_closed(ConnId connection) = 0;
  /// Called on every pass of the loop; `now` is CLOCK_REALTIME in ns. Do the work that is
  /// due (publish market data, fill orders, expire things).
  virtual void on_tick(std::int64_t now_ns) = 0;
  /// When on_tick is next needed (CLOCK_REALTIME ns); the loop sleeps at most until then.
  /// Return a time in the past (e.g. 0) to be called again at once (`--speed max`).
  [[nodiscard]] virtual std::int64_t next_tick_ns() const = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;       ///< 0: any free port (see Server::port())
  std::string tls_certificate;  ///< PEM; both set: HTTPS/WSS only on this port
  std::string tls_private_key;
  std::size_t max_http_request = 1 << 20;  ///< header + body; larger: 413 and close
  std::size_t max_ws_message = 1 << 20;    ///< larger: close 1009
  /// A connection that neither sent nor received anything for this long is closed (Bybit
  /// drops idle WebSocket connections after 10 minutes). HTTP keep-alive connections too.
  std::chrono::milliseconds idle_timeout{600'000};
  /// Output queued for one connection beyond this (a client that does not read) closes it.
  std::size_t max_queued_output = 256u << 20;
};

/// Counters for the log and the benchmark.
struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t ws_messages_in = 0;
  std::uint64_t ws_messages_out = 0;
  std::uint64_t bytes_out = 0;
};

class Server {
 public:
  /// Binds and listens; throws std::runtime_error with the reason (port in use, bad
  /// certificate...). Start-up only.
  Server(const ServerOptions& options, Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const noexcept;

  /// Serves until request_stop(). Throws only for failures of the loop itself.
  void run();
  /// Makes run() return soon. Async-signal-safe; may be called from any thread.
  void request_stop() noexcept;

  /// Queues a text message on a WebSocket connection. False if the connection is gone or is
  /// being closed (the message is dropped).
  bool send_text(ConnId connection, std::string_view message);
  /// Queues raw bytes as a text frame's payload without UTF-8 or JSON checks (the
  /// "malformed_frames" fault sends broken JSON this way; same as send_text otherwise).
  bool send_raw_text(ConnId connection, std::string_view payload) {
    return send_text(connection, payload);
  }
  /// Bytes queued but not yet written to the socket (0 for an unknown connection): the
  /// publisher paces `--speed max` on it.
  [[nodiscard]] std::size_t queued_bytes(ConnId connection) const noexcept;
  /// Starts the closing handshake with `code` and `reason` (WebSocket), or closes (HTTP).
  void close(ConnId connection, std::uint16_t code, std::string_view reason);
  /// Drops every connection at once, without a close frame (the "drop_connections" fault):
  /// the sockets are closed, queued output is lost, on_ws_closed follows for each WebSocket.
  /// Called from on_http, it spares the connection whose request is being answered, so that
  /// the answer still goes out.
  void drop_all_connections();

  [[nodiscard]] const ServerStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinetic::exchange
