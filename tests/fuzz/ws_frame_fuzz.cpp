// Fuzzes the WebSocket deframer (both roles) and the handshake parsers.
//
// Input layout: byte 0 picks the maximum message size, bytes 1-2 pick two split points; the
// rest is the stream. Each role's deframer receives the stream in three chunks, as a
// connection would, into an exactly sized heap buffer (plus the padding the API requires),
// so ASan catches any read past what was given. Every consumed count is checked against the
// bytes given. The whole input is also fed to both handshake parsers at every prefix length
// that matters (the full input and the split points).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include "kinetic/feed/websocket.hpp"

namespace {

using kinetic::feed::WsDeframer;
using kinetic::feed::WsEvent;
using kinetic::feed::WsEventKind;
using kinetic::feed::WsRole;

void check(bool condition) {
  if (!condition)
    std::abort();
}

void run_deframer(WsRole role, std::size_t max_message, const std::uint8_t* stream,
                  std::size_t size, std::size_t cut1, std::size_t cut2) {
  WsDeframer deframer(role, max_message);
  // Exactly size + padding bytes: the padding is the documented precondition, anything past
  // it is a heap overflow for ASan.
  const std::unique_ptr<char[]> buffer(new char[size + WsDeframer::kPadding]);
  std::memset(buffer.get() + size, 0, WsDeframer::kPadding);
  std::size_t begin = 0;
  std::size_t end = 0;
  for (const std::size_t cut : {cut1, cut2, size}) {
    if (cut > end) {
      std::memcpy(buffer.get() + end, stream + end, cut - end);
      end = cut;
    }
    while (true) {
      const std::size_t given = end - begin;
      const WsEvent ev = deframer.next(std::span<char>(buffer.get() + begin, given));
      check(ev.consumed <= given);
      begin += ev.consumed;
      if (ev.kind == WsEventKind::need_more)
        break;
      if (ev.kind == WsEventKind::error) {
        check(ev.close_code == 1002 || ev.close_code == 1007 || ev.close_code == 1009);
        return;
      }
      if (ev.kind == WsEventKind::message) {
        check(ev.payload.size() <= max_message);
        // Touch every payload byte and the padding after it (simdjson may read it).
        volatile char sink = 0;
        for (std::size_t i = 0; i < ev.payload.size() + WsDeframer::kPadding; ++i)
          sink = static_cast<char>(sink ^ ev.payload.data()[i]);
        (void)sink;
      }
      if (ev.kind == WsEventKind::ping || ev.kind == WsEventKind::pong)
        check(ev.payload.size() <= 125);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3)
    return 0;
  const std::size_t max_message = static_cast<std::size_t>(data[0]) * 64;  // 0 .. 16320
  const std::uint8_t* stream = data + 3;
  const std::size_t stream_size = size - 3;
  std::size_t cut1 = stream_size == 0 ? 0 : data[1] % (stream_size + 1);
  std::size_t cut2 = stream_size == 0 ? 0 : data[2] % (stream_size + 1);
  if (cut1 > cut2)
    std::swap(cut1, cut2);
  run_deframer(WsRole::client, max_message, stream, stream_size, cut1, cut2);
  run_deframer(WsRole::server, max_message, stream, stream_size, cut1, cut2);

  // Handshake parsers over an exactly sized copy (string_view over fuzzer data is exact too).
  const std::string_view text(reinterpret_cast<const char*>(stream), stream_size);
  kinetic::feed::WsKey key;
  std::memcpy(key.chars.data(), "dGhlIHNhbXBsZSBub25jZQ==", 24);
  for (const std::size_t prefix : {cut1, cut2, stream_size}) {
    const auto response = kinetic::feed::parse_ws_server_response(text.substr(0, prefix), key);
    check(response.consumed <= prefix);
    const auto request = kinetic::feed::parse_ws_client_request(text.substr(0, prefix));
    check(request.consumed <= prefix);
    if (request.error == kinetic::feed::HandshakeError::ok) {
      // Views must lie inside the input.
      check(request.path.data() >= text.data() &&
            request.path.data() + request.path.size() <= text.data() + prefix);
      check(request.host.data() >= text.data() &&
            request.host.data() + request.host.size() <= text.data() + prefix);
      char out[256];
      check(kinetic::feed::build_ws_server_response(request.key, out) > 0);
    }
  }
  return 0;
}
