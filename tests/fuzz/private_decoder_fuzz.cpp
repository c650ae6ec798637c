// libFuzzer target for PrivateDecoder: arbitrary bytes, as a private-stream message and as
// each REST list, must never crash, leak, read past the 64 padding bytes (the copy is
// heap-allocated to exactly size + padding, so ASan sees any over-read), deliver more items
// than reported, or deliver anything for a message reported as an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "kinetic/exec/private_decoder.hpp"

namespace {

using namespace kinetic::exec;

struct CheckingSink final : PrivateSink {
  std::size_t items = 0;
  std::size_t calls = 0;
  void on_orders(std::span<const OrderUpdate> s) override { seen(s.size()); }
  void on_executions(std::span<const ExecutionReport> s) override { seen(s.size()); }
  void on_positions(std::span<const PositionUpdate> s) override { seen(s.size()); }
  void on_wallets(std::span<const WalletUpdate> s) override { seen(s.size()); }
  void on_control(const PrivateControl& control) override {
    ++calls;
    if (control.req_id.view().size() > 64 || control.ret_msg.view().size() > 128)
      std::abort();
  }
  void seen(std::size_t n) {
    ++calls;
    items += n;
  }
};

struct State {
  kinetic::feed::SymbolTable symbols{8};  // small, so a full table is reached too
  PrivateDecoder decoder{symbols, make_config()};
  static PrivateDecoderConfig make_config() {
    PrivateDecoderConfig config;
    config.max_message_bytes = 64 * 1024;
    config.max_items = 4;  // small, so overflow is reached too
    return config;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State state;
  const auto padded = std::make_unique<char[]>(size + PrivateDecoder::kMessagePadding);
  if (size > 0)
    std::memcpy(padded.get(), data, size);
  // Spaces, as decode_unpadded pads its copy (see below).
  std::memset(padded.get() + size, ' ', PrivateDecoder::kMessagePadding);
  const std::string_view message(padded.get(), size);

  CheckingSink sink;
  const PrivateDecodeResult r = state.decoder.decode(message, sink);
  switch (r.status) {
    case PrivateDecodeStatus::data:
      if (sink.calls != 1 || sink.items != r.items || r.items == 0 || r.items > 4)
        std::abort();
      break;
    case PrivateDecodeStatus::control:
      if (sink.calls != 1 || sink.items != 0)
        std::abort();
      break;
    case PrivateDecodeStatus::error:
      if (r.error == PrivateDecodeError::none)
        std::abort();
      [[fallthrough]];
    case PrivateDecodeStatus::ignored:
    case PrivateDecodeStatus::unknown_topic:
      if (sink.calls != 0)
        std::abort();
      break;
  }
  // The same bytes unpadded (the decoder copies them and pads with spaces) must give the
  // same outcome. (Not with any padding: simdjson's on-demand parser may look at the padding
  // when a broken document ends too early, so the verdict on such a message can depend on
  // it — memory-safe, but a known limit of on-demand validation.)
  CheckingSink again;
  const PrivateDecodeResult u = state.decoder.decode_unpadded(message, again);
  if (u.status != r.status || u.error != r.error || u.items != r.items || again.items != sink.items)
    std::abort();

  for (const RestList list :
       {RestList::orders, RestList::executions, RestList::positions, RestList::wallets}) {
    CheckingSink rest_sink;
    const RestListResult rest = state.decoder.decode_rest(list, message, rest_sink);
    const bool delivered = rest_sink.calls != 0;
    if (delivered != rest.ok() || rest_sink.items != rest.items || rest_sink.calls > 1)
      std::abort();
  }
  return 0;
}
