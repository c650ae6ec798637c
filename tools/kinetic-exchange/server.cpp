#include "server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include "http.hpp"
#include "kinetic/feed/tls_session.hpp"
#include "kinetic/feed/websocket.hpp"

namespace kinetic::exchange {
namespace {

using feed::NetError;
using feed::TlsSession;
using feed::TlsState;
using feed::WsDeframer;
using feed::WsEventKind;
using feed::WsFramer;
using feed::WsRole;

constexpr std::uint64_t kListenerTag = 1;
constexpr std::uint64_t kWakeTag = 2;
constexpr ConnId kFirstConnId = 16;  // below: the listener's and the wake-up fd's epoll tags
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxReadPerPass = 1 << 20;  // fairness between connections
constexpr std::int64_t kMaxSleepNs = 100'000'000;
constexpr std::int64_t kDrainTimeoutNs = 2'000'000'000;  // after our FIN, wait for the peer's
constexpr std::size_t kPadding = feed::kWsPadding;

std::int64_t clock_ns(clockid_t clock) noexcept {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
std::int64_t monotonic_ns() noexcept {
  return clock_ns(CLOCK_MONOTONIC);
}
std::int64_t realtime_ns() noexcept {
  return clock_ns(CLOCK_REALTIME);
}

std::runtime_error system_failure(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

/// A contiguous byte buffer with a consumed front: [begin, end) holds data, and at least
/// kPadding bytes after `end` stay allocated (the WebSocket deframer reads there). Growth
/// doubles; the front is compacted only when it is at least as large as the live data, so
/// appending stays amortised O(1) even with megabytes queued.
class ByteBuffer {
 public:
  [[nodiscard]] char* data() noexcept { return storage_.get() + begin_; }
  [[nodiscard]] const char* data() const noexcept { return storage_.get() + begin_; }
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] bool empty() const noexcept { return end_ == begin_; }
  [[nodiscard]] std::string_view view() const noexcept { return {data(), size()}; }
  [[nodiscard]] std::size_t end_offset() const noexcept { return end_; }

  /// Makes room for `bytes` more after the data (plus the padding); returns where to write.
  char* reserve_tail(std::size_t bytes) {
    if (capacity_ - end_ >= bytes + kPadding) {
      return storage_.get() + end_;
    }
    const std::size_t live = size();
    if (begin_ > 0 && begin_ >= live && capacity_ - live >= bytes + kPadding) {
      std::memmove(storage_.get(), storage_.get() + begin_, live);
      begin_ = 0;
      end_ = live;
      return storage_.get() + end_;
    }
    std::size_t capacity = std::max<std::size_t>(capacity_ * 2, 16 * 1024);
    while (capacity < live + bytes + kPadding) {
      capacity *= 2;
    }
    auto storage = std::make_unique_for_overwrite<char[]>(capacity);
    if (live > 0) {
      std::memcpy(storage.get(), storage_.get() + begin_, live);
    }
    storage_ = std::move(storage);
    capacity_ = capacity;
    begin_ = 0;
    end_ = live;
    return storage_.get() + end_;
  }
  /// Free bytes after the data that may be written (the padding excluded).
  [[nodiscard]] std::size_t tail_room() const noexcept {
    return capacity_ >= end_ + kPadding ? capacity_ - end_ - kPadding : 0;
  }
  void commit(std::size_t bytes) noexcept { end_ += bytes; }
  void consume(std::size_t bytes) noexcept {
    begin_ += bytes;
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
  }
  void append(std::string_view bytes) {
    std::memcpy(reserve_tail(bytes.size()), bytes.data(), bytes.size());
    end_ += bytes.size();
  }
  /// Drops everything after `offset` (an end_offset() taken earlier, with no consume since).
  void truncate_to(std::size_t offset) noexcept { end_ = std::max(begin_, offset); }
  void clear() noexcept { begin_ = end_ = 0; }

 private:
  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

enum class Mode : std::uint8_t { tls_handshake, http, websocket };

enum class Phase : std::uint8_t {
  open,      // reading and writing
  closing,   // no more input handled; flush the output, then shut down our side
  draining,  // our FIN sent; discard input until the peer's FIN or the deadline
  dead,      // socket closed; the object waits to be reaped
};

struct DelayedResponse {
  std::int64_t ready_at_ns = 0;  // monotonic
  std::string bytes;
  bool close_after = false;
};

struct Connection {
  ConnId id = 0;
  int fd = -1;
  Mode mode = Mode::http;
  Phase phase = Phase::open;
  std::unique_ptr<TlsSession> tls;  // null on a plain port
  ByteBuffer in;                    // plaintext received, not yet consumed
  ByteBuffer out;                   // plaintext to send
  std::unique_ptr<WsDeframer> deframer;
  std::deque<DelayedResponse> delayed;  // answers held back; later answers wait behind them
  bool ws_open = false;                 // on_ws_open accepted it: on_ws_closed is owed
  bool ws_close_notified = false;
  bool epollout_registered = false;
  bool dirty = false;  // queued in Impl::dirty_ for the end-of-pass flush
  bool continue_sent = false;
  std::int64_t last_activity_ns = 0;  // monotonic
  std::int64_t drain_deadline_ns = 0;
};

}  // namespace

struct Server::Impl {
  Impl(const ServerOptions& options_in, Handler& handler_in)
      : options(options_in), handler(handler_in), framer(WsRole::server, 1) {}
  ~Impl() {
    for (auto& [id, connection] : connections) {
      if (connection->fd >= 0) {
        ::close(connection->fd);
      }
    }
    if (listen_fd >= 0) {
      ::close(listen_fd);
    }
    if (wake_fd >= 0) {
      ::close(wake_fd);
    }
    if (epoll_fd >= 0) {
      ::close(epoll_fd);
    }
  }

  ServerOptions options;
  Handler& handler;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::uint16_t bound_port = 0;
  feed::TlsContext tls_context;
  bool tls = false;
  std::unordered_map<ConnId, std::unique_ptr<Connection>> connections;
  ConnId next_id = kFirstConnId;
  ConnId serving_http = 0;  // the connection whose request the Handler is answering
  std::atomic<bool> stop_requested{false};
  WsFramer framer;  // server role: no masking, so one framer serves every connection
  std::vector<ConnId> dirty;
  std::vector<ConnId> closed_to_notify;
  std::vector<ConnId> to_reap;
  std::string chunked_body;
  std::string scratch;
  ServerStats stats;

  // ----- set-up -------------------------------------------------------------------------
  void listen() {
    if (options.tls_certificate.empty() != options.tls_private_key.empty()) {
      throw std::runtime_error("TLS needs both a certificate and a private key");
    }
    if (!options.tls_certificate.empty()) {
      feed::TlsServerOptions tls_options;
      tls_options.certificate_file = options.tls_certificate;
      tls_options.private_key_file = options.tls_private_key;
      std::string error_text;
      auto context = feed::TlsContext::server(tls_options, &error_text);
      if (!context) {
        throw std::runtime_error("TLS set-up failed: " + error_text);
      }
      tls_context = std::move(context.value());
      tls = true;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(options.port);
    if (::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
      throw std::runtime_error("not an IPv4 address: " + options.host);
    }
    listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) {
      throw system_failure("socket");
    }
    const int one = 1;
    ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw system_failure("bind " + options.host + ":" + std::to_string(options.port));
    }
    if (::listen(listen_fd, SOMAXCONN) != 0) {
      throw system_failure("listen");
    }
    socklen_t length = sizeof address;
    if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw system_failure("getsockname");
    }
    bound_port = ntohs(address.sin_port);
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
      throw system_failure("epoll_create1");
    }
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) {
      throw system_failure("eventfd");
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kListenerTag;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &event) != 0) {
      throw system_failure("epoll_ctl");
    }
    event.data.u64 = kWakeTag;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) {
      throw system_failure("epoll_ctl");
    }
  }

  Connection* find(ConnId id) const noexcept {
    const auto it = connections.find(id);
    return it == connections.end() ? nullptr : it->second.get();
  }

  // ----- the loop -----------------------------------------------------------------------
  void run() {
    std::array<epoll_event, 128> events{};
    while (!stop_requested.load(std::memory_order_acquire)) {
      call_handler([&] { handler.on_tick(realtime_ns()); });
      end_of_pass();
      const int timeout_ms = sleep_ms();
      const int n =
          ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        throw system_failure("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        const std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
        const std::uint32_t flags = events[static_cast<std::size_t>(i)].events;
        if (tag == kListenerTag) {
          accept_all();
        } else if (tag == kWakeTag) {
          std::uint64_t count = 0;
          static_cast<void>(::read(wake_fd, &count, sizeof count));
        } else if (Connection* connection = find(tag);
                   connection != nullptr && connection->phase != Phase::dead) {
          if ((flags & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) {
            on_readable(*connection);
          }
          if ((flags & EPOLLOUT) != 0 && connection->phase != Phase::dead) {
            flush(*connection);
          }
        }
      }
      run_timers();
      end_of_pass();
    }
    // Stopping: every connection goes, and the Handler hears of every WebSocket one.
    for (auto& [id, connection] : connections) {
      kill(*connection);
    }
    end_of_pass();
  }

  template <typename Fn>
  void call_handler(Fn&& fn) {
    // Bad input must never take the server down: a throwing Handler is logged by its own
    // code; here the exception stops at the call.
    try {
      fn();
    } catch (const std::exception&) {
    }
  }

  // Flushes every connection that got output this pass, tells the Handler of the closed
  // WebSockets, and frees the dead connections. Runs only between Handler calls.
  void end_of_pass() {
    // on_ws_closed may send to other connections: repeat until all is flushed.
    do {
      flush_and_notify();
    } while (!dirty.empty());
    for (const ConnId id : to_reap) {
      connections.erase(id);
    }
    to_reap.clear();
  }

  void flush_and_notify() {
    for (std::size_t i = 0; i < dirty.size(); ++i) {
      if (Connection* connection = find(dirty[i]); connection != nullptr) {
        connection->dirty = false;
        if (connection->phase == Phase::open || connection->phase == Phase::closing) {
          flush(*connection);
        }
      }
    }
    dirty.clear();
    // on_ws_closed may close or send on others: loop until nothing new appears.
    while (!closed_to_notify.empty()) {
      std::vector<ConnId> batch;
      batch.swap(closed_to_notify);
      for (const ConnId id : batch) {
        call_handler([&] { handler.on_ws_closed(id); });
      }
    }
  }

  int sleep_ms() const {
    const std::int64_t now_rt = realtime_ns();
    std::int64_t wait_ns = kMaxSleepNs;
    std::int64_t next_tick = 0;
    try {
      next_tick = handler.next_tick_ns();
    } catch (const std::exception&) {
      next_tick = 0;
    }
    if (next_tick <= now_rt) {  // compared before subtracting: next_tick may be any value
      return 0;
    }
    wait_ns = std::min(wait_ns, next_tick - now_rt);
    const std::int64_t now = monotonic_ns();
    for (const auto& [id, c] : connections) {
      if (!c->delayed.empty()) {
        wait_ns = std::min(wait_ns, c->delayed.front().ready_at_ns - now);
      }
      if (c->phase == Phase::draining) {
        wait_ns = std::min(wait_ns, c->drain_deadline_ns - now);
      }
      wait_ns = std::min(wait_ns, c->last_activity_ns + idle_ns() - now);
    }
    if (wait_ns <= 0) {
      return 0;
    }
    return static_cast<int>((wait_ns + 999'999) / 1'000'000);  // round up: never wake early
  }

  std::int64_t idle_ns() const noexcept {
    // Saturated: "never" (a huge time-out) must not overflow the deadline arithmetic.
    constexpr std::int64_t kLongest = std::int64_t{1} << 60;
    const auto ms = static_cast<std::int64_t>(options.idle_timeout.count());
    return ms > kLongest / 1'000'000 ? kLongest : std::max<std::int64_t>(ms, 0) * 1'000'000;
  }

  void run_timers() {
    const std::int64_t now = monotonic_ns();
    for (auto& [id, connection] : connections) {
      Connection& c = *connection;
      if (c.phase == Phase::dead) {
        continue;
      }
      if (now - c.last_activity_ns >= idle_ns()) {
        kill(c);  // Bybit drops idle connections without a close frame
        continue;
      }
      if (c.phase == Phase::draining && now >= c.drain_deadline_ns) {
        kill(c);
        continue;
      }
      bool released = false;
      while (!c.delayed.empty() && c.delayed.front().ready_at_ns <= now && c.phase == Phase::open) {
        const bool close_after = c.delayed.front().close_after;
        c.out.append(c.delayed.front().bytes);
        c.delayed.pop_front();  // before begin_closing, which clears the queue
        if (close_after) {
          begin_closing(c);
        }
        released = true;
      }
      if (released) {
        mark_dirty(c);
        if (c.delayed.empty() && c.phase == Phase::open && !c.in.empty()) {
          process_input(c);  // requests that waited behind the delayed answers
        }
      }
    }
  }

  // ----- connections --------------------------------------------------------------------
  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        return;  // EAGAIN, or a transient failure (EMFILE...): try again on the next event
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto connection = std::make_unique<Connection>();
      connection->id = next_id++;
      connection->fd = fd;
      connection->last_activity_ns = monotonic_ns();
      connection->in.reserve_tail(kReadChunk);
      if (tls) {
        connection->tls = std::make_unique<TlsSession>();
        if (connection->tls->start(tls_context, {}) != NetError::ok) {
          ::close(fd);
          continue;
        }
        connection->mode = Mode::tls_handshake;
      }
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP;
      event.data.u64 = connection->id;
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
        ::close(fd);
        continue;
      }
      ++stats.connections_accepted;
      connections.emplace(connection->id, std::move(connection));
    }
  }

  void mark_dirty(Connection& c) {
    if (!c.dirty) {
      c.dirty = true;
      dirty.push_back(c.id);
    }
  }

  void notify_ws_closed(Connection& c) {
    if (c.ws_open && !c.ws_close_notified) {
      c.ws_close_notified = true;
      closed_to_notify.push_back(c.id);
    }
  }

  /// Closes the socket at once (no close frame, unsent output lost).
  void kill(Connection& c) {
    if (c.phase == Phase::dead) {
      return;
    }
    c.phase = Phase::dead;
    if (c.fd >= 0) {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
    }
    c.delayed.clear();
    notify_ws_closed(c);
    to_reap.push_back(c.id);
  }

  /// No more input is handled; what is queued is sent, then our side shuts down.
  void begin_closing(Connection& c) {
    if (c.phase != Phase::open) {
      return;
    }
    c.phase = Phase::closing;
    c.delayed.clear();
    notify_ws_closed(c);
    mark_dirty(c);
  }

  void set_epollout(Connection& c, bool on) {
    if (c.epollout_registered == on || c.fd < 0) {
      return;
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
    event.data.u64 = c.id;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &event);
    c.epollout_registered = on;
  }

  // Writes bytes to the socket; false when the socket is full (or dead).
  bool send_bytes(Connection& c, const char* data, std::size_t size, std::size_t& sent) {
    sent = 0;
    while (sent < size) {
      const ssize_t n = ::send(c.fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        stats.bytes_out += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return false;
      }
      kill(c);
      return false;
    }
    return true;
  }

  // TLS: moves pending ciphertext to the socket. True when all of it went.
  bool pump_ciphertext(Connection& c) {
    for (;;) {
      const std::span<const std::byte> chunk = c.tls->ciphertext_out();
      if (chunk.empty()) {
        return true;
      }
      std::size_t sent = 0;
      const bool all =
          send_bytes(c, reinterpret_cast<const char*>(chunk.data()), chunk.size(), sent);
      if (c.phase == Phase::dead) {
        return false;
      }
      c.tls->consume_ciphertext_out(sent);
      if (sent > 0) {
        c.last_activity_ns = monotonic_ns();
      }
      if (!all) {
        return false;
      }
    }
  }

  void flush(Connection& c) {
    if (c.phase == Phase::dead || c.phase == Phase::draining) {
      return;
    }
    bool all_sent = true;
    if (!c.tls) {
      std::size_t sent = 0;
      all_sent = send_bytes(c, c.out.data(), c.out.size(), sent);
      if (c.phase == Phase::dead) {
        return;
      }
      c.out.consume(sent);
      if (sent > 0) {
        c.last_activity_ns = monotonic_ns();
      }
    } else {
      for (;;) {
        if (!pump_ciphertext(c)) {
          all_sent = false;
          break;
        }
        if (c.out.empty() || c.tls->state() != TlsState::established) {
          break;
        }
        auto written =
            c.tls->write(std::span(reinterpret_cast<const std::byte*>(c.out.data()), c.out.size()));
        if (written) {
          c.out.consume(written.value());
        } else if (written.error() != NetError::would_block) {
          kill(c);
          return;
        }
      }
      if (c.phase == Phase::dead) {
        return;
      }
    }
    set_epollout(c, !all_sent);
    if (all_sent && c.phase == Phase::closing && c.out.empty()) {
      if (c.tls && c.tls->state() == TlsState::established) {
        c.tls->close_notify();
        static_cast<void>(pump_ciphertext(c));  // best effort: the peer may not read it
        if (c.phase == Phase::dead) {
          return;
        }
      }
      ::shutdown(c.fd, SHUT_WR);
      c.phase = Phase::draining;
      c.drain_deadline_ns = monotonic_ns() + kDrainTimeoutNs;
    }
  }

  void on_readable(Connection& c) {
    std::size_t total = 0;
    bool eof = false;
    while (total < kMaxReadPerPass && c.phase != Phase::dead) {
      std::size_t got = 0;
      if (!c.tls) {
        char* tail = c.in.reserve_tail(kReadChunk);
        const ssize_t n = ::recv(c.fd, tail, c.in.tail_room(), 0);
        if (n > 0) {
          got = static_cast<std::size_t>(n);
          c.in.commit(got);
        } else if (n == 0) {
          eof = true;
        } else if (errno == EINTR) {
          continue;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
          kill(c);
          return;
        }
      } else {
        const std::span<std::byte> space = c.tls->ciphertext_in_space();
        if (!space.empty()) {
          const ssize_t n = ::recv(c.fd, space.data(), space.size(), 0);
          if (n > 0) {
            got = static_cast<std::size_t>(n);
            c.tls->commit_ciphertext_in(got);
          } else if (n == 0) {
            eof = true;
          } else if (errno == EINTR) {
            continue;
          } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            kill(c);
            return;
          }
        }
        if (!decrypt(c)) {
          return;
        }
      }
      if (got == 0) {
        break;
      }
      total += got;
      c.last_activity_ns = monotonic_ns();
    }
    if (c.phase == Phase::dead) {
      return;
    }
    if (c.phase == Phase::draining || c.phase == Phase::closing) {
      c.in.clear();  // after our close, input only matters for its end
      if (eof) {
        flush(c);  // closing: what is queued still goes out (a no-op when draining)
        kill(c);
      }
      return;
    }
    process_input(c);
    if (eof && c.phase != Phase::dead) {
      if (c.mode == Mode::http && c.phase == Phase::open) {
        // The client half-closed: answer what it asked, then close.
        if (c.delayed.empty()) {
          begin_closing(c);
        } else {
          c.delayed.back().close_after = true;
        }
        c.in.clear();
      } else if (c.phase == Phase::closing) {
        flush(c);  // our close frame, answering the peer's, before the socket goes
        kill(c);
      } else {
        kill(c);  // WebSocket without a close frame, or mid-handshake
      }
    }
  }

  // TLS: advances the handshake and moves decrypted bytes into `in`. False when the
  // connection died.
  bool decrypt(Connection& c) {
    if (c.mode == Mode::tls_handshake) {
      const NetError step = c.tls->handshake();
      static_cast<void>(pump_ciphertext(c));
      if (c.phase == Phase::dead) {
        return false;
      }
      if (step == NetError::would_block) {
        if (c.tls->pending_ciphertext() > 0) {
          set_epollout(c, true);
        }
        return true;
      }
      if (step != NetError::ok) {
        kill(c);
        return false;
      }
      c.mode = Mode::http;
    }
    for (;;) {
      char* tail = c.in.reserve_tail(kReadChunk);
      auto n = c.tls->read(std::span(reinterpret_cast<std::byte*>(tail), c.in.tail_room()));
      if (n) {
        c.in.commit(n.value());
        continue;
      }
      if (n.error() == NetError::would_block) {
        break;
      }
      kill(c);  // close_notify or a TLS failure
      return false;
    }
    if (c.tls->pending_ciphertext() > 0) {
      mark_dirty(c);  // e.g. a KeyUpdate answer
    }
    return true;
  }

  void process_input(Connection& c) {
    if (c.mode == Mode::http) {
      process_http(c);
    }
    if (c.mode == Mode::websocket && c.phase == Phase::open) {
      process_ws(c);
    }
  }

  void queue_response(Connection& c, std::string&& bytes, bool close_after,
                      std::chrono::milliseconds delay) {
    if (delay.count() <= 0 && c.delayed.empty()) {
      c.out.append(bytes);
      mark_dirty(c);
      if (close_after) {
        begin_closing(c);
      }
      return;
    }
    DelayedResponse response;
    response.ready_at_ns =
        std::max(monotonic_ns() + std::max<std::int64_t>(delay.count(), 0) * 1'000'000,
                 c.delayed.empty() ? 0 : c.delayed.back().ready_at_ns);
    response.bytes = std::move(bytes);
    response.close_after = close_after;
    c.delayed.push_back(std::move(response));
  }

  void answer_error(Connection& c, int status) {
    std::string bytes;
    http::append_error_response(bytes, status);
    c.in.clear();
    queue_response(c, std::move(bytes), true, std::chrono::milliseconds{0});
  }

  void process_http(Connection& c) {
    http::ParseLimits limits;
    limits.max_request_bytes = options.max_http_request;
    limits.max_header_bytes = std::min<std::size_t>(64 * 1024, options.max_http_request);
    while (c.phase == Phase::open && c.mode == Mode::http && !c.in.empty()) {
      if (!c.delayed.empty() && c.delayed.back().close_after) {
        break;  // the last answer closes the connection: nothing after it is read
      }
      http::ParseResult parsed = http::parse_request(c.in.view(), limits, chunked_body);
      if (parsed.status == http::ParseStatus::need_more) {
        if (parsed.expects_continue && !c.continue_sent && c.delayed.empty()) {
          c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
          c.continue_sent = true;
          mark_dirty(c);
        }
        // Chunk framing is not counted by the parser: bound what a client may pile up.
        if (c.in.size() > 2 * options.max_http_request + 64 * 1024) {
          answer_error(c, 413);
        }
        return;
      }
      if (parsed.status == http::ParseStatus::error) {
        answer_error(c, parsed.error_status);
        return;
      }
      c.continue_sent = false;
      ++stats.http_requests;
      if (parsed.websocket_upgrade) {
        if (!c.delayed.empty()) {
          return;  // answered once the delayed answers before it are out (run_timers)
        }
        upgrade(c, parsed);
        return;
      }
      HttpResponse response;
      serving_http = c.id;
      try {
        response = handler.on_http(c.id, parsed.request);
      } catch (const std::exception&) {
        response = HttpResponse{};
        response.status = 500;
        response.content_type = "text/plain";
        response.body = "Internal Server Error\n";
      }
      serving_http = 0;
      if (c.phase != Phase::open) {
        return;  // the Handler closed it
      }
      std::string bytes;
      http::append_response(bytes, response, parsed.keep_alive);
      c.in.consume(parsed.consumed);
      queue_response(c, std::move(bytes), !parsed.keep_alive, response.delay);
    }
  }

  void upgrade(Connection& c, const http::ParseResult& parsed) {
    const feed::WsRequestParse ws =
        feed::parse_ws_client_request(c.in.view().substr(0, parsed.header_bytes));
    if (ws.error != feed::HandshakeError::ok) {
      // The feed's writer adds Sec-WebSocket-Version: 13 to a 426 (RFC 6455 §4.4).
      std::array<char, 512> answer{};
      const std::size_t size =
          feed::build_http_error_response(feed::http_status_for(ws.error), answer);
      c.in.clear();
      queue_response(c, std::string(answer.data(), size), true, std::chrono::milliseconds{0});
      return;
    }
    const std::size_t question = ws.path.find('?');
    const std::string_view path = ws.path.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : ws.path.substr(question + 1);
    // Switch first, so that the Handler may already send from on_ws_open; undo if refused.
    const std::size_t mark = c.out.end_offset();
    std::array<char, 256> response{};
    const std::size_t size = feed::build_ws_server_response(ws.key, response);
    c.out.append(std::string_view(response.data(), size));
    c.mode = Mode::websocket;
    c.ws_open = true;
    c.deframer = std::make_unique<WsDeframer>(WsRole::server, options.max_ws_message);
    bool accepted = false;
    try {
      accepted = handler.on_ws_open(c.id, path, query);
    } catch (const std::exception&) {
      accepted = false;
    }
    if (c.phase == Phase::dead) {
      return;
    }
    if (!accepted) {
      if (c.ws_close_notified) {  // a close() from within on_ws_open: the socket never was one
        std::erase(closed_to_notify, c.id);
        c.ws_close_notified = false;
      }
      c.out.truncate_to(mark);
      c.mode = Mode::http;
      c.ws_open = false;
      c.phase = Phase::open;  // a close() from within on_ws_open is moot: we answer 404
      c.deframer.reset();
      answer_error(c, 404);
      return;
    }
    c.in.consume(parsed.consumed);
    mark_dirty(c);
  }

  void append_frame(Connection& c, feed::WsOpcode opcode, std::string_view payload) {
    char* at = c.out.reserve_tail(payload.size() + feed::kWsMaxHeaderSize);
    const std::size_t n = framer.encode(opcode, true, payload,
                                        std::span(at, payload.size() + feed::kWsMaxHeaderSize));
    c.out.commit(n);
    mark_dirty(c);
  }

  void send_close_frame(Connection& c, std::uint16_t code, std::string_view reason) {
    char* at = c.out.reserve_tail(feed::kWsMaxHeaderSize + 125);
    std::size_t n = 0;
    if (code == feed::ws_close::kNoStatus || !feed::is_valid_wire_close_code(code)) {
      n = framer.close_empty(std::span(at, feed::kWsMaxHeaderSize + 125));
    } else {
      n = framer.close(code, reason.substr(0, 123), std::span(at, feed::kWsMaxHeaderSize + 125));
      if (n == 0) {  // a reason that is not UTF-8: send the code alone
        n = framer.close(code, {}, std::span(at, feed::kWsMaxHeaderSize + 125));
      }
    }
    c.out.commit(n);
    mark_dirty(c);
  }

  void process_ws(Connection& c) {
    while (c.phase == Phase::open && c.mode == Mode::websocket) {
      const feed::WsEvent event = c.deframer->next(std::span(c.in.data(), c.in.size()));
      // The payload stays valid after consume(): nothing is written into `in` until the
      // next receive.
      c.in.consume(event.consumed);
      switch (event.kind) {
        case WsEventKind::need_more:
          if (c.in.size() > 0 && event.consumed == 0) {
            c.in.reserve_tail(kReadChunk);  // room for the rest of a large frame
          }
          return;
        case WsEventKind::message:
          if (!event.text) {
            send_close_frame(c, feed::ws_close::kUnsupportedData, "binary messages unsupported");
            begin_closing(c);
            return;
          }
          ++stats.ws_messages_in;
          call_handler([&] { handler.on_ws_text(c.id, event.payload); });
          break;
        case WsEventKind::ping:
          append_frame(c, feed::WsOpcode::pong, event.payload);
          break;
        case WsEventKind::pong:
          break;
        case WsEventKind::close:
          send_close_frame(c, event.close_code, {});
          begin_closing(c);
          return;
        case WsEventKind::error:
          send_close_frame(c, event.close_code, feed::to_string(event.error));
          begin_closing(c);
          return;
      }
    }
  }
};

Server::Server(const ServerOptions& options, Handler& handler)
    : impl_(std::make_unique<Impl>(options, handler)) {
  impl_->listen();
}

Server::~Server() = default;

std::uint16_t Server::port() const noexcept {
  return impl_->bound_port;
}

void Server::run() {
  impl_->run();
}

void Server::request_stop() noexcept {
  impl_->stop_requested.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  static_cast<void>(::write(impl_->wake_fd, &one, sizeof one));  // async-signal-safe
}

bool Server::send_text(ConnId connection, std::string_view message) {
  Connection* c = impl_->find(connection);
  if (c == nullptr || c->phase != Phase::open || c->mode != Mode::websocket) {
    return false;
  }
  impl_->append_frame(*c, feed::WsOpcode::text, message);
  ++impl_->stats.ws_messages_out;
  if (c->out.size() > impl_->options.max_queued_output) {
    impl_->kill(*c);  // a client that does not read
    return false;
  }
  return true;
}

std::size_t Server::queued_bytes(ConnId connection) const noexcept {
  const Connection* c = impl_->find(connection);
  if (c == nullptr || c->phase == Phase::dead) {
    return 0;
  }
  return c->out.size() + (c->tls ? c->tls->pending_ciphertext() : 0);
}

void Server::close(ConnId connection, std::uint16_t code, std::string_view reason) {
  Connection* c = impl_->find(connection);
  if (c == nullptr || c->phase != Phase::open) {
    return;
  }
  if (c->mode == Mode::websocket) {
    impl_->send_close_frame(*c, code, reason);
  }
  impl_->begin_closing(*c);
}

void Server::drop_all_connections() {
  for (auto& [id, connection] : impl_->connections) {
    if (id != impl_->serving_http) {  // the caller's request still gets its answer
      impl_->kill(*connection);
    }
  }
}

const ServerStats& Server::stats() const noexcept {
  return impl_->stats;
}

}  // namespace kinetic::exchange
