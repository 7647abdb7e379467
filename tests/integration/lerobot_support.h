#pragma once
// Shared pieces of the tests that hold robotrain to the real LeRobot 0.5.1 (tests/peers/
// lerobot_*.py run with the venv's Python): a missing peer fails, tensors travel as
// safetensors files, and a small two-camera dataset serves every test of a binary.
//
// Everything computes on one thread (this process, robotrain's runs and the peers): CTest runs
// two tests at once on CI's 2 cores, where two-thread OpenMP regions in both would wait on each
// other (measured: a training step 8x slower), and one thread sums in one order on both sides.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.h"
#include "train/tensor_file.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::test::lerobot {

namespace fs = std::filesystem;
using TensorMap = std::map<std::string, torch::Tensor>;

// Fails the calling test (never skips) when LeRobot cannot be imported.
#define RT_REQUIRE_LEROBOT()                                                         \
  do {                                                                               \
    auto why = robotrain::test::peer_missing("lerobot");                             \
    ASSERT_TRUE(why.empty()) << "LeRobot 0.5.1 is the peer of this test: " << why;  \
  } while (0)

inline void use_one_thread() { at::set_num_threads(1); }

inline const std::map<std::string, std::string>& one_thread_env() {
  static const std::map<std::string, std::string> env{{"OMP_NUM_THREADS", "1"}, {"MKL_NUM_THREADS", "1"}};
  return env;
}

// `robotrain args...` on one thread.
inline util::ProcessResult run_rt(const std::vector<std::string>& args) { return run_robotrain(args, one_thread_env()); }

// A tiny ACT (chunk 10) and a tiny diffusion policy (U-Net 16/32/64, horizon 8, 4 action
// steps, 8 keypoints), with the loader and compute flags for one thread.
inline std::vector<std::string> tiny_act_args() {
  return {"--policy.type", "act", "--policy.device", "cpu", "--policy.dim_model", "32", "--policy.n_heads", "2",
          "--policy.dim_feedforward", "64", "--policy.n_encoder_layers", "1", "--policy.n_decoder_layers", "1",
          "--policy.n_vae_encoder_layers", "1", "--policy.latent_dim", "8", "--policy.chunk_size", "10",
          "--policy.n_action_steps", "10", "--num_workers", "1", "--num-threads", "1", "--system-metrics", "false"};
}
inline std::vector<std::string> tiny_diffusion_args() {
  return {"--policy.type", "diffusion", "--policy.device", "cpu", "--policy.down_dims=[16,32,64]", "--policy.horizon", "8",
          "--policy.n_action_steps", "4", "--policy.spatial_softmax_num_keypoints", "8", "--num_workers", "1",
          "--num-threads", "1", "--system-metrics", "false"};
}

// tests/peers/lerobot_policy_peer.py with a jobs file (see the script for its keys).
inline util::ProcessResult run_policy_peer(const fs::path& dir, const util::Json& jobs, double timeout_s = 600) {
  const fs::path file = dir / "peer_jobs.json";
  util::write_json_file(file, jobs);
  return run_peer_script("lerobot_policy_peer.py", {file.string()}, one_thread_env(), timeout_s);
}

// 2 episodes x 30 frames, two 64x64 cameras (H.264; a 2x2 ResNet feature map), made once per process.
inline const std::string& two_camera_dataset() {
  static std::unique_ptr<util::TempDir> dir;
  static std::string path;
  if (path.empty()) {
    dir = std::make_unique<util::TempDir>("rt-lerobot-ds");
    path = (dir->path() / "synth").string();
    auto r = run_rt({"dataset", "synth", "--output", path, "--episodes", "2", "--frames", "30", "--cameras", "2",
                            "--height", "64", "--width", "64", "--codec", "h264", "--seed", "5"});
    if (r.exit_code != 0) throw util::RuntimeError("dataset synth failed: " + r.err);
  }
  return path;
}

inline void save_tensors(const fs::path& path, const TensorMap& tensors) {
  std::vector<std::pair<std::string, torch::Tensor>> named(tensors.begin(), tensors.end());
  train::save_tensor_file(path, named);
}

inline TensorMap load_tensors(const fs::path& path) { return train::load_tensor_file(path); }

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return INFINITY;
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Raw observations as a robot would send them: state around the dataset's range, cameras
// float in [0, 1]; `time_steps` > 0 adds a time dimension.
inline TensorMap random_observation(int64_t batch, int64_t state_dim, const std::vector<std::string>& cameras,
                                    int64_t h, int64_t w, int64_t time_steps = 0) {
  auto lead = [&](std::vector<int64_t> rest) {
    std::vector<int64_t> s{batch};
    if (time_steps > 0) s.push_back(time_steps);
    s.insert(s.end(), rest.begin(), rest.end());
    return s;
  };
  TensorMap obs;
  obs["observation.state"] = torch::rand(lead({state_dim})) * 2 - 1;
  for (const auto& cam : cameras) obs[cam] = torch::rand(lead({3, h, w}));
  return obs;
}

}  // namespace robotrain::test::lerobot
