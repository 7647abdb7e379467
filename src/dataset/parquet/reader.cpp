// Parquet reader: footer once at open, then column chunks on demand with one pread each.
// Every size taken from the file is checked against the file (or the page) before it is used.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
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

// A growable scratch buffer that is not zero-filled (decompression overwrites it).
struct Buffer {
  std::unique_ptr<uint8_t[]> data;
  size_t capacity = 0;
  uint8_t* get(size_t n) {
    if (n > capacity) {
      data.reset(new uint8_t[n]);
      capacity = n;
    }
    return data.get();
  }
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
void decode_bss(const Leaf& leaf, const uint8_t* data, size_t size, size_t count, T* out) {
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
  std::vector<uint8_t> tmp(count * width);
  enc::decode_byte_stream_split(data, size, count, width, tmp.data());
  if constexpr (std::is_same_v<T, std::string>) {
    enc::decode_plain_fixed_byte_array(tmp.data(), tmp.size(), count, width, out);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (leaf.physical == INT32) {
      if (leaf.unsigned_int) enc::decode_plain_fixed<uint32_t>(tmp.data(), tmp.size(), count, out);
      else enc::decode_plain_fixed<int32_t>(tmp.data(), tmp.size(), count, out);
    } else {
      enc::decode_plain_fixed<int64_t>(tmp.data(), tmp.size(), count, out);
    }
  } else {
    enc::decode_plain_fixed<T>(tmp.data(), tmp.size(), count, out);
  }
}

// Decodes `count` non-null values of one page (or a dictionary page) into out[0..count).
template <class T>
void decode_values(const Leaf& leaf, int32_t encoding, const uint8_t* data, size_t size, size_t count, T* out,
                   const std::vector<T>* dict, std::vector<uint32_t>& idx_scratch) {
  if (encoding == RLE_DICTIONARY || encoding == PLAIN_DICTIONARY) {
    if (!dict) throw enc::EncodingError("dictionary-encoded page without a dictionary page");
    if (count == 0) return;
    if (size < 1) throw enc::EncodingError("dictionary indices truncated");
    int w = data[0];
    if (w > 32) throw enc::EncodingError("dictionary index bit width > 32");
    idx_scratch.resize(count);
    enc::decode_rle_hybrid(data + 1, size - 1, w, count, idx_scratch.data());
    const size_t n = dict->size();
    const T* d = dict->data();
    for (size_t i = 0; i < count; ++i) {
      uint32_t k = idx_scratch[i];
      if (k >= n) throw enc::EncodingError("dictionary index out of range");
      out[i] = d[k];
    }
    return;
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
          std::vector<uint8_t> bits(count);
          enc::decode_rle_hybrid(data + 4, len, 1, count, bits.data());
          for (size_t i = 0; i < count; ++i) out[i] = bits[i];
          return;
        }
      }
      break;
    case DELTA_BINARY_PACKED:
      if constexpr (std::is_same_v<T, int64_t>) {
        if (leaf.physical == INT32 || leaf.physical == INT64) {
          std::vector<int64_t> v;
          enc::decode_delta_binary_packed(data, size, count, v);
          if (v.size() < count) throw enc::EncodingError("DELTA_BINARY_PACKED has fewer values than the page");
          for (size_t i = 0; i < count; ++i) {
            if (leaf.physical == INT64) out[i] = v[i];
            else if (leaf.unsigned_int) out[i] = static_cast<uint32_t>(v[i]);
            else out[i] = static_cast<int32_t>(static_cast<uint32_t>(v[i]));
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
        enc::decode_delta_byte_array(data, size, count, out);
        return;
      }
      break;
    case BYTE_STREAM_SPLIT: decode_bss(leaf, data, size, count, out); return;
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
  int64_t pending_rows = 0;  // rows started in the current chunk
  std::vector<T> dense;      // non-null values of a page that has nulls
  std::vector<uint8_t> defs, reps;
  std::vector<uint32_t> idx;
  std::vector<T> dict;
  bool has_dict = false;

  ColumnAssembler(const Leaf& l, Column& c) : leaf(l), col(c), vals(values_of<T>(c)) {}

  void mark_valid(size_t old_slots, const uint8_t* def, size_t n, size_t slots, bool any_null) {
    if (!any_null && col.valid.empty()) return;
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
  int64_t offsets_at_page_start = 0;
  int64_t rows_before_page() const { return offsets_at_page_start; }

  // Appends one data page: n level entries, their levels, and the encoded values.
  void add_page(size_t n, const uint8_t* def, const uint8_t* rep, int32_t encoding, const uint8_t* data,
                size_t size) {
    const uint8_t md = static_cast<uint8_t>(leaf.max_def);
    const uint8_t ld = static_cast<uint8_t>(leaf.list_def);
    const size_t old = vals.size();
    size_t non_null = n, slots = n;
    offsets_at_page_start = static_cast<int64_t>(col.offsets.size());
    if (leaf.is_list && all_equal(def, n, md)) {
      // Common case (dense lists of non-null values): only row starts matter.
      uint8_t bad = 0;
      const uint8_t mr = static_cast<uint8_t>(leaf.max_rep);
      for (size_t i = 0; i < n; ++i) bad |= static_cast<uint8_t>(rep[i] > mr);
      if (bad) throw enc::EncodingError("repetition level exceeds the schema maximum");
      if (n > 0 && rep[0] != 0 && pending_rows == 0) throw enc::EncodingError("column chunk starts in the middle of a list");
      const int64_t base = static_cast<int64_t>(old);
      for (size_t i = 0; i < n; ++i)
        if (rep[i] == 0) col.offsets.push_back(base + static_cast<int64_t>(i));
      const int64_t new_rows = static_cast<int64_t>(col.offsets.size()) - rows_before_page();
      if (!col.row_valid.empty()) col.row_valid.resize(col.offsets.size(), 1);
      pending_rows += new_rows;
    } else if (leaf.is_list) {
      // One pass builds the row structure and counts slots and non-null values.
      non_null = slots = 0;
      uint8_t bad = 0;
      const uint8_t mr = static_cast<uint8_t>(leaf.max_rep);
      const uint8_t rd = static_cast<uint8_t>(leaf.row_def);
      int64_t value_count = static_cast<int64_t>(old);
      for (size_t i = 0; i < n; ++i) {
        const uint8_t d = def[i];
        bad |= static_cast<uint8_t>((d > md) | (rep[i] > mr));
        if (rep[i] == 0) {
          col.offsets.push_back(value_count + static_cast<int64_t>(slots));
          const bool present = d >= rd;
          if (!present || !col.row_valid.empty()) {  // validity materialized at the first null list
            if (col.row_valid.empty()) col.row_valid.assign(col.offsets.size() - 1, 1);
            col.row_valid.push_back(present);
          }
          ++pending_rows;
        } else if (pending_rows == 0) {
          throw enc::EncodingError("column chunk starts in the middle of a list");
        }
        slots += d >= ld;
        non_null += d == md;
      }
      if (bad) throw enc::EncodingError("level exceeds the schema maximum");
    } else {
      if (def) {
        non_null = 0;
        uint8_t bad = 0;
        for (size_t i = 0; i < n; ++i) {
          non_null += def[i] == md;
          bad |= static_cast<uint8_t>(def[i] > md);
        }
        if (bad) throw enc::EncodingError("definition level exceeds the schema maximum");
      }
      pending_rows += static_cast<int64_t>(n);
    }

    if (non_null == slots) {
      vals.resize(old + slots);
      decode_values<T>(leaf, encoding, data, size, non_null, vals.data() + old, has_dict ? &dict : nullptr, idx);
      mark_valid(old, def, n, slots, false);
      return;
    }
    dense.resize(non_null);
    decode_values<T>(leaf, encoding, data, size, non_null, dense.data(), has_dict ? &dict : nullptr, idx);
    vals.resize(old + slots);
    size_t k = 0, s = old;
    for (size_t i = 0; i < n; ++i) {
      if (leaf.is_list && def[i] < ld) continue;
      if (def[i] == md) {
        if constexpr (std::is_same_v<T, std::string>) vals[s] = std::move(dense[k]);
        else vals[s] = dense[k];
        ++k;
      }
      ++s;
    }
    mark_valid(old, def, n, slots, true);
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
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(cat("cannot open (", std::strerror(errno), ")"));
    struct stat st;
    if (::fstat(fd, &st) != 0) fail(cat("cannot stat (", std::strerror(errno), ")"));
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

  void validate() {
    int64_t rows = 0;
    for (size_t g = 0; g < meta.row_groups.size(); ++g) {
      const RowGroup& rg = meta.row_groups[g];
      if (rg.columns.size() != leaves.size())
        fail(cat("row group ", g, " has ", rg.columns.size(), " column chunks, schema has ", leaves.size(), " leaves"));
      if (rg.num_rows < 0) fail(cat("row group ", g, " has a negative row count"));
      rows += rg.num_rows;
      if (rows < 0) fail("row count overflows");
    }
    if (meta.num_rows != rows)
      fail(cat("footer says ", meta.num_rows, " rows but its row groups hold ", rows, " (corrupt footer)"));
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
    Buffer chunk, page;  // reused across columns: fewer fresh pages to fault in
    for (const Leaf* l : select(names)) {
      Column c;
      c.name = l->name;
      c.type = l->type;
      c.is_list = l->is_list;
      switch (l->physical) {
        case FLOAT: read_column<float>(*l, c, only_group, chunk, page); break;
        case DOUBLE: read_column<double>(*l, c, only_group, chunk, page); break;
        case BYTE_ARRAY:
        case FIXED_LEN_BYTE_ARRAY: read_column<std::string>(*l, c, only_group, chunk, page); break;
        default: read_column<int64_t>(*l, c, only_group, chunk, page); break;
      }
      t.columns.push_back(std::move(c));
    }
    if (only_group >= 0) t.num_rows = meta.row_groups[only_group].num_rows;
    else t.num_rows = meta.num_rows;
    return t;
  }

  template <class T>
  void read_column(const Leaf& leaf, Column& col, int only_group, Buffer& chunk, Buffer& page) const {
    ColumnAssembler<T> a(leaf, col);
    // Reserve from metadata only when the claim is plausible for the bytes on disk.
    int64_t claimed = 0;
    for (size_t g = 0; g < meta.row_groups.size(); ++g) {
      if (only_group >= 0 && static_cast<int>(g) != only_group) continue;
      const auto& cc = meta.row_groups[g].columns[leaf.chunk_index];
      claimed += std::max<int64_t>(0, cc.meta.num_values);
    }
    if (claimed > 0 && claimed < file_size * 8 + static_cast<int64_t>(kLevelSlack)) {
      a.vals.reserve(static_cast<size_t>(claimed));
      if (leaf.is_list) col.offsets.reserve(static_cast<size_t>(std::min<int64_t>(claimed, meta.num_rows)) + 1);
    }
    for (size_t g = 0; g < meta.row_groups.size(); ++g) {
      if (only_group >= 0 && static_cast<int>(g) != only_group) continue;
      ChunkError ctx{cat(path.string(), ": column '", leaf.name, "' row group ", g)};
      try {
        read_chunk(leaf, meta.row_groups[g], a, chunk, page, ctx);
      } catch (const util::Error&) {
        throw;
      } catch (const std::exception& e) {
        ctx.fail(e.what());
      }
    }
    if (leaf.is_list) col.offsets.push_back(static_cast<int64_t>(a.vals.size()));
  }

  template <class T>
  void read_chunk(const Leaf& leaf, const RowGroup& rg, ColumnAssembler<T>& a, Buffer& chunk_buf, Buffer& page_buf,
                  const ChunkError& ctx) const {
    const ColumnChunk& cc = rg.columns[leaf.chunk_index];
    if (!cc.file_path.empty()) ctx.fail("column chunks in external files are not supported");
    if (!cc.has_meta) ctx.fail("column chunk has no metadata");
    const ColumnMetaData& cm = cc.meta;
    if (cm.type != leaf.physical) ctx.fail("column chunk type differs from the schema");
    int64_t start = cm.data_page_offset;
    if (cm.dictionary_page_offset && *cm.dictionary_page_offset >= 4 && *cm.dictionary_page_offset < start)
      start = *cm.dictionary_page_offset;
    const int64_t len = cm.total_compressed_size;
    if (start < 4 || len < 0 || start > footer_start || len > footer_start - start)
      ctx.fail(cat("column chunk byte range [", start, ", +", len, ") lies outside the file's data (",
                   footer_start, " bytes); the file is truncated or corrupt"));
    if (cm.num_values < 0) ctx.fail("negative value count");
    uint8_t* buf = chunk_buf.get(static_cast<size_t>(len));
    pread_exact(buf, static_cast<size_t>(len), start);

    a.pending_rows = 0;
    a.has_dict = false;
    a.dict.clear();
    size_t pos = 0;
    int64_t seen = 0;
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
      const uint8_t* body = buf + pos;
      const size_t csize = static_cast<size_t>(h.compressed_page_size);
      pos += csize;
      if (h.type == DICTIONARY_PAGE) {
        if (!h.dictionary) ctx.fail("dictionary page without its header");
        if (a.has_dict) ctx.fail("second dictionary page in a column chunk");
        const uint8_t* data = decompress_page(cm.codec, body, csize, h.uncompressed_page_size, page_buf);
        size_t n = static_cast<size_t>(std::max(0, h.dictionary->num_values));
        if (n > max_plain_values(leaf, static_cast<size_t>(h.uncompressed_page_size)))
          ctx.fail("dictionary page holds more values than its bytes can encode");
        if (h.dictionary->encoding != PLAIN && h.dictionary->encoding != PLAIN_DICTIONARY)
          ctx.fail(cat("dictionary page encoding ", encoding_name(h.dictionary->encoding), " is not supported"));
        a.dict.resize(n);
        decode_values<T>(leaf, PLAIN, data, h.uncompressed_page_size, n, a.dict.data(), nullptr, a.idx);
        a.has_dict = true;
      } else if (h.type == DATA_PAGE) {
        if (!h.data) ctx.fail("data page without its header");
        seen += data_page_v1(leaf, cm, h, body, csize, a, page_buf, ctx);
      } else if (h.type == DATA_PAGE_V2) {
        if (!h.data_v2) ctx.fail("data page v2 without its header");
        seen += data_page_v2(leaf, cm, h, body, csize, a, page_buf, ctx);
      }  // index pages and unknown page types are skipped
      if (seen > cm.num_values) ctx.fail("pages hold more values than the column chunk metadata says");
    }
    if (a.pending_rows != rg.num_rows)
      ctx.fail(cat("column chunk holds ", a.pending_rows, " rows, row group says ", rg.num_rows));
  }

  static const uint8_t* decompress_page(int32_t codec, const uint8_t* src, size_t csize, int32_t usize, Buffer& b) {
    if (codec == UNCOMPRESSED || (usize == 0 && csize == 0)) {  // (an empty v2 values section)
      if (static_cast<size_t>(usize) != csize) throw enc::EncodingError("uncompressed page size mismatch");
      return src;
    }
    uint8_t* dst = b.get(static_cast<size_t>(usize) + 1);
    decompress(codec, src, csize, dst, static_cast<size_t>(usize));
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

  size_t level_count(const Leaf& leaf, int32_t n, size_t page_bytes, const ChunkError& ctx) const {
    if (n < 0) ctx.fail("negative page value count");
    if (static_cast<size_t>(n) > page_bytes * 8 + kLevelSlack) ctx.fail("page value count implausible for its size");
    (void)leaf;
    return static_cast<size_t>(n);
  }

  // v1: levels (4-byte length + RLE hybrid) and values all inside the compressed body.
  template <class T>
  int64_t data_page_v1(const Leaf& leaf, const ColumnMetaData& cm, const PageHeader& h, const uint8_t* body,
                       size_t csize, ColumnAssembler<T>& a, Buffer& page_buf, const ChunkError& ctx) const {
    const auto& dh = *h.data;
    const size_t usize = static_cast<size_t>(h.uncompressed_page_size);
    const size_t n = level_count(leaf, dh.num_values, usize, ctx);
    const uint8_t* data = decompress_page(cm.codec, body, csize, h.uncompressed_page_size, page_buf);
    const uint8_t* p = data;
    size_t left = usize;
    auto levels = [&](int max, int32_t encoding, std::vector<uint8_t>& out, const char* what) {
      if (encoding != RLE) throw enc::EncodingError(cat(what, " level encoding ", encoding_name(encoding), " is not supported"));
      if (left < 4) throw enc::EncodingError(cat(what, " levels truncated"));
      uint32_t len;
      std::memcpy(&len, p, 4);
      if (len > left - 4) throw enc::EncodingError(cat(what, " levels truncated"));
      out.resize(n);
      enc::decode_rle_hybrid(p + 4, len, enc::bit_width(max), n, out.data());
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
    const size_t n = level_count(leaf, dh.num_values, usize, ctx);
    if (dh.repetition_levels_byte_length < 0 || dh.definition_levels_byte_length < 0)
      ctx.fail("negative level lengths in data page v2");
    const size_t rl = static_cast<size_t>(dh.repetition_levels_byte_length);
    const size_t dl = static_cast<size_t>(dh.definition_levels_byte_length);
    if (rl + dl > csize || rl + dl > usize) ctx.fail("data page v2 level lengths exceed the page");
    if (leaf.max_rep > 0) {
      a.reps.resize(n);
      enc::decode_rle_hybrid(body, rl, enc::bit_width(leaf.max_rep), n, a.reps.data());
    }
    if (leaf.max_def > 0) {
      a.defs.resize(n);
      enc::decode_rle_hybrid(body + rl, dl, enc::bit_width(leaf.max_def), n, a.defs.data());
    }
    const uint8_t* vals = body + rl + dl;
    size_t vsize = csize - rl - dl;
    const size_t vusize = usize - rl - dl;
    if (dh.is_compressed && cm.codec != UNCOMPRESSED) {
      vals = decompress_page(cm.codec, vals, vsize, static_cast<int32_t>(vusize), page_buf);
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
