#pragma once
// TCP transport for the feed: URL parsing, name resolution, and a non-blocking client
// connection driven by io_uring (multishot receive into a provided-buffer ring where the kernel
// has it) or, where io_uring is unavailable or not wanted, by plain recv/send/poll.
//
// Start-up (may allocate, may block): parse_url, resolve, probe_capabilities,
// TcpConnection::connect. Hot path (no allocation, no exception, only the socket's system
// calls): TcpConnection::receive_into, send, flush, wait, close.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kinetic/core/result.hpp"

namespace kinetic::feed {

/// Every failure of the transport layer (TCP, TLS, the combined Stream), as a value.
/// `would_block` and `closed` are states rather than faults: they tell the caller to come back
/// later, or that the peer ended the stream in order.
enum class NetError : std::uint8_t {
  ok = 0,
  would_block,           ///< nothing to read now / no room to queue the write now (back-pressure)
  closed,                ///< the peer closed the connection (TCP FIN or TLS close_notify)
  invalid_url,           ///< URL syntax error (missing "://", empty host, bad port, ...)
  unsupported_scheme,    ///< scheme other than ws, wss, http, https
  resolve_failed,        ///< getaddrinfo found no IPv4/IPv6 address
  socket_failed,         ///< socket() or a required setsockopt failed
  io_uring_failed,       ///< io_uring set-up failed although it was asked for explicitly
  connect_refused,       ///< ECONNREFUSED: nothing listens on that port
  connect_timeout,       ///< the connect did not finish within the timeout
  connect_failed,        ///< any other connect error (unreachable, reset, ...)
  not_connected,         ///< operation on a connection that is not open
  reset,                 ///< ECONNRESET / EPIPE while open
  io_failed,             ///< any other recv/send/io_uring error
  message_too_large,     ///< a single send larger than the whole send buffer: can never fit
  tls_config_failed,     ///< SSL_CTX set-up: bad certificate, key, CA file, ...
  tls_verify_failed,     ///< peer certificate chain or hostname did not verify
  tls_handshake_failed,  ///< any other handshake failure (protocol version, alert, ...)
  tls_failed,            ///< TLS error after the handshake (bad record, alert)
  handshake_timeout,     ///< TLS handshake did not finish within the timeout
};

/// A short constant description of `error` (static storage, never null).
[[nodiscard]] const char* to_string(NetError error) noexcept;

/// A parsed ws/wss/http/https URL. Value type; owns its strings. Start-up only.
struct Url {
  std::string scheme;      ///< lower-case: "ws", "wss", "http" or "https"
  std::string host;        ///< host name or address literal, without IPv6 brackets
  std::uint16_t port = 0;  ///< explicit port, else 80 (ws/http) or 443 (wss/https)
  std::string target;      ///< path and query, always starting with '/' ("/" when absent)
  bool tls = false;        ///< true for wss and https
};

/// Parses `ws://host[:port]/path?query` (also wss, http, https; scheme is case-insensitive;
/// IPv6 literals as `[::1]`). Fragments ("#...") are dropped. Errors: invalid_url,
/// unsupported_scheme.
[[nodiscard]] Result<Url, NetError> parse_url(std::string_view url);

/// A resolved socket address (IPv4 or IPv6). Value type.
struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
};

/// Resolves `host` with getaddrinfo (blocking; start-up only) and returns its first TCP
/// address, IPv4 preferred. Error: resolve_failed.
[[nodiscard]] Result<Endpoint, NetError> resolve(const std::string& host, std::uint16_t port);

/// What the running kernel allows, probed once per process (the first call probes, later
/// calls return the same object; thread-safe).
struct TransportCapabilities {
  bool io_uring = false;        ///< io_uring_queue_init works (not forbidden by a sandbox)
  int io_uring_errno = 0;       ///< errno of the failed io_uring_queue_init, else 0
  bool connect_op = false;      ///< IORING_OP_CONNECT and IORING_OP_LINK_TIMEOUT
  bool send_recv_ops = false;   ///< IORING_OP_SEND and IORING_OP_RECV
  bool buffer_ring = false;     ///< io_uring_register_buf_ring (kernel >= 5.19)
  bool multishot_recv = false;  ///< multishot receive with buffer select (kernel >= 6.0)
  bool sqpoll = false;          ///< IORING_SETUP_SQPOLL permitted for this process
};
[[nodiscard]] const TransportCapabilities& probe_capabilities();
/// Probes again now, uncached (diagnostics and tests; takes a few system calls).
[[nodiscard]] TransportCapabilities probe_kernel();

/// Which mechanism drives a connection.
enum class TcpBackend : std::uint8_t {
  /// io_uring when probe_capabilities() allows it and the ring can be set up at connect,
  /// plain sockets otherwise (the documented fallback, same interface and semantics).
  automatic,
  io_uring,  ///< io_uring or fail with io_uring_failed
  plain,     ///< non-blocking recv/send/poll system calls
};

/// Options of a TcpConnection; every field has a usable default.
struct TcpOptions {
  TcpBackend backend = TcpBackend::automatic;
  int connect_timeout_ms = 5000;
  /// SO_BUSY_POLL in microseconds; 0 leaves it off. Raising it above the net.core.busy_poll
  /// sysctl needs CAP_NET_ADMIN; a refusal is not fatal (see busy_poll_applied()).
  int busy_poll_us = 0;
  /// io_uring: a kernel thread polls the submission queue, so submitting needs no system
  /// call. It costs a CPU while busy. Falls back to a normal ring if the kernel refuses.
  bool sqpoll = false;
  int sqpoll_idle_ms = 100;  ///< how long the SQPOLL thread spins before it sleeps
  /// io_uring: use multishot receive into a provided-buffer ring when the kernel has it;
  /// false forces one single-shot receive at a time (the path for older kernels).
  bool multishot_recv = true;
  std::uint32_t recv_buffer_count = 64;      ///< provided buffers (power of two, <= 32768)
  std::uint32_t recv_buffer_size = 16384;    ///< bytes per provided / single-shot buffer
  std::uint32_t send_buffer_size = 1 << 18;  ///< bytes of queued, not yet sent data
  int socket_recv_buffer = 0;                ///< SO_RCVBUF in bytes; 0 keeps the kernel default
  int socket_send_buffer = 0;                ///< SO_SNDBUF in bytes; 0 keeps the kernel default
};

/// One client TCP connection. Owns its socket, its io_uring (if any) and every buffer;
/// everything is allocated by connect(), nothing afterwards. Movable, not copyable; not
/// thread-safe (one thread drives it). Destruction closes.
///
/// Reading: receive_into() appends received bytes into the caller's buffer (with the plain
/// backend the kernel writes there directly; with io_uring the bytes are copied out of the
/// provided buffer the kernel filled, and that buffer is handed back to the kernel at once).
/// Writing: send() queues a whole message into the connection's send buffer and starts
/// sending it; short writes are continued by later send/flush/receive_into/wait calls.
class TcpConnection {
 public:
  TcpConnection() noexcept;
  ~TcpConnection();
  TcpConnection(TcpConnection&&) noexcept;
  TcpConnection& operator=(TcpConnection&&) noexcept;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  /// Start-up: creates the socket (TCP_NODELAY on, non-blocking), sets up the chosen backend
  /// and connects within options.connect_timeout_ms (blocking). Closes any previous
  /// connection first. Errors: socket_failed, io_uring_failed, connect_refused,
  /// connect_timeout, connect_failed.
  [[nodiscard]] NetError connect(const Endpoint& endpoint, const TcpOptions& options = {});

  /// Appends received bytes into `out`; returns how many (>= 1), or would_block (nothing
  /// received yet), closed (peer closed and every byte before the close was delivered),
  /// not_connected, reset, io_failed. Never blocks. Also progresses queued sends.
  [[nodiscard]] Result<std::size_t, NetError> receive_into(std::span<std::byte> out) noexcept;

  /// Queues all of `data` for sending, or nothing: would_block when the send buffer lacks
  /// room now (retry after flush()/wait()), message_too_large when it never could. Also
  /// not_connected, reset, io_failed.
  [[nodiscard]] NetError send(std::span<const std::byte> data) noexcept;
  /// Free room in the send buffer right now (what send() would accept).
  [[nodiscard]] std::size_t send_capacity() const noexcept;
  /// Bytes queued but not yet acknowledged as sent by the kernel.
  [[nodiscard]] std::size_t unsent_bytes() const noexcept;

  /// Progresses queued sends and harvests completions without blocking. Returns ok or the
  /// connection's error (reset, io_failed, not_connected).
  [[nodiscard]] NetError flush() noexcept;

  /// Blocks up to `timeout_ms` (-1: forever; 0: just check) until received data, a close or
  /// send progress may be available. Returns ok (something may have happened; call
  /// receive_into / flush), would_block on timeout, or an error. For blocking-wait modes and
  /// tests; a busy-spinning caller just calls receive_into() in a loop.
  [[nodiscard]] NetError wait(int timeout_ms) noexcept;

  /// Shuts the socket down, cancels io_uring operations and releases everything.
  void close() noexcept;

  [[nodiscard]] bool is_open() const noexcept;
  [[nodiscard]] int native_handle() const noexcept;  ///< the socket, -1 when closed
  /// The backend actually used (never `automatic` once connected).
  [[nodiscard]] TcpBackend backend() const noexcept;
  [[nodiscard]] bool uses_multishot_recv() const noexcept;
  [[nodiscard]] bool uses_sqpoll() const noexcept;
  [[nodiscard]] bool busy_poll_applied() const noexcept;
  /// errno of the last failure seen (connect, recv, send), 0 if none; for diagnostics.
  [[nodiscard]] int last_errno() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinetic::feed
