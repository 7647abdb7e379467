#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include <cmath>
#include <set>

#include "act_test_configs.h"
#include "policy/act/act_model.h"
#include "policy/act/act_policy.h"
#include "policy/factory.h"
#include "policy/pretrained.h"
#include "util/error.h"
#include "util/fs.h"

using namespace robotrain::policy;
using namespace robotrain::policy::act;
using robotrain::policy::act::fixtures::aloha_act;
using robotrain::policy::act::fixtures::tiny_act;
using robotrain::policy::act::fixtures::unit_stats;

TEST(ActKeys, DefaultConfigMatchesLeRobotStateDict) {
  ActPolicy p(aloha_act(), unit_stats(aloha_act()));
  std::map<std::string, std::vector<int64_t>> shapes;
  int64_t params = 0;
  for (auto& [k, v] : p.lerobot_state_dict()) shapes[k] = v.sizes().vec();
  for (auto& t : p.parameters()) params += t.numel();
  EXPECT_EQ(shapes.size(), 234u);
  EXPECT_NEAR(params / 1e6, 51.6, 0.2);
  const std::map<std::string, std::vector<int64_t>> expected = {
      {"model.vae_encoder.layers.0.self_attn.in_proj_weight", {1536, 512}},
      {"model.vae_encoder.layers.3.linear1.weight", {3200, 512}},
      {"model.vae_encoder_cls_embed.weight", {1, 512}},
      {"model.vae_encoder_robot_state_input_proj.weight", {512, 14}},
      {"model.vae_encoder_action_input_proj.weight", {512, 14}},
      {"model.vae_encoder_latent_output_proj.weight", {64, 512}},
      {"model.vae_encoder_pos_enc", {1, 102, 512}},
      {"model.backbone.conv1.weight", {64, 3, 7, 7}},
      {"model.backbone.bn1.running_var", {64}},
      {"model.backbone.layer2.0.downsample.0.weight", {128, 64, 1, 1}},
      {"model.backbone.layer4.1.bn2.bias", {512}},
      {"model.encoder.layers.3.norm2.weight", {512}},
      {"model.decoder.layers.0.multihead_attn.out_proj.weight", {512, 512}},
      {"model.decoder.layers.0.norm3.bias", {512}},
      {"model.decoder.norm.weight", {512}},
      {"model.encoder_robot_state_input_proj.weight", {512, 14}},
      {"model.encoder_latent_input_proj.weight", {512, 32}},
      {"model.encoder_img_feat_input_proj.weight", {512, 512, 1, 1}},
      {"model.encoder_1d_feature_pos_embed.weight", {2, 512}},
      {"model.decoder_pos_embed.weight", {100, 512}},
      {"model.action_head.weight", {14, 512}},
  };
  for (auto& [k, s] : expected) {
    ASSERT_TRUE(shapes.count(k)) << "missing " << k;
    EXPECT_EQ(shapes[k], s) << k;
  }
  for (auto& [k, s] : shapes) {
    EXPECT_EQ(k.find("num_batches_tracked"), std::string::npos) << k;
    EXPECT_EQ(k.find("fc."), std::string::npos) << k;
    EXPECT_EQ(k.find("encoder.norm"), k.find("decoder.norm") == std::string::npos ? std::string::npos : k.find("encoder.norm")) << k;
  }
  EXPECT_FALSE(shapes.count("model.encoder_env_state_input_proj.weight"));
  EXPECT_FALSE(shapes.count("model.encoder.norm.weight")) << "post-norm encoders have an Identity final norm";
}

TEST(ActConfig, JsonRoundTripInLeRobotOrder) {
  auto c = tiny_act();
  c.temporal_ensemble_coeff = 0.01;
  c.n_action_steps = 1;
  auto j = c.to_json();
  auto keys = std::vector<std::string>{};
  for (auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys.front(), "type");
  EXPECT_EQ(keys[1], "n_obs_steps");
  EXPECT_EQ(keys[13], "chunk_size");
  EXPECT_EQ(keys.back(), "optimizer_lr_backbone");
  EXPECT_EQ(ActConfig::from_json(j).to_json(), j);
  auto bad = j;
  bad["no_such_field"] = 1;
  EXPECT_THROW(ActConfig::from_json(bad), robotrain::util::InputError);
  auto v06 = j;  // LeRobot 0.6 writes the Hub revision of pretrained_path too
  v06["pretrained_revision"] = nullptr;
  EXPECT_EQ(ActConfig::from_json(v06).to_json(), j);
  c.n_action_steps = 5;
  EXPECT_THROW(c.validate(), robotrain::util::InputError) << "ensembling needs n_action_steps 1";
}

TEST(ActPretrained, SaveLoadGivesIdenticalOutputsAndProcessorFiles) {
  torch::manual_seed(0);
  auto c = tiny_act();
  auto p = std::make_shared<ActPolicy>(c, unit_stats(c));
  robotrain::util::TempDir tmp;
  save_pretrained(*p, tmp.path());
  for (auto f : {"config.json", "model.safetensors", "policy_preprocessor.json", "policy_postprocessor.json",
                 "policy_preprocessor_step_3_normalizer_processor.safetensors", "policy_postprocessor_step_0_unnormalizer_processor.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(tmp.path() / f)) << f;
  auto q = load_pretrained(tmp.path());
  TensorMap obs = {{"observation.images.cam", torch::rand({2, 3, 32, 32})}, {"observation.state", torch::randn({2, 2})}};
  EXPECT_TRUE(torch::allclose(p->predict_action_chunk(obs), q->predict_action_chunk(obs)));
  EXPECT_EQ(q->config_json(), p->config_json());
  // A config for other shapes is rejected with the mismatching keys named.
  auto other = tiny_act();
  other.output_features[0].shape = {3};
  ActPolicy r(other, unit_stats(other));
  try {
    load_pretrained_weights(r, tmp.path());
    FAIL();
  } catch (const robotrain::util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("model.action_head.weight"), std::string::npos) << e.what();
  }
}

TEST(ActTraining, LossFallsOnALearnableTask) {
  torch::manual_seed(1);
  auto c = tiny_act();
  ActPolicy p(c, unit_stats(c));
  std::vector<torch::Tensor> params;
  for (auto& g : p.param_groups()) params.insert(params.end(), g.params.begin(), g.params.end());
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-3));
  p.train();
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    auto state = torch::rand({8, 2});
    auto action = state.unsqueeze(1).repeat({1, 5, 1}) * 2 - 1;  // action chunk = function of the state
    TensorMap batch = {{"observation.images.cam", torch::rand({8, 3, 32, 32})},
                       {"observation.state", state},
                       {"action", action},
                       {"action_is_pad", torch::zeros({8, 5}, torch::kBool)}};
    auto out = p.forward_loss(batch);
    opt.zero_grad();
    out.loss.backward();
    opt.step();
    if (step == 0) first = out.loss.item<double>();
    last = out.loss.item<double>();
    EXPECT_TRUE(out.parts.count("l1_loss") && out.parts.count("kld_loss"));
  }
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
}

TEST(ActInference, ActionQueueAndTemporalEnsembling) {
  torch::manual_seed(2);
  auto c = tiny_act();
  c.n_action_steps = 3;
  ActPolicy p(c, unit_stats(c));
  TensorMap obs = {{"observation.images.cam", torch::rand({1, 3, 32, 32})}, {"observation.state", torch::randn({1, 2})}};
  auto chunk = p.predict_action_chunk(obs);
  ASSERT_EQ(chunk.sizes(), (std::vector<int64_t>{1, 5, 2}));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(p.select_action(obs), chunk.select(1, i)));
  EXPECT_TRUE(torch::allclose(p.select_action(obs), chunk.select(1, 0))) << "queue refills after n_action_steps";

  TemporalEnsembler ens(0.01, 5);
  auto a1 = torch::arange(10, torch::kFloat32).reshape({1, 5, 2});
  EXPECT_TRUE(torch::allclose(ens.update(a1), a1.select(1, 0)));
  auto a2 = a1 + 100;
  auto w0 = std::exp(0.0), w1 = std::exp(-0.01);
  auto expected = (a1.select(1, 1) * w0 + a2.select(1, 0) * w1) / (w0 + w1);
  EXPECT_TRUE(torch::allclose(ens.update(a2), expected));
}

TEST(ActTraining, VaeEncoderRunsInFloat32UnderAutocast) {
  // Under mixed precision (bf16 autocast here, as CPU has it; CUDA's fp16/bf16 alike) the VAE
  // encoder's masked attention must not see reduced-precision weights: LibTorch's
  // MultiheadAttention cannot apply a key padding mask to them.
  auto c = tiny_act();
  ActModel model(c);
  model->train();
  ActInputs in;
  in.state = torch::randn({2, 2});
  in.actions = torch::randn({2, c.chunk_size, 2});
  in.action_is_pad = torch::zeros({2, c.chunk_size}, torch::kBool);
  in.action_is_pad.index_put_({0, c.chunk_size - 1}, true);
  at::autocast::set_autocast_dtype(at::kCPU, torch::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCPU, true);
  ActOutputs out;
  torch::Tensor z;
  EXPECT_NO_THROW(z = model->encode_latent(in, out));
  const bool still_on = at::autocast::is_autocast_enabled(at::kCPU);
  at::autocast::set_autocast_enabled(at::kCPU, false);
  at::autocast::clear_cache();
  EXPECT_TRUE(still_on) << "the float32 scope must restore autocast";
  ASSERT_TRUE(z.defined());
  EXPECT_EQ(out.mu.scalar_type(), torch::kFloat32);
  EXPECT_EQ(out.log_sigma_x2.sizes(), (std::vector<int64_t>{2, c.latent_dim}));
  EXPECT_TRUE(torch::isfinite(z).all().item<bool>());
  z.sum().backward();
  EXPECT_TRUE(model->vae_encoder_latent_output_proj->weight.grad().defined());
}

TEST(ActFactory, BuildsFromPartialConfigAndRejectsUnknownTypes) {
  auto c = tiny_act();
  auto j = c.to_json();
  auto p = make_policy_with_stats(j, unit_stats(c));
  EXPECT_EQ(p->type(), "act");
  EXPECT_THROW(make_policy_with_stats({{"type", "pi0"}}, {}), robotrain::util::InputError);
  auto s = unit_stats(c);
  s.erase("observation.state");
  EXPECT_THROW(make_policy_with_stats(j, s), robotrain::util::InputError) << "missing stats are named up front";
}

TEST(ActBackbone, MemoryLayoutFollowsImageSizeAndGivesTheSameFeatures) {
  auto small = tiny_act();
  EXPECT_FALSE(ActModel(small)->backbone->channels_last);  // 32x32: NCHW is faster
  auto large = tiny_act();
  large.input_features[0].shape = {3, 240, 320};
  EXPECT_TRUE(ActModel(large)->backbone->channels_last);  // 240x320: channels-last is faster

  torch::manual_seed(0);
  ResNet18Backbone backbone(false);
  backbone->eval();
  auto x = torch::rand({2, 3, 64, 96});
  auto nchw = backbone->forward(x);
  backbone->channels_last = true;
  auto nhwc = backbone->forward(x);
  ASSERT_EQ(nchw.sizes(), nhwc.sizes());
  EXPECT_TRUE(torch::allclose(nchw, nhwc, 1e-4, 1e-4)) << (nchw - nhwc).abs().max().item<float>();
}

// ACT's attention runs through at::scaled_dot_product_attention with the parameters of a
// torch::nn::MultiheadAttention (LeRobot's keys): it must compute what that module computes,
// for self-attention with positions (query and key the same tensor, value not), with a key
// padding mask, and for cross-attention, values and gradients alike.
TEST(ActAttention, MatchesMultiheadAttention) {
  torch::manual_seed(0);
  const int64_t D = 32, H = 4, L = 7, S = 9, B = 3;
  torch::nn::MultiheadAttention m(torch::nn::MultiheadAttentionOptions(D, H).dropout(0.1));
  m->eval();
  for (auto& p : m->parameters()) {
    torch::NoGradGuard ng;
    p.uniform_(-0.5, 0.5);  // a non-zero bias too
  }
  auto x = torch::randn({L, B, D}), pos = torch::randn({L, B, D}), mem = torch::randn({S, B, D});
  auto pad = torch::zeros({B, L}, torch::kBool);
  pad.index_put_({1, torch::indexing::Slice(4, L)}, true);
  pad.index_put_({2, L - 1}, true);

  auto check = [&](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask,
                   const char* what) {
    m->zero_grad();
    auto ours = attend(m, q, k, v, mask);
    auto ours_grads = torch::autograd::grad({ours.pow(2).sum()}, {m->in_proj_weight, m->out_proj->weight});
    auto ref = std::get<0>(m->forward(q, k, v, mask, /*need_weights=*/false));
    auto ref_grads = torch::autograd::grad({ref.pow(2).sum()}, {m->in_proj_weight, m->out_proj->weight});
    ASSERT_EQ(ours.sizes(), ref.sizes()) << what;
    EXPECT_TRUE(torch::allclose(ours, ref, 1e-5, 1e-5)) << what << ": " << (ours - ref).abs().max().item<float>();
    for (size_t i = 0; i < ours_grads.size(); ++i) {
      // Relative to the gradient's scale: float sums of a few hundred terms in another order.
      const double scale = ref_grads[i].abs().max().item<double>();
      EXPECT_LT((ours_grads[i] - ref_grads[i]).abs().max().item<double>(), 1e-5 * scale)
          << what << " gradient " << i << " (scale " << scale << ")";
    }
  };
  auto q = x + pos;
  check(q, q, x, torch::Tensor(), "self-attention with positions");
  check(q, q, x, pad, "self-attention with a key padding mask");
  check(x, x, x, torch::Tensor(), "plain self-attention");
  check(q, mem + 1.0, mem, torch::Tensor(), "cross-attention");

  // Training: dropout on the attention weights, as torch's module applies it.
  m->train();
  auto a = attend(m, q, q, x), b = attend(m, q, q, x);
  EXPECT_FALSE(torch::allclose(a, b)) << "no dropout in training";
  m->eval();
  EXPECT_TRUE(torch::equal(attend(m, q, q, x), attend(m, q, q, x)));
}
