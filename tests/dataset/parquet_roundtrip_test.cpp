// Write -> read round trips of every value type, list shape, null pattern and codec.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>

#include "dataset/parquet/metadata.h"
#include "dataset/parquet/parquet.h"
#include "parquet_test_util.h"
#include "util/error.h"
#include "util/fs.h"

namespace robotrain::dataset::parquet {
namespace {

using testing::expect_same_column;
using testing::list_column;
using testing::scalar_column;

// A table with one column of every type, nulls sprinkled in, plus lists of each shape.
Table sample_table(int64_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  Table t;
  t.num_rows = rows;
  Column i32 = scalar_column("i32", ValueType::Int32), i64 = scalar_column("i64", ValueType::Int64),
         f = scalar_column("f", ValueType::Float), d = scalar_column("d", ValueType::Double),
         b = scalar_column("b", ValueType::Bool), s = scalar_column("s", ValueType::String),
         bin = scalar_column("bin", ValueType::Binary), cat = scalar_column("cat", ValueType::String);
  Column lf = list_column("lf", ValueType::Float), li = list_column("li", ValueType::Int64),
         ls = list_column("ls", ValueType::String), ld = list_column("ld", ValueType::Double);
  for (int64_t r = 0; r < rows; ++r) {
    bool null = r % 7 == 3;
    i32.ints.push_back(static_cast<int32_t>(rng()));
    i64.ints.push_back((static_cast<int64_t>(rng()) << 32) | rng());
    f.floats.push_back(static_cast<float>(rng() % 100000) / 7.f);
    d.doubles.push_back(static_cast<double>(rng()) / 3.0);
    b.ints.push_back(rng() & 1);
    s.strings.push_back("str" + std::to_string(rng() % 1000) + std::string(r % 5, 'x'));
    bin.strings.push_back(std::string("\0\xff", 2) + std::to_string(r));
    cat.strings.push_back(r % 3 == 0 ? "alpha" : r % 3 == 1 ? "beta" : "gamma");
    for (Column* c : {&i32, &i64, &f, &d, &b, &s, &bin}) c->valid.push_back(!null);
    // Lists: length r % 5, a null list every 11 rows, a null element every 13 values.
    for (Column* c : {&lf, &li, &ls, &ld}) {
      bool null_row = r % 11 == 5;
      c->row_valid.push_back(!null_row);
      int len = null_row ? 0 : static_cast<int>(r % 5);
      for (int k = 0; k < len; ++k) {
        int64_t v = c->offsets.back() + k;
        bool vnull = v % 13 == 6;
        c->valid.push_back(!vnull);
        if (c == &lf) c->floats.push_back(vnull ? 0.f : static_cast<float>(r) + k * 0.25f);
        if (c == &li) c->ints.push_back(vnull ? 0 : r * 100 + k);
        if (c == &ls) c->strings.push_back(vnull ? "" : "e" + std::to_string(r) + "_" + std::to_string(k));
        if (c == &ld) c->doubles.push_back(vnull ? 0.0 : r * 1e-3 + k);
      }
      c->offsets.push_back(c->offsets.back() + len);
    }
  }
  t.columns = {i32, i64, f, d, b, s, bin, cat, lf, li, ls, ld};
  return t;
}

void expect_same_table(const Table& want, const Table& got) {
  ASSERT_EQ(want.num_rows, got.num_rows);
  ASSERT_EQ(want.columns.size(), got.columns.size());
  for (size_t i = 0; i < want.columns.size(); ++i) expect_same_column(want.columns[i], got.columns[i]);
}

class RoundTrip : public ::testing::TestWithParam<Compression> {};

TEST_P(RoundTrip, EveryTypeWithNullsListsAndRowGroups) {
  util::TempDir dir;
  Table t = sample_table(1000, 42);
  WriteOptions o;
  o.compression = GetParam();
  o.row_group_rows = 300;
  o.key_value_metadata["huggingface"] = R"({"info": {"features": {}}})";
  auto path = dir.path() / "t.parquet";
  write_table(path, t, o);
  Reader r(path);
  EXPECT_EQ(r.info().num_rows, 1000);
  EXPECT_EQ(r.info().num_row_groups, 4);
  EXPECT_EQ(r.info().key_value_metadata.at("huggingface"), o.key_value_metadata["huggingface"]);
  ASSERT_EQ(r.info().columns.size(), t.columns.size());
  for (size_t i = 0; i < t.columns.size(); ++i) {
    EXPECT_EQ(r.info().columns[i].name, t.columns[i].name);
    EXPECT_EQ(r.info().columns[i].type, t.columns[i].type);
    EXPECT_EQ(r.info().columns[i].is_list, t.columns[i].is_list);
  }
  expect_same_table(t, r.read());
}

INSTANTIATE_TEST_SUITE_P(Codecs, RoundTrip, ::testing::ValuesIn(testing::every_codec()));

TEST(ParquetRoundTrip, NoNullsAreReportedAsNoValidity) {
  util::TempDir dir;
  Table t;
  t.num_rows = 3;
  Column a = scalar_column("a", ValueType::Int64);
  a.ints = {1, 2, 3};
  Column l = list_column("l", ValueType::Float);
  l.floats = {1, 2, 3, 4, 5, 6};
  l.offsets = {0, 2, 4, 6};
  t.columns = {a, l};
  write_table(dir.path() / "t.parquet", t);
  Table got = read_table(dir.path() / "t.parquet");
  EXPECT_TRUE(got.column("a").valid.empty());
  EXPECT_TRUE(got.column("l").valid.empty());
  EXPECT_TRUE(got.column("l").row_valid.empty());
  EXPECT_EQ(got.column("l").offsets, (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(got.column("l").floats, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(ParquetRoundTrip, ProjectionAndRowGroupsReadOnlyWhatIsAsked) {
  util::TempDir dir;
  Table t = sample_table(500, 7);
  WriteOptions o;
  o.row_group_rows = 200;
  write_table(dir.path() / "t.parquet", t, o);
  Reader r(dir.path() / "t.parquet");
  Table two = r.read({"ls", "i64"});
  ASSERT_EQ(two.columns.size(), 2u);
  EXPECT_EQ(two.columns[0].name, "ls");
  EXPECT_EQ(two.columns[1].name, "i64");
  expect_same_column(t.column("ls"), two.columns[0]);
  expect_same_column(t.column("i64"), two.columns[1]);

  Table g1 = r.read_row_group(1, {"lf", "s"});
  EXPECT_EQ(g1.num_rows, 200);
  const Column& lf = g1.column("lf");
  const Column& all = t.column("lf");
  ASSERT_EQ(lf.num_rows(), 200);
  for (int64_t row = 0; row < 200; ++row)
    EXPECT_EQ(testing::row_json(lf, row), testing::row_json(all, row + 200)) << row;
  EXPECT_EQ(g1.column("s").strings[0], t.column("s").strings[200]);
  EXPECT_THROW(r.read_row_group(3), util::RuntimeError);
}

TEST(ParquetRoundTrip, LargeColumnsSpanManyPagesAndKeepFloatsExact) {
  util::TempDir dir;
  Table t;
  t.num_rows = 100000;
  Column state = list_column("observation.state", ValueType::Float);
  Column idx = scalar_column("index", ValueType::Int64);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t r = 0; r < t.num_rows; ++r) {
    for (int k = 0; k < 14; ++k) state.floats.push_back(u(rng));
    state.offsets.push_back(state.offsets.back() + 14);
    idx.ints.push_back(r);
  }
  t.columns = {idx, state};
  for (Compression c : {Compression::Snappy, Compression::Zstd}) {
    WriteOptions o;
    o.compression = c;
    write_table(dir.path() / "big.parquet", t, o);
    Table got = read_table(dir.path() / "big.parquet");
    EXPECT_EQ(got.column("observation.state").floats, state.floats);
    EXPECT_EQ(got.column("observation.state").offsets, state.offsets);
    EXPECT_EQ(got.column("index").ints, idx.ints);
  }
}

TEST(ParquetRoundTrip, DictionaryOnlyWhereItPays) {
  util::TempDir dir;
  Table t;
  t.num_rows = 20000;
  Column cat = scalar_column("task", ValueType::String);
  for (int64_t r = 0; r < t.num_rows; ++r) cat.strings.push_back(r % 2 ? "pick up the cube and place it" : "stack");
  t.columns = {cat};
  WriteOptions with, without;
  with.compression = without.compression = Compression::Uncompressed;
  without.dictionary = false;
  write_table(dir.path() / "d.parquet", t, with);
  write_table(dir.path() / "p.parquet", t, without);
  auto dsize = std::filesystem::file_size(dir.path() / "d.parquet");
  auto psize = std::filesystem::file_size(dir.path() / "p.parquet");
  EXPECT_LT(dsize * 20, psize);
  expect_same_column(cat, read_table(dir.path() / "d.parquet").column("task"));
  expect_same_column(cat, read_table(dir.path() / "p.parquet").column("task"));
}

TEST(ParquetRoundTrip, NestedFixedShapeListsReadBackFlattened) {
  util::TempDir dir;
  Table t;
  t.num_rows = 4;
  Column m = list_column("mean", ValueType::Double);
  for (int r = 0; r < 4; ++r) {
    m.row_valid.push_back(r != 2);
    if (r != 2)
      for (int k = 0; k < 3; ++k) m.doubles.push_back(r + k * 0.1);
    m.offsets.push_back(static_cast<int64_t>(m.doubles.size()));
  }
  t.columns = {m};
  WriteOptions o;
  o.list_shapes["mean"] = {3, 1, 1};
  write_table(dir.path() / "n.parquet", t, o);
  Table got = read_table(dir.path() / "n.parquet");
  expect_same_column(m, got.column("mean"));
  EXPECT_TRUE(got.column("mean").is_list);

  o.list_shapes["mean"] = {2, 2};  // 3 values per row do not fit
  EXPECT_THROW(write_table(dir.path() / "bad.parquet", t, o), util::RuntimeError);
}

TEST(ParquetRoundTrip, StructColumnsReadBackAsDottedLeaves) {
  util::TempDir dir;
  Table t;
  t.num_rows = 3;
  Column bytes = scalar_column("observation.image.bytes", ValueType::Binary);
  bytes.strings = {"a", std::string("\0b", 2), "c"};
  Column x = scalar_column("x", ValueType::Int64);
  x.ints = {1, 2, 3};
  Column path = scalar_column("observation.image.path", ValueType::String);
  path.strings = {"p0", "", "p2"};
  path.valid = {1, 0, 1};
  t.columns = {bytes, x, path};
  WriteOptions o;
  o.struct_columns = {"observation.image"};
  write_table(dir.path() / "s.parquet", t, o);
  Reader r(dir.path() / "s.parquet");
  ASSERT_EQ(r.info().columns.size(), 3u);
  EXPECT_EQ(r.info().columns[0].name, "observation.image.bytes");  // schema order: the struct first
  EXPECT_EQ(r.info().columns[1].name, "observation.image.path");
  EXPECT_EQ(r.info().columns[2].name, "x");
  Table got = r.read();
  expect_same_column(bytes, got.column("observation.image.bytes"));
  expect_same_column(path, got.column("observation.image.path"));
  expect_same_column(x, got.column("x"));
}

// Projection reads only the requested column chunks: wiping another column's bytes on disk
// does not affect it, while asking for the wiped column fails naming it.
TEST(ParquetRoundTrip, ProjectionNeverTouchesOtherColumnChunks) {
  util::TempDir dir;
  Table t = sample_table(300, 3);
  WriteOptions o;
  o.row_group_rows = 100;
  auto path = dir.path() / "t.parquet";
  write_table(path, t, o);
  std::string bytes = util::read_file(path);
  uint32_t footer_len;
  std::memcpy(&footer_len, bytes.data() + bytes.size() - 8, 4);
  auto meta = format::decode_file_metadata(
      reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size() - 8 - footer_len, footer_len);
  for (const auto& rg : meta.row_groups)
    for (const auto& cc : rg.columns)
      if (cc.meta.path_in_schema[0] == "ls") {
        int64_t start = cc.meta.dictionary_page_offset.value_or(cc.meta.data_page_offset);
        std::memset(bytes.data() + start, 0xff, static_cast<size_t>(cc.meta.total_compressed_size));
      }
  util::atomic_write_file(path, bytes);
  Reader r(path);
  Table got = r.read({"lf", "s", "li"});
  expect_same_column(t.column("lf"), got.column("lf"));
  expect_same_column(t.column("s"), got.column("s"));
  try {
    r.read({"ls"});
    FAIL() << "expected an error";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("column 'ls' row group 0"), std::string::npos) << e.what();
  }
}

TEST(ParquetRoundTrip, OneReaderServesSeveralThreads) {
  util::TempDir dir;
  Table t = sample_table(2000, 11);
  WriteOptions o;
  o.row_group_rows = 500;
  write_table(dir.path() / "t.parquet", t, o);
  Reader r(dir.path() / "t.parquet");
  std::vector<Table> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { got[i] = r.read_row_group(i); });
  for (auto& th : threads) th.join();
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(got[i].num_rows, 500);
    for (int64_t row = 0; row < 500; row += 37)
      EXPECT_EQ(testing::row_json(got[i].column("ls"), row), testing::row_json(t.column("ls"), i * 500 + row)) << i << " " << row;
  }
}

TEST(ParquetRoundTrip, NullFirstRowsAreKept) {
  util::TempDir dir;
  Table t;
  t.num_rows = 3;
  Column l = list_column("l", ValueType::Float);
  l.floats = {1, 2};
  l.offsets = {0, 0, 2, 2};
  l.row_valid = {0, 1, 1};
  Column v = scalar_column("v", ValueType::String);
  v.strings = {"", "x", "y"};
  v.valid = {0, 1, 1};
  t.columns = {l, v};
  write_table(dir.path() / "n.parquet", t);
  Table got = read_table(dir.path() / "n.parquet");
  EXPECT_EQ(got.column("l").row_valid, (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(got.column("l").offsets, (std::vector<int64_t>{0, 0, 2, 2}));
  EXPECT_EQ(got.column("v").valid, (std::vector<uint8_t>{0, 1, 1}));
}

TEST(ParquetRoundTrip, EmptyTableAndEmptyLists) {
  util::TempDir dir;
  Table t;
  Column a = scalar_column("a", ValueType::Double);
  Column l = list_column("l", ValueType::Int32);
  t.columns = {a, l};
  write_table(dir.path() / "e.parquet", t);
  Reader r(dir.path() / "e.parquet");
  EXPECT_EQ(r.info().num_rows, 0);
  Table got = r.read();
  EXPECT_EQ(got.column("l").num_rows(), 0);

  Table t2;
  t2.num_rows = 3;
  Column l2 = list_column("l", ValueType::String);
  l2.offsets = {0, 0, 0, 0};
  t2.columns = {l2};
  write_table(dir.path() / "e2.parquet", t2);
  Table got2 = read_table(dir.path() / "e2.parquet");
  EXPECT_EQ(got2.column("l").offsets, (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(ParquetRoundTrip, ErrorsNameTheFileAndColumn) {
  util::TempDir dir;
  try {
    Reader r(dir.path() / "missing.parquet");
    FAIL() << "expected an error";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.parquet"), std::string::npos);
  }
  util::atomic_write_file(dir.path() / "text.parquet", "this is not a parquet file at all");
  EXPECT_THROW(Reader(dir.path() / "text.parquet"), util::RuntimeError);

  Table t = sample_table(10, 1);
  write_table(dir.path() / "t.parquet", t);
  try {
    read_table(dir.path() / "t.parquet", {"nope"});
    FAIL() << "expected an error";
  } catch (const util::RuntimeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'nope'"), std::string::npos) << m;
    EXPECT_NE(m.find("i64"), std::string::npos) << m;  // lists the columns that exist
  }
  Table bad;
  bad.num_rows = 2;
  Column a = scalar_column("a", ValueType::Int64);
  a.ints = {1};
  bad.columns = {a};
  EXPECT_THROW(write_table(dir.path() / "bad.parquet", bad), util::RuntimeError);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "bad.parquet"));
}

}  // namespace
}  // namespace robotrain::dataset::parquet
