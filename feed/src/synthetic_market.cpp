#include "kinetic/feed/synthetic_market.hpp"

#include <algorithm>
#include <cmath>

namespace kinetic::feed {

SyntheticMarket::SyntheticMarket(const SyntheticMarketParams& params) noexcept
    : params_(params),
      rng_(params.seed),
      log_price_(std::log(params.initial_price)),
      anchor_log_price_(log_price_),
      exch_ts_(params.start_exch_ts) {
  enter_regime(Regime::trending);
}

void SyntheticMarket::enter_regime(Regime regime) noexcept {
  regime_ = regime;
  regime_left_s_ = rng_.exponential(params_.mean_regime_s);
  drift_per_s_ = regime == Regime::trending
                     ? (rng_.bernoulli(0.5) ? 1.0 : -1.0) * params_.trend_drift_per_s
                     : 0.0;
  anchor_log_price_ = log_price_;
}

double SyntheticMarket::efficient_price() const noexcept {
  return std::exp(log_price_);
}

MarketEvent SyntheticMarket::next() noexcept {
  const double dt_s = rng_.exponential(params_.mean_interarrival_ms) * 1e-3;

  double d_log =
      drift_per_s_ * dt_s + params_.volatility_per_sqrt_s * std::sqrt(dt_s) * rng_.normal();
  if (regime_ == Regime::mean_reverting) {
    d_log -= params_.reversion_per_s * (log_price_ - anchor_log_price_) * dt_s;
  } else if (regime_ == Regime::jumpy && rng_.bernoulli(params_.jump_rate_per_s * dt_s)) {
    d_log += params_.jump_sigma * rng_.normal();
  }
  log_price_ += d_log;

  regime_left_s_ -= dt_s;
  if (regime_left_s_ <= 0.0) {
    // Move to one of the two other regimes.
    const auto step = static_cast<std::uint8_t>(1 + (rng_.next_u64() & 1u));
    enter_regime(static_cast<Regime>((static_cast<std::uint8_t>(regime_) + step) % kRegimeCount));
  }

  // Buyers are more likely when the price just rose: trades lean with the move.
  const bool buyer = rng_.bernoulli(d_log > 0.0 ? 0.6 : 0.4);
  const double tick = params_.tick_size.to_double();
  const double observed = std::exp(log_price_) + params_.noise_ticks * tick * rng_.normal();
  const Price raw_price = Price::from_double(std::max(observed, tick)).value_or(params_.tick_size);
  Price price =
      buyer ? raw_price.round_up(params_.tick_size) : raw_price.round_down(params_.tick_size);
  if (price <= Price{})
    price = params_.tick_size;

  const double size = std::max(rng_.exponential(params_.mean_qty), params_.qty_step.to_double());
  Qty qty = Qty::from_double(size).value_or(params_.qty_step).round_up(params_.qty_step);

  exch_ts_ += static_cast<TimestampNs>(dt_s * 1e9) + 1;  // strictly increasing

  MarketEvent event{};
  event.exch_ts = exch_ts_;
  event.symbol = params_.symbol;
  event.type = MarketEventType::trade;
  event.side = buyer ? Side::buy : Side::sell;
  event.flags = kFlagEndOfBatch;
  event.trade.price = price;
  event.trade.qty = qty;
  event.trade.trade_id = ++trade_id_;
  event.trade.sequence = trade_id_;
  ++trades_per_regime_[static_cast<std::size_t>(regime_)];
  return event;
}

}  // namespace kinetic::feed
