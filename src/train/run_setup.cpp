// setup_run: a TrainingRun built from its options, in the order lerobot-train's train()
// prepares one (device, seed, policy, optimizer and scheduler, resume), then the data and
// the tracking (train/run_data.cpp, train/run_tracking.cpp).
#include <ATen/Parallel.h>

#include <ctime>
#include <thread>

#include "dataset/loader.h"
#include "track/tracker.h"
#include "train/checkpoint_dir.h"
#include "train/cuda_graph.h"
#include "train/device_feeder.h"
#include "train/distributed.h"
#include "train/image_transforms.h"
#include "train/loss_scaler.h"
#include "train/optim.h"
#include "train/policy_io.h"
#include "train/run_lock.h"
#include "train/training_run.h"
#include "train/training_state.h"
#include "util/error.h"
#include "util/log.h"
#include "util/native_runtime.h"
#include "util/strings.h"

namespace robotrain::train {

namespace fs = std::filesystem;

TrainingRun::TrainingRun(TrainOptions run_options) : options(std::move(run_options)), cfg(options.config) {}
TrainingRun::~TrainingRun() = default;

namespace {

std::string default_output_dir(const std::string& job_name) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char day[16], time[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  std::strftime(time, sizeof time, "%H-%M-%S", &tm);
  return util::cat("outputs/train/", day, "/", time, "_", job_name);
}

torch::Device pick_device(const std::string& requested) {
  if (requested.empty() || requested == "auto") return torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  torch::Device d(torch::kCPU);
  try {
    d = torch::Device(requested);
  } catch (const std::exception&) {
    throw util::InputError(util::cat("--policy.device '", requested, "' is not a device; use cpu, cuda or cuda:N"));
  }
  if (d.is_cuda() && !torch::cuda::is_available())
    throw util::InputError(util::cat("--policy.device ", requested,
                                     ": this LibTorch build or machine has no CUDA device; use --policy.device cpu"));
  if (!d.is_cpu() && !d.is_cuda())
    throw util::InputError(util::cat("--policy.device ", requested, " is not supported; use cpu or cuda"));
  return d;
}

// A weights-only warm start: --policy.path or --init-from-policy-model as a local directory
// holding config.json + model.safetensors (the pretrained_model/ folder or its parent).
fs::path pretrained_dir_of(const std::string& source) {
  fs::path p(source);
  if (fs::is_regular_file(p / "model.safetensors")) return p;
  if (fs::is_regular_file(p / "pretrained_model" / "model.safetensors")) return p / "pretrained_model";
  throw util::InputError(util::cat(source, ": no model.safetensors here or in pretrained_model/; ",
                                   "give a LeRobot pretrained_model directory"));
}

// Ranks, the run directory's lock, CPU threads, the device and the process group.
void place_run(TrainingRun& r) {
  TrainConfig& cfg = r.cfg;
  // A worker of a data-parallel job (our launcher, torchrun, Azure ML or mpirun started it).
  r.dist_env = dist_env_from_environment();
  const bool distributed = r.dist_env && r.dist_env->distributed();
  if (!distributed) r.dist_env.reset();
  r.outcome.primary = r.primary();
  // Only rank 0 talks; the others still report warnings and errors.
  if (!r.primary() && util::log_level() < util::LogLevel::Warn) util::set_log_level(util::LogLevel::Warn);
  resolve_config(cfg, r.primary());
  // Before anything is written: one run per output directory (rank 0 writes for all ranks).
  if (r.primary()) r.lock = std::make_unique<RunLock>(cfg.output_dir, cfg.resume);
  if (distributed && util::starts_with(cfg.policy_device(), "cuda") && cfg.policy_device().find(':') == std::string::npos)
    cfg.policy["device"] = util::cat("cuda:", r.dist_env->local_rank);  // one GPU per local rank
  r.outcome.output_dir = cfg.output_dir;

  // Workers on one machine share its cores.
  const int local_procs = distributed ? std::max(1, r.dist_env->local_world_size) : 1;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  r.threads = cfg.num_threads > 0 ? cfg.num_threads : std::max(1, cores / local_procs);
  at::set_num_threads(r.threads);
  util::log_info("compute: ", r.threads, " LibTorch threads; ", util::native_runtime_summary());
  r.device = torch::Device(cfg.policy_device());
  if (!distributed) return;
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(r.options.dist_timeout_s * 1000));
  r.dist = std::make_unique<DistContext>(*r.dist_env, r.device, timeout);
  util::log_info("distributed: ", r.world_size(), " workers (", r.dist->backend(), "), rendezvous ", r.dist_env->master_addr,
                 ":", r.dist_env->master_port, "; effective batch size ", cfg.batch_size * r.world_size());
}

// The one AMP switch (the CLI folds policy.use_amp into mixed_precision), the fp16 loss
// scaler, and what a captured CUDA graph cannot combine with.
void choose_precision(TrainingRun& r) {
  const std::string& mode = r.options.mixed_precision;
  r.use_amp = mode != "no";
  r.amp_dtype = mode == "fp16" ? torch::kFloat16 : torch::kBFloat16;
  if (r.use_amp && !r.device.is_cuda() && r.amp_dtype == torch::kFloat16) {
    util::log_warn("fp16 mixed precision needs CUDA; using bf16 autocast on ", r.device.str());
    r.amp_dtype = torch::kBFloat16;
  }
  if (r.use_amp)
    util::log_info("mixed precision: ", r.amp_dtype == torch::kFloat16 ? "fp16" : "bf16", " autocast on ", r.device.str());
  r.scaler = std::make_unique<LossScaler>(r.use_amp && r.amp_dtype == torch::kFloat16);  // fp16 only (CUDA)
  if (!r.options.cuda_graph) return;
  if (!r.device.is_cuda()) throw util::InputError("--cuda_graph true needs --policy.device cuda");
  if (r.dist_env)
    throw util::InputError("--cuda_graph true does not combine with data-parallel training (--nproc-per-node > 1)");
  if (r.scaler->enabled())
    throw util::InputError("--cuda_graph true does not combine with fp16 loss scaling (it skips steps on the host); use bf16");
}

// The policy from the dataset's features (pretrained backbone, warm-start weights), and its
// LeRobot optimizer preset unless one is configured explicitly.
void build_model(TrainingRun& r) {
  TrainConfig& cfg = r.cfg;
  // Resume: everything but the explicit overrides comes from the checkpoint's train_config.json.
  if (cfg.resume) r.resume_from = checkpoint_to_resume(cfg.output_dir, cfg.resume_checkpoint);
  // Dataset metadata first: the policy's shapes and normalisation come from it.
  r.meta = dataset::load_metadata(cfg.dataset.root);
  torch::manual_seed(static_cast<uint64_t>(cfg.seed));
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(static_cast<uint64_t>(cfg.seed));
  r.policy = build_policy(cfg.policy, r.meta, cfg.dataset.use_imagenet_stats);
  const std::string& warm_start = !r.options.init_from_policy_model.empty() ? r.options.init_from_policy_model : cfg.policy_path;
  if (!r.resume_from && warm_start.empty()) r.policy->load_pretrained_backbone();  // else the checkpoint has every weight
  cfg.policy = r.policy->config_json();
  r.policy->to(r.device);
  if (!r.resume_from && !warm_start.empty()) {
    fs::path dir = pretrained_dir_of(warm_start);
    util::log_info("fine-tuning: weights from ", dir.string());
    load_policy_weights(*r.policy, dir);
  }
  if (cfg.use_policy_training_preset || !cfg.optimizer) {
    const policy::OptimizerPreset preset = r.policy->optimizer_preset();
    cfg.optimizer = preset.optimizer;
    cfg.scheduler = preset.scheduler;
  }
  r.optimizer = std::make_unique<Optimizer>(*cfg.optimizer, r.policy->param_groups());
  if (cfg.scheduler && !cfg.scheduler->type.empty())
    r.scheduler = std::make_unique<LrScheduler>(*cfg.scheduler, cfg.steps, *r.optimizer);
}

// Weights, optimizer, scheduler and loss scale from the checkpoint; then every rank starts
// from rank 0's weights and buffers, whatever its own seed or files gave it.
void restore_checkpoint(TrainingRun& r) {
  if (r.resume_from) {
    util::log_info("resuming from ", r.resume_from->string());
    load_policy_weights(*r.policy, *r.resume_from / "pretrained_model");
    auto st = load_training_state(*r.resume_from / "training_state", *r.optimizer, r.scheduler.get());
    r.step = st.step;
    r.resumed_state = st.robotrain;
    r.scaler->load(r.resumed_state.value("loss_scaler", util::Json()));
    if (r.step >= r.cfg.steps)
      util::log_warn("checkpoint is at step ", r.step, " and --steps is ", r.cfg.steps,
                     ": nothing to do; raise --steps to continue");
  }
  r.outcome.start_step = r.step;
  if (!r.dist) return;
  std::vector<torch::Tensor> state = r.policy->parameters();
  for (auto& b : r.policy->buffers()) state.push_back(b);
  r.dist->broadcast(state);
}

void log_run_summary(const TrainingRun& r) {
  int64_t n_params = 0, n_learnable = 0;
  for (const auto& p : r.policy->parameters()) {
    n_params += p.numel();
    if (p.requires_grad()) n_learnable += p.numel();
  }
  auto big = [](int64_t n) { return format_big_number(static_cast<double>(n)); };
  util::log_info("output dir: ", r.cfg.output_dir);
  util::log_info("cfg.steps=", r.cfg.steps, " (", big(r.cfg.steps), ") dataset.num_frames=", r.train_data->num_frames(),
                 " dataset.num_episodes=", r.train_data->episodes_used().size(), " device=", r.device.str(),
                 " threads=", r.threads);
  util::log_info("num_learnable_params=", n_learnable, " (", big(n_learnable), ") num_total_params=", n_params, " (",
                 big(n_params), ")");
}

// Gradient averaging across ranks, and the captured CUDA graph step.
void build_step_machinery(TrainingRun& r) {
  if (r.dist) r.reducer = std::make_unique<GradReducer>(*r.dist, r.optimizer->parameters());
  if (!r.options.cuda_graph) return;
  CudaGraphOptions go;
  go.autocast = r.use_amp;
  go.autocast_dtype = r.amp_dtype;
  go.grad_clip_norm = r.cfg.optimizer->grad_clip_norm;
  r.graph = std::make_unique<CudaGraphStep>(*r.policy, *r.optimizer, go);
  util::log_info("cuda graph: the training step is captured after ", go.warmup_steps, " eager steps and replayed");
}

}  // namespace

void resolve_config(TrainConfig& c, bool primary) {
  if (c.policy_type().empty())
    throw util::InputError("no policy: give --policy.type act|diffusion, or --policy.path DIR|OWNER/NAME (a pretrained_model directory or Hub model)");
  if (c.steps <= 0) throw util::InputError(util::cat("--steps must be positive (got ", c.steps, ")"));
  if (c.batch_size <= 0) throw util::InputError(util::cat("--batch_size must be positive (got ", c.batch_size, ")"));
  if (c.num_workers < 0) throw util::InputError("--num_workers must be 0 or more");
  if (c.log_freq < 0) throw util::InputError("--log_freq must be 0 (off) or more");
  if (c.job_name.empty()) c.job_name = c.policy_type();
  if (c.dataset.root.empty()) {
    if (!c.dataset.repo_id.empty())
      throw util::InputError(util::cat("--dataset.repo_id ", c.dataset.repo_id,
                                       ": no local copy; fetch it first (robotrain dataset fetch, or robotrain train fetches it) and pass --dataset.root DIR"));
    throw util::InputError("no dataset: give --dataset.root DIR (a local LeRobot dataset)");
  }
  if (c.output_dir.empty()) {
    if (c.resume) throw util::InputError("--resume needs --output_dir DIR of the run to continue");
    c.output_dir = default_output_dir(c.job_name);
  }
  if (primary && !c.resume) check_new_run_dir(c.output_dir);
  std::string dev = c.policy_device();
  c.policy["device"] = pick_device(dev).str();
}

std::unique_ptr<TrainingRun> setup_run(TrainOptions options) {
  auto run = std::make_unique<TrainingRun>(std::move(options));
  place_run(*run);
  choose_precision(*run);  // checked before the dataset, the policy or the tracker is touched
  build_model(*run);
  restore_checkpoint(*run);
  hold_out_validation_episodes(*run);
  open_training_data(*run);
  open_tracking(*run);
  log_run_summary(*run);
  build_step_machinery(*run);
  return run;
}

}  // namespace robotrain::train
