// The seed's --dataset-asset rules (canonical integer versions) and the mounted-asset lookup inside
// an Azure ML job (AZURE_ML_INPUT_dataset_asset_<i>, DATASET_ASSET_COUNT).
#include "storage/data_asset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage_test_util.h"
#include "util/error.h"

using namespace robotrain;
using storage::parse_data_asset;
using storage::testing::ScopedEnv;
using ::testing::HasSubstr;

TEST(DataAsset, AcceptsCanonicalVersions) {
  for (const std::string uri : {"azureml:ds:1", "azureml:ds:42", "azureml:ds:0",
                                "azureml://subscriptions/x/resourceGroups/y/workspaces/z/data/ds/versions/7"}) {
    SCOPED_TRACE(uri);
    EXPECT_NO_THROW(parse_data_asset(uri));
  }
  auto short_form = parse_data_asset("azureml:pusht-episodes:3");
  EXPECT_EQ(short_form.name, "pusht-episodes");
  EXPECT_EQ(short_form.version, "3");
  EXPECT_TRUE(short_form.workspace.empty());
  auto long_form = parse_data_asset("azureml://subscriptions/x/resourceGroups/y/workspaces/z/data/ds/versions/7");
  EXPECT_EQ(long_form.name, "ds");
  EXPECT_EQ(long_form.version, "7");
  EXPECT_EQ(long_form.subscription, "x");
  EXPECT_EQ(long_form.resource_group, "y");
  EXPECT_EQ(long_form.workspace, "z");
  auto arm = parse_data_asset(
      "azureml:/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/data/d/versions/2");
  EXPECT_EQ(arm.workspace, "w");
  EXPECT_EQ(arm.name, "d");
  auto located = parse_data_asset("azureml://locations/eastus/workspaces/0000-guid/data/d/versions/5");
  EXPECT_TRUE(located.workspace.empty());
  EXPECT_EQ(located.version, "5");
}

TEST(DataAsset, RejectsNonCanonicalVersionsAndOtherForms) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"azureml:ds:latest", "version must be a canonical integer"},
      {"azureml:ds:@latest", "version must be a canonical integer"},
      {"azureml:ds:01", "version must be a canonical integer"},
      {"azureml:ds:1.0", "version must be a canonical integer"},
      {"azureml:ds:", "version must be a canonical integer"},
      {"azureml:ds", "must use azureml:NAME:VERSION"},
      {"azureml://subscriptions/x/resourceGroups/y/workspaces/z/data/ds/versions/latest", "canonical integer"},
      {"azureml://subscriptions/x/resourceGroups/y/workspaces/z/data/ds/versions/01", "canonical integer"},
      {"https://example.com/ds", "must use azureml:NAME:VERSION"},
      {"azureml:bad name:1", "spaces or control characters"},
      {"azureml::1", "invalid data asset name"},
  };
  for (const auto& [uri, reason] : cases) {
    SCOPED_TRACE(uri);
    try {
      storage::validate_data_assets({"azureml:ok:1", uri});
      ADD_FAILURE() << "accepted";
    } catch (const util::InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr(reason));
      EXPECT_THAT(e.what(), HasSubstr("--dataset-asset #2"));
    }
  }
}

TEST(DataAsset, AtMost64Assets) {
  std::vector<std::string> uris(64, "azureml:ds:1");
  EXPECT_NO_THROW(storage::validate_data_assets(uris));
  EXPECT_NO_THROW(storage::validate_data_assets({}));
  uris.push_back("azureml:ds:2");
  try {
    storage::validate_data_assets(uris);
    ADD_FAILURE() << "65 accepted";
  } catch (const util::InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("too many data assets (65); maximum is 64"));
  }
}

class MountedAssets : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-assets"};
  std::string dir(const std::string& name) {
    auto p = tmp.path() / name;
    std::filesystem::create_directories(p);
    return p.string();
  }
};

TEST_F(MountedAssets, ResolvesEveryMountInOrder) {
  ScopedEnv env{{"DATASET_ASSET_COUNT", "2"},
                {"AZURE_ML_INPUT_dataset_asset_0", dir("a0")},
                {"AZURE_ML_INPUT_dataset_asset_1", dir("a1")}};
  auto paths = storage::mounted_data_asset_paths(2);
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0].filename(), "a0");
  EXPECT_EQ(paths[1].filename(), "a1");
  EXPECT_EQ(storage::mounted_data_asset_paths(0).size(), 2u) << "0 takes the count from DATASET_ASSET_COUNT";
}

TEST_F(MountedAssets, CountMismatchListsTheUnsetVariables) {
  ScopedEnv env{{"DATASET_ASSET_COUNT", "2"},
                {"AZURE_ML_INPUT_dataset_asset_0", dir("a0")},
                {"AZURE_ML_INPUT_dataset_asset_1", std::nullopt}};
  try {
    storage::mounted_data_asset_paths(0);
    ADD_FAILURE() << "no error";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Expected 2 AzureML data asset mount(s), but found 1"));
    EXPECT_THAT(e.what(), HasSubstr("AZURE_ML_INPUT_dataset_asset_1=<UNSET>"));
  }
}

TEST_F(MountedAssets, DisagreeingCountAndNonDirectoryAreErrors) {
  {
    ScopedEnv env{{"DATASET_ASSET_COUNT", "1"}, {"AZURE_ML_INPUT_dataset_asset_0", dir("a0")}};
    EXPECT_THROW(
        {
          try {
            storage::mounted_data_asset_paths(3);
          } catch (const util::RuntimeError& e) {
            EXPECT_THAT(e.what(), HasSubstr("Expected 3 AzureML data asset mount(s), but found 1"));
            throw;
          }
        },
        util::RuntimeError);
  }
  {
    ScopedEnv env{{"DATASET_ASSET_COUNT", std::nullopt},
                  {"AZURE_ML_INPUT_dataset_asset_0", (tmp.path() / "missing").string()}};
    EXPECT_THROW(storage::mounted_data_asset_paths(1), util::RuntimeError);
  }
  {
    ScopedEnv env{{"DATASET_ASSET_COUNT", "two"}};
    EXPECT_THROW(storage::mounted_data_asset_paths(0), util::RuntimeError);
  }
}
