// bench-area: train
// ACT training step (forward + backward + grad clip + AdamW) on synthetic batches already in
// memory, and in the same run the pure-LibTorch parts it is made of: backbone fwd+bwd,
// everything after the backbone (transformer, VAE, heads, loss) fwd+bwd, optimizer step. The
// baseline is the sum of the parts: a step much slower than its parts means overhead in the
// policy glue (normalisation, copies, dtype conversions).
// Step and parts are timed interleaved, after one untimed round; medians are reported.
// With --peer, the baseline is LeRobot's own ACTPolicy instead (bench/peers/policy_step.py with
// the venv's Python; as shipped and with robotrain's runtime settings, see bench/peer.h) on the
// same configuration and batch, its steps interleaved with robotrain's; the JSON line then
// carries ratio_vs_peer and ratio_vs_peer_same_settings (robotrain's step time over LeRobot's).
// With --profile TRACE.json, LibTorch's profiler records a few of robotrain's steps of one
// config (a Chrome trace, and the operators with the most self time printed as JSON).
//   bench_act_step [--config small|default|all] [--iters N] [--peer | --profile TRACE.json]
//   (default: all; 15 timed iterations for small, 3 for default, whose step takes seconds on
//   CPU; --peer: 9 and 3)
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "peer.h"
#include "profile.h"
#include "train/optim.h"
#include "policy/act/act_policy.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/memory.h"
#include "util/native_runtime.h"

using namespace robotrain::policy;
using namespace robotrain::policy::act;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Setup {
  std::string name;
  int64_t height, width, dim_model, chunk, batch;
};

// What every act_step result names: the configuration measured and the machine.
robotrain::util::Json setup_json(const Setup& s) {
  robotrain::util::Json j;
  j["bench"] = "act_step";
  j["config"] = s.name;
  j["image"] = {3, s.height, s.width};
  j["batch"] = s.batch;
  j["dim_model"] = s.dim_model;
  j["chunk"] = s.chunk;
  j["threads"] = torch::get_num_threads();
  j["cpu"] = robotrain::util::cpu_model();
  return j;
}

ActConfig make_config(const Setup& s) {
  ActConfig c;
  c.input_features = {{"observation.images.top", FeatureType::Visual, {3, s.height, s.width}},
                      {"observation.state", FeatureType::State, {14}}};
  c.output_features = {{"action", FeatureType::Action, {14}}};
  c.pretrained_backbone_weights.reset();
  c.dim_model = s.dim_model;
  c.chunk_size = s.chunk;
  c.n_action_steps = s.chunk;
  return c;
}

StatsTensors unit_stats(const ActConfig& c) {
  StatsTensors st;
  for (auto& f : c.input_features) {
    auto shape = f.type == FeatureType::Visual ? std::vector<int64_t>{3, 1, 1} : f.shape;
    st[f.key]["mean"] = torch::zeros(shape);
    st[f.key]["std"] = torch::ones(shape);
  }
  st["action"]["mean"] = torch::zeros({14});
  st["action"]["std"] = torch::ones({14});
  return st;
}

// The step `robotrain train` runs: its optimizer (the policy's preset) and gradient clipping.
struct Rig {
  explicit Rig(const Setup& s)
      : cfg(make_config(s)),
        stats(unit_stats(cfg)),
        policy(seeded(cfg), stats),
        opt_cfg(policy.optimizer_preset().optimizer),
        opt(opt_cfg, policy.param_groups()) {
    policy.train();
    // The loader hands over float images in [0, 1] (LeRobot's convention).
    batch = {{"observation.images.top", torch::rand({s.batch, 3, s.height, s.width})},
             {"observation.state", torch::randn({s.batch, 14})},
             {"action", torch::randn({s.batch, s.chunk, 14})},
             {"action_is_pad", torch::zeros({s.batch, s.chunk}, torch::kBool)}};
  }
  void step() {
    opt.zero_grad();
    auto out = policy.forward_loss(batch);
    out.loss.backward();
    robotrain::train::clip_grad_norm(opt.parameters(), opt_cfg.grad_clip_norm);
    opt.step();
  }
  static const ActConfig& seeded(const ActConfig& c) {
    torch::manual_seed(0);  // the same initial weights run after run
    return c;
  }
  ActConfig cfg;
  StatsTensors stats;
  ActPolicy policy;
  robotrain::train::OptimizerConfig opt_cfg;
  robotrain::train::Optimizer opt;
  TensorMap batch;
};

void run_against_peer(const Setup& s, int iters) {
  Rig rig(s);
  auto full_step = [&] { rig.step(); };
  const auto& batch = rig.batch;
  const auto& stats = rig.stats;
  robotrain::util::Json spec;
  spec["policy"] = "act";
  spec["config"] = {{"dim_model", s.dim_model}, {"chunk_size", s.chunk}, {"n_action_steps", s.chunk},
                    {"pretrained_backbone_weights", nullptr}};
  spec["input_features"] = {{"observation.images.top", {{"type", "VISUAL"}, {"shape", {3, s.height, s.width}}}},
                            {"observation.state", {{"type", "STATE"}, {"shape", {14}}}}};
  spec["output_features"] = {{"action", {{"type", "ACTION"}, {"shape", {14}}}}};
  std::map<std::string, torch::Tensor> peer_batch(batch.begin(), batch.end());
  std::map<std::string, std::map<std::string, torch::Tensor>> peer_stats;
  for (auto& [k, m] : stats) peer_stats[k] = std::map<std::string, torch::Tensor>(m.begin(), m.end());
  robotrain::util::TempDir tmp("rt-bench-act-peer");
  robotrain::bench::PeerPair peers(spec, peer_batch, peer_stats, tmp.path(), torch::get_num_threads());
  robotrain::util::Json j = setup_json(s);
  j["mode"] = "peer";
  j["runtime"] = robotrain::util::native_runtime_summary();
  robotrain::bench::interleave_with_peers(peers, full_step, /*warmup=*/1, iters, j);
  std::cout << j.dump() << std::endl;
}

// --profile: LibTorch's profiler around robotrain's step (see bench/profile.h).
void run_profile(const Setup& s, int iters, const std::string& trace) {
  Rig rig(s);
  for (int i = 0; i < 2; ++i) rig.step();  // warm-up
  auto j = robotrain::bench::profile_steps([&] { rig.step(); }, iters, trace);
  j["bench"] = "act_step";
  j["config"] = s.name;
  std::cout << j.dump() << std::endl;
}

void run(const Setup& s, int iters) {
  Rig rig(s);
  auto& policy = rig.policy;
  auto& opt = rig.opt;
  const auto& params = opt.parameters();
  auto& batch = rig.batch;
  auto& model = policy.model();
  auto reset_grads = [&] { opt.zero_grad(); };
  auto full_step = [&] { rig.step(); };
  ActInputs in;
  in.images = {batch["observation.images.top"]};
  in.state = batch["observation.state"];
  in.actions = batch["action"];
  in.action_is_pad = batch["action_is_pad"];
  auto backbone_part = [&] {
    auto fm = model->image_feature_maps(in.images);
    fm[0].backward(torch::ones_like(fm[0]));
  };
  std::vector<torch::Tensor> fixed_fm;
  {
    torch::NoGradGuard ng;
    fixed_fm = model->image_feature_maps(in.images);
  }
  auto transformer_part = [&] {
    auto out = model->forward_from_features(in, fixed_fm);
    auto l1 = (in.actions - out.actions).abs().mean();
    auto kld = (-0.5 * (1 + out.log_sigma_x2 - out.mu.pow(2) - out.log_sigma_x2.exp())).sum(-1).mean();
    (l1 + 10.0 * kld).backward();
  };
  // Consumes the gradients the two parts above left, as in a real step.
  auto optimizer_part = [&] {
    robotrain::train::clip_grad_norm(params, rig.opt_cfg.grad_clip_norm);
    opt.step();
  };
  auto timed = [](auto&& fn, std::vector<double>& into) {
    auto t0 = Clock::now();
    fn();
    into.push_back(ms_since(t0));
  };

  // One untimed round first (oneDNN primitive creation, allocator growth, optimizer state);
  // then step and parts interleaved, so that load drift on a shared machine hits all alike.
  const bool chosen_channels_last = model->backbone->channels_last;
  // The optimizer alone on the same synthetic gradients, fused (train::Optimizer's default)
  // and through torch::optim's per-parameter loop (what it ran before): what fusing buys.
  std::vector<torch::Tensor> fake_grads;
  for (auto& p : params) fake_grads.push_back(torch::randn_like(p) * 1e-3);
  auto optimizer_alone = [&](bool fused, std::vector<double>& into) {
    for (size_t k = 0; k < params.size(); ++k) params[k].mutable_grad() = fake_grads[k].clone();
    opt.set_fused(fused);
    timed(optimizer_part, into);
    opt.set_fused(true);
  };
  std::vector<double> steps, backbones, transformers, optims, backbones_other, optims_fused, optims_loop;
  for (int i = 0; i <= iters; ++i) {
    const size_t n = steps.size();
    timed(full_step, steps);
    reset_grads();
    timed(backbone_part, backbones);
    timed(transformer_part, transformers);
    timed(optimizer_part, optims);
    optimizer_alone(true, optims_fused);
    optimizer_alone(false, optims_loop);
    // The backbone in the other memory layout too (the policy picks one by image size), to
    // show what the choice buys.
    model->backbone->channels_last = !chosen_channels_last;
    timed(backbone_part, backbones_other);
    model->backbone->channels_last = chosen_channels_last;
    if (i == 0)
      for (auto* v : {&steps, &backbones, &transformers, &optims, &backbones_other, &optims_fused, &optims_loop})
        v->resize(n);
  }
  const double step = median(steps), backbone = median(backbones), transformer = median(transformers),
               optim = median(optims), backbone_other = median(backbones_other);

  int64_t n_params = 0;
  for (auto& p : params) n_params += p.numel();
  double parts = backbone + transformer + optim;
  robotrain::util::Json j = setup_json(s);
  j["params"] = n_params;
  j["blas"] = robotrain::util::native_runtime_summary();
  j["iterations"] = iters;
  j["statistic"] = "median";
  j["step_ms"] = step;
  j["backbone_fwd_bwd_ms"] = backbone;
  j["backbone_layout"] = chosen_channels_last ? "channels_last" : "nchw";
  j["backbone_fwd_bwd_other_layout_ms"] = backbone_other;
  j["transformer_fwd_bwd_ms"] = transformer;
  j["optimizer_ms"] = optim;
  j["optimizer_alone_ms"] = {{"fused", median(optims_fused)}, {"per_parameter_loop", median(optims_loop)}};
  j["sum_of_parts_ms"] = parts;
  j["step_over_parts"] = step / parts;
  j["within_10pct"] = std::abs(step / parts - 1.0) <= 0.10;
  std::cout << j.dump() << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  robotrain::util::keep_freed_memory();  // as the robotrain binary does: benchmarks measure what it runs
  std::string which = "all";
  int iters = 0;
  bool peer = false;
  std::string trace;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--peer") {
      peer = true;
    } else if (a == "--profile" && i + 1 < argc) {
      trace = argv[++i];
    } else if ((a == "--config" || a == "--iters") && i + 1 < argc) {
      std::string v = argv[++i];
      if (a == "--config") which = v;
      else iters = std::max(1, std::atoi(v.c_str()));
    } else if (a == "small" || a == "default" || a == "all") {
      which = a;  // positional form kept: bench_act_step small 5
    } else if (std::isdigit(static_cast<unsigned char>(a[0]))) {
      iters = std::max(1, std::atoi(a.c_str()));
    } else {
      std::cerr << "usage: bench_act_step [--config small|default|all] [--iters N] [--peer | --profile TRACE.json]\n";
      return 2;
    }
  }
  if (which != "small" && which != "default" && which != "all") {
    std::cerr << "bench_act_step: --config must be small, default or all, got '" << which << "'\n";
    return 2;
  }
  unsigned cores = std::thread::hardware_concurrency();
  torch::set_num_threads(cores > 0 ? static_cast<int>(cores) : 1);
  const Setup small{"small", 96, 96, 256, 20, 8}, lerobot_default{"default", 480, 640, 512, 100, 8};
  try {
    if (!trace.empty()) {
      if (which == "all") which = "small";
      run_profile(which == "small" ? small : lerobot_default, iters ? iters : 3, trace);
      return 0;
    }
    if (peer) {
      if (which == "small" || which == "all") run_against_peer(small, iters ? iters : 9);
      if (which == "default" || which == "all") run_against_peer(lerobot_default, iters ? iters : 3);
      return 0;
    }
    if (which == "small" || which == "all") run(small, iters ? iters : 15);
    if (which == "default" || which == "all") run(lerobot_default, iters ? iters : 3);
  } catch (const std::exception& e) {
    std::cerr << "bench_act_step: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
