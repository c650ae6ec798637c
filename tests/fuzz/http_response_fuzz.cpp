// libFuzzer target: the REST client's HTTP/1.1 response parser (exec/http_response.hpp).
// The input is parsed twice: whole, and fed in pieces whose sizes come from the first byte,
// as a socket would deliver it. Both must agree (status, consumed bytes, body), every view
// must lie inside the buffer, and parsing must never read or write outside it (ASan).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kinetic/exec/http_response.hpp"

namespace {

struct Outcome {
  kinetic::exec::HttpParseStatus status;
  int code = 0;
  std::size_t consumed = 0;
  std::string body;
};

bool inside(std::string_view view, const std::vector<char>& buffer) {
  if (view.empty())
    return true;
  return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

Outcome run(const std::uint8_t* data, std::size_t size, std::size_t step) {
  std::vector<char> buffer(data, data + size);
  kinetic::exec::HttpResponseParser parser;
  Outcome outcome{kinetic::exec::HttpParseStatus::need_more};
  std::size_t have = 0;
  for (;;) {
    have = step == 0 || size - have < step ? size : have + step;
    const bool eof = have == size;
    outcome.status = parser.parse(std::span<char>(buffer.data(), have), eof);
    if (outcome.status != kinetic::exec::HttpParseStatus::need_more || eof)
      break;
  }
  if (outcome.status == kinetic::exec::HttpParseStatus::complete) {
    if (parser.consumed() > size || !inside(parser.body(), buffer) ||
        !inside(parser.reason(), buffer))
      std::abort();
    for (const auto& header : parser.headers()) {
      if (!inside(header.name, buffer) || !inside(header.value, buffer))
        std::abort();
    }
    (void)parser.header("Content-Length");
    (void)parser.header_int("X-Bapi-Limit-Status");
    outcome.code = parser.status();
    outcome.consumed = parser.consumed();
    outcome.body.assign(parser.body());
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::size_t step = data[0] % 17;  // 0: all at once
  const Outcome whole = run(data + 1, size - 1, 0);
  const Outcome pieces = run(data + 1, size - 1, step);
  // A response's outcome depends only on its own bytes, so how they arrive cannot matter.
  if (whole.status != pieces.status || whole.code != pieces.code ||
      whole.consumed != pieces.consumed || whole.body != pieces.body)
    std::abort();
  return 0;
}
