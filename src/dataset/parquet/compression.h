#pragma once
// Page (de)compression: SNAPPY (libsnappy), ZSTD (libzstd), GZIP (zlib), LZ4_RAW and the
// legacy Hadoop-framed LZ4 (liblz4), BROTLI (libbrotli). Decompression writes into a caller
// buffer of the exact size the page header declares and fails unless the codec produces
// exactly that many bytes; it never writes past that buffer.
#include <cstdint>
#include <string>

namespace robotrain::dataset::parquet {

// `codec` is a format::Codec. Throws std::runtime_error with a short reason on failure.
void decompress(int32_t codec, const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size);
// Appends the compressed form of [src, src+size) to `out`.
void compress(int32_t codec, const uint8_t* src, size_t size, std::string& out);

// The most bytes `codec` can produce from `src_size` compressed bytes where its format bounds
// the ratio (SNAPPY ~21:1, LZ4 ~255:1, GZIP ~1032:1), so a page header claiming more is
// corrupt. ZSTD and BROTLI can legitimately compress a run of zeros by 10^4 and more: for them
// (and unknown codecs) this returns SIZE_MAX and the reader's decode budget is the limit.
size_t max_decompressed_size(int32_t codec, size_t src_size);

// Whether decompress() supports `codec`.
bool codec_supported(int32_t codec);

}  // namespace robotrain::dataset::parquet
