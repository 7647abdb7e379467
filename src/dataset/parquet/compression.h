#pragma once
// Page (de)compression: SNAPPY (libsnappy), ZSTD (libzstd), GZIP (zlib). Decompression
// writes into a caller buffer of the exact size the page header declares and fails unless
// the codec produces exactly that many bytes.
#include <cstdint>
#include <string>

namespace robotrain::dataset::parquet {

// `codec` is a format::Codec. Throws std::runtime_error with a short reason on failure.
void decompress(int32_t codec, const uint8_t* src, size_t src_size, uint8_t* dst, size_t dst_size);
// Appends the compressed form of [src, src+size) to `out`.
void compress(int32_t codec, const uint8_t* src, size_t size, std::string& out);

}  // namespace robotrain::dataset::parquet
