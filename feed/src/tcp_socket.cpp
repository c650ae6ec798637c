#include "kinetic/feed/tcp_socket.hpp"

#include <arpa/inet.h>
#include <liburing.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace kinetic::feed {

const char* to_string(NetError error) noexcept {
  switch (error) {
    case NetError::ok:
      return "ok";
    case NetError::would_block:
      return "would block";
    case NetError::closed:
      return "closed by peer";
    case NetError::invalid_url:
      return "invalid URL";
    case NetError::unsupported_scheme:
      return "unsupported URL scheme";
    case NetError::resolve_failed:
      return "name resolution failed";
    case NetError::socket_failed:
      return "socket set-up failed";
    case NetError::io_uring_failed:
      return "io_uring unavailable";
    case NetError::connect_refused:
      return "connection refused";
    case NetError::connect_timeout:
      return "connect timed out";
    case NetError::connect_failed:
      return "connect failed";
    case NetError::not_connected:
      return "not connected";
    case NetError::reset:
      return "connection reset";
    case NetError::io_failed:
      return "I/O error";
    case NetError::message_too_large:
      return "message larger than the send buffer";
    case NetError::tls_config_failed:
      return "TLS configuration failed";
    case NetError::tls_verify_failed:
      return "TLS certificate verification failed";
    case NetError::tls_handshake_failed:
      return "TLS handshake failed";
    case NetError::tls_failed:
      return "TLS error";
    case NetError::handshake_timeout:
      return "TLS handshake timed out";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// URL and name resolution (start-up).

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

Result<Url, NetError> parse_url(std::string_view text) {
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return NetError::invalid_url;
  }
  Url url;
  url.scheme.reserve(scheme_end);
  for (char c : text.substr(0, scheme_end)) {
    url.scheme.push_back(lower(c));
  }
  if (url.scheme == "ws" || url.scheme == "http") {
    url.port = 80;
  } else if (url.scheme == "wss" || url.scheme == "https") {
    url.port = 443;
    url.tls = true;
  } else {
    return NetError::unsupported_scheme;
  }

  std::string_view rest = text.substr(scheme_end + 3);
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  const std::size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view target =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) {
      return NetError::invalid_url;
    }
    host = authority.substr(1, close - 1);
    for (char c : host) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) {
        return NetError::invalid_url;
      }
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return NetError::invalid_url;
      }
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) {
      return NetError::invalid_url;
    }
    for (char c : host) {
      if (!is_host_char(c)) {
        return NetError::invalid_url;  // also rejects userinfo ('@') and stray ':'
      }
    }
  }
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5) {
      return NetError::invalid_url;
    }
    std::uint32_t port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') {
        return NetError::invalid_url;
      }
      port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) {
      return NetError::invalid_url;
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  url.host.assign(host);
  if (target.empty()) {
    url.target = "/";
  } else if (target.front() == '?') {
    url.target = "/";
    url.target.append(target);
  } else {
    url.target.assign(target);
  }
  return url;
}

Result<Endpoint, NetError> resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &list) != 0 || list == nullptr) {
    return NetError::resolve_failed;
  }
  const addrinfo* chosen = nullptr;
  for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family == AF_INET) {
      chosen = entry;
      break;
    }
    if (chosen == nullptr && entry->ai_family == AF_INET6) {
      chosen = entry;
    }
  }
  Endpoint endpoint;
  if (chosen == nullptr || chosen->ai_addrlen > sizeof(endpoint.address)) {
    ::freeaddrinfo(list);
    return NetError::resolve_failed;
  }
  std::memcpy(&endpoint.address, chosen->ai_addr, chosen->ai_addrlen);
  endpoint.length = chosen->ai_addrlen;
  ::freeaddrinfo(list);
  return endpoint;
}

// ---------------------------------------------------------------------------------------------
// Capability probe.

namespace {

constexpr std::uint64_t kTagRecv = 1;
constexpr std::uint64_t kTagSend = 2;
constexpr std::uint64_t kTagConnect = 3;
constexpr std::uint64_t kTagTimeout = 4;
constexpr std::uint64_t kTagCancel = 5;
constexpr std::uint64_t kTagProbe = 6;
constexpr int kBufferGroup = 0;

// mmap'd memory: page aligned (the buffer ring needs that) and not operator new, so the
// allocation counters of tests see only what they should.
struct Mapping {
  void* address = nullptr;
  std::size_t size = 0;

  bool map(std::size_t bytes) noexcept {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    size = (bytes + page - 1) / page * page;
    address = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (address == MAP_FAILED) {
      address = nullptr;
      size = 0;
      return false;
    }
    return true;
  }
  void unmap() noexcept {
    if (address != nullptr) {
      ::munmap(address, size);
    }
    address = nullptr;
    size = 0;
  }
};

// Registers a buffer ring of `entries` entries living in `memory` (already mapped).
io_uring_buf_ring* register_buffer_ring(io_uring& ring, Mapping& memory, std::uint32_t entries) {
  io_uring_buf_reg registration{};
  registration.ring_addr = reinterpret_cast<std::uint64_t>(memory.address);
  registration.ring_entries = entries;
  registration.bgid = kBufferGroup;
  if (io_uring_register_buf_ring(&ring, &registration, 0) != 0) {
    return nullptr;
  }
  auto* buffer_ring = static_cast<io_uring_buf_ring*>(memory.address);
  io_uring_buf_ring_init(buffer_ring);
  return buffer_ring;
}

// Does a multishot receive with buffer select work? Tried on a socket pair, not assumed from
// the kernel version (sandboxes and backports make versions unreliable).
bool probe_multishot(io_uring& ring, io_uring_buf_ring* buffer_ring) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return false;
  }
  char storage[64];
  io_uring_buf_ring_add(buffer_ring, storage, sizeof storage, 0, io_uring_buf_ring_mask(8), 0);
  io_uring_buf_ring_advance(buffer_ring, 1);
  const char byte = 'x';
  bool supported = false;
  if (::write(pair[1], &byte, 1) == 1) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) {
      ::close(pair[0]);
      ::close(pair[1]);
      return false;
    }
    io_uring_prep_recv_multishot(sqe, pair[0], nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(sqe, kTagProbe);
    io_uring_submit(&ring);
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec timeout{1, 0};
    if (io_uring_wait_cqe_timeout(&ring, &cqe, &timeout) == 0) {
      supported = cqe->res == 1 && (cqe->flags & IORING_CQE_F_BUFFER) != 0 &&
                  (cqe->flags & IORING_CQE_F_MORE) != 0;
      const bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
      io_uring_cqe_seen(&ring, cqe);
      if (more) {  // end the multishot receive before `storage` goes out of scope
        ::shutdown(pair[0], SHUT_RDWR);
        ::shutdown(pair[1], SHUT_RDWR);
        for (int i = 0; i < 4; ++i) {
          if (io_uring_wait_cqe_timeout(&ring, &cqe, &timeout) != 0) {
            break;
          }
          const bool done = (cqe->flags & IORING_CQE_F_MORE) == 0;
          io_uring_cqe_seen(&ring, cqe);
          if (done) {
            break;
          }
        }
      }
    }
  }
  ::close(pair[0]);
  ::close(pair[1]);
  return supported;
}

TransportCapabilities probe_once() {
  TransportCapabilities caps;
  io_uring ring{};
  const int rc = io_uring_queue_init(8, &ring, 0);
  if (rc < 0) {
    caps.io_uring_errno = -rc;
    return caps;
  }
  caps.io_uring = true;
  if (io_uring_probe* probe = io_uring_get_probe_ring(&ring); probe != nullptr) {
    caps.connect_op = io_uring_opcode_supported(probe, IORING_OP_CONNECT) != 0 &&
                      io_uring_opcode_supported(probe, IORING_OP_LINK_TIMEOUT) != 0;
    caps.send_recv_ops = io_uring_opcode_supported(probe, IORING_OP_SEND) != 0 &&
                         io_uring_opcode_supported(probe, IORING_OP_RECV) != 0;
    io_uring_free_probe(probe);
  }
  Mapping memory;
  if (caps.send_recv_ops && memory.map(8 * sizeof(io_uring_buf))) {
    if (io_uring_buf_ring* buffer_ring = register_buffer_ring(ring, memory, 8)) {
      caps.buffer_ring = true;
      caps.multishot_recv = probe_multishot(ring, buffer_ring);
      io_uring_unregister_buf_ring(&ring, kBufferGroup);
    }
  }
  io_uring_queue_exit(&ring);
  memory.unmap();

  io_uring_params params{};
  params.flags = IORING_SETUP_SQPOLL;
  params.sq_thread_idle = 10;
  io_uring sqpoll_ring{};
  if (io_uring_queue_init_params(8, &sqpoll_ring, &params) == 0) {
    caps.sqpoll = true;
    io_uring_queue_exit(&sqpoll_ring);
  }
  return caps;
}

NetError error_from_errno(int error) noexcept {
  switch (error) {
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
      return NetError::reset;
    case ENOTCONN:
      return NetError::not_connected;
    default:
      return NetError::io_failed;
  }
}

NetError connect_error_from_errno(int error) noexcept {
  switch (error) {
    case ECONNREFUSED:
      return NetError::connect_refused;
    case ETIMEDOUT:
    case ECANCELED:  // the linked timeout fired and cancelled the connect
    case ETIME:
      return NetError::connect_timeout;
    default:
      return NetError::connect_failed;
  }
}

}  // namespace

TransportCapabilities probe_kernel() {
  return probe_once();
}

const TransportCapabilities& probe_capabilities() {
  static const TransportCapabilities capabilities = probe_once();
  return capabilities;
}

// ---------------------------------------------------------------------------------------------
// TcpConnection.

struct TcpConnection::Impl {
  struct Received {
    std::uint32_t buffer_id;
    std::uint32_t length;
  };

  int fd = -1;
  TcpBackend backend = TcpBackend::plain;
  bool multishot = false;
  bool sqpoll = false;
  bool busy_poll = false;
  int last_errno = 0;
  NetError failure = NetError::ok;  // sticky error once the connection broke
  bool peer_closed = false;

  // Send buffer: bytes [send_head, send_tail) are queued; with io_uring, the first
  // send_in_flight of them belong to the kernel until the send completes.
  Mapping send_memory;
  std::byte* send_buffer = nullptr;
  std::size_t send_capacity = 0;
  std::size_t send_head = 0;
  std::size_t send_tail = 0;
  std::size_t send_in_flight = 0;

  // io_uring state.
  io_uring ring{};
  bool ring_ready = false;
  bool sqe_queued = false;
  Mapping buffer_ring_memory;
  io_uring_buf_ring* buffer_ring = nullptr;
  Mapping recv_memory;  // recv_buffer_count (multishot) or 1 (single-shot) buffers
  std::uint32_t buffer_count = 0;
  std::uint32_t buffer_size = 0;
  bool recv_armed = false;
  // Filled buffers not yet copied out, in arrival order (a FIFO of buffer_count entries).
  Received* received = nullptr;  // lives at the end of recv_memory
  std::uint32_t received_head = 0;
  std::uint32_t received_count = 0;
  std::uint32_t received_offset = 0;  // bytes of the head entry already copied out

  ~Impl() { shut(); }

  std::byte* buffer(std::uint32_t id) const noexcept {
    return static_cast<std::byte*>(recv_memory.address) + std::size_t{id} * buffer_size;
  }

  void fail(NetError error, int errno_value) noexcept {
    if (failure == NetError::ok) {
      failure = error;
    }
    last_errno = errno_value;
  }

  io_uring_sqe* next_sqe() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) {  // queue full: hand what is there to the kernel and retry
      io_uring_submit(&ring);
      sqe = io_uring_get_sqe(&ring);
    }
    if (sqe != nullptr) {
      sqe_queued = true;
    }
    return sqe;
  }

  void arm_recv() noexcept {
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) {
      return;
    }
    if (multishot) {
      io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = kBufferGroup;
    } else {
      io_uring_prep_recv(sqe, fd, buffer(0), buffer_size, 0);
    }
    io_uring_sqe_set_data64(sqe, kTagRecv);
    recv_armed = true;
  }

  void arm_send() noexcept {
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) {
      return;
    }
    send_in_flight = send_tail - send_head;
    io_uring_prep_send(sqe, fd, send_buffer + send_head, send_in_flight, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, kTagSend);
  }

  void on_completion(const io_uring_cqe& cqe) noexcept {
    switch (io_uring_cqe_get_data64(&cqe)) {
      case kTagRecv: {
        const bool more = multishot && (cqe.flags & IORING_CQE_F_MORE) != 0;
        if (!more) {
          recv_armed = false;
        }
        if (cqe.res > 0) {
          const std::uint32_t id =
              multishot ? (cqe.flags >> IORING_CQE_BUFFER_SHIFT) : std::uint32_t{0};
          const std::uint32_t slot = (received_head + received_count) % buffer_count;
          received[slot] = Received{id, static_cast<std::uint32_t>(cqe.res)};
          ++received_count;
        } else if (cqe.res == 0) {
          peer_closed = true;
        } else if (cqe.res != -ENOBUFS && cqe.res != -ECANCELED) {
          // ENOBUFS: every provided buffer is waiting to be copied out; re-armed once one is
          // handed back. Anything else ends the connection.
          fail(error_from_errno(-cqe.res), -cqe.res);
        }
        break;
      }
      case kTagSend: {
        send_in_flight = 0;
        if (cqe.res >= 0) {
          send_head += static_cast<std::size_t>(cqe.res);
          if (send_head == send_tail) {
            send_head = send_tail = 0;
          }
        } else if (cqe.res != -EAGAIN && cqe.res != -EINTR) {
          fail(error_from_errno(-cqe.res), -cqe.res);
        }
        break;
      }
      default:
        break;
    }
  }

  // Harvests completions, re-arms receive and send as needed, submits. No blocking.
  void progress() noexcept {
    if (ring_ready) {
      unsigned head = 0;
      unsigned seen = 0;
      io_uring_cqe* cqe = nullptr;
      io_uring_for_each_cqe(&ring, head, cqe) {
        on_completion(*cqe);
        ++seen;
      }
      io_uring_cq_advance(&ring, seen);
      if (failure == NetError::ok) {
        const bool room = multishot ? received_count < buffer_count : received_count == 0;
        if (!recv_armed && !peer_closed && room) {
          arm_recv();
        }
        if (send_in_flight == 0 && send_head < send_tail) {
          arm_send();
        }
      }
      if (sqe_queued) {
        sqe_queued = false;
        io_uring_submit(&ring);
      }
      return;
    }
    // Plain backend: write as much as the kernel takes now.
    while (failure == NetError::ok && send_head < send_tail) {
      const ssize_t sent =
          ::send(fd, send_buffer + send_head, send_tail - send_head, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent > 0) {
        send_head += static_cast<std::size_t>(sent);
      } else if (sent < 0 && errno == EINTR) {
        continue;
      } else {
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          fail(error_from_errno(errno), errno);
        }
        break;
      }
    }
    if (send_head == send_tail) {
      send_head = send_tail = 0;
    }
  }

  // Hands a fully copied buffer back to the kernel.
  void recycle(std::uint32_t id) noexcept {
    if (multishot) {
      io_uring_buf_ring_add(buffer_ring, buffer(id), buffer_size, static_cast<unsigned short>(id),
                            io_uring_buf_ring_mask(buffer_count), 0);
      io_uring_buf_ring_advance(buffer_ring, 1);
    }
  }

  std::size_t copy_received(std::span<std::byte> out) noexcept {
    std::size_t copied = 0;
    while (received_count > 0 && copied < out.size()) {
      const Received& entry = received[received_head];
      const std::size_t available = entry.length - received_offset;
      const std::size_t n = std::min(available, out.size() - copied);
      std::memcpy(out.data() + copied, buffer(entry.buffer_id) + received_offset, n);
      copied += n;
      if (n == available) {
        recycle(entry.buffer_id);
        received_offset = 0;
        received_head = (received_head + 1) % buffer_count;
        --received_count;
      } else {
        received_offset += static_cast<std::uint32_t>(n);
      }
    }
    return copied;
  }

  void shut() noexcept {
    if (fd < 0) {
      return;
    }
    ::shutdown(fd, SHUT_RDWR);
    if (ring_ready) {
      // The kernel may still write into recv_memory / read send_memory: cancel and wait for
      // the operations to end before the memory is unmapped.
      if (io_uring_sqe* sqe = io_uring_get_sqe(&ring)) {
        io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, kTagCancel);
        io_uring_submit(&ring);
      }
      for (int round = 0; round < 20 && (recv_armed || send_in_flight > 0); ++round) {
        io_uring_cqe* cqe = nullptr;
        __kernel_timespec timeout{0, 50'000'000};
        if (io_uring_wait_cqe_timeout(&ring, &cqe, &timeout) != 0) {
          break;
        }
        const io_uring_cqe copy = *cqe;
        io_uring_cqe_seen(&ring, cqe);
        if (io_uring_cqe_get_data64(&copy) == kTagRecv) {
          if ((copy.flags & IORING_CQE_F_MORE) == 0 || !multishot) {
            recv_armed = false;
          }
        } else if (io_uring_cqe_get_data64(&copy) == kTagSend) {
          send_in_flight = 0;
        }
      }
      io_uring_queue_exit(&ring);  // also drops the buffer ring registration
      ring_ready = false;
    }
    ::close(fd);
    fd = -1;
    buffer_ring = nullptr;
    buffer_ring_memory.unmap();
    recv_memory.unmap();
    send_memory.unmap();
    send_buffer = nullptr;
    received = nullptr;
  }
};

TcpConnection::TcpConnection() noexcept = default;
TcpConnection::~TcpConnection() = default;
TcpConnection::TcpConnection(TcpConnection&&) noexcept = default;
TcpConnection& TcpConnection::operator=(TcpConnection&&) noexcept = default;

NetError TcpConnection::connect(const Endpoint& endpoint, const TcpOptions& options) {
  impl_ = std::make_unique<Impl>();
  Impl& s = *impl_;
  const TransportCapabilities& caps = probe_capabilities();
  const bool uring_usable = caps.io_uring && caps.connect_op && caps.send_recv_ops;
  if (options.backend == TcpBackend::io_uring && !uring_usable) {
    return NetError::io_uring_failed;
  }
  s.backend = (options.backend != TcpBackend::plain && uring_usable) ? TcpBackend::io_uring
                                                                     : TcpBackend::plain;

  if (s.backend == TcpBackend::io_uring) {
    // The ring first: if the kernel refuses it now (a sandbox, a resource limit), `automatic`
    // still has the plain fallback.
    io_uring_params params{};
    if (options.sqpoll && caps.sqpoll) {
      params.flags = IORING_SETUP_SQPOLL;
      params.sq_thread_idle = static_cast<unsigned>(std::max(options.sqpoll_idle_ms, 1));
    }
    int rc = io_uring_queue_init_params(64, &s.ring, &params);
    if (rc < 0 && params.flags != 0) {
      params = io_uring_params{};
      rc = io_uring_queue_init_params(64, &s.ring, &params);
    }
    if (rc < 0) {
      s.last_errno = -rc;
      if (options.backend == TcpBackend::io_uring) {
        return NetError::io_uring_failed;
      }
      s.backend = TcpBackend::plain;
    } else {
      s.ring_ready = true;
      s.sqpoll = (params.flags & IORING_SETUP_SQPOLL) != 0;
    }
  }

  s.fd = ::socket(endpoint.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) {
    s.last_errno = errno;
    return NetError::socket_failed;
  }
  const int one = 1;
  if (::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    s.last_errno = errno;
    return NetError::socket_failed;
  }
  if (options.busy_poll_us > 0) {
    s.busy_poll = ::setsockopt(s.fd, SOL_SOCKET, SO_BUSY_POLL, &options.busy_poll_us,
                               sizeof options.busy_poll_us) == 0;
  }
  if (options.socket_recv_buffer > 0) {
    ::setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &options.socket_recv_buffer,
                 sizeof options.socket_recv_buffer);
  }
  if (options.socket_send_buffer > 0) {
    ::setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &options.socket_send_buffer,
                 sizeof options.socket_send_buffer);
  }

  s.send_capacity = std::max<std::size_t>(options.send_buffer_size, 1024);
  if (!s.send_memory.map(s.send_capacity)) {
    return NetError::socket_failed;
  }
  s.send_buffer = static_cast<std::byte*>(s.send_memory.address);

  if (s.backend == TcpBackend::plain) {
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length) !=
        0) {
      if (errno != EINPROGRESS) {
        s.last_errno = errno;
        return connect_error_from_errno(errno);
      }
      pollfd waiter{s.fd, POLLOUT, 0};
      int ready = 0;
      do {
        ready = ::poll(&waiter, 1, options.connect_timeout_ms);
      } while (ready < 0 && errno == EINTR);
      if (ready == 0) {
        s.last_errno = ETIMEDOUT;
        return NetError::connect_timeout;
      }
      int error = 0;
      socklen_t length = sizeof error;
      if (ready < 0 || ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        s.last_errno = errno;
        return NetError::connect_failed;
      }
      if (error != 0) {
        s.last_errno = error;
        return connect_error_from_errno(error);
      }
    }
    return NetError::ok;
  }

  // io_uring: receive buffers, then connect linked to a timeout.
  s.multishot = options.multishot_recv && caps.multishot_recv;
  s.buffer_size = std::max<std::uint32_t>(options.recv_buffer_size, 256);
  s.buffer_count = 1;
  if (s.multishot) {
    s.buffer_count = std::clamp<std::uint32_t>(std::bit_ceil(options.recv_buffer_count), 2, 32768);
    if (!s.buffer_ring_memory.map(s.buffer_count * sizeof(io_uring_buf))) {
      return NetError::io_uring_failed;
    }
    s.buffer_ring = register_buffer_ring(s.ring, s.buffer_ring_memory, s.buffer_count);
    if (s.buffer_ring == nullptr) {
      s.multishot = false;
      s.buffer_count = 1;
    }
  }
  const std::size_t buffers_bytes = std::size_t{s.buffer_count} * s.buffer_size;
  if (!s.recv_memory.map(buffers_bytes + std::size_t{s.buffer_count} * sizeof(Impl::Received))) {
    return NetError::io_uring_failed;
  }
  s.received = reinterpret_cast<Impl::Received*>(static_cast<std::byte*>(s.recv_memory.address) +
                                                 buffers_bytes);
  if (s.multishot) {
    for (std::uint32_t id = 0; id < s.buffer_count; ++id) {
      s.recycle(id);
    }
  }

  __kernel_timespec timeout{};
  timeout.tv_sec = options.connect_timeout_ms / 1000;
  timeout.tv_nsec = static_cast<long long>(options.connect_timeout_ms % 1000) * 1'000'000;
  io_uring_sqe* connect_sqe = io_uring_get_sqe(&s.ring);
  io_uring_sqe* timeout_sqe = io_uring_get_sqe(&s.ring);
  if (connect_sqe == nullptr || timeout_sqe == nullptr) {  // a fresh ring of 64 has room
    return NetError::io_uring_failed;
  }
  io_uring_prep_connect(connect_sqe, s.fd, reinterpret_cast<const sockaddr*>(&endpoint.address),
                        endpoint.length);
  connect_sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe_set_data64(connect_sqe, kTagConnect);
  io_uring_prep_link_timeout(timeout_sqe, &timeout, 0);
  io_uring_sqe_set_data64(timeout_sqe, kTagTimeout);
  io_uring_submit(&s.ring);  // `timeout` is copied by the kernel at submission

  int connect_result = -ECANCELED;
  for (int remaining = 2; remaining > 0;) {
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_wait_cqe(&s.ring, &cqe);
    if (rc == -EINTR) {
      continue;
    }
    if (rc < 0) {
      s.last_errno = -rc;
      return NetError::io_uring_failed;
    }
    if (io_uring_cqe_get_data64(cqe) == kTagConnect) {
      connect_result = cqe->res;
    }
    io_uring_cqe_seen(&s.ring, cqe);
    --remaining;
  }
  if (connect_result < 0) {
    s.last_errno = -connect_result;
    return connect_error_from_errno(-connect_result);
  }
  s.progress();  // arms the receive
  return NetError::ok;
}

Result<std::size_t, NetError> TcpConnection::receive_into(std::span<std::byte> out) noexcept {
  if (!impl_ || impl_->fd < 0) {
    return NetError::not_connected;
  }
  Impl& s = *impl_;
  if (s.backend == TcpBackend::plain) {
    s.progress();
    if (s.failure != NetError::ok) {
      return s.failure;
    }
    if (out.empty()) {
      return std::size_t{0};
    }
    for (;;) {
      const ssize_t n = ::recv(s.fd, out.data(), out.size(), MSG_DONTWAIT);
      if (n > 0) {
        return static_cast<std::size_t>(n);
      }
      if (n == 0) {
        s.peer_closed = true;
        return NetError::closed;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return NetError::would_block;
      }
      s.fail(error_from_errno(errno), errno);
      return s.failure;
    }
  }
  s.progress();
  const std::size_t copied = s.copy_received(out);
  if (copied > 0) {
    s.progress();  // buffers went back to the kernel: re-arm the receive if it had stopped
    return copied;
  }
  if (out.empty() && s.received_count > 0) {
    return std::size_t{0};
  }
  if (s.failure != NetError::ok) {
    return s.failure;
  }
  if (s.peer_closed) {
    return NetError::closed;
  }
  return NetError::would_block;
}

NetError TcpConnection::send(std::span<const std::byte> data) noexcept {
  if (!impl_ || impl_->fd < 0) {
    return NetError::not_connected;
  }
  Impl& s = *impl_;
  if (data.size() > s.send_capacity) {
    return NetError::message_too_large;
  }
  s.progress();
  if (s.failure != NetError::ok) {
    return s.failure;
  }
  if (s.send_capacity - s.send_tail < data.size() && s.send_in_flight == 0 && s.send_head > 0) {
    // Compact: nothing is in the kernel's hands, so the queued bytes may move.
    std::memmove(s.send_buffer, s.send_buffer + s.send_head, s.send_tail - s.send_head);
    s.send_tail -= s.send_head;
    s.send_head = 0;
  }
  if (s.send_capacity - s.send_tail < data.size()) {
    return NetError::would_block;
  }
  if (!data.empty()) {
    std::memcpy(s.send_buffer + s.send_tail, data.data(), data.size());
    s.send_tail += data.size();
  }
  s.progress();
  return s.failure;
}

std::size_t TcpConnection::send_capacity() const noexcept {
  if (!impl_ || impl_->fd < 0) {
    return 0;
  }
  const Impl& s = *impl_;
  return s.send_in_flight == 0 ? s.send_capacity - (s.send_tail - s.send_head)
                               : s.send_capacity - s.send_tail;
}

std::size_t TcpConnection::unsent_bytes() const noexcept {
  return impl_ ? impl_->send_tail - impl_->send_head : 0;
}

NetError TcpConnection::flush() noexcept {
  if (!impl_ || impl_->fd < 0) {
    return NetError::not_connected;
  }
  impl_->progress();
  return impl_->failure;
}

NetError TcpConnection::wait(int timeout_ms) noexcept {
  if (!impl_ || impl_->fd < 0) {
    return NetError::not_connected;
  }
  Impl& s = *impl_;
  s.progress();
  if (s.failure != NetError::ok) {
    return s.failure;
  }
  if (s.backend == TcpBackend::plain) {
    pollfd waiter{s.fd, static_cast<short>(POLLIN | (s.send_head < s.send_tail ? POLLOUT : 0)), 0};
    const int ready = ::poll(&waiter, 1, timeout_ms);
    if (ready == 0) {
      return NetError::would_block;
    }
    if (ready < 0 && errno != EINTR) {
      s.fail(NetError::io_failed, errno);
      return s.failure;
    }
    return NetError::ok;
  }
  if (s.received_count > 0 || s.peer_closed) {
    return NetError::ok;  // something is already there to take
  }
  if (!s.recv_armed && s.send_in_flight == 0) {
    return NetError::would_block;  // nothing in the kernel's hands could complete
  }
  io_uring_cqe* cqe = nullptr;
  int rc = 0;
  if (timeout_ms < 0) {
    rc = io_uring_wait_cqe(&s.ring, &cqe);
  } else {
    __kernel_timespec timeout{};
    timeout.tv_sec = timeout_ms / 1000;
    timeout.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1'000'000;
    rc = io_uring_wait_cqe_timeout(&s.ring, &cqe, &timeout);
  }
  if (rc == -ETIME) {
    return NetError::would_block;
  }
  if (rc < 0 && rc != -EINTR) {
    s.fail(NetError::io_failed, -rc);
    return s.failure;
  }
  s.progress();
  return NetError::ok;
}

void TcpConnection::close() noexcept {
  if (impl_) {
    impl_->shut();
  }
}

bool TcpConnection::is_open() const noexcept {
  return impl_ && impl_->fd >= 0;
}
int TcpConnection::native_handle() const noexcept {
  return impl_ ? impl_->fd : -1;
}
TcpBackend TcpConnection::backend() const noexcept {
  return impl_ ? impl_->backend : TcpBackend::automatic;
}
bool TcpConnection::uses_multishot_recv() const noexcept {
  return impl_ && impl_->multishot;
}
bool TcpConnection::uses_sqpoll() const noexcept {
  return impl_ && impl_->sqpoll;
}
bool TcpConnection::busy_poll_applied() const noexcept {
  return impl_ && impl_->busy_poll;
}
int TcpConnection::last_errno() const noexcept {
  return impl_ ? impl_->last_errno : 0;
}

}  // namespace kinetic::feed
