#include "track/remote_tracker.h"

#include "util/error.h"

namespace robotrain::track {

std::unique_ptr<Tracker> open_remote_tracker(const TrackingTarget& target, const TrackerOptions&) {
  throw util::RuntimeError("remote MLflow tracking is not available yet in this build (" + target.uri + ")");
}

}  // namespace robotrain::track
