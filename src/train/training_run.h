#pragma once
// One training run in the stages of lerobot-train's train() / update_policy():
//   setup_run       builds the run from its options (placement, precision, policy, optimizer,
//                   resume, data, tracking)
//   train_step      forward, backward, clip, optimizer, scheduler and the policy's hook
//   save_checkpoint checkpoints/<step>/{pretrained_model,training_state}, then the hooks
//   validate        val/loss on the held-out episodes
//   StepLog         meters, progress bar, the log line and the tracked metrics
// run_training (train/trainer.h) strings them together. Members are declared in the order
// they depend on each other, so they are destroyed dependents first (the feeder before its
// loader, the loader before its dataset, the lock last).
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "dataset/lerobot_dataset.h"
#include "policy/policy.h"
#include "train/batch.h"
#include "train/dist_env.h"
#include "train/metrics_tracker.h"
#include "train/trainer.h"
#include "util/json.h"
#include "util/progress.h"

namespace robotrain::dataset {
class DataLoader;
}  // namespace robotrain::dataset
namespace robotrain::track {
class Tracker;
}

namespace robotrain::train {

class RunLock;
class DistContext;
class LossScaler;
class Optimizer;
class LrScheduler;
class ImageTransforms;
class DeviceFeeder;
class GradReducer;
class CudaGraphStep;

struct TrainingRun {
  explicit TrainingRun(TrainOptions run_options);
  ~TrainingRun();
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  TrainOptions options;
  TrainConfig& cfg;  // options.config, completed by setup (device, episodes, optimizer)

  // Where it runs: this process's place in a data-parallel job (none: alone, rank 0 of 1).
  std::optional<DistEnv> dist_env;
  int rank() const { return dist_env ? dist_env->rank : 0; }
  int world_size() const { return dist_env ? dist_env->world_size : 1; }
  bool primary() const { return rank() == 0; }  // writes checkpoints, tracks, logs
  std::unique_ptr<RunLock> lock;
  int threads = 1;
  torch::Device device{torch::kCPU};
  std::unique_ptr<DistContext> dist;

  // Numerics: autocast dtype, fp16 loss scaling.
  bool use_amp = false;
  c10::ScalarType amp_dtype = torch::kBFloat16;
  std::unique_ptr<LossScaler> scaler;

  // What is trained, and from where it continues.
  dataset::DatasetMeta meta;
  std::optional<std::filesystem::path> resume_from;
  std::shared_ptr<policy::Policy> policy;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<LrScheduler> scheduler;  // null: a constant learning rate
  int64_t step = 0;                        // steps done (the checkpoint's when resumed)
  util::Json resumed_state = util::Json::object();  // training_state's robotrain section

  // The data: training and held-out episodes, loader, device hand-over.
  std::unique_ptr<dataset::LeRobotDataset> train_data, val_data;
  std::unique_ptr<dataset::DataLoader> loader;
  std::unique_ptr<ImageTransforms> transforms;
  BatchAdapterOptions adapter;
  std::unique_ptr<DeviceFeeder> feeder;

  std::unique_ptr<track::Tracker> tracker;
  bool log_checkpoints = false;  // checkpoints uploaded as MLflow artifacts

  // How a step runs beyond the plain eager one.
  std::unique_ptr<GradReducer> reducer;  // data-parallel gradient averaging
  std::unique_ptr<CudaGraphStep> graph;  // --cuda_graph

  TrainOutcome outcome;
};

// Setup, in order: placement, precision, model, resume, data, tracking, step machinery.
// InputError for what the user can fix, before the dataset, policy or tracker is touched
// where it can be.
std::unique_ptr<TrainingRun> setup_run(TrainOptions options);
// The stages of setup_run, each its own file's concern.
void hold_out_validation_episodes(TrainingRun& run);  // train/run_data.cpp
void open_training_data(TrainingRun& run);
void open_tracking(TrainingRun& run);                 // train/run_tracking.cpp
void finish_tracking(TrainingRun& run, bool failed);

struct StepResult {
  double loss = 0, grad_norm = 0;
  double lr = 0;         // the rate the scheduler set for the next update (what LeRobot logs)
  double update_s = 0;   // wall time of the update
  bool stepped = true;   // false: fp16 gradients overflowed and the update was skipped
  bool stop_all = false; // data-parallel: some rank was asked to stop
  std::map<std::string, torch::Tensor> parts;  // the policy's loss parts (l1_loss, kld_loss)
};

// One update on `batch`; RuntimeError when the loss is no longer finite.
StepResult train_step(TrainingRun& run, const policy::TensorMap& batch);

// checkpoints/<step>/ written and `last` repointed, uploaded when log_checkpoints, then
// options.on_checkpoint.
void save_checkpoint(TrainingRun& run, int64_t at_step);

// val/loss when the run holds episodes out and `run.step` is an eval step; nullopt otherwise:
// the mean loss over at most val_max_batches batches of the held-out episodes, in eval mode,
// without gradients or augmentation, the same batches every time, and the training random
// stream left as it was.
std::optional<double> validate_if_due(TrainingRun& run);

// LeRobot's MetricsTracker around the step: averages between log lines, the progress bar on
// a terminal, the log line, and train/* metrics to the tracker.
class StepLog {
 public:
  explicit StepLog(TrainingRun& run);
  void record(const StepResult& result, double data_s);  // after the step's ++run.step
  void log_if_due();
  void log_validation(double val_loss);
  // First and last logged loss averages into run.outcome; closes the progress bar.
  void finish();

 private:
  void clear_progress_line() const;
  TrainingRun& run_;
  MetricsTracker metrics_;
  std::map<std::string, AverageMeter> part_meters_;
  std::optional<util::Progress> progress_;
  bool have_first_ = false;
};

}  // namespace robotrain::train
