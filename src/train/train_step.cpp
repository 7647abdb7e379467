// The step stage: lerobot-train's update_policy() - forward under autocast, backward (loss
// scaled under fp16, gradients averaged across ranks), clip, optimizer, scheduler, then the
// policy's own hook (diffusion's EMA) - or the replay of a captured CUDA graph.
#include <ATen/autocast_mode.h>

#include <chrono>
#include <cmath>

#include "train/cuda_graph.h"
#include "train/distributed.h"
#include "train/loss_scaler.h"
#include "train/optim.h"
#include "train/stop_signal.h"
#include "train/training_run.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::train {

namespace {

// Autocast for the forward pass (torch.autocast / accelerate's mixed precision): fp16 or bf16
// on CUDA, bf16 on CPU (torch 2.x has CPU bf16 kernels for everything these policies run).
struct AmpGuard {
  bool on = false;
  at::DeviceType type = at::kCPU;
  AmpGuard(bool enable, at::DeviceType device_type, c10::ScalarType dtype) : on(enable), type(device_type) {
    if (!on) return;
    at::autocast::set_autocast_dtype(type, dtype);
    at::autocast::set_autocast_enabled(type, true);
  }
  ~AmpGuard() {
    if (!on) return;
    at::autocast::set_autocast_enabled(type, false);
    at::autocast::clear_cache();
  }
};

void replay_graph(TrainingRun& r, const policy::TensorMap& batch, StepResult& s) {
  auto g = r.graph->step(batch);
  s.parts = g.parts;
  s.loss = g.loss.item<double>();  // the step's one host synchronisation, after all of it is queued
  s.grad_norm = g.grad_norm.item<double>();
}

void eager_step(TrainingRun& r, const policy::TensorMap& batch, StepResult& s) {
  policy::LossOutput out;
  {
    AmpGuard amp(r.use_amp, r.device.type(), r.amp_dtype);
    out = r.policy->forward_loss(batch);
  }
  s.parts = out.parts;
  if (r.reducer) {
    // Gradients are averaged in buckets while backward runs; the loss and any stop request
    // ride along, so every rank logs the mean loss and stops at the same step.
    r.reducer->prepare();
    r.scaler->scale_loss(out.loss).backward();
    auto sums = r.reducer->finish({out.loss.item<double>(), StopSignals::requested() ? 1.0 : 0.0});
    s.loss = sums[0] / r.world_size();
    s.stop_all = sums[1] > 0;
  } else {
    r.scaler->scale_loss(out.loss).backward();
  }
  // Under fp16 a step whose gradients overflowed is skipped (as accelerate does, the LR
  // schedule waits too); every rank sees the same reduced gradients, so all skip alike.
  const auto& params = r.optimizer->parameters();
  s.stepped = r.scaler->unscale_gradients(params);
  torch::Tensor norm = s.stepped ? clip_grad_norm_tensor(params, r.cfg.optimizer->grad_clip_norm) : torch::Tensor();
  if (s.stepped) r.optimizer->step();
  r.optimizer->zero_grad();
  // Read back once the whole step is queued (on CUDA, earlier reads stall the device).
  if (!r.reducer) s.loss = out.loss.item<double>();
  s.grad_norm = s.stepped ? norm.item<double>() : INFINITY;
}

}  // namespace

StepResult train_step(TrainingRun& r, const policy::TensorMap& batch) {
  const auto start = std::chrono::steady_clock::now();
  StepResult s;
  if (r.graph) replay_graph(r, batch, s);
  else eager_step(r, batch, s);
  r.scaler->update(s.stepped);
  if (!s.stepped)
    util::log_info("fp16: gradients overflowed at step ", r.step + 1, "; update skipped, loss scale now ", r.scaler->scale());
  if (r.scheduler && s.stepped) r.scheduler->step();
  // LeRobot logs the rate the scheduler has just set (for the next update), not the one used.
  s.lr = r.optimizer->lr(0);
  if (s.stepped) r.policy->after_optimizer_step(r.step);  // e.g. diffusion's EMA of the weights
  s.update_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!std::isfinite(s.loss))
    throw util::RuntimeError(util::cat("loss became ", s.loss, " at step ", r.step + 1,
                                       "; lower the learning rate (--policy.optimizer_lr) or check the dataset stats"));
  return s;
}

}  // namespace robotrain::train
