// The seed system's Quick Start ("What users do with it" in its documentation), each command
// in its robotrain form - verbatim apart from the program name - against the local stand-ins:
// the Hub stand-in (tests/storage/hf_fake_hub.h) serving the dataset and the pretrained
// policy, the `az` and `osmo` stand-ins of support/fake_platform_clis.h (no Azure ML or OSMO
// service can run here), and the local runner for the pipeline. Settings the seed
// takes from the environment (Azure context, TRAINING_STEPS, BATCH_SIZE) come from there, so
// the pipeline trains for 2 steps instead of 100000.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "integration/seed_support.h"
#include "integration/train_support.h"
#include "storage/hf_fake_hub.h"
#include "support/fake_platform_clis.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
namespace seed = robotrain::test::seed;
using robotrain::test::FakeHub;
namespace util = robotrain::util;

namespace {

// The documented block, as written there (compared with the spec itself when it is present).
const char* kQuickStart =
    "    submit-azureml-lerobot-training.sh -d lerobot/aloha_sim_insertion_human\n"
    "    submit-osmo-lerobot-training.sh    -d user/dataset -p diffusion\n"
    "    run-lerobot-pipeline.sh -d lerobot/aloha_sim_insertion_human --policy-repo-id user/my-act-policy -r my-act-model\n"
    "    submit-osmo-lerobot-training.sh --blob-url https://acct.blob.core.windows.net/training/pusht -r pusht-model\n"
    "    submit-azureml-lerobot-training.sh --dataset-asset azureml:pusht-episodes:3 -r pusht-model\n"
    "    submit-azureml-lerobot-training.sh -d user/my-dataset --init-from-policy-model azureml:my-act-policy:7 --training-steps 50000\n";

// The seed's scripts and the robotrain commands that replace them.
std::vector<std::string> robotrain_form(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  const std::map<std::string, std::vector<std::string>> programs{
      {"submit-azureml-lerobot-training.sh", {"submit", "azureml"}},
      {"submit-osmo-lerobot-training.sh", {"submit", "osmo"}},
      {"run-lerobot-pipeline.sh", {"pipeline"}}};
  std::vector<std::string> args = programs.at(words.front());
  args.insert(args.end(), words.begin() + 1, words.end());
  return args;
}

std::vector<std::string> quick_start_command(size_t index) { return robotrain_form(util::split(kQuickStart, '\n').at(index)); }

class SeedQuickStart : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-seed-qs"};
  robotrain::test::FakePlatformClis clis{tmp.path()};
  FakeHub hub;
  fs::path work;

  void SetUp() override {
    work = tmp.path() / "work";
    fs::create_directories(work);
    // The Hub stand-in holds the quick start's dataset (the small generated one under that
    // name) and its pretrained policy (a small ACT saved by LeRobot for that dataset).
    hub.repo = "lerobot/aloha_sim_insertion_human";
    const std::string commit = FakeHub::fake_commit("aloha-v3.0");
    hub.add_commit(commit, tt::synth_dataset());
    hub.branches["main"] = commit;
    hub.tags["v3.0"] = commit;
    hub.add_model("user/my-act-policy", FakeHub::fake_commit("my-act-policy"), seed::lerobot_act_dir());
  }

  std::map<std::string, std::string> env() const {
    auto env = clis.env();
    env.insert({{"ROBOTRAIN_HOME", (tmp.path() / "home").string()},
                {"AZURE_SUBSCRIPTION_ID", "sub-1"},
                {"AZURE_RESOURCE_GROUP", "rg-1"},
                {"AZUREML_WORKSPACE_NAME", "ws-1"},
                {"AZUREML_COMPUTE", "gpu-cluster"},
                {"HF_ENDPOINT", hub.url()},
                {"HF_HOME", (tmp.path() / "hf").string()},
                {"HF_HUB_CACHE", ""},
                {"HF_TOKEN", ""},
                {"HF_HUB_OFFLINE", ""},
                {"MLFLOW_TRACKING_URI", (tmp.path() / "mlruns").string()}});
    return env;
  }

  // The command run from a scratch working directory (the local runner's outputs land there).
  util::ProcessResult run(const std::vector<std::string>& args, std::map<std::string, std::string> extra_env = {}) const {
    std::vector<std::string> argv{robotrain::test::robotrain_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    util::ProcessOptions o;
    o.env = env();
    for (auto& [k, v] : extra_env) o.env[k] = v;
    o.cwd = work.string();
    o.timeout_s = 600;
    return util::run_process(argv, o);
  }
  std::string submitted() const { return clis.submitted(); }
  std::string calls() const { return clis.calls(); }
};

}  // namespace

TEST(SeedQuickStartText, IsTheSeedDocumentsBlock) {
  const std::string shared = robotrain::test::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "the seed system's documentation is not beside this checkout";
  std::string doc = util::read_file(fs::path(shared) / "spec" / "seed-system.md");
  auto start = doc.find("## What users do with it\n");
  ASSERT_NE(start, std::string::npos);
  start = doc.find('\n', start) + 1;
  EXPECT_EQ(doc.substr(start, doc.find("\n\n", start) + 1 - start), kQuickStart);
  EXPECT_EQ(quick_start_command(2), (std::vector<std::string>{"pipeline", "-d", "lerobot/aloha_sim_insertion_human",
                                                              "--policy-repo-id", "user/my-act-policy", "-r", "my-act-model"}));
}

TEST_F(SeedQuickStart, SubmitAzureMLFromAHubDataset) {
  auto r = run(quick_start_command(0));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Job submitted: amlrun-7f3a (azureml)"), std::string::npos) << r.out;
  EXPECT_NE(calls().find("az ml job create"), std::string::npos) << calls();
  EXPECT_NE(submitted().find("lerobot/aloha_sim_insertion_human"), std::string::npos) << submitted();
  EXPECT_NE(submitted().find("compute: azureml:gpu-cluster"), std::string::npos) << submitted();
}

TEST_F(SeedQuickStart, SubmitOsmoDiffusion) {
  auto r = run(quick_start_command(1));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Job submitted: robotrain-wf-42 (osmo)"), std::string::npos) << r.out;
  EXPECT_NE(calls().find("osmo workflow submit"), std::string::npos) << calls();
  EXPECT_NE(submitted().find("- \"diffusion\""), std::string::npos) << submitted();
  EXPECT_NE(submitted().find("user/dataset"), std::string::npos) << submitted();
}

// Trains (fine-tuning the Hub policy), evaluates the trained checkpoint and registers it with
// -r alone: no quality gate, said so, and recorded on the model version.
TEST_F(SeedQuickStart, PipelineFineTunesEvaluatesAndRegisters) {
  auto r = run(quick_start_command(2), {{"TRAINING_STEPS", "2"}, {"BATCH_SIZE", "4"}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("eval metrics      mse="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no quality gate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("registered model  my-act-model:1"), std::string::npos) << r.out;

  const fs::path version = tmp.path() / "mlruns" / "models" / "my-act-model" / "version-1";
  EXPECT_TRUE(fs::is_regular_file(version / "model" / "model.safetensors"));
  EXPECT_EQ(util::trim(util::read_file(version / "tags" / "quality_gate")), "none");
  // The training fine-tuned from the Hub policy: its run says so.
  const fs::path train_ckpt = work / "outputs" / "train" / "lerobot-pipeline-train" / "checkpoints" / "last" / "pretrained_model";
  EXPECT_EQ(util::read_json_file(train_ckpt / "config.json")["pretrained_path"], "user/my-act-policy");
  bool tagged = false;
  for (auto& exp : fs::directory_iterator(tmp.path() / "mlruns"))
    for (auto& run : fs::directory_iterator(exp.path()))
      if (fs::exists(run.path() / "tags" / "warm_start.source"))
        tagged = seed::run_value(run.path(), "tags", "warm_start.source") == "hf://user/my-act-policy";
  EXPECT_TRUE(tagged) << "no training run tagged warm_start.source=hf://user/my-act-policy";
}

TEST_F(SeedQuickStart, SubmitOsmoFromABlobFolder) {
  auto r = run(quick_start_command(3));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Job submitted: robotrain-wf-42 (osmo)"), std::string::npos) << r.out;
  EXPECT_NE(submitted().find("https://acct.blob.core.windows.net/training/pusht"), std::string::npos) << submitted();
  EXPECT_NE(submitted().find("pusht-model"), std::string::npos) << submitted();
}

TEST_F(SeedQuickStart, SubmitAzureMLFromADataAsset) {
  auto r = run(quick_start_command(4));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Job submitted: amlrun-7f3a (azureml)"), std::string::npos) << r.out;
  EXPECT_NE(submitted().find("path: azureml:pusht-episodes:3"), std::string::npos) << submitted();
  EXPECT_NE(submitted().find("pusht-model"), std::string::npos) << submitted();
}

TEST_F(SeedQuickStart, SubmitAzureMLWarmStartFromARegisteredModel) {
  auto r = run(quick_start_command(5));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Job submitted: amlrun-7f3a (azureml)"), std::string::npos) << r.out;
  EXPECT_NE(submitted().find("path: azureml:my-act-policy:7"), std::string::npos) << submitted();
  EXPECT_NE(submitted().find("50000"), std::string::npos) << submitted();
  EXPECT_NE(submitted().find("user/my-dataset"), std::string::npos) << submitted();
}

// One knob, one meaning: every command that takes --policy-repo-id describes it alike, as the
// fine-tuning source it now is.
TEST(SeedPolicyRepoId, HelpTextsAgree) {
  std::set<std::string> texts;
  for (auto cmd : std::vector<std::vector<std::string>>{{"train"}, {"submit", "azureml"}, {"submit", "osmo"}, {"submit", "local"}, {"pipeline"}}) {
    cmd.push_back("--help");
    auto r = robotrain::test::run_robotrain(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto at = r.out.find("--policy-repo-id TEXT");
    ASSERT_NE(at, std::string::npos) << r.out;
    std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    texts.insert(util::trim(line.substr(std::string("--policy-repo-id TEXT").size())));
  }
  ASSERT_EQ(texts.size(), 1u) << util::join(std::vector<std::string>(texts.begin(), texts.end()), "\n");
  EXPECT_NE(texts.begin()->find("fine-tune"), std::string::npos) << *texts.begin();
}
