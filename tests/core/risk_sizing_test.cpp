#include <gtest/gtest.h>
TEST(Placeholder, sizing) { SUCCEED(); }
