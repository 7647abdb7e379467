#pragma once
// meta/episodes/chunk-000/file-000.parquet as LeRobot v3.0 writes it: one row per episode with
// its tasks, length, data and video file positions and per-episode stats. The dataset writer
// and dataset merge both produce it from these records.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dataset/lerobot_dataset.h"
#include "dataset/parquet/parquet.h"

namespace robotrain::dataset {

// The per-episode stats LeRobot computes, in its column order.
inline constexpr const char* kEpisodeStatNames[] = {"min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"};

struct EpisodeRecord {
  int64_t index = 0, length = 0, data_chunk = 0, data_file = 0, from = 0, to = 0;
  std::vector<std::string> tasks;
  struct VideoSpan {
    int64_t chunk = 0, file = 0;
    double from = 0, to = 0;  // seconds inside the video file
  };
  std::map<std::string, VideoSpan> videos;  // camera key -> where its frames are
  DatasetStats stats;
};

// stat_columns: (feature, stat) pairs, each a list column "stats/<feature>/<stat>" (count as
// int64); an episode without that stat gets an empty list. Every episode must have every
// camera in video_keys.
parquet::Table episodes_table(const std::vector<EpisodeRecord>& episodes, const std::vector<std::string>& video_keys,
                              const std::vector<std::pair<std::string, std::string>>& stat_columns);

// The value at a flat index of a numeric column (int, bool, float or double) as a double;
// RuntimeError naming the column otherwise.
double numeric_value(const parquet::Column& column, int64_t index);

}  // namespace robotrain::dataset
