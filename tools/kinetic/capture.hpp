#pragma once
// `kinetic capture trades`: the public trades of a raw Bybit v5 WebSocket capture
// (cryptofeed JSON lines, plain or zstd-compressed) as CSV, so that `kinetic quant` and any
// other CSV tool can read them:
//   timestamp,category,symbol,side,size,price,trade_id,recv_ts_ns
// timestamp is the exchange trade time `T` in Unix milliseconds, size and price the exact
// wire decimals, recv_ts_ns the local receive time of the frame. Every trade of a batch is
// one row, in capture order. Tool code: throws on I/O errors.

#include <cstdint>
#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace kinetic::feed {
class WsCaptureTradeReader;
}

namespace kinetic::tools {

struct CaptureTradesOptions {
  std::string file;      ///< capture path
  std::string symbol;    ///< empty: every symbol
  std::string category;  ///< empty: every category (linear, spot, ...)
  std::string out;       ///< empty: standard output
};

/// What was read, for the summary line.
struct CaptureTradesSummary {
  std::uint64_t trades = 0;
  std::uint64_t lines = 0;
  std::uint64_t malformed_lines = 0;
  std::uint64_t malformed_trades = 0;
};

/// Writes the header and one row per trade the reader yields.
CaptureTradesSummary write_capture_trades(feed::WsCaptureTradeReader& reader, std::ostream& out);

/// Registers `capture` and its `trades` subcommand on `app`; returns the `trades` command so
/// the caller can tell whether it was parsed.
CLI::App* add_capture_command(CLI::App& app, CaptureTradesOptions& options);

/// Runs `kinetic capture trades`: opens the capture and the output (--out: written to a
/// temporary file and renamed on success), prints a summary to standard error. Returns the
/// exit status.
int run_capture_trades(const CaptureTradesOptions& options);

}  // namespace kinetic::tools
