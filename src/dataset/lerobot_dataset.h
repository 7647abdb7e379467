#pragma once
// LeRobotDataset v3.0 / v2.1 read access (torch-free). Contract shared by loader, train,
// eval, storage (merge/convert). Implementation: dataset/metadata.*, dataset/lerobot_dataset.*.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataset/array.h"
#include "util/json.h"

namespace robotrain::dataset {

struct Feature {
  std::string key;
  std::string dtype;             // "float32", "int64", "bool", "video", "image", "string", ...
  std::vector<int64_t> shape;    // as in info.json (cameras: [H, W, C])
  util::Json names;              // flat list, nested list, dict or null, as found
  util::Json info;               // video info block when present
  bool is_visual() const { return dtype == "video" || dtype == "image"; }
  bool is_video() const { return dtype == "video"; }
};

// Per feature statistics; each stat keeps its shape (cameras: [3,1,1]).
struct FeatureStats {
  std::map<std::string, std::vector<double>> values;  // "mean", "std", "min", "max", "count", "q01", ...
  std::map<std::string, std::vector<int64_t>> shapes;
};
using DatasetStats = std::map<std::string, FeatureStats>;

struct VideoSegment {
  std::filesystem::path path;  // absolute path of the mp4
  double from_timestamp = 0;   // seconds inside the (concatenated) file; 0 for v2.1
  double to_timestamp = 0;
  bool exists = true;
};

struct Episode {
  int64_t index = 0;
  int64_t length = 0;
  int64_t from_index = 0;  // global frame index, inclusive
  int64_t to_index = 0;    // exclusive
  std::vector<std::string> tasks;
  std::filesystem::path data_path;
  bool data_exists = true;
  std::map<std::string, VideoSegment> videos;  // video key -> segment
};

struct DatasetMeta {
  std::filesystem::path root;
  std::string codebase_version;  // "v3.0" or "v2.1"
  std::string robot_type;
  int fps = 0;
  int64_t total_episodes = 0;
  int64_t total_frames = 0;
  std::vector<Feature> features;  // info.json order
  std::vector<std::string> tasks; // by task_index
  std::vector<Episode> episodes;  // by episode_index
  DatasetStats stats;
  util::Json info;                // the raw info.json
  std::vector<std::string> warnings;  // quirks accepted, missing optional files, ...

  const Feature* feature(const std::string& key) const;
  std::vector<std::string> video_keys() const;
  std::vector<std::string> camera_keys() const;  // video + image
};

// Reads meta/ (info.json, episodes, tasks, stats) for v3.0 and v2.1. InputError for a path
// that is not a dataset; RuntimeError for a corrupt one.
DatasetMeta load_metadata(const std::filesystem::path& root);

struct DatasetOptions {
  std::optional<std::vector<int64_t>> episodes;  // subset (LeRobot's --dataset.episodes)
  std::map<std::string, std::vector<int>> delta_indices;  // key -> frame offsets
  double tolerance_s = 1e-4;
  bool strict = false;           // missing video files are fatal instead of skipping episodes
  bool images_as_uint8 = false;  // cameras as uint8 CHW instead of float32 [0,1]
};

// One sample: every feature (cameras CHW), "<key>_is_pad" (Bool, [n_offsets]) for keys with
// delta indices (those keys gain a leading time dimension), plus "index", "episode_index",
// "frame_index", "task_index" (Int64 scalars) and the task string.
struct Sample {
  std::map<std::string, Array> arrays;
  std::string task;
};

class LeRobotDataset {
 public:
  LeRobotDataset(const std::filesystem::path& root, DatasetOptions options = {});
  ~LeRobotDataset();
  LeRobotDataset(LeRobotDataset&&) noexcept;

  const DatasetMeta& meta() const;
  const DatasetOptions& options() const;
  // Global frame indices usable as anchors (selected episodes minus skipped ones).
  int64_t num_frames() const;
  const std::vector<int64_t>& episodes_used() const;
  const std::vector<int64_t>& episodes_skipped() const;  // missing video, reported
  // Thread-safe.
  Sample get(int64_t global_index) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace robotrain::dataset
