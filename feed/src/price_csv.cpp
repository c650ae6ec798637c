#include "kinetic/feed/price_csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <istream>
#include <system_error>
#include <utility>

namespace kinetic::feed {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kNanosPerMilli = 1'000'000;
constexpr std::size_t kMaxFractionDigits = 9;
// 12 digits of milliseconds start in 1973, 11 digits of seconds end in 5138: the two ranges
// do not overlap for any date the data can hold.
constexpr std::size_t kMinMillisecondDigits = 12;

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

std::size_t count_leading_digits(std::string_view text, std::size_t from = 0) noexcept {
  std::size_t end = from;
  while (end < text.size() && is_digit(text[end])) {
    ++end;
  }
  return end - from;
}

// Digits only, any count (leading zeros included); false on overflow.
bool parse_unsigned(std::string_view digits, std::int64_t& out) noexcept {
  std::int64_t value = 0;
  for (const char c : digits) {
    if (__builtin_mul_overflow(value, std::int64_t{10}, &value) ||
        __builtin_add_overflow(value, std::int64_t{c - '0'}, &value)) {
      return false;
    }
  }
  out = value;
  return true;
}

// 1 to 9 digits after a decimal point, as nanoseconds (exact: no floating point).
std::int64_t fraction_to_nanos(std::string_view digits) noexcept {
  std::int64_t nanos = 0;
  for (std::size_t i = 0; i < kMaxFractionDigits; ++i) {
    nanos = nanos * 10 + (i < digits.size() ? digits[i] - '0' : 0);
  }
  return nanos;
}

// seconds * 1e9 + nanos with 0 <= nanos < 1e9, or false when it does not fit in int64.
bool combine(std::int64_t seconds, std::int64_t nanos, std::int64_t& out) noexcept {
  if (seconds < 0 && nanos > 0) {
    // Borrow a second so that the product cannot overflow on the way to a result that fits.
    seconds += 1;
    nanos -= kNanosPerSecond;
  }
  std::int64_t scaled = 0;
  return !__builtin_mul_overflow(seconds, kNanosPerSecond, &scaled) &&
         !__builtin_add_overflow(scaled, nanos, &out);
}

bool is_leap_year(std::int64_t year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned days_in_month(std::int64_t year, unsigned month) noexcept {
  constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29U : kDays[month - 1];
}

// Left-to-right reader of fixed-width ISO-8601 pieces.
class Cursor {
 public:
  explicit Cursor(std::string_view text) noexcept : text_(text) {}
  [[nodiscard]] bool at_end() const noexcept { return pos_ == text_.size(); }
  [[nodiscard]] bool peek(char c) const noexcept { return pos_ < text_.size() && text_[pos_] == c; }
  bool take(char c) noexcept {
    if (!peek(c)) {
      return false;
    }
    ++pos_;
    return true;
  }
  // Exactly `count` digits.
  bool take_digits(std::size_t count, unsigned& out) noexcept {
    if (text_.size() - pos_ < count) {
      return false;
    }
    unsigned value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = text_[pos_ + i];
      if (!is_digit(c)) {
        return false;
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    pos_ += count;
    out = value;
    return true;
  }
  // All the digits from here (possibly none).
  std::string_view take_digit_run() noexcept {
    const std::size_t count = count_leading_digits(text_, pos_);
    const std::string_view run = text_.substr(pos_, count);
    pos_ += count;
    return run;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

Result<std::int64_t, TimestampError> parse_iso8601(std::string_view text) noexcept {
  Cursor cursor(text);
  unsigned year = 0;
  unsigned month = 0;
  unsigned day = 0;
  if (!cursor.take_digits(4, year) || !cursor.take('-') || !cursor.take_digits(2, month) ||
      !cursor.take('-') || !cursor.take_digits(2, day)) {
    return TimestampError::bad_format;
  }
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  std::int64_t nanos = 0;
  int offset_sign = 0;
  unsigned offset_hours = 0;
  unsigned offset_minutes = 0;
  if (!cursor.at_end()) {
    if (!(cursor.take('T') || cursor.take(' ')) || !cursor.take_digits(2, hour) ||
        !cursor.take(':') || !cursor.take_digits(2, minute)) {
      return TimestampError::bad_format;
    }
    if (cursor.take(':')) {
      if (!cursor.take_digits(2, second)) {
        return TimestampError::bad_format;
      }
      if (cursor.take('.')) {
        const std::string_view fraction = cursor.take_digit_run();
        if (fraction.empty()) {
          return TimestampError::bad_format;
        }
        if (fraction.size() > kMaxFractionDigits) {
          return TimestampError::too_precise;
        }
        nanos = fraction_to_nanos(fraction);
      }
    }
    if (cursor.take('Z')) {
      // UTC, nothing to apply.
    } else if (cursor.peek('+') || cursor.peek('-')) {
      offset_sign = cursor.peek('+') ? 1 : -1;
      cursor.take(offset_sign > 0 ? '+' : '-');
      if (!cursor.take_digits(2, offset_hours)) {
        return TimestampError::bad_format;
      }
      const bool colon = cursor.take(':');
      if ((colon || !cursor.at_end()) && !cursor.take_digits(2, offset_minutes)) {
        return TimestampError::bad_format;
      }
    }
    if (!cursor.at_end()) {
      return TimestampError::bad_format;
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
    return TimestampError::bad_date;
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return TimestampError::bad_time;
  }
  if (offset_hours > 23 || offset_minutes > 59) {
    return TimestampError::bad_offset;
  }
  // Years 0000-9999 keep every term far from int64 limits; only the final scaling can overflow.
  const std::int64_t local_seconds = days_from_civil(year, month, day) * 86'400 +
                                     std::int64_t{hour} * 3'600 + std::int64_t{minute} * 60 +
                                     std::int64_t{second};
  const std::int64_t offset_seconds =
      offset_sign * (std::int64_t{offset_hours} * 3'600 + std::int64_t{offset_minutes} * 60);
  std::int64_t result = 0;
  if (!combine(local_seconds - offset_seconds, nanos, result)) {
    return TimestampError::out_of_range;
  }
  return result;
}

// A value for an error message: control bytes, quotes and backslashes escaped, long values cut.
std::string escaped(std::string_view value) {
  constexpr std::size_t kMaxShown = 64;
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < value.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    if (byte < 0x20 || byte == 0x7f || byte == '"' || byte == '\\') {
      out += '\\';
      out += 'x';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += value[i];
    }
  }
  if (value.size() > kMaxShown) {
    out += "...";
  }
  return out;
}

std::string quoted(std::string_view value) {
  return '"' + escaped(value) + '"';
}

std::string header_list(const std::vector<std::string>& header) {
  constexpr std::size_t kMaxListed = 32;
  std::string out;
  for (std::size_t i = 0; i < header.size() && i < kMaxListed; ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += header[i].empty() ? std::string("\"\"") : escaped(header[i]);
  }
  if (header.size() > kMaxListed) {
    out += ", ... (" + std::to_string(header.size()) + " columns)";
  }
  return out;
}

std::optional<std::size_t> find_column(const std::vector<std::string>& header,
                                       std::string_view name) noexcept {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - header.begin());
}

}  // namespace

Result<std::int64_t, TimestampError> parse_timestamp(std::string_view text,
                                                     TimestampKind* kind) noexcept {
  if (text.empty()) {
    return TimestampError::empty;
  }
  const std::size_t digits = count_leading_digits(text);
  std::int64_t result = 0;
  TimestampKind found = TimestampKind::epoch_seconds;
  if (digits == text.size()) {
    std::int64_t number = 0;
    if (!parse_unsigned(text, number)) {
      return TimestampError::out_of_range;
    }
    found =
        digits >= kMinMillisecondDigits ? TimestampKind::epoch_ms : TimestampKind::epoch_seconds;
    const std::int64_t scale = found == TimestampKind::epoch_ms ? kNanosPerMilli : kNanosPerSecond;
    if (__builtin_mul_overflow(number, scale, &result)) {
      return TimestampError::out_of_range;
    }
  } else if (digits > 0 && text[digits] == '.') {
    const std::string_view fraction = text.substr(digits + 1);
    if (fraction.empty() || count_leading_digits(fraction) != fraction.size()) {
      return TimestampError::bad_format;
    }
    if (fraction.size() > kMaxFractionDigits) {
      return TimestampError::too_precise;
    }
    std::int64_t seconds = 0;
    if (!parse_unsigned(text.substr(0, digits), seconds) ||
        !combine(seconds, fraction_to_nanos(fraction), result)) {
      return TimestampError::out_of_range;
    }
  } else if (digits == 4 && text[4] == '-') {
    const auto iso = parse_iso8601(text);
    if (!iso) {
      return iso.error();
    }
    result = iso.value();
    found = TimestampKind::iso8601;
  } else {
    return TimestampError::bad_format;
  }
  if (kind != nullptr) {
    *kind = found;
  }
  return result;
}

std::optional<std::int64_t> parse_timestamp_ns(std::string_view text,
                                               TimestampKind* kind) noexcept {
  const auto parsed = parse_timestamp(text, kind);
  if (!parsed) {
    return std::nullopt;
  }
  return parsed.value();
}

std::string_view describe(TimestampError error) noexcept {
  switch (error) {
    case TimestampError::ok:
      return "is valid";
    case TimestampError::empty:
      return "is empty";
    case TimestampError::bad_format:
      return "is not a timestamp (expected epoch seconds or milliseconds, or ISO-8601)";
    case TimestampError::too_precise:
      return "has more than 9 fractional digits";
    case TimestampError::bad_date:
      return "is not a valid date";
    case TimestampError::bad_time:
      return "is not a valid time of day";
    case TimestampError::bad_offset:
      return "has an invalid UTC offset";
    case TimestampError::out_of_range:
      return "is out of range (1677-09-21 to 2262-04-11)";
  }
  return "is not a timestamp";
}

CsvSplit split_csv_record(std::span<char> record, std::span<std::string_view> fields) noexcept {
  const std::size_t size = record.size();
  // First pass checks the structure without writing, so that a record with an open quote can be
  // joined with the next line and split again.
  std::size_t count = 0;
  for (std::size_t i = 0;; ++i) {  // i: start of a field
    if (i < size && record[i] == '"') {
      ++i;
      for (;; ++i) {
        if (i >= size) {
          return {CsvSplitError::unterminated_quote, 0};
        }
        if (record[i] == '"') {
          if (i + 1 < size && record[i + 1] == '"') {
            ++i;
            continue;
          }
          ++i;
          break;
        }
      }
      if (i < size && record[i] != ',') {
        return {CsvSplitError::text_after_closing_quote, 0};
      }
    } else {
      while (i < size && record[i] != ',') {
        ++i;
      }
    }
    ++count;
    if (i >= size) {
      break;
    }
  }
  // Second pass: the structure is known to be sound; store views, unescaping quoted fields.
  std::size_t field = 0;
  for (std::size_t i = 0; field < fields.size(); ++i, ++field) {
    if (i < size && record[i] == '"') {
      const std::size_t start = i + 1;
      std::size_t write = start;
      for (std::size_t read = start;; ++read) {
        if (record[read] == '"') {
          if (read + 1 < size && record[read + 1] == '"') {
            record[write++] = '"';
            ++read;
            continue;
          }
          i = read + 1;
          break;
        }
        record[write++] = record[read];
      }
      fields[field] = std::string_view(record.data() + start, write - start);
    } else {
      const std::size_t start = i;
      while (i < size && record[i] != ',') {
        ++i;
      }
      fields[field] = std::string_view(record.data() + start, i - start);
    }
    if (i >= size) {
      break;
    }
  }
  return {CsvSplitError::ok, count};
}

CsvError::CsvError(std::size_t line, std::string reason)
    : std::runtime_error("line " + std::to_string(line) + ": " + reason),
      line_(line),
      reason_(std::move(reason)) {}

PriceCsvReader PriceCsvReader::open(std::istream& input, std::string_view price_column) {
  PriceCsvReader reader(input);
  if (!reader.read_line(reader.record_)) {
    throw CsvError(1, "empty file: no header");
  }
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (std::string_view(reader.record_).starts_with(kUtf8Bom)) {
    reader.record_.erase(0, kUtf8Bom.size());
  }
  if (reader.record_.empty()) {
    throw CsvError(1, "empty header line");
  }
  constexpr bool kGrow = true;
  const std::size_t count = reader.split_record(1, kGrow);
  reader.header_.assign(reader.fields_.begin(),
                        reader.fields_.begin() + static_cast<std::ptrdiff_t>(count));
  const std::vector<std::string>& header = reader.header_;
  constexpr std::size_t header_line = 1;  // where the header record starts

  std::optional<std::size_t> timestamp = find_column(header, "timestamp");
  for (const std::string_view fallback : {"time", "ts"}) {
    if (!timestamp) {
      timestamp = find_column(header, fallback);
    }
  }
  if (!timestamp) {
    throw CsvError(header_line,
                   "no timestamp column: expected 'timestamp', 'time' or 'ts'; header has: " +
                       header_list(header));
  }
  std::optional<std::size_t> price;
  if (!price_column.empty()) {
    price = find_column(header, price_column);
    if (!price) {
      throw CsvError(header_line, "no column named " + quoted(price_column) +
                                      "; header has: " + header_list(header));
    }
  } else {
    price = find_column(header, "price");
    if (!price) {
      price = find_column(header, "close");
    }
    if (!price) {
      throw CsvError(header_line,
                     "no price column: expected 'price' or 'close' (or --column); header has: " +
                         header_list(header));
    }
  }
  reader.timestamp_index_ = *timestamp;
  reader.price_index_ = *price;
  // From here on only the fields up to the last needed column are stored.
  reader.fields_.assign(std::max(*timestamp, *price) + 1, std::string_view{});
  return reader;
}

bool PriceCsvReader::read_line(std::string& into) {
  if (!std::getline(*input_, into)) {
    if (input_->bad()) {
      throw CsvError(line_number_ + 1, "read error");
    }
    return false;
  }
  ++line_number_;
  if (!into.empty() && into.back() == '\r') {
    into.pop_back();
  }
  return true;
}

std::size_t PriceCsvReader::split_record(std::size_t record_line, bool grow) {
  for (;;) {
    if (record_.size() > kMaxRecordBytes) {
      throw CsvError(record_line, "record longer than " + std::to_string(kMaxRecordBytes) +
                                      " bytes (an unterminated quoted field?)");
    }
    if (grow) {
      // A record has at most one field more than it has commas.
      fields_.assign(static_cast<std::size_t>(std::count(record_.begin(), record_.end(), ',')) + 1,
                     std::string_view{});
    }
    const CsvSplit split = split_csv_record(record_, fields_);
    switch (split.error) {
      case CsvSplitError::ok:
        return split.field_count;
      case CsvSplitError::text_after_closing_quote:
        throw CsvError(record_line, "text after the closing quote of a field");
      case CsvSplitError::unterminated_quote:
        if (!read_line(continuation_)) {
          throw CsvError(record_line, "quoted field not closed before the end of the file");
        }
        record_ += '\n';
        record_ += continuation_;
        break;
    }
  }
}

bool PriceCsvReader::next(PriceRow& row) {
  do {
    if (!read_line(record_)) {
      return false;
    }
  } while (record_.empty());
  const std::size_t record_line = line_number_;
  const std::size_t count = split_record(record_line, false);
  if (count < fields_.size()) {
    throw CsvError(record_line, "expected at least " + std::to_string(fields_.size()) +
                                    " fields (for columns " + quoted(timestamp_column_name()) +
                                    " and " + quoted(column_name()) + "), got " +
                                    std::to_string(count));
  }
  const std::string_view timestamp_text = fields_[timestamp_index_];
  const std::string_view price_text = fields_[price_index_];

  TimestampKind kind = TimestampKind::iso8601;
  const auto time = parse_timestamp(timestamp_text, &kind);
  if (!time) {
    if (time.error() == TimestampError::empty) {
      throw CsvError(record_line, "timestamp is empty");
    }
    throw CsvError(record_line, "timestamp " + quoted(timestamp_text) + " " +
                                    std::string(describe(time.error())));
  }

  if (price_text.empty()) {
    throw CsvError(record_line, "price is empty");
  }
  double price = 0.0;
  const char* const end = price_text.data() + price_text.size();
  const auto [stop, status] = std::from_chars(price_text.data(), end, price);
  if (status == std::errc::result_out_of_range) {
    throw CsvError(record_line, "price " + quoted(price_text) + " is out of range");
  }
  if (status != std::errc{} || stop != end) {
    throw CsvError(record_line, "price " + quoted(price_text) + " is not a number");
  }
  if (!std::isfinite(price)) {
    throw CsvError(record_line, "price " + quoted(price_text) + " is not finite");
  }
  if (!(price > 0.0)) {
    throw CsvError(record_line, "price must be > 0, got " + quoted(price_text));
  }

  last_kind_ = kind;
  row.line = record_line;
  row.time_ns = time.value();
  row.price = price;
  row.timestamp_kind = kind;
  row.timestamp_text = timestamp_text;
  row.price_text = price_text;
  return true;
}

}  // namespace kinetic::feed
