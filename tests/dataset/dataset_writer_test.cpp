// DatasetWriter + synth: the v3.0 layout LeRobot expects, read back by our reader, checked by
// validate; validate finds each injected violation.
#include <gtest/gtest.h>

#include <cmath>

#include "dataset/dataset_writer.h"
#include "dataset/parquet/parquet.h"
#include "dataset/synth.h"
#include "dataset/validate.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

using namespace robotrain;
using namespace robotrain::dataset;
namespace fs = std::filesystem;

namespace {

SynthOptions small(int cameras) {
  SynthOptions o;
  o.episodes = 3;
  o.frames = 12;
  o.cameras = cameras;
  o.height = 64;
  o.width = 96;
  o.progress = false;
  return o;
}

bool has_violation(const ValidationReport& r, const std::string& needle) {
  for (const auto& v : r.violations)
    if ((v.where + ": " + v.what).find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Writer, SynthStateOnlyLayoutAndValues) {
  util::TempDir tmp;
  auto root = tmp.path() / "ds";
  auto meta = synth_dataset(root, small(0));
  EXPECT_EQ(meta.codebase_version, "v3.0");
  EXPECT_EQ(meta.total_episodes, 3);
  EXPECT_EQ(meta.total_frames, 36);
  for (const char* p : {"meta/info.json", "meta/stats.json", "meta/tasks.parquet", "meta/episodes/chunk-000/file-000.parquet",
                        "data/chunk-000/file-000.parquet"})
    EXPECT_TRUE(fs::exists(root / p)) << p;
  auto info = util::read_json_file(root / "meta/info.json");
  EXPECT_EQ(info["splits"]["train"], "0:3");
  EXPECT_TRUE(info["video_path"].is_null());
  EXPECT_EQ(info["features"]["observation.state"]["shape"], util::Json::array({2}));
  // Episodes parquet carries the columns LeRobot reads, including stats/*.
  parquet::Reader er(root / "meta/episodes/chunk-000/file-000.parquet");
  std::set<std::string> cols;
  for (const auto& c : er.info().columns) cols.insert(c.name);
  for (const char* c : {"episode_index", "tasks", "length", "data/chunk_index", "data/file_index", "dataset_from_index",
                        "dataset_to_index", "stats/action/q99", "stats/observation.state/mean", "stats/timestamp/count",
                        "meta/episodes/chunk_index", "meta/episodes/file_index"})
    EXPECT_TRUE(cols.count(c)) << c;
  parquet::Reader tr(root / "meta/tasks.parquet");
  ASSERT_TRUE(tr.info().key_value_metadata.count("pandas"));
  EXPECT_EQ(util::Json::parse(tr.info().key_value_metadata.at("pandas"))["index_columns"], util::Json::array({"task"}));
  auto tasks = parquet::read_table(root / "meta/tasks.parquet");
  EXPECT_EQ(tasks.column("task").strings, std::vector<std::string>{"move the blob around the circle"});
  // Stats: count = frames; action = next state, a function of the state.
  EXPECT_EQ(meta.stats["observation.state"].values["count"][0], 36);
  EXPECT_EQ(meta.stats["action"].shapes["mean"], std::vector<int64_t>{2});
  LeRobotDataset ds(root);
  for (int64_t g = 0; g < 35; ++g) {
    Sample s = ds.get(g);
    const float* st = s.arrays.at("observation.state").data<float>();
    const float* ac = s.arrays.at("action").data<float>();
    double nx, ny;
    synth_next_state(st[0], st[1], nx, ny);
    EXPECT_NEAR(ac[0], nx, 1e-5);
    EXPECT_NEAR(ac[1], ny, 1e-5);
    if ((g + 1) % 12 != 0) {
      Sample n = ds.get(g + 1);
      EXPECT_NEAR(n.arrays.at("observation.state").data<float>()[0], ac[0], 1e-6);
    }
  }
  auto report = validate_dataset(meta);
  EXPECT_TRUE(report.ok()) << report.violations.front().where << ": " << report.violations.front().what;
  EXPECT_EQ(report.frames_checked, 36);
}

TEST(Writer, RefusesExistingOutputAndBadFrames) {
  util::TempDir tmp;
  EXPECT_THROW(synth_dataset(tmp.path(), small(0)), util::InputError);  // exists
  WriterOptions w;
  w.features = {Feature{"observation.state", "float32", {2}, nullptr, {}}};
  DatasetWriter writer(tmp.path() / "x", w);
  writer.begin_episode();
  Array wrong(DType::Float32, {3});
  EXPECT_THROW(writer.add_frame({{"observation.state", wrong}}, "t"), util::InputError);
  EXPECT_THROW(writer.add_frame({}, "t"), util::InputError);
  EXPECT_THROW(writer.end_episode(), util::RuntimeError);  // no frames
}

TEST(Writer, NothingAppearsWithoutFinish) {
  util::TempDir tmp;
  {
    WriterOptions w;
    w.features = {Feature{"observation.state", "float32", {2}, nullptr, {}}};
    DatasetWriter writer(tmp.path() / "x", w);
    writer.begin_episode();
    writer.add_frame({{"observation.state", Array(DType::Float32, {2})}}, "t");
    writer.end_episode();
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "x"));
}

TEST(Validate, ReportsEveryInjectedViolation) {
  util::TempDir tmp;
  auto root = tmp.path() / "ds";
  synth_dataset(root, small(0));
  // Break timestamps and indices in the data file, and a total in info.json.
  auto path = root / "data/chunk-000/file-000.parquet";
  auto t = parquet::read_table(path);
  t.column("timestamp").floats[5] += 0.5f;
  t.column("index").ints[20] = 999;
  t.column("frame_index").ints[30] = 0;
  parquet::write_table(path, t);
  auto info = util::read_json_file(root / "meta/info.json");
  info["total_frames"] = 40;
  util::write_json_file(root / "meta/info.json", info);
  auto report = validate_dataset(load_metadata(root));
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(has_violation(report, "row 5: timestamp"));
  EXPECT_TRUE(has_violation(report, "row 20: index is 999"));
  EXPECT_TRUE(has_violation(report, "row 30: frame_index is 0"));
  EXPECT_TRUE(has_violation(report, "total_frames is 40"));
  auto j = report_to_json(report);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_GE(j["violations"].size(), 4u);
}

TEST(Validate, TasksParquetWithPandasIndexColumn) {
  util::TempDir tmp;
  auto root = tmp.path() / "ds";
  synth_dataset(root, small(0));
  // pandas writes the index as "__index_level_0__" when unnamed.
  parquet::Table t;
  t.num_rows = 1;
  parquet::Column ti, tn;
  ti.name = "task_index";
  ti.type = parquet::ValueType::Int64;
  ti.ints = {0};
  tn.name = "__index_level_0__";
  tn.type = parquet::ValueType::String;
  tn.strings = {"renamed task"};
  t.columns = {ti, tn};
  parquet::write_table(root / "meta/tasks.parquet", t);
  auto meta = load_metadata(root);
  EXPECT_EQ(meta.tasks, std::vector<std::string>{"renamed task"});
  LeRobotDataset ds(root);
  EXPECT_EQ(ds.get(3).task, "renamed task");
  fs::remove(root / "meta/stats.json");
  EXPECT_FALSE(load_metadata(root).warnings.empty());
}

// LeRobot rolls data and video files over at their size limits; with limits of 0 MB every
// episode opens new files, and each episode's frames still come back from its own files.
TEST(Writer, RollsDataAndVideoFilesOverAtTheSizeLimits) {
  util::TempDir tmp;
  WriterOptions o;
  o.fps = 10;
  o.features = {{"observation.images.cam", "video", {32, 32, 3}, util::Json(nullptr), util::Json(nullptr)},
                {"observation.state", "float32", {1}, util::Json(nullptr), util::Json(nullptr)},
                {"action", "float32", {1}, util::Json(nullptr), util::Json(nullptr)}};
  o.video.codec = "libx264";
  o.data_files_size_in_mb = 0;
  o.video_files_size_in_mb = 0;
  const fs::path root = tmp.path() / "ds";
  {
    DatasetWriter w(root, o);
    for (int ep = 0; ep < 3; ++ep) {
      w.begin_episode();
      for (int f = 0; f < 5; ++f) {
        Array img(DType::UInt8, {32, 32, 3});
        std::fill(img.data<uint8_t>(), img.data<uint8_t>() + img.numel(), static_cast<uint8_t>(40 + 60 * ep));
        Array v(DType::Float32, {1});
        v.data<float>()[0] = static_cast<float>(ep * 100 + f);
        w.add_frame({{"observation.images.cam", img}, {"observation.state", v}, {"action", v}}, "task");
      }
      w.end_episode();
    }
    w.finish();
  }
  auto meta = load_metadata(root);
  ASSERT_EQ(meta.episodes.size(), 3u);
  for (int ep = 0; ep < 3; ++ep) {
    const auto& seg = meta.episodes[ep].videos.at("observation.images.cam");
    EXPECT_EQ(seg.path.filename(), "file-00" + std::to_string(ep) + ".mp4");
    EXPECT_DOUBLE_EQ(seg.from_timestamp, 0.0);
    EXPECT_EQ(meta.episodes[ep].data_path.filename(), "file-00" + std::to_string(ep) + ".parquet");
  }
  EXPECT_TRUE(validate_dataset(meta).violations.empty());
  LeRobotDataset data(root, {.images_as_uint8 = true});
  for (int64_t i : {0, 4, 5, 14}) {
    auto s = data.get(i);
    const int ep = static_cast<int>(i / 5);
    EXPECT_EQ(s.arrays.at("observation.state").data<float>()[0], static_cast<float>(ep * 100 + i % 5));
    EXPECT_NEAR(s.arrays.at("observation.images.cam").data<uint8_t>()[100], 40 + 60 * ep, 6) << "frame " << i;
  }
}
