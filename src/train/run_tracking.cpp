// The tracking stage of a run: the MLflow run opened (or continued on resume) with the seed
// system's lineage tags and parameters, and closed with the run's status.
#include "track/journal.h"
#include "track/tracker.h"
#include "track/tracking_uri.h"
#include "train/training_run.h"
#include "util/error.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::train {

using util::Json;

namespace {

std::string dataset_name(const TrainConfig& c) { return !c.dataset.repo_id.empty() ? c.dataset.repo_id : c.dataset.root; }

// The seed system's run parameters.
std::map<std::string, std::string> seed_params(const TrainOptions& o, int world_size) {
  const TrainConfig& c = o.config;
  const auto& sched = c.scheduler;
  return {{"dataset_repo_id", dataset_name(c)},
          {"policy_type", c.policy_type()},
          {"job_name", c.job_name},
          {"policy_repo_id", o.policy_repo_id},
          {"training_steps", std::to_string(c.steps)},
          {"batch_size", std::to_string(c.batch_size)},
          {"learning_rate", Json(c.optimizer->lr).dump()},
          {"lr_warmup_steps", std::to_string(sched ? sched->num_warmup_steps : 0)},
          {"save_freq", std::to_string(c.save_freq)},
          {"val_split", Json(c.val_split).dump()},
          {"num_gpus", std::to_string(world_size)},
          {"mixed_precision", o.mixed_precision},
          {"distributed", world_size > 1 ? "true" : "false"},
          {"effective_batch_size", std::to_string(c.batch_size * world_size)},
          {"output_dir", c.output_dir},
          {"seed", std::to_string(c.seed)},
          {"policy_device", c.policy_device()}};
}

// lerobot.framework etc. (the seed system's lineage tags).
std::map<std::string, std::string> seed_tags(const TrainOptions& o, int world_size) {
  const TrainConfig& c = o.config;
  std::map<std::string, std::string> tags{{"lerobot.framework", "lerobot"},
                                          {"lerobot.policy_type", c.policy_type()},
                                          {"lerobot.job_name", c.job_name},
                                          {"lerobot.num_gpus", std::to_string(world_size)},
                                          {"lerobot.mixed_precision", o.mixed_precision},
                                          {"lerobot.distributed", world_size > 1 ? "true" : "false"},
                                          {"dataset.repo_id", dataset_name(c)},
                                          {"dataset.source", o.dataset_source.empty() ? "local" : o.dataset_source},
                                          {"robotrain.trainer", "robotrain"}};
  if (!o.register_checkpoint.empty()) tags["model.register_name"] = o.register_checkpoint;
  std::string warm = !o.init_from_policy_model.empty() ? o.init_from_policy_model : c.policy_path;
  if (!warm.empty()) {
    tags["warm_start.source"] = warm;
    // azureml:NAME:VERSION names a registered model.
    if (util::starts_with(warm, "azureml:") && !util::starts_with(warm, "azureml://")) {
      auto parts = util::split(warm, ':');
      if (parts.size() == 3) {
        tags["warm_start.model_name"] = parts[1];
        tags["warm_start.model_version"] = parts[2];
      }
    }
  }
  for (const auto& [k, v] : o.extra_tags) tags[k] = v;
  return tags;
}

bool remote_tracking(const std::string& uri) {
  try {
    return track::parse_tracking_uri(track::default_tracking_uri(uri)).kind != track::TrackingKind::File;
  } catch (const std::exception&) {
    return false;
  }
}

// A resumed run continues its MLflow run; an Azure ML job's run is MLFLOW_RUN_ID.
std::string run_to_continue(const TrainingRun& r) {
  const Json& state = r.resumed_state;
  if (state.contains("tracking") && state["tracking"].contains("run_id")) return state["tracking"]["run_id"].get<std::string>();
  return util::get_env("MLFLOW_RUN_ID").value_or("");
}

// The run's ids as they are now (finishing may have replayed a journal: a run created
// offline then has its server id).
void record_tracking_ids(TrainingRun& r) {
  r.outcome.run_id = r.tracker->run_id();
  r.outcome.experiment_id = r.tracker->experiment_id();
  r.outcome.artifact_uri = r.tracker->artifact_uri();
}

}  // namespace

void open_tracking(TrainingRun& r) {
  const TrainConfig& cfg = r.cfg;
  track::TrackerOptions topts;
  topts.tracking_uri = cfg.tracking_uri;
  topts.experiment_name =
      !cfg.experiment_name.empty() ? cfg.experiment_name : util::cat("lerobot-", cfg.policy_type(), "-", cfg.job_name);
  topts.run_name = cfg.job_name;
  topts.system_metrics = r.options.system_metrics;
  topts.journal_path = track::journal_path_in(cfg.output_dir);  // undeliverable calls stay with the run
  const auto tags = seed_tags(r.options, r.world_size());
  topts.tags = tags;
  topts.run_id = run_to_continue(r);
  topts.disabled = !r.primary() || r.options.no_tracking;  // ranks other than 0 of a distributed job track nothing
  try {
    r.tracker = track::open_tracker(topts);
  } catch (const util::InputError&) {
    if (topts.run_id.empty() || !r.resume_from) throw;
    util::log_warn("tracking run ", topts.run_id, " not found; continuing in a new run");
    topts.run_id.clear();
    r.tracker = track::open_tracker(topts);
  }
  record_tracking_ids(r);
  r.log_checkpoints = r.options.log_checkpoints.value_or(remote_tracking(cfg.tracking_uri));
  r.tracker->set_tags(tags);
  if (!r.resume_from) r.tracker->log_params(seed_params(r.options, r.world_size()));
}

void finish_tracking(TrainingRun& r, bool failed) {
  if (failed) {
    try {
      r.tracker->set_tags({{"training_status", "failed"}});
      r.tracker->finish(track::RunStatus::Failed);
    } catch (const std::exception& e) {
      util::log_warn("tracking: could not mark the run failed: ", e.what());
    }
    return;
  }
  if (const int sig = r.outcome.stop_signal) {
    r.tracker->set_tags({{"training_status", "failed"}, {"training_stop_signal", std::to_string(sig)}});
    r.tracker->finish(track::RunStatus::Killed);
  } else {
    r.tracker->set_tags({{"training_status", "completed"}});
    r.tracker->finish(track::RunStatus::Finished);
  }
  record_tracking_ids(r);
}

}  // namespace robotrain::train
