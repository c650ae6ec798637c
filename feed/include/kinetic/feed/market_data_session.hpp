#pragma once
// MarketDataSession: one Bybit v5 public WebSocket connection, kept alive — connect (TCP,
// TLS for wss://, the WebSocket handshake), subscribe, receive, deframe, decode into
// MarketEvents, maintain the order books, ping, detect a dead link, and reconnect with
// backoff, resubscribing and resyncing the books.
//
// Driving it: the feed thread calls poll(now, sink) in its loop (busy or after wait()). One
// call handles everything received so far and returns; it never blocks while connected.
// Connecting is the exception: when a (re)connection is due, poll() runs the TCP, TLS and
// WebSocket handshakes blocking, within their timeouts — there is no data to process then
// anyway, and it keeps the streaming path free of connection states.
//
// What the sink sees, per received message and in order: on_message() with the raw text
// (the recorder takes it there), then on_events() with the decoded events, and for a book
// message on_book() with the book after the message was applied. Connection changes go to
// on_connection() (off the hot path; the text is a constant).
//
// Books: one per symbol with an orderbook topic, allocated at construction. A gap in the
// update ids (or any message the book cannot apply) makes the session unsubscribe and
// subscribe that topic again: Bybit answers a subscription with a fresh snapshot, which
// resyncs the book. After a reconnect every book waits for its snapshot.
//
// Hot path (poll while streaming): no allocation, no exception, no system call but the
// socket's own. Reconnecting allocates (the transport's buffers) and is not hot.
//
// Ownership: owns its transport, buffers, decoder and books; refers to the SymbolTable and
// the TlsContext, which must outlive it. Not thread-safe: one thread drives it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kinetic/core/latency_histogram.hpp"
#include "kinetic/core/types.hpp"
#include "kinetic/feed/bybit_decoder.hpp"
#include "kinetic/feed/order_book.hpp"
#include "kinetic/feed/session_policy.hpp"
#include "kinetic/feed/symbol_table.hpp"
#include "kinetic/feed/tcp_socket.hpp"
#include "kinetic/feed/tls_session.hpp"
#include "kinetic/feed/websocket.hpp"

namespace kinetic::feed {

/// Configuration of a session. Plain value; read at construction.
struct MarketDataSessionOptions {
  std::string url = "wss://stream.bybit.com/v5/public/linear";
  std::vector<std::string> topics;  ///< full topic names, e.g. "orderbook.50.BTCUSDT"
  const TlsContext* tls = nullptr;  ///< needed for wss:// (not owned)
  TcpOptions tcp;
  SessionTiming timing;
  int handshake_timeout_ms = 5000;           ///< TLS and WebSocket handshakes
  std::size_t max_message_bytes = 1U << 20;  ///< larger messages end the connection (1009)
  std::size_t book_levels = 1000;            ///< per side, per book
  std::uint64_t seed = 0x5EED;               ///< reconnection jitter (reproducible)
};

/// Counters of a session. Plain value, updated by the feed thread.
struct FeedStats {
  std::uint64_t connects = 0;            ///< connections that reached streaming
  std::uint64_t connect_failures = 0;    ///< attempts that failed before streaming
  std::uint64_t disconnects = 0;         ///< streaming connections lost or closed
  std::uint64_t messages = 0;            ///< WebSocket messages received
  std::uint64_t bytes = 0;               ///< their payload bytes
  std::uint64_t events = 0;              ///< MarketEvents decoded
  std::uint64_t decode_errors = 0;       ///< malformed or overflowing messages
  std::uint64_t unknown_topics = 0;      ///< data on topics we do not decode
  std::uint64_t book_gaps = 0;           ///< book messages that needed a resync
  std::uint64_t resubscribes = 0;        ///< topics subscribed again to resync a book
  std::uint64_t subscribe_failures = 0;  ///< subscribe acks with success false
  std::uint64_t pings_sent = 0;          ///< JSON pings
  std::uint64_t pongs = 0;               ///< JSON pongs received
  std::uint64_t protocol_errors = 0;     ///< WebSocket protocol violations by the server
};

/// What a session reports to. Override what you need; the defaults do nothing.
class FeedSink {
 public:
  virtual ~FeedSink() = default;
  /// A WebSocket text message as received (before decoding), and when it was received.
  virtual void on_message(std::string_view /*text*/, TimestampNs /*recv_ts*/) {}
  /// The events decoded from one message (valid during the call).
  virtual void on_events(std::span<const MarketEvent> /*events*/) {}
  /// A book after a message was applied to it.
  virtual void on_book(const OrderBook& /*book*/) {}
  /// The connection came up (streaming) or went down; `detail` is a constant text.
  virtual void on_connection(bool /*up*/, std::string_view /*detail*/, TimestampNs /*now*/) {}
};

enum class SessionState : std::uint8_t {
  waiting,    ///< not connected; the next attempt is due at next_attempt_at()
  streaming,  ///< connected and subscribed (or subscribing)
  stopped,    ///< stop() was called
};

class MarketDataSession {
 public:
  /// Parses the URL and the topics and allocates the buffers, decoder and books. Throws
  /// std::invalid_argument for a bad URL, a topic without a symbol, or wss:// without a
  /// TlsContext. The first connection is attempted by the first poll().
  MarketDataSession(MarketDataSessionOptions options, SymbolTable& symbols);
  ~MarketDataSession();
  MarketDataSession(const MarketDataSession&) = delete;
  MarketDataSession& operator=(const MarketDataSession&) = delete;

  /// One step (see the file comment). `now`: nanoseconds on a monotonic clock.
  void poll(TimestampNs now, FeedSink& sink);
  /// Blocks up to `timeout_ms` until the socket may have something (or returns at once when
  /// not connected). For a feed thread that does not spin.
  void wait(int timeout_ms) noexcept;
  /// Closes the connection (a close frame first when streaming); no more reconnects.
  void stop() noexcept;

  [[nodiscard]] SessionState state() const noexcept { return state_; }
  [[nodiscard]] TimestampNs next_attempt_at() const noexcept { return next_attempt_at_; }
  [[nodiscard]] const FeedStats& stats() const noexcept { return stats_; }
  /// Receive-to-event latency per message: from the read that brought its last bytes to the
  /// end of its decoding (and book update), in ns.
  [[nodiscard]] const LatencyHistogram& latency() const noexcept { return *latency_; }
  /// The book of `symbol`, or nullptr when it has no orderbook topic.
  [[nodiscard]] const OrderBook* book(SymbolId symbol) const noexcept;
  /// Time since the last message from the exchange (or since the session began): what the
  /// risk manager's connectivity stop needs.
  [[nodiscard]] TimestampNs silence(TimestampNs now) const noexcept {
    return now - last_message_at_;
  }
  /// The last connection failure or disconnect reason (constant text).
  [[nodiscard]] std::string_view last_error() const noexcept { return last_error_; }

 private:
  struct BookTopic {
    SymbolId symbol;
    std::string topic;
  };

  void connect(TimestampNs now, FeedSink& sink);
  bool websocket_handshake(TimestampNs deadline_ns);
  void disconnect(TimestampNs now, std::string_view reason, FeedSink& sink) noexcept;
  void close_stream() noexcept;
  bool receive_and_handle(TimestampNs now, FeedSink& sink) noexcept;
  void handle_message(std::string_view text, TimestampNs now, std::uint64_t read_ticks,
                      FeedSink& sink) noexcept;
  std::string_view request_id(char (&out)[24], char prefix) noexcept;
  bool send_text(std::string_view text) noexcept;
  bool send_frame(std::size_t frame_bytes) noexcept;
  bool subscribe(std::span<const std::string_view> topics, bool unsubscribe) noexcept;
  void resync(SymbolId symbol) noexcept;

  MarketDataSessionOptions options_;
  Url url_;
  SymbolTable& symbols_;
  std::unique_ptr<Stream> stream_;
  WsDeframer deframer_;
  WsFramer framer_;
  BybitDecoder decoder_;
  Heartbeat heartbeat_;
  ReconnectBackoff backoff_;
  std::unique_ptr<char[]> receive_;  // receive_size_ + kWsPadding
  std::size_t receive_size_ = 0;
  std::size_t begin_ = 0;         // first unconsumed byte
  std::size_t end_ = 0;           // one past the last received byte
  std::unique_ptr<char[]> send_;  // frames and JSON requests
  std::size_t send_size_ = 0;
  std::vector<MarketEvent> events_;
  std::vector<std::unique_ptr<OrderBook>> books_;  // by SymbolId; null without a book topic
  std::vector<BookTopic> book_topics_;
  std::vector<std::string_view> all_topics_;
  std::unique_ptr<LatencyHistogram> latency_;
  FeedStats stats_;
  SessionState state_ = SessionState::waiting;
  TimestampNs next_attempt_at_ = 0;
  TimestampNs last_message_at_ = 0;
  bool started_ = false;
  std::uint64_t request_counter_ = 0;
  std::string_view last_error_;
};

}  // namespace kinetic::feed
