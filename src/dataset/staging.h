#pragma once
// Datasets are written under a hidden staging sibling (".<name>.tmp-<pid>-<n>", see
// util::StagedDir) and renamed into place. A run killed by a signal cannot remove its staging
// directory, so the next run for the same output removes those of processes that are gone.
#include <filesystem>

namespace robotrain::dataset {

// Removes "<dir>/.<name>.tmp-<pid>-<n>" siblings of `output` whose pid no longer runs; returns
// how many were removed. Failures to remove are ignored (the next run tries again).
int remove_stale_staging(const std::filesystem::path& output);

}  // namespace robotrain::dataset
