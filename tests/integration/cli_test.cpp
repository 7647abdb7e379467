#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "support/test_support.h"
#include "util/json.h"

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

// Runs robotrain with OPENBLAS_CORETYPE, GOMP_SPINCOUNT and the defaults' marker taken out of
// the environment (this test process got them itself), plus `env`.
robotrain::util::Json env_report_without_native_settings(const std::map<std::string, std::string>& env) {
  const char* names[] = {"OPENBLAS_CORETYPE", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "ROBOTRAIN_NATIVE_DEFAULTS"};
  std::map<std::string, std::string> saved;
  for (const char* n : names)
    if (const char* v = std::getenv(n)) saved[n] = v;
  for (const char* n : names) unsetenv(n);
  auto r = run_robotrain({"env", "--json"}, env);
  for (const auto& [k, v] : saved) setenv(k.c_str(), v.c_str(), 1);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return robotrain::util::Json::parse(r.out);
}

bool cpu_has_avx512_kernels() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd");
}

}  // namespace

TEST(Cli, NativeDefaultsPickOpenBlasKernelsAndShortOpenMpSpin) {
  auto j = env_report_without_native_settings({});
  const std::string blas = j["blas"];
  EXPECT_NE(blas.find("GOMP_SPINCOUNT=10000"), std::string::npos) << blas;
  if (blas.rfind("OpenBLAS", 0) == 0 && cpu_has_avx512_kernels()) {
    EXPECT_NE(blas.find("SkylakeX kernels"), std::string::npos) << blas;
    EXPECT_EQ(j["native_defaults_added"], robotrain::util::Json({"OPENBLAS_CORETYPE", "GOMP_SPINCOUNT"}));
  }
}

TEST(Cli, NativeDefaultsLeaveUserSettingsAlone) {
  auto j = env_report_without_native_settings({{"OPENBLAS_CORETYPE", "Haswell"}, {"OMP_WAIT_POLICY", "passive"}});
  const std::string blas = j["blas"];
  if (blas.rfind("OpenBLAS", 0) == 0) EXPECT_NE(blas.find("Haswell kernels"), std::string::npos) << blas;
  EXPECT_EQ(blas.find("GOMP_SPINCOUNT"), std::string::npos) << blas;
  EXPECT_NE(blas.find("OMP_WAIT_POLICY=passive"), std::string::npos) << blas;
  EXPECT_TRUE(j["native_defaults_added"].empty()) << j.dump();
}

TEST(Cli, NativeDefaultsCanBeTurnedOff) {
  auto j = env_report_without_native_settings({{"ROBOTRAIN_NATIVE_DEFAULTS", "0"}});
  const std::string blas = j["blas"];
  EXPECT_EQ(blas.find("GOMP_SPINCOUNT"), std::string::npos) << blas;
  EXPECT_TRUE(j["native_defaults_added"].empty()) << j.dump();
}
