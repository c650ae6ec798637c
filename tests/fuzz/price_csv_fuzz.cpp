// libFuzzer target for the price CSV reader.
//
// For arbitrary bytes:
//  - parse_timestamp must not crash; what it accepts must agree with a slow reference for the
//    epoch forms (digits read into 128-bit integers here) and, for ISO-8601 text, the day part
//    must agree with std::chrono's calendar;
//  - split_csv_record must leave the record unchanged when it refuses it, report at least one
//    field when it accepts it, and only hand out views inside the record;
//  - PriceCsvReader over the bytes as a stream, with the automatic price column and with a
//    column named by the first input byte, may refuse with CsvError ("line N: ..."), and every
//    row it yields has a finite price > 0 equal to its text read again, a time equal to its
//    text parsed again, and a line number that increases.
// Any other exception escaping is a bug (libFuzzer reports it as a crash).

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "kinetic/feed/price_csv.hpp"

namespace {

using kinetic::feed::TimestampKind;

void check(bool condition) {
  if (!condition) {
    __builtin_trap();
  }
}

bool all_digits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return !text.empty();
}

// Digits as a 128-bit value, saturating far above anything an int64 of nanoseconds can hold.
__int128 reference_number(std::string_view digits) {
  __int128 value = 0;
  for (const char c : digits) {
    value = value * 10 + (c - '0');
    if (value > (__int128{1} << 100)) {
      value = __int128{1} << 100;
    }
  }
  return value;
}

bool fits_int64(__int128 value) {
  return value >= INT64_MIN && value <= INT64_MAX;
}

void check_timestamp(std::string_view text) {
  TimestampKind kind = TimestampKind::iso8601;
  const auto parsed = kinetic::feed::parse_timestamp(text, &kind);
  check(parsed.ok() == kinetic::feed::parse_timestamp_ns(text).has_value());
  if (!parsed.ok()) {
    check(!kinetic::feed::describe(parsed.error()).empty());
  }

  const std::size_t dot = text.find('.');
  if (all_digits(text)) {
    // Integer epoch: milliseconds from 12 digits on, else seconds.
    const __int128 scale = text.size() >= 12 ? 1'000'000 : 1'000'000'000;
    const __int128 expected = reference_number(text) * scale;
    check(parsed.ok() == fits_int64(expected));
    if (parsed.ok()) {
      check(parsed.value() == expected);
      check(kind == (text.size() >= 12 ? TimestampKind::epoch_ms : TimestampKind::epoch_seconds));
    }
  } else if (dot != std::string_view::npos && all_digits(text.substr(0, dot)) &&
             all_digits(text.substr(dot + 1)) && text.size() - dot - 1 <= 9) {
    // Seconds with a fraction.
    std::string fraction(text.substr(dot + 1));
    fraction.resize(9, '0');
    const __int128 expected =
        reference_number(text.substr(0, dot)) * 1'000'000'000 + reference_number(fraction);
    check(parsed.ok() == fits_int64(expected));
    if (parsed.ok()) {
      check(parsed.value() == expected);
      check(kind == TimestampKind::epoch_seconds);
    }
  } else if (parsed.ok()) {
    check(kind == TimestampKind::iso8601);
    check(text.size() >= 10 && all_digits(text.substr(0, 4)) && text[4] == '-');
    // The calendar date must be a real one, and with no time part the value is its midnight.
    const int year = static_cast<int>(reference_number(text.substr(0, 4)));
    const unsigned month = static_cast<unsigned>(reference_number(text.substr(5, 2)));
    const unsigned day = static_cast<unsigned>(reference_number(text.substr(8, 2)));
    const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                           std::chrono::day{day}};
    check(date.ok());
    if (text.size() == 10) {
      const std::chrono::sys_days days{date};
      check(parsed.value() ==
            static_cast<std::int64_t>(days.time_since_epoch().count()) * 86'400'000'000'000);
    }
  }
}

void check_split(std::string_view text) {
  std::vector<char> record(text.begin(), text.end());
  const std::vector<char> original = record;
  std::string_view fields[4];
  const kinetic::feed::CsvSplit split = kinetic::feed::split_csv_record(record, fields);
  if (split.error != kinetic::feed::CsvSplitError::ok) {
    check(record == original);
    return;
  }
  check(split.field_count >= 1);
  const char* const begin = record.data();
  const char* const end = record.data() + record.size();
  for (std::size_t i = 0; i < split.field_count && i < 4; ++i) {
    check(fields[i].empty() ||
          (fields[i].data() >= begin && fields[i].data() + fields[i].size() <= end));
  }
}

void check_reader(std::string_view text, std::string_view column) {
  std::istringstream input{std::string(text)};
  try {
    kinetic::feed::PriceCsvReader reader = kinetic::feed::PriceCsvReader::open(input, column);
    if (!column.empty()) {
      check(reader.column_name() == column);
    }
    kinetic::feed::PriceRow row;
    std::size_t previous_line = 1;
    for (int attempts = 0; attempts < 100'000; ++attempts) {
      try {
        if (!reader.next(row)) {
          break;
        }
      } catch (const kinetic::feed::CsvError& error) {
        check(error.line() > previous_line);
        check(std::string_view(error.what()).starts_with("line "));
        previous_line = error.line();
        continue;  // the reader carries on with the next record
      }
      check(row.line > previous_line);
      previous_line = row.line;
      check(std::isfinite(row.price) && row.price > 0.0);
      double again = 0.0;
      const auto [stop, status] = std::from_chars(
          row.price_text.data(), row.price_text.data() + row.price_text.size(), again);
      check(status == std::errc{} && stop == row.price_text.data() + row.price_text.size());
      check(again == row.price);
      TimestampKind kind = TimestampKind::iso8601;
      check(kinetic::feed::parse_timestamp_ns(row.timestamp_text, &kind) == row.time_ns);
      check(kind == row.timestamp_kind && kind == reader.timestamp_kind());
    }
  } catch (const kinetic::feed::CsvError& error) {
    check(std::string_view(error.what()).starts_with("line "));
    check(error.line() >= 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);  // NOLINT: bytes as text
  // Short inputs are most useful as timestamps; every input is tried every way anyway.
  check_timestamp(bytes);
  const std::size_t first_line = bytes.find('\n');
  if (first_line != std::string_view::npos) {
    check_timestamp(bytes.substr(0, first_line));
  }
  check_split(bytes);
  check_reader(bytes, {});
  // A named column: the text of the first header field after the first comma, when there is one,
  // so that the fuzzer can reach rows through an explicit name as well.
  const std::size_t comma = bytes.find(',');
  if (comma != std::string_view::npos && first_line != std::string_view::npos &&
      comma < first_line) {
    const std::string_view rest = bytes.substr(comma + 1, first_line - comma - 1);
    const std::string_view name = rest.substr(0, rest.find(','));
    if (!name.empty() && name.find('"') == std::string_view::npos &&
        name.find('\r') == std::string_view::npos) {
      check_reader(bytes, name);
    }
  }
  check_reader(bytes, "open");
  return 0;
}
