#include <gtest/gtest.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/safetensors.h"

using namespace robotrain::util;

TEST(Safetensors, RoundTripAndAlignment) {
  SafetensorsFile f;
  f.tensors["b"] = {"F32", {2}, std::string("\0\0\x80?\0\0\0@", 8)};
  f.tensors["a"] = {"I64", {1}, std::string(8, '\x01')};
  auto bytes = serialize_safetensors(f);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ((8 + n) % 8, 0u);
  auto g = parse_safetensors(bytes, "mem");
  EXPECT_EQ(g.tensors.at("b").bytes, f.tensors["b"].bytes);
  EXPECT_EQ(g.tensors.at("a").shape, std::vector<int64_t>{1});
  EXPECT_EQ(g.metadata.at("format"), "pt");
}

TEST(Safetensors, CorruptFilesFailWithTheFileName) {
  SafetensorsFile f;
  f.tensors["w"] = {"F32", {4}, std::string(16, '\0')};
  auto bytes = serialize_safetensors(f);
  for (size_t cut : {size_t(3), size_t(20), bytes.size() - 1}) {
    try {
      parse_safetensors(bytes.substr(0, cut), "model.safetensors");
      FAIL() << "cut " << cut;
    } catch (const RuntimeError& e) {
      EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos);
    }
  }
  f.tensors["w"].shape = {5};
  EXPECT_THROW(parse_safetensors(serialize_safetensors(f), "x"), RuntimeError) << "size must match shape x dtype";
}

namespace {
std::string with_header(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}
}  // namespace

TEST(Safetensors, RangesMustTileTheDataSection) {
  // Two tensors sharing bytes, a gap before the first, and trailing bytes nobody owns.
  auto overlap = with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
  auto gap = with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
  auto trailing = with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 12);
  for (auto* bytes : {&overlap, &gap, &trailing}) EXPECT_THROW(parse_safetensors(*bytes, "x"), RuntimeError);
  auto ok = with_header(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", 8);
  EXPECT_EQ(parse_safetensors(ok, "x").tensors.size(), 2u) << "any header order is fine";
  EXPECT_THROW(parse_safetensors(with_header("[]", 0), "x"), RuntimeError);
}

namespace {
std::string error_of(const std::string& bytes) {
  try {
    parse_safetensors(bytes, "hostile.safetensors");
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

// numel x itemsize is checked for overflow before it is compared with the byte range: a shape
// whose byte size wraps to 0 modulo 2^64 must not match an empty range.
TEST(Safetensors, ShapesWhoseSizeOverflowsAreRejected) {
  // 2^32 * 2^32 * 4 bytes wraps to 0; so does 2^62 * 4.
  for (const char* shape : {"[4294967296,4294967296]", "[4611686018427387904]", "[9223372036854775807,2]"}) {
    SCOPED_TRACE(shape);
    auto e = error_of(with_header(std::string(R"({"w":{"dtype":"F32","shape":)") + shape + R"(,"data_offsets":[0,0]}})", 0));
    EXPECT_NE(e.find("overflows"), std::string::npos) << e;
    EXPECT_NE(e.find("hostile.safetensors"), std::string::npos) << e;
  }
  // A dimension beyond int64 (a uint64 in JSON) and an empty tensor with a huge other dimension.
  EXPECT_NE(error_of(with_header(R"({"w":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}})", 0)), "");
  auto ok = with_header(R"({"w":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}})", 0);
  EXPECT_EQ(parse_safetensors(ok, "x").tensors.at("w").shape[1], INT64_MAX) << "zero elements never overflow";
}

TEST(Safetensors, ShapesAndOffsetsMustBeExactNonNegativeIntegers) {
  for (const char* entry : {R"({"dtype":"F32","shape":[-1],"data_offsets":[0,0]})",
                            R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})",
                            R"({"dtype":"F32","shape":[1e300],"data_offsets":[0,4]})",
                            R"({"dtype":"F32","shape":["1"],"data_offsets":[0,4]})",
                            R"({"dtype":"F32","shape":[1],"data_offsets":[0.0,4.0]})",
                            R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})",
                            R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})",
                            R"({"dtype":"F32","shape":1,"data_offsets":[0,4]})",
                            R"({"dtype":7,"shape":[1],"data_offsets":[0,4]})",
                            R"({"dtype":"Q4","shape":[1],"data_offsets":[0,4]})",
                            R"({"shape":[1],"data_offsets":[0,4]})",
                            R"([1,2])"}) {
    SCOPED_TRACE(entry);
    auto e = error_of(with_header(std::string(R"({"w":)") + entry + "}", 4));
    EXPECT_NE(e.find("tensor 'w'"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  std::string deep(64, '[');
  EXPECT_NE(error_of(with_header(R"({"w":{"dtype":"F32","shape":)" + deep + "]}}", 0)), "");
}

TEST(Safetensors, HeaderLengthAndMetadataAreBounded) {
  // A header length beyond the file, and one of 2^63 (no addition may wrap).
  std::string huge(8, '\0');
  huge[7] = '\x80';
  EXPECT_NE(error_of(huge + "{}"), "");
  auto f = with_header(R"({"__metadata__":{"format":"pt"}})", 0);
  f[0] = static_cast<char>(f[0] + 1);
  EXPECT_NE(error_of(f).find("exceeds the file size"), std::string::npos);
  // Metadata is a map of strings (as the reference reader insists); null means none.
  EXPECT_NE(error_of(with_header(R"({"__metadata__":{"n":[[[[1]]]]}})", 0)).find("not a string"), std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"__metadata__":[]})", 0)), "");
  EXPECT_TRUE(parse_safetensors(with_header(R"({"__metadata__":null})", 0), "x").metadata.empty());
  // Ranges past the data section, and overlapping ones of different sizes.
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})", 4)).find("outside"),
            std::string::npos);
  EXPECT_NE(error_of(with_header(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", 4)),
            "");
}

TEST(Safetensors, HeaderParseDoesNotCopyTensors) {
  auto bytes = with_header(R"({"b":{"dtype":"I16","shape":[2,1],"data_offsets":[4,8]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 8);
  bytes.replace(bytes.size() - 8, 8, "abcdefgh");
  SafetensorsHeader h = parse_safetensors_header(bytes, "x");
  EXPECT_EQ(h.data_start, bytes.size() - 8);
  EXPECT_EQ(h.tensors.at("b").begin, 4u);
  EXPECT_EQ(h.tensors.at("b").shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(parse_safetensors(bytes, "x").tensors.at("b").bytes, "efgh");
}
