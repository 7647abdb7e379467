#include "storage/blob_upload.h"

#include <fstream>

#include "storage/parallel.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSinglePutMax = 32ull << 20;
constexpr uint64_t kBlockBytes = 8ull << 20;

std::string block_id(size_t index) {
  // Every id of a blob must have the same length: a zero-padded counter, base64-encoded.
  char buf[16];
  std::snprintf(buf, sizeof buf, "blk%08zu", index);
  return util::base64_encode(buf);
}

}  // namespace

void upload_file(const BlobClient& client, const std::string& container, const std::string& name, const fs::path& file) {
  uint64_t size = fs::file_size(file);
  std::string md5 = util::base64_encode(util::md5_file_raw(file));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw util::RuntimeError(util::cat(file.string(), ": cannot open for upload"));
  if (size <= kSinglePutMax) {
    std::string data(size, '\0');
    in.read(data.data(), static_cast<std::streamsize>(size));
    client.put_blob(container, name, data, md5);
    return;
  }
  std::vector<std::string> ids;
  std::string data;
  for (uint64_t off = 0; off < size; off += kBlockBytes) {
    data.resize(std::min(kBlockBytes, size - off));
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    ids.push_back(block_id(ids.size()));
    client.put_block(container, name, ids.back(), data);
  }
  client.put_block_list(container, name, ids, md5);
}

BlobUploadReport upload_directory_to(const fs::path& src, const BlobLocation& location, const BlobAccess& access,
                                     int parallel) {
  if (!fs::is_directory(src))
    throw util::InputError(util::cat(src.string(), " is not a directory; pass the folder to upload"));
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(src))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  BlobClient client(access, location.account);
  BlobUploadReport report;
  std::string lead = location.prefix.empty() ? "" : location.prefix + "/";
  parallel_for_each(files.size(), parallel, [&](size_t i) {
    std::string rel = files[i].lexically_relative(src).generic_string();
    upload_file(client, location.container, lead + rel, files[i]);
  });
  for (const auto& f : files) report.bytes += fs::file_size(f);
  report.files = files.size();
  util::log_info("Uploaded ", report.files, " files (", util::human_bytes(static_cast<double>(report.bytes)), ") to ",
                 location.account, "/", location.container, "/", location.prefix);
  return report;
}

void upload_directory(const fs::path& src, const std::string& blob_url, const BlobAccess& access) {
  upload_directory_to(src, parse_blob_url(blob_url), access);
}

}  // namespace robotrain::storage
