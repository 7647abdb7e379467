// `robotrain train`: lerobot-train's flags (dotted, as LeRobot spells them, and dashed), any
// policy config field as --policy.<field>, and the seed system's submission settings.
//
//   robotrain train --dataset.root data/pusht --policy.type act --steps 2000 --batch_size 8
//   robotrain train --resume --output_dir outputs/train/run --steps 4000
//   robotrain train --config_path outputs/train/run/checkpoints/002000/pretrained_model/train_config.json --resume=true
#include <algorithm>
#include <cmath>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>

#include <unistd.h>

#include <optional>
#include <set>

#include <chrono>
#include <thread>

#include "cli/command.h"
#include "cli/pretrained_source.h"
#include "storage/dataset_source.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "cli/registration.h"
#include "cli/remote_model.h"
#include "cli/submit_flags.h"
#include "platform/submit_options.h"
#include "policy/robotrain_json.h"
#include "track/model_uri.h"
#include "train/checkpoint_dir.h"
#include "train/device_info.h"
#include "train/dist_env.h"
#include "train/launcher.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strings.h"

namespace fs = std::filesystem;

namespace robotrain::cli {
namespace {

using train::TrainConfig;
using util::Json;

constexpr int64_t kMaxSteps = 1'000'000'000'000;  // far beyond any run, far below overflow
constexpr int64_t kMaxSeed = 4294967295;           // numpy's seeds (LeRobot seeds numpy too)
constexpr int64_t kMaxBatchSize = 65536;
constexpr int64_t kMaxTransforms = 64;

bool parse_bool(const std::string& flag, const std::string& value) {
  std::string v = util::to_lower(util::trim(value));
  if (v.empty() || v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw util::InputError(util::cat(flag, ": '", value, "' is not a boolean; use true or false"));
}

// Every flag is bound to a string and applied after parsing to a base config: the defaults
// for a new run, the checkpoint's train_config.json for --resume (so only what was given
// explicitly changes there).
struct Flag {
  CLI::Option* opt;
  std::shared_ptr<std::string> value;
  std::function<void(TrainConfig&, const std::string&)> apply;
};

struct TrainFlags {
  std::vector<Flag> flags;
  std::vector<std::function<void(TrainConfig&)>> edits;  // --policy.<field> etc.
  train::TrainOptions options;
  std::string resume;
  CLI::Option* resume_opt = nullptr;
  std::string config_path;  // LeRobot's --config_path: a train_config.json to start from or resume
  std::string policy_path, policy_revision;
  std::vector<std::string> blob_urls, dataset_assets;
  std::string download_dir, revision, blob_endpoint;
  bool register_intermediate = false;
  int nproc_per_node = 1;
};

void add_flag(CLI::App* cmd, TrainFlags& f, const std::string& names, const std::string& help,
              std::function<void(TrainConfig&, const std::string&)> apply, bool is_bool = false) {
  auto value = std::make_shared<std::string>();
  auto* opt = cmd->add_option(names, *value, help);
  if (is_bool) opt->expected(0, 1);
  f.flags.push_back({opt, value, std::move(apply)});
}

// Range-checked when parsed (exit 2 naming the flag) and again when applied.
template <class Setter>
void add_int(CLI::App* cmd, TrainFlags& f, const std::string& names, const std::string& help, int64_t min, int64_t max,
             Setter set) {
  std::string flag = util::split(names, ',').front();
  add_flag(cmd, f, names, help,
           [flag, min, max, set](TrainConfig& c, const std::string& v) { set(c, parse_int_flag(flag, v, min, max)); });
  f.flags.back().opt->transform(int_in(min, max))->type_name("INT");
}

template <class Setter>
void add_bool(CLI::App* cmd, TrainFlags& f, const std::string& names, const std::string& help, Setter set) {
  std::string flag = util::split(names, ',').front();
  add_flag(cmd, f, names, help, [flag, set](TrainConfig& c, const std::string& v) { set(c, parse_bool(flag, v)); }, true);
}

void apply_flags(const TrainFlags& f, TrainConfig& c) {
  for (const auto& fl : f.flags)
    if (fl.opt->count() > 0) fl.apply(c, *fl.value);
  for (const auto& e : f.edits) e(c);
}

// --optimizer.<field> / --scheduler.<field> values LibTorch would reject mid-setup, or train on
// silently (a negative warm-up), are refused naming the flag.
void check_optimizer_overrides(const TrainConfig& c) {
  auto check = [](const char* flag, double v, double min, double max, bool min_open) {
    if (!std::isfinite(v) || (min_open ? v <= min : v < min) || v > max)
      throw util::InputError(util::cat(flag, " must be in ", min_open ? "(" : "[", min, ", ", max, "], got ", v));
  };
  if (c.optimizer) {
    const auto& o = *c.optimizer;
    check("--optimizer.lr", o.lr, 0, 10, true);
    check("--optimizer.weight_decay", o.weight_decay, 0, 10, false);
    check("--optimizer.grad_clip_norm", o.grad_clip_norm, 0, 1e9, true);
    for (double beta : {o.beta1, o.beta2})
      if (!(beta >= 0 && beta < 1)) throw util::InputError(util::cat("--optimizer.betas must be in [0, 1), got ", beta));
    check("--optimizer.eps", o.eps, 0, 1, true);
  }
  if (c.scheduler && c.scheduler->num_warmup_steps < 0)
    throw util::InputError(util::cat("--scheduler.num_warmup_steps must be 0 or more, got ", c.scheduler->num_warmup_steps));
}

// --policy.<field>[=value] / --optimizer.<field> / --scheduler.<field> for any config field.
void apply_extras(const std::vector<std::string>& extras, TrainFlags& f) {
  for (size_t i = 0; i < extras.size(); ++i) {
    std::string arg = extras[i];
    std::string key, value;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      key = arg.substr(0, eq), value = arg.substr(eq + 1);
    } else {
      key = arg;
      if (i + 1 >= extras.size() || util::starts_with(extras[i + 1], "--"))
        throw util::InputError(util::cat(arg, " needs a value (", arg, " VALUE or ", arg, "=VALUE)"));
      value = extras[++i];
    }
    if (!util::is_valid_utf8(value))
      throw util::InputError(util::cat(key, " '", util::one_line(value), "' is not valid UTF-8"));
    std::string section;
    for (const char* s : {"--policy.", "--optimizer.", "--scheduler."})
      if (util::starts_with(key, s)) section = s;
    if (section.empty())
      throw util::InputError(util::cat("unknown option ", key, " (see robotrain train --help; policy fields go as --policy.<field>)"));
    std::string field = util::replace_all(key.substr(section.size()), "-", "_");
    if (field.empty()) throw util::InputError(util::cat(key, ": missing field name"));
    Json parsed = train::parse_override_value(value);
    if (section == "--policy.") {
      f.edits.push_back([field, parsed](TrainConfig& c) { train::set_dotted(c.policy, field, parsed); });
    } else {
      bool opt = section == "--optimizer.";
      f.edits.push_back([opt, field, parsed](TrainConfig& c) {
        Json j = opt ? (c.optimizer ? train::to_json(*c.optimizer) : train::to_json(train::OptimizerConfig{}))
                     : (c.scheduler ? train::to_json(*c.scheduler) : train::to_json(train::SchedulerConfig{}));
        train::set_dotted(j, field, parsed);
        TrainConfig tmp = train::train_config_from_json(Json{{opt ? "optimizer" : "scheduler", j}});
        if (opt) c.optimizer = tmp.optimizer;
        else c.scheduler = tmp.scheduler;
        check_optimizer_overrides(c);
        // Explicit optimizer settings only take effect without the policy preset (LeRobot).
        c.use_policy_training_preset = false;
      });
    }
  }
}

// Scratch that lives as long as the command: remote warm-start weights, the fetch marker.
struct ScratchPath {
  fs::path dir;
  ~ScratchPath() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

// --init-from-policy-model: a registered model, blob folder or local directory becomes a local
// pretrained_model directory; the run is tagged with where the weights came from.
void resolve_warm_start(const track::ModelSource& source, train::TrainOptions& o, ScratchPath& scratch) {
  track::ResolveOptions ro;
  ro.tracking_uri = o.config.tracking_uri;
  ro.access_token = azure_management_token_provider();
  scratch.dir = fs::temp_directory_path() / util::cat("robotrain-warm-start-", ::getpid());
  ro.download_dir = scratch.dir;
  ro.remote = download_remote_model;
  fs::path dir = track::resolve_warm_start(source, ro);
  for (const auto& [k, v] : track::warm_start_tags(source)) o.extra_tags.emplace(k, v);
  util::log_info("warm start from ", source.uri, " (", dir.string(), ")");
  o.init_from_policy_model = dir.string();
}

void register_checkpoint(const TrainFlags& f, const fs::path& checkpoint, const train::TrainOutcome& outcome) {
  register_pretrained({.name = f.options.register_checkpoint,
                       .pretrained_dir = (checkpoint / "pretrained_model").string(),
                       .tracking_uri = f.options.config.tracking_uri,
                       .run_id = outcome.run_id,
                       .experiment_id = outcome.experiment_id,
                       .artifact_uri = outcome.artifact_uri,
                       .blob_urls = f.blob_urls,
                       .dataset_assets = f.dataset_assets,
                       .dataset_source = f.options.dataset_source});
}

// --register-intermediate: every checkpoint before the last becomes a version as it is
// written. A failure there is a warning - the run and its final registration go on.
void register_intermediate_checkpoints(TrainFlags& f) {
  const int64_t last_step = f.options.config.steps;
  f.options.on_checkpoint = [&f, last_step](const fs::path& checkpoint, int64_t step, const train::TrainOutcome& outcome) {
    if (step >= last_step) return;  // the final one is registered after training
    try {
      register_checkpoint(f, checkpoint, outcome);
    } catch (const std::exception& e) {
      util::log_warn("could not register the checkpoint of step ", step, ": ", e.what());
    }
  };
}

// --register-checkpoint: the final checkpoint goes to the registry of the tracking URI; a
// failure fails the job (the seed system's rule), after the registry client's retries.
void register_final_checkpoint(const TrainFlags& f, const train::TrainOutcome& outcome) {
  if (!outcome.last_checkpoint)
    throw util::RuntimeError("--register-checkpoint " + f.options.register_checkpoint +
                             ": the run wrote no checkpoint (--save_checkpoint false?): nothing to register");
  try {
    register_checkpoint(f, *outcome.last_checkpoint, outcome);
  } catch (const std::exception& e) {
    throw util::RuntimeError(std::string("training finished but registering the checkpoint failed: ") + e.what());
  }
}

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
  const bool has_gpu = train::device_info().gpu_count > 0;
  if (has_gpu && util::starts_with(dev, "cuda")) return;
  const std::string fallback = has_gpu ? "cuda" : "cpu";
  static std::set<std::string> warned;  // the config is built twice when a Hub model is fetched
  if (warned.insert(source).second)
    util::log_warn("device '", dev, "' recorded in ", source, " is not available here; switching to '", fallback,
                 "' (pass --policy.device to choose)");
  c.policy["device"] = fallback;
}

// The config.json of the pretrained policy the run starts from: its fields, its device if this
// machine has it, and where it came from as pretrained_path (LeRobot records the value given
// to --policy.path there).
void apply_pretrained_config(TrainConfig& c, const PretrainedSource& pretrained) {
  fs::path dir = pretrained.dir;
  if (fs::is_regular_file(dir / "pretrained_model" / "config.json")) dir /= "pretrained_model";
  c.policy = policy::read_policy_config(dir);
  c.policy_path = dir.string();
  fall_back_from_missing_device(c, (dir / "config.json").string());
  c.policy["pretrained_path"] = pretrained.ref.pretrained_path();
}

// train_config.json (--config_path, --resume) is the other way in: its numbers get the flags'
// ranges (a num_workers of 100000 would start 100000 loader threads). Flags given were
// checked when parsed, so a value out of range here came from the file.
void check_config_ranges(const TrainConfig& c) {
  struct Range {
    const char* field;
    int64_t value, min, max;
  };
  const Range ranges[] = {{"steps", c.steps, 1, kMaxSteps},
                          {"batch_size", c.batch_size, 1, kMaxBatchSize},
                          {"num_workers", c.num_workers, 0, max_loader_workers()},
                          {"save_freq", c.save_freq, 1, kMaxSteps},
                          {"log_freq", c.log_freq, 0, kMaxSteps},
                          {"eval_freq", c.eval_freq, 0, kMaxSteps},
                          {"dataset.image_transforms.max_num_transforms", c.dataset.image_transforms.max_num_transforms, 1,
                           kMaxTransforms}};
  for (const Range& r : ranges)
    if (r.value < r.min || r.value > r.max)
      throw util::InputError(util::cat("train_config.json: ", r.field, " is ", r.value, ", outside [", r.min, ", ", r.max,
                                       "]; give --", r.field, " N or fix the file"));
}

// LeRobot's policy.use_amp and the seed's --mixed-precision name one switch: the trainer reads
// only mixed_precision (use_amp means bf16 autocast), and config.json records use_amp as
// LeRobot would. A use_amp that is not a boolean is refused by name when the policy is built.
void use_one_amp_switch(train::TrainOptions& o) {
  const auto it = o.config.policy.find("use_amp");
  const bool use_amp = it != o.config.policy.end() && it->is_boolean() && it->get<bool>();
  if (use_amp && o.mixed_precision == "no") o.mixed_precision = "bf16";
  if (o.mixed_precision != "no") o.config.policy["use_amp"] = true;
}

// The run's configuration: defaults (or the checkpoint's for --resume, or --config_path's),
// then the pretrained policy's config (--policy.path / --policy-repo-id, once fetched), then
// the flags. Without `pretrained` the policy part stays as the flags make it (the early
// validation pass, before anything is downloaded).
TrainConfig build_config(TrainFlags& f, const PretrainedSource* pretrained) {
  TrainConfig c;
  const bool resume = f.resume_opt->count() > 0 && parse_bool("--resume", f.resume);
  if (resume) {
    // The checkpoint first: --config_path names one (LeRobot's way), else the run's `last`.
    TrainConfig probe;
    apply_flags(f, probe);
    fs::path checkpoint;
    if (!f.config_path.empty()) {
      fs::path pm = config_path_dir(f.config_path);
      fs::path run = run_dir_of(pm);
      if (!probe.output_dir.empty() && fs::weakly_canonical(probe.output_dir) != run)
        throw util::InputError(util::cat("--output_dir ", probe.output_dir, " is not the run of --config_path ",
                                         f.config_path, " (", run.string(), "); give one of them"));
      checkpoint = train::checkpoint_to_resume(run, pm.parent_path());
      probe.output_dir = run.string();
    } else {
      if (probe.output_dir.empty())
        throw util::InputError("--resume needs --output_dir DIR of the run to continue (or --config_path "
                               "DIR/checkpoints/<step>/pretrained_model/train_config.json)");
      checkpoint = train::checkpoint_to_resume(probe.output_dir);
    }
    c = train::read_checkpoint_train_config(checkpoint / "pretrained_model");
    fall_back_from_missing_device(c, (checkpoint / "pretrained_model" / "train_config.json").string());
    c.output_dir = probe.output_dir;  // where the run is now, whatever train_config.json says
    c.resume_checkpoint = checkpoint.string();
    c.tracking_uri = probe.tracking_uri;
    c.experiment_name = probe.experiment_name;
    c.num_threads = probe.num_threads;
  } else if (!f.config_path.empty()) {
    // A new run that starts from another run's configuration (flags still override it).
    c = train::read_checkpoint_train_config(config_path_dir(f.config_path));
    fall_back_from_missing_device(c, f.config_path);
    c.output_dir.clear();
    // The episodes that run was given (it trained on dataset.episodes minus its held-out
    // ones): with the same seed and --val-split the new run holds out the same episodes.
    if (c.dataset.episodes && !c.val_episodes.empty()) {
      auto& eps = *c.dataset.episodes;
      eps.insert(eps.end(), c.val_episodes.begin(), c.val_episodes.end());
      std::sort(eps.begin(), eps.end());
      eps.erase(std::unique(eps.begin(), eps.end()), eps.end());
    }
    c.val_episodes.clear();  // chosen afresh for this run
  }
  std::string recorded_type;
  if (pretrained) {
    apply_pretrained_config(c, *pretrained);
    recorded_type = c.policy_type();
  }
  apply_flags(f, c);
  if (!recorded_type.empty() && c.policy_type() != recorded_type)
    throw util::InputError(util::cat("--policy.type ", c.policy_type(), " differs from the pretrained policy's type ", recorded_type,
                                     " (", pretrained->ref.given, "): drop --policy.type or pass ", recorded_type));
  c.resume = resume;
  check_config_ranges(c);
  return c;
}

// --policy.path / --policy-repo-id (a Hub model only; --policy.revision for either): checked
// here, fetched after every other input check.
std::optional<PretrainedRef> parse_pretrained_flags(const TrainFlags& f) {
  const auto& repo = f.options.policy_repo_id;
  if (!repo.empty() && !f.policy_path.empty())
    throw util::InputError("--policy.path and --policy-repo-id both name the pretrained policy: keep one");
  if (!f.policy_revision.empty() && repo.empty() && f.policy_path.empty())
    throw util::InputError("--policy.revision applies to --policy.path / --policy-repo-id OWNER/NAME (a Hub model)");
  if (!repo.empty()) return parse_pretrained_ref(repo, f.policy_revision, "--policy-repo-id", true);
  if (!f.policy_path.empty()) return parse_pretrained_ref(f.policy_path, f.policy_revision, "--policy.path");
  return std::nullopt;
}

// Local rank 0 fetches; the other processes on the node wait for it, so N workers never
// download (or merge) the same dataset at once. The marker names this launch (rendezvous
// address and port, and the launcher process all local workers share: ours, torchrun's agent
// or mpirun's daemon) so a marker from an earlier job is never taken for this one's.
fs::path fetched_marker(const storage::DatasetSources& sources, const train::DistEnv& dist) {
  util::Json key = {{"repo_id", sources.repo_id}, {"blob_urls", sources.blob_urls}, {"dataset_assets", sources.dataset_assets},
                    {"rendezvous", util::cat(dist.master_addr, ":", dist.master_port)}, {"launcher_pid", ::getppid()}};
  return fs::temp_directory_path() / util::cat("robotrain-fetched-", util::sha256_hex(key.dump()).substr(0, 16));
}

fs::path wait_for_fetch(const fs::path& marker, double timeout_s) {
  util::log_info("waiting for local rank 0 to fetch the dataset");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!fs::exists(marker)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw util::RuntimeError(util::cat("local rank 0 did not fetch the dataset within ", timeout_s,
                                         " s (--dist-timeout); see its log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return util::trim(util::read_file(marker));
}

// --dataset.repo_id without --dataset.root, --blob-url, --dataset-asset: fetched (merged when
// several) into --dataset-download-dir, the way `robotrain dataset fetch` does it. Returns the
// marker local rank 0 wrote for the other workers (empty when not distributed); rank 0 removes
// it at the end, when every worker has long read it (training needs them all).
fs::path fetch_sources(const storage::DatasetSources& sources, TrainFlags& f) {
  auto& o = f.options;
  storage::FetchOptions fo;
  fo.output = f.download_dir;
  fo.hub.revision = f.revision;
  if (o.config.dataset.episodes) fo.hub.episodes = *o.config.dataset.episodes;
  if (!f.blob_endpoint.empty()) fo.blob.endpoint = f.blob_endpoint;
  auto dist = train::dist_env_from_environment();
  fs::path root, written;
  if (dist && dist->local_rank != 0) {
    root = wait_for_fetch(fetched_marker(sources, *dist), o.dist_timeout_s);
  } else {
    root = storage::fetch_dataset_sources(sources, fo).root;
    if (dist) util::atomic_write_file(written = fetched_marker(sources, *dist), root.string());
  }
  o.config.dataset.root = root.string();
  o.dataset_source = storage::dataset_source_tag(sources);
  return written;
}

void run(TrainFlags& f, const std::vector<std::string>& extras) {
  apply_extras(extras, f);
  storage::DatasetSources sources;
  sources.blob_urls = f.blob_urls;
  sources.dataset_assets = f.dataset_assets;
  storage::validate_dataset_sources(sources);
  if (f.nproc_per_node < 1)
    throw util::InputError(util::cat("--nproc-per-node must be at least 1 (got ", f.nproc_per_node, ")"));
  auto& o = f.options;
  platform::check_mixed_precision(o.mixed_precision);
  if (o.val_split < 0 || o.val_split >= 1) throw util::InputError("--val-split must be in [0, 1)");
  if (!o.register_checkpoint.empty()) track::validate_register_name(o.register_checkpoint);
  if (o.no_tracking && !o.register_checkpoint.empty())
    throw util::InputError("--register-checkpoint needs tracking: drop --no-tracking");
  if (f.register_intermediate && o.register_checkpoint.empty())
    throw util::InputError("--register-intermediate needs --register-checkpoint NAME");
  std::optional<track::ModelSource> warm_start;
  if (!o.init_from_policy_model.empty()) {
    if (!o.policy_repo_id.empty())
      throw util::InputError("--init-from-policy-model and --policy-repo-id are mutually exclusive: keep one");
    if (!f.policy_path.empty())
      throw util::InputError("--init-from-policy-model and --policy.path both name the starting weights: keep one");
    warm_start = track::parse_warm_start_uri(o.init_from_policy_model);
  }
  std::optional<PretrainedRef> pretrained_ref = parse_pretrained_flags(f);
  o.config = build_config(f, nullptr);  // every input check first; the pretrained policy is fetched after them
  auto& data = o.config.dataset;
  if (!sources.empty() && !data.root.empty() && !o.config.resume)
    throw util::InputError("--dataset.root and --blob-url/--dataset-asset both name the training data: keep one");
  if (data.root.empty() && !data.repo_id.empty()) {
    sources.repo_id = data.repo_id;
    storage::validate_dataset_sources(sources);
  }
  if (!f.revision.empty() && sources.repo_id.empty())
    throw util::InputError("--dataset.revision applies to --dataset.repo_id (Hugging Face Hub) without --dataset.root");
  if (data.root.empty() && sources.empty())
    throw util::InputError("no training data: pass --dataset.root DIR, --dataset.repo_id OWNER/NAME, --blob-url URL or --dataset-asset URI");
  if (o.dist_timeout_s <= 0) throw util::InputError("--dist-timeout must be positive (seconds)");
  if (pretrained_ref && o.config.resume) {
    // The checkpoint holds every weight and the optimizer state; nothing to fetch.
    util::log_info("resuming: ", pretrained_ref->flag, " ", pretrained_ref->given, " is not loaded again");
  } else if (pretrained_ref) {
    if (pretrained_ref->is_hub()) {
      // The output directory and device checks too, before the download.
      TrainConfig check = o.config;
      if (check.dataset.root.empty()) check.dataset.root = "(fetched below)";
      if (check.policy_type().empty()) check.policy["type"] = "act";  // the pretrained config brings its own
      auto dist = train::dist_env_from_environment();
      train::resolve_config(check, !dist || dist->rank == 0);
    }
    const PretrainedSource pretrained = fetch_pretrained(*pretrained_ref);
    o.config = build_config(f, &pretrained);
    if (pretrained.ref.is_hub()) {
      for (const auto& [k, v] : pretrained.tags()) o.extra_tags[k] = v;
      if (o.policy_repo_id.empty()) o.policy_repo_id = pretrained.ref.repo_id;  // the policy_repo_id param: the source
    }
  }
  use_one_amp_switch(o);
  // --nproc-per-node N: this process becomes the launcher, unless a launcher (ours, torchrun,
  // Azure ML, mpirun) already made it a worker. The workers fetch the data and the warm-start
  // weights themselves (local rank 0 for the node).
  if (f.nproc_per_node > 1 && !train::dist_env_from_environment()) {
    // Flag and output-dir errors before any worker starts; the workers fetch remote data.
    const bool fetched_by_workers = data.root.empty();
    if (fetched_by_workers) data.root = "(fetched by the workers)";
    train::resolve_config(o.config);
    if (fetched_by_workers) data.root.clear();
    set_exit_code(train::launch_training(o.config, f.nproc_per_node));
    return;
  }
  ScratchPath fetch_marker;
  if (data.root.empty()) fetch_marker.dir = fetch_sources(sources, f);
  ScratchPath warm_dir;
  if (warm_start) resolve_warm_start(*warm_start, o, warm_dir);
  if (o.dataset_source.empty()) o.dataset_source = "local";
  if (!o.config.resume || o.config.dataset_source.empty()) o.config.dataset_source = o.dataset_source;
  if (f.register_intermediate) register_intermediate_checkpoints(f);
  auto outcome = train::run_training(o);
  std::string drop;
  if (outcome.first_loss > 0 && outcome.step > outcome.start_step) {
    char buf[128];
    double change = 100.0 * (1.0 - outcome.last_loss / outcome.first_loss);
    std::snprintf(buf, sizeof buf, "loss %.4f -> %.4f (%.1f%% %s)", outcome.first_loss, outcome.last_loss,
                  std::fabs(change), change >= 0 ? "lower" : "higher");
    drop = buf;
  }
  if (outcome.stop_signal) {
    if (outcome.primary)
      util::log_warn("training stopped by signal ", outcome.stop_signal, " at step ", outcome.step,
                   outcome.last_checkpoint ? util::cat("; last checkpoint ", outcome.last_checkpoint->string()) : "",
                   "; continue with: robotrain train --resume --output_dir ", outcome.output_dir.string());
    set_exit_code(128 + outcome.stop_signal);
    return;
  }
  util::log_info("training done: step ", outcome.step, drop.empty() ? "" : ", " + drop,
                 outcome.last_checkpoint ? ", checkpoint " + outcome.last_checkpoint->string() : "",
                 outcome.run_id.empty() ? "" : ", tracking run " + outcome.run_id);
  if (!o.register_checkpoint.empty() && outcome.primary) register_final_checkpoint(f, outcome);  // rank 0 only
}

CommandRegistrar reg(20, [](CLI::App& root) {
  auto* cmd = root.add_subcommand("train", "Train a policy (ACT, Diffusion) on a LeRobot dataset, lerobot-train style");
  cmd->allow_extras();
  cmd->footer(
      "Any policy config field can be set with --policy.<field> VALUE (e.g. --policy.chunk_size 20,\n"
      "--policy.dim_model 256, --policy.optimizer_lr 1e-4); values are JSON literals or strings.");
  auto fp = std::make_shared<TrainFlags>();
  TrainFlags& f = *fp;
  using C = TrainConfig;
  using S = const std::string&;
  // Help texts state the defaults from the configs themselves, never restated by hand.
  static const TrainConfig kDefaults{};
  static const train::TrainOptions kOptionDefaults{};
  auto on_off = [](bool b) { return b ? "true" : "false"; };
  add_flag(cmd, f, "--dataset.root,--dataset-root", "Local LeRobot dataset directory",
           // Absolute, so that train_config.json finds the data from any directory (LeRobot's
           // --config_path resume, a copied run directory).
           [](C& c, S v) { c.dataset.root = fs::absolute(v).lexically_normal().string(); });
  add_flag(cmd, f, "--dataset.repo_id,--dataset-repo-id",
           "Hugging Face Hub dataset OWNER/NAME (downloaded to the hub cache unless --dataset.root is given)",
           [](C& c, S v) { c.dataset.repo_id = v; });
  cmd->add_option("--dataset.revision,--dataset-revision", f.revision,
                  "Hub branch, tag or commit (default: the v3.0 tag or the newest compatible one)");
  add_flag(cmd, f, "--dataset.episodes,--dataset-episodes", "Episodes to train on, e.g. [0,1,5]",
           [](C& c, S v) { c.dataset.episodes = train::parse_episode_list(v); });
  add_bool(cmd, f, "--dataset.image_transforms.enable,--dataset-image-transforms-enable",
           "LeRobot image augmentations (brightness, contrast, saturation, hue, sharpness, affine)",
           [](C& c, bool b) { c.dataset.image_transforms.enable = b; });
  add_int(cmd, f, "--dataset.image_transforms.max_num_transforms,--dataset-image-transforms-max-num-transforms",
          util::cat("At most this many augmentations per image (default ", kDefaults.dataset.image_transforms.max_num_transforms, ")"), 1, kMaxTransforms,
          [](C& c, int64_t v) { c.dataset.image_transforms.max_num_transforms = static_cast<int>(v); });
  add_bool(cmd, f, "--dataset.image_transforms.random_order,--dataset-image-transforms-random-order",
           "Apply the drawn augmentations in random order", [](C& c, bool b) { c.dataset.image_transforms.random_order = b; });
  add_bool(cmd, f, "--dataset.use_imagenet_stats,--dataset-use-imagenet-stats",
           util::cat("Normalise cameras with ImageNet stats (default ", on_off(kDefaults.dataset.use_imagenet_stats), ")"), [](C& c, bool b) { c.dataset.use_imagenet_stats = b; });
  add_flag(cmd, f, "--policy.type,--policy-type", "act | diffusion", [](C& c, S v) { c.policy["type"] = v; });
  cmd->add_option("--policy.path,--policy-path", f.policy_path,
                  "Fine-tune (weights only): config and weights from a pretrained_model directory or a Hugging Face Hub "
                  "model OWNER/NAME[@REV] (downloaded to the hub cache)");
  cmd->add_option("--policy.revision,--policy-revision", f.policy_revision,
                  "Hub branch, tag or commit of --policy.path / --policy-repo-id (default main)");
  add_flag(cmd, f, "--policy.device,--policy-device",
           "cpu | cuda | cuda:N (default cuda when available; a pretrained config's device falls back to what this machine has)",
           [](C& c, S v) { c.policy["device"] = v; });
  add_bool(cmd, f, "--use_amp,--use-amp,--policy.use_amp,--policy-use-amp", "Mixed precision (bf16 autocast) on CUDA",
           [](C& c, bool b) { c.policy["use_amp"] = b; });
  add_int(cmd, f, "--steps", util::cat("Training steps (default ", kDefaults.steps, ")"), 1, kMaxSteps, [](C& c, int64_t v) { c.steps = v; });
  add_int(cmd, f, "--batch_size,--batch-size", util::cat("Batch size (default ", kDefaults.batch_size, ")"), 1, kMaxBatchSize,
          [](C& c, int64_t v) { c.batch_size = static_cast<int>(v); });
  add_int(cmd, f, "--save_freq,--save-freq", util::cat("Checkpoint every N steps and at the end (default ", kDefaults.save_freq, ")"), 1, kMaxSteps,
          [](C& c, int64_t v) { c.save_freq = v; });
  add_bool(cmd, f, "--save_checkpoint,--save-checkpoint", util::cat("Write checkpoints (default ", on_off(kDefaults.save_checkpoint), ")"),
           [](C& c, bool b) { c.save_checkpoint = b; });
  add_int(cmd, f, "--log_freq,--log-freq", util::cat("Log line and metrics every N steps (default ", kDefaults.log_freq, "; 0: never)"), 0, kMaxSteps,
          [](C& c, int64_t v) { c.log_freq = v; });
  add_int(cmd, f, "--eval_freq,--eval-freq", util::cat("val/loss on the held-out episodes (--val-split) every N steps (default ", kDefaults.eval_freq, "; 0: never)"),
          0, kMaxSteps,
          [](C& c, int64_t v) { c.eval_freq = v; });
  add_int(cmd, f, "--num_workers,--num-workers", util::cat("Data loader threads (default ", kDefaults.num_workers, ")"), 0, max_loader_workers(),
          [](C& c, int64_t v) { c.num_workers = static_cast<int>(v); });
  add_int(cmd, f, "--seed", util::cat("Seed for weights, sampling and augmentation (default ", kDefaults.seed, ")"), 0, kMaxSeed,
          [](C& c, int64_t v) { c.seed = v; });
  add_flag(cmd, f, "--output_dir,--output-dir", "Run directory (default outputs/train/<date>/<time>_<job>)",
           [](C& c, S v) { c.output_dir = v; });
  add_flag(cmd, f, "--job_name,--job-name", "Job name (default: the policy type)", [](C& c, S v) { c.job_name = v; });
  f.resume_opt = cmd->add_option("--resume", f.resume, "Continue the run in --output_dir from checkpoints/last")->expected(0, 1);
  cmd->add_option("--config_path,--config-path", f.config_path,
                  "A checkpoint's pretrained_model/train_config.json: with --resume, continue from that checkpoint "
                  "(LeRobot's way); without, start a new run from its configuration");
  add_bool(cmd, f, "--use_policy_training_preset,--use-policy-training-preset",
           util::cat("Optimizer/scheduler from the policy (default ", on_off(kDefaults.use_policy_training_preset), ")"), [](C& c, bool b) { c.use_policy_training_preset = b; });
  add_flag(cmd, f, "--tracking-uri,--tracking_uri", "MLflow tracking URI (default $MLFLOW_TRACKING_URI or ./mlruns)",
           [](C& c, S v) { c.tracking_uri = v; });
  add_flag(cmd, f, "--experiment-name,--experiment_name", "MLflow experiment (default lerobot-<policy>-<job>)",
           [](C& c, S v) { c.experiment_name = v; });
  add_int(cmd, f, "--num-threads,--num_threads", util::cat("Intra-op CPU threads (default ", kDefaults.num_threads, ": all cores)"), 0, 1024,
          [](C& c, int64_t v) { c.num_threads = static_cast<int>(v); });
  // Seed-system submission settings (robotrain submit passes these to the job).
  auto& o = f.options;
  cmd->add_option("--mixed-precision,--mixed_precision", o.mixed_precision, "no | fp16 | bf16 autocast (--use_amp true is bf16)");
  cmd->add_option("--val-split,--val_split", o.val_split, util::cat("Fraction of episodes held out for val/loss and replay evaluation, recorded in the checkpoint (default ", kOptionDefaults.val_split, "; 0 trains on all)"))
      ->transform(real_in(0, 1));
  cmd->add_option("--val-batches,--val_batches", o.val_max_batches, util::cat("val/loss over at most this many batches (default ", kOptionDefaults.val_max_batches, ")"))
      ->transform(int_in(1, 1000000));
  cmd->add_option("--dist-timeout,--dist_timeout", o.dist_timeout_s,
                  util::cat("Distributed: seconds before a silent worker fails the job (default ", kOptionDefaults.dist_timeout_s, ")"))
      ->transform(real_in(0, 7 * 86400));
  cmd->add_option("--policy-repo-id", o.policy_repo_id, kPolicyRepoIdHelp);
  cmd->add_option("--register-checkpoint,--register_checkpoint", o.register_checkpoint,
                  "Register the final checkpoint under this name in the tracking URI's model registry");
  cmd->add_flag("--register-intermediate,--register_intermediate", f.register_intermediate,
                "With --register-checkpoint: also register every intermediate checkpoint as it is saved");
  cmd->add_option("--init-from-policy-model", o.init_from_policy_model,
                  "Warm start (weights only): models:/NAME/VERSION, azureml:NAME:VERSION, azureml://.../models/NAME/versions/V, "
                  "an https blob folder or a local pretrained_model directory");
  cmd->add_option("--dataset-source", o.dataset_source, "dataset.source tag (local, huggingface, azure-blob, ...)");
  cmd->add_flag("--no-tracking", o.no_tracking, "Do not log to MLflow (no run, no local mlruns store)");
  auto sysm = std::make_shared<std::string>();
  auto* sysm_opt = cmd->add_option("--system-metrics,--system_metrics", *sysm, "Log system/* metrics every 30 s (default true)")
                       ->expected(0, 1);
  auto graph = std::make_shared<std::string>();
  auto* graph_opt = cmd->add_option("--cuda-graph,--cuda_graph", *graph,
                                    "Capture the training step as a CUDA graph and replay it (CUDA, fixed shapes; default false)")
                        ->expected(0, 1);
  auto logck = std::make_shared<std::string>();
  auto* logck_opt = cmd->add_option("--log-checkpoints", *logck, "Upload checkpoints as MLflow artifacts (default: remote trackers)")
                        ->expected(0, 1);
  cmd->add_option("--blob-url", f.blob_urls,
                  "Dataset under https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX (repeatable; several are merged)");
  cmd->add_option("--dataset-asset", f.dataset_assets,
                  "Azure ML data asset azureml:NAME:VERSION (mounted inside an Azure ML job, else downloaded; repeatable)");
  cmd->add_option("--blob-endpoint", f.blob_endpoint, "Blob service endpoint for emulators (Azurite) and sovereign clouds");
  cmd->add_option("--dataset-download-dir", f.download_dir,
                  "Where fetched datasets go (default ~/.robotrain/datasets/<source>-<hash>, reused when complete)");
  cmd->add_option("--nproc-per-node,--nproc_per_node", f.nproc_per_node,
                  "Data-parallel worker processes on this machine (1); effective batch = batch_size x workers")
      ->transform(int_in(1, 1024));
  cmd->callback([fp, cmd, sysm, sysm_opt, logck, logck_opt, graph, graph_opt] {
    if (sysm_opt->count()) fp->options.system_metrics = parse_bool("--system-metrics", *sysm);
    if (graph_opt->count()) fp->options.cuda_graph = parse_bool("--cuda-graph", *graph);
    if (logck_opt->count()) fp->options.log_checkpoints = parse_bool("--log-checkpoints", *logck);
    run(*fp, cmd->remaining());
  });
});

}  // namespace
}  // namespace robotrain::cli
