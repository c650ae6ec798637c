// The exchange simulator's network front (tools/kinetic-exchange/server.hpp, http.hpp):
// the HTTP/1.1 parser on its own, then a real Server on loopback, run on a thread of its
// own, driven by clients made of plain sockets and the feed's WebSocket pieces (and the
// feed's TLS Stream for HTTPS/WSS).
//
// Synchronisation is by events only: clients wait on their sockets with poll(), and the
// test waits for Handler calls on a condition variable; the time-outs only bound a failure.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http.hpp"
#include "kinetic/feed/tls_session.hpp"
#include "kinetic/feed/websocket.hpp"
#include "server.hpp"

namespace kinetic::exchange {
namespace {

using namespace std::chrono_literals;
using feed::WsEventKind;
using feed::WsOpcode;
using feed::WsRole;

constexpr int kFailAfterMs = 5000;  // bounds a failing wait; never paces a passing test

// ---------------------------------------------------------------------------------------
// The parser on its own
// ---------------------------------------------------------------------------------------

http::ParseResult parse(std::string_view bytes, std::string& storage,
                        http::ParseLimits limits = {}) {
  return http::parse_request(bytes, limits, storage);
}

TEST(HttpParser, ParsesARequestLineHeadersAndContentLengthBody) {
  std::string storage;
  const std::string bytes =
      "POST /v5/order/create?x=1 HTTP/1.1\r\nHost: a\r\nX-BAPI-API-KEY:  k1 \r\n"
      "content-length: 5\r\n\r\nhelloGET";
  const auto r = parse(bytes, storage);
  ASSERT_EQ(r.status, http::ParseStatus::complete);
  EXPECT_EQ(r.consumed, bytes.size() - 3);
  EXPECT_EQ(r.request.method, "POST");
  EXPECT_EQ(r.request.target, "/v5/order/create?x=1");
  EXPECT_EQ(r.request.path, "/v5/order/create");
  EXPECT_EQ(r.request.query, "x=1");
  EXPECT_EQ(r.request.body, "hello");
  ASSERT_EQ(r.request.headers.size(), 3u);
  EXPECT_EQ(r.request.header("x-bapi-api-key").value_or(""), "k1");  // case, spaces trimmed
  EXPECT_EQ(r.request.header("CONTENT-LENGTH").value_or(""), "5");
  EXPECT_FALSE(r.request.header("missing").has_value());
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.websocket_upgrade);
}

TEST(HttpParser, NeedsMoreUntilTheLastByteOfTheBody) {
  std::string storage;
  const std::string bytes = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(parse(std::string_view(bytes).substr(0, n), storage).status,
              http::ParseStatus::need_more)
        << n;
  }
  EXPECT_EQ(parse(bytes, storage).status, http::ParseStatus::complete);
}

TEST(HttpParser, DecodesChunkedBodiesWithExtensionsAndTrailers) {
  std::string storage;
  const std::string bytes =
      "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5\r\nhello\r\n6;name=v\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
  const auto r = parse(bytes, storage);
  ASSERT_EQ(r.status, http::ParseStatus::complete);
  EXPECT_EQ(r.request.body, "hello world");
  EXPECT_EQ(r.consumed, bytes.size() - 4);
  for (std::size_t n = 0; n < bytes.size() - 4; ++n) {
    EXPECT_EQ(parse(std::string_view(bytes).substr(0, n), storage).status,
              http::ParseStatus::need_more)
        << n;
  }
}

TEST(HttpParser, KeepAliveFollowsVersionAndConnection) {
  std::string s;
  EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", s).keep_alive);
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n", s).keep_alive);
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", s).keep_alive);
  const auto upgrade = parse(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: "
      "WebSocket\r\n\r\n",
      s);
  EXPECT_TRUE(upgrade.websocket_upgrade);
}

TEST(HttpParser, RefusesBadInputWithTheRightStatus) {
  std::string s;
  const auto status = [&](std::string_view bytes, http::ParseLimits limits = {}) {
    const auto r = parse(bytes, s, limits);
    return r.status == http::ParseStatus::error ? r.error_status : 0;
  };
  EXPECT_EQ(status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status("GET / HTTP/1.1\r\n\r\n"), 400);  // no Host
  EXPECT_EQ(status("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"), 400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400);
  EXPECT_EQ(
      status(
          "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
      400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 400);
  http::ParseLimits small;
  small.max_header_bytes = 64;
  small.max_request_bytes = 100;
  EXPECT_EQ(status("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(100, 'a'), small), 431);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99\r\n\r\n", small), 413);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "80\r\n",
                   small),
            413);
}

TEST(HttpParser, WritesResponsesWithReasonLengthHeadersAndConnection) {
  HttpResponse response;
  response.status = 429;
  response.headers = {{"X-Bapi-Limit", "10"}};
  response.body = "{}";
  std::string out;
  http::append_response(out, response, true);
  EXPECT_EQ(out,
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nX-Bapi-Limit: 10\r\nConnection: keep-alive\r\n\r\n{}");
}

// ---------------------------------------------------------------------------------------
// A Server on loopback
// ---------------------------------------------------------------------------------------

/// Answers /echo with what it got, /delay?ms=N after N ms, /drop by dropping everyone,
/// /throw by throwing; WebSocket: echoes text as "echo:TEXT", "close-me" makes the server
/// close with 4000, "stream N SIZE" sends N numbered messages of SIZE bytes, paced on
/// queued_bytes (or not, with "flood N SIZE"). Everything is called on the server thread;
/// what the test reads is guarded by the mutex.
class TestHandler : public Handler {
 public:
  Server* server = nullptr;

  HttpResponse on_http(ConnId, const HttpRequest& request) override {
    HttpResponse response;
    if (request.path == "/throw") {
      throw std::runtime_error("handler failure");
    }
    if (request.path == "/drop") {
      server->drop_all_connections();
    }
    if (request.path == "/delay") {
      response.delay =
          std::chrono::milliseconds(std::atoi(std::string(request.query.substr(3)).c_str()));
    }
    response.content_type = "text/plain";
    response.headers.emplace_back("X-Seen-Header",
                                  std::string(request.header("x-test").value_or("none")));
    response.body = std::string(request.method) + " " + std::string(request.path) + " [" +
                    std::string(request.query) + "] " + std::string(request.body);
    return response;
  }

  bool on_ws_open(ConnId connection, std::string_view path, std::string_view query) override {
    if (path == "/refuse") {
      return false;
    }
    std::lock_guard lock(mutex_);
    opened_.push_back(std::string(path) + "?" + std::string(query));
    ws_connections_.push_back(connection);
    changed_.notify_all();
    return true;
  }

  void on_ws_text(ConnId connection, std::string_view message) override {
    if (message == "close-me") {
      server->close(connection, 4000, "bye");
      return;
    }
    if (message.starts_with("stream ") || message.starts_with("flood ")) {
      const bool pace = message.starts_with("stream ");
      const std::string args(message.substr(message.find(' ') + 1));
      stream_left_ = std::strtoull(args.c_str(), nullptr, 10);
      stream_size_ = std::strtoull(args.c_str() + args.find(' ') + 1, nullptr, 10);
      stream_to_ = connection;
      stream_paced_ = pace;
      stream_seq_ = 0;
      return;
    }
    static_cast<void>(server->send_text(connection, "echo:" + std::string(message)));
  }

  void on_ws_closed(ConnId connection) override {
    std::lock_guard lock(mutex_);
    closed_.push_back(connection);
    changed_.notify_all();
  }

  void on_tick(std::int64_t) override {
    std::string payload;
    while (stream_left_ > 0 &&
           (!stream_paced_ || server->queued_bytes(stream_to_) < (std::size_t{1} << 20))) {
      payload = std::to_string(stream_seq_++);
      payload.resize(stream_size_, 'x');
      --stream_left_;
      if (!server->send_text(stream_to_, payload)) {
        std::lock_guard lock(mutex_);
        send_refused_ = true;
        stream_left_ = 0;
        changed_.notify_all();
      }
    }
  }

  std::int64_t next_tick_ns() const override {
    return stream_left_ > 0 ? 0 : std::numeric_limits<std::int64_t>::max();
  }

  /// Waits until `done()` holds (checked under the lock); false after kFailAfterMs.
  template <typename Pred>
  bool wait_for(Pred done) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::milliseconds(kFailAfterMs), done);
  }
  /// Waits until on_ws_closed has been called at least `n` times.
  bool wait_closed_count(std::size_t n) {
    return wait_for([&] { return closed_.size() >= n; });
  }
  std::size_t closed_count() {
    std::lock_guard lock(mutex_);
    return closed_.size();
  }
  std::vector<std::string> opened() {
    std::lock_guard lock(mutex_);
    return opened_;
  }
  std::vector<ConnId> closed_ids() {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  bool send_refused() {
    std::lock_guard lock(mutex_);
    return send_refused_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> opened_;
  std::vector<ConnId> ws_connections_;
  std::vector<ConnId> closed_;
  bool send_refused_ = false;
  // Streaming state: server thread only.
  std::uint64_t stream_left_ = 0;
  std::uint64_t stream_size_ = 0;
  std::uint64_t stream_seq_ = 0;
  bool stream_paced_ = true;
  ConnId stream_to_ = 0;
};

/// Blocks until `fd` is readable; false after kFailAfterMs.
bool wait_readable(int fd, int timeout_ms = kFailAfterMs) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << std::strerror(errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// True when the peer closes `fd` (EOF or reset) within the time-out; data before is dropped.
bool wait_closed(int fd) {
  char buffer[65536];
  for (;;) {
    if (!wait_readable(fd)) {
      return false;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return true;
    }
  }
}

struct HttpReply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

/// Reads one response (Content-Length framed) from `fd`; `pending` keeps bytes after it.
std::optional<HttpReply> read_reply(int fd, std::string& pending) {
  for (;;) {
    const std::size_t head_end = pending.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      HttpReply reply;
      reply.head = pending.substr(0, head_end + 2);
      reply.status = std::atoi(reply.head.c_str() + 9);
      std::size_t length = 0;
      std::string lower = reply.head;
      for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (const std::size_t at = lower.find("content-length: "); at != std::string::npos) {
        length = std::strtoull(lower.c_str() + at + 16, nullptr, 10);
      }
      if (pending.size() >= head_end + 4 + length) {
        reply.body = pending.substr(head_end + 4, length);
        pending.erase(0, head_end + 4 + length);
        return reply;
      }
    }
    if (!wait_readable(fd)) {
      return std::nullopt;
    }
    char buffer[65536];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return std::nullopt;
    }
    pending.append(buffer, static_cast<std::size_t>(n));
  }
}

/// A WebSocket client over a plain socket, from the feed's handshake, framer and deframer.
class WsClient {
 public:
  explicit WsClient(std::size_t buffer_size = 1 << 20)
      : framer_(WsRole::client, 7),
        deframer_(WsRole::client, buffer_size),
        buffer_(buffer_size + 64 + feed::kWsPadding) {}
  ~WsClient() {
    if (fd >= 0) {
      ::close(fd);
    }
  }

  /// Connects and upgrades; returns the HTTP status of the answer (101 on success).
  int open(std::uint16_t port, std::string_view path_and_query) {
    fd = connect_to(port);
    if (fd < 0) {
      return 0;
    }
    std::array<std::uint8_t, 16> random{};
    random.fill(3);
    key_ = feed::make_ws_key(random);
    feed::WsClientTarget target;
    target.host = "127.0.0.1";
    target.port = port;
    target.tls = false;
    target.path_and_query = path_and_query;
    std::array<char, 1024> request{};
    const std::size_t n = feed::build_ws_client_request(target, key_, request);
    send_all(fd, std::string_view(request.data(), n));
    std::string received;
    for (;;) {
      const auto parsed = feed::parse_ws_server_response(received, key_);
      if (parsed.error == feed::HandshakeError::ok) {
        std::memcpy(buffer_.data(), received.data() + parsed.consumed,
                    received.size() - parsed.consumed);
        end_ = received.size() - parsed.consumed;
        return 101;
      }
      if (parsed.error != feed::HandshakeError::incomplete) {
        return parsed.http_status;
      }
      if (!wait_readable(fd)) {
        return 0;
      }
      char chunk[4096];
      const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) {
        return 0;
      }
      received.append(chunk, static_cast<std::size_t>(got));
    }
  }

  void send(WsOpcode opcode, std::string_view payload, bool fin = true) {
    std::vector<char> frame(payload.size() + feed::kWsMaxHeaderSize);
    const std::size_t n = framer_.encode(opcode, fin, payload, frame);
    send_all(fd, std::string_view(frame.data(), n));
  }

  /// The next event; kind need_more when the socket closed or nothing came in time.
  /// `closed` tells the two apart.
  feed::WsEvent next() {
    for (;;) {
      const feed::WsEvent event = deframer_.next(std::span(buffer_.data() + begin_, end_ - begin_));
      begin_ += event.consumed;
      if (event.kind != WsEventKind::need_more) {
        return event;
      }
      if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (!wait_readable(fd)) {
        return {};
      }
      const std::size_t room = buffer_.size() - feed::kWsPadding - end_;
      const ssize_t got = ::recv(fd, buffer_.data() + end_, room, 0);
      if (got <= 0) {
        closed = true;
        return {};
      }
      end_ += static_cast<std::size_t>(got);
    }
  }

  /// The next text message as a string ("" when none came).
  std::string next_text() {
    const feed::WsEvent event = next();
    return event.kind == WsEventKind::message ? std::string(event.payload) : std::string();
  }

  int fd = -1;
  bool closed = false;

 private:
  feed::WsKey key_;
  feed::WsFramer framer_;
  feed::WsDeframer deframer_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(options, handler_);
    handler_.server = server_.get();
    thread_ = std::thread([this] { server_->run(); });
  }
  void stop() {
    if (thread_.joinable()) {
      server_->request_stop();
      thread_.join();
    }
  }
  void TearDown() override { stop(); }
  std::uint16_t port() const { return server_->port(); }

  TestHandler handler_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(ServerTest, AnswersGetAndPostOnOneKeepAliveConnection) {
  start();
  const int fd = connect_to(port());
  ASSERT_GE(fd, 0);
  std::string pending;
  send_all(fd, "GET /echo?a=1&b=2 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\n\r\n");
  auto reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->head,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n"
            "X-Seen-Header: yes\r\nConnection: keep-alive\r\n");
  EXPECT_EQ(reply->body, "GET /echo [a=1&b=2] ");
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"k\":\"v\"}\r\n");
  reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "POST /echo [] {\"k\":\"v\"}\r\n");
  ::close(fd);
}

TEST_F(ServerTest, JoinsAChunkedBodySentInPieces) {
  start();
  const int fd = connect_to(port());
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabc");
  send_all(fd, "d\r\n3;x=y\r\nefg\r\n0\r\n\r\n");
  std::string pending;
  const auto reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "POST /echo [] abcdefg");
  ::close(fd);
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrderAndADelayedOneIsNotOvertaken) {
  start();
  const int fd = connect_to(port());
  send_all(fd,
           "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /delay?ms=30 HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /three HTTP/1.1\r\nHost: x\r\n\r\n"
           "POST /four HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n4");
  std::string pending;
  for (const char* expected :
       {"GET /one [] ", "GET /delay [ms=30] ", "GET /three [] ", "POST /four [] 4"}) {
    const auto reply = read_reply(fd, pending);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, expected);
  }
  EXPECT_TRUE(pending.empty());
  ::close(fd);
}

TEST_F(ServerTest, ClosesAfterAConnectionCloseAnswerQueuedBehindADelayedOne) {
  start();
  const int fd = connect_to(port());
  send_all(fd,
           "GET /delay?ms=20 HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
           "GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string pending;
  auto reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /delay [ms=20] ");
  reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /last [] ");
  EXPECT_NE(reply->head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(pending.empty());
  EXPECT_TRUE(wait_closed(fd));  // the request after the close is never answered
  ::close(fd);
}

TEST_F(ServerTest, HonoursConnectionCloseAfterTheAnswer) {
  start();
  const int fd = connect_to(port());
  send_all(fd, "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string pending;
  const auto reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(wait_closed(fd));
  ::close(fd);
}

TEST_F(ServerTest, AnswersBadRequestsWithTheirStatusAndCloses) {
  ServerOptions options;
  options.max_http_request = 4096;
  start(options);
  const std::pair<std::string, int> cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413},
      {"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"GET /a HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'a'), 431},
  };
  for (const auto& [request, status] : cases) {
    const int fd = connect_to(port());
    send_all(fd, request);
    std::string pending;
    const auto reply = read_reply(fd, pending);
    ASSERT_TRUE(reply) << request.substr(0, 40);
    EXPECT_EQ(reply->status, status) << request.substr(0, 40);
    EXPECT_NE(reply->head.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(wait_closed(fd));
    ::close(fd);
  }
}

TEST_F(ServerTest, AHandlerExceptionBecomes500AndTheConnectionLives) {
  start();
  const int fd = connect_to(port());
  send_all(fd, "GET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string pending;
  auto reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "GET /after [] ");
  ::close(fd);
}

TEST_F(ServerTest, UpgradesToWebSocketAndEchoesText) {
  start();
  WsClient client;
  ASSERT_EQ(client.open(port(), "/v5/public/linear?x=1"), 101);
  client.send(WsOpcode::text, "{\"op\":\"ping\"}");
  EXPECT_EQ(client.next_text(), "echo:{\"op\":\"ping\"}");
  EXPECT_EQ(handler_.opened(), std::vector<std::string>{"/v5/public/linear?x=1"});
}

TEST_F(ServerTest, AnswersPingWithPongAndJoinsFragmentsAroundIt) {
  start();
  WsClient client;
  ASSERT_EQ(client.open(port(), "/ws"), 101);
  client.send(WsOpcode::text, "hel", false);
  client.send(WsOpcode::ping, "p1");
  client.send(WsOpcode::continuation, "lo", true);
  const feed::WsEvent pong = client.next();
  ASSERT_EQ(pong.kind, WsEventKind::pong);
  EXPECT_EQ(pong.payload, "p1");
  EXPECT_EQ(client.next_text(), "echo:hello");
}

TEST_F(ServerTest, EchoesACloseAndTellsTheHandlerOnce) {
  start();
  WsClient client;
  ASSERT_EQ(client.open(port(), "/ws"), 101);
  std::array<char, 32> frame{};
  feed::WsFramer framer(WsRole::client, 9);
  const std::size_t n = framer.close(1000, "done", frame);
  send_all(client.fd, std::string_view(frame.data(), n));
  const feed::WsEvent close = client.next();
  ASSERT_EQ(close.kind, WsEventKind::close);
  EXPECT_EQ(close.close_code, 1000);
  EXPECT_TRUE(wait_closed(client.fd));
  ASSERT_TRUE(handler_.wait_closed_count(1));
  stop();  // after run() returns, no more Handler calls: the count is final
  EXPECT_EQ(handler_.closed_count(), 1u);
}

TEST_F(ServerTest, ServerCloseSendsACloseFrameWithCodeAndReason) {
  start();
  WsClient client;
  ASSERT_EQ(client.open(port(), "/ws"), 101);
  client.send(WsOpcode::text, "close-me");
  const feed::WsEvent close = client.next();
  ASSERT_EQ(close.kind, WsEventKind::close);
  EXPECT_EQ(close.close_code, 4000);
  EXPECT_EQ(close.payload, "bye");
  EXPECT_TRUE(handler_.wait_closed_count(1));
  EXPECT_TRUE(wait_closed(client.fd));
}

TEST_F(ServerTest, AProtocolErrorClosesWith1002) {
  start();
  WsClient client;
  ASSERT_EQ(client.open(port(), "/ws"), 101);
  send_all(client.fd, std::string("\x81\x02hi", 4));  // unmasked: forbidden from a client
  const feed::WsEvent close = client.next();
  ASSERT_EQ(close.kind, WsEventKind::close);
  EXPECT_EQ(close.close_code, 1002);
  EXPECT_TRUE(wait_closed(client.fd));
}

TEST_F(ServerTest, RefusedPathGets404AndClose) {
  start();
  WsClient client;
  EXPECT_EQ(client.open(port(), "/refuse"), 404);
  EXPECT_TRUE(wait_closed(client.fd));
  stop();
  EXPECT_EQ(handler_.closed_count(), 0u);  // never opened: on_ws_closed is not owed
}

TEST_F(ServerTest, AnUpgradeWithTheWrongVersionGets426) {
  start();
  const int fd = connect_to(port());
  send_all(fd,
           "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  std::string pending;
  const auto reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
  EXPECT_NE(reply->head.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_TRUE(wait_closed(fd));
  ::close(fd);
  stop();
  EXPECT_TRUE(handler_.opened().empty());
}

TEST_F(ServerTest, IdleConnectionsAreDroppedWithoutACloseFrame) {
  ServerOptions options;
  options.idle_timeout = 100ms;
  start(options);
  WsClient client;
  ASSERT_EQ(client.open(port(), "/ws"), 101);
  const int http = connect_to(port());
  const feed::WsEvent event = client.next();
  EXPECT_EQ(event.kind, WsEventKind::need_more);  // no close frame, just the end
  EXPECT_TRUE(client.closed);
  EXPECT_TRUE(wait_closed(http));
  ::close(http);
  EXPECT_TRUE(handler_.wait_closed_count(1));
  stop();
  EXPECT_EQ(handler_.closed_count(), 1u);
}

TEST_F(ServerTest, DropAllConnectionsSparesOnlyTheCallersAnswer) {
  start();
  WsClient a;
  WsClient b;
  ASSERT_EQ(a.open(port(), "/ws"), 101);
  ASSERT_EQ(b.open(port(), "/ws"), 101);
  const int fd = connect_to(port());
  send_all(fd, "POST /drop HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  std::string pending;
  const auto reply = read_reply(fd, pending);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(a.next().kind, WsEventKind::need_more);
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(b.next().kind, WsEventKind::need_more);
  EXPECT_TRUE(b.closed);
  ::close(fd);
  stop();
  EXPECT_EQ(handler_.closed_count(), 2u);
}

TEST_F(ServerTest, AClientThatDoesNotReadIsDroppedPastMaxQueuedOutput) {
  ServerOptions options;
  options.max_queued_output = 1 << 20;
  start(options);
  WsClient client;
  ASSERT_EQ(client.open(port(), "/ws"), 101);
  const int small = 4096;
  ::setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  client.send(WsOpcode::text, "flood 20000 1000");  // 20 MB, never read
  // The server gives up on it: the Handler is told, and sending is refused.
  ASSERT_TRUE(handler_.wait_closed_count(1));
  stop();
  EXPECT_TRUE(handler_.send_refused());
  EXPECT_EQ(handler_.closed_count(), 1u);
}

TEST_F(ServerTest, RequestStopEndsRunAndClosesWebSockets) {
  start();
  WsClient client;
  ASSERT_EQ(client.open(port(), "/ws"), 101);
  client.send(WsOpcode::text, "x");
  EXPECT_EQ(client.next_text(), "echo:x");
  stop();
  EXPECT_EQ(handler_.closed_count(), 1u);
  EXPECT_TRUE(wait_closed(client.fd));
  EXPECT_EQ(server_->stats().ws_messages_in, 1u);
  EXPECT_EQ(server_->stats().ws_messages_out, 1u);
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
}

TEST_F(ServerTest, StreamsManyMessagesInOrderToOneReader) {
  start();
  WsClient client(1 << 16);
  ASSERT_EQ(client.open(port(), "/ws"), 101);
  constexpr std::uint64_t kMessages = 200'000;
  constexpr std::size_t kSize = 300;
  const auto begin = std::chrono::steady_clock::now();
  client.send(WsOpcode::text, "stream " + std::to_string(kMessages) + " " + std::to_string(kSize));
  std::uint64_t received = 0;
  for (; received < kMessages; ++received) {
    const feed::WsEvent event = client.next();
    ASSERT_EQ(event.kind, WsEventKind::message) << received;
    ASSERT_EQ(event.payload.size(), kSize);
    const std::string expected = std::to_string(received);
    ASSERT_EQ(event.payload.substr(0, expected.size()), expected);
    ASSERT_EQ(event.payload[expected.size()], 'x');
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  // A figure for the log, not an assertion (speed belongs to bench/).
  std::cout << "[ figure ] " << received << " messages of " << kSize << " bytes in " << seconds
            << " s: " << static_cast<double>(received) / seconds << " messages/s\n";
}

TEST_F(ServerTest, ServesHttpsAndWssWithATestCertificate) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("kinetic-exchange-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  const std::string make_cert =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_cert.c_str()), 0) << "openssl could not make a certificate";
  ServerOptions options;
  options.tls_certificate = cert;
  options.tls_private_key = key;
  start(options);

  feed::TlsClientOptions tls_options;
  tls_options.ca_file = cert;
  auto context = feed::TlsContext::client(tls_options);
  ASSERT_TRUE(context);
  feed::StreamOptions stream_options;
  stream_options.tcp.backend = feed::TcpBackend::plain;
  stream_options.tls = &context.value();
  auto endpoint = feed::resolve("127.0.0.1", port());
  ASSERT_TRUE(endpoint);

  const auto receive_until = [](feed::Stream& stream, std::string& got, std::string_view end) {
    std::array<std::byte, 16384> buffer{};
    for (int i = 0; i < 1000 && got.find(end) == std::string::npos; ++i) {
      if (stream.wait(kFailAfterMs) != feed::NetError::ok) {
        return false;
      }
      auto n = stream.receive_into(buffer);
      if (n) {
        got.append(reinterpret_cast<const char*>(buffer.data()), n.value());
      } else if (n.error() != feed::NetError::would_block) {
        return false;
      }
    }
    return got.find(end) != std::string::npos;
  };
  const auto send = [](feed::Stream& stream, std::string_view bytes) {
    return stream.send(std::as_bytes(std::span(bytes.data(), bytes.size())));
  };

  {  // HTTPS
    feed::Stream stream;
    ASSERT_EQ(stream.connect(endpoint.value(), "127.0.0.1", true, stream_options),
              feed::NetError::ok)
        << stream.error_text();
    ASSERT_EQ(send(stream, "GET /tls?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"), feed::NetError::ok);
    std::string got;
    ASSERT_TRUE(receive_until(stream, got, "[q=1] "));
    EXPECT_EQ(got.substr(0, 15), "HTTP/1.1 200 OK");
  }
  {  // WSS
    feed::Stream stream;
    ASSERT_EQ(stream.connect(endpoint.value(), "127.0.0.1", true, stream_options),
              feed::NetError::ok);
    std::array<std::uint8_t, 16> random{};
    const feed::WsKey ws_key = feed::make_ws_key(random);
    feed::WsClientTarget target;
    target.host = "127.0.0.1";
    target.port = port();
    target.path_and_query = "/v5/private";
    std::array<char, 1024> request{};
    const std::size_t n = feed::build_ws_client_request(target, ws_key, request);
    feed::WsFramer framer(WsRole::client, 5);
    std::array<char, 64> frame{};
    const std::size_t frame_size = framer.text("over tls", frame);
    ASSERT_EQ(send(stream, std::string(request.data(), n) + std::string(frame.data(), frame_size)),
              feed::NetError::ok);
    std::string got;
    ASSERT_TRUE(receive_until(stream, got, "echo:over tls"));
    const auto parsed = feed::parse_ws_server_response(got, ws_key);
    ASSERT_EQ(parsed.error, feed::HandshakeError::ok);
    EXPECT_EQ(got.substr(parsed.consumed), std::string("\x81\x0d") + "echo:over tls");
  }
  stop();
  EXPECT_EQ(handler_.closed_count(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kinetic::exchange
