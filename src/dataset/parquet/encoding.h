#pragma once
// Parquet value and level encodings, independent of files and columns so they can be tested
// byte by byte. Decoders validate every length against the bytes they were given and throw
// EncodingError (a short reason; the caller adds file/column context).
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace robotrain::dataset::parquet::enc {

class EncodingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bits needed to store values up to max_value (0 -> 0).
int bit_width(uint64_t max_value);

// RLE / bit-packed hybrid: decodes exactly `count` values of `bit_width` bits (<= 32).
// Values are not range-checked here. Returns the bytes consumed.
size_t decode_rle_hybrid(const uint8_t* data, size_t size, int bit_width, size_t count, uint8_t* out);
size_t decode_rle_hybrid(const uint8_t* data, size_t size, int bit_width, size_t count, uint32_t* out);
// Appends the hybrid encoding of values (no length prefix).
void encode_rle_hybrid(const uint32_t* values, size_t count, int bit_width, std::string& out);
void encode_rle_hybrid(const uint8_t* values, size_t count, int bit_width, std::string& out);

// DELTA_BINARY_PACKED: decodes the whole stream (at most max_count values) into `out`
// (two's-complement wrap-around, as the spec requires). Returns bytes consumed.
size_t decode_delta_binary_packed(const uint8_t* data, size_t size, size_t max_count, std::vector<int64_t>& out);
void encode_delta_binary_packed(const int64_t* values, size_t count, std::string& out);

// Byte arrays. PLAIN: 4-byte little-endian length + bytes per value.
void decode_plain_byte_array(const uint8_t* data, size_t size, size_t count, std::string* out);
void decode_plain_fixed_byte_array(const uint8_t* data, size_t size, size_t count, int width, std::string* out);
void decode_delta_length_byte_array(const uint8_t* data, size_t size, size_t count, std::string* out);
// Fails when the values would exceed max_total_bytes in all (prefixes repeat earlier bytes, so
// the output is not bounded by the input); returns their total size.
size_t decode_delta_byte_array(const uint8_t* data, size_t size, size_t count, std::string* out,
                               size_t max_total_bytes);
void encode_delta_length_byte_array(const std::string* values, size_t count, std::string& out);
void encode_delta_byte_array(const std::string* values, size_t count, std::string& out);

// PLAIN booleans: bit-packed, least significant bit first.
void decode_plain_bool(const uint8_t* data, size_t size, size_t count, int64_t* out);

// BYTE_STREAM_SPLIT: byte k of value i is at data[k * count + i]. Writes count*width bytes.
void decode_byte_stream_split(const uint8_t* data, size_t size, size_t count, int width, uint8_t* out);

// PLAIN fixed-width values, converted to the output type (memcpy when the types match).
template <class Src, class Dst>
void decode_plain_fixed(const uint8_t* data, size_t size, size_t count, Dst* out) {
  if (size / sizeof(Src) < count) throw EncodingError("PLAIN values truncated");
  if constexpr (std::is_same_v<Src, Dst>) {
    if (count) std::memcpy(out, data, count * sizeof(Src));
  } else {
    for (size_t i = 0; i < count; ++i) {
      Src v;
      std::memcpy(&v, data + i * sizeof(Src), sizeof(Src));
      out[i] = static_cast<Dst>(v);
    }
  }
}

}  // namespace robotrain::dataset::parquet::enc
