// --register-checkpoint and --init-from-policy-model through the real binary and the local
// MLflow file store's model registry: what one run registers, the next starts from.
#include <gtest/gtest.h>

#include "integration/train_support.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
using robotrain::test::run_robotrain;
namespace util = robotrain::util;

namespace {

// mlruns/<experiment>/<run>/tags/<key> of the only run holding that tag.
std::string run_tag(const fs::path& mlruns, const std::string& key) {
  for (auto& exp : fs::directory_iterator(mlruns)) {
    if (!exp.is_directory()) continue;
    for (auto& run : fs::directory_iterator(exp.path()))
      if (fs::is_regular_file(run.path() / "tags" / key)) return util::read_file(run.path() / "tags" / key);
  }
  return "";
}

}  // namespace

TEST(TrainRegistry, RegisteredCheckpointWarmStartsTheNextRun) {
  util::TempDir tmp("rt-reg");
  auto r = run_robotrain(tt::train_args((tmp.path() / "a").string(), 2, {"--save_freq", "2", "--register-checkpoint", "tiny_act"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("registered tiny_act version 1"), std::string::npos) << r.err;
  const fs::path registered = tmp.path() / "mlruns" / "models" / "tiny_act" / "version-1";
  ASSERT_TRUE(fs::is_regular_file(registered / "meta.yaml"));
  EXPECT_EQ(util::read_file(registered / "tags" / "checkpoint"), "000002");
  EXPECT_EQ(util::read_file(registered / "tags" / "policy_type"), "act");
  // A local --dataset.root is recorded as such, not as a Hub dataset.
  EXPECT_EQ(util::read_file(registered / "tags" / "dataset_source"), "local");
  EXPECT_EQ(util::read_file(registered / "tags" / "dataset_uri").rfind("file:///", 0), 0u);

  // Weights only, lr 0 for one step: the new run's first checkpoint equals the registered model.
  r = run_robotrain(tt::train_args((tmp.path() / "b").string(), 1,
                                   {"--init-from-policy-model", "models:/tiny_act/1", "--policy.optimizer_lr", "0",
                                    "--policy.optimizer_lr_backbone", "0", "--policy.optimizer_weight_decay", "0"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(tt::max_abs_diff(tmp.path() / "a" / "checkpoints" / "000002" / "pretrained_model" / "model.safetensors",
                             tmp.path() / "b" / "checkpoints" / "000001" / "pretrained_model" / "model.safetensors"),
            1e-7);
  EXPECT_EQ(run_tag(tmp.path() / "mlruns", "warm_start.source"), "models:/tiny_act/1");
  EXPECT_EQ(run_tag(tmp.path() / "mlruns", "warm_start.model_version"), "1");

  // A version that does not exist fails at run time, naming it.
  r = run_robotrain(tt::train_args((tmp.path() / "c").string(), 1, {"--init-from-policy-model", "models:/tiny_act/7"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("tiny_act"), std::string::npos) << r.err;
}

// --register-intermediate: each checkpoint becomes a version as it is saved, the final one last.
TEST(TrainRegistry, IntermediateCheckpointsAreRegisteredInOrder) {
  util::TempDir tmp("rt-reg");
  auto r = run_robotrain(tt::train_args((tmp.path() / "a").string(), 4,
                                        {"--save_freq", "2", "--register-checkpoint", "tiny_act", "--register-intermediate"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path model = tmp.path() / "mlruns" / "models" / "tiny_act";
  EXPECT_EQ(util::read_file(model / "version-1" / "tags" / "checkpoint"), "000002");
  EXPECT_EQ(util::read_file(model / "version-2" / "tags" / "checkpoint"), "000004");
  EXPECT_FALSE(fs::exists(model / "version-3"));
}

TEST(TrainRegistry, InvalidNamesAndWarmStartUrisExit2BeforeTraining) {
  util::TempDir tmp("rt-reg");
  struct Case {
    std::vector<std::string> flags;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"--register-checkpoint", "has space"}, "--register-checkpoint"},
      {{"--register-checkpoint", "-leading"}, "--register-checkpoint"},
      {{"--init-from-policy-model", "azureml:model:latest"}, "--init-from-policy-model"},
      {{"--init-from-policy-model", "azureml:model:01"}, "--init-from-policy-model"},
      {{"--init-from-policy-model", "azureml://locations/w/workspaces/g/models/m/versions/latest"}, "--init-from-policy-model"},
      {{"--init-from-policy-model", "models:/m/1", "--policy-repo-id", "me/policy"}, "mutually exclusive"},
      {{"--register-intermediate"}, "--register-checkpoint"},
  };
  int i = 0;
  for (const auto& c : cases) {
    fs::path out = tmp.path() / ("run" + std::to_string(i++));
    auto r = run_robotrain(tt::train_args(out.string(), 1, c.flags));
    EXPECT_EQ(r.exit_code, 2) << c.flags[1] << ": " << r.err;
    EXPECT_NE(r.err.find(c.mentions), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << "nothing written for " << c.flags[1];
  }
}

TEST(TrainRegistry, EvaluationRegistersOnlyWhenTheGatePasses) {
  util::TempDir tmp("rt-reg");
  auto r = run_robotrain(tt::train_args((tmp.path() / "a").string(), 2, {"--save_freq", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string ckpt = (tmp.path() / "a" / "checkpoints" / "last").string();
  const std::string mlruns = (tmp.path() / "mlruns").string();
  auto eval = [&](const std::string& gate) {
    return run_robotrain({"eval", "--policy.path", ckpt, "--dataset.root", tt::synth_dataset(), "--eval-episodes", "1",
                          "--output_dir", (tmp.path() / ("eval" + gate)).string(), "--max-action-mse", gate, "-r", "gated",
                          "--tracking-uri", mlruns, "--policy.device", "cpu"});
  };
  r = eval("0");  // no policy reaches an MSE of exactly 0 after two steps
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "mlruns" / "models" / "gated"));
  r = eval("1e9");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"uri\":\"models:/gated/1\""), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "mlruns" / "models" / "gated" / "version-1" / "model" / "model.safetensors"));
}
