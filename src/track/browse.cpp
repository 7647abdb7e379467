#include "track/browse.h"

#include <algorithm>

#include "track/file_store.h"
#include "track/journal.h"
#include "track/local_registry.h"
#include "track/model_uri.h"
#include "track/tracking_uri.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;
using util::Json;

TrackingBrowser::TrackingBrowser(const std::string& tracking_uri, AccessTokenProvider token) {
  auto target = parse_tracking_uri(tracking_uri);
  uri_ = target.uri;
  if (target.kind == TrackingKind::File) {
    if (!fs::exists(target.root))
      throw util::InputError(cat("no MLflow store at ", target.root.string(),
                                 "; pass --tracking-uri or set MLFLOW_TRACKING_URI"));
    root_ = target.root;
  } else {
    client_.emplace(target, std::move(token));
    client_->make_interactive();
  }
}

std::vector<ExperimentInfo> TrackingBrowser::experiments() const {
  if (root_) return FileStore(*root_).list_experiments();
  return client_->search_experiments();
}

std::vector<RunRecord> TrackingBrowser::runs(const std::string& experiment_name, int max_results) const {
  std::vector<ExperimentInfo> exps;
  for (auto& e : experiments())
    if (e.lifecycle_stage == "active" && (experiment_name.empty() || e.name == experiment_name)) exps.push_back(e);
  if (!experiment_name.empty() && exps.empty()) throw util::InputError(cat("no experiment named '", experiment_name, "' in ", uri_));
  std::vector<RunRecord> out;
  if (root_) {
    FileStore store(*root_);
    for (auto& e : exps)
      for (auto& r : store.list_runs(e.experiment_id)) out.push_back(store.read_run(r));
  } else {
    std::vector<std::string> ids;
    for (auto& e : exps) ids.push_back(e.experiment_id);
    if (!ids.empty()) out = client_->search_runs(ids, "", max_results);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.info.start_time > b.info.start_time; });
  if (static_cast<int>(out.size()) > max_results) out.resize(max_results);
  return out;
}

RunRecord TrackingBrowser::run(const std::string& run_id) const {
  auto unknown = [&] {
    return util::InputError(cat("run '", run_id, "' not found in ", util::redact_url(uri_),
                                "; list runs with `robotrain runs list --tracking-uri ", util::redact_url(uri_), "`"));
  };
  if (std::string token = client_token_of(run_id); !token.empty()) {
    // A run created while the server was unreachable: found by the token it is tagged with
    // once its journal has been replayed.
    for (auto& r : runs("", 100000))
      if (auto t = r.tags.find("robotrain_client_token"); t != r.tags.end() && t->second == token) return r;
    throw util::InputError(cat("run '", run_id, "' is not in ", util::redact_url(uri_),
                               " yet: replay its journal with `robotrain track sync --journal OUTPUT/.robotrain/mlflow-journal.jsonl`"));
  }
  if (root_) {
    FileStore store(*root_);
    auto info = store.find_run(run_id);
    if (!info) throw unknown();
    return store.read_run(*info);
  }
  try {
    return client_->get_run(run_id);
  } catch (const MlflowError& e) {
    if (e.error_code() == "RESOURCE_DOES_NOT_EXIST" || e.status() == 404) throw unknown();
    throw;
  }
}

std::vector<RegisteredModelInfo> TrackingBrowser::models() const {
  if (root_) return LocalRegistry(*root_).list_models();
  return client_->search_registered_models();
}

std::vector<ModelVersionInfo> TrackingBrowser::versions(const std::string& name) const {
  validate_register_name(name, "model name");
  std::vector<ModelVersionInfo> v = root_ ? LocalRegistry(*root_).list_versions(name) : client_->search_model_versions(name);
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) {
    int64_t x = 0, y = 0;
    util::parse_int64(a.version, x);
    util::parse_int64(b.version, y);
    return x < y;
  });
  if (v.empty()) throw util::InputError(cat("model '", name, "' has no versions in ", uri_, "; see `robotrain model list`"));
  return v;
}

void TrackingBrowser::download_model(const std::string& name, const std::string& version, const fs::path& dest) const {
  std::error_code ec;
  if (fs::exists(dest, ec) && !fs::is_empty(dest, ec))
    throw util::InputError(cat(dest.string(), ": already exists and is not empty; choose another --output"));
  auto unknown = [&] {
    return util::InputError(cat("models:/", name, "/", version, " not found in ", util::redact_url(uri_),
                                "; list versions with `robotrain model show ", name, "`"));
  };
  util::StagedDir staged(dest);
  if (root_) {
    LocalRegistry registry(*root_);
    auto versions = registry.list_versions(name);
    if (std::none_of(versions.begin(), versions.end(), [&](auto& v) { return v.version == version; })) throw unknown();
    fs::copy(registry.model_dir(name, version), staged.path(), fs::copy_options::recursive);
  } else {
    std::string source;
    try {
      source = client_->get_model_version_download_uri(name, version);
    } catch (const MlflowError& e) {
      if (e.error_code() == "RESOURCE_DOES_NOT_EXIST" || e.status() == 404) throw unknown();
      throw;
    }
    client_->download_artifacts(source, staged.path());
  }
  if (fs::exists(dest, ec)) fs::remove(dest, ec);  // an empty directory given as --output
  staged.commit(false);
}

Json to_json(const RunRecord& r) {
  Json metrics = Json::object();
  for (auto& [k, m] : r.metrics) metrics[k] = {{"value", m.value}, {"step", m.step}, {"timestamp", m.timestamp}};
  Json params = Json::object(), tags = Json::object();
  for (auto& [k, v] : r.params) params[k] = v;
  for (auto& [k, v] : r.tags) tags[k] = v;
  auto opt = [](int64_t t) { return t < 0 ? Json() : Json(t); };
  return {{"run_id", r.info.run_id},       {"run_name", r.info.run_name},   {"experiment_id", r.info.experiment_id},
          {"status", r.info.status},       {"start_time", opt(r.info.start_time)}, {"end_time", opt(r.info.end_time)},
          {"user_id", r.info.user_id},     {"artifact_uri", r.info.artifact_uri},  {"params", params},
          {"tags", tags},                  {"metrics", metrics}};
}

Json to_json(const ModelVersionInfo& v) {
  Json tags = Json::object();
  for (auto& [k, val] : v.tags) tags[k] = val;
  return {{"name", v.name}, {"version", v.version}, {"uri", cat("models:/", v.name, "/", v.version)}, {"status", v.status},
          {"source", v.source}, {"run_id", v.run_id}, {"creation_timestamp", v.creation_timestamp}, {"tags", tags}};
}

}  // namespace robotrain::track
