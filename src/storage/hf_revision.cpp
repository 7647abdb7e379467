#include "storage/hf_revision.h"

#include <algorithm>

#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::storage {

using util::cat;

int RefVersion::compare(const RefVersion& other) const {
  size_t n = std::max(release.size(), other.release.size());
  for (size_t i = 0; i < n; ++i) {
    long a = i < release.size() ? release[i] : 0;
    long b = i < other.release.size() ? other.release[i] : 0;
    if (a != b) return a < b ? -1 : 1;
  }
  return 0;
}

std::optional<RefVersion> parse_ref_version(std::string_view name) {
  std::string s = util::trim(name);
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.erase(0, 1);
  if (s.empty()) return std::nullopt;
  RefVersion v;
  for (const auto& part : util::split(s, '.')) {
    int64_t n = 0;
    if (part.empty() || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        !util::parse_int64(part, n))
      return std::nullopt;
    v.release.push_back(static_cast<long>(n));
  }
  return v;
}

namespace {

struct Candidate {
  std::string name;
  RefVersion version;
};

std::string list_names(const std::vector<std::string>& names) {
  // Ref names come from the server: one escaped line, cut short.
  return names.empty() ? std::string("none") : util::one_line(util::join(names, ", "), 300);
}

}  // namespace

std::string choose_codebase_revision(const std::string& repo_id, const std::vector<std::string>& ref_names,
                                     const std::string& target_name) {
  auto target = parse_ref_version(target_name);
  if (!target) throw util::InputError(cat("codebase version '", target_name, "' is not a version"));
  std::vector<Candidate> versions;
  for (const auto& name : ref_names)
    if (auto v = parse_ref_version(name)) versions.push_back({name, *v});
  if (versions.empty())
    throw util::InputError(cat("dataset ", repo_id, " has no codebase-version tag (refs found: ", list_names(ref_names),
                               "); tag it with its meta/info.json codebase_version (e.g. ", target_name,
                               ") or pass --dataset.revision <branch|tag|commit>"));
  // Exact match first; prefer the ref spelled like the target ("v3.0" over "3.0.0").
  const Candidate* best = nullptr;
  for (const auto& c : versions)
    if (c.version.compare(*target) == 0 && (!best || c.name == target_name)) best = &c;
  if (best) return best->name;
  for (const auto& c : versions)
    if (c.version.major() == target->major() && c.version.minor() <= target->minor() &&
        (!best || c.version.compare(best->version) > 0))
      best = &c;
  if (best) {
    util::log_warn("revision ", target_name, " of ", repo_id, " not found, using compatible version ",
                   util::one_line(best->name, 100));
    return best->name;
  }
  std::vector<std::string> found;
  for (const auto& c : versions) found.push_back(c.name);
  bool older = std::any_of(versions.begin(), versions.end(),
                           [&](const Candidate& c) { return c.version.major() < target->major(); });
  if (older)
    throw util::InputError(cat("dataset ", repo_id, " has only older codebase versions (tags found: ", list_names(found),
                               ") and robotrain needs ", target_name, " by default: pass --dataset.revision <tag> to read ",
                               "an older layout as is, or convert it with `robotrain dataset convert`"));
  throw util::InputError(cat("dataset ", repo_id, " is newer than this robotrain supports (tags found: ",
                             list_names(found), "; supported: ", target_name,
                             "): upgrade robotrain or pass --dataset.revision <tag>"));
}

}  // namespace robotrain::storage
