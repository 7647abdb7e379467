#pragma once
// The List Blobs response (XML EnumerationResults) reduced to what a download needs. Blob
// listings are flat and regular, so a small tag scanner is enough; no XML library.
#include <cstdint>
#include <string>
#include <vector>

namespace robotrain::storage {

struct BlobItem {
  std::string name;
  uint64_t size = 0;
  std::string content_md5;  // base64, empty when the service has none
  std::string etag;
};

struct BlobPage {
  std::vector<BlobItem> blobs;
  std::string next_marker;  // empty on the last page
};

// Throws util::RuntimeError when the body is not an EnumerationResults document.
BlobPage parse_blob_list(const std::string& xml);
// Decodes the five XML entities and numeric character references.
std::string xml_unescape(const std::string& text);
std::string xml_escape(const std::string& text);

}  // namespace robotrain::storage
