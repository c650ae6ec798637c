#include "kinetic/exec/paper_venue.hpp"

#include "kinetic/core/int128.hpp"

namespace kinetic::exec {

void PaperVenue::on_market(const MarketEvent& event) noexcept {
  if (event.type == MarketEventType::trade)
    last_price_ = event.trade.price;
}

Result<Fill, VenueError> PaperVenue::execute(const OrderIntent& order, TimestampNs now) noexcept {
  if (last_price_ <= Price{})
    return VenueError::no_market_price;
  if (order.qty <= Qty{})
    return VenueError::zero_quantity;
  const int direction = sign(order.side);
  const Price fill_price =
      direction > 0 ? last_price_ + params_.half_spread : last_price_ - params_.half_spread;
  const auto value = notional(fill_price, order.qty);
  if (!value)
    return VenueError::notional_overflow;
  // Fee = notional × ppm / 1e6, rounded up to 1e-8 as exchanges round fees against the payer.
  const int128 fee_scaled = static_cast<int128>(value.value().raw()) * params_.taker_fee_ppm;
  const auto fee_raw = static_cast<std::int64_t>((fee_scaled + 999'999) / 1'000'000);
  const Amount fee = Amount::from_raw(fee_raw);

  if (direction > 0) {
    cash_ -= value.value();
    position_ += order.qty;
  } else {
    cash_ += value.value();
    position_ -= order.qty;
  }
  cash_ -= fee;
  fees_ += fee;
  ++fills_;

  Fill fill{};
  fill.exch_ts = now;
  fill.recv_ts = now;
  fill.client_order_id = order.client_order_id;
  fill.price = fill_price;
  fill.qty = order.qty;
  fill.fee = fee;
  fill.exec_id = fills_;
  fill.symbol = order.symbol;
  fill.side = order.side;
  fill.is_maker = false;
  return fill;
}

Amount PaperVenue::equity() const noexcept {
  const Qty magnitude = position_ < Qty{} ? -position_ : position_;
  const auto value = notional(last_price_, magnitude);
  if (!value)
    return cash_;
  return position_ < Qty{} ? cash_ - value.value() : cash_ + value.value();
}

}  // namespace kinetic::exec
