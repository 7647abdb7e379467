#pragma once
// Materialises every blob under a prefix as a local directory: paged listing, parallel ranged
// GETs, MD5 validation, unsafe names refused, staged in a hidden sibling and renamed at the end.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/blob_client.h"
#include "storage/blob_upload.h"
#include "storage/blob_url.h"

namespace robotrain::storage {

struct BlobDownloadOptions {
  BlobAccess access;
  int parallel = 8;
  bool overwrite = false;
  bool progress = true;
  int page_size = 5000;                 // List Blobs maxresults (tests use tiny pages)
  uint64_t chunk_bytes = 4ull << 20;     // ranged GET size; 4 MiB keeps per-range MD5 available
  int chunk_attempts = 4;                // per range, on short bodies and MD5 mismatches
};

struct BlobDownloadReport {
  size_t files = 0;
  uint64_t bytes = 0;
  size_t skipped = 0;  // .cache/, *.lock, *.metadata, directory markers
  size_t unsafe = 0;   // absolute, "..", escaping names (logged, never written)
  std::string fingerprint;  // blob_listing_fingerprint of the listing that was downloaded
};

// Every blob under PREFIX/ of an https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX URL into
// `dest` (created; an existing non-empty `dest` is an InputError unless options.overwrite).
BlobDownloadReport download_blob_prefix(const std::string& blob_url, const std::filesystem::path& dest,
                                        const BlobDownloadOptions& options);
// Same, for a location that is not a public-cloud URL (sovereign clouds, data asset datastores).
BlobDownloadReport download_blob_location(const BlobLocation& location, const std::filesystem::path& dest,
                                          const BlobDownloadOptions& options);
// Bounds on one listing: a service whose continuation markers never end fails instead of
// paging (and growing) for ever.
struct ListingLimits {
  int max_pages = 100000;
  size_t max_blobs = 1000000;
};
// All blobs under PREFIX/ (every page). util::RuntimeError when a continuation marker repeats
// or the limits are passed.
std::vector<BlobItem> list_blob_prefix(const BlobClient& client, const BlobLocation& location, int page_size = 5000,
                                       const ListingLimits& limits = {});
// What a prefix holds, as a hash of its blobs' names, sizes and ETags (order-independent): a
// local copy is stale when this changes. One listing, no downloads.
std::string blob_listing_fingerprint(const std::vector<BlobItem>& listed);
std::string blob_prefix_fingerprint(const std::string& blob_url, const BlobAccess& access);

}  // namespace robotrain::storage
