// Fuzzes the exchange simulator's HTTP/1.1 request parser (tools/kinetic-exchange/http.cpp).
//
// Input layout: bytes 0-1 pick a split point and byte 2 the limits; the rest is the stream of
// requests a connection would receive. The stream is parsed the way the server does it:
// request after request, each first from a prefix (as if the split point were where a
// receive ended) and then from everything. Checked on every call: the consumed count is
// within the bytes given; every view of a complete request lies inside those bytes (or, for a
// chunked body, inside the body storage); an error carries one of the documented statuses;
// a prefix never completes differently from the whole, and a prefix error is an error of the
// whole (the parser is incremental, not sensitive to how bytes arrive).
// The stream is copied into an exactly sized heap buffer so ASan catches any over-read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "http.hpp"

namespace {

using kinetic::exchange::HttpRequest;
namespace http = kinetic::exchange::http;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) {
    return true;
  }
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_result(const http::ParseResult& r, std::string_view bytes, const std::string& body) {
  switch (r.status) {
    case http::ParseStatus::need_more:
      check(r.consumed == 0);
      break;
    case http::ParseStatus::error:
      check(r.error_status == 400 || r.error_status == 413 || r.error_status == 431 ||
            r.error_status == 501 || r.error_status == 505);
      check(!r.error_reason.empty());
      break;
    case http::ParseStatus::complete: {
      check(r.consumed > 0 && r.consumed <= bytes.size());
      check(r.header_bytes > 0 && r.header_bytes <= r.consumed);
      const std::string_view used = bytes.substr(0, r.consumed);
      const HttpRequest& q = r.request;
      check(!q.method.empty() && inside(q.method, used));
      check(!q.target.empty() && inside(q.target, used));
      check(inside(q.path, q.target) && inside(q.query, q.target));
      for (const auto& [name, value] : q.headers) {
        check(!name.empty() && inside(name, used) && inside(value, used));
        check(q.header(name).has_value());
      }
      check(inside(q.body, used) || inside(q.body, body));
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  const std::size_t split_seed = static_cast<std::size_t>(data[0]) << 8 | data[1];
  http::ParseLimits limits;
  if ((data[2] & 1) != 0) {  // small limits reach the 413 and 431 paths with small inputs
    limits.max_header_bytes = 64 + (data[2] >> 1);
    limits.max_request_bytes = limits.max_header_bytes + 2 * (data[2] >> 1);
  }
  const std::size_t stream_size = size - 3;
  const auto stream = std::make_unique<char[]>(stream_size == 0 ? 1 : stream_size);
  std::memcpy(stream.get(), data + 3, stream_size);
  std::string_view rest(stream.get(), stream_size);

  std::string prefix_body;
  std::string body;
  for (int requests = 0; requests < 64; ++requests) {
    const std::size_t split = rest.empty() ? 0 : split_seed % (rest.size() + 1);
    const std::string_view prefix = rest.substr(0, split);
    const http::ParseResult partial = http::parse_request(prefix, limits, prefix_body);
    check_result(partial, prefix, prefix_body);
    const http::ParseResult whole = http::parse_request(rest, limits, body);
    check_result(whole, rest, body);
    if (partial.status == http::ParseStatus::complete) {
      check(whole.status == http::ParseStatus::complete);
      check(whole.consumed == partial.consumed);
      check(whole.request.body == partial.request.body);
      check(whole.keep_alive == partial.keep_alive);
    } else if (partial.status == http::ParseStatus::error) {
      // The status may differ (more bytes can reveal a more specific fault first: a header
      // too large rather than a bad byte after the limit); that it is an error may not.
      check(whole.status == http::ParseStatus::error);
    }
    if (whole.status != http::ParseStatus::complete) {
      break;
    }
    rest.remove_prefix(whole.consumed);
  }

  // The response writer takes any status and any text.
  kinetic::exchange::HttpResponse response;
  response.status = static_cast<int>(split_seed) - 1000;
  response.body = std::string(rest.substr(0, 64));
  std::string out;
  http::append_response(out, response, (data[2] & 2) != 0);
  check(out.starts_with("HTTP/1.1 "));
  return 0;
}
