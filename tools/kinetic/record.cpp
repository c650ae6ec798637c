#include "record.hpp"

#include <csignal>
#include <cstdio>
#include <ctime>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/config.hpp"
#include "kinetic/feed/feed_config.hpp"
#include "kinetic/feed/market_data_session.hpp"
#include "kinetic/feed/recorder.hpp"

namespace kinetic::tools {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ','))
    if (!part.empty())
      parts.push_back(part);
  return parts;
}

std::int64_t wall_clock_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Writes what the session receives into the recorder, stamped on the wall clock (the
/// session's own clock is monotonic; a capture's times should mean something on replay).
class RecordingSink : public feed::FeedSink {
 public:
  RecordingSink(feed::Recorder& recorder, std::string url, std::int64_t wall_minus_monotonic)
      : recorder_(recorder), url_(std::move(url)), offset_(wall_minus_monotonic) {}
  void on_message(std::string_view text, TimestampNs recv_ts) override {
    (void)recorder_.record(feed::RecordKind::text_message, recv_ts + offset_, text);
    ++messages_;
  }
  void on_connection(bool up, std::string_view detail, TimestampNs now) override {
    if (up)
      (void)recorder_.record(feed::RecordKind::connection_opened, now + offset_, url_);
    else
      (void)recorder_.record(feed::RecordKind::connection_closed, now + offset_, detail);
    if (!quiet)
      std::fprintf(stderr, "record: %s: %.*s\n", up ? "connected" : "disconnected",
                   static_cast<int>(detail.size()), detail.data());
  }
  [[nodiscard]] std::uint64_t messages() const { return messages_; }
  bool quiet = false;

 private:
  feed::Recorder& recorder_;
  std::string url_;
  std::int64_t offset_;
  std::uint64_t messages_ = 0;
};

}  // namespace

CLI::App* add_record_command(CLI::App& app, RecordOptions& options) {
  CLI::App* command = app.add_subcommand(
      "record",
      "Connect to a Bybit v5 public WebSocket stream (or a local kinetic-exchange), subscribe, "
      "and write every received message with its local receive time (ns, wall clock) into a "
      "kinetic capture file. Reconnects with backoff and resubscribes; connection changes are "
      "recorded too. A crash loses at most the unflushed tail, which readers detect and "
      "ignore. Stops after --duration, --max-messages, or on SIGINT/SIGTERM.");
  command
      ->add_option("--config", options.config_file,
                   "TOML configuration: [exchange] ws_public_url, symbols, ca_file and [feed] "
                   "(topics, socket, timers); the flags below override it")
      ->check(CLI::ExistingFile);
  command->add_option("--url", options.url,
                      "Stream URL, ws:// or wss:// (default: [exchange] ws_public_url, "
                      "wss://stream.bybit.com/v5/public/linear)");
  command->add_option("--symbols", options.symbols,
                      "Comma-separated symbols (default: [exchange] symbols, BTCUSDT)");
  command->add_option(
      "--topics", options.topics,
      "Comma-separated topics for every symbol: trade, book.N (N = 1, 50, 200, 500, 1000), "
      "ticker, kline.I (I = 1, 3, 5, 15, 30, 60, 120, 240, 360, 720, D, W, M) (default: "
      "[feed] topics, trade,book.50,ticker)");
  command->add_option("--out", options.out, "Capture file to write")->required();
  command->add_flag("--append", options.append,
                    "Append to an existing capture (default: refuse to overwrite)");
  command
      ->add_option("--duration", options.duration_s,
                   "Seconds to record (default: until SIGINT/SIGTERM)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--max-messages", options.max_messages,
                      "Stop after this many messages (default: no limit)");
  command
      ->add_option("--ca-file", options.ca_file,
                   "PEM file of trusted CAs for wss:// (a local exchange's certificate); "
                   "default: [exchange] ca_file, else the system trust store")
      ->check(CLI::ExistingFile);
  command->add_flag("--quiet", options.quiet, "No progress lines on stderr");
  return command;
}

int run_record(const RecordOptions& options) {
  const Config config = options.config_file.empty()
                            ? load_config_from_string("", "defaults", process_environment())
                            : load_config(options.config_file, process_environment());
  feed::MarketDataSessionOptions session_options = feed::market_data_options(config);
  if (!options.url.empty())
    session_options.url = options.url;
  // Topics: every short form for every symbol, checked before anything connects.
  if (!options.symbols.empty() || !options.topics.empty()) {
    std::vector<std::string> symbols_list =
        options.symbols.empty() ? config.exchange.symbols : split(options.symbols);
    std::vector<std::string> short_forms =
        options.topics.empty() ? config.feed.topics : split(options.topics);
    session_options.topics.clear();
    for (const std::string& symbol : symbols_list) {
      for (const std::string& short_form : short_forms) {
        char topic[64];
        const auto n = feed::make_topic(std::span(topic), short_form, symbol);
        if (!n) {
          std::fprintf(stderr, "kinetic record: bad topic '%s' for symbol '%s' (%s)\n",
                       short_form.c_str(), symbol.c_str(),
                       n.error() == feed::EncodeError::bad_symbol ? "bad symbol" : "unknown topic");
          return 2;
        }
        session_options.topics.emplace_back(topic, n.value());
      }
    }
  }
  if (session_options.topics.empty()) {
    std::fprintf(stderr, "kinetic record: no symbols or no topics\n");
    return 2;
  }
  const std::vector<std::string>& topics = session_options.topics;
  const std::string& url = session_options.url;

  feed::SymbolTable symbols(256);
  std::optional<feed::TlsContext> tls;
  if (url.rfind("wss://", 0) == 0) {
    feed::TlsClientOptions tls_options;
    tls_options.ca_file = options.ca_file.empty() ? config.exchange.ca_file : options.ca_file;
    std::string why;
    auto context = feed::TlsContext::client(tls_options, &why);
    if (!context) {
      std::fprintf(stderr, "kinetic record: TLS set-up failed: %s\n", why.c_str());
      return 1;
    }
    tls.emplace(std::move(context.value()));
    session_options.tls = &*tls;
  }
  Clock::calibrate();
  feed::MarketDataSession session(session_options, symbols);  // throws on a bad URL

  feed::RecorderOptions recorder_options;
  recorder_options.writer.mode = options.append ? feed::CaptureWriterOptions::Mode::append_or_create
                                                : feed::CaptureWriterOptions::Mode::create;
  std::string source = "kinetic record " + url + " topics";
  for (const std::string& topic : topics)
    source += " " + topic;
  recorder_options.writer.source = source;
  recorder_options.writer.sync_interval_ms = 1000;  // at most a second lost to a power cut
  feed::Recorder recorder(options.out, recorder_options);

  const std::int64_t offset = wall_clock_ns() - Clock::now_ns();
  RecordingSink sink(recorder, url, offset);
  sink.quiet = options.quiet;

  g_stop = 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const TimestampNs start = Clock::now_ns();
  const TimestampNs end = options.duration_s > 0
                              ? start + static_cast<TimestampNs>(options.duration_s * 1e9)
                              : std::numeric_limits<TimestampNs>::max();
  TimestampNs next_progress = start + 1'000'000'000;
  while (g_stop == 0) {
    const TimestampNs now = Clock::now_ns();
    if (now >= end || (options.max_messages > 0 && sink.messages() >= options.max_messages))
      break;
    session.poll(now, sink);
    session.wait(10);
    if (!options.quiet && now >= next_progress) {
      const feed::FeedStats& s = session.stats();
      const double seconds = static_cast<double>(now - start) / 1e9;
      std::fprintf(stderr,
                   "record: %.0f s, %llu messages (%.0f/s), %.1f MB, %llu decode errors, "
                   "%llu reconnects, %llu not recorded\n",
                   seconds, static_cast<unsigned long long>(s.messages),
                   static_cast<double>(s.messages) / seconds, static_cast<double>(s.bytes) / 1e6,
                   static_cast<unsigned long long>(s.decode_errors),
                   static_cast<unsigned long long>(s.connects > 0 ? s.connects - 1 : 0),
                   static_cast<unsigned long long>(recorder.dropped()));
      next_progress = now + 1'000'000'000;
    }
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  session.stop();
  (void)recorder.record(feed::RecordKind::connection_closed, Clock::now_ns() + offset,
                        "recording stopped");
  recorder.stop();  // drains, syncs and closes; throws on a write error
  const feed::FeedStats& s = session.stats();
  std::printf(
      "recorded %llu messages (%llu bytes) into %s: %llu records written, %llu not recorded, "
      "%llu connections, %llu decode errors\n",
      static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.bytes),
      options.out.c_str(), static_cast<unsigned long long>(recorder.written()),
      static_cast<unsigned long long>(recorder.dropped()),
      static_cast<unsigned long long>(s.connects),
      static_cast<unsigned long long>(s.decode_errors));
  if (s.messages > 0) {
    std::printf("receive-to-event latency per message (read to decoded and applied, TSC):\n");
    std::fputs(session.latency().to_text("ns").c_str(), stdout);
  }
  if (s.connects == 0) {
    std::fprintf(stderr, "kinetic record: never connected: %.*s\n",
                 static_cast<int>(session.last_error().size()), session.last_error().data());
    return 1;
  }
  return 0;
}

}  // namespace kinetic::tools
