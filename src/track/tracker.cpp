#include "track/tracker.h"

#include "track/file_tracker.h"
#include "track/remote_tracker.h"
#include "track/system_metrics.h"
#include "track/tracking_uri.h"
#include "util/error.h"
#include "util/process.h"

namespace robotrain::track {

namespace {

class NullTracker : public Tracker {
 public:
  std::string run_id() const override { return ""; }
  std::string experiment_id() const override { return ""; }
  void log_params(const std::map<std::string, std::string>&) override {}
  void set_tags(const std::map<std::string, std::string>&) override {}
  void log_metrics(const std::map<std::string, double>&, int64_t, int64_t) override {}
  void log_artifact(const std::filesystem::path&, const std::string&) override {}
  void finish(RunStatus) override {}
};

}  // namespace

std::unique_ptr<Tracker> open_tracker(const TrackerOptions& options) {
  if (options.disabled) return std::make_unique<NullTracker>();
  TrackingTarget target = parse_tracking_uri(options.tracking_uri);
  std::unique_ptr<Tracker> tracker;
  if (target.kind == TrackingKind::File) {
    tracker = std::make_unique<FileTracker>(target.root, options);
  } else {
    TrackerOptions remote = options;
    // Inside an Azure ML job (or any MLflow-launched process) the run already exists.
    if (remote.run_id.empty()) remote.run_id = util::get_env_or("MLFLOW_RUN_ID", "");
    tracker = open_remote_tracker(target, remote);
  }
  if (options.system_metrics) tracker = with_system_metrics(std::move(tracker), options.system_metrics_interval_s);
  return tracker;
}

}  // namespace robotrain::track
