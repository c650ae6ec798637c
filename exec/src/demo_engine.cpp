#include "kinetic/exec/demo_engine.hpp"

#include "kinetic/core/clock.hpp"

namespace kinetic::exec {

DemoEngine::DemoEngine(const DemoParams& params)
    : params_(params),
      market_(params.market),
      estimator_(params.price_tau_s, params.derivative_tau_s),
      venue_(params.venue),
      latency_(std::make_unique<LatencyHistogram>()) {
  Clock::calibrate();
}

bool DemoEngine::step() noexcept {
  if (ticks_done_ >= params_.ticks)
    return false;
  MarketEvent event = market_.next();
  if (warmup_done_ < params_.warmup_ticks) {
    // Warm-up fills the estimator and the caches, untimed and without trading.
    venue_.on_market(event);
    (void)estimator_.update(static_cast<double>(event.exch_ts) * 1e-9,
                            event.trade.price.to_double());
    ++warmup_done_;
    return true;
  }
  const std::uint64_t start = Clock::ticks();
  event.recv_ts = Clock::ticks_to_time_ns(start);
  process(event);
  latency_->record(static_cast<std::uint64_t>(Clock::ticks_to_ns(Clock::ticks() - start)));
  ++ticks_done_;
  return true;
}

void DemoEngine::process(const MarketEvent& event) noexcept {
  venue_.on_market(event);
  const double price = event.trade.price.to_double();
  if (!estimator_.update(static_cast<double>(event.exch_ts) * 1e-9, price))
    return;

  const Qty position = venue_.position();
  const int position_sign = position > Qty{} ? 1 : (position < Qty{} ? -1 : 0);
  const double level = estimator_.price();
  const strategy::Action action =
      strategy::decide(params_.signal, position_sign, estimator_.velocity() / level,
                       estimator_.acceleration() / level);
  if (action == strategy::Action::none)
    return;
  ++signals_;

  OrderIntent order{};
  order.created_ts = event.recv_ts;
  order.client_order_id = next_order_id_++;
  order.symbol = event.symbol;
  order.type = OrderType::market;
  order.tif = TimeInForce::ioc;
  switch (action) {
    case strategy::Action::buy:
      order.side = Side::buy;
      order.qty = params_.order_qty;
      break;
    case strategy::Action::sell:
      order.side = Side::sell;
      order.qty = params_.order_qty;
      break;
    case strategy::Action::exit:
      order.side = position_sign > 0 ? Side::sell : Side::buy;
      order.qty = position_sign > 0 ? position : -position;
      order.reduce_only = true;
      break;
    case strategy::Action::none:
      return;
  }
  if (!venue_.execute(order, event.recv_ts))
    ++rejected_;
}

void DemoEngine::run() noexcept {
  while (step()) {
  }
}

DemoSummary DemoEngine::summary() const noexcept {
  DemoSummary s;
  s.ticks = ticks_done_;
  s.signals = signals_;
  s.trades = venue_.fills();
  s.rejected = rejected_;
  s.pnl = venue_.equity();
  s.fees = venue_.fees_paid();
  s.final_position = venue_.position();
  s.last_price = venue_.last_price();
  s.ticks_per_regime = market_.trades_per_regime();
  return s;
}

}  // namespace kinetic::exec
