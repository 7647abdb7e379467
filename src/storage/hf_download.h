#pragma once
// One blob into the hub cache: streamed to blobs/<etag>.incomplete, resumed with a Range
// request after a cut connection or a restart, size and (LFS) sha256 checked, then renamed
// to blobs/<etag>. A per-blob file lock keeps concurrent processes (one per GPU) from
// writing the same blob twice.
#include <cstdint>
#include <functional>
#include <string>

#include "storage/hf_api.h"
#include "storage/hf_cache.h"

namespace robotrain::storage {

struct BlobRequest {
  std::string url;           // where the bytes are (resolve URL or CDN location)
  std::string etag;          // blob name
  int64_t size = -1;         // expected size; -1 when unknown
  std::string sha256;        // expected LFS sha256; empty to skip the check
  std::string display_path;  // repository path, for messages
};

// `on_bytes(delta)` reports progress (negative when a partial download is discarded).
void download_blob(const HubClient& client, const HubCache& cache, const BlobRequest& blob,
                   const std::function<void(int64_t)>& on_bytes);

}  // namespace robotrain::storage
