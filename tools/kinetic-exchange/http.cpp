#include "http.hpp"

#include <charconv>
#include <optional>

namespace kinetic::exchange {

std::optional<std::string_view> HttpRequest::header(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers) {
    if (http::iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

namespace http {
namespace {

constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 §5.6.2 tchar.
constexpr bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

constexpr bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

// Field values: visible characters, obs-text, spaces and tabs; no other control characters.
constexpr bool is_field_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

// Request targets: visible ASCII (no spaces, no controls); obs-text refused.
constexpr bool is_target_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_ows(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

ParseResult fail(int status, std::string_view reason) {
  ParseResult result;
  result.status = ParseStatus::error;
  result.error_status = status;
  result.error_reason = reason;
  return result;
}

// Parses a decimal Content-Length (digits only, no sign, no spaces inside).
std::optional<std::uint64_t> parse_length(std::string_view s) noexcept {
  if (s.empty() || s.size() > 18) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

enum class ChunkStatus : std::uint8_t { need_more, complete, error, too_large };

struct ChunkResult {
  ChunkStatus status = ChunkStatus::need_more;
  std::size_t consumed = 0;
  int error_status = 400;
};

// Decodes a chunked body from `bytes` (starting right after the header) into `body`.
// Starts over on every call (the server calls again with more bytes); bodies are small.
ChunkResult decode_chunked(std::string_view bytes, std::size_t max_body, std::string& body) {
  body.clear();
  std::size_t at = 0;
  for (;;) {
    // chunk-size [ chunk-ext ] CRLF
    const std::size_t line_end = bytes.find("\r\n", at);
    if (line_end == std::string_view::npos) {
      // A size line has no business being long: refuse garbage early.
      return {bytes.size() - at > 1025 ? ChunkStatus::error : ChunkStatus::need_more, 0, 400};
    }
    const std::string_view line = bytes.substr(at, line_end - at);
    if (line.size() > 1024) {
      return {ChunkStatus::error, 0, 400};  // same limit as while it is incomplete
    }
    std::size_t digits = 0;
    std::uint64_t size = 0;
    while (digits < line.size()) {
      const char c = line[digits];
      int v = -1;
      if (c >= '0' && c <= '9') {
        v = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        v = c - 'A' + 10;
      } else {
        break;
      }
      if (digits >= 15) {
        return {ChunkStatus::too_large, 0, 413};
      }
      size = size * 16 + static_cast<std::uint64_t>(v);
      ++digits;
    }
    if (digits == 0) {
      return {ChunkStatus::error, 0, 400};
    }
    const std::string_view rest = line.substr(digits);
    if (!rest.empty() && trim_ows(rest).front() != ';') {
      return {ChunkStatus::error, 0, 400};
    }
    for (const char c : rest) {
      if (!is_field_char(c)) {
        return {ChunkStatus::error, 0, 400};
      }
    }
    at = line_end + 2;
    if (size == 0) {
      // Trailer fields until the blank line; their content is ignored but must be lines.
      for (;;) {
        const std::size_t end = bytes.find("\r\n", at);
        if (end == std::string_view::npos) {
          return {bytes.size() - at > 8193 ? ChunkStatus::error : ChunkStatus::need_more, 0, 431};
        }
        if (end == at) {
          return {ChunkStatus::complete, end + 2, 0};
        }
        const std::string_view trailer = bytes.substr(at, end - at);
        if (trailer.size() > 8192) {
          return {ChunkStatus::error, 0, 431};
        }
        const std::size_t colon = trailer.find(':');
        if (colon == 0 || colon == std::string_view::npos) {
          return {ChunkStatus::error, 0, 400};
        }
        at = end + 2;
      }
    }
    if (size > max_body || body.size() + size > max_body) {
      return {ChunkStatus::too_large, 0, 413};
    }
    const auto chunk_size = static_cast<std::size_t>(size);
    if (bytes.size() - at < chunk_size + 2) {
      return {ChunkStatus::need_more, 0, 400};
    }
    if (bytes.substr(at + chunk_size, 2) != "\r\n") {
      return {ChunkStatus::error, 0, 400};
    }
    body.append(bytes.substr(at, chunk_size));
    at += chunk_size + 2;
  }
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view item = trim_ows(value.substr(0, comma));
    if (iequals(item, token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  return false;
}

ParseResult parse_request(std::string_view bytes, const ParseLimits& limits,
                          std::string& body_storage) {
  // Tolerate empty lines before the request line (RFC 9112 §2.2: SHOULD ignore one CRLF).
  std::size_t start = 0;
  while (bytes.size() - start >= 2 && bytes[start] == '\r' && bytes[start + 1] == '\n' &&
         start < 8) {
    start += 2;
  }
  const std::size_t header_end_at = bytes.find("\r\n\r\n", start);
  if (header_end_at == std::string_view::npos) {
    if (bytes.size() > limits.max_header_bytes) {
      return fail(431, "header section too large");
    }
    // A request line that is already wrong need not wait for more bytes. (Line breaks are
    // skipped: a split inside the leading empty lines must not look like an error.)
    std::size_t first = start;
    while (first < bytes.size() && (bytes[first] == '\r' || bytes[first] == '\n')) {
      ++first;
    }
    for (std::size_t i = first; i < bytes.size() && bytes[i] != ' '; ++i) {
      if (!is_tchar(bytes[i])) {
        return fail(400, "malformed request line");
      }
    }
    return {};
  }
  const std::size_t header_bytes = header_end_at + 4;
  if (header_bytes > limits.max_header_bytes) {
    return fail(431, "header section too large");
  }

  ParseResult result;
  HttpRequest& request = result.request;
  std::string_view head = bytes.substr(start, header_end_at + 2 - start);  // lines with CRLF

  // Request line.
  const std::size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  head.remove_prefix(line_end + 2);
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    return fail(400, "malformed request line");
  }
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    return fail(400, "malformed request line");
  }
  request.method = line.substr(0, sp1);
  request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (const char c : request.method) {
    if (!is_tchar(c)) {
      return fail(400, "malformed method");
    }
  }
  for (const char c : request.target) {
    if (!is_target_char(c)) {
      return fail(400, "malformed target");
    }
  }
  if (request.target.front() != '/' && request.target != "*" &&
      request.target.find("://") == std::string_view::npos) {
    return fail(400, "malformed target");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return fail(400, "malformed version");
  }
  if (version[5] != '1') {
    return fail(505, "HTTP version not supported");
  }
  const bool http11 = version[7] != '0';
  const std::size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  request.query =
      question == std::string_view::npos ? std::string_view{} : request.target.substr(question + 1);

  // Header fields.
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool has_transfer_encoding = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
  bool upgrade_websocket = false;
  bool expect_continue = false;
  while (!head.empty()) {
    const std::size_t end = head.find("\r\n");
    const std::string_view field = head.substr(0, end);
    head.remove_prefix(end + 2);
    if (field.empty() || is_ows(field.front())) {
      return fail(400, "obsolete line folding");
    }
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return fail(400, "malformed header line");
    }
    const std::string_view name = field.substr(0, colon);
    for (const char c : name) {
      if (!is_tchar(c)) {
        return fail(400, "malformed header name");
      }
    }
    const std::string_view value = trim_ows(field.substr(colon + 1));
    for (const char c : value) {
      if (!is_field_char(c)) {
        return fail(400, "malformed header value");
      }
    }
    request.headers.emplace_back(name, value);
    if (iequals(name, "content-length")) {
      const auto length = parse_length(value);
      if (!length || (content_length && *content_length != *length)) {
        return fail(400, "bad Content-Length");
      }
      content_length = length;
    } else if (iequals(name, "transfer-encoding")) {
      if (has_transfer_encoding || !iequals(value, "chunked")) {
        // gzip, deflate, a list: none is supported, nor a second Transfer-Encoding line.
        return fail(has_transfer_encoding ? 400 : 501, "unsupported Transfer-Encoding");
      }
      has_transfer_encoding = true;
      chunked = true;
    } else if (iequals(name, "connection")) {
      connection_close = connection_close || has_token(value, "close");
      connection_keep_alive = connection_keep_alive || has_token(value, "keep-alive");
      connection_upgrade = connection_upgrade || has_token(value, "upgrade");
    } else if (iequals(name, "upgrade")) {
      upgrade_websocket = upgrade_websocket || has_token(value, "websocket");
    } else if (iequals(name, "expect")) {
      expect_continue = iequals(value, "100-continue");
    }
  }
  if (chunked && content_length) {
    return fail(400, "both Content-Length and Transfer-Encoding");
  }
  if (http11 && !request.header("host")) {
    return fail(400, "missing Host");
  }
  result.keep_alive = http11 ? !connection_close : (connection_keep_alive && !connection_close);
  result.websocket_upgrade = upgrade_websocket && connection_upgrade;
  result.header_bytes = header_bytes;

  // Body.
  const std::size_t max_body =
      limits.max_request_bytes > header_bytes ? limits.max_request_bytes - header_bytes : 0;
  const std::string_view after_header = bytes.substr(header_bytes);
  if (chunked) {
    const ChunkResult chunk = decode_chunked(after_header, max_body, body_storage);
    switch (chunk.status) {
      case ChunkStatus::need_more:
        result.status = ParseStatus::need_more;
        result.expects_continue = expect_continue && after_header.empty();
        result.request = {};
        return result;
      case ChunkStatus::too_large:
        return fail(413, "body too large");
      case ChunkStatus::error:
        return fail(chunk.error_status, "malformed chunked body");
      case ChunkStatus::complete:
        break;
    }
    request.body = body_storage;
    result.consumed = header_bytes + chunk.consumed;
  } else {
    const std::uint64_t length = content_length.value_or(0);
    if (length > max_body) {
      return fail(413, "body too large");
    }
    const auto body_size = static_cast<std::size_t>(length);
    if (after_header.size() < body_size) {
      result.status = ParseStatus::need_more;
      result.expects_continue = expect_continue && after_header.empty();
      result.request = {};
      return result;
    }
    request.body = after_header.substr(0, body_size);
    result.consumed = header_bytes + body_size;
  }
  result.status = ParseStatus::complete;
  return result;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {
void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  static_cast<void>(ec);
  out.append(digits, end);
}
}  // namespace

void append_response(std::string& out, const HttpResponse& response, bool keep_alive) {
  const int status = response.status >= 100 && response.status <= 999 ? response.status : 500;
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");
  if (!response.content_type.empty()) {
    out.append("Content-Type: ").append(response.content_type).append("\r\n");
  }
  out.append("Content-Length: ");
  append_number(out, response.body.size());
  out.append("\r\n");
  for (const auto& [name, value] : response.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out.append(keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
  out.append(response.body);
}

void append_error_response(std::string& out, int status) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain";
  response.body = std::string(reason_phrase(status));
  response.body.push_back('\n');
  append_response(out, response, false);
}

}  // namespace http
}  // namespace kinetic::exchange
