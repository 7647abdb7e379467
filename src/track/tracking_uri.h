#pragma once
// The three tracking destinations and how a --tracking-uri / MLFLOW_TRACKING_URI string maps
// onto them. Parsing is strict so that a typo fails before training starts, not at the end.
#include <filesystem>
#include <string>

namespace robotrain::track {

enum class TrackingKind { File, Http, AzureMl };

struct TrackingTarget {
  TrackingKind kind = TrackingKind::File;
  std::string uri;              // as given (after defaulting)
  std::filesystem::path root;   // File: the store directory (absolute)
  std::string base_url;         // Http/AzureMl: https://host/... without trailing "/"
};

// "" resolves to $MLFLOW_TRACKING_URI, else "./mlruns" (MLflow's own default).
std::string default_tracking_uri(const std::string& given = "");
// Throws util::InputError for unsupported schemes and malformed azureml:// URIs.
TrackingTarget parse_tracking_uri(const std::string& uri);

}  // namespace robotrain::track
