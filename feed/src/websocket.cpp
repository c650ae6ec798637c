#include "kinetic/feed/websocket.hpp"

#include <openssl/evp.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace kinetic::feed {

namespace {

constexpr std::string_view kWsGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Standard base64 with '=' padding; `out` holds 4 * ceil(size / 3) chars.
void base64_encode(const std::uint8_t* data, std::size_t size, char* out) noexcept {
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t triple = (std::uint32_t{data[i]} << 16) |
                                 (std::uint32_t{data[i + 1]} << 8) | std::uint32_t{data[i + 2]};
    *out++ = kBase64Alphabet[(triple >> 18) & 0x3F];
    *out++ = kBase64Alphabet[(triple >> 12) & 0x3F];
    *out++ = kBase64Alphabet[(triple >> 6) & 0x3F];
    *out++ = kBase64Alphabet[triple & 0x3F];
  }
  const std::size_t rest = size - i;
  if (rest == 0)
    return;
  std::uint32_t triple = std::uint32_t{data[i]} << 16;
  if (rest == 2)
    triple |= std::uint32_t{data[i + 1]} << 8;
  *out++ = kBase64Alphabet[(triple >> 18) & 0x3F];
  *out++ = kBase64Alphabet[(triple >> 12) & 0x3F];
  *out++ = rest == 2 ? kBase64Alphabet[(triple >> 6) & 0x3F] : '=';
  *out = '=';
}

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

// True when `text` is the canonical base64 of exactly 16 bytes: 22 symbols then "==", the
// last symbol carrying only 2 meaningful bits (its low 4 bits zero).
bool is_base64_of_16_bytes(std::string_view text) noexcept {
  if (text.size() != 24 || text[22] != '=' || text[23] != '=')
    return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (base64_value(text[i]) < 0)
      return false;
  }
  return (base64_value(text[21]) & 0x0F) == 0;
}

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// True when the comma-separated `list` holds `token` (case-insensitive), e.g. Connection:
// "keep-alive, Upgrade".
bool list_has_token(std::string_view list, std::string_view token) noexcept {
  while (true) {
    const std::size_t comma = list.find(',');
    if (iequals(trim_ows(list.substr(0, comma)), token))
      return true;
    if (comma == std::string_view::npos)
      return false;
    list.remove_prefix(comma + 1);
  }
}

// Finds the end of the header (just past CRLFCRLF). 0 with `error` set otherwise.
std::size_t header_end(std::string_view received, HandshakeError& error) noexcept {
  const std::size_t limit = std::min(received.size(), kMaxHandshakeSize);
  const std::size_t pos = received.substr(0, limit).find("\r\n\r\n");
  if (pos != std::string_view::npos) {
    error = HandshakeError::ok;
    return pos + 4;
  }
  error = received.size() >= kMaxHandshakeSize ? HandshakeError::header_too_large
                                               : HandshakeError::incomplete;
  return 0;
}

// Walks the header lines after the start line. Calls on_field(name, value) for each; returns
// false on a malformed line (no colon, empty name, obsolete line folding).
template <class OnField>
bool for_each_field(std::string_view fields, OnField&& on_field) noexcept {
  while (!fields.empty()) {
    const std::size_t eol = fields.find("\r\n");
    const std::string_view line = fields.substr(0, eol);
    fields.remove_prefix(eol == std::string_view::npos ? fields.size() : eol + 2);
    if (line.empty())
      break;  // the blank line ending the header
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
        line.front() == '\t')
      return false;
    const std::string_view name = line.substr(0, colon);
    if (name.back() == ' ' || name.back() == '\t')
      return false;  // RFC 7230 §3.2.4: no whitespace between name and colon
    on_field(name, trim_ows(line.substr(colon + 1)));
  }
  return true;
}

// "HTTP/1.x" with x a digit: 1.0 is too old for WebSocket; 1.1 and later minors are fine.
bool is_http11_or_later(std::string_view version) noexcept {
  return version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] == '1' &&
         version[6] == '.' && version[7] >= '1' && version[7] <= '9';
}

// Appends to a fixed buffer; remembers overflow instead of failing at each step.
class Writer {
 public:
  explicit Writer(std::span<char> out) noexcept : out_(out) {}
  Writer& put(std::string_view s) noexcept {
    if (overflow_ || s.size() > out_.size() - size_) {
      overflow_ = true;
      return *this;
    }
    if (!s.empty())  // memcpy from a null data() is undefined even for 0 bytes
      std::memcpy(out_.data() + size_, s.data(), s.size());
    size_ += s.size();
    return *this;
  }
  Writer& put_uint(unsigned value) noexcept {
    char digits[10];
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    std::reverse(digits, digits + n);
    return put({digits, n});
  }
  [[nodiscard]] std::size_t finish() const noexcept { return overflow_ ? 0 : size_; }

 private:
  std::span<char> out_;
  std::size_t size_ = 0;
  bool overflow_ = false;
};

std::uint16_t read_be16(const char* p) noexcept {
  return static_cast<std::uint16_t>((static_cast<unsigned>(static_cast<std::uint8_t>(p[0])) << 8) |
                                    static_cast<std::uint8_t>(p[1]));
}

std::uint64_t read_be64(const char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

bool is_valid_utf8(const char* data, std::size_t size) noexcept {
  return simdjson::validate_utf8(data, size);
}

}  // namespace

bool is_valid_wire_close_code(std::uint16_t code) noexcept {
  // 1004-1006 and 1015 are reserved for reporting, never sent; 1016-2999 unassigned;
  // 3000-4999 are registered/private application codes.
  if (code >= 1000 && code <= 1003)
    return true;
  if (code >= 1007 && code <= 1014)
    return true;
  return code >= 3000 && code <= 4999;
}

// ---------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------

std::string_view to_string(HandshakeError error) noexcept {
  switch (error) {
    case HandshakeError::ok:
      return "ok";
    case HandshakeError::incomplete:
      return "incomplete";
    case HandshakeError::header_too_large:
      return "header_too_large";
    case HandshakeError::buffer_too_small:
      return "buffer_too_small";
    case HandshakeError::malformed:
      return "malformed";
    case HandshakeError::bad_status:
      return "bad_status";
    case HandshakeError::bad_method:
      return "bad_method";
    case HandshakeError::bad_http_version:
      return "bad_http_version";
    case HandshakeError::missing_host:
      return "missing_host";
    case HandshakeError::missing_upgrade:
      return "missing_upgrade";
    case HandshakeError::missing_connection:
      return "missing_connection";
    case HandshakeError::bad_ws_version:
      return "bad_ws_version";
    case HandshakeError::bad_key:
      return "bad_key";
    case HandshakeError::bad_accept:
      return "bad_accept";
    case HandshakeError::unexpected_extension:
      return "unexpected_extension";
    case HandshakeError::bad_argument:
      return "bad_argument";
  }
  return "unknown";
}

WsKey make_ws_key(std::span<const std::uint8_t, 16> random_bytes) noexcept {
  WsKey key;
  base64_encode(random_bytes.data(), random_bytes.size(), key.chars.data());
  return key;
}

WsAccept compute_ws_accept(const WsKey& key) noexcept {
  std::array<char, 24 + kWsGuid.size()> input{};
  std::memcpy(input.data(), key.chars.data(), key.chars.size());
  std::memcpy(input.data() + key.chars.size(), kWsGuid.data(), kWsGuid.size());
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned digest_size = 0;
  // One-shot EVP digest: no context object to manage. SHA-1 is what RFC 6455 prescribes;
  // its weakness does not matter here (the accept only proves the server read the key).
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) !=
          1 ||
      digest_size != 20)
    return WsAccept{};  // all zero bytes: never equal to a real accept value
  WsAccept accept;
  base64_encode(digest.data(), 20, accept.chars.data());
  return accept;
}

std::size_t build_ws_client_request(const WsClientTarget& target, const WsKey& key,
                                    std::span<char> out) noexcept {
  if (target.host.empty() || target.path_and_query.empty() || target.path_and_query[0] != '/')
    return 0;
  Writer w(out);
  w.put("GET ").put(target.path_and_query).put(" HTTP/1.1\r\nHost: ").put(target.host);
  const std::uint16_t default_port = target.tls ? 443 : 80;
  if (target.port != default_port)
    w.put(":").put_uint(target.port);
  w.put("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ")
      .put(key.view())
      .put("\r\nSec-WebSocket-Version: 13\r\n")
      .put(target.extra_headers)
      .put("\r\n");
  return w.finish();
}

WsResponseParse parse_ws_server_response(std::string_view received, const WsKey& key) noexcept {
  WsResponseParse result;
  const std::size_t end = header_end(received, result.error);
  if (end == 0)
    return result;
  const std::string_view header = received.substr(0, end);

  // Status line: HTTP/1.1 SP 3DIGIT SP reason CRLF
  const std::size_t eol = header.find("\r\n");
  const std::string_view status_line = header.substr(0, eol);
  if (status_line.size() < 12 || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    result.error = HandshakeError::malformed;
    return result;
  }
  unsigned status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (status_line[i] < '0' || status_line[i] > '9') {
      result.error = HandshakeError::malformed;
      return result;
    }
    status = status * 10 + static_cast<unsigned>(status_line[i] - '0');
  }
  result.http_status = static_cast<std::uint16_t>(status);
  if (!is_http11_or_later(status_line.substr(0, 8))) {
    result.error = HandshakeError::bad_http_version;
    return result;
  }
  if (status != 101) {
    result.error = HandshakeError::bad_status;
    return result;
  }

  bool upgrade = false;
  bool connection = false;
  bool accept_ok = false;
  bool accept_seen = false;
  bool extension = false;
  const WsAccept expected = compute_ws_accept(key);
  const bool well_formed =
      for_each_field(header.substr(eol + 2), [&](std::string_view name, std::string_view value) {
        if (iequals(name, "upgrade")) {
          upgrade = upgrade || list_has_token(value, "websocket");
        } else if (iequals(name, "connection")) {
          connection = connection || list_has_token(value, "upgrade");
        } else if (iequals(name, "sec-websocket-accept")) {
          accept_ok = !accept_seen && value == expected.view();
          accept_seen = true;
        } else if (iequals(name, "sec-websocket-extensions") ||
                   iequals(name, "sec-websocket-protocol")) {
          extension = extension || !value.empty();
        }
      });
  if (!well_formed)
    result.error = HandshakeError::malformed;
  else if (!upgrade)
    result.error = HandshakeError::missing_upgrade;
  else if (!connection)
    result.error = HandshakeError::missing_connection;
  else if (!accept_ok)
    result.error = HandshakeError::bad_accept;
  else if (extension)
    result.error = HandshakeError::unexpected_extension;
  else
    result.consumed = end;
  return result;
}

WsRequestParse parse_ws_client_request(std::string_view received) noexcept {
  WsRequestParse result;
  const std::size_t end = header_end(received, result.error);
  if (end == 0)
    return result;
  const std::string_view header = received.substr(0, end);

  // Request line: method SP request-target SP HTTP-version CRLF
  const std::size_t eol = header.find("\r\n");
  const std::string_view request_line = header.substr(0, eol);
  const std::size_t sp1 = request_line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos ||
      sp2 == sp1 + 1) {
    result.error = HandshakeError::malformed;
    return result;
  }
  const std::string_view method = request_line.substr(0, sp1);
  const std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = request_line.substr(sp2 + 1);
  if (method != "GET") {
    result.error = HandshakeError::bad_method;
    return result;
  }
  if (!is_http11_or_later(version)) {
    result.error = HandshakeError::bad_http_version;
    return result;
  }
  if (target.front() != '/') {
    result.error = HandshakeError::malformed;  // absolute-form and '*' are not for us
    return result;
  }

  bool upgrade = false;
  bool connection = false;
  bool version_ok = false;
  int keys_seen = 0;
  std::string_view host;
  std::string_view key;
  const bool well_formed =
      for_each_field(header.substr(eol + 2), [&](std::string_view name, std::string_view value) {
        if (iequals(name, "host")) {
          host = value;
        } else if (iequals(name, "upgrade")) {
          upgrade = upgrade || list_has_token(value, "websocket");
        } else if (iequals(name, "connection")) {
          connection = connection || list_has_token(value, "upgrade");
        } else if (iequals(name, "sec-websocket-version")) {
          version_ok = value == "13";
        } else if (iequals(name, "sec-websocket-key")) {
          key = value;
          ++keys_seen;
        }
      });
  if (!well_formed)
    result.error = HandshakeError::malformed;
  else if (host.empty())
    result.error = HandshakeError::missing_host;
  else if (!upgrade)
    result.error = HandshakeError::missing_upgrade;
  else if (!connection)
    result.error = HandshakeError::missing_connection;
  else if (!version_ok)
    result.error = HandshakeError::bad_ws_version;
  else if (keys_seen != 1 || !is_base64_of_16_bytes(key))
    result.error = HandshakeError::bad_key;
  if (result.error != HandshakeError::ok)
    return result;
  result.consumed = end;
  result.path = target;
  result.host = host;
  std::memcpy(result.key.chars.data(), key.data(), result.key.chars.size());
  return result;
}

std::uint16_t http_status_for(HandshakeError error) noexcept {
  return error == HandshakeError::bad_ws_version ? 426 : 400;
}

std::size_t build_ws_server_response(const WsKey& key, std::span<char> out) noexcept {
  Writer w(out);
  w.put(
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
       "Upgrade\r\nSec-WebSocket-Accept: ")
      .put(compute_ws_accept(key).view())
      .put("\r\n\r\n");
  return w.finish();
}

std::size_t build_http_error_response(std::uint16_t status, std::span<char> out) noexcept {
  std::string_view reason = "Error";
  switch (status) {
    case 400:
      reason = "Bad Request";
      break;
    case 403:
      reason = "Forbidden";
      break;
    case 404:
      reason = "Not Found";
      break;
    case 405:
      reason = "Method Not Allowed";
      break;
    case 426:
      reason = "Upgrade Required";
      break;
    case 500:
      reason = "Internal Server Error";
      break;
    case 503:
      reason = "Service Unavailable";
      break;
    default:
      break;
  }
  if (status < 100 || status > 999)
    return 0;
  Writer w(out);
  w.put("HTTP/1.1 ").put_uint(status).put(" ").put(reason).put("\r\n");
  if (status == 426)
    w.put("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
  w.put("Content-Length: 0\r\nConnection: close\r\n\r\n");
  return w.finish();
}

// ---------------------------------------------------------------------------------------
// Masking
// ---------------------------------------------------------------------------------------

void ws_apply_mask(char* data, std::size_t size, std::array<std::uint8_t, 4> key,
                   std::size_t key_offset) noexcept {
  // Rotate the key so that data[0] uses key[key_offset % 4], then XOR 8 bytes at a time
  // with the key repeated twice (the compiler vectorises this loop further).
  std::array<std::uint8_t, 8> key8{};
  for (std::size_t i = 0; i < 8; ++i)
    key8[i] = key[(i + key_offset) % 4];
  std::uint64_t mask64 = 0;
  std::memcpy(&mask64, key8.data(), 8);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t chunk = 0;
    std::memcpy(&chunk, data + i, 8);
    chunk ^= mask64;
    std::memcpy(data + i, &chunk, 8);
  }
  for (; i < size; ++i)
    data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ key8[i % 8]);
}

// ---------------------------------------------------------------------------------------
// Deframer
// ---------------------------------------------------------------------------------------

std::uint16_t close_code_for(WsError error) noexcept {
  switch (error) {
    case WsError::none:
      return ws_close::kNormal;
    case WsError::message_too_big:
      return ws_close::kMessageTooBig;
    case WsError::invalid_utf8:
    case WsError::invalid_close_reason:
      return ws_close::kInvalidPayload;
    default:
      return ws_close::kProtocolError;
  }
}

std::string_view to_string(WsError error) noexcept {
  switch (error) {
    case WsError::none:
      return "none";
    case WsError::reserved_bits:
      return "reserved_bits";
    case WsError::unknown_opcode:
      return "unknown_opcode";
    case WsError::control_too_long:
      return "control_too_long";
    case WsError::control_fragmented:
      return "control_fragmented";
    case WsError::unexpected_continuation:
      return "unexpected_continuation";
    case WsError::expected_continuation:
      return "expected_continuation";
    case WsError::mask_missing:
      return "mask_missing";
    case WsError::mask_unexpected:
      return "mask_unexpected";
    case WsError::length_top_bit:
      return "length_top_bit";
    case WsError::close_payload_length_one:
      return "close_payload_length_one";
    case WsError::invalid_close_code:
      return "invalid_close_code";
    case WsError::message_too_big:
      return "message_too_big";
    case WsError::invalid_utf8:
      return "invalid_utf8";
    case WsError::invalid_close_reason:
      return "invalid_close_reason";
  }
  return "unknown";
}

namespace {
std::size_t checked_capacity(std::size_t max_message_size) {
  // The header's 64-bit length is compared against this bound; keep capacity arithmetic
  // far from overflow.
  if (max_message_size > (std::size_t{1} << 40))
    throw std::length_error("WsDeframer: max_message_size above 1 TiB");
  return max_message_size + WsDeframer::kPadding;
}
}  // namespace

WsDeframer::WsDeframer(WsRole role, std::size_t max_message_size)
    : role_(role),
      max_message_size_(max_message_size),
      reassembly_(new char[checked_capacity(max_message_size)]()) {}

void WsDeframer::reset() noexcept {
  reassembled_size_ = 0;
  fragmenting_ = false;
  fragmented_text_ = false;
  failed_ = WsError::none;
}

WsEvent WsDeframer::fail(WsError error, std::size_t consumed) noexcept {
  failed_ = error;
  WsEvent event;
  event.kind = WsEventKind::error;
  event.consumed = consumed;
  event.error = error;
  event.close_code = close_code_for(error);
  return event;
}

WsEvent WsDeframer::next(std::span<char> bytes) noexcept {
  if (failed_ != WsError::none)
    return fail(failed_, 0);

  // Loops only over fragments that do not complete a message: they are absorbed into the
  // reassembly buffer and counted as consumed, with no event of their own.
  std::size_t consumed = 0;
  while (true) {
    const std::size_t available = bytes.size() - consumed;
    char* const frame = bytes.data() + consumed;
    WsEvent need_more;
    need_more.consumed = consumed;
    if (available < 2)
      return need_more;

    const auto b0 = static_cast<std::uint8_t>(frame[0]);
    const auto b1 = static_cast<std::uint8_t>(frame[1]);
    const bool fin = (b0 & 0x80) != 0;
    const unsigned opcode = b0 & 0x0Fu;
    const bool masked = (b1 & 0x80) != 0;
    const unsigned length7 = b1 & 0x7Fu;

    // Everything decidable from the first two bytes is checked before waiting for more.
    if ((b0 & 0x70) != 0)
      return fail(WsError::reserved_bits, consumed);
    const bool control = (opcode & 0x8u) != 0;
    if (opcode > 0xA || (opcode > 0x2 && opcode < 0x8))
      return fail(WsError::unknown_opcode, consumed);
    if (role_ == WsRole::server && !masked)
      return fail(WsError::mask_missing, consumed);
    if (role_ == WsRole::client && masked)
      return fail(WsError::mask_unexpected, consumed);
    if (control && !fin)
      return fail(WsError::control_fragmented, consumed);
    if (control && length7 > 125)
      return fail(WsError::control_too_long, consumed);
    if (opcode == 0 && !fragmenting_)
      return fail(WsError::unexpected_continuation, consumed);
    if (!control && opcode != 0 && fragmenting_)
      return fail(WsError::expected_continuation, consumed);

    const std::size_t length_bytes = length7 == 126 ? 2 : (length7 == 127 ? 8 : 0);
    const std::size_t header_size = 2 + length_bytes + (masked ? 4 : 0);
    if (available < 2 + length_bytes)
      return need_more;
    std::uint64_t payload_size = length7;
    if (length7 == 126) {
      payload_size = read_be16(frame + 2);
    } else if (length7 == 127) {
      payload_size = read_be64(frame + 2);
      if ((payload_size >> 63) != 0)
        return fail(WsError::length_top_bit, consumed);
    }
    // Too big is decided from the header alone, before the payload arrives.
    if (!control) {
      const std::uint64_t already = opcode == 0 ? reassembled_size_ : 0;
      if (payload_size > max_message_size_ - already)
        return fail(WsError::message_too_big, consumed);
    }
    if (available < header_size || payload_size > available - header_size)
      return need_more;

    const auto size = static_cast<std::size_t>(payload_size);
    char* const payload = frame + header_size;
    if (masked) {
      std::array<std::uint8_t, 4> key{};
      std::memcpy(key.data(), frame + 2 + length_bytes, 4);
      ws_apply_mask(payload, size, key);
    }
    const std::size_t frame_end = consumed + header_size + size;

    if (control) {
      WsEvent event;
      event.consumed = frame_end;
      event.payload = std::string_view(payload, size);
      if (opcode == 0x9) {
        event.kind = WsEventKind::ping;
      } else if (opcode == 0xA) {
        event.kind = WsEventKind::pong;
      } else {
        event.kind = WsEventKind::close;
        if (size == 0) {
          event.close_code = ws_close::kNoStatus;
        } else if (size == 1) {
          return fail(WsError::close_payload_length_one, consumed);
        } else {
          event.close_code = read_be16(payload);
          if (!is_valid_wire_close_code(event.close_code))
            return fail(WsError::invalid_close_code, consumed);
          event.payload = std::string_view(payload + 2, size - 2);
          if (!is_valid_utf8(event.payload.data(), event.payload.size()))
            return fail(WsError::invalid_close_reason, consumed);
        }
      }
      return event;
    }

    if (opcode != 0 && fin) {  // a whole message in one frame: deliver in place
      const bool text = opcode == 0x1;
      if (text && !is_valid_utf8(payload, size))
        return fail(WsError::invalid_utf8, consumed);
      WsEvent event;
      event.kind = WsEventKind::message;
      event.consumed = frame_end;
      event.payload = std::string_view(payload, size);
      event.text = text;
      event.in_place = true;
      return event;
    }

    if (opcode != 0) {  // first fragment
      fragmenting_ = true;
      fragmented_text_ = opcode == 0x1;
      reassembled_size_ = 0;
    }
    if (size != 0)
      std::memcpy(reassembly_.get() + reassembled_size_, payload, size);
    reassembled_size_ += size;
    consumed = frame_end;
    if (!fin)
      continue;

    fragmenting_ = false;
    const std::string_view message(reassembly_.get(), reassembled_size_);
    if (fragmented_text_ && !is_valid_utf8(message.data(), message.size()))
      return fail(WsError::invalid_utf8, consumed);
    WsEvent event;
    event.kind = WsEventKind::message;
    event.consumed = consumed;
    event.payload = message;
    event.text = fragmented_text_;
    event.in_place = false;
    return event;
  }
}

// ---------------------------------------------------------------------------------------
// Framer
// ---------------------------------------------------------------------------------------

namespace {

std::uint64_t seed_from_kernel() {
  std::uint64_t seed = 0;
  // getrandom blocks only before the kernel's pool is first initialised (early boot).
  const ssize_t got = getrandom(&seed, sizeof seed, 0);
  if (got != static_cast<ssize_t>(sizeof seed))
    throw std::system_error(errno, std::generic_category(), "getrandom");
  return seed;
}

bool frame_allowed(WsOpcode opcode, bool fin, std::size_t payload_size) noexcept {
  const auto code = static_cast<unsigned>(opcode);
  if (code > 0xA || (code > 0x2 && code < 0x8))
    return false;
  const bool control = (code & 0x8u) != 0;
  return !control || (fin && payload_size <= 125);
}

}  // namespace

WsFramer::WsFramer(WsRole role) : WsFramer(role, seed_from_kernel()) {}

WsFramer::WsFramer(WsRole role, std::uint64_t seed) noexcept
    : role_(role), prng_state_(seed != 0 ? seed : 0x9E3779B97F4A7C15ull) {}

std::array<std::uint8_t, 4> WsFramer::next_mask_key() noexcept {
  // xorshift64*: a fast, non-cryptographic PRNG. Acceptable here because the mask exists
  // to stop a browser script from steering the bytes an intermediary proxy sees (cache
  // poisoning, RFC 6455 §10.3), not for secrecy: we are not a browser running untrusted
  // script, the payload travels inside TLS, and the key is sent in clear in the frame
  // anyway. Seeding from getrandom once keeps keys unpredictable across processes.
  prng_state_ ^= prng_state_ >> 12;
  prng_state_ ^= prng_state_ << 25;
  prng_state_ ^= prng_state_ >> 27;
  const std::uint64_t value = prng_state_ * 0x2545F4914F6CDD1Dull;
  const auto high = static_cast<std::uint32_t>(value >> 32);  // the better-mixed half
  std::array<std::uint8_t, 4> key{};
  std::memcpy(key.data(), &high, 4);
  return key;
}

std::size_t WsFramer::write_header(WsOpcode opcode, bool fin, std::size_t payload_size,
                                   std::array<std::uint8_t, 4> key, char* at) const noexcept {
  std::size_t n = 0;
  at[n++] = static_cast<char>((fin ? 0x80u : 0u) | static_cast<unsigned>(opcode));
  const unsigned mask_bit = role_ == WsRole::client ? 0x80u : 0u;
  if (payload_size < 126) {
    at[n++] = static_cast<char>(mask_bit | static_cast<unsigned>(payload_size));
  } else if (payload_size <= 0xFFFF) {
    at[n++] = static_cast<char>(mask_bit | 126u);
    at[n++] = static_cast<char>((payload_size >> 8) & 0xFF);
    at[n++] = static_cast<char>(payload_size & 0xFF);
  } else {
    at[n++] = static_cast<char>(mask_bit | 127u);
    const auto size64 = static_cast<std::uint64_t>(payload_size);
    for (int shift = 56; shift >= 0; shift -= 8)
      at[n++] = static_cast<char>((size64 >> shift) & 0xFF);
  }
  if (role_ == WsRole::client) {
    std::memcpy(at + n, key.data(), 4);
    n += 4;
  }
  return n;
}

std::size_t WsFramer::encode(WsOpcode opcode, bool fin, std::string_view payload,
                             std::span<char> out) noexcept {
  if (!frame_allowed(opcode, fin, payload.size()))
    return 0;
  const std::size_t header_size = ws_header_size(payload.size(), role_);
  if (out.size() < header_size || payload.size() > out.size() - header_size)
    return 0;
  const std::array<std::uint8_t, 4> key =
      role_ == WsRole::client ? next_mask_key() : std::array<std::uint8_t, 4>{};
  const std::size_t written = write_header(opcode, fin, payload.size(), key, out.data());
  if (!payload.empty()) {
    std::memcpy(out.data() + written, payload.data(), payload.size());
    if (role_ == WsRole::client)
      ws_apply_mask(out.data() + written, payload.size(), key);
  }
  return written + payload.size();
}

std::span<char> WsFramer::encode_in_place(WsOpcode opcode, bool fin, std::span<char> buffer,
                                          std::size_t payload_offset,
                                          std::size_t payload_size) noexcept {
  if (!frame_allowed(opcode, fin, payload_size))
    return {};
  const std::size_t header_size = ws_header_size(payload_size, role_);
  if (payload_offset < header_size || payload_offset > buffer.size() ||
      payload_size > buffer.size() - payload_offset)
    return {};
  const std::array<std::uint8_t, 4> key =
      role_ == WsRole::client ? next_mask_key() : std::array<std::uint8_t, 4>{};
  char* const start = buffer.data() + (payload_offset - header_size);
  (void)write_header(opcode, fin, payload_size, key, start);
  if (role_ == WsRole::client)
    ws_apply_mask(buffer.data() + payload_offset, payload_size, key);
  return {start, header_size + payload_size};
}

std::size_t WsFramer::close(std::uint16_t code, std::string_view reason,
                            std::span<char> out) noexcept {
  if (reason.size() > 123)
    return 0;
  std::array<char, 125> payload{};
  payload[0] = static_cast<char>(code >> 8);
  payload[1] = static_cast<char>(code & 0xFF);
  if (!reason.empty())
    std::memcpy(payload.data() + 2, reason.data(), reason.size());
  return encode(WsOpcode::close, true, std::string_view(payload.data(), 2 + reason.size()), out);
}

}  // namespace kinetic::feed
