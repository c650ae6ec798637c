// kinetic: the command-line front end. One binary, one subcommand per job.
//
// Start-up and tool code: exceptions are allowed here and turned into a one-line error and
// a non-zero exit status.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <string>

#include "capture.hpp"
#include "capture_dump.hpp"
#include "kinetic/core/config.hpp"
#include "kinetic/exec/demo_engine.hpp"
#include "quant.hpp"
#include "record.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

std::string fmt(kinetic::Amount value) {
  char buf[kinetic::Amount::kMaxFormattedLength];
  return {buf, value.format_fixed(buf, 4)};
}
template <class Tag>
std::string fmt(kinetic::Decimal<Tag> value) {
  char buf[kinetic::Decimal<Tag>::kMaxFormattedLength];
  return {buf, value.format(buf)};
}

struct DemoOptions {
  std::string config_file;
  std::optional<std::uint64_t> seed;
  std::optional<std::int64_t> ticks;
  std::string layout;  // empty: [threads] layout
  bool json = false;
};

kinetic::Config load(const std::string& config_file) {
  const kinetic::Environment env = kinetic::process_environment();
  if (config_file.empty())
    return kinetic::load_config_from_string("", "defaults", env);
  return kinetic::load_config(config_file, env);
}

int run_demo(const DemoOptions& options) {
  const kinetic::Config config = load(options.config_file);
  kinetic::exec::DemoParams params = kinetic::exec::demo_params(config);
  if (options.seed)
    params.market.seed = *options.seed;
  if (options.ticks) {
    if (*options.ticks <= 0)
      throw CLI::ValidationError("--ticks", "must be positive");
    params.ticks = static_cast<std::uint64_t>(*options.ticks);
  }

  const bool pipelined = options.layout.empty()
                             ? config.threads.layout == kinetic::ThreadsConfig::Layout::pipelined
                             : options.layout == "pipelined";

  kinetic::exec::DemoEngine engine(params);
  const auto started = std::chrono::steady_clock::now();
  if (pipelined) {
    const kinetic::exec::PipelineLayout layout{config.threads.feed_core,
                                               config.threads.strategy_core, config.threads.wait};
    const std::string problems = engine.run_pipelined(layout);
    if (!problems.empty())
      std::fprintf(stderr, "kinetic demo: %s", problems.c_str());
  } else {
    // Progress for long runs, from the loop's own count: one line about every 5 million ticks.
    constexpr std::uint64_t kProgressEvery = 5'000'000;
    while (engine.step()) {
      if (engine.ticks_done() % kProgressEvery == 0 && engine.ticks_done() != 0 &&
          params.ticks > kProgressEvery) {
        std::fprintf(stderr, "kinetic demo: %llu / %llu ticks\n",
                     static_cast<unsigned long long>(engine.ticks_done()),
                     static_cast<unsigned long long>(params.ticks));
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const kinetic::exec::DemoSummary s = engine.summary();
  const kinetic::LatencyHistogram& latency = engine.latency();

  if (options.json) {
    std::printf(
        "{\"layout\":\"%s\",\"seed\":%llu,\"ticks\":%llu,\"warmup_ticks\":%llu,\"signals\":%llu,"
        "\"risk_rejected\":%llu,\"kill_state\":\"%s\",\"trades\":%llu,"
        "\"rejected\":%llu,\"pnl\":\"%s\",\"fees\":\"%s\",\"position\":\"%s\",\"last_price\":\"%"
        "s\","
        "\"regime_ticks\":{\"trending\":%llu,\"mean_reverting\":%llu,\"jumpy\":%llu},"
        "\"wall_seconds\":%.3f,\"latency_ns\":%s}\n",
        pipelined ? "pipelined" : "fused", static_cast<unsigned long long>(params.market.seed),
        static_cast<unsigned long long>(s.ticks),
        static_cast<unsigned long long>(params.warmup_ticks),
        static_cast<unsigned long long>(s.signals),
        static_cast<unsigned long long>(s.risk_rejected),
        std::string(kinetic::risk::to_string(s.trading_state)).c_str(),
        static_cast<unsigned long long>(s.trades), static_cast<unsigned long long>(s.rejected),
        fmt(s.pnl).c_str(), fmt(s.fees).c_str(), fmt(s.final_position).c_str(),
        fmt(s.last_price).c_str(), static_cast<unsigned long long>(s.ticks_per_regime[0]),
        static_cast<unsigned long long>(s.ticks_per_regime[1]),
        static_cast<unsigned long long>(s.ticks_per_regime[2]), seconds, latency.to_json().c_str());
    return 0;
  }
  std::printf(
      "kinetic demo: synthetic %s market, %s layout, seed %llu, %llu ticks after %llu warm-up\n",
      "BTCUSDT", pipelined ? "pipelined" : "fused",
      static_cast<unsigned long long>(params.market.seed), static_cast<unsigned long long>(s.ticks),
      static_cast<unsigned long long>(params.warmup_ticks));
  std::printf("  regimes    trending %llu, mean-reverting %llu, jumpy %llu ticks\n",
              static_cast<unsigned long long>(s.ticks_per_regime[0]),
              static_cast<unsigned long long>(s.ticks_per_regime[1]),
              static_cast<unsigned long long>(s.ticks_per_regime[2]));
  std::printf(
      "  orders     %llu sent; entries refused: %llu by the risk manager, %llu by the "
      "drift filter; %llu ticks flagged by data validation\n",
      static_cast<unsigned long long>(s.signals), static_cast<unsigned long long>(s.risk_rejected),
      static_cast<unsigned long long>(s.vetoed), static_cast<unsigned long long>(s.flagged_ticks));
  std::printf("  exits      %llu at the stop, %llu at the target, the rest on the signal\n",
              static_cast<unsigned long long>(s.stops), static_cast<unsigned long long>(s.targets));
  std::string refusals;
  for (std::size_t i = 0; i < s.rejections.size(); ++i) {
    if (s.rejections[i] == 0)
      continue;
    refusals += refusals.empty() ? "" : ", ";
    refusals += std::string(kinetic::risk::to_string(static_cast<kinetic::risk::RejectReason>(i)));
    refusals += " " + std::to_string(s.rejections[i]);
  }
  std::printf("  refusals   %s\n", refusals.empty() ? "none" : refusals.c_str());
  const kinetic::risk::KillSwitch& kill = engine.risk_manager().kill_switch();
  std::printf("  kill       %s", std::string(kinetic::risk::to_string(s.trading_state)).c_str());
  const auto transitions = kill.transitions();
  for (std::size_t i = 0; i < transitions.size(); ++i) {
    const kinetic::risk::KillTransition& t = transitions[i];
    std::printf("%s%s → %s (%s %.4g > %.4g at +%.1f s)", i == 0 ? ": " : "; ",
                std::string(kinetic::risk::to_string(t.from)).c_str(),
                std::string(kinetic::risk::to_string(t.to)).c_str(),
                std::string(kinetic::risk::to_string(t.trigger)).c_str(), t.value, t.threshold,
                static_cast<double>(t.time - params.market.start_exch_ts) * 1e-9);
  }
  std::printf("\n");
  std::printf("  trades     %llu filled, %llu refused\n", static_cast<unsigned long long>(s.trades),
              static_cast<unsigned long long>(s.rejected));
  std::printf("  position   %s at last price %s\n", fmt(s.final_position).c_str(),
              fmt(s.last_price).c_str());
  std::printf("  fees       %s USDT\n", fmt(s.fees).c_str());
  std::printf("  P&L        %s USDT (marked to the last price, after fees)\n", fmt(s.pnl).c_str());
  std::printf("  wall time  %.3f s (%.0f ticks/s, including generation of the market)\n", seconds,
              static_cast<double>(s.ticks + params.warmup_ticks) / seconds);
  std::printf("  per-tick latency (%s; TSC-timed):\n",
              pipelined ? "feed stamp to decision: ring hop, calculus engine, risk manager, venue"
                        : "calculus engine, risk manager, venue");
  std::fputs(latency.to_text("ns").c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kinetic: a low-latency trading engine for Bybit v5 built on price velocity and "
      "acceleration.\nRun a subcommand with --help for its options."};
  app.set_version_flag("--version", std::string("kinetic ") + kVersion);
  app.require_subcommand(1);

  DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo",
      "Run the engine end to end on a seeded synthetic market (trending, mean-reverting and "
      "jumpy regimes): every tick goes through the calculus engine (derivatives, Kalman "
      "filters, 6-case signals, coordinator, drift filter) and a simple trading rule into a "
      "simulated fill. "
      "Prints ticks, signals, trades, P&L and per-tick latency percentiles.");
  demo_cmd->add_option("--seed", demo.seed,
                       "Seed of the synthetic market (default: [demo] seed, 42)");
  demo_cmd
      ->add_option("--ticks", demo.ticks,
                   "Ticks to process after warm-up (default: [demo] ticks, 200000)")
      ->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
  demo_cmd
      ->add_option("--config", demo.config_file,
                   "TOML configuration file (see kinetic.example.toml)")
      ->check(CLI::ExistingFile);
  demo_cmd
      ->add_option("--layout", demo.layout,
                   "fused: one thread runs market, strategy and venue; pipelined: the market "
                   "runs on a feed thread joined by an SPSC ring, cores from [threads] "
                   "(default: [threads] layout)")
      ->check(CLI::IsMember({"fused", "pipelined"}));
  demo_cmd->add_flag("--json", demo.json, "Print the summary as one JSON object");

  CLI::App* config_cmd = app.add_subcommand("config", "Show or check the configuration");
  config_cmd->require_subcommand(1);
  config_cmd
      ->add_subcommand("example", "Print the documented example file (every key with its default)")
      ->callback([] { std::fputs(kinetic::example_toml().c_str(), stdout); });
  std::string check_file;
  CLI::App* check_cmd = config_cmd->add_subcommand(
      "check",
      "Validate a configuration file with the environment overrides applied; print the result");
  check_cmd->add_option("file", check_file, "TOML file")->required();
  check_cmd->callback([&] {
    const kinetic::Config config = kinetic::load_config(check_file, kinetic::process_environment());
    std::fputs(kinetic::to_toml(config).c_str(), stdout);
  });
  config_cmd->add_subcommand("keys", "List every key with its environment variable, type and range")
      ->callback([] {
        for (const kinetic::ConfigKeyInfo& key : kinetic::config_schema()) {
          std::printf("%.*s.%.*s\t%s\t%.*s\t%s\t%s\n", static_cast<int>(key.section.size()),
                      key.section.data(), static_cast<int>(key.key.size()), key.key.data(),
                      key.env_var.c_str(), static_cast<int>(key.type.size()), key.type.data(),
                      key.default_value.c_str(), key.range.c_str());
        }
      });

  kinetic::quant::QuantOptions quant;
  CLI::App* quant_cmd = kinetic::quant::add_quant_command(app, quant);
  kinetic::tools::CaptureTradesOptions capture_trades;
  kinetic::tools::CaptureInstrumentsOptions capture_instruments;
  const kinetic::tools::CaptureCommands capture_cmds =
      kinetic::tools::add_capture_commands(app, capture_trades, capture_instruments);
  kinetic::tools::CaptureDumpOptions capture_dump;
  kinetic::tools::CaptureBookOptions capture_book;
  const kinetic::tools::CaptureDumpCommands dump_cmds = kinetic::tools::add_capture_dump_commands(
      *app.get_subcommand("capture"), capture_dump, capture_book);
  kinetic::tools::RecordOptions record;
  CLI::App* record_cmd = kinetic::tools::add_record_command(app, record);

  try {
    app.parse(argc, argv);
    if (demo_cmd->parsed())
      return run_demo(demo);
    if (quant_cmd->parsed())
      return kinetic::quant::run_quant_command(quant);
    if (capture_cmds.trades->parsed())
      return kinetic::tools::run_capture_trades(capture_trades);
    if (capture_cmds.instruments->parsed())
      return kinetic::tools::run_capture_instruments(capture_instruments);
    if (dump_cmds.dump->parsed())
      return kinetic::tools::run_capture_dump(capture_dump);
    if (dump_cmds.book->parsed())
      return kinetic::tools::run_capture_book(capture_book);
    if (record_cmd->parsed())
      return kinetic::tools::run_record(record);
    return 0;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const kinetic::ConfigError& e) {
    std::fprintf(stderr, "kinetic: configuration refused:\n%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kinetic: %s\n", e.what());
    return 1;
  }
}
