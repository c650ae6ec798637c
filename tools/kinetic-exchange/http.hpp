#pragma once
// HTTP/1.1 at the byte level for the exchange simulator's server: an incremental request
// parser (bytes received so far -> need more / one complete request / an error with the
// status to answer) and a response writer. No I/O here; server.cpp drives it.
//
// What the parser accepts (RFC 9112, strictly, since a lenient parser hides client bugs
// that Bybit would refuse): a request line `METHOD SP TARGET SP HTTP/1.x CRLF`, header lines
// `name: value CRLF` (names are tokens, compared case-insensitively; obsolete line folding
// refused), a blank line, then a body framed by Content-Length or by
// `Transfer-Encoding: chunked` (chunk extensions and trailers skipped). Errors:
//   400 malformed syntax, a bad or conflicting Content-Length, both framings at once
//   413 header + body larger than the limit
//   431 header section larger than the header limit
//   501 a Transfer-Encoding other than chunked
//   505 an HTTP version other than 1.0 / 1.1
// After an error the connection must be closed: the stream cannot be re-synchronised.
//
// Thread-safety: free functions over caller-owned memory; no shared state.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server.hpp"

namespace kinetic::exchange::http {

enum class ParseStatus : std::uint8_t {
  need_more,  ///< no complete request yet: receive more, call again with all bytes
  complete,   ///< `request` holds one request of `consumed` bytes
  error,      ///< answer `error_status` and close
};

/// Limits of one request. The header limit applies first (431), then the total (413).
struct ParseLimits {
  std::size_t max_header_bytes = 64 * 1024;  ///< request line + headers + blank line
  std::size_t max_request_bytes = 1 << 20;   ///< header + body (chunk framing excluded)
};

/// The outcome of parse_request. `request`'s views point into the bytes given, except
/// `request.body` of a chunked request, which points into the caller's `body_storage`.
struct ParseResult {
  ParseStatus status = ParseStatus::need_more;
  std::size_t consumed = 0;        ///< complete: bytes of this request (the next one starts here)
  int error_status = 0;            ///< error: 400, 413, 431, 501 or 505
  std::string_view error_reason;   ///< error: a short constant text for the log
  bool keep_alive = true;          ///< complete: the connection stays open after the answer
  bool websocket_upgrade = false;  ///< complete: Upgrade: websocket with Connection: upgrade
  std::size_t header_bytes = 0;    ///< complete, or need_more with headers parsed: their size
  /// need_more after a complete header with `Expect: 100-continue`: the client waits for
  /// "100 Continue" before it sends the body.
  bool expects_continue = false;
  HttpRequest request;
};

/// Parses the first request in `bytes` (everything received and not yet consumed). Never
/// throws on any input (only std::bad_alloc from the vectors and `body_storage`).
[[nodiscard]] ParseResult parse_request(std::string_view bytes, const ParseLimits& limits,
                                        std::string& body_storage);

/// The standard reason phrase of `status` ("OK", "Not Found"); "Unknown" for others.
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

/// Appends a complete response to `out`: status line with reason, Content-Type (when not
/// empty), Content-Length, the extra headers in order, `Connection: keep-alive|close`, the
/// blank line and the body. (`response.delay` is the server's business, ignored here.)
void append_response(std::string& out, const HttpResponse& response, bool keep_alive);

/// Appends a short plain-text error response (`Connection: close`) for `status`.
void append_error_response(std::string& out, int status);

/// ASCII case-insensitive equality (header names, tokens).
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;
/// True when the comma-separated list `value` holds `token` (case-insensitive), e.g.
/// has_token("keep-alive, Upgrade", "upgrade").
[[nodiscard]] bool has_token(std::string_view value, std::string_view token) noexcept;

}  // namespace kinetic::exchange::http
