#pragma once
// `robotrain train --cuda_graph true`: the whole training step (forward under autocast,
// backward, gradient clipping, fused optimizer update) captured once as a CUDA graph and then
// replayed, which removes the per-kernel launch overhead that dominates small-batch steps on a
// GPU. Needs fixed shapes (the loader drops the last partial batch) and no host decision
// inside the step: fp16 dynamic loss scaling (which skips steps) and data-parallel gradient
// reduction are rejected, bf16 autocast and fp32 are fine.
//
// The steps before the capture run eagerly on a side stream (kernels pick their algorithms,
// the optimizer creates its state, as torch.cuda.graphs' recipe requires); each later step
// copies its batch into the captured input tensors and replays. Without CUDA in the build or
// the machine, constructing one is an InputError.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "policy/policy.h"
#include "train/optim.h"

namespace robotrain::train {

struct CudaGraphOptions {
  int warmup_steps = 3;  // eager steps before the capture
  bool autocast = false;
  c10::ScalarType autocast_dtype = torch::kBFloat16;
  double grad_clip_norm = 10.0;
};

// What a step leaves on the device (no host synchronisation until these are read).
struct GraphStepResult {
  torch::Tensor loss;
  torch::Tensor grad_norm;
  std::map<std::string, torch::Tensor> parts;
};

class CudaGraphStep {
 public:
  CudaGraphStep(policy::Policy& policy, Optimizer& optimizer, CudaGraphOptions options);
  ~CudaGraphStep();
  CudaGraphStep(const CudaGraphStep&) = delete;
  CudaGraphStep& operator=(const CudaGraphStep&) = delete;

  // One training step on `batch` (tensors on the policy's CUDA device, the same keys and
  // shapes every step; RuntimeError naming the key otherwise).
  GraphStepResult step(const policy::TensorMap& batch);
  bool captured() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace robotrain::train
