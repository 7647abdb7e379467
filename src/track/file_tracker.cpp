#include "track/file_tracker.h"

#include "track/run_context.h"
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

FileTracker::FileTracker(fs::path root, const TrackerOptions& options) : store_(std::move(root)) {
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

void FileTracker::log_params(const std::map<std::string, std::string>& params) {
  std::lock_guard lock(mutex_);
  for (auto& [k, v] : params) store_.log_param(run_, k, v);
}

void FileTracker::set_tags(const std::map<std::string, std::string>& tags) {
  std::lock_guard lock(mutex_);
  for (auto& [k, v] : tags) store_.set_tag(run_, k, v);
}

void FileTracker::log_metrics(const std::map<std::string, double>& metrics, int64_t step, int64_t timestamp_ms) {
  std::lock_guard lock(mutex_);
  int64_t ts = timestamp_ms ? timestamp_ms : util::now_ms();
  for (auto& [k, v] : metrics) store_.log_metric(run_, {k, v, ts, step});
}

void FileTracker::log_artifact(const fs::path& local, const std::string& artifact_path) {
  std::lock_guard lock(mutex_);
  copy_artifact(local, store_.artifacts_dir(run_), artifact_path);
}

void FileTracker::finish(RunStatus status) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  run_ = store_.update_run(run_.run_id, run_status_name(status), util::now_ms());
}

}  // namespace robotrain::track
