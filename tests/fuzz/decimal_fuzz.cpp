// libFuzzer target for the decimal parser and formatter.
//
// For arbitrary bytes:
//  - Price::parse must agree with a slow reference parser written here (digit by digit in
//    128-bit integers): the same error code when it refuses, the same value when it accepts;
//  - an accepted value must survive format -> parse and format_fixed(8) -> parse unchanged,
//    and format_fixed(k) must parse back to the value cut toward zero at k digits;
//  - the first 8 bytes, read as a raw value, must survive format -> parse as well, and the
//    first 16 bytes, read as a value and a step, must round as a 128-bit reference does.
// Any disagreement aborts with a message.
//
// Build (clang): cmake -DKINETIC_BUILD_FUZZ=ON ... --target decimal_fuzz
// Run: decimal_fuzz -max_total_time=60 <copy of tests/fuzz/corpus/decimal>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>

#include "decimal_reference.hpp"
#include "kinetic/core/decimal.hpp"

namespace {

using kinetic::DecimalError;
using kinetic::Price;

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "decimal_fuzz: %s for input '%.*s'\n", what, static_cast<int>(text.size()),
               text.data());
  std::abort();
}

void check_round_trip(Price value, std::string_view input) {
  char buffer[Price::kMaxFormattedLength];
  const std::size_t length = value.format(buffer);
  if (length == 0 || length > Price::kMaxFormattedLength) {
    fail("format length out of range", input);
  }
  const auto again = Price::parse(std::string_view(buffer, length));
  if (!again.ok() || again.value() != value) {
    fail("format -> parse changed the value", input);
  }
  if (length > 1 && buffer[length - 1] == '0' && std::memchr(buffer, '.', length) != nullptr) {
    fail("format left a trailing fraction zero", input);
  }
  for (int digits = 0; digits <= 8; ++digits) {
    const std::size_t fixed_length = value.format_fixed(buffer, digits);
    const auto fixed = Price::parse(std::string_view(buffer, fixed_length));
    if (!fixed.ok()) {
      fail("format_fixed output does not parse", input);
    }
    std::int64_t unit = 1;
    for (int i = digits; i < 8; ++i) {
      unit *= 10;
    }
    const std::int64_t expected = value.raw() / unit * unit;  // cut toward zero
    if (fixed.value().raw() != expected) {
      fail("format_fixed did not cut toward zero", input);
    }
  }
}

void check_rounding(std::int64_t raw, std::int64_t step, std::string_view input) {
  if (step <= 0) {
    return;
  }
  const Price value = Price::from_raw(raw);
  const Price step_price = Price::from_raw(step);
  const kinetic::test::ReferenceRounding expected = kinetic::test::reference_round(raw, step);
  if (value.round_down(step_price).raw() != expected.down) {
    fail("round_down disagrees with the reference", input);
  }
  if (value.round_up(step_price).raw() != expected.up) {
    fail("round_up disagrees with the reference", input);
  }
  if (value.round_nearest(step_price).raw() != expected.nearest) {
    fail("round_nearest disagrees with the reference", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto parsed = Price::parse(text);
  const kinetic::test::ReferenceParse expected = kinetic::test::reference_parse(text);
  if (parsed.error() != expected.error) {
    fail("parse error code differs from the reference", text);
  }
  if (parsed.ok()) {
    if (parsed.value().raw() != expected.raw) {
      fail("parse value differs from the reference", text);
    }
    check_round_trip(parsed.value(), text);
  }

  if (size >= 8) {
    std::int64_t raw = 0;
    std::memcpy(&raw, data, sizeof raw);
    check_round_trip(Price::from_raw(raw), text);
    if (size >= 16) {
      std::int64_t step = 0;
      std::memcpy(&step, data + 8, sizeof step);
      check_rounding(raw, step, text);
      check_rounding(raw, step & 0xffff'ffff, text);  // small steps too
    }
  }
  return 0;
}
