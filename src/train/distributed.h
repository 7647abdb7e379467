#pragma once
// Data-parallel training over LibTorch's c10d: a process group (Gloo on CPU, NCCL on CUDA
// when this build has it) joined through a TCPStore, and what torch's
// DistributedDataParallel does that the C++ API lacks: the same initial weights everywhere
// (broadcast from rank 0) and gradients averaged over the ranks in ~25 MB buckets, each
// all-reduced asynchronously as soon as the backward pass has produced all of its gradients,
// so communication overlaps the rest of the backward pass.
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <vector>

#include "train/dist_env.h"

namespace robotrain::train {

class DistContext {
 public:
  // Blocks until all world_size ranks have joined (or `timeout`); the timeout also bounds
  // every later collective, so a vanished peer ends the job instead of hanging it.
  DistContext(const DistEnv& env, const torch::Device& device, std::chrono::milliseconds timeout);
  ~DistContext();
  DistContext(const DistContext&) = delete;
  DistContext& operator=(const DistContext&) = delete;

  int rank() const;
  int world_size() const;
  const char* backend() const;
  // Rank 0's values into every rank's tensors (in place), flattened per dtype: one message each.
  void broadcast(const std::vector<torch::Tensor>& tensors);
  // Sums over the ranks, in place.
  void all_reduce_sum(torch::Tensor& tensor);
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

class GradReducer {
 public:
  GradReducer(DistContext& ctx, const std::vector<torch::Tensor>& params, size_t bucket_bytes = 25u << 20);
  ~GradReducer();
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  // Call before backward(): gradients produced from now on are collected.
  void prepare();
  // Call after backward(): launches what is left, waits, and leaves every parameter's .grad
  // holding the mean over the ranks. A parameter no rank produced a gradient for keeps an
  // undefined .grad (as torch's DDP with find_unused_parameters). `scalars` are summed
  // over the ranks in the same round trip (loss, stop flags) and returned.
  std::vector<double> finish(const std::vector<double>& scalars = {});
  size_t num_buckets() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace robotrain::train
