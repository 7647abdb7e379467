// bench-area: train
// Diffusion Policy training-step time on CPU, with a same-run breakdown into its parts:
// encoder fwd+bwd, U-Net fwd+bwd, optimizer (grad clip + Adam step + zero_grad). The full
// step must be within 10% of the sum of its parts (the parts are the baseline).
// Configs: "default" = LeRobot's defaults on PushT shapes (1 camera 96x96 cropped to 84,
// state/action 2, down_dims 512/1024/2048, batch 64); "small" = down_dims 64/128/256,
// batch 16. Usage: bench_diffusion_step [--config default|small|all] [--iters N] [--warmup N]
// [--peer | --profile TRACE.json] (15 timed iterations for small, 2 for default: medians, as the machine may be
// shared; --peer: 9 and 3). Prints one JSON object per config.
// With --peer, the baseline is LeRobot's own DiffusionPolicy instead (bench/peers/policy_step.py
// with the venv's Python; as shipped and with robotrain's runtime settings, see bench/peer.h)
// on the same configuration and batch, its steps interleaved with robotrain's; the JSON line
// then carries ratio_vs_peer and ratio_vs_peer_same_settings (robotrain's step time over
// LeRobot's). With --profile, LibTorch's profiler records a few of robotrain's steps of one
// config (a Chrome trace, and the operators with the most self time printed as JSON).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "peer.h"
#include "profile.h"
#include "train/optim.h"
#include "policy/diffusion/diffusion_policy.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/memory.h"
#include "util/native_runtime.h"

using namespace robotrain;
using namespace robotrain::policy;
using namespace robotrain::policy::diffusion;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

DiffusionConfig bench_config(bool small) {
  DiffusionConfig c;
  c.input_features = {{"observation.image", FeatureType::Visual, {3, 96, 96}},
                      {"observation.state", FeatureType::State, {2}}};
  c.output_features = {{"action", FeatureType::Action, {2}}};
  c.crop_shape = std::array<int64_t, 2>{84, 84};
  if (small) c.down_dims = {64, 128, 256};
  c.validate();
  return c;
}

FeatureStats bench_stats() {
  FeatureStats s;
  s["observation.image"] = {{"mean", torch::full({3, 1, 1}, 0.5)}, {"std", torch::full({3, 1, 1}, 0.25)}};
  s["observation.state"] = {{"min", torch::zeros({2})}, {"max", torch::full({2}, 512.0)}};
  s["action"] = {{"min", torch::zeros({2})}, {"max", torch::full({2}, 512.0)}};
  return s;
}

TensorMap bench_batch(const DiffusionConfig& c, int64_t B) {
  TensorMap b;
  b["observation.image"] = torch::rand({B, c.n_obs_steps, 3, 96, 96});
  b["observation.state"] = torch::rand({B, c.n_obs_steps, 2}) * 512;
  b["action"] = torch::rand({B, c.horizon, 2}) * 512;
  b["action_is_pad"] = torch::zeros({B, c.horizon}, torch::kBool);
  return b;
}

// The step `robotrain train` runs: its optimizer (the policy's preset) and gradient clipping.
struct Rig {
  Rig(bool small, int64_t B)
      : cfg(bench_config(small)),
        stats(bench_stats()),
        policy(seeded(cfg), stats),
        preset(policy.optimizer_preset()),
        opt_cfg(preset.optimizer),
        opt(opt_cfg, policy.param_groups()),
        batch(bench_batch(cfg, B)) {
    policy.train();
  }
  static const DiffusionConfig& seeded(const DiffusionConfig& c) {
    torch::manual_seed(0);  // the same initial weights run after run
    return c;
  }
  void optimizer_step() {
    train::clip_grad_norm(opt.parameters(), opt_cfg.grad_clip_norm);
    opt.step();
    opt.zero_grad();
  }
  void step() {
    auto out = policy.forward_loss(batch);
    out.loss.backward();
    optimizer_step();
  }
  DiffusionConfig cfg;
  FeatureStats stats;
  DiffusionPolicy policy;
  OptimizerPreset preset;
  train::OptimizerConfig opt_cfg;
  train::Optimizer opt;
  TensorMap batch;
};

struct Timings {
  std::vector<double> step, encoder, unet, optimizer, optimizer_fused, optimizer_loop;
};

// Medians: the machine is shared, and one disturbed iteration should not decide the result.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

util::Json run_against_peer(const std::string& name, bool small, int64_t B, int warmup, int iters) {
  Rig rig(small, B);
  auto& cfg = rig.cfg;
  auto& batch = rig.batch;
  auto& stats = rig.stats;
  auto full_step = [&] { rig.step(); };
  util::Json spec;
  spec["policy"] = "diffusion";
  spec["config"] = {{"crop_shape", {84, 84}}, {"down_dims", cfg.down_dims}};
  spec["input_features"] = {{"observation.image", {{"type", "VISUAL"}, {"shape", {3, 96, 96}}}},
                            {"observation.state", {{"type", "STATE"}, {"shape", {2}}}}};
  spec["output_features"] = {{"action", {{"type", "ACTION"}, {"shape", {2}}}}};
  util::TempDir tmp("rt-bench-diffusion-peer");
  bench::PeerPair peers(spec, batch, stats, tmp.path(), at::get_num_threads());
  util::Json j;
  j["bench"] = "diffusion_step";
  j["mode"] = "peer";
  j["config"] = name;
  j["batch_size"] = B;
  j["down_dims"] = cfg.down_dims;
  j["image"] = "3x96x96 crop 84x84";
  j["threads"] = at::get_num_threads();
  j["cpu"] = util::cpu_model();
  j["runtime"] = util::native_runtime_summary();
  bench::interleave_with_peers(peers, full_step, std::max(1, warmup), iters, j);
  return j;
}

// --profile: LibTorch's profiler around robotrain's step (see bench/profile.h).
util::Json run_profile(const std::string& name, bool small, int64_t B, int warmup, int iters, const std::string& trace) {
  Rig rig(small, B);
  for (int i = 0; i < std::max(1, warmup); ++i) rig.step();
  auto j = bench::profile_steps([&] { rig.step(); }, iters, trace);
  j["bench"] = "diffusion_step";
  j["config"] = name;
  return j;
}

util::Json run(const std::string& name, bool small, int64_t B, int warmup, int iters) {
  Rig rig(small, B);
  auto& cfg = rig.cfg;
  auto& policy = rig.policy;
  auto& batch = rig.batch;
  auto& model = policy.model();
  auto encoder = model->encoders().front();
  // Normalised inputs for the part measurements (normalisation itself is ~free).
  auto images = (batch["observation.image"] - 0.5) / 0.25;
  auto state = batch["observation.state"] / 256.0 - 1;
  auto actions = batch["action"] / 256.0 - 1;
  const int64_t G = model->global_cond_dim();

  auto optimizer_step = [&] { rig.optimizer_step(); };
  auto full_step = [&] { rig.step(); };
  auto encoder_part = [&] {
    Observations obs{state, images.unsqueeze(2), {}};
    auto g = model->global_conditioning(obs);
    g.backward(torch::ones_like(g) / static_cast<double>(g.numel()));
  };
  auto unet_part = [&] {
    auto g = torch::randn({B, G});
    auto eps = torch::randn(actions.sizes());
    auto t = torch::randint(0, cfg.num_train_timesteps, {B}, torch::kLong);
    auto noisy = model->scheduler().add_noise(actions, eps, t);
    auto pred = model->unet_module()->forward(noisy, t, g);
    torch::mse_loss(pred, eps).backward();
  };

  const auto& trained = rig.opt.parameters();
  std::vector<torch::Tensor> fake_grads;
  for (auto& p : trained) fake_grads.push_back(torch::randn_like(p) * 1e-3);
  for (int i = 0; i < warmup; ++i) full_step();
  Timings t;
  for (int i = 0; i < iters; ++i) {
    // Interleave so that machine-load drift hits every part alike.
    auto t0 = Clock::now();
    full_step();
    t.step.push_back(ms_since(t0));
    t0 = Clock::now();
    encoder_part();
    t.encoder.push_back(ms_since(t0));
    t0 = Clock::now();
    unet_part();
    t.unet.push_back(ms_since(t0));
    // The gradients from the two parts are what the optimizer consumes, as in a real step.
    t0 = Clock::now();
    optimizer_step();
    t.optimizer.push_back(ms_since(t0));
    // The optimizer alone on the same synthetic gradients, fused (train::Optimizer's default)
    // and through torch::optim's per-parameter loop (what it ran before): what fusing buys.
    for (bool fused : {true, false}) {
      for (size_t k = 0; k < trained.size(); ++k) trained[k].mutable_grad() = fake_grads[k].clone();
      rig.opt.set_fused(fused);
      t0 = Clock::now();
      optimizer_step();
      (fused ? t.optimizer_fused : t.optimizer_loop).push_back(ms_since(t0));
      rig.opt.set_fused(true);
    }
  }
  const double step = median(t.step), enc = median(t.encoder), unet = median(t.unet), optim = median(t.optimizer);
  const double parts = enc + unet + optim;
  int64_t params = 0;
  for (const auto& p : policy.parameters()) params += p.numel();
  util::Json j;
  j["bench"] = "diffusion_step";
  j["config"] = name;
  j["batch_size"] = B;
  j["down_dims"] = cfg.down_dims;
  j["image"] = "3x96x96 crop 84x84";
  j["params"] = params;
  j["threads"] = at::get_num_threads();
  j["cpu"] = util::cpu_model();
  j["blas"] = util::native_runtime_summary();
  j["warmup"] = warmup;
  j["iters"] = iters;
  j["statistic"] = "median";
  j["step_ms"] = step;
  j["parts_ms"] = {{"encoder_fwd_bwd", enc}, {"unet_fwd_bwd", unet}, {"optimizer", optim}};
  j["optimizer_alone_ms"] = {{"fused", median(t.optimizer_fused)}, {"per_parameter_loop", median(t.optimizer_loop)}};
  j["parts_sum_ms"] = parts;
  j["step_over_parts"] = step / parts;
  j["within_10pct"] = std::abs(step / parts - 1.0) <= 0.10;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  robotrain::util::keep_freed_memory();  // as the robotrain binary does: benchmarks measure what it runs
  std::string which = "all";
  int iters = -1, warmup = 1;
  bool peer = false;
  std::string trace;
  const char* usage =
      "usage: bench_diffusion_step [--config default|small|all] [--iters N] [--warmup N] [--peer | --profile TRACE.json]\n";
  for (int i = 1; i < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--peer") {
      peer = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << usage;
      return 2;
    }
    std::string v = argv[i + 1];
    if (k == "--config") which = v;
    else if (k == "--iters") iters = std::atoi(v.c_str());
    else if (k == "--warmup") warmup = std::max(0, std::atoi(v.c_str()));
    else if (k == "--profile") trace = v;
    else {
      std::cerr << usage;
      return 2;
    }
  }
  if (which != "small" && which != "default" && which != "all") {
    std::cerr << "bench_diffusion_step: --config must be small, default or all, got '" << which << "'\n";
    return 2;
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(cores));
  try {
    if (!trace.empty()) {
      const bool small = which != "default";
      std::cout << run_profile(small ? "small" : "default", small, small ? 16 : 64, warmup, iters > 0 ? iters : 3, trace).dump()
                << std::endl;
      return 0;
    }
    auto one = peer ? run_against_peer : run;
    if (which == "small" || which == "all")
      std::cout << one("small", true, 16, warmup, iters > 0 ? iters : peer ? 9 : 15).dump() << std::endl;
    if (which == "default" || which == "all")
      std::cout << one("default", false, 64, warmup, iters > 0 ? iters : peer ? 3 : 2).dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench_diffusion_step: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
