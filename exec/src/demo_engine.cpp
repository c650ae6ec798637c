#include "kinetic/exec/demo_engine.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <thread>

#include "kinetic/core/clock.hpp"
#include "kinetic/core/config.hpp"

namespace kinetic::exec {

DemoParams demo_params(const Config& config) {
  DemoParams params;
  params.market.seed = config.demo.seed;
  params.ticks = static_cast<std::uint64_t>(config.demo.ticks);
  params.warmup_ticks = static_cast<std::uint64_t>(config.demo.warmup_ticks);
  params.calculus = strategy::calculus_params(config);
  params.entry_score = config.demo.entry_score;
  params.min_confidence = config.demo.min_confidence;
  params.risk = risk::risk_params(config);
  params.venue.taker_fee_ppm = config.demo.taker_fee_ppm;
  return params;
}

DemoEngine::DemoEngine(const DemoParams& params)
    : params_(params),
      market_(params.market),
      engine_(params.calculus),
      venue_(params.venue),
      latency_(std::make_unique<LatencyHistogram>()),
      ring_(std::make_unique<TickRing>()) {
  Clock::calibrate();
  // The synthetic instrument: its own tick and step, Bybit's BTCUSDT limits otherwise.
  std::memcpy(rules_.symbol, "BTCUSDT", 8);
  rules_.tick_size = params.market.tick_size;
  rules_.qty_step = params.market.qty_step;
  rules_.min_order_qty = params.market.qty_step;
  rules_.max_order_qty = Qty::from_units(1190);
  rules_.max_market_order_qty = Qty::from_units(500);
  rules_.min_notional = Amount::from_units(5);
  rules_.min_leverage = Amount::from_units(1);
  rules_.max_leverage = Amount::from_units(100);
  rules_.leverage_step = Amount::from_raw(1'000'000);  // 0.01
  risk_ = std::make_unique<risk::RiskManager>(params.risk,
                                              std::span<const risk::InstrumentRules>(&rules_, 1),
                                              params.initial_equity, params.market.start_exch_ts);
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
    // Warm-up fills the engine, the risk manager's windows and the caches, untimed and
    // without trading.
    venue_.on_market(event);
    (void)risk_->on_trade(event.symbol, event.trade.price, event.trade.qty, event.exch_ts);
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

Amount DemoEngine::account_equity() const noexcept {
  return Amount::from_raw(params_.initial_equity.raw() + venue_.equity().raw());
}

void DemoEngine::send(const OrderIntent& order, TimestampNs now) noexcept {
  risk_->on_order_sent(order, now);
  const auto fill = venue_.execute(order, now);
  if (!fill) {
    ++rejected_;
    risk_->on_order_rejected(now);
    return;
  }
  risk_->on_fill(order.symbol, order.side, fill.value().qty, fill.value().price);
}

void DemoEngine::process(const MarketEvent& event) noexcept {
  venue_.on_market(event);
  const TimestampNs now = event.exch_ts;
  const risk::TickVerdict verdict =
      risk_->on_trade(event.symbol, event.trade.price, event.trade.qty, now);
  risk_->on_timer(now);
  // A flagged tick is real data (a large trade, a fast move): it still feeds the estimators,
  // but under the drop policy it cannot trigger an entry (the risk manager refuses it with
  // flagged_market_data). Only an invalid tick is dropped outright.
  flagged_ticks_ += verdict.flagged() ? 1U : 0U;
  if ((verdict.flags & risk::kTickInvalid) != 0)
    return;
  if (engine_.update(now, event.trade.price.to_double()) != strategy::CalculusError::ok)
    return;
  risk_->on_equity(now, account_equity());

  const Qty position = venue_.position();
  const Price price = event.trade.price;
  if (position != Qty{}) {
    const bool long_position = position > Qty{};
    const strategy::CombinedSignal& signal = engine_.combined();
    const bool stopped = long_position ? price <= stop_ : price >= stop_;
    const bool reached = long_position ? price >= target_ : price <= target_;
    const bool turned = long_position ? signal.score < 0.0 : signal.score > 0.0;
    const bool kill = risk_->kill_switch().take_actions().close_all;
    if (!(stopped || reached || turned || kill))
      return;
    const risk::RiskDecision exit = risk_->check_exit(event.symbol, now);
    if (!exit.accepted()) {
      ++rejections_[static_cast<std::size_t>(exit.reason)];
      return;
    }
    ++signals_;
    stops_ += stopped ? 1U : 0U;
    targets_ += reached && !stopped ? 1U : 0U;
    send(exit.order, now);
    if (venue_.position() == Qty{}) {
      const Amount equity = account_equity();
      risk_->on_trade_closed(now, Amount::from_raw(equity.raw() - equity_at_entry_.raw()), equity);
    }
    return;
  }

  const strategy::CombinedSignal& signal = engine_.combined();
  if (signal.confidence < params_.min_confidence || std::fabs(signal.score) < params_.entry_score)
    return;
  const bool buy = signal.score > 0.0;
  const math::AlignmentVerdict drift =
      engine_.entry_permitted(buy ? math::EntrySide::long_entry : math::EntrySide::short_entry);
  if (drift != math::AlignmentVerdict::permitted) {
    ++vetoed_;
    return;
  }
  risk::EntryProposal proposal;
  proposal.symbol = event.symbol;
  proposal.side = buy ? Side::buy : Side::sell;
  proposal.type = OrderType::market;
  proposal.entry = price;
  const auto target = Price::from_double(engine_.forecast().mean);
  proposal.target = target ? target.value() : price;
  proposal.confidence = signal.confidence;
  proposal.now = now;
  proposal.flagged_tick = verdict.flagged();
  const risk::RiskDecision decision = risk_->check_entry(proposal);
  if (!decision.accepted()) {
    ++risk_rejected_;
    ++rejections_[static_cast<std::size_t>(decision.reason)];
    return;
  }
  ++signals_;
  OrderIntent order = decision.order;
  order.created_ts = event.recv_ts;
  stop_ = order.stop_loss;
  target_ = order.take_profit;
  equity_at_entry_ = account_equity();
  send(order, now);
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
  s.risk_rejected = risk_rejected_;
  s.flagged_ticks = flagged_ticks_;
  s.stops = stops_;
  s.targets = targets_;
  s.rejections = rejections_;
  s.trading_state = risk_->kill_switch().state();
  s.kill_transitions = risk_->kill_switch().transitions().size();
  s.pnl = venue_.equity();
  s.fees = venue_.fees_paid();
  s.final_position = venue_.position();
  s.last_price = venue_.last_price();
  s.ticks_per_regime = market_.trades_per_regime();
  return s;
}

}  // namespace kinetic::exec
