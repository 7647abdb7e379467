#pragma once
// Outside an Azure ML job a data asset is not mounted: look its version up through the Azure ML
// REST API (data/NAME/versions/V -> dataUri), map the datastore to account/container/path, and
// download it like a blob prefix.
#include <filesystem>
#include <string>

#include "util/azure_credential.h"
#include "storage/blob_download.h"
#include "storage/blob_url.h"
#include "storage/data_asset.h"

namespace robotrain::storage {

inline constexpr const char* kAzureMLApiVersion = "2024-04-01";

struct AzureMLWorkspace {
  std::string subscription, resource_group, workspace;
  std::string endpoint = "https://management.azure.com";  // tests point this at a local server
  util::TokenProvider token;                                     // for https://management.azure.com/
};

// AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZUREML_WORKSPACE_NAME and the Azure AD chain.
AzureMLWorkspace azureml_workspace_from_env();

// The workspace an asset is looked up in: its own (long URI form) or `workspace`'s. InputError
// (no network) when neither names one.
AzureMLWorkspace data_asset_workspace(const DataAssetRef& asset, const AzureMLWorkspace& workspace);

// Where the asset's files live. The asset's own subscription/resource group/workspace (long URI
// form) win over `workspace`'s. Throws InputError for a workspace that is not named anywhere.
BlobLocation resolve_data_asset_location(const DataAssetRef& asset, const AzureMLWorkspace& workspace);
// A dataUri as Azure ML stores it (azureml://…/datastores/DS/paths/P, https://…blob…, wasbs://,
// abfss://) as a blob location; datastores are looked up in `workspace`.
BlobLocation resolve_data_uri(const std::string& data_uri, const AzureMLWorkspace& workspace);

// A registered model version's files (models/NAME/versions/V -> modelUri), for warm starts
// from azureml:NAME:VERSION.
BlobLocation resolve_model_location(const std::string& name, const std::string& version, const AzureMLWorkspace& workspace);

BlobDownloadReport download_data_asset(const std::string& uri, const std::filesystem::path& dest,
                                       const AzureMLWorkspace& workspace, const BlobDownloadOptions& options);

}  // namespace robotrain::storage
