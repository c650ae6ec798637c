#pragma once
// `kinetic record`: connects to a Bybit v5 public stream (or a local kinetic-exchange) and
// writes every received message, with its local receive time, into a kinetic capture file.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace kinetic::tools {

/// Empty url, symbols, topics and ca_file come from the configuration: [exchange]
/// ws_public_url, symbols and ca_file, [feed] topics (defaults, a --config file, and the
/// KINETIC_* environment overrides); [feed] also sets the socket and the session's timers.
struct RecordOptions {
  std::string config_file;
  std::string url;
  std::string symbols;
  std::string topics;
  std::string out;
  double duration_s = 0.0;         ///< 0: until SIGINT/SIGTERM
  std::uint64_t max_messages = 0;  ///< 0: no limit
  std::string ca_file;             ///< PEM CA bundle for wss:// (empty: the system store)
  bool append = false;
  bool quiet = false;
};

/// Adds the `record` subcommand to `app`.
CLI::App* add_record_command(CLI::App& app, RecordOptions& options);
/// Runs it; returns the process exit code (0 ok, 1 failure, 2 bad arguments).
int run_record(const RecordOptions& options);

}  // namespace kinetic::tools
