#pragma once
// Loader for Bybit's GET /v5/market/instruments-info response: turns each instrument's
// priceFilter, lotSizeFilter and leverageFilter into a risk::InstrumentRules.
//
// Start-up and tool code: allocates, and reports problems by throwing InstrumentsError.
// Every decimal is parsed exactly (Price/Qty/Amount::parse); nothing goes through double.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kinetic/core/risk/instrument.hpp"

namespace kinetic::feed {

/// A malformed response, retCode ≠ 0, or an entry that cannot be represented. The message
/// names the symbol and field where one is involved, e.g.
/// "instruments-info: BTCUSDT: lotSizeFilter.qtyStep: missing".
class InstrumentsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What to do with an entry that is well-formed JSON but cannot be held exactly in
/// InstrumentRules: a symbol longer than 15 characters, a decimal with more than 8 fraction
/// digits (spot tick sizes of 1e-9 exist) or beyond the fixed-point range, or rules that
/// fail risk::valid(). A structurally broken entry (missing field, wrong type, not a
/// number) always throws.
enum class UnrepresentablePolicy : std::uint8_t {
  fail,  ///< throw InstrumentsError naming the symbol and field
  skip,  ///< leave the entry out and record it in InstrumentsInfo::skipped
};

/// An entry left out under UnrepresentablePolicy::skip.
struct SkippedInstrument {
  std::string symbol;
  std::string reason;  ///< e.g. "priceFilter.tickSize: too_many_fraction_digits"
};

/// A parsed response page. Owns its strings and vectors; plain value type.
struct InstrumentsInfo {
  std::string category;          ///< result.category: "linear", "inverse" or "spot"
  std::string next_page_cursor;  ///< result.nextPageCursor ("" or absent: last page)
  std::vector<risk::InstrumentRules> rules;
  std::vector<SkippedInstrument> skipped;
};

/// Parses one response page. Linear/inverse entries use priceFilter {minPrice, maxPrice,
/// tickSize}, lotSizeFilter {qtyStep, minOrderQty, maxOrderQty, maxMktOrderQty (optional),
/// minNotionalValue (optional)} and leverageFilter {minLeverage, maxLeverage, leverageStep}.
/// Spot entries use priceFilter {tickSize}, lotSizeFilter {basePrecision as the step,
/// minOrderQty (optional; else basePrecision), maxLimitOrderQty (else maxOrderQty),
/// maxMarketOrderQty (optional), minOrderAmt (optional) as the minimum notional}, no price
/// band, and leverage 1 (min = max = step = 1). "option" is refused.
/// Throws InstrumentsError for invalid JSON, retCode ≠ 0 (message carries retCode and
/// retMsg), a missing result/list, and bad entries as the policy says.
[[nodiscard]] InstrumentsInfo parse_instruments_info(std::string_view json,
                                                     UnrepresentablePolicy policy);

/// Strict form: every entry must be representable; returns just the rules.
[[nodiscard]] std::vector<risk::InstrumentRules> parse_instruments_info(std::string_view json);

/// Reads a file holding one response body and parses it (strict unless `policy` says skip).
/// Throws InstrumentsError("PATH: cannot open ...") when it cannot be read.
[[nodiscard]] InstrumentsInfo load_instruments_info_file(
    const std::string& path, UnrepresentablePolicy policy = UnrepresentablePolicy::fail);

/// The rules for `symbol`, or nullptr. Linear search (start-up code); the pointer stays valid
/// while `rules` is not modified.
[[nodiscard]] const risk::InstrumentRules* find(const std::vector<risk::InstrumentRules>& rules,
                                                std::string_view symbol) noexcept;

}  // namespace kinetic::feed
