#pragma once
// CalculusEngine: the whole per-tick update of the calculus strategy for one symbol.
//
// Every accepted trade goes, in this order, through
//   1. the derivative estimator (smoothed price, finite-difference v and a) and the
//      exponentially weighted spread of its v and a, which stands in for their standard
//      errors (see "Finite-difference noise" below);
//   2. the tick-level Kalman filter [P, v, a];
//   3. the 6-case signal of each tick-level source (classification, SNR, confidence);
//   4. the resampled sources: the trade closes a 1 s and a 1 min bar when it falls in a later
//      bucket; a closed bar's last price, stamped at the bar's end, updates that timeframe's
//      Kalman filter and its signal, and 1 s bar closes update the drift estimators (ticks
//      milliseconds apart would measure bid-ask bounce, not drift; see drift.hpp);
//   5. the signal coordinator (weighted score, confidence, agreement);
//   6. the Taylor forecast of the tick-level Kalman filter at the configured horizon.
// The drift alignment check (entry_permitted) is evaluated on demand, when the caller is
// about to enter, since it needs a square root and a division per horizon.
//
// Sources (their weights are configuration; a zero weight leaves a source out of the
// coordinator, but it is still computed so that it can be inspected):
//   tick_derivatives  finite differences of the smoothed tick price
//   tick_kalman       Kalman filter on every tick
//   kalman_1s         Kalman filter on 1-second bar closes
//   kalman_1m         Kalman filter on 1-minute bar closes
// All three Kalman filters share one parameter set: the model is in continuous time (q is a
// jerk density per second, r the variance of one trade print), so it holds on any sampling.
//
// Finite-difference noise. Finite differences carry no covariance, so the SNR of the
// tick_derivatives source uses the exponentially weighted standard deviation of its own v
// (and a) over the last ~1/derivative_noise_alpha distinct timestamps: |v| / σv is then how
// far the current velocity stands out from its recent spread. One sample per distinct
// timestamp, so a burst of trades in one millisecond does not shrink the spread. Until it
// holds ⌈1/α⌉ samples the source reports no signal (its noise is not yet known).
//
// Time is the exchange timestamp in integer nanoseconds; internally seconds as a double
// from the first accepted tick, exact for runs up to 104 days.
//
// Errors: a non-finite or non-positive price, or a timestamp earlier than the newest
// accepted one, returns a code and changes nothing (every check happens before the first
// estimator is touched, so the estimators never disagree about which ticks they saw).

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "kinetic/core/math/derivatives.hpp"
#include "kinetic/core/math/drift.hpp"
#include "kinetic/core/math/ew_moments.hpp"
#include "kinetic/core/math/kalman.hpp"
#include "kinetic/core/strategy/signal.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic {
struct Config;
}

namespace kinetic::strategy {

/// The coordinator's sources, in the order of CalculusParams::weights.
enum class Source : std::uint8_t { tick_derivatives = 0, tick_kalman, kalman_1s, kalman_1m };
inline constexpr std::size_t kSourceCount = 4;

[[nodiscard]] constexpr std::string_view to_string(Source source) noexcept {
  switch (source) {
    case Source::tick_derivatives:
      return "tick_derivatives";
    case Source::tick_kalman:
      return "tick_kalman";
    case Source::kalman_1s:
      return "kalman_1s";
    case Source::kalman_1m:
      return "kalman_1m";
  }
  return "unknown";
}

/// Why CalculusEngine::update refused a tick; `ok` (zero) means it was accepted.
enum class CalculusError : std::uint8_t {
  ok = 0,
  non_finite_price,     ///< price is NaN or infinite
  non_positive_price,   ///< price ≤ 0
  time_went_backwards,  ///< timestamp earlier than the newest accepted tick
};

/// Every parameter of the engine. Plain aggregate; see calculus_params(Config) for the
/// configuration keys.
struct CalculusParams {
  math::DerivativeParams derivatives{};
  double derivative_noise_alpha = 0.01;  ///< weight of one sample in the spread of FD v, a
  math::KalmanParams kalman{};
  SignalParams signal{};
  std::array<double, kSourceCount> weights{1.0, 1.0, 1.0, 1.0};  ///< by Source
  double forecast_horizon_s = 1.0;
  std::array<double, 2> drift_horizons_s{3600.0, 86400.0};
  double drift_t_threshold = 2.0;  ///< |t| at which a drift vetoes an opposing entry

  /// True when every field is in range (the estimators' own checks, weights finite, ≥ 0,
  /// not all zero, positive horizons).
  [[nodiscard]] bool valid() const noexcept;
};

/// The engine's parameters from the [strategy] and [kalman] sections. Start-up only.
[[nodiscard]] CalculusParams calculus_params(const Config& config);

/// One closed bar of a resampled timeframe.
struct ClosedBar {
  TimestampNs end_ns = 0;  ///< the end of the bar's bucket (exclusive)
  double close = 0.0;      ///< the last price of the bar
};

/// Groups ticks into fixed buckets of `period_ns` (aligned to the Unix epoch) and reports a
/// bar when a tick falls into a later bucket. Value type, no allocation, one thread. A tick
/// inside the current bucket costs one comparison; the division that finds a new bucket runs
/// once per bar.
class BarResampler {
 public:
  explicit constexpr BarResampler(TimestampNs period_ns) noexcept : period_ns_(period_ns) {}

  /// Adds a tick (time non-decreasing, checked by the caller). Returns true and fills
  /// `closed` when the tick closed the previous bar.
  [[nodiscard]] constexpr bool add(TimestampNs time_ns, double price, ClosedBar& closed) noexcept {
    if (time_ns < bucket_end_ns_) [[likely]] {
      last_price_ = price;
      return false;
    }
    const bool closes = has_bar_;
    if (closes) {
      closed.end_ns = bucket_end_ns_;
      closed.close = last_price_;
    }
    bucket_end_ns_ = (floor_div(time_ns, period_ns_) + 1) * period_ns_;
    last_price_ = price;
    has_bar_ = true;
    return closes;
  }

  [[nodiscard]] constexpr TimestampNs period_ns() const noexcept { return period_ns_; }

 private:
  [[nodiscard]] static constexpr TimestampNs floor_div(TimestampNs a, TimestampNs b) noexcept {
    const TimestampNs q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
  }

  TimestampNs period_ns_;
  // Before the first tick every time is "past the end", so the first tick opens a bar.
  TimestampNs bucket_end_ns_ = std::numeric_limits<TimestampNs>::min();
  double last_price_ = 0.0;
  bool has_bar_ = false;
};

/// The calculus strategy state of one symbol (see the file comment). Value type of fixed
/// size (about 1 KB): construction allocates nothing and neither does anything after it.
/// Not thread-safe: one thread (the strategy thread) updates and reads it.
class CalculusEngine {
 public:
  static constexpr TimestampNs kSecondNs = 1'000'000'000;
  static constexpr TimestampNs kMinuteNs = 60 * kSecondNs;

  /// Precondition: params.valid() (asserted in debug builds).
  explicit CalculusEngine(const CalculusParams& params) noexcept;

  /// Adds a trade at exchange time `time_ns` (ns since the Unix epoch). On error nothing
  /// changes.
  [[nodiscard]] CalculusError update(TimestampNs time_ns, double price) noexcept {
    if (!std::isfinite(price))
      return CalculusError::non_finite_price;
    if (!(price > 0.0))
      return CalculusError::non_positive_price;
    if (ticks_ != 0 && time_ns < last_time_ns_)
      return CalculusError::time_went_backwards;
    if (ticks_ == 0)
      origin_ns_ = time_ns;
    const bool new_timestamp = ticks_ == 0 || time_ns != last_time_ns_;
    last_time_ns_ = time_ns;
    ++ticks_;
    const double t = seconds_since_origin(time_ns);

    // The checks above are a superset of each estimator's, so none of these can fail.
    (void)derivatives_.update(t, price);
    (void)tick_kalman_.update(t, price);
    if (new_timestamp && derivatives_.ready()) {
      fd_velocity_spread_.add(derivatives_.velocity());
      fd_acceleration_spread_.add(derivatives_.acceleration());
    }
    // Until the spread has seen about one memory's worth of samples (1/α) it is no estimate
    // of the noise (one sample gives 0, hence an infinite SNR); an infinite variance puts the
    // source in the dead band with no confidence meanwhile.
    const bool spread_ready = fd_velocity_spread_.count() >= spread_warmup_samples_;
    constexpr double kUnknown = std::numeric_limits<double>::infinity();
    signals_[index(Source::tick_derivatives)] = evaluate_by_variance(
        derivatives_.velocity(), derivatives_.acceleration(),
        spread_ready ? fd_velocity_spread_.variance() : kUnknown,
        spread_ready ? fd_acceleration_spread_.variance() : kUnknown, params_.signal);
    signals_[index(Source::tick_kalman)] = evaluate_kalman(tick_kalman_);

    ClosedBar bar;
    if (bars_1s_.add(time_ns, price, bar)) [[unlikely]]
      on_second_bar(bar);
    if (bars_1m_.add(time_ns, price, bar)) [[unlikely]]
      on_minute_bar(bar);

    // Scores and confidences from evaluate() are always in range. The resampled sources
    // submit when their bar closes.
    (void)coordinator_.submit(index(Source::tick_derivatives),
                              signals_[index(Source::tick_derivatives)]);
    (void)coordinator_.submit(index(Source::tick_kalman), signals_[index(Source::tick_kalman)]);
    combined_ = coordinator_.combined();
    forecast_ = tick_kalman_.forecast(params_.forecast_horizon_s).value();
    return CalculusError::ok;
  }

  /// Whether an entry on `side` is consistent with every drift horizon (no significant
  /// opposing drift); see DriftAlignment.
  [[nodiscard]] math::AlignmentVerdict entry_permitted(math::EntrySide side) const noexcept {
    return alignment_.check(side, drift_);
  }

  /// The newest signal of one source (none before its first estimate).
  [[nodiscard]] const Signal& signal(Source source) const noexcept {
    return signals_[index(source)];
  }
  [[nodiscard]] const std::array<Signal, kSourceCount>& signals() const noexcept {
    return signals_;
  }
  [[nodiscard]] const CombinedSignal& combined() const noexcept { return combined_; }
  /// Taylor forecast of the tick-level Kalman filter at forecast_horizon_s.
  [[nodiscard]] const math::KalmanForecast& forecast() const noexcept { return forecast_; }

  [[nodiscard]] const math::DerivativeEstimator& derivatives() const noexcept {
    return derivatives_;
  }
  /// Spread (EW standard deviation) of the finite-difference velocity and acceleration.
  [[nodiscard]] double derivative_velocity_sigma() const noexcept {
    return fd_velocity_spread_.stddev();
  }
  [[nodiscard]] double derivative_acceleration_sigma() const noexcept {
    return fd_acceleration_spread_.stddev();
  }
  /// The Kalman filter of a Kalman source; the tick-level one for tick_derivatives.
  [[nodiscard]] const math::KinematicKalman& kalman(
      Source source = Source::tick_kalman) const noexcept {
    switch (source) {
      case Source::kalman_1s:
        return kalman_1s_;
      case Source::kalman_1m:
        return kalman_1m_;
      case Source::tick_derivatives:
      case Source::tick_kalman:
        break;
    }
    return tick_kalman_;
  }
  /// The drift estimators, one per configured horizon, fed with 1 s bar closes.
  [[nodiscard]] std::span<const math::DriftEstimator> drift() const noexcept { return drift_; }

  /// Seconds from the first accepted tick to `time_ns` (the engine's time axis).
  [[nodiscard]] double seconds_since_origin(TimestampNs time_ns) const noexcept {
    // Unsigned, so that no pair of timestamps can overflow; time_ns ≥ origin_ns_ for every
    // accepted tick.
    return static_cast<double>(static_cast<std::uint64_t>(time_ns) -
                               static_cast<std::uint64_t>(origin_ns_)) *
           1e-9;
  }
  [[nodiscard]] std::uint64_t ticks() const noexcept { return ticks_; }
  [[nodiscard]] TimestampNs last_time_ns() const noexcept { return last_time_ns_; }
  [[nodiscard]] const CalculusParams& params() const noexcept { return params_; }

 private:
  static constexpr std::size_t index(Source source) noexcept {
    return static_cast<std::size_t>(source);
  }

  [[nodiscard]] Signal evaluate_kalman(const math::KinematicKalman& filter) const noexcept {
    const math::KinematicKalman::Matrix& covariance = filter.covariance();
    return evaluate_by_variance(filter.velocity(), filter.acceleration(), covariance(1, 1),
                                covariance(2, 2), params_.signal);
  }

  void on_second_bar(const ClosedBar& bar) noexcept;
  void on_minute_bar(const ClosedBar& bar) noexcept;

  CalculusParams params_;
  math::DerivativeEstimator derivatives_;
  math::EwMoments fd_velocity_spread_;
  math::EwMoments fd_acceleration_spread_;
  std::uint64_t spread_warmup_samples_;  ///< ⌈1/derivative_noise_alpha⌉
  math::KinematicKalman tick_kalman_;
  math::KinematicKalman kalman_1s_;
  math::KinematicKalman kalman_1m_;
  BarResampler bars_1s_{kSecondNs};
  BarResampler bars_1m_{kMinuteNs};
  std::array<math::DriftEstimator, 2> drift_;
  math::DriftAlignment alignment_;
  SignalCoordinator<kSourceCount> coordinator_;
  std::array<Signal, kSourceCount> signals_{};
  CombinedSignal combined_{};
  math::KalmanForecast forecast_{};
  TimestampNs origin_ns_ = 0;
  TimestampNs last_time_ns_ = 0;
  std::uint64_t ticks_ = 0;
};

}  // namespace kinetic::strategy
