#pragma once
// Uploads a local directory under a blob prefix (test fixtures, checkpoint upload). Each file
// becomes a block blob named PREFIX/<relative path> with its MD5 stored as Content-MD5.
#include <filesystem>
#include <string>

#include "storage/blob_client.h"
#include "storage/blob_url.h"

namespace robotrain::storage {

struct BlobUploadReport {
  size_t files = 0;
  uint64_t bytes = 0;
};

void upload_directory(const std::filesystem::path& src, const std::string& blob_url, const BlobAccess& access);
BlobUploadReport upload_directory_to(const std::filesystem::path& src, const BlobLocation& location,
                                     const BlobAccess& access, int parallel = 8);
// One file as one blob (Put Blob up to 32 MiB, else 8 MiB blocks and Put Block List).
void upload_file(const BlobClient& client, const std::string& container, const std::string& name,
                 const std::filesystem::path& file);

}  // namespace robotrain::storage
