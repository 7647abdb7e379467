// `robotrain dataset fetch` and `robotrain train --dataset.repo_id` against a local server that
// speaks the Hugging Face Hub's protocol (no real Hub is reachable here): the dataset lands in
// the hub cache under $HF_HOME and training reads it from there.
#include <gtest/gtest.h>

#include <algorithm>

#include "integration/train_support.h"
#include "storage/hf_fake_hub.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
using robotrain::test::FakeHub;
using robotrain::test::run_robotrain;
namespace util = robotrain::util;

namespace {

class HubSources : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-hub"};
  FakeHub hub;
  std::string commit = FakeHub::fake_commit("v3.0");

  void SetUp() override {
    hub.add_commit(commit, tt::synth_dataset());
    hub.branches["main"] = commit;
    hub.tags["v3.0"] = commit;
  }
  std::map<std::string, std::string> env() const {
    return {{"HF_ENDPOINT", hub.url()}, {"HF_HOME", (tmp.path() / "hf").string()}, {"HF_HUB_CACHE", ""}, {"HF_TOKEN", ""}};
  }
  fs::path snapshot() const { return tmp.path() / "hf" / "hub" / "datasets--owner--name" / "snapshots" / commit; }
};

}  // namespace

TEST_F(HubSources, FetchPutsTheDatasetInTheHubCache) {
  auto r = run_robotrain({"dataset", "fetch", "--dataset.repo_id", "owner/name", "--json"}, env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = util::Json::parse(r.out);
  EXPECT_EQ(j["source"], "huggingface");
  EXPECT_EQ(fs::path(j["root"].get<std::string>()), snapshot());
  EXPECT_EQ(util::read_file(snapshot() / "meta" / "info.json"),
            util::read_file(fs::path(tt::synth_dataset()) / "meta" / "info.json"));
  // Offline, the cached snapshot is enough.
  auto offline = env();
  offline["HF_HUB_OFFLINE"] = "1";
  r = run_robotrain({"dataset", "fetch", "--dataset.repo_id", "owner/name", "--json"}, offline);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::path(util::Json::parse(r.out)["root"].get<std::string>()), snapshot());
  // A revision the repo lacks: a runtime error that names it.
  r = run_robotrain({"dataset", "fetch", "--dataset.repo_id", "owner/name", "--dataset.revision", "nope"}, env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
}

TEST_F(HubSources, TrainWithARepoIdTrainsOnTheHubCopy) {
  auto args = tt::train_args((tmp.path() / "run").string(), 2, {"--dataset.repo_id", "owner/name"});
  auto at = std::find(args.begin(), args.end(), "--dataset.root");
  args.erase(at, at + 2);
  auto r = run_robotrain(args, env());
  RT_SKIP_IF_POLICY_MISSING(r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto cfg = util::read_json_file(tmp.path() / "run" / "checkpoints" / "000002" / "pretrained_model" / "train_config.json");
  EXPECT_EQ(cfg["dataset"]["repo_id"], "owner/name");
  EXPECT_EQ(fs::path(cfg["dataset"]["root"].get<std::string>()), snapshot());

  // Offline replay of the trained policy on the same Hub dataset (what the pipeline's
  // evaluation stage runs on a cluster).
  r = run_robotrain({"eval", "--policy.path", (tmp.path() / "run").string(), "--dataset.repo_id", "owner/name", "--eval-episodes",
                     "1", "--policy.device", "cpu", "--no-tracking", "--output_dir", (tmp.path() / "eval").string()},
                    env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("robotrain-eval-result: "), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(tmp.path() / "eval" / "eval_results.json"));
}
