#pragma once
// Reader of raw Bybit v5 WebSocket captures in cryptofeed's JSON-lines format (format 2),
// plain or zstd-compressed, that yields the public trades (`publicTrade.<SYMBOL>` topics).
//
// Each line of a capture is one record: {"t":"connect"|"recv"|"send"|"http"|"header",
// "conn":..., "ts":<float epoch seconds>, ...}. A `recv` record's `data` is the raw frame text
// as a JSON string, so the frame is parsed a second time. `connect` records give each
// connection's address; its last path segment ("linear", "spot", ...) is the category.
//
// This is tool code (replay, research, tests), not hot path: it allocates, and it throws
// CaptureError for open, read and decompression failures. Malformed records are counted
// and skipped, never thrown.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::feed {

/// An I/O, open or decompression failure. The message starts with the file name (or the
/// name given to an in-memory source), e.g. "x.zst: truncated zstd data (...)".
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Lines of a file or of an in-memory buffer. When the bytes start with the zstd frame magic
/// (0xFD2FB528, little-endian) they are decompressed on the fly with libzstd's streaming API;
/// otherwise they are read as plain text. Lines end at '\n'; a trailing '\r' is dropped; a
/// last line without '\n' is still a line.
///
/// Ownership: owns its file handle, decompression context and buffers; an in-memory source
/// only views its bytes, which the caller keeps alive. Not thread-safe; movable, not copyable.
class CaptureLineSource {
 public:
  /// Opens `path`; throws CaptureError("PATH: cannot open: <strerror>").
  [[nodiscard]] static CaptureLineSource open_file(const std::string& path);
  /// Reads `bytes` (not copied; must outlive the source). `name` prefixes error messages.
  [[nodiscard]] static CaptureLineSource from_memory(std::string_view bytes,
                                                     std::string name = "<memory>");

  CaptureLineSource(CaptureLineSource&&) noexcept;
  CaptureLineSource& operator=(CaptureLineSource&&) noexcept;
  CaptureLineSource(const CaptureLineSource&) = delete;
  CaptureLineSource& operator=(const CaptureLineSource&) = delete;
  ~CaptureLineSource();

  /// The next line, without its terminator, in `line` (valid until the next call).
  /// Returns false at the end. Throws CaptureError on a read error ("NAME: read error: ..."),
  /// corrupt zstd data ("NAME: corrupt zstd data: <ZSTD_getErrorName>") or a stream that
  /// ends inside a zstd frame ("NAME: truncated zstd data ...").
  bool next(std::string_view& line);

  /// 1-based number of the line last returned by next(); 0 before the first.
  [[nodiscard]] std::size_t line_number() const noexcept;
  /// True when the input was recognised as zstd.
  [[nodiscard]] bool compressed() const noexcept;
  [[nodiscard]] const std::string& name() const noexcept;

 private:
  struct Impl;
  explicit CaptureLineSource(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// One public trade from a capture. Value type; the string_views point into the decoder's
/// buffers and stay valid until the next decode (the reader's next call).
struct CaptureTrade {
  std::size_t line = 0;            ///< 1-based line of the capture holding the trade
  std::string_view category;       ///< from the connection's address; empty if unknown conn
  std::string_view symbol;         ///< the trade's `s`
  Side side = Side::none;          ///< taker side, from `S` ("Buy" / "Sell")
  Price price{};                   ///< `p`, exact
  Qty qty{};                       ///< `v`, exact
  std::string_view price_text;     ///< `p` as on the wire
  std::string_view qty_text;       ///< `v` as on the wire
  std::int64_t trade_time_ms = 0;  ///< `T`, exchange trade time, Unix ms
  std::int64_t recv_time_ns = 0;   ///< outer `ts` (local receive time), Unix ns, from its text
  std::string_view trade_id;       ///< `i`
  std::int64_t message_ts_ms = 0;  ///< the frame's `ts`, Unix ms
};

/// Which trades to keep. Empty strings match everything. Compared with the topic's symbol
/// (`publicTrade.<SYMBOL>`) and the connection's category.
struct CaptureFilter {
  std::string symbol;
  std::string category;
};

/// What one line turned out to be.
enum class CaptureLineKind : std::uint8_t {
  other,      ///< blank, header/http/send records, non-trade frames (acks, books, tickers)
  connect,    ///< a `connect` record (connection → category learnt)
  trades,     ///< a publicTrade frame that passed the filter (it may hold zero good trades)
  filtered,   ///< a publicTrade frame that the filter rejected (its trades not decoded)
  malformed,  ///< counted in malformed_lines
};

/// Why a line was rejected as a whole.
enum class MalformedLine : std::uint8_t {
  outer_json,     ///< the line is not one valid JSON object
  record_field,   ///< `t` missing, or a connect/recv record's conn/addr/ts/data missing or mistyped
  inner_json,     ///< a recv record's frame text is not one valid JSON object
  message_field,  ///< a publicTrade frame's topic, `ts` or `data` (array) missing or mistyped
};
inline constexpr std::size_t kMalformedLineKinds = 4;

/// Why one trade inside a good publicTrade frame was skipped.
enum class MalformedTrade : std::uint8_t {
  not_object,     ///< an element of `data` that is not an object
  missing_field,  ///< one of T, s, S, v, p, i absent
  wrong_type,     ///< T not an int64, or s/S/v/p/i not a string
  bad_side,       ///< S neither "Buy" nor "Sell"
  bad_price,      ///< p refused by Price::parse
  bad_qty,        ///< v refused by Qty::parse
};
inline constexpr std::size_t kMalformedTradeKinds = 6;

/// Running totals of a decoder. Plain value type.
struct CaptureCounters {
  std::uint64_t lines = 0;           ///< every line given to decode
  std::uint64_t other_lines = 0;     ///< CaptureLineKind::other
  std::uint64_t connect_lines = 0;   ///< CaptureLineKind::connect
  std::uint64_t trade_messages = 0;  ///< CaptureLineKind::trades
  std::uint64_t filtered_messages = 0;
  std::uint64_t trades = 0;  ///< good trades yielded
  std::array<std::uint64_t, kMalformedLineKinds> malformed_line_kinds{};
  std::array<std::uint64_t, kMalformedTradeKinds> malformed_trade_kinds{};

  [[nodiscard]] std::uint64_t malformed_lines() const noexcept;
  [[nodiscard]] std::uint64_t malformed_trades() const noexcept;
  [[nodiscard]] std::uint64_t malformed_lines(MalformedLine kind) const noexcept {
    return malformed_line_kinds[static_cast<std::size_t>(kind)];
  }
  [[nodiscard]] std::uint64_t malformed_trades(MalformedTrade kind) const noexcept {
    return malformed_trade_kinds[static_cast<std::size_t>(kind)];
  }
};

/// Decodes capture lines one at a time, without any I/O (the fuzzer drives it directly).
/// Remembers connect records (conn → category) across lines. Two simdjson on-demand parsers
/// (outer record, inner frame) and padded copy buffers are created once and reused; they grow
/// to the longest line seen. Key order does not matter; unknown fields are ignored.
///
/// Ownership: owns its parsers and buffers. Not thread-safe; movable, not copyable.
class CaptureLineDecoder {
 public:
  explicit CaptureLineDecoder(CaptureFilter filter = {});
  CaptureLineDecoder(CaptureLineDecoder&&) noexcept;
  CaptureLineDecoder& operator=(CaptureLineDecoder&&) noexcept;
  CaptureLineDecoder(const CaptureLineDecoder&) = delete;
  CaptureLineDecoder& operator=(const CaptureLineDecoder&) = delete;
  ~CaptureLineDecoder();

  /// Decodes one line (any bytes; it is copied, so it need not be padded). The good trades
  /// of a publicTrade frame are then in trades(), in wire order. Never throws for bad input
  /// (only std::bad_alloc).
  CaptureLineKind decode(std::string_view line, std::size_t line_number);

  /// The trades of the last decode; views valid until the next decode.
  [[nodiscard]] std::span<const CaptureTrade> trades() const noexcept;
  [[nodiscard]] const CaptureCounters& counters() const noexcept;
  /// The reason of the last malformed line (meaningful only when decode returned malformed).
  [[nodiscard]] MalformedLine last_malformed() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Iterates the public trades of a capture, every trade of every batch, in file order.
///
/// Ownership: owns its line source and decoder. Not thread-safe; movable, not copyable.
class WsCaptureTradeReader {
 public:
  /// Opens a file (zstd or plain); throws CaptureError when it cannot be opened.
  explicit WsCaptureTradeReader(const std::string& path, CaptureFilter filter = {});
  explicit WsCaptureTradeReader(CaptureLineSource source, CaptureFilter filter = {});

  /// The next trade in `trade` (views valid until the next call); false at the end.
  /// Throws CaptureError on read or decompression errors.
  bool next(CaptureTrade& trade);

  [[nodiscard]] std::uint64_t lines() const noexcept { return decoder_.counters().lines; }
  [[nodiscard]] std::uint64_t trades() const noexcept { return decoder_.counters().trades; }
  [[nodiscard]] std::uint64_t malformed_lines() const noexcept {
    return decoder_.counters().malformed_lines();
  }
  [[nodiscard]] std::uint64_t malformed_trades() const noexcept {
    return decoder_.counters().malformed_trades();
  }
  [[nodiscard]] const CaptureCounters& counters() const noexcept { return decoder_.counters(); }
  [[nodiscard]] bool compressed() const noexcept { return source_.compressed(); }

 private:
  CaptureLineSource source_;
  CaptureLineDecoder decoder_;
  std::size_t pending_ = 0;  ///< index of the next trade of the current line to hand out
};

/// Parses a JSON number's text as epoch seconds into nanoseconds without going through a
/// double: "[-]digits[.digits]", fraction digits beyond 9 are cut. False for anything else
/// (exponents, empty, overflow). Exposed for tests.
[[nodiscard]] bool parse_epoch_seconds_ns(std::string_view text, std::int64_t& out) noexcept;

}  // namespace kinetic::feed
