#include "dataset/parquet/encoding.h"

#include <algorithm>

namespace robotrain::dataset::parquet::enc {

namespace {

uint64_t read_uleb(const uint8_t*& p, const uint8_t* end) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) throw EncodingError("varint truncated");
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  throw EncodingError("varint too long");
}

int64_t read_zigzag(const uint8_t*& p, const uint8_t* end) {
  uint64_t v = read_uleb(p, end);
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void write_uleb(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void write_zigzag(int64_t v, std::string& out) {
  write_uleb((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

// Unpacks `count` little-endian bit-packed values of width w (<= 64) starting at src.
// The caller guarantees src has ceil(count*w/8) bytes.
template <class T>
void unpack(const uint8_t* src, size_t src_bytes, int w, size_t count, T* out) {
  if (w == 0) {
    std::fill(out, out + count, T(0));
    return;
  }
  if (w == 1) {  // levels of lists: 8 at a time
    size_t full = count / 8;
    for (size_t j = 0; j < full; ++j) {
      const unsigned b = src[j];
      T* o = out + j * 8;
      for (int k = 0; k < 8; ++k) o[k] = static_cast<T>((b >> k) & 1);
    }
    for (size_t i = full * 8; i < count; ++i) out[i] = static_cast<T>((src[i >> 3] >> (i & 7)) & 1);
    return;
  }
  const uint64_t mask = w == 64 ? ~0ull : ((1ull << w) - 1);
  for (size_t i = 0; i < count; ++i) {
    size_t bit = i * static_cast<size_t>(w);
    size_t byte = bit >> 3;
    int shift = static_cast<int>(bit & 7);
    uint64_t word = 0;
    if (w <= 56 && byte + 8 <= src_bytes) {
      std::memcpy(&word, src + byte, 8);
      out[i] = static_cast<T>((word >> shift) & mask);
    } else {
      // Near the end (or very wide values): gather byte by byte, up to 9 bytes.
      size_t nbytes = (shift + w + 7) / 8;
      unsigned __int128 acc = 0;
      for (size_t b = 0; b < nbytes && byte + b < src_bytes; ++b)
        acc |= static_cast<unsigned __int128>(src[byte + b]) << (8 * b);
      out[i] = static_cast<T>(static_cast<uint64_t>(acc >> shift) & mask);
    }
  }
}

template <class T>
size_t rle_decode(const uint8_t* data, size_t size, int w, size_t count, T* out) {
  if (w < 0 || w > 32) throw EncodingError("bit width out of range");
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  size_t done = 0;
  const size_t value_bytes = (static_cast<size_t>(w) + 7) / 8;
  while (done < count) {
    uint64_t header = read_uleb(p, end);
    if (header & 1) {
      uint64_t groups = header >> 1;
      size_t avail = static_cast<size_t>(end - p);
      // A run spans groups*w bytes; the final run may be cut short after the last value needed.
      // (groups <= avail here, so groups * w cannot overflow.)
      size_t group_bytes = groups > avail ? avail : static_cast<size_t>(std::min<uint64_t>(groups * w, avail));
      uint64_t useful_groups = std::min<uint64_t>(groups, (count - done + 7) / 8);
      size_t n = static_cast<size_t>(std::min<uint64_t>(useful_groups * 8, count - done));
      size_t bytes_needed = (n * w + 7) / 8;
      if (bytes_needed > avail) throw EncodingError("bit-packed run truncated");
      unpack(p, avail, w, n, out + done);
      done += n;
      p += std::max(group_bytes, bytes_needed);
    } else {
      uint64_t run = header >> 1;
      if (value_bytes > static_cast<size_t>(end - p)) throw EncodingError("RLE run truncated");
      uint32_t v = 0;
      for (size_t b = 0; b < value_bytes; ++b) v |= static_cast<uint32_t>(p[b]) << (8 * b);
      p += value_bytes;
      if (run == 0) throw EncodingError("RLE run of length 0");
      size_t n = static_cast<size_t>(std::min<uint64_t>(run, count - done));
      std::fill(out + done, out + done + n, static_cast<T>(v));
      done += n;
    }
  }
  return static_cast<size_t>(p - data);
}

template <class T>
void rle_encode(const T* v, size_t count, int w, std::string& out) {
  const size_t value_bytes = (static_cast<size_t>(w) + 7) / 8;
  std::vector<uint32_t> literal;  // pending bit-packed values
  auto flush_literal = [&](bool final) {
    if (literal.empty()) return;
    size_t groups = (literal.size() + 7) / 8;
    (void)final;
    literal.resize(groups * 8, 0);  // padding is only ever at the very end or exact
    write_uleb((groups << 1) | 1, out);
    size_t base = out.size();
    out.resize(base + groups * w, '\0');
    auto* dst = reinterpret_cast<uint8_t*>(out.data() + base);
    for (size_t i = 0; i < literal.size(); ++i) {
      uint64_t bit = i * static_cast<uint64_t>(w);
      for (int b = 0; b < w; ++b)
        if ((literal[i] >> b) & 1) dst[(bit + b) >> 3] |= static_cast<uint8_t>(1u << ((bit + b) & 7));
    }
    literal.clear();
  };
  size_t i = 0;
  while (i < count) {
    size_t r = 1;
    while (i + r < count && v[i + r] == v[i]) ++r;
    if (r >= 8) {
      // Top up the literal to a multiple of 8 from the run so padding never sits mid-stream.
      size_t borrow = literal.empty() ? 0 : (8 - literal.size() % 8) % 8;
      if (r - borrow >= 8) {
        for (size_t k = 0; k < borrow; ++k) literal.push_back(v[i]);
        flush_literal(false);
        size_t run = r - borrow;
        write_uleb(static_cast<uint64_t>(run) << 1, out);
        uint32_t val = v[i];
        for (size_t b = 0; b < value_bytes; ++b) out.push_back(static_cast<char>((val >> (8 * b)) & 0xff));
        i += r;
        continue;
      }
    }
    for (size_t k = 0; k < r; ++k) literal.push_back(v[i]);
    i += r;
  }
  flush_literal(true);
}

}  // namespace

int bit_width(uint64_t max_value) {
  int w = 0;
  while (max_value) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

size_t decode_rle_hybrid(const uint8_t* data, size_t size, int w, size_t count, uint8_t* out) {
  return rle_decode(data, size, w, count, out);
}
size_t decode_rle_hybrid(const uint8_t* data, size_t size, int w, size_t count, uint32_t* out) {
  return rle_decode(data, size, w, count, out);
}
void encode_rle_hybrid(const uint32_t* values, size_t count, int w, std::string& out) {
  rle_encode(values, count, w, out);
}
void encode_rle_hybrid(const uint8_t* values, size_t count, int w, std::string& out) {
  rle_encode(values, count, w, out);
}

size_t decode_delta_binary_packed(const uint8_t* data, size_t size, size_t max_count, std::vector<int64_t>& out) {
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  uint64_t block_size = read_uleb(p, end);
  uint64_t miniblocks = read_uleb(p, end);
  uint64_t total = read_uleb(p, end);
  int64_t first = read_zigzag(p, end);
  if (block_size == 0 || block_size % 128 != 0 || miniblocks == 0 || block_size % miniblocks != 0 ||
      (block_size / miniblocks) % 32 != 0 || block_size > (1u << 20))
    throw EncodingError("DELTA_BINARY_PACKED header invalid");
  if (total > max_count) throw EncodingError("DELTA_BINARY_PACKED holds more values than the page");
  const uint64_t per_mini = block_size / miniblocks;
  out.clear();
  out.reserve(total);
  if (total == 0) return static_cast<size_t>(p - data);
  uint64_t last = static_cast<uint64_t>(first);
  out.push_back(first);
  std::vector<uint64_t> deltas(per_mini);
  while (out.size() < total) {
    uint64_t min_delta = static_cast<uint64_t>(read_zigzag(p, end));
    if (static_cast<uint64_t>(end - p) < miniblocks) throw EncodingError("DELTA_BINARY_PACKED bit widths truncated");
    const uint8_t* widths = p;
    p += miniblocks;
    for (uint64_t m = 0; m < miniblocks && out.size() < total; ++m) {
      int w = widths[m];
      if (w > 64) throw EncodingError("DELTA_BINARY_PACKED bit width > 64");
      size_t bytes = per_mini * w / 8;
      if (bytes > static_cast<size_t>(end - p)) throw EncodingError("DELTA_BINARY_PACKED miniblock truncated");
      unpack(p, bytes, w, per_mini, deltas.data());
      p += bytes;
      size_t n = static_cast<size_t>(std::min<uint64_t>(per_mini, total - out.size()));
      for (size_t k = 0; k < n; ++k) {
        last += min_delta + deltas[k];
        out.push_back(static_cast<int64_t>(last));
      }
    }
  }
  return static_cast<size_t>(p - data);
}

void encode_delta_binary_packed(const int64_t* values, size_t count, std::string& out) {
  constexpr size_t kBlock = 128, kMini = 4, kPerMini = kBlock / kMini;
  write_uleb(kBlock, out);
  write_uleb(kMini, out);
  write_uleb(count, out);
  write_zigzag(count ? values[0] : 0, out);
  size_t i = 1;
  while (i < count) {
    size_t n = std::min(kBlock, count - i);
    std::vector<uint64_t> d(kBlock, 0);
    int64_t min_delta = INT64_MAX;
    for (size_t k = 0; k < n; ++k) {
      int64_t delta = static_cast<int64_t>(static_cast<uint64_t>(values[i + k]) - static_cast<uint64_t>(values[i + k - 1]));
      min_delta = std::min(min_delta, delta);
    }
    for (size_t k = 0; k < n; ++k) {
      uint64_t delta = static_cast<uint64_t>(values[i + k]) - static_cast<uint64_t>(values[i + k - 1]);
      d[k] = delta - static_cast<uint64_t>(min_delta);
    }
    write_zigzag(min_delta, out);
    int widths[kMini];
    for (size_t m = 0; m < kMini; ++m) {
      uint64_t mx = 0;
      for (size_t k = m * kPerMini; k < (m + 1) * kPerMini && k < n; ++k) mx = std::max(mx, d[k]);
      widths[m] = bit_width(mx);
      out.push_back(static_cast<char>(widths[m]));
    }
    for (size_t m = 0; m < kMini && m * kPerMini < n; ++m) {
      int w = widths[m];
      size_t base = out.size();
      out.resize(base + kPerMini * w / 8, '\0');
      auto* dst = reinterpret_cast<uint8_t*>(out.data() + base);
      for (size_t k = 0; k < kPerMini; ++k) {
        uint64_t v = d[m * kPerMini + k];
        for (int b = 0; b < w; ++b) {
          size_t bit = k * w + b;
          if ((v >> b) & 1) dst[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7));
        }
      }
    }
    i += n;
  }
}

void decode_plain_byte_array(const uint8_t* data, size_t size, size_t count, std::string* out) {
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  for (size_t i = 0; i < count; ++i) {
    if (end - p < 4) throw EncodingError("PLAIN byte array length truncated");
    uint32_t n;
    std::memcpy(&n, p, 4);
    p += 4;
    if (n > static_cast<size_t>(end - p)) throw EncodingError("PLAIN byte array value truncated");
    out[i].assign(reinterpret_cast<const char*>(p), n);
    p += n;
  }
}

void decode_plain_fixed_byte_array(const uint8_t* data, size_t size, size_t count, int width, std::string* out) {
  if (width < 0 || (width > 0 && size / static_cast<size_t>(width) < count))
    throw EncodingError("PLAIN fixed-length byte array values truncated");
  for (size_t i = 0; i < count; ++i) out[i].assign(reinterpret_cast<const char*>(data) + i * width, width);
}

namespace {

// The lengths section of DELTA_LENGTH_BYTE_ARRAY: `count` lengths, each checked, whose sum fits
// in the bytes that follow. Returns where those bytes start.
const uint8_t* read_lengths(const uint8_t* data, size_t size, size_t count, std::vector<int64_t>& lengths,
                            const char* what) {
  size_t used = decode_delta_binary_packed(data, size, count, lengths);
  if (lengths.size() < count) throw EncodingError(std::string(what) + " has fewer lengths than values");
  size_t left = size - used;
  for (size_t i = 0; i < count; ++i) {
    const int64_t n = lengths[i];
    if (n < 0 || static_cast<uint64_t>(n) > left) throw EncodingError(std::string(what) + " value truncated");
    left -= static_cast<size_t>(n);
  }
  return data + used;
}

}  // namespace

void decode_delta_length_byte_array(const uint8_t* data, size_t size, size_t count, std::string* out) {
  std::vector<int64_t> lengths;
  const uint8_t* p = read_lengths(data, size, count, lengths, "DELTA_LENGTH_BYTE_ARRAY");
  for (size_t i = 0; i < count; ++i) {
    const size_t n = static_cast<size_t>(lengths[i]);
    out[i].assign(reinterpret_cast<const char*>(p), n);
    p += n;
  }
}

size_t decode_delta_byte_array(const uint8_t* data, size_t size, size_t count, std::string* out,
                               size_t max_total_bytes) {
  std::vector<int64_t> prefix, suffix;
  size_t used = decode_delta_binary_packed(data, size, count, prefix);
  if (prefix.size() < count) throw EncodingError("DELTA_BYTE_ARRAY has fewer prefixes than values");
  const uint8_t* p = read_lengths(data + used, size - used, count, suffix, "DELTA_BYTE_ARRAY");
  // Each prefix repeats bytes of the value before, so a few bytes can declare terabytes:
  // add the lengths up, checked, before building anything.
  size_t total = 0, prev = 0;
  for (size_t i = 0; i < count; ++i) {
    const int64_t k = prefix[i];
    if (k < 0 || static_cast<uint64_t>(k) > prev) throw EncodingError("DELTA_BYTE_ARRAY prefix too long");
    prev = static_cast<size_t>(k) + static_cast<size_t>(suffix[i]);  // both bounded by earlier checks
    if (__builtin_add_overflow(total, prev, &total) || total > max_total_bytes)
      throw EncodingError("DELTA_BYTE_ARRAY expands beyond what the file can justify (corrupt prefix lengths)");
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t k = static_cast<size_t>(prefix[i]), n = static_cast<size_t>(suffix[i]);
    std::string v;
    v.reserve(k + n);
    if (k) v.append(out[i - 1], 0, k);  // k > 0 only after a value of at least k bytes
    v.append(reinterpret_cast<const char*>(p), n);
    p += n;
    out[i] = std::move(v);
  }
  return total;
}

void encode_delta_length_byte_array(const std::string* values, size_t count, std::string& out) {
  std::vector<int64_t> lengths(count);
  for (size_t i = 0; i < count; ++i) lengths[i] = static_cast<int64_t>(values[i].size());
  encode_delta_binary_packed(lengths.data(), count, out);
  for (size_t i = 0; i < count; ++i) out.append(values[i]);
}

void encode_delta_byte_array(const std::string* values, size_t count, std::string& out) {
  std::vector<int64_t> prefix(count);
  std::vector<std::string> suffix(count);
  for (size_t i = 0; i < count; ++i) {
    size_t k = 0;
    if (i > 0)
      while (k < values[i].size() && k < values[i - 1].size() && values[i][k] == values[i - 1][k]) ++k;
    prefix[i] = static_cast<int64_t>(k);
    suffix[i] = values[i].substr(k);
  }
  encode_delta_binary_packed(prefix.data(), count, out);
  encode_delta_length_byte_array(suffix.data(), count, out);
}

void decode_plain_bool(const uint8_t* data, size_t size, size_t count, int64_t* out) {
  if (size < (count + 7) / 8) throw EncodingError("PLAIN booleans truncated");
  for (size_t i = 0; i < count; ++i) out[i] = (data[i >> 3] >> (i & 7)) & 1;
}

void decode_byte_stream_split(const uint8_t* data, size_t size, size_t count, int width, uint8_t* out) {
  if (width <= 0 || size / static_cast<size_t>(width) < count) throw EncodingError("BYTE_STREAM_SPLIT values truncated");
  // Streams are `size / width` long; a writer may not pad, so use the value count as stride
  // only when it matches the data.
  size_t stride = size / static_cast<size_t>(width);
  for (int k = 0; k < width; ++k) {
    const uint8_t* s = data + static_cast<size_t>(k) * stride;
    for (size_t i = 0; i < count; ++i) out[i * width + k] = s[i];
  }
}

}  // namespace robotrain::dataset::parquet::enc
