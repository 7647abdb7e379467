#include "dataset/parquet/compression.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "dataset/parquet/metadata.h"

namespace robotrain::dataset::parquet {

namespace {

void inflate_gzip(const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size) {
  z_stream zs{};
  // 15 + 32: accept both gzip and zlib headers (writers differ).
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw std::runtime_error("zlib init failed");
  zs.next_in = const_cast<Bytef*>(src);
  zs.avail_in = static_cast<uInt>(src_size);
  zs.next_out = dst;
  zs.avail_out = static_cast<uInt>(dst_size);
  int rc = inflate(&zs, Z_FINISH);
  size_t produced = dst_size - zs.avail_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != dst_size) throw std::runtime_error("gzip data corrupt or size mismatch");
}

}  // namespace

void decompress(int32_t codec, const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size) {
  switch (codec) {
    case format::UNCOMPRESSED:
      if (src_size != dst_size) throw std::runtime_error("uncompressed page size mismatch");
      if (dst_size) std::memcpy(dst, src, dst_size);
      return;
    case format::SNAPPY: {
      size_t n = 0;
      auto s = reinterpret_cast<const char*>(src);
      if (!snappy::GetUncompressedLength(s, src_size, &n) || n != dst_size)
        throw std::runtime_error("snappy size mismatch");
      if (!snappy::RawUncompress(s, src_size, reinterpret_cast<char*>(dst)))
        throw std::runtime_error("snappy data corrupt");
      return;
    }
    case format::ZSTD: {
      // One decompression context per thread: creating one per page costs more than small pages.
      thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
      if (!ctx) throw std::runtime_error("zstd: cannot create a decompression context");
      size_t n = ZSTD_decompressDCtx(ctx.get(), dst, dst_size, src, src_size);
      if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
      if (n != dst_size) throw std::runtime_error("zstd size mismatch");
      return;
    }
    case format::GZIP: inflate_gzip(src, src_size, dst, dst_size); return;
    default:
      throw std::runtime_error(std::string("unsupported compression ") + format::codec_name(codec) +
                               " (supported: UNCOMPRESSED, SNAPPY, ZSTD, GZIP)");
  }
}

void compress(int32_t codec, const uint8_t* src, size_t size, std::string& out) {
  size_t base = out.size();
  switch (codec) {
    case format::UNCOMPRESSED:
      out.append(reinterpret_cast<const char*>(src), size);
      return;
    case format::SNAPPY: {
      out.resize(base + snappy::MaxCompressedLength(size));
      size_t n = 0;
      snappy::RawCompress(reinterpret_cast<const char*>(src), size, out.data() + base, &n);
      out.resize(base + n);
      return;
    }
    case format::ZSTD: {
      out.resize(base + ZSTD_compressBound(size));
      size_t n = ZSTD_compress(out.data() + base, out.size() - base, src, size, 3);
      if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
      out.resize(base + n);
      return;
    }
    case format::GZIP: {
      z_stream zs{};
      if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zlib init failed");
      out.resize(base + deflateBound(&zs, size) + 32);
      zs.next_in = const_cast<Bytef*>(src);
      zs.avail_in = static_cast<uInt>(size);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + base);
      zs.avail_out = static_cast<uInt>(out.size() - base);
      int rc = deflate(&zs, Z_FINISH);
      size_t n = out.size() - base - zs.avail_out;
      deflateEnd(&zs);
      if (rc != Z_STREAM_END) throw std::runtime_error("gzip compression failed");
      out.resize(base + n);
      return;
    }
    default: throw std::runtime_error("unsupported compression");
  }
}

}  // namespace robotrain::dataset::parquet
