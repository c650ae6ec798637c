#pragma once
// `kinetic record`: connects to a Bybit v5 public stream (or a local kinetic-exchange) and
// writes every received message, with its local receive time, into a kinetic capture file.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace kinetic::tools {

struct RecordOptions {
  std::string url = "wss://stream.bybit.com/v5/public/linear";
  std::string symbols = "BTCUSDT";
  std::string topics = "trade,book.50,ticker";
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
