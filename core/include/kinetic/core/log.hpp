#pragma once
// Hot-path logging: the hot thread stores a fixed-size record in a ring; a control thread
// formats it.
//
// A hot thread owns one LogProducer. LogProducer::log() checks the level (one relaxed atomic
// load), reads the TSC, copies its arguments by value into a 128-byte LogRecord and pushes it
// into the producer's SPSC ring: no formatting, no allocation, no lock, no system call. The
// format string is never copied, only its address, so it must have static storage; the
// LogFormat parameter enforces that at compile time (it only accepts a constant character
// array, i.e. a string literal or a static constexpr array), and it also checks at compile
// time that the number of `{}` placeholders equals the number of arguments.
//
// The Logger (control side) owns the producers, drains their rings, turns each record into
// one line and writes it to a FILE*:
//
//   2026-11-24T17:14:05.123456789Z INFO  [feed] price 65114.2 qty 0.001
//
// When a ring is full the record is dropped (log() returns false and a counter goes up); the
// next drain writes a WARN line saying how many records that producer dropped.
//
// Arguments (at most LogRecord::kMaxArgs per record), chosen by their static type:
//   bool                               true / false
//   signed integers, enums (signed)    decimal, via int64   (enums print their number)
//   unsigned integers, enums           decimal, via uint64
//   float, double                      shortest round-trip text (std::to_chars)
//   Price, Qty, Amount                 exact decimal (Decimal::format), e.g. 65114.2
//   const char*, char arrays           pointer stored, text read at drain time, so the
//                                      text must have static storage ("(null)" for nullptr)
//   std::string_view, std::string, char  copied into the record, at most 15 bytes (longer
//                                      text is truncated): for symbol names and the like
// Anything else (including char*, to catch mutable buffers) fails to compile.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/decimal.hpp"
#include "kinetic/core/spsc_ring.hpp"

namespace kinetic {

/// Severity, in increasing order. `off` as a threshold disables a producer; a record is never
/// logged at level `off`.
enum class LogLevel : std::uint8_t { trace = 0, debug, info, warn, error, off };

/// Case-insensitive parse of "trace", "debug", "info", "warn" (or "warning"), "error", "off";
/// nullopt for anything else. For configuration.
[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;
/// Lower-case name ("info"), the inverse of parse_log_level. Static storage.
[[nodiscard]] std::string_view to_string(LogLevel level) noexcept;

/// What a LogRecord argument slot holds.
enum class LogArgType : std::uint8_t {
  none = 0,
  i64,
  u64,
  f64,
  boolean,
  static_string,  ///< pointer to text with static storage
  inline_string,  ///< up to 15 bytes copied into the record
  price,          ///< Price raw value
  qty,            ///< Qty raw value
  amount,         ///< Amount raw value
};

/// Short text copied into a record. Not NUL-terminated; `length` <= 15.
struct LogInlineString {
  char text[15];
  std::uint8_t length;
};

/// One argument's value; which member is meaningful is given by the record's arg_types.
/// Price, Qty and Amount are stored as their raw int64 in `i64`.
union LogArgValue {
  std::int64_t i64;
  std::uint64_t u64;
  double f64;
  bool boolean;
  const char* static_string;
  LogInlineString inline_string;
};

/// One log call, as it travels through the ring: two cache lines, trivially copyable, no
/// ownership (the format and static-string pointers refer to static storage). Built by
/// encode_log_record() (LogProducer::log uses it); read by format_log_message().
struct alignas(64) LogRecord {
  static constexpr std::size_t kMaxArgs = 6;
  static constexpr std::size_t kInlineStringCapacity = sizeof(LogInlineString::text);

  std::uint64_t ticks;  ///< Clock::ticks() when log() was called
  const char* format;   ///< static storage; `{}` marks each argument
  std::uint16_t producer_id;
  LogLevel level;
  std::uint8_t arg_count;
  std::array<LogArgType, kMaxArgs> arg_types;  ///< `none` beyond arg_count
  std::array<LogArgValue, kMaxArgs> args;      ///< meaningful below arg_count
};
static_assert(sizeof(LogRecord) == 128, "LogRecord must be exactly two cache lines");
static_assert(std::is_trivially_copyable_v<LogRecord>);
static_assert(std::is_standard_layout_v<LogRecord>);

namespace log_detail {

template <class T>
struct is_decimal : std::false_type {};
template <class Tag>
struct is_decimal<Decimal<Tag>> : std::true_type {};

template <class T>
inline constexpr bool is_char_like_v =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

/// The slot type an argument of (decayed) type T is stored as; `none` when unsupported.
template <class T>
consteval LogArgType arg_type_of() noexcept {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) {
    return LogArgType::boolean;
  } else if constexpr (std::is_same_v<U, char>) {
    return LogArgType::inline_string;
  } else if constexpr (is_char_like_v<U>) {
    return LogArgType::none;  // wide characters: no sensible narrow text
  } else if constexpr (std::is_integral_v<U>) {
    return std::is_signed_v<U> ? LogArgType::i64 : LogArgType::u64;
  } else if constexpr (std::is_enum_v<U>) {
    return std::is_signed_v<std::underlying_type_t<U>> ? LogArgType::i64 : LogArgType::u64;
  } else if constexpr (std::is_same_v<U, float> || std::is_same_v<U, double>) {
    return LogArgType::f64;
  } else if constexpr (std::is_same_v<U, Price>) {
    return LogArgType::price;
  } else if constexpr (std::is_same_v<U, Qty>) {
    return LogArgType::qty;
  } else if constexpr (std::is_same_v<U, Amount>) {
    return LogArgType::amount;
  } else if constexpr (std::is_same_v<U, const char*>) {
    return LogArgType::static_string;
  } else if constexpr (std::is_array_v<U> &&
                       std::is_same_v<std::remove_cv_t<std::remove_extent_t<U>>, char>) {
    return LogArgType::static_string;  // a string literal (or a static char array)
  } else if constexpr (std::is_same_v<U, std::string_view> || std::is_same_v<U, std::string>) {
    return LogArgType::inline_string;
  } else {
    return LogArgType::none;
  }
}

inline void store_inline(LogArgValue& slot, const char* text, std::size_t length) noexcept {
  const std::size_t n =
      length < LogRecord::kInlineStringCapacity ? length : LogRecord::kInlineStringCapacity;
  if (n != 0) {  // an empty string_view may hold nullptr, which memcpy must not see
    std::memcpy(slot.inline_string.text, text, n);
  }
  slot.inline_string.length = static_cast<std::uint8_t>(n);
}

template <class T>
inline void store_arg(LogArgValue& slot, const T& value) noexcept {
  constexpr LogArgType type = arg_type_of<T>();
  if constexpr (type == LogArgType::boolean) {
    slot.boolean = value;
  } else if constexpr (type == LogArgType::inline_string && std::is_same_v<T, char>) {
    store_inline(slot, &value, 1);
  } else if constexpr (type == LogArgType::inline_string) {
    store_inline(slot, value.data(), value.size());
  } else if constexpr (type == LogArgType::i64 || type == LogArgType::u64) {
    using Target = std::conditional_t<type == LogArgType::i64, std::int64_t, std::uint64_t>;
    Target converted;
    if constexpr (std::is_enum_v<T>) {
      converted = static_cast<Target>(static_cast<std::underlying_type_t<T>>(value));
    } else {
      converted = static_cast<Target>(value);
    }
    if constexpr (type == LogArgType::i64) {
      slot.i64 = converted;
    } else {
      slot.u64 = converted;
    }
  } else if constexpr (type == LogArgType::f64) {
    slot.f64 = static_cast<double>(value);
  } else if constexpr (type == LogArgType::price || type == LogArgType::qty ||
                       type == LogArgType::amount) {
    slot.i64 = value.raw();
  } else if constexpr (type == LogArgType::static_string) {
    slot.static_string = value;  // an array decays to its first element
  }
}

/// Number of "{}" in the first `length` characters of `text`.
constexpr std::size_t count_placeholders(const char* text, std::size_t length) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; i + 1 < length && text[i + 1] != '\0'; ++i) {
    if (text[i] == '{' && text[i + 1] == '}') {
      ++count;
      ++i;
    }
  }
  return count;
}

// Not constexpr on purpose: calling it from LogFormat's consteval constructor is a compile
// error whose message names the mistake.
void log_format_placeholder_count_differs_from_argument_count();

}  // namespace log_detail

/// True when LogProducer::log accepts an argument of type T (see the table at the top).
template <class T>
inline constexpr bool is_log_argument_v =
    log_detail::arg_type_of<std::remove_cvref_t<T>>() != LogArgType::none;

/// A format string checked at compile time: it must be a constant character array with static
/// storage (a string literal), and its `{}` count must equal sizeof...(Args). Constructed
/// implicitly from the literal at the call site; holds only the pointer. Value type.
template <class... Args>
class LogFormat {
 public:
  template <std::size_t N>
  consteval LogFormat(const char (&text)[N]) noexcept  // NOLINT: implicit by design
      : text_(text) {
    if (log_detail::count_placeholders(text, N) != sizeof...(Args)) {
      log_detail::log_format_placeholder_count_differs_from_argument_count();
    }
  }
  [[nodiscard]] constexpr const char* c_str() const noexcept { return text_; }

 private:
  const char* text_;
};

/// Fills `record` from the arguments. Runs on the hot path inside LogProducer::log; public so
/// tests and tools can build records directly. `format` must have static storage. Unlike
/// log(), it does not check the placeholder count (see format_log_message for what a
/// mismatch prints). Never allocates.
template <class... Args>
void encode_log_record(LogRecord& record, std::uint16_t producer_id, LogLevel level,
                       std::uint64_t ticks, const char* format, const Args&... args) noexcept {
  static_assert(sizeof...(Args) <= LogRecord::kMaxArgs, "too many log arguments (max 6)");
  static_assert((is_log_argument_v<Args> && ...),
                "unsupported log argument type: use an integer, enum, float, double, bool, "
                "Price/Qty/Amount, a string literal, or std::string_view (copied, 15 bytes)");
  record.ticks = ticks;
  record.format = format;
  record.producer_id = producer_id;
  record.level = level;
  record.arg_count = static_cast<std::uint8_t>(sizeof...(Args));
  record.arg_types = {log_detail::arg_type_of<std::remove_cvref_t<Args>>()...};
  [&]<std::size_t... I>(std::index_sequence<I...>) noexcept {
    (log_detail::store_arg(record.args[I], args), ...);
  }
  (std::index_sequence_for<Args...>{});
}

/// Appends the message of `record` to `out`: each `{}` of the format in turn is replaced by
/// the next argument. Mismatches never lose information: a `{}` with no argument left is
/// written as `{}`, and arguments left over after the last `{}` are appended, each after a
/// space. Only the two characters `{}` are special; other braces are copied as they are.
/// Control side (allocates when `out` grows).
void format_log_message(const LogRecord& record, std::string& out);

/// Writes `unix_ns` (nanoseconds since 1970-01-01 UTC) as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"
/// (kUtcTimestampLength bytes, no NUL) into `out`. Returns kUtcTimestampLength.
inline constexpr std::size_t kUtcTimestampLength = 30;
std::size_t format_utc_timestamp(std::int64_t unix_ns, char* out) noexcept;

/// The hot side of logging for one thread: a level threshold, a ring of LogRecords and a
/// dropped-record counter. Created by Logger::make_producer (which owns it) or directly with
/// std::make_unique (the ring is 512 KiB: never on a stack).
/// Thread-safety: log() from the one owning (producer) thread only; try_pop(), consume_all()
/// and pending() from one consumer thread only, normally the Logger's drain; enabled(),
/// set_level(), threshold(), dropped(), id() and name() from any thread.
class LogProducer {
 public:
  static constexpr std::size_t kCapacity = 4096;  ///< records the ring holds
  using Ring = SpscRing<LogRecord, kCapacity>;

  LogProducer(std::uint16_t id, std::string name, LogLevel threshold);
  LogProducer(const LogProducer&) = delete;
  LogProducer& operator=(const LogProducer&) = delete;

  /// Hot path. Records `format` and `args` when `level` passes the threshold. Returns false
  /// only when the ring was full and the record was dropped (counted in dropped()); a record
  /// filtered out by the level returns true. Never blocks, allocates or throws.
  template <class... Args>
  bool log(LogLevel level, LogFormat<std::type_identity_t<Args>...> format,
           const Args&... args) noexcept {
    if (!enabled(level)) {
      return true;
    }
    LogRecord record;
    encode_log_record(record, id_, level, Clock::ticks(), format.c_str(), args...);
    if (ring_.try_push(record) == PushResult::ok) {
      return true;
    }
    // Only this thread writes the counter, so a load and a store suffice (no locked add).
    dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return false;
  }

  /// Whether a record at `level` would be recorded; guard costly argument computations.
  [[nodiscard]] bool enabled(LogLevel level) const noexcept {
    return level >= threshold_.load(std::memory_order_relaxed) && level != LogLevel::off;
  }
  void set_level(LogLevel threshold) noexcept {
    threshold_.store(threshold, std::memory_order_relaxed);
  }
  [[nodiscard]] LogLevel threshold() const noexcept {
    return threshold_.load(std::memory_order_relaxed);
  }

  /// Records dropped because the ring was full, since construction. Any thread (a snapshot).
  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_.load(std::memory_order_relaxed);
  }

  [[nodiscard]] std::uint16_t id() const noexcept { return id_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  /// Consumer side: the oldest record, if any.
  [[nodiscard]] bool try_pop(LogRecord& out) noexcept { return ring_.try_pop(out); }
  /// Consumer side: calls fn(const LogRecord&) on every record available now.
  template <class Fn>
  std::size_t consume_all(Fn&& fn) {
    return ring_.consume_all(static_cast<Fn&&>(fn));
  }
  /// Consumer side: records waiting.
  [[nodiscard]] std::size_t pending() const noexcept { return ring_.read_available(); }

 private:
  Ring ring_;
  std::atomic<LogLevel> threshold_;
  std::atomic<std::uint64_t> dropped_{0};
  std::uint16_t id_;
  std::string name_;
};

/// The control side: owns the producers and the sink, drains the rings and writes lines.
/// Lifetime: must outlive every use of the producers it made; the destructor stops the
/// background thread, drains what is left, flushes, and closes a file it opened.
/// Thread-safety: make_producer() allocates, so call it at start-up, before the hot threads
/// run; it is safe against a concurrent drain (both take an internal mutex, which only the
/// control side ever touches). drain(), flush(), set_level(), start() and stop() may be
/// called from any non-hot thread; drain() calls are serialised. format_line() reads the
/// producer list without the mutex: call it only where make_producer cannot run at the same
/// time. The producers' own rules are on LogProducer.
class Logger {
 public:
  /// Writes to `sink` (not owned; default stderr), with `level` as the producers' threshold.
  explicit Logger(std::FILE* sink = stderr, LogLevel level = LogLevel::info);
  /// Opens `path` for appending (start-up; throws std::system_error when it cannot).
  explicit Logger(const std::filesystem::path& path, LogLevel level = LogLevel::info);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  /// Creates a producer named `thread_name` (shown in brackets on each line) with the
  /// logger's current level. The reference stays valid for the logger's lifetime.
  /// Throws std::length_error past 65536 producers.
  LogProducer& make_producer(std::string_view thread_name);

  /// Formats and writes every record pending in every producer (in order within one
  /// producer, producer after producer), and a WARN line for each producer that dropped
  /// records since the previous drain, after that producer's records. Returns the number of
  /// records written (drop lines not counted). Does not flush.
  std::size_t drain();
  /// Flushes the sink (a system call).
  void flush();

  /// Starts a background control thread that drains every `poll` (sooner while the rings
  /// are busy) and flushes after each pass that wrote something. Throws std::logic_error if
  /// already running.
  void start(std::chrono::milliseconds poll);
  /// Stops the background thread (if any), then drains until the rings are empty and
  /// flushes. The producers should have stopped logging by then.
  void stop();
  [[nodiscard]] bool running() const noexcept { return thread_.joinable(); }

  /// Sets the threshold of every producer, and of those made later.
  void set_level(LogLevel level);
  [[nodiscard]] LogLevel level() const noexcept { return level_.load(std::memory_order_relaxed); }

  /// Appends the whole line for `record`, newline included, to `out`.
  void format_line(const LogRecord& record, std::string& out) const;
  /// Converts a Clock::ticks() reading to nanoseconds since the Unix epoch, with the
  /// (CLOCK_REALTIME, CLOCK_MONOTONIC) pair captured at construction.
  [[nodiscard]] std::int64_t to_unix_ns(std::uint64_t ticks) const noexcept;

  /// fwrite calls that wrote less than asked (the sink failed); any thread.
  [[nodiscard]] std::uint64_t write_errors() const noexcept {
    return write_errors_.load(std::memory_order_relaxed);
  }

 private:
  struct Slot {
    std::unique_ptr<LogProducer> producer;
    std::uint64_t dropped_reported = 0;  // control side only
  };

  void capture_clock_pair() noexcept;
  void append_prefix(std::uint64_t ticks, LogLevel level, std::string_view producer_name,
                     std::string& out) const;
  [[nodiscard]] std::string_view producer_name(std::uint16_t id) const noexcept;
  void write_out(std::string& buffer);
  void run(std::chrono::milliseconds poll);

  std::FILE* sink_;
  bool owns_sink_ = false;
  std::int64_t realtime_minus_monotonic_ns_ = 0;
  std::atomic<LogLevel> level_;
  std::atomic<std::uint64_t> write_errors_{0};
  std::mutex mutex_;  // guards slots_ and buffer_; control side only
  std::vector<Slot> slots_;
  std::string buffer_;  // reused by every drain
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace kinetic
