#pragma once
// `--blob-url https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX`: the seed system's exact
// validation rules (1..64 URLs, HTTPS only, no SAS/fragment/port/userinfo, blob host, non-empty
// container and prefix), checked before any network access.
#include <string>
#include <vector>

namespace robotrain::storage {

struct BlobLocation {
  std::string account, container, prefix;  // prefix without leading/trailing '/'
};

inline constexpr size_t kMaxBlobUrls = 64;
inline constexpr const char* kBlobHostSuffix = ".blob.core.windows.net";

// Throws util::InputError naming the seed's reason ("must be an HTTPS Azure Blob URL: …").
BlobLocation parse_blob_url(const std::string& url);
// 1..64 URLs; the first failure is reported with the URL's 1-based position.
void validate_blob_urls(const std::vector<std::string>& urls);
// The canonical https URL of a location (for logs, lineage tags).
std::string blob_url_of(const BlobLocation& location);

}  // namespace robotrain::storage
