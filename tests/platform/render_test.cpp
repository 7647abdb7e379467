// Golden tests of the rendered job specs. Regenerate after an intended change with
//   ROBOTRAIN_UPDATE_GOLDEN=1 ./test_platform --gtest_filter='Render*'
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "platform/azureml_job.h"
#include "platform/osmo_workflow.h"
#include "support/test_support.h"
#include "util/fs.h"
#include "util/process.h"

using namespace robotrain::platform;
namespace fs = std::filesystem;

namespace {

fs::path golden_dir() { return fs::path(robotrain::test::source_dir()) / "tests/platform/golden"; }

void expect_golden(const std::string& name, const std::string& text) {
  auto path = golden_dir() / name;
  if (robotrain::util::get_env("ROBOTRAIN_UPDATE_GOLDEN")) robotrain::util::atomic_write_file(path, text);
  ASSERT_TRUE(fs::exists(path)) << "missing golden file " << path << " (set ROBOTRAIN_UPDATE_GOLDEN=1 to create it)";
  EXPECT_EQ(robotrain::util::read_file(path), text) << "rendered spec differs from " << path;
}

SubmitOptions aml_base() {
  SubmitOptions o;
  o.platform = Platform::AzureML;
  o.dataset_repo_id = "lerobot/aloha_sim_insertion_human";
  o.subscription_id = "00000000-0000-0000-0000-000000000001";
  o.resource_group = "rg-robotics";
  o.workspace_name = "mlw-robotics";
  o.compute = "gpu-cluster";
  o.image = "myacr.azurecr.io/robotrain:0.1.0-cuda";
  return o;
}

SubmitOptions aml_assets_warm_start() {
  auto o = aml_base();
  o.dataset_repo_id.clear();
  o.dataset_assets = {"azureml:pusht-episodes:3", "azureml://subscriptions/s/resourcegroups/r/workspaces/w/data/day2/versions/1"};
  o.blob_urls = {"https://acct.blob.core.windows.net/extra/pusht"};
  o.init_from_policy_model = "azureml:my-act-policy:7";
  o.register_checkpoint = "pusht_model";
  o.policy_type = "diffusion";
  o.job_name = "pusht-diffusion";
  o.num_gpus = 4;
  o.mixed_precision = "bf16";
  o.training_steps = 50000;
  o.batch_size = 64;
  o.eval_freq = 1000;
  o.log_freq = 100;
  o.learning_rate = 1e-4;
  o.lr_warmup_steps = 500;
  validate_submit_options(o);
  return o;
}

SubmitOptions osmo_base() {
  SubmitOptions o;
  o.platform = Platform::Osmo;
  o.dataset_repo_id = "user/dataset";
  o.policy_type = "diffusion";
  o.image = "nvcr.io/org/robotrain:0.1.0-cuda";
  return o;
}

SubmitOptions osmo_blob() {
  SubmitOptions o = osmo_base();
  o.dataset_repo_id.clear();
  o.blob_urls = {"https://acct.blob.core.windows.net/training/pusht", "https://acct2.blob.core.windows.net/val/pusht"};
  o.register_checkpoint = "pusht-model";
  o.num_gpus = 2;
  o.osmo_platform = "a100-platform";
  o.val_split_enabled = false;
  validate_submit_options(o);
  return o;
}

// The required fields and types of the commandJob schema (azuremlschemas commandJob.schema.json),
// restated here in our own words: what `az ml job create` would reject up front.
void expect_valid_command_job(const std::string& text) {
  YAML::Node n = YAML::Load(text);
  ASSERT_TRUE(n.IsMap());
  EXPECT_EQ(n["type"].as<std::string>(), "command");
  ASSERT_TRUE(n["command"] && n["command"].IsScalar()) << "command is required and a string";
  ASSERT_TRUE(n["environment"] && n["environment"].IsScalar()) << "environment is required";
  EXPECT_EQ(n["environment"].as<std::string>().rfind("azureml:", 0), 0u);
  EXPECT_EQ(n["$schema"].as<std::string>(), "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json");
  if (n["compute"]) EXPECT_EQ(n["compute"].as<std::string>().rfind("azureml:", 0), 0u);
  if (n["environment_variables"]) {
    ASSERT_TRUE(n["environment_variables"].IsMap());
    for (auto kv : n["environment_variables"]) EXPECT_TRUE(kv.second.IsScalar()) << kv.first.as<std::string>();
  }
  if (n["distribution"]) {
    EXPECT_EQ(n["distribution"]["type"].as<std::string>(), "pytorch");
    EXPECT_GE(n["distribution"]["process_count_per_instance"].as<int>(), 1);
  }
  if (n["resources"]) EXPECT_GE(n["resources"]["instance_count"].as<int>(), 1);
  for (const char* section : {"inputs", "outputs"}) {
    if (!n[section]) continue;
    for (auto kv : n[section]) {
      auto v = kv.second;
      ASSERT_TRUE(v.IsMap());
      std::string type = v["type"].as<std::string>();
      EXPECT_TRUE(type == "uri_folder" || type == "uri_file" || type == "custom_model" || type == "mlflow_model") << type;
      std::string mode = v["mode"].as<std::string>();
      EXPECT_TRUE(mode == "ro_mount" || mode == "download" || mode == "direct" || mode == "upload" || mode == "rw_mount") << mode;
    }
  }
  if (n["identity"]) EXPECT_EQ(n["identity"]["type"].as<std::string>(), "managed");
}

}  // namespace

TEST(RenderAzureML, HuggingFaceDefaultsGolden) {
  auto yaml = render_azureml_job_yaml(aml_base());
  expect_golden("azureml_hf_defaults.yaml", yaml);
  expect_valid_command_job(yaml);
}

TEST(RenderAzureML, AssetsBlobsWarmStartMultiGpuGolden) {
  auto o = aml_assets_warm_start();
  auto yaml = render_azureml_job_yaml(o);
  expect_golden("azureml_assets_warmstart.yaml", yaml);
  expect_valid_command_job(yaml);
  YAML::Node n = YAML::Load(yaml);
  EXPECT_EQ(n["inputs"]["dataset_asset_0"]["mode"].as<std::string>(), "ro_mount");
  EXPECT_EQ(n["inputs"]["dataset_asset_1"]["path"].as<std::string>(), o.dataset_assets[1]);
  EXPECT_EQ(n["inputs"]["init_from_policy_model"]["type"].as<std::string>(), "custom_model");
  EXPECT_EQ(n["inputs"]["init_from_policy_model"]["mode"].as<std::string>(), "download");
  EXPECT_EQ(n["distribution"]["process_count_per_instance"].as<int>(), 4);
  EXPECT_EQ(n["environment_variables"]["DATASET_ASSET_COUNT"].as<std::string>(), "2");
  EXPECT_EQ(n["environment_variables"]["MIXED_PRECISION"].as<std::string>(), "bf16");
  EXPECT_EQ(n["outputs"]["checkpoints"]["mode"].as<std::string>(), "upload");
}

TEST(RenderAzureML, RestBodyGolden) {
  auto body = render_azureml_job_rest_body(aml_assets_warm_start());
  expect_golden("azureml_rest_body.json", body.dump(2) + "\n");
  auto& p = body["properties"];
  EXPECT_EQ(p["jobType"], "Command");
  EXPECT_EQ(p["distribution"]["distributionType"], "PyTorch");
  EXPECT_EQ(p["inputs"]["dataset_asset_0"]["mode"], "ReadOnlyMount");
  EXPECT_EQ(p["outputs"]["checkpoints"]["mode"], "Upload");
  EXPECT_EQ(p["computeId"].get<std::string>().find("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-robotics/"), 0u);
}

TEST(RenderOsmo, HuggingFaceGoldenHasHfCredential) {
  auto yaml = render_osmo_workflow_yaml(osmo_base());
  expect_golden("osmo_hf.yaml", yaml);
  YAML::Node n = YAML::Load(yaml);
  auto task = n["workflow"]["tasks"][0];
  EXPECT_EQ(task["credentials"]["huggingface"]["HF_TOKEN"].as<std::string>(), "hf_token");
  EXPECT_EQ(task["command"][0].as<std::string>(), "robotrain");
  EXPECT_EQ(n["workflow"]["timeout"]["exec_timeout"].as<std::string>(), "12h");
  EXPECT_EQ(n["workflow"]["resources"]["default"]["memory"].as<std::string>(), "48Gi");
}

TEST(RenderOsmo, BlobGoldenHasNoHfCredential) {
  auto yaml = render_osmo_workflow_yaml(osmo_blob());
  expect_golden("osmo_blob.yaml", yaml);
  YAML::Node n = YAML::Load(yaml);
  auto task = n["workflow"]["tasks"][0];
  EXPECT_FALSE(task["credentials"]);
  EXPECT_EQ(n["workflow"]["resources"]["default"]["gpu"].as<int>(), 2);
  EXPECT_EQ(n["workflow"]["resources"]["default"]["platform"].as<std::string>(), "a100-platform");
  EXPECT_EQ(task["environment"]["BLOB_URLS"].as<std::string>(),
            "[\"https://acct.blob.core.windows.net/training/pusht\",\"https://acct2.blob.core.windows.net/val/pusht\"]");
  EXPECT_EQ(task["environment"]["VAL_SPLIT"].as<std::string>(), "0");
}
