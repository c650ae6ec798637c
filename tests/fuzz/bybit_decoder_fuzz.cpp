// libFuzzer target for BybitDecoder::decode: arbitrary bytes must never crash, leak, read past
// the 64 padding bytes (the copy is heap-allocated to exactly size + padding, so ASan sees any
// over-read), or write more events than `out` holds.
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

struct State {
  kinetic::feed::SymbolTable symbols{8};  // small, so a full table is reached too
  BybitDecoder decoder{symbols, [] {
                         kinetic::feed::BybitDecoderConfig config;
                         config.max_message_bytes = 64 * 1024;
                         return config;
                       }()};
  MarketEvent events[9]{};
};

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
  check(state.decoder.decode(message, 1, std::span(state.events, 8)), 8);
  check(state.decoder.decode(message, 2, std::span(state.events, 1)), 1);
  const auto* guard = reinterpret_cast<const unsigned char*>(&state.events[8]);
  for (std::size_t i = 0; i < sizeof(MarketEvent); ++i) {
    if (guard[i] != 0xAB)
      std::abort();
  }
  return 0;
}
