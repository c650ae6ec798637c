#pragma once
// TLS over memory: OpenSSL never touches a socket. A TlsSession's SSL object talks to a BIO
// pair with fixed buffers; the transport moves ciphertext between that pair and the TCP
// connection, the application reads and writes plaintext. Stream joins a TcpConnection and an
// optional TlsSession behind one interface for ws:// and wss:// (and http/https).
//
// Start-up (may allocate, may block, errors as values with text): TlsContext::client/server,
// TlsSession::start, Stream::connect. Hot path (no exception; no allocation by this code —
// OpenSSL's own behaviour is measured in tests/feed/transport_test.cpp): everything else.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kinetic/core/result.hpp"
#include "kinetic/feed/tcp_socket.hpp"

// OpenSSL's types, declared so that this header does not pull in <openssl/ssl.h>.
struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace kinetic::feed {

enum class TlsVersion : std::uint8_t { tls1_2, tls1_3 };

/// Client context settings. Hostname verification and SNI are per session (TlsSession::start).
struct TlsClientOptions {
  std::string ca_file;      ///< PEM bundle of trusted CAs; empty: the system trust store
  bool verify_peer = true;  ///< false only for tests against throw-away certificates
  TlsVersion min_version = TlsVersion::tls1_2;
  TlsVersion max_version = TlsVersion::tls1_3;  ///< 1.3 is preferred whenever the peer has it
};

/// Server context settings (the local exchange simulator).
struct TlsServerOptions {
  std::string certificate_file;  ///< PEM certificate chain, leaf first
  std::string private_key_file;  ///< PEM private key of the leaf
  TlsVersion min_version = TlsVersion::tls1_2;
  TlsVersion max_version = TlsVersion::tls1_3;
};

/// An OpenSSL SSL_CTX: trust store, certificates, protocol versions. Created at start-up and
/// shared by every session made from it; it must outlive them. Movable, not copyable. Const
/// use from several threads is safe (OpenSSL reference-counts and locks the SSL_CTX itself).
class TlsContext {
 public:
  /// Errors: tls_config_failed (then *error_text, if given, says why).
  [[nodiscard]] static Result<TlsContext, NetError> client(const TlsClientOptions& options,
                                                           std::string* error_text = nullptr);
  [[nodiscard]] static Result<TlsContext, NetError> server(const TlsServerOptions& options,
                                                           std::string* error_text = nullptr);

  TlsContext() noexcept = default;  ///< empty; only for Result and move targets
  ~TlsContext();
  TlsContext(TlsContext&& other) noexcept;
  TlsContext& operator=(TlsContext&& other) noexcept;
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  [[nodiscard]] bool valid() const noexcept { return context_ != nullptr; }
  [[nodiscard]] bool is_server() const noexcept { return server_; }
  [[nodiscard]] ssl_ctx_st* native_handle() const noexcept { return context_; }

 private:
  ssl_ctx_st* context_ = nullptr;
  bool server_ = false;
};

enum class TlsState : std::uint8_t {
  idle,         ///< not started
  handshaking,  ///< start() done, handshake() not finished
  established,  ///< application data may flow
  closed,       ///< close_notify received (read returns closed) or sent
  failed,       ///< fatal error; error_text() says why
};

/// One TLS connection over a memory BIO pair. Owns its SSL object and BIO pair (allocated by
/// start(); start() again replaces them, the destructor frees them). Not copyable or
/// movable. Not thread-safe: one thread drives it.
///
/// Data flow, network side: bytes received from TCP go in with feed_ciphertext() (or, without
/// a copy, receive straight into ciphertext_in_space() then commit_ciphertext_in()); bytes to
/// send to TCP come out with take_ciphertext() (or ciphertext_out() + consume_ciphertext_out()).
/// Application side: read() decrypts into the caller's buffer, write() encrypts.
/// The handshake is driven by handshake() with the same ciphertext calls around it.
class TlsSession {
 public:
  /// Bytes of each direction of the BIO pair: room for several full 16 KiB records.
  static constexpr std::size_t kBioBufferSize = std::size_t{1} << 17;

  TlsSession() noexcept = default;
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// Start-up: makes the SSL object and BIO pair. For a client context `peer_name` is the host
  /// name (or IP literal) sent as SNI and verified against the certificate; a server ignores
  /// it. Errors: tls_config_failed.
  [[nodiscard]] NetError start(const TlsContext& context, std::string_view peer_name);

  /// Advances the handshake. Returns ok once established, would_block when it needs more
  /// ciphertext from the peer (first send what pending_ciphertext() holds), or
  /// tls_verify_failed / tls_handshake_failed (state failed; an alert may still be pending
  /// to send).
  [[nodiscard]] NetError handshake() noexcept;

  /// Copies ciphertext received from the peer in; returns how much was taken (less than
  /// offered only when the BIO is full: read() plaintext out first).
  [[nodiscard]] std::size_t feed_ciphertext(std::span<const std::byte> ciphertext) noexcept;
  /// Contiguous free room to receive ciphertext into directly (may be empty, may be less than
  /// the total free room when the ring wraps); follow with commit_ciphertext_in(bytes written).
  [[nodiscard]] std::span<std::byte> ciphertext_in_space() noexcept;
  void commit_ciphertext_in(std::size_t bytes) noexcept;

  /// Ciphertext waiting to go to the peer.
  [[nodiscard]] std::size_t pending_ciphertext() const noexcept;
  /// Moves up to out.size() bytes of pending ciphertext into `out`; returns how many.
  [[nodiscard]] std::size_t take_ciphertext(std::span<std::byte> out) noexcept;
  /// The next contiguous piece of pending ciphertext, without copying; then
  /// consume_ciphertext_out(bytes actually sent).
  [[nodiscard]] std::span<const std::byte> ciphertext_out() noexcept;
  void consume_ciphertext_out(std::size_t bytes) noexcept;

  /// Decrypts into `out`; returns bytes (>= 1 unless out is empty), would_block (needs more
  /// ciphertext), closed (peer sent close_notify), tls_failed.
  [[nodiscard]] Result<std::size_t, NetError> read(std::span<std::byte> out) noexcept;
  /// Encrypts up to one record (16 KiB) of `plaintext`; returns bytes consumed (>= 1 unless
  /// plaintext is empty), would_block (the outgoing BIO is full: send ciphertext first),
  /// not_connected (handshake not finished), tls_failed.
  [[nodiscard]] Result<std::size_t, NetError> write(std::span<const std::byte> plaintext) noexcept;
  /// Queues a close_notify alert (then send pending ciphertext). State becomes closed.
  void close_notify() noexcept;
  /// True when ciphertext or decrypted plaintext is buffered inside, so read() may succeed
  /// without more input from the network.
  [[nodiscard]] bool has_buffered_input() const noexcept;
  /// True when decrypted plaintext is waiting (read() succeeds without more ciphertext).
  [[nodiscard]] bool has_decrypted_input() const noexcept;

  [[nodiscard]] TlsState state() const noexcept { return state_; }
  /// "TLSv1.3", "TLSv1.2", ... once established; "" otherwise.
  [[nodiscard]] const char* protocol_version() const noexcept;
  /// Why the session failed (OpenSSL error queue and certificate verification), off the hot
  /// path; empty if it has not.
  [[nodiscard]] std::string_view error_text() const noexcept { return error_text_; }
  [[nodiscard]] ssl_st* native_handle() const noexcept { return ssl_; }

 private:
  NetError fail(NetError error) noexcept;

  ssl_st* ssl_ = nullptr;
  bio_st* network_bio_ = nullptr;  // our end of the pair; the SSL object owns the other end
  TlsState state_ = TlsState::idle;
  char error_text_buffer_[512] = {};
  std::string_view error_text_;
};

/// Connection settings of a Stream.
struct StreamOptions {
  TcpOptions tcp;
  /// Required for tls URLs (wss, https); not owned, must outlive the Stream.
  const TlsContext* tls = nullptr;
  int handshake_timeout_ms = 5000;
};

/// A byte stream to a server: plain TCP for ws/http, TLS over TCP for wss/https. Owns its
/// TcpConnection and TlsSession. Not copyable or movable; not thread-safe (one thread drives
/// it). All buffers are allocated by connect(); the calls after it allocate nothing of ours.
class Stream {
 public:
  Stream() noexcept = default;
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  /// Start-up, blocking: resolves url.host, connects TCP, and for url.tls runs the TLS
  /// handshake (SNI and certificate name = url.host). Errors: resolve_failed, the
  /// TcpConnection::connect errors, tls_config_failed (no context given), tls_verify_failed,
  /// tls_handshake_failed, handshake_timeout, closed (peer hung up during the handshake).
  [[nodiscard]] NetError connect(const Url& url, const StreamOptions& options);
  /// As above with the address already resolved; `host` is used for SNI and verification.
  [[nodiscard]] NetError connect(const Endpoint& endpoint, std::string_view host, bool tls,
                                 const StreamOptions& options);

  /// Appends received plaintext into `out` (TLS decrypts straight into it). Returns bytes
  /// (>= 1 unless out is empty), would_block, closed, or an error. Never blocks.
  [[nodiscard]] Result<std::size_t, NetError> receive_into(std::span<std::byte> out) noexcept;
  /// Queues all of `plaintext` or nothing: would_block when there is no room now (flush /
  /// wait, then retry), message_too_large when there never will be. Never blocks.
  [[nodiscard]] NetError send(std::span<const std::byte> plaintext) noexcept;
  /// Pushes queued bytes on toward the kernel; ok or the connection's error.
  [[nodiscard]] NetError flush() noexcept;
  /// Bytes accepted by send() but not yet handed to the kernel (TLS records included).
  [[nodiscard]] std::size_t unsent_bytes() const noexcept;
  /// Blocks up to timeout_ms for socket activity (see TcpConnection::wait). Returns at once
  /// with ok when TLS already holds plaintext, or complete records, that receive_into() has
  /// not delivered yet.
  [[nodiscard]] NetError wait(int timeout_ms) noexcept;
  /// TLS: queues close_notify and tries to send it; then closes the socket.
  void close() noexcept;

  [[nodiscard]] bool is_open() const noexcept { return tcp_.is_open(); }
  [[nodiscard]] bool is_tls() const noexcept { return tls_enabled_; }
  [[nodiscard]] const TcpConnection& tcp() const noexcept { return tcp_; }
  [[nodiscard]] const TlsSession& tls() const noexcept { return tls_; }
  /// Why the TLS handshake or session failed (OpenSSL's text), off the hot path; "" when TLS
  /// did not fail (use to_string(NetError) for the rest).
  [[nodiscard]] std::string_view error_text() const noexcept;

 private:
  NetError pump_ciphertext_out() noexcept;

  TcpConnection tcp_;
  TlsSession tls_;
  bool tls_enabled_ = false;
  bool tls_input_exhausted_ = false;  // receive_into found no complete record and no TCP data
  std::size_t send_buffer_size_ = 0;
};

}  // namespace kinetic::feed
