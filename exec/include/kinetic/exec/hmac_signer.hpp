#pragma once
// HMAC-SHA256 request signing as Bybit v5 wants it: lowercase hex of
// HMAC-SHA256(key = API secret, message = parts concatenated), e.g. REST
// timestamp + key + recvWindow + payload, or WebSocket "GET/realtime" + expires
// (docs/bybit-v5.md §2.1, §4.2, §5).
//
// SHA-256 (FIPS 180-4) is implemented here rather than called from OpenSSL, because OpenSSL
// 3.0 mallocs inside EVP_MAC_init/final on every signature. HMAC (RFC 2104) is
// H((K ^ opad) || H((K ^ ipad) || m)); the two padded-key blocks depend only on the key, so
// the constructor compresses them once and keeps the two 32-byte chaining states. A signature
// then costs the message blocks, the final padding block and one outer block: no allocation,
// no exception, no system call. The compression function uses the x86 SHA extensions
// (SHA-NI) when the CPU has them, chosen at run time, and a portable C++ version otherwise.
//
// Ownership: a value type holding only the two key states (no heap); move leaves the source
// unable to sign (sign() returns false), so a moved-from signer fails loudly instead of
// signing with a stale key. The key states are wiped on destruction.
// Thread-safety: sign() is const and touches only the caller's stack, so one instance may be
// shared by threads that only sign; construction and assignment need exclusive access.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace kinetic::exec {

/// Length of a hex HMAC-SHA256 signature.
inline constexpr std::size_t kHmacSha256HexLength = 64;

/// Which SHA-256 compression function a signer uses.
enum class Sha256Backend : std::uint8_t {
  automatic = 0,  ///< SHA-NI when the CPU has it, else portable
  portable = 1,   ///< plain C++ (FIPS 180-4 as written)
  sha_ni = 2,     ///< x86 SHA extensions; only valid where sha_ni_available()
};

/// True when this CPU (and build) can run the SHA-NI compression function.
[[nodiscard]] bool sha_ni_available() noexcept;

class HmacSha256 {
 public:
  /// Precomputes the inner and outer key states for `secret` (a secret longer than 64 bytes
  /// is hashed first, as RFC 2104 says). Start-up: throws std::invalid_argument when
  /// `backend` is sha_ni on a CPU without it. The secret itself is not kept.
  explicit HmacSha256(std::string_view secret, Sha256Backend backend = Sha256Backend::automatic);
  ~HmacSha256();
  HmacSha256(HmacSha256&& other) noexcept;
  HmacSha256& operator=(HmacSha256&& other) noexcept;
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  /// Signs the concatenation of `parts` into `out`: exactly 64 lowercase hex characters, no
  /// NUL. Returns false (and leaves `out` unspecified) only for a moved-from signer.
  /// No allocation, no exception, no system call.
  [[nodiscard]] bool sign(std::span<const std::string_view> parts,
                          std::span<char, kHmacSha256HexLength> out) const noexcept;
  [[nodiscard]] bool sign(std::initializer_list<std::string_view> parts,
                          std::span<char, kHmacSha256HexLength> out) const noexcept {
    return sign(std::span<const std::string_view>(parts.begin(), parts.size()), out);
  }

  /// The raw 32-byte MAC of the concatenation of `parts`; false only for a moved-from signer.
  [[nodiscard]] bool sign_raw(std::span<const std::string_view> parts,
                              std::span<std::uint8_t, 32> digest) const noexcept;

  /// Tools' convenience: the signature as a std::string ("" for a moved-from signer).
  /// Allocates.
  [[nodiscard]] std::string sign_hex(std::initializer_list<std::string_view> parts) const;

  /// The compression function actually in use (never `automatic`).
  [[nodiscard]] Sha256Backend backend() const noexcept { return backend_; }

  /// Function type of a SHA-256 compression: `blocks` 64-byte blocks into `state`.
  using CompressFn = void (*)(std::uint32_t* state, const std::uint8_t* data,
                              std::size_t blocks) noexcept;

 private:
  std::array<std::uint32_t, 8> inner_{};  ///< state after compressing K ^ ipad
  std::array<std::uint32_t, 8> outer_{};  ///< state after compressing K ^ opad
  CompressFn compress_ = nullptr;         ///< null when moved from
  Sha256Backend backend_ = Sha256Backend::portable;
};

/// Compares two signatures in time that depends only on their lengths, not on where they
/// differ. Hex letters compare case-insensitively ("AB" equals "ab"), as Bybit accepts either
/// case. False when the lengths differ or either holds a non-hex character.
[[nodiscard]] bool constant_time_equal_hex(std::string_view a, std::string_view b) noexcept;

}  // namespace kinetic::exec
