// `robotrain dataset fetch` and `robotrain train --dataset.repo_id` against a local server that
// speaks the Hugging Face Hub's protocol (no real Hub is reachable here): the dataset lands in
// the hub cache under $HF_HOME and training reads it from there. Pretrained policies come the
// same way (`--policy.path OWNER/NAME`, `--policy-repo-id`): a policy saved by real LeRobot,
// served as a model repository.
#include <gtest/gtest.h>

#include <algorithm>

#include "integration/seed_support.h"
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

namespace {

class HubModels : public HubSources {
 protected:
  std::string model_commit = FakeHub::fake_commit("lerobot-act");

  void SetUp() override {
    HubSources::SetUp();
    hub.add_model("user/pretrained-act", model_commit, robotrain::test::seed::lerobot_act_dir());
  }
  // Fine-tuning the tiny LeRobot ACT for 2 steps, each run with its own directory and store.
  std::vector<std::string> finetune_args(const std::string& name, std::vector<std::string> source) const {
    fs::path dir = tmp.path() / name;
    std::vector<std::string> a{"train", "--dataset.root", tt::synth_dataset(), "--output_dir", (dir / "run").string(),
                               "--tracking-uri", (dir / "mlruns").string(), "--steps", "2", "--save_freq", "2", "--log_freq", "1",
                               "--batch_size", "4", "--seed", "7", "--num_workers", "1", "--num-threads", "2",
                               "--system-metrics", "false"};
    a.insert(a.end(), source.begin(), source.end());
    return a;
  }
  fs::path pretrained(const std::string& name) const {
    return tmp.path() / name / "run" / "checkpoints" / "000002" / "pretrained_model";
  }
  fs::path model_cache() const { return tmp.path() / "hf" / "hub" / "models--user--pretrained-act"; }
  size_t hub_requests() { return hub.hub_requests().size(); }
};

bool one_line(const std::string& err) {
  auto pos = err.find("robotrain: error:");
  return pos != std::string::npos && err.find('\n', pos) == err.size() - 1;
}

}  // namespace

// The seed's --policy-repo-id is a fine-tuning source: the run starts from the Hub model's
// weights exactly as from the same files in a local directory (same seed, same batches: the
// same first loss and the same trained weights), and says where they came from.
TEST_F(HubModels, FineTuningFromAHubRepoStartsFromItsWeights) {
  namespace seed = robotrain::test::seed;
  const fs::path local_model = seed::lerobot_act_dir();
  auto local = run_robotrain(finetune_args("local", {"--policy.path", local_model.string()}), env());
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto hubbed = run_robotrain(finetune_args("hub", {"--policy-repo-id", "user/pretrained-act"}), env());
  ASSERT_EQ(hubbed.exit_code, 0) << hubbed.err;

  const fs::path local_run = seed::only_run(tmp.path() / "local" / "mlruns");
  const fs::path hub_run = seed::only_run(tmp.path() / "hub" / "mlruns");
  EXPECT_EQ(seed::metric_at(hub_run, "train/loss", 1), seed::metric_at(local_run, "train/loss", 1));
  EXPECT_EQ(tt::max_abs_diff(pretrained("hub") / "model.safetensors", pretrained("local") / "model.safetensors"), 0.0);

  // Where the weights came from: MLflow tags and params, and LeRobot's pretrained_path.
  EXPECT_EQ(seed::run_value(hub_run, "tags", "warm_start.source"), "hf://user/pretrained-act");
  EXPECT_EQ(seed::run_value(hub_run, "tags", "warm_start.hf_commit"), model_commit);
  EXPECT_EQ(seed::run_value(hub_run, "tags", "warm_start.hf_revision"), "main");
  EXPECT_EQ(seed::run_value(hub_run, "params", "policy_repo_id"), "user/pretrained-act");
  auto hub_config = util::read_json_file(pretrained("hub") / "config.json");
  EXPECT_EQ(hub_config["pretrained_path"], "user/pretrained-act");
  EXPECT_EQ(util::read_json_file(pretrained("hub") / "train_config.json")["policy"]["pretrained_path"], "user/pretrained-act");
  EXPECT_EQ(util::read_json_file(pretrained("local") / "config.json")["pretrained_path"], local_model.string());
  EXPECT_EQ(hub_config["push_to_hub"], false);

  // huggingface_hub's cache layout, reusable by the Python tools.
  EXPECT_EQ(util::read_file(model_cache() / "refs" / "main"), model_commit);
  EXPECT_TRUE(fs::is_symlink(model_cache() / "snapshots" / model_commit / "model.safetensors"));
  EXPECT_FALSE(fs::exists(model_cache() / "snapshots" / model_commit / "README.md")) << "only the pretrained_model files";

  // LeRobot saved it on a GPU machine (device cuda): without a GPU the run falls back to the
  // CPU with a warning, as LeRobot does; asking for cuda explicitly is still refused.
  if (!seed::machine_has_gpu()) {
    EXPECT_NE(hubbed.err.find("device 'cuda' recorded in"), std::string::npos) << hubbed.err;
    EXPECT_EQ(hub_config["device"], "cpu");
    auto r = run_robotrain(finetune_args("explicit", {"--policy.path", local_model.string(), "--policy.device", "cuda"}), env());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("no CUDA device"), std::string::npos) << r.err;
  }
}

// LeRobot's `--policy.path OWNER/NAME` in eval: revisions (@rev or --policy.revision), a
// private repo with HF_TOKEN, and the cached snapshot with HF_HUB_OFFLINE=1.
TEST_F(HubModels, PolicyPathFromTheHubWithRevisionTokenAndOfflineCache) {
  const std::string v1 = FakeHub::fake_commit("act-v1");
  hub.add_model("user/private-act", v1, robotrain::test::seed::lerobot_act_dir());
  hub.add_model("user/private-act", FakeHub::fake_commit("act-v2"), robotrain::test::seed::lerobot_act_dir());
  hub.models["user/private-act"].tags["v1"] = v1;
  hub.required_token = "hf_secret";
  auto eval = [&](std::vector<std::string> extra, std::map<std::string, std::string> e) {
    std::vector<std::string> a{"eval", "--dataset.root", tt::synth_dataset(), "--eval-episodes", "1", "--policy.device", "cpu",
                               "--no-tracking", "--output_dir", (tmp.path() / "eval").string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_robotrain(a, e);
  };
  auto r = eval({"--policy.path", "user/private-act@v1"}, env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("model user/private-act"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  EXPECT_TRUE(one_line(r.err)) << r.err;

  auto with_token = env();
  with_token["HF_TOKEN"] = "hf_secret";
  r = eval({"--policy.path", "user/private-act@v1"}, with_token);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("robotrain-eval-result: "), std::string::npos) << r.out;
  const fs::path cache = tmp.path() / "hf" / "hub" / "models--user--private-act";
  EXPECT_EQ(util::read_file(cache / "refs" / "v1"), v1);
  EXPECT_TRUE(fs::exists(cache / "snapshots" / v1 / "config.json"));
  r = eval({"--policy.path", "user/private-act", "--policy.revision", "v1"}, with_token);
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // Offline with the Hub gone: the cached revision serves; one never fetched is a clear error.
  auto offline = with_token;
  offline["HF_HUB_OFFLINE"] = "1";
  offline["HF_ENDPOINT"] = "http://127.0.0.1:9";
  r = eval({"--policy.path", "user/private-act@v1"}, offline);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = eval({"--policy.path", "user/private-act"}, offline);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("HF_HUB_OFFLINE"), std::string::npos) << r.err;
  EXPECT_TRUE(one_line(r.err)) << r.err;
}

// Missing repos and repos that hold no policy are runtime errors (exit 1, one line); a
// malformed id is invalid input (exit 2) refused before any request reaches the Hub.
TEST_F(HubModels, MissingOrMalformedRepoIsAOneLineError) {
  fs::path readme_only = tmp.path() / "readme-only";
  fs::create_directories(readme_only);
  util::atomic_write_file(readme_only / "config.json", util::read_file(robotrain::test::seed::lerobot_act_dir() / "config.json"));
  hub.add_model("user/config-only", FakeHub::fake_commit("config-only"), readme_only);
  auto train = [&](std::vector<std::string> source) { return run_robotrain(finetune_args("bad", source), env()); };

  auto r = train({"--policy.path", "user/no-such-policy"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("model user/no-such-policy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  EXPECT_TRUE(one_line(r.err)) << r.err;
  r = train({"--policy-repo-id", "user/config-only"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("has no model.safetensors"), std::string::npos) << r.err;
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "bad" / "run")) << "nothing written for a failed start";

  const size_t before = hub_requests();
  for (auto source : std::vector<std::vector<std::string>>{{"--policy.path", "user/a/b"},
                                                           {"--policy.path", "no-such-dir"},
                                                           {"--policy-repo-id", "user/bad name"},
                                                           {"--policy-repo-id", "./local/dir"},
                                                           {"--policy-repo-id", "user/pretrained-act@"},
                                                           {"--policy.path", "user/pretrained-act@v1", "--policy.revision", "v2"},
                                                           {"--policy-repo-id", "user/pretrained-act", "--policy.path", "user/x"}}) {
    r = train(source);
    EXPECT_EQ(r.exit_code, 2) << util::join(source, " ") << "\n" << r.err;
    EXPECT_TRUE(one_line(r.err)) << r.err;
  }
  EXPECT_EQ(hub_requests(), before) << "invalid input must be refused before any Hub request";
  // A type that contradicts the pretrained config shows only once the config is downloaded.
  r = train({"--policy-repo-id", "user/pretrained-act", "--policy.type", "diffusion"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("differs from the pretrained policy's type act"), std::string::npos) << r.err;
}
