#pragma once
// An incremental HTTP/1.1 response parser that works in place on the receive buffer.
//
// The caller appends received bytes to one buffer and calls parse() with everything received
// so far (the same buffer, not moved between calls, growing at its end). parse() resumes where
// it stopped, so each byte is looked at about once. It returns need_more, complete or error.
// Once complete, status(), headers(), header(name) and body() are views into the buffer and
// consumed() says how many leading bytes the response occupied (any bytes after it belong to
// the next response). A chunked body is de-chunked in place: the chunks are moved down over
// their size lines, so body() is one contiguous view and the buffer's bytes between body().end()
// and consumed() are garbage.
//
// Limits are fixed (kMaxHttpResponseHeaders headers, kMaxHttpResponseHeaderBytes bytes of
// status line and headers), so the parser owns no memory and never allocates.
//
// Ownership: views only; the caller's buffer must outlive the use of the views and must not be
// moved or rewritten while a response is being parsed. Thread-safety: one parser per thread;
// reset() before the next response. Hot path: no allocation, no exception, no system call.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace kinetic::exec {

inline constexpr std::size_t kMaxHttpResponseHeaders = 32;
inline constexpr std::size_t kMaxHttpResponseHeaderBytes = 8192;

enum class HttpParseStatus : std::uint8_t {
  need_more,  ///< a valid prefix; append more bytes (or pass at_eof) and call again
  complete,   ///< one whole response; see consumed()
  error,      ///< malformed or over a limit; see error(). The connection must be dropped.
};

enum class HttpParseError : std::uint8_t {
  none = 0,
  bad_status_line,                ///< not "HTTP/1.x DDD reason"
  bad_header,                     ///< a header line without a name, a colon, or with bad characters
  too_many_headers,               ///< more than kMaxHttpResponseHeaders (trailers count too)
  header_too_large,               ///< status line + headers over kMaxHttpResponseHeaderBytes
  bad_content_length,             ///< not a number, too large, or two different values
  unsupported_transfer_encoding,  ///< a Transfer-Encoding other than chunked
  bad_chunk,                      ///< a malformed chunk size line or missing CRLF after data
  truncated,                      ///< the peer closed (at_eof) before the response ended
};

/// A short constant description (static storage, never null).
[[nodiscard]] const char* to_string(HttpParseError error) noexcept;

/// One header: views of its name (as sent) and value (surrounding blanks trimmed).
struct HttpHeader {
  std::string_view name;
  std::string_view value;
};

/// ASCII case-insensitive equality of two header names.
[[nodiscard]] bool header_name_equals(std::string_view a, std::string_view b) noexcept;

/// See the file comment. Value type (trivially copyable, no heap); reset() between responses.
class HttpResponseParser {
 public:
  HttpResponseParser() noexcept = default;

  /// Forgets the current response.
  void reset() noexcept;

  /// Parses `received` (every byte received for this response so far, starting at the
  /// response's first byte; may run past its end). `at_eof`: the peer closed the connection
  /// after these bytes, which ends a body delimited by the close and truncates any other.
  /// May rewrite the buffer's bytes from the body's start on (de-chunking).
  [[nodiscard]] HttpParseStatus parse(std::span<char> received, bool at_eof = false) noexcept;

  [[nodiscard]] HttpParseError error() const noexcept { return error_; }
  [[nodiscard]] bool complete() const noexcept { return state_ == State::done; }

  // Valid once the headers are parsed (status() != 0), views into the buffer.
  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] std::string_view reason() const noexcept { return reason_; }
  [[nodiscard]] int http_minor_version() const noexcept { return minor_version_; }
  [[nodiscard]] std::span<const HttpHeader> headers() const noexcept {
    return {headers_.data(), header_count_};
  }
  /// The first header called `name` (any case); nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// The first header `name` as a non-negative decimal integer; nullopt when absent or not one.
  [[nodiscard]] std::optional<std::int64_t> header_int(std::string_view name) const noexcept;
  [[nodiscard]] bool chunked() const noexcept { return chunked_; }
  /// Content-Length when sent (and not overridden by chunked).
  [[nodiscard]] std::optional<std::uint64_t> content_length() const noexcept;
  /// False for `Connection: close`, and for HTTP/1.0 without `Connection: keep-alive`.
  [[nodiscard]] bool keep_alive() const noexcept { return keep_alive_; }

  // Valid once complete.
  [[nodiscard]] std::string_view body() const noexcept { return {body_base_, body_length_}; }
  /// Bytes of the buffer this response occupied, from its start.
  [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }

 private:
  enum class State : std::uint8_t {
    headers,           // looking for the blank line that ends the header block
    body_length,       // Content-Length body
    body_until_close,  // neither length nor chunked: the body ends at the peer's close
    chunk_size,        // expecting a chunk size line
    chunk_data,        // inside a chunk's data
    chunk_data_end,    // expecting the CRLF after a chunk's data
    trailers,          // after the last (zero) chunk: trailer lines until a blank line
    done,
    failed,
  };

  HttpParseStatus fail(HttpParseError error) noexcept;
  HttpParseStatus parse_head(std::span<char> received, std::size_t head_end) noexcept;
  HttpParseStatus parse_chunked(std::span<char> received, bool at_eof) noexcept;
  HttpParseStatus finish(std::size_t consumed) noexcept;

  State state_ = State::headers;
  HttpParseError error_ = HttpParseError::none;
  int status_ = 0;
  int minor_version_ = 1;
  bool chunked_ = false;
  bool keep_alive_ = true;
  bool has_content_length_ = false;
  std::uint64_t content_length_ = 0;
  std::string_view reason_;
  std::array<HttpHeader, kMaxHttpResponseHeaders> headers_{};
  std::size_t header_count_ = 0;
  std::size_t scan_from_ = 0;     // where the search for the header block's end resumes
  std::size_t body_start_ = 0;    // offset of the body in the buffer
  std::size_t read_at_ = 0;       // next raw (not yet de-chunked) byte
  std::size_t write_at_ = 0;      // end of the de-chunked body so far
  std::uint64_t chunk_left_ = 0;  // data bytes left in the current chunk
  std::size_t trailer_count_ = 0;
  const char* body_base_ = nullptr;
  std::size_t body_length_ = 0;
  std::size_t consumed_ = 0;
};

}  // namespace kinetic::exec
