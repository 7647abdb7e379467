#include "util/strings.h"

#include <gtest/gtest.h>

using namespace robotrain::util;

TEST(Strings, SplitKeepsEmptyFields) {
  auto parts = split("a,,b,", ',');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(parts[2], "b");
}

TEST(Strings, HumanCountMatchesLeRobotLogStyle) {
  EXPECT_EQ(human_count(2000), "2.0K");
  EXPECT_EQ(human_count(999), "999");
  EXPECT_EQ(human_count(1500000), "1.5M");
}

TEST(Strings, ParseIntRejectsPartialInput) {
  int64_t v = 0;
  EXPECT_TRUE(parse_int64("42", v));
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(parse_int64("42x", v));
  EXPECT_FALSE(parse_int64("", v));
}

TEST(Strings, UrlEncodeKeepsUnreserved) {
  EXPECT_EQ(url_encode("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(url_encode("a b/c", true), "a%20b/c");
}
