#pragma once
// Configuration: one TOML file holds every parameter of the engine; each key can be
// overridden by an environment variable KINETIC_<SECTION>_<KEY> (upper case, for example
// KINETIC_RISK_MAX_DRAWDOWN=0.1).
//
// A single schema (one descriptor per key, in config.cpp) drives loading, environment
// overrides, validation and the documented example file, so they cannot disagree. Anything
// the schema does not accept (an unknown section or key, a wrong type, a value out of range)
// stops start-up with a ConfigError naming the file, the line, the key and the reason.
//
// Start-up code only: it allocates and throws. The hot path copies what it needs out of a
// Config into its own fixed-size state before it starts.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kinetic/core/strategy/signal.hpp"
#include "kinetic/core/thread.hpp"

namespace kinetic {

/// Why a configuration was refused. The message names the source (file and line, or the
/// environment variable), the key and the reason; several problems are one per line.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// [strategy]: smoothing, the signal, the coordinator's sources and the drift filter.
struct StrategyConfig {
  double ema_lambda = 0.1;               ///< EMA smoothing factor per tick, (0, 1]
  double half_life_ms = 0.0;             ///< EMA half-life in ms of event time; 0 = use ema_lambda
  double derivative_noise_alpha = 0.01;  ///< weight of a sample in the spread of FD v and a
  double snr_threshold = 2.0;            ///< minimum |velocity| / its standard error to act
  double dead_band_sigma = 1.0;          ///< no signal while |velocity| is within this many sigmas
  std::int64_t forecast_horizon_ms = 1000;  ///< Taylor forecast horizon
  // The action of each cell of the decision matrix.
  strategy::SignalAction action_strong_uptrend = strategy::SignalAction::strong_buy;
  strategy::SignalAction action_decelerating_uptrend = strategy::SignalAction::hold;
  strategy::SignalAction action_decelerating_downtrend = strategy::SignalAction::sell;
  strategy::SignalAction action_strong_downtrend = strategy::SignalAction::strong_sell;
  strategy::SignalAction action_bottoming_out = strategy::SignalAction::buy;
  strategy::SignalAction action_topping_out = strategy::SignalAction::sell;
  // The coordinator's weight of each source; 0 leaves a source out. Not all 0.
  double weight_tick_derivatives = 1.0;
  double weight_tick_kalman = 1.0;
  double weight_kalman_1s = 1.0;
  double weight_kalman_1m = 1.0;
  double drift_short_horizon_s = 3600.0;  ///< memory of the first drift estimator
  double drift_long_horizon_s = 86400.0;  ///< memory of the second drift estimator
  double drift_t_threshold = 2.0;         ///< |t| of a drift that vetoes an opposing entry

  friend bool operator==(const StrategyConfig&, const StrategyConfig&) = default;
};

/// [kalman]: the constant-acceleration Kalman filter over [price, velocity, acceleration].
struct KalmanConfig {
  double process_noise_q = 1.0;       ///< jerk spectral density, price^2/s^5
  double measurement_noise_r = 0.01;  ///< price measurement variance, price^2
  double sigma_v0 = 10.0;             ///< initial velocity standard deviation, price/s
  double sigma_a0 = 10.0;             ///< initial acceleration standard deviation, price/s^2
  bool adaptive = false;              ///< estimate the measurement noise from the innovations
  double adaptive_alpha = 0.01;       ///< weight of one innovation in the adaptive estimate

  friend bool operator==(const KalmanConfig&, const KalmanConfig&) = default;
};

/// [risk]: sizing and the limits that stop trading. Fractions are of account equity.
struct RiskConfig {
  double max_risk_per_trade = 0.02;  ///< equity lost if a trade's stop is hit, (0, 0.02]
  double min_reward_risk = 1.5;      ///< minimum expected reward / risk to take a trade
  double kelly_fraction = 0.5;       ///< multiplier on the Kelly size (0.5 = half Kelly)
  double kelly_cap = 0.25;           ///< upper bound on the Kelly fraction of equity
  double max_drawdown = 0.15;        ///< kill switch: drawdown from the equity peak
  double max_daily_loss = 0.08;      ///< kill switch: loss since the UTC day started
  double max_trade_loss = 0.05;      ///< kill switch: loss on one position
  double max_error_rate = 0.10;      ///< kill switch: rejected / sent orders in the window
  std::int64_t error_rate_window_s = 60;
  std::int64_t connectivity_timeout_s = 60;  ///< kill switch: silence from the exchange
  double max_leverage = 10.0;
  std::int64_t max_open_positions = 3;
  std::int64_t error_rate_min_orders = 10;  ///< orders in the window before the rate can trip
  double stop_sigma_k = 2.0;                ///< stop distance in standard deviations of price
  std::int64_t volatility_window = 300;     ///< trades in the σ of price behind the stop
  double max_symbol_exposure = 3.0;         ///< notional of one symbol / equity
  double max_total_exposure = 5.0;          ///< notional of all positions / equity
  double max_correlation = 0.8;  ///< refuse a new position this correlated with an open one
  double price_band = 0.05;      ///< fat finger: largest distance from the last trade, fraction
  double max_order_notional = 1'000'000.0;  ///< largest notional of one order, quote currency
  std::int64_t max_orders_per_second = 10;
  std::int64_t duplicate_window_ms = 500;       ///< same order again within this is a duplicate
  double outlier_sigma = 5.0;                   ///< a price this many σ from its mean is flagged
  double volume_spike = 3.0;                    ///< a volume this many times its average is flagged
  double outlier_min_sigma_bps = 10.0;          ///< floor under the validator's σ, bp of the mean
  std::int64_t validation_window = 64;          ///< trades in the validator's rolling windows
  std::int64_t correlation_interval_ms = 1000;  ///< sampling interval of the return correlation
  double correlation_alpha = 0.01;              ///< weight of one sample in the correlation
  /// What a flagged tick does: drop = no order from it; pass = trade on it, flag kept.
  enum class FlaggedTicks : std::uint8_t { drop, pass };
  FlaggedTicks flagged_ticks = FlaggedTicks::drop;
  double prior_win_probability = 0.55;  ///< Kelly's win probability before trades are known
  std::int64_t prior_trades = 20;       ///< weight of the prior, in trades

  friend bool operator==(const RiskConfig&, const RiskConfig&) = default;
};

/// [exchange]: where to connect and what to trade.
struct ExchangeConfig {
  /// Bybit v5 product category.
  enum class Category : std::uint8_t { linear, spot };

  std::string name = "bybit";
  std::string rest_url = "https://api.bybit.com";
  std::string ws_public_url = "wss://stream.bybit.com/v5/public/linear";
  std::string ws_private_url = "wss://stream.bybit.com/v5/private";
  std::string ws_trade_url = "wss://stream.bybit.com/v5/trade";
  std::int64_t recv_window_ms = 5000;  ///< validity window of a signed request
  std::string ca_file;                 ///< PEM CA bundle; empty = the system trust store
  std::vector<std::string> symbols{"BTCUSDT"};
  Category category = Category::linear;

  friend bool operator==(const ExchangeConfig&, const ExchangeConfig&) = default;
};

/// [feed]: the market-data session — its topics, socket and timing. Where it connects and
/// which symbols it streams are [exchange]'s ws_public_url, symbols and ca_file.
struct FeedConfig {
  /// Socket backend. Same enumerators, in the same order, as kinetic::feed::TcpBackend.
  enum class IoBackend : std::uint8_t { automatic, io_uring, plain };

  /// Topic short forms, subscribed for every symbol: trade, ticker, book.N, kline.I.
  std::vector<std::string> topics{"trade", "book.50", "ticker"};
  IoBackend io_backend = IoBackend::automatic;
  int busy_poll_us = 0;                        ///< SO_BUSY_POLL; 0 = off
  bool sqpoll = false;                         ///< io_uring submission-queue polling thread
  int sqpoll_idle_ms = 100;                    ///< how long that thread spins before it sleeps
  bool multishot_recv = true;                  ///< io_uring multishot receive into provided buffers
  int connect_timeout_ms = 10000;              ///< TCP connect
  int handshake_timeout_ms = 5000;             ///< TLS and WebSocket handshakes
  std::int64_t ping_interval_ms = 20000;       ///< JSON ping every this long
  std::int64_t pong_timeout_ms = 10000;        ///< silence beyond a ping interval that is death
  std::int64_t reconnect_initial_ms = 1000;    ///< first reconnection delay
  std::int64_t reconnect_max_ms = 32000;       ///< cap of the doubling delay, >= the initial one
  double reconnect_jitter = 0.2;               ///< each delay × a factor in [1 − j, 1 + j]
  std::uint32_t max_message_bytes = 1U << 20;  ///< larger messages end the connection
  std::uint32_t book_levels = 1000;            ///< levels per side of each order book

  friend bool operator==(const FeedConfig&, const FeedConfig&) = default;
};

/// [threads]: thread layout, core pinning and how idle threads wait.
struct ThreadsConfig {
  /// fused: one thread runs feed, strategy and execution; pipelined: one thread each.
  enum class Layout : std::uint8_t { fused, pipelined };

  Layout layout = Layout::fused;
  int feed_core = -1;  ///< core to pin to; -1 = not pinned
  int strategy_core = -1;
  int exec_core = -1;
  int control_core = -1;
  WaitPolicy wait = WaitPolicy::busy_spin;

  friend bool operator==(const ThreadsConfig&, const ThreadsConfig&) = default;
};

/// [log]: the asynchronous logger.
struct LogConfig {
  /// Same enumerators and values as kinetic::LogLevel (log.hpp), so one converts by cast.
  enum class Level : std::uint8_t { trace, debug, info, warn, error, off };

  Level level = Level::info;
  std::string file;                    ///< empty = standard error
  std::uint32_t ring_capacity = 4096;  ///< records in the log ring, a power of two

  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

/// [demo]: the synthetic market and the trading rule of the demo.
struct DemoConfig {
  std::uint64_t seed = 42;  ///< at most 2^63 - 1 from a file (TOML integers are signed)
  std::int64_t ticks = 200000;
  std::int64_t warmup_ticks = 2000;  ///< ticks that only feed the engine, untimed
  double entry_score = 0.75;         ///< |combined score| that opens a position, (0, 1]
  double min_confidence = 0.2;       ///< combined confidence needed to open, [0, 1]
  std::int64_t taker_fee_ppm = 550;  ///< taker fee of the paper venue, parts per million

  friend bool operator==(const DemoConfig&, const DemoConfig&) = default;
};

/// Every parameter of the engine. A plain value: owns its strings, copyable, no shared
/// state. Built once at start-up and read-only afterwards, when any number of threads may
/// read it. The member initialisers are the built-in defaults.
struct Config {
  StrategyConfig strategy;
  KalmanConfig kalman;
  RiskConfig risk;
  ExchangeConfig exchange;
  FeedConfig feed;
  ThreadsConfig threads;
  LogConfig log;
  DemoConfig demo;

  friend bool operator==(const Config&, const Config&) = default;
};

/// Looks up one environment variable by name; nullopt when it is not set. Injected so
/// tests do not depend on (or modify) the process environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (getenv). Not safe to use while another thread calls setenv.
[[nodiscard]] Environment process_environment();

/// An environment in which no variable is set.
[[nodiscard]] Environment empty_environment();

/// The built-in defaults: what the engine runs with when no file is given and no variable
/// is set. (With variables but no file: load_config_from_string("", "defaults", env).)
[[nodiscard]] Config default_config();

/// Reads and validates `file`, then applies the environment overrides. Throws ConfigError
/// (naming the file) when the file cannot be read or anything in it or the environment is
/// refused.
[[nodiscard]] Config load_config(const std::filesystem::path& file, const Environment& env);

/// As load_config, from TOML text; `source_name` stands for the file in messages.
[[nodiscard]] Config load_config_from_string(std::string_view toml, std::string_view source_name,
                                             const Environment& env);

/// `config` as a commented TOML document that load_config accepts and that reads back as
/// an equal Config: every section and key, each with its description and allowed range.
[[nodiscard]] std::string to_toml(const Config& config);

/// The documented example: to_toml(default_config()). kinetic.example.toml at the
/// repository root is exactly this text (a test checks it).
[[nodiscard]] std::string example_toml();

/// One key of the schema, for display (a `kinetic config` command, documentation).
struct ConfigKeyInfo {
  std::string_view section;      ///< "risk"
  std::string_view key;          ///< "max_drawdown"
  std::string env_var;           ///< "KINETIC_RISK_MAX_DRAWDOWN"
  std::string_view type;         ///< "float", "integer", "boolean", "string", ...
  std::string default_value;     ///< the default as TOML text: 0.15, "bybit", ["BTCUSDT"]
  std::string range;             ///< allowed values in words, for example "(0, 1)"; may be empty
  std::string_view description;  ///< one line
};

/// Every key, in the order of the example file. Built on first call; immutable and safe to
/// read from any thread afterwards; lives until the program ends.
[[nodiscard]] std::span<const ConfigKeyInfo> config_schema();

}  // namespace kinetic
