#include "policy/normalizer.h"

#include <gtest/gtest.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

using namespace robotrain::policy;

namespace {

Normalizer make(const std::string& state_mode, const std::string& action_mode) {
  std::vector<PolicyFeature> f = {{"observation.images.cam", FeatureType::Visual, {3, 2, 2}},
                                  {"observation.state", FeatureType::State, {2}},
                                  {"action", FeatureType::Action, {2}}};
  StatsTensors s;
  s["observation.images.cam"]["mean"] = torch::tensor({0.5f, 0.25f, 0.0f});  // flat (C,): broadcast as (C,1,1)
  s["observation.images.cam"]["std"] = torch::tensor({0.5f, 0.25f, 1.0f});
  s["observation.state"]["mean"] = torch::tensor({1.0f, -1.0f});
  s["observation.state"]["std"] = torch::tensor({2.0f, 0.5f});
  s["observation.state"]["min"] = torch::tensor({0.0f, 3.0f});
  s["observation.state"]["max"] = torch::tensor({4.0f, 3.0f});  // zero range in dim 1
  s["action"]["q01"] = torch::tensor({-1.0f, 0.0f});
  s["action"]["q99"] = torch::tensor({1.0f, 10.0f});
  s["action"]["q10"] = torch::tensor({0.0f, 0.0f});
  s["action"]["q90"] = torch::tensor({2.0f, 4.0f});
  return Normalizer(f, {{"VISUAL", "MEAN_STD"}, {"STATE", state_mode}, {"ACTION", action_mode}}, s);
}

}  // namespace

TEST(Normalizer, MeanStdUsesEpsInTheDenominatorAndInvertsExactly) {
  auto n = make("MEAN_STD", "IDENTITY");
  auto x = torch::tensor({{3.0f, 0.0f}});
  auto y = n.normalize("observation.state", x);
  EXPECT_NEAR(y[0][0].item<float>(), 2.0 / (2.0 + 1e-8), 1e-6);
  EXPECT_NEAR(y[0][1].item<float>(), 1.0 / 0.5, 1e-5);
  EXPECT_TRUE(torch::allclose(n.unnormalize("observation.state", y), x, 1e-5, 1e-6));
  auto a = torch::randn({4, 2});
  EXPECT_TRUE(torch::equal(n.normalize("action", a), a)) << "IDENTITY";
}

TEST(Normalizer, CameraStatsBroadcastPerChannel) {
  auto n = make("MEAN_STD", "IDENTITY");
  auto img = torch::ones({2, 3, 2, 2});
  auto y = n.normalize("observation.images.cam", img);
  EXPECT_NEAR(y[1][0][1][1].item<float>(), 1.0, 1e-6);
  EXPECT_NEAR(y[0][1][0][0].item<float>(), 3.0, 1e-5);
  EXPECT_NEAR(y[0][2][0][0].item<float>(), 1.0, 1e-6);
}

TEST(Normalizer, MinMaxMapsToPlusMinusOneAndReplacesAZeroRangeByEps) {
  auto n = make("MIN_MAX", "IDENTITY");
  auto y = n.normalize("observation.state", torch::tensor({{4.0f, 3.0f}, {0.0f, 3.0f}, {2.0f, 3.0f}}));
  EXPECT_FLOAT_EQ(y[0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(y[1][0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(y[2][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(y[0][1].item<float>(), -1.0f) << "x == min with zero range maps to -1 (LeRobot)";
  auto back = n.unnormalize("observation.state", torch::tensor({{1.0f, -1.0f}}));
  EXPECT_FLOAT_EQ(back[0][0].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(back[0][1].item<float>(), 3.0f);
}

TEST(Normalizer, QuantileModesUseTheirPercentiles) {
  auto q = make("IDENTITY", "QUANTILES");
  auto y = q.normalize("action", torch::tensor({{1.0f, 5.0f}}));
  EXPECT_FLOAT_EQ(y[0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(y[0][1].item<float>(), 0.0f);
  auto q10 = make("IDENTITY", "QUANTILE10");
  auto z = q10.normalize("action", torch::tensor({{1.0f, 4.0f}}));
  EXPECT_FLOAT_EQ(z[0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(z[0][1].item<float>(), 1.0f);
  EXPECT_TRUE(torch::allclose(q10.unnormalize("action", z), torch::tensor({{1.0f, 4.0f}})));
}

TEST(Normalizer, MapFormTouchesOnlyItsFeatures) {
  auto n = make("MEAN_STD", "IDENTITY");
  TensorMap batch = {{"observation.state", torch::tensor({{1.0f, -1.0f}})}, {"index", torch::tensor({7})}};
  auto out = n.normalize(batch);
  EXPECT_TRUE(torch::allclose(out["observation.state"], torch::zeros({1, 2})));
  EXPECT_EQ(out["index"].item<int64_t>(), 7);
  EXPECT_TRUE(torch::allclose(n.unnormalize(out)["observation.state"], batch["observation.state"]));
}

TEST(Normalizer, MissingStatsAndUnknownModesAreInputErrors) {
  auto n = make("MEAN_STD", "MIN_MAX");  // the action has no min/max
  try {
    n.check();
    FAIL();
  } catch (const robotrain::util::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("action.min"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make("ZSCORE", "IDENTITY").check(), robotrain::util::InputError);
}

TEST(Normalizer, SavesLeRobotProcessorFilesAndLoadsTheStatsBack) {
  auto n = make("MEAN_STD", "QUANTILES");
  robotrain::util::TempDir tmp;
  n.save(tmp.path(), "cpu");
  auto pre = robotrain::util::read_json_file(tmp.path() / "policy_preprocessor.json");
  EXPECT_EQ(pre["name"], "policy_preprocessor");
  ASSERT_EQ(pre["steps"].size(), 4u);
  EXPECT_EQ(pre["steps"][0]["registry_name"], "rename_observations_processor");
  EXPECT_EQ(pre["steps"][1]["registry_name"], "to_batch_processor");
  EXPECT_EQ(pre["steps"][2]["registry_name"], "device_processor");
  auto& norm = pre["steps"][3];
  EXPECT_EQ(norm["registry_name"], "normalizer_processor");
  EXPECT_EQ(norm["state_file"], "policy_preprocessor_step_3_normalizer_processor.safetensors");
  EXPECT_DOUBLE_EQ(norm["config"]["eps"].get<double>(), 1e-8);
  EXPECT_EQ(norm["config"]["features"]["observation.state"]["type"], "STATE");
  EXPECT_EQ(norm["config"]["norm_map"]["ACTION"], "QUANTILES");
  auto post = robotrain::util::read_json_file(tmp.path() / "policy_postprocessor.json");
  EXPECT_EQ(post["steps"][0]["registry_name"], "unnormalizer_processor");
  EXPECT_EQ(post["steps"][0]["state_file"], "policy_postprocessor_step_0_unnormalizer_processor.safetensors");
  EXPECT_EQ(post["steps"][1]["config"]["device"], "cpu");

  auto stats = Normalizer::load_stats(tmp.path());
  EXPECT_TRUE(torch::equal(stats["action"]["q99"], torch::tensor({1.0f, 10.0f})));
  EXPECT_TRUE(torch::equal(stats["observation.images.cam"]["std"], torch::tensor({0.5f, 0.25f, 1.0f})));
  EXPECT_EQ(stats["observation.state"].size(), 4u);
  robotrain::util::TempDir empty;
  EXPECT_THROW(Normalizer::load_stats(empty.path()), robotrain::util::InputError);
}
