#include <gtest/gtest.h>

#include "support/test_support.h"

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
