#include "platform/source_checks.h"

namespace robotrain::platform {
void check_blob_urls(const std::vector<std::string>&) {}
void check_dataset_assets(const std::vector<std::string>&) {}
void check_register_name(const std::string&) {}
void check_warm_start_uri(const std::string&) {}
}
