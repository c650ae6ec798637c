// libFuzzer target for the instruments-info loader.
//
// For arbitrary bytes, parse_instruments_info either throws InstrumentsError (anything else
// escaping is a bug) or returns rules that:
//  - are all risk::valid() with a NUL-terminated symbol find() can locate;
//  - under the strict policy equal, entry for entry, what the skip policy returns, which then
//    skips nothing;
//  - survive the hot-path helpers: rounded quantities and prices land on their grids, a
//    rounded order passes check_order or fails it with an instrument reason, and
//    min_qty_for_notional gives a step multiple at or above the minimum quantity.
// Any violation aborts with a message.
//
// Build (clang): cmake --preset fuzz && cmake --build --preset fuzz --target instruments_info_fuzz
// Run: instruments_info_fuzz -max_total_time=60 <copy of tests/fuzz/corpus/instruments_info>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "kinetic/core/risk/instrument.hpp"
#include "kinetic/feed/instruments_info.hpp"

namespace {

using kinetic::OrderType;
using kinetic::Price;
using kinetic::Qty;
using kinetic::Side;
using kinetic::feed::InstrumentsError;
using kinetic::feed::InstrumentsInfo;
using kinetic::feed::UnrepresentablePolicy;
using kinetic::risk::InstrumentRules;
using kinetic::risk::RejectReason;

[[noreturn]] void fail(const char* what, const InstrumentRules& rules) {
  std::fprintf(stderr, "instruments_info_fuzz: %s (symbol \"%.16s\")\n", what, rules.symbol);
  std::abort();
}

void check_rules(const InstrumentRules& rules, const std::vector<InstrumentRules>& all) {
  if (!kinetic::risk::valid(rules))
    fail("returned rules are not valid()", rules);
  if (std::memchr(rules.symbol, '\0', sizeof(rules.symbol)) == nullptr) {
    fail("symbol not NUL-terminated", rules);
  }
  if (kinetic::feed::find(all, rules.symbol) == nullptr)
    fail("find() misses a symbol", rules);

  // Probe the hot-path helpers at a few quantities and prices derived from the rules.
  const Qty probes[] = {rules.min_order_qty, rules.max_order_qty,
                        Qty::from_raw(rules.max_order_qty.raw() / 3 + 1), rules.qty_step};
  const Price price = rules.max_price.is_zero() ? Price::from_units(100) : rules.max_price;
  for (const Qty wanted : probes) {
    const Qty q = kinetic::risk::round_qty_down(rules, wanted);
    if (!q.is_zero() && !q.is_multiple_of(rules.qty_step))
      fail("qty off the step", rules);
    if (q > wanted)
      fail("round_qty_down grew the quantity", rules);
    const Price limit = kinetic::risk::round_limit_price(rules, Side::buy, price);
    if (!limit.is_zero() && !limit.is_multiple_of(rules.tick_size)) {
      fail("price off the tick", rules);
    }
    if (limit > price)
      fail("buy price rounded up", rules);
    if (!q.is_zero() && limit.raw() > 0) {
      const RejectReason reason =
          kinetic::risk::check_order(rules, Side::buy, OrderType::limit, limit, q);
      if (reason != RejectReason::none && reason != RejectReason::qty_below_min &&
          reason != RejectReason::qty_above_max && reason != RejectReason::notional_below_min &&
          reason != RejectReason::price_out_of_range && reason != RejectReason::invalid_input) {
        fail("unexpected reason from check_order", rules);
      }
    }
  }
  const auto minimum = kinetic::risk::min_qty_for_notional(rules, price);
  if (minimum.ok()) {
    const Qty m = minimum.value();
    if (!m.is_multiple_of(rules.qty_step) || m < rules.min_order_qty || m.raw() <= 0) {
      fail("min_qty_for_notional off the step or below the minimum", rules);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  InstrumentsInfo skipping;
  try {
    skipping = kinetic::feed::parse_instruments_info(json, UnrepresentablePolicy::skip);
  } catch (const InstrumentsError&) {
    return 0;  // refused: fine, as long as it is InstrumentsError
  }
  for (const auto& rules : skipping.rules)
    check_rules(rules, skipping.rules);

  std::vector<InstrumentRules> strict;
  try {
    strict = kinetic::feed::parse_instruments_info(json);
  } catch (const InstrumentsError&) {
    if (skipping.skipped.empty()) {
      std::fprintf(stderr, "instruments_info_fuzz: strict refused what skip fully accepted\n");
      std::abort();
    }
    return 0;
  }
  if (!skipping.skipped.empty() || strict.size() != skipping.rules.size() ||
      (!strict.empty() &&
       std::memcmp(strict.data(), skipping.rules.data(), strict.size() * sizeof(strict[0])) != 0)) {
    std::fprintf(stderr, "instruments_info_fuzz: strict and skip policies disagree\n");
    std::abort();
  }
  return 0;
}
