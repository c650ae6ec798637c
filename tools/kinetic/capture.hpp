#pragma once
// `kinetic capture trades`: the public trades of a raw Bybit v5 WebSocket capture
// (cryptofeed JSON lines, plain or zstd-compressed) as CSV, so that `kinetic quant` and any
// other CSV tool can read them:
//   timestamp,category,symbol,side,size,price,trade_id,recv_ts_ns
// timestamp is the exchange trade time `T` in Unix milliseconds, size and price the exact
// wire decimals, recv_ts_ns the local receive time of the frame. Every trade of a batch is
// one row, in capture order. Tool code: throws on I/O errors.
//
// `kinetic capture instruments`: the instruments-info REST response recorded in a capture
// (`"t":"http"` records whose url is /v5/market/instruments-info; `data` holds the response
// text as a JSON string) written out as the plain JSON document, byte for byte as received
// plus a final newline, which is what `kinetic quant size --instruments` reads.
//
// `kinetic capture import --from FORMAT IN OUT`: converts recorded data of another format into
// kinetic's capture file (kinetic/feed/capture_file.hpp), complete or not at all:
//   bybit-ws-jsonl   cryptofeed's raw Bybit WebSocket JSON lines (plain or zstd): each `recv`
//                    record's frame text becomes a text_message record, each `connect` record
//                    a connection_opened record (payload: its addr); recv time = the record's
//                    `ts`, exact from its text; stream = the connection's number, 1, 2, ... in
//                    order of first appearance of `conn`. header/send/http records are counted
//                    and skipped.
//   bybit-trades-csv Bybit's public trade archive CSV (plain, .gz or zstd), 10 columns or 11
//                    with RPI: one synthetic v5 message per row,
//                      {"topic":"publicTrade.SYM","type":"snapshot","ts":MS,"data":[{"T":MS,
//                      "s":"SYM","S":"Buy","v":"size","p":"price","L":"PlusTick","i":"id",
//                      "BT":false}]}
//                    with size and price copied as text; MS = the timestamp in ms (truncated);
//                    recv time = the timestamp exactly, in ns.
//   bybit-ob-history Bybit's order-book history (`<date>_<SYM>_ob500.data.zip`, or the member
//                    extracted, plain or zstd): each line is one text_message record, byte for
//                    byte; recv time = the message's `ts` (ms) in ns.
// Bad input is an error naming the line; blank lines are skipped.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace kinetic::feed {
class WsCaptureTradeReader;
class CaptureLineSource;
}  // namespace kinetic::feed

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

struct CaptureInstrumentsOptions {
  std::string file;      ///< capture path
  std::string category;  ///< "linear" or "spot"; empty: the only response in the capture
  std::string out;       ///< empty: standard output
};

/// One instruments-info response found in a capture. Owns its strings.
struct CapturedInstruments {
  std::size_t line = 0;  ///< 1-based line of the capture
  std::string url;       ///< the request's url
  std::string category;  ///< result.category, else the url's category= ("" if neither)
  std::string body;      ///< the response text exactly as recorded
};

/// What a scan of a capture found.
struct CapturedInstrumentsScan {
  std::vector<CapturedInstruments> responses;  ///< of the wanted category, in file order
  std::uint64_t http_records = 0;              ///< every well-formed `http` record
  std::uint64_t malformed_http_records = 0;    ///< `http` records that are not valid JSON
                                               ///< or lack a string url or data
  std::vector<std::string> other_categories;   ///< instruments-info categories not wanted
};

/// Reads every line of `source` and keeps the instruments-info responses whose category is
/// `category` (empty: all). The outer record is parsed with simdjson; the response text is
/// parsed only to read result.category. Lines that are not `http` records are skipped
/// without a full parse. Throws feed::CaptureError on read/decompression errors only.
CapturedInstrumentsScan scan_capture_instruments(feed::CaptureLineSource& source,
                                                 std::string_view category);

/// Registers `capture` with its `trades`, `instruments` and `import` subcommands on `app`.
/// `import` runs from its own CLI11 callback (its options live in the callback), so a caller
/// that only dispatches trades/instruments still runs it; do not dispatch it a second time.
struct CaptureCommands {
  CLI::App* trades = nullptr;
  CLI::App* instruments = nullptr;
  CLI::App* import = nullptr;
};
CaptureCommands add_capture_commands(CLI::App& app, CaptureTradesOptions& trades,
                                     CaptureInstrumentsOptions& instruments);

/// Runs `kinetic capture instruments`: scans the capture and writes the one matching response
/// to standard output or --out (complete or not at all) and a summary to standard error.
/// Throws std::runtime_error when no response matches, when several do (responses of several
/// categories without --category, or a paged response, which is not merged), or when the
/// response is not a usable instruments-info document (feed::InstrumentsError, checked with
/// parse_instruments_info before anything is written). The summary warns when the response
/// has a nextPageCursor (the capture then lacks the later pages). Returns the exit status (0).
int run_capture_instruments(const CaptureInstrumentsOptions& options);

/// The input formats of `kinetic capture import`.
enum class ImportFormat : std::uint8_t { bybit_ws_jsonl, bybit_trades_csv, bybit_ob_history };

struct CaptureImportOptions {
  ImportFormat from = ImportFormat::bybit_ws_jsonl;
  std::string in;
  std::string out;
  bool progress = true;  ///< progress lines on standard error for long inputs
};

/// What an import wrote, for the summary line.
struct CaptureImportSummary {
  std::uint64_t lines = 0;          ///< input lines read (CSV: with the header)
  std::uint64_t records = 0;        ///< capture records written
  std::uint64_t bytes = 0;          ///< size of OUT
  std::uint64_t skipped_lines = 0;  ///< blank lines and (ws-jsonl) header/send/http records
  std::int64_t first_recv_ns = 0;   ///< smallest recv time written (0 when no records)
  std::int64_t last_recv_ns = 0;    ///< largest
};

/// Converts options.in into the capture file options.out (written to OUT.tmp and renamed on
/// success). Throws std::runtime_error naming the file and line on bad input, and on I/O
/// errors; OUT is then left as it was.
CaptureImportSummary import_capture(const CaptureImportOptions& options);

/// Runs `kinetic capture import`: import_capture and a summary line on standard error.
int run_capture_import(const CaptureImportOptions& options);

/// Registers `import` under the `capture` command; it runs run_capture_import from its
/// callback (add_capture_commands calls this).
CLI::App* add_capture_import_command(CLI::App& capture);

/// Runs `kinetic capture trades`: opens the capture and the output (--out: written to a
/// temporary file and renamed on success), prints a summary to standard error. Returns the
/// exit status.
int run_capture_trades(const CaptureTradesOptions& options);

}  // namespace kinetic::tools
