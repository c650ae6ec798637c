#include "kinetic/exec/hmac_signer.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace kinetic::exec {

// The incomplete type of the header is simply the OpenSSL context.
struct HmacSha256::Context {
  EVP_MAC_CTX* mac = nullptr;
};

namespace {

constexpr std::size_t kDigestLength = 32;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("HmacSha256: ") + what);
}

}  // namespace

HmacSha256::HmacSha256(std::string_view secret) {
  EVP_MAC* algorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (algorithm == nullptr)
    fail("EVP_MAC_fetch(HMAC) failed");
  EVP_MAC_CTX* mac = EVP_MAC_CTX_new(algorithm);
  EVP_MAC_free(algorithm);  // the context holds its own reference
  if (mac == nullptr)
    fail("EVP_MAC_CTX_new failed");
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  // OpenSSL wants a non-null key pointer even for an empty secret.
  static constexpr unsigned char kEmpty = 0;
  const auto* key =
      secret.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(secret.data());
  if (EVP_MAC_init(mac, key, secret.size(), params) != 1) {
    EVP_MAC_CTX_free(mac);
    fail("EVP_MAC_init(SHA256) failed");
  }
  context_ = new Context{mac};
}

HmacSha256::~HmacSha256() {
  if (context_ != nullptr) {
    EVP_MAC_CTX_free(context_->mac);
    delete context_;
  }
}

HmacSha256::HmacSha256(HmacSha256&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)) {}

HmacSha256& HmacSha256::operator=(HmacSha256&& other) noexcept {
  if (this != &other) {
    if (context_ != nullptr) {
      EVP_MAC_CTX_free(context_->mac);
      delete context_;
    }
    context_ = std::exchange(other.context_, nullptr);
  }
  return *this;
}

bool HmacSha256::sign(std::span<const std::string_view> parts,
                      std::span<char, kHmacSha256HexLength> out) noexcept {
  if (context_ == nullptr)
    return false;
  EVP_MAC_CTX* mac = context_->mac;
  // A null key re-initialises the MAC and keeps the key set in the constructor.
  if (EVP_MAC_init(mac, nullptr, 0, nullptr) != 1)
    return false;
  for (const std::string_view part : parts) {
    if (!part.empty() && EVP_MAC_update(mac, reinterpret_cast<const unsigned char*>(part.data()),
                                        part.size()) != 1) {
      return false;
    }
  }
  std::array<unsigned char, kDigestLength> digest{};
  std::size_t length = 0;
  if (EVP_MAC_final(mac, digest.data(), &length, digest.size()) != 1 || length != kDigestLength)
    return false;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < kDigestLength; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0x0F];
  }
  return true;
}

std::string HmacSha256::sign_hex(std::initializer_list<std::string_view> parts) {
  std::string hex(kHmacSha256HexLength, '\0');
  if (!sign(parts, std::span<char, kHmacSha256HexLength>(hex.data(), kHmacSha256HexLength)))
    hex.clear();
  return hex;
}

namespace {

/// The value 0..15 of a hex digit, or 16 for anything else, without data-dependent branches.
constexpr unsigned hex_value(unsigned char c) noexcept {
  const unsigned digit = static_cast<unsigned>(c) - '0';
  const unsigned lower = (static_cast<unsigned>(c) | 0x20u) - 'a';
  const unsigned is_digit = (digit < 10u) ? 1u : 0u;
  const unsigned is_letter = (lower < 6u) ? 1u : 0u;
  // Exactly one of the three terms is non-zero.
  return is_digit * digit + is_letter * (lower + 10u) + (1u - is_digit - is_letter) * 16u;
}

}  // namespace

bool constant_time_equal_hex(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  unsigned difference = 0;
  unsigned invalid = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const unsigned x = hex_value(static_cast<unsigned char>(a[i]));
    const unsigned y = hex_value(static_cast<unsigned char>(b[i]));
    difference |= x ^ y;
    invalid |= (x | y) & 16u;
  }
  return (difference | invalid) == 0;
}

}  // namespace kinetic::exec
