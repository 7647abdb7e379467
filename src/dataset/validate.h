#pragma once
// `dataset info` and `dataset validate`: a summary of a dataset, and a check of every
// invariant LeRobot relies on, listing each violation found.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dataset/lerobot_dataset.h"
#include "util/json.h"

namespace robotrain::dataset {

// Episodes, frames, fps, features (shape, role, codec), sizes on disk, warnings, missing files.
util::Json dataset_summary(const DatasetMeta& meta);
// The human-readable form of dataset_summary.
std::string format_summary(const util::Json& summary);

struct Violation {
  std::string where;  // "episode 3", "data/chunk-000/file-000.parquet row 17", ...
  std::string what;
};

struct ValidationReport {
  std::vector<Violation> violations;
  std::vector<std::string> warnings;
  int64_t episodes = 0, frames_checked = 0, videos_checked = 0;
  bool ok() const { return violations.empty(); }
};

struct ValidateOptions {
  bool progress = false;
  // Decode every video frame and every image instead of the first, middle and last frames of
  // each video file and image column (headers and CRCs of every image are checked either way).
  bool deep = false;
};

// Counts in info.json, contiguous global index, episode ranges and lengths, task lists,
// frame_index sequences, timestamps == frame_index / fps (within 1e-4 s), task references,
// every feature column against its dtype and shape, images against their declared size,
// normalisation stats of state/action features, video files present, their durations, fps
// and resolution, and a decode probe. What load_metadata refuses (wrong JSON types, paths
// leaving the root, sizes the files cannot hold) never gets here: it is an InputError.
ValidationReport validate_dataset(const DatasetMeta& meta, const ValidateOptions& options);
ValidationReport validate_dataset(const DatasetMeta& meta, bool progress = false);
util::Json report_to_json(const ValidationReport& r);

}  // namespace robotrain::dataset
