// Configuration: the schema (one entry per key) and everything it drives: loading TOML,
// environment overrides, validation and the documented example.
//
// toml++ is included here only; it is slow to compile and stays out of the public header.

#include "kinetic/core/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace kinetic {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// ---- the schema's building blocks ----

/// An interval of doubles; an infinite bound is open.
struct RealRange {
  double min;
  double max;
  bool min_inclusive;
  bool max_inclusive;
};
constexpr RealRange closed(double lo, double hi) {
  return {lo, hi, true, true};
}
constexpr RealRange open(double lo, double hi) {
  return {lo, hi, false, false};
}
constexpr RealRange open_closed(double lo, double hi) {
  return {lo, hi, false, true};
}
constexpr RealRange closed_open(double lo, double hi) {
  return {lo, hi, true, false};
}
constexpr RealRange at_least(double lo) {
  return {lo, kInfinity, true, false};
}
constexpr RealRange above(double lo) {
  return {lo, kInfinity, false, false};
}

// One struct per kind of key. Each holds plain function pointers to read and write its field
// of a Config, generated from pointers to members by SectionKeys below, so the table can be
// constexpr and a key can never reach a field of another type.
struct BoolSpec {
  const bool& (*read)(const Config&);
  bool& (*write)(Config&);
};
struct IntSpec {
  std::int64_t min;
  std::int64_t max;
  bool power_of_two;
  std::int64_t (*read)(const Config&);
  void (*write)(Config&, std::int64_t);
};
struct RealSpec {
  RealRange range;
  const double& (*read)(const Config&);
  double& (*write)(Config&);
};
/// Text. `one_of` (when not empty) lists the only accepted values; `prefixes` (when not
/// empty) the accepted beginnings, for URLs. Empty text is accepted unless one_of says not.
struct TextSpec {
  std::span<const std::string_view> one_of;
  std::span<const std::string_view> prefixes;
  const std::string& (*read)(const Config&);
  std::string& (*write)(Config&);
};
/// One of a fixed set of names, stored as an enum whose values are the names' indices.
struct ChoiceSpec {
  std::span<const std::string_view> names;
  std::size_t (*read)(const Config&);
  void (*write)(Config&, std::size_t);
};
/// A list of strings (exchange symbols, feed topics). `check` returns the reason a list is
/// refused, or nothing; `rule` states what it accepts, for the example and config_schema().
struct ListSpec {
  std::optional<std::string> (*check)(const std::vector<std::string>&);
  std::string_view rule;
  const std::vector<std::string>& (*read)(const Config&);
  std::vector<std::string>& (*write)(Config&);
};
using Spec = std::variant<BoolSpec, IntSpec, RealSpec, TextSpec, ChoiceSpec, ListSpec>;

struct Entry {
  std::string_view section;
  std::string_view key;
  std::string_view description;
  Spec spec;
};

struct SectionInfo {
  std::string_view name;
  std::string_view description;
};

/// Makes the entries of one section: `Section` is a pointer to the section's member of
/// Config, each builder's `Member` a pointer to a field of that section.
template <auto Section>
struct SectionKeys {
  std::string_view name;

  template <auto Member>
  static const auto& read(const Config& config) {
    return (config.*Section).*Member;
  }
  template <auto Member>
  static auto& write(Config& config) {
    return (config.*Section).*Member;
  }
  template <auto Member>
  using FieldType = std::remove_cvref_t<decltype((std::declval<Config&>().*Section).*Member)>;

  template <auto Member>
  static std::int64_t read_integer(const Config& config) {
    return static_cast<std::int64_t>((config.*Section).*Member);
  }
  template <auto Member>
  static void write_integer(Config& config, std::int64_t value) {
    (config.*Section).*Member = static_cast<FieldType<Member>>(value);
  }
  template <auto Member>
  static std::size_t read_choice(const Config& config) {
    return static_cast<std::size_t>((config.*Section).*Member);
  }
  template <auto Member>
  static void write_choice(Config& config, std::size_t index) {
    (config.*Section).*Member = static_cast<FieldType<Member>>(index);
  }

  template <auto Member>
  constexpr Entry boolean(std::string_view key, std::string_view description) const {
    return {name, key, description, BoolSpec{&read<Member>, &write<Member>}};
  }
  template <auto Member>
  constexpr Entry integer(std::string_view key, std::int64_t min, std::int64_t max,
                          std::string_view description, bool power_of_two = false) const {
    // Evaluated at compile time, so a range the field cannot hold fails the build.
    if (min > max || !std::in_range<FieldType<Member>>(min) ||
        !std::in_range<FieldType<Member>>(max)) {
      throw std::logic_error("integer range does not fit the field");
    }
    return {name, key, description,
            IntSpec{min, max, power_of_two, &read_integer<Member>, &write_integer<Member>}};
  }
  template <auto Member>
  constexpr Entry real(std::string_view key, RealRange range, std::string_view description) const {
    return {name, key, description, RealSpec{range, &read<Member>, &write<Member>}};
  }
  template <auto Member>
  constexpr Entry text(std::string_view key, std::string_view description,
                       std::span<const std::string_view> one_of = {},
                       std::span<const std::string_view> prefixes = {}) const {
    return {name, key, description, TextSpec{one_of, prefixes, &read<Member>, &write<Member>}};
  }
  template <auto Member>
  constexpr Entry choice(std::string_view key, std::span<const std::string_view> names,
                         std::string_view description) const {
    static_assert(std::is_enum_v<FieldType<Member>>, "a choice is stored as an enum");
    return {name, key, description, ChoiceSpec{names, &read_choice<Member>, &write_choice<Member>}};
  }
  template <auto Member>
  constexpr Entry list(std::string_view key,
                       std::optional<std::string> (*check)(const std::vector<std::string>&),
                       std::string_view rule, std::string_view description) const {
    return {name, key, description, ListSpec{check, rule, &read<Member>, &write<Member>}};
  }
};

// Names of enum values, in the order of the enumerators (checked below).
constexpr std::array<std::string_view, 1> kExchangeNames{"bybit"};
constexpr std::array<std::string_view, 2> kHttpPrefixes{"https://", "http://"};
constexpr std::array<std::string_view, 2> kWebSocketPrefixes{"wss://", "ws://"};
constexpr std::array<std::string_view, 2> kCategoryNames{"linear", "spot"};
constexpr std::array<std::string_view, 2> kLayoutNames{"fused", "pipelined"};
constexpr std::array<std::string_view, 3> kIoBackendNames{"auto", "io_uring", "plain"};
constexpr std::array<std::string_view, 2> kWaitNames{"busy_spin", "spin_then_yield"};
constexpr std::array<std::string_view, 2> kFlaggedTickNames{"drop", "pass"};
constexpr std::array<std::string_view, 6> kActionNames{"none", "strong_buy", "buy",
                                                       "hold", "sell",       "strong_sell"};
constexpr std::array<std::string_view, 6> kLevelNames{"trace", "debug", "info",
                                                      "warn",  "error", "off"};
static_assert(static_cast<int>(ExchangeConfig::Category::spot) == 1);
static_assert(static_cast<int>(ThreadsConfig::Layout::pipelined) == 1);
static_assert(static_cast<int>(FeedConfig::IoBackend::plain) == 2);
static_assert(static_cast<int>(WaitPolicy::spin_then_yield) == 1);
static_assert(static_cast<int>(LogConfig::Level::off) == 5);
static_assert(static_cast<int>(RiskConfig::FlaggedTicks::pass) == 1);
static_assert(static_cast<int>(strategy::SignalAction::strong_buy) == 1);
static_assert(static_cast<int>(strategy::SignalAction::hold) == 3);
static_assert(static_cast<int>(strategy::SignalAction::strong_sell) == 5);

// The highest core number accepted; Linux's default CPU set size.
constexpr std::int64_t kMaxCore = 1023;
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

constexpr std::array kSections{
    SectionInfo{"strategy",
                "Smoothing, the 6-case signal and its thresholds, the coordinator's sources and "
                "the drift filter."},
    SectionInfo{"kalman",
                "Kalman filter over [price, velocity, acceleration] (constant acceleration)."},
    SectionInfo{"risk",
                "Position sizing and the limits that stop trading. Fractions are of equity."},
    SectionInfo{"exchange", "Where to connect and what to trade."},
    SectionInfo{"feed",
                "The market-data session: topics, socket and timing. Its URL, symbols and CA "
                "file are [exchange]'s ws_public_url, symbols and ca_file."},
    SectionInfo{"threads", "Thread layout, core pinning and how idle threads wait."},
    SectionInfo{"log", "The asynchronous logger."},
    SectionInfo{"demo", "The synthetic market of the demo and the tests."},
};

constexpr SectionKeys<&Config::strategy> kStrategy{"strategy"};
constexpr SectionKeys<&Config::kalman> kKalman{"kalman"};
constexpr SectionKeys<&Config::risk> kRisk{"risk"};
constexpr SectionKeys<&Config::exchange> kExchange{"exchange"};
constexpr SectionKeys<&Config::feed> kFeed{"feed"};
constexpr SectionKeys<&Config::threads> kThreads{"threads"};
constexpr SectionKeys<&Config::log> kLog{"log"};
constexpr SectionKeys<&Config::demo> kDemo{"demo"};

// The checks of the list keys (defined with the other checks below).
std::optional<std::string> check_symbols(const std::vector<std::string>& symbols);
std::optional<std::string> check_topics(const std::vector<std::string>& topics);

// The schema: every key, in the order of the example file. Defaults are the member
// initialisers of Config (config.hpp); the descriptions and ranges live here.
constexpr std::array kSchema{
    kStrategy.real<&StrategyConfig::ema_lambda>(
        "ema_lambda", open_closed(0, 1),
        "EMA smoothing factor applied per tick (used when half_life_ms = 0)"),
    kStrategy.real<&StrategyConfig::half_life_ms>(
        "half_life_ms", closed(0, 86'400'000),
        "EMA half-life in milliseconds of event time; 0 = use ema_lambda per tick"),
    kStrategy.real<&StrategyConfig::derivative_noise_alpha>(
        "derivative_noise_alpha", open_closed(0, 1),
        "weight of one sample in the spread (noise) of the finite-difference v and a"),
    kStrategy.real<&StrategyConfig::snr_threshold>(
        "snr_threshold", at_least(0), "minimum |velocity| / its standard error to signal"),
    kStrategy.real<&StrategyConfig::dead_band_sigma>(
        "dead_band_sigma", at_least(0),
        "no signal while |velocity| is within this many standard errors of zero"),
    kStrategy.integer<&StrategyConfig::forecast_horizon_ms>(
        "forecast_horizon_ms", 1, 3'600'000, "horizon of the Taylor price forecast, milliseconds"),
    kStrategy.choice<&StrategyConfig::action_strong_uptrend>("action_strong_uptrend", kActionNames,
                                                             "action when v > 0 and a > 0"),
    kStrategy.choice<&StrategyConfig::action_decelerating_uptrend>(
        "action_decelerating_uptrend", kActionNames, "action when v > 0 and a < 0 (exit long)"),
    kStrategy.choice<&StrategyConfig::action_decelerating_downtrend>(
        "action_decelerating_downtrend", kActionNames, "action when v < 0 and a > 0"),
    kStrategy.choice<&StrategyConfig::action_strong_downtrend>(
        "action_strong_downtrend", kActionNames, "action when v < 0 and a < 0"),
    kStrategy.choice<&StrategyConfig::action_bottoming_out>(
        "action_bottoming_out", kActionNames, "action when v is within the dead band and a > 0"),
    kStrategy.choice<&StrategyConfig::action_topping_out>(
        "action_topping_out", kActionNames, "action when v is within the dead band and a < 0"),
    kStrategy.real<&StrategyConfig::weight_tick_derivatives>(
        "weight_tick_derivatives", closed(0, 1e6),
        "coordinator weight of finite differences on ticks; 0 = unused"),
    kStrategy.real<&StrategyConfig::weight_tick_kalman>(
        "weight_tick_kalman", closed(0, 1e6), "coordinator weight of the Kalman filter on ticks"),
    kStrategy.real<&StrategyConfig::weight_kalman_1s>(
        "weight_kalman_1s", closed(0, 1e6), "coordinator weight of the Kalman filter on 1 s bars"),
    kStrategy.real<&StrategyConfig::weight_kalman_1m>(
        "weight_kalman_1m", closed(0, 1e6),
        "coordinator weight of the Kalman filter on 1 min bars"),
    kStrategy.real<&StrategyConfig::drift_short_horizon_s>(
        "drift_short_horizon_s", closed(1, 1e8), "memory of the first drift estimator, seconds"),
    kStrategy.real<&StrategyConfig::drift_long_horizon_s>(
        "drift_long_horizon_s", closed(1, 1e8), "memory of the second drift estimator, seconds"),
    kStrategy.real<&StrategyConfig::drift_t_threshold>(
        "drift_t_threshold", above(0), "|t-statistic| of a drift that vetoes an entry against it"),

    kKalman.real<&KalmanConfig::process_noise_q>(
        "process_noise_q", above(0), "process noise: jerk spectral density, price^2/s^5"),
    kKalman.real<&KalmanConfig::measurement_noise_r>("measurement_noise_r", above(0),
                                                     "measurement noise: price variance, price^2"),
    kKalman.real<&KalmanConfig::sigma_v0>("sigma_v0", above(0),
                                          "initial standard deviation of velocity, price/s"),
    kKalman.real<&KalmanConfig::sigma_a0>("sigma_a0", above(0),
                                          "initial standard deviation of acceleration, price/s^2"),
    kKalman.boolean<&KalmanConfig::adaptive>(
        "adaptive", "estimate the measurement noise online from the innovations"),
    kKalman.real<&KalmanConfig::adaptive_alpha>(
        "adaptive_alpha", open_closed(0, 1),
        "weight of one innovation in the adaptive measurement-noise estimate"),

    kRisk.real<&RiskConfig::max_risk_per_trade>(
        "max_risk_per_trade", open_closed(0, 0.02),
        "largest fraction of equity lost when a trade's stop is hit"),
    kRisk.real<&RiskConfig::min_reward_risk>("min_reward_risk", closed(1, 100),
                                             "smallest expected reward / risk ratio to trade"),
    kRisk.real<&RiskConfig::kelly_fraction>("kelly_fraction", closed(0, 1),
                                            "multiplier on the Kelly size (0.5 = half Kelly)"),
    kRisk.real<&RiskConfig::kelly_cap>("kelly_cap", closed(0, 1),
                                       "largest Kelly fraction of equity, after kelly_fraction"),
    kRisk.real<&RiskConfig::max_drawdown>("max_drawdown", open(0, 1),
                                          "kill switch: drawdown from the equity peak"),
    kRisk.real<&RiskConfig::max_daily_loss>("max_daily_loss", open(0, 1),
                                            "kill switch: loss since the start of the UTC day"),
    kRisk.real<&RiskConfig::max_trade_loss>("max_trade_loss", open(0, 1),
                                            "kill switch: loss on one position"),
    kRisk.real<&RiskConfig::max_error_rate>(
        "max_error_rate", closed(0, 1),
        "kill switch: rejected / sent orders within error_rate_window_s"),
    kRisk.integer<&RiskConfig::error_rate_window_s>("error_rate_window_s", 1, 3600,
                                                    "window of max_error_rate, seconds"),
    kRisk.integer<&RiskConfig::connectivity_timeout_s>(
        "connectivity_timeout_s", 1, 3600,
        "kill switch: seconds without a message from the exchange"),
    kRisk.real<&RiskConfig::max_leverage>("max_leverage", closed(1, 100),
                                          "largest leverage of the account"),
    kRisk.integer<&RiskConfig::max_open_positions>("max_open_positions", 1, 1000,
                                                   "most positions open at once"),
    kRisk.integer<&RiskConfig::error_rate_min_orders>(
        "error_rate_min_orders", 1, 100'000,
        "orders sent within error_rate_window_s before max_error_rate can trip"),
    kRisk.real<&RiskConfig::stop_sigma_k>("stop_sigma_k", open_closed(0, 100),
                                          "stop distance, in standard deviations of price"),
    kRisk.integer<&RiskConfig::volatility_window>(
        "volatility_window", 2, 1024, "trades over which the standard deviation of price is taken"),
    kRisk.real<&RiskConfig::max_symbol_exposure>("max_symbol_exposure", open_closed(0, 1000),
                                                 "largest notional of one symbol / equity"),
    kRisk.real<&RiskConfig::max_total_exposure>("max_total_exposure", open_closed(0, 1000),
                                                "largest notional of all positions / equity"),
    kRisk.real<&RiskConfig::max_correlation>(
        "max_correlation", closed(0, 1),
        "refuse a new position whose return correlation with an open one on the same side is "
        "above this"),
    kRisk.real<&RiskConfig::price_band>(
        "price_band", open(0, 1),
        "fat finger: largest distance of an order price from the last trade"),
    kRisk.real<&RiskConfig::max_order_notional>("max_order_notional", above(0),
                                                "largest notional of one order, quote currency"),
    kRisk.integer<&RiskConfig::max_orders_per_second>("max_orders_per_second", 1, 100'000,
                                                      "most orders sent in any one second"),
    kRisk.integer<&RiskConfig::duplicate_window_ms>(
        "duplicate_window_ms", 0, 3'600'000,
        "an identical order within this many milliseconds is refused as a duplicate"),
    kRisk.real<&RiskConfig::outlier_sigma>(
        "outlier_sigma", above(0), "a trade price this many σ from its rolling mean is flagged"),
    kRisk.real<&RiskConfig::volume_spike>(
        "volume_spike", above(1), "a trade volume this many times its rolling average is flagged"),
    kRisk.real<&RiskConfig::outlier_min_sigma_bps>(
        "outlier_min_sigma_bps", at_least(0),
        "floor under the validator's σ of price, in basis points of its mean"),
    kRisk.integer<&RiskConfig::validation_window>(
        "validation_window", 2, 64, "trades in the validator's rolling price and volume windows"),
    kRisk.integer<&RiskConfig::correlation_interval_ms>(
        "correlation_interval_ms", 1, 86'400'000,
        "sampling interval of the return correlation between symbols, milliseconds"),
    kRisk.real<&RiskConfig::correlation_alpha>("correlation_alpha", open_closed(0, 1),
                                               "weight of one sample in the return correlation"),
    kRisk.choice<&RiskConfig::flagged_ticks>(
        "flagged_ticks", kFlaggedTickNames,
        "drop = a flagged tick produces no order; pass = it may, with the flag kept"),
    kRisk.real<&RiskConfig::prior_win_probability>(
        "prior_win_probability", open(0, 1), "Kelly's win probability before trades are known"),
    kRisk.integer<&RiskConfig::prior_trades>("prior_trades", 0, 1'000'000,
                                             "weight of the Kelly prior, in trades"),

    kExchange.text<&ExchangeConfig::name>("name", "exchange venue", kExchangeNames),
    kExchange.text<&ExchangeConfig::rest_url>("rest_url", "REST API base URL", {}, kHttpPrefixes),
    kExchange.text<&ExchangeConfig::ws_public_url>(
        "ws_public_url", "public market-data WebSocket URL", {}, kWebSocketPrefixes),
    kExchange.text<&ExchangeConfig::ws_private_url>(
        "ws_private_url", "private (orders, positions) WebSocket URL", {}, kWebSocketPrefixes),
    kExchange.text<&ExchangeConfig::ws_trade_url>("ws_trade_url", "order-entry WebSocket URL", {},
                                                  kWebSocketPrefixes),
    kExchange.integer<&ExchangeConfig::recv_window_ms>(
        "recv_window_ms", 1, 60'000, "validity window of a signed request, milliseconds"),
    kExchange.text<&ExchangeConfig::ca_file>(
        "ca_file", "PEM file of trusted CAs; empty = the system trust store"),
    kExchange.list<&ExchangeConfig::symbols>(
        "symbols", &check_symbols, "non-empty, distinct; A-Z and 0-9 only", "instruments to trade"),
    kExchange.choice<&ExchangeConfig::category>("category", kCategoryNames,
                                                "Bybit product category"),

    kFeed.list<&FeedConfig::topics>(
        "topics", &check_topics,
        "non-empty, distinct; each trade | ticker | book.N (N: 1 50 200 500 1000) | kline.I "
        "(I: 1 3 5 15 30 60 120 240 360 720 D W M)",
        "topic short forms, each subscribed for every symbol of [exchange]"),
    kFeed.choice<&FeedConfig::io_backend>(
        "io_backend", kIoBackendNames,
        "socket backend: auto = io_uring where the kernel allows it, plain sockets otherwise"),
    kFeed.integer<&FeedConfig::busy_poll_us>(
        "busy_poll_us", 0, 1'000'000,
        "SO_BUSY_POLL microseconds; 0 = off (above net.core.busy_poll needs CAP_NET_ADMIN)"),
    kFeed.boolean<&FeedConfig::sqpoll>(
        "sqpoll", "io_uring: a kernel thread polls the submission queue (costs a CPU while busy)"),
    kFeed.integer<&FeedConfig::sqpoll_idle_ms>(
        "sqpoll_idle_ms", 1, 60'000, "io_uring: how long the SQPOLL thread spins before it sleeps"),
    kFeed.boolean<&FeedConfig::multishot_recv>(
        "multishot_recv",
        "io_uring: multishot receive into provided buffers where the kernel has it"),
    kFeed.integer<&FeedConfig::connect_timeout_ms>("connect_timeout_ms", 1, 600'000,
                                                   "TCP connect timeout, milliseconds"),
    kFeed.integer<&FeedConfig::handshake_timeout_ms>(
        "handshake_timeout_ms", 1, 600'000, "TLS and WebSocket handshake timeout, milliseconds"),
    kFeed.integer<&FeedConfig::ping_interval_ms>(
        "ping_interval_ms", 1, 600'000, "JSON ping interval, milliseconds (Bybit asks for 20 s)"),
    kFeed.integer<&FeedConfig::pong_timeout_ms>(
        "pong_timeout_ms", 1, 600'000,
        "the link is dead after a ping interval plus this long without a message, milliseconds"),
    kFeed.integer<&FeedConfig::reconnect_initial_ms>("reconnect_initial_ms", 1, 600'000,
                                                     "first reconnection delay, milliseconds"),
    kFeed.integer<&FeedConfig::reconnect_max_ms>(
        "reconnect_max_ms", 1, 3'600'000,
        "cap of the doubling reconnection delay, milliseconds; at least reconnect_initial_ms"),
    kFeed.real<&FeedConfig::reconnect_jitter>(
        "reconnect_jitter", closed_open(0, 1),
        "each reconnection delay is multiplied by a random factor in [1 - j, 1 + j]"),
    kFeed.integer<&FeedConfig::max_message_bytes>(
        "max_message_bytes", 1024, 1 << 28,
        "largest WebSocket message; a larger one ends the connection"),
    kFeed.integer<&FeedConfig::book_levels>("book_levels", 1, 100'000,
                                            "price levels kept per side of each order book"),

    kThreads.choice<&ThreadsConfig::layout>(
        "layout", kLayoutNames,
        "fused = one thread runs feed, strategy and execution; pipelined = one thread each"),
    kThreads.integer<&ThreadsConfig::feed_core>("feed_core", -1, kMaxCore,
                                                "core for the feed thread; -1 = not pinned"),
    kThreads.integer<&ThreadsConfig::strategy_core>(
        "strategy_core", -1, kMaxCore, "core for the strategy thread (pipelined); -1 = not pinned"),
    kThreads.integer<&ThreadsConfig::exec_core>(
        "exec_core", -1, kMaxCore, "core for the execution thread (pipelined); -1 = not pinned"),
    kThreads.integer<&ThreadsConfig::control_core>("control_core", -1, kMaxCore,
                                                   "core for the control thread; -1 = not pinned"),
    kThreads.choice<&ThreadsConfig::wait>(
        "wait", kWaitNames,
        "how a hot thread waits for work: burn its core, or yield it after a spin"),

    kLog.choice<&LogConfig::level>("level", kLevelNames,
                                   "least severe level written; off = nothing"),
    kLog.text<&LogConfig::file>("file", "file to append the log to; empty = standard error"),
    kLog.integer<&LogConfig::ring_capacity>("ring_capacity", 16, 1 << 24,
                                            "records the log ring holds", true),

    kDemo.integer<&DemoConfig::seed>("seed", 0, kInt64Max, "random seed of the synthetic market"),
    kDemo.integer<&DemoConfig::ticks>("ticks", 1, 1'000'000'000, "ticks the demo generates"),
    kDemo.integer<&DemoConfig::warmup_ticks>("warmup_ticks", 0, 1'000'000'000,
                                             "ticks that only feed the engine, untimed"),
    kDemo.real<&DemoConfig::entry_score>(
        "entry_score", open_closed(0, 1),
        "|combined signal score| at which the demo opens a position"),
    kDemo.real<&DemoConfig::min_confidence>("min_confidence", closed(0, 1),
                                            "combined signal confidence needed to open a position"),
    kDemo.integer<&DemoConfig::taker_fee_ppm>("taker_fee_ppm", 0, 100'000,
                                              "taker fee of the paper venue, parts per million"),
};

// Every entry names a known section, keys are unique within a section, and names are
// lower-case identifiers (so KINETIC_<SECTION>_<KEY> is unambiguous: sections have no '_').
constexpr bool is_identifier(std::string_view name, bool allow_underscore) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (allow_underscore && c == '_');
  });
}
constexpr bool schema_is_consistent() {
  for (const SectionInfo& section : kSections) {
    if (!is_identifier(section.name, false)) {
      return false;
    }
  }
  for (std::size_t i = 0; i < kSchema.size(); ++i) {
    const Entry& entry = kSchema[i];
    const bool known = std::any_of(kSections.begin(), kSections.end(),
                                   [&](const SectionInfo& s) { return s.name == entry.section; });
    if (!known || !is_identifier(entry.key, true)) {
      return false;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (kSchema[j].section == entry.section && kSchema[j].key == entry.key) {
        return false;
      }
    }
  }
  return true;
}
static_assert(schema_is_consistent());

// ---- text helpers ----

std::string format_double(double value) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  std::string text(buffer.data(), ec == std::errc{} ? end : buffer.data());
  return text;
}

/// A double as a TOML float: shortest round-trip digits, with ".0" where it would otherwise
/// read back as an integer.
std::string toml_float(double value) {
  if (std::isnan(value)) {
    return "nan";
  }
  if (std::isinf(value)) {
    return value > 0 ? "inf" : "-inf";
  }
  std::string text = format_double(value);
  if (text.find_first_of(".eE") == std::string::npos) {
    text += ".0";
  }
  return text;
}

/// A TOML basic string, quoted and escaped.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          std::array<char, 8> escape{};
          std::snprintf(escape.data(), escape.size(), "\\u%04X", static_cast<unsigned>(byte));
          out += escape.data();
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string toml_string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i == 0 ? "" : ", ";
    out += toml_string(items[i]);
  }
  out += ']';
  return out;
}

/// A key from the input as it may appear in a one-line message: control characters escaped.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      std::array<char, 8> escape{};
      std::snprintf(escape.data(), escape.size(), "\\x%02X", static_cast<unsigned>(byte));
      out += escape.data();
    } else {
      out += c;
    }
  }
  return out;
}

std::string quoted_list(std::span<const std::string_view> names, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += i == 0 ? "" : separator;
    out += '"';
    out += names[i];
    out += '"';
  }
  return out;
}

std::string prefixes_text(std::span<const std::string_view> prefixes) {
  std::string out;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    out += i == 0 ? "" : " or ";
    out += prefixes[i];
  }
  return out;
}

std::string interval_text(const RealRange& range) {
  return std::string(range.min_inclusive ? "[" : "(") + format_double(range.min) + ", " +
         (std::isinf(range.max) ? std::string("inf") : format_double(range.max)) +
         (range.max_inclusive ? "]" : ")");
}

std::string integer_interval_text(const IntSpec& spec) {
  return "[" + std::to_string(spec.min) + ", " + std::to_string(spec.max) + "]";
}

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  });
  return out;
}

std::string dotted_name(const Entry& entry) {
  return std::string(entry.section) + "." + std::string(entry.key);
}

std::string env_var_name(const Entry& entry) {
  return "KINETIC_" + upper(entry.section) + "_" + upper(entry.key);
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0U) == 0xC0U) {
      length = 2;
      code = lead & 0x1FU;
    } else if ((lead & 0xF0U) == 0xE0U) {
      length = 3;
      code = lead & 0x0FU;
    } else if ((lead & 0xF8U) == 0xF0U) {
      length = 4;
      code = lead & 0x07U;
    } else {
      return false;
    }
    if (text.size() - i < length) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0U) != 0x80U) {
        return false;
      }
      code = (code << 6U) | (next & 0x3FU);
    }
    const std::uint32_t smallest = length == 2 ? 0x80U : (length == 3 ? 0x800U : 0x10000U);
    if (code < smallest || code > 0x10FFFFU || (code >= 0xD800U && code <= 0xDFFFU)) {
      return false;  // overlong, beyond Unicode, or a surrogate
    }
    i += length;
  }
  return true;
}

bool is_symbol(std::string_view text) {
  constexpr std::size_t kMaxSymbolLength = 32;
  return !text.empty() && text.size() <= kMaxSymbolLength &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above_cell = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? std::size_t{0} : std::size_t{1})});
      diagonal = above_cell;
    }
  }
  return row[b.size()];
}

/// " (did you mean X?)" for the closest of `candidates` when it is plausibly a typo.
std::string suggestion(std::string_view typed, std::span<const std::string> candidates) {
  const std::string* best = nullptr;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(typed, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = &candidate;
    }
  }
  if (best == nullptr || best_distance > std::max<std::size_t>(2, typed.size() / 3)) {
    return {};
  }
  return " (did you mean " + *best + "?)";
}

// ---- describing the schema ----

std::string_view type_name(const Spec& spec) {
  return std::visit(
      [](const auto& s) -> std::string_view {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BoolSpec>) {
          return "boolean";
        } else if constexpr (std::is_same_v<S, IntSpec>) {
          return "integer";
        } else if constexpr (std::is_same_v<S, RealSpec>) {
          return "float";
        } else if constexpr (std::is_same_v<S, ListSpec>) {
          return "array of strings";
        } else {
          return "string";
        }
      },
      spec);
}

/// The allowed values in a few words, for the example's comments and config_schema();
/// empty where any value of the type is accepted.
std::string range_text(const Spec& spec) {
  return std::visit(
      [](const auto& s) -> std::string {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BoolSpec>) {
          return {};
        } else if constexpr (std::is_same_v<S, IntSpec>) {
          return integer_interval_text(s) + (s.power_of_two ? ", a power of two" : "");
        } else if constexpr (std::is_same_v<S, RealSpec>) {
          return interval_text(s.range);
        } else if constexpr (std::is_same_v<S, TextSpec>) {
          if (!s.one_of.empty()) {
            return quoted_list(s.one_of, " | ");
          }
          if (!s.prefixes.empty()) {
            return "starts with " + prefixes_text(s.prefixes);
          }
          return {};
        } else if constexpr (std::is_same_v<S, ChoiceSpec>) {
          return quoted_list(s.names, " | ");
        } else {
          return std::string(s.rule);
        }
      },
      spec);
}

/// The field's current value as TOML text.
std::string value_text(const Spec& spec, const Config& config) {
  return std::visit(
      [&](const auto& s) -> std::string {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BoolSpec>) {
          return s.read(config) ? "true" : "false";
        } else if constexpr (std::is_same_v<S, IntSpec>) {
          return std::to_string(s.read(config));
        } else if constexpr (std::is_same_v<S, RealSpec>) {
          return toml_float(s.read(config));
        } else if constexpr (std::is_same_v<S, TextSpec>) {
          return toml_string(s.read(config));
        } else if constexpr (std::is_same_v<S, ChoiceSpec>) {
          const std::size_t index = s.read(config);
          return index < s.names.size() ? toml_string(s.names[index]) : toml_string("?");
        } else {
          return toml_string_array(s.read(config));
        }
      },
      spec);
}

// ---- checking and assigning one value ----

/// A value read from the file or the environment, before it is checked against its key.
/// An integer stays an integer where a float is expected, so messages show what was typed.
using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

std::string value_text(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<V, double>) {
          return toml_float(v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          return toml_string(v);
        } else {
          return toml_string_array(v);
        }
      },
      value);
}

bool in_range(double value, const RealRange& range) {
  const bool above_min = range.min_inclusive ? value >= range.min : value > range.min;
  const bool below_max = range.max_inclusive ? value <= range.max : value < range.max;
  return above_min && below_max;
}

std::optional<std::string> check_text(const TextSpec& spec, std::string_view text) {
  if (!is_valid_utf8(text)) {
    return "is not valid UTF-8";
  }
  if (std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
      })) {
    return "contains a control character";
  }
  if (!spec.one_of.empty() &&
      std::find(spec.one_of.begin(), spec.one_of.end(), text) == spec.one_of.end()) {
    return "is not one of " + quoted_list(spec.one_of, ", ");
  }
  if (!spec.prefixes.empty() &&
      std::none_of(spec.prefixes.begin(), spec.prefixes.end(),
                   [&](std::string_view p) { return text.starts_with(p); })) {
    return "does not start with " + prefixes_text(spec.prefixes);
  }
  return std::nullopt;
}

std::optional<std::string> check_symbols(const std::vector<std::string>& symbols) {
  if (symbols.empty()) {
    return "is empty";
  }
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (!is_symbol(symbols[i])) {
      return "has " + toml_string(symbols[i]) +
             ", which is not a symbol of 1 to 32 upper-case letters and digits";
    }
    if (std::find(symbols.begin(), symbols.begin() + static_cast<std::ptrdiff_t>(i), symbols[i]) !=
        symbols.begin() + static_cast<std::ptrdiff_t>(i)) {
      return "has " + toml_string(symbols[i]) + " twice";
    }
  }
  return std::nullopt;
}

/// A topic short form that feed::make_topic turns into a Bybit topic: "trade", "ticker",
/// "book.N" with a depth Bybit streams, "kline.I" with one of Bybit's intervals.
bool is_topic_short_form(std::string_view topic) {
  constexpr std::array<std::string_view, 5> kBookDepths{"1", "50", "200", "500", "1000"};
  constexpr std::array<std::string_view, 13> kKlineIntervals{
      "1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M"};
  const auto is_one_of = [](std::string_view text, std::span<const std::string_view> names) {
    return std::find(names.begin(), names.end(), text) != names.end();
  };
  if (topic == "trade" || topic == "ticker") {
    return true;
  }
  if (topic.starts_with("book.")) {
    return is_one_of(topic.substr(5), kBookDepths);
  }
  if (topic.starts_with("kline.")) {
    return is_one_of(topic.substr(6), kKlineIntervals);
  }
  return false;
}

std::optional<std::string> check_topics(const std::vector<std::string>& topics) {
  if (topics.empty()) {
    return "is empty";
  }
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (!is_topic_short_form(topics[i])) {
      return "has " + toml_string(topics[i]) +
             ", which is not trade, ticker, book.N (N: 1 50 200 500 1000) or kline.I (I: 1 3 5 "
             "15 30 60 120 240 360 720 D W M)";
    }
    if (std::find(topics.begin(), topics.begin() + static_cast<std::ptrdiff_t>(i), topics[i]) !=
        topics.begin() + static_cast<std::ptrdiff_t>(i)) {
      return "has " + toml_string(topics[i]) + " twice";
    }
  }
  return std::nullopt;
}

/// Checks `value` against the entry's rules and stores it in `config`. Returns the reason
/// it was refused ("is out of range [0, 1]"), or nothing when it was stored. The value has
/// the type the entry reads (the readers below guarantee it).
std::optional<std::string> assign(const Spec& spec, const Value& value, Config& config) {
  return std::visit(
      [&](const auto& s) -> std::optional<std::string> {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BoolSpec>) {
          s.write(config) = std::get<bool>(value);
        } else if constexpr (std::is_same_v<S, IntSpec>) {
          const std::int64_t number = std::get<std::int64_t>(value);
          if (number < s.min || number > s.max) {
            return "is out of range " + integer_interval_text(s);
          }
          if (s.power_of_two && (number <= 0 || (number & (number - 1)) != 0)) {
            return std::string("is not a power of two");
          }
          s.write(config, number);
        } else if constexpr (std::is_same_v<S, RealSpec>) {
          const double number = std::holds_alternative<std::int64_t>(value)
                                    ? static_cast<double>(std::get<std::int64_t>(value))
                                    : std::get<double>(value);
          if (!std::isfinite(number)) {
            return std::string("is not a finite number");
          }
          if (!in_range(number, s.range)) {
            return "is out of range " + interval_text(s.range);
          }
          s.write(config) = number;
        } else if constexpr (std::is_same_v<S, TextSpec>) {
          const std::string& text = std::get<std::string>(value);
          if (auto reason = check_text(s, text)) {
            return reason;
          }
          s.write(config) = text;
        } else if constexpr (std::is_same_v<S, ChoiceSpec>) {
          const std::string& text = std::get<std::string>(value);
          const auto found = std::find(s.names.begin(), s.names.end(), text);
          if (found == s.names.end()) {
            return "is not one of " + quoted_list(s.names, ", ");
          }
          s.write(config, static_cast<std::size_t>(found - s.names.begin()));
        } else {
          const auto& items = std::get<std::vector<std::string>>(value);
          if (auto reason = s.check(items)) {
            return reason;
          }
          s.write(config) = items;
        }
        return std::nullopt;
      },
      spec);
}

// ---- reading values from TOML and from environment variables ----

std::string_view node_type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

/// What a key of this kind expects, for "expected ..." messages.
std::string_view expected_text(const Spec& spec) {
  return std::visit(
      [](const auto& s) -> std::string_view {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BoolSpec>) {
          return "a boolean";
        } else if constexpr (std::is_same_v<S, IntSpec>) {
          return "an integer";
        } else if constexpr (std::is_same_v<S, RealSpec>) {
          return "a number";
        } else if constexpr (std::is_same_v<S, ListSpec>) {
          return "an array of strings";
        } else {
          return "a string";
        }
      },
      spec);
}

/// The node as the entry's type, or nothing when the node has another type.
std::optional<Value> read_node(const Spec& spec, const toml::node& node) {
  return std::visit(
      [&](const auto& s) -> std::optional<Value> {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BoolSpec>) {
          if (const auto* v = node.as_boolean()) {
            return Value{v->get()};
          }
        } else if constexpr (std::is_same_v<S, IntSpec>) {
          if (const auto* v = node.as_integer()) {
            return Value{v->get()};
          }
        } else if constexpr (std::is_same_v<S, RealSpec>) {
          if (const auto* v = node.as_floating_point()) {
            return Value{v->get()};
          }
          if (const auto* v = node.as_integer()) {
            return Value{v->get()};
          }
        } else if constexpr (std::is_same_v<S, ListSpec>) {
          if (const auto* array = node.as_array()) {
            std::vector<std::string> items;
            for (const toml::node& item : *array) {
              const auto* text = item.as_string();
              if (text == nullptr) {
                return std::nullopt;
              }
              items.push_back(text->get());
            }
            return Value{std::move(items)};
          }
        } else {
          if (const auto* v = node.as_string()) {
            return Value{v->get()};
          }
        }
        return std::nullopt;
      },
      spec);
}

/// What read_node found instead, for the message: "a string", "an array containing a float".
std::string found_text(const toml::node& node) {
  if (const auto* array = node.as_array()) {
    for (const toml::node& item : *array) {
      if (!item.is_string()) {
        return "an array containing " + std::string(node_type_name(item.type()));
      }
    }
  }
  return std::string(node_type_name(node.type()));
}

/// Parses an environment variable's text as the entry's type. Numbers and booleans may be
/// surrounded by blanks; text is taken as it is; arrays are comma-separated.
/// Returns the value, or the reason it could not be read ("expected an integer").
std::variant<Value, std::string> read_env(const Spec& spec, std::string_view raw) {
  const std::string_view text = trim(raw);
  return std::visit(
      [&](const auto& s) -> std::variant<Value, std::string> {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, BoolSpec>) {
          if (text == "true" || text == "1") {
            return Value{true};
          }
          if (text == "false" || text == "0") {
            return Value{false};
          }
          return std::string("expected true, false, 1 or 0");
        } else if constexpr (std::is_same_v<S, IntSpec>) {
          std::int64_t number = 0;
          const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
          if (ec == std::errc::result_out_of_range) {
            return "is out of range " + integer_interval_text(s);
          }
          if (ec != std::errc{} || end != text.data() + text.size()) {
            return std::string("expected an integer");
          }
          return Value{number};
        } else if constexpr (std::is_same_v<S, RealSpec>) {
          double number = 0;
          const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
          if (ec == std::errc::result_out_of_range) {
            return "is out of range " + interval_text(s.range);
          }
          if (ec != std::errc{} || end != text.data() + text.size()) {
            return std::string("expected a number");
          }
          return Value{number};
        } else if constexpr (std::is_same_v<S, ListSpec>) {
          std::vector<std::string> items;
          std::string_view rest = text;
          while (!rest.empty()) {
            const std::size_t comma = rest.find(',');
            items.emplace_back(trim(rest.substr(0, comma)));
            if (comma == std::string_view::npos) {
              break;
            }
            rest.remove_prefix(comma + 1);
            if (rest.empty()) {
              items.emplace_back();  // a trailing comma leaves an empty item
            }
          }
          return Value{std::move(items)};
        } else {
          return Value{std::string(raw)};
        }
      },
      spec);
}

// ---- the loader ----

const Entry* find_entry(std::string_view section, std::string_view key) {
  const auto* found = std::find_if(kSchema.begin(), kSchema.end(), [&](const Entry& e) {
    return e.section == section && e.key == key;
  });
  return found == kSchema.end() ? nullptr : found;
}

bool is_section(std::string_view name) {
  return std::any_of(kSections.begin(), kSections.end(),
                     [&](const SectionInfo& s) { return s.name == name; });
}

/// Collects every problem in a document and its environment so one run reports them all.
class Loader {
 public:
  Loader(std::string_view source_name, const Environment& env) : source_(source_name), env_(env) {}

  Config load(std::string_view toml_text) {
    toml::table root;
    try {
      root = toml::parse(toml_text, source_);
    } catch (const toml::parse_error& error) {
      const toml::source_position& at = error.source().begin;
      throw ConfigError(source_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                        ": " + std::string(error.description()));
    }
    for (auto&& [name, node] : root) {
      read_section(name, node);
    }
    std::stable_sort(file_problems_.begin(), file_problems_.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    apply_environment();
    check_across_keys();

    std::string message;
    for (const auto* problems : {&file_problems_, &env_problems_}) {
      for (const Problem& problem : *problems) {
        message += message.empty() ? "" : "\n";
        message += problem.text;
      }
    }
    if (!message.empty()) {
      throw ConfigError(message);
    }
    return config_;
  }

 private:
  /// Constraints that involve more than one key; reported after the per-key problems.
  void check_across_keys() {
    const StrategyConfig& strategy = config_.strategy;
    if (strategy.weight_tick_derivatives == 0.0 && strategy.weight_tick_kalman == 0.0 &&
        strategy.weight_kalman_1s == 0.0 && strategy.weight_kalman_1m == 0.0) {
      env_problems_.push_back(
          {0, source_ + ": [strategy] weight_*: every source weight is 0; at least one must be "
                        "positive for the coordinator to produce a signal"});
    }
    const FeedConfig& feed = config_.feed;
    if (feed.reconnect_max_ms < feed.reconnect_initial_ms) {
      env_problems_.push_back(
          {0,
           source_ + ": [feed] reconnect_max_ms = " + std::to_string(feed.reconnect_max_ms) +
               " is less than reconnect_initial_ms = " + std::to_string(feed.reconnect_initial_ms) +
               "; the cap of the reconnection delay must be at least its first value"});
    }
  }

  struct Problem {
    std::uint32_t line;
    std::string text;
  };

  std::string where(const toml::source_region& region) const {
    return region.begin.line == 0 ? source_ : source_ + ":" + std::to_string(region.begin.line);
  }
  void add_file_problem(const toml::source_region& region, std::string text) {
    file_problems_.push_back({region.begin.line, where(region) + ": " + std::move(text)});
  }

  void read_section(const toml::key& name, const toml::node& node) {
    if (!is_section(name.str())) {
      std::vector<std::string> sections;
      for (const SectionInfo& s : kSections) {
        sections.emplace_back(s.name);
      }
      add_file_problem(name.source(),
                       std::string(node.is_table() ? "unknown section [" : "unknown key ") +
                           printable(name.str()) + (node.is_table() ? "]" : "") +
                           suggestion(name.str(), sections));
      return;
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      add_file_problem(name.source(), printable(name.str()) + ": expected a table ([" +
                                          std::string(name.str()) + "]), found " +
                                          std::string(node_type_name(node.type())));
      return;
    }
    for (auto&& [key, value] : *table) {
      read_key(name.str(), key, value);
    }
  }

  void read_key(std::string_view section, const toml::key& key, const toml::node& node) {
    const Entry* entry = find_entry(section, key.str());
    const std::string name = std::string(section) + "." + printable(key.str());
    if (entry == nullptr) {
      std::vector<std::string> keys;
      for (const Entry& e : kSchema) {
        if (e.section == section) {
          keys.push_back(dotted_name(e));
        }
      }
      add_file_problem(key.source(), "unknown key " + name + suggestion(name, keys));
      return;
    }
    const std::optional<Value> value = read_node(entry->spec, node);
    if (!value) {
      add_file_problem(node.source(), name + ": expected " +
                                          std::string(expected_text(entry->spec)) + ", found " +
                                          found_text(node));
      return;
    }
    if (auto reason = assign(entry->spec, *value, config_)) {
      add_file_problem(node.source(), name + " = " + value_text(*value) + " " + *reason);
    }
  }

  void apply_environment() {
    if (!env_) {
      return;
    }
    for (const Entry& entry : kSchema) {
      const std::string variable = env_var_name(entry);
      const std::optional<std::string> raw = env_(variable);
      if (!raw) {
        continue;
      }
      const std::string subject = "environment " + variable + "=" + toml_string(*raw);
      auto parsed = read_env(entry.spec, *raw);
      if (const auto* reason = std::get_if<std::string>(&parsed)) {
        const bool is_verdict = reason->starts_with("is ");
        env_problems_.push_back({0, subject + (is_verdict ? " " : ": ") + *reason});
        continue;
      }
      if (auto reason = assign(entry.spec, std::get<Value>(parsed), config_)) {
        env_problems_.push_back({0, subject + " " + *reason});
      }
    }
  }

  std::string source_;
  const Environment& env_;
  Config config_{};
  std::vector<Problem> file_problems_;
  std::vector<Problem> env_problems_;
};

}  // namespace

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string terminated(name);
    const char* value = std::getenv(terminated.c_str());  // NOLINT(concurrency-mt-unsafe): start-up
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

Environment empty_environment() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

Config default_config() {
  return Config{};
}

Config load_config_from_string(std::string_view toml, std::string_view source_name,
                               const Environment& env) {
  return Loader(source_name, env).load(toml);
}

Config load_config(const std::filesystem::path& file, const Environment& env) {
  const std::string name = file.string();
  const auto fail = [&](int error) {
    throw ConfigError(name + ": cannot read: " + std::generic_category().message(error));
  };
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> stream(std::fopen(name.c_str(), "rb"),
                                                               &std::fclose);
  if (!stream) {
    fail(errno);
  }
  std::string text;
  std::array<char, 4096> buffer{};
  while (true) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), stream.get());
    text.append(buffer.data(), got);
    if (got < buffer.size()) {
      if (std::ferror(stream.get()) != 0) {
        fail(errno);
      }
      break;
    }
  }
  return load_config_from_string(text, name, env);
}

std::string to_toml(const Config& config) {
  std::string out =
      "# kinetic configuration. Every key is listed with its description and allowed values.\n"
      "# Any key can be overridden by an environment variable KINETIC_<SECTION>_<KEY>,\n"
      "# for example KINETIC_RISK_MAX_DRAWDOWN=0.1.\n";
  for (const SectionInfo& section : kSections) {
    out += "\n[";
    out += section.name;
    out += "]\n# ";
    out += section.description;
    out += "\n";
    for (const Entry& entry : kSchema) {
      if (entry.section != section.name) {
        continue;
      }
      out += "\n# ";
      out += entry.description;
      out += "\n";
      out += entry.key;
      out += " = ";
      out += value_text(entry.spec, config);
      // The allowed values sit next to the value they constrain.
      const std::string range = range_text(entry.spec);
      if (!range.empty()) {
        out += "  # ";
        out += range;
      }
      out += "\n";
    }
  }
  return out;
}

std::string example_toml() {
  return to_toml(default_config());
}

std::span<const ConfigKeyInfo> config_schema() {
  static const std::vector<ConfigKeyInfo> schema = [] {
    const Config defaults{};
    std::vector<ConfigKeyInfo> keys;
    keys.reserve(kSchema.size());
    for (const Entry& entry : kSchema) {
      keys.push_back({entry.section, entry.key, env_var_name(entry), type_name(entry.spec),
                      value_text(entry.spec, defaults), range_text(entry.spec), entry.description});
    }
    return keys;
  }();
  return schema;
}

}  // namespace kinetic
