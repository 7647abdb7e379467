// `robotrain train --policy.type diffusion` end to end through the binary: the same
// checkpoint layout as ACT plus the LR scheduler's state, LeRobot's Diffusion preset (Adam,
// cosine with 500 warm-up steps) in train_config.json and in the logged learning rate,
// MIN_MAX stats for state/action, and resume continuing the schedule exactly.
#include <gtest/gtest.h>

#include <sstream>

#include "train_support.h"

namespace tt = robotrain::test::train;
namespace util = robotrain::util;
namespace fs = std::filesystem;
using robotrain::test::run_robotrain;
using util::Json;

namespace {

// A tiny U-Net (down_dims 16/32/64, horizon 8 = 2^3) on the shared 32x32 synthetic dataset.
std::vector<std::string> diffusion_args(const fs::path& out, int steps, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"train", "--dataset.root", tt::synth_dataset(), "--output_dir", out.string(),
                             "--steps", std::to_string(steps), "--batch_size", "4", "--seed", "11",
                             "--policy.type", "diffusion", "--policy.device", "cpu",
                             "--policy.down_dims=[16,32,64]", "--policy.horizon", "8", "--policy.n_action_steps", "4",
                             "--policy.spatial_softmax_num_keypoints", "8", "--num_workers", "1", "--num-threads", "2",
                             "--system-metrics", "false", "--tracking-uri", (out.parent_path() / "mlruns").string()};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// (step, value) pairs of one metric in the local MLflow store (lines "timestamp value step").
std::vector<std::pair<int64_t, double>> metric_history(const fs::path& mlruns, const std::string& name) {
  std::vector<std::pair<int64_t, double>> out;
  for (auto& e : fs::recursive_directory_iterator(mlruns)) {
    if (e.path().filename() != "metrics") continue;
    fs::path file = e.path() / name;
    if (!fs::exists(file)) continue;
    std::istringstream in(util::read_file(file));
    int64_t ts = 0, step = 0;
    double v = 0;
    while (in >> ts >> v >> step) out.emplace_back(step, v);
  }
  return out;
}

}  // namespace

TEST(DiffusionRun, CheckpointPresetAndLoggedLearningRateFollowLeRobot) {
  util::TempDir tmp("rt-diff");
  const fs::path out = tmp.path() / "run";
  auto r = run_robotrain(diffusion_args(out, 4, {"--save_freq", "2", "--log_freq", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const fs::path ckpt = out / "checkpoints" / "000004";
  EXPECT_EQ(fs::read_symlink(out / "checkpoints" / "last"), fs::path("000004"));
  EXPECT_TRUE(fs::is_directory(out / "checkpoints" / "000002"));
  auto config = util::read_json_file(ckpt / "pretrained_model" / "config.json");
  EXPECT_EQ(config["type"], "diffusion");
  EXPECT_EQ(config["down_dims"], Json({16, 32, 64}));
  EXPECT_EQ(config["normalization_mapping"]["STATE"], "MIN_MAX");
  EXPECT_EQ(config["normalization_mapping"]["ACTION"], "MIN_MAX");
  EXPECT_EQ(config["normalization_mapping"]["VISUAL"], "MEAN_STD");

  auto weights = tt::read_safetensors(ckpt / "pretrained_model" / "model.safetensors");
  for (const char* k : {"diffusion.rgb_encoder.backbone.0.weight", "diffusion.rgb_encoder.pool.nets.weight",
                        "diffusion.unet.diffusion_step_encoder.1.weight", "diffusion.unet.final_conv.1.weight"})
    EXPECT_TRUE(weights.count(k)) << k;
  EXPECT_EQ(weights["diffusion.rgb_encoder.pool.nets.weight"].shape, (std::vector<int64_t>{8, 512, 1, 1}));
  auto norm = tt::read_safetensors(ckpt / "pretrained_model" / "policy_preprocessor_step_3_normalizer_processor.safetensors");
  EXPECT_TRUE(norm.count("observation.state.min") && norm.count("observation.state.max"));
  EXPECT_TRUE(norm.count("action.min") && norm.count("action.max"));
  EXPECT_TRUE(norm.count("observation.images.cam0.mean"));

  // LeRobot's Diffusion preset: Adam (one group), diffusers cosine with 500 warm-up steps.
  auto train_config = util::read_json_file(ckpt / "pretrained_model" / "train_config.json");
  EXPECT_EQ(train_config["optimizer"]["type"], "adam");
  EXPECT_EQ(train_config["optimizer"]["betas"], Json({0.95, 0.999}));
  EXPECT_EQ(train_config["scheduler"]["type"], "diffuser");
  EXPECT_EQ(train_config["scheduler"]["name"], "cosine");
  EXPECT_EQ(train_config["scheduler"]["num_warmup_steps"], 500);
  auto groups = util::read_json_file(ckpt / "training_state" / "optimizer_param_groups.json");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_DOUBLE_EQ(groups[0]["weight_decay"].get<double>(), 1e-6);
  EXPECT_DOUBLE_EQ(groups[0]["lr"].get<double>(), 1e-4 * 4 / 500);
  auto sched = util::read_json_file(ckpt / "training_state" / "scheduler_state.json");
  EXPECT_EQ(sched["last_epoch"], 4);
  EXPECT_EQ(sched["base_lrs"], Json({1e-4}));

  // The logged rate is the one after each step's scheduler step, as lerobot-train records it.
  auto lr = metric_history(tmp.path() / "mlruns", "train/learning_rate");
  ASSERT_EQ(lr.size(), 4u) << r.err;
  for (auto [step, v] : lr) EXPECT_NEAR(v, 1e-4 * static_cast<double>(step) / 500, 1e-12) << "step " << step;
  EXPECT_NE(r.err.find("step:4 smpl:16"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("lr:8.0e-07"), std::string::npos) << r.err;
}

TEST(DiffusionRun, ResumeContinuesTheScheduleAndTheWeights) {
  util::TempDir tmp("rt-diff");
  const fs::path straight = tmp.path() / "straight", split = tmp.path() / "split";
  // With robotrain's EMA, which lives in robotrain.json: the resumed run must find it there.
  auto r = run_robotrain(diffusion_args(straight, 6, {"--save_freq", "6", "--policy.use_ema", "true"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Stopped after 3 steps, then resumed with a raised total: still inside the warm-up, so the
  // schedule (and every draw of noise and timesteps) is the straight run's.
  r = run_robotrain(diffusion_args(split, 3, {"--save_freq", "3", "--policy.use_ema", "true"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_robotrain({"train", "--resume", "--output_dir", split.string(), "--steps", "6", "--num-threads", "2",
                     "--system-metrics", "false", "--tracking-uri", (tmp.path() / "mlruns").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming from"), std::string::npos) << r.err;

  const fs::path a = straight / "checkpoints" / "000006", b = split / "checkpoints" / "000006";
  EXPECT_EQ(util::read_json_file(b / "training_state" / "scheduler_state.json")["last_epoch"], 6);
  EXPECT_EQ(util::read_json_file(a / "training_state" / "optimizer_param_groups.json")[0]["lr"],
            util::read_json_file(b / "training_state" / "optimizer_param_groups.json")[0]["lr"]);
  EXPECT_LT(tt::max_abs_diff(a / "pretrained_model" / "model.safetensors", b / "pretrained_model" / "model.safetensors"),
            1e-5);
  EXPECT_LT(tt::max_abs_diff(a / "training_state" / "optimizer_state.safetensors",
                             b / "training_state" / "optimizer_state.safetensors"),
            1e-5);
  ASSERT_TRUE(fs::exists(b / "pretrained_model" / "ema.safetensors")) << "the resumed run lost its EMA";
  EXPECT_LT(tt::max_abs_diff(a / "pretrained_model" / "ema.safetensors", b / "pretrained_model" / "ema.safetensors"), 1e-5);
  auto config = util::read_json_file(b / "pretrained_model" / "config.json");
  auto train_config = util::read_json_file(b / "pretrained_model" / "train_config.json");
  for (const char* k : {"use_ema", "ema_power", "robotrain_ema"}) {
    EXPECT_FALSE(config.contains(k)) << k << " would stop LeRobot from loading config.json";
    EXPECT_FALSE(train_config["policy"].contains(k)) << k;
  }
  EXPECT_EQ(util::read_json_file(b / "pretrained_model" / "robotrain.json")["policy"]["use_ema"], true);
}
