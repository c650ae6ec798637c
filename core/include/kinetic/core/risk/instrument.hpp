#pragma once
// Exchange rules of one instrument (Bybit instruments-info) and the exact rounding and
// checks an order must pass before it may be sent.
//
// (The rules struct is fixed here; the functions below it are being written.)

#include <cstdint>

#include "kinetic/core/decimal.hpp"
#include "kinetic/core/risk/reasons.hpp"
#include "kinetic/core/types.hpp"

namespace kinetic::risk {

/// One instrument's trading rules, exact decimals as Bybit publishes them. Plain aggregate,
/// trivially copyable; read-only after start-up (any thread may read it then).
struct InstrumentRules {
  char symbol[16] = {};           ///< NUL-terminated, e.g. "BTCUSDT"
  Price tick_size{};              ///< priceFilter.tickSize
  Price min_price{};              ///< priceFilter.minPrice (0: none)
  Price max_price{};              ///< priceFilter.maxPrice (0: none)
  Qty qty_step{};                 ///< lotSizeFilter.qtyStep
  Qty min_order_qty{};            ///< lotSizeFilter.minOrderQty
  Qty max_order_qty{};            ///< lotSizeFilter.maxOrderQty (limit orders)
  Qty max_market_order_qty{};     ///< lotSizeFilter.maxMktOrderQty (0: same as max_order_qty)
  Amount min_notional{};          ///< lotSizeFilter.minNotionalValue (0: none)
  Amount min_leverage{};          ///< leverageFilter.minLeverage (1 for spot)
  Amount max_leverage{};          ///< leverageFilter.maxLeverage (1 for spot)
  Amount leverage_step{};         ///< leverageFilter.leverageStep
};

}  // namespace kinetic::risk
