// merge_datasets: the output equals the concatenation of its sources frame for frame and
// validates clean; stats agree with stats over the concatenation; tasks are unioned by string;
// every incompatibility is rejected naming the field; the output is staged and never clobbered.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "dataset/dataset_writer.h"
#include "dataset/episode_stats.h"
#include "dataset/merge.h"
#include "dataset/synth.h"
#include "dataset/validate.h"
#include "merge_support.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

using namespace robotrain;
using namespace robotrain::dataset;
namespace fs = std::filesystem;

namespace {

SynthOptions synth(int episodes, int frames, uint64_t seed, int cameras = 1) {
  SynthOptions o;
  o.episodes = episodes;
  o.frames = frames;
  o.cameras = cameras;
  o.height = 64;
  o.width = 64;
  o.seed = seed;
  o.progress = false;
  return o;
}

MergeOptions quiet() {
  MergeOptions o;
  o.progress = false;
  return o;
}

// A camera-less dataset with the given (task, length) episodes and a bool feature whose value
// is a known function of (episode, frame).
void write_task_dataset(const fs::path& root, const std::vector<std::pair<std::string, int>>& episodes) {
  WriterOptions w;
  w.fps = 10;
  w.robot_type = "tasks_robot";
  w.features = {Feature{"observation.state", "float32", {2}, util::Json::array({"x", "y"}), {}},
                Feature{"action", "float32", {2}, util::Json::array({"x", "y"}), {}},
                Feature{"observation.flag", "bool", {1}, util::Json(), {}}};
  DatasetWriter writer(root, w);
  int ep = 0;
  for (const auto& [task, n] : episodes) {
    writer.begin_episode();
    for (int f = 0; f < n; ++f) {
      Array s(DType::Float32, {2}), a(DType::Float32, {2}), flag(DType::Bool, {1});
      s.data<float>()[0] = static_cast<float>(ep * 10 + f);
      s.data<float>()[1] = static_cast<float>(task.size());
      a.data<float>()[0] = -static_cast<float>(f);
      a.data<float>()[1] = 0.5f * ep;
      flag.data<uint8_t>()[0] = (f + ep) % 3 == 0;
      writer.add_frame({{"observation.state", s}, {"action", a}, {"observation.flag", flag}}, task);
    }
    writer.end_episode();
    ++ep;
  }
  writer.finish();
}

std::string merge_error(const std::vector<fs::path>& sources, const fs::path& out) {
  try {
    merge_datasets(sources, out, quiet());
  } catch (const util::InputError& e) {
    return e.what();
  }
  return "(no error)";
}

void edit_info(const fs::path& root, const std::function<void(util::Json&)>& edit) {
  auto info = util::read_json_file(root / "meta/info.json");
  edit(info);
  util::write_json_file(root / "meta/info.json", info);
}

}  // namespace

TEST(Merge, TwoSynthDatasetsWithVideoEqualTheirConcatenation) {
  util::TempDir tmp;
  synth_dataset(tmp.path() / "a", synth(2, 10, 1));
  synth_dataset(tmp.path() / "b", synth(3, 7, 2));
  auto r = merge_datasets({tmp.path() / "a", tmp.path() / "b"}, tmp.path() / "ab", quiet());
  EXPECT_EQ(r.episodes, 5);
  EXPECT_EQ(r.frames, 41);
  EXPECT_EQ(r.tasks, 1);
  EXPECT_EQ(r.repo_id, "ab");
  test::expect_concatenation(tmp.path() / "ab", {tmp.path() / "a", tmp.path() / "b"});

  auto meta = load_metadata(tmp.path() / "ab");
  EXPECT_EQ(meta.codebase_version, "v3.0");
  EXPECT_EQ(meta.fps, 30);
  EXPECT_EQ(meta.robot_type, "synthetic_blob");
  EXPECT_TRUE(meta.warnings.empty()) << meta.warnings.front();
  // Episode metadata: contiguous ranges; each source's video file copied to its own file
  // index, from/to timestamps kept so frames decode at the same place.
  auto a = load_metadata(tmp.path() / "a"), b = load_metadata(tmp.path() / "b");
  const std::string cam = "observation.images.cam0";
  for (int i = 0; i < 5; ++i) {
    const auto& e = meta.episodes[i];
    const auto& s = i < 2 ? a.episodes[i] : b.episodes[i - 2];
    EXPECT_EQ(e.index, i);
    EXPECT_EQ(e.length, s.length);
    EXPECT_EQ(e.from_index, i < 2 ? s.from_index : s.from_index + 20);
    EXPECT_EQ(e.videos.at(cam).path.filename(), i < 2 ? "file-000.mp4" : "file-001.mp4");
    EXPECT_DOUBLE_EQ(e.videos.at(cam).from_timestamp, s.videos.at(cam).from_timestamp);
    EXPECT_DOUBLE_EQ(e.videos.at(cam).to_timestamp, s.videos.at(cam).to_timestamp);
    EXPECT_EQ(e.tasks, s.tasks);
  }
  EXPECT_TRUE(fs::exists(tmp.path() / "ab/data/chunk-000/file-000.parquet"));
  EXPECT_FALSE(fs::exists(tmp.path() / "ab/data/chunk-000/file-001.parquet"));
  // Per-episode stats carried over unchanged.
  auto es = load_episode_stats(meta), esa = load_episode_stats(a), esb = load_episode_stats(b);
  ASSERT_EQ(es.size(), 5u);
  EXPECT_EQ(es[0].at("observation.state").values, esa[0].at("observation.state").values);
  EXPECT_EQ(es[4].at(cam).values, esb[2].at(cam).values);
  EXPECT_EQ(es[4].at(cam).shapes.at("mean"), (std::vector<int64_t>{3, 1, 1}));
  // Nothing left behind in the parent directory but the three datasets.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path())) ++entries;
  EXPECT_EQ(entries, 3);
}

TEST(Merge, StatsMatchStatsOverTheConcatenation) {
  util::TempDir tmp;
  synth_dataset(tmp.path() / "a", synth(2, 9, 3, 0));
  synth_dataset(tmp.path() / "b", synth(3, 14, 4, 0));
  merge_datasets({tmp.path() / "a", tmp.path() / "b"}, tmp.path() / "ab", quiet());
  auto meta = load_metadata(tmp.path() / "ab");
  for (const std::string key : {"observation.state", "action"}) {
    std::vector<double> sum(2, 0), sq(2, 0), mn(2, 1e9), mx(2, -1e9);
    int64_t n = 0;
    for (const char* src : {"a", "b"}) {
      LeRobotDataset ds(tmp.path() / src);
      for (int64_t i = 0; i < ds.num_frames(); ++i, ++n) {
        auto s = ds.get(i);
        for (int d = 0; d < 2; ++d) {
          double v = s.arrays.at(key).data<float>()[d];
          sum[d] += v;
          sq[d] += v * v;
          mn[d] = std::min(mn[d], v);
          mx[d] = std::max(mx[d], v);
        }
      }
    }
    const auto& st = meta.stats.at(key).values;
    EXPECT_EQ(st.at("count"), std::vector<double>{static_cast<double>(n)});
    for (int d = 0; d < 2; ++d) {
      const double mean = sum[d] / n, stdv = std::sqrt(sq[d] / n - mean * mean);
      EXPECT_NEAR(st.at("mean")[d], mean, 1e-6) << key;
      EXPECT_NEAR(st.at("std")[d], stdv, 1e-5) << key;
      EXPECT_DOUBLE_EQ(st.at("min")[d], mn[d]) << key;
      EXPECT_DOUBLE_EQ(st.at("max")[d], mx[d]) << key;
      // Quantiles: count-weighted mean of the sources' (an approximation); still inside the range.
      for (const char* q : {"q01", "q50", "q99"}) {
        EXPECT_GE(st.at(q)[d], mn[d] - 1e-9);
        EXPECT_LE(st.at(q)[d], mx[d] + 1e-9);
      }
    }
  }
  auto a = load_metadata(tmp.path() / "a"), b = load_metadata(tmp.path() / "b");
  const double na = a.total_frames, nb = b.total_frames;
  EXPECT_NEAR(meta.stats.at("action").values.at("q50")[0],
              (a.stats.at("action").values.at("q50")[0] * na + b.stats.at("action").values.at("q50")[0] * nb) / (na + nb), 1e-9);
}

TEST(Merge, TasksAreUnionedByStringAndRemapped) {
  util::TempDir tmp;
  write_task_dataset(tmp.path() / "a", {{"pick", 4}, {"place", 3}, {"pick", 2}});
  write_task_dataset(tmp.path() / "b", {{"stack", 3}, {"place", 5}});
  write_task_dataset(tmp.path() / "c", {{"place", 2}});
  auto r = merge_datasets({tmp.path() / "a", tmp.path() / "b", tmp.path() / "c"}, tmp.path() / "out", quiet());
  EXPECT_EQ(r.tasks, 3);
  EXPECT_EQ(r.episodes, 6);
  auto meta = load_metadata(tmp.path() / "out");
  EXPECT_EQ(meta.tasks, (std::vector<std::string>{"pick", "place", "stack"}));
  std::vector<std::vector<std::string>> ep_tasks;
  for (const auto& e : meta.episodes) ep_tasks.push_back(e.tasks);
  EXPECT_EQ(ep_tasks, (std::vector<std::vector<std::string>>{{"pick"}, {"place"}, {"pick"}, {"stack"}, {"place"}, {"place"}}));
  // b's "stack" was task 0 there and is 2 here; frame-level task strings are unchanged.
  LeRobotDataset out(tmp.path() / "out");
  auto s = out.get(9);  // first frame of b's first episode
  EXPECT_EQ(s.task, "stack");
  EXPECT_EQ(s.arrays.at("task_index").data<int64_t>()[0], 2);
  test::expect_concatenation(tmp.path() / "out", {tmp.path() / "a", tmp.path() / "b", tmp.path() / "c"},
                             {"observation.flag"});
  EXPECT_EQ(util::read_json_file(tmp.path() / "out/meta/info.json")["total_tasks"], 3);
}

TEST(Merge, BoolFeaturesCastToFloat32UnlessAskedNot) {
  util::TempDir tmp;
  write_task_dataset(tmp.path() / "a", {{"pick", 4}});
  write_task_dataset(tmp.path() / "b", {{"pick", 3}});
  merge_datasets({tmp.path() / "a", tmp.path() / "b"}, tmp.path() / "cast", quiet());
  EXPECT_EQ(load_metadata(tmp.path() / "cast").feature("observation.flag")->dtype, "float32");
  auto o = quiet();
  o.cast_bool_to_float = false;
  merge_datasets({tmp.path() / "a", tmp.path() / "b"}, tmp.path() / "keep", o);
  EXPECT_EQ(load_metadata(tmp.path() / "keep").feature("observation.flag")->dtype, "bool");
  test::expect_concatenation(tmp.path() / "keep", {tmp.path() / "a", tmp.path() / "b"});
}

TEST(Merge, IncompatibleSourcesAreRejectedNamingTheField) {
  util::TempDir tmp;
  const fs::path base = tmp.path() / "base";
  synth_dataset(base, synth(1, 4, 1));
  auto variant = [&](const std::string& name, SynthOptions o) {
    o.episodes = 1;
    o.frames = 4;
    synth_dataset(tmp.path() / name, o);
    return tmp.path() / name;
  };
  auto fps = synth(1, 4, 1);
  fps.fps = 15;
  std::string e = merge_error({base, variant("fps", fps)}, tmp.path() / "out");
  EXPECT_NE(e.find("fps differs (30 in"), std::string::npos) << e;
  EXPECT_NE(e.find("15 in " + (tmp.path() / "fps").string()), std::string::npos) << e;

  auto codec = synth(1, 4, 1);
  codec.codec = "h264";
  e = merge_error({base, variant("codec", codec)}, tmp.path() / "out");
  EXPECT_NE(e.find("features.observation.images.cam0.info.video.codec differs (\"av1\""), std::string::npos) << e;
  EXPECT_NE(e.find("\"h264\" in"), std::string::npos) << e;

  auto size = synth(1, 4, 1);
  size.height = 80;
  e = merge_error({base, variant("size", size)}, tmp.path() / "out");
  EXPECT_NE(e.find("features.observation.images.cam0.shape[0] differs (64"), std::string::npos) << e;

  // Only the video info block differs (e.g. a re-encode at another pixel format).
  fs::copy(base, tmp.path() / "pix", fs::copy_options::recursive);
  edit_info(tmp.path() / "pix", [](util::Json& j) { j["features"]["observation.images.cam0"]["info"]["video.pix_fmt"] = "yuv444p"; });
  e = merge_error({base, tmp.path() / "pix"}, tmp.path() / "out");
  EXPECT_NE(e.find("features.observation.images.cam0.info.video.pix_fmt differs"), std::string::npos) << e;

  fs::copy(base, tmp.path() / "robot", fs::copy_options::recursive);
  edit_info(tmp.path() / "robot", [](util::Json& j) { j["robot_type"] = "so100"; });
  e = merge_error({base, tmp.path() / "robot"}, tmp.path() / "out");
  EXPECT_NE(e.find("robot_type differs (\"synthetic_blob\""), std::string::npos) << e;
  EXPECT_NE(e.find("\"so100\" in"), std::string::npos) << e;

  fs::copy(base, tmp.path() / "dtype", fs::copy_options::recursive);
  edit_info(tmp.path() / "dtype", [](util::Json& j) { j["features"]["observation.state"]["dtype"] = "float64"; });
  e = merge_error({base, tmp.path() / "dtype"}, tmp.path() / "out");
  EXPECT_NE(e.find("features.observation.state.dtype differs (\"float32\""), std::string::npos) << e;

  // (The edited sources are otherwise invalid too - their data still holds 2 values - but the
  // metadata comparison comes first and names the field.)
  fs::copy(base, tmp.path() / "shape", fs::copy_options::recursive);
  edit_info(tmp.path() / "shape", [](util::Json& j) {
    j["features"]["action"]["shape"] = {3};
    j["features"]["action"]["names"] = {"x", "y", "z"};
  });
  auto stats = util::read_json_file(tmp.path() / "shape/meta/stats.json");
  stats.erase("action");  // stats of 2 values would not fit the edited shape
  util::write_json_file(tmp.path() / "shape/meta/stats.json", stats);
  e = merge_error({base, tmp.path() / "shape"}, tmp.path() / "out");
  EXPECT_NE(e.find("features.action.shape[0] differs (2"), std::string::npos) << e;

  fs::copy(base, tmp.path() / "extra", fs::copy_options::recursive);
  edit_info(tmp.path() / "extra", [](util::Json& j) { j["features"]["observation.effort"] = {{"dtype", "float32"}, {"shape", {2}}}; });
  e = merge_error({base, tmp.path() / "extra"}, tmp.path() / "out");
  EXPECT_NE(e.find("features.observation.effort differs ((absent) in"), std::string::npos) << e;
  // Nothing was written for any rejected merge.
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));
}

TEST(Merge, OutputIsRefusedWhenItExistsOrOverlapsASource) {
  util::TempDir tmp;
  synth_dataset(tmp.path() / "a", synth(1, 4, 1, 0));
  synth_dataset(tmp.path() / "b", synth(1, 5, 2, 0));
  merge_datasets({tmp.path() / "a", tmp.path() / "b"}, tmp.path() / "out", quiet());
  EXPECT_THROW(merge_datasets({tmp.path() / "a", tmp.path() / "b"}, tmp.path() / "out", quiet()), util::InputError);
  EXPECT_THROW(merge_datasets({tmp.path() / "a", tmp.path() / "b"}, tmp.path() / "a", quiet()), util::InputError);
  EXPECT_THROW(merge_datasets({tmp.path() / "a"}, tmp.path() / "a/inner", quiet()), util::InputError);
  EXPECT_THROW(merge_datasets({tmp.path() / "missing"}, tmp.path() / "x", quiet()), util::InputError);
  // With overwrite the old output is replaced (b then a: the other order).
  auto o = quiet();
  o.overwrite = true;
  auto r = merge_datasets({tmp.path() / "b", tmp.path() / "a"}, tmp.path() / "out", o);
  EXPECT_EQ(r.frames, 9);
  EXPECT_EQ(load_metadata(tmp.path() / "out").episodes.front().length, 5);
  test::expect_concatenation(tmp.path() / "out", {tmp.path() / "b", tmp.path() / "a"});
}

TEST(Merge, MissingVideoInASourceIsAnInputError) {
  util::TempDir tmp;
  synth_dataset(tmp.path() / "a", synth(1, 4, 1));
  synth_dataset(tmp.path() / "b", synth(1, 4, 2));
  fs::remove(tmp.path() / "b/videos/observation.images.cam0/chunk-000/file-000.mp4");
  std::string e = merge_error({tmp.path() / "a", tmp.path() / "b"}, tmp.path() / "out");
  EXPECT_NE(e.find("file-000.mp4 is missing"), std::string::npos) << e;
}
