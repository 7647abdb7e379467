// Files assembled page by page for shapes that neither our writer nor DuckDB produce but
// pyarrow and older writers do: RLE booleans in v2 pages, DELTA_BYTE_ARRAY, legacy 2-level and
// bare repeated lists, uncompressed v2 values in a compressed chunk, dictionary fallback to
// PLAIN mid-chunk, maps next to readable columns.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "dataset/parquet/compression.h"
#include "dataset/parquet/encoding.h"
#include "dataset/parquet/metadata.h"
#include "dataset/parquet/parquet.h"
#include "parquet_test_util.h"
#include "util/error.h"
#include "util/fs.h"

namespace robotrain::dataset::parquet {
namespace {

using namespace format;

struct Page {
  PageHeader h;
  std::string body;  // as stored (already compressed where the page says so)
};

std::string u32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

std::string rle(const std::vector<uint8_t>& levels, int max) {
  std::string s;
  enc::encode_rle_hybrid(levels.data(), levels.size(), enc::bit_width(max), s);
  return s;
}

SchemaElement elem(const std::string& name, std::optional<int32_t> type, int32_t rep, int children = 0) {
  SchemaElement e;
  e.name = name;
  e.type = type;
  e.repetition = rep;
  e.num_children = children;
  return e;
}

Page v1_page(int32_t n, int32_t encoding, std::string body) {
  Page p;
  p.h.type = DATA_PAGE;
  p.h.uncompressed_page_size = p.h.compressed_page_size = static_cast<int32_t>(body.size());
  p.h.data = DataPageHeader{n, encoding, RLE, RLE};
  p.body = std::move(body);
  return p;
}

// One column chunk per entry of `chunks` (in schema leaf order), one row group.
void write_file(const std::filesystem::path& path, std::vector<SchemaElement> schema, int64_t rows,
                const std::vector<std::pair<std::vector<Page>, ColumnMetaData>>& chunks) {
  std::string file = "PAR1";
  FileMetaData m;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 0;
  m.schema.push_back(root);
  for (auto& e : schema) m.schema.push_back(e);
  m.num_rows = rows;
  RowGroup g;
  g.num_rows = rows;
  for (const auto& [pages, meta_in] : chunks) {
    ColumnChunk c;
    c.has_meta = true;
    c.meta = meta_in;
    c.file_offset = static_cast<int64_t>(file.size());
    c.meta.data_page_offset = static_cast<int64_t>(file.size());
    size_t start = file.size();
    for (const auto& p : pages) {
      if (p.h.type == DICTIONARY_PAGE) c.meta.dictionary_page_offset = static_cast<int64_t>(file.size());
      file += encode_page_header(p.h);
      file += p.body;
    }
    c.meta.total_compressed_size = c.meta.total_uncompressed_size = static_cast<int64_t>(file.size() - start);
    g.columns.push_back(c);
  }
  m.row_groups.push_back(g);
  // The root's child count: top-level elements only.
  int top = 0;
  for (size_t i = 1; i < m.schema.size();) {
    ++top;
    std::function<size_t(size_t)> skip = [&](size_t k) {
      size_t next = k + 1;
      for (int c = 0; c < m.schema[k].num_children; ++c) next = skip(next);
      return next;
    };
    i = skip(i);
  }
  m.schema[0].num_children = top;
  std::string footer = encode_file_metadata(m);
  file += footer + u32(static_cast<uint32_t>(footer.size())) + "PAR1";
  std::ofstream(path, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));
}

ColumnMetaData meta(int32_t type, std::vector<std::string> path, int64_t num_values, int32_t codec = UNCOMPRESSED) {
  ColumnMetaData c;
  c.type = type;
  c.path_in_schema = std::move(path);
  c.num_values = num_values;
  c.codec = codec;
  c.encodings = {PLAIN, RLE};
  return c;
}

TEST(ParquetHandmade, V2RleBooleansAndDeltaByteArrayWithUncompressedValues) {
  util::TempDir dir;
  // b: optional boolean, rows: true, false, null, true, true   (v2 page, values RLE-encoded)
  std::vector<uint8_t> bdefs{1, 1, 0, 1, 1};
  std::string bdef = rle(bdefs, 1);
  std::vector<uint8_t> bits{1, 0, 1, 1};
  std::string bvals = rle(bits, 1);
  bvals = u32(static_cast<uint32_t>(bvals.size())) + bvals;
  std::string bcompressed;
  compress(SNAPPY, reinterpret_cast<const uint8_t*>(bvals.data()), bvals.size(), bcompressed);
  Page bp;
  bp.h.type = DATA_PAGE_V2;
  bp.h.uncompressed_page_size = static_cast<int32_t>(bdef.size() + bvals.size());
  bp.h.compressed_page_size = static_cast<int32_t>(bdef.size() + bcompressed.size());
  bp.h.data_v2 = DataPageHeaderV2{5, 1, 5, RLE, static_cast<int32_t>(bdef.size()), 0, true};
  bp.body = bdef + bcompressed;

  // s: required string, DELTA_BYTE_ARRAY, v2 page with is_compressed = false in a SNAPPY chunk.
  std::vector<std::string> sv{"frame_000001", "frame_000002", "frame_000010", "episode", ""};
  std::string svals;
  enc::encode_delta_byte_array(sv.data(), sv.size(), svals);
  Page sp;
  sp.h.type = DATA_PAGE_V2;
  sp.h.uncompressed_page_size = sp.h.compressed_page_size = static_cast<int32_t>(svals.size());
  sp.h.data_v2 = DataPageHeaderV2{5, 0, 5, DELTA_BYTE_ARRAY, 0, 0, false};
  sp.body = svals;

  auto s = elem("s", BYTE_ARRAY, REQUIRED);
  s.converted_type = CT_UTF8;
  write_file(dir.path() / "f.parquet", {elem("b", BOOLEAN, OPTIONAL), s}, 5,
             {{{bp}, meta(BOOLEAN, {"b"}, 5, SNAPPY)}, {{sp}, meta(BYTE_ARRAY, {"s"}, 5, SNAPPY)}});
  Table t = read_table(dir.path() / "f.parquet");
  const Column& b = t.column("b");
  EXPECT_EQ(b.type, ValueType::Bool);
  ASSERT_EQ(b.num_rows(), 5);
  EXPECT_EQ(b.valid, (std::vector<uint8_t>{1, 1, 0, 1, 1}));
  EXPECT_EQ(b.ints[0], 1);
  EXPECT_EQ(b.ints[1], 0);
  EXPECT_EQ(b.ints[3], 1);
  EXPECT_EQ(b.ints[4], 1);
  EXPECT_EQ(t.column("s").type, ValueType::String);
  EXPECT_EQ(t.column("s").strings, sv);
}

TEST(ParquetHandmade, LegacyTwoLevelAndBareRepeatedLists) {
  util::TempDir dir;
  // l: optional group (LIST) { repeated int32 element }  rows: [1,2], [], null, [3]
  auto l = elem("l", std::nullopt, OPTIONAL, 1);
  l.converted_type = CT_LIST;
  std::vector<uint8_t> lrep{0, 1, 0, 0, 0}, ldef{2, 2, 1, 0, 2};
  int32_t lv[3] = {1, 2, 3};
  std::string lbody = u32(0) + u32(0);  // placeholders replaced below
  std::string rep = rle(lrep, 1), def = rle(ldef, 2);
  lbody = u32(static_cast<uint32_t>(rep.size())) + rep + u32(static_cast<uint32_t>(def.size())) + def +
          std::string(reinterpret_cast<const char*>(lv), 12);
  // x: repeated int64 (bare)  rows: [5, 6], [], [7], []
  std::vector<uint8_t> xrep{0, 1, 0, 0, 0}, xdef{1, 1, 0, 1, 0};
  int64_t xv[3] = {5, 6, 7};
  std::string xr = rle(xrep, 1), xd = rle(xdef, 1);
  std::string xbody = u32(static_cast<uint32_t>(xr.size())) + xr + u32(static_cast<uint32_t>(xd.size())) + xd +
                      std::string(reinterpret_cast<const char*>(xv), 24);
  // The second file row count must agree: use 4 rows for both (l has 4 rows, x has 4 rows).
  write_file(dir.path() / "l.parquet", {l, elem("element", INT32, REPEATED), elem("x", INT64, REPEATED)}, 4,
             {{{v1_page(5, PLAIN, lbody)}, meta(INT32, {"l", "element"}, 5)},
              {{v1_page(5, PLAIN, xbody)}, meta(INT64, {"x"}, 5)}});
  Reader r(dir.path() / "l.parquet");
  ASSERT_EQ(r.info().columns.size(), 2u);
  EXPECT_TRUE(r.info().columns[0].is_list);
  EXPECT_EQ(r.info().columns[0].type, ValueType::Int32);
  Table t = r.read();
  const Column& lc = t.column("l");
  EXPECT_EQ(lc.offsets, (std::vector<int64_t>{0, 2, 2, 2, 3}));
  EXPECT_EQ(lc.ints, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(lc.row_valid, (std::vector<uint8_t>{1, 1, 0, 1}));
  const Column& xc = t.column("x");
  EXPECT_EQ(xc.offsets, (std::vector<int64_t>{0, 2, 2, 3, 3}));
  EXPECT_EQ(xc.ints, (std::vector<int64_t>{5, 6, 7}));
  EXPECT_TRUE(xc.row_valid.empty());
}

TEST(ParquetHandmade, DictionaryFallbackToPlainAndUnsupportedMapNextToIt) {
  util::TempDir dir;
  // c: required double; dictionary {0.5, 2.5}; page 1 dictionary indices, page 2 PLAIN (fallback).
  double dict[2] = {0.5, 2.5};
  Page dp;
  dp.h.type = DICTIONARY_PAGE;
  dp.h.uncompressed_page_size = dp.h.compressed_page_size = 16;
  dp.h.dictionary = DictionaryPageHeader{2, PLAIN_DICTIONARY};
  dp.body = std::string(reinterpret_cast<const char*>(dict), 16);
  std::vector<uint32_t> idx{1, 0, 0, 1};
  std::string ib(1, '\1');
  enc::encode_rle_hybrid(idx.data(), idx.size(), 1, ib);
  double plain[2] = {-1.0, 7.25};
  // m: optional group (MAP) { repeated group key_value { required binary key; optional int32 value } }
  auto mg = elem("m", std::nullopt, OPTIONAL, 1);
  mg.converted_type = CT_MAP;
  auto kv = elem("key_value", std::nullopt, REPEATED, 2);
  std::vector<uint8_t> mrep{0, 0, 0, 0, 0, 0}, mdef{0, 0, 0, 0, 0, 0};
  std::string mr = rle(mrep, 1), md = rle(mdef, 2);
  std::string mbody = u32(static_cast<uint32_t>(mr.size())) + mr + u32(static_cast<uint32_t>(md.size())) + md;
  std::string mr2 = rle(mrep, 1), md2 = rle(mdef, 3);
  std::string mbody2 = u32(static_cast<uint32_t>(mr2.size())) + mr2 + u32(static_cast<uint32_t>(md2.size())) + md2;
  write_file(dir.path() / "d.parquet",
             {elem("c", DOUBLE, REQUIRED), mg, kv, elem("key", BYTE_ARRAY, REQUIRED), elem("value", INT32, OPTIONAL)},
             6,
             {{{dp, v1_page(4, PLAIN_DICTIONARY, ib), v1_page(2, PLAIN, std::string(reinterpret_cast<const char*>(plain), 16))},
               meta(DOUBLE, {"c"}, 6)},
              {{v1_page(6, PLAIN, mbody)}, meta(BYTE_ARRAY, {"m", "key_value", "key"}, 6)},
              {{v1_page(6, PLAIN, mbody2)}, meta(INT32, {"m", "key_value", "value"}, 6)}});
  Reader r(dir.path() / "d.parquet");
  ASSERT_EQ(r.info().columns.size(), 1u);  // the map's leaves are not exposed
  EXPECT_EQ(r.info().unsupported_columns.count("m.key_value.key"), 1u);
  EXPECT_EQ(r.info().unsupported_columns.at("m.key_value.value"), "maps are not supported");
  Table t = r.read();
  EXPECT_EQ(t.column("c").doubles, (std::vector<double>{2.5, 0.5, 0.5, 2.5, -1.0, 7.25}));
  try {
    r.read({"m.key_value.key"});
    FAIL() << "expected an error";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("maps are not supported"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace robotrain::dataset::parquet
