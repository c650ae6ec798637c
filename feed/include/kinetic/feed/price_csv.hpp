#pragma once
// Streaming reader of price time series from CSV files (tool code, not the hot path).
//
// Reads Bybit kline exports (`timestamp,open,high,low,close,volume`, ISO timestamps), Bybit
// public trade CSVs (`timestamp,...,price,...`, epoch seconds with a fraction) and trade CSVs
// with integer millisecond timestamps, one row at a time, without allocating per row.
//
// Format accepted ("RFC 4180-ish"):
//  - fields separated by ',', optionally enclosed in double quotes with "" as an escaped quote;
//    a quoted field may span lines; a quote inside an unquoted field is taken literally;
//    no spaces are trimmed (" 1.5" is not a number);
//  - LF or CRLF line endings; a UTF-8 BOM before the header is skipped; empty lines after the
//    header are skipped wherever they are;
//  - a header row is required. Timestamp column: `timestamp`, else `time`, else `ts`. Price
//    column: the name given (exact, case-sensitive), else `price`, else `close`. If a name
//    appears twice the first one is used. Extra columns are ignored; a row with too few
//    fields for the two columns is an error.
//
// Timestamp formats, decided per value (see parse_timestamp):
//  - all digits, 12 or more  -> integer milliseconds since the Unix epoch;
//  - all digits, 11 or fewer -> integer seconds since the Unix epoch;
//  - digits '.' digits       -> seconds with a fraction of 1 to 9 digits, parsed exactly;
//  - ISO-8601: `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DD[T| ]HH:MM[:SS[.f]][offset]` with
//    1 to 9 fraction digits and offset `Z`, `+HH:MM`, `-HH:MM`, `+HHMM` or `+HH` (no offset
//    means UTC). Second 60 (a leap second) is rejected: Unix time has no place for it.
// All convert to signed 64-bit nanoseconds since 1970-01-01T00:00:00Z, so the representable
// range is 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z; a sign in front
// of an epoch number is rejected.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kinetic/core/result.hpp"

namespace kinetic::feed {

/// How a timestamp was written.
enum class TimestampKind : std::uint8_t { epoch_ms, epoch_seconds, iso8601 };

/// Why a timestamp was refused. `ok` (zero) means success, as kinetic::Result requires.
enum class TimestampError : std::uint8_t {
  ok = 0,
  empty,         ///< no characters
  bad_format,    ///< matches none of the accepted forms
  too_precise,   ///< more than 9 fractional digits
  bad_date,      ///< month not 1..12 or day not in the month (leap years included)
  bad_time,      ///< hour > 23, minute > 59 or second > 59
  bad_offset,    ///< UTC offset hour > 23 or minute > 59
  out_of_range,  ///< outside what int64 nanoseconds since the epoch can hold
};

/// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar (negative before
/// it). Month 1..12 and day 1..31 are the caller's to check; any year is accepted.
[[nodiscard]] constexpr std::int64_t days_from_civil(std::int64_t year, unsigned month,
                                                     unsigned day) noexcept {
  // Counting whole years since 0001-01-01 gives the leap days before a year directly; floor
  // division keeps the count right for years before 1.
  constexpr unsigned kDaysBeforeMonth[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  constexpr std::int64_t kDaysFrom0001To1970 = 719'162;
  const auto floor_div = [](std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
  };
  const std::int64_t years_before = year - 1;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  std::int64_t days = 365 * years_before + floor_div(years_before, 4) -
                      floor_div(years_before, 100) + floor_div(years_before, 400);
  days += kDaysBeforeMonth[(month - 1) % 12] + ((month > 2 && leap) ? 1 : 0);
  days += static_cast<std::int64_t>(day) - 1;
  return days - kDaysFrom0001To1970;
}

/// Parses one timestamp (the forms listed at the top of this file) into nanoseconds since the
/// Unix epoch. Pure; never allocates; any bytes are safe. `kind`, when given, receives the
/// form on success.
[[nodiscard]] Result<std::int64_t, TimestampError> parse_timestamp(
    std::string_view text, TimestampKind* kind = nullptr) noexcept;

/// parse_timestamp without the reason: empty on failure.
[[nodiscard]] std::optional<std::int64_t> parse_timestamp_ns(
    std::string_view text, TimestampKind* kind = nullptr) noexcept;

/// Words for a TimestampError, e.g. "is not a valid date" (meant to follow the quoted value).
[[nodiscard]] std::string_view describe(TimestampError error) noexcept;

/// Why a record could not be split.
enum class CsvSplitError : std::uint8_t {
  ok = 0,
  unterminated_quote,        ///< a quoted field does not close before the end of the record
  text_after_closing_quote,  ///< something other than ',' follows a closing quote
};

/// Outcome of split_csv_record: the error, and on success the number of fields in the record
/// (always >= 1: an empty record is one empty field).
struct CsvSplit {
  CsvSplitError error = CsvSplitError::ok;
  std::size_t field_count = 0;
};

/// Splits one CSV record (without its line ending) in place. Quoted fields lose their quotes
/// and have "" turned into " by moving bytes inside `record`; views of the first
/// `fields.size()` fields are written to `fields` and point into `record`. Later fields are
/// checked and counted, not stored. On an error `record` is left unchanged and `fields`
/// holds nothing useful. Pure, noexcept, no allocation; any bytes are safe.
[[nodiscard]] CsvSplit split_csv_record(std::span<char> record,
                                        std::span<std::string_view> fields) noexcept;

/// A bad header or row. what() is "line N: reason"; N is the 1-based line of the file where
/// the record starts.
class CsvError : public std::runtime_error {
 public:
  CsvError(std::size_t line, std::string reason);
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::size_t line_;
  std::string reason_;
};

/// One data row. The views point into the reader's record buffer: valid until the next call
/// to next() on the same reader.
struct PriceRow {
  std::size_t line = 0;      ///< 1-based line of the file where the row starts
  std::int64_t time_ns = 0;  ///< nanoseconds since the Unix epoch, UTC
  double price = 0.0;        ///< finite and > 0
  TimestampKind timestamp_kind = TimestampKind::iso8601;
  std::string_view timestamp_text;  ///< the field as written (quotes removed)
  std::string_view price_text;      ///< the field as written (quotes removed)
};

/// Reads (time, price) rows from a CSV stream. Holds a reference to the stream, which the
/// caller owns and must keep alive while reading; owns its record buffer, which is reused so
/// that next() does not allocate once the longest line has been seen. Movable; one thread at
/// a time. Does not check that times increase (trade files repeat them).
class PriceCsvReader {
 public:
  /// Longest record accepted, in bytes: a stray quote would otherwise join the rest of the
  /// file into one record.
  static constexpr std::size_t kMaxRecordBytes = 1 << 20;

  /// Reads the header and chooses the columns. `price_column` empty: `price`, else `close`.
  /// Throws CsvError (line 1) on an empty file, a malformed header or a missing column; a
  /// missing column's message lists the header's columns.
  [[nodiscard]] static PriceCsvReader open(std::istream& input, std::string_view price_column = {});

  /// Reads the next row into `row`. Returns false at the end of the input; throws CsvError
  /// for a malformed row or a read error. After a throw the reader may be used again: it
  /// carries on with the next record.
  [[nodiscard]] bool next(PriceRow& row);

  /// Header names, in file order.
  [[nodiscard]] const std::vector<std::string>& header() const noexcept { return header_; }
  /// The price column chosen (the name as in the header).
  [[nodiscard]] const std::string& column_name() const noexcept { return header_[price_index_]; }
  [[nodiscard]] const std::string& timestamp_column_name() const noexcept {
    return header_[timestamp_index_];
  }
  /// Form of the last timestamp read (meaningful once next() has returned true).
  [[nodiscard]] TimestampKind timestamp_kind() const noexcept { return last_kind_; }
  /// Lines read so far (the last line of the last record).
  [[nodiscard]] std::size_t lines_read() const noexcept { return line_number_; }

 private:
  explicit PriceCsvReader(std::istream& input) noexcept : input_(&input) {}

  // Reads one physical line into `into` (line ending stripped). False at end of input.
  bool read_line(std::string& into);
  // Splits the record in `record_` into `fields_`, first joining further lines while a quoted
  // field is open. `grow`: size `fields_` to hold every field (the header) instead of only the
  // columns needed. Returns the record's field count.
  std::size_t split_record(std::size_t record_line, bool grow);

  std::istream* input_;
  std::string record_;        // current record, reused
  std::string continuation_;  // next physical line while joining a quoted field
  std::vector<std::string> header_;
  std::vector<std::string_view> fields_;  // views of the columns needed, reused
  std::size_t timestamp_index_ = 0;
  std::size_t price_index_ = 0;
  std::size_t line_number_ = 0;
  TimestampKind last_kind_ = TimestampKind::iso8601;
};

}  // namespace kinetic::feed
