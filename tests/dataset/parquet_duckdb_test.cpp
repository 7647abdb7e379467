// Cross-checks against DuckDB (the PyPI package, driven by tests/peers/parquet_duckdb_*.py):
// DuckDB writes files with every codec, page version, encoding, list shape and struct we
// support and we must read the same values; we write files and DuckDB must read back exactly
// what we wrote. A missing DuckDB fails the tests (CI must not pass without its peer).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "dataset/parquet/parquet.h"
#include "parquet_test_util.h"
#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::dataset::parquet {
namespace {

namespace fs = std::filesystem;
using testing::json_equal;
using testing::row_json;

util::ProcessResult run_duckdb(const std::string& script, const std::vector<std::string>& args) {
  return test::run_peer_script(script, args, {}, 300);
}

// DuckDB names a column's type as "FLOAT", "FLOAT[]", "DOUBLE[][][]", ...
testing::PeerColumn duckdb_column(const util::Json& column) {
  const std::string duck = column["type"];
  int depth = 0;
  for (size_t p = duck.find('['); p != std::string::npos; p = duck.find('[', p + 1)) ++depth;
  const std::string leaf = duck.substr(0, duck.find('['));
  auto leaf_type = [&]() {
    if (leaf == "INTEGER") return ValueType::Int32;
    if (leaf == "BIGINT" || leaf == "UINTEGER") return ValueType::Int64;
    if (leaf == "FLOAT") return ValueType::Float;
    if (leaf == "DOUBLE") return ValueType::Double;
    if (leaf == "BOOLEAN") return ValueType::Bool;
    if (leaf == "VARCHAR") return ValueType::String;
    if (leaf == "BLOB") return ValueType::Binary;
    ADD_FAILURE() << "unexpected DuckDB type " << duck;
    return ValueType::Int64;
  };
  return {leaf_type(), depth};
}

// Compares every value of `table` with a DuckDB dump {columns: [{name, type}], rows: [...]}.
void expect_matches_dump(const Table& table, const util::Json& dump, const std::string& label) {
  testing::expect_matches_dump(table, dump, label, "DuckDB", duckdb_column);
}

class DuckDBCrossCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    missing_ = test::peer_missing("duckdb");
    if (!missing_.empty()) return;
    dir_ = new util::TempDir("parquet-duckdb");
    auto r = run_duckdb("parquet_duckdb_write.py", {(dir_->path() / "duck").string()});
    if (r.exit_code != 0) {
      write_error_ = util::cat("parquet_duckdb_write.py failed (exit ", r.exit_code, "): ", r.err);
      return;
    }
    manifest_ = util::read_json_file(dir_->path() / "duck" / "manifest.json");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(missing_.empty()) << "DuckDB is a required peer: " << missing_;
    ASSERT_TRUE(write_error_.empty()) << write_error_;
  }

  static inline std::string missing_;
  static inline std::string write_error_;
  static inline util::TempDir* dir_ = nullptr;
  static inline util::Json manifest_;
};

TEST_F(DuckDBCrossCheck, DuckDBFilesCoverEveryEncodingAndCodec) {
  std::set<std::string> enc, codecs;
  for (const auto& e : manifest_["encodings"]) enc.insert(e.get<std::string>());
  for (const auto& c : manifest_["codecs"]) codecs.insert(c.get<std::string>());
  for (const char* want : {"PLAIN", "RLE_DICTIONARY", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
                           "BYTE_STREAM_SPLIT"})
    EXPECT_TRUE(enc.count(want)) << "DuckDB fixtures no longer use " << want;
  for (const char* want : {"UNCOMPRESSED", "SNAPPY", "ZSTD", "GZIP", "LZ4_RAW", "BROTLI"})
    EXPECT_TRUE(codecs.count(want)) << want;
  bool multi_group = false;
  for (const auto& f : manifest_["files"]) multi_group |= f["row_groups"].get<int>() > 1;
  EXPECT_TRUE(multi_group);
}

TEST_F(DuckDBCrossCheck, ReadsEveryValueDuckDBWrote) {
  ASSERT_GE(manifest_["files"].size(), 10u);
  for (const auto& f : manifest_["files"]) {
    const std::string name = f["name"];
    SCOPED_TRACE(name);
    util::Json dump = util::read_json_file(f["json"].get<std::string>());
    Reader reader(f["parquet"].get<std::string>());
    EXPECT_EQ(reader.info().num_row_groups, f["row_groups"].get<int>());
    ASSERT_EQ(reader.info().columns.size(), dump["columns"].size());
    for (size_t c = 0; c < dump["columns"].size(); ++c)
      EXPECT_EQ(reader.info().columns[c].name, dump["columns"][c]["name"].get<std::string>());
    expect_matches_dump(reader.read(), dump, name);
  }
}

TEST_F(DuckDBCrossCheck, ProjectionAndSingleRowGroupsMatchDuckDB) {
  for (const auto& f : manifest_["files"]) {
    if (f["row_groups"].get<int>() < 2) continue;
    util::Json dump = util::read_json_file(f["json"].get<std::string>());
    Reader reader(f["parquet"].get<std::string>());
    Table t = reader.read({"state", "image.path", "s"});
    ASSERT_EQ(t.columns.size(), 3u);
    int64_t base = 0;
    for (int g = 0; g < reader.info().num_row_groups; ++g) {
      Table part = reader.read_row_group(g, {"lf", "image.bytes"});
      for (int64_t r = 0; r < part.num_rows; ++r) {
        ASSERT_TRUE(json_equal(row_json(part.column("lf"), r), dump["rows"][base + r]["lf"], true)) << g << " " << r;
        ASSERT_TRUE(json_equal(row_json(part.column("image.bytes"), r), dump["rows"][base + r]["image.bytes"], false));
      }
      base += part.num_rows;
    }
    EXPECT_EQ(base, t.num_rows);
    for (int64_t r = 0; r < t.num_rows; ++r) {
      ASSERT_TRUE(json_equal(row_json(t.column("state"), r), dump["rows"][r]["state"], true)) << r;
      ASSERT_TRUE(json_equal(row_json(t.column("s"), r), dump["rows"][r]["s"], false)) << r;
    }
    return;  // one multi-row-group file is enough here
  }
  FAIL() << "no multi-row-group file";
}

// The DuckDB files exercise v2 pages and DELTA_* / BYTE_STREAM_SPLIT: corrupt them too.
TEST_F(DuckDBCrossCheck, CorruptDuckDBFilesFailCleanly) {
  int checked = 0;
  for (const auto& f : manifest_["files"]) {
    std::string name = f["name"];
    if (name != "src_uncompressed_v2" && name != "src_snappy_v2" && name != "src_gzip_v1" && name != "src_lz4_v2" &&
        name != "src_brotli_v1")
      continue;
    SCOPED_TRACE(name);
    int failures = testing::fuzz_file(util::read_file(f["parquet"].get<std::string>()), dir_->path(), 17 + checked, 150);
    EXPECT_GT(failures, 30);
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

// Our writer -> DuckDB: every type, nulls, lists (3-level LIST), several row groups, each codec.
TEST_F(DuckDBCrossCheck, DuckDBReadsWhatWeWrite) {
  Table t;
  t.num_rows = 3000;
  Column i32 = testing::scalar_column("i32", ValueType::Int32), i64 = testing::scalar_column("i64", ValueType::Int64),
         f = testing::scalar_column("f", ValueType::Float), d = testing::scalar_column("d", ValueType::Double),
         b = testing::scalar_column("b", ValueType::Bool), s = testing::scalar_column("s", ValueType::String),
         bin = testing::scalar_column("bin", ValueType::Binary), task = testing::scalar_column("task", ValueType::String);
  Column lf = testing::list_column("observation.state", ValueType::Float),
         ls = testing::list_column("ls", ValueType::String), li = testing::list_column("li", ValueType::Int32);
  for (int64_t r = 0; r < t.num_rows; ++r) {
    bool null = r % 9 == 4;
    i32.ints.push_back(static_cast<int32_t>(r * 7919 - 100000));
    i64.ints.push_back(r * 123456789012LL - 5);
    f.floats.push_back(static_cast<float>(r) / 7.f);
    d.doubles.push_back(r * 1e-7 - 3.25);
    b.ints.push_back(r % 3 == 0);
    s.strings.push_back("row " + std::to_string(r) + " é");
    bin.strings.push_back(std::string("\x00\x01\xfe", 3) + std::to_string(r));
    task.strings.push_back(r % 2 ? "pick" : "place");
    for (Column* c : {&i32, &i64, &f, &d, &b, &s, &bin}) c->valid.push_back(!null);
    int len = static_cast<int>(r % 4);
    bool null_list = r % 17 == 3;
    for (Column* c : {&lf, &ls, &li}) {
      c->row_valid.push_back(!null_list);
      int n = null_list ? 0 : len;
      for (int k = 0; k < n; ++k) {
        bool vnull = (r + k) % 10 == 7;
        c->valid.push_back(!vnull);
        if (c == &lf) c->floats.push_back(r + k / 8.f);
        if (c == &ls) c->strings.push_back("v" + std::to_string(r * 10 + k));
        if (c == &li) c->ints.push_back(r * 10 + k);
      }
      c->offsets.push_back(c->offsets.back() + n);
    }
  }
  // LeRobot's per-episode image stats: shape 3x1x1 nested lists (nulls for some rows).
  Column mean = testing::list_column("stats/observation.images.top/mean", ValueType::Double);
  Column grid = testing::list_column("grid", ValueType::Float);
  for (int64_t r = 0; r < t.num_rows; ++r) {
    mean.row_valid.push_back(r % 13 != 2);
    if (r % 13 != 2)
      for (int k = 0; k < 3; ++k) mean.doubles.push_back(r * 0.01 + k);
    mean.offsets.push_back(static_cast<int64_t>(mean.doubles.size()));
    for (int k = 0; k < 6; ++k) {
      grid.floats.push_back(r + k * 0.5f);
      grid.valid.push_back(k != 4);
    }
    grid.offsets.push_back(static_cast<int64_t>(grid.floats.size()));
  }
  // LeRobot image struct<bytes: binary, path: string>, written as a struct.
  Column img_bytes = testing::scalar_column("observation.image.bytes", ValueType::Binary);
  Column img_path = testing::scalar_column("observation.image.path", ValueType::String);
  for (int64_t r = 0; r < t.num_rows; ++r) {
    img_bytes.strings.push_back(std::string("\x89PNG", 4) + std::to_string(r));
    img_path.strings.push_back("frame_" + std::to_string(r) + ".png");
    img_path.valid.push_back(r % 4 != 1);
  }
  t.columns = {i32, i64, f, d, b, s, bin, task, lf, ls, li, mean, grid, img_bytes, img_path};
  for (Compression comp : testing::every_codec()) {
    WriteOptions o;
    o.compression = comp;
    o.row_group_rows = 1000;
    o.key_value_metadata["huggingface"] = "{\"info\": 1}";
    o.list_shapes["stats/observation.images.top/mean"] = {3, 1, 1};
    o.list_shapes["grid"] = {2, 3};
    o.struct_columns = {"observation.image"};
    fs::path file = dir_->path() / util::cat("ours_", static_cast<int>(comp), ".parquet");
    fs::path out = dir_->path() / util::cat("ours_", static_cast<int>(comp), ".json");
    write_table(file, t, o);
    auto r = run_duckdb("parquet_duckdb_read.py", {file.string(), out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    util::Json dump = util::read_json_file(out);
    expect_matches_dump(t, dump, file.filename().string());
    EXPECT_EQ(dump["columns"][11]["type"], "DOUBLE[][][]");
    EXPECT_EQ(dump["columns"][12]["type"], "FLOAT[][]");
    EXPECT_EQ(dump["columns"].size(), 15u);  // the struct's two fields, flattened by the dump
    EXPECT_EQ(dump["struct_types"]["observation.image"], "STRUCT(bytes BLOB, path VARCHAR)");
    EXPECT_TRUE(json_equal(dump["rows"][1]["stats/observation.images.top/mean"],
                           util::Json::parse("[[[0.01]],[[1.01]],[[2.01]]]"), false))
        << dump["rows"][1]["stats/observation.images.top/mean"].dump();
    EXPECT_TRUE(json_equal(dump["rows"][0]["grid"], util::Json::parse("[[0,0.5,1],[1.5,null,2.5]]"), true))
        << dump["rows"][0]["grid"].dump();
    EXPECT_EQ(dump["key_value_metadata"]["huggingface"], "{\"info\": 1}");
  }
}

}  // namespace
}  // namespace robotrain::dataset::parquet
