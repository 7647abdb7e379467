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

TEST(Strings, Utf8ValidationFollowsRfc3629) {
  EXPECT_TRUE(is_valid_utf8("plain/path"));
  EXPECT_TRUE(is_valid_utf8("d\xc3\xa9j\xc3\xa0 \xe2\x82\xac \xf0\x9f\xa4\x96"));  // é à € 🤖
  EXPECT_FALSE(is_valid_utf8("run\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));                // truncated sequence
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));            // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));        // UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));    // above U+10FFFF
}

TEST(Strings, OneLineEscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(one_line("bad\xff byte"), "bad\\xff byte");
  EXPECT_EQ(one_line("run\xc3"), "run\\xc3");  // a truncated sequence
  EXPECT_EQ(one_line(std::string("x\0y\x1b[2J", 7)), "x\\x00y\\x1b[2J");
  // A forged log line stays inside the message.
  EXPECT_EQ(one_line("blob\nERROR 2026-01-01 fake").find('\n'), std::string::npos);
}
