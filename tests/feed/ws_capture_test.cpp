#include <gtest/gtest.h>
TEST(Placeholder, ws_capture) { SUCCEED(); }
