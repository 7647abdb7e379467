#include "track/browse.h"

#include <algorithm>

#include "util/azure_credential.h"
#include "track/file_store.h"
#include "track/local_registry.h"
#include "track/model_uri.h"
#include "track/tracking_uri.h"
#include "util/error.h"
#include "util/fs.h"
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
    if (target.kind == TrackingKind::AzureMl && !token) token = util::azure_token_provider(util::kManagementResource);
    client_.emplace(target.base_url, token);
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
  if (root_) {
    FileStore store(*root_);
    return store.read_run(store.get_run(run_id));
  }
  return client_->get_run(run_id);
}

std::vector<RegisteredModelInfo> TrackingBrowser::models() const {
  if (root_) return LocalRegistry(*root_).list_models();
  return client_->search_registered_models();
}

std::vector<ModelVersionInfo> TrackingBrowser::versions(const std::string& name) const {
  validate_register_name(name, "model name");
  std::vector<ModelVersionInfo> v = root_ ? LocalRegistry(*root_).list_versions(name) : client_->search_model_versions(name);
  if (v.empty()) throw util::InputError(cat("model '", name, "' has no versions in ", uri_, "; see `robotrain model list`"));
  return v;
}

void TrackingBrowser::download_model(const std::string& name, const std::string& version, const fs::path& dest) const {
  std::error_code ec;
  if (fs::exists(dest, ec) && !fs::is_empty(dest, ec))
    throw util::InputError(cat(dest.string(), ": already exists and is not empty; choose another --output"));
  util::StagedDir staged(dest);
  if (root_) {
    fs::copy(LocalRegistry(*root_).model_dir(name, version), staged.path(), fs::copy_options::recursive);
  } else {
    client_->download_artifacts(client_->get_model_version_download_uri(name, version), staged.path());
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
