#include "platform/source_checks.h"

#include "storage/blob_url.h"
#include "storage/data_asset.h"
#include "storage/hf_hub.h"
#include "track/model_uri.h"

namespace robotrain::platform {

void check_hub_repo_id(const std::string& repo_id) { storage::validate_repo_id(repo_id); }

void check_blob_urls(const std::vector<std::string>& urls) { storage::validate_blob_urls(urls); }

void check_dataset_assets(const std::vector<std::string>& assets) { storage::validate_data_assets(assets); }

void check_register_name(const std::string& name, const std::string& flag) { track::validate_register_name(name, flag); }

void check_warm_start_uri(const std::string& uri) { track::parse_warm_start_uri(uri, "--init-from-policy-model"); }

}  // namespace robotrain::platform
