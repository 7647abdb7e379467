// LeRobot 0.5.1's own `lerobot-train --config_path=<robotrain checkpoint>/train_config.json
// --resume=true` continues a robotrain ACT run and a robotrain diffusion run (CPU, tiny
// configs, on the robotrain-written dataset), and robotrain continues the run LeRobot
// extended. Resuming means more than "it ran": LeRobot's optimizer state counts on from
// robotrain's (Adam's step 4 -> 6, not a fresh 2), diffusion's LR schedule continues at
// step 6 of its warm-up, and the step counter and `last` link move on.
#include <gtest/gtest.h>

#include "lerobot_support.h"

namespace lt = robotrain::test::lerobot;
namespace fs = std::filesystem;
using robotrain::util::Json;

namespace {

std::vector<std::string> robotrain_args(const fs::path& out, const std::string& type) {
  std::vector<std::string> a{"train", "--dataset.root", lt::two_camera_dataset(), "--output_dir", out.string(),
                             "--steps", "4", "--save_freq", "2", "--batch_size", "4", "--seed", "5",
                             "--tracking-uri", (out.parent_path() / "mlruns").string()};
  auto policy = type == "act" ? lt::tiny_act_args() : lt::tiny_diffusion_args();
  // Diffusion trains on every episode here: with --val-split's held-out episode, train_config.json
  // lists the others in dataset.episodes (robotrain is right to), and LeRobot 0.5.1's
  // lerobot-train then fails on its own: its EpisodeAwareSampler (diffusion's
  // drop_n_last_frames) yields absolute frame indices, which LeRobotDataset.__getitem__ takes
  // as positions in the episode-filtered table (IndexError unless the episodes are 0..k-1).
  // ACT keeps the split, so LeRobot's resume of an episode subset is covered.
  if (type == "diffusion") policy.insert(policy.end(), {"--val-split", "0"});
  a.insert(a.end(), policy.begin(), policy.end());
  return a;
}

robotrain::util::ProcessResult lerobot_train(const std::vector<std::string>& args) {
  std::vector<std::string> argv{(fs::path(robotrain::test::peer_python()).parent_path() / "lerobot-train").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  robotrain::util::ProcessOptions opts;
  opts.timeout_s = 600;
  opts.env = lt::one_thread_env();
  opts.env.insert({{"HF_HUB_OFFLINE", "1"}, {"WANDB_MODE", "disabled"}, {"PYTHONDONTWRITEBYTECODE", "1"}});
  return robotrain::util::run_process(argv, opts);
}

double adam_step(const fs::path& training_state) {
  return lt::load_tensors(training_state / "optimizer_state.safetensors").at("state/0/step").item<double>();
}

void expect_resumed_both_ways(const std::string& type) {
  robotrain::util::TempDir tmp("rt-lerobot-resume");
  const fs::path run = tmp.path() / "run";
  auto r = lt::run_rt(robotrain_args(run, type));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(adam_step(run / "checkpoints" / "000004" / "training_state"), 4.0);

  auto lr = lerobot_train({"--config_path=" + (run / "checkpoints" / "000004" / "pretrained_model" / "train_config.json").string(),
                           "--resume=true", "--steps=6"});
  ASSERT_EQ(lr.exit_code, 0) << lr.out.substr(lr.out.size() > 3000 ? lr.out.size() - 3000 : 0) << lr.err;
  const fs::path step6 = run / "checkpoints" / "000006";
  ASSERT_TRUE(fs::exists(step6 / "pretrained_model" / "model.safetensors")) << lr.err;
  EXPECT_EQ(fs::read_symlink(run / "checkpoints" / "last"), fs::path("000006"));
  EXPECT_EQ(robotrain::util::read_json_file(step6 / "training_state" / "training_step.json")["step"], 6);
  EXPECT_EQ(adam_step(step6 / "training_state"), 6.0) << "LeRobot did not continue robotrain's optimizer state";
  if (type == "diffusion") {
    auto sched = robotrain::util::read_json_file(step6 / "training_state" / "scheduler_state.json");
    EXPECT_EQ(sched["last_epoch"], 6);
    // Warm-up of 500 steps at lr 1e-4: step 6 runs at 6/500 of it.
    auto groups = robotrain::util::read_json_file(step6 / "training_state" / "optimizer_param_groups.json");
    EXPECT_NEAR(groups[0]["lr"].get<double>(), 1e-4 * 6 / 500, 1e-12);
  }

  // And back: robotrain resumes the checkpoint LeRobot wrote.
  r = lt::run_rt({"train", "--config_path=" + (step6 / "pretrained_model" / "train_config.json").string(), "--resume=true",
                     "--steps", "8", "--num_workers", "1", "--num-threads", "1", "--system-metrics", "false",
                     "--tracking-uri", (tmp.path() / "mlruns").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(robotrain::util::read_json_file(run / "checkpoints" / "000008" / "training_state" / "training_step.json")["step"], 8);
  EXPECT_EQ(adam_step(run / "checkpoints" / "000008" / "training_state"), 8.0);
}

}  // namespace

TEST(LeRobotResume, LeRobotTrainContinuesARobotrainActRunAndBack) {
  RT_REQUIRE_LEROBOT();
  expect_resumed_both_ways("act");
}

TEST(LeRobotResume, LeRobotTrainContinuesARobotrainDiffusionRunAndBack) {
  RT_REQUIRE_LEROBOT();
  expect_resumed_both_ways("diffusion");
}
