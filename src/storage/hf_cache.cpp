#include "storage/hf_cache.h"

#include <algorithm>

#include "util/error.h"
#include "util/fs.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace fs = std::filesystem;
using util::cat;

fs::path hf_home() {
  if (auto home = util::get_env("HF_HOME"); home && !home->empty()) return *home;
  std::string xdg = util::get_env_or("XDG_CACHE_HOME", "");
  if (xdg.empty()) xdg = util::get_env_or("HOME", "/root") + "/.cache";
  return fs::path(xdg) / "huggingface";
}

fs::path default_hub_cache() {
  if (auto cache = util::get_env("HF_HUB_CACHE"); cache && !cache->empty()) return *cache;
  return hf_home() / "hub";
}

std::string hub_repo_folder(const std::string& repo_id, HubRepoType type) {
  return repo_type_plural(type) + "--" + util::replace_all(repo_id, "/", "--");
}

namespace {
bool is_lower_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool has_control_char(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}
}  // namespace

bool is_commit_hash(const std::string& revision) { return revision.size() == 40 && is_lower_hex(revision); }

bool is_object_id(const std::string& etag) { return (etag.size() == 40 || etag.size() == 64) && is_lower_hex(etag); }

void check_object_id(const std::string& etag, const std::string& what) {
  if (!is_object_id(etag))
    throw util::RuntimeError(cat("hub: ", what, " has object id '", util::one_line(etag, 80),
                                 "', not 40 or 64 lowercase hex digits; refusing to use it as a cache file name"));
}

void check_commit_id(const std::string& commit, const std::string& what) {
  if (!is_commit_hash(commit))
    throw util::RuntimeError(cat("hub: ", what, " gave commit '", util::one_line(commit, 80),
                                 "', not 40 lowercase hex digits; refusing to use it as a cache folder name"));
}

void check_repo_path(const std::string& path) {
  bool bad = path.empty() || path.front() == '/' || path.find('\\') != std::string::npos || has_control_char(path);
  for (const auto& part : util::split(path, '/'))
    if (part.empty() || part == "." || part == "..") bad = true;
  if (bad)
    throw util::RuntimeError(cat("hub listing holds an unsafe file path '", util::one_line(path, 200), "'; refusing to write it"));
}

void check_ref_name(const std::string& revision) {
  bool bad = revision.empty() || revision.front() == '/' || revision.find('\\') != std::string::npos ||
             has_control_char(revision);
  for (const auto& part : util::split(revision, '/'))
    if (part.empty() || part == "." || part == "..") bad = true;
  if (bad)
    throw util::InputError(cat("revision '", util::one_line(revision, 100),
                               "' is not a usable branch or tag name (empty, absolute or '..' parts, control characters)"));
}

HubCache::HubCache(fs::path cache_dir, const std::string& repo_id, HubRepoType type)
    : cache_dir_(std::move(cache_dir)), folder_(hub_repo_folder(repo_id, type)) {
  repo_dir_ = cache_dir_ / folder_;
}

// Every path below is checked here as well as where the names arrive: whatever the caller,
// a cache path never leaves repo_dir_ or .locks/.
fs::path HubCache::blob_path(const std::string& etag) const {
  check_object_id(etag, "a file");
  return repo_dir_ / "blobs" / etag;
}
fs::path HubCache::incomplete_path(const std::string& etag) const {
  check_object_id(etag, "a file");
  return repo_dir_ / "blobs" / (etag + ".incomplete");
}
fs::path HubCache::lock_path(const std::string& etag) const {
  check_object_id(etag, "a file");
  return cache_dir_ / ".locks" / folder_ / (etag + ".lock");
}
fs::path HubCache::snapshot_dir(const std::string& commit) const {
  check_commit_id(commit, "the revision");
  return repo_dir_ / "snapshots" / commit;
}

std::optional<std::string> HubCache::read_ref(const std::string& revision) const {
  check_ref_name(revision);
  fs::path p = repo_dir_ / "refs" / revision;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  std::string commit = util::trim(util::read_file(p));
  if (!is_commit_hash(commit)) return std::nullopt;  // empty or damaged: resolve it again
  return commit;
}

void HubCache::write_ref(const std::string& revision, const std::string& commit) const {
  check_ref_name(revision);
  check_commit_id(commit, cat("revision ", revision));
  if (read_ref(revision) == commit) return;
  fs::path p = repo_dir_ / "refs" / revision;
  fs::create_directories(p.parent_path());
  util::atomic_write_file(p, commit);  // no trailing newline, as huggingface_hub writes it
}

std::vector<std::string> HubCache::ref_names() const {
  std::vector<std::string> names;
  fs::path refs = repo_dir_ / "refs";
  std::error_code ec;
  if (!fs::is_directory(refs, ec)) return names;
  for (auto it = fs::recursive_directory_iterator(refs, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string name = fs::relative(it->path(), refs).generic_string();
    if (name.find("/.") != std::string::npos || name.front() == '.') continue;  // temp files
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool HubCache::has_snapshot_file(const std::string& commit, const std::string& path, const std::string& etag) const {
  fs::path p = snapshot_dir(commit) / path;
  std::error_code ec;
  auto st = fs::symlink_status(p, ec);
  if (ec) return false;
  if (fs::is_regular_file(st)) return true;
  if (!fs::is_symlink(st) || !fs::exists(p, ec)) return false;
  fs::path target = fs::read_symlink(p, ec);
  return !ec && target.filename() == etag;
}

void HubCache::link_snapshot_file(const std::string& commit, const std::string& path, const std::string& etag) const {
  check_repo_path(path);
  fs::path link = snapshot_dir(commit) / path;
  fs::create_directories(link.parent_path());
  // Relative, so the cache can be moved or mounted elsewhere (as huggingface_hub does).
  // Computed lexically: snapshots/<commit>/<dirs...>/<name> -> ../../<dirs as ..>/blobs/<etag>.
  fs::path target;
  size_t depth = util::split(path, '/').size() - 1 + 2;
  for (size_t i = 0; i < depth; ++i) target /= "..";
  target = target / "blobs" / etag;
  util::atomic_symlink(target, link);
}

}  // namespace robotrain::storage
