#include "capture.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <ostream>

#include "atomic_output.hpp"
#include "kinetic/feed/ws_capture.hpp"

namespace kinetic::tools {
namespace {

const char* side_name(Side side) {
  switch (side) {
    case Side::buy:
      return "Buy";
    case Side::sell:
      return "Sell";
    case Side::none:
      break;
  }
  return "";
}

/// A text field as CSV: quoted only when it holds a separator, a quote or a line break.
void write_field(std::ostream& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << text;
    return;
  }
  out << '"';
  for (const char c : text) {
    if (c == '"')
      out << '"';
    out << c;
  }
  out << '"';
}

}  // namespace

CaptureTradesSummary write_capture_trades(feed::WsCaptureTradeReader& reader, std::ostream& out) {
  out << "timestamp,category,symbol,side,size,price,trade_id,recv_ts_ns\n";
  feed::CaptureTrade trade;
  CaptureTradesSummary summary;
  while (reader.next(trade)) {
    out << trade.trade_time_ms << ',';
    write_field(out, trade.category);
    out << ',';
    write_field(out, trade.symbol);
    out << ',' << side_name(trade.side) << ',';
    write_field(out, trade.qty_text);
    out << ',';
    write_field(out, trade.price_text);
    out << ',';
    write_field(out, trade.trade_id);
    out << ',' << trade.recv_time_ns << '\n';
    ++summary.trades;
  }
  summary.lines = reader.lines();
  summary.malformed_lines = reader.malformed_lines();
  summary.malformed_trades = reader.malformed_trades();
  return summary;
}

CLI::App* add_capture_command(CLI::App& app, CaptureTradesOptions& options) {
  CLI::App* capture = app.add_subcommand("capture", "Read recorded market data");
  capture->require_subcommand(1);
  CLI::App* trades = capture->add_subcommand(
      "trades",
      "Print the public trades of a raw Bybit v5 WebSocket capture (cryptofeed JSON lines, "
      "plain or .zst) as CSV: timestamp (exchange trade time, Unix ms), category, symbol, "
      "side, size, price (exact wire decimals), trade_id, recv_ts_ns (local receive time). "
      "The output is what `kinetic quant` reads. A summary goes to standard error.");
  trades->add_option("file", options.file, "Capture file (JSON lines, optionally zstd)")
      ->required()
      ->check(CLI::ExistingFile);
  trades->add_option("--symbol", options.symbol, "Only this symbol, e.g. BTCUSDT (default: all)");
  trades->add_option("--category", options.category,
                     "Only this category: linear, spot, inverse or option, from the "
                     "connection's address (default: all)");
  trades->add_option("--out", options.out,
                     "Write to FILE (complete or not at all) instead of standard output");
  return trades;
}

int run_capture_trades(const CaptureTradesOptions& options) {
  feed::WsCaptureTradeReader reader(options.file,
                                    feed::CaptureFilter{options.symbol, options.category});
  CaptureTradesSummary summary;
  if (options.out.empty()) {
    summary = write_capture_trades(reader, std::cout);
    std::cout.flush();
    if (!std::cout)
      throw std::runtime_error("standard output: write error");
  } else {
    AtomicOutputFile output(options.out);
    summary = write_capture_trades(reader, output.stream());
    output.commit();
  }
  std::fprintf(stderr,
               "kinetic capture trades: %llu trades from %llu lines of %s (%llu malformed lines, "
               "%llu malformed trades skipped)\n",
               static_cast<unsigned long long>(summary.trades),
               static_cast<unsigned long long>(summary.lines), options.file.c_str(),
               static_cast<unsigned long long>(summary.malformed_lines),
               static_cast<unsigned long long>(summary.malformed_trades));
  return 0;
}

}  // namespace kinetic::tools
