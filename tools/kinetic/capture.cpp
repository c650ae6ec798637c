#include "capture.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>
#include <ostream>

#include "atomic_output.hpp"
#include "csv_field.hpp"
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

void append_integer(std::string& line, std::int64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  line.append(digits, end);
}

}  // namespace

CaptureTradesSummary write_capture_trades(feed::WsCaptureTradeReader& reader, std::ostream& out) {
  out << "timestamp,category,symbol,side,size,price,trade_id,recv_ts_ns\n";
  feed::CaptureTrade trade;
  CaptureTradesSummary summary;
  std::string line;  // reused: no allocation per row once it has grown
  while (reader.next(trade)) {
    line.clear();
    append_integer(line, trade.trade_time_ms);
    for (const std::string_view field :
         {trade.category, trade.symbol, std::string_view(side_name(trade.side)), trade.qty_text,
          trade.price_text, trade.trade_id}) {
      line.push_back(',');
      append_csv_field(line, field);
    }
    line.push_back(',');
    append_integer(line, trade.recv_time_ns);
    line.push_back('\n');
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
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
