#pragma once
// Hand-built hostile Parquet files: a valid frame (magic, footer, schema) around page headers
// and counts that lie. Used by the hostile-input tests and to seed the Parquet fuzzer.
#include <zstd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dataset/parquet/encoding.h"
#include "dataset/parquet/metadata.h"

namespace robotrain::dataset::parquet::hostile {

namespace f = format;

// One INT64 leaf (OPTIONAL or REQUIRED) whose column chunk is `pages` verbatim.
struct Chunk {
  std::string name;
  bool optional = false;
  std::string pages;
  int64_t num_values = 0;
  int64_t total_uncompressed = -1;  // -1: the pages' size
  int32_t codec = f::UNCOMPRESSED;
};

inline std::string page(const f::PageHeader& h, const std::string& body) { return f::encode_page_header(h) + body; }

inline f::PageHeader v2_header(int32_t num_values, int32_t usize, int32_t csize, int32_t def_bytes, bool compressed) {
  f::PageHeader h;
  h.type = f::DATA_PAGE_V2;
  h.uncompressed_page_size = usize;
  h.compressed_page_size = csize;
  f::DataPageHeaderV2 v;
  v.num_values = num_values;
  v.num_rows = num_values;
  v.num_nulls = num_values;
  v.encoding = f::PLAIN;
  v.definition_levels_byte_length = def_bytes;
  v.is_compressed = compressed;
  h.data_v2 = v;
  return h;
}

inline f::PageHeader v1_header(int32_t num_values, int32_t usize, int32_t csize, int32_t encoding = f::PLAIN) {
  f::PageHeader h;
  h.type = f::DATA_PAGE;
  h.uncompressed_page_size = usize;
  h.compressed_page_size = csize;
  h.data = f::DataPageHeader{num_values, encoding, f::RLE, f::RLE};
  return h;
}

// An RLE run of `count` copies of `value` (1-byte values): a handful of bytes for any count.
inline std::string rle_run(uint64_t count, uint8_t value) {
  std::string out;
  uint64_t h = count << 1;
  while (h >= 0x80) {
    out.push_back(static_cast<char>((h & 0x7f) | 0x80));
    h >>= 7;
  }
  out.push_back(static_cast<char>(h));
  out.push_back(static_cast<char>(value));
  return out;
}

inline std::string le64(int64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }

// The whole file: one row group holding `chunks`, `num_rows` rows claimed.
inline std::string file(const std::vector<Chunk>& chunks, int64_t num_rows) {
  std::string out = "PAR1";
  f::FileMetaData fm;
  f::SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(chunks.size());
  fm.schema.push_back(root);
  fm.num_rows = num_rows;
  f::RowGroup rg;
  rg.num_rows = num_rows;
  for (const auto& c : chunks) {
    f::SchemaElement e;
    e.type = f::INT64;
    e.repetition = c.optional ? f::OPTIONAL : f::REQUIRED;
    e.name = c.name;
    fm.schema.push_back(e);
    f::ColumnChunk cc;
    cc.file_offset = static_cast<int64_t>(out.size());
    cc.has_meta = true;
    cc.meta.type = f::INT64;
    cc.meta.encodings = {f::PLAIN, f::RLE};
    cc.meta.path_in_schema = {c.name};
    cc.meta.codec = c.codec;
    cc.meta.num_values = c.num_values;
    cc.meta.total_compressed_size = static_cast<int64_t>(c.pages.size());
    cc.meta.total_uncompressed_size = c.total_uncompressed >= 0 ? c.total_uncompressed : static_cast<int64_t>(c.pages.size());
    cc.meta.data_page_offset = static_cast<int64_t>(out.size());
    out += c.pages;
    rg.total_byte_size += cc.meta.total_uncompressed_size;
    rg.columns.push_back(cc);
  }
  fm.row_groups.push_back(rg);
  std::string footer = f::encode_file_metadata(fm);
  out += footer;
  uint32_t n = static_cast<uint32_t>(footer.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out += "PAR1";
  return out;
}

// A valid REQUIRED "length" column of `rows` ones, so hostile columns sit beside a good one.
inline Chunk good_column(const std::string& name, int64_t rows) {
  std::string body;
  for (int64_t i = 0; i < rows; ++i) body += le64(1);
  Chunk c{name, false, page(v1_header(static_cast<int32_t>(rows), static_cast<int32_t>(body.size()),
                                      static_cast<int32_t>(body.size())), body),
          rows};
  return c;
}

// The ~200-byte file that declared 2^31 values: an OPTIONAL int64 column whose uncompressed
// v2 page claims 2^31-1 all-null values in a 6-byte RLE run and a 256 MiB page, with the row
// count to match. Before the fix, reading it zero-filled 2 GiB of levels and 16 GiB of values.
inline std::string sixteen_gib(const std::string& column = "episode_index") {
  const int32_t n = INT32_MAX;
  const std::string defs = rle_run(static_cast<uint64_t>(n), 0);
  Chunk c{column, true,
          page(v2_header(n, 1 << 28, static_cast<int32_t>(defs.size()), static_cast<int32_t>(defs.size()), false), defs),
          n, int64_t(1) << 28};
  return file({c}, n);
}

// The same page with honest counts in the footer: only the page lies, declaring a 256 MiB
// page (and 2^31-1 values) in a column chunk of a few dozen bytes.
inline std::string v2_page_beyond_chunk(const std::string& column = "episode_index") {
  const std::string defs = rle_run(INT32_MAX, 0);
  Chunk c{column, true,
          page(v2_header(INT32_MAX, 1 << 28, static_cast<int32_t>(defs.size()), static_cast<int32_t>(defs.size()), true),
               defs),
          1, -1, f::ZSTD};
  return file({c, good_column("length", 1)}, 1);
}

// A zstd frame of `bytes` zeros, compressed by streaming (never materialised).
inline std::string zstd_zeros(size_t bytes) {
  std::string out;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 19);
  std::vector<char> zeros(1 << 20, 0), buf(ZSTD_CStreamOutSize());
  size_t left = bytes;
  while (true) {
    const size_t take = std::min(left, zeros.size());
    left -= take;
    ZSTD_inBuffer in{zeros.data(), take, 0};
    const ZSTD_EndDirective mode = left == 0 ? ZSTD_e_end : ZSTD_e_continue;
    size_t remaining;
    do {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      remaining = ZSTD_compressStream2(cctx, &o, &in, mode);
      out.append(buf.data(), o.pos);
    } while (mode == ZSTD_e_end ? remaining != 0 : in.pos < in.size);
    if (left == 0) break;
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

// A v1 ZSTD page of 1 GiB of zeros (a few dozen KB compressed) for a one-row column: the
// header, the column chunk's metadata and the frame all agree, only the ratio is absurd.
inline std::string zstd_bomb(const std::string& column = "episode_index") {
  const int32_t usize = 1 << 30;
  const std::string body = zstd_zeros(static_cast<size_t>(usize));
  Chunk c{column, false, page(v1_header(1, usize, static_cast<int32_t>(body.size())), body), 1, usize, f::ZSTD};
  return file({c, good_column("length", 1)}, 1);
}

// A footer whose schema list header claims 2^31-1 elements.
inline std::string huge_thrift_list() {
  std::string footer;
  footer.push_back(static_cast<char>(0x15));  // field 1 (version), i32
  footer.push_back(2);                        // zigzag(1)
  footer.push_back(static_cast<char>(0x19));  // field 2 (schema), list
  footer.push_back(static_cast<char>(0xfc));  // size in a varint, element type struct
  for (uint8_t b : {0xff, 0xff, 0xff, 0xff, 0x07}) footer.push_back(static_cast<char>(b));
  footer += std::string(64, '\0');
  std::string out = "PAR1" + footer;
  uint32_t n = static_cast<uint32_t>(footer.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  return out + "PAR1";
}

// A 400 KB footer listing 400k row groups that are each an empty struct (one byte apiece):
// every list length is honest, yet decoding them would take ~100 bytes per wire byte.
inline std::string empty_struct_flood() {
  std::string footer;
  footer.push_back(static_cast<char>(0x15));
  footer.push_back(2);
  footer.push_back(static_cast<char>(0x49));  // field 4 (row_groups), delta 3 from field 1: list
  footer.push_back(static_cast<char>(0xfc));
  uint64_t n = 400000;
  while (n >= 0x80) {
    footer.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  footer.push_back(static_cast<char>(n));
  footer += std::string(400000, '\0');  // each row group: STOP
  footer.push_back('\0');               // end of FileMetaData
  std::string out = "PAR1" + footer;
  uint32_t len = static_cast<uint32_t>(footer.size());
  out.append(reinterpret_cast<const char*>(&len), 4);
  return out + "PAR1";
}

}  // namespace robotrain::dataset::parquet::hostile
