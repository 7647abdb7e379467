// `robotrain dataset synth|info|validate|bench-loader` through the real binary.
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"

using robotrain::test::run_robotrain;
namespace util = robotrain::util;

namespace {

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST(DatasetCli, SynthInfoValidateBench) {
  util::TempDir tmp;
  const std::string ds = (tmp.path() / "synth").string();
  auto r = run_robotrain({"dataset", "synth", "--output", ds, "--episodes", "3", "--frames", "20", "--cameras", "1",
                          "--height", "64", "--width", "96", "--seed", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 episodes, 60 frames"), std::string::npos) << r.out;

  r = run_robotrain({"dataset", "info", ds, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = util::Json::parse(r.out);
  EXPECT_EQ(j["episodes"], 3);
  EXPECT_EQ(j["frames"], 60);
  EXPECT_EQ(j["fps"], 30);
  bool camera = false;
  for (const auto& f : j["features"])
    if (f["key"] == "observation.images.cam0") {
      camera = true;
      EXPECT_EQ(f["codec"], "av1");
      EXPECT_EQ(f["shape"], util::Json::array({64, 96, 3}));
    }
  EXPECT_TRUE(camera);
  EXPECT_GT(j["size_bytes"]["videos"].get<int64_t>(), 0);

  r = run_robotrain({"dataset", "info", ds});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("observation.state"), std::string::npos);

  r = run_robotrain({"dataset", "validate", ds});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("OK"), std::string::npos) << r.out;

  r = run_robotrain({"dataset", "bench-loader", ds, "--batch-size", "4", "--steps", "5", "--num-workers", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto b = util::Json::parse(r.out);
  EXPECT_EQ(b["samples"], 20);
  EXPECT_GT(b["samples_per_s"].get<double>(), 0);
}

TEST(DatasetCli, ValidateExitsOneOnViolations) {
  util::TempDir tmp;
  const std::string ds = (tmp.path() / "synth").string();
  auto r = run_robotrain({"dataset", "synth", "--output", ds, "--episodes", "2", "--frames", "10", "--cameras", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = util::read_json_file(tmp.path() / "synth/meta/info.json");
  info["total_frames"] = 7;
  util::write_json_file(tmp.path() / "synth/meta/info.json", info);
  r = run_robotrain({"dataset", "validate", ds});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("violation: meta/info.json: total_frames is 7"), std::string::npos) << r.out;
  r = run_robotrain({"dataset", "validate", ds, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(util::Json::parse(r.out)["ok"].get<bool>());
}

TEST(DatasetCli, BadPathIsOneLineInputError) {
  for (const char* sub : {"info", "validate", "bench-loader"}) {
    auto r = run_robotrain({"dataset", sub, "/nonexistent/robotrain-dataset"});
    EXPECT_EQ(r.exit_code, 2) << sub << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("/nonexistent/robotrain-dataset"), std::string::npos) << r.err;
  }
}

TEST(DatasetCli, BadSynthFlagsExitTwo) {
  util::TempDir tmp;
  auto r = run_robotrain({"dataset", "synth", "--output", (tmp.path() / "x").string(), "--codec", "vp9"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_robotrain({"dataset", "synth", "--output", tmp.path().string()});  // exists
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "x"));
}

TEST(DatasetCli, HelpOnEachSubcommand) {
  for (const char* sub : {"synth", "info", "validate", "bench-loader"}) {
    auto r = run_robotrain({"dataset", sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("--"), std::string::npos) << sub;
  }
}
