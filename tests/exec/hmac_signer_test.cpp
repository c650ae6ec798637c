// HmacSha256 and constant_time_equal_hex against every vector of docs/bybit-v5.md §5 (REST,
// WebSocket auth, and the legacy v2 published vector that checks the primitive).

#include "kinetic/exec/hmac_signer.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using kinetic::exec::constant_time_equal_hex;
using kinetic::exec::HmacSha256;
using kinetic::exec::kHmacSha256HexLength;
using kinetic::exec::Sha256Backend;
using kinetic::exec::sha_ni_available;

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

/// OpenSSL's one-shot HMAC(), as lowercase hex: the independent reference.
std::string openssl_hmac_hex(std::string_view key, std::string_view message) {
  std::array<unsigned char, 32> digest{};
  unsigned length = 0;
  static constexpr unsigned char kEmpty = 0;
  const auto* data =
      message.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(message.data());
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, message.size(), digest.data(),
       &length);
  EXPECT_EQ(length, 32u);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0x0F];
  }
  return hex;
}

/// The backends this CPU can run: portable always, SHA-NI where present.
std::vector<Sha256Backend> runnable_backends() {
  std::vector<Sha256Backend> backends = {Sha256Backend::portable};
  if (sha_ni_available())
    backends.push_back(Sha256Backend::sha_ni);
  return backends;
}

std::string random_bytes(std::mt19937_64& rng, std::size_t length) {
  std::string bytes(length, '\0');
  for (char& c : bytes)
    c = static_cast<char>(rng() & 0xFF);
  return bytes;
}

TEST(HmacSha256, AutomaticBackendPicksShaNiWhenTheCpuHasIt) {
  HmacSha256 signer(kSecret);
  EXPECT_EQ(signer.backend(), sha_ni_available() ? Sha256Backend::sha_ni : Sha256Backend::portable);
  HmacSha256 portable(kSecret, Sha256Backend::portable);
  EXPECT_EQ(portable.backend(), Sha256Backend::portable);
  if (!sha_ni_available()) {
    EXPECT_THROW(HmacSha256(kSecret, Sha256Backend::sha_ni), std::invalid_argument);
  }
}

TEST(HmacSha256, EveryBackendMatchesTheDocsVectors) {
  for (const Sha256Backend backend : runnable_backends()) {
    HmacSha256 signer(kSecret, backend);
    for (const RestVector& v : rest_vectors()) {
      EXPECT_EQ(sign(signer, {kTimestamp, kKey, v.recv_window, v.payload}), v.signature)
          << "backend " << static_cast<int>(backend) << " payload " << v.payload;
    }
  }
}

TEST(HmacSha256, EveryMessageLengthAcrossBlockBoundariesMatchesOpenSsl) {
  // 0..200 bytes covers 0..3 message blocks plus the cases where the 0x80 byte and the
  // 8-byte length do or do not fit after the data (lengths 55, 56, 63, 64, 119, 120, ...).
  std::mt19937_64 rng(20261125);
  const std::string key = random_bytes(rng, 36);
  const std::string message = random_bytes(rng, 200);
  for (const Sha256Backend backend : runnable_backends()) {
    HmacSha256 signer(key, backend);
    for (std::size_t length = 0; length <= 200; ++length) {
      const std::string_view prefix(message.data(), length);
      EXPECT_EQ(sign(signer, {prefix}), openssl_hmac_hex(key, prefix))
          << "backend " << static_cast<int>(backend) << " length " << length;
      // The same bytes in three uneven parts.
      const std::size_t cut1 = length / 3, cut2 = length - length / 5;
      EXPECT_EQ(sign(signer, {prefix.substr(0, cut1), prefix.substr(cut1, cut2 - cut1),
                              prefix.substr(cut2)}),
                openssl_hmac_hex(key, prefix))
          << "split, backend " << static_cast<int>(backend) << " length " << length;
    }
  }
}

TEST(HmacSha256, RandomKeysOfEveryLengthAndRandomMessagesMatchOpenSsl) {
  std::mt19937_64 rng(42);
  for (const Sha256Backend backend : runnable_backends()) {
    // Keys 0..150 bytes: shorter than, exactly, and longer than a block (hashed first).
    for (std::size_t key_length = 0; key_length <= 150; ++key_length) {
      const std::string key = random_bytes(rng, key_length);
      HmacSha256 signer(key, backend);
      const std::string message = random_bytes(rng, static_cast<std::size_t>(rng() % 700));
      EXPECT_EQ(sign(signer, {message}), openssl_hmac_hex(key, message))
          << "backend " << static_cast<int>(backend) << " key length " << key_length;
    }
  }
}

TEST(HmacSha256, PortableAndShaNiAgreeOnLongMessages) {
  if (!sha_ni_available())
    GTEST_SKIP() << "this CPU has no SHA-NI; only the portable path runs here";
  std::mt19937_64 rng(7);
  const std::string key = random_bytes(rng, 64);
  HmacSha256 portable(key, Sha256Backend::portable);
  HmacSha256 sha_ni(key, Sha256Backend::sha_ni);
  for (int round = 0; round < 20; ++round) {
    const std::string message = random_bytes(rng, 64 * 40 + static_cast<std::size_t>(round));
    EXPECT_EQ(sign(portable, {message}), sign(sha_ni, {message}));
  }
}

TEST(HmacSha256, RawDigestIsTheHexSignatureDecoded) {
  HmacSha256 signer(kSecret);
  std::array<std::uint8_t, 32> raw{};
  const std::array<std::string_view, 2> parts = {"GET/realtime", "1700000010000"};
  ASSERT_TRUE(signer.sign_raw(parts, raw));
  EXPECT_EQ(raw[0], 0x2a);
  EXPECT_EQ(raw[1], 0xee);
  EXPECT_EQ(raw[31], 0xf8);
}

TEST(HmacSha256, EveryBackendSignsWithoutAllocating) {
  const std::string_view body =
      R"({"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.001","reduceOnly":true,"positionIdx":0})";
  for (const Sha256Backend backend : runnable_backends()) {
    const HmacSha256 signer(kSecret, backend);
    std::array<char, kHmacSha256HexLength> out{};
    bool ok = true;
    const std::uint64_t allocations = kinetic::test::count_allocations([&] {
      for (int i = 0; i < 1000; ++i)
        ok = signer.sign({kTimestamp, kKey, kRecvWindow, body}, out) && ok;
    });
    EXPECT_TRUE(ok);
    EXPECT_EQ(allocations, 0u) << "backend " << static_cast<int>(backend);
    EXPECT_EQ(std::string_view(out.data(), out.size()),
              "ed754350bafbfbd8cb44468a1e5d38799731bf1856b434a25409226eef637512");
  }
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
