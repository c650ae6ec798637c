#pragma once
// `kinetic quant`: runs one of the engine's estimators over a price CSV and writes what it
// computes, row by row, as CSV, so that anyone can check the mathematics from a shell.
//
// Input: a CSV with a header read by feed::PriceCsvReader (Bybit klines, trade CSVs; see
// price_csv.hpp for the accepted forms). The timestamps must not decrease. The estimators'
// time axis is seconds since the first row, computed from the exact int64 nanosecond
// difference, so precision does not depend on the epoch.
//
// Output (one row per input row, after a header):
//   kalman       timestamp,price,dt,p_hat,v,a,sigma_p,sigma_v,sigma_a,innovation,nis
//   derivatives  timestamp,price,dt,smoothed,v,a
//   signals      timestamp,price,v,a,snr,case,action,confidence
//   forecast     timestamp,price,forecast,forecast_sigma
//   drift        timestamp,price,drift,t_stat,flip_probability
// Units: dt seconds since the previous row (0 on the first); prices in the input's unit; v
// price/s; a price/s²; sigma_* standard deviations in the same units; drift mean log-return
// per second.
//
// Text rules: `timestamp` and `price` echo the input fields exactly (quoted only when they
// contain a comma, a quote or a line break). Numbers are the shortest text that reads back
// as the same double (std::to_chars). An EMPTY field means "not yet defined":
//   derivatives / signals(tick_derivatives): v and a until three distinct timestamps;
//   signals(kalman_1s / kalman_1m): v and a until the source's first bar has closed;
//   drift: drift until time has passed; t_stat and flip_probability until the variance has
//     one degree of freedom.
// Infinity is written as `inf` / `-inf` where it is the defined answer: t_stat for a noiseless
// trend (zero standard error), and snr (always ≥ 0) when the source's standard deviation is 0
// with a non-zero estimate (signal.hpp); the tick_derivatives source does this on its first
// ready tick, its spread having one sample. No other field is ever non-finite: a value that
// overflows stops the run with an error naming the line.
//
// `quant size` is different: it reads no CSV. It sizes one order with the risk manager's sizer
// (risk::size_order) against an instrument's exchange rules from an instruments-info JSON file
// and prints one JSON object; see run_quant_size.
//
// Errors: bad input throws feed::CsvError ("line N: reason"), including a timestamp earlier
// than the previous row; an option out of range throws QuantOptionError naming the option and
// the allowed range. The CLI prefixes input errors with the file name and never leaves a
// half-written --out file behind.

#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>

#include "kinetic/core/risk/sizing.hpp"
#include "kinetic/core/strategy/calculus_engine.hpp"
#include "kinetic/core/types.hpp"

namespace CLI {
class App;
}

namespace kinetic {
struct Config;
}

namespace kinetic::quant {

/// The quant subcommands.
enum class QuantCommand : std::uint8_t { kalman, derivatives, signals, forecast, drift, size };

/// Exit status of `quant size` when the sizer refuses the order (the JSON is still printed).
inline constexpr int kSizeRefusedExitStatus = 3;

/// The inputs of `quant size`. Plain aggregate. Prices and money stay the text given, so that
/// they are parsed exactly (Price/Amount::parse) and a bad one is refused naming its option;
/// an empty optional is "not given" (required ones are then refused, the rest come from
/// [risk] of the configuration).
struct SizeOptions {
  std::string instruments;           ///< instruments-info response file (required)
  std::string symbol;                ///< required
  std::string equity;                ///< account equity, quote currency, > 0
  std::string entry;                 ///< expected fill price, > 0
  std::string stop;                  ///< stop price: below the entry for a long, above for a short
  std::string target;                ///< take-profit price
  std::string margin;                ///< available margin, >= 0; empty: the equity
  std::optional<double> confidence;  ///< [0, 1], required
  std::optional<double> win_probability;   ///< [0, 1], required
  std::optional<double> avg_win;           ///< > 0, required
  std::optional<double> avg_loss;          ///< > 0, required
  std::optional<double> max_leverage;      ///< [1, 1e6]; default [risk] max_leverage
  std::optional<double> risk_fraction;     ///< (0, 0.02]; default [risk] max_risk_per_trade
  std::optional<double> kelly_multiplier;  ///< (0, 1]; default [risk] kelly_fraction
  OrderType type = OrderType::limit;
};

/// Everything the command line can say. Plain aggregate; an empty optional means "take the
/// value from the configuration".
struct QuantOptions {
  QuantCommand command = QuantCommand::kalman;
  std::string input = "-";  ///< file to read; "-" is standard input (CLI only)
  std::string output;       ///< --out file; empty is standard output (CLI only)
  std::string column;       ///< price column; empty: `price`, else `close`
  std::string config_file;  ///< --config; empty: defaults plus KINETIC_* environment (CLI only)
  // Kalman overrides ([kalman]).
  std::optional<double> q;
  std::optional<double> r;
  std::optional<double> sigma_v0;
  std::optional<double> sigma_a0;
  bool adaptive = false;  ///< true forces the adaptive r; false keeps [kalman] adaptive
  // Derivative smoothing ([strategy] ema_lambda / half_life_ms); at most one of the two.
  std::optional<double> lambda;
  std::optional<double> half_life_s;
  /// forecast: [strategy] forecast_horizon_ms / 1000; drift: [strategy] drift_short_horizon_s.
  std::optional<double> horizon_s;
  strategy::Source source = strategy::Source::tick_kalman;  ///< signals only
  SizeOptions size;                                         ///< size only
};

/// An option value out of range; what() names the option and the allowed range.
class QuantOptionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The header line (without the line ending) of a command's CSV output; empty for `size`,
/// which prints JSON.
[[nodiscard]] std::string_view output_header(QuantCommand command) noexcept;

/// Parameters after applying the options over the configuration; throw QuantOptionError when
/// a value is out of range.
[[nodiscard]] math::KalmanParams kalman_params(const QuantOptions& options, const Config& config);
[[nodiscard]] math::DerivativeParams derivative_params(const QuantOptions& options,
                                                       const Config& config);
[[nodiscard]] double forecast_horizon_s(const QuantOptions& options, const Config& config);
[[nodiscard]] double drift_horizon_s(const QuantOptions& options, const Config& config);
[[nodiscard]] strategy::CalculusParams signal_params(const QuantOptions& options,
                                                     const Config& config);

/// The sizer's parameters: [risk] of the configuration (risk::risk_params) with the
/// --max-leverage, --risk-fraction and --kelly-multiplier overrides of options.size applied.
/// Throws QuantOptionError naming an override out of range, or the configuration when its own
/// [risk] values do not make valid parameters.
[[nodiscard]] risk::SizingParams sizing_params(const QuantOptions& options, const Config& config);

/// The sizing request of options.size: side from the stop (below the entry: buy; above: sell;
/// equal: refused), prices and money parsed exactly, margin defaulting to the equity. Throws
/// QuantOptionError naming the first option that is missing, not an exact decimal with at most
/// 8 fraction digits, or out of range (prices and equity > 0, margin >= 0, confidence and
/// win probability in [0, 1], average win and loss finite and > 0).
[[nodiscard]] risk::SizeRequest size_request(const QuantOptions& options);

/// One line of JSON (with its '\n'):
///   {"qty": "1.538", "leverage": "10", "notional": "99970", "risk_amount": "199.94",
///    "bound_by": "risk_fraction", "accepted": true, "reason": "none"}
/// Decimals are exact shortest text (Decimal::format; "0" on a rejection), bound_by is
/// to_string(SizeBound) ("none" when rejected), reason to_string(RejectReason) ("none" when
/// accepted).
[[nodiscard]] std::string size_decision_json(const risk::SizeDecision& decision);

/// `quant size`: loads options.size.instruments (load_instruments_info_file, entries that
/// cannot be represented skipped), finds options.size.symbol, sizes the request with
/// risk::size_order and writes size_decision_json to `out`. Returns 0 when the order is
/// accepted and kSizeRefusedExitStatus (3) when the sizer refuses it. Throws QuantOptionError
/// for options (see size_request / sizing_params), feed::InstrumentsError for a bad file and
/// std::runtime_error for an unknown symbol (naming it and the file's symbol count, or the
/// reason it was skipped) or when `out` fails; nothing is written then.
int run_quant_size(const QuantOptions& options, const Config& config, std::ostream& out);

/// Resolves every parameter options.command needs; throws QuantOptionError for the first one
/// out of range.
void check_parameters(const QuantOptions& options, const Config& config);

/// Runs options.command over the CSV on `in` and writes the output CSV to `out`. Ignores
/// options.input, output and config_file (the caller opened the streams and loaded `config`).
/// Returns 0. Throws QuantOptionError, feed::CsvError (bad input, "line N: reason") and
/// std::runtime_error when `out` fails, and std::invalid_argument for QuantCommand::size
/// (which reads no CSV: use run_quant_size). Allocates per row only what the reader does (and the
/// output line buffer while it grows to the longest line).
int run_quant(const QuantOptions& options, const Config& config, std::istream& in,
              std::ostream& out);

/// Adds `quant` and its subcommands to `app`, storing what is parsed in `options` (which must
/// outlive the parse). Returns the `quant` subcommand, to test `parsed()` on.
CLI::App* add_quant_command(CLI::App& app, QuantOptions& options);

/// The CLI's part: loads the configuration (options.config_file plus KINETIC_* environment),
/// opens the input and the output (--out: written to FILE.tmp and renamed on success,
/// removed on failure) and calls run_quant (run_quant_size for `size`, which opens no input).
/// Input errors are rethrown as std::runtime_error "FILE: line N: reason". Returns the exit
/// status.
int run_quant_command(const QuantOptions& options);

}  // namespace kinetic::quant
