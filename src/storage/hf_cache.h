#pragma once
// The huggingface_hub cache layout, shared with the Python tools so that either side reuses
// what the other downloaded:
//   <cache>/datasets--owner--name/blobs/<etag>            file contents (etag = LFS sha256 or git sha1)
//   <cache>/datasets--owner--name/blobs/<etag>.incomplete  a download in progress (resumable)
//   <cache>/datasets--owner--name/snapshots/<commit>/<path> relative links into ../blobs
//   <cache>/datasets--owner--name/refs/<revision>          the commit a branch or tag resolved to
//   <cache>/.locks/datasets--owner--name/<etag>.lock       one writer per blob across processes
// Model repositories live beside them as models--owner--name with the same inner layout.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "storage/hf_repo_type.h"

namespace robotrain::storage {

// HF_HOME (default $XDG_CACHE_HOME/huggingface, i.e. ~/.cache/huggingface).
std::filesystem::path hf_home();
// HF_HUB_CACHE (default $HF_HOME/hub).
std::filesystem::path default_hub_cache();
// "datasets--owner--name" (or "models--owner--name").
std::string hub_repo_folder(const std::string& repo_id, HubRepoType type = HubRepoType::Dataset);
// A 40-hex git commit id (lowercase).
bool is_commit_hash(const std::string& revision);
// A blob name the cache accepts: a git sha1 (40) or LFS sha256 (64), lowercase hex.
bool is_object_id(const std::string& etag);
// Names from the server become cache path components only when they are object ids / commit
// ids; anything else (an ETag "../../x") is a util::RuntimeError naming `what`.
void check_object_id(const std::string& etag, const std::string& what);
void check_commit_id(const std::string& commit, const std::string& what);
// Rejects repository paths that could escape the snapshot (absolute, "..", empty parts).
void check_repo_path(const std::string& path);
// Rejects ref names that could escape refs/ (absolute, "..", empty parts, control characters).
void check_ref_name(const std::string& revision);

class HubCache {
 public:
  HubCache(std::filesystem::path cache_dir, const std::string& repo_id, HubRepoType type = HubRepoType::Dataset);

  const std::filesystem::path& repo_dir() const { return repo_dir_; }
  std::filesystem::path blob_path(const std::string& etag) const;
  std::filesystem::path incomplete_path(const std::string& etag) const;
  std::filesystem::path lock_path(const std::string& etag) const;
  std::filesystem::path snapshot_dir(const std::string& commit) const;

  std::optional<std::string> read_ref(const std::string& revision) const;
  void write_ref(const std::string& revision, const std::string& commit) const;
  // Every cached ref name ("main", "v3.0", "refs/pr/1").
  std::vector<std::string> ref_names() const;

  // True when snapshots/<commit>/<path> already resolves to blobs/<etag> (or is a plain file,
  // as huggingface_hub writes where symlinks are unavailable).
  bool has_snapshot_file(const std::string& commit, const std::string& path, const std::string& etag) const;
  // Points snapshots/<commit>/<path> at blobs/<etag> with a relative link.
  void link_snapshot_file(const std::string& commit, const std::string& path, const std::string& etag) const;

 private:
  std::filesystem::path cache_dir_;
  std::filesystem::path repo_dir_;
  std::string folder_;
};

}  // namespace robotrain::storage
