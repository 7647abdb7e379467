#include "track/file_tracker.h"

#include <mutex>

#include "track/mlflow_client.h"
#include "track/run_context.h"
#include "track/validation.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;

std::string run_status_name(RunStatus status) {
  switch (status) {
    case RunStatus::Finished: return "FINISHED";
    case RunStatus::Failed: return "FAILED";
    case RunStatus::Killed: return "KILLED";
  }
  return "FINISHED";
}

void copy_artifact(const fs::path& local, const fs::path& artifacts_root, const std::string& artifact_path) {
  fs::path rel = fs::path(artifact_path).lexically_normal();
  if (rel.is_absolute() || util::starts_with(rel.generic_string(), ".."))
    throw util::InputError(cat("artifact path '", artifact_path, "' must be relative and stay inside the run's artifacts"));
  if (rel == ".") rel.clear();
  std::error_code ec;
  if (!fs::exists(local, ec)) throw util::InputError(cat(local.string(), ": artifact to log does not exist"));
  fs::path dest = artifacts_root / rel;
  fs::create_directories(dest);
  if (fs::is_directory(local)) {
    fs::copy(local, dest, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  } else {
    fs::path target = dest / local.filename();
    fs::path tmp = util::temp_sibling(target);
    fs::copy_file(local, tmp, fs::copy_options::overwrite_existing);
    fs::rename(tmp, target);
  }
}

FileTracker::FileTracker(fs::path root, const TrackerOptions& options)
    : store_(std::move(root)),
      experiment_name_(options.experiment_name),
      client_token_(util::random_uuid_hex()),
      journal_(options.journal_path.empty() ? default_journal_path() : options.journal_path) {
  if (!options.run_id.empty()) {
    auto found = store_.find_run(options.run_id);
    if (!found)
      throw util::InputError(cat("run ", options.run_id, " not found in ", store_.root().string(),
                                 "; drop the run id to start a new run"));
    run_ = store_.update_run(options.run_id, "RUNNING", -1);
    for (auto& [k, v] : options.tags) store_.set_tag(run_, k, v);
    return;
  }
  std::string experiment = store_.get_or_create_experiment(options.experiment_name);
  run_ = store_.create_run(experiment, options.run_name, current_user(), util::now_ms(),
                           default_run_tags(options.run_name, options.tags));
  util::log_info("tracking run ", run_.run_id, " (", run_.run_name, ") in ", store_.root().string(), " experiment ",
                 experiment);
}

void FileTracker::write(const std::function<void()>& to_store, const util::Json& entry) {
  if (!journaling_) {
    try {
      to_store();
      return;
    } catch (const util::InputError&) {
      throw;
    } catch (const std::exception& e) {
      start_journaling(e.what());
    }
  }
  journal(entry);
}

void FileTracker::start_journaling(const std::string& why) {
  journaling_ = true;
  util::log_warn("tracking store ", store_.root().string(), " refused a write (", why, "); journaling run ", run_.run_id,
                 " to ", journal_.path().string(), " - once there is room, replay with `robotrain track sync --journal ",
                 journal_.path().string(), "`");
}

void FileTracker::journal(const util::Json& entry) {
  util::Json e = entry;
  e["client_token"] = client_token_;
  util::Json header{{"op", "run"}, {"tracking_uri", path_to_file_uri(store_.root())}, {"experiment_name", experiment_name_},
                    {"run_name", run_.run_name}, {"start_time", run_.start_time}, {"tags", util::Json::object()},
                    {"client_token", client_token_}, {"run_id", run_.run_id}};
  try {
    journal_.append(e, header);
  } catch (const std::exception& ex) {
    if (!journal_failed_)
      util::log_error("tracking calls of run ", run_.run_id, " are being lost: cannot journal them either (", ex.what(), ")");
    journal_failed_ = true;
  }
}

void FileTracker::write_key_values(const std::string& kind, const std::map<std::string, std::string>& values,
                                   StoreKeyValue store_one) {
  std::lock_guard lock(mutex_);
  util::Json j = util::Json::object();
  for (auto& [k, v] : values) {
    validate_key(kind, k);
    j[k] = v;
  }
  util::Json entry{{"op", "log_batch"}, {"metrics", util::Json::array()}, {"params", util::Json::object()}, {"tags", util::Json::object()}};
  entry[kind + "s"] = std::move(j);
  write([&] { for (auto& [k, v] : values) (store_.*store_one)(run_, k, v); }, entry);
}

void FileTracker::log_params(const std::map<std::string, std::string>& params) {
  write_key_values("param", params, &FileStore::log_param);
}

void FileTracker::set_tags(const std::map<std::string, std::string>& tags) { write_key_values("tag", tags, &FileStore::set_tag); }

void FileTracker::log_metrics(const std::map<std::string, double>& metrics, int64_t step, int64_t timestamp_ms) {
  std::lock_guard lock(mutex_);
  int64_t ts = timestamp_ms ? timestamp_ms : util::now_ms();
  // Point by point: a failure part-way journals only the points that did not land.
  std::vector<MetricPoint> points;
  for (auto& [k, v] : metrics) {
    validate_key("metric", k);
    points.push_back({k, v, ts, step});
  }
  size_t written = 0;
  auto rest = [&] {
    util::Json a = util::Json::array();
    for (size_t i = written; i < points.size(); ++i) a.push_back(metric_to_json(points[i]));
    return util::Json{{"op", "log_batch"}, {"metrics", a}, {"params", util::Json::object()}, {"tags", util::Json::object()}};
  };
  if (journaling_) return journal(rest());
  try {
    for (; written < points.size(); ++written) store_.log_metric(run_, points[written]);
  } catch (const util::InputError&) {
    throw;
  } catch (const std::exception& e) {
    start_journaling(e.what());
    journal(rest());
  }
}

void FileTracker::log_artifact(const fs::path& local, const std::string& artifact_path) {
  std::lock_guard lock(mutex_);
  write([&] { copy_artifact(local, store_.artifacts_dir(run_), artifact_path); },
        {{"op", "artifact"}, {"local", fs::absolute(local).string()}, {"path", artifact_path}});
}

void FileTracker::finish(RunStatus status) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  const std::string name = run_status_name(status);
  const int64_t end = util::now_ms();
  try {
    run_ = store_.update_run(run_.run_id, name, end);
  } catch (const std::exception& e) {
    util::log_error("tracking store ", store_.root().string(), ": cannot mark run ", run_.run_id, " ", name, " (", e.what(), ")");
    journaling_ = true;
    journal({{"op", "update_run"}, {"status", name}, {"end_time", end}});
  }
  if (!journaling_ || !journal_.exists()) return;
  try {
    auto r = sync_journal(journal_.path(), {});
    util::log_info("tracking store writable again: replayed ", r.replayed, " journaled calls into run ", run_.run_id);
  } catch (const std::exception& e) {
    util::log_warn("tracking calls of run ", run_.run_id, " remain journaled in ", journal_.path().string(), " (", e.what(),
                   "); once there is room, replay with `robotrain track sync --journal ", journal_.path().string(), "`");
  }
}

}  // namespace robotrain::track
