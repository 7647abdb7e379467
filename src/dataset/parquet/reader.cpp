// Parquet reader: footer once at open, then column chunks on demand with one pread each.
// Every size taken from the file is checked against the file (or the page) before it is used.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "dataset/parquet/compression.h"
#include "dataset/parquet/encoding.h"
#include "dataset/parquet/metadata.h"
#include "dataset/parquet/parquet.h"
#include "dataset/parquet/schema.h"
#include "dataset/parquet/thrift.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset::parquet {

namespace {

using util::cat;
using namespace format;

constexpr size_t kMaxPageBytes = size_t(1) << 30;  // no real page is near this; larger = corrupt
constexpr size_t kLevelSlack = size_t(1) << 22;    // all-null pages: many levels in few bytes

// What one read() may allocate while decoding: the output columns and every scratch buffer.
// Parquet legitimately expands (RLE runs and dictionaries turn a few bytes into a long column
// of one value; ZSTD turns a page of zeros into a few dozen bytes), so no per-page ratio can be
// trusted, but a file's columns cannot justify more than a fixed multiple of its bytes. Without
// this, a 200-byte file whose page claims 2^31 values makes the reader zero-fill 16 GiB.
constexpr size_t kDecodeFloorBytes = size_t(256) << 20;  // small files: far above any real one
constexpr size_t kDecodeBytesPerFileByte = 64;           // LeRobot files expand 1-10x

size_t decode_limit(int64_t file_size) {
  const size_t f = static_cast<size_t>(std::max<int64_t>(file_size, 0));
  if (f > (SIZE_MAX - kDecodeFloorBytes) / kDecodeBytesPerFileByte) return SIZE_MAX;
  return kDecodeFloorBytes + f * kDecodeBytesPerFileByte;
}

class DecodeBudget {
 public:
  explicit DecodeBudget(size_t limit) : limit_(limit) {}
  size_t left() const { return limit_ - used_; }
  bool fits(size_t bytes) const { return bytes <= left(); }
  // Called before allocating `bytes`; throws when the file cannot justify them.
  void charge(size_t bytes) {
    if (!fits(bytes))
      throw enc::EncodingError(cat("decoding needs more than ", limit_ >> 20,
                                   " MiB for this file's size (counts or sizes in the file are corrupt, or a "
                                   "decompression bomb)"));
    used_ += bytes;
  }
  // Element count times element size, failing on overflow as on any excess.
  void charge(size_t count, size_t elem_bytes) {
    size_t bytes;
    if (__builtin_mul_overflow(count, elem_bytes, &bytes)) bytes = SIZE_MAX;
    charge(bytes);
  }

 private:
  size_t limit_;
  size_t used_ = 0;
};

// Makes room for n elements in v, charging the growth (geometric where the budget allows, so
// page after page appends in amortised constant time). Later resizes up to n allocate nothing.
template <class V>
void grow(V& v, size_t n, DecodeBudget& budget) {
  const size_t cap = v.capacity();
  if (n <= cap) return;
  constexpr size_t elem = sizeof(typename V::value_type);
  size_t want = std::max(n, cap + cap / 2);
  if (want > SIZE_MAX / elem || !budget.fits((want - cap) * elem)) want = n;
  budget.charge(want - cap, elem);
  v.reserve(want);
}

// A growable scratch buffer that is not zero-filled (decompression overwrites it).
struct Buffer {
  std::unique_ptr<uint8_t[]> data;
  size_t capacity = 0;
  uint8_t* get(size_t n, DecodeBudget& budget) {
    if (n > capacity) {
      budget.charge(n - capacity);
      data.reset(new uint8_t[n]);
      capacity = n;
    }
    return data.get();
  }
};

// Scratch space of one column's decoding, reused page after page.
struct Scratch {
  DecodeBudget& budget;
  std::vector<uint32_t> idx;    // dictionary indices
  std::vector<uint8_t> bits;    // RLE booleans
  std::vector<int64_t> ints;    // DELTA_BINARY_PACKED values
  std::vector<uint8_t> bytes;   // BYTE_STREAM_SPLIT reassembly
};

// Decoding context of one column chunk: what errors must name.
struct ChunkError {
  std::string where;  // "<file>: column 'x' row group N"
  [[noreturn]] void fail(const std::string& what) const { throw util::RuntimeError(cat(where, ": ", what)); }
};

template <class T>
std::vector<T>& values_of(Column& c) {
  if constexpr (std::is_same_v<T, int64_t>) return c.ints;
  else if constexpr (std::is_same_v<T, float>) return c.floats;
  else if constexpr (std::is_same_v<T, double>) return c.doubles;
  else return c.strings;
}

// Values of BYTE_STREAM_SPLIT pages, reassembled then converted like PLAIN.
template <class T>
void decode_bss(const Leaf& leaf, const uint8_t* data, size_t size, size_t count, T* out, Scratch& s) {
  int width;
  switch (leaf.physical) {
    case FLOAT:
    case INT32: width = 4; break;
    case DOUBLE:
    case INT64: width = 8; break;
    case FIXED_LEN_BYTE_ARRAY: width = leaf.type_length; break;
    default: throw enc::EncodingError("BYTE_STREAM_SPLIT on an unsupported type");
  }
  if (width <= 0) throw enc::EncodingError("BYTE_STREAM_SPLIT with zero width");
  if (count > size / static_cast<size_t>(width)) throw enc::EncodingError("BYTE_STREAM_SPLIT values truncated");
  const size_t n = count * static_cast<size_t>(width);
  grow(s.bytes, n, s.budget);
  s.bytes.resize(n);
  uint8_t* tmp = s.bytes.data();
  enc::decode_byte_stream_split(data, size, count, width, tmp);
  if constexpr (std::is_same_v<T, std::string>) {
    s.budget.charge(n);  // the strings' bytes
    enc::decode_plain_fixed_byte_array(tmp, n, count, width, out);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (leaf.physical == INT32) {
      if (leaf.unsigned_int) enc::decode_plain_fixed<uint32_t>(tmp, n, count, out);
      else enc::decode_plain_fixed<int32_t>(tmp, n, count, out);
    } else {
      enc::decode_plain_fixed<int64_t>(tmp, n, count, out);
    }
  } else {
    enc::decode_plain_fixed<T>(tmp, n, count, out);
  }
}

// Dictionary indices of a page, each checked against the dictionary, into s.idx[0..count).
void decode_dict_indices(const uint8_t* data, size_t size, size_t count, size_t dict_size, Scratch& s) {
  if (size < 1) throw enc::EncodingError("dictionary indices truncated");
  int w = data[0];
  if (w > 32) throw enc::EncodingError("dictionary index bit width > 32");
  grow(s.idx, count, s.budget);
  s.idx.resize(count);
  enc::decode_rle_hybrid(data + 1, size - 1, w, count, s.idx.data());
  uint32_t worst = 0;
  for (size_t i = 0; i < count; ++i) worst = std::max(worst, s.idx[i]);
  if (count > 0 && worst >= dict_size) throw enc::EncodingError("dictionary index out of range");
}

// Decodes `count` non-null values of one page (or a dictionary page) into out[0..count).
// Whatever the values allocate beyond out[] itself (string bytes) is charged first.
template <class T>
void decode_values(const Leaf& leaf, int32_t encoding, const uint8_t* data, size_t size, size_t count, T* out,
                   const std::vector<T>* dict, Scratch& s) {
  if (encoding == RLE_DICTIONARY || encoding == PLAIN_DICTIONARY) {
    if (!dict) throw enc::EncodingError("dictionary-encoded page without a dictionary page");
    if (count == 0) return;
    decode_dict_indices(data, size, count, dict->size(), s);
    const T* d = dict->data();
    if constexpr (std::is_same_v<T, std::string>) {
      // One long dictionary string repeated by an RLE run is a bomb of its own.
      size_t total = 0;
      for (size_t i = 0; i < count; ++i) total += d[s.idx[i]].size();  // each <= the page, no overflow
      s.budget.charge(total);
    }
    for (size_t i = 0; i < count; ++i) out[i] = d[s.idx[i]];
    return;
  }
  if constexpr (std::is_same_v<T, std::string>) {
    // Every other string encoding copies its bytes from the page: at most `size` of them.
    if (encoding != DELTA_BYTE_ARRAY && encoding != BYTE_STREAM_SPLIT) s.budget.charge(size);
  }
  switch (encoding) {
    case PLAIN:
      if constexpr (std::is_same_v<T, std::string>) {
        if (leaf.physical == BYTE_ARRAY) enc::decode_plain_byte_array(data, size, count, out);
        else enc::decode_plain_fixed_byte_array(data, size, count, leaf.type_length, out);
      } else if constexpr (std::is_same_v<T, int64_t>) {
        if (leaf.physical == BOOLEAN) enc::decode_plain_bool(data, size, count, out);
        else if (leaf.physical == INT32 && leaf.unsigned_int) enc::decode_plain_fixed<uint32_t>(data, size, count, out);
        else if (leaf.physical == INT32) enc::decode_plain_fixed<int32_t>(data, size, count, out);
        else enc::decode_plain_fixed<int64_t>(data, size, count, out);
      } else {
        enc::decode_plain_fixed<T>(data, size, count, out);
      }
      return;
    case RLE:
      if constexpr (std::is_same_v<T, int64_t>) {
        if (leaf.physical == BOOLEAN) {
          if (size < 4) throw enc::EncodingError("RLE booleans truncated");
          uint32_t len;
          std::memcpy(&len, data, 4);
          if (len > size - 4) throw enc::EncodingError("RLE booleans truncated");
          grow(s.bits, count, s.budget);
          s.bits.resize(count);
          enc::decode_rle_hybrid(data + 4, len, 1, count, s.bits.data());
          for (size_t i = 0; i < count; ++i) out[i] = s.bits[i];
          return;
        }
      }
      break;
    case DELTA_BINARY_PACKED:
      if constexpr (std::is_same_v<T, int64_t>) {
        if (leaf.physical == INT32 || leaf.physical == INT64) {
          grow(s.ints, count, s.budget);
          enc::decode_delta_binary_packed(data, size, count, s.ints);
          if (s.ints.size() < count) throw enc::EncodingError("DELTA_BINARY_PACKED has fewer values than the page");
          for (size_t i = 0; i < count; ++i) {
            if (leaf.physical == INT64) out[i] = s.ints[i];
            else if (leaf.unsigned_int) out[i] = static_cast<uint32_t>(s.ints[i]);
            else out[i] = static_cast<int32_t>(static_cast<uint32_t>(s.ints[i]));
          }
          return;
        }
      }
      break;
    case DELTA_LENGTH_BYTE_ARRAY:
      if constexpr (std::is_same_v<T, std::string>) {
        enc::decode_delta_length_byte_array(data, size, count, out);
        return;
      }
      break;
    case DELTA_BYTE_ARRAY:
      if constexpr (std::is_same_v<T, std::string>) {
        // Prefixes repeat earlier bytes, so the output is bounded by the budget, not the page.
        s.budget.charge(enc::decode_delta_byte_array(data, size, count, out, s.budget.left()));
        return;
      }
      break;
    case BYTE_STREAM_SPLIT: decode_bss(leaf, data, size, count, out, s); return;
    default: break;
  }
  throw enc::EncodingError(cat("unsupported encoding ", encoding_name(encoding), " for this column type"));
}

// Accumulates one exposed column across pages and row groups.
template <class T>
struct ColumnAssembler {
  const Leaf& leaf;
  Column& col;
  std::vector<T>& vals;
  Scratch s;
  int64_t pending_rows = 0;  // rows started in the current chunk
  std::vector<T> dense;      // non-null values of a page that has nulls
  std::vector<uint8_t> defs, reps;
  std::vector<T> dict;
  bool has_dict = false;

  ColumnAssembler(const Leaf& l, Column& c, DecodeBudget& budget)
      : leaf(l), col(c), vals(values_of<T>(c)), s{budget, {}, {}, {}, {}} {}

  DecodeBudget& budget() { return s.budget; }

  // Level arrays of n entries (decoded by the caller into defs/reps).
  uint8_t* levels(std::vector<uint8_t>& v, size_t n) {
    grow(v, n, s.budget);
    v.resize(n);
    return v.data();
  }

  void mark_valid(size_t old_slots, const uint8_t* def, size_t n, size_t slots, bool any_null) {
    if (!any_null && col.valid.empty()) return;
    grow(col.valid, old_slots + slots, s.budget);
    if (col.valid.empty()) col.valid.assign(old_slots, 1);
    if (!any_null) {
      col.valid.resize(col.valid.size() + slots, 1);
      return;
    }
    const uint8_t md = static_cast<uint8_t>(leaf.max_def);
    const uint8_t ld = static_cast<uint8_t>(leaf.list_def);
    for (size_t i = 0; i < n; ++i) {
      if (leaf.is_list && def[i] < ld) continue;  // no value slot
      col.valid.push_back(def[i] == md);
    }
  }

  static bool all_equal(const uint8_t* v, size_t n, uint8_t x) {
    uint8_t diff = 0;
    for (size_t i = 0; i < n; ++i) diff |= static_cast<uint8_t>(v[i] ^ x);
    return diff == 0;
  }

  // Room for the row starts of a list page (rows begin where the repetition level is 0).
  size_t reserve_rows(const uint8_t* rep, size_t n) {
    size_t rows = 0;
    for (size_t i = 0; i < n; ++i) rows += rep[i] == 0;
    grow(col.offsets, col.offsets.size() + rows + 1, s.budget);  // +1: the final offset
    if (!col.row_valid.empty()) grow(col.row_valid, col.offsets.size() + rows, s.budget);
    return rows;
  }

  // What a page's levels describe: value slots (nulls included) and the non-null values among them.
  struct PageSlots {
    size_t non_null, slots;
  };

  // Appends one data page: n level entries, their levels, and the encoded values.
  void add_page(size_t n, const uint8_t* def, const uint8_t* rep, int32_t encoding, const uint8_t* data,
                size_t size) {
    const size_t old = vals.size();
    const int64_t rows_before = static_cast<int64_t>(col.offsets.size());
    const size_t page_rows = leaf.is_list ? reserve_rows(rep, n) : 0;
    PageSlots p{n, n};
    if (leaf.is_list && all_equal(def, n, static_cast<uint8_t>(leaf.max_def))) add_dense_list_rows(n, rep, old, rows_before);
    else if (leaf.is_list) p = add_list_rows(n, def, rep, old, rows_before, page_rows);
    else p.non_null = add_flat_rows(n, def);
    add_values(n, def, encoding, data, size, old, p);
  }

  // Common case (dense lists of non-null values): only row starts matter.
  void add_dense_list_rows(size_t n, const uint8_t* rep, size_t old, int64_t rows_before) {
    uint8_t bad = 0;
    const uint8_t mr = static_cast<uint8_t>(leaf.max_rep);
    for (size_t i = 0; i < n; ++i) bad |= static_cast<uint8_t>(rep[i] > mr);
    if (bad) throw enc::EncodingError("repetition level exceeds the schema maximum");
    if (n > 0 && rep[0] != 0 && pending_rows == 0) throw enc::EncodingError("column chunk starts in the middle of a list");
    const int64_t base = static_cast<int64_t>(old);
    for (size_t i = 0; i < n; ++i)
      if (rep[i] == 0) col.offsets.push_back(base + static_cast<int64_t>(i));
    const int64_t new_rows = static_cast<int64_t>(col.offsets.size()) - rows_before;
    if (!col.row_valid.empty()) col.row_valid.resize(col.offsets.size(), 1);
    pending_rows += new_rows;
  }

  // One pass builds the row structure and counts slots and non-null values.
  PageSlots add_list_rows(size_t n, const uint8_t* def, const uint8_t* rep, size_t old, int64_t rows_before,
                          size_t page_rows) {
    PageSlots p{0, 0};
    uint8_t bad = 0;
    const uint8_t md = static_cast<uint8_t>(leaf.max_def);
    const uint8_t ld = static_cast<uint8_t>(leaf.list_def);
    const uint8_t mr = static_cast<uint8_t>(leaf.max_rep);
    const uint8_t rd = static_cast<uint8_t>(leaf.row_def);
    int64_t value_count = static_cast<int64_t>(old);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t d = def[i];
      bad |= static_cast<uint8_t>((d > md) | (rep[i] > mr));
      if (rep[i] == 0) {
        col.offsets.push_back(value_count + static_cast<int64_t>(p.slots));
        const bool present = d >= rd;
        if (!present || !col.row_valid.empty()) {  // validity materialized at the first null list
          if (col.row_valid.empty()) {
            grow(col.row_valid, static_cast<size_t>(rows_before) + page_rows, s.budget);
            col.row_valid.assign(col.offsets.size() - 1, 1);
          }
          col.row_valid.push_back(present);
        }
        ++pending_rows;
      } else if (pending_rows == 0) {
        throw enc::EncodingError("column chunk starts in the middle of a list");
      }
      p.slots += d >= ld;
      p.non_null += d == md;
    }
    if (bad) throw enc::EncodingError("level exceeds the schema maximum");
    return p;
  }

  // A flat column: one row per level entry. Returns the non-null values.
  size_t add_flat_rows(size_t n, const uint8_t* def) {
    size_t non_null = n;
    if (def) {
      non_null = 0;
      uint8_t bad = 0;
      const uint8_t md = static_cast<uint8_t>(leaf.max_def);
      for (size_t i = 0; i < n; ++i) {
        non_null += def[i] == md;
        bad |= static_cast<uint8_t>(def[i] > md);
      }
      if (bad) throw enc::EncodingError("definition level exceeds the schema maximum");
    }
    pending_rows += static_cast<int64_t>(n);
    return non_null;
  }

  // Decodes the page's values into slots old.. (straight into vals when the page has no nulls).
  void add_values(size_t n, const uint8_t* def, int32_t encoding, const uint8_t* data, size_t size, size_t old,
                  PageSlots p) {
    grow(vals, old + p.slots, s.budget);
    const std::vector<T>* d = has_dict ? &dict : nullptr;
    if (p.non_null == p.slots) {
      vals.resize(old + p.slots);
      decode_values<T>(leaf, encoding, data, size, p.non_null, vals.data() + old, d, s);
      mark_valid(old, def, n, p.slots, false);
      return;
    }
    grow(dense, p.non_null, s.budget);
    dense.resize(p.non_null);
    decode_values<T>(leaf, encoding, data, size, p.non_null, dense.data(), d, s);
    vals.resize(old + p.slots);
    scatter_dense(n, def, old);
    mark_valid(old, def, n, p.slots, true);
  }

  // Moves the decoded non-null values into their slots (null slots keep a default value).
  void scatter_dense(size_t n, const uint8_t* def, size_t old) {
    const uint8_t md = static_cast<uint8_t>(leaf.max_def);
    const uint8_t ld = static_cast<uint8_t>(leaf.list_def);
    size_t k = 0, slot = old;
    for (size_t i = 0; i < n; ++i) {
      if (leaf.is_list && def[i] < ld) continue;
      if (def[i] == md) {
        if constexpr (std::is_same_v<T, std::string>) vals[slot] = std::move(dense[k]);
        else vals[slot] = dense[k];
        ++k;
      }
      ++slot;
    }
  }
};

}  // namespace

struct Reader::Impl {
  std::filesystem::path path;
  int fd = -1;
  int64_t file_size = 0;
  int64_t footer_start = 0;
  FileMetaData meta;
  std::vector<Leaf> leaves;
  std::map<std::string, size_t> by_name;  // supported and unsupported leaves
  FileInfo info;

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  [[noreturn]] void fail(const std::string& what) const { throw util::RuntimeError(cat(path.string(), ": ", what)); }

  void pread_exact(uint8_t* dst, size_t n, int64_t offset) const {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd, dst + done, n - done, offset + static_cast<int64_t>(done));
      if (r < 0) {
        if (errno == EINTR) continue;
        fail(cat("read failed at offset ", offset + static_cast<int64_t>(done), " (", std::strerror(errno), ")"));
      }
      if (r == 0) fail(cat("file truncated while reading at offset ", offset + static_cast<int64_t>(done)));
      done += static_cast<size_t>(r);
    }
  }

  void open() {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) fail(cat("cannot open (", std::strerror(errno), ")"));
    struct stat st;
    if (::fstat(fd, &st) != 0) fail(cat("cannot stat (", std::strerror(errno), ")"));
    if (!S_ISREG(st.st_mode)) fail("not a regular file (a FIFO, device or directory cannot be a Parquet file)");
    file_size = st.st_size;
    if (file_size < 12) fail("not a Parquet file (too small; expected 'PAR1' at both ends)");
    uint8_t head[4], tail[8];
    pread_exact(head, 4, 0);
    pread_exact(tail, 8, file_size - 8);
    if (std::memcmp(tail + 4, "PARE", 4) == 0) fail("encrypted Parquet files are not supported");
    if (std::memcmp(head, "PAR1", 4) != 0 || std::memcmp(tail + 4, "PAR1", 4) != 0)
      fail("not a Parquet file (missing 'PAR1' magic; truncated or another format)");
    uint32_t footer_len;
    std::memcpy(&footer_len, tail, 4);
    if (footer_len == 0 || static_cast<int64_t>(footer_len) > file_size - 12)
      fail(cat("corrupt footer length ", footer_len, " for a file of ", file_size, " bytes (truncated?)"));
    footer_start = file_size - 8 - footer_len;
    std::vector<uint8_t> footer(footer_len);
    pread_exact(footer.data(), footer_len, footer_start);
    try {
      meta = decode_file_metadata(footer.data(), footer.size());
      leaves = build_leaves(meta.schema);
    } catch (const std::exception& e) {
      fail(cat("corrupt footer (", e.what(), ")"));
    }
    validate();
    build_info();
  }

  // Every count in the footer is checked against the file here, before anything is sized by it.
  void validate() {
    const size_t limit = decode_limit(file_size);
    uint64_t rows = 0;
    for (size_t g = 0; g < meta.row_groups.size(); ++g) {
      const RowGroup& rg = meta.row_groups[g];
      if (rg.columns.size() != leaves.size())
        fail(cat("row group ", g, " has ", rg.columns.size(), " column chunks, schema has ", leaves.size(), " leaves"));
      if (rg.num_rows < 0) fail(cat("row group ", g, " has a negative row count"));
      if (__builtin_add_overflow(rows, static_cast<uint64_t>(rg.num_rows), &rows)) fail("row count overflows");
      for (size_t i = 0; i < leaves.size(); ++i) validate_chunk(g, rg, leaves[i]);
    }
    if (meta.num_rows < 0 || static_cast<uint64_t>(meta.num_rows) != rows)
      fail(cat("footer says ", meta.num_rows, " rows but its row groups hold ", rows, " (corrupt footer)"));
    // Each row of a column decodes to at least one byte.
    if (rows > limit)
      fail(cat("footer claims ", rows, " rows, more than a file of ", file_size, " bytes can hold (corrupt footer)"));
  }

  void validate_chunk(size_t g, const RowGroup& rg, const Leaf& leaf) const {
    const ColumnChunk& cc = rg.columns[leaf.chunk_index];
    if (!cc.has_meta) return;  // an error when read
    const ColumnMetaData& cm = cc.meta;
    auto bad = [&](const std::string& what) { fail(cat("column '", leaf.name, "' row group ", g, ": ", what)); };
    if (cm.num_values < 0) bad("negative value count");
    if (cm.total_compressed_size < 0 || cm.total_uncompressed_size < 0) bad("negative column chunk size");
    if (cc.file_path.empty() && !chunk_in_file(cm))
      bad(cat("column chunk byte range [", chunk_start(cm), ", +", cm.total_compressed_size,
              ") lies outside the file's data (", footer_start, " bytes); the file is truncated or corrupt"));
    if (!leaf.unsupported.empty()) return;
    // One level per value slot, and every row has at least one: a flat column has exactly as
    // many values as rows, a list column at least as many.
    if (leaf.max_rep == 0 ? cm.num_values != rg.num_rows : cm.num_values < rg.num_rows)
      bad(cat("metadata says ", cm.num_values, " values for ", rg.num_rows, " rows (corrupt footer)"));
    // Each value has a level (a byte decoded) at least.
    if (static_cast<uint64_t>(cm.num_values) > decode_limit(file_size))
      bad(cat("metadata claims ", cm.num_values, " values, more than a file of ", file_size, " bytes can hold"));
  }

  static int64_t chunk_start(const ColumnMetaData& cm) {
    int64_t start = cm.data_page_offset;
    if (cm.dictionary_page_offset && *cm.dictionary_page_offset >= 4 && *cm.dictionary_page_offset < start)
      start = *cm.dictionary_page_offset;
    return start;
  }

  bool chunk_in_file(const ColumnMetaData& cm) const {
    const int64_t start = chunk_start(cm), len = cm.total_compressed_size;
    return start >= 4 && len >= 0 && start <= footer_start && len <= footer_start - start;
  }

  void build_info() {
    info.num_rows = meta.num_rows;
    info.num_row_groups = static_cast<int>(meta.row_groups.size());
    for (size_t i = 0; i < leaves.size(); ++i) {
      by_name.emplace(leaves[i].name, i);
      if (leaves[i].unsupported.empty()) info.columns.push_back({leaves[i].name, leaves[i].type, leaves[i].is_list});
      else info.unsupported_columns.emplace(leaves[i].name, leaves[i].unsupported);
    }
    for (const auto& [k, v] : meta.key_value_metadata) info.key_value_metadata[k] = v;
  }

  std::vector<const Leaf*> select(const std::vector<std::string>& names) const {
    std::vector<const Leaf*> out;
    if (names.empty()) {
      for (const auto& l : leaves)
        if (l.unsupported.empty()) out.push_back(&l);
      return out;
    }
    for (const auto& n : names) {
      auto it = by_name.find(n);
      if (it == by_name.end()) {
        std::vector<std::string> have;
        for (const auto& c : info.columns) have.push_back(c.name);
        fail(cat("no column '", n, "' (columns: ", util::join(have, ", "), ")"));
      }
      const Leaf& l = leaves[it->second];
      if (!l.unsupported.empty()) fail(cat("column '", n, "' cannot be read: ", l.unsupported));
      out.push_back(&l);
    }
    return out;
  }

  Table read(const std::vector<std::string>& names, int only_group) const {
    Table t;
    DecodeBudget budget(decode_limit(file_size));
    Buffer chunk, page;  // reused across columns: fewer fresh pages to fault in
    for (const Leaf* l : select(names)) {
      Column c;
      c.name = l->name;
      c.type = l->type;
      c.is_list = l->is_list;
      switch (l->physical) {
        case FLOAT: read_column<float>(*l, c, only_group, chunk, page, budget); break;
        case DOUBLE: read_column<double>(*l, c, only_group, chunk, page, budget); break;
        case BYTE_ARRAY:
        case FIXED_LEN_BYTE_ARRAY: read_column<std::string>(*l, c, only_group, chunk, page, budget); break;
        default: read_column<int64_t>(*l, c, only_group, chunk, page, budget); break;
      }
      t.columns.push_back(std::move(c));
    }
    if (only_group >= 0) t.num_rows = meta.row_groups[only_group].num_rows;
    else t.num_rows = meta.num_rows;
    return t;
  }

  template <class T>
  void read_column(const Leaf& leaf, Column& col, int only_group, Buffer& chunk, Buffer& page,
                   DecodeBudget& budget) const {
    ColumnAssembler<T> a(leaf, col, budget);
    // Reserve from metadata (validated at open) when the whole claim fits the budget.
    uint64_t claimed = 0, rows = 0;
    for (size_t g = 0; g < meta.row_groups.size(); ++g) {
      if (only_group >= 0 && static_cast<int>(g) != only_group) continue;
      claimed += static_cast<uint64_t>(meta.row_groups[g].columns[leaf.chunk_index].meta.num_values);
      rows += static_cast<uint64_t>(meta.row_groups[g].num_rows);
    }
    if (claimed > 0 && claimed <= budget.left() / 4 / sizeof(T)) {
      grow(a.vals, static_cast<size_t>(claimed), budget);
      if (leaf.is_list) grow(col.offsets, static_cast<size_t>(std::min(claimed, rows)) + 1, budget);
    }
    for (size_t g = 0; g < meta.row_groups.size(); ++g) {
      if (only_group >= 0 && static_cast<int>(g) != only_group) continue;
      ChunkError ctx{cat(path.string(), ": column '", leaf.name, "' row group ", g)};
      try {
        read_chunk(leaf, meta.row_groups[g], a, chunk, page, ctx);
      } catch (const util::Error&) {
        throw;
      } catch (const std::bad_alloc&) {
        ctx.fail("out of memory while decoding");
      } catch (const std::exception& e) {
        ctx.fail(e.what());
      }
    }
    if (leaf.is_list) {
      grow(col.offsets, col.offsets.size() + 1, budget);
      col.offsets.push_back(static_cast<int64_t>(a.vals.size()));
    }
  }

  template <class T>
  void read_chunk(const Leaf& leaf, const RowGroup& rg, ColumnAssembler<T>& a, Buffer& chunk_buf, Buffer& page_buf,
                  const ChunkError& ctx) const {
    const ColumnChunk& cc = rg.columns[leaf.chunk_index];
    if (!cc.file_path.empty()) ctx.fail("column chunks in external files are not supported");
    if (!cc.has_meta) ctx.fail("column chunk has no metadata");
    const ColumnMetaData& cm = cc.meta;
    if (cm.type != leaf.physical) ctx.fail("column chunk type differs from the schema");
    if (!codec_supported(cm.codec))
      ctx.fail(cat("compression ", codec_name(cm.codec), " is not supported (supported: UNCOMPRESSED, SNAPPY, ZSTD, ",
                   "GZIP, LZ4, LZ4_RAW, BROTLI)"));
    const int64_t start = chunk_start(cm);
    const int64_t len = cm.total_compressed_size;
    if (!chunk_in_file(cm))
      ctx.fail(cat("column chunk byte range [", start, ", +", len, ") lies outside the file's data (", footer_start,
                   " bytes); the file is truncated or corrupt"));
    uint8_t* buf = chunk_buf.get(static_cast<size_t>(len), a.budget());
    pread_exact(buf, static_cast<size_t>(len), start);

    a.pending_rows = 0;
    a.has_dict = false;
    a.dict.clear();
    size_t pos = 0;
    int64_t seen = 0;
    uint64_t page_bytes = 0;  // uncompressed bytes the pages declare so far
    const size_t total = static_cast<size_t>(len);
    while (seen < cm.num_values) {
      if (pos >= total) ctx.fail(cat("column chunk ends after ", seen, " of ", cm.num_values, " values (truncated)"));
      size_t hdr_len = 0;
      PageHeader h;
      try {
        h = decode_page_header(buf + pos, total - pos, hdr_len);
      } catch (const thrift::ThriftError& e) {
        ctx.fail(cat("corrupt page header at offset ", start + static_cast<int64_t>(pos), " (", e.what(), ")"));
      }
      pos += hdr_len;
      if (h.compressed_page_size < 0 || static_cast<size_t>(h.compressed_page_size) > total - pos)
        ctx.fail(cat("page at offset ", start + static_cast<int64_t>(pos), " extends past its column chunk"));
      if (h.uncompressed_page_size < 0 || static_cast<size_t>(h.uncompressed_page_size) > kMaxPageBytes)
        ctx.fail("page declares an implausible uncompressed size");
      // (The metadata's total counts the page headers too; some writers forget them.)
      page_bytes += static_cast<uint64_t>(h.uncompressed_page_size);
      if (page_bytes > static_cast<uint64_t>(cm.total_uncompressed_size))
        ctx.fail(cat("pages declare more than the column chunk's ", cm.total_uncompressed_size,
                     " uncompressed bytes (corrupt page header)"));
      const uint8_t* body = buf + pos;
      const size_t csize = static_cast<size_t>(h.compressed_page_size);
      pos += csize;
      if (h.type == DICTIONARY_PAGE) {
        if (!h.dictionary) ctx.fail("dictionary page without its header");
        if (a.has_dict) ctx.fail("second dictionary page in a column chunk");
        const size_t usize = static_cast<size_t>(h.uncompressed_page_size);
        if (h.dictionary->num_values < 0) ctx.fail("negative dictionary size");
        const size_t n = static_cast<size_t>(h.dictionary->num_values);
        if (n > max_plain_values(leaf, usize)) ctx.fail("dictionary page holds more values than its bytes can encode");
        if (h.dictionary->encoding != PLAIN && h.dictionary->encoding != PLAIN_DICTIONARY)
          ctx.fail(cat("dictionary page encoding ", encoding_name(h.dictionary->encoding), " is not supported"));
        const uint8_t* data = decompress_page(cm.codec, body, csize, usize, page_buf, a.budget());
        grow(a.dict, n, a.budget());
        a.dict.resize(n);
        decode_values<T>(leaf, PLAIN, data, usize, n, a.dict.data(), nullptr, a.s);
        a.has_dict = true;
      } else if (h.type == DATA_PAGE || h.type == DATA_PAGE_V2) {
        if (h.type == DATA_PAGE ? !h.data : !h.data_v2) ctx.fail("data page without its header");
        // Checked before the page is decoded: the chunk's count was checked against its rows.
        const int32_t n = h.type == DATA_PAGE ? h.data->num_values : h.data_v2->num_values;
        if (n > cm.num_values - seen) ctx.fail("pages hold more values than the column chunk metadata says");
        seen += h.type == DATA_PAGE ? data_page_v1(leaf, cm, h, body, csize, a, page_buf, ctx)
                                    : data_page_v2(leaf, cm, h, body, csize, a, page_buf, ctx);
      }  // index pages and unknown page types are skipped
    }
    if (a.pending_rows != rg.num_rows)
      ctx.fail(cat("column chunk holds ", a.pending_rows, " rows, row group says ", rg.num_rows));
  }

  // The page's bytes, decompressed into b unless stored plainly. The codec's own bound on its
  // ratio is checked, and the budget charged, before the buffer is allocated.
  static const uint8_t* decompress_page(int32_t codec, const uint8_t* src, size_t csize, size_t usize, Buffer& b,
                                        DecodeBudget& budget) {
    if (codec == UNCOMPRESSED || (usize == 0 && csize == 0)) {  // (an empty v2 values section)
      if (usize != csize) throw enc::EncodingError("uncompressed page size mismatch");
      return src;
    }
    if (usize > max_decompressed_size(codec, csize))
      throw enc::EncodingError(cat(codec_name(codec), " page claims ", usize, " bytes from ", csize,
                                   ", more than the codec can produce (corrupt page header)"));
    uint8_t* dst = b.get(usize + 1, budget);
    decompress(codec, src, csize, dst, usize);
    return dst;
  }

  // Upper bound of PLAIN values in `bytes` (checked before allocating for them).
  static size_t max_plain_values(const Leaf& leaf, size_t bytes) {
    switch (leaf.physical) {
      case BOOLEAN: return bytes * 8;
      case INT32:
      case FLOAT:
      case BYTE_ARRAY: return bytes / 4;
      case FIXED_LEN_BYTE_ARRAY: return leaf.type_length > 0 ? bytes / static_cast<size_t>(leaf.type_length) : bytes;
      default: return bytes / 8;
    }
  }

  // A page's level count, bounded by its uncompressed size: bit-packed levels take a bit each;
  // RLE runs (all-null pages) take a few bytes per run, hence the slack.
  static size_t level_count(int32_t n, size_t page_bytes, const ChunkError& ctx) {
    if (n < 0) ctx.fail("negative page value count");
    if (static_cast<size_t>(n) > page_bytes * 8 + kLevelSlack) ctx.fail("page value count implausible for its size");
    return static_cast<size_t>(n);
  }

  // v1: levels (4-byte length + RLE hybrid) and values all inside the compressed body.
  template <class T>
  int64_t data_page_v1(const Leaf& leaf, const ColumnMetaData& cm, const PageHeader& h, const uint8_t* body,
                       size_t csize, ColumnAssembler<T>& a, Buffer& page_buf, const ChunkError& ctx) const {
    const auto& dh = *h.data;
    const size_t usize = static_cast<size_t>(h.uncompressed_page_size);
    const size_t n = level_count(dh.num_values, usize, ctx);
    const uint8_t* data = decompress_page(cm.codec, body, csize, usize, page_buf, a.budget());
    const uint8_t* p = data;
    size_t left = usize;
    auto levels = [&](int max, int32_t encoding, std::vector<uint8_t>& out, const char* what) {
      if (encoding != RLE) throw enc::EncodingError(cat(what, " level encoding ", encoding_name(encoding), " is not supported"));
      if (left < 4) throw enc::EncodingError(cat(what, " levels truncated"));
      uint32_t len;
      std::memcpy(&len, p, 4);
      if (len > left - 4) throw enc::EncodingError(cat(what, " levels truncated"));
      enc::decode_rle_hybrid(p + 4, len, enc::bit_width(max), n, a.levels(out, n));
      p += 4 + len;
      left -= 4 + len;
    };
    if (leaf.max_rep > 0) levels(leaf.max_rep, dh.repetition_level_encoding, a.reps, "repetition");
    if (leaf.max_def > 0) levels(leaf.max_def, dh.definition_level_encoding, a.defs, "definition");
    a.add_page(n, leaf.max_def > 0 ? a.defs.data() : nullptr, leaf.max_rep > 0 ? a.reps.data() : nullptr,
               dh.encoding, p, left);
    return static_cast<int64_t>(n);
  }

  // v2: levels uncompressed ahead of the (optionally compressed) values.
  template <class T>
  int64_t data_page_v2(const Leaf& leaf, const ColumnMetaData& cm, const PageHeader& h, const uint8_t* body,
                       size_t csize, ColumnAssembler<T>& a, Buffer& page_buf, const ChunkError& ctx) const {
    const auto& dh = *h.data_v2;
    const size_t usize = static_cast<size_t>(h.uncompressed_page_size);
    const bool compressed = dh.is_compressed && cm.codec != UNCOMPRESSED;
    if (!compressed && usize != csize)
      ctx.fail(cat("data page v2 stores ", csize, " bytes but declares ", usize, " uncompressed (corrupt page header)"));
    const size_t n = level_count(dh.num_values, usize, ctx);
    if (dh.repetition_levels_byte_length < 0 || dh.definition_levels_byte_length < 0)
      ctx.fail("negative level lengths in data page v2");
    const size_t rl = static_cast<size_t>(dh.repetition_levels_byte_length);
    const size_t dl = static_cast<size_t>(dh.definition_levels_byte_length);
    if (rl + dl > csize || rl + dl > usize) ctx.fail("data page v2 level lengths exceed the page");
    if (leaf.max_rep > 0) enc::decode_rle_hybrid(body, rl, enc::bit_width(leaf.max_rep), n, a.levels(a.reps, n));
    if (leaf.max_def > 0) enc::decode_rle_hybrid(body + rl, dl, enc::bit_width(leaf.max_def), n, a.levels(a.defs, n));
    const uint8_t* vals = body + rl + dl;
    size_t vsize = csize - rl - dl;
    if (compressed) {
      const size_t vusize = usize - rl - dl;
      vals = decompress_page(cm.codec, vals, vsize, vusize, page_buf, a.budget());
      vsize = vusize;
    }
    a.add_page(n, leaf.max_def > 0 ? a.defs.data() : nullptr, leaf.max_rep > 0 ? a.reps.data() : nullptr,
               dh.encoding, vals, vsize);
    return static_cast<int64_t>(n);
  }
};

Reader::Reader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->open();
}
Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

const FileInfo& Reader::info() const { return impl_->info; }

Table Reader::read(const std::vector<std::string>& columns) const { return impl_->read(columns, -1); }

Table Reader::read_row_group(int row_group, const std::vector<std::string>& columns) const {
  if (row_group < 0 || row_group >= impl_->info.num_row_groups)
    impl_->fail(cat("row group ", row_group, " does not exist (the file has ", impl_->info.num_row_groups, ")"));
  return impl_->read(columns, row_group);
}

Table read_table(const std::filesystem::path& path, const std::vector<std::string>& columns) {
  return Reader(path).read(columns);
}

}  // namespace robotrain::dataset::parquet
