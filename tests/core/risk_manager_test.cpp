#include <gtest/gtest.h>
TEST(Placeholder, rm) { SUCCEED(); }
