#include "kinetic/feed/price_csv.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "alloc_counter.hpp"

namespace kinetic::feed {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;

std::int64_t ts(std::string_view text, TimestampKind* kind = nullptr) {
  const auto parsed = parse_timestamp(text, kind);
  EXPECT_TRUE(parsed.ok()) << "refused: " << text << " (" << describe(parsed.error()) << ")";
  return parsed.value_or(0);
}

TimestampError ts_error(std::string_view text) {
  return parse_timestamp(text).error();
}

// ---- days_from_civil ----

TEST(DaysFromCivil, KnownDates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11'017);
  EXPECT_EQ(days_from_civil(1, 1, 1), -719'162);
  EXPECT_EQ(days_from_civil(0, 12, 31), -719'163);  // year 0 is a leap year (1 BC)
  EXPECT_EQ(days_from_civil(0, 3, 1) - days_from_civil(0, 2, 28), 2);
}

TEST(DaysFromCivil, AgreesWithChronoOnEveryDayOfTheNanosecondRange) {
  namespace chr = std::chrono;
  for (int year = 1677; year <= 2262; ++year) {
    for (unsigned month = 1; month <= 12; ++month) {
      const chr::year_month_day_last last{chr::year{year} / chr::month{month} / chr::last};
      const unsigned month_days = static_cast<unsigned>(last.day());
      for (unsigned day = 1; day <= month_days; ++day) {
        const chr::sys_days reference{chr::year{year} / chr::month{month} / chr::day{day}};
        ASSERT_EQ(days_from_civil(year, month, day), reference.time_since_epoch().count())
            << year << "-" << month << "-" << day;
      }
    }
  }
}

// ---- timestamps ----

TEST(ParseTimestamp, IsoWithSpaceAndZeroOffsetFromKlineFile) {
  TimestampKind kind = TimestampKind::epoch_ms;
  EXPECT_EQ(ts("2025-05-30 16:39:00+00:00", &kind), 1'748'623'140'000'000'000);
  EXPECT_EQ(kind, TimestampKind::iso8601);
}

TEST(ParseTimestamp, EpochSecondsWithFractionFromTradeFile) {
  TimestampKind kind = TimestampKind::epoch_ms;
  EXPECT_EQ(ts("1696982287.4922", &kind), 1'696'982'287'492'200'000);
  EXPECT_EQ(kind, TimestampKind::epoch_seconds);
  EXPECT_EQ(ts("1696982287.000000001"), 1'696'982'287'000'000'001);
  EXPECT_EQ(ts("0.5"), kSecond / 2);
}

TEST(ParseTimestamp, TwelveOrMoreDigitsAreMilliseconds) {
  TimestampKind kind = TimestampKind::epoch_seconds;
  EXPECT_EQ(ts("1786310819680", &kind), 1'786'310'819'680'000'000);
  EXPECT_EQ(kind, TimestampKind::epoch_ms);
  EXPECT_EQ(ts("100000000000"), 100'000'000'000'000'000);  // 12 digits: ms (1973)
  EXPECT_EQ(ts("0000000000001"), 1'000'000);               // leading zeros count as digits
}

TEST(ParseTimestamp, ElevenOrFewerDigitsAreSeconds) {
  TimestampKind kind = TimestampKind::epoch_ms;
  EXPECT_EQ(ts("1748623140", &kind), 1'748'623'140'000'000'000);
  EXPECT_EQ(kind, TimestampKind::epoch_seconds);
  EXPECT_EQ(ts("0"), 0);
  EXPECT_EQ(ts("9223372036"), 9'223'372'036'000'000'000);
  EXPECT_EQ(ts_error("9223372037"), TimestampError::out_of_range);
  EXPECT_EQ(ts_error("99999999999"), TimestampError::out_of_range);
}

TEST(ParseTimestamp, MillisecondsAtTheInt64Limit) {
  EXPECT_EQ(ts("9223372036854"), 9'223'372'036'854'000'000);
  EXPECT_EQ(ts_error("9223372036855"), TimestampError::out_of_range);
  EXPECT_EQ(ts_error("99999999999999999999999"), TimestampError::out_of_range);
}

TEST(ParseTimestamp, IsoForms) {
  const std::int64_t base = 1'748'623'140'000'000'000;  // 2025-05-30T16:39:00Z
  EXPECT_EQ(ts("2025-05-30T16:39:00Z"), base);
  EXPECT_EQ(ts("2025-05-30T16:39:00"), base);
  EXPECT_EQ(ts("2025-05-30 16:39"), base);
  EXPECT_EQ(ts("2025-05-30T16:39Z"), base);
  EXPECT_EQ(ts("2025-05-30T16:39:00.5Z"), base + kSecond / 2);
  EXPECT_EQ(ts("2025-05-30T16:39:00.123456789"), base + 123'456'789);
  EXPECT_EQ(ts("2025-05-30T16:39:07.001+00:00"), base + 7 * kSecond + 1'000'000);
}

TEST(ParseTimestamp, OffsetsAreSubtracted) {
  const std::int64_t base = 1'748'623'140'000'000'000;  // 2025-05-30T16:39:00Z
  EXPECT_EQ(ts("2025-05-30T16:39:00+02:00"), base - 2 * kHour);
  EXPECT_EQ(ts("2025-05-30T16:39:00+0200"), base - 2 * kHour);
  EXPECT_EQ(ts("2025-05-30T16:39:00+02"), base - 2 * kHour);
  EXPECT_EQ(ts("2025-05-30T16:39:00-05:30"), base + 5 * kHour + 30 * kMinute);
  EXPECT_EQ(ts("2025-05-30 16:39:00-00:00"), base);
  // The offset can move the instant to another day.
  EXPECT_EQ(ts("2025-01-01T01:00:00+02:00"), ts("2024-12-31T23:00:00Z"));
}

TEST(ParseTimestamp, BareDateIsMidnightUtc) {
  EXPECT_EQ(ts("2024-02-29"), 1'709'164'800'000'000'000);
  EXPECT_EQ(ts("1970-01-01"), 0);
  EXPECT_EQ(ts("1969-12-31T23:59:59Z"), -kSecond);
}

TEST(ParseTimestamp, LeapYearsAndMonthLengths) {
  EXPECT_EQ(ts_error("2023-02-29"), TimestampError::bad_date);
  EXPECT_EQ(ts_error("1900-02-29"), TimestampError::bad_date);  // century, not leap
  EXPECT_EQ(ts("2000-02-29"), 951'782'400'000'000'000);         // 400th year, leap
  EXPECT_EQ(ts_error("2025-04-31"), TimestampError::bad_date);
  EXPECT_EQ(ts_error("2025-13-01"), TimestampError::bad_date);
  EXPECT_EQ(ts_error("2025-00-10"), TimestampError::bad_date);
  EXPECT_EQ(ts_error("2025-01-00"), TimestampError::bad_date);
  EXPECT_EQ(ts_error("2025-01-32 00:00"), TimestampError::bad_date);
}

TEST(ParseTimestamp, TimeOfDayAndOffsetRanges) {
  EXPECT_EQ(ts("2025-01-01T23:59:59.999999999Z"), ts("2025-01-02") - 1);
  EXPECT_EQ(ts_error("2025-01-01T24:00:00Z"), TimestampError::bad_time);
  EXPECT_EQ(ts_error("2025-01-01T12:60:00Z"), TimestampError::bad_time);
  EXPECT_EQ(ts_error("2016-12-31T23:59:60Z"), TimestampError::bad_time);  // leap second
  EXPECT_EQ(ts_error("2025-01-01T12:00:00+24:00"), TimestampError::bad_offset);
  EXPECT_EQ(ts_error("2025-01-01T12:00:00+01:60"), TimestampError::bad_offset);
}

TEST(ParseTimestamp, MalformedTextIsRefused) {
  EXPECT_EQ(ts_error(""), TimestampError::empty);
  for (const std::string_view text : {"abc",
                                      "-1696982287",
                                      "+1696982287",
                                      " 1696982287",
                                      "1696982287 ",
                                      "1696982287.",
                                      ".5",
                                      "1.2.3",
                                      "1e9",
                                      "2025-5-30",
                                      "2025/05/30",
                                      "2025-05-30T",
                                      "2025-05-30T16",
                                      "2025-05-30T16:39:0",
                                      "2025-05-30T16:39:00.",
                                      "2025-05-30T16:39:00Z ",
                                      "2025-05-30t16:39",
                                      "2025-05-30T16:39:00+1",
                                      "2025-05-30T16:39:00+01:0",
                                      "2025-05-30T16:39:00+01:00:00",
                                      "2025-05-30T16:39.5",
                                      "2025-05-30Z"}) {
    EXPECT_NE(ts_error(text), TimestampError::ok) << text;
    EXPECT_FALSE(parse_timestamp_ns(text).has_value()) << text;
  }
  // A compact date is all digits, hence epoch seconds by the documented rule.
  EXPECT_EQ(ts("20250530"), 20'250'530 * kSecond);
  EXPECT_EQ(ts_error("1.1234567891"), TimestampError::too_precise);
  EXPECT_EQ(ts_error("2025-05-30T16:39:00.1234567891Z"), TimestampError::too_precise);
}

TEST(ParseTimestamp, RangeEdgesOfInt64Nanoseconds) {
  EXPECT_EQ(ts("1677-09-21T00:12:43.145224192Z"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(ts_error("1677-09-21T00:12:43.145224191Z"), TimestampError::out_of_range);
  EXPECT_EQ(ts("2262-04-11T23:47:16.854775807Z"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(ts_error("2262-04-11T23:47:16.854775808Z"), TimestampError::out_of_range);
  EXPECT_EQ(ts_error("0000-01-01"), TimestampError::out_of_range);
  EXPECT_EQ(ts_error("9999-12-31"), TimestampError::out_of_range);
}

TEST(ParseTimestamp, OptionalWrapperAgrees) {
  TimestampKind kind = TimestampKind::iso8601;
  EXPECT_EQ(parse_timestamp_ns("1786310819680", &kind), 1'786'310'819'680'000'000);
  EXPECT_EQ(kind, TimestampKind::epoch_ms);
  EXPECT_EQ(parse_timestamp_ns("2023-02-29"), std::nullopt);
}

// ---- splitting ----

std::vector<std::string> split(std::string record, CsvSplitError* error = nullptr) {
  std::vector<std::string_view> views(16);
  const CsvSplit result = split_csv_record(record, views);
  if (error != nullptr) {
    *error = result.error;
  }
  if (result.error != CsvSplitError::ok) {
    return {};
  }
  return {views.begin(), views.begin() + static_cast<std::ptrdiff_t>(result.field_count)};
}

using Fields = std::vector<std::string>;

TEST(SplitCsvRecord, PlainAndEmptyFields) {
  EXPECT_EQ(split("a,b,c"), (Fields{"a", "b", "c"}));
  EXPECT_EQ(split(""), (Fields{""}));
  EXPECT_EQ(split(","), (Fields{"", ""}));
  EXPECT_EQ(split("a,,c,"), (Fields{"a", "", "c", ""}));
}

TEST(SplitCsvRecord, QuotedFieldsWithEscapes) {
  EXPECT_EQ(split(R"("a","b,c","")"), (Fields{"a", "b,c", ""}));
  EXPECT_EQ(split(R"("say ""hi""",x)"), (Fields{R"(say "hi")", "x"}));
  EXPECT_EQ(split(R"("""")"), (Fields{R"(")"}));
  EXPECT_EQ(split("\"two\nlines\",z"), (Fields{"two\nlines", "z"}));
  EXPECT_EQ(split(R"(ab"c,d)"), (Fields{R"(ab"c)", "d"}));  // literal quote mid-field
}

TEST(SplitCsvRecord, ErrorsLeaveTheRecordUnchanged) {
  CsvSplitError error = CsvSplitError::ok;
  EXPECT_TRUE(split(R"("open,x)", &error).empty());
  EXPECT_EQ(error, CsvSplitError::unterminated_quote);
  split(R"("a""b)", &error);
  EXPECT_EQ(error, CsvSplitError::unterminated_quote);
  split(R"("a"b,c)", &error);
  EXPECT_EQ(error, CsvSplitError::text_after_closing_quote);

  std::string record = R"("a""b",x,"open)";
  const std::string original = record;
  std::vector<std::string_view> views(4);
  EXPECT_EQ(split_csv_record(record, views).error, CsvSplitError::unterminated_quote);
  EXPECT_EQ(record, original);
}

TEST(SplitCsvRecord, CountsFieldsBeyondTheStoredOnes) {
  std::string record = "a,\"b\",c,d";
  std::vector<std::string_view> views(2);
  const CsvSplit result = split_csv_record(record, views);
  EXPECT_EQ(result.error, CsvSplitError::ok);
  EXPECT_EQ(result.field_count, 4U);
  EXPECT_EQ(views[0], "a");
  EXPECT_EQ(views[1], "b");
}

// ---- reader ----

struct Read {
  std::vector<PriceRow> rows;
  std::vector<std::string> texts;  // copies of timestamp_text + "|" + price_text
  std::string column;
};

Read read_all(const std::string& text, std::string_view column = {}) {
  std::istringstream input(text);
  PriceCsvReader reader = PriceCsvReader::open(input, column);
  Read out;
  out.column = reader.column_name();
  PriceRow row;
  while (reader.next(row)) {
    out.rows.push_back(row);
    out.texts.push_back(std::string(row.timestamp_text) + "|" + std::string(row.price_text));
  }
  return out;
}

// The "line N: reason" message of the CsvError that reading `text` throws.
std::string error_of(const std::string& text, std::string_view column = {}) {
  try {
    (void)read_all(text, column);
  } catch (const CsvError& error) {
    EXPECT_EQ(std::string(error.what()),
              "line " + std::to_string(error.line()) + ": " + error.reason());
    return error.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return {};
}

TEST(PriceCsvReader, PrefersPriceOverClose) {
  const Read read = read_all("timestamp,close,price\n1700000000,1.5,2.5\n");
  EXPECT_EQ(read.column, "price");
  ASSERT_EQ(read.rows.size(), 1U);
  EXPECT_EQ(read.rows[0].price, 2.5);
  EXPECT_EQ(read.texts[0], "1700000000|2.5");
}

TEST(PriceCsvReader, FallsBackToClose) {
  const Read read = read_all(
      "timestamp,open,high,low,close,volume\n"
      "2025-05-30 16:39:00+00:00,104217.5,104402.7,104200.0,104337.8,477.605\n");
  EXPECT_EQ(read.column, "close");
  ASSERT_EQ(read.rows.size(), 1U);
  EXPECT_EQ(read.rows[0].price, 104337.8);
  EXPECT_EQ(read.rows[0].time_ns, 1'748'623'140'000'000'000);
  EXPECT_EQ(read.rows[0].line, 2U);
  EXPECT_EQ(read.rows[0].timestamp_kind, TimestampKind::iso8601);
}

TEST(PriceCsvReader, ExplicitColumnIsExactAndCaseSensitive) {
  const std::string text = "timestamp,open,close,Open\n1700000000,1,2,3\n";
  EXPECT_EQ(read_all(text, "open").rows.at(0).price, 1.0);
  EXPECT_EQ(read_all(text, "Open").rows.at(0).price, 3.0);
  EXPECT_EQ(error_of(text, "OPEN"),
            R"(line 1: no column named "OPEN"; header has: timestamp, open, close, Open)");
}

TEST(PriceCsvReader, MissingPriceColumnListsTheHeader) {
  EXPECT_EQ(error_of("timestamp,a,b\n1,2,3\n"),
            "line 1: no price column: expected 'price' or 'close' (or --column); header has: "
            "timestamp, a, b");
}

TEST(PriceCsvReader, TimestampColumnFallbacks) {
  EXPECT_EQ(read_all("time,price\n1700000000,1\n").rows.at(0).time_ns, 1'700'000'000 * kSecond);
  EXPECT_EQ(read_all("ts,price\n1700000000,1\n").rows.at(0).time_ns, 1'700'000'000 * kSecond);
  // `timestamp` wins over the fallbacks wherever it is.
  EXPECT_EQ(read_all("ts,price,timestamp\n1,1,1700000000\n").rows.at(0).time_ns,
            1'700'000'000 * kSecond);
  EXPECT_EQ(error_of("date,price\n2025-01-01,1\n"),
            "line 1: no timestamp column: expected 'timestamp', 'time' or 'ts'; header has: date, "
            "price");
}

TEST(PriceCsvReader, MillisecondTradeCsv) {
  const Read read =
      read_all("timestamp,symbol,side,size,price\n1786310819680,BTCUSDT,Sell,0.004,65114.20\n");
  ASSERT_EQ(read.rows.size(), 1U);
  EXPECT_EQ(read.rows[0].time_ns, 1'786'310'819'680'000'000);
  EXPECT_EQ(read.rows[0].timestamp_kind, TimestampKind::epoch_ms);
  EXPECT_EQ(read.rows[0].price, 65114.2);
  EXPECT_EQ(read.texts[0], "1786310819680|65114.20");  // exact text kept
}

TEST(PriceCsvReader, QuotedFieldsIncludingOneSpanningLines) {
  const Read read = read_all(
      "\"timestamp\",\"note\",\"price\"\n"
      "\"1700000000\",\"a, \"\"quoted\"\"\nnote\",\"1.25\"\n"
      "1700000001,x,2\n");
  ASSERT_EQ(read.rows.size(), 2U);
  EXPECT_EQ(read.texts[0], "1700000000|1.25");
  EXPECT_EQ(read.rows[0].line, 2U);
  EXPECT_EQ(read.rows[1].line, 4U);  // the quoted note took lines 2 and 3
}

TEST(PriceCsvReader, CrlfBomAndBlankLines) {
  const Read read =
      read_all("\xEF\xBB\xBFtimestamp,price\r\n1700000000,1.5\r\n\r\n1700000060,1.75\r\n\r\n\n");
  ASSERT_EQ(read.rows.size(), 2U);
  EXPECT_EQ(read.texts[0], "1700000000|1.5");
  EXPECT_EQ(read.texts[1], "1700000060|1.75");
  EXPECT_EQ(read.rows[1].line, 4U);
}

TEST(PriceCsvReader, LastLineWithoutNewline) {
  const Read read = read_all("timestamp,price\n1700000000,1.5");
  ASSERT_EQ(read.rows.size(), 1U);
  EXPECT_EQ(read.rows[0].price, 1.5);
}

TEST(PriceCsvReader, HeaderOnlyHasNoRows) {
  EXPECT_TRUE(read_all("timestamp,price\n").rows.empty());
}

TEST(PriceCsvReader, HeaderErrors) {
  EXPECT_EQ(error_of(""), "line 1: empty file: no header");
  EXPECT_EQ(error_of("\xEF\xBB\xBF"), "line 1: empty header line");
  EXPECT_EQ(error_of("\ntimestamp,price\n"), "line 1: empty header line");
  EXPECT_EQ(error_of("timestamp,\"price\n"),
            "line 1: quoted field not closed before the end of the file");
  EXPECT_EQ(error_of("timestamp,\"price\"x\n"), "line 1: text after the closing quote of a field");
}

TEST(PriceCsvReader, RowErrorsNameTheLine) {
  const std::string header = "timestamp,price\n";
  EXPECT_EQ(error_of(header + "1700000000,1\n1700000001,abc\n"),
            R"(line 3: price "abc" is not a number)");
  EXPECT_EQ(error_of(header + "1,1\n2,1\n3,1\n\n5,1\n6,1\n7,1\n8,0\n"),
            R"(line 9: price must be > 0, got "0")");
  EXPECT_EQ(error_of(header + "1,-2.5\n"), R"(line 2: price must be > 0, got "-2.5")");
  EXPECT_EQ(error_of(header + "1,inf\n"), R"(line 2: price "inf" is not finite)");
  EXPECT_EQ(error_of(header + "1,nan\n"), R"(line 2: price "nan" is not finite)");
  EXPECT_EQ(error_of(header + "1,1e999\n"), R"(line 2: price "1e999" is out of range)");
  EXPECT_EQ(error_of(header + "1, 1.5\n"), R"(line 2: price " 1.5" is not a number)");
  EXPECT_EQ(error_of(header + "1,1.5x\n"), R"(line 2: price "1.5x" is not a number)");
  EXPECT_EQ(error_of(header + "1,\n"), "line 2: price is empty");
  EXPECT_EQ(error_of(header + "2025-13-01,1\n"),
            R"(line 2: timestamp "2025-13-01" is not a valid date)");
  EXPECT_EQ(error_of(header + ",1\n"), "line 2: timestamp is empty");
  EXPECT_EQ(error_of(header + "1700000000\n"),
            R"(line 2: expected at least 2 fields (for columns "timestamp" and "price"), got 1)");
  EXPECT_EQ(error_of(header + "1,\"2\n"),
            "line 2: quoted field not closed before the end of the file");
}

TEST(PriceCsvReader, ControlBytesInMessagesAreEscaped) {
  EXPECT_EQ(error_of("timestamp,price\n1,\"a\x01\"\"b\"\n"),
            R"(line 2: price "a\x01\x22b" is not a number)");
}

TEST(PriceCsvReader, CarriesOnAfterABadRow) {
  std::istringstream input("timestamp,price\n1,1\n2,bad\n3,3\n");
  PriceCsvReader reader = PriceCsvReader::open(input);
  PriceRow row;
  ASSERT_TRUE(reader.next(row));
  EXPECT_THROW((void)reader.next(row), CsvError);
  ASSERT_TRUE(reader.next(row));
  EXPECT_EQ(row.price, 3.0);
  EXPECT_EQ(row.line, 4U);
  EXPECT_FALSE(reader.next(row));
}

TEST(PriceCsvReader, ExtraColumnsIgnoredAndKindPerRow) {
  std::istringstream input(
      "timestamp,price,extra\n"
      "1700000000,1,\"x\"y\n"  // malformed quoting in an ignored column is still an error
      "1700000000123,2,z,more,fields\n"
      "2023-11-14T22:13:20Z,3\n");
  PriceCsvReader reader = PriceCsvReader::open(input);
  EXPECT_EQ(reader.timestamp_column_name(), "timestamp");
  PriceRow row;
  EXPECT_THROW((void)reader.next(row), CsvError);
  ASSERT_TRUE(reader.next(row));
  EXPECT_EQ(reader.timestamp_kind(), TimestampKind::epoch_ms);
  ASSERT_TRUE(reader.next(row));
  EXPECT_EQ(reader.timestamp_kind(), TimestampKind::iso8601);
  EXPECT_EQ(row.time_ns, 1'700'000'000 * kSecond);
}

TEST(PriceCsvReader, NoAllocationPerRowOnceWarm) {
  std::string text = "timestamp,open,high,low,close,volume\n";
  for (int i = 0; i < 200; ++i) {
    text += "2025-05-30 16:39:00+00:00,104217.5,104402.7,104200.0,104337.8,477.605\n";
  }
  std::istringstream input(text);
  PriceCsvReader reader = PriceCsvReader::open(input);
  PriceRow row;
  ASSERT_TRUE(reader.next(row));  // first row sizes the buffer
  std::size_t rows = 1;
  const std::uint64_t allocations = test::count_allocations([&] {
    while (reader.next(row)) {
      ++rows;
    }
  });
  EXPECT_EQ(rows, 200U);
  EXPECT_EQ(allocations, 0U);
}

// ---- the real files in /work/shared/data ----

std::filesystem::path shared_data(const char* relative) {
  return std::filesystem::path(KINETIC_SOURCE_DIR "/../shared/data") / relative;
}

TEST(PriceCsvFiles, BybitOneMinuteKlinesBtc) {
  const auto path = shared_data("bybit-linear-klines-1m-30d-7sym/BTCUSDT_1m.csv");
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "data file not present: " << path;
  }
  std::ifstream input(path);
  PriceCsvReader reader = PriceCsvReader::open(input);
  EXPECT_EQ(reader.column_name(), "close");
  PriceRow row;
  std::size_t rows = 0;
  std::int64_t previous = 0;
  while (reader.next(row)) {
    if (rows == 0) {
      EXPECT_EQ(row.price, 104337.8);
      EXPECT_EQ(row.price_text, "104337.8");
      EXPECT_EQ(row.time_ns, 1'748'623'140'000'000'000);
    } else {
      ASSERT_EQ(row.time_ns - previous, kMinute) << "line " << row.line;
    }
    EXPECT_EQ(row.timestamp_kind, TimestampKind::iso8601);
    previous = row.time_ns;
    ++rows;
  }
  EXPECT_EQ(rows, 43'200U);
  EXPECT_EQ(previous, 1'751'215'080'000'000'000);  // 2025-06-29 16:38 UTC
  EXPECT_EQ(row.price, 107457.8);
}

TEST(PriceCsvFiles, BybitFiveMinuteKlinesAllSymbols) {
  const auto directory = shared_data("bybit-linear-klines-5m-90d-5sym");
  if (!std::filesystem::exists(directory)) {
    GTEST_SKIP() << "data directory not present: " << directory;
  }
  for (const char* symbol : {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"}) {
    std::ifstream input(directory / (std::string(symbol) + "_5m.csv"));
    ASSERT_TRUE(input) << symbol;
    PriceCsvReader reader = PriceCsvReader::open(input);
    EXPECT_EQ(reader.column_name(), "close");
    PriceRow row;
    std::size_t rows = 0;
    std::int64_t first = 0;
    std::int64_t previous = 0;
    while (reader.next(row)) {
      if (rows == 0) {
        first = row.time_ns;
      } else {
        ASSERT_EQ(row.time_ns - previous, 5 * kMinute) << symbol << " line " << row.line;
      }
      previous = row.time_ns;
      ++rows;
    }
    EXPECT_EQ(rows, 25'920U) << symbol;
    // 2025-04-03 17:05 UTC; XRP starts one bar later.
    const std::int64_t expected_first = std::string_view(symbol) == "XRPUSDT"
                                            ? 1'743'700'200'000'000'000
                                            : 1'743'699'900'000'000'000;
    EXPECT_EQ(first, expected_first) << symbol;
  }
}

TEST(PriceCsvFiles, BybitTradeCsvWithFractionalSeconds) {
  const auto path = shared_data("bybit-trades-csv-fixture-bbgo/FXSUSDT-ticks-2023-10-10.csv");
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "data file not present: " << path;
  }
  std::ifstream input(path);
  PriceCsvReader reader = PriceCsvReader::open(input);
  EXPECT_EQ(reader.column_name(), "price");
  PriceRow row;
  std::vector<PriceRow> rows;
  std::int64_t previous = std::numeric_limits<std::int64_t>::min();
  while (reader.next(row)) {
    EXPECT_EQ(row.timestamp_kind, TimestampKind::epoch_seconds);
    EXPECT_GE(row.time_ns, previous) << "line " << row.line;  // trades repeat times, never go back
    previous = row.time_ns;
    rows.push_back(row);
  }
  ASSERT_EQ(rows.size(), 15U);
  EXPECT_EQ(rows.front().time_ns, 1'696'982'287'492'200'000);
  EXPECT_EQ(rows.front().price, 5.239);
  EXPECT_EQ(rows.back().time_ns, 1'696'982'389'629'700'000);
  EXPECT_EQ(rows.back().price, 5.2495);
}

}  // namespace
}  // namespace kinetic::feed
