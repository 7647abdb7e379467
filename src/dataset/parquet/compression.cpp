#include "dataset/parquet/compression.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "dataset/parquet/metadata.h"

namespace robotrain::dataset::parquet {

namespace {

void inflate_gzip(const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size) {
  if (src_size > UINT_MAX || dst_size > UINT_MAX) throw std::runtime_error("gzip page too large");
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

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// One raw LZ4 block that must fill dst exactly.
bool lz4_block(const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size) {
  if (src_size > INT_MAX || dst_size > INT_MAX) return false;
  int n = LZ4_decompress_safe(reinterpret_cast<const char*>(src), reinterpret_cast<char*>(dst),
                              static_cast<int>(src_size), static_cast<int>(dst_size));
  return n >= 0 && static_cast<size_t>(n) == dst_size;
}

// The legacy LZ4 codec as parquet-mr writes it (Hadoop framing): blocks of
// [uncompressed size, compressed size] (big-endian u32 each) followed by the raw LZ4 block.
bool lz4_hadoop(const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size) {
  size_t in = 0, out = 0;
  while (in < src_size) {
    if (src_size - in < 8) return false;
    const size_t usize = load_be32(src + in), csize = load_be32(src + in + 4);
    in += 8;
    if (csize > src_size - in || usize > dst_size - out) return false;
    if (!lz4_block(src + in, csize, dst + out, usize)) return false;
    in += csize;
    out += usize;
  }
  return out == dst_size;
}

void unbrotli(const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size) {
  size_t produced = dst_size;
  if (BrotliDecoderDecompress(src_size, src, &produced, dst) != BROTLI_DECODER_RESULT_SUCCESS)
    throw std::runtime_error("brotli data corrupt or larger than its page");
  if (produced != dst_size) throw std::runtime_error("brotli size mismatch");
}

}  // namespace

bool codec_supported(int32_t codec) {
  switch (codec) {
    case format::UNCOMPRESSED:
    case format::SNAPPY:
    case format::ZSTD:
    case format::GZIP:
    case format::LZ4:
    case format::LZ4_RAW:
    case format::BROTLI: return true;
    default: return false;
  }
}

size_t max_decompressed_size(int32_t codec, size_t src_size) {
  auto scaled = [&](size_t ratio, size_t slack) {
    return src_size > (SIZE_MAX - slack) / ratio ? SIZE_MAX : src_size * ratio + slack;
  };
  switch (codec) {
    case format::UNCOMPRESSED: return src_size;
    case format::SNAPPY: return scaled(22, 64);   // a 3-byte copy element yields at most 64 bytes
    case format::LZ4:
    case format::LZ4_RAW: return scaled(256, 64);  // each extra length byte adds at most 255
    case format::GZIP: return scaled(1040, 1024);  // deflate's maximum is ~1032:1
    default: return SIZE_MAX;
  }
}

void decompress(int32_t codec, const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size) {
  if (dst_size > max_decompressed_size(codec, src_size))
    throw std::runtime_error(std::string(format::codec_name(codec)) + " page claims " + std::to_string(dst_size) +
                             " bytes from " + std::to_string(src_size) + ", more than the codec can produce");
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
      // A frame that states its size must state the page's (checked before any work).
      const unsigned long long declared = ZSTD_getFrameContentSize(src, src_size);
      if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR && declared != dst_size)
        throw std::runtime_error("zstd frame size differs from the page header");
      // One decompression context per thread: creating one per page costs more than small pages.
      thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
      if (!ctx) throw std::runtime_error("zstd: cannot create a decompression context");
      size_t n = ZSTD_decompressDCtx(ctx.get(), dst, dst_size, src, src_size);
      if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
      if (n != dst_size) throw std::runtime_error("zstd size mismatch");
      return;
    }
    case format::GZIP: inflate_gzip(src, src_size, dst, dst_size); return;
    case format::LZ4_RAW:
      if (!lz4_block(src, src_size, dst, dst_size)) throw std::runtime_error("lz4 data corrupt or size mismatch");
      return;
    case format::LZ4:
      // Hadoop framing (parquet-mr, Arrow >= 5); older parquet-cpp wrote a bare block.
      if (!lz4_hadoop(src, src_size, dst, dst_size) && !lz4_block(src, src_size, dst, dst_size))
        throw std::runtime_error("lz4 data corrupt or size mismatch");
      return;
    case format::BROTLI: unbrotli(src, src_size, dst, dst_size); return;
    default:
      throw std::runtime_error(std::string("unsupported compression ") + format::codec_name(codec) +
                               " (supported: UNCOMPRESSED, SNAPPY, ZSTD, GZIP, LZ4, LZ4_RAW, BROTLI)");
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
      if (size > UINT_MAX / 2) throw std::runtime_error("page too large for gzip");
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
    case format::LZ4_RAW: {
      if (size > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) throw std::runtime_error("page too large for lz4");
      out.resize(base + static_cast<size_t>(LZ4_compressBound(static_cast<int>(size))));
      int n = LZ4_compress_default(reinterpret_cast<const char*>(src), out.data() + base, static_cast<int>(size),
                                   static_cast<int>(out.size() - base));
      if (n <= 0) throw std::runtime_error("lz4 compression failed");
      out.resize(base + static_cast<size_t>(n));
      return;
    }
    case format::BROTLI: {
      size_t n = BrotliEncoderMaxCompressedSize(size);
      if (n == 0) throw std::runtime_error("page too large for brotli");
      out.resize(base + n);
      // Quality 8: Arrow's default brotli level.
      if (!BrotliEncoderCompress(8, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, size, src, &n,
                                 reinterpret_cast<uint8_t*>(out.data() + base)))
        throw std::runtime_error("brotli compression failed");
      out.resize(base + n);
      return;
    }
    default: throw std::runtime_error("unsupported compression");
  }
}

}  // namespace robotrain::dataset::parquet
