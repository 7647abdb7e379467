// LeRobot's training-time image augmentations: each functional op against torchvision 0.25's
// transforms.v2.functional (what LeRobot's ImageTransforms calls), run by the venv's Python on
// the same images at several factors; and the seeded random subset.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "support/test_support.h"
#include "train/image_transforms.h"
#include "train/tensor_file.h"
#include "util/error.h"
#include "util/fs.h"

namespace rt = robotrain::train;
using robotrain::util::Json;

namespace {

// Two random 17x23 images (odd, non-square sizes catch H/W mix-ups) with the pixels colour
// code likes to get wrong: grey (r = g = b), black, white, pure and mixed primaries, and
// each channel as the maximum.
torch::Tensor test_images() {
  torch::manual_seed(3);
  auto img = torch::rand({2, 3, 17, 23});
  const std::vector<std::array<float, 3>> special = {{0.5f, 0.5f, 0.5f}, {0, 0, 0},       {1, 1, 1},
                                                     {1, 0, 0},          {0, 1, 0},       {0, 0, 1},
                                                     {1, 1, 0},          {0.2f, 0.9f, 0.9f}, {0.7f, 0.7f, 0.1f}};
  for (size_t i = 0; i < special.size(); ++i)
    for (int c = 0; c < 3; ++c) img[0][c][0][static_cast<int64_t>(i)] = special[i][static_cast<size_t>(c)];
  return img;
}

struct Case {
  std::string name, op;
  std::vector<double> args;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&](const std::string& op, std::vector<std::vector<double>> argsets) {
    for (size_t i = 0; i < argsets.size(); ++i) out.push_back({op + "#" + std::to_string(i), op, argsets[i]});
  };
  add("adjust_brightness", {{0.0}, {0.5}, {0.8}, {1.2}, {2.0}});
  add("adjust_contrast", {{0.0}, {0.5}, {0.8}, {1.2}, {2.0}});
  add("adjust_saturation", {{0.0}, {0.5}, {1.0}, {1.5}, {3.0}});
  add("adjust_hue", {{-0.5}, {-0.25}, {-0.05}, {0.0}, {0.05}, {0.3}, {0.5}});
  add("adjust_sharpness", {{0.0}, {0.5}, {1.0}, {1.5}, {2.0}});
  // LeRobot's default RandomAffine: degrees within 5, translation within 5% (whole pixels).
  add("affine", {{0, 1, 0}, {0, -2, 3}, {5, 0, 0}, {-5, 1, -1}, {3.3, 0, 1}, {90, 0, 0}, {-30, 2, 0}});
  return out;
}

torch::Tensor ours(const Case& c, const torch::Tensor& img) {
  if (c.op == "adjust_brightness") return rt::adjust_brightness(img, c.args[0]);
  if (c.op == "adjust_contrast") return rt::adjust_contrast(img, c.args[0]);
  if (c.op == "adjust_saturation") return rt::adjust_saturation(img, c.args[0]);
  if (c.op == "adjust_hue") return rt::adjust_hue(img, c.args[0]);
  if (c.op == "adjust_sharpness") return rt::adjust_sharpness(img, c.args[0]);
  return rt::affine(img, c.args[0], c.args[1], c.args[2]);
}

}  // namespace

TEST(ImageTransforms, FunctionalOpsMatchTorchvisionAtSeveralFactors) {
  auto why = robotrain::test::peer_missing("torchvision");
  ASSERT_TRUE(why.empty()) << "torchvision is the peer of this test: " << why;
  robotrain::util::TempDir tmp("rt-tv");
  const auto img = test_images();
  rt::save_tensor_file(tmp.path() / "in.safetensors", {{"image", img}});
  Json spec = Json::array();
  for (const auto& c : cases()) spec.push_back({{"name", c.name}, {"op", c.op}, {"args", c.args}});
  robotrain::util::write_json_file(tmp.path() / "cases.json", spec);
  auto r = robotrain::test::run_peer_script(
      "torchvision_transforms_peer.py",
      {(tmp.path() / "in.safetensors").string(), (tmp.path() / "cases.json").string(), (tmp.path() / "out.safetensors").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto theirs = rt::load_tensor_file(tmp.path() / "out.safetensors");

  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    auto expected = theirs.at(c.name);
    auto got = ours(c, img);
    ASSERT_EQ(got.sizes(), expected.sizes());
    // float32 on both sides, the same formulas: rounding-level differences only.
    const double diff = (got - expected).abs().max().item<double>();
    EXPECT_LE(diff, 1e-5) << c.op << " " << c.args[0];
    // Not a vacuous comparison: the op changed the image (except the identities).
    const bool identity = (c.op != "affine" && c.op != "adjust_hue" && c.args[0] == 1.0) ||
                          (c.op == "adjust_hue" && c.args[0] == 0.0);
    if (!identity) EXPECT_GT((got - img).abs().max().item<double>(), 1e-2) << c.name;
  }
}

TEST(ImageTransforms, RandomSubsetIsSeededAndBounded) {
  rt::ImageTransformsConfig cfg;
  rt::ImageTransforms off(cfg);
  EXPECT_FALSE(off.enabled());
  cfg.enable = true;
  cfg.max_num_transforms = 1;
  cfg.tfs = {{"brightness", "ColorJitter", 1.0, Json{{"brightness", {0.5, 0.6}}}},
             {"never", "ColorJitter", 0.0, Json{{"contrast", {0.1, 0.1}}}}};
  rt::ImageTransforms tf(cfg);
  ASSERT_TRUE(tf.enabled());
  auto img = torch::full({2, 3, 4, 4}, 0.5);
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(5), g2 = at::make_generator<at::CPUGeneratorImpl>(5);
  auto o1 = tf.apply_batch(img, g1), o2 = tf.apply_batch(img, g2);
  EXPECT_TRUE(torch::equal(o1, o2));
  // Only brightness in [0.5, 0.6] can apply (the zero-weight transform is dropped).
  EXPECT_GE(o1.min().item<float>(), 0.25f - 1e-6f);
  EXPECT_LE(o1.max().item<float>(), 0.30f + 1e-6f);
  // Each sample draws its own factor.
  EXPECT_NE(o1[0].mean().item<float>(), o1[1].mean().item<float>());
  cfg.tfs = {{"x", "GaussianBlur", 1.0, Json::object()}};
  EXPECT_THROW(rt::ImageTransforms{cfg}, robotrain::util::InputError);
}
