// LeRobot 0.5.1's LeRobotDataset opens every dataset robotrain writes (`dataset synth`,
// `dataset convert` of a v2.1 dataset, `dataset merge`, `sim record pusht`) and yields the
// same items as robotrain's reader; and robotrain reads a dataset LeRobot itself wrote
// (LeRobotDataset.create / add_frame / save_episode, a video and an image camera), yielding
// what LeRobot yields. Parquet columns must be equal exactly, PNG image cameras too; video
// frames are decoded by two FFmpeg builds (Debian's libav* here, PyAV's bundled one there)
// whose YUV->RGB conversions may round differently, so decoded frames may differ by a couple
// of 8-bit levels (tolerance 3/255 per pixel, and 0.5/255 on average).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "dataset/dataset_fixtures.h"
#include "dataset/lerobot_dataset.h"
#include "lerobot_support.h"

namespace lt = robotrain::test::lerobot;
namespace ds = robotrain::dataset;
namespace fs = std::filesystem;
using robotrain::util::cat;
using robotrain::util::Json;

namespace {

torch::Tensor to_tensor(const ds::Array& a) {
  const auto type = a.dtype == ds::DType::Float32 ? torch::kFloat32
                    : a.dtype == ds::DType::Int64 ? torch::kInt64
                    : a.dtype == ds::DType::Bool  ? torch::kBool
                                                  : torch::kUInt8;
  return torch::from_blob(const_cast<uint8_t*>(a.bytes.data()), a.shape, type).clone();
}

struct Dump {
  lt::TensorMap items;
  Json summary;
};

// LeRobot's view of each dataset, from one Python process.
std::map<std::string, Dump> lerobot_dumps(const fs::path& tmp, const std::map<std::string, fs::path>& roots,
                                          const std::map<std::string, std::vector<int64_t>>& indices, Json create = Json::array()) {
  Json dump = Json::array();
  for (auto& [name, root] : roots) {
    Json job{{"root", root.string()}, {"output", (tmp / ("dump_" + name)).string()}};
    if (indices.count(name)) job["indices"] = indices.at(name);
    dump.push_back(job);
  }
  const fs::path jobs = tmp / "dataset_jobs.json";
  robotrain::util::write_json_file(jobs, {{"create", create}, {"dump", dump}});
  auto env = lt::one_thread_env();
  env["HF_HUB_OFFLINE"] = "1";
  auto r = robotrain::test::run_peer_script("lerobot_dataset_peer.py", {jobs.string()}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, Dump> out;
  if (r.exit_code != 0) return out;
  for (auto& [name, root] : roots)
    out[name] = {lt::load_tensors(tmp / ("dump_" + name + ".safetensors")),
                 robotrain::util::read_json_file(tmp / ("dump_" + name + ".json"))};
  return out;
}

// Every item LeRobot yielded equals what robotrain's reader yields at that index.
void expect_same_items(const std::string& name, const fs::path& root, const Dump& dump) {
  SCOPED_TRACE(name);
  ds::LeRobotDataset ours(root);
  ASSERT_EQ(ours.num_frames(), dump.summary["length"].get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(ours.meta().episodes.size()), dump.summary["num_episodes"].get<int64_t>());
  EXPECT_EQ(ours.meta().fps, dump.summary["fps"].get<int>());
  std::vector<std::string> keys;
  for (const auto& f : ours.meta().features) keys.push_back(f.key);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, dump.summary["features"].get<std::vector<std::string>>());

  std::set<int64_t> indices;
  for (auto& [k, t] : dump.items) indices.insert(std::stoll(k.substr(0, k.find('/'))));
  ASSERT_FALSE(indices.empty());
  double worst_video = 0, video_sum = 0;
  int64_t video_values = 0;
  for (int64_t i : indices) {
    auto sample = ours.get(i);
    EXPECT_EQ(sample.task, dump.summary["tasks"][std::to_string(i)].get<std::string>()) << "index " << i;
    size_t theirs_count = 0;
    for (auto& [k, t] : dump.items) theirs_count += k.rfind(cat(i, "/"), 0) == 0;
    size_t compared = 0;
    for (const auto& [key, array] : sample.arrays) {
      auto it = dump.items.find(cat(i, "/", key));
      if (it == dump.items.end()) continue;  // robotrain-only extras (none expected)
      ++compared;
      auto mine = to_tensor(array).reshape(-1).to(torch::kDouble);
      auto theirs = it->second.reshape(-1).to(torch::kDouble);
      ASSERT_EQ(mine.numel(), theirs.numel()) << key << " at " << i;
      const auto* feature = ours.meta().feature(key);
      if (feature && feature->is_video()) {
        auto d = (mine - theirs).abs();
        worst_video = std::max(worst_video, d.max().item<double>());
        video_sum += d.sum().item<double>();
        video_values += d.numel();
      } else {
        EXPECT_TRUE(torch::equal(mine, theirs)) << key << " at index " << i << ": robotrain " << mine.slice(0, 0, 8)
                                                << " LeRobot " << theirs.slice(0, 0, 8);
      }
    }
    EXPECT_EQ(compared, theirs_count) << "LeRobot yields keys robotrain does not at index " << i;
  }
  if (video_values > 0) {
    std::cerr << name << ": video frames differ by at most " << worst_video * 255 << "/255, on average "
              << video_sum / static_cast<double>(video_values) * 255 << "/255\n";
    EXPECT_LE(worst_video, 3.0 / 255 + 1e-6);
    EXPECT_LE(video_sum / static_cast<double>(video_values), 0.5 / 255);
  }
}

}  // namespace

TEST(LeRobotDataset, OpensEveryDatasetRobotrainWritesWithTheSameFrames) {
  RT_REQUIRE_LEROBOT();
  robotrain::util::TempDir tmp("rt-lerobot-ds");
  const fs::path t = tmp.path();
  auto ok = [](const robotrain::util::ProcessResult& r) { return r.exit_code == 0 ? std::string() : r.err; };
  // synth with LeRobot's own encoding (AV1, GOP 2), two cameras.
  for (const char* seed : {"1", "2"})
    ASSERT_EQ(ok(lt::run_rt({"dataset", "synth", "--output", (t / cat("synth", seed)).string(), "--episodes", "2", "--frames",
                                "12", "--cameras", "2", "--height", "64", "--width", "64", "--seed", seed})),
              "");
  ASSERT_EQ(ok(lt::run_rt({"dataset", "merge", (t / "synth1").string(), (t / "synth2").string(), "--output",
                              (t / "merged").string()})),
            "");
  robotrain::test::FixtureOptions v21;
  v21.video_key = "observation.images.top";
  v21.image_key = "observation.images.wrist";
  robotrain::test::write_v21_fixture(t / "v21", v21);
  ASSERT_EQ(ok(lt::run_rt({"dataset", "convert", (t / "v21").string(), "--output", (t / "converted").string()})), "");
  ASSERT_EQ(ok(lt::run_rt({"sim", "record", "pusht", "--output", (t / "pusht").string(), "--episodes", "1",
                              "--all-episodes"})),
            "");

  std::map<std::string, fs::path> roots{{"synth", t / "synth1"}, {"merged", t / "merged"},
                                        {"converted", t / "converted"}, {"pusht", t / "pusht"}};
  // Push-T's 300 frames: the ends and a stride through the middle.
  std::vector<int64_t> pusht;
  for (int64_t i = 0; i < 300; i += 23) pusht.push_back(i);
  pusht.push_back(299);
  auto dumps = lerobot_dumps(t, roots, {{"pusht", pusht}});
  ASSERT_EQ(dumps.size(), roots.size());
  for (auto& [name, root] : roots) expect_same_items(name, root, dumps[name]);
}

TEST(LeRobotDataset, RobotrainReadsADatasetLeRobotWrote) {
  RT_REQUIRE_LEROBOT();
  robotrain::util::TempDir tmp("rt-lerobot-created");
  const fs::path root = tmp.path() / "created";
  Json create = Json::array({{{"root", root.string()}, {"repo_id", "peer/created"}, {"fps", 10}, {"episodes", 2},
                              {"frames", 6}, {"height", 24}, {"width", 32}}});
  auto dumps = lerobot_dumps(tmp.path(), {{"created", root}}, {}, create);
  ASSERT_EQ(dumps.size(), 1u);
  expect_same_items("created", root, dumps["created"]);

  auto r = lt::run_rt({"dataset", "validate", root.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The values LeRobot was given: state of episode 1, frame 2 is [1.5, -1, 1/3].
  ds::LeRobotDataset ours(root);
  auto sample = ours.get(6 + 2);
  auto state = to_tensor(sample.arrays.at("observation.state"));
  EXPECT_TRUE(torch::allclose(state, torch::tensor({1.5f, -1.0f, 1.0f / 3})));
  EXPECT_EQ(sample.task, "place");
}
