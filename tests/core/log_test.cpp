#include "kinetic/core/log.hpp"

#include <gtest/gtest.h>
#include <stdio.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "kinetic/core/clock.hpp"
#include "kinetic/core/decimal.hpp"
#include "kinetic/core/thread.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic {
namespace {

// ---- compile-time guarantees ----

// The format must be a literal (constant array with static storage): a runtime pointer does
// not convert, so a format can never point at a buffer that changes before the drain.
static_assert(!std::is_convertible_v<const char*, LogFormat<>>);
static_assert(!std::is_convertible_v<std::string, LogFormat<>>);
static_assert(!std::is_convertible_v<std::string_view, LogFormat<>>);

static_assert(is_log_argument_v<int>);
static_assert(is_log_argument_v<std::uint8_t>);
static_assert(is_log_argument_v<double>);
static_assert(is_log_argument_v<bool>);
static_assert(is_log_argument_v<Price>);
static_assert(is_log_argument_v<const char*>);
static_assert(is_log_argument_v<char[6]>);
static_assert(is_log_argument_v<std::string_view>);
static_assert(is_log_argument_v<Side>);
static_assert(!is_log_argument_v<char*>);  // a mutable buffer, likely not static
static_assert(!is_log_argument_v<void*>);
static_assert(!is_log_argument_v<long double>);
static_assert(!is_log_argument_v<std::vector<int>>);
static_assert(!is_log_argument_v<wchar_t>);

static_assert(log_detail::count_placeholders("a {} b {}", 10) == 2);
static_assert(log_detail::count_placeholders("{{}", 4) == 1);
static_assert(log_detail::count_placeholders("{ }", 4) == 0);
static_assert(log_detail::count_placeholders("", 1) == 0);

// ---- helpers ----

// An in-memory FILE* (open_memstream) whose contents the test reads after a flush.
class MemorySink {
 public:
  MemorySink() : file_(open_memstream(&data_, &size_)) {}
  ~MemorySink() {
    std::fclose(file_);
    std::free(data_);
  }
  MemorySink(const MemorySink&) = delete;
  MemorySink& operator=(const MemorySink&) = delete;

  [[nodiscard]] std::FILE* file() const { return file_; }
  [[nodiscard]] std::string contents() {
    std::fflush(file_);
    return std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    lines.push_back(line);
  }
  return lines;
}

// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" at the start of `line`.
bool starts_with_utc_timestamp(std::string_view line) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
  if (line.size() < kShape.size()) {
    return false;
  }
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool ok = kShape[i] == 'd' ? (line[i] >= '0' && line[i] <= '9') : line[i] == kShape[i];
    if (!ok) {
      return false;
    }
  }
  return true;
}

// The message part of the one record a producer holds.
template <class... Args>
std::string message_of(const char* format, const Args&... args) {
  LogRecord record;
  encode_log_record(record, 0, LogLevel::info, 0, format, args...);
  std::string out;
  format_log_message(record, out);
  return out;
}

// Logs one record through a real producer and returns its formatted message.
template <class... Args>
std::string logged_message(LogFormat<std::type_identity_t<Args>...> format, const Args&... args) {
  auto producer = std::make_unique<LogProducer>(0, "t", LogLevel::trace);
  EXPECT_TRUE(producer->log(LogLevel::info, format, args...));
  LogRecord record;
  EXPECT_TRUE(producer->try_pop(record));
  std::string out;
  format_log_message(record, out);
  return out;
}

class LogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Clock::calibrate(); }
};

// ---- levels ----

TEST(LogLevel, ParsesEveryNameCaseInsensitively) {
  for (const LogLevel level : {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn,
                               LogLevel::error, LogLevel::off}) {
    EXPECT_EQ(parse_log_level(to_string(level)), level) << to_string(level);
  }
  EXPECT_EQ(to_string(LogLevel::info), "info");
  EXPECT_EQ(parse_log_level("WARN"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("Warning"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("Error"), LogLevel::error);
  EXPECT_FALSE(parse_log_level("").has_value());
  EXPECT_FALSE(parse_log_level("inf").has_value());
  EXPECT_FALSE(parse_log_level("information").has_value());
  EXPECT_FALSE(parse_log_level("info ").has_value());
}

// ---- record layout and argument formatting ----

TEST(LogRecordFormat, FormatsIntegers) {
  EXPECT_EQ(logged_message("{} {} {}", std::numeric_limits<std::int64_t>::min(),
                           std::numeric_limits<std::uint64_t>::max(), 0),
            "-9223372036854775808 18446744073709551615 0");
  EXPECT_EQ(logged_message("{}/{}/{}", std::int8_t{-5}, std::uint8_t{200}, short{-300}),
            "-5/200/-300");
  EXPECT_EQ(logged_message("side={}", Side::sell), "side=2");
}

TEST(LogRecordFormat, FormatsFloatingPointShortestRoundTrip) {
  EXPECT_EQ(logged_message("{} {} {} {}", 0.1, -2.5, 1e21, 0.0), "0.1 -2.5 1e+21 0");
  EXPECT_EQ(logged_message("{}", 0.25f), "0.25");
}

TEST(LogRecordFormat, FormatsBooleans) {
  EXPECT_EQ(logged_message("{} {}", true, false), "true false");
}

TEST(LogRecordFormat, FormatsStaticStringsByPointer) {
  static constexpr char kStaticName[] = "static-name";
  const char* literal_pointer = "pointer";
  const char* null_text = nullptr;
  EXPECT_EQ(
      logged_message("[{}] [{}] [{}] [{}]", "literal", kStaticName, literal_pointer, null_text),
      "[literal] [static-name] [pointer] [(null)]");

  // The record holds the pointer, not a copy.
  LogRecord record;
  encode_log_record(record, 0, LogLevel::info, 0, "{}", kStaticName);
  EXPECT_EQ(record.arg_types[0], LogArgType::static_string);
  EXPECT_EQ(record.args[0].static_string, kStaticName);
}

TEST(LogRecordFormat, CopiesShortStringsIntoTheRecord) {
  std::string symbol = "BTCUSDT";
  LogRecord record;
  encode_log_record(record, 0, LogLevel::info, 0, "sym={} ch={}", std::string_view(symbol), 'x');
  symbol = "CHANGED";  // the record must not see this
  EXPECT_EQ(record.arg_types[0], LogArgType::inline_string);
  std::string out;
  format_log_message(record, out);
  EXPECT_EQ(out, "sym=BTCUSDT ch=x");

  EXPECT_EQ(message_of("{}", std::string("ETHUSDT")), "ETHUSDT");
  EXPECT_EQ(message_of("[{}]", std::string_view()), "[]");
  // Exactly 15 bytes fit; longer text is truncated to 15.
  EXPECT_EQ(message_of("{}", std::string_view("123456789012345")), "123456789012345");
  EXPECT_EQ(message_of("{}", std::string_view("1000000000000PEPEUSDT")), "1000000000000PE");
}

TEST(LogRecordFormat, FormatsPriceQtyAmountExactly) {
  const Price price = Price::parse("65114.2").value();
  const Qty qty = Qty::parse("0.001").value();
  const Amount fee = Amount::parse("-0.00000001").value();
  EXPECT_EQ(logged_message("{} x {} fee {}", price, qty, fee), "65114.2 x 0.001 fee -0.00000001");
  // A value whose double is not exact still prints exactly.
  EXPECT_EQ(logged_message("{}", Price::from_raw(10)), "0.0000001");
  EXPECT_EQ(logged_message("{}", Price::from_raw(std::numeric_limits<std::int64_t>::max())),
            "92233720368.54775807");
  EXPECT_EQ(logged_message("{}", Qty{}), "0");

  LogRecord record;
  encode_log_record(record, 0, LogLevel::info, 0, "{}{}{}", price, qty, fee);
  EXPECT_EQ(record.arg_types[0], LogArgType::price);
  EXPECT_EQ(record.arg_types[1], LogArgType::qty);
  EXPECT_EQ(record.arg_types[2], LogArgType::amount);
  EXPECT_EQ(record.args[0].i64, price.raw());
}

TEST(LogRecordFormat, FormatsSixMixedArguments) {
  EXPECT_EQ(logged_message("{} {} {} {} {} {}", 1, 2u, 3.5, true, "s", Price::from_units(7)),
            "1 2 3.5 true s 7");
}

TEST(LogRecordFormat, KeepsTextWithoutPlaceholdersAndLoneBraces) {
  EXPECT_EQ(logged_message("plain text"), "plain text");
  EXPECT_EQ(logged_message(""), "");
  EXPECT_EQ(logged_message("{ } {x} }{ {}", 4), "{ } {x} }{ 4");
  EXPECT_EQ(logged_message("{{}}", 4), "{4}");
}

// log() refuses a placeholder/argument mismatch at compile time; records built directly (or
// from another source) may still mismatch, and nothing is lost then.
TEST(LogRecordFormat, MissingArgumentsShowAsPlaceholders) {
  EXPECT_EQ(message_of("a={} b={} c={}", 1), "a=1 b={} c={}");
  EXPECT_EQ(message_of("{}"), "{}");
}

TEST(LogRecordFormat, ExtraArgumentsAreAppended) {
  EXPECT_EQ(message_of("a={}", 1, 2.5, "x"), "a=1 2.5 x");
  EXPECT_EQ(message_of("no placeholders", 7), "no placeholders 7");
}

TEST(LogRecordFormat, RecordHeaderCarriesLevelProducerAndTicks) {
  LogRecord record;
  encode_log_record(record, 7, LogLevel::error, 123456, "x {}", 1);
  EXPECT_EQ(record.producer_id, 7);
  EXPECT_EQ(record.level, LogLevel::error);
  EXPECT_EQ(record.ticks, 123456u);
  EXPECT_EQ(record.arg_count, 1);
  EXPECT_EQ(record.arg_types[1], LogArgType::none);
  EXPECT_STREQ(record.format, "x {}");
}

// ---- timestamps ----

TEST(LogTimestamp, FormatsUtcWithNanoseconds) {
  char out[kUtcTimestampLength];
  const auto text = [&](std::int64_t ns) {
    return std::string(out, format_utc_timestamp(ns, out));
  };
  EXPECT_EQ(text(0), "1970-01-01T00:00:00.000000000Z");
  // 2026-11-24T17:14:05Z is 1795540445 s after the epoch.
  EXPECT_EQ(text(1'795'540'445'123'456'789LL), "2026-11-24T17:14:05.123456789Z");
  EXPECT_EQ(text(951'782'400'000'000'001LL), "2000-02-29T00:00:00.000000001Z");  // leap day
  EXPECT_EQ(text(-1), "1969-12-31T23:59:59.999999999Z");
}

TEST_F(LogTest, WallClockConversionAgreesWithSystemClock) {
  MemorySink sink;
  const Logger logger(sink.file());
  const auto before = std::chrono::system_clock::now();
  const std::uint64_t ticks = Clock::ticks();
  const auto after = std::chrono::system_clock::now();
  const std::int64_t unix_ns = logger.to_unix_ns(ticks);
  // Loose bounds: this catches a wrong epoch or unit, not calibration error.
  const std::int64_t slack = 1'000'000'000;
  EXPECT_GE(
      unix_ns,
      std::chrono::duration_cast<std::chrono::nanoseconds>(before.time_since_epoch()).count() -
          slack);
  EXPECT_LE(unix_ns,
            std::chrono::duration_cast<std::chrono::nanoseconds>(after.time_since_epoch()).count() +
                slack);
}

// ---- Logger: lines, levels, drops ----

TEST_F(LogTest, DrainWritesOneLinePerRecordInTheDocumentedFormat) {
  MemorySink sink;
  Logger logger(sink.file(), LogLevel::trace);
  LogProducer& feed = logger.make_producer("feed");
  LogProducer& exec = logger.make_producer("exec");
  EXPECT_EQ(feed.name(), "feed");
  EXPECT_NE(feed.id(), exec.id());

  EXPECT_TRUE(feed.log(LogLevel::info, "price {} qty {}", Price::parse("65114.2").value(),
                       Qty::parse("0.5").value()));
  EXPECT_TRUE(exec.log(LogLevel::error, "reject {}", "timeout"));
  EXPECT_TRUE(feed.log(LogLevel::trace, "t"));
  EXPECT_EQ(logger.drain(), 3u);
  EXPECT_EQ(logger.drain(), 0u);

  const std::vector<std::string> lines = split_lines(sink.contents());
  ASSERT_EQ(lines.size(), 3u);
  for (const std::string& line : lines) {
    EXPECT_TRUE(starts_with_utc_timestamp(line)) << line;
  }
  EXPECT_EQ(lines[0].substr(kUtcTimestampLength), " INFO  [feed] price 65114.2 qty 0.5");
  EXPECT_EQ(lines[1].substr(kUtcTimestampLength), " TRACE [feed] t");
  EXPECT_EQ(lines[2].substr(kUtcTimestampLength), " ERROR [exec] reject timeout");
}

TEST_F(LogTest, FormatLineUsesTheRecordTime) {
  MemorySink sink;
  Logger logger(sink.file());
  LogProducer& producer = logger.make_producer("strategy");
  LogRecord record;
  const std::uint64_t ticks = Clock::ticks();
  encode_log_record(record, producer.id(), LogLevel::warn, ticks, "v={}", -1.5);
  std::string line;
  logger.format_line(record, line);
  char expected_time[kUtcTimestampLength];
  format_utc_timestamp(logger.to_unix_ns(ticks), expected_time);
  std::string expected(expected_time, kUtcTimestampLength);
  expected.append(" WARN  [strategy] v=-1.5\n");
  EXPECT_EQ(line, expected);
}

TEST_F(LogTest, RecordsBelowTheThresholdNeverEnterTheRing) {
  MemorySink sink;
  Logger logger(sink.file(), LogLevel::warn);
  LogProducer& producer = logger.make_producer("feed");
  EXPECT_FALSE(producer.enabled(LogLevel::info));
  EXPECT_TRUE(producer.enabled(LogLevel::warn));

  EXPECT_TRUE(producer.log(LogLevel::trace, "no"));  // filtered is not a failure
  EXPECT_TRUE(producer.log(LogLevel::debug, "no"));
  EXPECT_TRUE(producer.log(LogLevel::info, "no {}", 1));
  EXPECT_EQ(producer.pending(), 0u);
  EXPECT_TRUE(producer.log(LogLevel::warn, "yes"));
  EXPECT_TRUE(producer.log(LogLevel::error, "yes"));
  EXPECT_EQ(producer.pending(), 2u);
  // `off` is a threshold, never a record level.
  EXPECT_TRUE(producer.log(LogLevel::off, "never"));
  EXPECT_EQ(producer.pending(), 2u);

  // Raising the logger's level reaches existing producers; `off` silences everything.
  logger.set_level(LogLevel::off);
  EXPECT_EQ(producer.threshold(), LogLevel::off);
  EXPECT_TRUE(producer.log(LogLevel::error, "no"));
  EXPECT_EQ(producer.pending(), 2u);
  // New producers take the logger's level.
  logger.set_level(LogLevel::debug);
  LogProducer& later = logger.make_producer("later");
  EXPECT_EQ(later.threshold(), LogLevel::debug);
  EXPECT_EQ(producer.threshold(), LogLevel::debug);

  EXPECT_EQ(logger.drain(), 2u);
  const std::string text = sink.contents();
  EXPECT_EQ(text.find(" no"), std::string::npos);
  EXPECT_EQ(text.find("never"), std::string::npos);
  EXPECT_EQ(split_lines(text).size(), 2u);
}

TEST_F(LogTest, FullRingDropsAndTheNextDrainReportsHowMany) {
  MemorySink sink;
  Logger logger(sink.file(), LogLevel::info);
  LogProducer& producer = logger.make_producer("feed");
  for (std::size_t i = 0; i < LogProducer::kCapacity; ++i) {
    ASSERT_TRUE(producer.log(LogLevel::info, "fill {}", i)) << i;
  }
  EXPECT_FALSE(producer.log(LogLevel::info, "dropped {}", 1));
  EXPECT_FALSE(producer.log(LogLevel::info, "dropped {}", 2));
  EXPECT_FALSE(producer.log(LogLevel::info, "dropped {}", 3));
  EXPECT_EQ(producer.dropped(), 3u);

  EXPECT_EQ(logger.drain(), LogProducer::kCapacity);
  const std::vector<std::string> lines = split_lines(sink.contents());
  ASSERT_EQ(lines.size(), LogProducer::kCapacity + 1);
  EXPECT_EQ(lines[0].substr(kUtcTimestampLength), " INFO  [feed] fill 0");
  EXPECT_EQ(lines[LogProducer::kCapacity - 1].substr(kUtcTimestampLength),
            " INFO  [feed] fill 4095");
  EXPECT_EQ(lines.back().substr(kUtcTimestampLength),
            " WARN  [feed] dropped 3 log records: ring full");

  // The ring has room again; the drop report is not repeated.
  EXPECT_TRUE(producer.log(LogLevel::info, "after"));
  EXPECT_EQ(logger.drain(), 1u);
  const std::vector<std::string> more = split_lines(sink.contents());
  ASSERT_EQ(more.size(), lines.size() + 1);
  EXPECT_EQ(more.back().substr(kUtcTimestampLength), " INFO  [feed] after");
}

// Every record from a producer thread arrives, in order, through a concurrent drain.
// Lines are counted and their sequence numbers checked; drop reports (from retries while the
// ring was full) are allowed but must not replace records.
void expect_every_record_in_order(const std::string& text, std::uint64_t count) {
  std::uint64_t expected = 0;
  for (const std::string& line : split_lines(text)) {
    const auto at = line.find("] seq=");
    if (at == std::string::npos) {
      EXPECT_NE(line.find("log records: ring full"), std::string::npos) << line;
      continue;
    }
    ASSERT_EQ(line.substr(at + 6), std::to_string(expected) + " sym=BTCUSDT") << line;
    ++expected;
  }
  EXPECT_EQ(expected, count);
}

TEST_F(LogTest, ProducerThreadAndDrainingThreadDeliverEveryRecordInOrder) {
  constexpr std::uint64_t kRecords = 100'000;
  MemorySink sink;
  Logger logger(sink.file(), LogLevel::info);
  LogProducer& producer = logger.make_producer("hot");
  std::atomic<bool> producer_done{false};

  std::thread hot([&] {
    for (std::uint64_t i = 0; i < kRecords; ++i) {
      while (!producer.log(LogLevel::info, "seq={} sym={}", i, std::string_view("BTCUSDT"))) {
        cpu_relax();  // the ring is full: wait for the drain
      }
    }
    producer_done.store(true, std::memory_order_release);
  });
  std::size_t drained = 0;
  std::thread control([&] {
    while (!producer_done.load(std::memory_order_acquire)) {
      drained += logger.drain();
    }
  });
  hot.join();
  control.join();
  drained += logger.drain();  // what arrived after the control thread's last pass

  EXPECT_EQ(drained, kRecords);
  expect_every_record_in_order(sink.contents(), kRecords);
}

TEST_F(LogTest, BackgroundThreadDeliversEveryRecordAndStopDrainsTheRest) {
  constexpr std::uint64_t kRecords = 50'000;
  MemorySink sink;
  Logger logger(sink.file(), LogLevel::info);
  LogProducer& producer = logger.make_producer("hot");
  logger.start(std::chrono::milliseconds(1));
  EXPECT_TRUE(logger.running());
  EXPECT_THROW(logger.start(std::chrono::milliseconds(1)), std::logic_error);
  for (std::uint64_t i = 0; i < kRecords; ++i) {
    while (!producer.log(LogLevel::info, "seq={} sym={}", i, std::string_view("BTCUSDT"))) {
      cpu_relax();
    }
  }
  logger.stop();
  EXPECT_FALSE(logger.running());
  EXPECT_EQ(producer.pending(), 0u);
  expect_every_record_in_order(sink.contents(), kRecords);
}

TEST_F(LogTest, DestructorDrainsPendingRecords) {
  MemorySink sink;
  {
    Logger logger(sink.file());
    LogProducer& producer = logger.make_producer("feed");
    producer.log(LogLevel::info, "last words");
  }
  EXPECT_NE(sink.contents().find("[feed] last words"), std::string::npos);
}

TEST_F(LogTest, WritesToAFileItOpens) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("kinetic_log_test_" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  {
    Logger logger(path, LogLevel::info);
    LogProducer& producer = logger.make_producer("feed");
    producer.log(LogLevel::info, "to file {}", 42);
    EXPECT_EQ(logger.drain(), 1u);
  }
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.substr(kUtcTimestampLength), " INFO  [feed] to file 42");
  std::filesystem::remove(path);

  EXPECT_THROW(Logger(std::filesystem::path("/nonexistent-dir/x.log")), std::system_error);
}

// ---- the hot path allocates nothing ----

TEST_F(LogTest, LogAllocatesNothing) {
  MemorySink sink;
  Logger logger(sink.file(), LogLevel::info);
  LogProducer& producer = logger.make_producer("hot");
  const std::string symbol = "BTCUSDT";
  const Price price = Price::parse("65114.2").value();

  // Accepted, filtered and dropped records: none allocates.
  EXPECT_EQ(test::count_allocations([&] {
              for (std::size_t i = 0; i < LogProducer::kCapacity; ++i) {
                producer.log(LogLevel::info, "{} {} {} {} {} {}", i, price, 0.5, true,
                             std::string_view(symbol), "static");
              }
            }),
            0u);
  EXPECT_EQ(producer.pending(), LogProducer::kCapacity);
  EXPECT_EQ(test::count_allocations([&] {
              EXPECT_FALSE(producer.log(LogLevel::info, "full {}", 1));
              EXPECT_TRUE(producer.log(LogLevel::debug, "filtered {}", 1));
            }),
            0u);
  EXPECT_EQ(producer.dropped(), 1u);
}

}  // namespace
}  // namespace kinetic
