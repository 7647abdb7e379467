// `robotrain dataset merge|convert` through the real binary: a merge that validates clean,
// input errors (incompatible sources, existing output, v3.0 to convert) exit 2 with one line
// naming the problem, before anything is written.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

using robotrain::test::run_robotrain;
namespace util = robotrain::util;
namespace fs = std::filesystem;

namespace {

void synth(const fs::path& out, const std::string& episodes, const std::string& fps = "30") {
  auto r = run_robotrain({"dataset", "synth", "--output", out.string(), "--episodes", episodes, "--frames", "6", "--cameras",
                          "1", "--height", "64", "--width", "64", "--fps", fps});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace

TEST(DatasetMergeCli, MergeValidateAndInputErrors) {
  util::TempDir tmp;
  const fs::path a = tmp.path() / "a", b = tmp.path() / "b", slow = tmp.path() / "slow", out = tmp.path() / "out";
  synth(a, "2");
  synth(b, "3");
  synth(slow, "1", "15");

  auto r = run_robotrain({"dataset", "merge", a.string(), b.string(), "--output", out.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = util::Json::parse(r.out);
  EXPECT_EQ(j["episodes"], 5);
  EXPECT_EQ(j["frames"], 30);
  EXPECT_EQ(j["tasks"], 1);
  EXPECT_EQ(j["repo_id"], "out");

  r = run_robotrain({"dataset", "validate", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = run_robotrain({"dataset", "info", out.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(util::Json::parse(r.out)["episodes"], 5);

  // Existing output without --overwrite.
  r = run_robotrain({"dataset", "merge", a.string(), b.string(), "--output", out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  r = run_robotrain({"dataset", "merge", b.string(), a.string(), "--output=" + out.string(), "--overwrite"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("5 episodes, 30 frames"), std::string::npos) << r.out;

  // Incompatible fps: exit 2, one line naming the field, nothing written.
  r = run_robotrain({"dataset", "merge", a.string(), slow.string(), "--output", (tmp.path() / "bad").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("fps differs (30 in"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "bad"));

  r = run_robotrain({"dataset", "merge", (tmp.path() / "nope").string(), "--output", (tmp.path() / "bad").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_robotrain({"dataset", "merge", a.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // --output is required

  // convert: a v3.0 source is an input error.
  r = run_robotrain({"dataset", "convert", a.string(), "--output", (tmp.path() / "conv").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("already v3.0"), std::string::npos) << r.err;
}

TEST(DatasetMergeCli, InvalidSourceIsRefusedNamingItsViolation) {
  util::TempDir tmp;
  const fs::path a = tmp.path() / "a", b = tmp.path() / "b", out = tmp.path() / "out";
  synth(a, "1");
  synth(b, "2");
  // Readable metadata, but a count that contradicts the episodes: validate's violation.
  auto info = util::read_json_file(b / "meta/info.json");
  info["total_frames"] = 99;
  util::write_json_file(b / "meta/info.json", info);
  auto r = run_robotrain({"dataset", "merge", a.string(), b.string(), "--output", out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(b.string() + " is not a valid dataset"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("total_frames is 99"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(tmp.path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST(DatasetMergeCli, StagingLeftByAKilledMergeIsRemovedByTheNextRun) {
  util::TempDir tmp;
  const fs::path a = tmp.path() / "a", out = tmp.path() / "out";
  synth(a, "1");
  // What a merge killed by SIGKILL leaves: its staging directory, named after its pid.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  const fs::path stale = tmp.path() / util::cat(".out.tmp-", child, "-0");
  const fs::path live = tmp.path() / util::cat(".out.tmp-", ::getpid(), "-0");  // a merge still running
  fs::create_directories(stale / "data/chunk-000");
  fs::create_directories(live / "data");
  auto r = run_robotrain({"dataset", "merge", a.string(), "--output", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(out / "meta/info.json"));
}
