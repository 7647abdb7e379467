#include "eval/report/png.h"

#include <png.h>

#include "util/error.h"
#include "util/fs.h"

namespace robotrain::eval {

namespace {
void append_to_string(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}
void no_flush(png_structp) {}
}  // namespace

std::string encode_png(const std::vector<uint8_t>& rgb, int width, int height) {
  if (rgb.size() != static_cast<size_t>(width) * height * 3) throw util::RuntimeError("encode_png: buffer size does not match the image size");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) throw util::RuntimeError("encode_png: libpng initialisation failed");
  std::string out;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw util::RuntimeError("encode_png: libpng failed while encoding");
  }
  png_set_write_fn(png, &out, append_to_string, no_flush);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y) png_write_row(png, const_cast<png_bytep>(&rgb[static_cast<size_t>(y) * width * 3]));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

void write_png(const std::filesystem::path& path, const std::vector<uint8_t>& rgb, int width, int height) {
  util::atomic_write_file(path, encode_png(rgb, width, height));
}

}  // namespace robotrain::eval
