#pragma once
// Deterministic pseudo-random numbers for simulation, tests and research.
//
// std::normal_distribution and friends are implementation-defined, so the same seed gives
// different paths on different standard libraries. These generators are fully specified
// here: a seed gives the same sequence on every platform and compiler.

#include <cmath>
#include <cstdint>
#include <numbers>

namespace kinetic::math {

/// SplitMix64: expands one 64-bit seed into well-mixed state words.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// xoshiro256** generator with normal and exponential variates. Value type, 40 bytes, no
/// allocation; not thread-safe (give each thread its own, seeded differently).
class Rng {
 public:
  explicit constexpr Rng(std::uint64_t seed) noexcept {
    std::uint64_t sm = seed;
    for (auto& word : s_)
      word = splitmix64(sm);
  }

  /// Next raw 64-bit output.
  constexpr std::uint64_t next_u64() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform in (0, 1]: safe to take the logarithm of.
  double uniform_open0() noexcept { return 1.0 - uniform(); }

  /// Standard normal by the Box-Muller transform; the second variate is kept for the next call.
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2.0 * std::log(uniform_open0()));
    const double angle = 2.0 * std::numbers::pi * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

  /// Exponential with the given mean.
  double exponential(double mean) noexcept { return -mean * std::log(uniform_open0()); }

  /// True with probability p.
  bool bernoulli(double p) noexcept { return uniform() < p; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4]{};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace kinetic::math
