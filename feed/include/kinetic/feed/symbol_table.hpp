#pragma once
// SymbolTable: exchange symbol names ("BTCUSDT") to the dense SymbolIds that MarketEvents
// carry, and back.
//
// Fixed capacity, chosen at construction, where its only allocation happens; intern() after
// that never allocates (a name goes into a fixed 24-byte slot). Lookup hashes the name
// (FNV-1a) into an open-addressed index twice the capacity, so it is a few compares whatever
// the number of symbols. Ids are given in order of first appearance: 0, 1, 2, ...
//
// Ownership: owns its storage. Thread-safety: none; the feed thread owns it. Another thread
// may read name() of ids it received through a ring (names never move or change once
// interned), but must not call intern().

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "kinetic/core/types.hpp"

namespace kinetic::feed {

class SymbolTable {
 public:
  static constexpr std::size_t kMaxNameLength = 23;  ///< Bybit's longest names are ~20

  /// `capacity` symbols at most (1 .. 65 535).
  explicit SymbolTable(std::size_t capacity = 256)
      : names_(capacity), index_(index_size(capacity), kEmpty) {}

  /// The id of `name`, if interned.
  [[nodiscard]] std::optional<SymbolId> find(std::string_view name) const noexcept {
    if (name.empty() || name.size() > kMaxNameLength)
      return std::nullopt;
    for (std::size_t slot = hash(name) & mask();; slot = (slot + 1) & mask()) {
      const std::uint16_t id = index_[slot];
      if (id == kEmpty)
        return std::nullopt;
      if (this->name(id) == name)
        return id;
    }
  }

  /// The id of `name`, interning it when new. None when the name is empty, longer than
  /// kMaxNameLength, or the table is full.
  [[nodiscard]] std::optional<SymbolId> intern(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxNameLength)
      return std::nullopt;
    std::size_t slot = hash(name) & mask();
    for (;; slot = (slot + 1) & mask()) {
      const std::uint16_t id = index_[slot];
      if (id == kEmpty)
        break;
      if (this->name(id) == name)
        return id;
    }
    if (size_ == names_.size())
      return std::nullopt;
    const auto id = static_cast<SymbolId>(size_++);
    Name& stored = names_[id];
    std::memcpy(stored.text, name.data(), name.size());
    stored.length = static_cast<std::uint8_t>(name.size());
    index_[slot] = id;
    return id;
  }

  /// The name of an interned id ("" for an id never given).
  [[nodiscard]] std::string_view name(SymbolId id) const noexcept {
    if (id >= size_)
      return {};
    return {names_[id].text, names_[id].length};
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return names_.size(); }

 private:
  static constexpr std::uint16_t kEmpty = 0xFFFF;

  struct Name {
    char text[kMaxNameLength + 1] = {};
    std::uint8_t length = 0;
  };

  static std::size_t index_size(std::size_t capacity) {
    std::size_t size = 4;
    while (size < 2 * capacity)
      size *= 2;
    return size;
  }
  [[nodiscard]] std::size_t mask() const noexcept { return index_.size() - 1; }
  [[nodiscard]] static std::size_t hash(std::string_view name) noexcept {
    std::uint64_t h = 1469598103934665603ULL;
    for (const char c : name) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h ^ (h >> 29));
  }

  std::vector<Name> names_;
  std::vector<std::uint16_t> index_;
  std::size_t size_ = 0;
};

}  // namespace kinetic::feed
