#pragma once
// The List Blobs response (XML EnumerationResults) reduced to what a download needs, parsed
// with a real XML parser (pugixml): entities, CDATA sections and comments are read as XML
// defines them, so none can make a blob name differ from what the service meant. Names are
// still untrusted (see blob_paths.h).
#include <cstdint>
#include <string>
#include <string_view>
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

// One List Blobs answer. Pure (no I/O), for tests and fuzzing. Throws util::RuntimeError
// (one line) when the body is not well-formed XML or not an EnumerationResults document, or
// when a <Blob> lacks a name or has a malformed Content-Length.
BlobPage parse_blob_listing(std::string_view xml);
inline BlobPage parse_blob_list(const std::string& xml) { return parse_blob_listing(xml); }

}  // namespace robotrain::storage
