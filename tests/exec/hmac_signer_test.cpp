// HmacSha256 and constant_time_equal_hex against every vector of docs/bybit-v5.md §5 (REST,
// WebSocket auth, and the legacy v2 published vector that checks the primitive).

#include "kinetic/exec/hmac_signer.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using kinetic::exec::constant_time_equal_hex;
using kinetic::exec::HmacSha256;
using kinetic::exec::kHmacSha256HexLength;

constexpr std::string_view kKey = "qTd7Yc3Lx9PwB2mNa1";
constexpr std::string_view kSecret = "Zr4Kp8Wq2Xv6Nb0Jt5Hs9Lc3Fg7Dm1Ay4Ue8";
constexpr std::string_view kTimestamp = "1700000000000";
constexpr std::string_view kRecvWindow = "5000";

std::string sign(HmacSha256& signer, std::initializer_list<std::string_view> parts) {
  std::array<char, kHmacSha256HexLength> out{};
  EXPECT_TRUE(signer.sign(parts, out));
  return std::string(out.data(), out.size());
}

/// One §5 REST vector: the payload after timestamp + key + recvWindow, and the signature.
struct RestVector {
  std::string_view recv_window;
  std::string_view payload;
  std::string_view signature;
};

const std::vector<RestVector>& rest_vectors() {
  static const std::vector<RestVector> vectors = {
      {kRecvWindow, "category=linear&symbol=BTCUSDT",
       "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef"},
      {kRecvWindow, "symbol=BTCUSDT&category=linear",
       "3885f5bf9bff1954372401fe03738ee8cb356c70c036d284ea4d1c3d9587c9f3"},
      {kRecvWindow, "accountType=UNIFIED&coin=USDT",
       "a395c3a2e167c11ffd8aeff94c32e1b5608e0f3784b3971f4b5c1c35c91031a7"},
      {kRecvWindow, "", "e7f0eb5ce98da68966557bfa93ba6c5dcbfadffa3b814b321534daa4562a73d6"},
      {"20000", "category=linear&symbol=BTCUSDT",
       "6a4a927512adbf0d5ea81b95087ec2bb4a38c20820beabc32bfabcf6334a2046"},
      {kRecvWindow,
       R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"30000","timeInForce":"GTC","orderLinkId":"test-0001"})",
       "90e37d5df4e00108ed91c6e73fe4158bd1d5e7b625e98d97e03057cce631040c"},
      {kRecvWindow,
       R"({"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "30000", "timeInForce": "GTC", "orderLinkId": "test-0001"})",
       "cf96fa202608da0f04005e9c69f7c258af50b324b35924c3c648a67d1583ea3b"},
      {kRecvWindow, R"({"category":"linear","settleCoin":"USDT"})",
       "34345dc2b41e775fce85a1ee205d855cc5ad94b2cc20b69eb02299e3256ff9d3"},
      {kRecvWindow,
       R"({"category":"linear","symbol":"BTCUSDT","buyLeverage":"10","sellLeverage":"10"})",
       "566a1bd048cfa78b7b002647ac055fffbb6ff97c783fe9f216824f7f9590a0b3"},
      {kRecvWindow,
       R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.001","reduceOnly":true,"positionIdx":0})",
       "ed754350bafbfbd8cb44468a1e5d38799731bf1856b434a25409226eef637512"},
  };
  return vectors;
}

TEST(HmacSha256, LegacyV2PublishedVectorChecksThePrimitive) {
  HmacSha256 signer("t7T0YlFnYXk0Fx3JswQsDrViLg1Gh3DUU5Mr");
  EXPECT_EQ(sign(signer, {"api_key=B2Rou0PLPpGqcU0Vu2&side=Buy&symbol=BTCUSD&qty=100&price=3001.5"
                          "&time_in_force=GoodTillCancel&order_type=Limit&reduce_only=true"
                          "&timestamp=1542434791000"}),
            "52a6a6fc4da6d395baa8daccd21eb903eb47c19c03112cc2c80b005f2d181aef");
}

TEST(HmacSha256, EveryRestVectorOfTheDocs) {
  HmacSha256 signer(kSecret);
  for (const RestVector& v : rest_vectors()) {
    EXPECT_EQ(sign(signer, {kTimestamp, kKey, v.recv_window, v.payload}), v.signature)
        << "payload " << v.payload;
  }
}

TEST(HmacSha256, WebSocketAuthVectors) {
  HmacSha256 signer(kSecret);
  EXPECT_EQ(sign(signer, {"GET/realtime", "1700000010000"}),
            "2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8");
  EXPECT_EQ(sign(signer, {"GET/realtime", "1711010121452"}),
            "cd833d16dc7a76f3354c9fbbecb693d9815a70b069d56f581e0ea11516517bd3");
}

TEST(HmacSha256, HowTheMessageIsSplitDoesNotMatter) {
  HmacSha256 signer(kSecret);
  const std::string expected = "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef";
  EXPECT_EQ(sign(signer, {"1700000000000qTd7Yc3Lx9PwB2mNa15000category=linear&symbol=BTCUSDT"}),
            expected);
  EXPECT_EQ(sign(signer, {"17", "", "00000000000qTd7Yc3L", "x9PwB2mNa1", "5000category=linear",
                          "&symbol=BTCUSDT", ""}),
            expected);
}

TEST(HmacSha256, ReusingTheSignerKeepsTheKeyAndForgetsThePreviousMessage) {
  HmacSha256 signer(kSecret);
  // Interleave messages: a state leak from one signature into the next would change them.
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(sign(signer, {"GET/realtime", "1700000010000"}),
              "2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8");
    EXPECT_EQ(sign(signer, {kTimestamp, kKey, kRecvWindow, ""}),
              "e7f0eb5ce98da68966557bfa93ba6c5dcbfadffa3b814b321534daa4562a73d6");
  }
}

TEST(HmacSha256, OneByteChangedChangesTheSignature) {
  HmacSha256 signer(kSecret);
  EXPECT_NE(sign(signer, {kTimestamp, kKey, kRecvWindow, "category=linear&symbol=BTCUSDU"}),
            "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef");
  HmacSha256 other_secret("Zr4Kp8Wq2Xv6Nb0Jt5Hs9Lc3Fg7Dm1Ay4Ue9");
  EXPECT_NE(sign(other_secret, {kTimestamp, kKey, kRecvWindow, "category=linear&symbol=BTCUSDT"}),
            "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef");
}

TEST(HmacSha256, SecretsLongerThanABlockAndEmptyOnes) {
  // RFC 4231 test case 6: a 131-byte key (hashed first) and a known digest.
  const std::string long_key(131, '\xaa');
  HmacSha256 long_signer(long_key);
  EXPECT_EQ(sign(long_signer, {"Test Using Larger Than Block-Size Key - Hash Key First"}),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // RFC 4231 test case 2.
  HmacSha256 jefe("Jefe");
  EXPECT_EQ(sign(jefe, {"what do ya want ", "for nothing?"}),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // HMAC with an empty key is well defined (python: hmac.new(b"", b"", sha256)).
  HmacSha256 empty("");
  EXPECT_EQ(sign(empty, {}), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256, SigningAllocatesNothing) {
  HmacSha256 signer(kSecret);
  std::array<char, kHmacSha256HexLength> out{};
  const std::string_view body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.001","reduceOnly":true,"positionIdx":0})";
  bool ok = signer.sign({kTimestamp, kKey, kRecvWindow, body}, out);  // warm-up
  const std::uint64_t allocations = kinetic::test::count_allocations([&] {
    for (int i = 0; i < 100; ++i)
      ok = signer.sign({kTimestamp, kKey, kRecvWindow, body}, out) && ok;
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(std::string_view(out.data(), out.size()),
            "ed754350bafbfbd8cb44468a1e5d38799731bf1856b434a25409226eef637512");
}

TEST(HmacSha256, MovedSignerKeepsWorkingAndTheSourceFailsCleanly) {
  HmacSha256 first(kSecret);
  HmacSha256 second(std::move(first));
  EXPECT_EQ(second.sign_hex({"GET/realtime", "1700000010000"}),
            "2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8");
  std::array<char, kHmacSha256HexLength> out{};
  EXPECT_FALSE(first.sign({"x"}, out));  // NOLINT(bugprone-use-after-move): defined as false
  EXPECT_EQ(first.sign_hex({"x"}), "");
  HmacSha256 third("other");
  third = std::move(second);
  EXPECT_EQ(third.sign_hex({"GET/realtime", "1700000010000"}),
            "2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8");
}

TEST(ConstantTimeEqualHex, EqualDifferentAndMalformed) {
  const std::string_view sig = "2aeefb27b8d2133053eb0c4f4e8e045c8d7e2c724c307a58c32b89c260407bf8";
  EXPECT_TRUE(constant_time_equal_hex(sig, sig));
  EXPECT_TRUE(constant_time_equal_hex(sig, std::string(sig)));
  // Upper-case hex is the same signature.
  EXPECT_TRUE(constant_time_equal_hex("2AEEfb", "2aeeFB"));
  // One nibble different, first or last.
  EXPECT_FALSE(constant_time_equal_hex("3aeefb", "2aeefb"));
  EXPECT_FALSE(constant_time_equal_hex("2aeefb", "2aeefc"));
  // Lengths differ.
  EXPECT_FALSE(constant_time_equal_hex("2aeefb", "2aeef"));
  EXPECT_FALSE(constant_time_equal_hex("", "0"));
  // Non-hex characters never compare equal, even to themselves.
  EXPECT_FALSE(constant_time_equal_hex("zz", "zz"));
  EXPECT_FALSE(constant_time_equal_hex("g0", "g0"));
  EXPECT_FALSE(constant_time_equal_hex("0:", "0:"));
  EXPECT_FALSE(constant_time_equal_hex(std::string_view("0\0", 2), std::string_view("0\0", 2)));
  // Empty equals empty (no signature characters to differ).
  EXPECT_TRUE(constant_time_equal_hex("", ""));
}

}  // namespace
