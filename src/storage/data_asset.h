#pragma once
// `--dataset-asset`: Azure ML data assets. Versions must be canonical integers (the seed rejects
// latest, @latest, 01, 1.0 and empty) so a run always names exactly the data it trained on.
// Inside an Azure ML job each asset is a read-only mount announced through environment variables.
#include <filesystem>
#include <string>
#include <vector>

namespace robotrain::storage {

struct DataAssetRef {
  std::string uri, name, version;
  // From the long forms (azureml://subscriptions/S/resourceGroups/RG/workspaces/W/data/…);
  // empty for azureml:NAME:VERSION and azureml://locations/… (the caller's workspace is used).
  std::string subscription, resource_group, workspace;
};

inline constexpr size_t kMaxDataAssets = 64;

// azureml:NAME:VERSION, azureml://…/data/NAME/versions/VERSION or the ARM id form
// azureml:/subscriptions/…/data/NAME/versions/VERSION. util::InputError otherwise.
DataAssetRef parse_data_asset(const std::string& uri);
// At most 64; the first failure is reported with its 1-based position.
void validate_data_assets(const std::vector<std::string>& uris);

// Inside an Azure ML job: AZURE_ML_INPUT_dataset_asset_<i> for i < expected_count (0: take the
// count from DATASET_ASSET_COUNT). Missing variables throw "Expected N AzureML data asset
// mount(s), but found M: AZURE_ML_INPUT_dataset_asset_1=<UNSET>"; so does a DATASET_ASSET_COUNT
// that disagrees with expected_count, or a path that is not a directory.
std::vector<std::filesystem::path> mounted_data_asset_paths(size_t expected_count);
// The name of the variable the job definition binds input `dataset_asset_<index>` to.
std::string data_asset_input_env(size_t index);

}  // namespace robotrain::storage
