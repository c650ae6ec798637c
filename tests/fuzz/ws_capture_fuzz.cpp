// libFuzzer target for the Bybit WebSocket capture reader (kinetic/feed/ws_capture.hpp).
//
// For arbitrary bytes:
//  - the whole input as one line through CaptureLineDecoder::decode;
//  - the whole input as a capture (plain, or zstd when it starts with the magic) through
//    WsCaptureTradeReader over memory; CaptureError is an accepted outcome, nothing else is;
//  - the same bytes zstd-compressed (at a level chosen by the input) must give exactly the
//    same trades and counters as the plain read, and a truncated copy of the compressed bytes
//    must either end cleanly or throw CaptureError.
// Every yielded trade must be self-consistent: side buy/sell, price/qty equal to a fresh parse
// of their wire text, views non-null. Any disagreement aborts with a message.
//
// Build: cmake --preset fuzz && cmake --build --preset fuzz --target ws_capture_fuzz
// Run: build/fuzz/tests/fuzz/ws_capture_fuzz -max_total_time=60 <copy of
//      tests/fuzz/corpus/ws_capture>

#include <zstd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kinetic/feed/ws_capture.hpp"

namespace {

using kinetic::Price;
using kinetic::Qty;
using kinetic::Side;
using kinetic::feed::CaptureCounters;
using kinetic::feed::CaptureError;
using kinetic::feed::CaptureLineDecoder;
using kinetic::feed::CaptureLineSource;
using kinetic::feed::CaptureTrade;
using kinetic::feed::WsCaptureTradeReader;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "ws_capture_fuzz: %s\n", what);
  std::abort();
}

/// FNV-1a over a trade's fields, so two reads can be compared without storing the trades.
struct Digest {
  std::uint64_t state = 1469598103934665603ull;
  void add(std::string_view bytes) {
    for (const char c : bytes) {
      state = (state ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
    state = (state ^ 0xFFu) * 1099511628211ull;  // separator
  }
  void add(std::int64_t value) {
    add(std::string_view(reinterpret_cast<const char*>(&value), sizeof value));
  }
};

void check_trade(const CaptureTrade& trade) {
  if (trade.side != Side::buy && trade.side != Side::sell) {
    fail("trade side neither buy nor sell");
  }
  const auto price = Price::parse(trade.price_text);
  const auto qty = Qty::parse(trade.qty_text);
  if (!price.ok() || price.value() != trade.price) {
    fail("price differs from a parse of its wire text");
  }
  if (!qty.ok() || qty.value() != trade.qty) {
    fail("qty differs from a parse of its wire text");
  }
  if (trade.symbol.data() == nullptr || trade.trade_id.data() == nullptr) {
    fail("null view in a trade");
  }
}

struct ReadOutcome {
  bool threw = false;
  std::uint64_t digest = 0;
  CaptureCounters counters;
};

ReadOutcome read_capture(std::string_view bytes) {
  ReadOutcome outcome;
  Digest digest;
  try {
    WsCaptureTradeReader reader(CaptureLineSource::from_memory(bytes, "fuzz"));
    CaptureTrade trade;
    while (reader.next(trade)) {
      check_trade(trade);
      digest.add(static_cast<std::int64_t>(trade.line));
      digest.add(trade.category);
      digest.add(trade.symbol);
      digest.add(trade.price_text);
      digest.add(trade.qty_text);
      digest.add(trade.trade_id);
      digest.add(trade.trade_time_ms);
      digest.add(trade.recv_time_ns);
      digest.add(trade.message_ts_ms);
      digest.add(static_cast<std::int64_t>(trade.side));
    }
    outcome.counters = reader.counters();
  } catch (const CaptureError&) {
    outcome.threw = true;
  }
  outcome.digest = digest.state;
  return outcome;
}

bool same(const CaptureCounters& a, const CaptureCounters& b) {
  return a.lines == b.lines && a.other_lines == b.other_lines &&
         a.connect_lines == b.connect_lines && a.trade_messages == b.trade_messages &&
         a.filtered_messages == b.filtered_messages && a.trades == b.trades &&
         a.malformed_line_kinds == b.malformed_line_kinds &&
         a.malformed_trade_kinds == b.malformed_trade_kinds;
}

bool starts_with_zstd_magic(std::string_view bytes) {
  return bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("\x28\xB5\x2F\xFD", 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // 1. The whole input as one line.
  {
    CaptureLineDecoder decoder;
    static_cast<void>(decoder.decode(bytes, 1));
    for (const CaptureTrade& trade : decoder.trades()) {
      check_trade(trade);
    }
    if (decoder.counters().lines != 1) {
      fail("one decode must count one line");
    }
  }

  // 2. The whole input as a capture.
  const ReadOutcome plain = read_capture(bytes);
  if (starts_with_zstd_magic(bytes)) {
    return 0;  // already exercised the decompressor; no plain reference to compare with
  }
  if (plain.threw) {
    fail("plain text must never throw");
  }

  // 3. Compressed, the same bytes must give the same trades and counters.
  const int level = size > 0 ? 1 + data[size - 1] % 5 : 1;
  std::string compressed(ZSTD_compressBound(size), '\0');
  const std::size_t compressed_size =
      ZSTD_compress(compressed.data(), compressed.size(), bytes.data(), size, level);
  if (ZSTD_isError(compressed_size) != 0) {
    fail("ZSTD_compress failed");
  }
  compressed.resize(compressed_size);
  const ReadOutcome unpacked = read_capture(compressed);
  if (unpacked.threw) {
    fail("a valid zstd stream threw");
  }
  if (unpacked.digest != plain.digest || !same(unpacked.counters, plain.counters)) {
    fail("compressed read differs from plain read");
  }

  // 4. A truncated compressed copy: a clean end or CaptureError, nothing else.
  const std::size_t cut = size > 0 ? data[0] % compressed.size() : 0;
  static_cast<void>(read_capture(std::string_view(compressed).substr(0, cut)));
  return 0;
}
