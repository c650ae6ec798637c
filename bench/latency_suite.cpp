// Latency suite: the one-way cross-thread hop of the hot path's ring, with both threads
// pinned, against a mutex-guarded std::deque measured in the same run as the baseline.
//
// Method: ping-pong. The initiator stamps a message with the TSC, sends it through queue A;
// the echoer sends it straight back through queue B; the initiator records half the round
// trip. Only one message is in flight, so the figure is the hop itself, not queueing. The
// first `warmup` round trips are not recorded.
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/latency_histogram.hpp"
#include "kinetic/core/spsc_ring.hpp"
#include "kinetic/core/thread.hpp"
#include "kinetic/core/types.hpp"
#include "machine_info.hpp"

namespace {

using kinetic::Clock;
using kinetic::LatencyHistogram;
using kinetic::MarketEvent;

// The lock-free ring under test.
struct RingChannel {
  kinetic::SpscRing<MarketEvent, 1024> ring;
  void send(const MarketEvent& e) noexcept {
    while (ring.try_push(e) != kinetic::PushResult::ok)
      kinetic::cpu_relax();
  }
  void receive(MarketEvent& e) noexcept {
    while (!ring.try_pop(e))
      kinetic::cpu_relax();
  }
};

// Baseline: std::deque under a std::mutex, polled the same way.
struct MutexDequeChannel {
  std::mutex mutex;
  std::deque<MarketEvent> queue;
  void send(const MarketEvent& e) {
    const std::lock_guard lock(mutex);
    queue.push_back(e);
  }
  void receive(MarketEvent& e) {
    for (;;) {
      {
        const std::lock_guard lock(mutex);
        if (!queue.empty()) {
          e = queue.front();
          queue.pop_front();
          return;
        }
      }
      kinetic::cpu_relax();
    }
  }
};

void pin_or_warn(int core, const char* who) {
  if (core < 0)
    return;
  if (const std::error_code ec = kinetic::pin_current_thread(core)) {
    std::fprintf(stderr, "kinetic_latency: cannot pin %s to core %d: %s (running unpinned)\n", who,
                 core, ec.message().c_str());
  }
}

template <class Channel>
std::unique_ptr<LatencyHistogram> measure(std::uint64_t samples, std::uint64_t warmup,
                                          int initiator_core, int echo_core) {
  auto to_echo = std::make_unique<Channel>();
  auto back = std::make_unique<Channel>();
  auto histogram = std::make_unique<LatencyHistogram>();
  const std::uint64_t total = samples + warmup;

  std::thread echo([&] {
    pin_or_warn(echo_core, "echo thread");
    (void)kinetic::name_current_thread("kin-echo");
    MarketEvent e{};
    for (std::uint64_t i = 0; i < total; ++i) {
      to_echo->receive(e);
      back->send(e);
    }
  });
  pin_or_warn(initiator_core, "initiator thread");
  MarketEvent e{};
  for (std::uint64_t i = 0; i < total; ++i) {
    const std::uint64_t start = Clock::ticks();
    e.recv_ts = static_cast<kinetic::TimestampNs>(start);
    to_echo->send(e);
    back->receive(e);
    const std::uint64_t round_trip = Clock::ticks() - static_cast<std::uint64_t>(e.recv_ts);
    if (i >= warmup)
      histogram->record(static_cast<std::uint64_t>(Clock::ticks_to_ns(round_trip)) / 2);
  }
  echo.join();
  return histogram;
}

void print_row(const char* name, const LatencyHistogram& h) {
  const auto s = h.summary();
  std::printf("%-22s %10llu %8llu %8llu %8llu %8llu %10llu\n", name,
              static_cast<unsigned long long>(s.count), static_cast<unsigned long long>(s.p50),
              static_cast<unsigned long long>(s.p99), static_cast<unsigned long long>(s.p99_9),
              static_cast<unsigned long long>(s.p99_99), static_cast<unsigned long long>(s.max));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kinetic_latency: one-way cross-thread hop of the SPSC ring versus a mutex-guarded "
      "std::deque, with pinned threads, in nanoseconds (half of a ping-pong round trip)."};
  std::uint64_t samples = 1'000'000;
  std::uint64_t warmup = 10'000;
  int initiator_core = 0;
  int echo_core = 1;
  std::string json_file;
  app.add_option("--samples", samples, "Round trips recorded per queue")
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "Round trips run first and not recorded");
  app.add_option("--initiator-core", initiator_core, "Core of the timing thread (-1: unpinned)");
  app.add_option("--echo-core", echo_core, "Core of the echo thread (-1: unpinned)");
  app.add_option("--json", json_file, "Also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  Clock::calibrate(50);
  const auto machine = kinetic::bench::machine_info();
  std::printf("cpu: %s (%u hardware threads)\nkernel: %s\ncompiler: %s\nclock: %s, %.0f Hz\n",
              machine.cpu.c_str(), machine.hardware_threads, machine.kernel.c_str(),
              machine.compiler.c_str(),
              Clock::source() == Clock::Source::tsc ? "tsc" : "clock_monotonic", Clock::tsc_hz());
  std::printf("cores: initiator %d, echo %d; %llu samples after %llu warm-up\n\n", initiator_core,
              echo_core, static_cast<unsigned long long>(samples),
              static_cast<unsigned long long>(warmup));

  const auto ring = measure<RingChannel>(samples, warmup, initiator_core, echo_core);
  const auto mutex = measure<MutexDequeChannel>(samples, warmup, initiator_core, echo_core);

  std::printf("%-22s %10s %8s %8s %8s %8s %10s\n", "one-way hop (ns)", "count", "p50", "p99",
              "p99.9", "p99.99", "max");
  print_row("spsc_ring", *ring);
  print_row("mutex+std::deque", *mutex);

  if (!json_file.empty()) {
    std::FILE* out = std::fopen(json_file.c_str(), "w");
    if (out == nullptr) {
      std::perror(json_file.c_str());
      return 1;
    }
    std::fprintf(out,
                 "{\"cpu\":\"%s\",\"kernel\":\"%s\",\"compiler\":\"%s\",\"initiator_core\":%d,"
                 "\"echo_core\":%d,\"spsc_ring\":%s,\"mutex_deque\":%s}\n",
                 machine.cpu.c_str(), machine.kernel.c_str(), machine.compiler.c_str(),
                 initiator_core, echo_core, ring->to_json().c_str(), mutex->to_json().c_str());
    std::fclose(out);
  }
  return 0;
}
