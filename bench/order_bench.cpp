// Orders out, cost per order: HMAC-SHA256 signing (ours, with SHA-NI or portable, against
// OpenSSL's one-shot HMAC() and the EVP_MAC re-init the signer used before), encoding the
// /v5/order/create body, and the whole signed HTTP request from an OrderIntent.
// Target (issue 7): encode + sign <= 600 ns median.
//
// Run: order_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "kinetic/core/decimal.hpp"
#include "kinetic/exec/hmac_signer.hpp"
#include "kinetic/exec/order_encoder.hpp"

namespace {

using kinetic::exec::HmacSha256;
using kinetic::exec::kHmacSha256HexLength;
using kinetic::exec::Sha256Backend;

constexpr std::string_view kKey = "qTd7Yc3Lx9PwB2mNa1";
constexpr std::string_view kSecret = "Zr4Kp8Wq2Xv6Nb0Jt5Hs9Lc3Fg7Dm1Ay4Ue8";
constexpr std::string_view kTimestamp = "1700000000000";
constexpr std::string_view kRecvWindow = "5000";
// The REST payload of the §5 "compact body" vector (signature 90e37d5d…).
constexpr std::string_view kBody =
    R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"30000","timeInForce":"GTC","orderLinkId":"test-0001"})";

void sign_with(benchmark::State& state, Sha256Backend backend) {
  if (backend == Sha256Backend::sha_ni && !kinetic::exec::sha_ni_available()) {
    state.SkipWithError("no SHA-NI on this CPU");
    return;
  }
  const HmacSha256 signer(kSecret, backend);
  std::array<char, kHmacSha256HexLength> out{};
  for (auto _ : state) {
    const bool ok = signer.sign({kTimestamp, kKey, kRecvWindow, kBody}, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(
      std::to_string(kTimestamp.size() + kKey.size() + kRecvWindow.size() + kBody.size()) +
      "-byte payload");
}

void BM_HmacSha256(benchmark::State& state) {
  sign_with(state, Sha256Backend::automatic);
}
BENCHMARK(BM_HmacSha256);

void BM_HmacSha256Portable(benchmark::State& state) {
  sign_with(state, Sha256Backend::portable);
}
BENCHMARK(BM_HmacSha256Portable);

/// Baseline: OpenSSL's one-shot HMAC() over the same (pre-concatenated) payload.
void BM_OpenSslHmacOneShot(benchmark::State& state) {
  const std::string payload =
      std::string(kTimestamp) + std::string(kKey) + std::string(kRecvWindow) + std::string(kBody);
  std::array<unsigned char, 32> digest{};
  for (auto _ : state) {
    unsigned length = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest.data(),
         &length);
    benchmark::DoNotOptimize(digest.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_OpenSslHmacOneShot);

/// The signer's previous design: one EVP_MAC context, re-initialised per message.
void BM_OpenSslEvpMacReinit(benchmark::State& state) {
  EVP_MAC* algorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* mac = EVP_MAC_CTX_new(algorithm);
  EVP_MAC_free(algorithm);
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  EVP_MAC_init(mac, reinterpret_cast<const unsigned char*>(kSecret.data()), kSecret.size(), params);
  std::array<unsigned char, 32> digest{};
  for (auto _ : state) {
    EVP_MAC_init(mac, nullptr, 0, nullptr);
    for (const std::string_view part : {kTimestamp, kKey, kRecvWindow, kBody})
      EVP_MAC_update(mac, reinterpret_cast<const unsigned char*>(part.data()), part.size());
    std::size_t length = 0;
    EVP_MAC_final(mac, digest.data(), &length, digest.size());
    benchmark::DoNotOptimize(digest.data());
    benchmark::ClobberMemory();
  }
  EVP_MAC_CTX_free(mac);
}
BENCHMARK(BM_OpenSslEvpMacReinit);

/// An encoder and a typical limit order (BTCUSDT Buy 0.001 @ 93400.5 GTC with a stop-loss).
struct Fixture {
  Fixture() : encoder(make()) {}
  kinetic::exec::OrderEncoder make() {
    btc = *symbols.intern("BTCUSDT");
    kinetic::exec::OrderEncoderConfig config;
    config.api_key = std::string(kKey);
    return kinetic::exec::OrderEncoder(symbols, std::move(config), HmacSha256(kSecret));
  }
  kinetic::OrderIntent intent() const {
    kinetic::OrderIntent order{};
    order.client_order_id = (std::uint64_t{1} << 40) | 1;
    order.symbol = btc;
    order.side = kinetic::Side::buy;
    order.type = kinetic::OrderType::limit;
    order.tif = kinetic::TimeInForce::gtc;
    order.qty = kinetic::Qty::parse("0.001").value();
    order.price = kinetic::Price::parse("93400.5").value();
    order.stop_loss = kinetic::Price::parse("92000").value();
    return order;
  }
  kinetic::feed::SymbolTable symbols{64};
  kinetic::SymbolId btc{};
  kinetic::exec::OrderEncoder encoder;
};

void BM_EncodeOrderCreate(benchmark::State& state) {
  const Fixture fixture;
  kinetic::OrderIntent order = fixture.intent();
  std::array<char, kinetic::exec::OrderEncoder::kMaxBodyLength> out{};
  std::size_t bytes = 0;
  for (auto _ : state) {
    ++order.client_order_id;
    const auto body = fixture.encoder.create_body(order, out);
    bytes = body.value_or({}).size();
    benchmark::DoNotOptimize(bytes);
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::to_string(bytes) + "-byte body");
}
BENCHMARK(BM_EncodeOrderCreate);

void BM_EncodeAndSignOrderCreate(benchmark::State& state) {
  const Fixture fixture;
  kinetic::OrderIntent order = fixture.intent();
  std::array<char, kinetic::exec::OrderEncoder::kRecommendedBufferLength> out{};
  std::int64_t timestamp = 1700000000000;
  std::size_t bytes = 0;
  for (auto _ : state) {
    ++order.client_order_id;
    const auto request = fixture.encoder.create_http(order, ++timestamp, out);
    bytes = request.value_or({}).size();
    benchmark::DoNotOptimize(bytes);
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::to_string(bytes) + "-byte HTTP request");
}
BENCHMARK(BM_EncodeAndSignOrderCreate);

void BM_EncodeOrderCreateTradeWs(benchmark::State& state) {
  const Fixture fixture;
  kinetic::OrderIntent order = fixture.intent();
  std::array<char, kinetic::exec::OrderEncoder::kRecommendedBufferLength> out{};
  std::size_t bytes = 0;
  for (auto _ : state) {
    ++order.client_order_id;
    const auto request = fixture.encoder.create_ws(order, "r-000001", 1700000000000, out);
    bytes = request.value_or({}).size();
    benchmark::DoNotOptimize(bytes);
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::to_string(bytes) + "-byte WS message");
}
BENCHMARK(BM_EncodeOrderCreateTradeWs);

}  // namespace
