#include "capture_dump.hpp"

#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <span>
#include <string_view>
#include <vector>

#include "atomic_output.hpp"
#include "kinetic/feed/bybit_decoder.hpp"
#include "kinetic/feed/capture_file.hpp"
#include "kinetic/feed/order_book.hpp"
#include "kinetic/feed/symbol_table.hpp"

namespace kinetic::tools {
namespace {

constexpr std::size_t kMaxMessage = 8U << 20;

template <class Tag>
void put_decimal(std::ostream& out, Decimal<Tag> value) {
  char text[Decimal<Tag>::kMaxFormattedLength];
  out << '"' << std::string_view(text, value.format(text)) << '"';
}

// ,"name":"decimal"
template <class Tag>
void put_decimal_field(std::ostream& out, const char* name, Decimal<Tag> value) {
  out << ",\"" << name << "\":";
  put_decimal(out, value);
}

void put_json_string(std::ostream& out, std::string_view text) {
  out << '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out << "\\\"";
        break;
      case '\\':
        out << "\\\\";
        break;
      case '\n':
        out << "\\n";
        break;
      case '\r':
        out << "\\r";
        break;
      case '\t':
        out << "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out << escaped;
        } else {
          out << c;
        }
    }
  }
  out << '"';
}

void put_levels(std::ostream& out, std::span<const MarketEvent> events, Side side) {
  out << '[';
  bool first = true;
  for (const MarketEvent& e : events) {
    if (e.side != side)
      continue;
    out << (first ? "[" : ",[");
    put_decimal(out, e.level.price);
    out << ',';
    put_decimal(out, e.level.qty);
    out << ']';
    first = false;
  }
  out << ']';
}

void put_book_levels(std::ostream& out, std::span<const feed::BookLevel> levels,
                     std::size_t depth) {
  out << '[';
  const std::size_t n = depth == 0 || depth > levels.size() ? levels.size() : depth;
  for (std::size_t i = 0; i < n; ++i) {
    out << (i == 0 ? "[" : ",[");
    put_decimal(out, levels[i].price);
    out << ',';
    put_decimal(out, levels[i].qty);
    out << ']';
  }
  out << ']';
}

// The text ids of a publicTrade message's trades, in order (the events carry a hash of a
// non-numeric id; a dump shows the exchange's own text).
void trade_ids(simdjson::dom::parser& parser, std::string_view message,
               std::vector<std::string>& ids) {
  ids.clear();
  simdjson::dom::element root;
  if (parser.parse(message.data(), message.size(), false).get(root) != simdjson::SUCCESS)
    return;
  simdjson::dom::array data;
  if (root["data"].get_array().get(data) != simdjson::SUCCESS)
    return;
  for (simdjson::dom::element trade : data) {
    std::string_view id;
    if (trade["i"].get_string().get(id) == simdjson::SUCCESS) {
      ids.emplace_back(id);
    } else {
      std::uint64_t number = 0;
      ids.emplace_back(trade["i"].get_uint64().get(number) == simdjson::SUCCESS
                           ? std::to_string(number)
                           : std::string());
    }
  }
}

std::int64_t ms(TimestampNs ns) {
  return ns / 1'000'000;
}

}  // namespace

CaptureDumpSummary write_capture_dump(const std::string& file, const std::string& symbol,
                                      std::ostream& out) {
  feed::CaptureReader reader = feed::CaptureReader::open(file);
  feed::SymbolTable symbols(4096);
  feed::BybitDecoder decoder(symbols, feed::BybitDecoderConfig{kMaxMessage, 32});
  std::vector<MarketEvent> events(feed::BybitDecoder::kRecommendedEventCapacity);
  simdjson::dom::parser id_parser;
  std::vector<std::string> ids;
  CaptureDumpSummary summary;
  feed::CaptureRecord record;
  while (reader.next(record)) {
    ++summary.records;
    if (record.kind != feed::RecordKind::text_message) {
      if (record.kind == feed::RecordKind::connection_opened ||
          record.kind == feed::RecordKind::connection_closed ||
          record.kind == feed::RecordKind::note) {
        out << "{\"type\":\"" << feed::record_kind_name(record.kind)
            << "\",\"recv_ts\":" << record.recv_ts_ns << ",\"text\":";
        put_json_string(out, record.payload);
        out << "}\n";
        ++summary.lines;
      }
      continue;
    }
    ++summary.messages;
    const feed::DecodeResult result =
        decoder.decode(record.payload, record.recv_ts_ns, std::span(events));
    if (result.status == feed::DecodeStatus::malformed ||
        result.status == feed::DecodeStatus::overflow) {
      ++summary.malformed;
      continue;
    }
    if (!result.is_data() || result.events == 0)
      continue;
    const std::span<const MarketEvent> decoded(events.data(), result.events);
    const std::string_view name = symbols.name(decoded.front().symbol);
    if (!symbol.empty() && name != symbol)
      continue;
    switch (decoded.front().type) {
      case MarketEventType::trade: {
        trade_ids(id_parser, record.payload, ids);
        for (std::size_t k = 0; k < decoded.size(); ++k) {
          const MarketEvent& e = decoded[k];
          out << "{\"type\":\"trade\",\"symbol\":\"" << symbols.name(e.symbol)
              << "\",\"exch_ts\":" << ms(e.exch_ts) << ",\"recv_ts\":" << e.recv_ts;
          put_decimal_field(out, "price", e.trade.price);
          put_decimal_field(out, "qty", e.trade.qty);
          out << ",\"side\":\"" << (e.side == Side::buy ? "Buy" : "Sell") << "\",\"id\":";
          put_json_string(out, k < ids.size() ? std::string_view(ids[k])
                                              : std::string_view(std::to_string(e.trade.trade_id)));
          out << "}\n";
          ++summary.lines;
        }
        break;
      }
      case MarketEventType::book_level: {
        const MarketEvent& first = decoded.front();
        out << "{\"type\":\""
            << ((first.flags & kFlagSnapshot) != 0 ? "book_snapshot" : "book_delta")
            << "\",\"symbol\":\"" << name << "\",\"exch_ts\":" << ms(first.exch_ts)
            << ",\"recv_ts\":" << first.recv_ts << ",\"update_id\":" << first.level.update_id
            << ",\"bids\":";
        put_levels(out, decoded, Side::buy);
        out << ",\"asks\":";
        put_levels(out, decoded, Side::sell);
        out << "}\n";
        ++summary.lines;
        break;
      }
      case MarketEventType::ticker:
        for (const MarketEvent& e : decoded) {
          out << "{\"type\":\"ticker\",\"symbol\":\"" << symbols.name(e.symbol)
              << "\",\"exch_ts\":" << ms(e.exch_ts) << ",\"recv_ts\":" << e.recv_ts;
          put_decimal_field(out, "last", e.ticker.last);
          put_decimal_field(out, "bid", e.ticker.bid);
          put_decimal_field(out, "bid_qty", e.ticker.bid_qty);
          put_decimal_field(out, "ask", e.ticker.ask);
          put_decimal_field(out, "ask_qty", e.ticker.ask_qty);
          out << "}\n";
          ++summary.lines;
        }
        break;
      case MarketEventType::kline:
        for (const MarketEvent& e : decoded) {
          out << "{\"type\":\"kline\",\"symbol\":\"" << symbols.name(e.symbol)
              << "\",\"start\":" << ms(e.exch_ts) << ",\"recv_ts\":" << e.recv_ts
              << ",\"interval_min\":" << e.aux;
          put_decimal_field(out, "open", e.kline.open);
          put_decimal_field(out, "high", e.kline.high);
          put_decimal_field(out, "low", e.kline.low);
          put_decimal_field(out, "close", e.kline.close);
          put_decimal_field(out, "volume", e.kline.volume);
          out << ",\"confirmed\":" << ((e.flags & kFlagConfirmed) != 0 ? "true" : "false") << "}\n";
          ++summary.lines;
        }
        break;
    }
  }
  summary.torn_tail = reader.torn();
  return summary;
}

bool write_capture_book(const CaptureBookOptions& options, std::ostream& out, std::string& why) {
  feed::CaptureReader reader = feed::CaptureReader::open(options.file);
  feed::SymbolTable symbols(4096);
  feed::BybitDecoder decoder(symbols, feed::BybitDecoderConfig{kMaxMessage, 32});
  std::vector<MarketEvent> events(feed::BybitDecoder::kRecommendedEventCapacity);
  // One book per stream (connection): a capture may hold the same symbol from two markets
  // (linear and spot), whose books must not be mixed.
  std::map<std::uint16_t, std::unique_ptr<feed::OrderBook>> books;
  std::map<std::uint16_t, std::string> urls;
  std::uint64_t gaps = 0;
  feed::CaptureRecord record;
  while (reader.next(record)) {
    if (record.kind == feed::RecordKind::connection_opened)
      urls[record.stream] = std::string(record.payload);
    if (record.kind != feed::RecordKind::text_message)
      continue;
    if (options.stream >= 0 && record.stream != options.stream)
      continue;
    const feed::DecodeResult result =
        decoder.decode(record.payload, record.recv_ts_ns, std::span(events));
    if (!result.is_data() || result.events == 0 ||
        events.front().type != MarketEventType::book_level ||
        symbols.name(events.front().symbol) != options.symbol)
      continue;
    std::unique_ptr<feed::OrderBook>& book = books[record.stream];
    if (!book)
      book = std::make_unique<feed::OrderBook>(1000, events.front().symbol);
    const feed::BookStatus status =
        book->apply(std::span<const MarketEvent>(events.data(), result.events));
    gaps += status == feed::BookStatus::resync_needed ? 1U : 0U;
  }
  if (books.empty()) {
    why = "no order book messages for " + options.symbol + " in " + options.file;
    return false;
  }
  if (books.size() > 1) {
    why = options.symbol + " has books on several streams of " + options.file + ":";
    for (const auto& [stream, book] : books)
      why += " " + std::to_string(stream) + " (" +
             (urls.count(stream) != 0 ? urls[stream] : std::string("no connection record")) + ")";
    why += "; choose one with --stream";
    return false;
  }
  const feed::OrderBook& book = *books.begin()->second;
  if (!book.valid()) {
    why = "the book of " + options.symbol + " is not valid at the end of " + options.file +
          " (a gap in the update ids with no snapshot after it; " + std::to_string(gaps) +
          " gap(s) in all)";
    return false;
  }
  out << "{\"symbol\":\"" << options.symbol << "\",\"update_id\":" << book.update_id()
      << ",\"exch_ts\":" << ms(book.exch_ts()) << ",\"bids\":";
  put_book_levels(out, book.bids(), options.depth);
  out << ",\"asks\":";
  put_book_levels(out, book.asks(), options.depth);
  out << "}\n";
  return true;
}

CaptureDumpCommands add_capture_dump_commands(CLI::App& capture, CaptureDumpOptions& dump,
                                              CaptureBookOptions& book) {
  CLI::App* dump_cmd = capture.add_subcommand(
      "dump",
      "Print the decoded events of a kinetic capture (kinetic record, kinetic capture import) "
      "as JSON lines: trades, book snapshots and deltas, tickers, klines, connection records");
  dump_cmd->add_option("file", dump.file, "Capture file")->required()->check(CLI::ExistingFile);
  dump_cmd->add_option("--symbol", dump.symbol, "Only this symbol (default: all)");
  dump_cmd->add_option("--out", dump.out,
                       "Write here, complete or not at all (default: standard output)");
  CLI::App* book_cmd = capture.add_subcommand(
      "book",
      "Rebuild a symbol's order book from a kinetic capture and print it as it stands after "
      "the last event, as one JSON object");
  book_cmd->add_option("file", book.file, "Capture file")->required()->check(CLI::ExistingFile);
  book_cmd->add_option("--symbol", book.symbol, "Symbol, e.g. BTCUSDT")->required();
  book_cmd->add_option("--depth", book.depth, "Levels per side to print (default: all)");
  book_cmd->add_option("--stream", book.stream,
                       "Only this stream (connection number of the capture), when the symbol "
                       "has books on several (e.g. linear and spot)");
  return {dump_cmd, book_cmd};
}

int run_capture_dump(const CaptureDumpOptions& options) {
  CaptureDumpSummary summary;
  if (options.out.empty()) {
    std::ios::sync_with_stdio(false);
    summary = write_capture_dump(options.file, options.symbol, std::cout);
    std::cout.flush();
  } else {
    AtomicOutputFile out(options.out);
    summary = write_capture_dump(options.file, options.symbol, out.stream());
    out.commit();
  }
  std::fprintf(stderr, "capture dump: %llu records, %llu messages, %llu lines, %llu malformed%s\n",
               static_cast<unsigned long long>(summary.records),
               static_cast<unsigned long long>(summary.messages),
               static_cast<unsigned long long>(summary.lines),
               static_cast<unsigned long long>(summary.malformed),
               summary.torn_tail ? "; a torn last record was ignored" : "");
  return 0;
}

int run_capture_book(const CaptureBookOptions& options) {
  std::string why;
  if (!write_capture_book(options, std::cout, why)) {
    std::fprintf(stderr, "kinetic capture book: %s\n", why.c_str());
    return 1;
  }
  return 0;
}

}  // namespace kinetic::tools
