// One run per output directory: RunLock's exclusion, its error, and what it leaves behind.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <optional>

#include "train/run_lock.h"
#include "util/error.h"
#include "util/fs.h"

namespace rt = robotrain::train;
namespace fs = std::filesystem;
using robotrain::util::InputError;

namespace {
std::string error_of(const fs::path& dir, bool resuming) {
  try {
    rt::RunLock lock(dir, resuming);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(RunLock, ASecondHolderIsRefusedNamingThePid) {
  robotrain::util::TempDir tmp("rt-lock");
  const fs::path run = tmp.path() / "run";
  std::optional<rt::RunLock> first;
  first.emplace(run, false);
  ASSERT_TRUE(fs::is_regular_file(run / rt::RunLock::kFileName));
  // flock conflicts between open file descriptions, even in one process.
  const std::string pid = "(pid " + std::to_string(::getpid()) + ")";
  EXPECT_NE(error_of(run, true).find("is in use by another robotrain run " + pid), std::string::npos);
  EXPECT_NE(error_of(run, false).find("is in use by another robotrain run " + pid), std::string::npos);
  EXPECT_THROW(rt::check_new_run_dir(run), InputError);
  robotrain::util::atomic_write_file(run / "checkpoints.txt", "work");  // the run wrote something
  first.reset();
  EXPECT_TRUE(fs::exists(run / "checkpoints.txt"));
  EXPECT_EQ(error_of(run, true), "");  // free again: a resume takes it
  EXPECT_NE(error_of(run, false).find("already exists and --resume is off"), std::string::npos);
}

TEST(RunLock, ANewRunThatWroteNothingLeavesNoDirectory) {
  robotrain::util::TempDir tmp("rt-lock");
  const fs::path run = tmp.path() / "nested" / "run";
  { rt::RunLock lock(run, false); }
  EXPECT_FALSE(fs::exists(run));
  // What a run killed before its first write leaves (a lone, unheld lock file) is taken over.
  fs::create_directories(run);
  robotrain::util::atomic_write_file(run / rt::RunLock::kFileName, "999999\n");
  EXPECT_NO_THROW(rt::check_new_run_dir(run));
  EXPECT_EQ(error_of(run, false), "");
}

TEST(RunLock, AResumeOfAMissingDirectoryLeavesTheErrorToTheCheckpointLookup) {
  robotrain::util::TempDir tmp("rt-lock");
  EXPECT_EQ(error_of(tmp.path() / "absent", true), "");
  EXPECT_FALSE(fs::exists(tmp.path() / "absent"));
}
