#include "platform/source_checks.h"

#include "track/model_uri.h"

namespace robotrain::platform {

void check_blob_urls(const std::vector<std::string>&) {}
void check_dataset_assets(const std::vector<std::string>&) {}

void check_register_name(const std::string& name, const std::string& flag) { track::validate_register_name(name, flag); }

void check_warm_start_uri(const std::string& uri) { track::parse_warm_start_uri(uri, "--init-from-policy-model"); }

}  // namespace robotrain::platform
