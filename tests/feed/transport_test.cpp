// Tests of the feed transport: URL parsing, TcpConnection (io_uring multishot, io_uring
// single-shot, plain sockets), TlsSession over memory BIOs, and Stream (ws/wss).
//
// Every peer is a std::thread on 127.0.0.1 using plain blocking sockets and OpenSSL directly,
// never the classes under test. The listening socket is bound before the thread starts, so
// the port needs no hand-over; every wait is a blocking socket operation.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/feed/tcp_socket.hpp"
#include "kinetic/feed/tls_session.hpp"

namespace kinetic::feed {
namespace {

// ---------------------------------------------------------------------------------------------
// OpenSSL allocation counting. OpenSSL allocates with malloc through CRYPTO_malloc, invisible
// to the operator new counter, so its memory functions are replaced before its first use.

thread_local std::uint64_t t_openssl_allocations = 0;
thread_local std::uint64_t t_openssl_frees = 0;

void* counting_malloc(std::size_t size, const char*, int) {
  ++t_openssl_allocations;
  return std::malloc(size);
}
void* counting_realloc(void* pointer, std::size_t size, const char*, int) {
  ++t_openssl_allocations;
  return std::realloc(pointer, size);
}
void counting_free(void* pointer, const char*, int) {
  t_openssl_frees += pointer != nullptr ? 1u : 0u;
  std::free(pointer);
}

const bool g_openssl_counting =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

// ---------------------------------------------------------------------------------------------
// Helpers.

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}
std::string text_of(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}
std::byte pattern_byte(std::size_t index, unsigned seed) {
  return static_cast<std::byte>((index * 131u + seed + index / 251u) & 0xffu);
}

Endpoint loopback(std::uint16_t port) {
  Endpoint endpoint;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::memcpy(&endpoint.address, &address, sizeof address);
  endpoint.length = sizeof address;
  return endpoint;
}

// Safety net only (never synchronisation): a broken client cannot hang the peer forever.
void set_peer_timeouts(int fd) {
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

/// A blocking listening socket on 127.0.0.1 with an ephemeral port.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "listen on 127.0.0.1 failed: " << std::strerror(errno);
    }
    port_ = ntohs(address.sin_port);
    set_peer_timeouts(fd_);
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// Accepts one connection (blocking); -1 on failure.
  [[nodiscard]] int accept_one() const {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      set_peer_timeouts(fd);
    }
    return fd;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

bool peer_read_exact(int fd, void* out, std::size_t size) {
  auto* cursor = static_cast<char*>(out);
  while (size > 0) {
    const ssize_t n = ::recv(fd, cursor, size, 0);
    if (n <= 0) {
      return false;
    }
    cursor += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}
bool peer_write_all(int fd, const void* data, std::size_t size) {
  const auto* cursor = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::send(fd, cursor, size, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    cursor += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Client side helpers: loop on the non-blocking calls, waiting on the socket in between.
std::string receive_exact(Stream& stream, std::size_t size) {
  std::string received(size, '\0');
  std::size_t have = 0;
  int idle_rounds = 0;
  while (have < size && idle_rounds < 100) {
    auto n = stream.receive_into(
        std::as_writable_bytes(std::span<char>(received.data() + have, size - have)));
    if (n) {
      have += n.value();
      idle_rounds = 0;
    } else if (n.error() == NetError::would_block) {
      if (stream.wait(100) == NetError::would_block) {
        ++idle_rounds;
      }
    } else {
      ADD_FAILURE() << "receive failed: " << to_string(n.error());
      break;
    }
  }
  received.resize(have);
  return received;
}

NetError send_all(Stream& stream, std::span<const std::byte> data) {
  int idle_rounds = 0;
  for (;;) {
    const NetError error = stream.send(data);
    if (error != NetError::would_block) {
      return error;
    }
    if (stream.wait(100) == NetError::would_block && ++idle_rounds > 100) {
      return NetError::would_block;
    }
  }
}

// Waits until everything queued reached the kernel.
void drain(Stream& stream) {
  for (int round = 0; round < 1000 && stream.unsent_bytes() > 0; ++round) {
    ASSERT_EQ(stream.flush(), NetError::ok);
    if (stream.unsent_bytes() > 0) {
      static_cast<void>(stream.wait(10));
    }
  }
  EXPECT_EQ(stream.unsent_bytes(), 0u);
}

// Waits for the end of the stream; returns the closing status and any bytes before it.
NetError receive_until_end(Stream& stream, std::string& received) {
  char buffer[256];
  for (int idle_rounds = 0; idle_rounds < 100;) {
    auto n = stream.receive_into(std::as_writable_bytes(std::span<char>(buffer)));
    if (n) {
      received.append(buffer, n.value());
    } else if (n.error() == NetError::would_block) {
      if (stream.wait(100) == NetError::would_block) {
        ++idle_rounds;
      }
    } else {
      return n.error();
    }
  }
  return NetError::would_block;
}

// ---------------------------------------------------------------------------------------------
// Certificates, made with the OpenSSL API and written as PEM into a temporary folder.

struct Credentials {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  std::string certificate_path;
  std::string key_path;
};

void add_extension(X509* certificate, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  ASSERT_NE(extension, nullptr);
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

Credentials make_credentials(const std::string& folder, const std::string& name, long serial) {
  Credentials made;
  made.key = EVP_EC_gen("P-256");
  EXPECT_NE(made.key, nullptr);
  X509* certificate = X509_new();
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 86400);
  X509_set_pubkey(certificate, made.key);
  X509_NAME* subject = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(certificate, subject);
  add_extension(certificate, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(certificate, NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(certificate, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  EXPECT_GT(X509_sign(certificate, made.key, EVP_sha256()), 0);
  made.certificate = certificate;
  made.certificate_path = folder + "/" + name + ".crt.pem";
  made.key_path = folder + "/" + name + ".key.pem";
  FILE* file = std::fopen(made.certificate_path.c_str(), "w");
  EXPECT_NE(file, nullptr);
  PEM_write_X509(file, certificate);
  std::fclose(file);
  file = std::fopen(made.key_path.c_str(), "w");
  EXPECT_NE(file, nullptr);
  PEM_write_PrivateKey(file, made.key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(file);
  return made;
}

/// Two independent self-signed certificates (server, and an unrelated "wrong CA"), made once.
class TlsFiles : public ::testing::Environment {
 public:
  void SetUp() override {
    char folder_template[] = "/tmp/kinetic_transport_XXXXXX";
    const char* folder = ::mkdtemp(folder_template);
    ASSERT_NE(folder, nullptr);
    folder_ = folder;
    server_ = make_credentials(folder_, "server", 1);
    other_ = make_credentials(folder_, "other", 2);
  }
  void TearDown() override {
    for (Credentials* credentials : {&server_, &other_}) {
      X509_free(credentials->certificate);
      EVP_PKEY_free(credentials->key);
    }
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
  }
  static const Credentials& server() { return instance->server_; }
  static const Credentials& other() { return instance->other_; }

  static TlsFiles* instance;

 private:
  std::string folder_;
  Credentials server_;
  Credentials other_;
};
TlsFiles* TlsFiles::instance = nullptr;
[[maybe_unused]] const auto* const g_tls_files_environment =
    ::testing::AddGlobalTestEnvironment(TlsFiles::instance = new TlsFiles);

/// The peer's own TLS server context (OpenSSL directly, not TlsContext).
SSL_CTX* make_peer_server_context(int max_version) {
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(context, TlsFiles::server().certificate);
  SSL_CTX_use_PrivateKey(context, TlsFiles::server().key);
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(context, max_version);
  return context;
}

// ---------------------------------------------------------------------------------------------
// URL parsing.

TEST(ParseUrl, DefaultsAndExplicitParts) {
  auto url = parse_url("wss://stream.bybit.com/v5/public/linear");
  ASSERT_TRUE(url);
  EXPECT_EQ(url.value().scheme, "wss");
  EXPECT_EQ(url.value().host, "stream.bybit.com");
  EXPECT_EQ(url.value().port, 443);
  EXPECT_EQ(url.value().target, "/v5/public/linear");
  EXPECT_TRUE(url.value().tls);

  url = parse_url("WS://127.0.0.1:8080/ws?a=1&b=2#frag");
  ASSERT_TRUE(url);
  EXPECT_EQ(url.value().scheme, "ws");
  EXPECT_EQ(url.value().host, "127.0.0.1");
  EXPECT_EQ(url.value().port, 8080);
  EXPECT_EQ(url.value().target, "/ws?a=1&b=2");
  EXPECT_FALSE(url.value().tls);

  url = parse_url("http://localhost");
  ASSERT_TRUE(url);
  EXPECT_EQ(url.value().port, 80);
  EXPECT_EQ(url.value().target, "/");

  url = parse_url("https://api.bybit.com?category=linear");
  ASSERT_TRUE(url);
  EXPECT_EQ(url.value().port, 443);
  EXPECT_EQ(url.value().target, "/?category=linear");

  url = parse_url("ws://[::1]:9000/x");
  ASSERT_TRUE(url);
  EXPECT_EQ(url.value().host, "::1");
  EXPECT_EQ(url.value().port, 9000);
}

TEST(ParseUrl, ErrorsAreValues) {
  EXPECT_EQ(parse_url("stream.bybit.com/v5").error(), NetError::invalid_url);
  EXPECT_EQ(parse_url("ftp://host/").error(), NetError::unsupported_scheme);
  EXPECT_EQ(parse_url("ws:///path").error(), NetError::invalid_url);
  EXPECT_EQ(parse_url("ws://host:/path").error(), NetError::invalid_url);
  EXPECT_EQ(parse_url("ws://host:0/").error(), NetError::invalid_url);
  EXPECT_EQ(parse_url("ws://host:65536/").error(), NetError::invalid_url);
  EXPECT_EQ(parse_url("ws://host:80x/").error(), NetError::invalid_url);
  EXPECT_EQ(parse_url("ws://user@host/").error(), NetError::invalid_url);
  EXPECT_EQ(parse_url("ws://[::1/").error(), NetError::invalid_url);
  EXPECT_EQ(parse_url("ws://ho st/").error(), NetError::invalid_url);
  EXPECT_TRUE(parse_url("ws://host:65535/"));
}

TEST(Resolve, NumericAndLocalhost) {
  auto endpoint = resolve("127.0.0.1", 4321);
  ASSERT_TRUE(endpoint);
  ASSERT_EQ(endpoint.value().address.ss_family, AF_INET);
  sockaddr_in address{};
  std::memcpy(&address, &endpoint.value().address, sizeof address);
  EXPECT_EQ(ntohs(address.sin_port), 4321);
  EXPECT_EQ(ntohl(address.sin_addr.s_addr), INADDR_LOOPBACK);
  EXPECT_TRUE(resolve("localhost", 80));
}

TEST(Capabilities, ProbedOnceAndConsistent) {
  const TransportCapabilities& caps = probe_capabilities();
  EXPECT_EQ(&caps, &probe_capabilities());
  if (caps.multishot_recv) {
    EXPECT_TRUE(caps.buffer_ring);
  }
  if (caps.buffer_ring || caps.sqpoll || caps.connect_op) {
    EXPECT_TRUE(caps.io_uring);
  }
  if (!caps.io_uring) {
    EXPECT_NE(caps.io_uring_errno, 0);
  }
  std::printf(
      "[ caps     ] io_uring=%d (errno %d) connect=%d send/recv=%d buffer_ring=%d multishot=%d "
      "sqpoll=%d\n",
      caps.io_uring, caps.io_uring_errno, caps.connect_op, caps.send_recv_ops, caps.buffer_ring,
      caps.multishot_recv, caps.sqpoll);
}

// ---------------------------------------------------------------------------------------------
// TCP, for each backend.

struct Mode {
  const char* name;
  TcpBackend backend;
  bool multishot;
};

class Transport : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    const TransportCapabilities& caps = probe_capabilities();
    if (GetParam().backend == TcpBackend::io_uring && !caps.io_uring) {
      GTEST_SKIP() << "io_uring is not available here (errno " << caps.io_uring_errno << ")";
    }
    if (GetParam().multishot && !caps.multishot_recv) {
      GTEST_SKIP() << "multishot receive is not supported by this kernel";
    }
  }
  [[nodiscard]] StreamOptions options() const {
    StreamOptions options;
    options.tcp.backend = GetParam().backend;
    options.tcp.multishot_recv = GetParam().multishot;
    options.tcp.connect_timeout_ms = 5000;
    return options;
  }
  void expect_backend(const Stream& stream) const {
    EXPECT_EQ(stream.tcp().backend(), GetParam().backend);
    EXPECT_EQ(stream.tcp().uses_multishot_recv(), GetParam().multishot);
  }
};

TEST_P(Transport, PlainEchoBothWaysWithoutAllocation) {
  Listener listener;
  std::thread peer([&listener] {
    const int fd = listener.accept_one();
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(peer_write_all(fd, "hello", 5));
    for (int round = 0; round < 100; ++round) {  // echo 100 requests of 4 bytes
      char request[4];
      ASSERT_TRUE(peer_read_exact(fd, request, 4));
      char reply[9] = {'p', 'o', 'n', 'g', ':', request[0], request[1], request[2], request[3]};
      ASSERT_TRUE(peer_write_all(fd, reply, sizeof reply));
    }
    ::close(fd);
  });
  Stream stream;
  ASSERT_EQ(stream.connect(loopback(listener.port()), "127.0.0.1", false, options()), NetError::ok);
  expect_backend(stream);
  EXPECT_FALSE(stream.is_tls());
  EXPECT_EQ(receive_exact(stream, 5), "hello");

  // Steady state: requests and replies through fixed buffers allocate nothing.
  char request[4] = {'0', '0', '0', '0'};
  char reply[9];
  std::string mismatches;
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int round = 0; round < 100; ++round) {
      request[2] = static_cast<char>('0' + round / 10);
      request[3] = static_cast<char>('0' + round % 10);
      if (send_all(stream, std::as_bytes(std::span<const char>(request))) != NetError::ok) {
        mismatches += "send failed;";
        break;
      }
      std::size_t have = 0;
      for (int spins = 0; have < sizeof reply && spins < 100000; ++spins) {
        auto n = stream.receive_into(
            std::as_writable_bytes(std::span<char>(reply + have, sizeof reply - have)));
        if (n) {
          have += n.value();
        } else if (n.error() == NetError::would_block) {
          static_cast<void>(stream.wait(100));
        } else {
          break;
        }
      }
      if (have != sizeof reply || std::memcmp(reply, "pong:", 5) != 0 ||
          std::memcmp(reply + 5, request, 4) != 0) {
        mismatches += "round " + std::to_string(round) + ";";
      }
    }
  });
  EXPECT_EQ(mismatches, "");
  EXPECT_EQ(allocations, 0u);
  std::string rest;
  EXPECT_EQ(receive_until_end(stream, rest), NetError::closed);
  EXPECT_EQ(rest, "");
  peer.join();
}

TEST_P(Transport, LargeTransferWithShortReads) {
  constexpr std::size_t kSize = 4u << 20;
  Listener listener;
  std::thread peer([&listener] {
    const int fd = listener.accept_one();
    ASSERT_GE(fd, 0);
    std::vector<char> chunk(1000);  // short reads on the peer side too
    std::size_t bad = 0;
    for (std::size_t offset = 0; offset < kSize;) {
      const std::size_t want = std::min(chunk.size(), kSize - offset);
      const ssize_t n = ::recv(fd, chunk.data(), want, 0);
      ASSERT_GT(n, 0);
      for (ssize_t i = 0; i < n; ++i) {
        bad += static_cast<std::byte>(chunk[static_cast<std::size_t>(i)]) !=
               pattern_byte(offset + static_cast<std::size_t>(i), 7);
      }
      offset += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(bad, 0u);
    std::vector<std::byte> data(kSize);
    for (std::size_t i = 0; i < kSize; ++i) {
      data[i] = pattern_byte(i, 11);
    }
    EXPECT_TRUE(peer_write_all(fd, data.data(), data.size()));
    ::close(fd);
  });
  Stream stream;
  StreamOptions opts = options();
  opts.tcp.send_buffer_size = 100000;  // smaller than the transfer: back-pressure is exercised
  ASSERT_EQ(stream.connect(loopback(listener.port()), "127.0.0.1", false, opts), NetError::ok);
  std::vector<std::byte> data(kSize);
  for (std::size_t i = 0; i < kSize; ++i) {
    data[i] = pattern_byte(i, 7);
  }
  EXPECT_EQ(stream.send(data), NetError::message_too_large);
  for (std::size_t offset = 0; offset < kSize; offset += 65536) {
    ASSERT_EQ(send_all(stream, std::span(data).subspan(offset, 65536)), NetError::ok);
  }
  drain(stream);

  std::byte small[777];  // a receive buffer smaller than the provided buffers: short reads
  std::size_t received = 0;
  std::size_t bad = 0;
  NetError end = NetError::ok;
  for (int idle_rounds = 0; idle_rounds < 100;) {
    auto n = stream.receive_into(small);
    if (n) {
      for (std::size_t i = 0; i < n.value(); ++i) {
        bad += small[i] != pattern_byte(received + i, 11);
      }
      received += n.value();
    } else if (n.error() == NetError::would_block) {
      idle_rounds += stream.wait(100) == NetError::would_block;
    } else {
      end = n.error();
      break;
    }
  }
  EXPECT_EQ(received, kSize);
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(end, NetError::closed);
  peer.join();
}

TEST_P(Transport, PeerCloseIsReportedAfterTheLastBytes) {
  Listener listener;
  std::thread peer([&listener] {
    const int fd = listener.accept_one();
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(peer_write_all(fd, "bye", 3));
    ::close(fd);
  });
  Stream stream;
  ASSERT_EQ(stream.connect(loopback(listener.port()), "127.0.0.1", false, options()), NetError::ok);
  std::string received;
  EXPECT_EQ(receive_until_end(stream, received), NetError::closed);
  EXPECT_EQ(received, "bye");
  // Stays closed.
  std::byte buffer[8];
  EXPECT_EQ(stream.receive_into(buffer).error(), NetError::closed);
  peer.join();
}

TEST_P(Transport, ConnectToClosedPortIsRefused) {
  // A bound socket that does not listen: the kernel answers the SYN with a reset.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  TcpConnection connection;
  TcpOptions tcp = options().tcp;
  EXPECT_EQ(connection.connect(loopback(ntohs(address.sin_port)), tcp), NetError::connect_refused);
  EXPECT_EQ(connection.last_errno(), ECONNREFUSED);
  std::byte buffer[8];
  connection.close();
  EXPECT_EQ(connection.receive_into(buffer).error(), NetError::not_connected);
  EXPECT_EQ(connection.send(buffer), NetError::not_connected);
  ::close(fd);
}

TEST_P(Transport, UnconnectedCallsAreErrorValues) {
  TcpConnection connection;
  std::byte buffer[8];
  EXPECT_EQ(connection.receive_into(buffer).error(), NetError::not_connected);
  EXPECT_EQ(connection.send(buffer), NetError::not_connected);
  EXPECT_EQ(connection.flush(), NetError::not_connected);
  EXPECT_EQ(connection.wait(0), NetError::not_connected);
  EXPECT_FALSE(connection.is_open());
  Stream stream;
  StreamOptions opts = options();
  auto url = parse_url("wss://127.0.0.1:1/");
  ASSERT_TRUE(url);
  EXPECT_EQ(stream.connect(url.value(), opts), NetError::tls_config_failed);  // no TLS context
}

// ---------------------------------------------------------------------------------------------
// TLS through Stream, the peer being an OpenSSL server on a blocking socket.

struct TlsPeerResult {
  bool handshake_ok = false;
  std::string version;
};

// Accepts one TLS connection, sends "hello", echoes `rounds` 4-byte requests as "pong:XXXX",
// then sends close_notify.
void run_tls_echo_peer(const Listener& listener, int max_version, int rounds,
                       TlsPeerResult& result) {
  SSL_CTX* context = make_peer_server_context(max_version);
  const int fd = listener.accept_one();
  SSL* ssl = SSL_new(context);
  SSL_set_fd(ssl, fd);
  if (fd >= 0 && SSL_accept(ssl) == 1) {
    result.handshake_ok = true;
    result.version = SSL_get_version(ssl);
    bool ok = SSL_write(ssl, "hello", 5) == 5;
    for (int round = 0; ok && round < rounds; ++round) {
      char request[4];
      std::size_t have = 0;
      while (ok && have < 4) {
        const int n = SSL_read(ssl, request + have, static_cast<int>(4 - have));
        ok = n > 0;
        have += ok ? static_cast<std::size_t>(n) : 0;
      }
      char reply[9] = {'p', 'o', 'n', 'g', ':', request[0], request[1], request[2], request[3]};
      ok = ok && SSL_write(ssl, reply, sizeof reply) == sizeof reply;
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  if (fd >= 0) {
    ::close(fd);
  }
  SSL_CTX_free(context);
  ERR_clear_error();
}

TlsContext client_context(const std::string& ca_file, TlsVersion max = TlsVersion::tls1_3) {
  TlsClientOptions options;
  options.ca_file = ca_file;
  options.max_version = max;
  std::string why;
  auto context = TlsContext::client(options, &why);
  EXPECT_TRUE(context) << why;
  return context ? std::move(context.value()) : TlsContext{};
}

class TlsTransport : public Transport {};

void tls_echo(const StreamOptions& base, std::string_view host, int peer_max_version,
              const char* expected_version) {
  Listener listener;
  TlsPeerResult peer_result;
  constexpr int kRounds = 50;
  std::thread peer([&] { run_tls_echo_peer(listener, peer_max_version, kRounds, peer_result); });
  const TlsContext context = client_context(TlsFiles::server().certificate_path);
  StreamOptions opts = base;
  opts.tls = &context;
  Stream stream;
  const NetError connected = stream.connect(loopback(listener.port()), host, true, opts);
  ASSERT_EQ(connected, NetError::ok) << to_string(connected) << " " << stream.error_text();
  EXPECT_TRUE(stream.is_tls());
  EXPECT_STREQ(stream.tls().protocol_version(), expected_version);
  EXPECT_EQ(receive_exact(stream, 5), "hello");

  char request[4] = {'r', 'q', '0', '0'};
  char reply[9];
  bool all_match = true;
  const std::uint64_t openssl_before = t_openssl_allocations;
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int round = 0; round < kRounds; ++round) {
      request[2] = static_cast<char>('0' + round / 10);
      request[3] = static_cast<char>('0' + round % 10);
      all_match &= send_all(stream, std::as_bytes(std::span<const char>(request))) == NetError::ok;
      std::size_t have = 0;
      for (int spins = 0; have < sizeof reply && spins < 100000; ++spins) {
        auto n = stream.receive_into(
            std::as_writable_bytes(std::span<char>(reply + have, sizeof reply - have)));
        if (n) {
          have += n.value();
        } else if (n.error() == NetError::would_block) {
          static_cast<void>(stream.wait(100));
        } else {
          break;
        }
      }
      all_match &= have == sizeof reply && std::memcmp(reply + 5, request, 4) == 0;
    }
  });
  const std::uint64_t openssl_allocations = t_openssl_allocations - openssl_before;
  EXPECT_TRUE(all_match);
  EXPECT_EQ(allocations, 0u);  // operator new: none of ours
  std::printf("[ tls      ] %s %d echo rounds: %llu OpenSSL allocations (counting %s)\n",
              expected_version, kRounds, static_cast<unsigned long long>(openssl_allocations),
              g_openssl_counting ? "on" : "unavailable");
  std::string rest;
  EXPECT_EQ(receive_until_end(stream, rest), NetError::closed);  // close_notify
  EXPECT_EQ(rest, "");
  EXPECT_EQ(stream.tls().state(), TlsState::closed);
  peer.join();
  EXPECT_TRUE(peer_result.handshake_ok);
  EXPECT_EQ(peer_result.version, expected_version);
}

TEST_P(TlsTransport, Tls13EchoWithLocalhostName) {
  tls_echo(options(), "localhost", TLS1_3_VERSION, "TLSv1.3");
}

TEST_P(TlsTransport, Tls12OnlyPeerWorks) {
  tls_echo(options(), "localhost", TLS1_2_VERSION, "TLSv1.2");
}

TEST_P(TlsTransport, IpAddressIsVerifiedAgainstIpSan) {
  tls_echo(options(), "127.0.0.1", TLS1_3_VERSION, "TLSv1.3");
}

void expect_tls_rejected(const StreamOptions& base, const std::string& ca_file,
                         std::string_view host, const char* reason) {
  Listener listener;
  bool peer_handshake_ok = true;
  std::thread peer([&] {
    SSL_CTX* context = make_peer_server_context(TLS1_3_VERSION);
    const int fd = listener.accept_one();
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, fd);
    // The client's alert (or its close) ends SSL_accept; no timing involved.
    peer_handshake_ok = fd >= 0 && SSL_accept(ssl) == 1;
    SSL_free(ssl);
    if (fd >= 0) {
      ::close(fd);
    }
    SSL_CTX_free(context);
    ERR_clear_error();
  });
  const TlsContext context = client_context(ca_file);
  StreamOptions opts = base;
  opts.tls = &context;
  Stream stream;
  EXPECT_EQ(stream.connect(loopback(listener.port()), host, true, opts),
            NetError::tls_verify_failed);
  EXPECT_EQ(stream.tls().state(), TlsState::failed);
  EXPECT_NE(stream.error_text().find(reason), std::string_view::npos) << stream.error_text();
  EXPECT_FALSE(stream.is_open());
  peer.join();
  EXPECT_FALSE(peer_handshake_ok);
}

TEST_P(TlsTransport, WrongCaFailsVerification) {
  expect_tls_rejected(options(), TlsFiles::other().certificate_path, "localhost",
                      "self-signed certificate");
}

TEST_P(TlsTransport, WrongHostnameFailsVerification) {
  expect_tls_rejected(options(), TlsFiles::server().certificate_path, "example.com",
                      "hostname mismatch");
}

TEST_P(TlsTransport, LargeTransferBothWays) {
  constexpr std::size_t kSize = 1u << 20;
  Listener listener;
  std::thread peer([&] {
    SSL_CTX* context = make_peer_server_context(TLS1_3_VERSION);
    const int fd = listener.accept_one();
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, fd);
    if (fd >= 0 && SSL_accept(ssl) == 1) {
      std::vector<char> data(kSize);
      std::size_t have = 0;
      while (have < kSize) {
        const int n = SSL_read(ssl, data.data() + have,
                               static_cast<int>(std::min<std::size_t>(kSize - have, 1000)));
        if (n <= 0) {
          break;
        }
        have += static_cast<std::size_t>(n);
      }
      // Echo it back whole.
      EXPECT_EQ(have, kSize);
      EXPECT_EQ(SSL_write(ssl, data.data(), static_cast<int>(have)), static_cast<int>(have));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    if (fd >= 0) {
      ::close(fd);
    }
    SSL_CTX_free(context);
  });
  const TlsContext context = client_context(TlsFiles::server().certificate_path);
  StreamOptions opts = options();
  opts.tls = &context;
  Stream stream;
  ASSERT_EQ(stream.connect(loopback(listener.port()), "localhost", true, opts), NetError::ok);
  std::vector<std::byte> data(kSize);
  for (std::size_t i = 0; i < kSize; ++i) {
    data[i] = pattern_byte(i, 3);
  }
  for (std::size_t offset = 0; offset < kSize; offset += 50000) {
    const std::size_t n = std::min<std::size_t>(50000, kSize - offset);
    ASSERT_EQ(send_all(stream, std::span(data).subspan(offset, n)), NetError::ok);
  }
  drain(stream);
  const std::string echoed = receive_exact(stream, kSize);
  ASSERT_EQ(echoed.size(), kSize);
  EXPECT_EQ(std::memcmp(echoed.data(), data.data(), kSize), 0);
  std::string rest;
  EXPECT_EQ(receive_until_end(stream, rest), NetError::closed);
  peer.join();
}

TEST_P(TlsTransport, TinyReadsLeavePlaintextThatWaitSees) {
  Listener listener;
  std::thread peer([&] {
    SSL_CTX* context = make_peer_server_context(TLS1_3_VERSION);
    const int fd = listener.accept_one();
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, fd);
    if (fd >= 0 && SSL_accept(ssl) == 1) {
      char record[100];
      for (int r = 0; r < 3; ++r) {  // three records, written back to back
        for (std::size_t i = 0; i < sizeof record; ++i) {
          record[i] = static_cast<char>('a' + (static_cast<std::size_t>(r) * 7 + i) % 26);
        }
        EXPECT_EQ(SSL_write(ssl, record, sizeof record), 100);
      }
      char done[4];
      EXPECT_EQ(SSL_read(ssl, done, sizeof done), 4);  // idle until the client has it all
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    if (fd >= 0) {
      ::close(fd);
    }
    SSL_CTX_free(context);
  });
  const TlsContext context = client_context(TlsFiles::server().certificate_path);
  StreamOptions opts = options();
  opts.tls = &context;
  Stream stream;
  ASSERT_EQ(stream.connect(loopback(listener.port()), "localhost", true, opts), NetError::ok);
  std::string received;
  int wait_timeouts = 0;
  // An event loop that waits before every read (as a blocking-wait engine does). The peer
  // sends nothing more until "done", so a wait() that missed plaintext or complete records
  // already inside the TLS session would time out here.
  while (received.size() < 300 && wait_timeouts < 3) {
    if (stream.wait(2000) == NetError::would_block) {
      ++wait_timeouts;
      continue;
    }
    char tiny[7];
    auto n = stream.receive_into(std::as_writable_bytes(std::span<char>(tiny)));
    if (n) {
      received.append(tiny, n.value());
    } else {
      ASSERT_EQ(n.error(), NetError::would_block);
    }
  }
  EXPECT_EQ(wait_timeouts, 0);
  ASSERT_EQ(received.size(), 300u);
  for (std::size_t i = 0; i < 300; ++i) {
    ASSERT_EQ(received[i], static_cast<char>('a' + ((i / 100) * 7 + i % 100) % 26)) << i;
  }
  ASSERT_EQ(send_all(stream, bytes_of("done")), NetError::ok);
  std::string rest;
  EXPECT_EQ(receive_until_end(stream, rest), NetError::closed);
  peer.join();
}

const Mode kModes[] = {
    {"io_uring_multishot", TcpBackend::io_uring, true},
    {"io_uring_single_shot", TcpBackend::io_uring, false},
    {"plain", TcpBackend::plain, false},
};
std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Backends, Transport, ::testing::ValuesIn(kModes), mode_name);
INSTANTIATE_TEST_SUITE_P(Backends, TlsTransport, ::testing::ValuesIn(kModes), mode_name);

TEST(TransportOptions, SqpollAndBusyPollStillEcho) {
  if (!probe_capabilities().io_uring) {
    GTEST_SKIP() << "io_uring is not available here";
  }
  Listener listener;
  std::thread peer([&listener] {
    const int fd = listener.accept_one();
    ASSERT_GE(fd, 0);
    char request[5];
    ASSERT_TRUE(peer_read_exact(fd, request, 5));
    EXPECT_TRUE(peer_write_all(fd, request, 5));
    ::close(fd);
  });
  StreamOptions opts;
  opts.tcp.backend = TcpBackend::io_uring;
  opts.tcp.sqpoll = true;
  opts.tcp.sqpoll_idle_ms = 10;
  opts.tcp.busy_poll_us = 50;
  Stream stream;
  ASSERT_EQ(stream.connect(loopback(listener.port()), "127.0.0.1", false, opts), NetError::ok);
  EXPECT_EQ(stream.tcp().uses_sqpoll(), probe_capabilities().sqpoll);
  std::printf("[ options  ] sqpoll=%d busy_poll=%d\n", stream.tcp().uses_sqpoll(),
              stream.tcp().busy_poll_applied());
  ASSERT_EQ(send_all(stream, bytes_of("abcde")), NetError::ok);
  EXPECT_EQ(receive_exact(stream, 5), "abcde");
  peer.join();
}

// ---------------------------------------------------------------------------------------------
// Degrading without io_uring: a child process forbids io_uring_setup with seccomp (as some
// sandboxes do) and must still connect through the plain fallback.

bool forbid_io_uring_setup() {
  sock_filter filter[] = {
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, static_cast<std::uint32_t>(offsetof(seccomp_data, nr))},
      {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, static_cast<std::uint32_t>(__NR_io_uring_setup)},
      {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(EPERM) & 0xffffu)},
      {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW},
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Wakes the parent's accept when the child fails before its real connection.
int wake_parent(std::uint16_t port, int code) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const Endpoint endpoint = loopback(port);
  static_cast<void>(
      ::connect(fd, reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length));
  ::close(fd);
  return code;
}

// Runs in the forked child; the exit code says which check failed (0: all passed).
int child_without_io_uring(std::uint16_t port) {
  if (!forbid_io_uring_setup()) {
    return wake_parent(port, 10);
  }
  const TransportCapabilities caps = probe_kernel();
  if (caps.io_uring || caps.io_uring_errno != EPERM) {
    return wake_parent(port, 11);
  }
  TcpOptions forced;
  forced.backend = TcpBackend::io_uring;
  TcpConnection refused;
  if (refused.connect(loopback(port), forced) != NetError::io_uring_failed) {
    return wake_parent(port, 12);
  }
  Stream stream;
  StreamOptions automatic;  // backend automatic: the ring fails, the plain fallback is used
  if (stream.connect(loopback(port), "127.0.0.1", false, automatic) != NetError::ok) {
    return 13;
  }
  if (stream.tcp().backend() != TcpBackend::plain) {
    return 14;
  }
  if (send_all(stream, bytes_of("ok?")) != NetError::ok) {
    return 15;
  }
  char reply[3];
  std::size_t have = 0;
  for (int rounds = 0; have < 3 && rounds < 100; ++rounds) {
    auto n = stream.receive_into(std::as_writable_bytes(std::span<char>(reply + have, 3 - have)));
    if (n) {
      have += n.value();
    } else if (n.error() != NetError::would_block || stream.wait(100) == NetError::not_connected) {
      return 16;
    }
  }
  return have == 3 && std::memcmp(reply, "ok!", 3) == 0 ? 0 : 17;
}

TEST(TransportFallback, WorksWhenTheKernelForbidsIoUring) {
  Listener listener;
  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::_exit(child_without_io_uring(listener.port()));
  }
  // The child's first connection (forced io_uring) fails before connecting; the second one
  // arrives here (or a bare connection when the child failed early).
  const int fd = listener.accept_one();
  char request[3] = {};
  const bool got_request = fd >= 0 && peer_read_exact(fd, request, 3);
  if (got_request) {
    EXPECT_TRUE(peer_write_all(fd, "ok!", 3));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  if (fd >= 0) {
    ::close(fd);
  }
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 10) {
    GTEST_SKIP() << "this sandbox does not allow installing a seccomp filter";
  }
  EXPECT_TRUE(got_request);
  EXPECT_EQ(std::string(request, 3), "ok?");
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see child_without_io_uring for the meaning";
}

// ---------------------------------------------------------------------------------------------
// TlsSession alone: client and server sessions joined in memory, no sockets.

// Moves all pending ciphertext from one session to the other.
void shuttle(TlsSession& from, TlsSession& to) {
  for (;;) {
    const std::span<const std::byte> piece = from.ciphertext_out();
    if (piece.empty()) {
      return;
    }
    const std::size_t taken = to.feed_ciphertext(piece);
    ASSERT_GT(taken, 0u);
    from.consume_ciphertext_out(taken);
  }
}

TEST(TlsSessionInMemory, HandshakeRecordsAndAllocationCount) {
  TlsServerOptions server_options;
  server_options.certificate_file = TlsFiles::server().certificate_path;
  server_options.private_key_file = TlsFiles::server().key_path;
  std::string why;
  auto server_context = TlsContext::server(server_options, &why);
  ASSERT_TRUE(server_context) << why;
  const TlsContext client = client_context(TlsFiles::server().certificate_path);

  TlsSession client_session;
  TlsSession server_session;
  ASSERT_EQ(client_session.start(client, "localhost"), NetError::ok);
  ASSERT_EQ(server_session.start(server_context.value(), ""), NetError::ok);
  EXPECT_EQ(client_session.state(), TlsState::handshaking);
  std::byte buffer[32768];
  EXPECT_EQ(client_session.read(buffer).error(), NetError::not_connected);

  for (int step = 0; step < 10 && (client_session.state() != TlsState::established ||
                                   server_session.state() != TlsState::established);
       ++step) {
    const NetError c = client_session.handshake();
    ASSERT_TRUE(c == NetError::ok || c == NetError::would_block) << client_session.error_text();
    shuttle(client_session, server_session);
    const NetError s = server_session.handshake();
    ASSERT_TRUE(s == NetError::ok || s == NetError::would_block) << server_session.error_text();
    shuttle(server_session, client_session);
  }
  ASSERT_EQ(client_session.state(), TlsState::established);
  ASSERT_EQ(server_session.state(), TlsState::established);
  EXPECT_STREQ(client_session.protocol_version(), "TLSv1.3");

  // One record each way with take_ciphertext (copying API); exact plaintext comes out.
  auto written = client_session.write(bytes_of("subscribe"));
  ASSERT_TRUE(written);
  EXPECT_EQ(written.value(), 9u);
  std::byte wire[4096];
  const std::size_t wire_bytes = client_session.take_ciphertext(wire);
  EXPECT_EQ(wire_bytes, 9u + 22u);  // TLS 1.3 record: 5 header + 1 type + 16 tag
  EXPECT_EQ(client_session.pending_ciphertext(), 0u);
  EXPECT_EQ(server_session.feed_ciphertext(std::span(wire, wire_bytes)), wire_bytes);
  auto read = server_session.read(buffer);
  ASSERT_TRUE(read);
  EXPECT_EQ(text_of(std::span(buffer, read.value())), "subscribe");
  EXPECT_EQ(server_session.read(buffer).error(), NetError::would_block);

  // Steady state: 1000 records server -> client; count OpenSSL's and our allocations.
  std::byte payload[1500];
  for (std::size_t i = 0; i < sizeof payload; ++i) {
    payload[i] = pattern_byte(i, 5);
  }
  const auto run_records = [&](int count) {
    bool ok = true;
    for (int i = 0; i < count; ++i) {
      ok &= server_session.write(payload).value_or(0) == sizeof payload;
      shuttle(server_session, client_session);
      auto n = client_session.read(buffer);
      ok &= n.value_or(0) == sizeof payload && std::memcmp(buffer, payload, sizeof payload) == 0;
    }
    return ok;
  };
  EXPECT_TRUE(run_records(10));  // warm-up
  const std::uint64_t openssl_before = t_openssl_allocations;
  const std::uint64_t openssl_frees_before = t_openssl_frees;
  bool ok = true;
  constexpr int kRecords = 1000;
  const std::uint64_t allocations = test::count_allocations([&] { ok = run_records(kRecords); });
  const std::uint64_t openssl_allocations = t_openssl_allocations - openssl_before;
  const std::uint64_t openssl_frees = t_openssl_frees - openssl_frees_before;
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0u);  // operator new: none
  // OpenSSL 3.0 heap-allocates its WPACKET sub-packet bookkeeping (40 bytes) while building
  // each record (3 per TLS 1.3 write, 1 per read) and frees it at once. Asserted: a small
  // constant per record, all transient (nothing accumulates).
  if (g_openssl_counting) {
    EXPECT_LE(openssl_allocations, 8u * kRecords);
    EXPECT_EQ(openssl_frees, openssl_allocations);
  }
  std::printf(
      "[ tls      ] %d records after warm-up: %llu OpenSSL allocations, %llu frees "
      "(counting %s)\n",
      kRecords, static_cast<unsigned long long>(openssl_allocations),
      static_cast<unsigned long long>(openssl_frees), g_openssl_counting ? "on" : "unavailable");

  // close_notify from the server: the client reads closed.
  server_session.close_notify();
  shuttle(server_session, client_session);
  EXPECT_EQ(client_session.read(buffer).error(), NetError::closed);
  EXPECT_EQ(client_session.state(), TlsState::closed);
}

TEST(TlsContextErrors, MissingFilesAreConfigErrorsWithText) {
  TlsClientOptions client_options;
  client_options.ca_file = "/nonexistent/ca.pem";
  std::string why;
  auto client = TlsContext::client(client_options, &why);
  EXPECT_EQ(client.error(), NetError::tls_config_failed);
  EXPECT_NE(why.find("trust store"), std::string::npos) << why;

  TlsServerOptions server_options;
  server_options.certificate_file = TlsFiles::server().certificate_path;
  server_options.private_key_file = TlsFiles::other().key_path;  // key of another certificate
  auto server = TlsContext::server(server_options, &why);
  EXPECT_EQ(server.error(), NetError::tls_config_failed);
  EXPECT_NE(why.find("private key"), std::string::npos) << why;
}

}  // namespace
}  // namespace kinetic::feed
