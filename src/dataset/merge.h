#pragma once
// Merging LeRobot datasets (LeRobot's aggregate / `lerobot-edit-dataset --operation.type merge`)
// into one v3.0 dataset. Sources may be v2.1 or v3.0; they must agree on fps, robot_type and
// the whole features dict (dtype, shape, names, video info).
//
// What the output holds: tasks unioned by string in order of first appearance; episodes in
// source order renumbered 0..N-1; every data row copied with episode_index, index and
// task_index remapped (frame_index and timestamp unchanged); data files rolled over at
// data_files_size_in_mb; each source video file copied to the next free file index of its
// camera (from/to_timestamp unchanged, so v2.1 episode videos become one file each - valid
// v3.0, just not concatenated); per-episode stats carried over; stats.json aggregated
// (count-weighted mean, parallel variance, global min/max, quantiles as the count-weighted
// mean of the sources' quantiles - an approximation, as in LeRobot).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dataset/lerobot_dataset.h"

namespace robotrain::dataset {

struct MergeOptions {
  bool overwrite = false;           // replace an existing output directory
  bool cast_bool_to_float = true;   // bool features become float32 (the seed system does this)
  std::string repo_id;              // "" = derived from the output directory name
  bool add_feature_fps = false;     // write "fps" on every non-video feature (LeRobot's v2.1 converter)
  bool progress = true;
};

struct MergeReport {
  int64_t episodes = 0, frames = 0, tasks = 0;
  std::string repo_id;
  std::filesystem::path output;
};

// InputError (before any file is written) when a source is not a dataset, misses data or
// video files, differs from the first source (the message names the first differing field,
// both values and both sources), or when `output` exists without overwrite or is a source.
MergeReport merge_datasets(const std::vector<std::filesystem::path>& sources, const std::filesystem::path& output,
                           const MergeOptions& options);

// The compatibility check alone: InputError naming the first difference between metas[0]
// and another source ("fps", "robot_type", "features.<key>.<field>...").
void check_mergeable(const std::vector<DatasetMeta>& metas);

}  // namespace robotrain::dataset
