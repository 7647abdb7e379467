#include "dataset/parquet/metadata.h"

#include "dataset/parquet/thrift.h"

namespace robotrain::dataset::parquet::format {

using thrift::Decoder;
using thrift::Encoder;
using thrift::ThriftError;

const char* encoding_name(int32_t e) {
  switch (e) {
    case PLAIN: return "PLAIN";
    case PLAIN_DICTIONARY: return "PLAIN_DICTIONARY";
    case RLE: return "RLE";
    case BIT_PACKED: return "BIT_PACKED";
    case DELTA_BINARY_PACKED: return "DELTA_BINARY_PACKED";
    case DELTA_LENGTH_BYTE_ARRAY: return "DELTA_LENGTH_BYTE_ARRAY";
    case DELTA_BYTE_ARRAY: return "DELTA_BYTE_ARRAY";
    case RLE_DICTIONARY: return "RLE_DICTIONARY";
    case BYTE_STREAM_SPLIT: return "BYTE_STREAM_SPLIT";
    default: return "unknown encoding";
  }
}

const char* codec_name(int32_t c) {
  switch (c) {
    case UNCOMPRESSED: return "UNCOMPRESSED";
    case SNAPPY: return "SNAPPY";
    case GZIP: return "GZIP";
    case LZO: return "LZO";
    case BROTLI: return "BROTLI";
    case LZ4: return "LZ4";
    case ZSTD: return "ZSTD";
    case LZ4_RAW: return "LZ4_RAW";
    default: return "unknown codec";
  }
}

namespace {

// Iterates the fields of a struct, handing each (id, type) to `fn`, which returns false
// to have the field skipped.
template <class Fn>
void read_struct(Decoder& d, Fn&& fn) {
  d.begin_struct();
  int16_t id;
  uint8_t type;
  while (d.next_field(id, type)) {
    if (!fn(id, type)) d.skip(type);
  }
  d.end_struct();
}

void expect(uint8_t type, uint8_t want) {
  if (type != want) throw ThriftError("thrift field has unexpected type");
}

// Reads a list of elements that each decode into an Elem, charged to the decoder first.
template <class Elem, class Fn>
void read_list(Decoder& d, uint8_t type, uint8_t want_elem, Fn&& fn) {
  expect(type, thrift::kList);
  uint8_t et;
  uint32_t n = d.read_list_header(et);
  if (n > 0 && et != want_elem) throw ThriftError("thrift list has unexpected element type");
  d.charge_elements(n, sizeof(Elem));
  for (uint32_t i = 0; i < n; ++i) fn();
}

int32_t i32(Decoder& d, uint8_t type) {
  expect(type, thrift::kI32);
  return d.read_i32();
}

int64_t i64(Decoder& d, uint8_t type) {
  if (type == thrift::kI32) return d.read_i32();
  expect(type, thrift::kI64);
  return d.read_i64();
}

std::string str(Decoder& d, uint8_t type) {
  expect(type, thrift::kBinary);
  return d.read_string();
}

bool boolean(Decoder& d, uint8_t type) {
  if (type != thrift::kTrue && type != thrift::kFalse) throw ThriftError("thrift field has unexpected type");
  return d.read_bool(type);
}

void read_logical(Decoder& d, SchemaElement& e) {
  read_struct(d, [&](int16_t id, uint8_t type) {
    if (type != thrift::kStruct) return false;
    e.logical = id;
    if (id == LT_INTEGER) {
      read_struct(d, [&](int16_t iid, uint8_t itype) {
        if (iid == 1 && itype == thrift::kByte) { e.logical_int_bits = d.read_i8(); return true; }
        if (iid == 2) { e.logical_int_signed = boolean(d, itype); return true; }
        return false;
      });
      return true;
    }
    return false;  // other members' contents are not needed
  });
}

SchemaElement read_schema_element(Decoder& d) {
  SchemaElement e;
  bool has_name = false;
  read_struct(d, [&](int16_t id, uint8_t type) {
    switch (id) {
      case 1: e.type = i32(d, type); return true;
      case 2: e.type_length = i32(d, type); return true;
      case 3: e.repetition = i32(d, type); return true;
      case 4: e.name = str(d, type); has_name = true; return true;
      case 5: e.num_children = i32(d, type); return true;
      case 6: e.converted_type = i32(d, type); return true;
      case 10: expect(type, thrift::kStruct); read_logical(d, e); return true;
      default: return false;
    }
  });
  if (!has_name) throw ThriftError("schema element without a name");
  return e;
}

Statistics read_statistics(Decoder& d) {
  Statistics s;
  std::optional<std::string> old_min, old_max;
  read_struct(d, [&](int16_t id, uint8_t type) {
    switch (id) {
      case 1: old_max = str(d, type); return true;
      case 2: old_min = str(d, type); return true;
      case 3: s.null_count = i64(d, type); return true;
      case 5: s.max_value = str(d, type); return true;
      case 6: s.min_value = str(d, type); return true;
      default: return false;
    }
  });
  return s;
}

ColumnMetaData read_column_meta(Decoder& d) {
  ColumnMetaData m;
  read_struct(d, [&](int16_t id, uint8_t type) {
    switch (id) {
      case 1: m.type = i32(d, type); return true;
      case 2: read_list<int32_t>(d, type, thrift::kI32, [&] { m.encodings.push_back(d.read_i32()); }); return true;
      case 3: read_list<std::string>(d, type, thrift::kBinary, [&] { m.path_in_schema.push_back(d.read_string()); }); return true;
      case 4: m.codec = i32(d, type); return true;
      case 5: m.num_values = i64(d, type); return true;
      case 6: m.total_uncompressed_size = i64(d, type); return true;
      case 7: m.total_compressed_size = i64(d, type); return true;
      case 9: m.data_page_offset = i64(d, type); return true;
      case 11: m.dictionary_page_offset = i64(d, type); return true;
      case 12: expect(type, thrift::kStruct); m.statistics = read_statistics(d); return true;
      default: return false;
    }
  });
  return m;
}

ColumnChunk read_column_chunk(Decoder& d) {
  ColumnChunk c;
  read_struct(d, [&](int16_t id, uint8_t type) {
    switch (id) {
      case 1: c.file_path = str(d, type); return true;
      case 2: c.file_offset = i64(d, type); return true;
      case 3: expect(type, thrift::kStruct); c.meta = read_column_meta(d); c.has_meta = true; return true;
      default: return false;
    }
  });
  return c;
}

RowGroup read_row_group(Decoder& d) {
  RowGroup g;
  read_struct(d, [&](int16_t id, uint8_t type) {
    switch (id) {
      case 1: read_list<ColumnChunk>(d, type, thrift::kStruct, [&] { g.columns.push_back(read_column_chunk(d)); }); return true;
      case 2: g.total_byte_size = i64(d, type); return true;
      case 3: g.num_rows = i64(d, type); return true;
      case 5: g.file_offset = i64(d, type); return true;
      case 6: g.total_compressed_size = i64(d, type); return true;
      default: return false;
    }
  });
  return g;
}

}  // namespace

FileMetaData decode_file_metadata(const uint8_t* data, size_t size) {
  Decoder d(data, size);
  // Real footers decode to a few times their size (schema elements are the densest, ~10x);
  // a footer of empty structs would reach ~250x.
  d.limit_memory(32 * size + (size_t(1) << 20));
  FileMetaData m;
  read_struct(d, [&](int16_t id, uint8_t type) {
    switch (id) {
      case 1: m.version = i32(d, type); return true;
      case 2: read_list<SchemaElement>(d, type, thrift::kStruct, [&] { m.schema.push_back(read_schema_element(d)); }); return true;
      case 3: m.num_rows = i64(d, type); return true;
      case 4: read_list<RowGroup>(d, type, thrift::kStruct, [&] { m.row_groups.push_back(read_row_group(d)); }); return true;
      case 5:
        read_list<std::pair<std::string, std::string>>(d, type, thrift::kStruct, [&] {
          std::string key, value;
          read_struct(d, [&](int16_t kid, uint8_t ktype) {
            if (kid == 1) { key = str(d, ktype); return true; }
            if (kid == 2) { value = str(d, ktype); return true; }
            return false;
          });
          m.key_value_metadata.emplace_back(std::move(key), std::move(value));
        });
        return true;
      case 6: m.created_by = str(d, type); return true;
      default: return false;
    }
  });
  return m;
}

PageHeader decode_page_header(const uint8_t* data, size_t size, size_t& consumed) {
  Decoder d(data, size);
  PageHeader h;
  read_struct(d, [&](int16_t id, uint8_t type) {
    switch (id) {
      case 1: h.type = i32(d, type); return true;
      case 2: h.uncompressed_page_size = i32(d, type); return true;
      case 3: h.compressed_page_size = i32(d, type); return true;
      case 5: {
        expect(type, thrift::kStruct);
        DataPageHeader p;
        read_struct(d, [&](int16_t pid, uint8_t pt) {
          switch (pid) {
            case 1: p.num_values = i32(d, pt); return true;
            case 2: p.encoding = i32(d, pt); return true;
            case 3: p.definition_level_encoding = i32(d, pt); return true;
            case 4: p.repetition_level_encoding = i32(d, pt); return true;
            default: return false;
          }
        });
        h.data = p;
        return true;
      }
      case 7: {
        expect(type, thrift::kStruct);
        DictionaryPageHeader p;
        read_struct(d, [&](int16_t pid, uint8_t pt) {
          switch (pid) {
            case 1: p.num_values = i32(d, pt); return true;
            case 2: p.encoding = i32(d, pt); return true;
            default: return false;
          }
        });
        h.dictionary = p;
        return true;
      }
      case 8: {
        expect(type, thrift::kStruct);
        DataPageHeaderV2 p;
        read_struct(d, [&](int16_t pid, uint8_t pt) {
          switch (pid) {
            case 1: p.num_values = i32(d, pt); return true;
            case 2: p.num_nulls = i32(d, pt); return true;
            case 3: p.num_rows = i32(d, pt); return true;
            case 4: p.encoding = i32(d, pt); return true;
            case 5: p.definition_levels_byte_length = i32(d, pt); return true;
            case 6: p.repetition_levels_byte_length = i32(d, pt); return true;
            case 7: p.is_compressed = boolean(d, pt); return true;
            default: return false;
          }
        });
        h.data_v2 = p;
        return true;
      }
      default: return false;
    }
  });
  consumed = d.position();
  return h;
}

// ---- encoding ----

namespace {

void write_statistics(Encoder& e, int16_t field, const Statistics& s) {
  e.field_struct_begin(field);
  if (s.null_count) e.field_i64(3, *s.null_count);
  if (s.max_value) e.field_binary(5, *s.max_value);
  if (s.min_value) e.field_binary(6, *s.min_value);
  e.end_struct();
}

void write_schema_element(Encoder& e, const SchemaElement& s) {
  e.list_struct_begin();
  if (s.type) e.field_i32(1, *s.type);
  if (s.type && *s.type == FIXED_LEN_BYTE_ARRAY) e.field_i32(2, s.type_length);
  if (s.repetition) e.field_i32(3, *s.repetition);
  e.field_binary(4, s.name);
  if (s.num_children > 0 || !s.type) e.field_i32(5, s.num_children);
  if (s.converted_type) e.field_i32(6, *s.converted_type);
  if (s.logical != LT_NONE) {
    e.field_struct_begin(10);
    e.field_struct_begin(static_cast<int16_t>(s.logical));  // StringType / ListType: empty structs
    e.end_struct();
    e.end_struct();
  }
  e.end_struct();
}

void write_column_chunk(Encoder& e, const ColumnChunk& c) {
  e.list_struct_begin();
  e.field_i64(2, c.file_offset);
  e.field_struct_begin(3);
  const ColumnMetaData& m = c.meta;
  e.field_i32(1, m.type);
  e.field_list_begin(2, thrift::kI32, m.encodings.size());
  for (int32_t enc : m.encodings) e.list_i32(enc);
  e.field_list_begin(3, thrift::kBinary, m.path_in_schema.size());
  for (const auto& p : m.path_in_schema) e.list_binary(p);
  e.field_i32(4, m.codec);
  e.field_i64(5, m.num_values);
  e.field_i64(6, m.total_uncompressed_size);
  e.field_i64(7, m.total_compressed_size);
  e.field_i64(9, m.data_page_offset);
  if (m.dictionary_page_offset) e.field_i64(11, *m.dictionary_page_offset);
  if (m.statistics) write_statistics(e, 12, *m.statistics);
  e.end_struct();
  e.end_struct();
}

}  // namespace

std::string encode_file_metadata(const FileMetaData& m) {
  Encoder e;
  e.begin_struct();
  e.field_i32(1, m.version);
  e.field_list_begin(2, thrift::kStruct, m.schema.size());
  for (const auto& s : m.schema) write_schema_element(e, s);
  e.field_i64(3, m.num_rows);
  e.field_list_begin(4, thrift::kStruct, m.row_groups.size());
  for (const auto& g : m.row_groups) {
    e.list_struct_begin();
    e.field_list_begin(1, thrift::kStruct, g.columns.size());
    for (const auto& c : g.columns) write_column_chunk(e, c);
    e.field_i64(2, g.total_byte_size);
    e.field_i64(3, g.num_rows);
    if (g.file_offset) e.field_i64(5, *g.file_offset);
    if (g.total_compressed_size) e.field_i64(6, *g.total_compressed_size);
    if (g.ordinal) e.field_i32(7, *g.ordinal);  // i16 and i32 share the zigzag varint encoding
    e.end_struct();
  }
  if (!m.key_value_metadata.empty()) {
    e.field_list_begin(5, thrift::kStruct, m.key_value_metadata.size());
    for (const auto& [k, v] : m.key_value_metadata) {
      e.list_struct_begin();
      e.field_binary(1, k);
      e.field_binary(2, v);
      e.end_struct();
    }
  }
  if (!m.created_by.empty()) e.field_binary(6, m.created_by);
  e.end_struct();
  return std::move(e.out());
}

std::string encode_page_header(const PageHeader& h, const std::optional<Statistics>& stats) {
  Encoder e;
  e.begin_struct();
  e.field_i32(1, h.type);
  e.field_i32(2, h.uncompressed_page_size);
  e.field_i32(3, h.compressed_page_size);
  if (h.data) {
    e.field_struct_begin(5);
    e.field_i32(1, h.data->num_values);
    e.field_i32(2, h.data->encoding);
    e.field_i32(3, h.data->definition_level_encoding);
    e.field_i32(4, h.data->repetition_level_encoding);
    if (stats) write_statistics(e, 5, *stats);
    e.end_struct();
  }
  if (h.dictionary) {
    e.field_struct_begin(7);
    e.field_i32(1, h.dictionary->num_values);
    e.field_i32(2, h.dictionary->encoding);
    e.end_struct();
  }
  if (h.data_v2) {
    const auto& v = *h.data_v2;
    e.field_struct_begin(8);
    e.field_i32(1, v.num_values);
    e.field_i32(2, v.num_nulls);
    e.field_i32(3, v.num_rows);
    e.field_i32(4, v.encoding);
    e.field_i32(5, v.definition_levels_byte_length);
    e.field_i32(6, v.repetition_levels_byte_length);
    e.field_bool(7, v.is_compressed);
    e.end_struct();
  }
  e.end_struct();
  return std::move(e.out());
}

}  // namespace robotrain::dataset::parquet::format
