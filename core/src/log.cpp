#include "kinetic/core/log.hpp"

#include <time.h>

#include <cerrno>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <system_error>

namespace kinetic {

namespace {

constexpr std::string_view kLevelNames[] = {"trace", "debug", "info", "warn", "error", "off"};
// Fixed width, so the bracketed producer names line up.
constexpr std::string_view kLevelLabels[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};

constexpr std::size_t level_index(LogLevel level) noexcept {
  const auto index = static_cast<std::size_t>(level);
  return index < std::size(kLevelNames) ? index : std::size(kLevelNames) - 1;
}

char to_lower_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) {
      return false;
    }
  }
  return true;
}

template <class T>
void append_number(T value, std::string& out) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

template <class Tag>
void append_decimal(std::int64_t raw, std::string& out) {
  char buffer[Decimal<Tag>::kMaxFormattedLength];
  const std::size_t length = Decimal<Tag>::from_raw(raw).format(buffer);
  out.append(buffer, length);
}

void append_arg(const LogRecord& record, std::size_t index, std::string& out) {
  const LogArgValue& value = record.args[index];
  switch (record.arg_types[index]) {
    case LogArgType::i64:
      append_number(value.i64, out);
      return;
    case LogArgType::u64:
      append_number(value.u64, out);
      return;
    case LogArgType::f64:
      append_number(value.f64, out);
      return;
    case LogArgType::boolean:
      out.append(value.boolean ? "true" : "false");
      return;
    case LogArgType::static_string:
      out.append(value.static_string != nullptr ? value.static_string : "(null)");
      return;
    case LogArgType::inline_string: {
      const std::size_t length = value.inline_string.length < LogRecord::kInlineStringCapacity
                                     ? value.inline_string.length
                                     : LogRecord::kInlineStringCapacity;
      out.append(value.inline_string.text, length);
      return;
    }
    case LogArgType::price:
      append_decimal<PriceTag>(value.i64, out);
      return;
    case LogArgType::qty:
      append_decimal<QtyTag>(value.i64, out);
      return;
    case LogArgType::amount:
      append_decimal<AmountTag>(value.i64, out);
      return;
    case LogArgType::none:
      break;
  }
  out.append("?");
}

// Writes `value` as exactly `width` decimal digits (zero-padded) at `out`.
void put_digits(std::uint64_t value, int width, char* out) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

std::int64_t to_ns(const timespec& ts) noexcept {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

namespace log_detail {
void log_format_placeholder_count_differs_from_argument_count() {}
}  // namespace log_detail

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept {
  for (std::size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (equals_ignoring_case(text, kLevelNames[i])) {
      return static_cast<LogLevel>(i);
    }
  }
  if (equals_ignoring_case(text, "warning")) {
    return LogLevel::warn;
  }
  return std::nullopt;
}

std::string_view to_string(LogLevel level) noexcept {
  return kLevelNames[level_index(level)];
}

void format_log_message(const LogRecord& record, std::string& out) {
  const std::size_t arg_count =
      record.arg_count < LogRecord::kMaxArgs ? record.arg_count : LogRecord::kMaxArgs;
  std::size_t next_arg = 0;
  const char* text = record.format != nullptr ? record.format : "";
  const char* run_start = text;
  const char* p = text;
  while (*p != '\0') {
    if (p[0] == '{' && p[1] == '}') {
      out.append(run_start, p);
      if (next_arg < arg_count) {
        append_arg(record, next_arg++, out);
      } else {
        out.append("{}");  // more placeholders than arguments: keep the gap visible
      }
      p += 2;
      run_start = p;
    } else {
      ++p;
    }
  }
  out.append(run_start, p);
  for (; next_arg < arg_count; ++next_arg) {  // more arguments than placeholders: keep them
    out.push_back(' ');
    append_arg(record, next_arg, out);
  }
}

std::size_t format_utc_timestamp(std::int64_t unix_ns, char* out) noexcept {
  using namespace std::chrono;
  const sys_time<nanoseconds> time{nanoseconds{unix_ns}};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const auto ns_of_day = static_cast<std::uint64_t>((time - day).count());
  const std::uint64_t seconds_of_day = ns_of_day / 1'000'000'000;
  // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"
  put_digits(static_cast<std::uint64_t>(static_cast<int>(date.year())), 4, out);
  out[4] = '-';
  put_digits(static_cast<unsigned>(date.month()), 2, out + 5);
  out[7] = '-';
  put_digits(static_cast<unsigned>(date.day()), 2, out + 8);
  out[10] = 'T';
  put_digits(seconds_of_day / 3600, 2, out + 11);
  out[13] = ':';
  put_digits(seconds_of_day / 60 % 60, 2, out + 14);
  out[16] = ':';
  put_digits(seconds_of_day % 60, 2, out + 17);
  out[19] = '.';
  put_digits(ns_of_day % 1'000'000'000, 9, out + 20);
  out[29] = 'Z';
  return kUtcTimestampLength;
}

// ---- LogProducer ----

LogProducer::LogProducer(std::uint16_t id, std::string name, LogLevel threshold)
    : threshold_(threshold), id_(id), name_(std::move(name)) {}

// ---- Logger ----

Logger::Logger(std::FILE* sink, LogLevel level) : sink_(sink), level_(level) {
  capture_clock_pair();
  buffer_.reserve(64 * 1024);
}

Logger::Logger(const std::filesystem::path& path, LogLevel level) : sink_(nullptr), level_(level) {
  sink_ = std::fopen(path.c_str(), "a");
  if (sink_ == nullptr) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot open log file " + path.string());
  }
  owns_sink_ = true;
  capture_clock_pair();
  buffer_.reserve(64 * 1024);
}

Logger::~Logger() {
  stop();
  if (owns_sink_) {
    std::fclose(sink_);
  }
}

void Logger::capture_clock_pair() noexcept {
  // Bracket the realtime read with two monotonic reads and take their midpoint, so the pair
  // is as simultaneous as two clock reads can be. Clock::ticks_to_time_ns is on the
  // CLOCK_MONOTONIC base, so adding this offset gives Unix time.
  Clock::calibrate();
  timespec before{};
  timespec realtime{};
  timespec after{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  clock_gettime(CLOCK_REALTIME, &realtime);
  clock_gettime(CLOCK_MONOTONIC, &after);
  const std::int64_t monotonic = to_ns(before) + (to_ns(after) - to_ns(before)) / 2;
  realtime_minus_monotonic_ns_ = to_ns(realtime) - monotonic;
}

std::int64_t Logger::to_unix_ns(std::uint64_t ticks) const noexcept {
  return Clock::ticks_to_time_ns(ticks) + realtime_minus_monotonic_ns_;
}

LogProducer& Logger::make_producer(std::string_view thread_name) {
  const std::lock_guard lock(mutex_);
  if (slots_.size() > std::numeric_limits<std::uint16_t>::max()) {
    throw std::length_error("kinetic::Logger: too many log producers");
  }
  const auto id = static_cast<std::uint16_t>(slots_.size());
  slots_.push_back(Slot{std::make_unique<LogProducer>(id, std::string(thread_name), level()), 0});
  return *slots_.back().producer;
}

void Logger::set_level(LogLevel level) {
  const std::lock_guard lock(mutex_);
  level_.store(level, std::memory_order_relaxed);
  for (Slot& slot : slots_) {
    slot.producer->set_level(level);
  }
}

std::string_view Logger::producer_name(std::uint16_t id) const noexcept {
  return id < slots_.size() ? std::string_view(slots_[id].producer->name()) : "?";
}

void Logger::append_prefix(std::uint64_t ticks, LogLevel level, std::string_view name,
                           std::string& out) const {
  char timestamp[kUtcTimestampLength];
  format_utc_timestamp(to_unix_ns(ticks), timestamp);
  out.append(timestamp, sizeof timestamp);
  out.push_back(' ');
  out.append(kLevelLabels[level_index(level)]);
  out.append(" [");
  out.append(name);
  out.append("] ");
}

void Logger::format_line(const LogRecord& record, std::string& out) const {
  append_prefix(record.ticks, record.level, producer_name(record.producer_id), out);
  format_log_message(record, out);
  out.push_back('\n');
}

void Logger::write_out(std::string& buffer) {
  if (!buffer.empty()) {
    if (std::fwrite(buffer.data(), 1, buffer.size(), sink_) != buffer.size()) {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
    }
    buffer.clear();  // keeps the capacity for the next drain
  }
}

std::size_t Logger::drain() {
  // Write in chunks of about this size, so one drain of full rings stays within the buffer's
  // reserved capacity.
  constexpr std::size_t kWriteThreshold = 60 * 1024;
  const std::lock_guard lock(mutex_);
  std::size_t written = 0;
  for (Slot& slot : slots_) {
    LogProducer& producer = *slot.producer;
    written += producer.consume_all([&](const LogRecord& record) {
      format_line(record, buffer_);
      if (buffer_.size() >= kWriteThreshold) {
        write_out(buffer_);
      }
    });
    const std::uint64_t dropped = producer.dropped();
    if (dropped != slot.dropped_reported) {
      append_prefix(Clock::ticks(), LogLevel::warn, producer.name(), buffer_);
      buffer_.append("dropped ");
      append_number(dropped - slot.dropped_reported, buffer_);
      buffer_.append(" log records: ring full\n");
      slot.dropped_reported = dropped;
    }
  }
  write_out(buffer_);
  return written;
}

void Logger::flush() {
  const std::lock_guard lock(mutex_);
  std::fflush(sink_);
}

void Logger::start(std::chrono::milliseconds poll) {
  if (thread_.joinable()) {
    throw std::logic_error("kinetic::Logger::start: already running");
  }
  stop_requested_.store(false, std::memory_order_relaxed);
  thread_ = std::thread([this, poll] { run(poll); });
}

void Logger::run(std::chrono::milliseconds poll) {
  // A pass that found the rings a quarter full goes again at once rather than sleeping, so a
  // burst does not overflow them while this thread waits.
  constexpr std::size_t kBusyPass = LogProducer::kCapacity / 4;
  while (!stop_requested_.load(std::memory_order_acquire)) {
    const std::size_t written = drain();
    if (written > 0) {
      flush();
    }
    if (written < kBusyPass) {
      std::this_thread::sleep_for(poll);
    }
  }
}

void Logger::stop() {
  if (thread_.joinable()) {
    stop_requested_.store(true, std::memory_order_release);
    thread_.join();
  }
  while (drain() > 0) {
  }
  flush();
}

}  // namespace kinetic
