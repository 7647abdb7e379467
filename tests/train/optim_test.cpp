// Optimizer, scheduler, gradient clipping, RNG and training-state files, batch adapter (the
// image augmentations are in image_transforms_test.cpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "train/batch.h"
#include "train/loss_scaler.h"
#include "train/optim.h"
#include "train/tensor_file.h"
#include "train/training_state.h"
#include "util/error.h"
#include "util/fs.h"

namespace rt = robotrain::train;
namespace fs = std::filesystem;
using robotrain::util::Json;

namespace {

std::vector<robotrain::policy::ParamGroup> two_groups(torch::Tensor a, torch::Tensor b) {
  robotrain::policy::ParamGroup g0{"default", {a}, 1e-2, 1e-4};
  robotrain::policy::ParamGroup g1{"backbone", {b}, 1e-3, 1e-4};
  return {g0, g1};
}

// One AdamW step by the textbook (decoupled decay, bias correction), double precision.
double adamw_reference(double p, const std::vector<double>& grads, double lr, double wd) {
  double m = 0, v = 0;
  for (size_t t = 1; t <= grads.size(); ++t) {
    double g = grads[t - 1];
    p *= 1 - lr * wd;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
    p -= lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + 1e-8);
  }
  return p;
}

}  // namespace

TEST(Optimizer, AdamWMatchesTheTextbookPerGroup) {
  auto a = torch::full({3}, 1.0, torch::requires_grad());
  auto b = torch::full({2}, -2.0, torch::requires_grad());
  rt::OptimizerConfig cfg;  // adamw
  rt::Optimizer opt(cfg, two_groups(a, b));
  ASSERT_EQ(opt.num_groups(), 2u);
  EXPECT_DOUBLE_EQ(opt.lr(1), 1e-3);
  std::vector<double> ga, gb;
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    auto loss = (a * a).sum() * 0.5 + (b * 3.0).sum();
    ga.push_back(a[0].item<double>());
    gb.push_back(3.0);
    loss.backward();
    opt.step();
  }
  EXPECT_NEAR(a[0].item<double>(), adamw_reference(1.0, ga, 1e-2, 1e-4), 1e-6);
  EXPECT_NEAR(b[0].item<double>(), adamw_reference(-2.0, gb, 1e-3, 1e-4), 1e-6);
}

TEST(Optimizer, GroupsWithoutTheirOwnRateTakeTheOptimizersAndZeroFreezes) {
  // LeRobot's ACT groups: the rest at the optimizer's lr, the backbone at its own (0 here).
  auto a = torch::full({3}, 1.0, torch::requires_grad());
  auto b = torch::full({2}, -2.0, torch::requires_grad());
  rt::OptimizerConfig cfg;
  cfg.lr = 5e-3;
  cfg.weight_decay = 0.1;
  rt::Optimizer opt(cfg, {{"default", {a}}, {"backbone", {b}, 0.0}});
  EXPECT_DOUBLE_EQ(opt.lr(0), 5e-3);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.0);
  EXPECT_DOUBLE_EQ(opt.param_groups_json(false)[1]["weight_decay"].get<double>(), 0.1);
  ((a * a).sum() + (b * b).sum()).backward();
  opt.step();
  EXPECT_TRUE(torch::equal(b, torch::full({2}, -2.0))) << "lr 0 moved the frozen group";
  EXPECT_LT(a[0].item<double>(), 1.0);
}

TEST(LossScaler, ScalesUnscalesSkipsOverflowAndGrows) {
  rt::LossScaler off(false);
  auto loss = torch::tensor(2.0);
  EXPECT_TRUE(torch::equal(off.scale_loss(loss), loss));

  rt::LossScaler scaler(true, /*init_scale=*/8.0, 2.0, 0.5, /*growth_interval=*/2);
  auto w = torch::tensor({1.0f, -3.0f}, torch::requires_grad());
  scaler.scale_loss((w * w).sum() * 0.5).backward();
  EXPECT_TRUE(torch::allclose(w.grad(), torch::tensor({8.0f, -24.0f})));
  EXPECT_TRUE(scaler.unscale_gradients({w}));
  EXPECT_TRUE(torch::allclose(w.grad(), torch::tensor({1.0f, -3.0f}))) << "gradients back at their true size";
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 8.0);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 16.0) << "grows after growth_interval clean steps";

  w.mutable_grad().fill_(std::numeric_limits<float>::infinity());
  EXPECT_FALSE(scaler.unscale_gradients({w})) << "an overflow must skip the step";
  scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.scale(), 8.0);
  w.mutable_grad().fill_(NAN);
  EXPECT_FALSE(scaler.unscale_gradients({w}));

  rt::LossScaler resumed(true);
  resumed.load(scaler.state());
  EXPECT_DOUBLE_EQ(resumed.scale(), 8.0);
  EXPECT_THROW(resumed.load(Json{{"scale", -1.0}}), robotrain::util::RuntimeError);
}

TEST(Optimizer, StateRoundTripContinuesIdentically) {
  torch::manual_seed(0);
  auto make = [] {
    return std::make_pair(torch::randn({4, 3}).requires_grad_(), torch::randn({5}).requires_grad_());
  };
  auto [a1, b1] = make();
  auto a2 = a1.detach().clone().requires_grad_(), b2 = b1.detach().clone().requires_grad_();
  rt::OptimizerConfig cfg;
  rt::Optimizer o1(cfg, two_groups(a1, b1));
  auto run = [](rt::Optimizer& o, torch::Tensor a, torch::Tensor b, int steps) {
    for (int i = 0; i < steps; ++i) {
      o.zero_grad();
      ((a * a).sum() + (b.sin()).sum()).backward();
      o.step();
    }
  };
  run(o1, a1, b1, 2);
  // Save after 2 steps, load into a fresh optimizer over copied weights.
  robotrain::util::TempDir tmp("rt-opt");
  rt::save_tensor_file(tmp.path() / "s.safetensors", o1.state_tensors());
  Json groups = Json::parse(o1.param_groups_json(false).dump());
  EXPECT_EQ(groups[1]["params"], Json({1}));
  EXPECT_EQ(groups[0]["betas"], Json({0.9, 0.999}));
  auto state = rt::load_tensor_file(tmp.path() / "s.safetensors");
  ASSERT_TRUE(state.count("state/0/exp_avg"));
  EXPECT_EQ(state["state/1/step"].dim(), 0);
  EXPECT_FLOAT_EQ(state["state/1/step"].item<float>(), 2.0f);
  a2.data().copy_(a1.detach());
  b2.data().copy_(b1.detach());
  rt::Optimizer o2(cfg, two_groups(a2, b2));
  o2.load(state, groups);
  run(o1, a1, b1, 3);
  run(o2, a2, b2, 3);
  EXPECT_TRUE(torch::equal(a1, a2));
  EXPECT_TRUE(torch::equal(b1, b2));
}

// The fused kernels (the default) against torch::optim's per-parameter loop, which follows
// torch.optim's single-tensor code: the same trajectory up to float rounding, for AdamW and
// Adam (L2 decay), with two groups and a parameter that only gets gradients from step 3 on.
TEST(Optimizer, FusedStepMatchesThePerParameterLoop) {
  for (const char* type : {"adamw", "adam"}) {
    torch::manual_seed(0);
    auto a = torch::randn({64, 33}), b = torch::randn({17}), late = torch::randn({5});
    std::vector<torch::Tensor> fused_w, loop_w;
    for (bool fused : {true, false}) {
      auto pa = a.clone().requires_grad_(), pb = b.clone().requires_grad_(), pl = late.clone().requires_grad_();
      rt::OptimizerConfig cfg{type, 1e-3, 1e-2, 10, 0.9, 0.999, 1e-8};
      rt::Optimizer opt(cfg, {{"default", {pa, pl}, 3e-3}, {"backbone", {pb}, 1e-3, 0.1}});
      opt.set_fused(fused);
      EXPECT_EQ(opt.fused(), fused);
      for (int step = 0; step < 20; ++step) {
        opt.zero_grad();
        auto loss = (pa.sin() * pa).sum() + (pb * pb * pb).sum();
        if (step >= 3) loss = loss + (pl * 2).exp().sum();
        loss.backward();
        rt::clip_grad_norm(opt.parameters(), 10.0);
        opt.step();
      }
      auto& out = fused ? fused_w : loop_w;
      out = {pa.detach(), pb.detach(), pl.detach()};
      // The step count each parameter saw, as checkpoints record it.
      auto st = opt.state_tensors();
      std::map<std::string, torch::Tensor> m(st.begin(), st.end());
      EXPECT_FLOAT_EQ(m.at("state/0/step").item<float>(), 20.0f) << type;
      EXPECT_FLOAT_EQ(m.at("state/1/step").item<float>(), 17.0f) << type;
    }
    for (size_t i = 0; i < fused_w.size(); ++i) {
      EXPECT_FALSE(torch::equal(fused_w[i], i == 0 ? a : i == 1 ? b : late)) << type << ": parameter " << i << " never moved";
      EXPECT_TRUE(torch::allclose(fused_w[i], loop_w[i], 1e-5, 1e-6))
          << type << ": parameter " << i << " differs by " << (fused_w[i] - loop_w[i]).abs().max().item<double>();
    }
  }
}

// --cuda_graph's optimizer: the learning rate read from a tensor (set_lr rewrites it, so a
// replayed graph sees the schedule) gives the same updates as the host value; a replayed step
// counted on the host keeps the checkpoint's step counts in line with the device's.
TEST(Optimizer, DeviceLearningRateFollowsSetLrAndReplaysAreCounted) {
  for (const char* type : {"adamw", "adam"}) {
    torch::manual_seed(1);
    auto init = torch::randn({7, 5});
    std::vector<torch::Tensor> out;
    for (bool device_lr : {false, true}) {
      auto p = init.clone().requires_grad_();
      rt::Optimizer opt(rt::OptimizerConfig{type, 1e-3, 1e-2, 10, 0.9, 0.999, 1e-8}, {{"default", {p}, 3e-3}});
      if (device_lr) opt.use_device_lr(torch::kCPU);
      for (int step = 0; step < 6; ++step) {
        if (step == 3) opt.set_lr(0, 1e-2);  // a schedule's change reaches the kernels
        opt.zero_grad();
        (p.sin() * p).sum().backward();
        opt.step();
      }
      out.push_back(p.detach().clone());
      if (device_lr) {
        opt.count_replayed_step();
        auto st = opt.state_tensors();
        std::map<std::string, torch::Tensor> m(st.begin(), st.end());
        EXPECT_FLOAT_EQ(m.at("state/0/step").item<float>(), 7.0f) << type;
      }
    }
    EXPECT_FALSE(torch::equal(out[0], init)) << type;
    EXPECT_TRUE(torch::allclose(out[0], out[1], 1e-6, 1e-7))
        << type << ": differs by " << (out[0] - out[1]).abs().max().item<double>();
  }
}

TEST(Optimizer, LoadRejectsAnotherConfiguration) {
  auto a = torch::zeros({3}, torch::requires_grad()), b = torch::zeros({2}, torch::requires_grad());
  rt::Optimizer o(rt::OptimizerConfig{}, two_groups(a, b));
  std::map<std::string, torch::Tensor> state{{"state/0/exp_avg", torch::zeros({4})},
                                             {"state/0/exp_avg_sq", torch::zeros({4})},
                                             {"state/0/step", torch::tensor(1.0f)}};
  EXPECT_THROW(o.load(state, o.param_groups_json(false)), robotrain::util::RuntimeError);
  EXPECT_THROW(o.load({}, Json::array()), robotrain::util::RuntimeError);
}

TEST(Scheduler, DiffuserCosineWithWarmup) {
  auto a = torch::zeros({1}, torch::requires_grad()), b = torch::zeros({1}, torch::requires_grad());
  rt::Optimizer opt(rt::OptimizerConfig{"adam", 1e-4, 1e-6, 10, 0.95, 0.999, 1e-8}, two_groups(a, b));
  rt::LrScheduler s(rt::SchedulerConfig{"diffuser", "cosine", 10}, 110, opt);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.0);  // LambdaLR applies factor(0) at construction
  for (int i = 0; i < 5; ++i) s.step();
  EXPECT_NEAR(opt.lr(0), 1e-2 * 0.5, 1e-12);
  EXPECT_NEAR(opt.lr(1), 1e-3 * 0.5, 1e-12);
  for (int i = 0; i < 5; ++i) s.step();
  EXPECT_NEAR(opt.lr(0), 1e-2, 1e-12);
  for (int i = 0; i < 50; ++i) s.step();  // half-way through the decay
  EXPECT_NEAR(opt.lr(0), 1e-2 * 0.5, 1e-9);
  for (int i = 0; i < 50; ++i) s.step();
  EXPECT_NEAR(opt.lr(0), 0.0, 1e-12);
  Json st = s.state_json();
  EXPECT_EQ(st["last_epoch"], 110);
  EXPECT_EQ(st["_step_count"], 111);
  // torch 2.10's LambdaLR.state_dict() keys, in order (LeRobot's load_scheduler_state insists).
  std::vector<std::string> keys;
  for (auto& [k, v] : st.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"base_lrs", "last_epoch", "_step_count", "_is_initial",
                                            "_get_lr_called_within_step", "_last_lr", "lr_lambdas"}));
  EXPECT_EQ(st["base_lrs"], Json({1e-2, 1e-3}));
  // A fresh scheduler loaded from the state is at the same point.
  rt::LrScheduler s2(rt::SchedulerConfig{"diffuser", "cosine", 10}, 110, opt);
  s2.load(Json{{"last_epoch", 35}});
  EXPECT_NEAR(opt.lr(0), 1e-2 * s.factor(35), 1e-15);
  EXPECT_NEAR(s.factor(35), 0.5 * (1 + std::cos(M_PI * 25.0 / 100.0)), 1e-12);
  EXPECT_THROW(rt::LrScheduler(rt::SchedulerConfig{"diffuser", "cosine_with_bumps", 1}, 10, opt),
               robotrain::util::InputError);
}

TEST(GradClip, SeveralTensorsClipTogetherAsTorchDoes) {
  auto p = torch::zeros({2}, torch::requires_grad()), q = torch::zeros({1, 1}, torch::requires_grad());
  auto r = torch::zeros({3}, torch::requires_grad());  // no gradient: left out
  ((p * torch::tensor({3.0f, 4.0f})).sum() + (q * 12.0f).sum()).backward();
  auto norm = rt::clip_grad_norm_tensor({p, q, r}, 6.5);
  EXPECT_EQ(norm.dim(), 0);
  EXPECT_NEAR(norm.item<double>(), 13.0, 1e-5);
  const double coef = 6.5 / (13.0 + 1e-6);
  EXPECT_TRUE(torch::allclose(p.grad(), torch::tensor({3.0f, 4.0f}) * coef));
  EXPECT_NEAR(q.grad().item<double>(), 12.0 * coef, 1e-5);
  EXPECT_FALSE(r.grad().defined());
}

TEST(GradClip, ReturnsPreClipNormAndClips) {
  auto p = torch::zeros({2}, torch::requires_grad());
  (p * torch::tensor({30.0f, 40.0f})).sum().backward();
  double norm = rt::clip_grad_norm({p}, 10.0);
  EXPECT_NEAR(norm, 50.0, 1e-4);
  EXPECT_NEAR(p.grad().norm().item<double>(), 10.0, 1e-3);
  auto q = torch::zeros({2}, torch::requires_grad());
  (q * torch::tensor({3.0f, 4.0f})).sum().backward();
  EXPECT_NEAR(rt::clip_grad_norm({q}, 0.0), 5.0, 1e-5);  // disabled: measured, not clipped
  EXPECT_NEAR(q.grad().norm().item<double>(), 5.0, 1e-5);
}

TEST(RngState, RestoreReplaysTheSameDraws) {
  torch::manual_seed(42);
  torch::rand({3});
  auto saved = rt::capture_rng_state(42);
  auto first = torch::rand({5});
  robotrain::util::TempDir tmp("rt-rng");
  rt::save_tensor_file(tmp.path() / "rng.safetensors", saved);
  torch::manual_seed(7);
  auto loaded = rt::load_tensor_file(tmp.path() / "rng.safetensors");
  EXPECT_EQ(loaded["py_rng_state"].numel(), 625);
  EXPECT_EQ(loaded["np_rng_state_values"].numel(), 624);
  EXPECT_EQ(loaded["torch_rng_state"].scalar_type(), torch::kUInt8);
  rt::restore_rng_state(loaded);
  EXPECT_TRUE(torch::equal(first, torch::rand({5})));
}

TEST(TensorFile, RoundTripAndCorruptFiles) {
  robotrain::util::TempDir tmp("rt-st");
  rt::save_tensor_file(tmp.path() / "t.safetensors",
                       {{"a", torch::arange(6, torch::kFloat32).reshape({2, 3})},
                        {"b", torch::tensor({true, false})},
                        {"c", torch::tensor(3.5)}});
  auto t = rt::load_tensor_file(tmp.path() / "t.safetensors");
  EXPECT_TRUE(torch::equal(t["a"], torch::arange(6, torch::kFloat32).reshape({2, 3})));
  EXPECT_EQ(t["b"].scalar_type(), torch::kBool);
  EXPECT_EQ(t["c"].dim(), 0);
  robotrain::util::atomic_write_file(tmp.path() / "bad.safetensors", "\xff\xff\xff\xff\xff\xff\xff\x7f{}");
  EXPECT_THROW(rt::load_tensor_file(tmp.path() / "bad.safetensors"), robotrain::util::RuntimeError);
}

TEST(BatchAdapter, WrapsArraysAndScalesCameras) {
  robotrain::dataset::Batch batch;
  robotrain::dataset::Array img(robotrain::dataset::DType::UInt8, {2, 3, 2, 2});
  for (size_t i = 0; i < img.bytes.size(); ++i) img.bytes[i] = static_cast<uint8_t>(i * 10);
  robotrain::dataset::Array pad(robotrain::dataset::DType::Bool, {2, 4});
  pad.bytes[5] = 1;
  robotrain::dataset::Array state(robotrain::dataset::DType::Float32, {2, 3});
  state.data<float>()[4] = 1.5f;
  robotrain::dataset::Array idx(robotrain::dataset::DType::Int64, {2});
  idx.data<int64_t>()[1] = 77;
  batch.arrays["observation.images.top"] = img;
  batch.arrays["action_is_pad"] = pad;
  batch.arrays["observation.state"] = state;
  batch.arrays["index"] = idx;
  rt::BatchAdapterOptions opts;
  opts.camera_keys = {"observation.images.top"};
  auto t = rt::to_device_batch(std::move(batch), opts);
  EXPECT_EQ(t["observation.images.top"].scalar_type(), torch::kFloat32);
  EXPECT_NEAR(t["observation.images.top"].flatten()[3].item<float>(), 30.0f / 255.0f, 1e-7);
  EXPECT_EQ(t["action_is_pad"].scalar_type(), torch::kBool);
  EXPECT_TRUE(t["action_is_pad"][1][1].item<bool>());
  EXPECT_FLOAT_EQ(t["observation.state"][1][1].item<float>(), 1.5f);
  EXPECT_EQ(t["index"][1].item<int64_t>(), 77);
  EXPECT_EQ(t["observation.state"].sizes(), (std::vector<int64_t>{2, 3}));
}
