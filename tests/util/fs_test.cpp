#include "util/fs.h"

#include <gtest/gtest.h>

#include "util/crypto.h"
#include "util/error.h"
#include "util/process.h"

using namespace robotrain::util;

TEST(Fs, AtomicWriteLeavesNoTempFiles) {
  TempDir dir;
  atomic_write_file(dir.path() / "a" / "b.txt", "hello");
  EXPECT_EQ(read_file(dir.path() / "a" / "b.txt"), "hello");
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path() / "a")) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(Fs, StagedDirIsRemovedWithoutCommit) {
  TempDir dir;
  fs::path staging;
  {
    StagedDir staged(dir.path() / "out");
    staging = staged.path();
    atomic_write_file(staging / "x", "1");
  }
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_FALSE(fs::exists(dir.path() / "out"));
}

TEST(Fs, StagedDirRefusesToOverwrite) {
  TempDir dir;
  fs::create_directories(dir.path() / "out");
  StagedDir staged(dir.path() / "out");
  EXPECT_THROW(staged.commit(false), InputError);
  staged.commit(true);
  EXPECT_TRUE(fs::exists(dir.path() / "out"));
}

TEST(Crypto, KnownDigests) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(base64_encode(md5_raw("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(base64_decode(base64_encode("hello world")), "hello world");
  EXPECT_THROW(base64_decode("abc"), RuntimeError);
}

TEST(Process, CapturesOutputAndExitCode) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Process, TimeoutKillsChild) {
  ProcessOptions opts;
  opts.timeout_s = 0.3;
  auto r = run_process({"sleep", "5"}, opts);
  EXPECT_TRUE(r.timed_out);
}
