// What robotrain writes must load where the seed system's checkpoints did: in LeRobot 0.5.1's
// `lerobot-train --resume --config_path ...` (tests/peers/seed_check_lerobot_config.py runs
// LeRobot's own parsing and validation on it). Two things used to stop it there: diffusion's
// config.json said push_to_hub true ("'policy.repo_id' argument missing"), and a local
// dataset was recorded as dataset.repo_id null.
#include <gtest/gtest.h>

#include "integration/seed_support.h"
#include "integration/train_support.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
using robotrain::test::run_peer_script;
using robotrain::test::run_robotrain;
namespace util = robotrain::util;

TEST(SeedCheckpoints, LeRobotAcceptsARobotrainDiffusionCheckpoint) {
  ASSERT_EQ(robotrain::test::peer_missing("lerobot"), "");
  util::TempDir tmp("rt-seed-ckpt");
  const fs::path out = tmp.path() / "run";
  auto r = run_robotrain({"train", "--dataset.root", tt::synth_dataset(), "--output_dir", out.string(), "--steps", "1",
                          "--batch_size", "2", "--policy.type", "diffusion", "--policy.device", "cpu",
                          "--policy.down_dims=[16,32,64]", "--policy.horizon", "8", "--policy.n_action_steps", "4",
                          "--policy.spatial_softmax_num_keypoints", "8", "--num_workers", "1", "--num-threads", "2",
                          "--system-metrics", "false", "--tracking-uri", (tmp.path() / "mlruns").string(),
                          "--register-checkpoint", "local_diffusion"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path pm = out / "checkpoints" / "000001" / "pretrained_model";
  EXPECT_EQ(util::read_json_file(pm / "config.json")["push_to_hub"], false);
  auto train_config = util::read_json_file(pm / "train_config.json");
  EXPECT_EQ(train_config["policy"]["push_to_hub"], false);
  // The seed's logical local dataset name: the directory's.
  EXPECT_EQ(train_config["dataset"]["repo_id"], fs::path(tt::synth_dataset()).filename().string());
  EXPECT_EQ(train_config["dataset"]["root"], tt::synth_dataset());

  auto lerobot = run_peer_script("seed_check_lerobot_config.py", {pm.string()});
  ASSERT_EQ(lerobot.exit_code, 0) << lerobot.err;
  auto seen = util::Json::parse(lerobot.out.substr(lerobot.out.rfind("{\"dataset_repo_id\"")));
  EXPECT_EQ(seen["policy_type"], "diffusion");
  EXPECT_EQ(seen["push_to_hub"], false);
  EXPECT_EQ(seen["dataset_repo_id"], "synth");

  // The name is LeRobot's, not a Hub id: the registered lineage still points at the directory.
  const fs::path version = tmp.path() / "mlruns" / "models" / "local_diffusion" / "version-1";
  std::string uri = util::trim(util::read_file(version / "tags" / "dataset_uri"));
  EXPECT_NE(uri.find(tt::synth_dataset()), std::string::npos) << uri;
  // A resume reads the name back as what it is: the run goes on naming the data by its root.
  r = run_robotrain({"train", "--resume", "--output_dir", out.string(), "--steps", "2", "--num-threads", "2",
                     "--system-metrics", "false", "--tracking-uri", (tmp.path() / "mlruns").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto resumed = util::read_json_file(out / "checkpoints" / "000002" / "pretrained_model" / "train_config.json");
  EXPECT_EQ(resumed["dataset"]["repo_id"], "synth");
}
