// libFuzzer target for BybitDecoder::decode: arbitrary bytes must never crash, leak, read past
// the 64 padding bytes (the copy is heap-allocated to exactly size + padding, so ASan sees any
// over-read), or write more events than `out` holds. Differential too: a second decoder with
// the fast path off (simdjson only) must give the same status, error, events and symbols.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "kinetic/feed/bybit_decoder.hpp"

namespace {

using kinetic::MarketEvent;
using kinetic::feed::BybitDecoder;
using kinetic::feed::DecodeStatus;

kinetic::feed::BybitDecoderConfig make_config(bool fast_path) {
  kinetic::feed::BybitDecoderConfig config;
  config.max_message_bytes = 64 * 1024;
  config.fast_path = fast_path;
  return config;
}

struct State {
  kinetic::feed::SymbolTable symbols{8};  // small, so a full table is reached too
  kinetic::feed::SymbolTable exact_symbols{8};
  BybitDecoder decoder{symbols, make_config(true)};
  BybitDecoder exact{exact_symbols, make_config(false)};
  MarketEvent events[9]{};
  MarketEvent exact_events[8]{};
};

/// The fast path must be invisible: same outcome and the same bytes in every event.
void same(const kinetic::feed::DecodeResult& a, const kinetic::feed::DecodeResult& b,
          const MarketEvent* events, const MarketEvent* exact_events) {
  if (a.status != b.status || a.error != b.error || a.events != b.events)
    std::abort();
  if (a.status == DecodeStatus::data &&
      std::memcmp(events, exact_events, a.events * sizeof(MarketEvent)) != 0)
    std::abort();
}

void check(const kinetic::feed::DecodeResult& r, std::size_t capacity) {
  if (r.events > capacity)
    std::abort();
  if (r.status != DecodeStatus::data && r.events != 0)
    std::abort();
  if (r.status == DecodeStatus::data && r.events == 0)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State state;
  const std::unique_ptr<char[]> copy(new char[size + BybitDecoder::kMessagePadding]);
  if (size != 0)
    std::memcpy(copy.get(), data, size);
  // Padding that looks like JSON, as the next frame in a receive buffer would.
  std::memset(copy.get() + size, '"', BybitDecoder::kMessagePadding);
  const std::string_view message(copy.get(), size);

  // A small `out` (8 of the 9 slots) and then a single slot; the 9th must stay untouched.
  std::memset(&state.events[8], 0xAB, sizeof(MarketEvent));
  const auto wide = state.decoder.decode(message, 1, std::span(state.events, 8));
  check(wide, 8);
  same(wide, state.exact.decode(message, 1, std::span(state.exact_events, 8)), state.events,
       state.exact_events);
  const auto narrow = state.decoder.decode(message, 2, std::span(state.events, 1));
  check(narrow, 1);
  same(narrow, state.exact.decode(message, 2, std::span(state.exact_events, 1)), state.events,
       state.exact_events);
  if (state.symbols.size() != state.exact_symbols.size())
    std::abort();
  const auto* guard = reinterpret_cast<const unsigned char*>(&state.events[8]);
  for (std::size_t i = 0; i < sizeof(MarketEvent); ++i) {
    if (guard[i] != 0xAB)
      std::abort();
  }
  return 0;
}
