// Pretrained backbone weights from a local torchvision-named safetensors file: where the
// value of pretrained_backbone_weights leads, that ACT's and diffusion's ResNets receive the
// file's tensors under their own names, what config.json records, and the errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "act_test_configs.h"
#include "policy/act/act_policy.h"
#include "policy/backbone_weights.h"
#include "policy/diffusion/diffusion_policy.h"
#include "util/error.h"
#include "util/fs.h"

namespace robotrain::policy {
namespace {

namespace fs = std::filesystem;

// torchvision's resnet18 state dict, written from its naming rules (not from our modules),
// with distinct random values, num_batches_tracked and the fc head LeRobot drops.
NamedTensors torchvision_resnet18() {
  torch::manual_seed(123);
  NamedTensors t;
  auto add = [&](const std::string& name, std::vector<int64_t> shape) { t.emplace_back(name, torch::randn(shape)); };
  auto add_bn = [&](const std::string& p, int64_t c) {
    add(p + ".weight", {c});
    add(p + ".bias", {c});
    add(p + ".running_mean", {c});
    t.emplace_back(p + ".running_var", torch::rand({c}) + 0.5);
    t.emplace_back(p + ".num_batches_tracked", torch::tensor(int64_t{7}));
  };
  add("conv1.weight", {64, 3, 7, 7});
  add_bn("bn1", 64);
  const int64_t ch[] = {64, 64, 128, 256, 512};
  for (int layer = 1; layer <= 4; ++layer)
    for (int b = 0; b < 2; ++b) {
      const int64_t in = b == 0 ? ch[layer - 1] : ch[layer], out = ch[layer];
      const std::string q = "layer" + std::to_string(layer) + "." + std::to_string(b) + ".";
      add(q + "conv1.weight", {out, in, 3, 3});
      add_bn(q + "bn1", out);
      add(q + "conv2.weight", {out, out, 3, 3});
      add_bn(q + "bn2", out);
      if (b == 0 && layer > 1) {
        add(q + "downsample.0.weight", {out, in, 1, 1});
        add_bn(q + "downsample.1", out);
      }
    }
  add("fc.weight", {1000, 512});
  add("fc.bias", {1000});
  return t;
}

std::map<std::string, torch::Tensor> as_map(const NamedTensors& t) { return {t.begin(), t.end()}; }

act::ActConfig tiny_act(const std::string& weights) {
  act::ActConfig c = act::fixtures::tiny_act();
  c.pretrained_backbone_weights = weights;
  return c;
}

StatsTensors act_stats() { return act::fixtures::unit_stats(act::fixtures::tiny_act()); }

diffusion::DiffusionConfig tiny_diffusion(const std::string& weights) {
  diffusion::DiffusionConfig c;
  c.input_features = {{"observation.images.a", FeatureType::Visual, {3, 32, 32}},
                      {"observation.images.b", FeatureType::Visual, {3, 32, 32}},
                      {"observation.state", FeatureType::State, {2}}};
  c.output_features = {{"action", FeatureType::Action, {2}}};
  c.down_dims = {16, 32, 64};
  c.horizon = 8;
  c.n_action_steps = 4;
  c.spatial_softmax_num_keypoints = 8;
  c.use_group_norm = false;  // batch norms, as the pretrained weights need
  c.use_separate_rgb_encoder_per_camera = true;
  c.use_ema = true;
  c.pretrained_backbone_weights = weights;
  return c;
}

diffusion::FeatureStats diffusion_stats() {
  diffusion::FeatureStats s;
  for (const char* cam : {"observation.images.a", "observation.images.b"})
    s[cam] = {{"mean", torch::zeros({3, 1, 1})}, {"std", torch::ones({3, 1, 1})}};
  s["observation.state"] = {{"min", -torch::ones({2})}, {"max", torch::ones({2})}};
  s["action"] = {{"min", -torch::ones({2})}, {"max", torch::ones({2})}};
  return s;
}

class BackboneWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = tmp_.path() / "resnet18-imagenet.safetensors";
    save_tensors(file_, torchvision_resnet18());
    setenv("ROBOTRAIN_BACKBONE_DIR", (tmp_.path() / "backbones").c_str(), 1);
  }
  void TearDown() override { unsetenv("ROBOTRAIN_BACKBONE_DIR"); }
  util::TempDir tmp_{"rt-backbone"};
  fs::path file_;
};

TEST_F(BackboneWeights, ValueLeadsToAFileOrAnExplainedError) {
  // A torchvision name: the local copy in the backbone dir, or none.
  auto none = resolve_backbone_weights("ResNet18_Weights.IMAGENET1K_V1", "resnet18");
  EXPECT_TRUE(none.file.empty());
  EXPECT_EQ(none.lerobot_name, "ResNet18_Weights.IMAGENET1K_V1");
  fs::create_directories(tmp_.path() / "backbones");
  fs::copy_file(file_, tmp_.path() / "backbones" / "ResNet18_Weights.IMAGENET1K_V1.safetensors");
  EXPECT_EQ(resolve_backbone_weights("ResNet18_Weights.IMAGENET1K_V1", "resnet18").file,
            tmp_.path() / "backbones" / "ResNet18_Weights.IMAGENET1K_V1.safetensors");
  // A path: used as is; config.json gets the name LeRobot can build the model with.
  auto path = resolve_backbone_weights(file_.string(), "resnet18");
  EXPECT_EQ(path.file, file_);
  EXPECT_EQ(path.lerobot_name, "ResNet18_Weights.IMAGENET1K_V1");
  try {
    resolve_backbone_weights("/models/resnet18-f37072fd.pth", "resnet18");
    FAIL() << "a .pth was accepted";
  } catch (const util::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("safetensors.torch"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_backbone_weights((tmp_.path() / "absent.safetensors").string(), "resnet18"), util::InputError);
}

TEST_F(BackboneWeights, ActBackboneGetsTheFilesTensors) {
  act::ActPolicy p(tiny_act(file_.string()), act_stats());
  p.load_pretrained_backbone();
  auto want = as_map(torchvision_resnet18());
  size_t checked = 0;
  for (auto& t : p.model()->backbone->named_parameters()) {
    ASSERT_TRUE(want.count(t.key())) << t.key();
    EXPECT_TRUE(torch::equal(t.value(), want[t.key()])) << t.key();
    ++checked;
  }
  for (auto& t : p.model()->backbone->named_buffers()) {
    EXPECT_TRUE(torch::equal(t.value(), want[t.key()])) << t.key();
    ++checked;
  }
  EXPECT_EQ(checked, 100u);  // every torchvision tensor but fc.* and num_batches_tracked
  EXPECT_EQ(p.config_json()["pretrained_backbone_weights"], "ResNet18_Weights.IMAGENET1K_V1");
}

TEST_F(BackboneWeights, NamedWeightsWithoutALocalCopyStartRandomAndSaySo) {
  act::ActPolicy p(tiny_act("ResNet18_Weights.IMAGENET1K_V1"), act_stats());
  auto before = p.model()->backbone->named_parameters()["conv1.weight"].clone();
  p.load_pretrained_backbone();
  EXPECT_TRUE(torch::equal(before, p.model()->backbone->named_parameters()["conv1.weight"]));
  EXPECT_TRUE(p.config_json()["pretrained_backbone_weights"].is_null());
}

TEST_F(BackboneWeights, WrongShapesNameTheKey) {
  auto t = torchvision_resnet18();
  for (auto& [name, tensor] : t)
    if (name == "layer3.0.conv1.weight") tensor = torch::zeros({1, 1, 3, 3});
  save_tensors(file_, t);
  act::ActPolicy p(tiny_act(file_.string()), act_stats());
  try {
    p.load_pretrained_backbone();
    FAIL() << "mis-shaped weights were loaded";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("layer3.0.conv1.weight"), std::string::npos) << e.what();
  }
}

TEST_F(BackboneWeights, DiffusionEncodersOfEveryCameraAndTheEmaGetThem) {
  diffusion::DiffusionPolicy p(tiny_diffusion(file_.string()), diffusion_stats());
  p.load_pretrained_backbone();
  auto want = as_map(torchvision_resnet18());
  auto state = as_map(p.lerobot_state_dict());
  auto ema = as_map(p.ema_state_dict());
  for (const std::string cam : {"0", "1"}) {
    const std::string prefix = "diffusion.rgb_encoder." + cam + ".backbone.";
    for (auto [ours, theirs] : std::map<std::string, std::string>{{"0.weight", "conv1.weight"},
                                                                  {"1.running_var", "bn1.running_var"},
                                                                  {"4.0.conv1.weight", "layer1.0.conv1.weight"},
                                                                  {"5.0.downsample.1.bias", "layer2.0.downsample.1.bias"},
                                                                  {"7.1.bn2.running_mean", "layer4.1.bn2.running_mean"}}) {
      ASSERT_TRUE(state.count(prefix + ours)) << prefix + ours;
      EXPECT_TRUE(torch::equal(state[prefix + ours], want[theirs])) << prefix + ours;
      EXPECT_TRUE(torch::equal(ema[prefix + ours], want[theirs])) << "ema " << prefix + ours;
    }
  }
  EXPECT_EQ(p.config_json()["pretrained_backbone_weights"], "ResNet18_Weights.IMAGENET1K_V1");
  auto gn = tiny_diffusion(file_.string());
  gn.use_group_norm = true;
  EXPECT_THROW(gn.validate(), util::InputError);
}

}  // namespace
}  // namespace robotrain::policy
