#include "kinetic/feed/websocket.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.hpp"

namespace kinetic::feed {
namespace {

using namespace std::string_view_literals;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values)
    out.push_back(static_cast<char>(v));
  return out;
}

// What the tests compare: an event with its payload copied out of the buffer.
struct Record {
  WsEventKind kind = WsEventKind::need_more;
  std::string payload;
  bool text = false;
  std::uint16_t close_code = 0;
  WsError error = WsError::none;
  bool operator==(const Record&) const = default;
};

Record message(std::string payload, bool text) {
  return {WsEventKind::message, std::move(payload), text, 0, WsError::none};
}
Record control(WsEventKind kind, std::string payload, std::uint16_t code = 0) {
  return {kind, std::move(payload), false, code, WsError::none};
}
Record error(WsError error) {
  return {WsEventKind::error, "", false, close_code_for(error), error};
}

std::ostream& operator<<(std::ostream& os, const Record& r) {
  return os << "{kind " << static_cast<int>(r.kind) << ", payload size " << r.payload.size()
            << ", text " << r.text << ", code " << r.close_code << ", " << to_string(r.error)
            << "}";
}

// Simulates a connection's receive buffer: the stream arrives in chunks ending at `cuts`
// (ascending offsets); after each chunk the deframer is run until it needs more, and the
// unconsumed bytes are compacted to the front (as the connection code will do). Stops at the
// first error. The slack after the received bytes is filled with garbage to show it is
// never interpreted.
std::vector<Record> deliver(WsDeframer& deframer, std::string_view stream,
                            const std::vector<std::size_t>& cuts) {
  std::vector<char> buffer(stream.size() + WsDeframer::kPadding, '\xEE');
  std::size_t begin = 0;
  std::size_t end = 0;
  std::vector<Record> records;
  std::size_t previous_cut = 0;
  std::vector<std::size_t> all_cuts = cuts;
  all_cuts.push_back(stream.size());
  for (const std::size_t cut : all_cuts) {
    std::memcpy(buffer.data() + end, stream.data() + previous_cut, cut - previous_cut);
    end += cut - previous_cut;
    previous_cut = cut;
    while (true) {
      const std::size_t given = end - begin;
      const WsEvent ev = deframer.next(std::span<char>(buffer.data() + begin, given));
      EXPECT_LE(ev.consumed, given);
      begin += ev.consumed;
      if (ev.kind == WsEventKind::need_more)
        break;
      records.push_back({ev.kind, std::string(ev.payload), ev.text, ev.close_code, ev.error});
      if (ev.kind == WsEventKind::error)
        return records;
    }
    std::memmove(buffer.data(), buffer.data() + begin, end - begin);
    end -= begin;
    begin = 0;
  }
  return records;
}

std::vector<Record> deliver_whole(WsRole role, std::string_view stream,
                                  std::size_t max_message = 1 << 20) {
  WsDeframer deframer(role, max_message);
  return deliver(deframer, stream, {});
}

// Checks that `stream` yields `expected` whether it arrives whole, split in two at every
// offset, or one byte at a time.
void expect_at_every_split(WsRole role, std::string_view stream,
                           const std::vector<Record>& expected) {
  EXPECT_EQ(deliver_whole(role, stream), expected) << "whole";
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    WsDeframer deframer(role, 1 << 20);
    EXPECT_EQ(deliver(deframer, stream, {split}), expected) << "split at " << split;
  }
  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < stream.size(); ++i)
    every_byte.push_back(i);
  WsDeframer deframer(role, 1 << 20);
  EXPECT_EQ(deliver(deframer, stream, every_byte), expected) << "one byte at a time";
}

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 7 + 3) & 0xFF);
  return s;
}

const WsKey kRfcKey = [] {
  WsKey key;
  std::memcpy(key.chars.data(), "dGhlIHNhbXBsZSBub25jZQ==", 24);
  return key;
}();

// ---------------------------------------------------------------------------------------
// RFC 6455 §5.7 examples
// ---------------------------------------------------------------------------------------

TEST(WsDeframer, RfcUnmaskedHelloInPlace) {
  std::string stream = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  stream.append(WsDeframer::kPadding, '\0');
  WsDeframer deframer(WsRole::client, 1024);
  const WsEvent ev = deframer.next(std::span<char>(stream.data(), 7));
  EXPECT_EQ(ev.kind, WsEventKind::message);
  EXPECT_EQ(ev.consumed, 7u);
  EXPECT_EQ(ev.payload, "Hello");
  EXPECT_TRUE(ev.text);
  EXPECT_TRUE(ev.in_place);
  EXPECT_EQ(ev.payload.data(), stream.data() + 2);
}

TEST(WsDeframer, RfcMaskedHelloUnmaskedInPlace) {
  std::string stream = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  stream.append(WsDeframer::kPadding, '\0');
  WsDeframer deframer(WsRole::server, 1024);
  const WsEvent ev = deframer.next(std::span<char>(stream.data(), 11));
  EXPECT_EQ(ev.kind, WsEventKind::message);
  EXPECT_EQ(ev.consumed, 11u);
  EXPECT_EQ(ev.payload, "Hello");
  EXPECT_TRUE(ev.in_place);
  EXPECT_EQ(ev.payload.data(), stream.data() + 6);
  EXPECT_EQ(stream.substr(6, 5), "Hello");  // the buffer itself now holds the clear text
}

TEST(WsDeframer, RfcExamplesAtEverySplit) {
  expect_at_every_split(WsRole::client, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}),
                        {message("Hello", true)});
  expect_at_every_split(WsRole::server,
                        bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
                        {message("Hello", true)});
  // Fragmented unmasked text: "Hel" then "lo".
  expect_at_every_split(WsRole::client,
                        bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}),
                        {message("Hello", true)});
  // Unmasked ping, masked pong.
  expect_at_every_split(WsRole::client, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}),
                        {control(WsEventKind::ping, "Hello")});
  expect_at_every_split(WsRole::server,
                        bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
                        {control(WsEventKind::pong, "Hello")});
}

TEST(WsDeframer, RfcFragmentedMessageIsReassembled) {
  std::string stream = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  stream.append(WsDeframer::kPadding, '\0');
  WsDeframer deframer(WsRole::client, 1024);
  // Only the first fragment: absorbed, reported as consumed, no event yet.
  const WsEvent first = deframer.next(std::span<char>(stream.data(), 5));
  EXPECT_EQ(first.kind, WsEventKind::need_more);
  EXPECT_EQ(first.consumed, 5u);
  EXPECT_TRUE(deframer.in_fragmented_message());
  const WsEvent second = deframer.next(std::span<char>(stream.data() + 5, 4));
  EXPECT_EQ(second.kind, WsEventKind::message);
  EXPECT_EQ(second.consumed, 4u);
  EXPECT_EQ(second.payload, "Hello");
  EXPECT_TRUE(second.text);
  EXPECT_FALSE(second.in_place);
  EXPECT_FALSE(deframer.in_fragmented_message());
}

TEST(WsDeframer, Rfc256And65536ByteBinaryLengths) {
  const std::string payload256 = pattern(256);
  const std::string frame256 = bytes({0x82, 0x7E, 0x01, 0x00}) + payload256;
  expect_at_every_split(WsRole::client, frame256, {message(payload256, false)});

  const std::string payload64k = pattern(65536);
  const std::string frame64k =
      bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}) + payload64k;
  EXPECT_EQ(deliver_whole(WsRole::client, frame64k), std::vector{message(payload64k, false)});
  for (const std::size_t split : {1u, 2u, 9u, 10u, 11u, 40000u, 65545u}) {
    WsDeframer deframer(WsRole::client, 1 << 20);
    EXPECT_EQ(deliver(deframer, frame64k, {split}), std::vector{message(payload64k, false)})
        << split;
  }
}

TEST(WsDeframer, NeedMoreConsumesNothingAndLeavesBytesUntouched) {
  const std::string full =
      bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::string buffer = full;
    buffer.append(WsDeframer::kPadding, '\0');
    WsDeframer deframer(WsRole::server, 1024);
    const WsEvent ev = deframer.next(std::span<char>(buffer.data(), n));
    EXPECT_EQ(ev.kind, WsEventKind::need_more) << n;
    EXPECT_EQ(ev.consumed, 0u) << n;
    EXPECT_EQ(buffer.substr(0, full.size()), full) << n;
  }
}

TEST(WsDeframer, SeveralFramesInOneBufferComeOneByOne) {
  std::string stream = bytes({0x81, 0x01, 'a', 0x89, 0x00, 0x82, 0x02, 0x01, 0x02});
  stream.append(WsDeframer::kPadding, '\0');
  WsDeframer deframer(WsRole::client, 64);
  std::span<char> rest(stream.data(), 9);
  WsEvent ev = deframer.next(rest);
  EXPECT_EQ(ev.kind, WsEventKind::message);
  EXPECT_EQ(ev.consumed, 3u);
  rest = rest.subspan(ev.consumed);
  ev = deframer.next(rest);
  EXPECT_EQ(ev.kind, WsEventKind::ping);
  EXPECT_EQ(ev.consumed, 2u);
  EXPECT_TRUE(ev.payload.empty());
  rest = rest.subspan(ev.consumed);
  ev = deframer.next(rest);
  EXPECT_EQ(ev.kind, WsEventKind::message);
  EXPECT_FALSE(ev.text);
  EXPECT_EQ(ev.payload, bytes({0x01, 0x02}));
  rest = rest.subspan(ev.consumed);
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(deframer.next(rest).kind, WsEventKind::need_more);
}

TEST(WsDeframer, PingBetweenFragmentsIsDeliveredInOrder) {
  // "Hel" (text, not final), ping "p", pong "", "lo" (final).
  const std::string stream =
      bytes({0x01, 0x03, 'H', 'e', 'l', 0x89, 0x01, 'p', 0x8A, 0x00, 0x80, 0x02, 'l', 'o'});
  expect_at_every_split(
      WsRole::client, stream,
      {control(WsEventKind::ping, "p"), control(WsEventKind::pong, ""), message("Hello", true)});
}

TEST(WsDeframer, MaskedFragmentsWithControlFramesAtEverySplit) {
  // Server role: every frame masked with its own key (from the client framer).
  WsFramer framer(WsRole::client, 77);
  std::array<char, 256> out{};
  std::string stream;
  auto add = [&](std::size_t n) { stream.append(out.data(), n); };
  add(framer.encode(WsOpcode::text, false, "{\"a\":", out));
  add(framer.ping("12", out));
  add(framer.encode(WsOpcode::continuation, false, "", out));
  add(framer.pong("", out));
  add(framer.encode(WsOpcode::continuation, true, "1}", out));
  add(framer.close(1001, "away", out));
  expect_at_every_split(WsRole::server, stream,
                        {control(WsEventKind::ping, "12"), control(WsEventKind::pong, ""),
                         message("{\"a\":1}", true), control(WsEventKind::close, "away", 1001)});
}

TEST(WsDeframer, ManySmallFragmentsAddUpToTooBig) {
  std::string stream = bytes({0x02, 0x0A}) + std::string(10, 'x');
  for (int i = 0; i < 9; ++i)
    stream += bytes({0x00, 0x0A}) + std::string(10, 'x');  // 100 bytes so far: fits exactly
  EXPECT_TRUE(deliver_whole(WsRole::client, stream, 100).empty());
  stream += bytes({0x80, 0x01, 'x'});  // the 101st byte
  EXPECT_EQ(deliver_whole(WsRole::client, stream, 100),
            std::vector{error(WsError::message_too_big)});
}

TEST(WsDeframer, FragmentedBinaryWithEmptyFragments) {
  const std::string stream =
      bytes({0x02, 0x00, 0x00, 0x02, 0x01, 0x02, 0x00, 0x00, 0x80, 0x01, 0x03});
  expect_at_every_split(WsRole::client, stream, {message(bytes({1, 2, 3}), false)});
}

TEST(WsDeframer, CloseWithCodeAndReason) {
  expect_at_every_split(WsRole::client, bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}),
                        {control(WsEventKind::close, "bye", 1000)});
  expect_at_every_split(WsRole::client, bytes({0x88, 0x00}),
                        {control(WsEventKind::close, "", ws_close::kNoStatus)});
  // Valid codes at the edges of the allowed ranges.
  for (const int code : {1000, 1003, 1007, 1011, 1014, 3000, 4999}) {
    EXPECT_EQ(deliver_whole(WsRole::client, bytes({0x88, 0x02, code >> 8, code & 0xFF})),
              std::vector{control(WsEventKind::close, "", static_cast<std::uint16_t>(code))})
        << code;
  }
}

// ---------------------------------------------------------------------------------------
// Protocol errors
// ---------------------------------------------------------------------------------------

TEST(WsDeframer, ProtocolErrorsCarryCloseCode1002) {
  struct Case {
    WsRole role;
    std::string stream;
    WsError error;
  };
  const std::vector<Case> cases = {
      {WsRole::client, bytes({0xC1, 0x00}), WsError::reserved_bits},  // RSV1
      {WsRole::client, bytes({0xA1, 0x00}), WsError::reserved_bits},  // RSV2
      {WsRole::client, bytes({0x91, 0x00}), WsError::reserved_bits},  // RSV3
      {WsRole::client, bytes({0x83, 0x00}), WsError::unknown_opcode},
      {WsRole::client, bytes({0x87, 0x00}), WsError::unknown_opcode},
      {WsRole::client, bytes({0x8B, 0x00}), WsError::unknown_opcode},
      {WsRole::client, bytes({0x8F, 0x00}), WsError::unknown_opcode},
      {WsRole::client, bytes({0x89, 0x7E, 0x00, 0x7E}), WsError::control_too_long},
      {WsRole::client, bytes({0x88, 0x7E, 0x00, 0x7E}), WsError::control_too_long},
      {WsRole::client, bytes({0x09, 0x00}), WsError::control_fragmented},
      {WsRole::client, bytes({0x08, 0x00}), WsError::control_fragmented},
      {WsRole::client, bytes({0x80, 0x00}), WsError::unexpected_continuation},
      {WsRole::client, bytes({0x00, 0x01, 'x'}), WsError::unexpected_continuation},
      {WsRole::client, bytes({0x01, 0x01, 'a', 0x81, 0x01, 'b'}), WsError::expected_continuation},
      {WsRole::client, bytes({0x01, 0x01, 'a', 0x02, 0x01, 'b'}), WsError::expected_continuation},
      {WsRole::server, bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), WsError::mask_missing},
      {WsRole::client, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
       WsError::mask_unexpected},
      {WsRole::client, bytes({0x82, 0x7F, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}),
       WsError::length_top_bit},
      {WsRole::client, bytes({0x88, 0x01, 0x03}), WsError::close_payload_length_one},
  };
  for (const Case& c : cases) {
    const std::vector<Record> got = deliver_whole(c.role, c.stream);
    ASSERT_FALSE(got.empty()) << to_string(c.error);
    EXPECT_EQ(got.back(), error(c.error)) << to_string(c.error);
    EXPECT_EQ(got.back().close_code, 1002) << to_string(c.error);
  }
}

TEST(WsDeframer, InvalidCloseCodes) {
  for (const int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    const auto got = deliver_whole(WsRole::client, bytes({0x88, 0x02, code >> 8, code & 0xFF}));
    EXPECT_EQ(got, std::vector{error(WsError::invalid_close_code)}) << code;
  }
}

TEST(WsDeframer, ErrorsFromTheFirstTwoBytesNeedNoMore) {
  WsDeframer deframer(WsRole::client, 1024);
  std::string buffer = bytes({0x89, 0xFE});  // ping, 126-byte length (rejected), no more bytes
  buffer.append(WsDeframer::kPadding, '\0');
  const WsEvent ev = deframer.next(std::span<char>(buffer.data(), 2));
  EXPECT_EQ(ev.kind, WsEventKind::error);
  EXPECT_EQ(ev.close_code, 1002);
}

TEST(WsDeframer, TooBigIsDetectedFromTheHeader) {
  WsDeframer deframer(WsRole::client, 100);
  std::string buffer = bytes({0x82, 0x7E, 0x00, 0x65});  // 101 bytes announced, none sent
  buffer.append(WsDeframer::kPadding, '\0');
  EXPECT_EQ(deframer.next(std::span<char>(buffer.data(), 3)).kind, WsEventKind::need_more);
  const WsEvent ev = deframer.next(std::span<char>(buffer.data(), 4));
  EXPECT_EQ(ev.kind, WsEventKind::error);
  EXPECT_EQ(ev.error, WsError::message_too_big);
  EXPECT_EQ(ev.close_code, 1009);

  // Exactly the maximum is fine.
  const std::string at_max = bytes({0x82, 0x64}) + pattern(100);
  EXPECT_EQ(deliver_whole(WsRole::client, at_max, 100), std::vector{message(pattern(100), false)});

  // 64-bit length far beyond the maximum.
  EXPECT_EQ(deliver_whole(WsRole::client,
                          bytes({0x82, 0x7F, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00}), 100),
            std::vector{error(WsError::message_too_big)});
}

TEST(WsDeframer, TooBigAcrossFragmentsIsDetectedFromTheSecondHeader) {
  WsDeframer deframer(WsRole::client, 100);
  std::string buffer = bytes({0x01, 0x3C}) + std::string(60, 'a') + bytes({0x80, 0x3C});
  buffer.append(WsDeframer::kPadding, '\0');
  // The first fragment (60) fits; the second header announces 60 more: 120 > 100.
  const WsEvent ev = deframer.next(std::span<char>(buffer.data(), 64));
  EXPECT_EQ(ev.kind, WsEventKind::error);
  EXPECT_EQ(ev.error, WsError::message_too_big);
  EXPECT_EQ(ev.close_code, 1009);
  EXPECT_LE(ev.consumed, 64u);
}

TEST(WsDeframer, InvalidUtf8Is1007) {
  EXPECT_EQ(deliver_whole(WsRole::client, bytes({0x81, 0x02, 0xC3, 0x28})),
            std::vector{error(WsError::invalid_utf8)});
  EXPECT_EQ(deliver_whole(WsRole::client, bytes({0x81, 0x01, 0xFF})),
            std::vector{error(WsError::invalid_utf8)});
  // The same bytes as binary are fine.
  EXPECT_EQ(deliver_whole(WsRole::client, bytes({0x82, 0x02, 0xC3, 0x28})),
            std::vector{message(bytes({0xC3, 0x28}), false)});
  // Close reason.
  EXPECT_EQ(deliver_whole(WsRole::client, bytes({0x88, 0x04, 0x03, 0xE8, 0xC3, 0x28})),
            std::vector{error(WsError::invalid_close_reason)});
  EXPECT_EQ(close_code_for(WsError::invalid_close_reason), 1007);
}

TEST(WsDeframer, Utf8CodePointSplitAcrossFragments) {
  // U+20AC (E2 82 AC) split after its first byte: valid once reassembled.
  expect_at_every_split(WsRole::client, bytes({0x01, 0x02, 'a', 0xE2, 0x80, 0x02, 0x82, 0xAC}),
                        {message("a\xE2\x82\xAC", true)});
  // Same start, but the continuation is not a continuation byte: invalid.
  EXPECT_EQ(deliver_whole(WsRole::client, bytes({0x01, 0x02, 'a', 0xE2, 0x80, 0x02, 0x28, 0xAC})),
            std::vector{error(WsError::invalid_utf8)});
  // Truncated at the end of the message: invalid.
  EXPECT_EQ(deliver_whole(WsRole::client, bytes({0x01, 0x02, 'a', 0xE2, 0x80, 0x01, 0x82})),
            std::vector{error(WsError::invalid_utf8)});
}

TEST(WsDeframer, ErrorIsStickyUntilReset) {
  WsDeframer deframer(WsRole::client, 100);
  std::string buffer = bytes({0xC1, 0x00, 0x81, 0x01, 'a'});
  buffer.append(WsDeframer::kPadding, '\0');
  EXPECT_EQ(deframer.next(std::span<char>(buffer.data(), 5)).kind, WsEventKind::error);
  const WsEvent again = deframer.next(std::span<char>(buffer.data() + 2, 3));
  EXPECT_EQ(again.kind, WsEventKind::error);
  EXPECT_EQ(again.error, WsError::reserved_bits);
  EXPECT_EQ(again.consumed, 0u);
  deframer.reset();
  const WsEvent ok = deframer.next(std::span<char>(buffer.data() + 2, 3));
  EXPECT_EQ(ok.kind, WsEventKind::message);
  EXPECT_EQ(ok.payload, "a");
}

// ---------------------------------------------------------------------------------------
// Framer
// ---------------------------------------------------------------------------------------

TEST(WsFramer, ServerFramesMatchTheRfcBytes) {
  WsFramer framer(WsRole::server, 1);
  std::array<char, 300> out{};
  ASSERT_EQ(framer.text("Hello", out), 7u);
  EXPECT_EQ(std::string_view(out.data(), 7), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  ASSERT_EQ(framer.ping("Hello", out), 7u);
  EXPECT_EQ(std::string_view(out.data(), 7), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  ASSERT_EQ(framer.encode(WsOpcode::text, false, "Hel", out), 5u);
  EXPECT_EQ(std::string_view(out.data(), 5), bytes({0x01, 0x03, 0x48, 0x65, 0x6c}));
  ASSERT_EQ(framer.encode(WsOpcode::continuation, true, "lo", out), 4u);
  EXPECT_EQ(std::string_view(out.data(), 4), bytes({0x80, 0x02, 0x6c, 0x6f}));
  ASSERT_EQ(framer.close(1000, "bye", out), 7u);
  EXPECT_EQ(std::string_view(out.data(), 7), bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));
  ASSERT_EQ(framer.close_empty(out), 2u);
  EXPECT_EQ(std::string_view(out.data(), 2), bytes({0x88, 0x00}));
  const std::string payload256 = pattern(256);
  ASSERT_EQ(framer.binary(payload256, out), 260u);
  EXPECT_EQ(std::string_view(out.data(), 4), bytes({0x82, 0x7E, 0x01, 0x00}));
}

TEST(WsFramer, ClientFramesAreMaskedWithTheKeyTheyCarry) {
  WsFramer framer(WsRole::client, 42);
  std::array<char, 64> out{};
  ASSERT_EQ(framer.text("Hello", out), 11u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x81);
  EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 0x85);
  std::string payload(out.data() + 6, 5);
  for (std::size_t i = 0; i < 5; ++i)
    payload[i] = static_cast<char>(payload[i] ^ out[2 + i % 4]);
  EXPECT_EQ(payload, "Hello");
  // A fresh key for every frame.
  std::array<char, 64> second{};
  ASSERT_EQ(framer.text("Hello", second), 11u);
  EXPECT_NE(std::string_view(out.data() + 2, 4), std::string_view(second.data() + 2, 4));
}

TEST(WsFramer, RejectsWhatDoesNotFitOrIsNotAllowed) {
  WsFramer framer(WsRole::client, 7);
  std::array<char, 10> small{};
  EXPECT_EQ(framer.text("Hello", small), 0u);  // needs 11
  std::array<char, 11> exact{};
  EXPECT_EQ(framer.text("Hello", exact), 11u);
  std::array<char, 300> out{};
  EXPECT_EQ(framer.ping(std::string(126, 'x'), out), 0u);
  EXPECT_EQ(framer.ping(std::string(125, 'x'), out), 131u);
  EXPECT_EQ(framer.encode(WsOpcode::ping, false, "x", out), 0u);
  EXPECT_EQ(framer.encode(static_cast<WsOpcode>(3), true, "x", out), 0u);
  EXPECT_EQ(framer.close(1000, std::string(124, 'x'), out), 0u);
  EXPECT_EQ(framer.close(1000, std::string(123, 'x'), out), 131u);
}

TEST(WsFramer, HeaderSizes) {
  EXPECT_EQ(ws_header_size(0, WsRole::server), 2u);
  EXPECT_EQ(ws_header_size(125, WsRole::server), 2u);
  EXPECT_EQ(ws_header_size(126, WsRole::server), 4u);
  EXPECT_EQ(ws_header_size(65535, WsRole::server), 4u);
  EXPECT_EQ(ws_header_size(65536, WsRole::server), 10u);
  EXPECT_EQ(ws_header_size(65536, WsRole::client), 14u);
}

// Frames `payload` with `sender`'s role and deframes it with the opposite role, checking the
// length encoding byte for byte.
void round_trip(WsRole sender, std::size_t size, bool in_place) {
  const WsRole receiver = sender == WsRole::client ? WsRole::server : WsRole::client;
  WsFramer framer(sender, 1234 + size);
  WsDeframer deframer(receiver, 1 << 17);
  const std::string payload = pattern(size);
  std::vector<char> buffer(size + kWsMaxHeaderSize + WsDeframer::kPadding);
  std::span<char> frame;
  if (in_place) {
    std::memcpy(buffer.data() + kWsMaxHeaderSize, payload.data(), size);
    frame = framer.encode_in_place(WsOpcode::binary, true, buffer, kWsMaxHeaderSize, size);
  } else {
    const std::size_t n = framer.binary(payload, buffer);
    frame = std::span<char>(buffer.data(), n);
  }
  ASSERT_EQ(frame.size(), ws_header_size(size, sender) + size);
  const auto b1 = static_cast<std::uint8_t>(frame[1]);
  EXPECT_EQ((b1 & 0x80) != 0, sender == WsRole::client);
  const unsigned length7 = b1 & 0x7Fu;
  if (size < 126) {
    EXPECT_EQ(length7, size);
  } else if (size <= 65535) {
    EXPECT_EQ(length7, 126u);
    EXPECT_EQ((static_cast<std::size_t>(static_cast<std::uint8_t>(frame[2])) << 8) |
                  static_cast<std::uint8_t>(frame[3]),
              size);
  } else {
    EXPECT_EQ(length7, 127u);
    std::uint64_t encoded = 0;
    for (std::size_t i = 2; i < 10; ++i)
      encoded = (encoded << 8) | static_cast<std::uint8_t>(frame[i]);
    EXPECT_EQ(encoded, size);
    if (size == 65536) {  // RFC 6455 §5.7: 7F 00 00 00 00 00 01 00 00
      EXPECT_EQ(std::string_view(frame.data() + 2, 8), bytes({0, 0, 0, 0, 0, 1, 0, 0}));
    }
  }
  const WsEvent ev = deframer.next(frame);
  ASSERT_EQ(ev.kind, WsEventKind::message);
  EXPECT_EQ(ev.consumed, frame.size());
  EXPECT_EQ(ev.payload, payload);
  EXPECT_FALSE(ev.text);
}

TEST(WsFramer, RoundTripsInBothRoles) {
  for (const WsRole sender : {WsRole::client, WsRole::server}) {
    for (const std::size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70001u}) {
      for (const bool in_place : {false, true}) {
        SCOPED_TRACE(testing::Message() << "sender " << static_cast<int>(sender) << " size " << size
                                        << " in_place " << in_place);
        round_trip(sender, size, in_place);
      }
    }
  }
}

TEST(WsFramer, EncodeInPlaceNeedsRoomForTheHeader) {
  WsFramer framer(WsRole::client, 3);
  std::array<char, 64> buffer{};
  EXPECT_TRUE(framer.encode_in_place(WsOpcode::text, true, buffer, 5, 5).empty());  // needs 6
  const std::span<char> frame = framer.encode_in_place(WsOpcode::text, true, buffer, 6, 5);
  EXPECT_EQ(frame.data(), buffer.data());
  EXPECT_EQ(frame.size(), 11u);
  EXPECT_TRUE(framer.encode_in_place(WsOpcode::text, true, buffer, 14, 51).empty());  // past end
}

TEST(WsFramer, MaskWithOffsetMatchesByteWiseXor) {
  const std::array<std::uint8_t, 4> key = {0x37, 0xfa, 0x21, 0x3d};
  for (std::size_t offset = 0; offset < 4; ++offset) {
    std::string data = pattern(37);
    ws_apply_mask(data.data(), data.size(), key, offset);
    const std::string original = pattern(37);
    for (std::size_t i = 0; i < data.size(); ++i) {
      EXPECT_EQ(static_cast<std::uint8_t>(data[i]),
                static_cast<std::uint8_t>(original[i]) ^ key[(i + offset) % 4]);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------

TEST(WsHandshake, RfcAcceptVector) {
  // RFC 6455 §1.3 (checked against Python hashlib + base64).
  EXPECT_EQ(compute_ws_accept(kRfcKey).view(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // The RFC's key is base64 of the 16 bytes "the sample nonce".
  std::array<std::uint8_t, 16> nonce{};
  std::memcpy(nonce.data(), "the sample nonce", 16);
  EXPECT_EQ(make_ws_key(nonce).view(), "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(WsHandshake, ClientRequestBytes) {
  std::array<char, 512> out{};
  WsClientTarget target;
  target.host = "stream.bybit.com";
  target.path_and_query = "/v5/public/linear";
  const std::size_t n = build_ws_client_request(target, kRfcKey, out);
  EXPECT_EQ(std::string_view(out.data(), n),
            "GET /v5/public/linear HTTP/1.1\r\n"
            "Host: stream.bybit.com\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n");

  target.host = "127.0.0.1";
  target.port = 9443;
  target.path_and_query = "/ws?x=1&y=2";
  target.extra_headers = "User-Agent: kinetic\r\n";
  const std::size_t m = build_ws_client_request(target, kRfcKey, out);
  const std::string_view request(out.data(), m);
  EXPECT_EQ(request.substr(0, 26), "GET /ws?x=1&y=2 HTTP/1.1\r\n");
  EXPECT_NE(request.find("\r\nHost: 127.0.0.1:9443\r\n"), std::string_view::npos);
  EXPECT_NE(request.find("\r\nUser-Agent: kinetic\r\n\r\n"), std::string_view::npos);

  target.tls = false;
  target.port = 80;
  const std::size_t k = build_ws_client_request(target, kRfcKey, out);
  EXPECT_NE(std::string_view(out.data(), k).find("\r\nHost: 127.0.0.1\r\n"),
            std::string_view::npos);

  EXPECT_EQ(build_ws_client_request(target, kRfcKey, std::span<char>(out.data(), k - 1)), 0u);
  target.path_and_query = "ws";
  EXPECT_EQ(build_ws_client_request(target, kRfcKey, out), 0u);
}

const std::string kGoodResponse =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

TEST(WsHandshake, ResponseParsedIncrementally) {
  for (std::size_t n = 0; n < kGoodResponse.size(); ++n) {
    const WsResponseParse r =
        parse_ws_server_response(std::string_view(kGoodResponse).substr(0, n), kRfcKey);
    EXPECT_EQ(r.error, HandshakeError::incomplete) << n;
    EXPECT_EQ(r.consumed, 0u);
  }
  const WsResponseParse r = parse_ws_server_response(kGoodResponse, kRfcKey);
  EXPECT_EQ(r.error, HandshakeError::ok);
  EXPECT_EQ(r.consumed, kGoodResponse.size());
  EXPECT_EQ(r.http_status, 101);
}

TEST(WsHandshake, ResponseHeadersAreCaseInsensitiveAndConnectionMayBeAList) {
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "server: nginx\r\n"
      "upgrade: WebSocket\r\n"
      "CONNECTION: keep-alive,  upgrade \r\n"
      "sec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
      "\r\n";
  EXPECT_EQ(parse_ws_server_response(response, kRfcKey).error, HandshakeError::ok);
}

TEST(WsHandshake, ResponseFailures) {
  auto parse = [](const std::string& r) { return parse_ws_server_response(r, kRfcKey); };
  const WsResponseParse forbidden = parse("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(forbidden.error, HandshakeError::bad_status);
  EXPECT_EQ(forbidden.http_status, 403);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n\r\n").error, HandshakeError::bad_status);

  std::string wrong_accept = kGoodResponse;
  wrong_accept.replace(wrong_accept.find("s3pP"), 4, "s3pQ");
  EXPECT_EQ(parse(wrong_accept).error, HandshakeError::bad_accept);

  std::string no_accept = kGoodResponse;
  no_accept.erase(no_accept.find("Sec-WebSocket-Accept"), 50);
  EXPECT_EQ(parse(no_accept).error, HandshakeError::bad_accept);

  std::string no_upgrade = kGoodResponse;
  no_upgrade.erase(no_upgrade.find("Upgrade: websocket\r\n"), 20);
  EXPECT_EQ(parse(no_upgrade).error, HandshakeError::missing_upgrade);

  std::string no_connection = kGoodResponse;
  no_connection.replace(no_connection.find("Connection: Upgrade"), 19, "Connection: close  ");
  EXPECT_EQ(parse(no_connection).error, HandshakeError::missing_connection);

  std::string extension = kGoodResponse;
  extension.insert(extension.size() - 2, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
  EXPECT_EQ(parse(extension).error, HandshakeError::unexpected_extension);

  EXPECT_EQ(parse("HTTP/1.0 101 Switching Protocols\r\n\r\n").error,
            HandshakeError::bad_http_version);
  EXPECT_EQ(parse("garbage\r\n\r\n").error, HandshakeError::malformed);
  EXPECT_EQ(parse("HTTP/1.1 101 OK\r\nno colon here\r\n\r\n").error, HandshakeError::malformed);
  EXPECT_EQ(parse(std::string(kMaxHandshakeSize, 'x')).error, HandshakeError::header_too_large);
}

TEST(WsHandshake, FirstFrameInTheSameReadIsKept) {
  std::string received = kGoodResponse + bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'});
  const std::size_t received_size = received.size();
  received.append(WsDeframer::kPadding, '\0');
  const WsResponseParse r =
      parse_ws_server_response(std::string_view(received.data(), received_size), kRfcKey);
  ASSERT_EQ(r.error, HandshakeError::ok);
  EXPECT_EQ(r.consumed, kGoodResponse.size());
  WsDeframer deframer(WsRole::client, 1024);
  const WsEvent ev =
      deframer.next(std::span<char>(received.data() + r.consumed, received_size - r.consumed));
  EXPECT_EQ(ev.kind, WsEventKind::message);
  EXPECT_EQ(ev.payload, "Hello");
}

TEST(WsHandshake, ServerParsesTheClientRequestAndAnswers) {
  std::array<char, 512> request{};
  WsClientTarget target;
  target.host = "localhost";
  target.port = 8080;
  target.tls = false;
  target.path_and_query = "/v5/public/linear?a=1";
  const std::size_t n = build_ws_client_request(target, kRfcKey, request);
  ASSERT_GT(n, 0u);
  for (std::size_t k = 0; k < n; ++k)
    EXPECT_EQ(parse_ws_client_request(std::string_view(request.data(), k)).error,
              HandshakeError::incomplete);
  const WsRequestParse parsed = parse_ws_client_request(std::string_view(request.data(), n));
  ASSERT_EQ(parsed.error, HandshakeError::ok);
  EXPECT_EQ(parsed.consumed, n);
  EXPECT_EQ(parsed.path, "/v5/public/linear?a=1");
  EXPECT_EQ(parsed.host, "localhost:8080");
  EXPECT_EQ(parsed.key.view(), kRfcKey.view());

  std::array<char, 256> response{};
  const std::size_t m = build_ws_server_response(parsed.key, response);
  EXPECT_EQ(std::string_view(response.data(), m), kGoodResponse);
  EXPECT_EQ(parse_ws_server_response(std::string_view(response.data(), m), kRfcKey).error,
            HandshakeError::ok);
  EXPECT_EQ(build_ws_server_response(parsed.key, std::span<char>(response.data(), m - 1)), 0u);
}

TEST(WsHandshake, RequestFailures) {
  const std::string good =
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_EQ(parse_ws_client_request(good).error, HandshakeError::ok);
  auto with = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return parse_ws_client_request(s).error;
  };
  EXPECT_EQ(with("GET", "POST"), HandshakeError::bad_method);
  EXPECT_EQ(with("HTTP/1.1", "HTTP/1.0"), HandshakeError::bad_http_version);
  EXPECT_EQ(with("Host: h\r\n", ""), HandshakeError::missing_host);
  EXPECT_EQ(with("Upgrade: websocket\r\n", ""), HandshakeError::missing_upgrade);
  EXPECT_EQ(with("Connection: Upgrade", "Connection: close"), HandshakeError::missing_connection);
  EXPECT_EQ(with("Version: 13", "Version: 8"), HandshakeError::bad_ws_version);
  EXPECT_EQ(with("Sec-WebSocket-Version: 13\r\n", ""), HandshakeError::bad_ws_version);
  EXPECT_EQ(with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"), HandshakeError::bad_key);
  EXPECT_EQ(with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZR=="),
            HandshakeError::bad_key);  // stray bits in the last symbol
  EXPECT_EQ(with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j*Q=="), HandshakeError::bad_key);
  EXPECT_EQ(with("GET /ws HTTP", "GET ws HTTP"), HandshakeError::malformed);
  EXPECT_EQ(http_status_for(HandshakeError::bad_ws_version), 426);
  EXPECT_EQ(http_status_for(HandshakeError::bad_key), 400);
}

TEST(WsHandshake, HttpErrorResponses) {
  std::array<char, 256> out{};
  std::size_t n = build_http_error_response(426, out);
  EXPECT_EQ(std::string_view(out.data(), n),
            "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n");
  n = build_http_error_response(404, out);
  EXPECT_EQ(std::string_view(out.data(), n),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  n = build_http_error_response(400, out);
  EXPECT_EQ(std::string_view(out.data(), n),
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(build_http_error_response(400, std::span<char>(out.data(), 10)), 0u);
}

// ---------------------------------------------------------------------------------------
// simdjson in place, and allocations
// ---------------------------------------------------------------------------------------

TEST(WsDeframer, InPlaceMessageParsesWithSimdjson) {
  const std::string json = R"({"topic":"publicTrade.BTCUSDT","ts":1700000000000})";
  WsFramer framer(WsRole::client, 9);
  std::vector<char> buffer(json.size() + kWsMaxHeaderSize + WsDeframer::kPadding, '\xFF');
  const std::size_t n = framer.text(json, buffer);
  WsDeframer deframer(WsRole::server, 4096);
  const WsEvent ev = deframer.next(std::span<char>(buffer.data(), n));
  ASSERT_EQ(ev.kind, WsEventKind::message);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  ASSERT_EQ(parser
                .iterate(simdjson::padded_string_view(ev.payload.data(), ev.payload.size(),
                                                      ev.payload.size() + WsDeframer::kPadding))
                .get(doc),
            simdjson::SUCCESS);
  std::string_view topic;
  ASSERT_EQ(doc["topic"].get_string().get(topic), simdjson::SUCCESS);
  EXPECT_EQ(topic, "publicTrade.BTCUSDT");
}

TEST(WsAllocations, NoneAfterConstructionOverThousandsOfMessages) {
  WsFramer client(WsRole::client, 5);
  WsFramer server(WsRole::server, 6);
  WsDeframer at_server(WsRole::server, 1 << 16);
  WsDeframer at_client(WsRole::client, 1 << 16);
  std::vector<char> wire(1 << 18);
  const std::string payload = pattern(3000);
  std::size_t delivered = 0;
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int i = 0; i < 5000; ++i) {
      const std::size_t size = static_cast<std::size_t>(i % 3000);
      for (const bool to_server : {true, false}) {
        WsFramer& framer = to_server ? client : server;
        WsDeframer& deframer = to_server ? at_server : at_client;
        std::size_t n = 0;
        // A fragmented binary with a ping in the middle, then a whole binary message.
        n += framer.encode(WsOpcode::binary, false, std::string_view(payload).substr(0, size / 2),
                           std::span<char>(wire).subspan(n));
        n += framer.ping("p", std::span<char>(wire).subspan(n));
        n += framer.encode(WsOpcode::continuation, true,
                           std::string_view(payload).substr(size / 2, size - size / 2),
                           std::span<char>(wire).subspan(n));
        n += framer.binary(std::string_view(payload).substr(0, size),
                           std::span<char>(wire).subspan(n));
        std::span<char> rest(wire.data(), n);
        while (true) {
          const WsEvent ev = deframer.next(rest);
          rest = rest.subspan(ev.consumed);
          if (ev.kind == WsEventKind::need_more)
            break;
          if (ev.kind == WsEventKind::message && ev.payload.size() == size)
            ++delivered;
        }
      }
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(delivered, 5000u * 2 * 2);
}

}  // namespace
}  // namespace kinetic::feed
