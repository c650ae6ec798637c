#pragma once
// The instruments the exchange simulator lists: Bybit's trading rules plus how Bybit prints
// their numbers (prices with priceScale decimals, "65114.20"; sizes with the qtyStep's
// decimals, "0.004").
//
// Ownership: plain values. Thread-safety: read-only after start-up.

#include <string>
#include <string_view>
#include <vector>

#include "kinetic/core/risk/instrument.hpp"

namespace kinetic::exchange {

struct ExchangeInstrument {
  risk::InstrumentRules rules;
  int price_decimals = 2;  ///< priceScale
  int qty_decimals = 3;    ///< decimals of qtyStep
};

/// BTCUSDT, ETHUSDT and SOLUSDT linear perpetuals with the filters Bybit published
/// (instruments-info recorded in ../shared/data/bybit-ws-v5-cryptofeed): ticks 0.10 / 0.01 /
/// 0.010, qty steps 0.001 / 0.01 / 0.1, max leverage 100, min notional 5 USDT.
[[nodiscard]] std::vector<ExchangeInstrument> builtin_instruments();

/// Loads a Bybit instruments-info JSON (a REST response or its `result`) with linear
/// instruments; priceScale read from each item. Throws std::runtime_error naming the file and
/// the problem.
[[nodiscard]] std::vector<ExchangeInstrument> load_instruments(const std::string& path);

/// The instrument named `symbol`, or nullptr.
[[nodiscard]] const ExchangeInstrument* find_instrument(
    const std::vector<ExchangeInstrument>& instruments, std::string_view symbol) noexcept;

}  // namespace kinetic::exchange
