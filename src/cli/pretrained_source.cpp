#include "cli/pretrained_source.h"

#include "storage/hf_cache.h"
#include "storage/hf_hub.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace fs = std::filesystem;

namespace robotrain::cli {

using util::cat;

namespace {

// Spelled like a path rather than a repo id: LeRobot would look for it on disk.
bool path_shaped(const std::string& s) {
  return s.empty() || s[0] == '/' || s[0] == '.' || s[0] == '~' || util::starts_with(s, "file://") ||
         s.find('\\') != std::string::npos;
}

}  // namespace

PretrainedRef parse_pretrained_ref(const std::string& value, const std::string& revision, const std::string& flag,
                                   bool hub_only) {
  PretrainedRef ref;
  ref.given = value;
  ref.flag = flag;
  std::error_code ec;
  if (!hub_only && fs::exists(value, ec)) {
    ref.local = value;
    if (!revision.empty())
      throw util::InputError(cat("--policy.revision ", revision, " applies to a Hub model, but ", flag, " ", value,
                                 " is a local path: drop --policy.revision"));
    return ref;
  }
  if (path_shaped(value)) {
    if (hub_only)
      throw util::InputError(cat(flag, " '", value, "' is a path: it names a Hugging Face Hub model owner/name; ",
                                 "use --policy.path for a local pretrained_model directory"));
    throw util::InputError(cat(flag, " ", value, ": no such file or directory (give a checkpoint's pretrained_model ",
                               "directory, or a Hugging Face Hub model owner/name[@revision])"));
  }
  std::string id = value, rev = revision;
  if (auto at = value.find('@'); at != std::string::npos) {
    id = value.substr(0, at);
    std::string suffix = value.substr(at + 1);
    if (suffix.empty()) throw util::InputError(cat(flag, " '", value, "': empty revision after '@' (owner/name@revision)"));
    if (!rev.empty() && rev != suffix)
      throw util::InputError(cat(flag, " '", value, "' and --policy.revision ", rev, " name different revisions: keep one"));
    rev = suffix;
  }
  if (hub_only || id.find('/') != std::string::npos) {
    storage::validate_repo_id(id, flag);
    if (!rev.empty()) storage::check_ref_name(rev);
  } else {
    throw util::InputError(cat(flag, " ", value, ": no such directory, and not a Hugging Face Hub model id ",
                               "(expected a pretrained_model directory or owner/name[@revision])"));
  }
  ref.repo_id = id;
  ref.revision = rev;
  return ref;
}

std::map<std::string, std::string> PretrainedSource::tags() const {
  if (!ref.is_hub()) return {};
  return {{"warm_start.source", "hf://" + ref.repo_id},
          {"warm_start.hf_repo_id", ref.repo_id},
          {"warm_start.hf_revision", ref.revision.empty() ? "main" : ref.revision},
          {"warm_start.hf_commit", commit}};
}

PretrainedSource fetch_pretrained(const PretrainedRef& ref) {
  PretrainedSource s;
  s.ref = ref;
  if (!ref.is_hub()) {
    s.dir = ref.local;
    return s;
  }
  storage::HubOptions o;
  o.revision = ref.revision;
  auto snapshot = storage::fetch_hub_model(ref.repo_id, o, ref.flag);
  s.dir = snapshot.dir;
  s.commit = snapshot.commit;
  util::log_info("pretrained policy ", ref.repo_id, "@", snapshot.revision, " (commit ", snapshot.commit, ") in ",
                 snapshot.dir.string());
  return s;
}

}  // namespace robotrain::cli
