// Checkpoints made by LeRobot 0.5.1 itself (make_policy for a robotrain dataset, save_pretrained,
// and the processors from make_pre_post_processors with the dataset's stats, saved beside
// them) are what robotrain's `eval --policy.path` and `train --policy.path` accept: robotrain
// loads LeRobot's weights and normalizer files and predicts the same actions as LeRobot (within
// 1e-4), replays them on the dataset, and fine-tunes from them (not from fresh weights).
#include <gtest/gtest.h>

#include "lerobot_support.h"
#include "policy/diffusion/diffusion_policy.h"
#include "policy/pretrained.h"

namespace lt = robotrain::test::lerobot;
namespace fs = std::filesystem;
using robotrain::util::cat;
using robotrain::util::Json;

namespace {

Json lerobot_config(const std::string& type) {
  if (type == "act")
    return {{"dim_model", 32}, {"n_heads", 2}, {"dim_feedforward", 64}, {"n_encoder_layers", 1},
            {"n_decoder_layers", 1}, {"n_vae_encoder_layers", 1}, {"latent_dim", 8}, {"chunk_size", 10},
            {"n_action_steps", 10}, {"pretrained_backbone_weights", nullptr}};
  return {{"down_dims", {16, 32, 64}}, {"horizon", 8}, {"n_action_steps", 4}, {"spatial_softmax_num_keypoints", 8},
          {"crop_shape", {56, 56}}, {"num_inference_steps", 10}};
}

const std::vector<std::string> kCameras = {"observation.images.cam0", "observation.images.cam1"};

}  // namespace

TEST(LeRobotCheckpoint, EvalAndFineTuneAcceptWhatLeRobotSaves) {
  RT_REQUIRE_LEROBOT();
  lt::use_one_thread();
  robotrain::util::TempDir tmp("rt-lerobot-ckpt");
  torch::manual_seed(5);
  Json save = Json::array(), predict = Json::array();
  for (const std::string type : {"act", "diffusion"}) {
    const fs::path dir = tmp.path() / (type + "_lerobot");
    save.push_back({{"type", type}, {"dataset", lt::two_camera_dataset()}, {"output", dir.string()},
                    {"config", lerobot_config(type)}, {"seed", 1}});
    lt::TensorMap in;
    for (int k = 0; k < (type == "act" ? 1 : 5); ++k)
      for (auto& [key, t] : lt::random_observation(2, 2, kCameras, 64, 64)) in[cat("call", k, "/", key)] = t;
    if (type == "diffusion") in["noise"] = torch::randn({2, 8, 2});
    lt::save_tensors(tmp.path() / (type + "_in.safetensors"), in);
    predict.push_back({{"type", type}, {"checkpoint", dir.string()}, {"inputs", (tmp.path() / (type + "_in.safetensors")).string()},
                       {"output", (tmp.path() / (type + "_out.safetensors")).string()}, {"seed", 9}});
  }
  auto peer = lt::run_policy_peer(tmp.path(), {{"save", save}, {"predict", predict}});
  ASSERT_EQ(peer.exit_code, 0) << peer.err;

  for (const std::string type : {"act", "diffusion"}) {
    SCOPED_TRACE(type);
    const fs::path dir = tmp.path() / (type + "_lerobot");
    ASSERT_TRUE(fs::exists(dir / "policy_preprocessor.json")) << peer.out;
    ASSERT_TRUE(fs::exists(dir / "policy_postprocessor_step_0_unnormalizer_processor.safetensors"));
    ASSERT_FALSE(fs::exists(dir / "robotrain.json"));

    // The same actions from LeRobot's weights and normalizer files.
    auto policy = robotrain::policy::load_pretrained(dir);
    policy->eval();
    auto in = lt::load_tensors(tmp.path() / (type + "_in.safetensors"));
    auto theirs = lt::load_tensors(tmp.path() / (type + "_out.safetensors"));
    torch::manual_seed(9);
    policy->reset();
    for (int k = 0; k < (type == "act" ? 1 : 5); ++k) {
      robotrain::policy::TensorMap obs;
      for (const char* key : {"observation.state", "observation.images.cam0", "observation.images.cam1"})
        obs[key] = in.at(cat("call", k, "/", key));
      torch::Tensor ours, expected;
      if (type == "act") {
        ours = policy->predict_action_chunk(obs);
        expected = theirs.at(cat("call", k, "/chunk"));
      } else {
        std::dynamic_pointer_cast<robotrain::policy::diffusion::DiffusionPolicy>(policy)->set_next_noise(in.at("noise"));
        ours = policy->select_action(obs);
        expected = theirs.at(cat("call", k, "/action"));
      }
      EXPECT_LT(lt::max_abs_diff(ours, expected), 1e-4) << "call " << k << "\nrobotrain " << ours << "\nLeRobot " << expected;
    }

    // Offline replay on the dataset.
    auto r = lt::run_rt({"eval", "--policy.path", dir.string(), "--dataset.root", lt::two_camera_dataset(),
                            "--policy.device", "cpu", "--no-tracking", "--output_dir", (tmp.path() / (type + "_eval")).string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto result = robotrain::util::read_json_file(tmp.path() / (type + "_eval") / "eval_results.json");
    EXPECT_GT(result.dump().size(), 2u);

    // Fine-tuning starts from LeRobot's weights: after one step (ACT: lr 1e-5; diffusion: the
    // warm-up's first rate is 0) they are still LeRobot's to within a step's size.
    const fs::path run = tmp.path() / (type + "_tuned");
    r = lt::run_rt({"train", "--policy.path", dir.string(), "--dataset.root", lt::two_camera_dataset(), "--output_dir",
                       run.string(), "--steps", "1", "--batch_size", "2", "--num_workers", "1", "--num-threads", "1",
                       "--system-metrics", "false", "--tracking-uri", (tmp.path() / "mlruns").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path tuned = run / "checkpoints" / "000001" / "pretrained_model";
    auto before = lt::load_tensors(dir / "model.safetensors");
    auto after = lt::load_tensors(tuned / "model.safetensors");
    ASSERT_EQ(before.size(), after.size());
    double worst = 0;
    for (auto& [name, w] : before) {
      ASSERT_TRUE(after.count(name)) << name;
      worst = std::max(worst, lt::max_abs_diff(w, after.at(name)));
    }
    EXPECT_LT(worst, 1e-3);
    auto config = robotrain::util::read_json_file(tuned / "config.json");
    EXPECT_EQ(config["type"], type);
    if (type == "act") EXPECT_EQ(config["dim_model"], 32);
    else EXPECT_EQ(config["down_dims"], Json({16, 32, 64}));
  }
}
