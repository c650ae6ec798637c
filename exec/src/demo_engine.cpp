#include "kinetic/exec/demo_engine.hpp"

#include <string>
#include <thread>

#include "kinetic/core/clock.hpp"

namespace kinetic::exec {

DemoEngine::DemoEngine(const DemoParams& params)
    : params_(params),
      market_(params.market),
      estimator_(params.price_tau_s, params.derivative_tau_s),
      venue_(params.venue),
      latency_(std::make_unique<LatencyHistogram>()),
      ring_(std::make_unique<TickRing>()) {
  Clock::calibrate();
}

bool DemoEngine::step() noexcept {
  if (ticks_done_ >= params_.ticks)
    return false;
  MarketEvent event = market_.next();
  consume(event, Clock::ticks());
  return true;
}

void DemoEngine::consume(MarketEvent& event, std::uint64_t start_ticks) noexcept {
  if (warmup_done_ < params_.warmup_ticks) {
    // Warm-up fills the estimator and the caches, untimed and without trading.
    venue_.on_market(event);
    (void)estimator_.update(static_cast<double>(event.exch_ts) * 1e-9,
                            event.trade.price.to_double());
    ++warmup_done_;
    return;
  }
  event.recv_ts = Clock::ticks_to_time_ns(start_ticks);
  process(event);
  latency_->record(static_cast<std::uint64_t>(Clock::ticks_to_ns(Clock::ticks() - start_ticks)));
  ++ticks_done_;
}

namespace {
// Pins the calling thread; returns what went wrong, or nothing. Start-up only.
std::string pin_or_explain(int core, const char* who) {
  if (core < 0)
    return {};
  const std::error_code ec = pin_current_thread(core);
  if (!ec)
    return {};
  return std::string(who) + " thread not pinned to core " + std::to_string(core) + ": " +
         ec.message() + "\n";
}
}  // namespace

std::string DemoEngine::run_pipelined(const PipelineLayout& layout) {
  const std::uint64_t to_send = total_ticks() - (warmup_done_ + ticks_done_);
  std::string feed_problems;
  std::thread feed([&] {
    (void)name_current_thread("kin-feed");
    feed_problems = pin_or_explain(layout.feed_core, "feed");
    SpinWait wait(layout.wait);
    for (std::uint64_t i = 0; i < to_send; ++i) {
      MarketEvent event = market_.next();
      // The stamp travels in recv_ts as raw ticks; consume() rewrites it as time.
      event.recv_ts = static_cast<TimestampNs>(Clock::ticks());
      while (ring_->try_push(event) != PushResult::ok)
        wait.wait();
      wait.reset();
    }
  });
  std::string problems = pin_or_explain(layout.strategy_core, "strategy");
  SpinWait wait(layout.wait);
  MarketEvent event;
  for (std::uint64_t received = 0; received < to_send;) {
    if (!ring_->try_pop(event)) {
      wait.wait();
      continue;
    }
    wait.reset();
    consume(event, static_cast<std::uint64_t>(event.recv_ts));
    ++received;
  }
  feed.join();
  return feed_problems + problems;
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
