#include "train/registration.h"

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "policy/robotrain_json.h"
#include "track/registry.h"
#include "track/tracking_uri.h"
#include "util/azure_credential.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace fs = std::filesystem;

namespace robotrain::train {
namespace {

std::optional<util::Json> read_json_if_exists(const fs::path& path) {
  if (!fs::is_regular_file(path)) return std::nullopt;
  return util::read_json_file(path);
}

// The checkpoint directory name ("005000") when the weights sit in checkpoints/NNNNNN/.
std::string checkpoint_name(const fs::path& pretrained_dir) {
  fs::path dir = fs::weakly_canonical(pretrained_dir);
  if (dir.filename() == "pretrained_model") dir = dir.parent_path();
  std::string name = dir.filename().string();
  return !name.empty() && name.find_first_not_of("0123456789") == std::string::npos ? name : "";
}

// Policy type, job and dataset as recorded in the checkpoint's train_config.json.
track::LineageInfo lineage_of(const RegistrationRequest& r) {
  track::LineageInfo info;
  fs::path dir(r.pretrained_dir);
  if (auto config = read_json_if_exists(dir / "config.json"))
    if (auto type = util::string_member(*config, "type"); !type.empty()) info.policy_type = type;
  if (auto train = read_json_if_exists(dir / "train_config.json")) {
    info.job_name = util::string_member(*train, "job_name");
    if (train->contains("dataset")) {
      const auto& d = (*train)["dataset"];
      info.dataset_repo_id = util::string_member(d, "repo_id");
      info.dataset_root = util::string_member(d, "root");
    }
  }
  // A local directory is named in train_config.json by its directory's name (LeRobot needs a
  // repo_id there), so the source recorded beside it decides what the lineage points at.
  info.dataset_source = !r.dataset_source.empty() ? r.dataset_source
                                                  : policy::read_robotrain_section(dir, "train").value("dataset_source", "");
  info.checkpoint = checkpoint_name(dir);
  info.blob_urls = r.blob_urls;
  info.dataset_assets = r.dataset_assets;
  info.mlflow_run_id = r.run_id;
  info.mlflow_experiment_id = r.experiment_id;
  if (const char* job = std::getenv("AZUREML_RUN_ID")) info.azureml_run_id = job;
  return info;
}

}  // namespace

util::Json register_pretrained(const RegistrationRequest& r) {
  track::RegisterOptions o;
  o.name = r.name;
  o.pretrained_model_dir = r.pretrained_dir;
  o.lineage = lineage_of(r);
  o.tracking_uri = r.tracking_uri;
  o.artifact_uri = r.artifact_uri;
  o.version_tags = r.version_tags;
  // The Azure token is asked for only when the registry is Azure ML's.
  if (track::parse_tracking_uri(r.tracking_uri).kind == track::TrackingKind::AzureMl)
    o.access_token = util::azure_token_provider(util::kManagementResource);
  auto v = track::register_checkpoint(o);
  util::log_info("registered ", v.name, " version ", v.version, " in the ", v.registry, " registry (", v.uri, ")");
  return {{"registry", v.registry}, {"name", v.name}, {"version", v.version}, {"uri", v.uri}, {"source", v.source}};
}

namespace {

// What names every version of this run's checkpoints; the checkpoint and the run's ids are
// added per version.
RegistrationRequest run_request(const TrainOptions& o, const CheckpointRegistration& r) {
  return {.name = o.register_checkpoint,
          .tracking_uri = o.config.tracking_uri,
          .blob_urls = r.blob_urls,
          .dataset_assets = r.dataset_assets,
          .dataset_source = o.dataset_source};
}

void register_checkpoint(RegistrationRequest request, const fs::path& checkpoint, const TrainOutcome& outcome) {
  request.pretrained_dir = (checkpoint / "pretrained_model").string();
  request.run_id = outcome.run_id;
  request.experiment_id = outcome.experiment_id;
  request.artifact_uri = outcome.artifact_uri;
  register_pretrained(request);
}

}  // namespace

void register_checkpoints_as_written(TrainOptions& o, const CheckpointRegistration& r) {
  if (!r.intermediate) return;
  const int64_t last_step = o.config.steps;
  o.on_checkpoint = [request = run_request(o, r), last_step](const fs::path& checkpoint, int64_t step,
                                                             const TrainOutcome& outcome) {
    if (step >= last_step) return;  // the final one is registered after training
    try {
      register_checkpoint(request, checkpoint, outcome);
    } catch (const std::exception& e) {
      util::log_warn("could not register the checkpoint of step ", step, ": ", e.what());
    }
  };
}

void register_final_checkpoint(const TrainOptions& o, const CheckpointRegistration& r, const TrainOutcome& outcome) {
  if (!outcome.last_checkpoint)
    throw util::RuntimeError("--register-checkpoint " + o.register_checkpoint +
                             ": the run wrote no checkpoint (--save_checkpoint false?): nothing to register");
  try {
    register_checkpoint(run_request(o, r), *outcome.last_checkpoint, outcome);
  } catch (const std::exception& e) {
    throw util::RuntimeError(std::string("training finished but registering the checkpoint failed: ") + e.what());
  }
}

}  // namespace robotrain::train
