// Diffusion Policy end to end on CPU with a tiny config: the denoising loss falls on a
// learnable synthetic task, sampled actions approach the targets, the action queue hands
// out the chunk in order, and the EMA copy follows the weights.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "policy/diffusion/diffusion_policy.h"
#include <cstdio>

#include "policy/pretrained.h"
#include "util/error.h"
#include "util/fs.h"

namespace robotrain::policy::diffusion {
namespace {

constexpr int kHorizon = 16, kObs = 2;

DiffusionConfig tiny_config() {
  DiffusionConfig c;
  c.input_features = {{"observation.images.cam", FeatureType::Visual, {3, 32, 32}},
                      {"observation.state", FeatureType::State, {2}}};
  c.output_features = {{"action", FeatureType::Action, {2}}};
  c.crop_shape = std::array<int64_t, 2>{16, 16};
  c.down_dims = {16, 32, 64};
  c.diffusion_step_embed_dim = 32;
  c.spatial_softmax_num_keypoints = 8;
  c.noise_scheduler_type = "DDIM";  // deterministic given the initial noise
  c.num_inference_steps = 10;
  return c;
}

FeatureStats tiny_stats() {
  FeatureStats s;
  s["observation.images.cam"] = {{"mean", torch::full({3, 1, 1}, 0.5)}, {"std", torch::full({3, 1, 1}, 0.25)}};
  s["observation.state"] = {{"min", torch::full({2}, -1.0)}, {"max", torch::full({2}, 1.0)}};
  s["action"] = {{"min", torch::tensor({-1.5, -1.5})}, {"max", torch::tensor({1.5, 1.5})}};
  return s;
}

// The action trajectory is a ramp that starts at the state: learnable from the state alone.
torch::Tensor target_actions(const torch::Tensor& state /*(B, 2)*/) {
  auto t = torch::arange(kHorizon, torch::kFloat32).view({1, kHorizon, 1}) * 0.03;
  auto dir = torch::tensor({1.0f, -1.0f}).view({1, 1, 2});
  return state.unsqueeze(1) + t * dir;
}

TensorMap make_batch(int64_t B) {
  auto state = torch::rand({B, 2}) * 2 - 1;
  TensorMap b;
  b["observation.state"] = state.unsqueeze(1).expand({B, kObs, 2}).contiguous();
  b["observation.images.cam"] = torch::rand({B, kObs, 3, 32, 32});
  b["action"] = target_actions(state);
  b["action_is_pad"] = torch::zeros({B, kHorizon}, torch::kBool);
  return b;
}

double sample_error(DiffusionPolicy& p, const TensorMap& eval, const torch::Tensor& noise) {
  p.set_next_noise(noise.clone());
  TensorMap obs = {{"observation.state", eval.at("observation.state")},
                   {"observation.images.cam", eval.at("observation.images.cam")}};
  auto got = p.predict_action_chunk(obs);  // (B, n_action_steps, A)
  auto want = eval.at("action").narrow(1, kObs - 1, 8);
  return torch::mse_loss(got, want).item<double>();
}

TEST(DiffusionTrain, LossFallsAndSamplesApproachTargets) {
  torch::manual_seed(0);
  // LeRobot's defaults for the schedule: DDPM, epsilon, 100 inference steps.
  auto cfg = tiny_config();
  cfg.noise_scheduler_type = "DDPM";
  cfg.num_inference_steps.reset();
  DiffusionPolicy p(cfg, tiny_stats());
  torch::optim::Adam opt(p.parameters(), torch::optim::AdamOptions(4e-3));
  auto eval = make_batch(16);
  auto noise = torch::randn({16, kHorizon, 2});
  const double before = sample_error(p, eval, noise);

  p.train();
  std::vector<double> losses;
  for (int step = 0; step < 100; ++step) {
    auto out = p.forward_loss(make_batch(16));
    opt.zero_grad();
    out.loss.backward();
    torch::nn::utils::clip_grad_norm_(p.parameters(), 10.0);
    opt.step();
    losses.push_back(out.loss.item<double>());
  }
  auto mean = [&](size_t from, size_t to) {
    double s = 0;
    for (size_t i = from; i < to; ++i) s += losses[i];
    return s / static_cast<double>(to - from);
  };
  const double first = mean(0, 10), last = mean(losses.size() - 20, losses.size());
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
  std::printf("diffusion tiny run: loss first10 %.4f last20 %.4f\n", first, last);

  const double after = sample_error(p, eval, noise);
  EXPECT_LT(after, 0.6 * before) << "before " << before << " after " << after;
  std::printf("diffusion tiny run: sample mse before %.4f after %.4f\n", before, after);
}

TEST(DiffusionTrain, SelectActionHandsOutTheChunkInOrder) {
  torch::manual_seed(1);
  DiffusionPolicy p(tiny_config(), tiny_stats());
  auto batch = make_batch(3);
  TensorMap obs = {{"observation.state", batch["observation.state"].select(1, 0)},
                   {"observation.images.cam", batch["observation.images.cam"].select(1, 0)}};
  auto noise = torch::randn({3, kHorizon, 2});
  p.reset();
  p.set_next_noise(noise.clone());
  std::vector<torch::Tensor> acts;
  for (int i = 0; i < 8; ++i) acts.push_back(p.select_action(obs));
  p.reset();
  p.set_next_noise(noise.clone());
  auto chunk = p.predict_action_chunk(obs);
  ASSERT_EQ(chunk.sizes(), (std::vector<int64_t>{3, 8, 2}));
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(torch::allclose(acts[i], chunk.select(1, i), 1e-5, 1e-5)) << i;
  // The 9th call samples a new chunk (fresh noise): different from the first action.
  auto ninth = p.select_action(obs);
  EXPECT_EQ(ninth.sizes(), (std::vector<int64_t>{3, 2}));

  auto d = p.delta_indices();
  EXPECT_EQ(d["observation.state"], (std::vector<int>{-1, 0}));
  EXPECT_EQ(d["action"].size(), 16u);
  EXPECT_EQ(p.drop_n_last_frames(), 7);
  auto preset = p.optimizer_preset();
  EXPECT_EQ(preset.optimizer.type, "adam");
  EXPECT_DOUBLE_EQ(preset.optimizer.lr, 1e-4);
  EXPECT_DOUBLE_EQ(preset.optimizer.beta1, 0.95);
  EXPECT_DOUBLE_EQ(preset.optimizer.weight_decay, 1e-6);
  ASSERT_TRUE(preset.scheduler.has_value());
  EXPECT_EQ(preset.scheduler->type, "diffuser");
  EXPECT_EQ(preset.scheduler->name, "cosine");
  EXPECT_EQ(preset.scheduler->num_warmup_steps, 500);
}

TEST(DiffusionTrain, MissingStatsAndBadHorizonAreInputErrors) {
  auto stats = tiny_stats();
  stats.erase("action");
  EXPECT_THROW(DiffusionPolicy(tiny_config(), stats), util::InputError);
  auto c = tiny_config();
  c.horizon = 20;
  EXPECT_THROW(DiffusionPolicy(c, tiny_stats()), util::InputError);
}

TEST(DiffusionTrain, EmaFollowsWeights) {
  auto c = tiny_config();
  c.use_ema = true;
  DiffusionPolicy p(c, tiny_stats());
  ASSERT_TRUE(p.has_ema());
  auto sd = p.lerobot_state_dict();
  auto ema = p.ema_state_dict();
  ASSERT_EQ(sd.size(), ema.size());
  for (size_t i = 0; i < sd.size(); ++i) EXPECT_EQ(sd[i].first, ema[i].first);
  EXPECT_DOUBLE_EQ(p.ema_decay(0), 0.0);
  EXPECT_NEAR(p.ema_decay(9), 1 - std::pow(10.0, -0.75), 1e-12);
  EXPECT_DOUBLE_EQ(p.ema_decay(1000000000), 0.9999);

  // Initial EMA equals the weights; after a step, ema = d * w0 + (1 - d) * w1.
  // final_conv.1.bias always gets a gradient.
  auto find = [](const std::vector<std::pair<std::string, torch::Tensor>>& kv) {
    for (const auto& [k, v] : kv)
      if (k == "diffusion.unet.final_conv.1.bias") return v;
    ADD_FAILURE() << "no final_conv.1.bias";
    return torch::Tensor();
  };
  auto w0 = find(sd).detach().clone();
  EXPECT_TRUE(torch::equal(w0, find(ema)));
  torch::optim::Adam opt(p.parameters(), torch::optim::AdamOptions(1e-2));
  auto out = p.forward_loss(make_batch(4));
  out.loss.backward();
  opt.step();
  p.ema_update(1);
  const double d = p.ema_decay(1);
  auto w1 = find(p.lerobot_state_dict()).detach();
  auto e1 = find(p.ema_state_dict());
  ASSERT_FALSE(torch::equal(w0, w1));
  EXPECT_TRUE(torch::allclose(e1, d * w0 + (1 - d) * w1, 1e-6, 1e-7));
}


// What `robotrain eval` loads is what training evaluated: the EMA weights come back from
// ema.safetensors (not a fresh copy of the model), and the config keeps EMA switched on.
TEST(DiffusionTrain, EmaWeightsRoundTripThroughThePretrainedDirectory) {
  auto c = tiny_config();
  c.use_ema = true;
  DiffusionPolicy p(c, tiny_stats());
  torch::optim::Adam opt(p.parameters(), torch::optim::AdamOptions(1e-2));
  for (int step = 1; step <= 3; ++step) {
    opt.zero_grad();
    p.forward_loss(make_batch(4)).loss.backward();
    opt.step();
    p.ema_update(step);
  }
  util::TempDir tmp{"rt-ema"};
  save_pretrained(p, tmp.path());
  ASSERT_TRUE(std::filesystem::exists(tmp.path() / "ema.safetensors"));
  // config.json stays LeRobot's (its parser rejects unknown fields); the EMA settings are
  // robotrain's, in robotrain.json.
  auto json = util::read_json_file(tmp.path() / "config.json");
  for (const char* k : {"robotrain_ema", "use_ema", "ema_power"}) EXPECT_FALSE(json.contains(k)) << k;
  auto sidecar = util::read_json_file(tmp.path() / "robotrain.json");
  EXPECT_EQ(sidecar["policy"]["use_ema"], true);
  EXPECT_DOUBLE_EQ(sidecar["policy"]["ema_power"].get<double>(), c.ema_power);
  auto loaded = load_pretrained(tmp.path());
  auto* d = dynamic_cast<DiffusionPolicy*>(loaded.get());
  ASSERT_NE(d, nullptr);
  ASSERT_TRUE(d->has_ema());
  auto want = p.ema_state_dict(), got = d->ema_state_dict();
  ASSERT_EQ(want.size(), got.size());
  size_t differs_from_model = 0;
  auto model = d->lerobot_state_dict();
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(torch::equal(want[i].second, got[i].second)) << want[i].first;
    differs_from_model += !torch::equal(got[i].second, model[i].second);
  }
  EXPECT_GT(differs_from_model, 0u);
  // Flag spellings parse into the same config; bad values are input errors.
  auto flags = util::Json{{"type", "diffusion"}, {"use_ema", true}, {"ema_power", 0.5}};
  auto parsed = DiffusionConfig::from_json(flags);
  EXPECT_TRUE(parsed.use_ema);
  EXPECT_DOUBLE_EQ(parsed.ema_power, 0.5);
  EXPECT_THROW(DiffusionConfig::from_json(util::Json{{"use_ema", true}, {"ema_max_decay", 1.0}}), util::InputError);
  // Checkpoints from before robotrain.json kept them in config.json as "robotrain_ema".
  auto legacy = c.to_json();
  legacy["robotrain_ema"] = util::Json{{"power", 0.6}, {"max_decay", 0.999}};
  auto old = DiffusionConfig::from_json(legacy);
  EXPECT_TRUE(old.use_ema);
  EXPECT_DOUBLE_EQ(old.ema_power, 0.6);
}

}  // namespace
}  // namespace robotrain::policy::diffusion
