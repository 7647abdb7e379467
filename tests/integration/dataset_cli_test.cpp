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

TEST(DatasetCli, OutOfRangeSynthAndLoaderFlagsAreOneLineInputErrors) {
  util::TempDir tmp;
  const std::string out = (tmp.path() / "x").string();
  const std::vector<std::vector<std::string>> bad = {
      {"--episodes", "0"},          {"--frames", "100000000"}, {"--width", "100000"}, {"--height", "10"},
      {"--crf", "1000"},            {"--gop", "0"},            {"--fps", "0"},        {"--cameras", "99"},
      {"--episodes", "100000", "--frames", "1000"}};
  for (const auto& flags : bad) {
    std::vector<std::string> args{"dataset", "synth", "--output", out};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = run_robotrain(args);
    EXPECT_EQ(r.exit_code, 2) << flags[0] << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(flags[0]), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out)) << flags[0];
  }
  auto r = run_robotrain({"dataset", "synth", "--output", ""});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--output is empty"), std::string::npos) << r.err;
  for (const char* flag : {"--chunk-size", "--num-workers", "--batch-size"}) {
    r = run_robotrain({"dataset", "bench-loader", "/nonexistent", flag, "100000000"});
    EXPECT_EQ(r.exit_code, 2) << flag << ": " << r.err;
    EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
  }
  r = run_robotrain({"sim", "record", "pusht", "--output", out, "--episodes", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--episodes 0"), std::string::npos) << r.err;
  r = run_robotrain({"sim", "record", "pusht", "--output", out, "--codec", "vp9"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_robotrain({"sim", "record", "pusht", "--output", ""});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(DatasetCli, ValidateProbesVideosAndDeepDecodesEveryFrame) {
  util::TempDir tmp;
  const auto ds = tmp.path() / "ds", shorter = tmp.path() / "short";
  auto synth = [](const std::filesystem::path& out, const char* frames) {
    auto r = run_robotrain({"dataset", "synth", "--output", out.string(), "--episodes", "2", "--frames", frames, "--cameras", "1",
                            "--height", "32", "--width", "32", "--codec", "h264"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  synth(ds, "10");
  synth(shorter, "5");
  auto r = run_robotrain({"dataset", "validate", ds.string(), "--deep"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string video = "videos/observation.images.cam0/chunk-000/file-000.mp4";
  std::filesystem::copy_file(shorter / video, ds / video, std::filesystem::copy_options::overwrite_existing);
  // The default probe decodes the last frame of the last episode: not there.
  r = run_robotrain({"dataset", "validate", ds.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(video + ": decode probe failed: no frame at"), std::string::npos) << r.out;
  r = run_robotrain({"dataset", "validate", ds.string(), "--deep"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(video + ": decodes to 10 frames but its episodes hold 20"), std::string::npos) << r.out;
}

TEST(DatasetCli, HelpOnEachSubcommand) {
  for (const char* sub : {"synth", "info", "validate", "bench-loader"}) {
    auto r = run_robotrain({"dataset", sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("--"), std::string::npos) << sub;
  }
}
