#include "dataset/png.h"

#include <png.h>

#include <cstring>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset {

RgbImage decode_png(const std::string& bytes, const std::string& what) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, bytes.data(), bytes.size()))
    throw util::RuntimeError(util::cat(what, ": not a readable PNG (", img.message, ")"));
  img.format = PNG_FORMAT_RGB;  // libpng converts gray/palette/alpha/16-bit for us
  RgbImage out;
  out.width = static_cast<int>(img.width);
  out.height = static_cast<int>(img.height);
  out.rgb.resize(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, out.rgb.data(), 0, nullptr)) {
    std::string msg = img.message;
    png_image_free(&img);
    throw util::RuntimeError(util::cat(what, ": corrupt PNG (", msg, ")"));
  }
  return out;
}

std::string encode_png(const uint8_t* rgb, int width, int height) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(width);
  img.height = static_cast<png_uint_32>(height);
  img.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&img, nullptr, &size, 0, rgb, 0, nullptr))
    throw util::RuntimeError(util::cat("PNG encoding failed (", img.message, ")"));
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&img, out.data(), &size, 0, rgb, 0, nullptr))
    throw util::RuntimeError(util::cat("PNG encoding failed (", img.message, ")"));
  out.resize(size);
  return out;
}

}  // namespace robotrain::dataset
