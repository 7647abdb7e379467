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
