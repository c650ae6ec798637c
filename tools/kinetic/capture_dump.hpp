#pragma once
// `kinetic capture dump FILE`: the events of a kinetic capture, decoded, as JSON lines:
//   {"type":"trade","symbol":"BTCUSDT","exch_ts":1786310819680,"recv_ts":...,"price":"65114.2",
//    "qty":"0.004","side":"Sell","id":"..."}
//   {"type":"book_snapshot"|"book_delta","symbol":...,"exch_ts":...,"recv_ts":...,
//    "update_id":...,"bids":[["p","q"],...],"asks":[["p","q"],...]}      (one per message)
//   {"type":"ticker","symbol":...,"exch_ts":...,"recv_ts":...,"last":...,"bid":...,
//    "bid_qty":...,"ask":...,"ask_qty":...}                (snapshot and deltas merged)
//   {"type":"kline","symbol":...,"start":...,"recv_ts":...,"interval_min":...,"open":...,
//    "high":...,"low":...,"close":...,"volume":...,"confirmed":true|false}
//   {"type":"connection_opened"|"connection_closed"|"note","recv_ts":...,"text":"..."}
// exch_ts and start are the exchange's Unix milliseconds; recv_ts the local receive time in
// Unix nanoseconds; prices and quantities the exact decimals. A trade's id is the exchange's
// own text. Control replies (acks, pongs) are left out; malformed messages are counted and
// reported at the end on stderr.
//
// `kinetic capture book FILE --symbol S [--depth N]`: the order book of S after the last
// event of the capture, rebuilt from its snapshots and deltas with the update-id checks:
//   {"symbol":...,"update_id":...,"exch_ts":...,"bids":[["p","q"],...],"asks":[...]}
// It fails (exit 1) when the capture has no book for S, when S has books on several streams
// (connections: a linear and a spot market) and --stream does not choose one, or when the
// book is not valid at the end (a gap in the update ids with no snapshot after it).

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace kinetic::tools {

struct CaptureDumpOptions {
  std::string file;
  std::string symbol;  ///< empty: every symbol
  std::string out;     ///< empty: standard output
};

struct CaptureBookOptions {
  std::string file;
  std::string symbol;
  std::size_t depth = 0;  ///< levels per side to print; 0: all
  int stream = -1;        ///< only this stream (connection) of the capture; -1: any, but one
};

/// What a dump saw, for the summary on stderr.
struct CaptureDumpSummary {
  std::uint64_t records = 0;
  std::uint64_t messages = 0;
  std::uint64_t lines = 0;
  std::uint64_t malformed = 0;
  bool torn_tail = false;
};

/// Writes the JSON lines of the capture at `file` to `out`. Throws on a file error.
CaptureDumpSummary write_capture_dump(const std::string& file, const std::string& symbol,
                                      std::ostream& out);
/// Writes the book line; returns false (with `why`) when there is no valid book.
bool write_capture_book(const CaptureBookOptions& options, std::ostream& out, std::string& why);

/// Registers `dump` and `book` under the existing `capture` command.
struct CaptureDumpCommands {
  CLI::App* dump;
  CLI::App* book;
};
CaptureDumpCommands add_capture_dump_commands(CLI::App& capture, CaptureDumpOptions& dump,
                                              CaptureBookOptions& book);
int run_capture_dump(const CaptureDumpOptions& options);
int run_capture_book(const CaptureBookOptions& options);

}  // namespace kinetic::tools
