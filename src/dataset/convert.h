#pragma once
// `dataset convert`: a v2.1 (or v2.0) dataset rewritten as v3.0, as LeRobot's
// convert_dataset_v21_to_v30 does: many episodes per data file, meta/episodes parquet with
// per-episode stats, tasks.parquet, info.json with v3.0 templates and "fps" on non-video
// features. Episode videos are copied one file per episode (from_timestamp 0) rather than
// concatenated; readers handle both.
#include <filesystem>

namespace robotrain::dataset {

// InputError when `source` is not a v2.x dataset or `output` exists (without overwrite).
void convert_v21_to_v30(const std::filesystem::path& source, const std::filesystem::path& output, bool overwrite = false);

}  // namespace robotrain::dataset
