// exchange_throughput: how many market-data messages per second kinetic-exchange sends to one
// client on loopback, received by the engine's own MarketDataSession (deframed, decoded,
// books applied), so the figure is what the latency suite can be driven with.
//
// It starts kinetic-exchange (`--market synthetic --speed max`), subscribes one connection
// to the trade, book and ticker topics of the built-in symbols, warms up, then counts
// messages, bytes and events over a fixed time. It also reports any decode error or book gap
// (there must be none) and the receive-to-event latency of the client. Optional pinning puts
// the exchange and the client on cores of their own.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/thread.hpp"
#include "kinetic/feed/market_data_session.hpp"
#include "machine_info.hpp"

extern char** environ;

namespace {

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;
};

// Starts the exchange with its stdout on a pipe and returns once it printed its
// `listening HOST:PORT` line (the port is parsed from it).
Child start_exchange(const std::string& path, const std::vector<std::string>& args, int cpu,
                     std::uint16_t& port) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  Child child;
  const int spawned =
      posix_spawn(&child.pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0)
    throw std::runtime_error("cannot start " + path);
  child.stdout_fd = pipe_fds[0];
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(cpu), &set);
    sched_setaffinity(child.pid, sizeof set, &set);
  }
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("kinetic-exchange did not print its listening line in 20 s");
    pollfd fd{child.stdout_fd, POLLIN, 0};
    if (::poll(&fd, 1, 1000) <= 0)
      continue;
    char buffer[256];
    const ssize_t n = read(child.stdout_fd, buffer, sizeof buffer);
    if (n <= 0)
      throw std::runtime_error("kinetic-exchange exited before listening");
    line.append(buffer, static_cast<std::size_t>(n));
  }
  const auto colon = line.rfind(':', line.find('\n'));
  if (line.rfind("listening ", 0) != 0 || colon == std::string::npos)
    throw std::runtime_error("unexpected first line from kinetic-exchange: " + line);
  port = static_cast<std::uint16_t>(std::stoul(line.substr(colon + 1)));
  return child;
}

void stop_exchange(Child& child) {
  if (child.pid <= 0)
    return;
  kill(child.pid, SIGTERM);
  int status = 0;
  waitpid(child.pid, &status, 0);
  close(child.stdout_fd);
  child.pid = -1;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t comma = std::min(text.find(',', begin), text.size());
    if (comma > begin)
      items.push_back(text.substr(begin, comma - begin));
    begin = comma + 1;
  }
  return items;
}

class CountingSink final : public kinetic::feed::FeedSink {};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "exchange_throughput: market-data messages per second from kinetic-exchange "
      "(--market synthetic --speed max) to one kinetic MarketDataSession on loopback."};
  std::string exchange_path;
  double seconds = 5.0;
  double warmup_seconds = 1.0;
  std::string symbols_text = "BTCUSDT,ETHUSDT,SOLUSDT";
  std::string topics_text = "publicTrade,orderbook.50,tickers";
  int exchange_cpu = -1;
  int client_cpu = -1;
  app.add_option("--exchange", exchange_path,
                 "Path of kinetic-exchange (default: ../tools/kinetic-exchange next to this "
                 "binary's directory)");
  app.add_option("--seconds", seconds, "Measured time")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup_seconds, "Time before measuring")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--symbols", symbols_text, "Comma-separated symbols to subscribe");
  app.add_option("--topics", topics_text,
                 "Comma-separated topic kinds: publicTrade, orderbook.N, tickers, kline.1");
  app.add_option("--exchange-cpu", exchange_cpu, "Pin the exchange to this core (-1: no)");
  app.add_option("--client-cpu", client_cpu, "Pin the client to this core (-1: no)");
  CLI11_PARSE(app, argc, argv);
  const std::vector<std::string> symbols = split_list(symbols_text);
  const std::vector<std::string> topic_kinds = split_list(topics_text);

  if (exchange_path.empty()) {
    const auto self = std::filesystem::read_symlink("/proc/self/exe");
    exchange_path = (self.parent_path().parent_path() / "tools" / "kinetic-exchange").string();
  }
  try {
    const kinetic::bench::MachineInfo machine = kinetic::bench::machine_info();
    std::printf("machine: %s | %s | %s | %u hardware threads\n", machine.cpu.c_str(),
                machine.kernel.c_str(), machine.compiler.c_str(), machine.hardware_threads);
    if (client_cpu >= 0 && kinetic::pin_current_thread(client_cpu))
      std::fprintf(stderr, "warning: could not pin the client to core %d\n", client_cpu);
    kinetic::Clock::calibrate();

    std::uint16_t port = 0;
    Child child = start_exchange(
        exchange_path, {"--listen", "127.0.0.1:0", "--market", "synthetic", "--speed", "max"},
        exchange_cpu, port);

    kinetic::feed::MarketDataSessionOptions options;
    options.url = "ws://127.0.0.1:" + std::to_string(port) + "/v5/public/linear";
    for (const std::string& symbol : symbols)
      for (const std::string& kind : topic_kinds)
        options.topics.push_back(kind + "." + symbol);
    kinetic::feed::SymbolTable table(64);
    kinetic::feed::MarketDataSession session(options, table);
    CountingSink sink;

    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto measure_from = start + std::chrono::duration<double>(warmup_seconds);
    const auto measure_to = measure_from + std::chrono::duration<double>(seconds);
    kinetic::feed::FeedStats at_start{};
    bool measuring = false;
    for (auto now = clock::now(); now < measure_to; now = clock::now()) {
      if (!measuring && now >= measure_from) {
        at_start = session.stats();
        measuring = true;
      }
      session.poll(kinetic::Clock::now_ns(), sink);
      if (session.state() != kinetic::feed::SessionState::streaming)
        session.wait(1);
    }
    const kinetic::feed::FeedStats end = session.stats();
    session.stop();
    stop_exchange(child);

    const double messages = static_cast<double>(end.messages - at_start.messages);
    const double bytes = static_cast<double>(end.bytes - at_start.bytes);
    const double events = static_cast<double>(end.events - at_start.events);
    const auto latency = session.latency().summary();
    std::printf("topics: %zu (%zu symbols x %zu kinds), measured %.1f s after %.1f s warm-up\n",
                options.topics.size(), symbols.size(), topic_kinds.size(), seconds, warmup_seconds);
    std::printf("messages/s: %.0f   MB/s: %.1f   events/s: %.0f   mean message: %.0f B\n",
                messages / seconds, bytes / seconds / 1e6, events / seconds,
                messages > 0 ? bytes / messages : 0.0);
    std::printf("client: connects %llu, decode errors %llu, book gaps %llu, protocol errors %llu\n",
                static_cast<unsigned long long>(end.connects),
                static_cast<unsigned long long>(end.decode_errors),
                static_cast<unsigned long long>(end.book_gaps),
                static_cast<unsigned long long>(end.protocol_errors));
    std::printf("client receive-to-event ns: p50 %llu  p99 %llu  p99.9 %llu  max %llu\n",
                static_cast<unsigned long long>(latency.p50),
                static_cast<unsigned long long>(latency.p99),
                static_cast<unsigned long long>(latency.p99_9),
                static_cast<unsigned long long>(latency.max));
    return end.decode_errors == 0 && end.book_gaps == 0 && messages > 0 ? 0 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "exchange_throughput: %s\n", error.what());
    return 2;
  }
}
