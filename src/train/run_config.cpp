#include "train/run_config.h"

#include <algorithm>
#include <set>

#include "policy/robotrain_json.h"
#include "train/checkpoint_dir.h"
#include "train/device_info.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::train {

namespace fs = std::filesystem;

namespace {

// --config_path PATH (LeRobot's): a train_config.json, or the pretrained_model/ directory
// holding it. Returns that pretrained_model/ directory.
fs::path config_path_dir(const std::string& value) {
  fs::path p(value);
  if (fs::is_directory(p) && fs::is_regular_file(p / "train_config.json")) return p;
  if (fs::is_regular_file(p) && p.filename() == "train_config.json") return p.parent_path();
  throw util::InputError(util::cat("--config_path ", value, ": no train_config.json there; give a checkpoint's ",
                                   "checkpoints/<step>/pretrained_model/train_config.json"));
}

// The run a checkpoint's pretrained_model/ belongs to: <run>/checkpoints/<step>/pretrained_model.
fs::path run_dir_of(const fs::path& pretrained_dir) {
  fs::path step = fs::weakly_canonical(pretrained_dir).parent_path();
  if (step.parent_path().filename() != "checkpoints")
    throw util::InputError(util::cat("--config_path ", pretrained_dir.string(), " with --resume: not inside a run's ",
                                     "checkpoints/<step>/pretrained_model/; give that path, or --output_dir RUN"));
  return step.parent_path().parent_path();
}

// A device recorded in a config file (a GPU-trained checkpoint's "cuda") that this machine
// lacks falls back to what it has, with a warning, as LeRobot's PreTrainedConfig does. An
// explicit --policy.device is left to the trainer's check, which refuses a missing GPU.
void fall_back_from_missing_device(TrainConfig& c, const std::string& source) {
  const std::string dev = c.policy_device();
  if (dev.empty() || dev == "cpu" || dev == "auto") return;
  const bool has_gpu = device_info().gpu_count > 0;
  if (has_gpu && util::starts_with(dev, "cuda")) return;
  const std::string fallback = has_gpu ? "cuda" : "cpu";
  static std::set<std::string> warned;  // the config is built twice when a Hub model is fetched
  if (warned.insert(source).second)
    util::log_warn("device '", dev, "' recorded in ", source, " is not available here; switching to '", fallback,
                   "' (pass --policy.device to choose)");
  c.policy["device"] = fallback;
}

// The checkpoint a resume continues from: --config_path names one (LeRobot's way), else the
// run's `last`. Returns it with the run directory it belongs to.
std::pair<fs::path, fs::path> checkpoint_and_run(const std::string& output_dir, const std::string& config_path) {
  if (config_path.empty()) {
    if (output_dir.empty())
      throw util::InputError("--resume needs --output_dir DIR of the run to continue (or --config_path "
                             "DIR/checkpoints/<step>/pretrained_model/train_config.json)");
    return {checkpoint_to_resume(output_dir), output_dir};
  }
  const fs::path pm = config_path_dir(config_path);
  const fs::path run = run_dir_of(pm);
  if (!output_dir.empty() && fs::weakly_canonical(output_dir) != run)
    throw util::InputError(util::cat("--output_dir ", output_dir, " is not the run of --config_path ", config_path, " (",
                                     run.string(), "); give one of them"));
  return {checkpoint_to_resume(run, pm.parent_path()), run};
}

}  // namespace

TrainConfig config_to_resume(const std::string& output_dir, const std::string& config_path) {
  const auto [checkpoint, run] = checkpoint_and_run(output_dir, config_path);
  TrainConfig c = read_checkpoint_train_config(checkpoint / "pretrained_model");
  fall_back_from_missing_device(c, (checkpoint / "pretrained_model" / "train_config.json").string());
  c.output_dir = run.string();  // where the run is now, whatever train_config.json says
  c.resume_checkpoint = checkpoint.string();
  return c;
}

TrainConfig config_of_other_run(const std::string& config_path) {
  TrainConfig c = read_checkpoint_train_config(config_path_dir(config_path));
  fall_back_from_missing_device(c, config_path);
  c.output_dir.clear();
  // That run trained on dataset.episodes minus its held-out ones: with the same seed and
  // --val-split the new run holds out the same episodes.
  if (c.dataset.episodes && !c.val_episodes.empty()) {
    auto& eps = *c.dataset.episodes;
    eps.insert(eps.end(), c.val_episodes.begin(), c.val_episodes.end());
    std::sort(eps.begin(), eps.end());
    eps.erase(std::unique(eps.begin(), eps.end()), eps.end());
  }
  c.val_episodes.clear();  // chosen afresh for this run
  return c;
}

void apply_pretrained_policy(TrainConfig& c, const fs::path& given_dir, const std::string& pretrained_path) {
  fs::path dir = given_dir;
  if (fs::is_regular_file(dir / "pretrained_model" / "config.json")) dir /= "pretrained_model";
  c.policy = policy::read_policy_config(dir);
  c.policy_path = dir.string();
  fall_back_from_missing_device(c, (dir / "config.json").string());
  c.policy["pretrained_path"] = pretrained_path;
}

}  // namespace robotrain::train
