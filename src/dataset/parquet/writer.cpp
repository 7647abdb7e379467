// Parquet writer: data page v1, PLAIN or dictionary (per column chunk, only when smaller),
// optional columns with 3-level LIST groups for lists, written atomically.
#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataset/parquet/compression.h"
#include "dataset/parquet/encoding.h"
#include "dataset/parquet/metadata.h"
#include "dataset/parquet/parquet.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

#ifndef ROBOTRAIN_VERSION
#define ROBOTRAIN_VERSION "dev"
#endif

namespace robotrain::dataset::parquet {

namespace {

using util::cat;
using namespace format;

constexpr size_t kPageBytes = size_t(1) << 20;        // target uncompressed values per page
constexpr size_t kMaxDictBytes = size_t(1) << 20;     // dictionary page limit (as pyarrow)

int32_t physical_of(ValueType t) {
  switch (t) {
    case ValueType::Int32: return INT32;
    case ValueType::Int64: return INT64;
    case ValueType::Float: return FLOAT;
    case ValueType::Double: return DOUBLE;
    case ValueType::Bool: return BOOLEAN;
    default: return BYTE_ARRAY;
  }
}

int32_t codec_of(Compression c) {
  switch (c) {
    case Compression::Uncompressed: return UNCOMPRESSED;
    case Compression::Snappy: return SNAPPY;
    case Compression::Zstd: return ZSTD;
    case Compression::Gzip: return GZIP;
    case Compression::Lz4Raw: return LZ4_RAW;
    case Compression::Brotli: return BROTLI;
  }
  return UNCOMPRESSED;
}

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

// One column, seen as value slots (with validity) and rows (with list offsets).
struct ColumnView {
  const Column& col;
  size_t slots = 0;
  bool has_nulls = false;
  bool has_null_rows = false;
  int depth = 1;                // list nesting (WriteOptions::list_shapes)
  int in_struct = 0;            // 1 for a field of a struct column (one more definition level)
  std::vector<size_t> strides;  // values per entry at each nesting level (nested lists)

  bool valid(size_t s) const { return col.valid.empty() || col.valid[s]; }
  bool row_valid(size_t r) const { return col.row_valid.empty() || col.row_valid[r]; }
  size_t slot_begin(size_t row) const { return col.is_list ? static_cast<size_t>(col.offsets[row]) : row; }
  size_t fixed_width() const {
    switch (col.type) {
      case ValueType::Int32:
      case ValueType::Float: return 4;
      case ValueType::Int64:
      case ValueType::Double: return 8;
      case ValueType::Bool: return 1;
      default: return 0;
    }
  }
  size_t value_bytes(size_t s) const { return fixed_width() ? fixed_width() : col.strings[s].size() + 4; }
};

void validate(const std::filesystem::path& path, const Table& t, int64_t rows) {
  for (const auto& c : t.columns) {
    auto bad = [&](const std::string& what) {
      throw util::RuntimeError(cat(path.string(), ": cannot write column '", c.name, "': ", what));
    };
    if (c.name.empty()) bad("empty column name");
    if (c.num_rows() != rows) bad(cat("has ", c.num_rows(), " rows, the table has ", rows));
    int64_t nv = c.num_values();
    if (!c.valid.empty() && static_cast<int64_t>(c.valid.size()) != nv) bad("validity size differs from the value count");
    if (c.is_list) {
      if (c.offsets.empty() || c.offsets.front() != 0 || c.offsets.back() != nv) bad("list offsets must run from 0 to the value count");
      for (size_t i = 1; i < c.offsets.size(); ++i)
        if (c.offsets[i] < c.offsets[i - 1]) bad("list offsets decrease");
      if (!c.row_valid.empty() && static_cast<int64_t>(c.row_valid.size()) != rows) bad("row validity size differs from the row count");
    }
  }
}

// Appends the PLAIN encoding of the non-null values among slots [b, e).
void encode_plain(const ColumnView& v, size_t b, size_t e, std::string& out) {
  const Column& c = v.col;
  const bool dense = !v.has_nulls;
  switch (c.type) {
    case ValueType::Float:
      if (dense) out.append(reinterpret_cast<const char*>(c.floats.data() + b), (e - b) * 4);
      else for (size_t s = b; s < e; ++s) if (v.valid(s)) out.append(reinterpret_cast<const char*>(&c.floats[s]), 4);
      return;
    case ValueType::Double:
      if (dense) out.append(reinterpret_cast<const char*>(c.doubles.data() + b), (e - b) * 8);
      else for (size_t s = b; s < e; ++s) if (v.valid(s)) out.append(reinterpret_cast<const char*>(&c.doubles[s]), 8);
      return;
    case ValueType::Int64:
      if (dense) out.append(reinterpret_cast<const char*>(c.ints.data() + b), (e - b) * 8);
      else for (size_t s = b; s < e; ++s) if (v.valid(s)) out.append(reinterpret_cast<const char*>(&c.ints[s]), 8);
      return;
    case ValueType::Int32:
      for (size_t s = b; s < e; ++s)
        if (v.valid(s)) {
          int32_t x = static_cast<int32_t>(c.ints[s]);
          out.append(reinterpret_cast<const char*>(&x), 4);
        }
      return;
    case ValueType::Bool: {
      size_t n = 0;
      size_t base = out.size();
      for (size_t s = b; s < e; ++s) {
        if (!v.valid(s)) continue;
        if (n % 8 == 0) out.push_back('\0');
        if (c.ints[s]) out[base + n / 8] = static_cast<char>(out[base + n / 8] | (1 << (n % 8)));
        ++n;
      }
      return;
    }
    case ValueType::String:
    case ValueType::Binary:
      for (size_t s = b; s < e; ++s)
        if (v.valid(s)) {
          put_u32(out, static_cast<uint32_t>(c.strings[s].size()));
          out.append(c.strings[s]);
        }
      return;
  }
}

// Dictionary of one column chunk: index per slot (nulls get 0) and distinct values in order.
struct Dictionary {
  std::vector<uint32_t> index;  // per slot in [b, e)
  std::vector<size_t> first;    // slot of each distinct value's first occurrence
  size_t bytes = 0;             // PLAIN size of the distinct values
};

template <class Key, class KeyOf>
bool build_dictionary_with(const ColumnView& v, size_t b, size_t e, size_t plain_bytes, KeyOf key_of, Dictionary& d) {
  std::unordered_map<Key, uint32_t> map;
  d.index.assign(e - b, 0);
  size_t seen = 0;
  for (size_t s = b; s < e; ++s) {
    if (!v.valid(s)) continue;
    auto [it, inserted] = map.try_emplace(key_of(s), static_cast<uint32_t>(d.first.size()));
    if (inserted) {
      d.first.push_back(s);
      d.bytes += v.value_bytes(s);
      if (d.bytes > kMaxDictBytes || d.bytes >= plain_bytes) return false;
    }
    d.index[s - b] = it->second;
    // Mostly-distinct data never pays: stop hashing early.
    if (++seen == 65536 && d.first.size() > seen / 2) return false;
  }
  return true;
}

bool build_dictionary(const ColumnView& v, size_t b, size_t e, size_t plain_bytes, Dictionary& d) {
  const Column& c = v.col;
  switch (c.type) {
    case ValueType::Bool: return false;
    case ValueType::Int32:
    case ValueType::Int64:
      return build_dictionary_with<int64_t>(v, b, e, plain_bytes, [&](size_t s) { return c.ints[s]; }, d);
    case ValueType::Float:
      return build_dictionary_with<uint32_t>(v, b, e, plain_bytes, [&](size_t s) {
        uint32_t k;
        std::memcpy(&k, &c.floats[s], 4);
        return k;
      }, d);
    case ValueType::Double:
      return build_dictionary_with<uint64_t>(v, b, e, plain_bytes, [&](size_t s) {
        uint64_t k;
        std::memcpy(&k, &c.doubles[s], 8);
        return k;
      }, d);
    default:
      return build_dictionary_with<std::string_view>(v, b, e, plain_bytes,
                                                     [&](size_t s) { return std::string_view(c.strings[s]); }, d);
  }
}

struct ChunkWriter {
  const ColumnView& v;
  int32_t codec;
  bool allow_dict;
  std::string& file;
  ColumnMetaData meta;
  std::string body, compressed;

  void page(int32_t type, int32_t num_values, int32_t encoding) {
    compressed.clear();
    compress(codec, reinterpret_cast<const uint8_t*>(body.data()), body.size(), compressed);
    PageHeader h;
    h.type = type;
    h.uncompressed_page_size = static_cast<int32_t>(body.size());
    h.compressed_page_size = static_cast<int32_t>(compressed.size());
    if (type == DICTIONARY_PAGE) h.dictionary = DictionaryPageHeader{num_values, encoding};
    else h.data = DataPageHeader{num_values, encoding, RLE, RLE};
    std::string header = encode_page_header(h);
    file += header;
    file += compressed;
    meta.total_uncompressed_size += static_cast<int64_t>(header.size() + body.size());
    meta.total_compressed_size += static_cast<int64_t>(header.size() + compressed.size());
  }

  void levels(const std::vector<uint8_t>& lv, int max) {
    size_t at = body.size();
    put_u32(body, 0);
    enc::encode_rle_hybrid(lv.data(), lv.size(), enc::bit_width(max), body);
    uint32_t len = static_cast<uint32_t>(body.size() - at - 4);
    std::memcpy(body.data() + at, &len, 4);
  }

  void write(size_t r0, size_t r1, const std::vector<std::string>& path) {
    const Column& c = v.col;
    meta.type = physical_of(c.type);
    meta.path_in_schema = path;
    meta.codec = codec;
    const size_t b = v.slot_begin(r0), e = v.slot_begin(r1);
    size_t plain_bytes = 0;
    for (size_t s = b; s < e; ++s)
      if (v.valid(s)) plain_bytes += v.value_bytes(s);

    Dictionary dict;
    bool use_dict = false;
    if (allow_dict && e > b && build_dictionary(v, b, e, plain_bytes, dict)) {
      size_t idx_bytes = (e - b) * static_cast<size_t>(std::max(1, enc::bit_width(dict.first.size() - 1))) / 8 + 16;
      use_dict = dict.bytes + idx_bytes < plain_bytes;
    }
    const int dict_width = use_dict ? std::max(1, enc::bit_width(dict.first.size() - 1)) : 0;
    if (use_dict) {
      meta.dictionary_page_offset = static_cast<int64_t>(file.size());
      body.clear();
      for (size_t s : dict.first) encode_plain_one(s);
      page(DICTIONARY_PAGE, static_cast<int32_t>(dict.first.size()), PLAIN_DICTIONARY);
      meta.encodings = {PLAIN_DICTIONARY, PLAIN, RLE};
    } else {
      meta.encodings = {PLAIN, RLE};
    }
    meta.data_page_offset = static_cast<int64_t>(file.size());

    // Pages end on row boundaries near kPageBytes of values.
    std::vector<uint8_t> defs, reps;
    std::vector<uint32_t> idx;
    size_t row = r0;
    while (row < r1) {
      size_t bytes = 0, end_row = row;
      while (end_row < r1 && bytes < kPageBytes) {
        for (size_t s = v.slot_begin(end_row), se = v.slot_begin(end_row + 1); s < se; ++s) bytes += v.value_bytes(s);
        bytes += 1;
        ++end_row;
      }
      defs.clear();
      reps.clear();
      for (size_t r = row; r < end_row; ++r) {
        if (!c.is_list) {
          defs.push_back(static_cast<uint8_t>(v.valid(r) ? 1 + v.in_struct : v.in_struct));
          continue;
        }
        size_t s0 = v.slot_begin(r), s1 = v.slot_begin(r + 1);
        if (!v.row_valid(r)) {
          defs.push_back(0);
          reps.push_back(0);
        } else if (s0 == s1) {
          defs.push_back(1);
          reps.push_back(0);
        } else {
          const uint8_t full = static_cast<uint8_t>(2 * v.depth + 1);
          for (size_t s = s0; s < s1; ++s) {
            defs.push_back(v.valid(s) ? full : full - 1);
            reps.push_back(s == s0 ? 0 : rep_level(v, s - s0));
          }
        }
      }
      body.clear();
      if (c.is_list) levels(reps, v.depth);
      levels(defs, c.is_list ? 2 * v.depth + 1 : 1 + v.in_struct);
      const size_t pb = v.slot_begin(row), pe = v.slot_begin(end_row);
      if (use_dict) {
        idx.clear();
        for (size_t s = pb; s < pe; ++s)
          if (v.valid(s)) idx.push_back(dict.index[s - b]);
        body.push_back(static_cast<char>(dict_width));
        enc::encode_rle_hybrid(idx.data(), idx.size(), dict_width, body);
      } else {
        encode_plain(v, pb, pe, body);
      }
      page(DATA_PAGE, static_cast<int32_t>(defs.size()), use_dict ? PLAIN_DICTIONARY : PLAIN);
      meta.num_values += static_cast<int64_t>(defs.size());
      row = end_row;
    }
  }

  // Repetition level of the j-th value (j > 0) of a row: 1 + the outermost level that starts anew.
  static uint8_t rep_level(const ColumnView& v, size_t j) {
    for (int d = 0; d + 1 < v.depth; ++d)
      if (j % v.strides[d] == 0) return static_cast<uint8_t>(d + 1);
    return static_cast<uint8_t>(v.depth);
  }

  void encode_plain_one(size_t s) {
    ColumnView one{v.col, v.slots, false, false};
    encode_plain(one, s, s + 1, body);
  }
};

// Nested fixed-shape list: every non-null row must hold prod(shape) values.
void set_shape(const std::filesystem::path& path, ColumnView& v, const std::vector<int64_t>& shape) {
  const Column& c = v.col;
  auto bad = [&](const std::string& what) {
    throw util::RuntimeError(cat(path.string(), ": cannot write column '", c.name, "' as nested lists: ", what));
  };
  if (!c.is_list) bad("it is not a list column");
  if (shape.size() > 100) bad("too many dimensions");
  int64_t total = 1;
  for (int64_t d : shape) {
    if (d < 1 || d > (int64_t(1) << 31)) bad("every dimension must be at least 1");
    total *= d;
    if (total > (int64_t(1) << 40)) bad("shape too large");
  }
  for (size_t r = 0; r + 1 < c.offsets.size(); ++r)
    if ((c.row_valid.empty() || c.row_valid[r]) && c.offsets[r + 1] - c.offsets[r] != total)
      bad(cat("row ", r, " has ", c.offsets[r + 1] - c.offsets[r], " values, the shape needs ", total));
  v.depth = static_cast<int>(shape.size());
  v.strides.assign(shape.size(), 1);
  for (int d = v.depth - 2; d >= 0; --d) v.strides[d] = v.strides[d + 1] * static_cast<size_t>(shape[d + 1]);
}

// The struct (from `structs`) that column `name` is a field of, or "" (longest match wins).
std::string struct_of(const std::string& name, const std::vector<std::string>& structs) {
  std::string best;
  for (const auto& s : structs)
    if (name.size() > s.size() + 1 && name.compare(0, s.size(), s) == 0 && name[s.size()] == '.' &&
        name.find('.', s.size() + 1) == std::string::npos && s.size() > best.size())
      best = s;
  return best;
}

SchemaElement leaf_element(ValueType t, const std::string& name) {
  SchemaElement e;
  e.type = physical_of(t);
  e.repetition = OPTIONAL;
  e.name = name;
  if (t == ValueType::String) {
    e.converted_type = CT_UTF8;
    e.logical = LT_STRING;
  }
  return e;
}

FileMetaData file_metadata(const Table& table, int64_t rows, const WriteOptions& options) {
  FileMetaData fm;
  fm.version = 1;
  fm.num_rows = rows;
  fm.created_by = "robotrain version " ROBOTRAIN_VERSION;
  for (const auto& [k, v] : options.key_value_metadata) fm.key_value_metadata.emplace_back(k, v);
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(table.columns.size());
  fm.schema.push_back(root);
  return fm;
}

std::vector<ColumnView> column_views(const std::filesystem::path& path, const Table& table, const WriteOptions& options) {
  std::vector<ColumnView> views;
  for (const auto& c : table.columns) {
    ColumnView v{c};
    v.slots = static_cast<size_t>(c.num_values());
    v.has_nulls = std::find(c.valid.begin(), c.valid.end(), 0) != c.valid.end();
    auto shape = options.list_shapes.find(c.name);
    if (shape != options.list_shapes.end() && shape->second.size() > 1) set_shape(path, v, shape->second);
    views.push_back(v);
  }
  return views;
}

// Where each column lands: its path in the schema, and the order the column chunks are written in.
struct SchemaLayout {
  std::vector<std::vector<std::string>> paths;
  std::vector<size_t> order;
  std::vector<bool> placed;
};

// Struct `st`, starting at column i: one group holding every column that is a field of it.
void add_struct_schema(const std::filesystem::path& path, const std::string& st, size_t i, std::vector<ColumnView>& views,
                       const WriteOptions& options, FileMetaData& fm, SchemaLayout& layout) {
  SchemaElement group;
  group.repetition = OPTIONAL;
  group.name = st;
  size_t at = fm.schema.size();
  fm.schema.push_back(group);
  for (size_t j = i; j < views.size(); ++j) {
    const Column& f = views[j].col;
    if (layout.placed[j] || struct_of(f.name, options.struct_columns) != st) continue;
    if (f.is_list)
      throw util::RuntimeError(cat(path.string(), ": struct field '", f.name, "' is a list; only scalar fields are supported"));
    std::string field = f.name.substr(st.size() + 1);
    fm.schema.push_back(leaf_element(f.type, field));
    fm.schema[at].num_children++;
    layout.paths[j] = {st, field};
    views[j].in_struct = 1;
    layout.placed[j] = true;
    layout.order.push_back(j);
  }
}

// A list column: 3-level LIST per nesting level, optional group (LIST) { repeated group list
// { optional element } }. Returns the leaf's path.
std::vector<std::string> add_list_schema(const ColumnView& v, FileMetaData& fm) {
  const Column& c = v.col;
  std::vector<std::string> p{c.name};
  for (int d = 0; d < v.depth; ++d) {
    SchemaElement list;
    list.repetition = OPTIONAL;
    list.name = d == 0 ? c.name : "element";
    list.num_children = 1;
    list.converted_type = CT_LIST;
    list.logical = LT_LIST;
    SchemaElement group;
    group.repetition = REPEATED;
    group.name = "list";
    group.num_children = 1;
    fm.schema.push_back(list);
    fm.schema.push_back(group);
    if (d > 0) p.push_back("element");
    p.push_back("list");
  }
  fm.schema.push_back(leaf_element(c.type, "element"));
  p.push_back("element");
  return p;
}

// Schema in column-chunk order; struct fields are grouped under their struct.
SchemaLayout add_schema(const std::filesystem::path& path, std::vector<ColumnView>& views, const WriteOptions& options,
                  FileMetaData& fm) {
  SchemaLayout layout{std::vector<std::vector<std::string>>(views.size()), {}, std::vector<bool>(views.size(), false)};
  int top = 0;
  for (size_t i = 0; i < views.size(); ++i) {
    if (layout.placed[i]) continue;
    ++top;
    const Column& c = views[i].col;
    const std::string st = struct_of(c.name, options.struct_columns);
    if (!st.empty()) {
      add_struct_schema(path, st, i, views, options, fm, layout);
      continue;
    }
    layout.placed[i] = true;
    layout.order.push_back(i);
    if (!c.is_list) {
      fm.schema.push_back(leaf_element(c.type, c.name));
      layout.paths[i] = {c.name};
      continue;
    }
    layout.paths[i] = add_list_schema(views[i], fm);
  }
  fm.schema[0].num_children = top;
  return layout;
}

// Rows [r0, r1) of every column, appended to `file`.
RowGroup write_row_group(int64_t r0, int64_t r1, int16_t ordinal, const std::vector<ColumnView>& views, const SchemaLayout& layout,
                         int32_t codec, const WriteOptions& options, std::string& file) {
  RowGroup rg;
  rg.num_rows = r1 - r0;
  rg.file_offset = static_cast<int64_t>(file.size());
  rg.ordinal = ordinal;
  int64_t compressed = 0;
  for (size_t i : layout.order) {
    ChunkWriter w{views[i], codec, options.dictionary, file, {}, {}, {}};
    int64_t start = static_cast<int64_t>(file.size());
    w.write(static_cast<size_t>(r0), static_cast<size_t>(r1), layout.paths[i]);
    ColumnChunk cc;
    cc.file_offset = start;
    cc.has_meta = true;
    cc.meta = std::move(w.meta);
    rg.total_byte_size += cc.meta.total_uncompressed_size;
    compressed += cc.meta.total_compressed_size;
    rg.columns.push_back(std::move(cc));
  }
  rg.total_compressed_size = compressed;
  return rg;
}

}  // namespace

void write_table(const std::filesystem::path& path, const Table& table, const WriteOptions& options) {
  int64_t rows = table.num_rows;
  if (rows == 0 && !table.columns.empty()) rows = table.columns.front().num_rows();
  validate(path, table, rows);
  const int32_t codec = codec_of(options.compression);
  const int64_t rg_rows = std::max<int64_t>(1, options.row_group_rows);

  FileMetaData fm = file_metadata(table, rows, options);
  std::vector<ColumnView> views = column_views(path, table, options);
  const SchemaLayout layout = add_schema(path, views, options, fm);

  std::string file = "PAR1";
  try {
    for (int64_t r0 = 0; r0 < rows; r0 += rg_rows) {
      const int64_t r1 = std::min(rows, r0 + rg_rows);
      const auto ordinal = static_cast<int16_t>(std::min<size_t>(fm.row_groups.size(), 32767));
      fm.row_groups.push_back(write_row_group(r0, r1, ordinal, views, layout, codec, options, file));
    }
  } catch (const util::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw util::RuntimeError(cat(path.string(), ": cannot encode Parquet data (", e.what(), ")"));
  }
  std::string footer = encode_file_metadata(fm);
  file += footer;
  put_u32(file, static_cast<uint32_t>(footer.size()));
  file += "PAR1";
  util::atomic_write_file(path, file);
}

}  // namespace robotrain::dataset::parquet
