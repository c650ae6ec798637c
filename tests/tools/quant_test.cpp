// Tests of `kinetic quant`: exact values against the estimators fed by hand, the header lines,
// the real data files, the errors and the CLI plumbing (--out via FILE.tmp, options).

#include "quant.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.hpp"
#include "capture.hpp"
#include "kinetic/core/config.hpp"
#include "kinetic/core/math/derivatives.hpp"
#include "kinetic/core/math/drift.hpp"
#include "kinetic/core/math/kalman.hpp"
#include "kinetic/core/risk/sizing.hpp"
#include "kinetic/core/strategy/calculus_engine.hpp"
#include "kinetic/feed/instruments_info.hpp"
#include "kinetic/feed/price_csv.hpp"
#include "kinetic/feed/ws_capture.hpp"

namespace {

using kinetic::Config;
using kinetic::quant::QuantCommand;
using kinetic::quant::QuantOptionError;
using kinetic::quant::QuantOptions;
using kinetic::quant::run_quant;

const std::string kDataDir = KINETIC_SOURCE_DIR "/../shared/data/";

QuantOptions options_for(QuantCommand command) {
  QuantOptions options;
  options.command = command;
  return options;
}

std::string run(const QuantOptions& options, const std::string& input,
                const Config& config = Config{}) {
  std::istringstream in(input);
  std::ostringstream out;
  EXPECT_EQ(run_quant(options, config, in, out), 0);
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// Output fields never contain a comma in these tests (no quoting needed).
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string::npos)
      return fields;
    start = comma + 1;
  }
}

// Parses a whole field as a double; fails the test if it is not one.
double number(const std::string& field) {
  double value = 0.0;
  const auto result = std::from_chars(field.data(), field.data() + field.size(), value);
  EXPECT_TRUE(result.ec == std::errc{} && result.ptr == field.data() + field.size())
      << "not a number: '" << field << "'";
  return value;
}

// Epoch-millisecond CSV from (ms offset, price text) pairs.
std::string csv(const std::vector<std::pair<std::int64_t, std::string>>& rows) {
  std::string text = "timestamp,price\n";
  for (const auto& [offset_ms, price] : rows)
    text += std::to_string(1'700'000'000'000 + offset_ms) + "," + price + "\n";
  return text;
}

double seconds_since(std::int64_t first_ms, std::int64_t ms) {
  // The tool's axis: exact ns difference divided once.
  return static_cast<double>((ms - first_ms) * 1'000'000) / 1e9;
}

std::string price_text(double price) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, price);
  return {buf, result.ptr};
}

// A wiggly positive series at irregular times, with a repeated timestamp.
std::vector<std::pair<std::int64_t, std::string>> wiggly_rows() {
  std::vector<std::pair<std::int64_t, std::string>> rows;
  std::int64_t ms = 0;
  for (int i = 0; i < 40; ++i) {
    ms += (i == 7) ? 0 : 137 + (i * 53) % 401;
    const double price = 100.0 + 0.01 * i + 0.3 * std::sin(0.7 * i);
    rows.emplace_back(ms, price_text(price));
  }
  return rows;
}

TEST(QuantHeader, ExactForEveryCommand) {
  const std::string empty_input = "timestamp,price\n";
  EXPECT_EQ(run(options_for(QuantCommand::kalman), empty_input),
            "timestamp,price,dt,p_hat,v,a,sigma_p,sigma_v,sigma_a,innovation,nis\n");
  EXPECT_EQ(run(options_for(QuantCommand::derivatives), empty_input),
            "timestamp,price,dt,smoothed,v,a\n");
  EXPECT_EQ(run(options_for(QuantCommand::signals), empty_input),
            "timestamp,price,v,a,snr,case,action,confidence\n");
  EXPECT_EQ(run(options_for(QuantCommand::forecast), empty_input),
            "timestamp,price,forecast,forecast_sigma\n");
  EXPECT_EQ(run(options_for(QuantCommand::drift), empty_input),
            "timestamp,price,drift,t_stat,flip_probability\n");
}

TEST(QuantDerivatives, LambdaOneIsExactOnAQuadraticAtIrregularTimes) {
  // p(t) = 100 + 2t + 1.5t²: the non-uniform three-point formulas are exact for quadratics,
  // so v = 2 + 3t and a = 3 at the newest point.
  const std::vector<std::int64_t> offsets_ms{0, 500, 1700, 2000, 4500, 4750, 9000};
  std::vector<std::pair<std::int64_t, std::string>> rows;
  for (const std::int64_t ms : offsets_ms) {
    const double t = static_cast<double>(ms) / 1000.0;
    rows.emplace_back(ms, price_text(100.0 + 2.0 * t + 1.5 * t * t));
  }
  QuantOptions options = options_for(QuantCommand::derivatives);
  options.lambda = 1.0;
  const std::vector<std::string> lines = lines_of(run(options, csv(rows)));
  ASSERT_EQ(lines.size(), rows.size() + 1);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::vector<std::string> f = fields_of(lines[i + 1]);
    ASSERT_EQ(f.size(), 6U) << lines[i + 1];
    EXPECT_EQ(f[0], std::to_string(1'700'000'000'000 + rows[i].first));
    EXPECT_EQ(f[1], rows[i].second);
    const double t = static_cast<double>(offsets_ms[i]) / 1000.0;
    const double dt =
        i == 0 ? 0.0 : static_cast<double>(offsets_ms[i] - offsets_ms[i - 1]) / 1000.0;
    EXPECT_DOUBLE_EQ(number(f[2]), dt);
    EXPECT_EQ(number(f[3]), number(rows[i].second));  // λ = 1: no smoothing
    if (i < 2) {
      EXPECT_EQ(f[4], "") << "v is not defined before three timestamps";
      EXPECT_EQ(f[5], "");
    } else {
      EXPECT_NEAR(number(f[4]), 2.0 + 3.0 * t, 1e-9 * (2.0 + 3.0 * t));
      EXPECT_NEAR(number(f[5]), 3.0, 3e-9);
    }
  }
}

TEST(QuantKalman, ThreeRowsMatchAFilterFedByHand) {
  const std::vector<std::pair<std::int64_t, std::string>> rows{
      {0, "100.5"}, {250, "100.75"}, {1250, "100.25"}};
  QuantOptions options = options_for(QuantCommand::kalman);
  options.q = 0.5;
  options.r = 0.04;
  const std::vector<std::string> lines = lines_of(run(options, csv(rows)));
  ASSERT_EQ(lines.size(), 4U);

  kinetic::math::KalmanParams params;  // defaults match Config{}'s [kalman] apart from q, r
  params.q = 0.5;
  params.r = 0.04;
  kinetic::math::KinematicKalman filter(params);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(filter.update(seconds_since(rows[0].first, rows[i].first), number(rows[i].second)),
              kinetic::math::KalmanError::ok);
    const std::vector<std::string> f = fields_of(lines[i + 1]);
    ASSERT_EQ(f.size(), 11U);
    EXPECT_EQ(f[1], rows[i].second);
    EXPECT_EQ(number(f[2]), i == 0 ? 0.0 : seconds_since(rows[i - 1].first, rows[i].first));
    // Shortest round-trip text: equality, not nearness.
    EXPECT_EQ(number(f[3]), filter.price());
    EXPECT_EQ(number(f[4]), filter.velocity());
    EXPECT_EQ(number(f[5]), filter.acceleration());
    EXPECT_EQ(number(f[6]), filter.price_stddev());
    EXPECT_EQ(number(f[7]), filter.velocity_stddev());
    EXPECT_EQ(number(f[8]), filter.acceleration_stddev());
    EXPECT_EQ(number(f[9]), filter.innovation());
    EXPECT_EQ(number(f[10]), filter.nis());
  }
  EXPECT_NE(number(fields_of(lines[3])[4]), 0.0) << "velocity must have moved";
}

TEST(QuantForecast, MatchesTheFilterFedByHand) {
  const auto rows = wiggly_rows();
  QuantOptions options = options_for(QuantCommand::forecast);
  options.horizon_s = 2.5;
  const std::vector<std::string> lines = lines_of(run(options, csv(rows)));
  ASSERT_EQ(lines.size(), rows.size() + 1);
  kinetic::math::KinematicKalman filter(kinetic::math::KalmanParams{});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(filter.update(seconds_since(rows[0].first, rows[i].first), number(rows[i].second)),
              kinetic::math::KalmanError::ok);
    const kinetic::math::KalmanForecast expected = filter.forecast(2.5).value();
    const std::vector<std::string> f = fields_of(lines[i + 1]);
    ASSERT_EQ(f.size(), 4U);
    EXPECT_EQ(number(f[2]), expected.mean);
    EXPECT_EQ(number(f[3]), expected.stddev());
  }
}

TEST(QuantDrift, MatchesTheEstimatorFedByHand) {
  const auto rows = wiggly_rows();
  QuantOptions options = options_for(QuantCommand::drift);
  options.horizon_s = 3.0;
  const std::vector<std::string> lines = lines_of(run(options, csv(rows)));
  ASSERT_EQ(lines.size(), rows.size() + 1);
  kinetic::math::DriftEstimator estimator(3.0);
  int defined_rows = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(estimator.update(seconds_since(rows[0].first, rows[i].first), number(rows[i].second)),
              kinetic::math::DriftError::ok);
    const std::vector<std::string> f = fields_of(lines[i + 1]);
    ASSERT_EQ(f.size(), 5U);
    if (i == 0) {
      EXPECT_EQ(f[2], "") << "no drift before time has passed";
    } else {
      EXPECT_EQ(number(f[2]), estimator.drift_per_s());
    }
    if (std::isnan(estimator.standard_error())) {
      EXPECT_EQ(f[3], "");
      EXPECT_EQ(f[4], "");
    } else {
      ++defined_rows;
      EXPECT_EQ(number(f[3]), estimator.t_stat());
      EXPECT_EQ(number(f[4]), estimator.flip_probability());
    }
  }
  EXPECT_GT(defined_rows, 30);
}

TEST(QuantDrift, NoiselessTrendWritesInfinity) {
  // Constant log-return per second: zero residual, so the t-statistic is +inf.
  std::vector<std::pair<std::int64_t, std::string>> rows;
  for (int i = 0; i < 5; ++i)
    rows.emplace_back(i * 1000, price_text(std::exp(std::log(100.0) + 0.5 * i)));
  const std::vector<std::string> lines = lines_of(run(options_for(QuantCommand::drift), csv(rows)));
  ASSERT_EQ(lines.size(), 6U);
  const std::vector<std::string> last = fields_of(lines.back());
  // Rounding of the printed prices can leave a tiny residual; either way t is huge.
  if (last[3] == "inf") {
    EXPECT_EQ(last[4], "0");
  } else {
    EXPECT_GT(number(last[3]), 1e6);
  }
}

TEST(QuantSignals, MatchesTheEngineFedByHand) {
  const auto rows = wiggly_rows();
  for (const kinetic::strategy::Source source :
       {kinetic::strategy::Source::tick_kalman, kinetic::strategy::Source::tick_derivatives}) {
    QuantOptions options = options_for(QuantCommand::signals);
    options.source = source;
    const std::vector<std::string> lines = lines_of(run(options, csv(rows)));
    ASSERT_EQ(lines.size(), rows.size() + 1);
    kinetic::strategy::CalculusEngine engine(kinetic::strategy::calculus_params(Config{}));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASSERT_EQ(
          engine.update((1'700'000'000'000 + rows[i].first) * 1'000'000, number(rows[i].second)),
          kinetic::strategy::CalculusError::ok);
      const std::vector<std::string> f = fields_of(lines[i + 1]);
      ASSERT_EQ(f.size(), 8U);
      const kinetic::strategy::Signal& signal = engine.signal(source);
      if (source == kinetic::strategy::Source::tick_kalman) {
        EXPECT_EQ(number(f[2]), engine.kalman().velocity());
        EXPECT_EQ(number(f[3]), engine.kalman().acceleration());
      } else if (engine.derivatives().ready()) {
        EXPECT_EQ(number(f[2]), engine.derivatives().velocity());
        EXPECT_EQ(number(f[3]), engine.derivatives().acceleration());
      } else {
        EXPECT_EQ(f[2], "");
        EXPECT_EQ(f[3], "");
      }
      EXPECT_EQ(number(f[4]), signal.snr);
      EXPECT_EQ(f[5], kinetic::strategy::to_string(signal.trend_case));
      EXPECT_EQ(f[6], kinetic::strategy::to_string(signal.action));
      EXPECT_EQ(number(f[7]), signal.confidence);
    }
  }
}

// --- Real data ---------------------------------------------------------------------------

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Checks a whole output against its input: row count, echoed timestamps and prices, every
// numeric field finite, case and action from the allowed names.
void check_real_output(const std::string& input_path, QuantCommand command,
                       std::size_t expected_rows,
                       kinetic::strategy::Source source = kinetic::strategy::Source::tick_kalman) {
  QuantOptions options = options_for(command);
  options.source = source;
  std::ifstream in(input_path, std::ios::binary);
  ASSERT_TRUE(in);
  std::ostringstream out;
  ASSERT_EQ(run_quant(options, Config{}, in, out), 0);
  const std::vector<std::string> output = lines_of(out.str());
  ASSERT_EQ(output.size(), expected_rows + 1);

  // The input's timestamp and price fields, to compare with the echo.
  std::istringstream input_text(read_file(input_path));
  auto reader = kinetic::feed::PriceCsvReader::open(input_text);
  const std::set<std::string> cases{"none",
                                    "strong_uptrend",
                                    "decelerating_uptrend",
                                    "decelerating_downtrend",
                                    "strong_downtrend",
                                    "bottoming_out",
                                    "topping_out"};
  const std::set<std::string> actions{"NONE", "STRONG_BUY", "BUY", "HOLD", "SELL", "STRONG_SELL"};
  kinetic::feed::PriceRow row;
  std::size_t failures = 0;
  for (std::size_t i = 1; i < output.size() && failures < 5; ++i) {
    ASSERT_TRUE(reader.next(row));
    const std::vector<std::string> f = fields_of(output[i]);
    const std::size_t width = command == QuantCommand::kalman ? 11U : 8U;
    ASSERT_EQ(f.size(), width) << output[i];
    if (f[0] != row.timestamp_text || f[1] != row.price_text)
      ++failures;
    EXPECT_EQ(f[0], row.timestamp_text);
    EXPECT_EQ(f[1], row.price_text);
    for (std::size_t c = 2; c < f.size(); ++c) {
      if (command == QuantCommand::signals && (c == 5 || c == 6))
        continue;
      // tick_derivatives has no v, a before three timestamps (rows 1 and 2).
      if (source == kinetic::strategy::Source::tick_derivatives && (c == 2 || c == 3) && i <= 2) {
        EXPECT_EQ(f[c], "");
        continue;
      }
      const double value = number(f[c]);
      // snr is +inf where the source's standard deviation is 0 (documented); never NaN.
      const bool infinity_allowed = command == QuantCommand::signals && c == 4 && value > 0.0;
      if (!std::isfinite(value) && !infinity_allowed) {
        ++failures;
        ADD_FAILURE() << "line " << i << " field " << c << ": " << f[c];
      }
    }
    if (command == QuantCommand::signals) {
      EXPECT_TRUE(cases.count(f[5]) == 1) << f[5];
      EXPECT_TRUE(actions.count(f[6]) == 1) << f[6];
    }
  }
  EXPECT_FALSE(reader.next(row));
}

const std::string kKlines = kDataDir + "bybit-linear-klines-1m-30d-7sym/BTCUSDT_1m.csv";
const std::string kTrades = kDataDir + "bybit-trades-csv-fixture-bbgo/FXSUSDT-ticks-2023-10-10.csv";

TEST(QuantRealData, KalmanOnBtcKlines) {
  if (!std::filesystem::exists(kKlines))
    GTEST_SKIP() << kKlines << " not present";
  check_real_output(kKlines, QuantCommand::kalman, 43'200);
}

TEST(QuantRealData, SignalsOnBtcKlines) {
  if (!std::filesystem::exists(kKlines))
    GTEST_SKIP() << kKlines << " not present";
  check_real_output(kKlines, QuantCommand::signals, 43'200);
}

TEST(QuantRealData, TickDerivativeSignalsOnBtcKlines) {
  if (!std::filesystem::exists(kKlines))
    GTEST_SKIP() << kKlines << " not present";
  check_real_output(kKlines, QuantCommand::signals, 43'200,
                    kinetic::strategy::Source::tick_derivatives);
}

TEST(QuantRealData, KalmanAndSignalsOnTrades) {
  if (!std::filesystem::exists(kTrades))
    GTEST_SKIP() << kTrades << " not present";
  check_real_output(kTrades, QuantCommand::kalman, 15);
  check_real_output(kTrades, QuantCommand::signals, 15);
}

// The linear BTCUSDT trades of the raw Bybit WebSocket capture, through `kinetic capture
// trades` into a CSV, then through `kinetic quant kalman` and `signals`.
TEST(QuantRealData, KalmanAndSignalsOnWebSocketCaptureTrades) {
  const std::string capture = kDataDir + "bybit-ws-v5-cryptofeed/BYBIT.jsonl.zst";
  if (!std::filesystem::exists(capture))
    GTEST_SKIP() << capture << " not present";
  const std::filesystem::path csv =
      std::filesystem::temp_directory_path() /
      ("kinetic-capture-trades-" + std::to_string(::getpid()) + ".csv");
  {
    kinetic::feed::WsCaptureTradeReader reader(capture,
                                               kinetic::feed::CaptureFilter{"BTCUSDT", "linear"});
    std::ofstream out(csv, std::ios::binary);
    ASSERT_EQ(kinetic::tools::write_capture_trades(reader, out).trades, 56U);
  }
  check_real_output(csv.string(), QuantCommand::kalman, 56);
  check_real_output(csv.string(), QuantCommand::signals, 56);
  check_real_output(csv.string(), QuantCommand::signals, 56,
                    kinetic::strategy::Source::tick_derivatives);
  std::filesystem::remove(csv);
}

// --- Errors -------------------------------------------------------------------------------

std::string error_of(const QuantOptions& options, const std::string& input,
                     const Config& config = Config{}) {
  std::istringstream in(input);
  std::ostringstream out;
  try {
    (void)run_quant(options, config, in, out);
  } catch (const std::exception& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(QuantErrors, MissingColumnListsTheHeader) {
  QuantOptions options = options_for(QuantCommand::kalman);
  options.column = "mid";
  std::istringstream in("timestamp,bid,ask\n1,2,3\n");
  std::ostringstream out;
  try {
    (void)run_quant(options, Config{}, in, out);
    ADD_FAILURE() << "no error";
  } catch (const kinetic::feed::CsvError& error) {
    EXPECT_EQ(error.line(), 1U);
    const std::string what = error.what();
    EXPECT_NE(what.find("mid"), std::string::npos) << what;
    EXPECT_NE(what.find("timestamp, bid, ask"), std::string::npos) << what;
  }
  EXPECT_EQ(out.str(), "") << "nothing is written before the header is known to be good";
}

TEST(QuantErrors, UnparsableRowNamesItsLine) {
  const std::string what =
      error_of(options_for(QuantCommand::derivatives), "timestamp,price\n1000,1.5\n2000,abc\n");
  EXPECT_EQ(what.rfind("line 3: ", 0), 0U) << what;
}

TEST(QuantErrors, TimestampGoingBackwardsNamesItsLine) {
  for (const QuantCommand command :
       {QuantCommand::kalman, QuantCommand::derivatives, QuantCommand::signals,
        QuantCommand::forecast, QuantCommand::drift}) {
    const std::string what = error_of(
        options_for(command), "timestamp,price\n1000,1.5\n2000,1.6\n\n1500,1.7\n3000,1.8\n");
    EXPECT_EQ(what, "line 5: timestamp earlier than the previous row");
  }
}

TEST(QuantErrors, OptionValuesOutOfRangeNameTheOption) {
  const std::string input = "timestamp,price\n1000,1.5\n";
  const auto refused = [&](QuantOptions options, std::string_view option) {
    std::istringstream in(input);
    std::ostringstream out;
    try {
      (void)run_quant(options, Config{}, in, out);
      ADD_FAILURE() << option << " accepted";
    } catch (const QuantOptionError& error) {
      const std::string what = error.what();
      EXPECT_EQ(what.rfind(std::string(option) + " must be", 0), 0U) << what;
    }
    EXPECT_EQ(out.str(), "") << "nothing written for " << option;
  };
  QuantOptions kalman = options_for(QuantCommand::kalman);
  kalman.r = 0.0;
  refused(kalman, "--r");
  kalman = options_for(QuantCommand::signals);
  kalman.q = -1.0;
  refused(kalman, "--q");
  kalman = options_for(QuantCommand::forecast);
  kalman.sigma_v0 = std::nan("");
  refused(kalman, "--sigma-v0");
  kalman.sigma_v0.reset();
  kalman.sigma_a0 = 0.0;
  refused(kalman, "--sigma-a0");
  QuantOptions forecast = options_for(QuantCommand::forecast);
  forecast.horizon_s = -1.0;
  refused(forecast, "--horizon");
  QuantOptions drift = options_for(QuantCommand::drift);
  drift.horizon_s = 0.0;
  refused(drift, "--horizon");
  QuantOptions derivatives = options_for(QuantCommand::derivatives);
  derivatives.lambda = 2.0;
  refused(derivatives, "--lambda");
  derivatives.lambda = 0.0;
  refused(derivatives, "--lambda");
  derivatives.lambda.reset();
  derivatives.half_life_s = 0.0;
  refused(derivatives, "--half-life");
  derivatives.half_life_s = -3.0;
  refused(derivatives, "--half-life");
  const std::string what = [] {
    try {
      (void)kinetic::quant::derivative_params(
          [] {
            QuantOptions o = options_for(QuantCommand::derivatives);
            o.lambda = 0.5;
            o.half_life_s = 1.0;
            return o;
          }(),
          Config{});
    } catch (const QuantOptionError& error) {
      return std::string(error.what());
    }
    return std::string();
  }();
  EXPECT_EQ(what, "--lambda and --half-life exclude each other");
}

TEST(QuantConfig, UsedWhenTheOptionIsAbsentAndIgnoredWhenPresent) {
  const std::string input = csv(wiggly_rows());
  Config noisy;
  noisy.kalman.measurement_noise_r = 4.0;
  QuantOptions kalman = options_for(QuantCommand::kalman);
  const std::string from_config = run(kalman, input, noisy);
  QuantOptions with_r = kalman;
  with_r.r = 4.0;
  EXPECT_EQ(from_config, run(with_r, input)) << "absent --r: [kalman] measurement_noise_r";
  EXPECT_NE(from_config, run(kalman, input)) << "the override must change something";
  with_r.r = Config{}.kalman.measurement_noise_r;
  EXPECT_EQ(run(with_r, input, noisy), run(kalman, input)) << "--r wins over the config";

  Config unsmoothed;
  unsmoothed.strategy.ema_lambda = 1.0;
  QuantOptions derivatives = options_for(QuantCommand::derivatives);
  QuantOptions with_lambda = derivatives;
  with_lambda.lambda = 1.0;
  EXPECT_EQ(run(derivatives, input, unsmoothed), run(with_lambda, input));
  with_lambda.lambda = 0.1;
  EXPECT_EQ(run(with_lambda, input, unsmoothed), run(derivatives, input));

  Config long_forecast;
  long_forecast.strategy.forecast_horizon_ms = 5000;
  QuantOptions forecast = options_for(QuantCommand::forecast);
  QuantOptions with_horizon = forecast;
  with_horizon.horizon_s = 5.0;
  EXPECT_EQ(run(forecast, input, long_forecast), run(with_horizon, input));
  with_horizon.horizon_s = 1.0;
  EXPECT_EQ(run(with_horizon, input, long_forecast), run(forecast, input));

  Config short_drift;
  short_drift.strategy.drift_short_horizon_s = 2.0;
  QuantOptions drift = options_for(QuantCommand::drift);
  QuantOptions with_drift_horizon = drift;
  with_drift_horizon.horizon_s = 2.0;
  EXPECT_EQ(run(drift, input, short_drift), run(with_drift_horizon, input));
  EXPECT_NE(run(drift, input, short_drift), run(drift, input));
}

// --- Allocation -----------------------------------------------------------------------------

// Discards everything written to it.
class NullBuffer : public std::streambuf {
 protected:
  int_type overflow(int_type c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

TEST(QuantAllocation, PerRowLoopDoesNotAllocate) {
  // Twice the rows, same number of allocations: nothing is allocated per row (the reader and
  // the line buffer grow once, on the first rows).
  const auto count_for = [](int rows, QuantCommand command) {
    std::string text = "timestamp,price\n";
    for (int i = 0; i < rows; ++i)
      text += std::to_string(1'700'000'000'000 + 250 * i) + "," +
              price_text(100.0 + 0.01 * (i % 17)) + "\n";
    std::istringstream in(text);
    NullBuffer sink;
    std::ostream out(&sink);
    const QuantOptions options = options_for(command);
    const Config config;
    return kinetic::test::count_allocations([&] { (void)run_quant(options, config, in, out); });
  };
  for (const QuantCommand command :
       {QuantCommand::kalman, QuantCommand::derivatives, QuantCommand::signals,
        QuantCommand::forecast, QuantCommand::drift}) {
    EXPECT_EQ(count_for(200, command), count_for(400, command))
        << kinetic::quant::output_header(command);
  }
}

// --- CLI ----------------------------------------------------------------------------------

TEST(QuantCli, ParsesEachSubcommandAndItsOptions) {
  {
    CLI::App app;
    QuantOptions options;
    CLI::App* quant = kinetic::quant::add_quant_command(app, options);
    app.parse(std::vector<std::string>{"in.csv", "0.5", "--lambda", "derivatives", "quant"});
    EXPECT_TRUE(quant->parsed());
    EXPECT_EQ(options.command, QuantCommand::derivatives);
    EXPECT_EQ(options.lambda, 0.5);
    EXPECT_EQ(options.input, "in.csv");
  }
  {
    CLI::App app;
    QuantOptions options;
    (void)kinetic::quant::add_quant_command(app, options);
    app.parse(std::vector<std::string>{"--adaptive", "0.25", "--r", "kalman_1m", "--source",
                                       "signals", "quant"});
    EXPECT_EQ(options.command, QuantCommand::signals);
    EXPECT_EQ(options.source, kinetic::strategy::Source::kalman_1m);
    EXPECT_EQ(options.r, 0.25);
    EXPECT_TRUE(options.adaptive);
    EXPECT_EQ(options.input, "-");
  }
  {
    CLI::App app;
    QuantOptions options;
    (void)kinetic::quant::add_quant_command(app, options);
    EXPECT_THROW(app.parse(std::vector<std::string>{"1", "--half-life", "0.5", "--lambda",
                                                    "derivatives", "quant"}),
                 CLI::ParseError);
  }
  {
    CLI::App app;
    QuantOptions options;
    (void)kinetic::quant::add_quant_command(app, options);
    EXPECT_THROW(app.parse(std::vector<std::string>{"tick", "--source", "signals", "quant"}),
                 CLI::ParseError);
  }
}

TEST(QuantCli, OutWritesViaTemporaryAndLeavesNothingOnFailure) {
  const std::filesystem::path dir =
      std::filesystem::path(testing::TempDir()) / ("quant_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path good_input = dir / "good.csv";
  const std::filesystem::path bad_input = dir / "bad.csv";
  std::ofstream(good_input) << "timestamp,price\n1000,1.5\n2000,1.6\n";
  std::ofstream(bad_input) << "timestamp,price\n1000,1.5\n2000,1.6\n1500,1.7\n";
  const std::filesystem::path output = dir / "out.csv";

  QuantOptions options = options_for(QuantCommand::derivatives);
  options.input = good_input.string();
  options.output = output.string();
  EXPECT_EQ(kinetic::quant::run_quant_command(options), 0);
  EXPECT_EQ(lines_of(read_file(output.string())).size(), 3U);
  EXPECT_FALSE(std::filesystem::exists(output.string() + ".tmp"));

  std::filesystem::remove(output);
  options.input = bad_input.string();
  try {
    (void)kinetic::quant::run_quant_command(options);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              bad_input.string() + ": line 4: timestamp earlier than the previous row");
  }
  EXPECT_FALSE(std::filesystem::exists(output));
  EXPECT_FALSE(std::filesystem::exists(output.string() + ".tmp"));
  std::filesystem::remove_all(dir);
}

// --- quant size -----------------------------------------------------------------------------

// Bybit's documentation example for BTCUSDT (linear), plus an entry whose 1e-9 tick cannot be
// held in 8 fraction digits (skipped, not fatal).
constexpr std::string_view kInstrumentsJson = R"({"retCode":0,"retMsg":"OK","result":{
  "category":"linear","nextPageCursor":"","list":[
  {"symbol":"BTCUSDT","contractType":"LinearPerpetual","status":"Trading",
   "leverageFilter":{"minLeverage":"1","maxLeverage":"100.00","leverageStep":"0.01"},
   "priceFilter":{"minPrice":"0.10","maxPrice":"199999.80","tickSize":"0.10"},
   "lotSizeFilter":{"maxOrderQty":"1190.000","minOrderQty":"0.001","qtyStep":"0.001",
     "postOnlyMaxOrderQty":"1190.000","maxMktOrderQty":"500.000","minNotionalValue":"5"}},
  {"symbol":"TINYUSDT","contractType":"LinearPerpetual","status":"Trading",
   "leverageFilter":{"minLeverage":"1","maxLeverage":"25.00","leverageStep":"0.01"},
   "priceFilter":{"minPrice":"0.000000001","maxPrice":"1.000000000","tickSize":"0.000000001"},
   "lotSizeFilter":{"maxOrderQty":"1000000","minOrderQty":"1","qtyStep":"1",
     "maxMktOrderQty":"100000","minNotionalValue":"5"}}]},
  "retExtInfo":{},"time":1735809771618})";

// A private directory with the instruments file, removed at the end of the test.
class QuantSize : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           ("quant_size_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    instruments_ = (dir_ / "linear.json").string();
    std::ofstream(instruments_) << kInstrumentsJson;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The README's example: long BTCUSDT at 65000, stop 130 below, target 260 above (R/R 2).
  QuantOptions example() const {
    QuantOptions options = options_for(QuantCommand::size);
    kinetic::quant::SizeOptions& size = options.size;
    size.instruments = instruments_;
    size.symbol = "BTCUSDT";
    size.equity = "10000";
    size.entry = "65000";
    size.stop = "64870";
    size.target = "65260";
    size.confidence = 1.0;
    size.win_probability = 0.6;
    size.avg_win = 0.01;
    size.avg_loss = 0.01;
    return options;
  }

  // Runs run_quant_size; returns the JSON and checks the exit status.
  std::string sized(const QuantOptions& options, int expected_status,
                    const Config& config = Config{}) const {
    std::ostringstream out;
    EXPECT_EQ(kinetic::quant::run_quant_size(options, config, out), expected_status);
    return out.str();
  }

  // The same request sized directly, to check the tool adds and loses nothing.
  std::string direct(const QuantOptions& options, const Config& config = Config{}) const {
    const std::vector<kinetic::risk::InstrumentRules> rules =
        kinetic::feed::parse_instruments_info(kInstrumentsJson,
                                              kinetic::feed::UnrepresentablePolicy::skip)
            .rules;
    const kinetic::risk::InstrumentRules* btc = kinetic::feed::find(rules, "BTCUSDT");
    EXPECT_NE(btc, nullptr);
    return kinetic::quant::size_decision_json(
        kinetic::risk::size_order(kinetic::quant::size_request(options), *btc,
                                  kinetic::quant::sizing_params(options, config)));
  }

  std::filesystem::path dir_;
  std::string instruments_;
};

TEST_F(QuantSize, RiskFractionBoundLong) {
  // By hand: Kelly p − q·a/b = 0.2, half Kelly 0.1 → budget 1000 USDT; 2 % of 10000 = 200 USDT
  // binds. 200 / 130 = 1.53846… → 1.538 (qtyStep 0.001). The margin bound 10000 × 10 / 65000
  // is the same 1.53846… (a tie; the earlier limit, risk_fraction, names the bound).
  // Notional 65000 × 1.538 = 99970; leverage ≥ 99970 / 10000 = 9.997 → 10.00 on the 0.01 grid
  // from 1; risk 1.538 × 130 = 199.94.
  const QuantOptions options = example();
  const std::string json = sized(options, 0);
  EXPECT_EQ(json,
            "{\"qty\": \"1.538\", \"leverage\": \"10\", \"notional\": \"99970\", "
            "\"risk_amount\": \"199.94\", \"bound_by\": \"risk_fraction\", \"accepted\": true, "
            "\"reason\": \"none\"}\n");
  EXPECT_EQ(json, direct(options));
  const kinetic::risk::SizeRequest request = kinetic::quant::size_request(options);
  EXPECT_EQ(request.side, kinetic::Side::buy);
  EXPECT_EQ(request.available_margin, kinetic::Amount::from_units(10000)) << "margin = equity";
  EXPECT_EQ(request.type, kinetic::OrderType::limit);
}

TEST_F(QuantSize, StopAboveTheEntrySizesAShort) {
  QuantOptions options = example();
  options.size.stop = "65130";
  options.size.target = "64740";
  EXPECT_EQ(kinetic::quant::size_request(options).side, kinetic::Side::sell);
  EXPECT_EQ(sized(options, 0),
            "{\"qty\": \"1.538\", \"leverage\": \"10\", \"notional\": \"99970\", "
            "\"risk_amount\": \"199.94\", \"bound_by\": \"risk_fraction\", \"accepted\": true, "
            "\"reason\": \"none\"}\n");
}

TEST_F(QuantSize, KellyBound) {
  // p = 0.51, b = a: full Kelly 0.02, half 0.01 → budget 100 USDT < 200. 100 / 130 = 0.7692…
  // → 0.769; notional 49985; leverage ≥ 4.9985 → 5.00; risk 0.769 × 130 = 99.97.
  QuantOptions options = example();
  options.size.win_probability = 0.51;
  const std::string json = sized(options, 0);
  EXPECT_EQ(json,
            "{\"qty\": \"0.769\", \"leverage\": \"5\", \"notional\": \"49985\", "
            "\"risk_amount\": \"99.97\", \"bound_by\": \"kelly\", \"accepted\": true, "
            "\"reason\": \"none\"}\n");
  EXPECT_EQ(json, direct(options));
}

TEST_F(QuantSize, MarginBoundAndMarketOrderMaximum) {
  // --margin 1000: 1000 × 10 / 65000 = 0.15384… → 0.153; 65000 × 0.153 = 9945 needs 9.945 →
  // 9.95; risk 0.153 × 130 = 19.89.
  QuantOptions options = example();
  options.size.margin = "1000";
  EXPECT_EQ(sized(options, 0),
            "{\"qty\": \"0.153\", \"leverage\": \"9.95\", \"notional\": \"9945\", "
            "\"risk_amount\": \"19.89\", \"bound_by\": \"margin\", \"accepted\": true, "
            "\"reason\": \"none\"}\n");

  // Equity 1e8: 2 % / 130 = 15384.6 → the instrument's maxima decide: 1190 for a limit order,
  // maxMktOrderQty 500 for a market order. Leverage 1 (the minimum) covers both.
  options = example();
  options.size.equity = "100000000";
  EXPECT_EQ(sized(options, 0),
            "{\"qty\": \"1190\", \"leverage\": \"1\", \"notional\": \"77350000\", "
            "\"risk_amount\": \"154700\", \"bound_by\": \"max_order_qty\", \"accepted\": true, "
            "\"reason\": \"none\"}\n");
  options.size.type = kinetic::OrderType::market;
  const std::string market = sized(options, 0);
  EXPECT_EQ(market,
            "{\"qty\": \"500\", \"leverage\": \"1\", \"notional\": \"32500000\", "
            "\"risk_amount\": \"65000\", \"bound_by\": \"max_order_qty\", \"accepted\": true, "
            "\"reason\": \"none\"}\n");
  EXPECT_EQ(market, direct(options));
}

TEST_F(QuantSize, RewardRiskTooLowIsRefusedWithStatus3) {
  // Target 100 above the entry against a 130 stop: R/R 0.77 < 1.5.
  QuantOptions options = example();
  options.size.target = "65100";
  EXPECT_EQ(sized(options, kinetic::quant::kSizeRefusedExitStatus),
            "{\"qty\": \"0\", \"leverage\": \"0\", \"notional\": \"0\", \"risk_amount\": \"0\", "
            "\"bound_by\": \"none\", \"accepted\": false, \"reason\": \"reward_risk_too_low\"}\n");
  EXPECT_EQ(kinetic::quant::kSizeRefusedExitStatus, 3);
}

TEST_F(QuantSize, OneDollarEquityIsBelowTheMinimumQuantity) {
  // 2 % of 1 USDT = 0.02 USDT buys 0.00015 BTC of risk at 130: under one 0.001 step, and the
  // minimum 0.001 would risk 0.13 USDT > 0.02, so it is not raised to the minimum.
  QuantOptions options = example();
  options.size.equity = "1";
  const std::string json = sized(options, 3);
  EXPECT_EQ(json,
            "{\"qty\": \"0\", \"leverage\": \"0\", \"notional\": \"0\", \"risk_amount\": \"0\", "
            "\"bound_by\": \"none\", \"accepted\": false, \"reason\": \"qty_below_min\"}\n");
  EXPECT_EQ(json, direct(options));
}

TEST_F(QuantSize, TargetOnTheWrongSideIsTheSizersInvalidStop) {
  QuantOptions options = example();
  options.size.target = "64000";  // a long whose target is below the entry
  EXPECT_NE(sized(options, 3).find("\"reason\": \"invalid_stop\""), std::string::npos);
}

TEST_F(QuantSize, RiskDefaultsComeFromTheConfigurationAndOptionsOverrideThem) {
  Config half_percent;
  half_percent.risk.max_risk_per_trade = 0.005;  // 50 USDT / 130 = 0.384
  QuantOptions options = example();
  const std::string from_config = sized(options, 0, half_percent);
  EXPECT_NE(from_config.find("\"qty\": \"0.384\""), std::string::npos) << from_config;
  QuantOptions with_option = example();
  with_option.size.risk_fraction = 0.005;
  EXPECT_EQ(sized(with_option, 0), from_config);
  with_option.size.risk_fraction = 0.02;
  EXPECT_EQ(sized(with_option, 0, half_percent), sized(example(), 0)) << "the option wins";

  Config quarter_kelly;
  quarter_kelly.risk.kelly_fraction = 0.05;  // 0.05 × 0.2 = 0.01 → 100 USDT → kelly bound
  with_option = example();
  with_option.size.kelly_multiplier = 0.05;
  EXPECT_EQ(sized(example(), 0, quarter_kelly), sized(with_option, 0));
  EXPECT_NE(sized(with_option, 0).find("\"bound_by\": \"kelly\""), std::string::npos);

  Config low_leverage;
  low_leverage.risk.max_leverage = 5.0;  // margin bound 10000 × 5 / 65000 = 0.769
  with_option = example();
  with_option.size.max_leverage = 5.0;
  const std::string capped = sized(with_option, 0);
  EXPECT_EQ(sized(example(), 0, low_leverage), capped);
  EXPECT_EQ(capped,
            "{\"qty\": \"0.769\", \"leverage\": \"5\", \"notional\": \"49985\", "
            "\"risk_amount\": \"99.97\", \"bound_by\": \"margin\", \"accepted\": true, "
            "\"reason\": \"none\"}\n");

  Config strict;
  strict.risk.min_reward_risk = 3.0;  // R/R 2 is not enough
  EXPECT_NE(sized(example(), 3, strict).find("reward_risk_too_low"), std::string::npos);
}

TEST_F(QuantSize, OptionsOutOfRangeNameTheOption) {
  const auto refused = [&](const QuantOptions& options, std::string_view option) {
    std::ostringstream out;
    try {
      (void)kinetic::quant::run_quant_size(options, Config{}, out);
      ADD_FAILURE() << option << " accepted";
    } catch (const QuantOptionError& error) {
      const std::string what = error.what();
      EXPECT_EQ(what.rfind(std::string(option) + " must", 0), 0U) << what;
    }
    EXPECT_EQ(out.str(), "") << "nothing written for " << option;
    QuantOptions checked = options;
    EXPECT_THROW(kinetic::quant::check_parameters(checked, Config{}), QuantOptionError) << option;
  };
  const auto with = [&](auto&& change) {
    QuantOptions options = example();
    change(options.size);
    return options;
  };
  using kinetic::quant::SizeOptions;
  refused(with([](SizeOptions& s) { s.risk_fraction = 0.03; }), "--risk-fraction");
  refused(with([](SizeOptions& s) { s.risk_fraction = 0.0; }), "--risk-fraction");
  refused(with([](SizeOptions& s) { s.risk_fraction = std::nan(""); }), "--risk-fraction");
  refused(with([](SizeOptions& s) { s.kelly_multiplier = 0.0; }), "--kelly-multiplier");
  refused(with([](SizeOptions& s) { s.kelly_multiplier = 1.5; }), "--kelly-multiplier");
  refused(with([](SizeOptions& s) { s.max_leverage = 0.5; }), "--max-leverage");
  refused(with([](SizeOptions& s) { s.max_leverage = INFINITY; }), "--max-leverage");
  refused(with([](SizeOptions& s) { s.confidence = 1.5; }), "--confidence");
  refused(with([](SizeOptions& s) { s.confidence = -0.1; }), "--confidence");
  refused(with([](SizeOptions& s) { s.confidence.reset(); }), "--confidence");
  refused(with([](SizeOptions& s) { s.win_probability = 1.01; }), "--win-prob");
  refused(with([](SizeOptions& s) { s.win_probability = std::nan(""); }), "--win-prob");
  refused(with([](SizeOptions& s) { s.avg_win = 0.0; }), "--avg-win");
  refused(with([](SizeOptions& s) { s.avg_win = INFINITY; }), "--avg-win");
  refused(with([](SizeOptions& s) { s.avg_loss = -0.01; }), "--avg-loss");
  refused(with([](SizeOptions& s) { s.equity = "abc"; }), "--equity");
  refused(with([](SizeOptions& s) { s.equity = "0"; }), "--equity");
  refused(with([](SizeOptions& s) { s.equity = ""; }), "--equity");
  refused(with([](SizeOptions& s) { s.equity = "1e4"; }), "--equity");
  refused(with([](SizeOptions& s) { s.entry = "65000.000000001"; }), "--entry");
  refused(with([](SizeOptions& s) { s.stop = "-1"; }), "--stop");
  refused(with([](SizeOptions& s) { s.target = "99999999999999"; }), "--target");
  refused(with([](SizeOptions& s) { s.margin = "-1"; }), "--margin");
  refused(with([](SizeOptions& s) { s.stop = "65000.0"; }), "--stop");  // equal to the entry

  const auto message = [&](const QuantOptions& options) {
    try {
      (void)kinetic::quant::size_request(options);
    } catch (const QuantOptionError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_EQ(message(with([](SizeOptions& s) { s.entry = "65000.123456789"; })),
            "--entry must be a decimal > 0 with at most 8 fraction digits (got "
            "\"65000.123456789\": too_many_fraction_digits)");
  EXPECT_EQ(message(with([](SizeOptions& s) { s.stop = "65000"; })),
            "--stop must differ from --entry: below it for a long, above it for a short (both "
            "65000)");
  // A margin of 0 is a valid input: the sizer refuses it.
  QuantOptions no_margin = with([](SizeOptions& s) { s.margin = "0"; });
  EXPECT_NE(sized(no_margin, 3).find("insufficient_margin"), std::string::npos);
}

TEST_F(QuantSize, UnknownOrSkippedSymbolIsNamed) {
  const auto error_of = [&](const std::string& symbol) {
    QuantOptions options = example();
    options.size.symbol = symbol;
    std::ostringstream out;
    try {
      (void)kinetic::quant::run_quant_size(options, Config{}, out);
    } catch (const std::runtime_error& error) {
      EXPECT_EQ(out.str(), "");
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("ETHUSDT"),
            instruments_ +
                ": --symbol ETHUSDT not found among its 1 symbols (category linear); 1 more were "
                "skipped as not exactly representable");
  const std::string skipped = error_of("TINYUSDT");
  EXPECT_EQ(skipped.rfind(instruments_ + ": --symbol TINYUSDT cannot be represented exactly and "
                                         "was skipped (",
                          0),
            0U)
      << skipped;
  EXPECT_NE(skipped.find("tickSize"), std::string::npos) << skipped;

  QuantOptions missing_file = example();
  missing_file.size.instruments = (dir_ / "absent.json").string();
  std::ostringstream out;
  EXPECT_THROW((void)kinetic::quant::run_quant_size(missing_file, Config{}, out),
               std::runtime_error);
}

TEST_F(QuantSize, CliParsesEveryOptionAndRunsWithOut) {
  CLI::App app;
  QuantOptions options;
  CLI::App* quant = kinetic::quant::add_quant_command(app, options);
  const std::string out_path = (dir_ / "size.json").string();
  // CLI11 takes the vector in reverse order.
  // Every option, in command-line order; CLI11 consumes the vector, in reverse order.
  const auto arguments = [&](std::string_view leave_out) {
    const std::vector<std::pair<std::string, std::string>> pairs{{"--instruments", instruments_},
                                                                 {"--symbol", "BTCUSDT"},
                                                                 {"--equity", "10000"},
                                                                 {"--entry", "65000"},
                                                                 {"--stop", "64870"},
                                                                 {"--target", "65100"},
                                                                 {"--confidence", "0.5"},
                                                                 {"--win-prob", "0.6"},
                                                                 {"--avg-win", "0.02"},
                                                                 {"--avg-loss", "0.01"},
                                                                 {"--max-leverage", "3"},
                                                                 {"--risk-fraction", "0.01"},
                                                                 {"--kelly-multiplier", "0.25"},
                                                                 {"--type", "market"},
                                                                 {"--margin", "500.5"},
                                                                 {"--out", out_path}};
    std::vector<std::string> args{"quant", "size"};
    for (const auto& [name, value] : pairs) {
      if (name == leave_out)
        continue;
      args.push_back(name);
      args.push_back(value);
    }
    std::reverse(args.begin(), args.end());
    return args;
  };
  app.parse(arguments(""));
  EXPECT_TRUE(quant->parsed());
  EXPECT_EQ(options.command, QuantCommand::size);
  const kinetic::quant::SizeOptions& size = options.size;
  EXPECT_EQ(size.instruments, instruments_);
  EXPECT_EQ(size.symbol, "BTCUSDT");
  EXPECT_EQ(size.equity, "10000");
  EXPECT_EQ(size.entry, "65000");
  EXPECT_EQ(size.stop, "64870");
  EXPECT_EQ(size.target, "65100");
  EXPECT_EQ(size.confidence, 0.5);
  EXPECT_EQ(size.win_probability, 0.6);
  EXPECT_EQ(size.avg_win, 0.02);
  EXPECT_EQ(size.avg_loss, 0.01);
  EXPECT_EQ(size.max_leverage, 3.0);
  EXPECT_EQ(size.risk_fraction, 0.01);
  EXPECT_EQ(size.kelly_multiplier, 0.25);
  EXPECT_EQ(size.type, kinetic::OrderType::market);
  EXPECT_EQ(size.margin, "500.5");
  EXPECT_EQ(options.output, out_path);

  // R/R 100/130 is refused: status 3, and the JSON is still written (complete) to --out.
  EXPECT_EQ(kinetic::quant::run_quant_command(options), 3);
  EXPECT_EQ(read_file(out_path),
            "{\"qty\": \"0\", \"leverage\": \"0\", \"notional\": \"0\", \"risk_amount\": \"0\", "
            "\"bound_by\": \"none\", \"accepted\": false, \"reason\": \"reward_risk_too_low\"}\n");
  EXPECT_FALSE(std::filesystem::exists(out_path + ".tmp"));

  // A required option missing is a parse error.
  CLI::App app2;
  QuantOptions options2;
  (void)kinetic::quant::add_quant_command(app2, options2);
  EXPECT_THROW(app2.parse(arguments("--symbol")), CLI::ParseError);
  // An unknown --type too.
  CLI::App app3;
  QuantOptions options3;
  (void)kinetic::quant::add_quant_command(app3, options3);
  std::vector<std::string> bad_type = {"quant", "size", "--type", "stop"};
  std::reverse(bad_type.begin(), bad_type.end());
  EXPECT_THROW(app3.parse(bad_type), CLI::ParseError);
}

TEST_F(QuantSize, RunQuantRefusesTheSizeCommand) {
  std::istringstream in("timestamp,price\n1,1\n");
  std::ostringstream out;
  EXPECT_THROW((void)run_quant(example(), Config{}, in, out), std::invalid_argument);
  EXPECT_EQ(kinetic::quant::output_header(QuantCommand::size), "");
}

}  // namespace
