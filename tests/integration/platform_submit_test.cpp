// `robotrain submit` and `robotrain jobs` against the az and osmo stand-ins of
// support/fake_platform_clis.h (no Azure ML or OSMO service can run here).
#include <gtest/gtest.h>

#include <filesystem>
#include <algorithm>
#include <fstream>

#include <yaml-cpp/yaml.h>

#include "support/fake_platform_clis.h"
#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace fs = std::filesystem;
using robotrain::test::run_robotrain;
using robotrain::util::Json;

namespace {

class FakeClis : public ::testing::Test {
 protected:
  void SetUp() override {
    env = clis.env();
    env.insert({{"ROBOTRAIN_HOME", (tmp.path() / "home").string()},
                {"AZURE_SUBSCRIPTION_ID", ""},
                {"AZURE_RESOURCE_GROUP", ""},
                {"AZUREML_WORKSPACE_NAME", ""},
                {"AZUREML_COMPUTE", ""}});
  }
  std::string calls() const { return clis.calls(); }
  robotrain::util::TempDir tmp;
  robotrain::test::FakePlatformClis clis{tmp.path()};
  std::map<std::string, std::string> env;
};

}  // namespace

TEST_F(FakeClis, OsmoSubmitRecordsReturnedWorkflowIdAndPollsByIt) {
  auto r = run_robotrain({"submit", "osmo", "-d", "user/dataset", "-p", "diffusion", "-j", "my-job", "--json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rec = Json::parse(r.out);
  EXPECT_EQ(rec["id"], "robotrain-wf-42");
  EXPECT_EQ(rec["platform"], "osmo");
  EXPECT_NE(calls().find("osmo workflow submit "), std::string::npos);
  EXPECT_NE(calls().find("-t json"), std::string::npos);
  auto submitted = clis.submitted();
  EXPECT_NE(submitted.find("HF_TOKEN: hf_token"), std::string::npos);
  EXPECT_NE(submitted.find("- \"diffusion\""), std::string::npos);

  std::ofstream(tmp.path() / "osmo_status") << "FAILED_EVICTED";
  auto s = run_robotrain({"jobs", "status", "robotrain-wf-42"}, env);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("failed (FAILED_EVICTED)"), std::string::npos) << s.out;
  EXPECT_NE(calls().find("osmo workflow query robotrain-wf-42 -t json"), std::string::npos) << calls();
  EXPECT_EQ(calls().find("query my-job"), std::string::npos) << "must poll by the returned id, not the name";

  auto logs = run_robotrain({"jobs", "logs", "robotrain-wf-42"}, env);
  EXPECT_NE(logs.out.find("osmo logs for robotrain-wf-42"), std::string::npos);
  auto list = run_robotrain({"jobs", "list", "--json"}, env);
  EXPECT_EQ(Json::parse(list.out).size(), 1u);
}

TEST_F(FakeClis, AzureMLSubmitUsesContextFromEnvFileAndForwardsArgs) {
  std::ofstream(tmp.path() / "azure.env") << "AZURE_SUBSCRIPTION_ID=sub-1\nAZURE_RESOURCE_GROUP=rg-1\nAZUREML_WORKSPACE_NAME=ws-1\nAZUREML_COMPUTE=gpu-cl\n";
  auto r = run_robotrain({"submit", "azureml", "-d", "lerobot/pusht", "--env-file", (tmp.path() / "azure.env").string(),
                          "--workspace-name", "ws-flag", "--json", "--", "--debug"},
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["id"], "amlrun-7f3a");
  auto c = calls();
  EXPECT_NE(c.find("az ml environment create --name robotrain"), std::string::npos) << c;
  EXPECT_NE(c.find("--subscription sub-1 --resource-group rg-1 --workspace-name ws-flag"), std::string::npos) << "flag beats .env: " << c;
  EXPECT_NE(c.find("--debug --query name -o tsv"), std::string::npos) << c;
  auto yaml = clis.submitted();
  EXPECT_NE(yaml.find("compute: azureml:gpu-cl"), std::string::npos) << yaml;

  std::ofstream(tmp.path() / "aml_status") << "Completed";
  auto s = run_robotrain({"jobs", "status", "amlrun-7f3a", "--json"}, env);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Json::parse(s.out)["state"], "completed");
  EXPECT_NE(calls().find("az ml job show --name amlrun-7f3a"), std::string::npos);
}

TEST_F(FakeClis, EnvironmentBeatsEnvFile) {
  std::ofstream(tmp.path() / "azure.env") << "AZURE_SUBSCRIPTION_ID=from-file\nAZURE_RESOURCE_GROUP=rg\nAZUREML_WORKSPACE_NAME=ws\nAZUREML_COMPUTE=c\n";
  env["AZURE_SUBSCRIPTION_ID"] = "from-env";
  auto r = run_robotrain({"submit", "azureml", "-d", "a/b", "--env-file", (tmp.path() / "azure.env").string(), "--config-preview"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("from-env"), std::string::npos) << r.out;
  EXPECT_EQ(calls(), "") << "--config-preview must not call the platform CLI";
}

TEST_F(FakeClis, InvalidInputExits2BeforeCallingThePlatform) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"submit", "osmo"},
           {"submit", "osmo", "-d", "a/b", "--num-gpus", "two"},
           {"submit", "osmo", "-d", "a/b", "--mixed-precision", "fp8"},
           {"submit", "osmo", "-d", "a/b", "-p", "pi0"},
           {"submit", "azureml", "-d", "a/b"},
           {"submit", "osmo", "-d", "a/b", "--no-such-flag"},
           {"submit", "osmo", "-d", "a/b", "--policy-repo-id", "not a repo"},
           {"submit", "osmo", "-d", "a/b", "--policy-repo-id", "owner/name/extra"},
           {"pipeline", "--on", "osmo", "-d", "a/b", "--policy-repo-id", "./local/dir"},
       }) {
    auto r = run_robotrain(args, env);
    EXPECT_EQ(r.exit_code, 2) << robotrain::util::join(args, " ") << "\n" << r.err;
    EXPECT_NE(r.err.find("robotrain: error:"), std::string::npos) << r.err;
  }
  EXPECT_EQ(calls(), "");
}

// The seed's precedence for the training settings: command line, environment, .env file.
TEST_F(FakeClis, TrainingSettingsComeFromTheEnvironmentAfterTheCommandLine) {
  std::ofstream(tmp.path() / "train.env") << "TRAINING_STEPS=300\nBATCH_SIZE=6\n";
  auto e = env;
  e["TRAINING_STEPS"] = "200";
  auto row = [](const std::string& preview, const std::string& key) {
    auto at = preview.find("  " + key + " ");
    if (at == std::string::npos) return std::string("<no row ") + key + ">";
    return robotrain::util::trim(preview.substr(at + key.size() + 2, preview.find('\n', at) - at - key.size() - 2));
  };
  auto r = run_robotrain({"submit", "osmo", "-d", "a/b", "--env-file", (tmp.path() / "train.env").string(), "--config-preview"}, e);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(row(r.out, "Training Steps"), "200") << "environment beats .env: " << r.out;
  EXPECT_EQ(row(r.out, "Batch Size"), "6") << ".env fills the rest: " << r.out;
  r = run_robotrain({"submit", "osmo", "-d", "a/b", "--training-steps", "7", "--config-preview"}, e);
  EXPECT_EQ(row(r.out, "Training Steps"), "7") << "the flag beats both: " << r.out;
  e["TRAINING_STEPS"] = "zero";
  r = run_robotrain({"submit", "osmo", "-d", "a/b"}, e);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("TRAINING_STEPS (environment) must be a positive integer"), std::string::npos) << r.err;
  EXPECT_EQ(calls(), "");
}

// --policy-repo-id is the fine-tuning source: the job passes it to `robotrain train`, and an
// OSMO job gets the Hub token even when its data comes from Blob storage.
TEST_F(FakeClis, PolicyRepoIdReachesTheTrainingJob) {
  auto r = run_robotrain({"submit", "osmo", "--blob-url", "https://acct.blob.core.windows.net/c/pusht", "--policy-repo-id",
                          "user/pretrained-act@v2", "--json"},
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto wf = YAML::LoadFile((tmp.path() / "submitted.yaml").string());
  auto task = wf["workflow"]["tasks"][0];
  std::vector<std::string> args;
  for (const auto& a : task["args"]) args.push_back(a.as<std::string>());
  auto it = std::find(args.begin(), args.end(), "--policy-repo-id");
  ASSERT_NE(it, args.end());
  EXPECT_EQ(*(it + 1), "user/pretrained-act@v2");
  EXPECT_TRUE(task["credentials"]["huggingface"]) << "the job downloads the policy from the Hub";
}

TEST_F(FakeClis, DryRunPrintsSpecAndSubmitsNothing) {
  auto r = run_robotrain({"submit", "osmo", "-d", "a/b", "--dry-run", "--save-as", (tmp.path() / "wf.yaml").string()}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("workflow:"), std::string::npos);
  EXPECT_EQ(robotrain::util::read_file(tmp.path() / "wf.yaml"), r.out);
  EXPECT_EQ(calls(), "");
}

TEST_F(FakeClis, CancelUsesTheReturnedId) {
  ASSERT_EQ(run_robotrain({"submit", "osmo", "-d", "a/b"}, env).exit_code, 0);
  auto r = run_robotrain({"jobs", "cancel", "robotrain-wf-42"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(calls().find("osmo workflow cancel robotrain-wf-42"), std::string::npos);
  EXPECT_EQ(run_robotrain({"jobs", "status", "nope"}, env).exit_code, 2);
}

TEST_F(FakeClis, PipelineSkipWaitJsonIsOneDocument) {
  auto r = run_robotrain({"pipeline", "--on", "osmo", "-d", "a/b", "--skip-wait", "--json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = Json::parse(r.out);
  EXPECT_EQ(j["train_job_id"], "robotrain-wf-42");
  EXPECT_TRUE(j["submitted_only"].get<bool>());
  EXPECT_EQ(calls().find("workflow query"), std::string::npos) << "--skip-wait must not poll";
}

TEST_F(FakeClis, PipelineFailsOnStatusThatStaysUnknown) {
  std::ofstream(tmp.path() / "osmo_status") << "";
  auto r = run_robotrain({"pipeline", "--on", "osmo", "-d", "a/b", "--skip-inference", "--poll-interval", "0.01"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("status stayed unknown"), std::string::npos) << r.err;
  EXPECT_NE(calls().find("osmo workflow query robotrain-wf-42"), std::string::npos);
}

TEST_F(FakeClis, PipelineResubmitsOsmoInfrastructureFailureOnce) {
  std::ofstream(tmp.path() / "osmo_status") << "FAILED_PREEMPTED";
  auto r = run_robotrain({"pipeline", "--on", "osmo", "-d", "a/b", "--skip-inference", "--poll-interval", "0.01"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("resubmitting once"), std::string::npos) << r.err;
  auto c = calls();
  size_t submits = 0;
  for (size_t pos = 0; (pos = c.find("workflow submit", pos)) != std::string::npos; ++pos) ++submits;
  EXPECT_EQ(submits, 2u) << c;
}

TEST_F(FakeClis, AzureMLPipelineEvaluatesTheTrainedCheckpointAndReportsOneSummary) {
  std::ofstream(tmp.path() / "aml_status") << "Completed";
  std::ofstream(tmp.path() / "aml_logs")
      << "step:1K smpl:32K ep:20 epch:1.5 loss:0.123 grdn:1.5 lr:1.0e-05 updt_s:0.100 data_s:0.002\n"
      << "robotrain-eval-result: {\"aggregate\": {\"mse\": 0.01, \"mae\": 0.05}, \"passed\": true, \"registered\": {\"name\": \"m1\", \"version\": 3}}\n";
  auto r = run_robotrain({"pipeline", "--on", "azureml", "-d", "lerobot/pusht", "--subscription-id", "s", "--resource-group", "g",
                          "--workspace-name", "w", "--compute", "c", "-r", "m1", "--max-action-mse", "0.05", "--poll-interval", "0.01",
                          "--json"},
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = Json::parse(r.out);
  EXPECT_EQ(j["train_job_id"], "amlrun-7f3a");
  EXPECT_EQ(j["checkpoint"], "azureml://jobs/amlrun-7f3a/outputs/checkpoints");
  EXPECT_EQ(j["registered_model"], "m1:3");
  EXPECT_EQ(j["gate_passed"], true);
  EXPECT_EQ(j["quality_gate"], "max_action_mse<=0.05");
  EXPECT_DOUBLE_EQ(j["train_metrics"]["loss"].get<double>(), 0.123);
  auto eval_yaml = clis.submitted();
  EXPECT_NE(eval_yaml.find("path: azureml://jobs/amlrun-7f3a/outputs/checkpoints"), std::string::npos) << eval_yaml;
  EXPECT_NE(eval_yaml.find("--max-action-mse 0.05"), std::string::npos) << eval_yaml;
  EXPECT_NE(eval_yaml.find("--register-checkpoint m1"), std::string::npos) << eval_yaml;
  EXPECT_EQ(eval_yaml.find("lerobot/pusht --steps"), std::string::npos) << "eval must not be a training command";
}

// OSMO keeps no outputs a second workflow could read, so the evaluation is a second task of
// the training workflow, fed the training task's output; its result comes from its task log.
TEST_F(FakeClis, OsmoPipelineEvaluatesInASecondTaskOfTheTrainingWorkflow) {
  std::ofstream(tmp.path() / "osmo_status") << "COMPLETED";
  std::ofstream(tmp.path() / "osmo_train_logs")
      << "step:2K smpl:64K ep:40 epch:3.0 loss:0.045 grdn:1.2 lr:1.0e-05 updt_s:0.100 data_s:0.002\n";
  std::ofstream(tmp.path() / "osmo_eval_logs")
      << "robotrain-eval-result: {\"aggregate\": {\"mse\": 0.02}, \"passed\": true, \"registered\": {\"name\": \"m2\", \"version\": 1}}\n";
  auto r = run_robotrain({"pipeline", "--on", "osmo", "-d", "lerobot/pusht", "-r", "m2", "--max-action-mse", "0.05",
                          "--poll-interval", "0.01", "--json"},
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = Json::parse(r.out);
  EXPECT_EQ(j["train_job_id"], "robotrain-wf-42");
  EXPECT_EQ(j["registered_model"], "m2:1");
  EXPECT_DOUBLE_EQ(j["train_metrics"]["loss"].get<double>(), 0.045);
  EXPECT_NE(calls().find("osmo workflow logs robotrain-wf-42 --task robotrain-eval"), std::string::npos) << calls();
  // One workflow: the training writes into its task output, the evaluation reads it as input 0.
  auto wf = YAML::LoadFile((tmp.path() / "submitted.yaml").string());
  auto tasks = wf["workflow"]["tasks"];
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0]["name"].as<std::string>(), "robotrain-train");
  EXPECT_EQ(tasks[1]["name"].as<std::string>(), "robotrain-eval");
  EXPECT_EQ(tasks[1]["inputs"][0]["task"].as<std::string>(), "robotrain-train");
  auto args = [](const YAML::Node& task) {
    std::vector<std::string> out;
    for (const auto& a : task["args"]) out.push_back(a.as<std::string>());
    return out;
  };
  auto train_args = args(tasks[0]), eval_args = args(tasks[1]);
  auto after = [](const std::vector<std::string>& a, const std::string& flag) {
    auto it = std::find(a.begin(), a.end(), flag);
    return it == a.end() || it + 1 == a.end() ? std::string() : *(it + 1);
  };
  EXPECT_EQ(after(train_args, "--output_dir"), "{{output}}/train");
  EXPECT_EQ(eval_args.front(), "eval");
  EXPECT_EQ(after(eval_args, "--policy.path"), "{{input:0}}/train");
  EXPECT_EQ(after(eval_args, "--dataset.repo_id"), "lerobot/pusht");
  EXPECT_EQ(after(eval_args, "--max-action-mse"), "0.05");
  EXPECT_EQ(after(eval_args, "--register-checkpoint"), "m2");
  EXPECT_TRUE(tasks[1]["credentials"]["huggingface"]) << "the evaluation reads the Hub dataset too";

  // No result line from the evaluation task: a runtime error naming both task logs.
  fs::remove(tmp.path() / "osmo_eval_logs");
  r = run_robotrain({"pipeline", "--on", "osmo", "-d", "lerobot/pusht", "--poll-interval", "0.01"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--task robotrain-eval"), std::string::npos) << r.err;
}
