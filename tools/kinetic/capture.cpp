#include "capture.hpp"

#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "atomic_output.hpp"
#include "csv_field.hpp"
#include "kinetic/feed/instruments_info.hpp"
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
