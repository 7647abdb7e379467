#pragma once
// The dataset-source and model-name rules live with the code that uses them (storage: Hub ids,
// blob URLs and data assets; track: registry names and warm-start URIs). Submission applies the
// very same checks before anything is sent, through these forwarders.
#include <string>
#include <vector>

namespace robotrain::platform {

// The Hub dataset id rules `train` applies (owner/name, allowed characters).
void check_hub_repo_id(const std::string& repo_id);
void check_blob_urls(const std::vector<std::string>& urls);
void check_dataset_assets(const std::vector<std::string>& assets);
void check_register_name(const std::string& name, const std::string& flag = "--register-checkpoint");
void check_warm_start_uri(const std::string& uri);

}  // namespace robotrain::platform
