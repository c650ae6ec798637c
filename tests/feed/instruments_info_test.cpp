#include <gtest/gtest.h>
TEST(Placeholder, instruments_info) { SUCCEED(); }
