// Incremental, in-place HTTP/1.1 response parsing (see http_response.hpp).

#include "kinetic/exec/http_response.hpp"

#include <cstring>

namespace kinetic::exec {
namespace {

constexpr char lower_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 token characters (header names).
constexpr bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

constexpr bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back()))
    text.remove_suffix(1);
  return text;
}

// A decimal number of at most 18 digits (so it cannot overflow), nothing else.
std::optional<std::uint64_t> parse_decimal(std::string_view text) noexcept {
  if (text.empty() || text.size() > 18)
    return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// Whether the comma-separated list `value` holds `token` (any case), e.g. "keep-alive, close".
bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view item = trim(value.substr(0, comma));
    if (header_name_equals(item, token))
      return true;
    if (comma == std::string_view::npos)
      break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// Position of "\r\n" at or after `from` in `text`, or npos.
std::size_t find_crlf(std::string_view text, std::size_t from) noexcept {
  return text.find("\r\n", from);
}

}  // namespace

const char* to_string(HttpParseError error) noexcept {
  switch (error) {
    case HttpParseError::none:
      return "none";
    case HttpParseError::bad_status_line:
      return "bad status line";
    case HttpParseError::bad_header:
      return "bad header line";
    case HttpParseError::too_many_headers:
      return "too many headers";
    case HttpParseError::header_too_large:
      return "header block too large";
    case HttpParseError::bad_content_length:
      return "bad Content-Length";
    case HttpParseError::unsupported_transfer_encoding:
      return "unsupported Transfer-Encoding";
    case HttpParseError::bad_chunk:
      return "bad chunk framing";
    case HttpParseError::truncated:
      return "connection closed before the response ended";
  }
  return "unknown";
}

bool header_name_equals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower_ascii(a[i]) != lower_ascii(b[i]))
      return false;
  }
  return true;
}

void HttpResponseParser::reset() noexcept {
  *this = HttpResponseParser();
}

std::optional<std::string_view> HttpResponseParser::header(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < header_count_; ++i) {
    if (header_name_equals(headers_[i].name, name))
      return headers_[i].value;
  }
  return std::nullopt;
}

std::optional<std::int64_t> HttpResponseParser::header_int(std::string_view name) const noexcept {
  const std::optional<std::string_view> value = header(name);
  if (!value)
    return std::nullopt;
  const std::optional<std::uint64_t> number = parse_decimal(*value);
  if (!number)
    return std::nullopt;
  return static_cast<std::int64_t>(*number);
}

std::optional<std::uint64_t> HttpResponseParser::content_length() const noexcept {
  if (!has_content_length_ || chunked_)
    return std::nullopt;
  return content_length_;
}

HttpParseStatus HttpResponseParser::fail(HttpParseError error) noexcept {
  error_ = error;
  state_ = State::failed;
  return HttpParseStatus::error;
}

HttpParseStatus HttpResponseParser::finish(std::size_t consumed) noexcept {
  consumed_ = consumed;
  state_ = State::done;
  return HttpParseStatus::complete;
}

HttpParseStatus HttpResponseParser::parse(std::span<char> received, bool at_eof) noexcept {
  const std::string_view text(received.data(), received.size());
  if (state_ == State::failed)
    return HttpParseStatus::error;
  if (state_ == State::done)
    return HttpParseStatus::complete;

  if (state_ == State::headers) {
    // Resume the search 3 bytes back: the terminator may straddle two receives.
    const std::size_t from = scan_from_ >= 3 ? scan_from_ - 3 : 0;
    const std::size_t limit =
        text.size() < kMaxHttpResponseHeaderBytes ? text.size() : kMaxHttpResponseHeaderBytes;
    const std::size_t end = text.substr(0, limit).find("\r\n\r\n", from);
    if (end == std::string_view::npos) {
      if (text.size() >= kMaxHttpResponseHeaderBytes)
        return fail(HttpParseError::header_too_large);
      scan_from_ = text.size();
      return at_eof ? fail(HttpParseError::truncated) : HttpParseStatus::need_more;
    }
    const HttpParseStatus head = parse_head(received, end + 2);
    if (head != HttpParseStatus::need_more)
      return head;
  }

  switch (state_) {
    case State::body_length: {
      const std::size_t available = text.size() - body_start_;
      if (available < content_length_)
        return at_eof ? fail(HttpParseError::truncated) : HttpParseStatus::need_more;
      body_base_ = received.data() + body_start_;
      body_length_ = static_cast<std::size_t>(content_length_);
      return finish(body_start_ + body_length_);
    }
    case State::body_until_close:
      if (!at_eof)
        return HttpParseStatus::need_more;
      body_base_ = received.data() + body_start_;
      body_length_ = text.size() - body_start_;
      return finish(text.size());
    case State::chunk_size:
    case State::chunk_data:
    case State::chunk_data_end:
    case State::trailers:
      return parse_chunked(received, at_eof);
    case State::headers:
    case State::done:
    case State::failed:
      break;
  }
  return fail(HttpParseError::bad_status_line);  // unreachable
}

// `head_end` is the offset just past the CRLF of the last header line; the blank line's CRLF
// follows it.
HttpParseStatus HttpResponseParser::parse_head(std::span<char> received,
                                               std::size_t head_end) noexcept {
  const std::string_view text(received.data(), received.size());
  const std::size_t status_end = find_crlf(text, 0);
  const std::string_view line = text.substr(0, status_end);
  // "HTTP/1.1 200 OK": version, one space, three digits, then a space and a reason (optional).
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[7] < '0' || line[7] > '9' ||
      line[8] != ' ')
    return fail(HttpParseError::bad_status_line);
  minor_version_ = line[7] - '0';
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9')
      return fail(HttpParseError::bad_status_line);
    code = code * 10 + (line[i] - '0');
  }
  if (code < 100 || (line.size() > 12 && line[12] != ' '))
    return fail(HttpParseError::bad_status_line);
  status_ = code;
  reason_ = line.size() > 13 ? line.substr(13) : std::string_view{};
  keep_alive_ = true;

  bool connection_keep_alive = false;
  std::size_t at = status_end + 2;
  while (at < head_end) {
    const std::size_t end = find_crlf(text, at);
    const std::string_view header_line = text.substr(at, end - at);
    at = end + 2;
    const std::size_t colon = header_line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return fail(HttpParseError::bad_header);
    const std::string_view name = header_line.substr(0, colon);
    for (const char c : name) {
      if (!is_token_char(c))
        return fail(HttpParseError::bad_header);  // also refuses obsolete line folding
    }
    const std::string_view value = trim(header_line.substr(colon + 1));
    for (const char c : value) {
      if (c == '\r' || c == '\n' || c == '\0')
        return fail(HttpParseError::bad_header);
    }
    if (header_count_ == kMaxHttpResponseHeaders)
      return fail(HttpParseError::too_many_headers);
    headers_[header_count_++] = HttpHeader{name, value};

    if (header_name_equals(name, "Content-Length")) {
      const std::optional<std::uint64_t> length = parse_decimal(value);
      if (!length || (has_content_length_ && *length != content_length_))
        return fail(HttpParseError::bad_content_length);
      has_content_length_ = true;
      content_length_ = *length;
    } else if (header_name_equals(name, "Transfer-Encoding")) {
      // Only "chunked" (possibly after "identity") is understood; anything else would leave
      // the body's end unknown.
      const std::size_t comma = value.rfind(',');
      const std::string_view last =
          trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
      if (!header_name_equals(last, "chunked"))
        return fail(HttpParseError::unsupported_transfer_encoding);
      chunked_ = true;
    } else if (header_name_equals(name, "Connection")) {
      if (has_token(value, "close"))
        keep_alive_ = false;
      if (has_token(value, "keep-alive"))
        connection_keep_alive = true;
    }
  }
  // HTTP/1.0 closes unless it asks to keep the connection.
  if (minor_version_ == 0)
    keep_alive_ = keep_alive_ && connection_keep_alive;

  body_start_ = head_end + 2;
  // 1xx, 204 and 304 have no body whatever the headers say.
  if (status_ < 200 || status_ == 204 || status_ == 304) {
    body_base_ = received.data() + body_start_;
    body_length_ = 0;
    return finish(body_start_);
  }
  if (chunked_) {
    read_at_ = body_start_;
    write_at_ = body_start_;
    state_ = State::chunk_size;
  } else if (has_content_length_) {
    state_ = State::body_length;
  } else {
    state_ = State::body_until_close;
  }
  return HttpParseStatus::need_more;
}

HttpParseStatus HttpResponseParser::parse_chunked(std::span<char> received, bool at_eof) noexcept {
  const std::string_view text(received.data(), received.size());
  char* const data = received.data();
  for (;;) {
    switch (state_) {
      case State::chunk_size: {
        const std::size_t end = find_crlf(text, read_at_);
        if (end == std::string_view::npos) {
          // A size line is short; a long one is an attack or garbage.
          if (text.size() - read_at_ > 1024)
            return fail(HttpParseError::bad_chunk);
          return at_eof ? fail(HttpParseError::truncated) : HttpParseStatus::need_more;
        }
        std::string_view size_text = text.substr(read_at_, end - read_at_);
        if (const std::size_t semicolon = size_text.find(';'); semicolon != std::string_view::npos)
          size_text = size_text.substr(0, semicolon);  // chunk extensions are ignored
        size_text = trim(size_text);
        if (size_text.empty() || size_text.size() > 15)
          return fail(HttpParseError::bad_chunk);
        std::uint64_t size = 0;
        for (const char c : size_text) {
          unsigned digit;
          if (c >= '0' && c <= '9')
            digit = static_cast<unsigned>(c - '0');
          else if (lower_ascii(c) >= 'a' && lower_ascii(c) <= 'f')
            digit = static_cast<unsigned>(lower_ascii(c) - 'a' + 10);
          else
            return fail(HttpParseError::bad_chunk);
          size = (size << 4) | digit;
        }
        read_at_ = end + 2;
        if (size == 0) {
          state_ = State::trailers;
        } else {
          chunk_left_ = size;
          state_ = State::chunk_data;
        }
        break;
      }
      case State::chunk_data: {
        const std::size_t available = text.size() - read_at_;
        if (available == 0)
          return at_eof ? fail(HttpParseError::truncated) : HttpParseStatus::need_more;
        const std::size_t take =
            available < chunk_left_ ? available : static_cast<std::size_t>(chunk_left_);
        // Move the data down over the size lines before it (regions may overlap).
        if (write_at_ != read_at_)
          std::memmove(data + write_at_, data + read_at_, take);
        write_at_ += take;
        read_at_ += take;
        chunk_left_ -= take;
        if (chunk_left_ == 0)
          state_ = State::chunk_data_end;
        break;
      }
      case State::chunk_data_end:
        if (text.size() - read_at_ < 2)
          return at_eof ? fail(HttpParseError::truncated) : HttpParseStatus::need_more;
        if (text[read_at_] != '\r' || text[read_at_ + 1] != '\n')
          return fail(HttpParseError::bad_chunk);
        read_at_ += 2;
        state_ = State::chunk_size;
        break;
      case State::trailers: {
        const std::size_t end = find_crlf(text, read_at_);
        if (end == std::string_view::npos) {
          if (text.size() - read_at_ > kMaxHttpResponseHeaderBytes)
            return fail(HttpParseError::header_too_large);
          return at_eof ? fail(HttpParseError::truncated) : HttpParseStatus::need_more;
        }
        const bool blank = end == read_at_;
        read_at_ = end + 2;
        if (blank) {
          body_base_ = data + body_start_;
          body_length_ = write_at_ - body_start_;
          return finish(read_at_);
        }
        // Trailer fields are skipped, but counted against the header limit.
        if (++trailer_count_ + header_count_ > kMaxHttpResponseHeaders)
          return fail(HttpParseError::too_many_headers);
        break;
      }
      case State::headers:
      case State::body_length:
      case State::body_until_close:
      case State::done:
      case State::failed:
        return fail(HttpParseError::bad_chunk);  // unreachable
    }
  }
}

}  // namespace kinetic::exec
