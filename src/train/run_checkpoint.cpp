// The checkpoint stage: pretrained_model/ (LeRobot's files + train_config.json) and
// training_state/ (optimizer, scheduler, RNG, where the loader is) written under a staging
// name and moved into place, then uploaded and handed to the run's hook.
#include "track/tracker.h"
#include "train/checkpoint_dir.h"
#include "train/device_feeder.h"
#include "train/loss_scaler.h"
#include "train/optim.h"
#include "train/policy_io.h"
#include "train/training_run.h"
#include "train/training_state.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::train {

namespace fs = std::filesystem;
using util::Json;

namespace {

// What a resume needs beyond LeRobot's training state. The tracking ids are asked for at
// each save: a run created offline gets its server id once its journal replays.
Json robotrain_training_state(const TrainingRun& r) {
  Json tracking{{"run_id", r.tracker->run_id()}, {"experiment_id", r.tracker->experiment_id()},
                {"tracking_uri", util::redact_url(r.tracker->tracking_uri())}};  // never user:password@ or a query
  return Json{{"samples_consumed", r.feeder->samples_consumed() * r.world_size()}, {"world_size", r.world_size()},
              {"loss_scaler", r.scaler->enabled() ? r.scaler->state() : Json(nullptr)},
              {"tracking", tracking}, {"format", "robotrain-training-state/1"}};
}

void upload_checkpoint(TrainingRun& r, const fs::path& dir, int64_t at_step) {
  try {
    r.tracker->log_artifact(dir / "pretrained_model", util::cat("checkpoints/", step_identifier(at_step, r.cfg.steps)));
  } catch (const std::exception& e) {
    util::log_warn("could not upload checkpoint ", dir.string(), " as an artifact: ", e.what());
  }
}

}  // namespace

void save_checkpoint(TrainingRun& r, int64_t at_step) {
  const fs::path final_dir = step_checkpoint_dir(r.cfg.output_dir, r.cfg.steps, at_step);
  util::log_info("checkpoint policy after step ", at_step, " -> ", final_dir.string());
  write_checkpoint(final_dir, [&](const fs::path& staging) {
    fs::path pm = staging / "pretrained_model";
    fs::create_directories(pm);
    save_policy(*r.policy, pm, robotrain_train_json(r.cfg));
    util::write_json_file(pm / "train_config.json", to_json(r.cfg));
    TrainingState ts;
    ts.step = at_step;
    ts.robotrain = robotrain_training_state(r);
    save_training_state(staging / "training_state", ts, *r.optimizer, r.scheduler.get(), static_cast<uint64_t>(r.cfg.seed));
  });
  r.outcome.last_checkpoint = final_dir;
  if (r.log_checkpoints) upload_checkpoint(r, final_dir, at_step);
  if (r.options.on_checkpoint) r.options.on_checkpoint(final_dir, at_step, r.outcome);
}

}  // namespace robotrain::train
