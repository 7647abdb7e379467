// `robotrain eval` and `robotrain sim record` run as a user would, on real files.
#include <gtest/gtest.h>

#include <filesystem>

#include "dataset/lerobot_dataset.h"
#include "policy/factory.h"
#include "policy/pretrained.h"
#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"

namespace fs = std::filesystem;
using robotrain::test::run_robotrain;
using robotrain::util::Json;

namespace {
Json result_line(const std::string& out) {
  auto pos = out.rfind("robotrain-eval-result: ");
  if (pos == std::string::npos) return Json();
  return Json::parse(out.substr(pos + 23, out.find('\n', pos) - pos - 23));
}
}  // namespace

TEST(EvalCli, ReplayWritesEveryMetricAndTheReport) {
  robotrain::util::TempDir tmp;
  auto ds = tmp.path() / "ds";
  auto r = run_robotrain({"dataset", "synth", "--output", ds.string(), "--episodes", "3", "--frames", "20", "--height", "64", "--width", "64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto meta = robotrain::dataset::load_metadata(ds);
  Json cfg = {{"type", "act"}, {"chunk_size", 5}, {"n_action_steps", 5}, {"dim_model", 32}, {"n_heads", 4}, {"dim_feedforward", 64},
              {"n_encoder_layers", 1}, {"n_vae_encoder_layers", 1}, {"latent_dim", 4}, {"pretrained_backbone_weights", nullptr}};
  auto policy = robotrain::policy::make_policy(cfg, meta, false);
  robotrain::policy::save_pretrained(*policy, tmp.path() / "run/checkpoints/000010/pretrained_model");
  auto out = tmp.path() / "eval";
  r = run_robotrain({"eval", "--policy.path", (tmp.path() / "run").string(), "--dataset.root", ds.string(), "--eval-episodes", "2",
                     "--output_dir", out.string(), "--max-action-mse", "1e9", "--device", "cpu", "--tracking-uri", (tmp.path() / "mlruns").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (auto f : {"eval_results.json", "metrics.json", "report.html", "plots/ep2_dim0.png", "predictions/episode_1.jsonl"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  auto metrics = robotrain::util::read_json_file(out / "metrics.json");
  for (auto k : {"action_accuracy_l2", "action_accuracy_l1", "inference_latency_mean_ms", "throughput_hz"}) EXPECT_TRUE(metrics.contains(k)) << k;
  auto results = robotrain::util::read_json_file(out / "eval_results.json");
  EXPECT_EQ(results["episodes"].size(), 2u);
  EXPECT_EQ(results["episodes"][0]["steps"], 20);
  auto line = result_line(r.out);
  EXPECT_EQ(line["passed"], true);
  EXPECT_GT(line["aggregate"]["mse"].get<double>(), 0.0);
  // Tracked: the run's aggregate metrics are in the MLflow store.
  bool found = false;
  for (auto& e : fs::recursive_directory_iterator(tmp.path() / "mlruns"))
    if (e.path().filename() == "aggregate_mse") found = true;
  EXPECT_TRUE(found);
  // The gate fails with a tiny threshold.
  r = run_robotrain({"eval", "--policy.path", (tmp.path() / "run").string(), "--dataset.root", ds.string(), "--eval-episodes", "1",
                     "--output_dir", (tmp.path() / "eval2").string(), "--max-action-mse", "0", "--no-tracking", "--device", "cpu"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(result_line(r.out)["passed"], false);
}

TEST(EvalCli, InvalidInvocationsExit2) {
  EXPECT_EQ(run_robotrain({"eval", "--env", "pusht"}).exit_code, 2) << "needs --policy.path or --expert";
  EXPECT_EQ(run_robotrain({"eval", "--policy.path", "/nonexistent", "--dataset.root", "/x"}).exit_code, 2);
  EXPECT_EQ(run_robotrain({"eval", "--env", "cartpole", "--expert"}).exit_code, 2);
  EXPECT_EQ(run_robotrain({"eval", "--env", "pusht", "--expert", "--max-action-mse", "1"}).exit_code, 2);
}

TEST(EvalCli, PushTRecordAndExpertEvaluation) {
  robotrain::util::TempDir tmp;
  auto ds = tmp.path() / "pusht";
  auto r = run_robotrain({"sim", "record", "pusht", "--output", ds.string(), "--episodes", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_robotrain({"dataset", "validate", ds.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto meta = robotrain::dataset::load_metadata(ds);
  EXPECT_EQ(meta.total_episodes, 2);
  EXPECT_EQ(meta.fps, 10);
  ASSERT_TRUE(meta.feature("observation.image"));
  EXPECT_EQ(meta.feature("observation.image")->dtype, "video");

  auto out = tmp.path() / "eval";
  r = run_robotrain({"eval", "--env", "pusht", "--expert", "--eval-episodes", "4", "--seed", "3", "--videos", "1", "--output_dir", out.string(), "--no-tracking"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = robotrain::util::read_json_file(out / "eval_info.json");
  EXPECT_EQ(info["policy"]["per_episode"][0]["seed"], 3);
  EXPECT_GT(info["policy"]["avg_max_reward"].get<double>(), info["baseline_zero_motion"]["avg_max_reward"].get<double>() + 0.3);
  EXPECT_TRUE(fs::exists(out / "videos/episode_0.mp4"));
  EXPECT_FALSE(fs::exists(out / "videos/episode_1.mp4"));
  // Deterministic given the seed.
  auto out2 = tmp.path() / "eval2";
  r = run_robotrain({"eval", "--env", "pusht", "--expert", "--eval-episodes", "4", "--seed", "3", "--videos", "0", "--output_dir", out2.string(), "--no-tracking", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(robotrain::util::read_json_file(out2 / "eval_info.json")["policy"], info["policy"]);
  // --json: stdout is exactly one document; the pipeline's result line goes to stderr.
  EXPECT_EQ(robotrain::util::Json::parse(r.out)["policy"], info["policy"]);
  EXPECT_NE(r.err.find("robotrain-eval-result: "), std::string::npos);
}

// A state-based Push-T policy (block pose + agent position, as gym-pusht's
// environment_state_agent_pos): recorded without video, trained, and evaluated in closed loop
// with the environment filling observation.environment_state.
TEST(EvalCli, StateBasedPushTRecordTrainAndEvaluate) {
  robotrain::util::TempDir tmp;
  auto ds = tmp.path() / "pusht_state";
  auto r = run_robotrain({"sim", "record", "pusht", "--output", ds.string(), "--episodes", "2", "--obs-type", "environment_state_agent_pos"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto meta = robotrain::dataset::load_metadata(ds);
  EXPECT_FALSE(meta.feature("observation.image"));
  ASSERT_TRUE(meta.feature("observation.environment_state"));
  EXPECT_EQ(meta.feature("observation.environment_state")->shape, std::vector<int64_t>{4});
  robotrain::dataset::LeRobotDataset data(ds);
  auto frame = data.get(0);
  const auto& env = frame.arrays.at("observation.environment_state");
  const float* v = env.data<float>();
  EXPECT_NEAR(v[2] * v[2] + v[3] * v[3], 1.0, 1e-5) << "angle stored as (cos, sin)";
  EXPECT_EQ(run_robotrain({"sim", "record", "pusht", "--output", (tmp.path() / "x").string(), "--obs-type", "keypoints"}).exit_code, 2);

  auto run = tmp.path() / "train";
  r = run_robotrain({"train", "--dataset.root", ds.string(), "--policy.type", "act", "--policy.device", "cpu", "--steps", "2",
                     "--batch_size", "2", "--policy.chunk_size", "8", "--policy.n_action_steps", "4", "--policy.dim_model", "32",
                     "--policy.n_heads", "2", "--policy.dim_feedforward", "64", "--policy.n_encoder_layers", "1",
                     "--policy.n_vae_encoder_layers", "1", "--output_dir", run.string(), "--tracking-uri",
                     "file://" + (tmp.path() / "mlruns").string(), "--system-metrics", "false"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = tmp.path() / "eval";
  r = run_robotrain({"eval", "--env", "pusht", "--policy.path", (run / "checkpoints/last/pretrained_model").string(), "--eval-episodes",
                     "2", "--videos", "0", "--output_dir", out.string(), "--no-tracking"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = robotrain::util::read_json_file(out / "eval_info.json");
  EXPECT_EQ(info["policy"]["per_episode"].size(), 2u);
}
