// run_training: lerobot-train's train() loop over the stages of train/training_run.h.
#include "train/trainer.h"

#include <csignal>

#include "train/device_feeder.h"
#include "train/stop_signal.h"
#include "train/training_run.h"
#include "util/log.h"

namespace robotrain::train {

namespace {

// Per step, so a resumed run draws the same augmentations as an uninterrupted one.
uint64_t augment_seed(const TrainConfig& cfg, int64_t step) {
  return static_cast<uint64_t>(cfg.seed) * 1000003ull + static_cast<uint64_t>(step);
}

bool checkpoint_due(const TrainingRun& r) {
  const TrainConfig& cfg = r.cfg;
  return r.primary() && cfg.save_checkpoint && ((cfg.save_freq > 0 && r.step % cfg.save_freq == 0) || r.step == cfg.steps);
}

// The signal this process stops for after the step, 0 to go on. In a data-parallel job every
// rank stops at the same step: the request travelled with the step's reduction.
int stop_requested(const TrainingRun& r, const StepResult& s) {
  if (!r.dist) return StopSignals::requested();
  if (!s.stop_all) return 0;
  const int own = StopSignals::requested();
  return own > 0 ? own : SIGTERM;  // another rank was signalled
}

void train_until_done(TrainingRun& r, StepLog& log) {
  StopSignals signals;
  int64_t last_saved = -1;
  r.policy->train();
  while (r.step < r.cfg.steps) {
    double data_s = 0;
    policy::TensorMap batch = r.feeder->next(augment_seed(r.cfg, r.step), &data_s);
    const StepResult result = train_step(r, batch);
    ++r.step;
    log.record(result, data_s);
    log.log_if_due();
    if (auto val_loss = validate_if_due(r)) log.log_validation(*val_loss);
    if (checkpoint_due(r)) save_checkpoint(r, last_saved = r.step);
    if (const int sig = stop_requested(r, result)) {
      r.outcome.stop_signal = sig;
      if (r.primary()) util::log_warn("received signal ", sig, ": stopping after step ", r.step);
      break;
    }
  }
  // A stopped run keeps its last step.
  const bool stopped_unsaved = r.outcome.stop_signal && last_saved != r.step && r.step > r.outcome.start_step;
  if (r.primary() && r.cfg.save_checkpoint && stopped_unsaved) save_checkpoint(r, r.step);
}

}  // namespace

TrainOutcome run_training(TrainOptions options) {
  auto run = setup_run(std::move(options));
  StepLog log(*run);
  try {
    train_until_done(*run, log);
  } catch (...) {
    log.finish();
    finish_tracking(*run, /*failed=*/true);
    throw;
  }
  log.finish();
  run->outcome.step = run->step;
  finish_tracking(*run, /*failed=*/false);
  return run->outcome;
}

}  // namespace robotrain::train
