#pragma once
// Shared pieces of the `robotrain train` integration tests: one small synthetic dataset per
// test binary, a tiny ACT configuration, and a torch-free safetensors reader for comparing
// weights.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace robotrain::test::train {

namespace fs = std::filesystem;

// 2 episodes x 40 frames, one 32x32 camera (H.264: small and fast), generated once per binary.
inline const std::string& synth_dataset() {
  static std::unique_ptr<util::TempDir> dir;
  static std::string path;
  if (path.empty()) {
    dir = std::make_unique<util::TempDir>("rt-train-ds");
    path = (dir->path() / "synth").string();
    auto r = run_robotrain({"dataset", "synth", "--output", path, "--episodes", "2", "--frames", "40", "--cameras", "1",
                            "--height", "32", "--width", "32", "--codec", "h264", "--seed", "3"});
    if (r.exit_code != 0) throw util::RuntimeError("dataset synth failed: " + r.err);
  }
  return path;
}

// A tiny ACT: a small transformer on top of ResNet-18, chunk 10.
inline std::vector<std::string> tiny_policy_args() {
  return {"--policy.type", "act", "--policy.device", "cpu", "--policy.dim_model", "32", "--policy.n_heads", "2",
          "--policy.dim_feedforward", "64", "--policy.n_encoder_layers", "1", "--policy.n_decoder_layers", "1",
          "--policy.n_vae_encoder_layers", "1", "--policy.latent_dim", "8", "--policy.chunk_size", "10",
          "--policy.n_action_steps", "10", "--num_workers", "1", "--num-threads", "2", "--system-metrics", "false"};
}

inline std::vector<std::string> train_args(const std::string& out, int steps, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"train", "--dataset.root", synth_dataset(), "--output_dir", out, "--steps",
                             std::to_string(steps), "--batch_size", "4", "--seed", "7",
                             "--tracking-uri", (fs::path(out).parent_path() / "mlruns").string()};
  auto t = tiny_policy_args();
  a.insert(a.end(), t.begin(), t.end());
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

struct StTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

inline std::map<std::string, StTensor> read_safetensors(const fs::path& path) {
  std::string data = util::read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, data.data(), 8);
  auto header = util::Json::parse(data.substr(8, n));
  std::map<std::string, StTensor> out;
  for (auto& [k, v] : header.items()) {
    if (k == "__metadata__") continue;
    auto offs = v["data_offsets"].get<std::vector<uint64_t>>();
    out[k] = {v["dtype"].get<std::string>(), v["shape"].get<std::vector<int64_t>>(),
              data.substr(8 + n + offs[0], offs[1] - offs[0])};
  }
  return out;
}

// Largest |a - b| over every F32 tensor; infinity when names, shapes or dtypes differ.
inline double max_abs_diff(const fs::path& a, const fs::path& b) {
  auto ta = read_safetensors(a), tb = read_safetensors(b);
  if (ta.size() != tb.size()) return INFINITY;
  double worst = 0;
  for (auto& [k, x] : ta) {
    auto it = tb.find(k);
    if (it == tb.end() || it->second.shape != x.shape || it->second.dtype != x.dtype) return INFINITY;
    if (x.dtype != "F32") {
      if (x.bytes != it->second.bytes) return INFINITY;
      continue;
    }
    size_t n = x.bytes.size() / 4;
    const float* pa = reinterpret_cast<const float*>(x.bytes.data());
    const float* pb = reinterpret_cast<const float*>(it->second.bytes.data());
    for (size_t i = 0; i < n; ++i) worst = std::max(worst, static_cast<double>(std::fabs(pa[i] - pb[i])));
  }
  return worst;
}

// Every "loss:<x>" value of the LeRobot-shaped log lines, in order.
inline std::vector<double> logged_losses(const std::string& err) {
  std::vector<double> out;
  size_t pos = 0;
  while ((pos = err.find(" loss:", pos)) != std::string::npos) {
    pos += 6;
    out.push_back(std::stod(err.substr(pos, err.find(' ', pos) - pos)));
  }
  return out;
}

}  // namespace robotrain::test::train
