#pragma once
// Trackers backed by an MLflow REST server (http(s):// and azureml://).
#include <memory>

#include "track/tracker.h"
#include "track/tracking_uri.h"

namespace robotrain::track {

std::unique_ptr<Tracker> open_remote_tracker(const TrackingTarget& target, const TrackerOptions& options);

}  // namespace robotrain::track
