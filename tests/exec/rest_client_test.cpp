// The REST client's pieces and the whole client.
//
// - HttpResponseParser: framing, headers, in-place de-chunking, limits, errors.
// - TokenBucket: refill and following the server's headers, on an explicit clock.
// - RestClient against a scripted loopback server (this file's ScriptedServer) for the cases
//   the exchange cannot be made to produce on demand: HTTP 5xx, a connection lost before the
//   reply, 110072 after such a loss, chunked bodies, timeouts.
// - RestClient against the real kinetic-exchange (tests/support/local_exchange.hpp): time
//   sync and a skewed clock, an order's round trip, wrong key and secret, injected 10006
//   rejects, dropped connections, local back-pressure, and zero allocations per request.
#include "kinetic/exec/rest_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/exec/http_response.hpp"
#include "kinetic/feed/tls_session.hpp"
#include "local_exchange.hpp"

namespace {

using kinetic::exec::HttpParseError;
using kinetic::exec::HttpParseStatus;
using kinetic::exec::HttpResponseParser;
using kinetic::exec::RestClient;
using kinetic::exec::RestClientOptions;
using kinetic::exec::RestEndpoint;
using kinetic::exec::RestError;
using kinetic::exec::TokenBucket;

// ---------------------------------------------------------------------------------------------
// HttpResponseParser

HttpParseStatus parse_all(HttpResponseParser& parser, std::string& text, bool eof = false) {
  return parser.parse(std::span<char>(text.data(), text.size()), eof);
}

TEST(HttpResponseParser, ParsesContentLengthResponseAndRateLimitHeaders) {
  std::string text =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
      "X-Bapi-Limit: 10\r\nX-Bapi-Limit-Status: 9\r\n"
      "X-Bapi-Limit-Reset-Timestamp: 1700000000123\r\n\r\n{\"retCode\":0}";
  // 11 bytes of body: {"retCode":  — the rest is the next response's (pipelined garbage).
  HttpResponseParser parser;
  ASSERT_EQ(parse_all(parser, text), HttpParseStatus::complete);
  EXPECT_EQ(parser.status(), 200);
  EXPECT_EQ(parser.reason(), "OK");
  EXPECT_EQ(parser.body(), "{\"retCode\":");
  EXPECT_EQ(parser.consumed(), text.size() - 2);
  EXPECT_EQ(parser.headers().size(), 5u);
  EXPECT_EQ(parser.header("x-bapi-limit"), "10");
  EXPECT_EQ(parser.header_int("X-BAPI-LIMIT-STATUS"), 9);
  EXPECT_EQ(parser.header_int("X-Bapi-Limit-Reset-Timestamp"), 1700000000123);
  EXPECT_EQ(parser.content_length(), 11u);
  EXPECT_FALSE(parser.header("Traceid").has_value());
  EXPECT_FALSE(parser.header_int("Content-Type").has_value());
  EXPECT_TRUE(parser.keep_alive());
  EXPECT_FALSE(parser.chunked());
}

TEST(HttpResponseParser, ByteByByteGivesTheSameResult) {
  const std::string whole =
      "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde";
  std::string buffer = whole;
  HttpResponseParser parser;
  for (std::size_t n = 1; n < whole.size(); ++n) {
    ASSERT_EQ(parser.parse(std::span<char>(buffer.data(), n)), HttpParseStatus::need_more) << n;
  }
  ASSERT_EQ(parse_all(parser, buffer), HttpParseStatus::complete);
  EXPECT_EQ(parser.status(), 404);
  EXPECT_EQ(parser.reason(), "Not Found");
  EXPECT_EQ(parser.body(), "abcde");
  EXPECT_FALSE(parser.keep_alive());
}

TEST(HttpResponseParser, DechunksInPlaceAcrossPieces) {
  const std::string whole =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nWiki\r\n6;name=value\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n"
      "HTTP/1.1";
  for (std::size_t step = 1; step <= whole.size(); ++step) {
    std::string buffer = whole;
    HttpResponseParser parser;
    HttpParseStatus status = HttpParseStatus::need_more;
    for (std::size_t n = std::min(step, whole.size());; n = std::min(n + step, whole.size())) {
      status = parser.parse(std::span<char>(buffer.data(), n));
      if (status != HttpParseStatus::need_more || n == whole.size())
        break;
    }
    ASSERT_EQ(status, HttpParseStatus::complete) << "step " << step;
    EXPECT_EQ(parser.body(), "Wikipedia in \r\n\r\nchunks.") << "step " << step;
    EXPECT_EQ(parser.consumed(), whole.size() - 8) << "step " << step;
    EXPECT_TRUE(parser.chunked());
    EXPECT_FALSE(parser.content_length().has_value());
    // The body starts where the chunks started: right after the header block.
    EXPECT_EQ(parser.body().data(), buffer.data() + whole.find("\r\n\r\n") + 4);
  }
}

TEST(HttpResponseParser, BodyDelimitedByCloseEndsAtEof) {
  std::string text = "HTTP/1.0 502 Bad Gateway\r\nServer: nginx\r\n\r\n<html>";
  HttpResponseParser parser;
  EXPECT_EQ(parse_all(parser, text), HttpParseStatus::need_more);
  ASSERT_EQ(parse_all(parser, text, true), HttpParseStatus::complete);
  EXPECT_EQ(parser.status(), 502);
  EXPECT_EQ(parser.body(), "<html>");
  EXPECT_FALSE(parser.keep_alive());  // HTTP/1.0 without keep-alive
}

TEST(HttpResponseParser, NoContentHasNoBodyWhateverFollows) {
  std::string text = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200";
  HttpResponseParser parser;
  ASSERT_EQ(parse_all(parser, text), HttpParseStatus::complete);
  EXPECT_EQ(parser.body(), "");
  EXPECT_EQ(parser.consumed(), text.find("HTTP/1.1 200"));
}

TEST(HttpResponseParser, Http10KeepAliveIsHonoured) {
  std::string text = "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n";
  HttpResponseParser parser;
  ASSERT_EQ(parse_all(parser, text), HttpParseStatus::complete);
  EXPECT_TRUE(parser.keep_alive());
  EXPECT_EQ(parser.http_minor_version(), 0);
}

struct BadCase {
  const char* text;
  HttpParseError error;
  bool eof;
};

TEST(HttpResponseParser, RejectsMalformedResponses) {
  const BadCase cases[] = {
      {"HTTP/2.0 200 OK\r\n\r\n", HttpParseError::bad_status_line, false},
      {"HTTP/1.1 2x0 OK\r\n\r\n", HttpParseError::bad_status_line, false},
      {"HTTP/1.1 200OK\r\n\r\n", HttpParseError::bad_status_line, false},
      {"HTTP/1.1 099 Low\r\n\r\n", HttpParseError::bad_status_line, false},
      {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", HttpParseError::bad_header, false},
      {"HTTP/1.1 200 OK\r\n: empty\r\n\r\n", HttpParseError::bad_header, false},
      {"HTTP/1.1 200 OK\r\nA b: c\r\n\r\n", HttpParseError::bad_header, false},
      {"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n", HttpParseError::bad_header, false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       HttpParseError::bad_content_length, false},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HttpParseError::bad_content_length, false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
       HttpParseError::bad_content_length, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
       HttpParseError::unsupported_transfer_encoding, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", HttpParseError::bad_chunk,
       false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY", HttpParseError::bad_chunk,
       false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n",
       HttpParseError::bad_chunk, false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", HttpParseError::truncated, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", HttpParseError::truncated,
       true},
      {"HTTP/1.1 200 OK\r\nContent-Le", HttpParseError::truncated, true},
  };
  for (const BadCase& bad : cases) {
    std::string text = bad.text;
    HttpResponseParser parser;
    EXPECT_EQ(parse_all(parser, text, bad.eof), HttpParseStatus::error) << bad.text;
    EXPECT_EQ(parser.error(), bad.error) << bad.text;
    // An error sticks.
    EXPECT_EQ(parse_all(parser, text, bad.eof), HttpParseStatus::error) << bad.text;
  }
}

TEST(HttpResponseParser, EnforcesHeaderCountAndSizeLimits) {
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (std::size_t i = 0; i <= kinetic::exec::kMaxHttpResponseHeaders; ++i)
    many += "H" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  HttpResponseParser parser;
  EXPECT_EQ(parse_all(parser, many), HttpParseStatus::error);
  EXPECT_EQ(parser.error(), HttpParseError::too_many_headers);

  std::string huge =
      "HTTP/1.1 200 OK\r\nX: " + std::string(kinetic::exec::kMaxHttpResponseHeaderBytes, 'a');
  parser.reset();
  EXPECT_EQ(parse_all(parser, huge), HttpParseStatus::error);
  EXPECT_EQ(parser.error(), HttpParseError::header_too_large);
}

TEST(HttpResponseParser, ParsingAllocatesNothing) {
  std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Bapi-Limit: 10\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n";
  HttpResponseParser parser;
  std::size_t length = 0;
  const auto allocations = kinetic::test::count_allocations([&] {
    if (parse_all(parser, text) == HttpParseStatus::complete)
      length = parser.body().size() + static_cast<std::size_t>(*parser.header_int("x-bapi-limit"));
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(length, 15u);
}

// ---------------------------------------------------------------------------------------------
// TokenBucket

TEST(TokenBucket, RefillsContinuouslyUpToItsCapacity) {
  TokenBucket bucket;
  bucket.set_limit(10, 0);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(bucket.try_take(0), 0) << i;
  // Empty: one token takes 100 ms to drip in.
  EXPECT_EQ(bucket.try_take(0), 100'000'000);
  EXPECT_EQ(bucket.try_take(40'000'000), 60'000'000);
  EXPECT_EQ(bucket.try_take(100'000'000), 0);
  // A long pause refills to 10, never more.
  EXPECT_EQ(bucket.available(10'000'000'000), 10);
}

TEST(TokenBucket, FollowsTheServersRemainingAndReset) {
  TokenBucket bucket;
  bucket.set_limit(10, 0);
  bucket.follow_server(10, 2, 0, 0);  // the server says only 2 left
  EXPECT_EQ(bucket.available(0), 2);
  bucket.follow_server(10, 0, 500'000'000, 0);  // none left until 0.5 s
  EXPECT_EQ(bucket.try_take(300'000'000), 200'000'000);
  EXPECT_EQ(bucket.try_take(500'000'000), 0);
  bucket.follow_server(20, 20, 0, 500'000'000);  // a new limit from X-Bapi-Limit
  EXPECT_EQ(bucket.per_second(), 20);
}

TEST(TokenBucket, EndpointTableMirrorsBybitLimits) {
  using kinetic::exec::default_limit_per_second;
  using kinetic::exec::endpoint_of;
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/order/create")), 10);
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/order/amend")), 10);
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/order/cancel")), 10);
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/order/cancel-all")), 10);
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/order/realtime")), 50);
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/execution/list")), 50);
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/position/list")), 50);
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/account/wallet-balance")), 50);
  EXPECT_EQ(default_limit_per_second(endpoint_of("/v5/position/set-leverage")), 10);
  EXPECT_EQ(endpoint_of("/v5/market/time"), RestEndpoint::none);
}

// ---------------------------------------------------------------------------------------------
// A scripted HTTP server on loopback: each request (other than /v5/market/time, answered with
// the current time) takes the next action of the script.

struct Action {
  enum Kind { reply, close_without_reply, no_reply } kind = reply;
  std::string bytes;  // the whole response for `reply`
};

std::string json_reply(int status, std::string_view body, std::string_view extra_headers = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

std::string envelope(long long code, std::string_view message) {
  return R"({"retCode":)" + std::to_string(code) + R"(,"retMsg":")" + std::string(message) +
         R"(","result":{},"retExtInfo":{},"time":1700000000000})";
}

class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Action> script) : script_(script.begin(), script.end()) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 8) != 0)
      throw std::runtime_error("ScriptedServer: bind/listen");
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// The requests that took a script action, in order (time syncs excluded).
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int connections() const { return connections_.load(); }

 private:
  void serve() {
    int client = -1;
    std::string in;
    while (!stop_) {
      pollfd fds[2] = {{listener_, POLLIN, 0}, {client, POLLIN, 0}};
      if (::poll(fds, client >= 0 ? 2 : 1, 20) <= 0)
        continue;
      if ((fds[0].revents & POLLIN) != 0) {
        if (client >= 0)
          ::close(client);
        client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        ++connections_;
        in.clear();
        continue;
      }
      char chunk[4096];
      const ssize_t n = ::recv(client, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::close(client);
        client = -1;
        continue;
      }
      in.append(chunk, static_cast<std::size_t>(n));
      for (;;) {
        const std::size_t head_end = in.find("\r\n\r\n");
        if (head_end == std::string::npos)
          break;
        std::size_t length = 0;
        if (const std::size_t at = in.find("Content-Length: ");
            at != std::string::npos && at < head_end)
          length = std::stoul(in.substr(at + 16));
        if (in.size() < head_end + 4 + length)
          break;
        const std::string request = in.substr(0, head_end + 4 + length);
        in.erase(0, request.size());
        if (request.starts_with("GET /v5/market/time")) {
          const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
          send_all(client,
                   json_reply(200, R"({"retCode":0,"retMsg":"OK","result":{"timeSecond":")" +
                                       std::to_string(now / 1000) + R"(","timeNano":")" +
                                       std::to_string(now) + R"(000000"},"time":)" +
                                       std::to_string(now) + "}"));
          continue;
        }
        Action action;
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
          if (!script_.empty()) {
            action = script_.front();
            script_.pop_front();
          } else {
            action.bytes = json_reply(500, "script exhausted");
          }
        }
        if (action.kind == Action::reply) {
          send_all(client, action.bytes);
        } else if (action.kind == Action::close_without_reply) {
          ::close(client);
          client = -1;
          in.clear();
          break;
        }
        // no_reply: say nothing; the client times out.
      }
    }
    if (client >= 0)
      ::close(client);
  }
  static void send_all(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return;
      sent += static_cast<std::size_t>(n);
    }
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::deque<Action> script_;
  std::vector<std::string> requests_;
};

RestClientOptions scripted_options(const ScriptedServer& server) {
  RestClientOptions options;
  options.base_url = server.url();
  options.api_key = "key";
  options.api_secret = "secret";
  options.backoff_initial_ms = 1;
  options.backoff_max_ms = 4;
  options.request_timeout_ms = 2000;
  return options;
}

std::string body_of(const std::string& request) {
  return request.substr(request.find("\r\n\r\n") + 4);
}

constexpr std::string_view kCreateBody =
    R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"30000","timeInForce":"GTC","orderLinkId":"kn-00000000000000aa"})";

TEST(RestClientScripted, RetriesHttp5xxThenSucceeds) {
  ScriptedServer server({{Action::reply, json_reply(503, "busy")},
                         {Action::reply, json_reply(200, envelope(0, "OK"))}});
  RestClient client(scripted_options(server));
  const auto response = client.post_signed("/v5/order/create", kCreateBody);
  EXPECT_EQ(response.error, RestError::ok) << kinetic::exec::to_string(response.error);
  EXPECT_EQ(response.attempts, 2);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(body_of(requests[0]), kCreateBody);
  EXPECT_EQ(body_of(requests[1]), kCreateBody);
}

TEST(RestClientScripted, LostReplyThenDuplicateIsAlreadySent) {
  // The first attempt reaches the "exchange" but its reply is lost; the retry (same body, same
  // orderLinkId) is refused as a duplicate: the order exists.
  ScriptedServer server(
      {{Action::close_without_reply, ""},
       {Action::reply, json_reply(200, envelope(110072, "OrderLinkedID is duplicate"))}});
  RestClient client(scripted_options(server));
  const auto response = client.post_signed("/v5/order/create", kCreateBody);
  EXPECT_EQ(response.error, RestError::already_sent) << kinetic::exec::to_string(response.error);
  EXPECT_EQ(response.ret_code, 110072);
  EXPECT_EQ(response.attempts, 2);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(body_of(requests[0]), body_of(requests[1]));
  EXPECT_EQ(client.connects(), 2u);
}

TEST(RestClientScripted, DuplicateOnFirstAttemptIsARejection) {
  ScriptedServer server(
      {{Action::reply, json_reply(200, envelope(110072, "OrderLinkedID is duplicate"))}});
  RestClient client(scripted_options(server));
  const auto response = client.post_signed("/v5/order/create", kCreateBody);
  EXPECT_EQ(response.error, RestError::rejected);
  EXPECT_EQ(response.ret_code, 110072);
  EXPECT_EQ(response.ret_msg, "OrderLinkedID is duplicate");
  EXPECT_EQ(response.attempts, 1);
}

TEST(RestClientScripted, BusinessRejectionIsNeverRetried) {
  ScriptedServer server(
      {{Action::reply, json_reply(200, envelope(110007, "ab not enough for new order"))},
       {Action::reply, json_reply(200, envelope(0, "OK"))}});
  RestClient client(scripted_options(server));
  const auto response = client.post_signed("/v5/order/create", kCreateBody);
  EXPECT_EQ(response.error, RestError::rejected);
  EXPECT_EQ(response.ret_code, 110007);
  EXPECT_EQ(response.attempts, 1);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(client.retries(), 0u);
}

TEST(RestClientScripted, ServerTimeoutCodesAreRetriedAndChunkedBodiesDecoded) {
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "c\r\n{\"retCode\":0\r\n14\r\n,\"retMsg\":\"OK\",\"r\":1\r\n1\r\n}\r\n0\r\n\r\n";
  ScriptedServer server({{Action::reply, json_reply(200, envelope(10016, "server error"))},
                         {Action::reply, json_reply(200, envelope(10000, "server timeout"))},
                         {Action::reply, chunked}});
  RestClient client(scripted_options(server));
  const auto response = client.get_signed("/v5/order/realtime", "category=linear");
  EXPECT_EQ(response.error, RestError::ok) << kinetic::exec::to_string(response.error);
  EXPECT_EQ(response.attempts, 3);
  EXPECT_EQ(response.body, R"({"retCode":0,"retMsg":"OK","r":1})");
  EXPECT_EQ(response.ret_msg, "OK");
  // The query is sent exactly as given.
  EXPECT_TRUE(
      server.requests()[0].starts_with("GET /v5/order/realtime?category=linear HTTP/1.1\r\n"));
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string limit_headers(std::int64_t remaining, std::int64_t reset_ms) {
  return "X-Bapi-Limit: 10\r\nX-Bapi-Limit-Status: " + std::to_string(remaining) +
         "\r\nX-Bapi-Limit-Reset-Timestamp: " + std::to_string(reset_ms) + "\r\n";
}

TEST(RestClientScripted, RateLimitedWaitsUntilTheResetTimestamp) {
  const std::int64_t reset = wall_ms() + 60;
  ScriptedServer server(
      {{Action::reply,
        json_reply(200, envelope(10006, "Too many visits!"), limit_headers(0, reset))},
       {Action::reply, json_reply(200, envelope(0, "OK"), limit_headers(9, reset))}});
  RestClient client(scripted_options(server));
  ASSERT_EQ(client.sync_time().error, RestError::ok);
  const auto response = client.post_signed("/v5/order/create", kCreateBody);
  const std::int64_t done = wall_ms();
  EXPECT_EQ(response.error, RestError::ok) << kinetic::exec::to_string(response.error);
  EXPECT_EQ(response.attempts, 2);
  EXPECT_EQ(response.limits.remaining, 9);
  // The retry went only after the reset (sleeping never wakes early).
  EXPECT_GE(done, reset);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(body_of(requests[0]), body_of(requests[1]));
}

TEST(RestClientScripted, RateLimitResetTooFarAwayIsReturnedNotWaited) {
  ScriptedServer server({{Action::reply, json_reply(200, envelope(10006, "Too many visits!"),
                                                    limit_headers(0, wall_ms() + 60'000))}});
  RestClient client(scripted_options(server));
  const auto response = client.post_signed("/v5/order/create", kCreateBody);
  EXPECT_EQ(response.error, RestError::rate_limited);
  EXPECT_EQ(response.ret_code, 10006);
  EXPECT_EQ(response.attempts, 1);
  EXPECT_GT(response.limits.reset_ms, wall_ms() + 50'000);
}

TEST(RestClientScripted, GivesUpAfterMaxRetriesOnTimeouts) {
  ScriptedServer server({{Action::no_reply, ""}, {Action::no_reply, ""}});
  RestClientOptions options = scripted_options(server);
  options.request_timeout_ms = 50;
  options.max_retries = 1;
  RestClient client(options);
  const auto response = client.get_signed("/v5/order/realtime", "category=linear");
  EXPECT_EQ(response.error, RestError::timeout);
  EXPECT_EQ(response.attempts, 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(RestClientScripted, NonJsonErrorStatusIsAnHttpError) {
  ScriptedServer server(
      {{Action::reply,
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 21\r\n\r\naccess too frequently"}});
  RestClient client(scripted_options(server));
  const auto response = client.get_public("/v5/market/kline", "category=linear&symbol=BTCUSDT");
  EXPECT_EQ(response.error, RestError::http_error);
  EXPECT_EQ(response.http_status, 403);
  EXPECT_EQ(response.ret_code, -1);
  EXPECT_EQ(response.body, "access too frequently");
}

TEST(RestClientScripted, SignedRequestWithoutCredentialsIsRefusedLocally) {
  ScriptedServer server({});
  RestClientOptions options = scripted_options(server);
  options.api_key.clear();
  options.api_secret.clear();
  RestClient client(options);
  EXPECT_EQ(client.get_signed("/v5/order/realtime", "").error, RestError::no_credentials);
  EXPECT_TRUE(server.requests().empty());
}

// ---------------------------------------------------------------------------------------------
// Against the real kinetic-exchange

constexpr const char* kKey = "kTestKey01";
constexpr const char* kSecret = "kTestSecret0123456789";

RestClientOptions exchange_options(const kinetic::test::LocalExchange& exchange) {
  RestClientOptions options;
  options.base_url = exchange.http_url();
  options.api_key = kKey;
  options.api_secret = kSecret;
  options.backoff_initial_ms = 1;
  options.backoff_max_ms = 10;
  return options;
}

std::vector<std::string> account_arguments() {
  return {"--account", std::string(kKey) + ":" + kSecret + ":100000"};
}

// The orders of our account in /kinetic/state.
nlohmann::json orders_in_state(kinetic::test::LocalExchange& exchange) {
  const auto state = nlohmann::json::parse(exchange.get("/kinetic/state"));
  for (const auto& account : state["accounts"]) {
    if (account["key"] == kKey)
      return account["orders"];
  }
  return nlohmann::json::array();
}

// Far below the synthetic market (about 65000), so the order rests: nothing fills it while a
// test runs.
constexpr const char* kRestingPrice = "30000.00";

std::string create_body(const std::string& price, const std::string& link_id) {
  return R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":")" +
         price + R"(","timeInForce":"PostOnly","orderLinkId":")" + link_id + R"("})";
}

TEST(RestClientExchange, TimeSyncOffsetIsNearZeroOnOneMachine) {
  kinetic::test::LocalExchange exchange(account_arguments());
  RestClient client(exchange_options(exchange));
  const auto response = client.sync_time();
  ASSERT_EQ(response.error, RestError::ok) << kinetic::exec::to_string(response.error);
  EXPECT_TRUE(client.clock_synced());
  EXPECT_GT(client.round_trip_ns(), 0);
  // Same clock on both sides: the offset is the server's millisecond truncation plus at most
  // half a round trip.
  const std::int64_t bound_ms = client.round_trip_ns() / 1'000'000 + 2;
  EXPECT_LE(std::abs(client.clock_offset_ms()), bound_ms);
}

TEST(RestClientExchange, SkewedServerClockGives10002ThenResyncsAndSucceeds) {
  kinetic::test::LocalExchange exchange(account_arguments());
  RestClientOptions options = exchange_options(exchange);
  // Below the 5000 ms skew, so the stale timestamp is outside the window by seconds, not by
  // the milliseconds that pass between two requests.
  options.recv_window_ms = 3000;
  RestClient client(options);
  ASSERT_EQ(client.sync_time().error, RestError::ok);
  ASSERT_EQ(client.time_syncs(), 1u);
  ASSERT_NE(exchange.post("/kinetic/fault", R"({"fault":"clock_skew","ms":5000})").find("true"),
            std::string::npos);

  const auto response = client.get_signed("/v5/order/realtime", "category=linear&symbol=BTCUSDT");
  EXPECT_EQ(response.error, RestError::ok) << kinetic::exec::to_string(response.error) << " "
                                           << response.ret_code << " " << response.ret_msg;
  EXPECT_EQ(client.time_syncs(), 2u);  // one resync, triggered by the 10002
  EXPECT_EQ(response.attempts, 2);
  const std::int64_t bound_ms = client.round_trip_ns() / 1'000'000 + 2;
  EXPECT_NEAR(static_cast<double>(client.clock_offset_ms()), 5000.0, static_cast<double>(bound_ms));
  EXPECT_NE(exchange.log().find("retCode=10002"), std::string::npos);
}

TEST(RestClientExchange, CreateListAndCancelAnOrder) {
  kinetic::test::LocalExchange exchange(account_arguments());
  RestClient client(exchange_options(exchange));
  const std::string price = kRestingPrice;
  const std::string link_id = "kn-0000000000000101";

  const auto created = client.post_signed("/v5/order/create", create_body(price, link_id));
  ASSERT_EQ(created.error, RestError::ok) << created.ret_code << " " << created.ret_msg;
  EXPECT_EQ(created.http_status, 200);
  EXPECT_EQ(created.ret_code, 0);
  EXPECT_EQ(created.limits.limit, 10);
  EXPECT_EQ(created.limits.remaining, 9);
  EXPECT_GT(created.limits.reset_ms, 0);
  const auto created_json = nlohmann::json::parse(created.body);
  EXPECT_EQ(created_json["result"]["orderLinkId"], link_id);

  const auto listed = client.get_signed("/v5/order/realtime", "category=linear&symbol=BTCUSDT");
  ASSERT_EQ(listed.error, RestError::ok);
  const auto listed_json = nlohmann::json::parse(listed.body);
  ASSERT_EQ(listed_json["result"]["list"].size(), 1u);
  EXPECT_EQ(listed_json["result"]["list"][0]["orderLinkId"], link_id);
  EXPECT_EQ(listed_json["result"]["list"][0]["price"], price);

  auto orders = orders_in_state(exchange);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0]["orderLinkId"], link_id);
  EXPECT_EQ(orders[0]["orderStatus"], "New");

  const auto cancelled = client.post_signed(
      "/v5/order/cancel",
      R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":")" + link_id + R"("})");
  ASSERT_EQ(cancelled.error, RestError::ok) << cancelled.ret_code << " " << cancelled.ret_msg;
  orders = orders_in_state(exchange);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0]["orderStatus"], "Cancelled");
  EXPECT_EQ(client.connects(), 1u);  // everything over one kept-alive connection
}

TEST(RestClientExchange, WrongKeyAndWrongSecretAreClearRejectionsNotRetried) {
  kinetic::test::LocalExchange exchange(account_arguments());
  {
    RestClientOptions options = exchange_options(exchange);
    options.api_key = "no-such-key";
    RestClient client(options);
    const auto response = client.get_signed("/v5/order/realtime", "category=linear");
    EXPECT_EQ(response.error, RestError::rejected);
    EXPECT_EQ(response.ret_code, 10003);
    EXPECT_FALSE(response.ret_msg.empty());
    EXPECT_EQ(response.attempts, 1);
    EXPECT_EQ(client.retries(), 0u);
  }
  {
    RestClientOptions options = exchange_options(exchange);
    options.api_secret = "wrong-secret";
    RestClient client(options);
    const auto response =
        client.post_signed("/v5/order/create", create_body(kRestingPrice, "kn-0000000000000201"));
    EXPECT_EQ(response.error, RestError::rejected);
    EXPECT_EQ(response.ret_code, 10004);
    EXPECT_TRUE(response.ret_msg.starts_with("error sign!")) << response.ret_msg;
    EXPECT_EQ(response.attempts, 1);
    EXPECT_EQ(client.retries(), 0u);
  }
  EXPECT_TRUE(orders_in_state(exchange).empty());
}

TEST(RestClientExchange, Injected10006IsRetriedWithTheSameOrderLinkIdIntoOneOrder) {
  kinetic::test::LocalExchange exchange(account_arguments());
  RestClient client(exchange_options(exchange));
  const std::string link_id = "kn-0000000000000301";
  const std::string body = create_body(kRestingPrice, link_id);
  exchange.post("/kinetic/fault",
                R"({"fault":"reject","path":"/v5/order/create","retCode":10006,"count":2})");
  ASSERT_EQ(exchange.last_status(), 200);

  const auto response = client.post_signed("/v5/order/create", body);
  EXPECT_EQ(response.error, RestError::ok) << response.ret_code << " " << response.ret_msg;
  EXPECT_EQ(response.attempts, 3);
  EXPECT_EQ(client.retries(), 2u);
  const auto orders = orders_in_state(exchange);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0]["orderLinkId"], link_id);
  // The exchange saw three creates: two refused with 10006, one accepted.
  const std::string log = exchange.log();
  std::size_t creates = 0;
  for (std::size_t at = log.find("rest POST /v5/order/create"); at != std::string::npos;
       at = log.find("rest POST /v5/order/create", at + 1))
    ++creates;
  EXPECT_EQ(creates, 3u);
}

TEST(RestClientExchange, ReconnectsAfterTheServerDropsTheConnection) {
  kinetic::test::LocalExchange exchange(account_arguments());
  RestClient client(exchange_options(exchange));
  ASSERT_EQ(client.get_signed("/v5/position/list", "category=linear&symbol=BTCUSDT").error,
            RestError::ok);
  ASSERT_EQ(client.connects(), 1u);
  exchange.post("/kinetic/fault", R"({"fault":"drop_connections"})");
  ASSERT_EQ(exchange.last_status(), 200);

  const auto response = client.get_signed("/v5/position/list", "category=linear&symbol=BTCUSDT");
  EXPECT_EQ(response.error, RestError::ok) << kinetic::exec::to_string(response.error);
  EXPECT_EQ(client.connects(), 2u);
  // And the new connection is kept alive.
  ASSERT_EQ(client.get_public("/v5/market/time", "").error, RestError::ok);
  EXPECT_EQ(client.connects(), 2u);
}

TEST(RestClientExchange, SignedRequestsOverTlsOnOneKeptAliveConnection) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kinetic-rest-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  const std::string make_cert =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_cert.c_str()), 0) << "openssl could not make a certificate";
  std::vector<std::string> arguments = account_arguments();
  arguments.insert(arguments.end(), {"--tls-cert", cert, "--tls-key", key});
  kinetic::test::LocalExchange exchange(arguments);
  kinetic::feed::TlsClientOptions tls_options;
  tls_options.ca_file = cert;  // trust exactly the test's certificate
  auto context = kinetic::feed::TlsContext::client(tls_options);
  ASSERT_TRUE(context);

  RestClientOptions options = exchange_options(exchange);
  options.base_url = "https://127.0.0.1:" + std::to_string(exchange.port());
  options.tls = &context.value();
  RestClient client(options);
  ASSERT_EQ(
      client.get_public("/v5/market/orderbook", "category=linear&symbol=BTCUSDT&limit=1").error,
      RestError::ok);
  const auto book = nlohmann::json::parse(
      client.get_public("/v5/market/orderbook", "category=linear&symbol=BTCUSDT&limit=1").body);
  EXPECT_EQ(book["result"]["s"], "BTCUSDT");
  const std::string price = kRestingPrice;
  const std::string body = create_body(price, "kn-0000000000000701");
  const std::string query = "category=linear&symbol=BTCUSDT";
  ASSERT_EQ(client.get_signed("/v5/order/realtime", query).error, RestError::ok);  // warm-up

  RestError posted = RestError::bad_response;
  RestError listed = RestError::bad_response;
  const auto allocations = kinetic::test::count_allocations([&] {
    posted = client.post_signed("/v5/order/create", body).error;
    listed = client.get_signed("/v5/order/realtime", query).error;
  });
  EXPECT_EQ(posted, RestError::ok);
  EXPECT_EQ(listed, RestError::ok);
  EXPECT_EQ(allocations, 0u);  // OpenSSL's own malloc is not operator new (see tls_session.hpp)
  EXPECT_EQ(client.connects(), 1u);
  // The exchange serves only TLS here, so ask it through the client.
  const auto open_orders = client.get_signed("/v5/order/realtime", query);
  ASSERT_EQ(open_orders.error, RestError::ok);
  const auto list = nlohmann::json::parse(open_orders.body)["result"]["list"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["orderLinkId"], "kn-0000000000000701");
  std::filesystem::remove_all(dir);
}

std::int64_t frozen_clock_ns() noexcept {
  return 7'000'000'000;
}

TEST(RestClientExchange, LocalTokenBucketPushesBackWithoutSending) {
  kinetic::test::LocalExchange exchange(account_arguments());
  RestClientOptions options = exchange_options(exchange);
  options.bucket_clock_ns = &frozen_clock_ns;  // no refill: the test does not depend on speed
  RestClient client(options);
  const std::string price = kRestingPrice;
  for (int i = 0; i < 10; ++i) {
    char link_id[32];
    std::snprintf(link_id, sizeof link_id, "kn-%016x", 0x400U + static_cast<unsigned>(i));
    const auto response = client.post_signed("/v5/order/create", create_body(price, link_id));
    ASSERT_EQ(response.error, RestError::ok) << i << " " << response.ret_code << response.ret_msg;
  }
  const std::uint64_t sent = client.requests_sent();
  const auto refused =
      client.post_signed("/v5/order/create", create_body(price, "kn-0000000000000500"));
  EXPECT_EQ(refused.error, RestError::rate_limited_locally);
  EXPECT_EQ(refused.attempts, 0);
  EXPECT_EQ(refused.retry_at_ms, 7'000 + 100);  // one token of 10/s: 100 ms later
  EXPECT_EQ(client.requests_sent(), sent);
  EXPECT_EQ(orders_in_state(exchange).size(), 10u);
  // Other endpoints have their own buckets.
  EXPECT_EQ(client.get_signed("/v5/order/realtime", "category=linear&symbol=BTCUSDT").error,
            RestError::ok);
}

TEST(RestClientExchange, SignedGetAndPostAllocateNothingAfterWarmUp) {
  kinetic::test::LocalExchange exchange(account_arguments());
  RestClient client(exchange_options(exchange));
  const std::string price = kRestingPrice;
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    char link_id[32];
    std::snprintf(link_id, sizeof link_id, "kn-%016x", 0x600U + static_cast<unsigned>(i));
    bodies.push_back(create_body(price, link_id));
  }
  // Warm-up: connect, time sync, one of each request.
  ASSERT_EQ(client.get_signed("/v5/order/realtime", "category=linear&symbol=BTCUSDT").error,
            RestError::ok);
  ASSERT_EQ(client.post_signed("/v5/order/create", bodies[0]).error, RestError::ok);

  RestError get_error = RestError::ok;
  RestError post_error = RestError::ok;
  std::int64_t ret_codes = 0;
  const auto allocations = kinetic::test::count_allocations([&] {
    for (int i = 1; i < 4; ++i) {
      const auto got = client.get_signed("/v5/order/realtime", "category=linear&symbol=BTCUSDT");
      const auto posted =
          client.post_signed("/v5/order/create", bodies[static_cast<std::size_t>(i)]);
      if (!got.ok())
        get_error = got.error;
      if (!posted.ok())
        post_error = posted.error;
      ret_codes += got.ret_code + posted.ret_code;
    }
  });
  EXPECT_EQ(get_error, RestError::ok);
  EXPECT_EQ(post_error, RestError::ok);
  EXPECT_EQ(ret_codes, 0);
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(client.connects(), 1u);
  EXPECT_EQ(orders_in_state(exchange).size(), 4u);
}

}  // namespace
