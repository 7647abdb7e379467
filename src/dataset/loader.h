#pragma once
// Batches for training: episode-aware seeded sampling, a pool of worker threads that
// prefetches, and the time each step waited for data.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataset/array.h"
#include "dataset/lerobot_dataset.h"

namespace robotrain::dataset {

struct SamplerOptions {
  uint64_t seed = 1000;
  bool shuffle = true;
  int drop_n_last_frames = 0;  // anchors never drawn from the last N frames of an episode
  int rank = 0;                // distributed: this rank's disjoint shard per epoch
  int world_size = 1;
};

// Yields anchor indices epoch after epoch; epoch e uses permutation seeded by (seed, e).
class EpisodeAwareSampler {
 public:
  EpisodeAwareSampler(const LeRobotDataset& dataset, SamplerOptions options);
  int64_t size() const;       // anchors per epoch for this rank
  int64_t next();             // wraps to the next epoch
  int64_t epoch() const;
  int64_t position() const;   // within the epoch (for resume)
  void seek(int64_t epoch, int64_t position);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Stacked samples: each array gets a leading batch dimension.
struct Batch {
  std::map<std::string, Array> arrays;
  std::vector<std::string> tasks;
  int64_t size = 0;
  double wait_s = 0;  // how long next() blocked for this batch
};

struct LoaderOptions {
  int batch_size = 8;
  int num_workers = 4;
  int prefetch_batches = 4;
  bool drop_last = true;
};

class DataLoader {
 public:
  DataLoader(const LeRobotDataset& dataset, SamplerOptions sampler, LoaderOptions options);
  ~DataLoader();
  Batch next();  // endless, epoch after epoch
  int64_t batches_per_epoch() const;
  int64_t samples_seen() const;
  // Continue a resumed run exactly where it left off.
  void seek(int64_t samples_consumed);
  // Optional: hand a consumed batch back so its buffers are reused for later batches instead
  // of fresh memory that must be page-faulted in (tens of MB per batch with float cameras).
  void recycle(Batch&& batch);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace robotrain::dataset
