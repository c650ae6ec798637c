#include "kinetic/exec/hmac_signer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define KINETIC_HAVE_SHA_NI 1
#else
#define KINETIC_HAVE_SHA_NI 0
#endif

namespace kinetic::exec {

namespace {

constexpr std::size_t kBlockLength = 64;
constexpr std::size_t kDigestLength = 32;

constexpr std::array<std::uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

alignas(64) constexpr std::array<std::uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept {
  return (x >> n) | (x << (32 - n));
}

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

/// FIPS 180-4 §6.2.2 as written, for CPUs without SHA-NI.
void compress_portable(std::uint32_t* state, const std::uint8_t* data,
                       std::size_t blocks) noexcept {
  std::array<std::uint32_t, 64> w;
  for (; blocks != 0; --blocks, data += kBlockLength) {
    for (std::size_t t = 0; t < 16; ++t)
      w[t] = load_be32(data + 4 * t);
    for (std::size_t t = 16; t < 64; ++t) {
      const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (std::size_t t = 0; t < 64; ++t) {
      const std::uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const std::uint32_t choose = (e & f) ^ (~e & g);
      const std::uint32_t t1 = h + big_s1 + choose + kRoundConstants[t] + w[t];
      const std::uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
      const std::uint32_t t2 = big_s0 + majority;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

#if KINETIC_HAVE_SHA_NI
// The SHA extensions keep the state as two vectors, ABEF and CDGH; sha256rnds2 does two
// rounds, so each group of four message words takes two calls. The message schedule for
// words 16..63 comes from sha256msg1/msg2 plus the W[t-7] term (an alignr of the previous
// two groups).
__attribute__((target("sha,sse4.1,ssse3"))) void compress_sha_ni(std::uint32_t* state,
                                                                 const std::uint8_t* data,
                                                                 std::size_t blocks) noexcept {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
  __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

  for (; blocks != 0; --blocks, data += kBlockLength) {
    const __m128i abef_saved = abef;
    const __m128i cdgh_saved = cdgh;
    __m128i words[4];  // a C array: std::array drops __m128i's alignment attribute
    for (std::size_t i = 0; i < 4; ++i) {
      words[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i)),
                                  byte_swap);
    }
#pragma GCC unroll 16
    for (std::size_t group = 0; group < 16; ++group) {
      const __m128i current = words[group & 3];
      __m128i sum = _mm_add_epi32(
          current, _mm_load_si128(reinterpret_cast<const __m128i*>(&kRoundConstants[4 * group])));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, sum);
      sum = _mm_shuffle_epi32(sum, 0x0E);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, sum);
      if (group < 12) {
        // W[4g+16 .. 4g+19] replaces W[4g .. 4g+3] in the ring of four vectors.
        const __m128i next = words[(group + 1) & 3];
        const __m128i third = words[(group + 2) & 3];
        const __m128i last = words[(group + 3) & 3];
        const __m128i partial =
            _mm_add_epi32(_mm_sha256msg1_epu32(current, next), _mm_alignr_epi8(last, third, 4));
        words[group & 3] = _mm_sha256msg2_epu32(partial, last);
      }
    }
    abef = _mm_add_epi32(abef, abef_saved);
    cdgh = _mm_add_epi32(cdgh, cdgh_saved);
  }

  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  dcba = _mm_blend_epi16(feba, dchg, 0xF0);
  hgfe = _mm_alignr_epi8(dchg, feba, 8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), dcba);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), hgfe);
}

bool cpu_has_sha_ni() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0)
    return false;
  const bool ssse3 = (ecx & (1u << 9)) != 0;
  const bool sse41 = (ecx & (1u << 19)) != 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0)
    return false;
  const bool sha = (ebx & (1u << 29)) != 0;
  return ssse3 && sse41 && sha;
}
#endif

/// Streams message bytes through a compression function: whole blocks straight from the
/// caller's memory, the tail through a 64-byte buffer on the stack.
class Sha256Stream {
 public:
  Sha256Stream(const std::array<std::uint32_t, 8>& state, std::uint64_t prefix_length,
               HmacSha256::CompressFn compress) noexcept
      : state_(state), total_(prefix_length), compress_(compress) {}

  void update(const std::uint8_t* data, std::size_t length) noexcept {
    total_ += length;
    if (buffered_ != 0) {
      const std::size_t take = std::min(length, kBlockLength - buffered_);
      std::memcpy(buffer_.data() + buffered_, data, take);
      buffered_ += take;
      data += take;
      length -= take;
      if (buffered_ < kBlockLength)
        return;
      compress_(state_.data(), buffer_.data(), 1);
      buffered_ = 0;
    }
    const std::size_t blocks = length / kBlockLength;
    if (blocks != 0) {
      compress_(state_.data(), data, blocks);
      data += blocks * kBlockLength;
      length -= blocks * kBlockLength;
    }
    if (length != 0) {
      std::memcpy(buffer_.data(), data, length);
      buffered_ = length;
    }
  }

  /// Pads (0x80, zeros, bit length big-endian) and writes the digest.
  void finish(std::uint8_t* digest) noexcept {
    const std::uint64_t bit_length = total_ * 8;
    buffer_[buffered_++] = 0x80;
    if (buffered_ > kBlockLength - 8) {
      std::memset(buffer_.data() + buffered_, 0, kBlockLength - buffered_);
      compress_(state_.data(), buffer_.data(), 1);
      buffered_ = 0;
    }
    std::memset(buffer_.data() + buffered_, 0, kBlockLength - 8 - buffered_);
    store_be32(buffer_.data() + 56, static_cast<std::uint32_t>(bit_length >> 32));
    store_be32(buffer_.data() + 60, static_cast<std::uint32_t>(bit_length));
    compress_(state_.data(), buffer_.data(), 1);
    for (std::size_t i = 0; i < 8; ++i)
      store_be32(digest + 4 * i, state_[i]);
  }

 private:
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, kBlockLength> buffer_;
  std::size_t buffered_ = 0;
  std::uint64_t total_;
  HmacSha256::CompressFn compress_;
};

/// Overwrites memory in a way the optimiser may not drop (the key states are secrets).
void wipe(void* data, std::size_t length) noexcept {
  auto* volatile bytes = static_cast<volatile std::uint8_t*>(data);
  for (std::size_t i = 0; i < length; ++i)
    bytes[i] = 0;
}

}  // namespace

bool sha_ni_available() noexcept {
#if KINETIC_HAVE_SHA_NI
  static const bool available = cpu_has_sha_ni();
  return available;
#else
  return false;
#endif
}

HmacSha256::HmacSha256(std::string_view secret, Sha256Backend backend) {
  if (backend == Sha256Backend::automatic)
    backend = sha_ni_available() ? Sha256Backend::sha_ni : Sha256Backend::portable;
  if (backend == Sha256Backend::sha_ni) {
#if KINETIC_HAVE_SHA_NI
    if (!sha_ni_available())
      throw std::invalid_argument("HmacSha256: this CPU has no SHA-NI");
    compress_ = &compress_sha_ni;
#else
    throw std::invalid_argument("HmacSha256: SHA-NI is x86 only");
#endif
  } else {
    compress_ = &compress_portable;
  }
  backend_ = backend;

  // RFC 2104: keys longer than a block are hashed; shorter ones are zero-padded.
  std::array<std::uint8_t, kBlockLength> key{};
  const auto* secret_bytes = reinterpret_cast<const std::uint8_t*>(secret.data());
  if (secret.size() > kBlockLength) {
    Sha256Stream hash(kInitialState, 0, compress_);
    hash.update(secret_bytes, secret.size());
    hash.finish(key.data());
  } else if (!secret.empty()) {
    std::memcpy(key.data(), secret_bytes, secret.size());
  }
  std::array<std::uint8_t, kBlockLength> padded;
  for (std::size_t i = 0; i < kBlockLength; ++i)
    padded[i] = static_cast<std::uint8_t>(key[i] ^ 0x36);
  inner_ = kInitialState;
  compress_(inner_.data(), padded.data(), 1);
  for (std::size_t i = 0; i < kBlockLength; ++i)
    padded[i] = static_cast<std::uint8_t>(key[i] ^ 0x5c);
  outer_ = kInitialState;
  compress_(outer_.data(), padded.data(), 1);
  wipe(key.data(), key.size());
  wipe(padded.data(), padded.size());
}

HmacSha256::~HmacSha256() {
  wipe(inner_.data(), sizeof(inner_));
  wipe(outer_.data(), sizeof(outer_));
}

HmacSha256::HmacSha256(HmacSha256&& other) noexcept
    : inner_(other.inner_),
      outer_(other.outer_),
      compress_(std::exchange(other.compress_, nullptr)),
      backend_(other.backend_) {
  wipe(other.inner_.data(), sizeof(other.inner_));
  wipe(other.outer_.data(), sizeof(other.outer_));
}

HmacSha256& HmacSha256::operator=(HmacSha256&& other) noexcept {
  if (this != &other) {
    inner_ = other.inner_;
    outer_ = other.outer_;
    compress_ = std::exchange(other.compress_, nullptr);
    backend_ = other.backend_;
    wipe(other.inner_.data(), sizeof(other.inner_));
    wipe(other.outer_.data(), sizeof(other.outer_));
  }
  return *this;
}

bool HmacSha256::sign_raw(std::span<const std::string_view> parts,
                          std::span<std::uint8_t, 32> digest) const noexcept {
  if (compress_ == nullptr)
    return false;
  Sha256Stream inner(inner_, kBlockLength, compress_);
  for (const std::string_view part : parts) {
    if (!part.empty())
      inner.update(reinterpret_cast<const std::uint8_t*>(part.data()), part.size());
  }
  std::array<std::uint8_t, kDigestLength> inner_digest;
  inner.finish(inner_digest.data());
  Sha256Stream outer(outer_, kBlockLength, compress_);
  outer.update(inner_digest.data(), inner_digest.size());
  outer.finish(digest.data());
  return true;
}

bool HmacSha256::sign(std::span<const std::string_view> parts,
                      std::span<char, kHmacSha256HexLength> out) const noexcept {
  std::array<std::uint8_t, kDigestLength> digest;
  if (!sign_raw(parts, digest))
    return false;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < kDigestLength; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0x0F];
  }
  return true;
}

std::string HmacSha256::sign_hex(std::initializer_list<std::string_view> parts) const {
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
