// Diffusion Policy structure: LeRobot state-dict names/shapes, config.json round trip and
// validation, and the DDPM/DDIM noise schedules against their closed-form definitions.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "policy/diffusion/config.h"
#include "policy/diffusion/model.h"
#include "policy/diffusion/scheduler.h"
#include "util/error.h"

namespace robotrain::policy::diffusion {
namespace {

using Shape = std::vector<int64_t>;
using KeyShapes = std::map<std::string, Shape>;

DiffusionConfig pusht_config() {
  DiffusionConfig c;
  c.input_features = {{"observation.image", FeatureType::Visual, {3, 96, 96}},
                      {"observation.state", FeatureType::State, {2}}};
  c.output_features = {{"action", FeatureType::Action, {2}}};
  c.crop_shape = std::array<int64_t, 2>{84, 84};
  c.validate();
  return c;
}

// Expected LeRobot keys, written from the naming rules of the spec (policies.md), not from
// the module tree under test.
void add_resnet18_gn(KeyShapes& k, const std::string& p) {
  k[p + "backbone.0.weight"] = {64, 3, 7, 7};
  k[p + "backbone.1.weight"] = {64};
  k[p + "backbone.1.bias"] = {64};
  const int64_t ch[] = {64, 64, 128, 256, 512};
  for (int layer = 0; layer < 4; ++layer) {
    for (int b = 0; b < 2; ++b) {
      const int64_t in = b == 0 ? ch[layer] : ch[layer + 1], out = ch[layer + 1];
      const std::string q = p + "backbone." + std::to_string(4 + layer) + "." + std::to_string(b) + ".";
      k[q + "conv1.weight"] = {out, in, 3, 3};
      k[q + "bn1.weight"] = {out};
      k[q + "bn1.bias"] = {out};
      k[q + "conv2.weight"] = {out, out, 3, 3};
      k[q + "bn2.weight"] = {out};
      k[q + "bn2.bias"] = {out};
      if (b == 0 && layer > 0) {
        k[q + "downsample.0.weight"] = {out, in, 1, 1};
        k[q + "downsample.1.weight"] = {out};
        k[q + "downsample.1.bias"] = {out};
      }
    }
  }
}

void add_res_block(KeyShapes& k, const std::string& p, int64_t in, int64_t out, int64_t cond, int64_t ks) {
  for (const char* c : {"conv1", "conv2"}) {
    const int64_t cin = std::string(c) == "conv1" ? in : out;
    k[p + c + ".block.0.weight"] = {out, cin, ks};
    k[p + c + ".block.0.bias"] = {out};
    k[p + c + ".block.1.weight"] = {out};
    k[p + c + ".block.1.bias"] = {out};
  }
  k[p + "cond_encoder.1.weight"] = {2 * out, cond};
  k[p + "cond_encoder.1.bias"] = {2 * out};
  if (in != out) {
    k[p + "residual_conv.weight"] = {out, in, 1};
    k[p + "residual_conv.bias"] = {out};
  }
}

KeyShapes expected_keys(const std::vector<int64_t>& dims, int64_t state, int64_t action, int64_t fmap_hw,
                        int cameras, bool per_camera, int n_obs, int64_t K = 32, int64_t E = 128, int64_t ks = 5) {
  KeyShapes k;
  auto encoder = [&](const std::string& p) {
    add_resnet18_gn(k, p);
    k[p + "pool.nets.weight"] = {K, 512, 1, 1};
    k[p + "pool.nets.bias"] = {K};
    k[p + "pool.pos_grid"] = {fmap_hw, 2};
    k[p + "out.weight"] = {2 * K, 2 * K};
    k[p + "out.bias"] = {2 * K};
  };
  if (per_camera)
    for (int i = 0; i < cameras; ++i) encoder("diffusion.rgb_encoder." + std::to_string(i) + ".");
  else
    encoder("diffusion.rgb_encoder.");
  const int64_t cond = E + (state + 2 * K * cameras) * n_obs;
  const std::string u = "diffusion.unet.";
  k[u + "diffusion_step_encoder.1.weight"] = {4 * E, E};
  k[u + "diffusion_step_encoder.1.bias"] = {4 * E};
  k[u + "diffusion_step_encoder.3.weight"] = {E, 4 * E};
  k[u + "diffusion_step_encoder.3.bias"] = {E};
  std::vector<std::pair<int64_t, int64_t>> io = {{action, dims[0]}};
  for (size_t i = 1; i < dims.size(); ++i) io.emplace_back(dims[i - 1], dims[i]);
  for (size_t i = 0; i < io.size(); ++i) {
    const std::string p = u + "down_modules." + std::to_string(i) + ".";
    add_res_block(k, p + "0.", io[i].first, io[i].second, cond, ks);
    add_res_block(k, p + "1.", io[i].second, io[i].second, cond, ks);
    if (i + 1 < io.size()) {
      k[p + "2.weight"] = {io[i].second, io[i].second, 3};
      k[p + "2.bias"] = {io[i].second};
    }
  }
  add_res_block(k, u + "mid_modules.0.", dims.back(), dims.back(), cond, ks);
  add_res_block(k, u + "mid_modules.1.", dims.back(), dims.back(), cond, ks);
  for (size_t j = 0; j + 1 < io.size(); ++j) {
    const auto [dout, din] = io[io.size() - 1 - j];
    const std::string p = u + "up_modules." + std::to_string(j) + ".";
    add_res_block(k, p + "0.", din * 2, dout, cond, ks);
    add_res_block(k, p + "1.", dout, dout, cond, ks);
    k[p + "2.weight"] = {dout, dout, 4};
    k[p + "2.bias"] = {dout};
  }
  k[u + "final_conv.0.block.0.weight"] = {dims[0], dims[0], ks};
  k[u + "final_conv.0.block.0.bias"] = {dims[0]};
  k[u + "final_conv.0.block.1.weight"] = {dims[0]};
  k[u + "final_conv.0.block.1.bias"] = {dims[0]};
  k[u + "final_conv.1.weight"] = {action, dims[0], 1};
  k[u + "final_conv.1.bias"] = {action};
  return k;
}

KeyShapes actual_keys(DiffusionModel& m) {
  KeyShapes k;
  for (const auto& p : m->named_parameters()) k["diffusion." + p.key()] = p.value().sizes().vec();
  for (const auto& b : m->named_buffers()) k["diffusion." + b.key()] = b.value().sizes().vec();
  return k;
}

void expect_same(const KeyShapes& want, const KeyShapes& got) {
  for (const auto& [key, shape] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      ADD_FAILURE() << "missing key " << key;
      continue;
    }
    EXPECT_EQ(it->second, shape) << key;
  }
  for (const auto& [key, shape] : got) EXPECT_TRUE(want.count(key)) << "unexpected key " << key;
}

TEST(DiffusionModel, StateDictMatchesLeRobotForPushTDefaults) {
  auto cfg = pusht_config();
  DiffusionModel m(cfg);
  auto want = expected_keys({512, 1024, 2048}, 2, 2, /*84 -> 3x3*/ 9, 1, false, 2);
  expect_same(want, actual_keys(m));
  // Spatial-softmax grid: x follows the column, y the row, linspace(-1, 1).
  auto grid = m->named_buffers()["rgb_encoder.pool.pos_grid"];
  EXPECT_FLOAT_EQ(grid[0][0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(grid[1][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(grid[1][1].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(grid[3][1].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(grid[8][0].item<float>(), 1.0f);
  int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  EXPECT_NEAR(static_cast<double>(n), 263e6, 3e6);  // "≈263M parameters for pusht"
}

TEST(DiffusionModel, StateDictPerCameraSmallDims) {
  auto cfg = pusht_config();
  cfg.input_features = {{"observation.images.a", FeatureType::Visual, {3, 32, 32}},
                        {"observation.images.b", FeatureType::Visual, {3, 32, 32}},
                        {"observation.state", FeatureType::State, {5}}};
  cfg.output_features = {{"action", FeatureType::Action, {3}}};
  cfg.crop_shape.reset();
  cfg.use_separate_rgb_encoder_per_camera = true;
  cfg.down_dims = {16, 32, 64};
  cfg.validate();
  DiffusionModel m(cfg);
  expect_same(expected_keys({16, 32, 64}, 5, 3, /*32 -> 1x1*/ 1, 2, true, 2), actual_keys(m));
}

TEST(DiffusionModel, ForwardShapesAndGroupNormOnly) {
  auto cfg = pusht_config();
  cfg.input_features[0].shape = {3, 32, 32};
  cfg.crop_shape = std::array<int64_t, 2>{24, 24};
  cfg.down_dims = {16, 32, 64};
  cfg.num_inference_steps = 3;
  cfg.validate();
  DiffusionModel m(cfg);
  for (const auto& kv : m->named_buffers()) EXPECT_EQ(kv.key().find("running_"), std::string::npos) << kv.key();
  Observations obs{torch::randn({3, 2, 2}), torch::rand({3, 2, 1, 3, 32, 32}), {}};
  EXPECT_EQ(m->global_conditioning(obs).sizes(), (std::vector<int64_t>{3, (2 + 64) * 2}));
  auto loss = m->compute_loss(obs, torch::randn({3, 16, 2}), torch::zeros({3, 16}, torch::kBool));
  EXPECT_EQ(loss.dim(), 0);
  loss.backward();
  m->eval();
  torch::NoGradGuard ng;
  auto actions = m->generate_actions(obs);
  EXPECT_EQ(actions.sizes(), (std::vector<int64_t>{3, 8, 2}));
}

TEST(DiffusionConfigTest, RejectsHorizonNotDivisible) {
  DiffusionConfig c;
  c.horizon = 12;  // 2^3 = 8 does not divide 12
  try {
    c.validate();
    FAIL() << "expected InputError";
  } catch (const util::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("horizon (12)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2^len(down_dims) = 8"), std::string::npos) << e.what();
  }
  c.down_dims = {64, 128};  // factor 4 divides 12
  c.n_action_steps = 8;
  EXPECT_NO_THROW(c.validate());
}

TEST(DiffusionConfigTest, JsonRoundTripInLeRobotOrder) {
  auto c = pusht_config();
  c.num_inference_steps = 10;
  auto j = c.to_json();
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  const std::vector<std::string> want = {
      "type", "n_obs_steps", "input_features", "output_features", "device", "use_amp", "use_peft", "push_to_hub",
      "repo_id", "private", "tags", "license", "pretrained_path", "horizon", "n_action_steps",
      "normalization_mapping", "drop_n_last_frames", "vision_backbone", "resize_shape", "crop_ratio", "crop_shape",
      "crop_is_random", "pretrained_backbone_weights", "use_group_norm", "spatial_softmax_num_keypoints",
      "use_separate_rgb_encoder_per_camera", "down_dims", "kernel_size", "n_groups", "diffusion_step_embed_dim",
      "use_film_scale_modulation", "noise_scheduler_type", "num_train_timesteps", "beta_schedule", "beta_start",
      "beta_end", "prediction_type", "clip_sample", "clip_sample_range", "num_inference_steps", "compile_model",
      "compile_mode", "do_mask_loss_for_padding", "optimizer_lr", "optimizer_betas", "optimizer_eps",
      "optimizer_weight_decay", "scheduler_name", "scheduler_warmup_steps"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(j["normalization_mapping"].dump(), R"({"VISUAL":"MEAN_STD","STATE":"MIN_MAX","ACTION":"MIN_MAX"})");
  EXPECT_EQ(j["input_features"]["observation.image"]["type"], "VISUAL");
  EXPECT_EQ(j["crop_shape"].dump(), "[84,84]");
  EXPECT_EQ(j["down_dims"].dump(), "[512,1024,2048]");
  auto back = DiffusionConfig::from_json(j);
  EXPECT_EQ(back.to_json().dump(), j.dump());
  EXPECT_EQ(back.num_inference_steps.value(), 10);

  auto bad = j;
  bad["not_a_field"] = 1;
  EXPECT_THROW(DiffusionConfig::from_json(bad), util::InputError);
  auto v06 = j;  // LeRobot 0.6's additions load (and change nothing)
  v06["pretrained_revision"] = "main";
  v06["gradient_checkpointing"] = true;
  EXPECT_EQ(DiffusionConfig::from_json(v06).to_json().dump(), j.dump());
  auto ema = c;
  ema.use_ema = true;
  EXPECT_EQ(ema.to_json().dump(), j.dump()) << "config.json holds LeRobot's fields only";
  auto merged = ema.to_json();
  const auto extras = ema.robotrain_json();
  for (auto& [k, v] : extras.items()) merged[k] = v;
  EXPECT_TRUE(DiffusionConfig::from_json(merged).use_ema);
  EXPECT_TRUE(c.robotrain_json().empty());
}

TEST(DiffusionConfigTest, DeltaIndicesAndResizeDerivedCrop) {
  DiffusionConfig c;
  EXPECT_EQ(c.observation_delta_indices(), (std::vector<int>{-1, 0}));
  auto a = c.action_delta_indices();
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(a.front(), -1);
  EXPECT_EQ(a.back(), 14);
  c.resize_shape = std::array<int64_t, 2>{100, 80};
  c.crop_ratio = 0.9;
  c.validate();
  EXPECT_EQ(*c.crop_shape, (std::array<int64_t, 2>{90, 72}));
}

// ---- noise schedules ----

double cos_abar(double s) {
  double c = std::cos((s + 0.008) / 1.008 * M_PI / 2);
  return c * c;
}

TEST(DiffusionScheduler, SquaredCosAlphasCumprodMatchFormula) {
  NoiseScheduler s(DiffusionConfig{});
  auto ac = s.alphas_cumprod();
  ASSERT_EQ(ac.numel(), 100);
  double prod = 1;
  for (int t = 0; t < 100; ++t) {
    double beta = std::min(1 - cos_abar((t + 1) / 100.0) / cos_abar(t / 100.0), 0.999);
    prod *= 1 - beta;
    EXPECT_NEAR(ac[t].item<float>(), prod, 2e-6) << t;
  }
  // Closed form of the product: abar(t+1)/abar(0) while no beta is capped.
  EXPECT_NEAR(ac[49].item<float>(), cos_abar(0.5) / cos_abar(0), 2e-6);
}

TEST(DiffusionScheduler, LinearAlphasCumprodMatchFormula) {
  DiffusionConfig o;
  o.beta_schedule = "linear";
  NoiseScheduler s(o);
  double prod = 1;
  for (int t = 0; t < 100; ++t) {
    prod *= 1 - (1e-4 + (0.02 - 1e-4) * t / 99.0);
    EXPECT_NEAR(s.alphas_cumprod()[t].item<float>(), prod, 2e-6) << t;
  }
  EXPECT_THROW(make_betas("scaled_linear", 100, 1e-4, 0.02), util::InputError);
}

TEST(DiffusionScheduler, AddNoiseUsesPerSampleTimestep) {
  NoiseScheduler s(DiffusionConfig{});
  auto x0 = torch::ones({2, 4, 3}), eps = torch::full({2, 4, 3}, 2.0);
  auto xt = s.add_noise(x0, eps, torch::tensor({0, 70}, torch::kLong));
  for (int b = 0; b < 2; ++b) {
    double a = s.alphas_cumprod()[b == 0 ? 0 : 70].item<float>();
    EXPECT_NEAR(xt[b][1][2].item<float>(), std::sqrt(a) + 2 * std::sqrt(1 - a), 1e-5);
  }
}

TEST(DiffusionScheduler, OneDdpmStepByHand) {
  NoiseScheduler s(DiffusionConfig{});  // DDPM, epsilon, clip to [-1, 1]
  const int t = 40;
  auto x = torch::tensor({0.3f, -0.8f, 1.5f}).view({1, 3, 1});
  auto e = torch::tensor({0.1f, 0.5f, -2.0f}).view({1, 3, 1});
  auto gen = at::detail::createCPUGenerator(7);
  auto prev = s.step(e, t, x, gen);
  auto z = torch::randn({1, 3, 1}, at::detail::createCPUGenerator(7), torch::TensorOptions());
  const double a = s.alphas_cumprod()[t].item<float>(), ap = s.alphas_cumprod()[t - 1].item<float>();
  const double beta_t = 1 - a / ap;
  for (int i = 0; i < 3; ++i) {
    double xi = x.view(-1)[i].item<float>(), ei = e.view(-1)[i].item<float>();
    double x0 = std::clamp((xi - std::sqrt(1 - a) * ei) / std::sqrt(a), -1.0, 1.0);
    double mean = std::sqrt(ap) * beta_t / (1 - a) * x0 + std::sqrt(1 - beta_t) * (1 - ap) / (1 - a) * xi;
    double var = (1 - ap) / (1 - a) * beta_t;
    EXPECT_NEAR(prev.view(-1)[i].item<float>(), mean + std::sqrt(var) * z.view(-1)[i].item<float>(), 1e-5) << i;
  }
  // At t = 0 no noise is added and the result is the clipped x0 estimate.
  auto last = s.step(e, 0, x);
  const double a0 = s.alphas_cumprod()[0].item<float>();
  EXPECT_NEAR(last.view(-1)[2].item<float>(),
              std::clamp((1.5 - std::sqrt(1 - a0) * -2.0) / std::sqrt(a0), -1.0, 1.0), 1e-5);
}

TEST(DiffusionScheduler, OneDdimStepByHandWithLeadingSpacing) {
  DiffusionConfig o;
  o.noise_scheduler_type = "DDIM";
  o.clip_sample = false;
  NoiseScheduler s(o);
  s.set_timesteps(10);
  EXPECT_EQ(s.timesteps(), (std::vector<int64_t>{90, 80, 70, 60, 50, 40, 30, 20, 10, 0}));
  s.set_timesteps(30);  // leading: arange(30) * (100 // 30) reversed
  EXPECT_EQ(s.timesteps().front(), 87);
  EXPECT_EQ(s.timesteps().back(), 0);
  s.set_timesteps(10);
  auto x = torch::tensor({0.3f, -0.8f}).view({1, 2, 1});
  auto e = torch::tensor({0.1f, 0.5f}).view({1, 2, 1});
  auto prev = s.step(e, 90, x);
  const double a = s.alphas_cumprod()[90].item<float>(), ap = s.alphas_cumprod()[80].item<float>();
  for (int i = 0; i < 2; ++i) {
    double xi = x.view(-1)[i].item<float>(), ei = e.view(-1)[i].item<float>();
    double x0 = (xi - std::sqrt(1 - a) * ei) / std::sqrt(a);
    EXPECT_NEAR(prev.view(-1)[i].item<float>(), std::sqrt(ap) * x0 + std::sqrt(1 - ap) * ei, 1e-4) << i;
  }
  // Final step goes to alpha_prev = 1 (set_alpha_to_one): returns the x0 estimate.
  auto fin = s.step(e, 0, x);
  const double a0 = s.alphas_cumprod()[0].item<float>();
  EXPECT_NEAR(fin.view(-1)[0].item<float>(), (0.3 - std::sqrt(1 - a0) * 0.1) / std::sqrt(a0), 1e-4);
}

}  // namespace
}  // namespace robotrain::policy::diffusion
