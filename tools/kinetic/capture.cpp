#include "capture.hpp"

#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "atomic_output.hpp"
#include "csv_field.hpp"
#include "kinetic/feed/bybit_names.hpp"
#include "kinetic/feed/capture_file.hpp"
#include "kinetic/feed/instruments_info.hpp"
#include "kinetic/feed/ws_capture.hpp"
#include "kinetic/feed/zip_member.hpp"

namespace kinetic::tools {
namespace {

void append_integer(std::string& line, std::int64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  line.append(digits, end);
}

constexpr std::string_view kInstrumentsPath = "/v5/market/instruments-info";

// The value of `key=` in the url's query ("" when absent).
std::string_view query_value(std::string_view url, std::string_view key) {
  const std::size_t query = url.find('?');
  if (query == std::string_view::npos)
    return {};
  std::string_view rest = url.substr(query + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=')
      return pair.substr(key.size() + 1);
    if (amp == std::string_view::npos)
      break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

// result.category of a response text ("" when it is not JSON or has none). Tool code: the
// padded copy is one allocation per response, of which a capture holds a handful.
std::string response_category(simdjson::ondemand::parser& parser, std::string_view body) {
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS)
    return {};
  std::string_view category;
  if (doc["result"]["category"].get_string().get(category) != simdjson::SUCCESS)
    return {};
  return std::string(category);
}

// One `http` record's url and data, unescaped into owned strings. not_http: a record of
// another type; malformed: not a JSON object with a string `t`, or an http record without
// string `url` and `data`.
enum class HttpRecord : std::uint8_t { not_http, malformed, ok };
HttpRecord read_http_record(simdjson::ondemand::parser& parser, std::string_view line,
                            std::string& url, std::string& data) {
  const simdjson::padded_string padded(line);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object record;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(record) != simdjson::SUCCESS)
    return HttpRecord::malformed;
  // Fields in any order: one pass over the object.
  std::string_view type;
  bool have_url = false;
  bool have_data = false;
  for (auto field : record) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS)
      return HttpRecord::malformed;
    std::string_view text;
    if (key == "t") {
      if (field.value().get_string().get(text) != simdjson::SUCCESS)
        return HttpRecord::malformed;
      type = text;  // views the parser's string buffer, valid for this document
    } else if (key == "url") {
      if (field.value().get_string().get(text) != simdjson::SUCCESS)
        return HttpRecord::malformed;
      url.assign(text);
      have_url = true;
    } else if (key == "data") {
      if (field.value().get_string().get(text) != simdjson::SUCCESS)
        return HttpRecord::malformed;
      data.assign(text);
      have_data = true;
    }
  }
  if (type != "http")
    return type.empty() ? HttpRecord::malformed : HttpRecord::not_http;
  return have_url && have_data ? HttpRecord::ok : HttpRecord::malformed;
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
         {trade.category, trade.symbol, feed::bybit_side_name(trade.side), trade.qty_text,
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

CapturedInstrumentsScan scan_capture_instruments(feed::CaptureLineSource& source,
                                                 std::string_view category) {
  CapturedInstrumentsScan scan;
  simdjson::ondemand::parser outer;
  simdjson::ondemand::parser inner;
  std::string url;
  std::string data;
  std::string_view line;
  while (source.next(line)) {
    // Cheap filter first: an http record's type is the JSON string "http" somewhere on the
    // line; the ~3000 frames of a capture need no parse. A frame that happens to contain the
    // text is parsed and then recognised as not_http.
    if (line.find("\"http\"") == std::string_view::npos)
      continue;
    switch (read_http_record(outer, line, url, data)) {
      case HttpRecord::not_http:
        continue;
      case HttpRecord::malformed:
        ++scan.malformed_http_records;
        continue;
      case HttpRecord::ok:
        break;
    }
    ++scan.http_records;
    const std::string_view path = std::string_view(url).substr(0, url.find('?'));
    if (path.size() < kInstrumentsPath.size() ||
        path.substr(path.size() - kInstrumentsPath.size()) != kInstrumentsPath)
      continue;
    std::string response_kind = response_category(inner, data);
    if (response_kind.empty())
      response_kind = std::string(query_value(url, "category"));
    if (!category.empty() && response_kind != category) {
      scan.other_categories.push_back(response_kind.empty() ? "unknown" : response_kind);
      continue;
    }
    scan.responses.push_back(CapturedInstruments{source.line_number(), url, response_kind, data});
  }
  return scan;
}

CaptureCommands add_capture_commands(CLI::App& app, CaptureTradesOptions& trades,
                                     CaptureInstrumentsOptions& instruments) {
  CaptureCommands commands;
  commands.trades = add_capture_command(app, trades);
  CLI::App* capture = commands.trades->get_parent();
  CLI::App* command = capture->add_subcommand(
      "instruments",
      "Print the instruments-info REST response recorded in a raw Bybit v5 capture (its "
      "\"t\":\"http\" records) as the plain JSON document, byte for byte as received, for "
      "`kinetic quant size --instruments`. A summary goes to standard error.");
  command->add_option("file", instruments.file, "Capture file (JSON lines, optionally zstd)")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("--category", instruments.category,
                   "The response of this category: linear or spot (required when the capture "
                   "holds responses of several categories)")
      ->check(CLI::IsMember({"linear", "spot"}));
  command->add_option("--out", instruments.out,
                      "Write to FILE (complete or not at all) instead of standard output");
  commands.instruments = command;
  commands.import = add_capture_import_command(*capture);
  return commands;
}

int run_capture_instruments(const CaptureInstrumentsOptions& options) {
  feed::CaptureLineSource source = feed::CaptureLineSource::open_file(options.file);
  const CapturedInstrumentsScan scan = scan_capture_instruments(source, options.category);
  const std::string wanted =
      options.category.empty() ? std::string() : " of category " + options.category;
  if (scan.responses.empty()) {
    std::string message = options.file + ": no instruments-info response" + wanted + " (" +
                          std::to_string(scan.http_records) + " http records, " +
                          std::to_string(scan.malformed_http_records) + " malformed";
    if (!scan.other_categories.empty()) {
      message += "; categories present:";
      for (const std::string& other : scan.other_categories)
        message += " " + other;
    }
    throw std::runtime_error(message + ")");
  }
  if (scan.responses.size() > 1) {
    std::string message = options.file + ": " + std::to_string(scan.responses.size()) +
                          " instruments-info responses" + wanted + " (";
    for (std::size_t i = 0; i < scan.responses.size(); ++i) {
      const CapturedInstruments& response = scan.responses[i];
      message += (i == 0 ? "" : ", ") +
                 (response.category.empty() ? std::string("unknown") : response.category) +
                 " at line " + std::to_string(response.line);
    }
    throw std::runtime_error(message + (options.category.empty()
                                            ? "): choose one with --category"
                                            : "): pages of one category are not merged"));
  }
  const CapturedInstruments& response = scan.responses.front();
  // Check that it is what `quant size` can read before writing anything.
  const feed::InstrumentsInfo info = [&] {
    try {
      return feed::parse_instruments_info(response.body, feed::UnrepresentablePolicy::skip);
    } catch (const feed::InstrumentsError& error) {
      throw std::runtime_error(options.file + ": line " + std::to_string(response.line) + ": " +
                               error.what());
    }
  }();

  if (options.out.empty()) {
    std::cout.write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
    std::cout.put('\n');
    std::cout.flush();
    if (!std::cout)
      throw std::runtime_error("standard output: write error");
  } else {
    AtomicOutputFile output(options.out);
    output.stream().write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
    output.stream().put('\n');
    output.commit();
  }
  std::fprintf(stderr,
               "kinetic capture instruments: %s: %zu instruments (%zu skipped: not exactly "
               "representable) from line %zu of %s%s\n",
               info.category.c_str(), info.rules.size(), info.skipped.size(), response.line,
               options.file.c_str(),
               info.next_page_cursor.empty()
                   ? ""
                   : "; WARNING: the response has a next page that the capture lacks");
  return 0;
}

}  // namespace kinetic::tools

// --- capture import ---------------------------------------------------------------------

namespace kinetic::tools {
namespace {

constexpr std::uint64_t kProgressEveryLines = std::uint64_t{1} << 20;
constexpr std::size_t kOutputChunkBytes = std::size_t{1} << 20;

// Lines of the input: a zip's only member, a gzip file, or plain / zstd text.
class ImportLines {
 public:
  explicit ImportLines(const std::string& path) : path_(path) {
    if (feed::looks_like_zip(path))
      zip_.emplace(feed::ZipMember::open(path));
    else if (feed::looks_like_gzip(path))
      zip_.emplace(feed::ZipMember::open_gzip(path));
    else
      text_.emplace(feed::CaptureLineSource::open_file(path));
  }
  bool next(std::string_view& line) {
    try {
      return zip_ ? zip_->next_line(line) : text_->next(line);
    } catch (const feed::ZipError& error) {
      throw std::runtime_error(error.what());
    }
  }
  [[nodiscard]] std::size_t line_number() const {
    return zip_ ? zip_->line_number() : text_->line_number();
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::optional<feed::ZipMember> zip_;
  std::optional<feed::CaptureLineSource> text_;
};

// Capture records into an AtomicOutputFile's stream, in chunks.
class CaptureSink {
 public:
  CaptureSink(std::ostream& out, const std::string& source, CaptureImportSummary& summary)
      : out_(out), summary_(summary) {
    feed::CaptureFileHeader header;
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    header.created_ns = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
    header.source = source;
    feed::append_capture_header(buffer_, header);
  }
  void append(feed::RecordKind kind, std::int64_t recv_ns, std::string_view payload,
              std::uint16_t stream) {
    feed::append_capture_record(buffer_, kind, recv_ns, payload, stream);
    if (summary_.records == 0 || recv_ns < summary_.first_recv_ns)
      summary_.first_recv_ns = recv_ns;
    if (summary_.records == 0 || recv_ns > summary_.last_recv_ns)
      summary_.last_recv_ns = recv_ns;
    ++summary_.records;
    if (buffer_.size() >= kOutputChunkBytes)
      flush();
  }
  void flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    summary_.bytes += buffer_.size();
    buffer_.clear();
  }

 private:
  std::ostream& out_;
  CaptureImportSummary& summary_;
  std::string buffer_;
};

[[noreturn]] void bad_line(const ImportLines& input, const std::string& why) {
  throw std::runtime_error(input.path() + ":" + std::to_string(input.line_number()) + ": " + why);
}

// A copy of `line` with simdjson's padding, reused across lines.
class PaddedLine {
 public:
  simdjson::padded_string_view view(std::string_view line) {
    buffer_.assign(line);
    buffer_.resize(line.size() + simdjson::SIMDJSON_PADDING);
    return simdjson::padded_string_view(buffer_.data(), line.size(), buffer_.size());
  }

 private:
  std::string buffer_;
};

std::string_view trim_space(std::string_view text) {
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

// The next line that is not blank, counted (blank ones as skipped), with a progress line on
// stderr every `progress_every` lines when `progress`; false at the end. The line is
// returned as read (not trimmed): importers that keep it byte for byte need it so.
bool next_content_line(ImportLines& input, CaptureImportSummary& summary, bool progress,
                       std::uint64_t progress_every, std::string_view& line) {
  while (input.next(line)) {
    ++summary.lines;
    if (progress && summary.lines % progress_every == 0)
      std::fprintf(stderr, "kinetic capture import: %llu lines, %llu records\n",
                   static_cast<unsigned long long>(summary.lines),
                   static_cast<unsigned long long>(summary.records));
    if (!trim_space(line).empty())
      return true;
    ++summary.skipped_lines;
  }
  return false;
}

void import_ws_jsonl(ImportLines& input, CaptureSink& sink, CaptureImportSummary& summary,
                     bool progress) {
  simdjson::ondemand::parser parser;
  PaddedLine padded;
  std::vector<std::string> connections;  // index + 1 = stream number
  std::string_view line;
  while (next_content_line(input, summary, progress, kProgressEveryLines, line)) {
    simdjson::ondemand::document doc;
    simdjson::ondemand::object record;
    if (parser.iterate(padded.view(line)).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(record) != simdjson::SUCCESS)
      bad_line(input, "not a JSON object");
    std::string type;
    std::string conn;
    std::string data;     // recv: the frame text
    std::string address;  // connect: the URL
    std::int64_t recv_ns = 0;
    bool has_ts = false;
    bool has_data = false;
    bool has_address = false;
    bool has_conn = false;
    for (auto field : record) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS)
        bad_line(input, "bad JSON key");
      simdjson::ondemand::value value;
      if (field.value().get(value) != simdjson::SUCCESS)
        bad_line(input, "bad JSON value of \"" + std::string(key) + "\"");
      std::string_view text;
      if (key == "t") {
        if (value.get_string().get(text) != simdjson::SUCCESS)
          bad_line(input, "\"t\" is not a string");
        type.assign(text);
      } else if (key == "conn") {
        if (value.get_string().get(text) != simdjson::SUCCESS)
          bad_line(input, "\"conn\" is not a string");
        conn.assign(text);
        has_conn = true;
      } else if (key == "ts") {
        const std::string_view token = trim_space(value.raw_json_token());
        if (!feed::parse_epoch_seconds_ns(token, recv_ns))
          bad_line(input, "\"ts\" is not epoch seconds: " + std::string(token));
        has_ts = true;
      } else if (key == "data") {
        // A header's data-like fields may be objects; only a string is a frame.
        if (value.get_string().get(text) == simdjson::SUCCESS) {
          data.assign(text);
          has_data = true;
        }
      } else if (key == "addr") {
        if (value.get_string().get(text) == simdjson::SUCCESS) {
          address.assign(text);
          has_address = true;
        }
      }
    }
    if (type.empty())
      bad_line(input, "record without a \"t\" string");
    const bool recv = type == "recv";
    const bool connect = type == "connect";
    if (!recv && !connect) {
      ++summary.skipped_lines;
      continue;
    }
    if (!has_conn || !has_ts || (recv && !has_data) || (connect && !has_address))
      bad_line(input, type + " record without a string " +
                          (!has_conn ? "\"conn\""
                           : !has_ts ? "\"ts\""
                           : recv    ? "\"data\""
                                     : "\"addr\""));
    auto found = std::find(connections.begin(), connections.end(), conn);
    if (found == connections.end()) {
      if (connections.size() >= 0xFFFF)
        bad_line(input, "more than 65535 connections");
      connections.push_back(conn);
      found = connections.end() - 1;
    }
    const auto stream = static_cast<std::uint16_t>(found - connections.begin() + 1);
    sink.append(recv ? feed::RecordKind::text_message : feed::RecordKind::connection_opened,
                recv_ns, recv ? data : address, stream);
  }
}

// Digits with at most one '.', digits on both sides of it: the decimal text Bybit writes.
bool plain_decimal(std::string_view text) {
  const std::size_t dot = text.find('.');
  auto digits = [](std::string_view part) {
    return !part.empty() &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (dot == std::string_view::npos)
    return digits(text);
  return digits(text.substr(0, dot)) && digits(text.substr(dot + 1));
}

bool json_safe_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == '.';
  });
}

void split_csv(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  for (;;) {
    const std::size_t comma = line.find(',');
    fields.push_back(line.substr(0, comma));
    if (comma == std::string_view::npos)
      return;
    line.remove_prefix(comma + 1);
  }
}

void import_trades_csv(ImportLines& input, CaptureSink& sink, CaptureImportSummary& summary,
                       bool progress) {
  static constexpr std::string_view kHeader =
      "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,"
      "foreignNotional";
  std::string_view line;
  if (!input.next(line))
    throw std::runtime_error(input.path() + ": empty file (no CSV header)");
  ++summary.lines;
  line = trim_space(line);
  if (line != kHeader && line != std::string(kHeader) + ",RPI")
    bad_line(input,
             "not Bybit's trade archive header (expected \"" + std::string(kHeader) + "[,RPI]\")");
  const std::size_t columns = line == kHeader ? 10 : 11;
  std::vector<std::string_view> fields;
  std::string message;
  while (next_content_line(input, summary, progress, kProgressEveryLines, line)) {
    line = trim_space(line);
    split_csv(line, fields);
    if (fields.size() != columns)
      bad_line(input,
               std::to_string(fields.size()) + " fields, expected " + std::to_string(columns));
    std::int64_t time_ns = 0;
    if (!feed::parse_epoch_seconds_ns(fields[0], time_ns) || time_ns < 0)
      bad_line(input, "bad timestamp \"" + std::string(fields[0]) + "\"");
    const std::string_view symbol = fields[1];
    const std::string_view side = fields[2];
    const std::string_view size = fields[3];
    const std::string_view price = fields[4];
    const std::string_view tick = fields[5];
    const std::string_view id = fields[6];
    if (!json_safe_token(symbol))
      bad_line(input, "bad symbol \"" + std::string(symbol) + "\"");
    if (side != "Buy" && side != "Sell")
      bad_line(input, "bad side \"" + std::string(side) + "\" (Buy or Sell)");
    if (!plain_decimal(size))
      bad_line(input, "bad size \"" + std::string(size) + "\"");
    if (!plain_decimal(price))
      bad_line(input, "bad price \"" + std::string(price) + "\"");
    if (tick != "PlusTick" && tick != "ZeroPlusTick" && tick != "MinusTick" &&
        tick != "ZeroMinusTick")
      bad_line(input, "bad tickDirection \"" + std::string(tick) + "\"");
    if (!json_safe_token(id))
      bad_line(input, "bad trdMatchID \"" + std::string(id) + "\"");
    const std::int64_t time_ms = time_ns / 1'000'000;
    message.assign(R"({"topic":"publicTrade.)");
    message.append(symbol);
    message.append(R"(","type":"snapshot","ts":)");
    append_integer(message, time_ms);
    message.append(R"(,"data":[{"T":)");
    append_integer(message, time_ms);
    message.append(R"(,"s":")");
    message.append(symbol);
    message.append(R"(","S":")");
    message.append(side);
    message.append(R"(","v":")");
    message.append(size);
    message.append(R"(","p":")");
    message.append(price);
    message.append(R"(","L":")");
    message.append(tick);
    message.append(R"(","i":")");
    message.append(id);
    message.append(R"(","BT":false}]})");
    sink.append(feed::RecordKind::text_message, time_ns, message, 0);
  }
}

void import_ob_history(ImportLines& input, CaptureSink& sink, CaptureImportSummary& summary,
                       bool progress) {
  simdjson::ondemand::parser parser;
  PaddedLine padded;
  std::string_view line;
  // Book lines are long (a 500-level snapshot is ~18 KB): report progress more often.
  while (next_content_line(input, summary, progress, kProgressEveryLines / 16, line)) {
    simdjson::ondemand::document doc;
    simdjson::ondemand::object message;
    if (parser.iterate(padded.view(line)).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(message) != simdjson::SUCCESS)
      bad_line(input, "not a JSON object");
    std::int64_t ts_ms = 0;
    const simdjson::error_code error = message["ts"].get_int64().get(ts_ms);
    if (error != simdjson::SUCCESS)
      bad_line(input, std::string("no integer \"ts\" (") + simdjson::error_message(error) + ")");
    if (ts_ms < 0 || ts_ms > std::numeric_limits<std::int64_t>::max() / 1'000'000)
      bad_line(input, "\"ts\" out of range");
    sink.append(feed::RecordKind::text_message, ts_ms * 1'000'000, line, 0);
  }
}

const char* format_name(ImportFormat format) {
  switch (format) {
    case ImportFormat::bybit_ws_jsonl:
      return "bybit-ws-jsonl";
    case ImportFormat::bybit_trades_csv:
      return "bybit-trades-csv";
    case ImportFormat::bybit_ob_history:
      return "bybit-ob-history";
  }
  return "?";
}

std::string utc_text(std::int64_t ns) {
  const std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<long long>(ns % 1'000'000'000));
  return text;
}

}  // namespace

CaptureImportSummary import_capture(const CaptureImportOptions& options) {
  ImportLines input(options.in);
  CaptureImportSummary summary;
  AtomicOutputFile output(options.out);
  CaptureSink sink(
      output.stream(),
      std::string("kinetic capture import --from ") + format_name(options.from) + " " + options.in,
      summary);
  switch (options.from) {
    case ImportFormat::bybit_ws_jsonl:
      import_ws_jsonl(input, sink, summary, options.progress);
      break;
    case ImportFormat::bybit_trades_csv:
      import_trades_csv(input, sink, summary, options.progress);
      break;
    case ImportFormat::bybit_ob_history:
      import_ob_history(input, sink, summary, options.progress);
      break;
  }
  sink.flush();
  output.commit();
  return summary;
}

int run_capture_import(const CaptureImportOptions& options) {
  const CaptureImportSummary summary = import_capture(options);
  std::fprintf(stderr,
               "kinetic capture import: %llu records, %llu bytes written to %s from %llu lines "
               "of %s (%llu skipped)",
               static_cast<unsigned long long>(summary.records),
               static_cast<unsigned long long>(summary.bytes), options.out.c_str(),
               static_cast<unsigned long long>(summary.lines), options.in.c_str(),
               static_cast<unsigned long long>(summary.skipped_lines));
  if (summary.records > 0)
    std::fprintf(stderr, "; recv time %s .. %s", utc_text(summary.first_recv_ns).c_str(),
                 utc_text(summary.last_recv_ns).c_str());
  std::fputc('\n', stderr);
  return 0;
}

CLI::App* add_capture_import_command(CLI::App& capture) {
  // The options live as long as the callback that uses them.
  struct Parsed {
    CaptureImportOptions options;
    std::string from;
  };
  auto parsed = std::make_shared<Parsed>();
  CaptureImportOptions* options = &parsed->options;
  CLI::App* command = capture.add_subcommand(
      "import",
      "Convert recorded data into kinetic's capture file format (OUT is written complete or "
      "not at all). FORMAT: bybit-ws-jsonl (cryptofeed raw WebSocket JSON lines: recv frames "
      "become text messages, connect records connection-opened records, recv time = the "
      "record's ts), bybit-trades-csv (Bybit's trade archive CSV: one synthetic publicTrade "
      "message per row, decimals copied as text, recv time = trade time), bybit-ob-history "
      "(Bybit's order-book history: one message per line, recv time = its ts). IN may be "
      "plain, zstd, gzip or a one-member zip. Bad input stops with its line number. Progress "
      "and a summary go to standard error.");
  command->add_option("--from", parsed->from, "Input format")
      ->required()
      ->check(CLI::IsMember({"bybit-ws-jsonl", "bybit-trades-csv", "bybit-ob-history"}));
  command->add_option("in", options->in, "Input file")->required()->check(CLI::ExistingFile);
  command->add_option("out", options->out, "Output capture file")->required();
  command->add_flag("!--no-progress", options->progress, "No progress lines on standard error");
  command->callback([parsed] {
    parsed->options.from = parsed->from == "bybit-ws-jsonl"     ? ImportFormat::bybit_ws_jsonl
                           : parsed->from == "bybit-trades-csv" ? ImportFormat::bybit_trades_csv
                                                                : ImportFormat::bybit_ob_history;
    (void)run_capture_import(parsed->options);
  });
  return command;
}

}  // namespace kinetic::tools
