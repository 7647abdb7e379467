// LeRobot 0.5.1's ACTPolicy / DiffusionPolicy.from_pretrained load the checkpoints robotrain
// writes strictly (no missing or unexpected key, same shapes and dtypes) with their
// processors, and predict the same actions as robotrain for the same raw observations:
// ACT's action chunk within 1e-4; diffusion's select_action over two chunks (queues included)
// with the same initial noise and the DDPM steps' noise from the same seeded generator
// (LibTorch and PyTorch share one CPU generator), within 1e-4.
#include <gtest/gtest.h>

#include "lerobot_support.h"
#include "policy/diffusion/diffusion_policy.h"
#include "policy/pretrained.h"

namespace lt = robotrain::test::lerobot;
namespace fs = std::filesystem;
using robotrain::util::Json;

namespace {

const std::vector<std::string> kCameras = {"observation.images.cam0", "observation.images.cam1"};

std::vector<std::string> train_args(const fs::path& out, const std::string& type) {
  std::vector<std::string> a{"train", "--dataset.root", lt::two_camera_dataset(), "--output_dir", out.string(),
                             "--steps", "2", "--batch_size", "4", "--seed", "3", "--tracking-uri", (out.parent_path() / "mlruns").string()};
  auto policy = type == "act" ? lt::tiny_act_args() : lt::tiny_diffusion_args();
  a.insert(a.end(), policy.begin(), policy.end());
  // Inference crops the centre (a 2x2 feature map); 10 DDPM steps.
  if (type == "diffusion") a.insert(a.end(), {"--policy.crop_shape=[56,56]", "--policy.num_inference_steps", "10"});
  return a;
}

}  // namespace

TEST(LeRobotPolicy, LoadsRobotrainCheckpointsStrictlyAndPredictsTheSameActions) {
  RT_REQUIRE_LEROBOT();
  lt::use_one_thread();
  robotrain::util::TempDir tmp("rt-lerobot-policy");
  torch::manual_seed(11);

  // ACT: one raw observation batch; diffusion: 5 select_action calls (n_action_steps 4, so
  // the fifth samples a second chunk from the queue [obs3, obs4]).
  std::map<std::string, fs::path> ckpt, inputs, peer_out;
  Json predict = Json::array();
  for (const std::string type : {"act", "diffusion"}) {
    const fs::path run = tmp.path() / type;
    auto r = lt::run_rt(train_args(run, type));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ckpt[type] = run / "checkpoints" / "last" / "pretrained_model";
    lt::TensorMap in;
    const int calls = type == "act" ? 1 : 5;
    for (int k = 0; k < calls; ++k)
      for (auto& [key, t] : lt::random_observation(2, 2, kCameras, 64, 64))
        in[robotrain::util::cat("call", k, "/", key)] = t;
    if (type == "diffusion") in["noise"] = torch::randn({2, 8, 2});
    inputs[type] = tmp.path() / (type + "_inputs.safetensors");
    peer_out[type] = tmp.path() / (type + "_lerobot.safetensors");
    lt::save_tensors(inputs[type], in);
    predict.push_back({{"type", type}, {"checkpoint", ckpt[type].string()}, {"inputs", inputs[type].string()},
                       {"output", peer_out[type].string()}, {"seed", 123}});
  }
  auto peer = lt::run_policy_peer(tmp.path(), {{"predict", predict}});
  ASSERT_EQ(peer.exit_code, 0) << peer.err;

  for (const std::string type : {"act", "diffusion"}) {
    SCOPED_TRACE(type);
    auto policy = robotrain::policy::load_pretrained(ckpt[type]);
    policy->eval();
    auto in = lt::load_tensors(inputs[type]);
    auto theirs = lt::load_tensors(peer_out[type]);
    torch::manual_seed(123);
    policy->reset();
    const int calls = type == "act" ? 1 : 5;
    for (int k = 0; k < calls; ++k) {
      robotrain::policy::TensorMap obs;
      for (const char* key : {"observation.state", "observation.images.cam0", "observation.images.cam1"})
        obs[key] = in.at(robotrain::util::cat("call", k, "/", key));
      torch::Tensor ours, expected;
      if (type == "act") {
        ours = policy->predict_action_chunk(obs);
        expected = theirs.at(robotrain::util::cat("call", k, "/chunk"));
        EXPECT_EQ(ours.sizes(), (std::vector<int64_t>{2, 10, 2}));
      } else {
        std::dynamic_pointer_cast<robotrain::policy::diffusion::DiffusionPolicy>(policy)->set_next_noise(in.at("noise"));
        ours = policy->select_action(obs);
        expected = theirs.at(robotrain::util::cat("call", k, "/action"));
      }
      const double diff = lt::max_abs_diff(ours, expected);
      std::cerr << type << " call " << k << ": max |robotrain - LeRobot| = " << diff << "\n";
      EXPECT_LT(diff, 1e-4) << "call " << k << "\nrobotrain " << ours << "\nLeRobot " << expected;
      // Not trivially equal: actions vary across the batch.
      EXPECT_GT(lt::max_abs_diff(ours[0], ours[1]), 1e-3);
    }
  }
}
