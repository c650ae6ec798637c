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
//   conf = 1 − exp(−(snr − T)⁺ / T)
// so conf = 0 at or below T, rises monotonically, reaches 1 − 1/e at snr = 2T and → 1 as
// snr → ∞ (snr = +inf gives exactly 1). T ≤ 0 or NaN is treated as T = 0 with scale 1:
// conf = 1 − exp(−snr). Always in [0, 1].
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

/// The matrix cell of (v, a); see the file comment for the dead band and the `none` rules.
/// Written without data-dependent branches: on noisy ticks the signs of v and a change
/// unpredictably, and a mispredicted branch costs more than the whole classification.
[[nodiscard]] inline TrendCase classify(double velocity, double acceleration, double sigma_v,
                                        double dead_band_sigma) noexcept {
  const bool defined = std::isfinite(velocity) & std::isfinite(acceleration) & (sigma_v >= 0.0) &
                       (acceleration != 0.0);
  // band may be +inf (σv = +inf): then everything is inside the dead band, which is the
  // honest answer for a velocity of unknown precision.
  const double band = dead_band_sigma > 0.0 ? dead_band_sigma * sigma_v : 0.0;
  const unsigned in_band = std::fabs(velocity) <= band ? 1U : 0U;
  const unsigned up = velocity > 0.0 ? 1U : 0U;
  const unsigned rising = acceleration > 0.0 ? 1U : 0U;
  // Index: in_band·4 + up·2 + rising (up does not matter inside the band).
  static constexpr std::array<TrendCase, 8> kCells{
      TrendCase::strong_downtrend,     TrendCase::decelerating_downtrend,
      TrendCase::decelerating_uptrend, TrendCase::strong_uptrend,
      TrendCase::topping_out,          TrendCase::bottoming_out,
      TrendCase::topping_out,          TrendCase::bottoming_out};
  const TrendCase cell = kCells[(in_band << 2U) | (up << 1U) | rising];
  return defined ? cell : TrendCase::none;
}

/// |x| / σ with the edge cases of the file comment; never NaN, always ≥ 0. Branch-free.
[[nodiscard]] inline double snr(double value, double sigma) noexcept {
  // σ = 0 and x ≠ 0 gives +inf and σ = +inf gives 0 by IEEE division; 0/0 and every invalid
  // input are mapped to 0 by the selection.
  const double ratio = std::fabs(value) / sigma;
  const bool defined = std::isfinite(value) & (sigma >= 0.0) & (value != 0.0);
  return defined ? ratio : 0.0;
}

/// 1 − exp(−(snr − T)⁺ / T) in [0, 1]; see the file comment for T ≤ 0.
[[nodiscard]] inline double confidence(double signal_to_noise, double threshold) noexcept {
  const double floor = threshold > 0.0 ? threshold : 0.0;
  const double scale = threshold > 0.0 ? threshold : 1.0;
  // Computed unconditionally and selected, not branched on: whether a noisy SNR is above the
  // threshold is a coin toss for the branch predictor. 1 − exp rather than −expm1: equal to
  // within 1e-16 absolute, and glibc's exp is about three times faster. snr = +inf gives
  // exp(−inf) = 0, so conf = 1 exactly.
  const double excess = signal_to_noise - floor;
  const double conf = 1.0 - std::exp(-(excess > 0.0 ? excess : 0.0) / scale);
  const double clamped = conf > 1.0 ? 1.0 : conf;
  return signal_to_noise > floor ? clamped : 0.0;  // also maps NaN to 0
}

/// The outcome of one evaluation. Plain aggregate.
struct Signal {
  TrendCase trend_case = TrendCase::none;
  SignalAction action = SignalAction::none;
  double snr = 0.0;         ///< the gating SNR (|v|/σv, or |a|/σa for the v ≈ 0 cases)
  double confidence = 0.0;  ///< in [0, 1]; 0 when action is none
  double score = 0.0;       ///< score(action), in [−1, +1]
};

/// Classifies (v, a), gates on the case's SNR and maps the case to its configured action.
/// Pure function; see the file comment. Apart from the exponential of the confidence, which
/// only runs above the threshold, it has no data-dependent branches.
[[nodiscard]] inline Signal evaluate(double velocity, double acceleration, double sigma_v,
                                     double sigma_a, const SignalParams& params) noexcept {
  Signal signal;
  signal.trend_case = classify(velocity, acceleration, sigma_v, params.dead_band_sigma);
  const bool near_zero_velocity = (signal.trend_case == TrendCase::bottoming_out) |
                                  (signal.trend_case == TrendCase::topping_out);
  const double gate =
      snr(near_zero_velocity ? acceleration : velocity, near_zero_velocity ? sigma_a : sigma_v);
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
  const bool acts = (conf > 0.0) & (action != SignalAction::none);
  signal.action = acts ? action : SignalAction::none;
  signal.confidence = acts ? conf : 0.0;
  signal.score = acts ? kScores[static_cast<std::size_t>(action)] : 0.0;
  return signal;
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
    submitted_[index] = true;
    return CoordinatorError::ok;
  }

  /// Submits an evaluated Signal (its score and confidence).
  [[nodiscard]] CoordinatorError submit(std::size_t index, const Signal& signal) noexcept {
    return submit(index, signal.score, signal.confidence);
  }

  /// Forgets the submission of one source (its weight stays).
  void withdraw(std::size_t index) noexcept {
    if (index < MaxSources)
      submitted_[index] = false;
  }

  /// Forgets every submission (weights stay).
  void clear() noexcept { submitted_.fill(false); }

  [[nodiscard]] double weight(std::size_t index) const noexcept {
    return index < MaxSources ? weights_[index] : 0.0;
  }

  /// The combination over submitted sources with weight > 0. Branch-free over the sources
  /// (an absent source contributes zeros), one division.
  [[nodiscard]] CombinedSignal combined() const noexcept {
    double sum_w = 0.0;
    double sum_ws = 0.0;
    double sum_w2 = 0.0;
    double sum_w2c2 = 0.0;
    double sum_w_sign = 0.0;
    std::size_t sources = 0;
    for (std::size_t i = 0; i < MaxSources; ++i) {
      const bool counts = submitted_[i] & (weights_[i] > 0.0);
      const double w = counts ? weights_[i] : 0.0;
      const double s = scores_[i];
      const double wc = w * confidences_[i];
      sum_w += w;
      sum_ws += w * s;
      sum_w2 += w * w;
      sum_w2c2 += wc * wc;
      sum_w_sign += s > 0.0 ? w : (s < 0.0 ? -w : 0.0);
      sources += counts ? 1U : 0U;
    }
    CombinedSignal out;
    out.sources = sources;
    if (sources == 0)
      return out;
    const double inv_w = 1.0 / sum_w;
    out.score = sum_ws * inv_w;
    out.agreement = std::fabs(sum_w_sign) * inv_w;
    const double raw = std::sqrt(sum_w2c2) / sum_w2;
    out.confidence = (raw > 1.0 ? 1.0 : raw) * out.agreement;
    return out;
  }

 private:
  std::array<double, MaxSources> weights_{};
  std::array<double, MaxSources> scores_{};
  std::array<double, MaxSources> confidences_{};
  std::array<bool, MaxSources> submitted_{};
};

}  // namespace kinetic::strategy
