#pragma once
// The first, simple signal: the signs of relative velocity and acceleration decide.
//
// Relative velocity v/P (per second) above the entry threshold with acceleration agreeing
// opens a position in that direction; velocity crossing back through the exit threshold
// closes it. The calculus engine (Kalman state, SNR confidence, the 6-case matrix) replaces
// this rule; the interface — one decision per tick, no allocation — stays.

#include <cstdint>

namespace kinetic::strategy {

enum class Action : std::uint8_t { none = 0, buy, sell, exit };

/// Thresholds of the rule, in relative units per second (0.0002 = 2 bp/s).
struct DerivativeSignalParams {
  double entry_velocity = 2e-4;
  double exit_velocity = 0.5e-4;
};

/// Decides from the current position direction (+1 long, −1 short, 0 flat) and the estimated
/// relative velocity and acceleration. Pure function.
[[nodiscard]] constexpr Action decide(const DerivativeSignalParams& params, int position_sign,
                                      double relative_velocity,
                                      double relative_acceleration) noexcept {
  if (position_sign > 0 && relative_velocity < params.exit_velocity)
    return Action::exit;
  if (position_sign < 0 && relative_velocity > -params.exit_velocity)
    return Action::exit;
  if (position_sign == 0) {
    if (relative_velocity > params.entry_velocity && relative_acceleration > 0.0)
      return Action::buy;
    if (relative_velocity < -params.entry_velocity && relative_acceleration < 0.0)
      return Action::sell;
  }
  return Action::none;
}

}  // namespace kinetic::strategy
