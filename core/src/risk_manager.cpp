#include "kinetic/core/risk/risk_manager.hpp"

#include <cassert>
#include <cmath>
#include <cstdlib>

#include "kinetic/core/config.hpp"

namespace kinetic::risk {
namespace {

/// A fraction as whole basis points (rounded to nearest; the configuration's fractions are
/// given to far fewer digits than that).
std::int64_t to_bps(double fraction) {
  return std::llround(fraction * 10'000.0);
}

}  // namespace

bool RiskParams::valid() const noexcept {
  return sizing.valid() && kill_switch.valid() && pre_trade.valid() && validation.valid() &&
         portfolio.max_correlation >= 0.0 && portfolio.max_correlation <= 1.0 &&
         portfolio.max_open_positions >= 1 && correlation.interval_ns > 0 &&
         correlation.alpha > 0.0 && correlation.alpha <= 1.0 && prior_win_probability > 0.0 &&
         prior_win_probability < 1.0 && prior_trades >= 0.0;
}

RiskParams risk_params(const Config& config) {
  const RiskConfig& risk = config.risk;
  RiskParams params;
  params.sizing.kelly_multiplier = risk.kelly_fraction;
  params.sizing.kelly_cap = risk.kelly_cap;
  params.sizing.risk_fraction = risk.max_risk_per_trade;
  params.sizing.min_reward_risk = risk.min_reward_risk;
  params.sizing.stop_sigma_k = risk.stop_sigma_k;
  params.sizing.max_leverage = risk.max_leverage;
  params.sizing.volatility_window = static_cast<std::uint32_t>(risk.volatility_window);
  params.portfolio.max_symbol_exposure_bps =
      static_cast<std::uint32_t>(to_bps(risk.max_symbol_exposure));
  params.portfolio.max_total_exposure_bps =
      static_cast<std::uint32_t>(to_bps(risk.max_total_exposure));
  params.portfolio.max_open_positions = static_cast<std::uint32_t>(risk.max_open_positions);
  params.portfolio.max_correlation = risk.max_correlation;
  params.kill_switch.max_drawdown_bps = to_bps(risk.max_drawdown);
  params.kill_switch.max_daily_loss_bps = to_bps(risk.max_daily_loss);
  params.kill_switch.max_trade_loss_bps = to_bps(risk.max_trade_loss);
  params.kill_switch.max_error_rate_bps = to_bps(risk.max_error_rate);
  params.kill_switch.error_window_seconds = risk.error_rate_window_s;
  params.kill_switch.min_orders_for_error_rate = risk.error_rate_min_orders;
  params.kill_switch.stale_data_timeout_ns = risk.connectivity_timeout_s * 1'000'000'000;
  params.pre_trade.price_band_bps = to_bps(risk.price_band);
  const auto notional = Amount::from_double(risk.max_order_notional);
  params.pre_trade.max_order_notional = notional ? notional.value() : Amount{};
  params.pre_trade.max_orders_per_second = risk.max_orders_per_second;
  params.pre_trade.duplicate_window_ns = risk.duplicate_window_ms * 1'000'000;
  params.validation.price_sigmas = risk.outlier_sigma;
  params.validation.volume_multiple = risk.volume_spike;
  // The floor under σ: over the validator's short window a quiet market has a σ of a few
  // ticks, and a 5σ rule without a floor flags every ordinary move out of the quiet.
  params.validation.min_sigma_bps = risk.outlier_min_sigma_bps;
  params.validation.window = static_cast<std::size_t>(risk.validation_window);
  params.validation.warmup_ticks = static_cast<std::size_t>(risk.validation_window);
  params.correlation.interval_ns = risk.correlation_interval_ms * 1'000'000;
  params.correlation.alpha = risk.correlation_alpha;
  params.validation.policy = risk.flagged_ticks == RiskConfig::FlaggedTicks::drop
                                 ? FlaggedTickPolicy::drop
                                 : FlaggedTickPolicy::pass_with_flag;
  params.prior_win_probability = risk.prior_win_probability;
  params.prior_trades = static_cast<double>(risk.prior_trades);
  return params;
}

RiskManager::RiskManager(const RiskParams& params, std::span<const InstrumentRules> instruments,
                         Amount equity, TimestampNs now) noexcept
    : params_(params),
      portfolio_(params.portfolio),
      correlation_([&] {
        math::ReturnCorrelationParams correlation = params.correlation;
        correlation.num_series =
            instruments.size() < kMaxSymbols ? instruments.size() : kMaxSymbols;
        return correlation;
      }()),
      kill_switch_(params.kill_switch),
      pre_trade_(params.pre_trade),
      validator_(params.validation),
      statistics_(params.prior_win_probability, params.prior_trades),
      equity_(equity),
      inverse_max_leverage_(1.0 / params.sizing.max_leverage),
      // The gate refuses price × qty > max_order_notional: as a value, max × 1e8.
      max_order_value_(int128{params.pre_trade.max_order_notional.raw()} * Price::kScale) {
  assert(params.valid() && "RiskParams out of range");
  assert(instruments.size() <= kMaxSymbols && "too many instruments");
  for (std::size_t i = 0; i < instruments.size() && i < kMaxSymbols; ++i) {
    symbols_[i].rules = instruments[i];
    symbols_[i].limits = sizing_limits(instruments[i], params.sizing);
    symbols_[i].volatility = PriceVolatility(params.sizing.volatility_window);
    symbols_[i].known = true;
  }
  kill_switch_.on_equity(now, equity);
}

TickVerdict RiskManager::on_trade(SymbolId symbol, Price price, Qty qty, TimestampNs now) noexcept {
  if (symbol >= kMaxSymbols || !symbols_[symbol].known)
    return TickVerdict{kTickInvalid, true};
  const TickVerdict verdict = validator_.validate(symbol, price, qty);
  kill_switch_.on_market_data(now);
  if (verdict.flagged())
    return verdict;  // an outlier must not move the stop's σ or the marks
  SymbolState& state = symbols_[symbol];
  state.last_price = price;
  (void)state.volatility.add(price);
  state.sigma = state.volatility.full() ? state.volatility.sigma() : 0.0;
  correlation_.update(symbol, price);
  portfolio_.on_mark(symbol, price);
  return verdict;
}

void RiskManager::on_timer(TimestampNs now) noexcept {
  kill_switch_.check(now);
  (void)correlation_.sample(now);
}

Amount RiskManager::free_margin() const noexcept {
  // Nearest raw unit; the exchange's margin check is exact, this one only has to be close.
  const double used =
      static_cast<double>(portfolio_.total_exposure().raw()) * inverse_max_leverage_;
  const double free = static_cast<double>(equity_.raw()) - used;
  return Amount::from_raw(free >= 0.5 ? static_cast<std::int64_t>(free + 0.5) : 0);
}

// One decision object, filled in place (the answer is some 200 bytes: building it in a
// temporary and copying it out cost more than several of the checks it reports on).
RiskDecision RiskManager::check_entry(const EntryProposal& proposal) noexcept {
  RiskDecision decision;
  decision.reason = decide_entry(proposal, decision);
  return decision;
}

RejectReason RiskManager::decide_entry(const EntryProposal& proposal,
                                       RiskDecision& decision) noexcept {
  if (proposal.symbol >= kMaxSymbols || !symbols_[proposal.symbol].known ||
      (proposal.side != Side::buy && proposal.side != Side::sell))
    return RejectReason::invalid_input;
  if (proposal.flagged_tick && params_.validation.policy == FlaggedTickPolicy::drop)
    return RejectReason::flagged_market_data;
  const TradingState trading = kill_switch_.state();
  if (trading == TradingState::halted)
    return RejectReason::halted;
  if (trading == TradingState::reducing)
    return RejectReason::reduce_only_required;

  const SymbolState& state = symbols_[proposal.symbol];
  if (!state.volatility.full())
    return RejectReason::no_volatility;
  // A limit order is sized, stopped and checked at its price on the tick (toward the passive
  // side), the price it fills at; a market order at the expected fill.
  const bool limit = proposal.type == OrderType::limit;
  const Price entry =
      limit ? round_limit_price(state.rules, proposal.side, proposal.entry) : proposal.entry;
  const Result<Price, RejectReason> stop = stop_price(
      proposal.side, entry, state.sigma, params_.sizing.stop_sigma_k, state.rules.tick_size);
  if (!stop)
    return stop.error();

  // The portfolio first: whether a position may open at all, and its exposure room as a
  // value bound for the sizer (with the gate's order notional), so the size is computed once
  // within every limit instead of sized and then cut.
  const EntryRoom room =
      portfolio_.entry_room(proposal.symbol, proposal.side, entry, equity_, correlation_);
  if (room.reason != RejectReason::none)
    return room.reason;

  SizeRequest request;
  request.side = proposal.side;
  request.entry = entry;
  request.stop = stop.value();
  request.target = proposal.target;
  request.confidence = proposal.confidence;
  request.win_probability = statistics_.win_probability();
  // Kelly's b and a: what this order aims for and what it risks, per unit. Only their ratio
  // matters, so the raw differences serve (exact, and no division to convert them).
  request.avg_win = std::fabs(static_cast<double>(proposal.target.raw() - entry.raw()));
  request.avg_loss = std::fabs(static_cast<double>(entry.raw() - stop.value().raw()));
  request.equity = equity_;
  request.available_margin = free_margin();
  request.type = proposal.type;
  request.max_value = room.max_value;
  request.max_value_bound = room.bound;
  if (max_order_value_ < request.max_value) {
    request.max_value = max_order_value_;
    request.max_value_bound = SizeBound::order_notional;
  }
  const SizeDecision size = size_order(request, state.rules, params_.sizing, state.limits);
  decision.win_probability = request.win_probability;
  decision.kelly_fraction = size.kelly_fraction;
  if (!size.accepted())
    return size.reason;

  OrderIntent& order = decision.order;
  order.created_ts = proposal.now;
  order.client_order_id = next_order_id_;
  order.symbol = proposal.symbol;
  order.side = proposal.side;
  order.type = proposal.type;
  order.tif = limit ? TimeInForce::gtc : TimeInForce::ioc;
  order.price = limit ? entry : Price{};
  order.qty = size.qty;  // meets every instrument rule at `entry` (size_order)
  order.stop_loss = stop.value();
  // The take-profit on the tick, toward the entry: never promises more than the forecast.
  order.take_profit = round_limit_price(state.rules, proposal.side, proposal.target);
  order.reduce_only = false;
  const RejectReason gate = pre_trade_.check(order, proposal.now, state.last_price, trading);
  if (gate != RejectReason::none)
    return gate;

  ++next_order_id_;
  decision.bound = size.bound;
  decision.leverage = size.leverage;
  decision.risk_amount = size.risk_amount;
  return RejectReason::none;
}

RejectReason RiskManager::check_intent(const OrderIntent& order, TimestampNs now,
                                       Price reference) const noexcept {
  if (order.symbol >= kMaxSymbols || !symbols_[order.symbol].known)
    return RejectReason::invalid_input;
  const SymbolState& state = symbols_[order.symbol];
  const TradingState trading = kill_switch_.state();
  if (trading != TradingState::active && !order.reduce_only)
    return trading == TradingState::halted ? RejectReason::halted
                                           : RejectReason::reduce_only_required;
  const Price price = order.type == OrderType::limit
                          ? order.price
                          : (reference.raw() > 0 ? reference : state.last_price);
  if (const RejectReason rules = check_order(state.rules, order.side, order.type, price, order.qty);
      rules != RejectReason::none)
    return rules;
  if (!order.reduce_only) {
    const PortfolioCheck room =
        portfolio_.check_new(order.symbol, order.side, order.qty, price, equity_, correlation_,
                             RoomWanted::when_refused);
    if (room.reason != RejectReason::none)
      return room.reason;
  }
  return pre_trade_.check(order, now, state.last_price, gate_state());
}

RiskDecision RiskManager::check_exit(SymbolId symbol, TimestampNs now) noexcept {
  if (symbol >= kMaxSymbols || !symbols_[symbol].known)
    return reject(RejectReason::invalid_input);
  const Qty position = portfolio_.position(symbol).qty;
  if (position.raw() == 0)
    return reject(RejectReason::no_position);
  OrderIntent order{};
  order.created_ts = now;
  order.client_order_id = next_order_id_;
  order.symbol = symbol;
  order.side = position.raw() > 0 ? Side::sell : Side::buy;
  order.type = OrderType::market;
  order.tif = TimeInForce::ioc;
  order.qty = position.raw() > 0 ? position : Qty::from_raw(-position.raw());
  order.reduce_only = true;
  const RejectReason gate = pre_trade_.check(order, now, symbols_[symbol].last_price, gate_state());
  if (gate != RejectReason::none)
    return reject(gate);
  ++next_order_id_;
  RiskDecision decision;
  decision.order = order;
  return decision;
}

void RiskManager::on_order_sent(const OrderIntent& order, TimestampNs now) noexcept {
  pre_trade_.record_sent(order, now);
  kill_switch_.on_order_sent(now);
}

void RiskManager::on_order_rejected(TimestampNs now) noexcept {
  kill_switch_.on_order_rejected(now);
}

void RiskManager::on_fill(SymbolId symbol, Side side, Qty qty, Price price) noexcept {
  portfolio_.on_fill(symbol, side, qty, price);
}

void RiskManager::on_trade_closed(TimestampNs now, Amount pnl, Amount equity) noexcept {
  statistics_.on_trade_closed(pnl.to_double());
  equity_ = equity;
  kill_switch_.on_trade_closed(now, pnl, equity);
}

void RiskManager::on_equity(TimestampNs now, Amount equity) noexcept {
  equity_ = equity;
  kill_switch_.on_equity(now, equity);
}

double RiskManager::price_sigma(SymbolId symbol) const noexcept {
  return symbol < kMaxSymbols ? symbols_[symbol].sigma : 0.0;
}

Price RiskManager::last_price(SymbolId symbol) const noexcept {
  return symbol < kMaxSymbols ? symbols_[symbol].last_price : Price{};
}

}  // namespace kinetic::risk
