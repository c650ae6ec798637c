// Bybit instruments-info response → risk::InstrumentRules (start-up code; see the header).

#include "kinetic/feed/instruments_info.hpp"

#include <simdjson.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace kinetic::feed {
namespace {

namespace dom = simdjson::dom;

constexpr std::string_view kPrefix = "instruments-info: ";

[[noreturn]] void fail(const std::string& message) {
  throw InstrumentsError(std::string(kPrefix) + message);
}

/// An entry that is well-formed but cannot be held exactly; the policy decides its fate.
struct Unrepresentable {
  std::string reason;
};

/// Where in the response a field is read from, for error messages.
struct EntryContext {
  std::string symbol;  ///< the entry's symbol, or "list[N]" before it is known
};

[[noreturn]] void fail_field(const EntryContext& entry, std::string_view filter,
                             std::string_view key, std::string_view what) {
  std::string message = entry.symbol + ": ";
  if (!filter.empty())
    message.append(filter).append(".");
  message.append(key).append(": ").append(what);
  fail(message);
}

dom::object required_object(dom::object parent, const EntryContext& entry, const char* key) {
  dom::element element;
  const auto error = parent[key].get(element);
  if (error == simdjson::NO_SUCH_FIELD)
    fail_field(entry, "", key, "missing");
  if (error)
    fail_field(entry, "", key, simdjson::error_message(error));
  dom::object object;
  if (element.get_object().get(object))
    fail_field(entry, "", key, "not an object");
  return object;
}

/// The field's text; nullopt when absent or "" (Bybit leaves unused fields empty).
std::optional<std::string_view> optional_string(dom::object filter_object,
                                                const EntryContext& entry, std::string_view filter,
                                                const char* key) {
  dom::element element;
  const auto error = filter_object[key].get(element);
  if (error == simdjson::NO_SUCH_FIELD)
    return std::nullopt;
  if (error)
    fail_field(entry, filter, key, simdjson::error_message(error));
  std::string_view text;
  if (element.get_string().get(text))
    fail_field(entry, filter, key, "not a string");
  if (text.empty())
    return std::nullopt;
  return text;
}

template <class D>
D parse_decimal(std::string_view text, const EntryContext& entry, std::string_view filter,
                const char* key) {
  const auto parsed = D::parse(text);
  if (parsed.ok())
    return parsed.value();
  const auto error = parsed.error();
  std::string what = std::string(to_string(error)) + " (\"" + std::string(text) + "\")";
  if (error == DecimalError::too_many_fraction_digits || error == DecimalError::overflow) {
    throw Unrepresentable{std::string(filter) + "." + key + ": " + what};
  }
  fail_field(entry, filter, key, "not a decimal: " + what);
}

template <class D>
std::optional<D> optional_decimal(dom::object filter_object, const EntryContext& entry,
                                  std::string_view filter, const char* key) {
  const auto text = optional_string(filter_object, entry, filter, key);
  if (!text)
    return std::nullopt;
  return parse_decimal<D>(*text, entry, filter, key);
}

/// A maximum (maxOrderQty, maxPrice, ...). Bybit sometimes prints these through binary
/// floating point ("1542.6000000000001"); cutting digits beyond the 8th toward zero lowers the
/// limit by less than 1e-8, which only makes the engine stricter, so such values are kept.
template <class D>
std::optional<D> optional_maximum(dom::object filter_object, const EntryContext& entry,
                                  std::string_view filter, const char* key) {
  auto text = optional_string(filter_object, entry, filter, key);
  if (!text)
    return std::nullopt;
  const std::size_t dot = text->find('.');
  const std::size_t kept = dot + 1 + static_cast<std::size_t>(D::kFractionDigits);
  if (dot != std::string_view::npos && text->size() > kept && text->front() != '-') {
    text = text->substr(0, kept);
  }
  return parse_decimal<D>(*text, entry, filter, key);
}

template <class D>
D required_decimal(dom::object filter_object, const EntryContext& entry, std::string_view filter,
                   const char* key) {
  const auto value = optional_decimal<D>(filter_object, entry, filter, key);
  if (!value)
    fail_field(entry, filter, key, "missing");
  return *value;
}

enum class Category : std::uint8_t { derivatives, spot };

risk::InstrumentRules parse_entry(dom::object item, Category category, EntryContext& entry) {
  risk::InstrumentRules rules{};
  {
    dom::element element;
    const auto error = item["symbol"].get(element);
    if (error)
      fail_field(entry, "", "symbol",
                 error == simdjson::NO_SUCH_FIELD ? "missing" : simdjson::error_message(error));
    std::string_view symbol;
    if (element.get_string().get(symbol))
      fail_field(entry, "", "symbol", "not a string");
    if (symbol.empty())
      fail_field(entry, "", "symbol", "empty");
    entry.symbol = std::string(symbol);
    if (symbol.find('\0') != std::string_view::npos) {
      fail_field(entry, "", "symbol", "contains NUL");
    }
    if (symbol.size() >= sizeof(rules.symbol)) {
      throw Unrepresentable{"symbol: longer than " + std::to_string(sizeof(rules.symbol) - 1) +
                            " characters"};
    }
    std::memcpy(rules.symbol, symbol.data(), symbol.size());
  }

  const dom::object price_filter = required_object(item, entry, "priceFilter");
  const dom::object lot_filter = required_object(item, entry, "lotSizeFilter");
  constexpr std::string_view kPrice = "priceFilter";
  constexpr std::string_view kLot = "lotSizeFilter";
  constexpr std::string_view kLeverage = "leverageFilter";

  rules.tick_size = required_decimal<Price>(price_filter, entry, kPrice, "tickSize");
  if (category == Category::derivatives) {
    rules.min_price =
        optional_decimal<Price>(price_filter, entry, kPrice, "minPrice").value_or(Price{});
    rules.max_price =
        optional_maximum<Price>(price_filter, entry, kPrice, "maxPrice").value_or(Price{});
    rules.qty_step = required_decimal<Qty>(lot_filter, entry, kLot, "qtyStep");
    rules.min_order_qty = required_decimal<Qty>(lot_filter, entry, kLot, "minOrderQty");
    const auto max_order_qty = optional_maximum<Qty>(lot_filter, entry, kLot, "maxOrderQty");
    if (!max_order_qty)
      fail_field(entry, kLot, "maxOrderQty", "missing");
    rules.max_order_qty = *max_order_qty;
    rules.max_market_order_qty =
        optional_maximum<Qty>(lot_filter, entry, kLot, "maxMktOrderQty").value_or(Qty{});
    rules.min_notional =
        optional_decimal<Amount>(lot_filter, entry, kLot, "minNotionalValue").value_or(Amount{});
    const dom::object leverage_filter = required_object(item, entry, "leverageFilter");
    rules.min_leverage = required_decimal<Amount>(leverage_filter, entry, kLeverage, "minLeverage");
    rules.max_leverage = required_decimal<Amount>(leverage_filter, entry, kLeverage, "maxLeverage");
    rules.leverage_step =
        required_decimal<Amount>(leverage_filter, entry, kLeverage, "leverageStep");
  } else {
    rules.qty_step = required_decimal<Qty>(lot_filter, entry, kLot, "basePrecision");
    // minOrderQty and maxOrderQty are deprecated for spot; the step is the implied minimum.
    rules.min_order_qty =
        optional_decimal<Qty>(lot_filter, entry, kLot, "minOrderQty").value_or(rules.qty_step);
    auto max_limit = optional_maximum<Qty>(lot_filter, entry, kLot, "maxLimitOrderQty");
    if (!max_limit)
      max_limit = optional_maximum<Qty>(lot_filter, entry, kLot, "maxOrderQty");
    if (!max_limit)
      fail_field(entry, kLot, "maxLimitOrderQty", "missing");
    rules.max_order_qty = *max_limit;
    rules.max_market_order_qty =
        optional_maximum<Qty>(lot_filter, entry, kLot, "maxMarketOrderQty").value_or(Qty{});
    rules.min_notional =
        optional_decimal<Amount>(lot_filter, entry, kLot, "minOrderAmt").value_or(Amount{});
    rules.min_leverage = Amount::from_units(1);
    rules.max_leverage = Amount::from_units(1);
    rules.leverage_step = Amount::from_units(1);
  }
  if (!risk::valid(rules)) {
    throw Unrepresentable{"rules not valid (non-positive step, minimum above maximum, ...)"};
  }
  return rules;
}

InstrumentsInfo parse_document(dom::element document, UnrepresentablePolicy policy) {
  dom::object root;
  if (document.get_object().get(root))
    fail("response is not a JSON object");
  const EntryContext top{"response"};

  std::int64_t ret_code = 0;
  {
    dom::element element;
    if (root["retCode"].get(element))
      fail("response: retCode: missing");
    if (element.get_int64().get(ret_code))
      fail("response: retCode: not an integer");
  }
  if (ret_code != 0) {
    std::string_view message = "<no retMsg>";
    dom::element element;
    if (!root["retMsg"].get(element)) {
      std::string_view text;
      if (!element.get_string().get(text))
        message = text;
    }
    fail("retCode " + std::to_string(ret_code) + ": " + std::string(message));
  }

  const dom::object result = required_object(root, top, "result");
  InstrumentsInfo info;
  {
    dom::element element;
    std::string_view category;
    if (result["category"].get(element) || element.get_string().get(category)) {
      fail("response: result.category: missing or not a string");
    }
    info.category = std::string(category);
  }
  Category category{};
  if (info.category == "linear" || info.category == "inverse") {
    category = Category::derivatives;
  } else if (info.category == "spot") {
    category = Category::spot;
  } else {
    fail("response: result.category: unsupported \"" + info.category + "\"");
  }
  {
    dom::element element;
    if (!result["nextPageCursor"].get(element)) {
      std::string_view cursor;
      if (element.get_string().get(cursor))
        fail("response: result.nextPageCursor: not a string");
      info.next_page_cursor = std::string(cursor);
    }
  }
  dom::array list;
  {
    dom::element element;
    if (result["list"].get(element))
      fail("response: result.list: missing");
    if (element.get_array().get(list))
      fail("response: result.list: not an array");
  }

  std::size_t index = 0;
  for (const dom::element item_element : list) {
    EntryContext entry{"list[" + std::to_string(index) + "]"};
    ++index;
    dom::object item;
    if (item_element.get_object().get(item))
      fail(entry.symbol + ": not an object");
    try {
      info.rules.push_back(parse_entry(item, category, entry));
    } catch (Unrepresentable& problem) {
      if (policy == UnrepresentablePolicy::fail)
        fail(entry.symbol + ": " + problem.reason);
      info.skipped.push_back(SkippedInstrument{entry.symbol, std::move(problem.reason)});
    }
  }
  return info;
}

InstrumentsInfo parse_padded(const simdjson::padded_string& json, UnrepresentablePolicy policy) {
  dom::parser parser;
  dom::element document;
  if (const auto error = parser.parse(json).get(document)) {
    fail(std::string("invalid JSON: ") + simdjson::error_message(error));
  }
  return parse_document(document, policy);
}

}  // namespace

InstrumentsInfo parse_instruments_info(std::string_view json, UnrepresentablePolicy policy) {
  const simdjson::padded_string padded(json);
  return parse_padded(padded, policy);
}

std::vector<risk::InstrumentRules> parse_instruments_info(std::string_view json) {
  return parse_instruments_info(json, UnrepresentablePolicy::fail).rules;
}

InstrumentsInfo load_instruments_info_file(const std::string& path, UnrepresentablePolicy policy) {
  simdjson::padded_string padded;
  if (const auto error = simdjson::padded_string::load(path).get(padded)) {
    throw InstrumentsError(path + ": cannot open: " + simdjson::error_message(error));
  }
  return parse_padded(padded, policy);
}

const risk::InstrumentRules* find(const std::vector<risk::InstrumentRules>& rules,
                                  std::string_view symbol) noexcept {
  for (const auto& candidate : rules) {
    if (std::string_view(candidate.symbol) == symbol)
      return &candidate;
  }
  return nullptr;
}

}  // namespace kinetic::feed
