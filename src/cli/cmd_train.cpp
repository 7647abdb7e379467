// `robotrain train`: lerobot-train's flags (dotted, as LeRobot spells them, and dashed), any
// policy config field as --policy.<field>, and the seed system's submission settings.
//
//   robotrain train --dataset.root data/pusht --policy.type act --steps 2000 --batch_size 8
//   robotrain train --resume --output_dir outputs/train/run --steps 4000
//   robotrain train --config_path outputs/train/run/checkpoints/002000/pretrained_model/train_config.json --resume=true
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "cli/pretrained_source.h"
#include "platform/submit_options.h"
#include "storage/dataset_source.h"
#include "track/model_uri.h"
#include "train/dist_env.h"
#include "train/launcher.h"
#include "train/registration.h"
#include "train/run_config.h"
#include "train/trainer.h"
#include "train/training_data_fetch.h"
#include "train/warm_start.h"
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
  train::CheckpointRegistration registration;  // --blob-url, --dataset-asset, --register-intermediate
  std::string download_dir, revision, blob_endpoint;
  int nproc_per_node = 1;
  // Options outside the training configuration that take an optional true/false.
  struct Switch {
    CLI::Option* opt;
    std::shared_ptr<std::string> value;
    std::function<void(bool)> apply;
  };
  std::vector<Switch> switches;
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

void add_switch(CLI::App* cmd, TrainFlags& f, const std::string& names, const std::string& help,
                std::function<void(bool)> apply) {
  auto value = std::make_shared<std::string>();
  auto* opt = cmd->add_option(names, *value, help)->expected(0, 1);
  f.switches.push_back({opt, value, std::move(apply)});
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

// The held-out split is fixed when a run starts: a resumed run keeps the one it recorded.
void keep_recorded_split(TrainConfig& c, double recorded) {
  if (c.val_split == recorded) return;
  util::log_warn("--val-split ", c.val_split, " ignored: the run holds out the episodes it started with (--val-split ",
                 recorded, ")");
  c.val_split = recorded;
}

// The run's configuration: defaults (or the checkpoint's for --resume, or --config_path's),
// then the pretrained policy's config (--policy.path / --policy-repo-id, once fetched), then
// the flags. Without `pretrained` the policy part stays as the flags make it (the early
// validation pass, before anything is downloaded).
TrainConfig build_config(TrainFlags& f, const PretrainedSource* pretrained) {
  TrainConfig c;
  const bool resume = f.resume_opt->count() > 0 && parse_bool("--resume", f.resume);
  if (resume) {
    TrainConfig given;  // the flags alone: where the run is, where it tracks to
    apply_flags(f, given);
    c = train::config_to_resume(given.output_dir, f.config_path);
    c.tracking_uri = given.tracking_uri;
    c.experiment_name = given.experiment_name;
    c.num_threads = given.num_threads;
  } else if (!f.config_path.empty()) {
    c = train::config_of_other_run(f.config_path);  // flags still override it
  }
  std::string recorded_type;
  if (pretrained) {
    train::apply_pretrained_policy(c, pretrained->dir, pretrained->ref.pretrained_path());
    recorded_type = c.policy_type();
  }
  const double recorded_split = c.val_split;
  apply_flags(f, c);
  if (resume) keep_recorded_split(c, recorded_split);
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

// The data-source flags (--blob-url, --dataset-asset, and --dataset.repo_id without a root)
// checked against the configuration: one source of training data, named well.
storage::DatasetSources check_data_sources(const TrainFlags& f, const TrainConfig& c) {
  storage::DatasetSources sources;
  sources.blob_urls = f.registration.blob_urls;
  sources.dataset_assets = f.registration.dataset_assets;
  if (!sources.empty() && !c.dataset.root.empty() && !c.resume)
    throw util::InputError("--dataset.root and --blob-url/--dataset-asset both name the training data: keep one");
  if (c.dataset.root.empty() && !c.dataset.repo_id.empty()) sources.repo_id = c.dataset.repo_id;
  storage::validate_dataset_sources(sources);
  if (!f.revision.empty() && sources.repo_id.empty())
    throw util::InputError("--dataset.revision applies to --dataset.repo_id (Hugging Face Hub) without --dataset.root");
  if (c.dataset.root.empty() && sources.empty())
    throw util::InputError("no training data: pass --dataset.root DIR, --dataset.repo_id OWNER/NAME, --blob-url URL or --dataset-asset URI");
  return sources;
}

// The seed system's settings that must agree with each other, before anything is built.
void check_seed_flags(const TrainFlags& f) {
  const auto& o = f.options;
  platform::check_mixed_precision(o.mixed_precision);
  if (!o.register_checkpoint.empty()) track::validate_register_name(o.register_checkpoint);
  if (o.no_tracking && !o.register_checkpoint.empty())
    throw util::InputError("--register-checkpoint needs tracking: drop --no-tracking");
  if (f.registration.intermediate && o.register_checkpoint.empty())
    throw util::InputError("--register-intermediate needs --register-checkpoint NAME");
  if (o.dist_timeout_s <= 0) throw util::InputError("--dist-timeout must be positive (seconds)");
}

// --init-from-policy-model, parsed (no network) and checked against the other weight sources.
std::optional<track::ModelSource> parse_warm_start_flag(const TrainFlags& f) {
  const auto& o = f.options;
  if (o.init_from_policy_model.empty()) return std::nullopt;
  if (!o.policy_repo_id.empty())
    throw util::InputError("--init-from-policy-model and --policy-repo-id are mutually exclusive: keep one");
  if (!f.policy_path.empty())
    throw util::InputError("--init-from-policy-model and --policy.path both name the starting weights: keep one");
  return track::parse_warm_start_uri(o.init_from_policy_model);
}

// A Hub model is fetched only after the output directory and device checks pass too.
void check_before_download(const TrainConfig& config) {
  TrainConfig check = config;
  if (check.dataset.root.empty()) check.dataset.root = "(fetched below)";
  if (check.policy_type().empty()) check.policy["type"] = "act";  // the pretrained config brings its own
  auto dist = train::dist_env_from_environment();
  train::resolve_config(check, !dist || dist->rank == 0);
}

// The pretrained policy (--policy.path / --policy-repo-id) fetched and its config applied;
// a resumed run's checkpoint already holds every weight.
void apply_pretrained(TrainFlags& f, const PretrainedRef& ref) {
  auto& o = f.options;
  if (o.config.resume) {
    util::log_info("resuming: ", ref.flag, " ", ref.given, " is not loaded again");
    return;
  }
  if (ref.is_hub()) check_before_download(o.config);
  const PretrainedSource pretrained = fetch_pretrained(ref);
  o.config = build_config(f, &pretrained);
  if (!pretrained.ref.is_hub()) return;
  for (const auto& [k, v] : pretrained.tags()) o.extra_tags[k] = v;
  if (o.policy_repo_id.empty()) o.policy_repo_id = pretrained.ref.repo_id;  // the policy_repo_id param: the source
}

// --nproc-per-node N: this process becomes the launcher, unless a launcher (ours, torchrun,
// Azure ML, mpirun) already made it a worker. Flag and output-dir errors come before any
// worker starts; the workers fetch the data and the warm-start weights themselves.
bool launch_workers_if_asked(TrainFlags& f) {
  if (f.nproc_per_node <= 1 || train::dist_env_from_environment()) return false;
  TrainConfig& c = f.options.config;
  const bool fetched_by_workers = c.dataset.root.empty();
  if (fetched_by_workers) c.dataset.root = "(fetched by the workers)";
  train::resolve_config(c);
  if (fetched_by_workers) c.dataset.root.clear();
  set_exit_code(train::launch_training(c, f.nproc_per_node));
  return true;
}

storage::FetchOptions fetch_options(const TrainFlags& f) {
  storage::FetchOptions fo;
  fo.output = f.download_dir;
  fo.hub.revision = f.revision;
  if (f.options.config.dataset.episodes) fo.hub.episodes = *f.options.config.dataset.episodes;
  if (!f.blob_endpoint.empty()) fo.blob.endpoint = f.blob_endpoint;
  return fo;
}

// "loss 0.9000 -> 0.1000 (88.9% lower)", or "" when no step ran.
std::string loss_change(const train::TrainOutcome& outcome) {
  if (outcome.first_loss <= 0 || outcome.step <= outcome.start_step) return "";
  char buf[128];
  double change = 100.0 * (1.0 - outcome.last_loss / outcome.first_loss);
  std::snprintf(buf, sizeof buf, "loss %.4f -> %.4f (%.1f%% %s)", outcome.first_loss, outcome.last_loss, std::fabs(change),
                change >= 0 ? "lower" : "higher");
  return buf;
}

// The closing line; a stopped run says how to continue and exits 128 + the signal.
void report(const train::TrainOutcome& outcome) {
  if (outcome.stop_signal) {
    if (outcome.primary)
      util::log_warn("training stopped by signal ", outcome.stop_signal, " at step ", outcome.step,
                     outcome.last_checkpoint ? util::cat("; last checkpoint ", outcome.last_checkpoint->string()) : "",
                     "; continue with: robotrain train --resume --output_dir ", outcome.output_dir.string());
    set_exit_code(128 + outcome.stop_signal);
    return;
  }
  const std::string drop = loss_change(outcome);
  util::log_info("training done: step ", outcome.step, drop.empty() ? "" : ", " + drop,
                 outcome.last_checkpoint ? ", checkpoint " + outcome.last_checkpoint->string() : "",
                 outcome.run_id.empty() ? "" : ", tracking run " + outcome.run_id);
}

void run(TrainFlags& f, const std::vector<std::string>& extras) {
  apply_extras(extras, f);
  check_seed_flags(f);
  auto& o = f.options;
  const std::optional<track::ModelSource> warm_start_source = parse_warm_start_flag(f);
  const std::optional<PretrainedRef> pretrained_ref = parse_pretrained_flags(f);
  o.config = build_config(f, nullptr);  // every input check first; the pretrained policy is fetched after them
  const storage::DatasetSources sources = check_data_sources(f, o.config);
  if (pretrained_ref) apply_pretrained(f, *pretrained_ref);
  use_one_amp_switch(o);
  if (launch_workers_if_asked(f)) return;
  std::optional<train::TrainingDataFetch> fetched;
  if (o.config.dataset.root.empty()) {
    fetched.emplace(sources, fetch_options(f), o.dist_timeout_s);
    o.config.dataset.root = fetched->root().string();
    o.dataset_source = storage::dataset_source_tag(sources);
  }
  std::optional<train::WarmStart> warm_start;
  if (warm_start_source) {
    warm_start.emplace(*warm_start_source, o.config.tracking_uri);
    o.extra_tags.insert(warm_start->tags().begin(), warm_start->tags().end());
    o.init_from_policy_model = warm_start->dir().string();
  }
  if (o.dataset_source.empty()) o.dataset_source = "local";
  if (!o.config.resume || o.config.dataset_source.empty()) o.config.dataset_source = o.dataset_source;
  train::register_checkpoints_as_written(o, f.registration);
  const auto outcome = train::run_training(o);
  report(outcome);
  if (!outcome.stop_signal && !o.register_checkpoint.empty() && outcome.primary)
    train::register_final_checkpoint(o, f.registration, outcome);  // rank 0 only
}

// Help texts state the defaults from the configs themselves, never restated by hand.
const TrainConfig& defaults() {
  static const TrainConfig d{};
  return d;
}
const char* on_off(bool b) { return b ? "true" : "false"; }

using C = TrainConfig;
using S = const std::string&;

void add_dataset_flags(CLI::App* cmd, TrainFlags& f) {
  const auto& d = defaults().dataset;
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
          util::cat("At most this many augmentations per image (default ", d.image_transforms.max_num_transforms, ")"), 1,
          kMaxTransforms, [](C& c, int64_t v) { c.dataset.image_transforms.max_num_transforms = static_cast<int>(v); });
  add_bool(cmd, f, "--dataset.image_transforms.random_order,--dataset-image-transforms-random-order",
           "Apply the drawn augmentations in random order", [](C& c, bool b) { c.dataset.image_transforms.random_order = b; });
  add_bool(cmd, f, "--dataset.use_imagenet_stats,--dataset-use-imagenet-stats",
           util::cat("Normalise cameras with ImageNet stats (default ", on_off(d.use_imagenet_stats), ")"),
           [](C& c, bool b) { c.dataset.use_imagenet_stats = b; });
  add_flag(cmd, f, "--val-split,--val_split",
           util::cat("Fraction of episodes held out for val/loss and replay evaluation, recorded in the checkpoint (default ",
                     defaults().val_split, "; 0 trains on all)"),
           [](C& c, S v) {
             c.val_split = parse_real_flag("--val-split", v, 0, 1);
             if (c.val_split >= 1) throw util::InputError("--val-split must be in [0, 1)");
           });
  f.flags.back().opt->transform(real_in(0, 1))->type_name("FLOAT");
}

void add_policy_flags(CLI::App* cmd, TrainFlags& f) {
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
  add_bool(cmd, f, "--use_policy_training_preset,--use-policy-training-preset",
           util::cat("Optimizer/scheduler from the policy (default ", on_off(defaults().use_policy_training_preset), ")"),
           [](C& c, bool b) { c.use_policy_training_preset = b; });
}

void add_loop_flags(CLI::App* cmd, TrainFlags& f) {
  const TrainConfig& d = defaults();
  add_int(cmd, f, "--steps", util::cat("Training steps (default ", d.steps, ")"), 1, kMaxSteps,
          [](C& c, int64_t v) { c.steps = v; });
  add_int(cmd, f, "--batch_size,--batch-size", util::cat("Batch size (default ", d.batch_size, ")"), 1, kMaxBatchSize,
          [](C& c, int64_t v) { c.batch_size = static_cast<int>(v); });
  add_int(cmd, f, "--save_freq,--save-freq", util::cat("Checkpoint every N steps and at the end (default ", d.save_freq, ")"),
          1, kMaxSteps, [](C& c, int64_t v) { c.save_freq = v; });
  add_bool(cmd, f, "--save_checkpoint,--save-checkpoint", util::cat("Write checkpoints (default ", on_off(d.save_checkpoint), ")"),
           [](C& c, bool b) { c.save_checkpoint = b; });
  add_int(cmd, f, "--log_freq,--log-freq", util::cat("Log line and metrics every N steps (default ", d.log_freq, "; 0: never)"),
          0, kMaxSteps, [](C& c, int64_t v) { c.log_freq = v; });
  add_int(cmd, f, "--eval_freq,--eval-freq",
          util::cat("val/loss on the held-out episodes (--val-split) every N steps (default ", d.eval_freq, "; 0: never)"), 0,
          kMaxSteps, [](C& c, int64_t v) { c.eval_freq = v; });
  add_int(cmd, f, "--num_workers,--num-workers", util::cat("Data loader threads (default ", d.num_workers, ")"), 0,
          max_loader_workers(), [](C& c, int64_t v) { c.num_workers = static_cast<int>(v); });
  add_int(cmd, f, "--seed", util::cat("Seed for weights, sampling and augmentation (default ", d.seed, ")"), 0, kMaxSeed,
          [](C& c, int64_t v) { c.seed = v; });
  add_int(cmd, f, "--num-threads,--num_threads", util::cat("Intra-op CPU threads (default ", d.num_threads, ": all cores)"), 0,
          1024, [](C& c, int64_t v) { c.num_threads = static_cast<int>(v); });
}

void add_run_flags(CLI::App* cmd, TrainFlags& f) {
  add_flag(cmd, f, "--output_dir,--output-dir", "Run directory (default outputs/train/<date>/<time>_<job>)",
           [](C& c, S v) { c.output_dir = v; });
  add_flag(cmd, f, "--job_name,--job-name", "Job name (default: the policy type)", [](C& c, S v) { c.job_name = v; });
  f.resume_opt = cmd->add_option("--resume", f.resume, "Continue the run in --output_dir from checkpoints/last")->expected(0, 1);
  cmd->add_option("--config_path,--config-path", f.config_path,
                  "A checkpoint's pretrained_model/train_config.json: with --resume, continue from that checkpoint "
                  "(LeRobot's way); without, start a new run from its configuration");
  add_flag(cmd, f, "--tracking-uri,--tracking_uri", "MLflow tracking URI (default $MLFLOW_TRACKING_URI or ./mlruns)",
           [](C& c, S v) { c.tracking_uri = v; });
  add_flag(cmd, f, "--experiment-name,--experiment_name", "MLflow experiment (default lerobot-<policy>-<job>)",
           [](C& c, S v) { c.experiment_name = v; });
}

// Seed-system settings (robotrain submit passes these to the job).
void add_seed_flags(CLI::App* cmd, TrainFlags& f) {
  static const train::TrainOptions kOptionDefaults{};
  auto& o = f.options;
  cmd->add_option("--mixed-precision,--mixed_precision", o.mixed_precision, "no | fp16 | bf16 autocast (--use_amp true is bf16)");
  cmd->add_option("--val-batches,--val_batches", o.val_max_batches,
                  util::cat("val/loss over at most this many batches (default ", kOptionDefaults.val_max_batches, ")"))
      ->transform(int_in(1, 1000000));
  cmd->add_option("--dist-timeout,--dist_timeout", o.dist_timeout_s,
                  util::cat("Distributed: seconds before a silent worker fails the job (default ", kOptionDefaults.dist_timeout_s, ")"))
      ->transform(real_in(0, 7 * 86400));
  cmd->add_option("--policy-repo-id", o.policy_repo_id, kPolicyRepoIdHelp);
  cmd->add_option("--register-checkpoint,--register_checkpoint", o.register_checkpoint,
                  "Register the final checkpoint under this name in the tracking URI's model registry");
  cmd->add_flag("--register-intermediate,--register_intermediate", f.registration.intermediate,
                "With --register-checkpoint: also register every intermediate checkpoint as it is saved");
  cmd->add_option("--init-from-policy-model", o.init_from_policy_model,
                  "Warm start (weights only): models:/NAME/VERSION, azureml:NAME:VERSION, azureml://.../models/NAME/versions/V, "
                  "an https blob folder or a local pretrained_model directory");
  cmd->add_option("--dataset-source", o.dataset_source, "dataset.source tag (local, huggingface, azure-blob, ...)");
  cmd->add_flag("--no-tracking", o.no_tracking, "Do not log to MLflow (no run, no local mlruns store)");
  cmd->add_option("--nproc-per-node,--nproc_per_node", f.nproc_per_node,
                  "Data-parallel worker processes on this machine (1); effective batch = batch_size x workers")
      ->transform(int_in(1, 1024));
}

void add_data_source_flags(CLI::App* cmd, TrainFlags& f) {
  cmd->add_option("--blob-url", f.registration.blob_urls,
                  "Dataset under https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX (repeatable; several are merged)");
  cmd->add_option("--dataset-asset", f.registration.dataset_assets,
                  "Azure ML data asset azureml:NAME:VERSION (mounted inside an Azure ML job, else downloaded; repeatable)");
  cmd->add_option("--blob-endpoint", f.blob_endpoint, "Blob service endpoint for emulators (Azurite) and sovereign clouds");
  cmd->add_option("--dataset-download-dir", f.download_dir,
                  "Where fetched datasets go (default ~/.robotrain/datasets/<source>-<hash>, reused when complete)");
}

// Switches that take an optional true/false and are not part of the training configuration.
void add_option_switches(CLI::App* cmd, TrainFlags& f) {
  auto& o = f.options;
  add_switch(cmd, f, "--system-metrics,--system_metrics", "Log system/* metrics every 30 s (default true)",
             [&o](bool b) { o.system_metrics = b; });
  add_switch(cmd, f, "--cuda-graph,--cuda_graph",
             "Capture the training step as a CUDA graph and replay it (CUDA, fixed shapes; default false)",
             [&o](bool b) { o.cuda_graph = b; });
  add_switch(cmd, f, "--log-checkpoints", "Upload checkpoints as MLflow artifacts (default: remote trackers)",
             [&o](bool b) { o.log_checkpoints = b; });
}

CommandRegistrar reg(20, [](CLI::App& root) {
  auto* cmd = root.add_subcommand("train", "Train a policy (ACT, Diffusion) on a LeRobot dataset, lerobot-train style");
  cmd->allow_extras();
  cmd->footer(
      "Any policy config field can be set with --policy.<field> VALUE (e.g. --policy.chunk_size 20,\n"
      "--policy.dim_model 256, --policy.optimizer_lr 1e-4); values are JSON literals or strings.");
  auto f = std::make_shared<TrainFlags>();
  add_dataset_flags(cmd, *f);
  add_policy_flags(cmd, *f);
  add_loop_flags(cmd, *f);
  add_run_flags(cmd, *f);
  add_seed_flags(cmd, *f);
  add_data_source_flags(cmd, *f);
  add_option_switches(cmd, *f);
  cmd->callback([f, cmd] {
    for (const auto& s : f->switches)
      if (s.opt->count() > 0) s.apply(parse_bool(s.opt->get_name(), *s.value));
    run(*f, cmd->remaining());
  });
});

}  // namespace
}  // namespace robotrain::cli
