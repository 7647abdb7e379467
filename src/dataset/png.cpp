#include "dataset/png.h"

#include <png.h>
#include <zlib.h>

#include <cstring>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace {

uint32_t be32(const std::string& b, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 24) | (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3]));
}

}  // namespace

PngHeader check_png(const std::string& b, const std::string& what) {
  static const char kSignature[] = "\x89PNG\r\n\x1a\n";
  auto bad = [&](const std::string& why) { return util::RuntimeError(util::cat(what, ": ", why)); };
  if (b.size() < 8 || b.compare(0, 8, kSignature, 8) != 0) throw bad("not a PNG (no PNG signature)");
  PngHeader h;
  size_t at = 8;
  bool first = true, end = false;
  while (!end) {
    if (b.size() - at < 12) throw bad(util::cat("truncated PNG (", b.size(), " bytes, a chunk starts at ", at, ")"));
    const uint32_t len = be32(b, at);
    const std::string type = b.substr(at + 4, 4);
    if (len > b.size() - at - 12) throw bad(util::cat("truncated PNG (chunk '", type, "' claims ", len, " bytes)"));
    const uint32_t crc = static_cast<uint32_t>(
        ::crc32(::crc32(0L, nullptr, 0), reinterpret_cast<const Bytef*>(b.data() + at + 4), static_cast<uInt>(len) + 4));
    if (crc != be32(b, at + 8 + len)) throw bad(util::cat("corrupt PNG (chunk '", type, "' at byte ", at, " fails its CRC)"));
    if (first) {
      if (type != "IHDR" || len != 13) throw bad("corrupt PNG (the first chunk is not IHDR)");
      const uint32_t w = be32(b, at + 8), hgt = be32(b, at + 12);
      if (w == 0 || hgt == 0 || w > 65536 || hgt > 65536 || static_cast<uint64_t>(w) * hgt > (uint64_t{1} << 28))
        throw bad(util::cat("PNG header declares ", w, "x", hgt, " pixels"));
      h.width = static_cast<int>(w);
      h.height = static_cast<int>(hgt);
      first = false;
    }
    end = type == "IEND";
    at += 12 + len;
  }
  return h;
}

RgbImage decode_png(const std::string& bytes, const std::string& what, int expect_width, int expect_height) {
  const PngHeader h = check_png(bytes, what);
  if (expect_width > 0 && expect_height > 0 && (h.width != expect_width || h.height != expect_height))
    throw util::RuntimeError(util::cat(what, ": image is ", h.width, "x", h.height, " (width x height) but meta/info.json declares ",
                                       expect_width, "x", expect_height, "; fix the image or the feature's shape"));
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
