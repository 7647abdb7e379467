#include "train/cuda_graph.h"

#include <ATen/autocast_mode.h>

#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

#if defined(ROBOTRAIN_WITH_CUDA)
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace robotrain::train {

namespace {

// Autocast for the captured forward: the cast cache must be off, or the weights' casts made at
// capture time would be replayed from the cache instead of recomputed from the updated weights.
struct CaptureAutocast {
  bool on;
  at::DeviceType type = at::kCUDA;
  bool cache_was;
  CaptureAutocast(bool enable, c10::ScalarType dtype) : on(enable), cache_was(at::autocast::is_autocast_cache_enabled()) {
    if (!on) return;
    at::autocast::set_autocast_dtype(type, dtype);
    at::autocast::set_autocast_enabled(type, true);
    at::autocast::set_autocast_cache_enabled(false);
  }
  ~CaptureAutocast() {
    if (!on) return;
    at::autocast::set_autocast_enabled(type, false);
    at::autocast::set_autocast_cache_enabled(cache_was);
    at::autocast::clear_cache();
  }
};

}  // namespace

#if defined(ROBOTRAIN_WITH_CUDA)

namespace {

// `waiter` runs its later work only after what `on` has queued so far.
void wait_for(const c10::cuda::CUDAStream& waiter, const c10::cuda::CUDAStream& on) {
  at::cuda::CUDAEvent done;
  done.record(on);
  done.block(waiter);
}

}  // namespace

struct CudaGraphStep::Impl {
  policy::Policy& policy;
  Optimizer& optimizer;
  CudaGraphOptions options;
  int eager_steps = 0;
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  bool first_replay = true;
  policy::TensorMap inputs;  // the captured step reads its batch from these
  GraphStepResult outputs;   // and leaves its results in these

  Impl(policy::Policy& p, Optimizer& o, CudaGraphOptions opts) : policy(p), optimizer(o), options(opts) {}

  // The step itself: what is captured, and what the eager warm-up steps run.
  GraphStepResult body(const policy::TensorMap& batch) {
    GraphStepResult r;
    policy::LossOutput out;
    {
      CaptureAutocast amp(options.autocast, options.autocast_dtype);
      out = policy.forward_loss(batch);
    }
    out.loss.backward();
    r.grad_norm = clip_grad_norm_tensor(optimizer.parameters(), options.grad_clip_norm);
    optimizer.step();
    r.loss = out.loss.detach();
    r.parts = out.parts;
    return r;
  }

  void check_like_inputs(const policy::TensorMap& batch) const {
    if (batch.size() != inputs.size())
      throw util::RuntimeError(util::cat("cuda graph: the batch has ", batch.size(), " entries, the captured step ",
                                         inputs.size(), "; a captured step needs the same batch layout every step"));
    for (const auto& [k, t] : batch) {
      auto it = inputs.find(k);
      if (it == inputs.end() || it->second.sizes() != t.sizes() || it->second.scalar_type() != t.scalar_type() ||
          it->second.device() != t.device())
        throw util::RuntimeError(util::cat("cuda graph: batch entry '", k, "' has shape ", t.sizes(),
                                           " unlike the captured step's; a captured step needs fixed shapes"));
    }
  }

  void capture(const policy::TensorMap& batch) {
    for (const auto& [k, t] : batch) inputs[k] = t.clone();
    // Gradients are made inside the capture (from the graph's own memory), so that every replay
    // writes them at the same addresses.
    optimizer.zero_grad();
    auto stream = c10::cuda::getStreamFromPool();
    wait_for(stream, c10::cuda::getCurrentCUDAStream());
    graph = std::make_unique<at::cuda::CUDAGraph>();
    {
      c10::cuda::CUDAStreamGuard guard(stream);
      graph->capture_begin();
      outputs = body(inputs);
      graph->capture_end();
    }
    wait_for(c10::cuda::getCurrentCUDAStream(), stream);
  }
};

CudaGraphStep::CudaGraphStep(policy::Policy& policy, Optimizer& optimizer, CudaGraphOptions options)
    : impl_(std::make_unique<Impl>(policy, optimizer, options)) {
  if (!torch::cuda::is_available())
    throw util::InputError("--cuda_graph true needs a CUDA device; this machine has none (drop the flag)");
  if (!optimizer.fused()) throw util::InputError("--cuda_graph true needs the fused optimizer");
  bool on_cuda = false;
  for (const auto& p : optimizer.parameters()) on_cuda = p.is_cuda();
  if (!on_cuda) throw util::InputError("--cuda_graph true needs the policy on CUDA (--policy.device cuda)");
  optimizer.use_device_lr(optimizer.parameters().front().device());
}

CudaGraphStep::~CudaGraphStep() = default;

bool CudaGraphStep::captured() const { return impl_->graph != nullptr; }

GraphStepResult CudaGraphStep::step(const policy::TensorMap& batch) {
  auto& m = *impl_;
  if (m.eager_steps < m.options.warmup_steps) {
    // Eager, on a side stream as the capture will be (the caching allocator then has its
    // blocks for that stream ready).
    auto stream = c10::cuda::getStreamFromPool();
    wait_for(stream, c10::cuda::getCurrentCUDAStream());
    GraphStepResult r;
    {
      c10::cuda::CUDAStreamGuard guard(stream);
      m.optimizer.zero_grad();
      r = m.body(batch);
      m.optimizer.zero_grad();
    }
    wait_for(c10::cuda::getCurrentCUDAStream(), stream);
    ++m.eager_steps;
    return r;
  }
  if (!m.graph) {
    m.capture(batch);
    util::log_info("cuda graph: training step captured after ", m.eager_steps, " eager steps");
  } else {
    m.check_like_inputs(batch);
    for (auto& [k, t] : m.inputs) t.copy_(batch.at(k), /*non_blocking=*/true);
  }
  m.graph->replay();
  // The capture ran the optimizer's host code once without its device effects; from the second
  // replay on, the host's step counts follow the device's.
  if (!m.first_replay) m.optimizer.count_replayed_step();
  m.first_replay = false;
  return m.outputs;
}

#else  // a build without CUDA

struct CudaGraphStep::Impl {};

CudaGraphStep::CudaGraphStep(policy::Policy&, Optimizer&, CudaGraphOptions) {
  throw util::InputError("--cuda_graph true needs a CUDA build of robotrain (this one has no CUDA)");
}
CudaGraphStep::~CudaGraphStep() = default;
bool CudaGraphStep::captured() const { return false; }
GraphStepResult CudaGraphStep::step(const policy::TensorMap&) { return {}; }

#endif

}  // namespace robotrain::train
