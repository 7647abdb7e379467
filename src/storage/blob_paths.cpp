#include "storage/blob_paths.h"

#include "util/strings.h"

namespace robotrain::storage {

BlobNameDecision classify_blob_name(const std::string& name, const std::string& prefix) {
  BlobNameDecision d;
  std::string lead = prefix.empty() ? "" : prefix + "/";
  if (!util::starts_with(name, lead)) {
    d.verdict = BlobNameVerdict::Unsafe;
    d.reason = "outside the listed prefix";
    return d;
  }
  std::string rel = name.substr(lead.size());
  if (rel.empty() || rel.back() == '/') {
    d.verdict = BlobNameVerdict::Skip;
    d.reason = "directory marker";
    return d;
  }
  if (rel.front() == '/') {
    d.verdict = BlobNameVerdict::Unsafe;
    d.reason = "absolute name";
    return d;
  }
  for (unsigned char c : rel) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      d.verdict = BlobNameVerdict::Unsafe;
      d.reason = "control character or backslash in name";
      return d;
    }
  }
  auto parts = util::split(rel, '/');
  for (const auto& p : parts) {
    if (p.empty() || p == "." || p == "..") {
      d.verdict = BlobNameVerdict::Unsafe;
      d.reason = "empty, '.' or '..' path segment";
      return d;
    }
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] == ".cache") {
      d.verdict = BlobNameVerdict::Skip;
      d.reason = ".cache/ folder";
      return d;
    }
  }
  if (util::ends_with(rel, ".lock") || util::ends_with(rel, ".metadata")) {
    d.verdict = BlobNameVerdict::Skip;
    d.reason = "lock/metadata file";
    return d;
  }
  d.relative = rel;
  return d;
}

std::optional<std::filesystem::path> contained_path(const std::filesystem::path& root, const std::string& relative) {
  namespace fs = std::filesystem;
  fs::path base = fs::weakly_canonical(root);
  fs::path target = fs::weakly_canonical(base / relative);
  auto rel = target.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") return std::nullopt;
  return base / relative;
}

}  // namespace robotrain::storage
