// Values from a dataset are untrusted: template widths, JSON types, paths, task indices,
// episode lengths, stats shapes, PNG headers and non-regular files are checked (InputError or
// a named RuntimeError) before anything is sized or opened from them. The corpus in
// tests/integration/dataset_corruption_test.cpp runs the same through the real binary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <functional>

#include "dataset/info.h"
#include "dataset/lerobot_dataset.h"
#include "dataset/png.h"
#include "dataset/staging.h"
#include "dataset/stats.h"
#include "dataset/untrusted.h"
#include "dataset_fixtures.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

using namespace robotrain;
using namespace robotrain::dataset;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const util::Error& e) {
    return e.what();
  }
  return "(no error)";
}

void edit_info(const fs::path& root, const std::function<void(util::Json&)>& f) {
  auto j = util::read_json_file(root / "meta/info.json");
  f(j);
  util::write_json_file(root / "meta/info.json", j);
}

}  // namespace

TEST(PathTemplate, WidthsAreBoundedBeforeTheyAllocate) {
  EXPECT_EQ(format_path_template("e{i:032d}", {{"i", int64_t{7}}}), std::string("e") + std::string(31, '0') + "7");
  // The width that OOM-killed a machine: refused without building the string.
  const auto e = error_of([] { format_path_template("data/chunk-{chunk_index:02000000000d}", {{"chunk_index", int64_t{0}}}); });
  EXPECT_NE(e.find("width 02000000000d is more than 32 digits"), std::string::npos) << e;
  EXPECT_THROW(format_path_template("x{i:-5d}", {{"i", int64_t{1}}}), util::InputError);
  EXPECT_THROW(format_path_template("x{i:+d}", {{"i", int64_t{1}}}), util::InputError);
  EXPECT_THROW(format_path_template("x{i", {{"i", int64_t{1}}}), util::InputError);
  EXPECT_THROW(format_path_template(std::string(5000, 'a'), {}), util::InputError);  // longer than PATH_MAX
}

TEST(Untrusted, PathsStayInsideTheRoot) {
  const fs::path root = "/data/ds";
  EXPECT_EQ(path_inside(root, "data/chunk-000/file-000.parquet", "x"), fs::path("/data/ds/data/chunk-000/file-000.parquet"));
  EXPECT_EQ(path_inside(root, "a/../b.png", "x"), fs::path("/data/ds/b.png"));
  for (const char* bad : {"../x", "a/../../x", "/etc/passwd", "", ".", "videos/../.."}) {
    EXPECT_THROW(path_inside(root, bad, "image path"), util::InputError) << bad;
  }
  EXPECT_NE(error_of([&] { path_inside(root, "../../escape", "video path of episode 0"); }).find("leaves the dataset folder"),
            std::string::npos);
}

TEST(Untrusted, FeatureKeysCannotNameOtherFolders) {
  check_feature_key("observation.images.cam0");
  check_feature_key("action");
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "../../x", "a/b", "a\\b", "a\nb", std::string(300, 'k')})
    EXPECT_THROW(check_feature_key(bad), util::InputError) << bad;
  // A newline in a key is shown escaped: messages stay one line.
  EXPECT_EQ(error_of([] { check_feature_key("a\nb"); }).find('\n'), std::string::npos);
}

TEST(Untrusted, JsonIntegersAreTypedAndRanged) {
  auto j = util::Json::parse(R"({"a": 3, "b": 3.0, "c": "3", "d": 3.5, "e": -1, "f": true, "g": 18446744073709551615, "h": null})");
  EXPECT_EQ(json_int_field(j, "a", 0, 10, "f.json"), 3);
  EXPECT_EQ(json_int_field(j, "b", 0, 10, "f.json"), 3);
  EXPECT_FALSE(json_int_field(j, "h", 0, 10, "f.json"));
  EXPECT_FALSE(json_int_field(j, "missing", 0, 10, "f.json"));
  for (const char* k : {"c", "d", "e", "f", "g"}) EXPECT_THROW(json_int_field(j, k, 0, 10, "f.json"), util::InputError) << k;
  EXPECT_NE(error_of([&] { json_int_field(j, "c", 0, 10, "f.json"); }).find("\"c\" is a JSON string"), std::string::npos);
  EXPECT_EQ(checked_int(5.0, 0, 10, "x"), 5);
  for (double bad : {std::nan(""), 1e300, -1.0, 2.5}) EXPECT_THROW(checked_int(bad, 0, 10, "x"), util::InputError);
}

TEST(Untrusted, FeatureTypesAndShapesAreChecked) {
  std::vector<std::string> w;
  auto parse = [&](const char* text) { return parse_features(util::Json::parse(text), w); };
  EXPECT_THROW(parse(R"({"a": {"dtype": 32, "shape": [2]}})"), util::InputError);
  EXPECT_THROW(parse(R"({"a": {"dtype": "float32", "shape": [-2]}})"), util::InputError);
  EXPECT_THROW(parse(R"({"a": {"dtype": "float32", "shape": []}})"), util::InputError);
  EXPECT_THROW(parse(R"({"a": {"dtype": "float32", "shape": "2"}})"), util::InputError);
  EXPECT_THROW(parse(R"({"a": {"dtype": "float32", "shape": [1e3]}})"), util::InputError);
  EXPECT_THROW(parse(R"({"a": {"dtype": "float32", "shape": [100000000000]}})"), util::InputError);
  EXPECT_THROW(parse(R"({"a": {"dtype": "float32", "shape": [4096, 4096]}})"), util::InputError);  // 16M values per frame
  EXPECT_THROW(parse(R"({"c": {"dtype": "video", "shape": [64, 64]}})"), util::InputError);
  EXPECT_THROW(parse(R"({"../c": {"dtype": "video", "shape": [64, 64, 3]}})"), util::InputError);
  EXPECT_THROW(parse(R"([])"), util::InputError);
  EXPECT_EQ(parse(R"({"t": {"dtype": "string", "shape": null}})").front().shape.size(), 0u);
  EXPECT_EQ(parse(R"({"c": {"dtype": "video", "shape": [2160, 3840, 3]}})").front().shape[1], 3840);
}

TEST(Untrusted, InfoJsonTypesAreInputErrors) {
  util::TempDir tmp;
  test::write_v21_fixture(tmp.path() / "ds");
  const fs::path ds = tmp.path() / "ds";
  const auto good = util::read_file(ds / "meta/info.json");
  auto expect = [&](const std::function<void(util::Json&)>& edit, const std::string& needle) {
    util::atomic_write_file(ds / "meta/info.json", good);
    edit_info(ds, edit);
    const auto e = error_of([&] { load_metadata(ds); });
    EXPECT_NE(e.find(needle), std::string::npos) << e;
    EXPECT_THROW(load_metadata(ds), util::InputError) << needle;
  };
  expect([](util::Json& j) { j["fps"] = "10"; }, "\"fps\" is a JSON string (\"10\"), a number is expected");
  expect([](util::Json& j) { j["fps"] = 0; }, "\"fps\" is 0");
  expect([](util::Json& j) { j["codebase_version"] = 2.1; }, "\"codebase_version\" is a JSON number");
  expect([](util::Json& j) { j["chunks_size"] = 0; }, "\"chunks_size\" is 0");
  expect([](util::Json& j) { j["total_frames"] = "16"; }, "\"total_frames\" is a JSON string");
  expect([](util::Json& j) { j["data_path"] = 7; }, "\"data_path\" is a JSON number");
  expect([](util::Json& j) { j["data_path"] = "/etc/{episode_index}"; }, "is an absolute path");
  expect([](util::Json& j) { j["features"]["action"]["shape"] = {3}; }, "holds 2 value(s) but the feature has 3");
  util::atomic_write_file(ds / "meta/info.json", "[1, 2]");
  EXPECT_THROW(load_metadata(ds), util::InputError);
  util::atomic_write_file(ds / "meta/info.json", "{\"fps\": ");
  EXPECT_NE(error_of([&] { load_metadata(ds); }).find("invalid JSON"), std::string::npos);
  fs::remove(ds / "meta/info.json");
  fs::create_directories(ds / "meta/info.json");
  EXPECT_NE(error_of([&] { load_metadata(ds); }).find("is a directory, not a regular file"), std::string::npos);
}

TEST(Untrusted, TaskIndicesAndLengthsAreBoundedByTheFiles) {
  util::TempDir tmp;
  const fs::path ds = tmp.path() / "ds";
  test::write_v21_fixture(ds);
  const auto tasks = util::read_file(ds / "meta/tasks.jsonl");
  util::atomic_write_file(ds / "meta/tasks.jsonl", "{\"task_index\": 200000000, \"task\": \"pick\"}\n{\"task_index\": 1, \"task\": \"place\"}\n");
  EXPECT_NE(error_of([&] { load_metadata(ds); }).find("task_index 200000000 is outside [0, 2)"), std::string::npos);
  util::atomic_write_file(ds / "meta/tasks.jsonl", "{\"task_index\": 1, \"task\": \"pick\"}\n{\"task_index\": 1, \"task\": \"place\"}\n");
  EXPECT_NE(error_of([&] { load_metadata(ds); }).find("appears twice"), std::string::npos);
  util::atomic_write_file(ds / "meta/tasks.jsonl", tasks);

  const auto episodes = util::read_file(ds / "meta/episodes.jsonl");
  util::atomic_write_file(ds / "meta/episodes.jsonl",
                          util::replace_all(episodes, "\"length\": 8}", "\"length\": 4000000000000}"));
  const auto e = error_of([&] { load_metadata(ds); });
  EXPECT_NE(e.find("claim 4000000000000 frames but the file holds 8 rows"), std::string::npos) << e;
  util::atomic_write_file(ds / "meta/episodes.jsonl", util::replace_all(episodes, "\"length\": 8}", "\"length\": \"8\"}"));
  EXPECT_THROW(load_metadata(ds), util::InputError);
  // A file without newlines is not read into one string of its whole size.
  util::atomic_write_file(ds / "meta/episodes.jsonl", std::string(kMaxJsonlLineBytes + 10, ' '));
  EXPECT_NE(error_of([&] { load_metadata(ds); }).find("line longer than"), std::string::npos);
}

TEST(Untrusted, FifosAreRefusedNotOpened) {
  util::TempDir tmp;
  const fs::path ds = tmp.path() / "ds";
  test::write_v21_fixture(ds);
  for (const char* rel : {"data/chunk-000/episode_000001.parquet", "meta/episodes.jsonl", "meta/info.json"}) {
    const auto saved = util::read_file(ds / rel);
    fs::remove(ds / rel);
    ASSERT_EQ(::mkfifo((ds / rel).c_str(), 0644), 0);
    // Opening a FIFO for reading would block forever; the check comes first.
    const auto e = error_of([&] { load_metadata(ds); });
    EXPECT_NE(e.find("is a FIFO, not a regular file"), std::string::npos) << rel << ": " << e;
    fs::remove(ds / rel);
    util::atomic_write_file(ds / rel, saved);
  }
  EXPECT_NO_THROW(load_metadata(ds));
}

TEST(Untrusted, StatsMustBeRectangularNumbers) {
  EXPECT_THROW(stats_from_json(util::Json::parse(R"({"a": {"mean": "abc"}})")), util::InputError);
  EXPECT_THROW(stats_from_json(util::Json::parse(R"({"a": {"mean": [[1], [2, 3]]}})")), util::InputError);
  EXPECT_THROW(stats_from_json(util::Json::parse(R"({"a": {"mean": [1, [2]]}})")), util::InputError);
  EXPECT_THROW(stats_from_json(util::Json::parse(R"({"a": [1, 2]})")), util::InputError);
  EXPECT_THROW(stats_from_json(util::Json::parse(R"([])")), util::InputError);
  auto s = stats_from_json(util::Json::parse(R"({"cam": {"mean": [[[0.1]], [[0.2]], [[0.3]]], "count": 5}})"));
  EXPECT_EQ(s.at("cam").shapes.at("mean"), (std::vector<int64_t>{3, 1, 1}));
  // Parts of different sizes are refused rather than read past.
  DatasetStats a = stats_from_json(util::Json::parse(R"({"x": {"mean": [1, 2], "std": [1, 1], "min": [0, 0], "max": [2, 2], "count": [3]}})"));
  DatasetStats b = stats_from_json(util::Json::parse(R"({"x": {"mean": [1], "std": [1], "min": [0], "max": [2], "count": [3]}})"));
  EXPECT_THROW(aggregate_stats({a, b}), util::InputError);
  // A shape that does not cover the values is written flat, never read past.
  a.at("x").shapes["mean"] = {3, 4};
  EXPECT_EQ(stats_to_json(a)["x"]["mean"].size(), 2u);
}

TEST(Png, HeaderAndCrcsAreCheckedBeforeDecoding) {
  std::vector<uint8_t> rgb(8 * 6 * 3, 100);
  const std::string png = encode_png(rgb.data(), 8, 6);
  auto h = check_png(png, "img");
  EXPECT_EQ(h.width, 8);
  EXPECT_EQ(h.height, 6);
  EXPECT_EQ(decode_png(png, "img", 8, 6).width, 8);
  // Smaller, larger and transposed images are named with both sizes.
  EXPECT_NE(error_of([&] { decode_png(png, "row 3", 6, 8); }).find("row 3: image is 8x6 (width x height) but meta/info.json declares 6x8"),
            std::string::npos);
  EXPECT_THROW(decode_png(png, "x", 16, 12), util::RuntimeError);
  std::string damaged = png;
  damaged[damaged.size() / 2] ^= 0x5a;
  EXPECT_NE(error_of([&] { check_png(damaged, "x"); }).find("fails its CRC"), std::string::npos);
  EXPECT_NE(error_of([&] { check_png(png.substr(0, png.size() - 20), "x"); }).find("truncated PNG"), std::string::npos);
  EXPECT_THROW(check_png("GIF89a....", "x"), util::RuntimeError);
}

TEST(LoaderImages, ASmallerOrTransposedImageIsNamedNotReadAsGarbage) {
  util::TempDir tmp;
  test::FixtureOptions o;
  o.image_key = "observation.images.wrist";  // declared [6, 8, 3]
  test::write_v21_fixture(tmp.path(), o);
  const fs::path file = tmp.path() / "data/chunk-000/episode_000000.parquet";
  auto t = parquet::read_table(file);
  std::vector<uint8_t> rgb(6 * 8 * 3, 7);
  t.column("observation.images.wrist.bytes").strings[2] = encode_png(rgb.data(), 6, 8);  // transposed
  parquet::write_table(file, t);
  LeRobotDataset ds(tmp.path());
  EXPECT_NO_THROW(ds.get(1));
  const auto e = error_of([&] { ds.get(2); });
  EXPECT_NE(e.find("row 2: image is 6x8 (width x height) but meta/info.json declares 8x6"), std::string::npos) << e;
  EXPECT_NE(e.find("episode_000000.parquet"), std::string::npos) << e;
}

TEST(Staging, StaleDirectoriesOfDeadProcessesAreRemoved) {
  util::TempDir tmp;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);  // a pid that no longer runs
  const fs::path dead = tmp.path() / util::cat(".out.tmp-", child, "-0");
  const fs::path live = tmp.path() / util::cat(".out.tmp-", ::getpid(), "-0");
  const fs::path other = tmp.path() / util::cat(".other.tmp-", child, "-0");
  for (const auto& d : {dead, live, other}) fs::create_directories(d / "data");
  EXPECT_EQ(remove_stale_staging(tmp.path() / "out"), 1);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));   // its process still runs
  EXPECT_TRUE(fs::exists(other));  // another output's
}
