#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

using robotrain::test::run_robotrain;

TEST(Cli, VersionPrintsNameAndVersion) {
  auto r = run_robotrain({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("robotrain 0."), std::string::npos) << r.out;
}

TEST(Cli, UnknownSubcommandIsInvalidInput) {
  auto r = run_robotrain({"no-such-command"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("robotrain: error:"), std::string::npos) << r.err;
}

TEST(Cli, NoSubcommandIsInvalidInput) {
  auto r = run_robotrain({});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Cli, HelpExitsZeroAndListsCommands) {
  auto r = run_robotrain({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Subcommands"), std::string::npos) << r.out;
}

TEST(Cli, EnvJsonReportsVersion) {
  auto r = run_robotrain({"env", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"version\""), std::string::npos) << r.out;
}

namespace {

// Runs robotrain with the OpenMP/MKL settings and the defaults' marker taken out of the
// environment (this test process got them itself), plus `env`.
robotrain::util::Json env_report_without_native_settings(const std::map<std::string, std::string>& env) {
  const char* names[] = {"OPENBLAS_CORETYPE", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "MKL_ENABLE_INSTRUCTIONS",
                         "ROBOTRAIN_NATIVE_DEFAULTS"};
  std::map<std::string, std::string> saved;
  for (const char* n : names)
    if (const char* v = std::getenv(n)) saved[n] = v;
  for (const char* n : names) unsetenv(n);
  auto r = run_robotrain({"env", "--json"}, env);
  for (const auto& [k, v] : saved) setenv(k.c_str(), v.c_str(), 1);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return robotrain::util::Json::parse(r.out);
}

}  // namespace

// The torch wheel's BLAS is MKL: the summary names it, and the one default left is the short
// OpenMP spin (no OPENBLAS_CORETYPE any more).
TEST(Cli, NativeDefaultsAreTheShortOpenMpSpin) {
  auto j = env_report_without_native_settings({});
  const std::string runtime = j["native_runtime"];
  EXPECT_EQ(runtime.rfind("oneMKL ", 0), 0u) << runtime;
  EXPECT_NE(runtime.find("GOMP_SPINCOUNT=10000"), std::string::npos) << runtime;
  EXPECT_EQ(runtime.find("OPENBLAS_CORETYPE"), std::string::npos) << runtime;
  EXPECT_EQ(j["native_defaults_added"], robotrain::util::Json({"GOMP_SPINCOUNT"}));
  EXPECT_EQ(j["blas"], "MKL");
}

TEST(Cli, NativeDefaultsLeaveUserSettingsAlone) {
  auto j = env_report_without_native_settings({{"OMP_WAIT_POLICY", "passive"}});
  const std::string runtime = j["native_runtime"];
  EXPECT_EQ(runtime.find("GOMP_SPINCOUNT"), std::string::npos) << runtime;
  EXPECT_NE(runtime.find("OMP_WAIT_POLICY=passive"), std::string::npos) << runtime;
  EXPECT_TRUE(j["native_defaults_added"].empty()) << j.dump();
  j = env_report_without_native_settings({{"GOMP_SPINCOUNT", "5"}});
  EXPECT_NE(std::string(j["native_runtime"]).find("GOMP_SPINCOUNT=5"), std::string::npos) << j.dump();
  EXPECT_TRUE(j["native_defaults_added"].empty()) << j.dump();
}

TEST(Cli, NativeDefaultsCanBeTurnedOff) {
  auto j = env_report_without_native_settings({{"ROBOTRAIN_NATIVE_DEFAULTS", "0"}});
  const std::string runtime = j["native_runtime"];
  EXPECT_EQ(runtime.find("GOMP_SPINCOUNT"), std::string::npos) << runtime;
  EXPECT_TRUE(j["native_defaults_added"].empty()) << j.dump();
}

// --cuda_graph is a CUDA-only setting: on the CPU it is invalid input, reported before the
// dataset, the policy or a tracker is touched (nothing written), and so is a value that is
// not a boolean.
TEST(Cli, CudaGraphOnTheCpuIsInvalidInputBeforeAnyWork) {
  robotrain::util::TempDir tmp("rt-cuda-graph");
  const auto ds = tmp.path() / "ds";
  auto r = run_robotrain({"dataset", "synth", "--output", ds.string(), "--episodes", "1", "--frames", "12", "--height", "64",
                          "--width", "64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = tmp.path() / "run";
  for (const char* value : {"true", "maybe"}) {
    r = run_robotrain({"train", "--dataset.root", ds.string(), "--policy.type", "act", "--policy.device", "cpu",
                       "--cuda_graph", value, "--steps", "2", "--output_dir", out.string(), "--no-tracking"});
    EXPECT_EQ(r.exit_code, 2) << value << ": " << r.err;
    auto lines = robotrain::util::split(r.err, '\n');
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    ASSERT_FALSE(lines.empty()) << value;
    EXPECT_NE(lines.back().find("--cuda"), std::string::npos) << value << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(out)) << value << ": the run directory was created";
  }
  EXPECT_NE(r.err.find("maybe"), std::string::npos) << r.err;
  r = run_robotrain({"train", "--dataset.root", ds.string(), "--policy.type", "act", "--policy.device", "cpu", "--cuda_graph",
                     "true", "--steps", "2", "--output_dir", out.string(), "--no-tracking"});
  EXPECT_NE(r.err.find("--cuda_graph true needs --policy.device cuda"), std::string::npos) << r.err;
}
