// `robotrain pipeline` on the local platform, for real: a tiny ACT is trained on the generated
// dataset as a local job, evaluated by offline replay as a second job, and registered in the
// local MLflow store's registry because the evaluation passed its gate (the version records
// which). Without a gate (the seed's -r alone) see seed_quickstart_test.cpp.
#include <gtest/gtest.h>

#include "integration/train_support.h"
#include "util/strings.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
using robotrain::test::run_robotrain;
namespace util = robotrain::util;

TEST(PipelineLocal, TrainsEvaluatesAndRegisters) {
  util::TempDir tmp("rt-pipe");
  const std::string mlruns = (tmp.path() / "mlruns").string();
  std::vector<std::string> args{"pipeline", "-d", tt::synth_dataset(), "--policy-type", "act", "--job-name", "pipe",
                                "--training-steps", "2", "--save-freq", "2", "--batch-size", "2", "--eval-episodes", "1",
                                "-r", "pipe_model", "--max-action-mse", "1e9", "--poll-interval", "0.2", "--tracking-uri", mlruns,
                                "--output-dir", (tmp.path() / "run").string(), "--no-system-metrics", "--json"};
  // The pipeline sets the policy type and system metrics itself; the rest shrinks the model.
  auto tiny = tt::tiny_policy_args();
  for (size_t i = 0; i + 1 < tiny.size(); i += 2)
    if (tiny[i] != "--policy.type" && tiny[i] != "--system-metrics")
      args.insert(args.end(), {"--train-arg=" + tiny[i], "--train-arg=" + tiny[i + 1]});
  auto r = run_robotrain(args, {{"ROBOTRAIN_HOME", (tmp.path() / "home").string()}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto summary = util::Json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(summary["registered_model"], "pipe_model:1") << r.out;
  EXPECT_EQ(summary["quality_gate"], "max_action_mse<=1e+09") << r.out;
  const fs::path version = tmp.path() / "mlruns" / "models" / "pipe_model" / "version-1";
  EXPECT_TRUE(fs::is_regular_file(version / "model" / "model.safetensors"));
  EXPECT_EQ(util::trim(util::read_file(version / "tags" / "quality_gate")), "max_action_mse<=1e+09");
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "run" / "checkpoints" / "000002" / "pretrained_model" / "model.safetensors"));
}
