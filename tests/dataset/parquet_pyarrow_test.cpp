// pyarrow as a real peer, both ways. Checked-in fixtures pyarrow wrote with every compression
// and encoding it has (tests/fixtures/parquet/, made by tests/peers/make_parquet_fixtures.py)
// are read value by value against pyarrow's own JSON dump of them; files robotrain writes are
// read by pyarrow and loaded the way LeRobot loads data files, with identical values.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "dataset/parquet/parquet.h"
#include "parquet_test_util.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::dataset::parquet {
namespace {

namespace fs = std::filesystem;
using testing::json_equal;
using testing::row_json;

fs::path fixtures() { return fs::path(test::source_dir()) / "tests/fixtures/parquet"; }

util::Json manifest() { return util::read_json_file(fixtures() / "manifest.json"); }

// robotrain's value type for pyarrow's leaf type.
ValueType expected_type(const std::string& arrow) {
  if (arrow == "int8" || arrow == "int16" || arrow == "int32" || arrow == "uint8" || arrow == "uint16")
    return ValueType::Int32;
  if (arrow == "int64" || arrow == "uint32") return ValueType::Int64;
  if (arrow == "float") return ValueType::Float;
  if (arrow == "double") return ValueType::Double;
  if (arrow == "bool") return ValueType::Bool;
  if (arrow == "string" || arrow == "large_string") return ValueType::String;
  if (arrow == "binary" || arrow == "large_binary" || arrow.rfind("fixed_size_binary", 0) == 0) return ValueType::Binary;
  ADD_FAILURE() << "unexpected pyarrow type " << arrow;
  return ValueType::Int64;
}

// Every column and value of `t` against a dump {columns: [{name, type, list_depth}], rows}.
void expect_matches(const Table& t, const util::Json& dump, const std::string& label) {
  testing::expect_matches_dump(t, dump, label, "pyarrow", [](const util::Json& column) {
    return testing::PeerColumn{expected_type(column["type"]), column["list_depth"].get<int>()};
  });
}

TEST(ParquetPyarrowFixtures, CoverEveryCodecEncodingAndPageVersionPyarrowWrites) {
  util::Json m = manifest();
  std::set<std::string> codecs, encodings, versions;
  for (const auto& c : m["codecs"]) codecs.insert(c.get<std::string>());
  for (const auto& e : m["encodings"]) encodings.insert(e.get<std::string>());
  bool multi_group = false;
  for (const auto& f : m["files"]) {
    versions.insert(f["data_page_version"].get<std::string>());
    multi_group |= f["row_groups"].get<int>() > 1;
    EXPECT_LT(fs::file_size(fixtures() / (f["name"].get<std::string>() + ".parquet")), 20000u) << "fixtures stay small";
  }
  // (pyarrow names LZ4_RAW "LZ4"; it cannot write the legacy Hadoop-framed LZ4, which the
  // encoding tests cover by hand.)
  for (const char* c : {"UNCOMPRESSED", "SNAPPY", "GZIP", "BROTLI", "LZ4", "ZSTD"}) EXPECT_TRUE(codecs.count(c)) << c;
  for (const char* e : {"PLAIN", "RLE", "RLE_DICTIONARY", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
                        "DELTA_BYTE_ARRAY", "BYTE_STREAM_SPLIT"})
    EXPECT_TRUE(encodings.count(e)) << e;
  EXPECT_TRUE(versions.count("1.0") && versions.count("2.0"));
  EXPECT_TRUE(multi_group);
}

TEST(ParquetPyarrowFixtures, EveryValueMatchesWhatPyarrowReads) {
  util::Json m = manifest();
  ASSERT_GE(m["files"].size(), 18u);
  for (const auto& f : m["files"]) {
    const std::string name = f["name"];
    SCOPED_TRACE(name);
    util::Json dump = util::read_json_file(fixtures() / f["expected"].get<std::string>());
    Reader reader(fixtures() / (name + ".parquet"));
    EXPECT_EQ(reader.info().num_row_groups, f["row_groups"].get<int>());
    EXPECT_EQ(reader.info().num_rows, f["num_rows"].get<int64_t>());
    std::set<std::string> unsupported;  // top-level fields (a map has a key and a value leaf)
    for (const auto& [leaf, why] : reader.info().unsupported_columns) unsupported.insert(leaf.substr(0, leaf.find('.')));
    EXPECT_EQ(unsupported.size(), f["unsupported"].size());
    Table all = reader.read();
    expect_matches(all, dump, name);
    // Row group by row group gives the same rows.
    int64_t base = 0;
    for (int g = 0; g < reader.info().num_row_groups; ++g) {
      Table part = reader.read_row_group(g);
      ASSERT_EQ(part.columns.size(), all.columns.size());
      for (size_t c = 0; c < part.columns.size(); ++c)
        for (int64_t r = 0; r < part.num_rows; ++r)
          ASSERT_TRUE(json_equal(row_json(part.columns[c], r), row_json(all.columns[c], base + r),
                                 part.columns[c].type == ValueType::Float))
              << part.columns[c].name << " group " << g << " row " << r;
      base += part.num_rows;
    }
    EXPECT_EQ(base, all.num_rows);
  }
}

// INT96, maps, decimals, lists of structs, float16 and uint64: the rest of the file reads; asking
// for one of them is one line naming the column and the file.
TEST(ParquetPyarrowFixtures, UnsupportedShapesFailNamingTheColumnAndFile) {
  util::Json m = manifest();
  const util::Json* entry = nullptr;
  for (const auto& f : m["files"])
    if (f["name"] == "unsupported") entry = &f;
  ASSERT_NE(entry, nullptr);
  fs::path file = fixtures() / "unsupported.parquet";
  Reader reader(file);
  for (const auto& [column, why] : (*entry)["unsupported"].items()) {
    SCOPED_TRACE(column);
    // The exposed name of a map or a list of structs is its leaf's ("m.key_value.key", ...).
    std::string leaf;
    for (const auto& [name, reason] : reader.info().unsupported_columns)
      if (name == column || name.rfind(column + ".", 0) == 0) leaf = name;
    ASSERT_FALSE(leaf.empty()) << "not reported as unsupported";
    EXPECT_NE(reader.info().unsupported_columns.at(leaf).find(why.get<std::string>()), std::string::npos)
        << reader.info().unsupported_columns.at(leaf);
    try {
      reader.read({leaf});
      ADD_FAILURE() << "read an unsupported column";
    } catch (const util::RuntimeError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find("'" + leaf + "'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(why.get<std::string>()), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  expect_matches(reader.read(), util::read_json_file(fixtures() / "unsupported.json"), "unsupported");
}

// robotrain -> pyarrow: a LeRobot data file under every codec we write, read by pyarrow and
// loaded as LeRobot loads data files (datasets.Dataset.from_parquet with the features LeRobot
// derives from info.json), with the same values and LeRobot's schema.
TEST(ParquetPyarrowPeer, PyarrowAndLeRobotReadWhatWeWrite) {
  const std::string missing = test::peer_missing("pyarrow, datasets, lerobot");
  ASSERT_TRUE(missing.empty()) << "pyarrow/datasets/lerobot are required peers: " << missing;
  Table t;
  t.num_rows = 300;
  Column index = testing::scalar_column("index", ValueType::Int64),
         episode = testing::scalar_column("episode_index", ValueType::Int64),
         frame = testing::scalar_column("frame_index", ValueType::Int64),
         ts = testing::scalar_column("timestamp", ValueType::Float),
         task = testing::scalar_column("task_index", ValueType::Int64),
         done = testing::scalar_column("next.done", ValueType::Bool),
         img_bytes = testing::scalar_column("observation.image.bytes", ValueType::Binary),
         img_path = testing::scalar_column("observation.image.path", ValueType::String);
  Column state = testing::list_column("observation.state", ValueType::Float),
         action = testing::list_column("action", ValueType::Float);
  for (int64_t r = 0; r < t.num_rows; ++r) {
    index.ints.push_back(r);
    episode.ints.push_back(r / 100);
    frame.ints.push_back(r % 100);
    ts.floats.push_back(static_cast<float>(r % 100) / 30.f);
    task.ints.push_back(r / 100 % 2);
    done.ints.push_back(r % 100 == 99);
    img_bytes.strings.push_back(std::string("\x89PNG\r\n", 6) + std::to_string(r));
    img_path.strings.push_back(util::cat("frame_", r, ".png"));
    img_path.valid.push_back(r % 7 != 3);  // LeRobot's decoded images carry bytes and a null path
    for (int k = 0; k < 6; ++k) {
      state.floats.push_back(static_cast<float>(r) * 0.01f + static_cast<float>(k));
      action.floats.push_back(-static_cast<float>(r) / 3.f - static_cast<float>(k));
    }
    state.offsets.push_back(static_cast<int64_t>(state.floats.size()));
    action.offsets.push_back(static_cast<int64_t>(action.floats.size()));
  }
  t.columns = {index, episode, frame, ts, task, done, state, action, img_bytes, img_path};
  util::Json features = {
      {"index", {{"dtype", "int64"}, {"shape", {1}}}},
      {"episode_index", {{"dtype", "int64"}, {"shape", {1}}}},
      {"frame_index", {{"dtype", "int64"}, {"shape", {1}}}},
      {"timestamp", {{"dtype", "float32"}, {"shape", {1}}}},
      {"task_index", {{"dtype", "int64"}, {"shape", {1}}}},
      {"next.done", {{"dtype", "bool"}, {"shape", {1}}}},
      {"observation.state", {{"dtype", "float32"}, {"shape", {6}}}},
      {"action", {{"dtype", "float32"}, {"shape", {6}}}},
      {"observation.image", {{"dtype", "image"}, {"shape", {4, 4, 3}}}},
  };
  util::TempDir dir;
  util::atomic_write_file(dir.path() / "features.json", features.dump());
  for (Compression comp : testing::every_codec()) {
    SCOPED_TRACE(static_cast<int>(comp));
    WriteOptions o;
    o.compression = comp;
    o.row_group_rows = 128;
    o.struct_columns = {"observation.image"};
    o.key_value_metadata["robotrain"] = "yes";
    fs::path file = dir.path() / util::cat("ours_", static_cast<int>(comp), ".parquet");
    fs::path out = dir.path() / util::cat("ours_", static_cast<int>(comp), ".json");
    write_table(file, t, o);
    auto r = test::run_peer_script("parquet_pyarrow_read.py",
                                   {file.string(), out.string(), (dir.path() / "features.json").string()},
                                   {{"HF_HOME", (dir.path() / "hf").string()}}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    util::Json dump = util::read_json_file(out);
    expect_matches(t, dump, file.filename().string());
    EXPECT_EQ(dump["key_value_metadata"]["robotrain"], "yes");
    EXPECT_EQ(dump["arrow_schema"]["observation.image"], "struct<bytes: binary, path: string>");
    ASSERT_FALSE(dump["lerobot"].contains("error")) << dump["lerobot"]["error"];
    EXPECT_TRUE(dump["lerobot"]["same_values"].get<bool>()) << "LeRobot's loader sees other values";
    const auto& schema = dump["lerobot"]["schema"];
    EXPECT_EQ(schema["observation.state"], "fixed_size_list<item: float>[6]");
    EXPECT_EQ(schema["action"], "fixed_size_list<item: float>[6]");
    EXPECT_EQ(schema["index"], "int64");
    EXPECT_EQ(schema["timestamp"], "float");
    EXPECT_EQ(schema["next.done"], "bool");
    EXPECT_EQ(schema["observation.image"], "struct<bytes: binary, path: string>");
  }
}

}  // namespace
}  // namespace robotrain::dataset::parquet
