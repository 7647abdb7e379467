// bench-area: policy
// ACT training step (forward + backward + grad clip + AdamW) on synthetic batches already in
// memory, and in the same run the pure-LibTorch parts it is made of: backbone fwd+bwd,
// everything after the backbone (transformer, VAE, heads, loss) fwd+bwd, optimizer step. The
// baseline is the sum of the parts: a step much slower than its parts means overhead in the
// policy glue (normalisation, copies, dtype conversions).
// Step and parts are timed interleaved, after one untimed round; medians are reported.
//   bench_act_step [--config small|default|all] [--iters N]   (default: all; 15 timed iterations
//   for small, 3 for default, whose step takes seconds on CPU)
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

#include "policy/act/act_policy.h"
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

torch::optim::AdamW make_optimizer(ActPolicy& p) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  const auto preset = p.optimizer_preset();
  for (auto& g : p.param_groups())
    groups.emplace_back(g.params, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(g.lr.value_or(preset.lr))
                                          .weight_decay(g.weight_decay.value_or(preset.weight_decay))
                                          .betas({preset.beta1, preset.beta2})
                                          .eps(preset.eps)));
  return torch::optim::AdamW(groups);
}

void run(const Setup& s, int iters) {
  torch::manual_seed(0);
  auto cfg = make_config(s);
  ActPolicy policy(cfg, unit_stats(cfg));
  policy.train();
  auto opt = make_optimizer(policy);
  std::vector<torch::Tensor> params;
  for (auto& g : policy.param_groups()) params.insert(params.end(), g.params.begin(), g.params.end());
  // The loader hands over float images in [0, 1] (LeRobot's convention).
  TensorMap batch = {{"observation.images.top", torch::rand({s.batch, 3, s.height, s.width})},
                     {"observation.state", torch::randn({s.batch, 14})},
                     {"action", torch::randn({s.batch, s.chunk, 14})},
                     {"action_is_pad", torch::zeros({s.batch, s.chunk}, torch::kBool)}};
  auto& model = policy.model();

  // Gradients are reset to none, as train::Optimizer::zero_grad does in `robotrain train`.
  auto reset_grads = [&] {
    for (auto& p : params)
      if (p.grad().defined()) p.mutable_grad().reset();
  };
  auto full_step = [&] {
    reset_grads();
    auto out = policy.forward_loss(batch);
    out.loss.backward();
    torch::nn::utils::clip_grad_norm_(params, 10.0);
    opt.step();
  };
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
    torch::nn::utils::clip_grad_norm_(params, 10.0);
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
  std::vector<double> steps, backbones, transformers, optims, backbones_other;
  for (int i = 0; i <= iters; ++i) {
    const size_t n = steps.size();
    timed(full_step, steps);
    reset_grads();
    timed(backbone_part, backbones);
    timed(transformer_part, transformers);
    timed(optimizer_part, optims);
    // The backbone in the other memory layout too (the policy picks one by image size), to
    // show what the choice buys.
    model->backbone->channels_last = !chosen_channels_last;
    timed(backbone_part, backbones_other);
    model->backbone->channels_last = chosen_channels_last;
    if (i == 0)
      for (auto* v : {&steps, &backbones, &transformers, &optims, &backbones_other}) v->resize(n);
  }
  const double step = median(steps), backbone = median(backbones), transformer = median(transformers),
               optim = median(optims), backbone_other = median(backbones_other);

  int64_t n_params = 0;
  for (auto& p : params) n_params += p.numel();
  double parts = backbone + transformer + optim;
  robotrain::util::Json j;
  j["bench"] = "act_step";
  j["config"] = s.name;
  j["image"] = {3, s.height, s.width};
  j["batch"] = s.batch;
  j["dim_model"] = s.dim_model;
  j["chunk"] = s.chunk;
  j["params"] = n_params;
  j["threads"] = torch::get_num_threads();
  j["cpu"] = robotrain::util::cpu_model();
  j["blas"] = robotrain::util::native_runtime_summary();
  j["iterations"] = iters;
  j["statistic"] = "median";
  j["step_ms"] = step;
  j["backbone_fwd_bwd_ms"] = backbone;
  j["backbone_layout"] = chosen_channels_last ? "channels_last" : "nchw";
  j["backbone_fwd_bwd_other_layout_ms"] = backbone_other;
  j["transformer_fwd_bwd_ms"] = transformer;
  j["optimizer_ms"] = optim;
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
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--config" || a == "--iters") && i + 1 < argc) {
      std::string v = argv[++i];
      if (a == "--config") which = v;
      else iters = std::max(1, std::atoi(v.c_str()));
    } else if (a == "small" || a == "default" || a == "all") {
      which = a;  // positional form kept: bench_act_step small 5
    } else if (std::isdigit(static_cast<unsigned char>(a[0]))) {
      iters = std::max(1, std::atoi(a.c_str()));
    } else {
      std::cerr << "usage: bench_act_step [--config small|default|all] [--iters N]\n";
      return 2;
    }
  }
  if (which != "small" && which != "default" && which != "all") {
    std::cerr << "bench_act_step: --config must be small, default or all, got '" << which << "'\n";
    return 2;
  }
  unsigned cores = std::thread::hardware_concurrency();
  torch::set_num_threads(cores > 0 ? static_cast<int>(cores) : 1);
  if (which == "small" || which == "all") run({"small", 96, 96, 256, 20, 8}, iters ? iters : 15);
  if (which == "default" || which == "all") run({"default", 480, 640, 512, 100, 8}, iters ? iters : 3);
  return 0;
}
