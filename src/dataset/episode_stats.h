#pragma once
// Per-episode statistics as stored by LeRobot: v3.0 in meta/episodes/*.parquet columns
// "stats/<feature>/<stat>", v2.1 in meta/episodes_stats.jsonl.
#include <vector>

#include "dataset/lerobot_dataset.h"

namespace robotrain::dataset {

// One entry per meta.episodes element (same order); empty where the dataset has none.
std::vector<DatasetStats> load_episode_stats(const DatasetMeta& meta);

}  // namespace robotrain::dataset
