#include <gtest/gtest.h>
TEST(Placeholder, pre_trade) { SUCCEED(); }
