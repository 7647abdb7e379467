// Reading hand-built v2.1 fixtures and quirky layouts: values, delta indices, padding masks.
#include <gtest/gtest.h>

#include "dataset/lerobot_dataset.h"
#include "dataset/parquet/parquet.h"
#include "dataset/png.h"
#include "dataset/validate.h"
#include "dataset_fixtures.h"
#include "util/error.h"
#include "util/fs.h"

using namespace robotrain;
using namespace robotrain::dataset;
using robotrain::test::fx_action;
using robotrain::test::fx_state;

namespace {

// Expected LeRobot sample for anchor (ep, f) with offsets: clamp + pad.
void expect_action_window(const Sample& s, int64_t ep, int64_t f, int64_t len, const std::vector<int>& deltas,
                          const std::string& key = "action") {
  const Array& a = s.arrays.at(key);
  const Array& pad = s.arrays.at(key + "_is_pad");
  ASSERT_EQ(a.shape, (std::vector<int64_t>{static_cast<int64_t>(deltas.size()), 2}));
  ASSERT_EQ(pad.shape, (std::vector<int64_t>{static_cast<int64_t>(deltas.size())}));
  for (size_t k = 0; k < deltas.size(); ++k) {
    int64_t want = f + deltas[k];
    int64_t clamped = std::clamp<int64_t>(want, 0, len - 1);
    EXPECT_EQ(pad.data<uint8_t>()[k], want < 0 || want >= len) << "ep " << ep << " f " << f << " d " << deltas[k];
    EXPECT_EQ(a.data<float>()[k * 2 + 0], fx_action(ep, clamped, 0));
    EXPECT_EQ(a.data<float>()[k * 2 + 1], fx_action(ep, clamped, 1));
  }
}

}  // namespace

TEST(ReadV21, MetadataFromJsonl) {
  util::TempDir tmp;
  test::write_v21_fixture(tmp.path());
  auto m = load_metadata(tmp.path());
  EXPECT_EQ(m.codebase_version, "v2.1");
  EXPECT_EQ(m.fps, 10);
  EXPECT_EQ(m.total_episodes, 3);
  EXPECT_EQ(m.total_frames, 16);
  ASSERT_EQ(m.tasks, (std::vector<std::string>{"pick", "place"}));
  EXPECT_EQ(m.episodes[1].from_index, 5);
  EXPECT_EQ(m.episodes[1].to_index, 13);
  EXPECT_EQ(m.episodes[2].data_path.filename(), "episode_000002.parquet");
  // Stats aggregated from episodes_stats.jsonl: global min/max, count sum.
  ASSERT_TRUE(m.stats.count("observation.state"));
  EXPECT_EQ(m.stats["observation.state"].values["count"][0], 16);
  EXPECT_EQ(m.stats["observation.state"].values["max"][0], fx_state(2, 2, 0));  // episode 2 ends highest
  EXPECT_TRUE(m.warnings.empty()) << m.warnings.front();
}

TEST(ReadV21, SamplesFollowLeRobotDeltaRules) {
  util::TempDir tmp;
  test::FixtureOptions fo;
  test::write_v21_fixture(tmp.path(), fo);
  DatasetOptions opt;
  const std::vector<int> deltas = {-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  opt.delta_indices["action"] = deltas;
  opt.delta_indices["observation.state"] = {-1, 0};
  LeRobotDataset ds(tmp.path(), opt);
  ASSERT_EQ(ds.num_frames(), 16);
  int64_t g = 0;
  for (int64_t ep = 0; ep < 3; ++ep) {
    for (int64_t f = 0; f < fo.lengths[ep]; ++f, ++g) {
      Sample s = ds.get(g);
      expect_action_window(s, ep, f, fo.lengths[ep], deltas);
      const Array& st = s.arrays.at("observation.state");
      ASSERT_EQ(st.shape, (std::vector<int64_t>{2, 3}));
      EXPECT_EQ(st.data<float>()[0], fx_state(ep, std::max<int64_t>(f - 1, 0), 0));
      EXPECT_EQ(st.data<float>()[3 + 2], fx_state(ep, f, 2));
      EXPECT_EQ(s.arrays.at("observation.state_is_pad").data<uint8_t>()[0], f == 0);
      EXPECT_EQ(s.arrays.at("index").data<int64_t>()[0], g);
      EXPECT_EQ(s.arrays.at("episode_index").data<int64_t>()[0], ep);
      EXPECT_EQ(s.arrays.at("frame_index").data<int64_t>()[0], f);
      EXPECT_TRUE(s.arrays.at("index").shape.empty());
      EXPECT_NEAR(s.arrays.at("timestamp").data<float>()[0], f / 10.0, 1e-6);
      EXPECT_EQ(s.task, ep % 2 ? "place" : "pick");
    }
  }
  EXPECT_THROW(ds.get(16), util::InputError);
}

TEST(ReadV21, NoDeltasGivesPlainVectors) {
  util::TempDir tmp;
  test::write_v21_fixture(tmp.path());
  LeRobotDataset ds(tmp.path());
  Sample s = ds.get(7);  // episode 1, frame 2
  EXPECT_EQ(s.arrays.at("action").shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(s.arrays.at("action").data<float>()[1], fx_action(1, 2, 1));
  EXPECT_EQ(s.arrays.count("action_is_pad"), 0u);
}

TEST(ReadV21, EpisodeSubset) {
  util::TempDir tmp;
  test::write_v21_fixture(tmp.path());
  DatasetOptions opt;
  opt.episodes = std::vector<int64_t>{2, 0};
  LeRobotDataset ds(tmp.path(), opt);
  EXPECT_EQ(ds.num_frames(), 8);
  EXPECT_EQ(ds.get(13).arrays.at("episode_index").data<int64_t>()[0], 2);
  EXPECT_THROW(ds.get(6), util::InputError);  // episode 1 not selected
  opt.episodes = std::vector<int64_t>{7};
  EXPECT_THROW(LeRobotDataset(tmp.path(), opt), util::InputError);
}

TEST(ReadQuirks, UnprefixedKeysNamesAndPngImages) {
  util::TempDir tmp;
  test::FixtureOptions fo;
  fo.state_key = "state";
  fo.action_key = "actions";
  fo.state_names = nullptr;
  fo.image_key = "image";
  fo.stats = false;
  fo.tasks = false;
  test::write_v21_fixture(tmp.path(), fo);
  auto m = load_metadata(tmp.path());
  bool stats_warned = false, tasks_warned = false;
  for (const auto& w : m.warnings) {
    stats_warned |= w.find("stats") != std::string::npos;
    tasks_warned |= w.find("tasks.jsonl") != std::string::npos;
  }
  EXPECT_TRUE(stats_warned);
  EXPECT_TRUE(tasks_warned);
  EXPECT_EQ(m.camera_keys(), std::vector<std::string>{"image"});
  DatasetOptions opt;
  opt.delta_indices["actions"] = {0, 1};
  LeRobotDataset ds(tmp.path(), opt);
  Sample s = ds.get(9);  // episode 1, frame 4
  expect_action_window(s, 1, 4, 8, {0, 1}, "actions");
  const Array& img = s.arrays.at("image");
  ASSERT_EQ(img.shape, (std::vector<int64_t>{3, 6, 8}));
  ASSERT_EQ(img.dtype, DType::Float32);
  // Pixel (y=1, x=2), channel 1 of the PNG written for episode 1 frame 4.
  size_t p = (1 * 8 + 2) * 3 + 1;
  float want = static_cast<float>((p * 7 + 1 * 31 + 4 * 3) % 256) / 255.0f;
  EXPECT_FLOAT_EQ(img.data<float>()[1 * 48 + 1 * 8 + 2], want);
  EXPECT_EQ(s.task, "place");  // falls back to the episode's task list
  opt.images_as_uint8 = true;
  LeRobotDataset ds8(tmp.path(), opt);
  EXPECT_EQ(ds8.get(9).arrays.at("image").dtype, DType::UInt8);
}

TEST(ReadQuirks, MissingDataFileSkipsEpisodeUnlessStrict) {
  util::TempDir tmp;
  test::write_v21_fixture(tmp.path());
  std::filesystem::remove(tmp.path() / "data/chunk-000/episode_000001.parquet");
  auto m = load_metadata(tmp.path());
  EXPECT_FALSE(m.episodes[1].data_exists);
  LeRobotDataset ds(tmp.path());
  EXPECT_EQ(ds.episodes_skipped(), std::vector<int64_t>{1});
  EXPECT_EQ(ds.num_frames(), 8);
  DatasetOptions strict;
  strict.strict = true;
  EXPECT_THROW(LeRobotDataset(tmp.path(), strict), util::RuntimeError);
}

TEST(ReadErrors, NotADatasetIsInputError) {
  util::TempDir tmp;
  EXPECT_THROW(load_metadata(tmp.path() / "nope"), util::InputError);
  EXPECT_THROW(load_metadata(tmp.path()), util::InputError);
  std::filesystem::create_directories(tmp.path() / "meta");
  util::atomic_write_file(tmp.path() / "meta/info.json", "{\"codebase_version\": \"v1.6\", \"fps\": 10, \"features\": {}}");
  EXPECT_THROW(load_metadata(tmp.path()), util::InputError);
}

TEST(ReadErrors, UnknownDeltaKeyIsInputError) {
  util::TempDir tmp;
  test::write_v21_fixture(tmp.path());
  DatasetOptions opt;
  opt.delta_indices["observation.images.nope"] = {0};
  EXPECT_THROW(LeRobotDataset(tmp.path(), opt), util::InputError);
}

TEST(Png, RoundTrip) {
  std::vector<uint8_t> rgb(5 * 4 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 11);
  auto img = decode_png(encode_png(rgb.data(), 5, 4), "test");
  EXPECT_EQ(img.width, 5);
  EXPECT_EQ(img.height, 4);
  EXPECT_EQ(img.rgb, rgb);
  EXPECT_THROW(decode_png("not a png", "x"), util::RuntimeError);
}

// A v3.0 layout written by hand: episodes split over two data files and two episodes
// parquet files, tasks indexed by "__index_level_0__", state as variable-length lists.
TEST(ReadV30, HandBuiltMultiFileLayout) {
  util::TempDir tmp;
  const auto root = tmp.path();
  namespace pq = parquet;
  const std::vector<int64_t> lengths = {4, 6, 5};
  const std::vector<int> file_of = {0, 0, 1};
  util::Json feats = util::Json::object();
  feats["observation.state"] = {{"dtype", "float32"}, {"shape", {3}}, {"names", {{"motors", {"a", "b", "c"}}}}};
  feats["action"] = {{"dtype", "float32"}, {"shape", {2}}, {"names", nullptr}};
  feats["timestamp"] = {{"dtype", "float32"}, {"shape", {1}}, {"names", nullptr}};
  for (const char* k : {"frame_index", "episode_index", "index", "task_index"})
    feats[k] = {{"dtype", "int64"}, {"shape", {1}}, {"names", nullptr}};
  util::Json info = {{"codebase_version", "v3.0"}, {"robot_type", "hand"}, {"total_episodes", 3}, {"total_frames", 15},
                     {"total_tasks", 2}, {"chunks_size", 1000}, {"fps", 5}, {"splits", {{"train", "0:3"}}},
                     {"data_path", "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"}, {"video_path", nullptr},
                     {"features", feats}};
  std::filesystem::create_directories(root / "meta/episodes/chunk-000");
  std::filesystem::create_directories(root / "data/chunk-000");
  util::write_json_file(root / "meta/info.json", info);
  // Data files.
  int64_t offset = 0;
  std::vector<pq::Table> files(2);
  std::vector<std::vector<std::vector<float>>> st(2), ac(2);
  std::vector<std::vector<float>> ts(2);
  std::vector<std::vector<int64_t>> fi(2), ei(2), gi(2), ti(2);
  for (int e = 0; e < 3; ++e) {
    int f = file_of[e];
    for (int64_t k = 0; k < lengths[e]; ++k) {
      st[f].push_back({fx_state(e, k, 0), fx_state(e, k, 1), fx_state(e, k, 2)});
      ac[f].push_back({fx_action(e, k, 0), fx_action(e, k, 1)});
      ts[f].push_back(static_cast<float>(k) / 5);
      fi[f].push_back(k);
      ei[f].push_back(e);
      gi[f].push_back(offset + k);
      ti[f].push_back(e == 1 ? 1 : 0);
    }
    offset += lengths[e];
  }
  for (int f = 0; f < 2; ++f) {
    pq::Table t;
    t.num_rows = static_cast<int64_t>(fi[f].size());
    t.columns = {test::float_list_col("observation.state", st[f]), test::float_list_col("action", ac[f]),
                 test::float_col("timestamp", ts[f]), test::int_col("frame_index", fi[f]),
                 test::int_col("episode_index", ei[f]), test::int_col("index", gi[f]), test::int_col("task_index", ti[f])};
    pq::write_table(root / util::cat("data/chunk-000/file-00", f, ".parquet"), t);
  }
  // Episodes metadata over two files.
  offset = 0;
  std::vector<int64_t> from;
  for (auto l : lengths) {
    from.push_back(offset);
    offset += l;
  }
  for (int mf = 0; mf < 2; ++mf) {
    std::vector<int> eps = mf == 0 ? std::vector<int>{0, 1} : std::vector<int>{2};
    pq::Table t;
    t.num_rows = static_cast<int64_t>(eps.size());
    std::vector<int64_t> idx, len, dchunk, dfile, dfrom, dto;
    pq::Column tasks;
    tasks.name = "tasks";
    tasks.type = pq::ValueType::String;
    tasks.is_list = true;
    tasks.offsets = {0};
    for (int e : eps) {
      idx.push_back(e);
      len.push_back(lengths[e]);
      dchunk.push_back(0);
      dfile.push_back(file_of[e]);
      dfrom.push_back(from[e]);
      dto.push_back(from[e] + lengths[e]);
      tasks.strings.push_back(e == 1 ? "place" : "pick");
      tasks.offsets.push_back(static_cast<int64_t>(tasks.strings.size()));
    }
    t.columns = {test::int_col("episode_index", idx), tasks, test::int_col("length", len),
                 test::int_col("data/chunk_index", dchunk), test::int_col("data/file_index", dfile),
                 test::int_col("dataset_from_index", dfrom), test::int_col("dataset_to_index", dto)};
    pq::write_table(root / util::cat("meta/episodes/chunk-000/file-00", mf, ".parquet"), t);
  }
  pq::Table tasks;
  tasks.num_rows = 2;
  pq::Column tn;
  tn.name = "__index_level_0__";
  tn.type = pq::ValueType::String;
  tn.strings = {"pick", "place"};
  tasks.columns = {test::int_col("task_index", {0, 1}), tn};
  pq::write_table(root / "meta/tasks.parquet", tasks);

  auto m = load_metadata(root);
  ASSERT_EQ(m.total_episodes, 3);
  EXPECT_EQ(m.tasks, (std::vector<std::string>{"pick", "place"}));
  EXPECT_EQ(m.episodes[2].data_path.filename(), "file-001.parquet");
  bool stats_warned = false;
  for (const auto& w : m.warnings) stats_warned |= w.find("stats.json") != std::string::npos;
  EXPECT_TRUE(stats_warned);
  DatasetOptions opt;
  const std::vector<int> deltas = {-1, 0, 1, 2, 3, 4, 5};
  opt.delta_indices["action"] = deltas;
  LeRobotDataset ds(root, opt);
  int64_t g = 0;
  for (int64_t e = 0; e < 3; ++e)
    for (int64_t f = 0; f < lengths[e]; ++f, ++g) {
      Sample s = ds.get(g);
      expect_action_window(s, e, f, lengths[e], deltas);
      EXPECT_EQ(s.arrays.at("observation.state").data<float>()[1], fx_state(e, f, 1));
      EXPECT_EQ(s.task, e == 1 ? "place" : "pick");
    }
  // Consistent, but without stats.json nothing can be normalised: the only violations.
  auto report = validate_dataset(m);
  EXPECT_FALSE(report.ok());
  for (const auto& v : report.violations) EXPECT_EQ(v.where, "meta/stats") << v.what;
}
