#pragma once
// HMAC-SHA256 request signing as Bybit v5 wants it: lowercase hex of
// HMAC-SHA256(key = API secret, message = parts concatenated), e.g. REST
// timestamp + key + recvWindow + payload, or WebSocket "GET/realtime" + expires
// (docs/bybit-v5.md §2.1, §4.2, §5).
//
// HmacSha256 keeps one OpenSSL EVP_MAC context with the key already set; each signature
// re-initialises it with EVP_MAC_init(ctx, nullptr, 0, nullptr), which keeps the key, feeds
// the parts and writes 64 hex characters into a caller buffer. No operator new, no exception
// and no system call per signature, so the engine can sign on its hot path. (OpenSSL 3.0's
// HMAC re-init duplicates its internal digest state with OPENSSL_malloc; that is OpenSSL's
// allocator, not operator new.)
//
// Ownership: owns its OpenSSL context (freed in the destructor); move-only. Thread-safety:
// one instance per thread (signing mutates the context); separate instances are independent.

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace kinetic::exec {

/// Length of a hex HMAC-SHA256 signature.
inline constexpr std::size_t kHmacSha256HexLength = 64;

class HmacSha256 {
 public:
  /// Sets up the MAC with `secret` as key (start-up: throws std::runtime_error if OpenSSL
  /// cannot provide HMAC-SHA256). The secret is not kept anywhere else.
  explicit HmacSha256(std::string_view secret);
  ~HmacSha256();
  HmacSha256(HmacSha256&& other) noexcept;
  HmacSha256& operator=(HmacSha256&& other) noexcept;
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  /// Signs the concatenation of `parts` into `out`: exactly 64 lowercase hex characters, no
  /// NUL. Returns false (and leaves `out` unspecified) only if OpenSSL fails. No allocation.
  [[nodiscard]] bool sign(std::span<const std::string_view> parts,
                          std::span<char, kHmacSha256HexLength> out) noexcept;
  [[nodiscard]] bool sign(std::initializer_list<std::string_view> parts,
                          std::span<char, kHmacSha256HexLength> out) noexcept {
    return sign(std::span<const std::string_view>(parts.begin(), parts.size()), out);
  }

  /// Tools' convenience: the signature as a std::string ("" if OpenSSL fails). Allocates.
  [[nodiscard]] std::string sign_hex(std::initializer_list<std::string_view> parts);

 private:
  struct Context;  // wraps EVP_MAC_CTX without leaking OpenSSL headers to every includer
  Context* context_ = nullptr;
};

/// Compares two signatures in time that depends only on their lengths, not on where they
/// differ. Hex letters compare case-insensitively ("AB" equals "ab"), as Bybit accepts either
/// case. False when the lengths differ or either holds a non-hex character.
[[nodiscard]] bool constant_time_equal_hex(std::string_view a, std::string_view b) noexcept;

}  // namespace kinetic::exec
