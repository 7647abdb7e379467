#include "util/strings.h"
#include "util/error.h"

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

TEST(Errors, ForeignExceptionsBecomeOneLineWithoutBacktrace) {
  // What LibTorch's c10::Error::what() looks like: message, location, frames.
  std::runtime_error c10_like(
      "\"attn_output_weights.masked_fill\" not implemented for 'BFloat16'\n"
      "Exception raised from operator() at torch/nn/functional/activation.h:891 (most recent call first):\n"
      "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x9e (0x7f in libc10.so)\n");
  EXPECT_EQ(robotrain::util::one_line_message(c10_like), "\"attn_output_weights.masked_fill\" not implemented for 'BFloat16'");
  EXPECT_EQ(robotrain::util::one_line_message(std::runtime_error("first\nsecond\n")), "first; second");
  EXPECT_EQ(robotrain::util::one_line_message(std::runtime_error("")), "unknown error");
}

TEST(Strings, OneLineEscapesControlCharactersAndCutsOnUtf8Boundaries) {
  EXPECT_EQ(one_line("a\nERROR forged\r\tx\x1b[31m"), "a\\nERROR forged\\r\\tx\\x1b[31m");
  EXPECT_EQ(one_line("plain ascii"), "plain ascii");
  EXPECT_EQ(one_line("caf\xc3\xa9 ok"), "caf\xc3\xa9 ok");
  // Cut inside the two-byte é: the whole character goes.
  EXPECT_EQ(one_line("caf\xc3\xa9", 4), "caf...");
  EXPECT_EQ(one_line("abcdef", 3), "abc...");
  EXPECT_EQ(one_line(std::string("a\0b", 3)), "a\\x00b");
}
