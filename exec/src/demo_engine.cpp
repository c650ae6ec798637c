#include "kinetic/exec/demo_engine.hpp"

#include <cmath>
#include <string>
#include <thread>

#include "kinetic/core/clock.hpp"

namespace kinetic::exec {

DemoEngine::DemoEngine(const DemoParams& params)
    : params_(params),
      market_(params.market),
      engine_(params.calculus),
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
    // Warm-up fills the engine and the caches, untimed and without trading.
    venue_.on_market(event);
    (void)engine_.update(event.exch_ts, event.trade.price.to_double());
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
  if (engine_.update(event.exch_ts, event.trade.price.to_double()) != strategy::CalculusError::ok)
    return;

  const strategy::CombinedSignal& signal = engine_.combined();
  const Qty position = venue_.position();
  OrderIntent order{};
  if (position == Qty{}) {
    if (signal.confidence < params_.min_confidence || std::fabs(signal.score) < params_.entry_score)
      return;
    const bool buy = signal.score > 0.0;
    const math::AlignmentVerdict verdict =
        engine_.entry_permitted(buy ? math::EntrySide::long_entry : math::EntrySide::short_entry);
    if (verdict != math::AlignmentVerdict::permitted) {
      ++vetoed_;
      return;
    }
    order.side = buy ? Side::buy : Side::sell;
    order.qty = params_.order_qty;
  } else {
    const bool long_position = position > Qty{};
    if (long_position ? signal.score >= 0.0 : signal.score <= 0.0)
      return;
    order.side = long_position ? Side::sell : Side::buy;
    order.qty = long_position ? position : -position;
    order.reduce_only = true;
  }
  ++signals_;
  order.created_ts = event.recv_ts;
  order.client_order_id = next_order_id_++;
  order.symbol = event.symbol;
  order.type = OrderType::market;
  order.tif = TimeInForce::ioc;
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
  s.vetoed = vetoed_;
  s.pnl = venue_.equity();
  s.fees = venue_.fees_paid();
  s.final_position = venue_.position();
  s.last_price = venue_.last_price();
  s.ticks_per_regime = market_.trades_per_regime();
  return s;
}

}  // namespace kinetic::exec
