#pragma once
// PNG through libpng: LeRobot "image" features store PNG bytes in the data parquet.
#include <cstdint>
#include <string>
#include <vector>

namespace robotrain::dataset {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // HWC, 3 channels
};

// Any PNG (gray, palette, alpha, 16-bit) to RGB8. RuntimeError naming `what` when corrupt.
RgbImage decode_png(const std::string& bytes, const std::string& what);
// RGB8 HWC to PNG bytes.
std::string encode_png(const uint8_t* rgb, int width, int height);

}  // namespace robotrain::dataset
