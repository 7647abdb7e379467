#include "train/trainer.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <mutex>
#include <ctime>
#include <thread>

#include "dataset/loader.h"
#include "track/journal.h"
#include "track/tracker.h"
#include "track/tracking_uri.h"
#include "train/batch.h"
#include "train/checkpoint_dir.h"
#include "train/cuda_graph.h"
#include "train/device_feeder.h"
#include "train/dist_env.h"
#include "train/distributed.h"
#include "train/image_transforms.h"
#include "train/metrics_tracker.h"
#include "train/optim.h"
#include "train/policy_io.h"
#include "train/run_lock.h"
#include "train/stop_signal.h"
#include "train/training_state.h"
#include "train/loss_scaler.h"
#include "train/val_split.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"
#include "util/native_runtime.h"
#include "util/process.h"
#include "util/progress.h"
#include "util/strings.h"


namespace robotrain::train {

namespace fs = std::filesystem;
using util::Json;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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

// lerobot.framework etc. (the seed system's lineage tags).
std::map<std::string, std::string> seed_params(const TrainOptions& o, const OptimizerConfig& opt,
                                               const std::optional<SchedulerConfig>& sched, int world_size) {
  const TrainConfig& c = o.config;
  std::string repo = !c.dataset.repo_id.empty() ? c.dataset.repo_id : c.dataset.root;
  return {{"dataset_repo_id", repo},
          {"policy_type", c.policy_type()},
          {"job_name", c.job_name},
          {"policy_repo_id", o.policy_repo_id},
          {"training_steps", std::to_string(c.steps)},
          {"batch_size", std::to_string(c.batch_size)},
          {"learning_rate", Json(opt.lr).dump()},
          {"lr_warmup_steps", std::to_string(sched ? sched->num_warmup_steps : 0)},
          {"save_freq", std::to_string(c.save_freq)},
          {"val_split", Json(o.val_split).dump()},
          {"num_gpus", std::to_string(world_size)},
          {"mixed_precision", o.mixed_precision},
          {"distributed", world_size > 1 ? "true" : "false"},
          {"effective_batch_size", std::to_string(c.batch_size * world_size)},
          {"output_dir", c.output_dir},
          {"seed", std::to_string(c.seed)},
          {"policy_device", c.policy_device()}};
}

std::map<std::string, std::string> seed_tags(const TrainOptions& o, int world_size) {
  const TrainConfig& c = o.config;
  std::map<std::string, std::string> tags{{"lerobot.framework", "lerobot"},
                                          {"lerobot.policy_type", c.policy_type()},
                                          {"lerobot.job_name", c.job_name},
                                          {"lerobot.num_gpus", std::to_string(world_size)},
                                          {"lerobot.mixed_precision", o.mixed_precision},
                                          {"lerobot.distributed", world_size > 1 ? "true" : "false"},
                                          {"dataset.repo_id", !c.dataset.repo_id.empty() ? c.dataset.repo_id : c.dataset.root},
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

// A weights-only warm start: --policy.path or --init-from-policy-model as a local directory
// holding config.json + model.safetensors (the pretrained_model/ folder or its parent).
fs::path pretrained_dir_of(const std::string& source) {
  fs::path p(source);
  if (fs::is_regular_file(p / "model.safetensors")) return p;
  if (fs::is_regular_file(p / "pretrained_model" / "model.safetensors")) return p / "pretrained_model";
  throw util::InputError(util::cat(source, ": no model.safetensors here or in pretrained_model/; ",
                                   "give a LeRobot pretrained_model directory"));
}


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

// Mean loss over at most `max_batches` batches of the held-out episodes, in eval mode without
// gradients. The batches are the same at every evaluation (fixed order), so the curve
// compares like with like.
double validation_loss(policy::Policy& policy, const dataset::LeRobotDataset& val_ds, uint64_t seed, int batch_size,
                       int max_batches, BatchAdapterOptions adapter) {
  dataset::SamplerOptions so{seed, true, policy.drop_n_last_frames(), 0, 1};
  dataset::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.num_workers = 1;
  lo.prefetch_batches = 2;
  lo.drop_last = false;
  dataset::DataLoader loader(val_ds, so, lo);
  const int64_t n = std::max<int64_t>(1, std::min<int64_t>(max_batches, loader.batches_per_epoch()));
  adapter.transforms = nullptr;  // no augmentation when measuring
  ForkedCpuRng rng(seed);
  torch::NoGradGuard no_grad;
  policy.eval();
  double sum = 0;
  int64_t count = 0;
  try {
    for (int64_t i = 0; i < n; ++i) {
      dataset::Batch host = loader.next();
      const int64_t b = host.size;
      policy::TensorMap batch = to_device_batch(std::move(host), adapter);
      sum += policy.forward_loss(batch).loss.item<double>() * static_cast<double>(b);
      count += b;
    }
  } catch (...) {
    policy.train();
    throw;
  }
  policy.train();
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

// Autocast for the forward pass (torch.autocast / accelerate's mixed precision): fp16 or bf16
// on CUDA, bf16 on CPU (torch 2.x has CPU bf16 kernels for everything these policies run).
struct AmpGuard {
  bool on = false;
  at::DeviceType type = at::kCPU;
  AmpGuard(bool enable, at::DeviceType device_type, c10::ScalarType dtype) : on(enable), type(device_type) {
    if (!on) return;
    at::autocast::set_autocast_dtype(type, dtype);
    at::autocast::set_autocast_enabled(type, true);
  }
  ~AmpGuard() {
    if (!on) return;
    at::autocast::set_autocast_enabled(type, false);
    at::autocast::clear_cache();
  }
};

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

TrainOutcome run_training(TrainOptions options) {
  TrainConfig& cfg = options.config;
  // A worker of a data-parallel job (our launcher, torchrun, Azure ML or mpirun started it).
  const std::optional<DistEnv> denv = dist_env_from_environment();
  const bool distributed = denv && denv->distributed();
  const int rank = distributed ? denv->rank : 0;
  const int world_size = distributed ? denv->world_size : 1;
  const bool primary = rank == 0;
  // Only rank 0 talks; the others still report warnings and errors.
  if (!primary && util::log_level() < util::LogLevel::Warn) util::set_log_level(util::LogLevel::Warn);
  resolve_config(cfg, primary);
  // Before anything is written: one run per output directory (rank 0 writes for all ranks).
  std::optional<RunLock> run_lock;
  if (primary) run_lock.emplace(cfg.output_dir, cfg.resume);
  if (distributed && util::starts_with(cfg.policy_device(), "cuda") && cfg.policy_device().find(':') == std::string::npos)
    cfg.policy["device"] = util::cat("cuda:", denv->local_rank);  // one GPU per local rank
  const fs::path out_dir = cfg.output_dir;
  TrainOutcome outcome;
  outcome.output_dir = out_dir;
  outcome.primary = primary;

  // Workers on one machine share its cores.
  const int local_procs = distributed ? std::max(1, denv->local_world_size) : 1;
  int threads = cfg.num_threads > 0
                    ? cfg.num_threads
                    : std::max(1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) / local_procs);
  at::set_num_threads(threads);
  util::log_info("compute: ", threads, " LibTorch threads; ", util::native_runtime_summary());
  const torch::Device device(cfg.policy_device());
  std::unique_ptr<DistContext> dist;
  if (distributed) {
    auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.dist_timeout_s * 1000));
    dist = std::make_unique<DistContext>(*denv, device, timeout);
    util::log_info("distributed: ", world_size, " workers (", dist->backend(), "), rendezvous ", denv->master_addr, ":",
                   denv->master_port, "; effective batch size ", cfg.batch_size * world_size);
  }
  // The one AMP switch (the CLI folds policy.use_amp into it).
  const bool use_amp = options.mixed_precision != "no";
  c10::ScalarType amp_dtype = options.mixed_precision == "fp16" ? torch::kFloat16 : torch::kBFloat16;
  if (use_amp && !device.is_cuda() && amp_dtype == torch::kFloat16) {
    util::log_warn("fp16 mixed precision needs CUDA; using bf16 autocast on ", device.str());
    amp_dtype = torch::kBFloat16;
  }
  if (use_amp)
    util::log_info("mixed precision: ", amp_dtype == torch::kFloat16 ? "fp16" : "bf16", " autocast on ", device.str());
  LossScaler scaler(use_amp && amp_dtype == torch::kFloat16);  // fp16 only (CUDA)
  if (options.cuda_graph) {  // checked before the dataset, the policy or the tracker is touched
    if (!device.is_cuda()) throw util::InputError("--cuda_graph true needs --policy.device cuda");
    if (distributed)
      throw util::InputError("--cuda_graph true does not combine with data-parallel training (--nproc-per-node > 1)");
    if (scaler.enabled())
      throw util::InputError("--cuda_graph true does not combine with fp16 loss scaling (it skips steps on the host); use bf16");
  }

  // Resume: everything but the explicit overrides comes from the checkpoint's train_config.json.
  std::optional<fs::path> resume_from;
  if (cfg.resume) resume_from = checkpoint_to_resume(out_dir, cfg.resume_checkpoint);

  // Dataset metadata first: the policy's shapes and normalisation come from it.
  dataset::DatasetMeta meta = dataset::load_metadata(cfg.dataset.root);
  torch::manual_seed(static_cast<uint64_t>(cfg.seed));
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(static_cast<uint64_t>(cfg.seed));
  auto policy = build_policy(cfg.policy, meta, cfg.dataset.use_imagenet_stats);
  const std::string warm_start = !options.init_from_policy_model.empty() ? options.init_from_policy_model : cfg.policy_path;
  if (!resume_from && warm_start.empty()) policy->load_pretrained_backbone();  // else the checkpoint has every weight
  cfg.policy = policy->config_json();
  policy->to(device);

  if (!resume_from && !warm_start.empty()) {
    fs::path dir = pretrained_dir_of(warm_start);
    util::log_info("fine-tuning: weights from ", dir.string());
    load_policy_weights(*policy, dir);
  }

  // Optimizer and scheduler: the policy's LeRobot preset unless configured explicitly.
  auto preset = policy->optimizer_preset();
  if (cfg.use_policy_training_preset || !cfg.optimizer) {
    cfg.optimizer = optimizer_config_from_preset(preset);
    cfg.scheduler = scheduler_config_from_preset(preset);
  }
  auto groups = policy->param_groups();
  Optimizer optimizer(*cfg.optimizer, groups);
  std::unique_ptr<LrScheduler> scheduler;
  if (cfg.scheduler && !cfg.scheduler->type.empty())
    scheduler = std::make_unique<LrScheduler>(*cfg.scheduler, cfg.steps, optimizer);

  int64_t step = 0;
  Json robotrain_state = Json::object();
  if (resume_from) {
    util::log_info("resuming from ", resume_from->string());
    load_policy_weights(*policy, *resume_from / "pretrained_model");
    auto st = load_training_state(*resume_from / "training_state", optimizer, scheduler.get());
    step = st.step;
    robotrain_state = st.robotrain;
    scaler.load(robotrain_state.value("loss_scaler", Json()));
    if (step >= cfg.steps)
      util::log_warn("checkpoint is at step ", step, " and --steps is ", cfg.steps, ": nothing to do; raise --steps to continue");
  }
  outcome.start_step = step;
  // Every rank starts from rank 0's weights and buffers, whatever its own seed or files gave it.
  if (dist) {
    std::vector<torch::Tensor> state = policy->parameters();
    for (auto& b : policy->buffers()) state.push_back(b);
    dist->broadcast(state);
  }

  // Dataset with the frames the policy needs around each anchor; cameras stay uint8 until
  // they reach the device.
  // The held-out split is fixed when the run starts; a resumed run keeps the recorded one.
  if (!resume_from) {
    cfg.val_split = options.val_split;
    cfg.val_episodes.clear();
    std::vector<int64_t> all = cfg.dataset.episodes.value_or(std::vector<int64_t>{});
    if (!cfg.dataset.episodes)
      for (const auto& e : meta.episodes) all.push_back(e.index);
    cfg.val_episodes = choose_val_episodes(all, cfg.val_split, static_cast<uint64_t>(cfg.seed));
    if (!cfg.val_episodes.empty()) cfg.dataset.episodes = without_episodes(all, cfg.val_episodes);
    if (cfg.val_split > 0 && cfg.val_episodes.empty())
      util::log_warn("--val-split ", cfg.val_split, ": the dataset has a single episode; nothing is held out");
  } else if (!cfg.val_episodes.empty() && cfg.dataset.episodes) {
    cfg.dataset.episodes = without_episodes(*cfg.dataset.episodes, cfg.val_episodes);
  }
  dataset::DatasetOptions ds_opts;
  ds_opts.episodes = cfg.dataset.episodes;
  ds_opts.delta_indices = policy->delta_indices();
  ds_opts.tolerance_s = cfg.tolerance_s;
  ds_opts.images_as_uint8 = true;
  dataset::LeRobotDataset ds(cfg.dataset.root, ds_opts);
  for (auto e : ds.episodes_skipped()) util::log_warn("episode ", e, " skipped (missing video)");
  if (ds.num_frames() <= 0) throw util::InputError(util::cat(cfg.dataset.root, ": no frames to train on"));

  std::unique_ptr<dataset::LeRobotDataset> val_ds;
  if (!cfg.val_episodes.empty() && primary) {
    dataset::DatasetOptions vo = ds_opts;
    vo.episodes = cfg.val_episodes;
    val_ds = std::make_unique<dataset::LeRobotDataset>(cfg.dataset.root, vo);
    util::log_info("validation: ", cfg.val_episodes.size(), " held-out episodes ", Json(cfg.val_episodes).dump(), " (",
                   val_ds->num_frames(), " frames), val/loss every ", cfg.eval_freq, " steps");
  }

  // Each rank draws its own disjoint shard of every epoch's permutation.
  dataset::SamplerOptions sampler{static_cast<uint64_t>(cfg.seed), true, policy->drop_n_last_frames(), rank, world_size};
  dataset::LoaderOptions loader_opts;
  loader_opts.batch_size = cfg.batch_size;
  loader_opts.num_workers = cfg.num_workers;
  loader_opts.prefetch_batches = std::max(2, cfg.num_workers);
  dataset::DataLoader loader(ds, sampler, loader_opts);
  if (step > 0) {
    // samples_consumed counts all ranks: a run resumed with another world size continues at
    // the same point of the epoch.
    const int64_t saved_world = robotrain_state.value("world_size", int64_t{1});
    const int64_t consumed = robotrain_state.value("samples_consumed", step * cfg.batch_size * saved_world);
    loader.seek(consumed / world_size);
  }

  ImageTransforms transforms(cfg.dataset.image_transforms);
  BatchAdapterOptions adapter;
  adapter.device = device;
  adapter.camera_keys = meta.camera_keys();
  adapter.transforms = &transforms;
  // On CUDA, batch N+1's copy to the device overlaps step N (a side stream).
  DeviceFeeder feeder(loader, adapter);

  // Tracking: a resumed run continues its MLflow run.
  track::TrackerOptions topts;
  topts.tracking_uri = cfg.tracking_uri;
  topts.experiment_name = !cfg.experiment_name.empty()
                              ? cfg.experiment_name
                              : util::cat("lerobot-", cfg.policy_type(), "-", cfg.job_name);
  topts.run_name = cfg.job_name;
  topts.system_metrics = options.system_metrics;
  topts.journal_path = track::journal_path_in(out_dir);  // undeliverable calls stay with the run
  auto tags = seed_tags(options, world_size);
  topts.tags = tags;
  if (robotrain_state.contains("tracking") && robotrain_state["tracking"].contains("run_id"))
    topts.run_id = robotrain_state["tracking"]["run_id"].get<std::string>();
  else if (auto env_run = util::get_env("MLFLOW_RUN_ID"))
    topts.run_id = *env_run;
  std::unique_ptr<track::Tracker> tracker;
  try {
    topts.disabled = !primary || options.no_tracking;  // ranks other than 0 of a distributed job track nothing
    tracker = track::open_tracker(topts);
  } catch (const util::InputError&) {
    if (topts.run_id.empty() || !resume_from) throw;
    util::log_warn("tracking run ", topts.run_id, " not found; continuing in a new run");
    topts.run_id.clear();
    tracker = track::open_tracker(topts);
  }
  outcome.run_id = tracker->run_id();
  outcome.experiment_id = tracker->experiment_id();
  outcome.artifact_uri = tracker->artifact_uri();
  const bool log_checkpoints = options.log_checkpoints.value_or(remote_tracking(cfg.tracking_uri));
  tracker->set_tags(tags);
  if (!resume_from) tracker->log_params(seed_params(options, *cfg.optimizer, cfg.scheduler, world_size));

  int64_t n_params = 0, n_learnable = 0;
  for (const auto& p : policy->parameters()) {
    n_params += p.numel();
    if (p.requires_grad()) n_learnable += p.numel();
  }
  util::log_info("output dir: ", out_dir.string());
  util::log_info("cfg.steps=", cfg.steps, " (", format_big_number(static_cast<double>(cfg.steps)), ") dataset.num_frames=",
                 ds.num_frames(), " dataset.num_episodes=", ds.episodes_used().size(), " device=", device.str(),
                 " threads=", threads);
  util::log_info("num_learnable_params=", n_learnable, " (", format_big_number(static_cast<double>(n_learnable)),
                 ") num_total_params=", n_params, " (", format_big_number(static_cast<double>(n_params)), ")");

  // Checkpoints: pretrained_model/ (LeRobot's files + train_config.json) and training_state/.
  auto save = [&](int64_t at_step) {
    // Asked at each save: a run created offline gets its server id once its journal replays.
    Json tracking_state{{"run_id", tracker->run_id()}, {"experiment_id", tracker->experiment_id()},
                        {"tracking_uri", util::redact_url(tracker->tracking_uri())}};  // never user:password@ or a query
    fs::path final_dir = step_checkpoint_dir(out_dir, cfg.steps, at_step);
    util::log_info("checkpoint policy after step ", at_step, " -> ", final_dir.string());
    write_checkpoint(final_dir, [&](const fs::path& staging) {
      fs::path pm = staging / "pretrained_model";
      fs::create_directories(pm);
      save_policy(*policy, pm, robotrain_train_json(cfg));
      util::write_json_file(pm / "train_config.json", to_json(cfg));
      TrainingState ts;
      ts.step = at_step;
      ts.robotrain = Json{{"samples_consumed", feeder.samples_consumed() * world_size}, {"world_size", world_size},
                          {"loss_scaler", scaler.enabled() ? scaler.state() : Json(nullptr)},
                          {"tracking", tracking_state}, {"format", "robotrain-training-state/1"}};
      save_training_state(staging / "training_state", ts, optimizer, scheduler.get(), static_cast<uint64_t>(cfg.seed));
    });
    outcome.last_checkpoint = final_dir;
    if (log_checkpoints) {
      try {
        tracker->log_artifact(final_dir / "pretrained_model", util::cat("checkpoints/", step_identifier(at_step, cfg.steps)));
      } catch (const std::exception& e) {
        util::log_warn("could not upload checkpoint ", final_dir.string(), " as an artifact: ", e.what());
      }
    }
    if (options.on_checkpoint) options.on_checkpoint(final_dir, at_step, outcome);
  };

  MetricsTracker metrics(cfg.batch_size, ds.num_frames(), static_cast<int64_t>(ds.episodes_used().size()), step, world_size);
  std::map<std::string, AverageMeter> part_meters;
  const auto& params = optimizer.parameters();
  const double grad_clip = cfg.optimizer->grad_clip_norm;
  StopSignals signals;
  std::optional<util::Progress> progress;
  const bool tty = primary && util::stderr_is_terminal();
  if (tty) progress.emplace("Training", cfg.steps - step);
  bool have_first = false;
  int64_t last_saved = -1;
  std::unique_ptr<GradReducer> reducer;
  if (dist) reducer = std::make_unique<GradReducer>(*dist, params);
  std::unique_ptr<CudaGraphStep> graph;
  if (options.cuda_graph) {
    CudaGraphOptions go;
    go.autocast = use_amp;
    go.autocast_dtype = amp_dtype;
    go.grad_clip_norm = grad_clip;
    graph = std::make_unique<CudaGraphStep>(*policy, optimizer, go);
    util::log_info("cuda graph: the training step is captured after ", go.warmup_steps, " eager steps and replayed");
  }

  try {
    policy->train();
    while (step < cfg.steps) {
      double data_s = 0;
      const uint64_t augment_seed = static_cast<uint64_t>(cfg.seed) * 1000003ull + static_cast<uint64_t>(step);
      policy::TensorMap batch = feeder.next(augment_seed, &data_s);

      auto t_update = Clock::now();
      policy::LossOutput out;
      double loss = 0, grad_norm = 0;
      bool stop_all = false, stepped = true;
      if (graph) {
        auto r = graph->step(batch);
        out.parts = r.parts;
        loss = r.loss.item<double>();  // the step's one host synchronisation, after all of it is queued
        grad_norm = r.grad_norm.item<double>();
      } else {
        {
          AmpGuard amp(use_amp, device.type(), amp_dtype);
          out = policy->forward_loss(batch);
        }
        if (reducer) {
          // Gradients are averaged in buckets while backward runs; the loss and any stop
          // request ride along, so every rank logs the mean loss and stops at the same step.
          reducer->prepare();
          scaler.scale_loss(out.loss).backward();
          auto sums = reducer->finish({out.loss.item<double>(), StopSignals::requested() ? 1.0 : 0.0});
          loss = sums[0] / world_size;
          stop_all = sums[1] > 0;
        } else {
          scaler.scale_loss(out.loss).backward();
        }
        // Under fp16 a step whose gradients overflowed is skipped (as accelerate does, the LR
        // schedule waits too); every rank sees the same reduced gradients, so all skip alike.
        stepped = scaler.unscale_gradients(params);
        torch::Tensor norm = stepped ? clip_grad_norm_tensor(params, grad_clip) : torch::Tensor();
        if (stepped) optimizer.step();
        optimizer.zero_grad();
        // Read back once the whole step is queued (on CUDA, earlier reads stall the device).
        if (!reducer) loss = out.loss.item<double>();
        grad_norm = stepped ? norm.item<double>() : INFINITY;
      }
      scaler.update(stepped);
      if (!stepped)
        util::log_info("fp16: gradients overflowed at step ", step + 1, "; update skipped, loss scale now ", scaler.scale());
      if (scheduler && stepped) scheduler->step();
      // LeRobot logs the rate the scheduler has just set (for the next update), not the one used.
      double lr = optimizer.lr(0);
      if (stepped) policy->after_optimizer_step(step);  // e.g. diffusion's EMA of the weights
      double update_s = seconds_since(t_update);
      if (!std::isfinite(loss))
        throw util::RuntimeError(util::cat("loss became ", loss, " at step ", step + 1,
                                           "; lower the learning rate (--policy.optimizer_lr) or check the dataset stats"));

      ++step;
      metrics.step();
      metrics.meter("loss").update(loss);
      metrics.meter("grad_norm").update(grad_norm);
      metrics.meter("lr").update(lr);
      metrics.meter("update_s").update(update_s);
      metrics.meter("dataloading_s").update(data_s);
      for (const auto& [k, v] : out.parts) part_meters.try_emplace(k, k, "%.3f").first->second.update(v.item<double>());
      if (progress) progress->advance(1, util::cat("loss ", Json(std::round(loss * 1000) / 1000).dump()));

      const bool log_step = cfg.log_freq > 0 && step % cfg.log_freq == 0;
      if (log_step) {
        if (tty) std::fprintf(stderr, "\r\x1b[K");
        util::log_info(metrics.line());
        std::map<std::string, double> m{{"train/loss", metrics.meter("loss").avg()},
                                        {"train/grad_norm", metrics.meter("grad_norm").avg()},
                                        {"train/learning_rate", metrics.meter("lr").avg()},
                                        {"train/update_time_s", metrics.meter("update_s").avg()},
                                        {"train/data_time_s", metrics.meter("dataloading_s").avg()},
                                        {"train/samples", static_cast<double>(metrics.samples())},
                                        {"train/episodes", metrics.episodes()},
                                        {"train/epoch", metrics.epochs()}};
        for (auto& [k, meter] : part_meters) m["train/" + k] = meter.avg();
        tracker->log_metrics(m, step);
        if (!have_first) outcome.first_loss = metrics.meter("loss").avg(), have_first = true;
        outcome.last_loss = metrics.meter("loss").avg();
        metrics.reset_averages();
        for (auto& [k, meter] : part_meters) meter.reset();
      }
      if (val_ds && cfg.eval_freq > 0 && step % cfg.eval_freq == 0) {
        double vl = validation_loss(*policy, *val_ds, static_cast<uint64_t>(cfg.seed), cfg.batch_size,
                                    std::max(1, options.val_max_batches), adapter);
        if (tty) std::fprintf(stderr, "\r\x1b[K");
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f", vl);
        util::log_info("step:", format_big_number(static_cast<double>(step)), " val_loss:", buf);
        tracker->log_metrics({{"val/loss", vl}}, step);
      }
      const bool save_step = primary && cfg.save_checkpoint && ((cfg.save_freq > 0 && step % cfg.save_freq == 0) || step == cfg.steps);
      if (save_step) {
        save(step);
        last_saved = step;
      }
      if (int sig = dist ? (stop_all ? std::max(StopSignals::requested(), 0) : 0) : StopSignals::requested();
          sig || stop_all) {
        if (!sig) sig = SIGTERM;  // another rank was signalled
        outcome.stop_signal = sig;
        if (primary) util::log_warn("received signal ", sig, ": stopping after step ", step);
        break;
      }
    }
    if (!have_first && metrics.meter("loss").count() > 0) outcome.first_loss = metrics.meter("loss").avg();
    if (metrics.meter("loss").count() > 0) outcome.last_loss = metrics.meter("loss").avg();
    if (primary && outcome.stop_signal && cfg.save_checkpoint && last_saved != step && step > outcome.start_step) save(step);
  } catch (...) {
    if (progress) progress->finish();
    try {
      tracker->set_tags({{"training_status", "failed"}});
      tracker->finish(track::RunStatus::Failed);
    } catch (const std::exception& e) {
      util::log_warn("tracking: could not mark the run failed: ", e.what());
    }
    throw;
  }
  if (progress) progress->finish();
  outcome.step = step;
  if (outcome.stop_signal) {
    tracker->set_tags({{"training_status", "failed"}, {"training_stop_signal", std::to_string(outcome.stop_signal)}});
    tracker->finish(track::RunStatus::Killed);
  } else {
    tracker->set_tags({{"training_status", "completed"}});
    tracker->finish(track::RunStatus::Finished);
  }
  // Finishing may have replayed a journal: the run now has its server id.
  outcome.run_id = tracker->run_id();
  outcome.experiment_id = tracker->experiment_id();
  outcome.artifact_uri = tracker->artifact_uri();
  return outcome;
}

}  // namespace robotrain::train
