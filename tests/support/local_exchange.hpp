#pragma once
// A real kinetic-exchange process for integration tests (test support, not product code).
//
// LocalExchange spawns the binary named by KINETIC_EXCHANGE_BINARY (a compile definition of the
// tests that use it) with `--listen 127.0.0.1:0` and the caller's arguments, waits (at most
// 20 s) for the `listening 127.0.0.1:PORT` line on its stdout, and sends its stderr (the
// exchange's log) to a temporary file, log_path(), which is removed on destruction unless the
// environment variable KINETIC_KEEP_EXCHANGE_LOG is set. get/post are tiny blocking HTTP/1.1
// clients over loopback (one connection per request, `Connection: close`). The destructor
// sends SIGTERM and reaps the process (SIGKILL after 10 s).
//
// Start-up failures throw std::runtime_error with the log's content. One object per test;
// not thread-safe.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace kinetic::test {

/// One HTTP reply: the status code (0 if none could be read) and the body (de-chunked).
struct HttpReply {
  int status = 0;
  std::string body;
  std::string headers;  ///< the raw header block (status line excluded), for debugging
};

/// A kinetic-exchange child process on 127.0.0.1 (an ephemeral port).
class LocalExchange {
 public:
#ifdef KINETIC_EXCHANGE_BINARY
  explicit LocalExchange(const std::vector<std::string>& args = {})
      : LocalExchange(KINETIC_EXCHANGE_BINARY, args) {}
#endif

  LocalExchange(const std::string& binary, const std::vector<std::string>& args) {
    char log_template[] = "/tmp/kinetic-exchange-XXXXXX.log";
    const int log_fd = ::mkstemps(log_template, 4);
    if (log_fd < 0)
      throw std::runtime_error("LocalExchange: mkstemps failed");
    log_path_ = log_template;

    int out_fds[2];
    if (::pipe2(out_fds, O_CLOEXEC) != 0) {
      ::close(log_fd);
      throw std::runtime_error("LocalExchange: pipe failed");
    }
    std::vector<std::string> full = {binary, "--listen", "127.0.0.1:0"};
    full.insert(full.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : full)
      argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    const int spawned =
        ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_fds[1]);
    ::close(log_fd);
    out_fd_ = out_fds[0];
    if (spawned != 0) {
      pid_ = -1;
      throw std::runtime_error("LocalExchange: posix_spawn " + binary +
                               " failed: " + std::strerror(spawned));
    }
    try {
      wait_for_listening_line();
    } catch (...) {
      stop();
      throw;
    }
  }

  LocalExchange(const LocalExchange&) = delete;
  LocalExchange& operator=(const LocalExchange&) = delete;

  ~LocalExchange() {
    stop();
    if (std::getenv("KINETIC_KEEP_EXCHANGE_LOG") == nullptr && !log_path_.empty())
      ::unlink(log_path_.c_str());
  }

  [[nodiscard]] std::uint16_t port() const {
    return port_;
  }
  [[nodiscard]] int pid() const {
    return pid_;
  }
  [[nodiscard]] std::string http_url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  [[nodiscard]] std::string ws_url(std::string_view path) const {
    return "ws://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  /// The exchange's log file (its stderr).
  [[nodiscard]] const std::string& log_path() const {
    return log_path_;
  }
  /// The log's content so far.
  [[nodiscard]] std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  /// GET `target` (path and query); returns the body. The status is in last_status().
  std::string get(std::string_view target) {
    return keep_status(request("GET", target, {}));
  }
  /// POST `body` (as application/json) to `target`; returns the reply's body.
  std::string post(std::string_view target, std::string_view body) {
    return keep_status(request("POST", target, body));
  }
  [[nodiscard]] int last_status() const {
    return last_status_;
  }

  /// One request on a fresh connection; `extra_headers` are full lines, each ending in CRLF.
  [[nodiscard]] HttpReply request(std::string_view method, std::string_view target,
                                  std::string_view body,
                                  std::string_view extra_headers = {}) const {
    const int fd = connect_loopback();
    std::string out;
    out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    out.append("Host: 127.0.0.1:").append(std::to_string(port_)).append("\r\n");
    out.append("Connection: close\r\n");
    if (method != "GET" || !body.empty()) {
      out.append("Content-Type: application/json\r\n");
      out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    out.append(extra_headers);
    out.append("\r\n");
    out.append(body);
    std::size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        if (n < 0 && errno == EINTR)
          continue;
        ::close(fd);
        throw std::runtime_error("LocalExchange: send failed");
      }
      sent += static_cast<std::size_t>(n);
    }
    std::string in;
    HttpReply reply;
    char chunk[16384];
    for (;;) {
      if (parse_reply(in, reply))
        break;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        // EOF: a reply without Content-Length ends here.
        parse_reply(in, reply, /*at_eof=*/true);
        break;
      }
      in.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return reply;
  }

 private:
  std::string keep_status(HttpReply reply) {
    last_status_ = reply.status;
    return std::move(reply.body);
  }

  void wait_for_listening_line() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::string line;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        throw std::runtime_error("LocalExchange: no `listening` line within 20 s; log " +
                                 log_path_ + ":\n" + log());
      pollfd p{out_fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready <= 0)
        continue;
      char c = 0;
      const ssize_t n = ::read(out_fd_, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        throw std::runtime_error("LocalExchange: the exchange exited before listening; log " +
                                 log_path_ + ":\n" + log());
      if (c != '\n') {
        line.push_back(c);
        continue;
      }
      constexpr std::string_view kPrefix = "listening 127.0.0.1:";
      if (line.rfind(kPrefix, 0) == 0) {
        const unsigned long value = std::strtoul(line.c_str() + kPrefix.size(), nullptr, 10);
        if (value == 0 || value > 65535)
          throw std::runtime_error("LocalExchange: bad listening line '" + line + "'");
        port_ = static_cast<std::uint16_t>(value);
        return;
      }
      line.clear();
    }
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_ || (done < 0 && errno != EINTR))
          break;
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      pid_ = -1;
    }
    if (out_fd_ >= 0) {
      ::close(out_fd_);
      out_fd_ = -1;
    }
  }

  [[nodiscard]] int connect_loopback() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      throw std::runtime_error("LocalExchange: socket failed");
    timeval timeout{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    if (connected != 0 && errno == EINTR) {
      // A signal interrupted the wait, not the connect, which goes on: wait for its outcome.
      pollfd p{fd, POLLOUT, 0};
      while (::poll(&p, 1, 20000) < 0 && errno == EINTR) {
      }
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      connected = (p.revents & POLLOUT) != 0 && error == 0 ? 0 : -1;
      errno = error != 0 ? error : ETIMEDOUT;
    }
    if (connected != 0) {
      ::close(fd);
      throw std::runtime_error("LocalExchange: connect to 127.0.0.1:" + std::to_string(port_) +
                               " failed: " + std::strerror(errno));
    }
    return fd;
  }

  static std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }

  /// True once `in` holds a whole reply (filled into `reply`); at EOF, takes what is there.
  static bool parse_reply(const std::string& in, HttpReply& reply, bool at_eof = false) {
    const std::size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos)
      return false;
    const std::size_t line_end = in.find("\r\n");
    const std::string status_line = in.substr(0, line_end);
    const std::size_t space = status_line.find(' ');
    reply.status = space == std::string::npos ? 0 : std::atoi(status_line.c_str() + space + 1);
    reply.headers = in.substr(line_end + 2, head_end - line_end);
    const std::string headers = lower(reply.headers);
    const std::size_t body_start = head_end + 4;
    const std::size_t length_at = headers.find("content-length:");
    if (length_at != std::string::npos) {
      const std::size_t length = std::strtoul(headers.c_str() + length_at + 15, nullptr, 10);
      if (in.size() - body_start < length && !at_eof)
        return false;
      reply.body = in.substr(body_start, length);
      return true;
    }
    if (headers.find("transfer-encoding: chunked") != std::string::npos) {
      std::string body;
      std::size_t at = body_start;
      for (;;) {
        const std::size_t size_end = in.find("\r\n", at);
        if (size_end == std::string::npos)
          return at_eof;
        const std::size_t size = std::strtoul(in.c_str() + at, nullptr, 16);
        if (size == 0) {
          reply.body = std::move(body);
          return true;
        }
        if (in.size() < size_end + 2 + size + 2)
          return at_eof;
        body.append(in, size_end + 2, size);
        at = size_end + 2 + size + 2;
      }
    }
    if (!at_eof)
      return false;
    reply.body = in.substr(body_start);
    return true;
  }

  int pid_ = -1;
  int out_fd_ = -1;
  std::uint16_t port_ = 0;
  int last_status_ = 0;
  std::string log_path_;
};

}  // namespace kinetic::test
