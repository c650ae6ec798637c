// SymbolTable: interning, lookup, names, capacity and bad names; no allocation after
// construction.
#include "kinetic/feed/symbol_table.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "alloc_counter.hpp"

namespace kinetic::feed {
namespace {

TEST(SymbolTable, InternsInOrderOfFirstAppearance) {
  SymbolTable table(4);
  EXPECT_EQ(table.intern("BTCUSDT"), SymbolId{0});
  EXPECT_EQ(table.intern("ETHUSDT"), SymbolId{1});
  EXPECT_EQ(table.intern("BTCUSDT"), SymbolId{0});  // already there: same id
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.find("ETHUSDT"), SymbolId{1});
  EXPECT_FALSE(table.find("SOLUSDT").has_value());
  EXPECT_EQ(table.name(0), "BTCUSDT");
  EXPECT_EQ(table.name(1), "ETHUSDT");
  EXPECT_EQ(table.name(2), "");  // never given
}

TEST(SymbolTable, RefusesBadNamesAndAFullTable) {
  SymbolTable table(2);
  EXPECT_FALSE(table.intern("").has_value());
  EXPECT_FALSE(table.intern(std::string(SymbolTable::kMaxNameLength + 1, 'X')).has_value());
  const std::string longest(SymbolTable::kMaxNameLength, 'Y');
  EXPECT_EQ(table.intern(longest), SymbolId{0});
  EXPECT_EQ(table.name(0), longest);
  EXPECT_EQ(table.intern("A"), SymbolId{1});
  EXPECT_FALSE(table.intern("B").has_value());  // full
  EXPECT_EQ(table.intern("A"), SymbolId{1});    // but a known name is still found
}

TEST(SymbolTable, ManyNamesAllocateNothingAfterConstruction) {
  SymbolTable table(1000);
  char name[16];
  const std::uint64_t allocations = test::count_allocations([&] {
    for (int i = 0; i < 1000; ++i) {
      const int n = std::snprintf(name, sizeof name, "SYM%dUSDT", i);
      ASSERT_EQ(table.intern(std::string_view(name, static_cast<std::size_t>(n))),
                static_cast<SymbolId>(i));
    }
    for (int i = 999; i >= 0; --i) {
      const int n = std::snprintf(name, sizeof name, "SYM%dUSDT", i);
      ASSERT_EQ(table.find(std::string_view(name, static_cast<std::size_t>(n))),
                static_cast<SymbolId>(i));
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(table.size(), 1000u);
}

}  // namespace
}  // namespace kinetic::feed
