// Policy configs refuse out-of-range and truncating values field by field, before a model is
// built: the messages name the policy, the field and the allowed range.
#include <gtest/gtest.h>

#include "policy/act/config.h"
#include "policy/config_fields.h"
#include "policy/diffusion/config.h"
#include "util/error.h"

using robotrain::util::InputError;
using robotrain::util::Json;
namespace act = robotrain::policy::act;
namespace diffusion = robotrain::policy::diffusion;

namespace {

// The InputError message of validating `config` after from_json, "" when it passes.
template <class Config>
std::string problem(const Json& config) {
  try {
    auto c = Config::from_json(config);
    c.validate();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

Json with_camera(Json j) {
  j["input_features"] = {{"observation.images.cam", {{"type", "VISUAL"}, {"shape", {3, 96, 96}}}},
                         {"observation.state", {{"type", "STATE"}, {"shape", {2}}}}};
  j["output_features"] = {{"action", {{"type", "ACTION"}, {"shape", {2}}}}};
  return j;
}

}  // namespace

TEST(PolicyConfigFields, ActDefaultsPassAndEveryBadFieldIsNamed) {
  EXPECT_EQ(problem<act::ActConfig>(with_camera(Json::object())), "");
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"n_heads", 0}}, "act: n_heads must be in [1, 256], got 0"},
      {{{"dim_model", 0}}, "act: dim_model must be in [2, 8192], got 0"},
      {{{"chunk_size", 1e8}}, "act: chunk_size must be in [1, 1000], got 100000000"},
      {{{"chunk_size", 4294967298ull}}, "act: chunk_size is out of range, got 4294967298"},
      {{{"chunk_size", 2.5}}, "act: chunk_size must be an integer, got 2.5"},
      {{{"chunk_size", "100"}}, "act: chunk_size must be an integer, got \"100\""},
      {{{"chunk_size", nullptr}}, "act: chunk_size must be a value, got null"},
      {{{"optimizer_lr", -1}}, "act: optimizer_lr must be in [0, 10], got -1"},
      {{{"dropout", 1.0}}, "act: dropout must be in [0, 1), got 1"},
      {{{"use_vae", 1}}, "act: use_vae must be true or false, got 1"},
      {{{"n_heads", 3}}, "act: dim_model (512) must be divisible by n_heads (3)"},
      {{{"n_action_steps", 101}}, "act: n_action_steps (101) must be <= chunk_size (100)"},
  };
  for (const auto& [fields, expected] : cases) {
    Json j = with_camera(Json::object());
    for (const auto& [k, v] : fields.items()) j[k] = v;
    EXPECT_EQ(problem<act::ActConfig>(j).substr(0, expected.size()), expected) << j.dump();
  }
}

TEST(PolicyConfigFields, DiffusionDefaultsPassAndEveryBadFieldIsNamed) {
  EXPECT_EQ(problem<diffusion::DiffusionConfig>(with_camera(Json{{"crop_shape", {84, 84}}})), "");
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"horizon", 20}}, "diffusion: horizon (20) must be a multiple of 2^len(down_dims) = 8"},
      {{{"horizon", 0}}, "diffusion: horizon must be in [1, 1024], got 0"},
      {{{"down_dims", {512, 1024, 2048, 4096, 64, 64, 64, 64, 64}}}, "diffusion: down_dims must have 1 to 8 entries, got 9"},
      {{{"down_dims", {512, -8}}}, "diffusion: down_dims must be in [1, 16384], got -8"},
      {{{"kernel_size", 4}}, "diffusion: kernel_size must be odd, got 4"},
      {{{"diffusion_step_embed_dim", 2}}, "diffusion: diffusion_step_embed_dim must be in [4, 8192], got 2"},
      {{{"beta_schedule", "linear"}, {"beta_start", 0.5}, {"beta_end", 0.1}},
       "diffusion: beta_start (0.5) must be below beta_end (0.1)"},
      {{{"optimizer_betas", {0.95, 1.0}}}, "diffusion: optimizer_betas must be in [0, 1), got 1"},
      {{{"crop_shape", {200, 84}}}, "diffusion: crop_shape [200, 84] does not fit camera 'observation.images.cam' of shape [3, 96, 96]"},
      {{{"resize_shape", {0, 96}}}, "diffusion: resize_shape must be in [1, 8192], got 0 (set it with --policy.resize_shape)"},
      {{{"num_inference_steps", 0}}, "diffusion: num_inference_steps must be in [1, 100000], got 0 (set it with --policy.num_inference_steps)"},
  };
  for (const auto& [fields, expected] : cases) {
    Json j = with_camera(Json{{"crop_shape", {84, 84}}});
    for (const auto& [k, v] : fields.items()) j[k] = v;
    std::string got = problem<diffusion::DiffusionConfig>(j);
    EXPECT_EQ(got.substr(0, expected.size()), expected) << j.dump();
  }
}

// The table behind each config (policy/config_table.h) is the only list of its fields: what
// to_json writes is exactly what from_json reads back and accepts, in LeRobot's order.
TEST(PolicyConfigFields, EveryWrittenFieldIsReadBackAndUnknownOnesAreNamed) {
  act::ActConfig a;
  a.chunk_size = 20;
  a.n_action_steps = 10;
  a.private_ = true;
  a.temporal_ensemble_coeff = 0.01;
  a.n_action_steps = 1;
  Json aj = a.to_json();
  EXPECT_EQ(aj.begin().key(), "type");
  EXPECT_EQ(aj["private"], true);
  auto a2 = act::ActConfig::from_json(aj);
  EXPECT_EQ(a2.chunk_size, 20);
  EXPECT_EQ(a2.temporal_ensemble_coeff, 0.01);
  EXPECT_EQ(a2.to_json(), aj);

  diffusion::DiffusionConfig d;
  d.resize_shape = std::array<int64_t, 2>{120, 160};
  d.crop_ratio = 0.5;
  d.optimizer_betas = {0.9, 0.99};
  d.use_ema = true;
  Json dj = d.to_json();
  EXPECT_FALSE(dj.contains("use_ema")) << "robotrain-only settings stay out of LeRobot's config.json";
  EXPECT_EQ(dj["resize_shape"], Json({120, 160}));
  auto d2 = diffusion::DiffusionConfig::from_json(dj);
  EXPECT_EQ(d2.optimizer_betas[1], 0.99);
  EXPECT_EQ(*d2.crop_shape, (std::array<int64_t, 2>{60, 80})) << "derived by validate() from resize_shape and crop_ratio";

  EXPECT_EQ(problem<act::ActConfig>(Json{{"chunk_sise", 10}}),
            "act: unknown config field 'chunk_sise' (see LeRobot's ACTConfig for the field names)");
  EXPECT_EQ(problem<diffusion::DiffusionConfig>(Json{{"optimizer_betas", {0.9}}}),
            "diffusion: optimizer_betas must be a list of 2 values, got [0.9]");
  EXPECT_EQ(problem<diffusion::DiffusionConfig>(Json{{"type", "act"}}),
            "diffusion config: type is \"act\", expected \"diffusion\"");
  EXPECT_EQ(problem<act::ActConfig>(Json{{"use_peft", true}}).substr(0, 24), "act: use_peft true (PEFT");
  EXPECT_EQ(problem<diffusion::DiffusionConfig>(Json{{"use_peft", true}}).substr(0, 30), "diffusion: use_peft true (PEFT");
}
