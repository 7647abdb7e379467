#include "storage/hf_hub.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "storage/hf_api.h"
#include "storage/hf_cache.h"
#include "storage/hf_download.h"
#include "storage/hf_revision.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"
#include "util/process.h"
#include "util/progress.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace fs = std::filesystem;
using util::cat;

namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool env_true(const char* name) {
  std::string v = util::to_lower(util::trim(util::get_env_or(name, "")));
  return v == "1" || v == "on" || v == "yes" || v == "true";
}

std::string read_token_file() {
  fs::path p = util::get_env_or("HF_TOKEN_PATH", "");
  if (p.empty()) p = hf_home() / "token";
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return "";
  return util::trim(util::read_file(p));
}

std::string offline_hint(const HubCache& cache) {
  return cat("not in the hub cache ", cache.repo_dir().string(),
             " and HF_HUB_OFFLINE is set: run once with network access, or unset HF_HUB_OFFLINE");
}

void check_offline_files(const fs::path& snapshot, const HubOptions& o, const HubCache& cache) {
  if (o.episodes.empty()) return;
  auto meta = dataset::load_metadata(snapshot);
  for (const auto& path : files_for_episodes(meta, o.episodes)) {
    std::error_code ec;
    if (!fs::exists(snapshot / path, ec))
      throw util::RuntimeError(cat("hub: ", path, " (needed by the selected episodes) is ", offline_hint(cache)));
  }
}

// A snapshot from the cache alone: refs/<revision> (or the commit itself) -> snapshots/<commit>.
fs::path cached_snapshot(const std::string& repo_id, const HubOptions& o, const HubCache& cache) {
  std::string revision = o.revision;
  if (revision.empty()) {
    auto names = cache.ref_names();
    if (names.empty())
      throw util::RuntimeError(cat("hub: dataset ", repo_id, " is ", offline_hint(cache)));
    revision = choose_codebase_revision(repo_id, names);
  }
  std::string commit;
  if (is_commit_hash(revision) && fs::is_directory(cache.snapshot_dir(revision))) {
    commit = revision;
  } else if (auto ref = cache.read_ref(revision)) {
    commit = *ref;
  } else {
    throw util::RuntimeError(cat("hub: revision ", revision, " of dataset ", repo_id, " is ", offline_hint(cache)));
  }
  fs::path snapshot = cache.snapshot_dir(commit);
  if (!fs::exists(snapshot / "meta" / "info.json"))
    throw util::RuntimeError(cat("hub: snapshot ", commit, " of dataset ", repo_id, " (meta/info.json) is ", offline_hint(cache)));
  check_offline_files(snapshot, o, cache);
  return snapshot;
}

// Shared by the download workers; the bar counts bytes over all files of one phase.
class ByteProgress {
 public:
  ByteProgress(bool enabled, const std::string& label, int64_t total) {
    if (enabled && total > 0) bar_ = std::make_unique<util::Progress>(label, total);
  }
  void add(int64_t delta) {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ += delta;
    if (bar_) bar_->update(std::max<int64_t>(0, done_));
  }
  void finish(const std::string& suffix) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (bar_) bar_->finish(suffix);
  }

 private:
  std::mutex mutex_;
  int64_t done_ = 0;
  std::unique_ptr<util::Progress> bar_;
};

// Files sharing content are one blob: downloaded once, linked at every path.
struct BlobJob {
  std::string etag, sha256;
  int64_t size = 0;
  std::vector<std::string> paths;
};

void fetch_blob(const HubClient& client, const HubCache& cache, const std::string& commit, BlobJob& job,
                ByteProgress& progress) {
  const std::string& first = job.paths.front();
  std::string etag = job.etag;
  if (!fs::exists(cache.blob_path(etag))) {
    HubFileMetadata m = client.file_metadata(commit, first);
    if (!m.etag.empty() && m.etag != etag) {
      util::log_debug("hub: ", first, ": listing etag ", etag, " differs from HEAD etag ", m.etag, "; using HEAD's");
      etag = m.etag;
    }
    BlobRequest req;
    req.url = m.download_url;
    req.etag = etag;
    req.size = m.size >= 0 ? m.size : job.size;
    bool hex64 = etag.size() == 64 && std::all_of(etag.begin(), etag.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    req.sha256 = !job.sha256.empty() ? job.sha256 : (hex64 ? etag : "");
    req.display_path = first;
    if (!fs::exists(cache.blob_path(etag))) download_blob(client, cache, req, [&](int64_t n) { progress.add(n); });
  }
  for (const auto& path : job.paths) cache.link_snapshot_file(commit, path, etag);
}

void fetch_files(const HubClient& client, const HubCache& cache, const std::string& commit,
                 const std::vector<HubFile>& files, const HubOptions& o, const std::string& label) {
  std::map<std::string, BlobJob> by_etag;
  std::vector<std::string> order;
  for (const auto& f : files) {
    std::string etag = f.etag();
    if (etag.empty()) throw util::RuntimeError(cat("hub: listing gives no object id for ", f.path));
    if (cache.has_snapshot_file(commit, f.path, etag)) continue;
    auto [it, fresh] = by_etag.try_emplace(etag);
    if (fresh) {
      it->second = {etag, f.sha256, f.size, {}};
      order.push_back(etag);
    }
    it->second.paths.push_back(f.path);
  }
  if (order.empty()) return;
  int64_t total = 0;
  for (const auto& e : order)
    if (!fs::exists(cache.blob_path(e))) total += by_etag[e].size;
  ByteProgress progress(o.progress, label, total);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < order.size();) {
      try {
        fetch_blob(client, cache, commit, by_etag[order[i]], progress);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  size_t n_threads = std::clamp<size_t>(static_cast<size_t>(std::max(1, o.parallel)), 1, order.size());
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  progress.finish(cat(order.size(), " files"));
}

}  // namespace

void validate_repo_id(const std::string& repo_id, const std::string& flag) {
  auto fail = [&](const std::string& why) {
    const char* example = util::starts_with(flag, "--policy") ? "lerobot/act_aloha_sim_transfer_cube_human" : "lerobot/pusht";
    throw util::InputError(cat(flag, " '", repo_id, "' is not a Hub repository id: ", why, " (expected owner/name, e.g. ",
                               example, ")"));
  };
  auto parts = util::split(repo_id, '/');
  if (parts.size() != 2) fail("it needs exactly one '/'");
  for (const auto& part : parts) {
    if (part.empty()) fail("owner and name must not be empty");
    if (part.size() > 96) fail("owner and name are at most 96 characters");
    for (char c : part)
      if (!is_word_char(c) && c != '-' && c != '.') fail(cat("character '", c, "' is not allowed"));
    if (!is_word_char(part.front()) || !is_word_char(part.back()))
      fail("owner and name must start and end with a letter, digit or '_'");
  }
  if (repo_id.find("--") != std::string::npos || repo_id.find("..") != std::string::npos) fail("'--' and '..' are not allowed");
  if (util::ends_with(repo_id, ".git")) fail("it must not end with .git");
}

void check_hub_options(const HubOptions& options) {
  for (int64_t ep : options.episodes)
    if (ep < 0) throw util::InputError(cat("--dataset.episodes: episode index ", ep, " is negative"));
  if (!options.revision.empty()) check_ref_name(options.revision);
}

HubOptions resolve_hub_options(const HubOptions& options) {
  HubOptions o = options;
  if (o.endpoint.empty()) o.endpoint = util::get_env_or("HF_ENDPOINT", "https://huggingface.co");
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  if (o.token.empty()) o.token = util::trim(util::get_env_or("HF_TOKEN", ""));
  if (o.token.empty()) o.token = read_token_file();
  if (o.cache_dir.empty()) o.cache_dir = default_hub_cache();
  if (!o.offline) o.offline = env_true("HF_HUB_OFFLINE");
  o.parallel = std::max(1, o.parallel);
  return o;
}

std::vector<std::string> files_for_episodes(const dataset::DatasetMeta& meta, const std::vector<int64_t>& episodes) {
  std::map<int64_t, const dataset::Episode*> by_index;
  for (const auto& e : meta.episodes) by_index[e.index] = &e;
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const fs::path& p) {
    std::string rel = p.lexically_relative(meta.root).generic_string();
    if (seen.insert(rel).second) out.push_back(rel);
  };
  for (int64_t ep : episodes) {
    auto it = by_index.find(ep);
    if (it == by_index.end())
      throw util::InputError(cat("episode ", ep, " is not in dataset ", meta.root.string(), " (it has ",
                                 meta.episodes.size(), " episodes, 0..", static_cast<int64_t>(meta.episodes.size()) - 1, ")"));
    add(it->second->data_path);
    for (const auto& [key, seg] : it->second->videos) add(seg.path);
  }
  return out;
}

namespace {

bool is_pretrained_file(const std::string& path) {
  return path.find('/') == std::string::npos && (util::ends_with(path, ".json") || util::ends_with(path, ".safetensors"));
}

constexpr const char* kModelFiles[] = {"config.json", "model.safetensors"};

std::string not_a_policy(const std::string& repo_id, const std::string& revision, const std::string& missing) {
  return cat("hub: model ", repo_id, " at ", revision, " has no ", missing,
             ": it is not a LeRobot policy repository (one saved with save_pretrained / push_to_hub)");
}

HubModelSnapshot cached_model(const std::string& repo_id, const std::string& revision, const HubCache& cache) {
  std::string commit;
  if (is_commit_hash(revision) && fs::is_directory(cache.snapshot_dir(revision))) commit = revision;
  else if (auto ref = cache.read_ref(revision)) commit = *ref;
  else throw util::RuntimeError(cat("hub: revision ", revision, " of model ", repo_id, " is ", offline_hint(cache)));
  fs::path snapshot = cache.snapshot_dir(commit);
  for (const char* file : kModelFiles)
    if (!fs::exists(snapshot / file))
      throw util::RuntimeError(cat("hub: ", file, " of model ", repo_id, " at ", revision, " is ", offline_hint(cache)));
  return {snapshot, revision, commit};
}

}  // namespace

HubModelSnapshot fetch_hub_model(const std::string& repo_id, const HubOptions& options, const std::string& flag) {
  validate_repo_id(repo_id, flag);
  check_hub_options(options);
  const HubOptions o = resolve_hub_options(options);
  const std::string revision = o.revision.empty() ? "main" : o.revision;
  const HubCache cache(o.cache_dir, repo_id, HubRepoType::Model);
  if (*o.offline) return cached_model(repo_id, revision, cache);

  const HubClient client(o.endpoint, o.token, repo_id, HubRepoType::Model);
  std::string commit;
  try {
    commit = client.resolve_commit(revision);
  } catch (const util::NetworkError& e) {
    try {
      HubModelSnapshot cached = cached_model(repo_id, revision, cache);
      util::log_warn("hub unreachable (", e.what(), "); using the cached snapshot ", cached.dir.string());
      return cached;
    } catch (const util::Error&) {
      throw util::NetworkError(cat("hub: model ", repo_id, " (", flag, "): ", e.what(),
                                   "; nothing cached for revision ", revision, " under ", cache.repo_dir().string()));
    }
  }
  if (revision != commit) cache.write_ref(revision, commit);
  util::log_info("hub: model ", repo_id, " revision ", revision, " = commit ", commit);

  std::vector<HubFile> wanted;
  for (auto& f : client.list_files(commit)) {
    if (!is_pretrained_file(f.path)) continue;
    check_repo_path(f.path);
    wanted.push_back(std::move(f));
  }
  for (const char* file : kModelFiles)
    if (std::none_of(wanted.begin(), wanted.end(), [&](const HubFile& f) { return f.path == file; }))
      throw util::RuntimeError(not_a_policy(repo_id, revision, file));
  fetch_files(client, cache, commit, wanted, o, "hub model");
  return {cache.snapshot_dir(commit), revision, commit};
}

fs::path fetch_hub_dataset(const std::string& repo_id, const HubOptions& options) {
  validate_repo_id(repo_id);
  check_hub_options(options);
  const HubOptions o = resolve_hub_options(options);
  const HubCache cache(o.cache_dir, repo_id);
  if (*o.offline) return cached_snapshot(repo_id, o, cache);

  const HubClient client(o.endpoint, o.token, repo_id);
  std::string revision = o.revision, commit;
  try {
    if (revision.empty()) {
      std::vector<std::string> names;
      for (const auto& r : client.list_refs()) names.push_back(r.name);
      revision = choose_codebase_revision(repo_id, names);
    }
    commit = client.resolve_commit(revision);
  } catch (const util::NetworkError& e) {
    // The hub is unreachable: a snapshot already in the cache still serves (as huggingface_hub does).
    try {
      fs::path snapshot = cached_snapshot(repo_id, o, cache);
      util::log_warn("hub unreachable (", e.what(), "); using the cached snapshot ", snapshot.string());
      return snapshot;
    } catch (const util::Error&) {
      throw e;
    }
  }
  if (revision != commit) cache.write_ref(revision, commit);
  util::log_info("hub: ", repo_id, " revision ", util::one_line(revision, 100), " = commit ", commit);

  std::vector<HubFile> files = client.list_files(commit);
  std::vector<HubFile> meta_files, other_files;
  for (auto& f : files) {
    check_repo_path(f.path);
    (util::starts_with(f.path, "meta/") ? meta_files : other_files).push_back(f);
  }
  if (meta_files.empty())
    throw util::InputError(cat("dataset ", repo_id, " at ", revision, " has no meta/ folder: it is not a LeRobot dataset"));
  fetch_files(client, cache, commit, meta_files, o, "hub meta");
  const fs::path snapshot = cache.snapshot_dir(commit);

  if (!o.episodes.empty()) {
    auto needed = files_for_episodes(dataset::load_metadata(snapshot), o.episodes);
    std::set<std::string> wanted(needed.begin(), needed.end());
    std::vector<HubFile> selected;
    for (const auto& f : other_files)
      if (wanted.erase(f.path)) selected.push_back(f);
    if (!wanted.empty())
      throw util::RuntimeError(cat("dataset ", repo_id, " at ", revision, ": ", *wanted.begin(),
                                   " (needed by the selected episodes) is not in the repository"));
    other_files = std::move(selected);
  }
  fetch_files(client, cache, commit, other_files, o, "hub data");
  return snapshot;
}

}  // namespace robotrain::storage
