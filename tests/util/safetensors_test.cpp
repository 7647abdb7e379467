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
