#include "track/local_registry.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "track/file_store.h"
#include "track/model_uri.h"
#include "track/run_context.h"
#include "track/validation.h"
#include "track/yaml_meta.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;

LocalRegistry::LocalRegistry(fs::path store_root) : models_(fs::absolute(store_root).lexically_normal() / "models") {}

namespace {

ModelVersionInfo read_version(const fs::path& dir) {
  YAML::Node n = YAML::Load(util::read_file(dir / "meta.yaml"));
  ModelVersionInfo v;
  v.name = n["name"] ? n["name"].as<std::string>() : "";
  v.version = n["version"] ? n["version"].as<std::string>() : "";
  v.source = n["source"] && !n["source"].IsNull() ? n["source"].as<std::string>() : "";
  v.run_id = n["run_id"] && !n["run_id"].IsNull() ? n["run_id"].as<std::string>() : "";
  v.status = n["status"] && !n["status"].IsNull() ? n["status"].as<std::string>() : "READY";
  v.creation_timestamp = n["creation_timestamp"] ? n["creation_timestamp"].as<int64_t>() : -1;
  if (n["current_stage"] && !n["current_stage"].IsNull() && n["current_stage"].as<std::string>() == "Deleted_Internal")
    v.status = "DELETED";
  v.tags = read_key_files(dir / "tags");
  return v;
}

int64_t version_number(const std::string& v) {
  int64_t n = 0;
  util::parse_int64(v, n);
  return n;
}

std::string registered_model_yaml(const std::string& name, int64_t created, int64_t updated, const std::string& description) {
  return emit_flat_yaml({yaml_int("creation_timestamp", created),
                         description.empty() ? yaml_null("description") : yaml_str("description", description),
                         yaml_int("last_updated_timestamp", updated), yaml_str("name", name)});
}

}  // namespace

std::vector<ModelVersionInfo> LocalRegistry::list_versions(const std::string& name) const {
  validate_register_name(name, "model name");
  std::vector<ModelVersionInfo> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(models_ / name, ec)) {
    std::string d = e.path().filename().string();
    if (!e.is_directory() || !util::starts_with(d, "version-") || !fs::exists(e.path() / "meta.yaml")) continue;
    auto v = read_version(e.path());
    if (v.status != "DELETED") out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return version_number(a.version) < version_number(b.version); });
  return out;
}

std::vector<RegisteredModelInfo> LocalRegistry::list_models() const {
  std::vector<RegisteredModelInfo> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(models_, ec)) {
    if (!e.is_directory() || !fs::exists(e.path() / "meta.yaml")) continue;
    YAML::Node n = YAML::Load(util::read_file(e.path() / "meta.yaml"));
    RegisteredModelInfo m;
    m.name = n["name"].as<std::string>();
    m.creation_timestamp = n["creation_timestamp"] ? n["creation_timestamp"].as<int64_t>() : -1;
    m.last_updated_timestamp = n["last_updated_timestamp"] ? n["last_updated_timestamp"].as<int64_t>() : -1;
    m.description = n["description"] && !n["description"].IsNull() ? n["description"].as<std::string>() : "";
    auto versions = list_versions(m.name);
    if (!versions.empty()) m.latest_versions.push_back(versions.back());
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

ModelVersionInfo LocalRegistry::get_version(const std::string& name, const std::string& version) const {
  validate_register_name(name, "model name");
  fs::path dir = models_ / name / ("version-" + version);
  if (!is_canonical_version(version) || !fs::exists(dir / "meta.yaml"))
    throw util::RuntimeError(cat("model ", name, " version ", version, " not found in ", models_.string(),
                                 "; list versions with `robotrain model show ", name, "`"));
  return read_version(dir);
}

fs::path LocalRegistry::model_dir(const std::string& name, const std::string& version) const {
  auto v = get_version(name, version);
  fs::path p = file_uri_to_path(v.source);
  if (!fs::exists(p))
    throw util::RuntimeError(cat("model ", name, " version ", version, ": source ", v.source, " no longer exists"));
  return p;
}

ModelVersionInfo LocalRegistry::register_version(const std::string& name, const fs::path& model_dir,
                                                 const std::string& run_id,
                                                 const std::map<std::string, std::string>& tags,
                                                 const std::string& description) {
  validate_register_name(name);
  for (auto& [k, v] : tags) validate_key("tag", k);
  fs::path mdir = models_ / name;
  fs::create_directories(mdir);
  int64_t now = util::now_ms();
  if (!fs::exists(mdir / "meta.yaml")) util::atomic_write_file(mdir / "meta.yaml", registered_model_yaml(name, now, now, ""));
  // Versions are claimed by renaming a staged directory onto version-<n>; losing a race to
  // another process means trying the next number (MLflow retries 3 times as well).
  for (int attempt = 0; attempt < 5; ++attempt) {
    int64_t next = 1;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(mdir, ec)) {
      std::string d = e.path().filename().string();
      if (util::starts_with(d, "version-")) next = std::max(next, version_number(d.substr(8)) + 1);
    }
    fs::path final_dir = mdir / cat("version-", next);
    util::StagedDir staged(final_dir);
    fs::copy(model_dir, staged.path() / "model", fs::copy_options::recursive);
    std::string source = path_to_file_uri(final_dir / "model");
    util::atomic_write_file(
        staged.path() / "meta.yaml",
        emit_flat_yaml({yaml_empty_list("aliases"), yaml_int("creation_timestamp", now), yaml_str("current_stage", "None"),
                        description.empty() ? yaml_null("description") : yaml_str("description", description),
                        yaml_int("last_updated_timestamp", now), yaml_str("name", name),
                        run_id.empty() ? yaml_null("run_id") : yaml_str("run_id", run_id), yaml_null("run_link"),
                        yaml_str("source", source), yaml_str("status", "READY"), yaml_null("status_message"),
                        yaml_str("storage_location", source), yaml_str("user_id", current_user()),
                        yaml_int("version", next)}));
    for (auto& [k, v] : tags) util::atomic_write_file(staged.path() / "tags" / k, v);
    try {
      staged.commit(false);
    } catch (const util::Error&) {
      if (fs::exists(final_dir)) continue;  // someone else took this number
      throw;
    }
    YAML::Node meta = YAML::Load(util::read_file(mdir / "meta.yaml"));
    util::atomic_write_file(mdir / "meta.yaml",
                            registered_model_yaml(name, meta["creation_timestamp"].as<int64_t>(), now,
                                                  meta["description"] && !meta["description"].IsNull()
                                                      ? meta["description"].as<std::string>()
                                                      : ""));
    return read_version(final_dir);
  }
  throw util::RuntimeError(cat("could not allocate a version for model ", name, " in ", mdir.string()));
}

}  // namespace robotrain::track
