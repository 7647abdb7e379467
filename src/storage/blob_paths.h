#pragma once
// Which listed blobs become files, and where: blob names are untrusted input, so a name that is
// absolute, contains "..", or would land outside the destination is never written.
#include <filesystem>
#include <optional>
#include <string>

namespace robotrain::storage {

enum class BlobNameVerdict { Keep, Skip, Unsafe };

struct BlobNameDecision {
  BlobNameVerdict verdict = BlobNameVerdict::Keep;
  std::string relative;  // path under the destination when kept
  std::string reason;    // why skipped or unsafe
};

// `name` is the full blob name, `prefix` the listing prefix without trailing '/'. Skipped:
// directory markers, anything under a .cache/ folder, *.lock and *.metadata (cache litter).
// Unsafe: absolute names, empty, "." or ".." segments, backslashes, control characters.
BlobNameDecision classify_blob_name(const std::string& name, const std::string& prefix);

// The destination path for `relative` under `root`, or nullopt when an existing symlink on the
// way would take it outside `root`.
std::optional<std::filesystem::path> contained_path(const std::filesystem::path& root, const std::string& relative);

}  // namespace robotrain::storage
