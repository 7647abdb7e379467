// The README's main job (scripts/demo.sh) end to end on the built binary, with fewer training
// steps: every stage runs, the loss falls, and the checkpoint, MLflow store and report exist.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace fs = std::filesystem;
namespace util = robotrain::util;

TEST(Demo, MainJobRunsEveryStage) {
  util::TempDir tmp("rt-demo");
  const fs::path out = tmp.path() / "demo";
  util::ProcessOptions opts;
  opts.env = {{"RT", robotrain::test::robotrain_bin()}, {"OUT", out.string()}, {"DEMO_TRAIN_STEPS", "40"}};
  opts.timeout_s = 600;
  auto r = util::run_process({"bash", robotrain::test::source_dir() + "/scripts/demo.sh"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 violation(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("training done: step 40"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("% lower"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_symlink(out / "train" / "checkpoints" / "last"));
  EXPECT_TRUE(fs::is_regular_file(out / "train" / "checkpoints" / "000040" / "pretrained_model" / "model.safetensors"));
  EXPECT_TRUE(fs::is_regular_file(out / "eval" / "report.html"));
  EXPECT_TRUE(fs::is_directory(out / "mlruns"));
  EXPECT_NE(r.out.find("report: " + (out / "eval" / "report.html").string()), std::string::npos) << r.out;
}
