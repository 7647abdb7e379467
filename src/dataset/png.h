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

struct PngHeader {
  int width = 0;
  int height = 0;
};

// The signature and IHDR of a PNG, and every chunk's length and CRC up to IEND, checked
// without inflating anything (a damaged or truncated image is found at the cost of one CRC
// pass). RuntimeError naming `what` when damaged or larger than 65536 x 65536 / 2^28 pixels.
PngHeader check_png(const std::string& bytes, const std::string& what);

// Any PNG (gray, palette, alpha, 16-bit) to RGB8. RuntimeError naming `what` when corrupt.
// With expected sizes (> 0), the header is compared with them before anything is decoded
// (a smaller, larger or transposed image is an error naming both sizes).
RgbImage decode_png(const std::string& bytes, const std::string& what, int expect_width = 0, int expect_height = 0);
// RGB8 HWC to PNG bytes.
std::string encode_png(const uint8_t* rgb, int width, int height);

}  // namespace robotrain::dataset
