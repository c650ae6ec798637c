#pragma once
// PrivateSession: one Bybit v5 private WebSocket (`/v5/private`, docs/bybit-v5.md §2), kept
// alive — connect (TCP, TLS for wss://, the WebSocket handshake), authenticate, subscribe to
// the order, execution, position and wallet topics, receive, decode into the POD events of
// private_events.hpp, ping, detect a dead link, and reconnect with backoff. Modelled on
// feed::MarketDataSession (same transport, timing rules and driving).
//
// Driving it: the execution thread calls poll(now, sink) in its loop. One call handles all
// that was received and returns; it never blocks while connected. A (re)connection, when due,
// runs the TCP, TLS and WebSocket handshakes blocking within their timeouts (no events can
// arrive then anyway); auth and subscribe are then asynchronous, answered in later polls.
//
// Sequence per connection: handshake → {"op":"auth","args":[key, expires, signature]} with
// expires = wall clock + clock offset + auth_expiry_margin_ms and signature = hex
// HMAC-SHA256(secret, "GET/realtime" + expires) → on success one subscribe request for all
// topics → when acknowledged the session is `ready` and the sink hears on_ready(reconnect).
// Every on_ready with reconnect == true means events may have been missed while the link was
// down: the owner reconciles (REST) then. A reply that does not come within
// reply_timeout_ms, a refused subscription, a dead link (no data and no pong for
// ping_interval + pong_timeout) or any transport error drops the connection and schedules
// the next attempt with ReconnectBackoff (reset once a connection was ready).
//
// Auth failure (wrong key, wrong secret, an expired timestamp): the sink hears
// on_auth_failed(ret_msg, stopped). After max_auth_failures consecutive failures (default 1:
// a wrong key does not heal by retrying, and retrying would hide it) the session stops in
// state auth_failed and makes no more attempts until restart().
//
// Events: decoded by PrivateDecoder (see private_decoder.hpp) straight from the receive
// buffer and handed to the sink, one span per message; control replies go to on_control too.
//
// Hot path (poll while connected): no allocation, no exception, no system call but the
// socket's own. Connecting allocates (the transport's buffers) and is not hot.
//
// Ownership: owns its transport, buffers, decoder and signer (the secret lives only inside the
// signer's OpenSSL context; options().api_secret is cleared); refers to the SymbolTable and the
// TlsContext, which must outlive it. Not thread-safe: one thread drives it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kinetic/core/types.hpp"
#include "kinetic/exec/hmac_signer.hpp"
#include "kinetic/exec/private_decoder.hpp"
#include "kinetic/feed/session_policy.hpp"
#include "kinetic/feed/symbol_table.hpp"
#include "kinetic/feed/tcp_socket.hpp"
#include "kinetic/feed/tls_session.hpp"
#include "kinetic/feed/websocket.hpp"

namespace kinetic::exec {

/// Configuration of a private session. Plain value; read at construction.
struct PrivateSessionOptions {
  std::string url = "wss://stream.bybit.com/v5/private";
  std::string api_key;
  std::string api_secret;  ///< moved into the signer at construction, then cleared
  /// All-in-one topics by default (an all-in-one and a per-category topic cannot share one
  /// request, §2.1; this session sends one request).
  std::vector<std::string> topics = {"order", "execution", "position", "wallet"};
  const feed::TlsContext* tls = nullptr;  ///< needed for wss:// (not owned)
  feed::TcpOptions tcp;
  feed::SessionTiming timing;
  int handshake_timeout_ms = 5000;  ///< TLS and WebSocket handshakes
  int reply_timeout_ms = 5000;      ///< auth and subscribe replies
  /// expires = now + this. pybit's 1 s gives "Params Error" on slow links (§2.1).
  std::int64_t auth_expiry_margin_ms = 10'000;
  std::uint32_t max_auth_failures = 1;  ///< consecutive auth failures before giving up
  PrivateDecoderConfig decoder;
  std::uint64_t seed = 0x5EED;  ///< reconnection jitter (reproducible)
};

/// Counters of a session. Plain value, updated by the driving thread.
struct PrivateSessionStats {
  std::uint64_t connects = 0;            ///< WebSocket handshakes completed
  std::uint64_t connect_failures = 0;    ///< attempts that failed before the handshake completed
  std::uint64_t disconnects = 0;         ///< connections lost or dropped after the handshake
  std::uint64_t ready = 0;               ///< connections that got auth and every subscription
  std::uint64_t auth_failures = 0;       ///< auth replies with success false
  std::uint64_t subscribe_failures = 0;  ///< subscribe replies with success false
  std::uint64_t messages = 0;            ///< WebSocket messages received
  std::uint64_t bytes = 0;               ///< their payload bytes
  std::uint64_t items = 0;               ///< events delivered
  std::uint64_t decode_errors = 0;       ///< malformed or overflowing messages
  std::uint64_t unknown_topics = 0;      ///< data on topics not decoded
  std::uint64_t pings_sent = 0;          ///< JSON pings
  std::uint64_t pongs = 0;               ///< JSON pongs received
  std::uint64_t protocol_errors = 0;     ///< WebSocket protocol violations by the server
};

/// What a session reports to: the decoded events (PrivateSink) and the connection's life.
/// Override what you need; the defaults do nothing. Called on the driving thread.
class PrivateSessionSink : public PrivateSink {
 public:
  /// The WebSocket came up (before auth) or went down; `detail` is a constant text.
  virtual void on_connection(bool /*up*/, std::string_view /*detail*/, TimestampNs /*now*/) {}
  /// Authenticated and every topic acknowledged: events flow from here on. `reconnect` is
  /// false the first time and true after every later connection: reconcile then.
  virtual void on_ready(bool /*reconnect*/, TimestampNs /*now*/) {}
  /// The exchange refused the auth (`ret_msg`, e.g. "Params Error", "Invalid apikey").
  /// `stopped`: the session gave up (state auth_failed) and will not retry.
  virtual void on_auth_failed(std::string_view /*ret_msg*/, bool /*stopped*/, TimestampNs /*now*/) {
  }
};

enum class PrivateSessionState : std::uint8_t {
  waiting,         ///< not connected; the next attempt is due at next_attempt_at()
  authenticating,  ///< connected, auth sent, no reply yet
  subscribing,     ///< authenticated, subscribe sent, no ack yet
  ready,           ///< authenticated and subscribed: streaming
  auth_failed,     ///< gave up after max_auth_failures refusals (restart() to try again)
  stopped,         ///< stop() was called
};

class PrivateSession {
 public:
  /// Parses the URL, checks the key, builds the signer and allocates the buffers and the
  /// decoder. Throws std::invalid_argument for a bad URL, wss:// without a TlsContext, an
  /// empty key or secret, a key or topic needing JSON escaping, no topics, or bad timing;
  /// std::runtime_error when OpenSSL has no HMAC-SHA256. Nothing connects before poll().
  PrivateSession(PrivateSessionOptions options, feed::SymbolTable& symbols);
  ~PrivateSession();
  PrivateSession(const PrivateSession&) = delete;
  PrivateSession& operator=(const PrivateSession&) = delete;

  /// One step (see the file comment). `now`: nanoseconds on a monotonic clock.
  void poll(TimestampNs now, PrivateSessionSink& sink);
  /// Blocks up to `timeout_ms` until the socket may have something (returns at once when
  /// not connected). For a thread that does not spin.
  void wait(int timeout_ms) noexcept;
  /// Closes the connection (a close frame first); no more reconnects.
  void stop() noexcept;
  /// After stop() or auth_failed: connect again at the next poll().
  void restart() noexcept;
  /// Server time minus local wall-clock time, in ms (from the REST client's time sync):
  /// added to the wall clock when computing the auth's expires.
  void set_clock_offset_ms(std::int64_t offset_ms) noexcept { clock_offset_ms_ = offset_ms; }

  [[nodiscard]] PrivateSessionState state() const noexcept { return state_; }
  [[nodiscard]] bool ready() const noexcept { return state_ == PrivateSessionState::ready; }
  [[nodiscard]] TimestampNs next_attempt_at() const noexcept { return next_attempt_at_; }
  [[nodiscard]] const PrivateSessionStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const PrivateDecoderStats& decoder_stats() const noexcept {
    return decoder_.stats();
  }
  /// Time since the last message from the exchange (or since the session began).
  [[nodiscard]] TimestampNs silence(TimestampNs now) const noexcept {
    return now - last_message_at_;
  }
  /// The last connection failure or disconnect reason (constant text, or the auth's ret_msg).
  [[nodiscard]] std::string_view last_error() const noexcept { return last_error_; }

  /// Writes the auth request for `expires_ms` into `out` and returns its length (0 when it
  /// does not fit or signing fails). No allocation. Public for tests (§5's vectors).
  [[nodiscard]] std::size_t encode_auth(std::int64_t expires_ms, std::span<char> out) noexcept;

 private:
  class Dispatch;  // the decoder's sink: events to the owner, control replies to the session

  void connect(TimestampNs now, PrivateSessionSink& sink);
  bool websocket_handshake(TimestampNs deadline_ns);
  void disconnect(TimestampNs now, std::string_view reason, PrivateSessionSink& sink) noexcept;
  void close_stream() noexcept;
  bool receive_and_handle(TimestampNs now, PrivateSessionSink& sink) noexcept;
  void handle_message(std::string_view text, TimestampNs now, PrivateSessionSink& sink) noexcept;
  void handle_control(const PrivateControl& control, TimestampNs now,
                      PrivateSessionSink& sink) noexcept;
  bool send_auth(TimestampNs now) noexcept;
  bool send_subscribe() noexcept;
  bool send_json(std::size_t json_bytes) noexcept;
  bool send_frame(std::size_t frame_bytes) noexcept;
  std::string_view request_id(char (&out)[24], char prefix) noexcept;

  PrivateSessionOptions options_;
  feed::Url url_;
  PrivateDecoder decoder_;
  HmacSha256 signer_;
  std::unique_ptr<feed::Stream> stream_;
  feed::WsDeframer deframer_;
  feed::WsFramer framer_;
  feed::Heartbeat heartbeat_;
  feed::ReconnectBackoff backoff_;
  std::unique_ptr<char[]> receive_;  // receive_size_ + kWsPadding
  std::size_t receive_size_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::unique_ptr<char[]> send_;  // frames and JSON requests
  std::size_t send_size_ = 0;
  std::vector<std::string_view> topics_;
  PrivateSessionStats stats_;
  PrivateSessionState state_ = PrivateSessionState::waiting;
  TimestampNs next_attempt_at_ = 0;
  TimestampNs last_message_at_ = 0;
  TimestampNs reply_deadline_ = 0;
  std::int64_t clock_offset_ms_ = 0;
  std::uint32_t consecutive_auth_failures_ = 0;
  bool started_ = false;
  bool disconnect_requested_ = false;  // set by a control reply, acted on after the message
  std::string_view pending_reason_;
  std::uint64_t request_counter_ = 0;
  std::string_view last_error_;
  char auth_error_[129] = {};  // the last auth refusal's ret_msg (last_error_ may view it)
};

[[nodiscard]] std::string_view to_string(PrivateSessionState state) noexcept;

}  // namespace kinetic::exec
