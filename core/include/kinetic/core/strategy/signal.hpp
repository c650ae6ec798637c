#pragma once
// The calculus signal: the 6-case decision matrix on the signs of velocity and acceleration,
// an SNR-based confidence, and a coordinator that combines several sources.
//
// Classification (classify). With the dead band b = dead_band_sigma · σv, velocity counts as
// "≈ 0" when |v| ≤ b (the boundary belongs to the dead band). Then
//   v > b,   a > 0  → strong_uptrend           v > b,   a < 0  → decelerating_uptrend
//   v < −b,  a > 0  → decelerating_downtrend   v < −b,  a < 0  → strong_downtrend
//   |v| ≤ b, a > 0  → bottoming_out            |v| ≤ b, a < 0  → topping_out
// a = 0 exactly (with any v) gives `none`: the matrix is defined on the sign of a, and an
// exactly zero acceleration (a constant or linear price) carries no sign. Non-finite v or a,
// or a σv that is NaN or negative, gives `none`. dead_band_sigma ≤ 0 (or NaN) means no band:
// only v = 0 exactly is "≈ 0". σv = +inf puts every v inside the band.
//
// SNR (snr):  snr(x, σ) = |x| / σ  for finite x and finite σ > 0.
//   σ = 0:  +inf when x ≠ 0 (a noiseless non-zero estimate), 0 when x = 0.
//   σ = +inf → 0;  σ < 0 or NaN, or x non-finite → 0 (invalid input earns no confidence).
// Never NaN.
//
// Confidence (confidence):  with threshold T > 0,
//   conf = 1 − T / snr   for snr > T,   0 otherwise
// the share of the measured SNR beyond what the threshold already grants noise: 0 at or
// below T, rising monotonically, 1/2 at snr = 2T, 0.9 at 10T, → 1 as snr → ∞ (snr = +inf
// gives exactly 1). T ≤ 0 or NaN is treated as T = 0 with scale 1: conf = 1 − 1/(1 + snr).
// Always in [0, 1]. (A rational function rather than 1 − exp(−(snr − T)/T): as smooth and
// monotone, and one division instead of a libm call twice per tick.)
//
// Evaluation (evaluate). The SNR that gates a case is that of the quantity whose sign makes
// it: |v|/σv for the four trend cases; for bottoming_out / topping_out v is inside the dead
// band, so its SNR is low by construction, and the gate is |a|/σa instead. The case acts only
// when its SNR is strictly above snr_threshold (conf > 0); otherwise the action is `none`,
// score 0 and confidence 0 (the case and the SNR are still reported).
//
// Actions and scores: to_string gives "NONE", "STRONG_BUY", "BUY", "HOLD", "SELL",
// "STRONG_SELL"; score: strong_buy +1, buy +0.5, hold 0, sell −0.5, strong_sell −1, none 0.
// The case → action mapping (CaseActions) is configuration; its defaults follow the issue:
// strong_uptrend → strong_buy, decelerating_uptrend → hold (hold / exit long),
// decelerating_downtrend → sell, strong_downtrend → strong_sell, bottoming_out → buy,
// topping_out → sell.
//
// Coordinator (SignalCoordinator). Over the sources i that have submitted since the last
// reset and have weight wᵢ > 0:
//   score      = Σ wᵢ sᵢ / Σ wᵢ
//   raw        = √(Σ wᵢ² confᵢ²) / Σ wᵢ²           (the formula, verbatim)
//   agreement  = |Σ wᵢ sign(sᵢ)| / Σ wᵢ            (sign(0) = 0; 1 when all signs agree)
//   confidence = min(raw, 1) · agreement
// The raw formula is not scale-free: it equals conf for one source of weight 1, but it is
// 1/(w√n) for n sources of weight w and confidence 1, so it can exceed 1 (weights < 1) — hence
// the clamp — and it shrinks as more agreeing sources are added with weights ≥ 1. The
// agreement factor is how conflicting signs lower the confidence: two equal-weight sources of
// opposite sign give agreement 0. No eligible source gives score 0, confidence 0.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace kinetic::strategy {

/// The six cells of the decision matrix, plus `none` (no sign information).
enum class TrendCase : std::uint8_t {
  none = 0,
  strong_uptrend,          ///< v > 0, a > 0
  decelerating_uptrend,    ///< v > 0, a < 0
  decelerating_downtrend,  ///< v < 0, a > 0
  strong_downtrend,        ///< v < 0, a < 0
  bottoming_out,           ///< v ≈ 0, a > 0
  topping_out,             ///< v ≈ 0, a < 0
};

[[nodiscard]] constexpr std::string_view to_string(TrendCase trend_case) noexcept {
  switch (trend_case) {
    case TrendCase::none:
      return "none";
    case TrendCase::strong_uptrend:
      return "strong_uptrend";
    case TrendCase::decelerating_uptrend:
      return "decelerating_uptrend";
    case TrendCase::decelerating_downtrend:
      return "decelerating_downtrend";
    case TrendCase::strong_downtrend:
      return "strong_downtrend";
    case TrendCase::bottoming_out:
      return "bottoming_out";
    case TrendCase::topping_out:
      return "topping_out";
  }
  return "unknown";
}

/// What a signal recommends.
enum class SignalAction : std::uint8_t { none = 0, strong_buy, buy, hold, sell, strong_sell };

[[nodiscard]] constexpr std::string_view to_string(SignalAction action) noexcept {
  switch (action) {
    case SignalAction::none:
      return "NONE";
    case SignalAction::strong_buy:
      return "STRONG_BUY";
    case SignalAction::buy:
      return "BUY";
    case SignalAction::hold:
      return "HOLD";
    case SignalAction::sell:
      return "SELL";
    case SignalAction::strong_sell:
      return "STRONG_SELL";
  }
  return "UNKNOWN";
}

/// Numeric score of an action in [−1, +1]; none and hold are 0.
[[nodiscard]] constexpr double score(SignalAction action) noexcept {
  switch (action) {
    case SignalAction::strong_buy:
      return 1.0;
    case SignalAction::buy:
      return 0.5;
    case SignalAction::sell:
      return -0.5;
    case SignalAction::strong_sell:
      return -1.0;
    case SignalAction::none:
    case SignalAction::hold:
      return 0.0;
  }
  return 0.0;
}

/// The case → action mapping (configuration). Plain aggregate; defaults from the issue.
struct CaseActions {
  SignalAction strong_uptrend = SignalAction::strong_buy;
  SignalAction decelerating_uptrend = SignalAction::hold;  ///< hold / exit long
  SignalAction decelerating_downtrend = SignalAction::sell;
  SignalAction strong_downtrend = SignalAction::strong_sell;
  SignalAction bottoming_out = SignalAction::buy;
  SignalAction topping_out = SignalAction::sell;

  /// The configured action of a case; `none` for TrendCase::none.
  [[nodiscard]] constexpr SignalAction for_case(TrendCase trend_case) const noexcept {
    switch (trend_case) {
      case TrendCase::strong_uptrend:
        return strong_uptrend;
      case TrendCase::decelerating_uptrend:
        return decelerating_uptrend;
      case TrendCase::decelerating_downtrend:
        return decelerating_downtrend;
      case TrendCase::strong_downtrend:
        return strong_downtrend;
      case TrendCase::bottoming_out:
        return bottoming_out;
      case TrendCase::topping_out:
        return topping_out;
      case TrendCase::none:
        return SignalAction::none;
    }
    return SignalAction::none;
  }
};

/// Signal parameters ([strategy] in the config). Plain aggregate.
struct SignalParams {
  double snr_threshold = 2.0;    ///< the gating SNR must exceed this to act
  double dead_band_sigma = 1.0;  ///< v ≈ 0 while |v| ≤ dead_band_sigma · σv
  CaseActions actions;
};

namespace detail {
/// The cell for the signs, by table lookup rather than branches: on noisy ticks the signs of
/// v and a change unpredictably, and a mispredicted branch costs more than the whole
/// classification.
[[nodiscard]] inline TrendCase cell(bool defined, bool in_band, bool up, bool rising) noexcept {
  // Index: in_band·4 + up·2 + rising (up does not matter inside the band).
  static constexpr std::array<TrendCase, 8> kCells{
      TrendCase::strong_downtrend,     TrendCase::decelerating_downtrend,
      TrendCase::decelerating_uptrend, TrendCase::strong_uptrend,
      TrendCase::topping_out,          TrendCase::bottoming_out,
      TrendCase::topping_out,          TrendCase::bottoming_out};
  const unsigned index = (in_band ? 4U : 0U) | (up ? 2U : 0U) | (rising ? 1U : 0U);
  return defined ? kCells[index] : TrendCase::none;
}
}  // namespace detail

/// The matrix cell of (v, a); see the file comment for the dead band and the `none` rules.
/// Written without data-dependent branches.
[[nodiscard]] inline TrendCase classify(double velocity, double acceleration, double sigma_v,
                                        double dead_band_sigma) noexcept {
  // Combined as integers: `&` evaluates every term without branching, `&&` need not.
  const unsigned defined = (std::isfinite(velocity) ? 1U : 0U) &
                           (std::isfinite(acceleration) ? 1U : 0U) & (sigma_v >= 0.0 ? 1U : 0U) &
                           (acceleration != 0.0 ? 1U : 0U);
  // band may be +inf (σv = +inf): then everything is inside the dead band, which is the
  // honest answer for a velocity of unknown precision.
  const double band = dead_band_sigma > 0.0 ? dead_band_sigma * sigma_v : 0.0;
  const bool in_band = std::fabs(velocity) <= band;
  return detail::cell(defined != 0U, in_band, velocity > 0.0, acceleration > 0.0);
}

/// classify() with the variance σv² in place of σv, for callers that hold variances (the
/// Kalman covariance, a running variance): the band test is v² ≤ dead_band_sigma² · σv², so
/// no square root is taken. The same cells as classify() except where rounding of the squares
/// decides an exact boundary, or |v| and the band are both below ~1e-154 (their squares
/// underflow to 0 and compare equal).
[[nodiscard]] inline TrendCase classify_by_variance(double velocity, double acceleration,
                                                    double variance_v,
                                                    double dead_band_sigma) noexcept {
  const unsigned defined = (std::isfinite(velocity) ? 1U : 0U) &
                           (std::isfinite(acceleration) ? 1U : 0U) & (variance_v >= 0.0 ? 1U : 0U) &
                           (acceleration != 0.0 ? 1U : 0U);
  const bool in_band = dead_band_sigma > 0.0
                           ? velocity * velocity <= dead_band_sigma * dead_band_sigma * variance_v
                           : velocity == 0.0;
  return detail::cell(defined != 0U, in_band, velocity > 0.0, acceleration > 0.0);
}

/// |x| / σ with the edge cases of the file comment; never NaN, always ≥ 0. Branch-free.
[[nodiscard]] inline double snr(double value, double sigma) noexcept {
  // σ = 0 and x ≠ 0 gives +inf and σ = +inf gives 0 by IEEE division; 0/0 and every invalid
  // input are mapped to 0 by the selection.
  const double ratio = std::fabs(value) / sigma;
  const unsigned defined =
      (std::isfinite(value) ? 1U : 0U) & (sigma >= 0.0 ? 1U : 0U) & (value != 0.0 ? 1U : 0U);
  return defined != 0U ? ratio : 0.0;
}

/// 1 − T/snr above the threshold T, else 0; in [0, 1]. See the file comment for T ≤ 0.
[[nodiscard]] inline double confidence(double signal_to_noise, double threshold) noexcept {
  const double floor = threshold > 0.0 ? threshold : 0.0;
  const double scale = threshold > 0.0 ? threshold : 1.0;
  // scale / (scale + snr − floor) is T/snr for T > 0 and 1/(1 + snr) otherwise; snr = +inf
  // gives 1 − 0. Selected rather than branched on: whether a noisy SNR clears the threshold
  // is a coin toss for the branch predictor.
  const double conf = 1.0 - scale / (scale + (signal_to_noise - floor));
  return signal_to_noise > floor ? conf : 0.0;  // also maps NaN to 0
}

/// The outcome of one evaluation. Plain aggregate.
struct Signal {
  TrendCase trend_case = TrendCase::none;
  SignalAction action = SignalAction::none;
  double snr = 0.0;         ///< the gating SNR (|v|/σv, or |a|/σa for the v ≈ 0 cases)
  double confidence = 0.0;  ///< in [0, 1]; 0 when action is none
  double score = 0.0;       ///< score(action), in [−1, +1]
};

/// evaluate() with the variances σv², σa² in place of the standard deviations: one square
/// root (of the gating variance) instead of two. Negative or NaN variances count as invalid,
/// like a negative or NaN σ. The engine calls this form with the Kalman covariance.
[[nodiscard]] inline Signal evaluate_by_variance(double velocity, double acceleration,
                                                 double variance_v, double variance_a,
                                                 const SignalParams& params) noexcept {
  Signal signal;
  signal.trend_case =
      classify_by_variance(velocity, acceleration, variance_v, params.dead_band_sigma);
  const bool near_zero_velocity =
      signal.trend_case == TrendCase::bottoming_out || signal.trend_case == TrendCase::topping_out;
  const double gate = snr(near_zero_velocity ? acceleration : velocity,
                          std::sqrt(near_zero_velocity ? variance_a : variance_v));
  signal.snr = signal.trend_case == TrendCase::none ? 0.0 : gate;
  const double conf = confidence(signal.snr, params.snr_threshold);
  const CaseActions& actions = params.actions;
  const std::array<SignalAction, 7> by_case{
      SignalAction::none,           actions.strong_uptrend,
      actions.decelerating_uptrend, actions.decelerating_downtrend,
      actions.strong_downtrend,     actions.bottoming_out,
      actions.topping_out};
  static constexpr std::array<double, 6> kScores{0.0, 1.0, 0.5, 0.0, -0.5, -1.0};
  static_assert(static_cast<int>(SignalAction::strong_sell) == 5);
  const SignalAction action = by_case[static_cast<std::size_t>(signal.trend_case)];
  const bool acts = conf > 0.0 && action != SignalAction::none;
  signal.action = acts ? action : SignalAction::none;
  signal.confidence = acts ? conf : 0.0;
  signal.score = acts ? kScores[static_cast<std::size_t>(action)] : 0.0;
  return signal;
}

/// Classifies (v, a), gates on the case's SNR and maps the case to its configured action.
/// Pure function without data-dependent branches; see the file comment. Computed through
/// evaluate_by_variance, so an exact dead-band boundary is decided on the squares.
[[nodiscard]] inline Signal evaluate(double velocity, double acceleration, double sigma_v,
                                     double sigma_a, const SignalParams& params) noexcept {
  constexpr double kInvalid = std::numeric_limits<double>::quiet_NaN();
  return evaluate_by_variance(velocity, acceleration, sigma_v >= 0.0 ? sigma_v * sigma_v : kInvalid,
                              sigma_a >= 0.0 ? sigma_a * sigma_a : kInvalid, params);
}

/// Why a coordinator call was refused; `ok` (zero) means it was accepted.
enum class CoordinatorError : std::uint8_t {
  ok = 0,
  index_out_of_range,  ///< index ≥ MaxSources
  invalid_weight,      ///< weight not 0 and not in [min_weight, max_weight]
  invalid_score,       ///< score not finite or outside [−1, 1]
  invalid_confidence,  ///< confidence not finite or outside [0, 1]
};

/// The coordinator's output. Plain aggregate.
struct CombinedSignal {
  double score = 0.0;       ///< Σ w s / Σ w
  double confidence = 0.0;  ///< min(√(Σ w² conf²) / Σ w², 1) · agreement
  double agreement = 0.0;   ///< |Σ w sign(s)| / Σ w
  std::size_t sources = 0;  ///< sources that contributed (submitted, weight > 0)
};

/// Combines the latest signal of up to MaxSources sources (tick-level and resampled
/// estimators, finite differences and Kalman) with configured weights; see the file comment.
/// Fixed-size value type: never allocates, no exceptions. Not thread-safe: one thread sets
/// weights, submits and reads.
template <std::size_t MaxSources>
class SignalCoordinator {
 public:
  static constexpr std::size_t capacity = MaxSources;
  /// Non-zero weights are kept in [1e-100, 1e100] so that Σw² neither underflows to 0 nor
  /// overflows, and the formulas never produce NaN.
  static constexpr double min_weight = 1e-100;
  static constexpr double max_weight = 1e100;

  /// Sets the weight of source `index` (default 0: ignored). Weights are relative.
  [[nodiscard]] CoordinatorError set_weight(std::size_t index, double weight) noexcept {
    if (index >= MaxSources)
      return CoordinatorError::index_out_of_range;
    if (weight != 0.0 && !(weight >= min_weight && weight <= max_weight))
      return CoordinatorError::invalid_weight;
    weights_[index] = weight;
    refresh_weights();
    return CoordinatorError::ok;
  }

  /// Records the newest score and confidence of source `index`, replacing the previous one.
  [[nodiscard]] CoordinatorError submit(std::size_t index, double signal_score,
                                        double signal_confidence) noexcept {
    if (index >= MaxSources)
      return CoordinatorError::index_out_of_range;
    if (!(signal_score >= -1.0 && signal_score <= 1.0))
      return CoordinatorError::invalid_score;
    if (!(signal_confidence >= 0.0 && signal_confidence <= 1.0))
      return CoordinatorError::invalid_confidence;
    scores_[index] = signal_score;
    confidences_[index] = signal_confidence;
    if (!submitted_[index]) [[unlikely]] {
      submitted_[index] = true;
      refresh_weights();
    }
    return CoordinatorError::ok;
  }

  /// Submits an evaluated Signal (its score and confidence).
  [[nodiscard]] CoordinatorError submit(std::size_t index, const Signal& signal) noexcept {
    return submit(index, signal.score, signal.confidence);
  }

  /// Forgets the submission of one source (its weight stays).
  void withdraw(std::size_t index) noexcept {
    if (index < MaxSources) {
      submitted_[index] = false;
      refresh_weights();
    }
  }

  /// Forgets every submission (weights stay).
  void clear() noexcept {
    submitted_.fill(false);
    refresh_weights();
  }

  [[nodiscard]] double weight(std::size_t index) const noexcept {
    return index < MaxSources ? weights_[index] : 0.0;
  }

  /// The combination over submitted sources with weight > 0. The sums that depend only on
  /// the weights (Σw, Σw²) are kept up to date when a weight or the set of submitted sources
  /// changes, so a call is a branch-free pass over the scores, one square root and no
  /// division.
  [[nodiscard]] CombinedSignal combined() const noexcept {
    CombinedSignal out;
    out.sources = active_sources_;
    if (active_sources_ == 0)
      return out;
    double sum_ws = 0.0;
    double sum_w2c2 = 0.0;
    double sum_w_sign = 0.0;
    for (std::size_t i = 0; i < MaxSources; ++i) {
      const double w = active_weights_[i];  // 0 for a source that does not count
      const double s = scores_[i];
      const double wc = w * confidences_[i];
      sum_ws += w * s;
      sum_w2c2 += wc * wc;
      sum_w_sign += s > 0.0 ? w : (s < 0.0 ? -w : 0.0);
    }
    out.score = sum_ws * inverse_sum_w_;
    out.agreement = std::fabs(sum_w_sign) * inverse_sum_w_;
    const double raw = std::sqrt(sum_w2c2) * inverse_sum_w2_;
    out.confidence = (raw > 1.0 ? 1.0 : raw) * out.agreement;
    return out;
  }

 private:
  /// Recomputes the weight-only sums; runs when a weight or a submission state changes.
  void refresh_weights() noexcept {
    double sum_w = 0.0;
    double sum_w2 = 0.0;
    active_sources_ = 0;
    for (std::size_t i = 0; i < MaxSources; ++i) {
      const bool counts = submitted_[i] && weights_[i] > 0.0;
      active_weights_[i] = counts ? weights_[i] : 0.0;
      sum_w += active_weights_[i];
      sum_w2 += active_weights_[i] * active_weights_[i];
      active_sources_ += counts ? 1U : 0U;
    }
    inverse_sum_w_ = active_sources_ != 0 ? 1.0 / sum_w : 0.0;
    inverse_sum_w2_ = active_sources_ != 0 ? 1.0 / sum_w2 : 0.0;
  }

  std::array<double, MaxSources> weights_{};
  std::array<double, MaxSources> scores_{};
  std::array<double, MaxSources> confidences_{};
  std::array<bool, MaxSources> submitted_{};
  std::array<double, MaxSources> active_weights_{};  ///< weight if submitted, else 0
  double inverse_sum_w_ = 0.0;
  double inverse_sum_w2_ = 0.0;
  std::size_t active_sources_ = 0;
};

}  // namespace kinetic::strategy
