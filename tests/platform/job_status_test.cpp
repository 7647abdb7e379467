#include <gtest/gtest.h>

#include "platform/env_file.h"
#include "platform/job_command.h"
#include "platform/job_status.h"
#include "platform/job_store.h"
#include "util/error.h"
#include "util/fs.h"

using namespace robotrain::platform;

TEST(JobStatus, AzureMLStatesMapToOneVocabulary) {
  for (auto s : {"NotStarted", "Starting", "Provisioning", "Preparing", "Queued"}) EXPECT_EQ(azureml_state(s), JobState::Pending) << s;
  for (auto s : {"Running", "Finalizing", "CancelRequested"}) EXPECT_EQ(azureml_state(s), JobState::Running) << s;
  EXPECT_EQ(azureml_state("Completed"), JobState::Completed);
  EXPECT_EQ(azureml_state("Failed"), JobState::Failed);
  EXPECT_EQ(azureml_state("Canceled"), JobState::Canceled);
  EXPECT_EQ(azureml_state(""), JobState::Unknown);
  EXPECT_EQ(azureml_state("NotResponding"), JobState::Unknown);
}

TEST(JobStatus, OsmoStates) {
  EXPECT_EQ(osmo_state("PENDING"), JobState::Pending);
  EXPECT_EQ(osmo_state("RUNNING"), JobState::Running);
  EXPECT_EQ(osmo_state("COMPLETED"), JobState::Completed);
  EXPECT_EQ(osmo_state("FAILED_EXEC_TIMEOUT"), JobState::Failed);
  EXPECT_EQ(osmo_state("FAILED_CANCELED"), JobState::Canceled);
  EXPECT_EQ(osmo_state(""), JobState::Unknown);
  EXPECT_TRUE(osmo_retryable_failure("FAILED_EVICTED"));
  EXPECT_TRUE(osmo_retryable_failure("FAILED_PREEMPTED"));
  EXPECT_TRUE(osmo_retryable_failure("FAILED_BACKEND_ERROR"));
  EXPECT_FALSE(osmo_retryable_failure("FAILED"));
  EXPECT_TRUE(is_terminal(JobState::Canceled));
  EXPECT_FALSE(is_terminal(JobState::Unknown));
}

TEST(EnvFile, ParsesExportQuotesAndComments) {
  auto m = parse_env_file_text("# c\nexport AZURE_SUBSCRIPTION_ID=\"abc\"\nAZURE_RESOURCE_GROUP='rg 1'\nAZUREML_WORKSPACE_NAME=ws # trailing\n=bad\nnoequals\n");
  EXPECT_EQ(m["AZURE_SUBSCRIPTION_ID"], "abc");
  EXPECT_EQ(m["AZURE_RESOURCE_GROUP"], "rg 1");
  EXPECT_EQ(m["AZUREML_WORKSPACE_NAME"], "ws");
  EXPECT_EQ(m.size(), 3u);
}

TEST(JobCommand, ShellQuotingIsSafe) {
  EXPECT_EQ(shell_quote("plain/path-1.0"), "plain/path-1.0");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
  EXPECT_EQ(shell_quote(""), "''");
}

static bool has_in(const std::vector<std::string>& v, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < v.size(); ++i)
    if (v[i] == a && v[i + 1] == b) return true;
  return false;
}

TEST(JobCommand, TrainArgsCarryEverySetting) {
  SubmitOptions o;
  o.platform = Platform::AzureML;
  o.dataset_assets = {"azureml:a:1", "azureml:b:2"};
  o.dataset_repo_id = "dataset";
  o.num_gpus = 4;
  o.mixed_precision = "bf16";
  o.register_checkpoint = "my-model";
  o.learning_rate = 3e-4;
  auto c = build_train_command(o);
  auto has = [&](const std::string& a, const std::string& b) {
    for (size_t i = 0; i + 1 < c.argv.size(); ++i)
      if (c.argv[i] == a && c.argv[i + 1] == b) return true;
    return false;
  };
  EXPECT_TRUE(has("--dataset-asset", "azureml:a:1"));
  EXPECT_TRUE(has("--dataset-asset", "azureml:b:2"));
  EXPECT_FALSE(has("--nproc-per-node", "4")) << "Azure ML launches the workers itself";
  o.platform = Platform::Osmo;
  EXPECT_TRUE(has_in(build_train_command(o).argv, "--nproc-per-node", "4"));
  EXPECT_TRUE(has("--mixed-precision", "bf16"));
  EXPECT_TRUE(has("--register-checkpoint", "my-model"));
  EXPECT_TRUE(has("--policy.optimizer_lr", "0.0003"));
  EXPECT_EQ(c.env["DATASET_ASSET_COUNT"], "2");
  EXPECT_EQ(c.env["DATASET_ASSETS"], "[\"azureml:a:1\",\"azureml:b:2\"]");
  EXPECT_EQ(c.env["REGISTER_CHECKPOINT"], "my-model");
}

TEST(JobStore, SaveLoadListAndUnknownId) {
  robotrain::util::TempDir tmp;
  JobStore store(tmp.path() / "jobs");
  JobRecord a;
  a.id = "job-a";
  a.platform = "osmo";
  a.submitted_at = "2026-01-01T00:00:00Z";
  a.exit_code = 3;
  store.save(a);
  JobRecord b = a;
  b.id = "job-b";
  b.submitted_at = "2026-01-02T00:00:00Z";
  store.save(b);
  auto list = store.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "job-b");
  EXPECT_EQ(store.load("job-a").exit_code.value(), 3);
  EXPECT_THROW(store.load("nope"), robotrain::util::InputError);
  EXPECT_THROW(store.job_dir("../x"), robotrain::util::InputError);
}
