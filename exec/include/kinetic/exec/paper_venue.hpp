#pragma once
// PaperVenue: fills market orders at once against the last trade, with a spread and a taker
// fee, and keeps the account in exact fixed point. The demo's stand-in for the exchange;
// the simulated venue with a book, queue position and latency replaces it.

#include <cstdint>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::exec {

struct PaperVenueParams {
  Price half_spread = Price::from_raw(10'000'000);  ///< paid on every fill (0.1)
  std::int64_t taker_fee_ppm = 550;                 ///< 0.055%, Bybit's linear taker fee
};

/// Why the venue refused an order. `ok` (zero) means it filled.
enum class VenueError : std::uint8_t { ok = 0, no_market_price, zero_quantity, notional_overflow };

/// One simulated account on one symbol. Value type, no allocation, one thread.
/// Cash starts at zero: cash + position × mark is the P&L since the start.
class PaperVenue {
 public:
  explicit PaperVenue(const PaperVenueParams& params) noexcept : params_(params) {}

  /// Feeds market data: the last trade price is the reference for fills.
  void on_market(const MarketEvent& event) noexcept;

  /// Fills a market order completely at last ± half spread and charges the taker fee.
  [[nodiscard]] Result<Fill, VenueError> execute(const OrderIntent& order,
                                                 TimestampNs now) noexcept;

  [[nodiscard]] Qty position() const noexcept { return position_; }
  [[nodiscard]] Amount cash() const noexcept { return cash_; }
  [[nodiscard]] Amount fees_paid() const noexcept { return fees_; }
  [[nodiscard]] Price last_price() const noexcept { return last_price_; }
  /// Cash plus the position valued at the last price (P&L since the start, after fees).
  [[nodiscard]] Amount equity() const noexcept;
  [[nodiscard]] std::uint64_t fills() const noexcept { return fills_; }

 private:
  PaperVenueParams params_;
  Price last_price_{};
  Qty position_{};
  Amount cash_{};
  Amount fees_{};
  std::uint64_t fills_ = 0;
};

}  // namespace kinetic::exec
