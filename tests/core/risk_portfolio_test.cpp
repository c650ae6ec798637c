#include <gtest/gtest.h>
TEST(Placeholder, portfolio) { SUCCEED(); }
