#pragma once
// The independent WebSocket peer of the feed's tests (tests/feed/bybit_ws_peer.py, on
// Debian's python3-websockets) as a child process: started with its arguments, its port read
// from its first line, the rest of its log returned once it has exited.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace kinetic::test {

inline constexpr const char* kPython = "/usr/bin/python3";

inline bool peer_available() {
  return std::system("/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1") == 0;
}

/// The peer process: started with its arguments, its stdout read line by line.
class Peer {
 public:
  explicit Peer(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {kPython, KINETIC_SOURCE_DIR "/tests/feed/bybit_ws_peer.py"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0)
      throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    if (posix_spawn(&pid_, kPython, &actions, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("posix_spawn python3");
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
    std::string line;
    while (read_line(line)) {
      if (line.rfind("PORT ", 0) == 0) {
        port_ = std::stoi(line.substr(5));
        break;
      }
    }
  }
  ~Peer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr)
      std::fclose(out_);
  }
  [[nodiscard]] int port() const { return port_; }
  /// Everything the peer printed after its port, once it has exited.
  std::vector<std::string> finish() {
    std::vector<std::string> lines;
    std::string line;
    while (read_line(line))
      lines.push_back(line);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return lines;
  }

 private:
  bool read_line(std::string& line) {
    char buffer[4096];
    if (std::fgets(buffer, sizeof buffer, out_) == nullptr)
      return false;
    line = buffer;
    if (!line.empty() && line.back() == '\n')
      line.pop_back();
    return true;
  }
  pid_t pid_ = -1;
  std::FILE* out_ = nullptr;
  int port_ = 0;
};

}  // namespace kinetic::test
