#pragma once
// WebSocket (RFC 6455) at the byte level, both roles: the opening handshake, a deframer
// (bytes in -> messages, pings, pongs, closes) and a framer (payload -> frame bytes).
//
// No I/O here: the transport (TCP, TLS) and the connection logic sit on top. The intended
// receive loop of a connection:
//
//   // buffer: a big receive buffer; `end` bytes received, `begin` of them consumed; at least
//   // kPadding bytes of the buffer stay readable after `end` (never received into).
//   for (;;) {
//     const WsEvent ev = deframer.next(std::span(buffer + begin, end - begin));
//     begin += ev.consumed;
//     switch (ev.kind) {
//       case WsEventKind::need_more: /* compact [begin, end) to the front, receive */ break;
//       case WsEventKind::message:   /* parse ev.payload (simdjson in place)        */ continue;
//       case WsEventKind::ping:      /* send framer.pong(ev.payload, out)           */ continue;
//       case WsEventKind::pong:      continue;
//       case WsEventKind::close:     /* echo framer.close(ev.close_code, ...)       */ break;
//       case WsEventKind::error:     /* send framer.close(ev.close_code, ...), drop  */ break;
//     }
//   }
//
// Nothing here throws or allocates after construction; every hot-path function is noexcept.

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace kinetic::feed {

/// Readable bytes the deframer's caller must keep after the last received byte, so that a
/// message delivered in place can be parsed by simdjson without a copy.
inline constexpr std::size_t kWsPadding = simdjson::SIMDJSON_PADDING;

/// Which end of the connection this code plays. A client masks what it sends and expects
/// unmasked frames; a server the reverse (RFC 6455 §5.1).
enum class WsRole : std::uint8_t { client, server };

/// Frame opcodes (RFC 6455 §5.2).
enum class WsOpcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Close status codes this code sends or interprets (RFC 6455 §7.4.1).
namespace ws_close {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kNoStatus = 1005;  ///< reported when a close has no payload
inline constexpr std::uint16_t kInvalidPayload = 1007;
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kMessageTooBig = 1009;
inline constexpr std::uint16_t kInternalError = 1011;
}  // namespace ws_close

/// True when `code` may appear in a close frame on the wire: 1000-1003, 1007-1014 and the
/// application/library ranges 3000-4999.
[[nodiscard]] bool is_valid_wire_close_code(std::uint16_t code) noexcept;

// ---------------------------------------------------------------------------------------
// Opening handshake (RFC 6455 §4)
// ---------------------------------------------------------------------------------------

/// Why a handshake step did not succeed. `ok` is zero. `incomplete` is not a failure: the
/// header's blank line has not arrived yet; receive more and call again.
enum class HandshakeError : std::uint8_t {
  ok = 0,
  incomplete,            ///< need more bytes (no CRLFCRLF yet)
  header_too_large,      ///< no CRLFCRLF within kMaxHandshakeSize bytes
  buffer_too_small,      ///< the output buffer cannot hold what must be written
  malformed,             ///< not HTTP/1.1 syntax (status/request line, header line)
  bad_status,            ///< response status is not 101
  bad_method,            ///< request method is not GET
  bad_http_version,      ///< not HTTP/1.1 (or later 1.x)
  missing_host,          ///< request without Host
  missing_upgrade,       ///< no `Upgrade: websocket`
  missing_connection,    ///< no `upgrade` token in Connection
  bad_ws_version,        ///< Sec-WebSocket-Version missing or not 13 (answer 426)
  bad_key,               ///< Sec-WebSocket-Key missing or not base64 of 16 bytes
  bad_accept,            ///< Sec-WebSocket-Accept missing or wrong
  unexpected_extension,  ///< server chose an extension or subprotocol nobody asked for
  bad_argument,          ///< caller's input is invalid (empty host, path without '/')
};

/// A short name for logs ("bad_accept").
[[nodiscard]] std::string_view to_string(HandshakeError error) noexcept;

/// Largest handshake header accepted (request or response), CRLFCRLF included.
inline constexpr std::size_t kMaxHandshakeSize = 8192;

/// A Sec-WebSocket-Key: base64 of 16 bytes, always 24 characters. Value type.
struct WsKey {
  std::array<char, 24> chars{};
  [[nodiscard]] std::string_view view() const noexcept { return {chars.data(), chars.size()}; }
};

/// A Sec-WebSocket-Accept value: base64 of a SHA-1, always 28 characters. Value type.
struct WsAccept {
  std::array<char, 28> chars{};
  [[nodiscard]] std::string_view view() const noexcept { return {chars.data(), chars.size()}; }
};

/// The key for 16 random bytes (the caller draws them, e.g. with getrandom).
[[nodiscard]] WsKey make_ws_key(std::span<const std::uint8_t, 16> random_bytes) noexcept;

/// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) (RFC 6455 §4.2.2).
[[nodiscard]] WsAccept compute_ws_accept(const WsKey& key) noexcept;

/// Where a client connects. Views; they only need to live during the call.
struct WsClientTarget {
  std::string_view host;                  ///< "stream.bybit.com" (IPv6: "[::1]")
  std::uint16_t port = 443;               ///< written in Host unless it is the default
  bool tls = true;                        ///< default port 443 when true, 80 when false
  std::string_view path_and_query = "/";  ///< "/v5/public/linear?x=1"; must start with '/'
  std::string_view extra_headers = {};    ///< complete lines, each ending in CRLF, or empty
};

/// Writes the client's GET upgrade request into `out`. Returns the bytes written, or 0 when
/// `out` is too small or the target is invalid (empty host, path not starting with '/').
[[nodiscard]] std::size_t build_ws_client_request(const WsClientTarget& target, const WsKey& key,
                                                  std::span<char> out) noexcept;

/// Outcome of parsing the server's response. When error is ok, `consumed` is the header's
/// length: bytes after it are already WebSocket frames and belong to the deframer.
/// `http_status` is the parsed status code (0 when the status line was not readable).
struct WsResponseParse {
  HandshakeError error = HandshakeError::incomplete;
  std::size_t consumed = 0;
  std::uint16_t http_status = 0;
};

/// Parses the server's response to a request sent with `key`, from the bytes received so
/// far. Incremental: returns `incomplete` (consumed 0) until the blank line has arrived;
/// call again with all bytes received since the start. Checks the status 101, Upgrade,
/// Connection (case-insensitive; Connection may be a list) and Sec-WebSocket-Accept.
[[nodiscard]] WsResponseParse parse_ws_server_response(std::string_view received,
                                                       const WsKey& key) noexcept;

/// Outcome of parsing a client's upgrade request (server role). `path` and `host` view the
/// received bytes; `consumed` is the header's length when error is ok.
struct WsRequestParse {
  HandshakeError error = HandshakeError::incomplete;
  std::size_t consumed = 0;
  std::string_view path;  ///< request target, query included ("/ws?a=1")
  std::string_view host;  ///< Host header value
  WsKey key;
};

/// Parses a client's upgrade request (method GET, HTTP/1.1, Host, Upgrade, Connection,
/// Sec-WebSocket-Version 13, a valid key). Incremental like parse_ws_server_response.
[[nodiscard]] WsRequestParse parse_ws_client_request(std::string_view received) noexcept;

/// The HTTP status a server should answer a failed request with: 426 for bad_ws_version,
/// 400 otherwise (404 is the caller's decision, from the path).
[[nodiscard]] std::uint16_t http_status_for(HandshakeError error) noexcept;

/// Writes "HTTP/1.1 101 Switching Protocols" with the accept for `key`. Bytes written, or 0
/// when `out` is too small.
[[nodiscard]] std::size_t build_ws_server_response(const WsKey& key, std::span<char> out) noexcept;

/// Writes a plain HTTP error response (400, 404, 426 with `Sec-WebSocket-Version: 13`, or
/// any other status with a generic reason), `Content-Length: 0`, `Connection: close`.
/// Bytes written, or 0 when `out` is too small.
[[nodiscard]] std::size_t build_http_error_response(std::uint16_t status,
                                                    std::span<char> out) noexcept;

// ---------------------------------------------------------------------------------------
// Deframer
// ---------------------------------------------------------------------------------------

/// Why the deframer rejected the stream. Each maps to the close code to send
/// (close_code_for): 1002 for protocol errors, 1009 too big, 1007 invalid UTF-8.
enum class WsError : std::uint8_t {
  none = 0,
  reserved_bits,             ///< RSV1-3 set (no extension negotiated)          1002
  unknown_opcode,            ///< opcode 3-7 or B-F                             1002
  control_too_long,          ///< control frame payload > 125                   1002
  control_fragmented,        ///< control frame without FIN                     1002
  unexpected_continuation,   ///< continuation with no message to continue      1002
  expected_continuation,     ///< new text/binary inside a fragmented message   1002
  mask_missing,              ///< server role: client frame not masked          1002
  mask_unexpected,           ///< client role: server frame masked              1002
  length_top_bit,            ///< 64-bit length with the most significant bit   1002
  close_payload_length_one,  ///< close payload of exactly one byte             1002
  invalid_close_code,        ///< close code not allowed on the wire            1002
  message_too_big,           ///< message longer than max_message_size          1009
  invalid_utf8,              ///< text message not UTF-8                        1007
  invalid_close_reason,      ///< close reason not UTF-8                        1007
};

/// The close code to send for `error` (1002, 1007 or 1009); 1000 for none.
[[nodiscard]] std::uint16_t close_code_for(WsError error) noexcept;
/// A short name for logs ("reserved_bits").
[[nodiscard]] std::string_view to_string(WsError error) noexcept;

enum class WsEventKind : std::uint8_t {
  need_more,  ///< no complete event in the bytes given; receive more (consumed may be > 0:
              ///< whole fragments moved into the reassembly buffer)
  message,    ///< a complete text or binary message in `payload`
  ping,       ///< `payload` is the ping's application data (answer with a pong of it)
  pong,       ///< `payload` is the pong's application data
  close,      ///< peer's close: `close_code` (1005 when absent) and `payload` the reason
  error,      ///< protocol violation: send a close with `close_code`, then drop the link
};

/// One result of WsDeframer::next. A plain value; `payload` views memory it does not own
/// (see WsDeframer for how long it stays valid).
struct WsEvent {
  WsEventKind kind = WsEventKind::need_more;
  std::size_t consumed = 0;       ///< bytes of the given span used up; always <= its size
  std::string_view payload;       ///< message data, ping/pong data, or close reason
  bool text = false;              ///< message: a text message (UTF-8 validated)
  bool in_place = false;          ///< message: payload lies in the caller's buffer
  std::uint16_t close_code = 0;   ///< close: the peer's code; error: the code to send
  WsError error = WsError::none;  ///< error: the reason
};

/// Turns received bytes into WebSocket events (RFC 6455 §5), one call at a time.
///
/// next(bytes) takes the bytes received and not yet consumed, and returns the next event
/// with the number of bytes it consumed. A frame is handled once it is entirely in `bytes`
/// (with its header checked as soon as the header has arrived, so a too-big message is
/// refused before its payload is received); otherwise the call returns need_more and the
/// unhandled bytes stay untouched, to be given again (with more appended) next call.
///
/// Where the payload lives and for how long:
///  - a message that is a single unfragmented frame is delivered IN PLACE: `payload` points
///    into the caller's buffer (unmasked there in the server role). It stays valid until the
///    caller overwrites or moves those bytes (e.g. compacts the buffer), even though they
///    are counted as consumed. Pings, pongs and close reasons are likewise in place.
///  - a fragmented message is copied, fragment by fragment, into the deframer's reassembly
///    buffer; `payload` points there and stays valid until the next call to next().
///  In both cases at least kWsPadding readable bytes follow the payload, so simdjson can
///  parse it in place (padded_string_view(payload.data(), payload.size(),
///  payload.size() + kWsPadding)).
///
/// Preconditions of next(): the caller's buffer has at least kWsPadding readable bytes after
/// the last byte of `bytes` (their content does not matter); `bytes` is writable (masked
/// frames are unmasked in place). To make progress, the buffer must be able to hold one
/// whole frame: max_message_size + kWsMaxHeaderSize bytes plus the padding.
///
/// Control frames arriving between the fragments of a message are delivered in order; the
/// message continues afterwards. Text is validated as UTF-8 (simdjson::validate_utf8) once
/// the whole message is there. After an error event the stream is unusable: later calls
/// repeat the error and consume nothing, until reset().
///
/// Ownership: owns its reassembly buffer (allocated once, at construction: the only
/// allocation). Thread-safety: none; one connection's thread owns it. Nothing after
/// construction allocates or throws.
class WsDeframer {
 public:
  static constexpr std::size_t kPadding = kWsPadding;
  static constexpr std::size_t kMaxHeaderSize = 14;  ///< 2 + 8 (length) + 4 (mask)

  /// `max_message_size`: the largest message (sum of its fragments) accepted; larger ones
  /// end the stream with 1009. Throws std::bad_alloc if the buffer cannot be allocated,
  /// std::length_error above 1 TiB.
  WsDeframer(WsRole role, std::size_t max_message_size);

  /// The next event from `bytes` (received, not yet consumed; see the class comment).
  [[nodiscard]] WsEvent next(std::span<char> bytes) noexcept;

  /// Forgets any partial message and any error (for a new connection).
  void reset() noexcept;

  [[nodiscard]] WsRole role() const noexcept { return role_; }
  [[nodiscard]] std::size_t max_message_size() const noexcept { return max_message_size_; }
  /// True while between the fragments of a message.
  [[nodiscard]] bool in_fragmented_message() const noexcept { return fragmenting_; }

 private:
  WsEvent fail(WsError error, std::size_t consumed) noexcept;

  WsRole role_;
  std::size_t max_message_size_;
  std::unique_ptr<char[]> reassembly_;  // max_message_size_ + kPadding bytes
  std::size_t reassembled_size_ = 0;
  bool fragmenting_ = false;
  bool fragmented_text_ = false;
  WsError failed_ = WsError::none;
};

// ---------------------------------------------------------------------------------------
// Framer
// ---------------------------------------------------------------------------------------

/// Largest frame header: 2 bytes + 8 (64-bit length) + 4 (mask key).
inline constexpr std::size_t kWsMaxHeaderSize = 14;

/// Header size of a frame with `payload_size` bytes sent by `role` (2..14).
[[nodiscard]] constexpr std::size_t ws_header_size(std::size_t payload_size, WsRole role) noexcept {
  const std::size_t length_bytes = payload_size < 126 ? 0 : (payload_size <= 0xFFFF ? 2 : 8);
  return 2 + length_bytes + (role == WsRole::client ? 4 : 0);
}

/// XORs `data` with the 4-byte `key` (RFC 6455 §5.3); byte i uses key[(i + key_offset) % 4].
/// Masking and unmasking are the same operation.
void ws_apply_mask(char* data, std::size_t size, std::array<std::uint8_t, 4> key,
                   std::size_t key_offset = 0) noexcept;

/// Encodes frames (RFC 6455 §5.2) into caller buffers. In the client role every frame is
/// masked with a fresh 4-byte key from a xorshift PRNG seeded once, at construction, from
/// getrandom(2).
///
/// Every encoder returns the bytes written, or 0 when the frame does not fit in `out` or is
/// not allowed (a control frame over 125 bytes or without FIN, a close reason over 123
/// bytes): no frame is ever 0 bytes long, so 0 is unambiguous.
///
/// Ownership: none (the PRNG state only). Thread-safety: none (the PRNG state changes on
/// every masked frame); one per sending thread.
class WsFramer {
 public:
  /// Seeds the masking PRNG from getrandom(2) (client role). Throws std::system_error if
  /// the kernel has no randomness to give (start-up only).
  explicit WsFramer(WsRole role);
  /// Deterministic masking keys, for tests and fuzzing. seed 0 is replaced by a constant.
  WsFramer(WsRole role, std::uint64_t seed) noexcept;

  /// A frame with a copy of `payload` (masked in the client role) into `out`.
  [[nodiscard]] std::size_t encode(WsOpcode opcode, bool fin, std::string_view payload,
                                   std::span<char> out) noexcept;

  /// In-place variant, so a large payload is not copied twice: the caller has already put
  /// the payload at `buffer[payload_offset, payload_offset + payload_size)`, with
  /// payload_offset >= ws_header_size(payload_size, role) (kWsMaxHeaderSize always works).
  /// The header is written just before the payload and the payload is masked where it lies.
  /// Returns the frame (a subspan of `buffer` ending at the payload's end), or an empty span
  /// when the header does not fit before the payload or the frame is not allowed.
  [[nodiscard]] std::span<char> encode_in_place(WsOpcode opcode, bool fin, std::span<char> buffer,
                                                std::size_t payload_offset,
                                                std::size_t payload_size) noexcept;

  [[nodiscard]] std::size_t text(std::string_view payload, std::span<char> out) noexcept {
    return encode(WsOpcode::text, true, payload, out);
  }
  [[nodiscard]] std::size_t binary(std::string_view payload, std::span<char> out) noexcept {
    return encode(WsOpcode::binary, true, payload, out);
  }
  [[nodiscard]] std::size_t ping(std::string_view payload, std::span<char> out) noexcept {
    return encode(WsOpcode::ping, true, payload, out);
  }
  [[nodiscard]] std::size_t pong(std::string_view payload, std::span<char> out) noexcept {
    return encode(WsOpcode::pong, true, payload, out);
  }
  /// A close frame with `code` (big-endian) and `reason` (<= 123 bytes, UTF-8).
  [[nodiscard]] std::size_t close(std::uint16_t code, std::string_view reason,
                                  std::span<char> out) noexcept;
  /// A close frame with no payload (no status code).
  [[nodiscard]] std::size_t close_empty(std::span<char> out) noexcept {
    return encode(WsOpcode::close, true, {}, out);
  }

  [[nodiscard]] WsRole role() const noexcept { return role_; }

 private:
  [[nodiscard]] std::array<std::uint8_t, 4> next_mask_key() noexcept;
  [[nodiscard]] std::size_t write_header(WsOpcode opcode, bool fin, std::size_t payload_size,
                                         std::array<std::uint8_t, 4> key, char* at) const noexcept;

  WsRole role_;
  std::uint64_t prng_state_;
};

}  // namespace kinetic::feed
