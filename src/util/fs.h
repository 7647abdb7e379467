#pragma once
// File helpers that never leave half-written results: write to a temporary name in the same
// directory, fsync, then rename over the target.
#include <filesystem>
#include <string>
#include <string_view>

namespace robotrain::util {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path);
void atomic_write_file(const fs::path& path, std::string_view data);
// A sibling temporary path "<dir>/.<name>.tmp-<pid>-<n>" that rename() can move atomically.
fs::path temp_sibling(const fs::path& target);
// Renames src over dst, replacing a directory dst when replace_existing is true.
void atomic_rename(const fs::path& src, const fs::path& dst);
// Points `link` at `target` (relative) atomically: create a temp link, then rename over.
void atomic_symlink(const fs::path& target, const fs::path& link);
void fsync_path(const fs::path& path);

// A directory populated under a hidden staging name and moved into place by commit();
// removed on destruction if commit() was never called.
class StagedDir {
 public:
  explicit StagedDir(fs::path final_path);
  ~StagedDir();
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;
  const fs::path& path() const { return staging_; }
  const fs::path& final_path() const { return final_; }
  void commit(bool replace_existing = false);

 private:
  fs::path final_;
  fs::path staging_;
  bool committed_ = false;
};

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "robotrain");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace robotrain::util
