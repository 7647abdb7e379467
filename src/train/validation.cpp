// The validate stage: val/loss on the held-out episodes (--val-split) every eval_freq steps.
#include <mutex>

#include "dataset/loader.h"
#include "train/training_run.h"

namespace robotrain::train {

namespace {

// The CPU generator's state, restored on scope exit: validation draws (diffusion noise and
// timesteps) from a fixed seed without disturbing the training stream that resume replays.
struct ForkedCpuRng {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  at::Tensor saved;
  explicit ForkedCpuRng(uint64_t seed) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    saved = gen.get_state();
    gen.set_current_seed(seed);
  }
  ~ForkedCpuRng() {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(saved);
  }
};

// Back in training mode however the measurement ends.
struct EvalMode {
  policy::Policy& policy;
  explicit EvalMode(policy::Policy& p) : policy(p) { policy.eval(); }
  ~EvalMode() { policy.train(); }
};

// Mean loss over at most `max_batches` batches of `data`.
double validation_loss(policy::Policy& policy, const dataset::LeRobotDataset& data, uint64_t seed, int batch_size,
                       int max_batches, BatchAdapterOptions adapter) {
  dataset::SamplerOptions so{seed, true, policy.drop_n_last_frames(), 0, 1};
  dataset::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.num_workers = 1;
  lo.prefetch_batches = 2;
  lo.drop_last = false;
  dataset::DataLoader loader(data, so, lo);
  const int64_t n = std::max<int64_t>(1, std::min<int64_t>(max_batches, loader.batches_per_epoch()));
  adapter.transforms = nullptr;  // no augmentation when measuring
  ForkedCpuRng rng(seed);
  torch::NoGradGuard no_grad;
  EvalMode eval(policy);
  double sum = 0;
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) {
    dataset::Batch host = loader.next();
    const int64_t b = host.size;
    policy::TensorMap batch = to_device_batch(std::move(host), adapter);
    sum += policy.forward_loss(batch).loss.item<double>() * static_cast<double>(b);
    count += b;
  }
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

}  // namespace

std::optional<double> validate_if_due(TrainingRun& r) {
  const TrainConfig& cfg = r.cfg;
  if (!r.val_data || cfg.eval_freq <= 0 || r.step % cfg.eval_freq != 0) return std::nullopt;
  return validation_loss(*r.policy, *r.val_data, static_cast<uint64_t>(cfg.seed), cfg.batch_size,
                         std::max(1, r.options.val_max_batches), r.adapter);
}

}  // namespace robotrain::train
