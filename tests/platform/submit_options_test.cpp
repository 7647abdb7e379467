#include <gtest/gtest.h>

#include "platform/submit_options.h"
#include "util/error.h"

using namespace robotrain::platform;
using robotrain::util::InputError;

namespace {

SubmitOptions aml() {
  SubmitOptions o;
  o.platform = Platform::AzureML;
  o.dataset_repo_id = "user/ds";
  o.subscription_id = "sub";
  o.resource_group = "rg";
  o.workspace_name = "ws";
  o.compute = "gpu-cluster";
  return o;
}

SubmitOptions osmo() {
  SubmitOptions o;
  o.platform = Platform::Osmo;
  o.dataset_repo_id = "user/ds";
  return o;
}

std::string error_of(SubmitOptions o) {
  try {
    validate_submit_options(o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SubmitOptions, ValidDefaultsPass) {
  EXPECT_EQ(error_of(aml()), "");
  EXPECT_EQ(error_of(osmo()), "");
}

TEST(SubmitOptions, NoDatasetSourceNamesAllThreeOptions) {
  auto o = osmo();
  o.dataset_repo_id.clear();
  auto e = error_of(o);
  EXPECT_NE(e.find("--dataset-repo-id"), std::string::npos) << e;
  EXPECT_NE(e.find("--blob-url"), std::string::npos) << e;
  EXPECT_NE(e.find("--dataset-asset"), std::string::npos) << e;
}

TEST(SubmitOptions, BlobOnlySourceNamesDatasetDataset) {
  auto o = aml();
  o.dataset_repo_id.clear();
  o.blob_urls = {"https://acct.blob.core.windows.net/c/p"};
  validate_submit_options(o);
  EXPECT_EQ(o.dataset_repo_id, "dataset");
  EXPECT_EQ(o.dataset_source_tag(), "azure-blob");
}

TEST(SubmitOptions, OsmoRejectsRepoIdWithBlobUrl) {
  auto o = osmo();
  o.blob_urls = {"https://acct.blob.core.windows.net/c/p"};
  EXPECT_NE(error_of(o).find("mutually exclusive"), std::string::npos);
}

TEST(SubmitOptions, OsmoRejectsAzureMLRepoId) {
  auto o = osmo();
  o.dataset_repo_id = "azureml:pusht:3";
  EXPECT_NE(error_of(o).find("--blob-url"), std::string::npos);
}

TEST(SubmitOptions, OsmoRejectsWarmStartAndAssets) {
  auto o = osmo();
  o.init_from_policy_model = "azureml:m:1";
  EXPECT_NE(error_of(o).find("--init-from-policy-model"), std::string::npos);
  o = osmo();
  o.dataset_repo_id.clear();
  o.dataset_assets = {"azureml:a:1"};
  EXPECT_NE(error_of(o).find("--dataset-asset"), std::string::npos);
}

TEST(SubmitOptions, WarmStartAndPolicyRepoIdAreMutuallyExclusive) {
  auto o = aml();
  o.init_from_policy_model = "azureml:m:1";
  o.policy_repo_id = "user/policy";
  EXPECT_NE(error_of(o).find("mutually exclusive"), std::string::npos);
}

TEST(SubmitOptions, RejectsBadChoices) {
  auto o = aml();
  o.policy_type = "vla";
  EXPECT_NE(error_of(o).find("unsupported policy type: vla"), std::string::npos);
  o = aml();
  o.mixed_precision = "fp8";
  EXPECT_NE(error_of(o).find("--mixed-precision must be one of: no, fp16, bf16 (got 'fp8')"), std::string::npos);
  o = aml();
  o.num_gpus = 0;
  EXPECT_NE(error_of(o).find("--num-gpus must be a positive integer"), std::string::npos);
}

TEST(SubmitOptions, AzureMLNeedsContextAndCompute) {
  auto o = aml();
  o.subscription_id.clear();
  EXPECT_NE(error_of(o).find("AZURE_SUBSCRIPTION_ID"), std::string::npos);
  o = aml();
  o.workspace_name.clear();
  EXPECT_NE(error_of(o).find("AZUREML_WORKSPACE_NAME"), std::string::npos);
  o = aml();
  o.compute.clear();
  EXPECT_NE(error_of(o).find("--compute is required"), std::string::npos);
}

TEST(SubmitOptions, LocalDatasetRootOnlyOnLocal) {
  auto o = aml();
  o.dataset_root_path = "/data/ds";
  EXPECT_NE(error_of(o).find("--dataset.root"), std::string::npos);
  SubmitOptions l;
  l.platform = Platform::Local;
  l.dataset_repo_id = "./outputs/ds";
  EXPECT_EQ(error_of(l), "");
  EXPECT_EQ(l.dataset_source_tag(), "local");
  EXPECT_EQ(l.effective_output_dir(), "outputs/train/lerobot-act-training");
}

TEST(SubmitOptions, EnvironmentVersionFromImage) {
  EXPECT_EQ(environment_version_from_image("pytorch/pytorch:2.11.0-cuda12.8"), "2.11.0-cuda12.8");
  EXPECT_EQ(environment_version_from_image("reg.io:5000/robotrain"), "latest");
  EXPECT_EQ(environment_version_from_image("x/y@sha256:eee11b3b3872a8c838e3"), "sha256-eee11b3b3872");
}

TEST(SubmitOptions, DefaultExperimentName) {
  auto o = aml();
  EXPECT_EQ(o.effective_experiment_name(), "lerobot-act-lerobot-act-training");
  o.experiment_name = "mine";
  EXPECT_EQ(o.effective_experiment_name(), "mine");
}

// The registry-name and warm-start rules are the tracking area's; submission applies them
// before anything is sent (the seed's rejection cases).
TEST(SubmitOptions, RegisterNameRulesApplyAtSubmission) {
  for (const std::string& bad : std::vector<std::string>{"has space", "a/b", "a@b", "-lead", ".lead", std::string(256, 'a')}) {
    auto o = aml();
    o.register_checkpoint = bad;
    EXPECT_NE(error_of(o).find("--register-checkpoint"), std::string::npos) << bad;
  }
  for (const std::string& good : std::vector<std::string>{"act_pusht", "model-1.2", "_x", std::string(255, 'a')}) {
    auto o = aml();
    o.register_checkpoint = good;
    EXPECT_EQ(error_of(o), "") << good;
  }
}

TEST(SubmitOptions, WarmStartUriRulesApplyAtSubmission) {
  for (std::string bad : {"azureml:m:latest", "azureml:m:@latest", "azureml:m:01", "azureml:m:1.0", "azureml:m:", "azureml:m",
                          "azureml://locations/r/workspaces/w/models/m/versions/latest",
                          "azureml://locations/r/workspaces/w/models/m/versions/01"}) {
    auto o = aml();
    o.init_from_policy_model = bad;
    EXPECT_NE(error_of(o).find("--init-from-policy-model"), std::string::npos) << bad;
  }
  for (std::string good : {"azureml:m:1", "azureml:m:0", "azureml://locations/r/workspaces/w/models/m/versions/12",
                           "https://acct.blob.core.windows.net/models/act/pretrained_model"}) {
    auto o = aml();
    o.init_from_policy_model = good;
    EXPECT_EQ(error_of(o), "") << good;
  }
}

// Blob URLs and data assets follow the storage area's seed rules at submission too.
TEST(SubmitOptions, BlobUrlAndDataAssetRulesApplyAtSubmission) {
  auto o = aml();
  o.dataset_repo_id.clear();
  o.blob_urls = {"https://acct.blob.core.windows.net/c/p", "https://acct.blob.core.windows.net/c/p?sv=2020&sig=x"};
  std::string e = error_of(o);
  EXPECT_NE(e.find("2"), std::string::npos) << "names the failing URL's position: " << e;
  EXPECT_FALSE(e.empty());
  o.blob_urls = {"wasbs://c@acct.blob.core.windows.net/p"};
  EXPECT_NE(error_of(o).find("HTTPS"), std::string::npos) << error_of(o);
  o.blob_urls = {"https://acct.blob.core.windows.net/c/p"};
  EXPECT_EQ(error_of(o), "");
  o.blob_urls.clear();
  o.dataset_assets = {"azureml:ds:latest"};
  EXPECT_NE(error_of(o).find("azureml:ds:latest"), std::string::npos) << error_of(o);
  o.dataset_assets = {"azureml:ds:3"};
  EXPECT_EQ(error_of(o), "");
}
