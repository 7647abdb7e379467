// A local tracking store whose disk fills up mid-run (a small tmpfs, mounted in a private
// mount namespace so no root is needed where user namespaces are allowed): training goes on,
// the refused writes are journaled with one warning, the run still ends FINISHED, `runs list`
// keeps working on the full store, and `track sync` delivers the journal once there is room.
#include <gtest/gtest.h>

#include "integration/train_support.h"
#include "support/mlflow_server.h"
#include "util/strings.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
namespace test = robotrain::test;
namespace util = robotrain::util;
using util::Json;

namespace {

std::string quote(const std::string& s) { return "'" + util::replace_all(s, "'", "'\\''") + "'"; }

std::string join_quoted(const std::vector<std::string>& args) {
  std::string out;
  for (auto& a : args) out += quote(a) + " ";
  return out;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST(MlflowStoreFull, FullDiskJournalsFinishesHonestlyAndSyncsLater) {
  util::TempDir tmp{"rt-store-full"};
  util::ProcessOptions probe;
  probe.timeout_s = 30;
  auto can = util::run_process({"unshare", "-rm", "true"}, probe);
  if (can.exit_code != 0) GTEST_SKIP() << "no private mount namespace here (unshare -rm: " << can.err << "); "
                                        << "FileStore.RefusedWritesAreJournaledAndTheRunStillEnds covers the logic";
  const fs::path mnt = tmp.path() / "disk", out = tmp.path() / "a", copy = tmp.path() / "copy";
  fs::create_directories(mnt);
  const std::string store = (mnt / "mlruns").string();
  auto args = tt::train_args(out.string(), 22, {"--log_freq", "1", "--eval_freq", "20", "--save_freq", "22",
                                                "--experiment-name", "full"});
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--tracking-uri") args[i + 1] = store;
  const std::string bin = quote(test::robotrain_bin());
  const std::string journal = (out / ".robotrain" / "mlflow-journal.jsonl").string();
  // Fill the disk once the run's first metrics are written: the later val/loss metric (step
  // 20) and the final tag and status have no room left.
  std::string script = "set -u\n"
                       "mount -t tmpfs -o size=2m tmpfs " + quote(mnt.string()) + " || exit 90\n" +
                       bin + " " + join_quoted(args) + " 2> " + quote((tmp.path() / "train.log").string()) + " &\n"
                       "pid=$!\n"
                       "for i in $(seq 600); do ls " + quote(store) + "/*/*/metrics/train/loss >/dev/null 2>&1 && break; sleep 0.1; done\n"
                       "dd if=/dev/zero of=" + quote((mnt / "fill").string()) + " bs=4096 2>/dev/null\n"
                       "wait $pid; echo train_rc=$?\n" +
                       bin + " runs list --tracking-uri " + quote(store) + " --json > " + quote((tmp.path() / "full.json").string()) +
                       " 2> " + quote((tmp.path() / "list.log").string()) + "; echo list_rc=$?\n"
                       "rm " + quote((mnt / "fill").string()) + "\n" +
                       bin + " track sync --journal " + quote(journal) + " 2> " + quote((tmp.path() / "sync.log").string()) +
                       "; echo sync_rc=$?\n"
                       "cp -a " + quote(store) + " " + quote(copy.string()) + "\n";
  util::ProcessOptions opts;
  opts.timeout_s = 600;
  auto r = util::run_process({"unshare", "-rm", "bash", "-c", script}, opts);
  ASSERT_NE(r.exit_code, 90) << "mount failed: " << r.err;
  const std::string train_log = util::read_file(tmp.path() / "train.log");
  EXPECT_NE(r.out.find("train_rc=0"), std::string::npos) << "a full tracking store does not fail training: " << r.out << train_log;
  EXPECT_EQ(count_of(train_log, "refused a write"), 1u) << "warned once: " << train_log;
  EXPECT_NE(train_log.find("robotrain track sync --journal " + journal), std::string::npos) << train_log;

  // While the disk was still full, `runs list` read the whole store and saw a finished run.
  EXPECT_NE(r.out.find("list_rc=0"), std::string::npos) << util::read_file(tmp.path() / "list.log");
  auto listed = Json::parse(util::read_file(tmp.path() / "full.json"));
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["status"], "FINISHED") << "not left RUNNING";
  EXPECT_FALSE(listed[0]["metrics"].contains("val/loss")) << "val/loss was refused, so it is in the journal";

  // After room was made, the journal delivered what had been refused.
  EXPECT_NE(r.out.find("sync_rc=0"), std::string::npos) << util::read_file(tmp.path() / "sync.log");
  auto after = test::run_peer_script("mlflow_inspect.py", {"runs", "file://" + copy.string(), "full"},
                                     {{"MLFLOW_ALLOW_FILE_STORE", "true"}}, 300);
  ASSERT_EQ(after.exit_code, 0) << after.err;
  auto run = Json::parse(after.out)["runs"].at(0);
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_EQ(run["tags"]["training_status"], "completed");
  ASSERT_EQ(run["metrics"]["val/loss"].size(), 1u) << run["metrics"].dump();
  EXPECT_EQ(run["metrics"]["val/loss"][0][0], 20);
  EXPECT_EQ(run["metrics"]["train/loss"].size(), 22u) << "every step once";
}
