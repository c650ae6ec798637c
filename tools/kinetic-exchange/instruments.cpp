// Built-in instruments and the instruments-info loader of the exchange simulator.

#include "instruments.hpp"

#include <simdjson.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "kinetic/feed/instruments_info.hpp"

namespace kinetic::exchange {
namespace {

/// Digits after the point of the shortest exact text of a step ("0.001" → 3, "1" → 0).
int fraction_digits(std::int64_t raw) noexcept {
  int digits = 8;
  while (digits > 0 && raw % 10 == 0) {
    raw /= 10;
    --digits;
  }
  return digits;
}

template <typename D>
D must_parse(const char* text) {
  const auto parsed = D::parse(text);
  if (!parsed.ok())
    throw std::logic_error(std::string("builtin instrument: bad decimal ") + text);
  return parsed.value();
}

struct BuiltinSpec {
  const char* symbol;
  const char* tick;
  const char* min_price;
  const char* max_price;
  const char* qty_step;
  const char* min_qty;
  const char* max_qty;
  const char* max_market_qty;
  int price_scale;
};

// Bybit's published filters (instruments-info recorded 2026-08-09 in
// ../shared/data/bybit-ws-v5-cryptofeed).
constexpr BuiltinSpec kBuiltins[] = {
    {"BTCUSDT", "0.10", "0.10", "1999999.80", "0.001", "0.001", "1500", "150", 2},
    {"ETHUSDT", "0.01", "0.01", "199999.98", "0.01", "0.01", "10000", "2000", 2},
    {"SOLUSDT", "0.010", "0.010", "199999.980", "0.1", "0.1", "96000", "12000", 3},
};

}  // namespace

std::vector<ExchangeInstrument> builtin_instruments() {
  std::vector<ExchangeInstrument> out;
  for (const BuiltinSpec& spec : kBuiltins) {
    ExchangeInstrument instrument;
    risk::InstrumentRules& rules = instrument.rules;
    std::strncpy(rules.symbol, spec.symbol, sizeof rules.symbol - 1);
    rules.tick_size = must_parse<Price>(spec.tick);
    rules.min_price = must_parse<Price>(spec.min_price);
    rules.max_price = must_parse<Price>(spec.max_price);
    rules.qty_step = must_parse<Qty>(spec.qty_step);
    rules.min_order_qty = must_parse<Qty>(spec.min_qty);
    rules.max_order_qty = must_parse<Qty>(spec.max_qty);
    rules.max_market_order_qty = must_parse<Qty>(spec.max_market_qty);
    rules.min_notional = must_parse<Amount>("5");
    rules.min_leverage = must_parse<Amount>("1");
    rules.max_leverage = must_parse<Amount>("100");
    rules.leverage_step = must_parse<Amount>("0.01");
    instrument.price_decimals = spec.price_scale;
    instrument.qty_decimals = fraction_digits(rules.qty_step.raw());
    out.push_back(instrument);
  }
  return out;
}

std::vector<ExchangeInstrument> load_instruments(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw std::runtime_error(path + ": cannot open instruments file");
  std::ostringstream contents;
  contents << file.rdbuf();
  std::string json = contents.str();

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) || !root.is_object())
    throw std::runtime_error(path + ": not a JSON object");
  // A bare `result` object ({"category":..,"list":[..]}) gets the REST envelope around it.
  simdjson::dom::element ignored;
  if (root["retCode"].get(ignored)) {
    json = R"({"retCode":0,"retMsg":"OK","result":)" + json + "}";
    if (parser.parse(json).get(root))
      throw std::runtime_error(path + ": not a JSON object");
  }
  feed::InstrumentsInfo info;
  try {
    info = feed::parse_instruments_info(json, feed::UnrepresentablePolicy::fail);
  } catch (const std::exception& error) {
    throw std::runtime_error(path + ": " + error.what());
  }
  if (info.category != "linear")
    throw std::runtime_error(path + ": category \"" + info.category + "\", expected linear");
  if (info.rules.empty())
    throw std::runtime_error(path + ": no instruments in result.list");

  simdjson::dom::array list;
  if (root["result"]["list"].get(list))
    throw std::runtime_error(path + ": result.list: missing");
  std::vector<ExchangeInstrument> out;
  for (const risk::InstrumentRules& rules : info.rules) {
    ExchangeInstrument instrument;
    instrument.rules = rules;
    instrument.price_decimals = fraction_digits(rules.tick_size.raw());
    instrument.qty_decimals = fraction_digits(rules.qty_step.raw());
    for (simdjson::dom::element item : list) {
      std::string_view symbol;
      if (item["symbol"].get(symbol) || symbol != rules.symbol)
        continue;
      std::string_view scale_text;
      if (!item["priceScale"].get(scale_text)) {
        int scale = 0;
        bool valid = !scale_text.empty() && scale_text.size() <= 2;
        for (const char c : scale_text) {
          if (c < '0' || c > '9')
            valid = false;
          else
            scale = scale * 10 + (c - '0');
        }
        if (!valid || scale > 8) {
          throw std::runtime_error(path + ": " + std::string(symbol) +
                                   ": priceScale: bad value \"" + std::string(scale_text) + "\"");
        }
        instrument.price_decimals = scale;
      }
      break;
    }
    out.push_back(instrument);
  }
  return out;
}

const ExchangeInstrument* find_instrument(const std::vector<ExchangeInstrument>& instruments,
                                          std::string_view symbol) noexcept {
  for (const ExchangeInstrument& instrument : instruments) {
    if (symbol == instrument.rules.symbol)
      return &instrument;
  }
  return nullptr;
}

}  // namespace kinetic::exchange
