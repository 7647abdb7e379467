#pragma once
// Training data named by its source (--dataset.repo_id without a root, --blob-url,
// --dataset-asset), fetched (merged when several) the way `robotrain dataset fetch` does it.
// In a data-parallel job local rank 0 fetches and the other processes on the machine wait for
// its marker file, so N workers never download (or merge) the same dataset at once.
#include <filesystem>

#include "storage/dataset_source.h"

namespace robotrain::train {

class TrainingDataFetch {
 public:
  // `timeout_s`: how long a waiting worker gives local rank 0 (--dist-timeout); RuntimeError
  // after it.
  TrainingDataFetch(const storage::DatasetSources& sources, const storage::FetchOptions& options, double timeout_s);
  // Local rank 0 removes its marker: by the end of training every worker has long read it.
  ~TrainingDataFetch();
  TrainingDataFetch(const TrainingDataFetch&) = delete;
  TrainingDataFetch& operator=(const TrainingDataFetch&) = delete;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
  std::filesystem::path marker_written_;
};

}  // namespace robotrain::train
