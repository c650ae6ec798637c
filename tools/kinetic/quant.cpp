// `kinetic quant`: see quant.hpp for the output columns and the text rules.

#include "quant.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "atomic_output.hpp"
#include "csv_field.hpp"
#include "kinetic/core/config.hpp"
#include "kinetic/core/math/derivatives.hpp"
#include "kinetic/core/math/drift.hpp"
#include "kinetic/core/math/kalman.hpp"
#include "kinetic/core/risk/reasons.hpp"
#include "kinetic/core/risk/risk_manager.hpp"
#include "kinetic/feed/instruments_info.hpp"
#include "kinetic/feed/price_csv.hpp"

namespace kinetic::quant {
namespace {

// Shortest round-trip text of a double is at most 24 characters ("-1.2345678901234567e-308").
constexpr std::size_t kNumberBuffer = 32;

std::string number_text(double value) {
  char buf[kNumberBuffer];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  return {buf, result.ptr};
}

// Builds one output line in a reused buffer (no allocation once it has grown to the longest
// line) and writes it with one call.
class LineWriter {
 public:
  explicit LineWriter(std::ostream& out) : out_(out) { line_.reserve(256); }

  void begin(std::size_t input_line) {
    line_.clear();
    input_line_ = input_line;
  }

  // A field copied from the input, quoted only when CSV requires it.
  void text(std::string_view field) {
    separate();
    tools::append_csv_field(line_, field);
  }

  void word(std::string_view name) {
    separate();
    line_.append(name);
  }

  // A finite number; anything else stops the run (see the header: non-finite output is
  // never silently written).
  void number(double value, std::string_view column) {
    if (!std::isfinite(value))
      throw feed::CsvError(input_line_, std::string(column) + " is not finite (" +
                                            number_text(value) + "): numerical overflow");
    append_number(value);
  }

  // A number that may be ±inf (to_chars writes "inf" / "-inf"), never NaN.
  void number_or_infinity(double value, std::string_view column) {
    if (std::isnan(value))
      throw feed::CsvError(input_line_, std::string(column) + " is NaN");
    append_number(value);
  }

  // "Not yet defined".
  void empty() { separate(); }

  void end() {
    line_.push_back('\n');
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    first_ = true;
  }

 private:
  void separate() {
    if (!first_)
      line_.push_back(',');
    first_ = false;
  }

  void append_number(double value) {
    separate();
    char buf[kNumberBuffer];
    const auto result = std::to_chars(buf, buf + sizeof buf, value);
    line_.append(buf, result.ptr);
  }

  std::ostream& out_;
  std::string line_;
  std::size_t input_line_ = 0;
  bool first_ = true;
};

// Seconds from `earlier_ns` to `later_ns` (later ≥ earlier): the difference is taken exactly in
// unsigned 64 bits, then divided once (correctly rounded).
double seconds_between(std::int64_t earlier_ns, std::int64_t later_ns) noexcept {
  return static_cast<double>(static_cast<std::uint64_t>(later_ns) -
                             static_cast<std::uint64_t>(earlier_ns)) /
         1e9;
}

// Reads the rows, checks that time does not go backwards and calls
// fn(row, seconds since the first row, seconds since the previous row).
template <class PerRow>
void for_each_row(feed::PriceCsvReader& reader, PerRow&& per_row) {
  feed::PriceRow row;
  bool first = true;
  std::int64_t first_ns = 0;
  std::int64_t previous_ns = 0;
  while (reader.next(row)) {
    if (first) {
      first_ns = row.time_ns;
      previous_ns = row.time_ns;
      first = false;
    } else if (row.time_ns < previous_ns) {
      throw feed::CsvError(row.line, "timestamp earlier than the previous row");
    }
    per_row(row, seconds_between(first_ns, row.time_ns), seconds_between(previous_ns, row.time_ns));
    previous_ns = row.time_ns;
  }
}

// An estimator refused a row the checks above let through (cannot happen for a price the
// reader accepted; kept so that a refusal is never ignored).
[[noreturn]] void refused(std::size_t line, std::string_view estimator) {
  throw feed::CsvError(line, std::string(estimator) + " refused the row");
}

void check_option(bool good, std::string_view option, double value, std::string_view range) {
  if (!good)
    throw QuantOptionError(std::string(option) + " must be " + std::string(range) + " (got " +
                           number_text(value) + ")");
}

void run_kalman(const QuantOptions& options, const Config& config, feed::PriceCsvReader& reader,
                LineWriter& writer) {
  math::KinematicKalman filter(kalman_params(options, config));
  for_each_row(reader, [&](const feed::PriceRow& row, double t, double dt) {
    if (filter.update(t, row.price) != math::KalmanError::ok)
      refused(row.line, "the Kalman filter");
    writer.begin(row.line);
    writer.text(row.timestamp_text);
    writer.text(row.price_text);
    writer.number(dt, "dt");
    writer.number(filter.price(), "p_hat");
    writer.number(filter.velocity(), "v");
    writer.number(filter.acceleration(), "a");
    writer.number(filter.price_stddev(), "sigma_p");
    writer.number(filter.velocity_stddev(), "sigma_v");
    writer.number(filter.acceleration_stddev(), "sigma_a");
    writer.number(filter.innovation(), "innovation");
    writer.number(filter.nis(), "nis");
    writer.end();
  });
}

void run_derivatives(const QuantOptions& options, const Config& config,
                     feed::PriceCsvReader& reader, LineWriter& writer) {
  math::DerivativeEstimator estimator(derivative_params(options, config));
  for_each_row(reader, [&](const feed::PriceRow& row, double t, double dt) {
    if (estimator.update(t, row.price) != math::DerivativeError::ok)
      refused(row.line, "the derivative estimator");
    writer.begin(row.line);
    writer.text(row.timestamp_text);
    writer.text(row.price_text);
    writer.number(dt, "dt");
    writer.number(estimator.price(), "smoothed");
    if (estimator.ready()) {
      writer.number(estimator.velocity(), "v");
      writer.number(estimator.acceleration(), "a");
    } else {
      writer.empty();
      writer.empty();
    }
    writer.end();
  });
}

void run_signals(const QuantOptions& options, const Config& config, feed::PriceCsvReader& reader,
                 LineWriter& writer) {
  const strategy::CalculusParams params = signal_params(options, config);
  const strategy::Source source = options.source;
  // About 1 KB: fine on the stack of a tool.
  strategy::CalculusEngine engine(params);
  for_each_row(reader, [&](const feed::PriceRow& row, double, double) {
    if (engine.update(row.time_ns, row.price) != strategy::CalculusError::ok)
      refused(row.line, "the calculus engine");
    writer.begin(row.line);
    writer.text(row.timestamp_text);
    writer.text(row.price_text);
    bool defined = false;
    double velocity = 0.0;
    double acceleration = 0.0;
    if (source == strategy::Source::tick_derivatives) {
      const math::DerivativeEstimator& estimator = engine.derivatives();
      defined = estimator.ready();
      velocity = estimator.velocity();
      acceleration = estimator.acceleration();
    } else {
      const math::KinematicKalman& filter = engine.kalman(source);
      defined = filter.initialised();
      velocity = filter.velocity();
      acceleration = filter.acceleration();
    }
    if (defined) {
      writer.number(velocity, "v");
      writer.number(acceleration, "a");
    } else {
      writer.empty();
      writer.empty();
    }
    const strategy::Signal& signal = engine.signal(source);
    // snr is +inf when the source's standard deviation is 0 with a non-zero estimate (see
    // signal.hpp), e.g. tick_derivatives on its first ready tick, whose spread has one sample.
    writer.number_or_infinity(signal.snr, "snr");
    writer.word(strategy::to_string(signal.trend_case));
    writer.word(strategy::to_string(signal.action));
    writer.number(signal.confidence, "confidence");
    writer.end();
  });
}

void run_forecast(const QuantOptions& options, const Config& config, feed::PriceCsvReader& reader,
                  LineWriter& writer) {
  math::KinematicKalman filter(kalman_params(options, config));
  const double horizon = forecast_horizon_s(options, config);
  for_each_row(reader, [&](const feed::PriceRow& row, double t, double) {
    if (filter.update(t, row.price) != math::KalmanError::ok)
      refused(row.line, "the Kalman filter");
    const auto forecast = filter.forecast(horizon);
    if (!forecast)
      refused(row.line, "the Kalman forecast");
    writer.begin(row.line);
    writer.text(row.timestamp_text);
    writer.text(row.price_text);
    writer.number(forecast.value().mean, "forecast");
    writer.number(forecast.value().stddev(), "forecast_sigma");
    writer.end();
  });
}

void run_drift(const QuantOptions& options, const Config& config, feed::PriceCsvReader& reader,
               LineWriter& writer) {
  math::DriftEstimator estimator(drift_horizon_s(options, config));
  for_each_row(reader, [&](const feed::PriceRow& row, double t, double) {
    if (estimator.update(t, row.price) != math::DriftError::ok)
      refused(row.line, "the drift estimator");
    writer.begin(row.line);
    writer.text(row.timestamp_text);
    writer.text(row.price_text);
    // Time has passed once an interval with Δt > 0 was added (its weight is in S_v).
    if (estimator.effective_time_s() > 0.0)
      writer.number(estimator.drift_per_s(), "drift");
    else
      writer.empty();
    // The t-statistic needs one degree of freedom (standard_error() is NaN before).
    if (!std::isnan(estimator.standard_error())) {
      writer.number_or_infinity(estimator.t_stat(), "t_stat");
      writer.number(estimator.flip_probability(), "flip_probability");
    } else {
      writer.empty();
      writer.empty();
    }
    writer.end();
  });
}

Config load_configuration(const std::string& config_file) {
  const Environment env = process_environment();
  if (config_file.empty())
    return load_config_from_string("", "defaults", env);
  return load_config(config_file, env);
}

constexpr const char* kEmptyRule =
    "An empty field means \"not yet defined\". timestamp and price echo the input text. Numbers "
    "are shortest round-trip decimal text.\n";

// --- quant size -----------------------------------------------------------------------------

// A decimal option parsed exactly; refused naming the option. `positive`: > 0, else >= 0.
template <class Tag>
Decimal<Tag> decimal_option(const std::string& text, std::string_view option, bool positive) {
  const std::string range = positive ? "a decimal > 0" : "a decimal >= 0";
  const std::string rule = range + " with at most 8 fraction digits";
  if (text.empty())
    throw QuantOptionError(std::string(option) + " must be given: " + rule);
  const auto parsed = Decimal<Tag>::parse(text);
  if (!parsed)
    throw QuantOptionError(std::string(option) + " must be " + rule + " (got \"" + text +
                           "\": " + std::string(to_string(parsed.error())) + ")");
  const std::int64_t raw = parsed.value().raw();
  if (positive ? raw <= 0 : raw < 0)
    throw QuantOptionError(std::string(option) + " must be " + range + " (got " + text + ")");
  return parsed.value();
}

double required(const std::optional<double>& value, std::string_view option,
                std::string_view range) {
  if (!value)
    throw QuantOptionError(std::string(option) + " must be given: " + std::string(range));
  return *value;
}

template <class Tag>
void append_decimal(std::string& json, std::string_view key, Decimal<Tag> value) {
  char buf[Decimal<Tag>::kMaxFormattedLength];
  json.append("\"").append(key).append("\": \"");
  json.append(buf, value.format(buf));
  json.append("\", ");
}

// The file's symbol count and, when the symbol was left out as unrepresentable, why.
[[noreturn]] void unknown_symbol(const SizeOptions& size, const feed::InstrumentsInfo& info) {
  for (const feed::SkippedInstrument& skipped : info.skipped) {
    if (skipped.symbol == size.symbol)
      throw std::runtime_error(size.instruments + ": --symbol " + size.symbol +
                               " cannot be represented exactly and was skipped (" + skipped.reason +
                               ")");
  }
  std::string message = size.instruments + ": --symbol " + size.symbol + " not found among its " +
                        std::to_string(info.rules.size()) + " symbols";
  if (!info.category.empty())
    message += " (category " + info.category + ")";
  if (!info.skipped.empty())
    message += "; " + std::to_string(info.skipped.size()) +
               " more were skipped as not exactly representable";
  throw std::runtime_error(message);
}

}  // namespace

std::string_view output_header(QuantCommand command) noexcept {
  switch (command) {
    case QuantCommand::kalman:
      return "timestamp,price,dt,p_hat,v,a,sigma_p,sigma_v,sigma_a,innovation,nis";
    case QuantCommand::derivatives:
      return "timestamp,price,dt,smoothed,v,a";
    case QuantCommand::signals:
      return "timestamp,price,v,a,snr,case,action,confidence";
    case QuantCommand::forecast:
      return "timestamp,price,forecast,forecast_sigma";
    case QuantCommand::drift:
      return "timestamp,price,drift,t_stat,flip_probability";
    case QuantCommand::size:
      return {};
  }
  return {};
}

math::KalmanParams kalman_params(const QuantOptions& options, const Config& config) {
  const strategy::CalculusParams from_config = strategy::calculus_params(config);
  math::KalmanParams params = from_config.kalman;
  if (math::KinematicKalman::validate(params) != math::KalmanError::ok)
    throw QuantOptionError("the configuration's [kalman] parameters are out of range");
  // Each override is checked with the filter's own validate(), one at a time, so the message
  // names the option that broke it.
  const auto apply = [&params](const std::optional<double>& value,
                               double math::KalmanParams::*field, std::string_view option,
                               std::string_view range) {
    if (!value)
      return;
    math::KalmanParams candidate = params;
    candidate.*field = *value;
    check_option(math::KinematicKalman::validate(candidate) == math::KalmanError::ok, option,
                 *value, range);
    params = candidate;
  };
  apply(options.q, &math::KalmanParams::q, "--q", "finite and >= 0");
  apply(options.r, &math::KalmanParams::r, "--r", "finite and > 0");
  apply(options.sigma_v0, &math::KalmanParams::sigma_v0, "--sigma-v0", "finite and > 0");
  apply(options.sigma_a0, &math::KalmanParams::sigma_a0, "--sigma-a0", "finite and > 0");
  if (options.adaptive)
    params.adaptive = true;
  if (math::KinematicKalman::validate(params) != math::KalmanError::ok)
    throw QuantOptionError("--adaptive: [kalman] adaptive_alpha must be in (0, 1]");
  return params;
}

math::DerivativeParams derivative_params(const QuantOptions& options, const Config& config) {
  if (options.lambda && options.half_life_s)
    throw QuantOptionError("--lambda and --half-life exclude each other");
  math::DerivativeParams params = strategy::calculus_params(config).derivatives;
  if (options.lambda) {
    params = {*options.lambda, 0.0};
    check_option(math::DerivativeEstimator::valid(params), "--lambda", *options.lambda,
                 "in (0, 1]");
  } else if (options.half_life_s) {
    params.half_life_s = *options.half_life_s;
    // 0 is the configuration's way of saying "use lambda"; on the command line it would be a
    // silent surprise, so the option must be positive.
    check_option(math::DerivativeEstimator::valid(params) && *options.half_life_s > 0.0,
                 "--half-life", *options.half_life_s, "finite and > 0 seconds");
  } else if (!math::DerivativeEstimator::valid(params)) {
    throw QuantOptionError(
        "the configuration's [strategy] ema_lambda / half_life_ms are out of range");
  }
  return params;
}

double forecast_horizon_s(const QuantOptions& options, const Config& config) {
  const double horizon =
      options.horizon_s.value_or(static_cast<double>(config.strategy.forecast_horizon_ms) * 1e-3);
  check_option(std::isfinite(horizon) && horizon >= 0.0,
               options.horizon_s ? "--horizon" : "[strategy] forecast_horizon_ms / 1000", horizon,
               "finite and >= 0 seconds");
  return horizon;
}

double drift_horizon_s(const QuantOptions& options, const Config& config) {
  const double horizon = options.horizon_s.value_or(config.strategy.drift_short_horizon_s);
  check_option(std::isfinite(horizon) && horizon > 0.0,
               options.horizon_s ? "--horizon" : "[strategy] drift_short_horizon_s", horizon,
               "finite and > 0 seconds");
  return horizon;
}

strategy::CalculusParams signal_params(const QuantOptions& options, const Config& config) {
  strategy::CalculusParams params = strategy::calculus_params(config);
  params.kalman = kalman_params(options, config);
  if (!params.valid())
    throw QuantOptionError("the configuration's [strategy] parameters are out of range");
  return params;
}

risk::SizingParams sizing_params(const QuantOptions& options, const Config& config) {
  risk::SizingParams params = risk::risk_params(config).sizing;
  if (!params.valid())
    throw QuantOptionError(
        "the configuration's [risk] values make no valid sizing parameters: max_risk_per_trade "
        "must be in (0, 0.02], kelly_fraction and kelly_cap in (0, 1], min_reward_risk >= 0, "
        "stop_sigma_k > 0, max_leverage in [1, 1e6], volatility_window in 2..1024");
  const SizeOptions& size = options.size;
  // Each override is checked with the sizer's own valid(), one at a time, so the message names
  // the option that broke it.
  const auto apply = [&params](const std::optional<double>& value,
                               double risk::SizingParams::*field, std::string_view option,
                               std::string_view range) {
    if (!value)
      return;
    risk::SizingParams candidate = params;
    candidate.*field = *value;
    check_option(candidate.valid() && std::isfinite(*value), option, *value, range);
    params = candidate;
  };
  apply(size.max_leverage, &risk::SizingParams::max_leverage, "--max-leverage", "in [1, 1e6]");
  apply(size.risk_fraction, &risk::SizingParams::risk_fraction, "--risk-fraction", "in (0, 0.02]");
  apply(size.kelly_multiplier, &risk::SizingParams::kelly_multiplier, "--kelly-multiplier",
        "in (0, 1]");
  return params;
}

risk::SizeRequest size_request(const QuantOptions& options) {
  const SizeOptions& size = options.size;
  risk::SizeRequest request;
  request.equity = decimal_option<AmountTag>(size.equity, "--equity", true);
  request.entry = decimal_option<PriceTag>(size.entry, "--entry", true);
  request.stop = decimal_option<PriceTag>(size.stop, "--stop", true);
  request.target = decimal_option<PriceTag>(size.target, "--target", true);
  request.available_margin = size.margin.empty()
                                 ? request.equity
                                 : decimal_option<AmountTag>(size.margin, "--margin", false);
  if (request.stop == request.entry)
    throw QuantOptionError(
        "--stop must differ from --entry: below it for a long, above it for "
        "a short (both " +
        size.entry + ")");
  request.side = request.stop < request.entry ? Side::buy : Side::sell;

  const auto probability = [](const std::optional<double>& value, std::string_view option) {
    const double p = required(value, option, "in [0, 1]");
    check_option(p >= 0.0 && p <= 1.0, option, p, "in [0, 1]");
    return p;
  };
  const auto positive = [](const std::optional<double>& value, std::string_view option) {
    const double x = required(value, option, "finite and > 0");
    check_option(std::isfinite(x) && x > 0.0, option, x, "finite and > 0");
    return x;
  };
  request.confidence = probability(size.confidence, "--confidence");
  request.win_probability = probability(size.win_probability, "--win-prob");
  request.avg_win = positive(size.avg_win, "--avg-win");
  request.avg_loss = positive(size.avg_loss, "--avg-loss");
  request.type = size.type;
  return request;
}

std::string size_decision_json(const risk::SizeDecision& decision) {
  std::string json = "{";
  append_decimal(json, "qty", decision.qty);
  append_decimal(json, "leverage", decision.leverage);
  append_decimal(json, "notional", decision.notional);
  append_decimal(json, "risk_amount", decision.risk_amount);
  json.append("\"bound_by\": \"").append(risk::to_string(decision.bound)).append("\", ");
  json.append("\"accepted\": ").append(decision.accepted() ? "true" : "false").append(", ");
  json.append("\"reason\": \"").append(risk::to_string(decision.reason)).append("\"}\n");
  return json;
}

int run_quant_size(const QuantOptions& options, const Config& config, std::ostream& out) {
  // Options first: a bad option is reported before the file is read.
  const risk::SizingParams params = sizing_params(options, config);
  const risk::SizeRequest request = size_request(options);
  const SizeOptions& size = options.size;
  if (size.instruments.empty())
    throw QuantOptionError("--instruments must be given: an instruments-info response file");
  if (size.symbol.empty())
    throw QuantOptionError("--symbol must be given, e.g. BTCUSDT");

  const feed::InstrumentsInfo info =
      feed::load_instruments_info_file(size.instruments, feed::UnrepresentablePolicy::skip);
  const risk::InstrumentRules* rules = feed::find(info.rules, size.symbol);
  if (rules == nullptr)
    unknown_symbol(size, info);

  const risk::SizeDecision decision = risk::size_order(request, *rules, params);
  const std::string json = size_decision_json(decision);
  out.write(json.data(), static_cast<std::streamsize>(json.size()));
  out.flush();
  if (!out)
    throw std::runtime_error("writing the output failed");
  return decision.accepted() ? 0 : kSizeRefusedExitStatus;
}

void check_parameters(const QuantOptions& options, const Config& config) {
  switch (options.command) {
    case QuantCommand::kalman:
      (void)kalman_params(options, config);
      break;
    case QuantCommand::derivatives:
      (void)derivative_params(options, config);
      break;
    case QuantCommand::signals:
      (void)signal_params(options, config);
      break;
    case QuantCommand::forecast:
      (void)kalman_params(options, config);
      (void)forecast_horizon_s(options, config);
      break;
    case QuantCommand::drift:
      (void)drift_horizon_s(options, config);
      break;
    case QuantCommand::size:
      (void)sizing_params(options, config);
      (void)size_request(options);
      break;
  }
}

int run_quant(const QuantOptions& options, const Config& config, std::istream& in,
              std::ostream& out) {
  if (options.command == QuantCommand::size)
    throw std::invalid_argument("quant size reads no CSV: call run_quant_size");
  LineWriter writer(out);
  // Parameters are resolved (and refused) before the header is written.
  check_parameters(options, config);
  // The header of the input is read before anything is written, so that a missing column
  // leaves the output empty.
  feed::PriceCsvReader reader = feed::PriceCsvReader::open(in, options.column);
  const std::string_view header = output_header(options.command);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.put('\n');
  switch (options.command) {
    case QuantCommand::kalman:
      run_kalman(options, config, reader, writer);
      break;
    case QuantCommand::derivatives:
      run_derivatives(options, config, reader, writer);
      break;
    case QuantCommand::signals:
      run_signals(options, config, reader, writer);
      break;
    case QuantCommand::forecast:
      run_forecast(options, config, reader, writer);
      break;
    case QuantCommand::drift:
      run_drift(options, config, reader, writer);
      break;
    case QuantCommand::size:
      break;  // refused above
  }
  out.flush();
  if (!out)
    throw std::runtime_error("writing the output failed");
  return 0;
}

CLI::App* add_quant_command(CLI::App& app, QuantOptions& options) {
  CLI::App* quant = app.add_subcommand(
      "quant",
      "Run one estimator of the engine over a price CSV (Bybit klines or trades) and print what "
      "it computes for every row as CSV. Time axis: seconds since the first row.");
  quant->require_subcommand(1);

  const auto add_common = [&options](CLI::App* command) {
    command->add_option("file", options.input,
                        "Input CSV with a header: a timestamp column (timestamp, time or ts) and "
                        "a price column; '-' reads standard input (default: -)");
    command->add_option("--column", options.column, "Price column (default: price, else close)");
    command
        ->add_option("--config", options.config_file,
                     "TOML configuration for every parameter not given as an option; KINETIC_* "
                     "environment variables override it (default: built-in defaults plus the "
                     "environment)")
        ->check(CLI::ExistingFile);
    command->add_option("--out", options.output,
                        "Write the CSV to this file (via FILE.tmp, renamed on success) instead "
                        "of standard output");
  };
  const auto add_kalman = [&options](CLI::App* command) {
    command->add_option("--q", options.q,
                        "Jerk spectral density q, price^2/s^5, >= 0 (default: [kalman] "
                        "process_noise_q, 1)");
    command->add_option("--r", options.r,
                        "Measurement noise variance r, price^2, > 0 (default: [kalman] "
                        "measurement_noise_r, 0.01)");
    command->add_option("--sigma-v0", options.sigma_v0,
                        "Initial velocity standard deviation, price/s, > 0 (default: [kalman] "
                        "sigma_v0, 10)");
    command->add_option("--sigma-a0", options.sigma_a0,
                        "Initial acceleration standard deviation, price/s^2, > 0 (default: "
                        "[kalman] sigma_a0, 10)");
    command->add_flag("--adaptive", options.adaptive,
                      "Estimate r from the innovations, weight [kalman] adaptive_alpha (default: "
                      "[kalman] adaptive, false)");
  };
  const auto on_parse = [&options](QuantCommand command) {
    return [&options, command] { options.command = command; };
  };

  CLI::App* kalman = quant->add_subcommand(
      "kalman", "Constant-acceleration Kalman filter over [price, velocity, acceleration]");
  add_common(kalman);
  add_kalman(kalman);
  kalman->footer(std::string("Output: ") + std::string(output_header(QuantCommand::kalman)) +
                 "\n  dt: seconds since the previous row (0 on the first); p_hat: filtered "
                 "price; v: price/s; a: price/s^2; sigma_*: their standard deviations; "
                 "innovation: price minus predicted price (0 on the first row); nis: "
                 "innovation^2 / its variance (0 on the first row).\n" +
                 kEmptyRule);
  kalman->callback(on_parse(QuantCommand::kalman));

  CLI::App* derivatives = quant->add_subcommand(
      "derivatives",
      "EMA-smoothed price and its finite-difference velocity and acceleration (non-uniform "
      "three-point formulas)");
  add_common(derivatives);
  CLI::Option* lambda =
      derivatives->add_option("--lambda", options.lambda,
                              "Weight of a new observation, in (0, 1]; 1 = no smoothing "
                              "(default: [strategy] ema_lambda, 0.1, unless half_life_ms > 0)");
  CLI::Option* half_life = derivatives->add_option(
      "--half-life", options.half_life_s,
      "Time-aware smoothing: weight 1 - 2^(-dt/SECONDS), > 0 (default: [strategy] "
      "half_life_ms / 1000 when > 0)");
  lambda->excludes(half_life);
  derivatives->footer(std::string("Output: ") +
                      std::string(output_header(QuantCommand::derivatives)) +
                      "\n  dt: seconds since the previous row; smoothed: price; v: price/s; a: "
                      "price/s^2 (empty until three distinct timestamps).\n" +
                      kEmptyRule);
  derivatives->callback(on_parse(QuantCommand::derivatives));

  CLI::App* signals = quant->add_subcommand(
      "signals",
      "Run the whole calculus engine (all four sources) and print one source's velocity, "
      "acceleration and signal");
  add_common(signals);
  add_kalman(signals);
  const std::map<std::string, strategy::Source> sources{
      {"tick_kalman", strategy::Source::tick_kalman},
      {"tick_derivatives", strategy::Source::tick_derivatives},
      {"kalman_1s", strategy::Source::kalman_1s},
      {"kalman_1m", strategy::Source::kalman_1m}};
  signals
      ->add_option_function<std::string>(
          "--source",
          [&options, sources](const std::string& name) { options.source = sources.at(name); },
          "Source to print: tick_kalman, tick_derivatives, kalman_1s (1 s bar closes) "
          "or kalman_1m (1 min bar closes) (default: tick_kalman). Other parameters: "
          "[strategy] and [kalman] of the configuration")
      ->check(CLI::IsMember({"tick_kalman", "tick_derivatives", "kalman_1s", "kalman_1m"}));
  signals->footer(
      std::string("Output: ") + std::string(output_header(QuantCommand::signals)) +
      "\n  v: price/s and a: price/s^2 of the source's estimator (empty until it has an "
      "estimate); snr: the gating signal-to-noise ratio (inf when the source's standard "
      "deviation is 0); case: none, strong_uptrend, "
      "decelerating_uptrend, decelerating_downtrend, strong_downtrend, bottoming_out, "
      "topping_out; action: NONE, STRONG_BUY, BUY, HOLD, SELL, STRONG_SELL; confidence in [0, 1] "
      "(none / NONE / 0 before the source's first estimate).\n" +
      kEmptyRule);
  signals->callback(on_parse(QuantCommand::signals));

  CLI::App* forecast = quant->add_subcommand(
      "forecast", "Kalman Taylor forecast of the latent price a horizon after each row");
  add_common(forecast);
  add_kalman(forecast);
  forecast->add_option("--horizon", options.horizon_s,
                       "Horizon in seconds, >= 0 (default: [strategy] forecast_horizon_ms / "
                       "1000, 1)");
  forecast->footer(std::string("Output: ") + std::string(output_header(QuantCommand::forecast)) +
                   "\n  forecast: p + v h + a h^2 / 2, price; forecast_sigma: its standard "
                   "deviation (state uncertainty plus process noise over h, without the "
                   "measurement noise r), price.\n" +
                   kEmptyRule);
  forecast->callback(on_parse(QuantCommand::forecast));

  CLI::App* drift = quant->add_subcommand(
      "drift", "Drift (mean log-return per second) over an exponentially weighted horizon");
  add_common(drift);
  drift->add_option("--horizon", options.horizon_s,
                    "Memory time constant in seconds, > 0 (default: [strategy] "
                    "drift_short_horizon_s, 3600)");
  drift->footer(std::string("Output: ") + std::string(output_header(QuantCommand::drift)) +
                "\n  drift: log-return per second (empty until time has passed); t_stat: "
                "drift / standard error, inf or -inf for a noiseless trend; flip_probability: "
                "Phi(-|t|) in [0, 0.5] (both empty until the variance has one degree of "
                "freedom).\n" +
                kEmptyRule);
  drift->callback(on_parse(QuantCommand::drift));

  CLI::App* size = quant->add_subcommand(
      "size",
      "Size one order with the risk manager's sizer (fractional Kelly, risk per trade, "
      "reward/risk, the instrument's quantity rules and the leverage that fits the margin) and "
      "print the decision as one JSON object");
  SizeOptions& sized = options.size;
  size->add_option("--instruments", sized.instruments,
                   "Bybit instruments-info response (JSON), e.g. from `kinetic capture "
                   "instruments`; entries that cannot be held exactly are skipped")
      ->required()
      ->check(CLI::ExistingFile);
  size->add_option("--symbol", sized.symbol, "Instrument, e.g. BTCUSDT")->required();
  size->add_option("--equity", sized.equity, "Account equity, quote currency, > 0 (exact decimal)")
      ->required();
  size->add_option("--entry", sized.entry, "Expected fill price, > 0 (exact decimal)")->required();
  size->add_option("--stop", sized.stop,
                   "Stop price: below the entry sizes a long, above it a short")
      ->required();
  size->add_option("--target", sized.target, "Take-profit price")->required();
  size->add_option("--confidence", sized.confidence, "Signal confidence in [0, 1]")->required();
  size->add_option("--win-prob", sized.win_probability, "Kelly win probability p in [0, 1]")
      ->required();
  size->add_option("--avg-win", sized.avg_win,
                   "Average win b, > 0 (same unit as --avg-loss; only b/a matters)")
      ->required();
  size->add_option("--avg-loss", sized.avg_loss, "Average loss a, > 0")->required();
  size->add_option("--max-leverage", sized.max_leverage,
                   "Highest leverage to use, in [1, 1e6]; the instrument's maximum also applies "
                   "(default: [risk] max_leverage, 10)");
  size->add_option("--risk-fraction", sized.risk_fraction,
                   "Equity lost if the stop is hit, in (0, 0.02] (default: [risk] "
                   "max_risk_per_trade, 0.02)");
  size->add_option("--kelly-multiplier", sized.kelly_multiplier,
                   "Multiplier on the full Kelly fraction, in (0, 1] (default: [risk] "
                   "kelly_fraction, 0.5)");
  size->add_option_function<std::string>(
          "--type",
          [&sized](const std::string& type) {
            sized.type = type == "market" ? OrderType::market : OrderType::limit;
          },
          "Order type: market (also bounded by maxMktOrderQty) or limit (default: limit)")
      ->check(CLI::IsMember({"market", "limit"}));
  size->add_option("--margin", sized.margin,
                   "Available margin, quote currency, >= 0 (default: the equity)");
  size->add_option("--config", options.config_file,
                   "TOML configuration for [risk] kelly_cap, min_reward_risk and the defaults "
                   "above; KINETIC_* environment variables override it (default: built-in "
                   "defaults plus the environment)")
      ->check(CLI::ExistingFile);
  size->add_option("--out", options.output,
                   "Write the JSON to this file (via FILE.tmp, renamed on success) instead of "
                   "standard output");
  size->footer(
      "Output: {\"qty\": \"...\", \"leverage\": \"...\", \"notional\": \"...\", "
      "\"risk_amount\": \"...\", \"bound_by\": \"...\", \"accepted\": true|false, "
      "\"reason\": \"...\"}\n  Exact decimals (\"0\" when refused); bound_by: kelly, "
      "risk_fraction, max_order_qty, margin or minimum (none when refused); reason: why the "
      "sizer refused (none when accepted), e.g. reward_risk_too_low, no_edge, invalid_stop, "
      "qty_below_min, notional_below_min, insufficient_margin, zero_size.\n"
      "Exit status: 0 accepted; 3 refused by the sizer (the JSON is still printed); 1 bad "
      "input (an option out of range, an unknown symbol, an unreadable file); 2 a refused "
      "configuration.\n");
  size->callback(on_parse(QuantCommand::size));
  return quant;
}

int run_quant_command(const QuantOptions& options) {
  const Config config = load_configuration(options.config_file);
  if (options.command == QuantCommand::size) {
    if (options.output.empty()) {
      const int status = run_quant_size(options, config, std::cout);
      if (!std::cout)
        throw std::runtime_error("standard output: write error");
      return status;
    }
    tools::AtomicOutputFile output(options.output);
    const int status = run_quant_size(options, config, output.stream());
    output.commit();
    return status;
  }
  // Refuse bad options before touching any file.
  check_parameters(options, config);

  const bool from_stdin = options.input == "-";
  const std::string input_name = from_stdin ? std::string("<stdin>") : options.input;
  std::ifstream file;
  if (!from_stdin) {
    file.open(options.input, std::ios::binary);
    if (!file)
      throw std::runtime_error(options.input + ": cannot open for reading");
  }
  std::istream& in = from_stdin ? std::cin : file;

  const auto run = [&](std::ostream& out) {
    try {
      run_quant(options, config, in, out);
    } catch (const feed::CsvError& error) {
      throw std::runtime_error(input_name + ": " + error.what());
    }
  };

  if (options.output.empty()) {
    std::ios::sync_with_stdio(false);  // whole lines are written; no need for stdio's buffer
    run(std::cout);
    std::cout.flush();
    if (!std::cout)
      throw std::runtime_error("standard output: write error");
    return 0;
  }
  tools::AtomicOutputFile output(options.output);
  run(output.stream());
  output.commit();
  return 0;
}

}  // namespace kinetic::quant
