// The complete LeRobot ACT state dict, built from the key description in
// shared/spec/policies.md, compared key by key and shape by shape.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "act_test_configs.h"
#include "policy/act/act_policy.h"
#include "policy/pretrained.h"
#include "policy/tensor_io.h"
#include "util/error.h"
#include "util/fs.h"

using namespace robotrain::policy;
using namespace robotrain::policy::act;
using robotrain::policy::act::fixtures::aloha_act;
using robotrain::policy::act::fixtures::small_act;
using robotrain::policy::act::fixtures::unit_stats;

namespace {

using Shapes = std::map<std::string, std::vector<int64_t>>;

// One transformer layer as LeRobot names it; `cross` adds the decoder's second attention.
void add_layer(Shapes& out, const std::string& p, int64_t D, int64_t FF, bool decoder) {
  auto attn = [&](const std::string& a) {
    out[p + a + ".in_proj_weight"] = {3 * D, D};
    out[p + a + ".in_proj_bias"] = {3 * D};
    out[p + a + ".out_proj.weight"] = {D, D};
    out[p + a + ".out_proj.bias"] = {D};
  };
  attn("self_attn");
  if (decoder) attn("multihead_attn");
  out[p + "linear1.weight"] = {FF, D};
  out[p + "linear1.bias"] = {FF};
  out[p + "linear2.weight"] = {D, FF};
  out[p + "linear2.bias"] = {D};
  for (int n = 1; n <= (decoder ? 3 : 2); ++n) {
    out[p + "norm" + std::to_string(n) + ".weight"] = {D};
    out[p + "norm" + std::to_string(n) + ".bias"] = {D};
  }
}

void add_bn(Shapes& out, const std::string& p, int64_t c) {
  for (auto s : {"weight", "bias", "running_mean", "running_var"}) out[p + s] = {c};
}

Shapes expected_act_keys(int64_t D, int64_t FF, int64_t L, int64_t S, int64_t A, int64_t chunk) {
  Shapes k;
  const std::string m = "model.";
  for (int i = 0; i < 4; ++i) add_layer(k, m + "vae_encoder.layers." + std::to_string(i) + ".", D, FF, false);
  k[m + "vae_encoder_cls_embed.weight"] = {1, D};
  k[m + "vae_encoder_robot_state_input_proj.weight"] = {D, S};
  k[m + "vae_encoder_robot_state_input_proj.bias"] = {D};
  k[m + "vae_encoder_action_input_proj.weight"] = {D, A};
  k[m + "vae_encoder_action_input_proj.bias"] = {D};
  k[m + "vae_encoder_latent_output_proj.weight"] = {2 * L, D};
  k[m + "vae_encoder_latent_output_proj.bias"] = {2 * L};
  k[m + "vae_encoder_pos_enc"] = {1, 2 + chunk, D};
  // torchvision ResNet-18 (BasicBlock x2 per stage), frozen BN buffers, no fc.
  k[m + "backbone.conv1.weight"] = {64, 3, 7, 7};
  add_bn(k, m + "backbone.bn1.", 64);
  const int64_t widths[] = {64, 128, 256, 512};
  for (int layer = 1; layer <= 4; ++layer) {
    int64_t out_c = widths[layer - 1], in_c = layer == 1 ? 64 : widths[layer - 2];
    for (int b = 0; b < 2; ++b) {
      std::string p = m + "backbone.layer" + std::to_string(layer) + "." + std::to_string(b) + ".";
      k[p + "conv1.weight"] = {out_c, b == 0 ? in_c : out_c, 3, 3};
      add_bn(k, p + "bn1.", out_c);
      k[p + "conv2.weight"] = {out_c, out_c, 3, 3};
      add_bn(k, p + "bn2.", out_c);
      if (b == 0 && layer > 1) {
        k[p + "downsample.0.weight"] = {out_c, in_c, 1, 1};
        add_bn(k, p + "downsample.1.", out_c);
      }
    }
  }
  for (int i = 0; i < 4; ++i) add_layer(k, m + "encoder.layers." + std::to_string(i) + ".", D, FF, false);
  add_layer(k, m + "decoder.layers.0.", D, FF, true);
  k[m + "decoder.norm.weight"] = {D};
  k[m + "decoder.norm.bias"] = {D};
  k[m + "encoder_robot_state_input_proj.weight"] = {D, S};
  k[m + "encoder_robot_state_input_proj.bias"] = {D};
  k[m + "encoder_latent_input_proj.weight"] = {D, L};
  k[m + "encoder_latent_input_proj.bias"] = {D};
  k[m + "encoder_img_feat_input_proj.weight"] = {D, 512, 1, 1};
  k[m + "encoder_img_feat_input_proj.bias"] = {D};
  k[m + "encoder_1d_feature_pos_embed.weight"] = {2, D};
  k[m + "decoder_pos_embed.weight"] = {chunk, D};
  k[m + "action_head.weight"] = {A, D};
  k[m + "action_head.bias"] = {A};
  return k;
}

Shapes actual(ActPolicy& p) {
  Shapes s;
  for (auto& [k, v] : p.lerobot_state_dict()) s[k] = v.sizes().vec();
  return s;
}

}  // namespace

TEST(ActKeys, EveryKeyAndShapeOfTheDefaultConfigMatchesTheSpec) {
  auto c = aloha_act();
  ActPolicy p(c, unit_stats(c));
  auto want = expected_act_keys(512, 3200, 32, 14, 14, 100);
  ASSERT_EQ(want.size(), 234u) << "the spec's count";
  auto got = actual(p);
  for (auto& [k, s] : want) {
    auto it = got.find(k);
    if (it == got.end()) {
      ADD_FAILURE() << "missing " << k;
      continue;
    }
    EXPECT_EQ(it->second, s) << k;
  }
  for (auto& [k, s] : got) EXPECT_TRUE(want.count(k)) << "unexpected " << k;
  int64_t n = 0;
  for (auto& t : p.parameters()) n += t.numel();
  EXPECT_NEAR(n / 1e6, 51.6, 0.1);
}

TEST(ActKeys, EnvStateOnlyConfigHasNoBackboneAndThreeOneDTokensWithState) {
  auto c = small_act({{"observation.state", FeatureType::State, {4}}, {"observation.environment_state", FeatureType::Env, {6}}},
                     {{"action", FeatureType::Action, {2}}});
  ActPolicy p(c, unit_stats(c));
  auto got = actual(p);
  for (auto& [k, s] : got) EXPECT_EQ(k.find("model.backbone."), std::string::npos) << k;
  EXPECT_EQ(got["model.encoder_env_state_input_proj.weight"], (std::vector<int64_t>{32, 6}));
  EXPECT_EQ(got["model.encoder_1d_feature_pos_embed.weight"], (std::vector<int64_t>{3, 32}));
  EXPECT_EQ(got["model.vae_encoder_pos_enc"], (std::vector<int64_t>{1, 6, 32}));
  EXPECT_FALSE(got.count("model.encoder_img_feat_input_proj.weight"));
  torch::manual_seed(0);
  TensorMap obs = {{"observation.state", torch::randn({3, 4})}, {"observation.environment_state", torch::randn({3, 6})}};
  EXPECT_EQ(p.predict_action_chunk(obs).sizes(), (std::vector<int64_t>{3, 4, 2}));
}

TEST(ActKeys, PreNormAddsTheEncoderFinalNormAndTwoCamerasShareTheBackbone) {
  auto c = small_act({{"observation.images.a", FeatureType::Visual, {3, 32, 32}},
                      {"observation.images.b", FeatureType::Visual, {3, 64, 32}}},
                     {{"action", FeatureType::Action, {3}}});
  c.pre_norm = true;
  ActPolicy p(c, unit_stats(c));
  auto got = actual(p);
  EXPECT_TRUE(got.count("model.encoder.norm.weight"));
  EXPECT_FALSE(got.count("model.vae_encoder_robot_state_input_proj.weight")) << "no state feature";
  EXPECT_EQ(got["model.vae_encoder_pos_enc"], (std::vector<int64_t>{1, 5, 32})) << "cls + chunk without a state token";
  EXPECT_EQ(got["model.encoder_1d_feature_pos_embed.weight"], (std::vector<int64_t>{1, 32}));
  p.train();
  TensorMap batch = {{"observation.images.a", torch::rand({2, 3, 32, 32})},
                     {"observation.images.b", torch::rand({2, 3, 64, 32})},
                     {"action", torch::randn({2, 4, 3})},
                     {"action_is_pad", torch::zeros({2, 4}, torch::kBool)}};
  auto out = p.forward_loss(batch);
  out.loss.backward();
  EXPECT_TRUE(p.model()->backbone->conv1->weight.grad().defined()) << "the backbone trains (lr_backbone)";
  EXPECT_EQ(p.param_groups().size(), 2u);
}

TEST(ActKeys, LoadingReportsMissingAndMisshapedKeysAndWarnsOnUnexpectedOnes) {
  auto c = small_act({{"observation.environment_state", FeatureType::Env, {3}}}, {{"action", FeatureType::Action, {2}}}, 3);
  c.dim_model = 16;
  c.n_heads = 2;
  c.dim_feedforward = 16;
  ActPolicy p(c, unit_stats(c));
  robotrain::util::TempDir tmp;
  save_pretrained(p, tmp.path());
  auto file = tmp.path() / "model.safetensors";

  auto state = load_tensors(file);
  NamedTensors edited;
  for (auto& [k, v] : state)
    if (k != "model.decoder.norm.bias") edited.emplace_back(k, k == "model.action_head.bias" ? torch::zeros({5}) : v);
  edited.emplace_back("model.extra_head.weight", torch::zeros({1}));
  save_tensors(file, edited);
  try {
    load_pretrained_weights(p, tmp.path());
    FAIL() << "should not load";
  } catch (const robotrain::util::RuntimeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("missing keys: model.decoder.norm.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.action_head.bias (file [5], model [2])"), std::string::npos) << msg;
  }

  NamedTensors extra;
  for (auto& [k, v] : state) extra.emplace_back(k, v);
  extra.emplace_back("model.extra_head.weight", torch::zeros({1}));
  save_tensors(file, extra);
  testing::internal::CaptureStderr();
  load_pretrained_weights(p, tmp.path());
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("model.extra_head.weight"), std::string::npos) << log;
}
