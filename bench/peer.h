#pragma once
// The `--peer` mode of the step benchmarks: LeRobot's own policy (bench/peers/policy_step.py,
// run with the venv's Python) takes the same configuration and the same synthetic batch, and
// is asked for one step at a time so that its steps interleave with robotrain's in one
// invocation (load drift on a shared machine then hits both alike).
//
// The peer runs twice, as two processes:
//  - "as shipped": the environment without the variables robotrain's native runtime added for
//    itself (see util/native_runtime.h), torch's own thread count, glibc's default malloc;
//  - "same settings": the environment robotrain runs with, the same thread count, and the same
//    allocator settings (util::keep_freed_memory's mallopt calls, made by the script).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "peer_process.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/native_runtime.h"
#include "util/safetensors.h"

namespace robotrain::bench {

inline util::RawTensor raw_tensor(const torch::Tensor& t) {
  auto c = t.contiguous().cpu();
  util::RawTensor r;
  switch (c.scalar_type()) {
    case torch::kFloat32: r.dtype = "F32"; break;
    case torch::kBool: r.dtype = "BOOL"; break;
    case torch::kInt64: r.dtype = "I64"; break;
    case torch::kUInt8: r.dtype = "U8"; break;
    default: throw std::runtime_error("peer batch: unsupported dtype");
  }
  r.shape = c.sizes().vec();
  r.bytes.assign(static_cast<const char*>(c.data_ptr()), c.nbytes());
  return r;
}

// The two peers of one benchmark configuration, ready to step.
class PeerPair {
 public:
  // spec: the script's SPEC without "batch", "threads", "same_settings" (filled in here);
  // batch and stats: written to dir/batch.safetensors.
  PeerPair(util::Json spec, const std::map<std::string, torch::Tensor>& batch,
           const std::map<std::string, std::map<std::string, torch::Tensor>>& stats, const std::filesystem::path& dir,
           int robotrain_threads) {
    util::SafetensorsFile f;
    for (const auto& [k, t] : batch) f.tensors["batch/" + k] = raw_tensor(t);
    for (const auto& [k, m] : stats)
      for (const auto& [s, t] : m) f.tensors["stats/" + k + "/" + s] = raw_tensor(t);
    util::write_safetensors(dir / "batch.safetensors", f);
    spec["batch"] = (dir / "batch.safetensors").string();
    // As shipped: none of robotrain's runtime variables, torch's default thread count.
    const auto added = robotrain_runtime_variables();
    spec["threads"] = nullptr;
    spec["same_settings"] = false;
    util::atomic_write_file(dir / "shipped.json", spec.dump());
    spec["threads"] = robotrain_threads;
    spec["same_settings"] = true;
    util::atomic_write_file(dir / "same.json", spec.dump());
    const std::string py = peer_python(), script = peer_script("policy_step.py");
    shipped_ = std::make_unique<PeerProcess>(std::vector<std::string>{py, script, (dir / "shipped.json").string()},
                                             std::map<std::string, std::string>{}, added);
    same_ = std::make_unique<PeerProcess>(std::vector<std::string>{py, script, (dir / "same.json").string()},
                                          std::map<std::string, std::string>{}, std::vector<std::string>{});
    shipped_info_ = shipped_->read_json(600);
    same_info_ = same_->read_json(600);
  }

  struct StepTime {
    double wall_ms = 0, cpu_ms = 0;
  };
  StepTime step_shipped() { return step(*shipped_); }
  StepTime step_same_settings() { return step(*same_); }
  const util::Json& shipped_info() const { return shipped_info_; }
  const util::Json& same_info() const { return same_info_; }

 private:
  static StepTime step(PeerProcess& p) {
    p.send("step");
    auto j = p.read_json(3600);
    if (!j.contains("ms")) throw std::runtime_error("peer: " + j.dump());
    return {j["ms"].get<double>(), j.value("cpu_ms", 0.0)};
  }
  std::unique_ptr<PeerProcess> shipped_, same_;
  util::Json shipped_info_, same_info_;
};

// Runs `ours` (robotrain's step) and both peers' steps in turn, `warmup` uncounted rounds then
// `iters` counted ones, and fills the ratio fields of `j` (median of per-round ratios).
template <typename Step>
void interleave_with_peers(PeerPair& peers, Step&& ours, int warmup, int iters, util::Json& j) {
  std::vector<double> wall[3], cpu[3];
  for (int i = 0; i < warmup + iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = process_cpu_ms();
    ours();
    const double ours_cpu = process_cpu_ms() - c0;
    const double ours_wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    auto shipped = peers.step_shipped();
    auto same = peers.step_same_settings();
    if (i < warmup) continue;
    wall[0].push_back(ours_wall), cpu[0].push_back(ours_cpu);
    wall[1].push_back(shipped.wall_ms), cpu[1].push_back(shipped.cpu_ms);
    wall[2].push_back(same.wall_ms), cpu[2].push_back(same.cpu_ms);
  }
  auto med = median_of;
  j["peer"] = {{"as_shipped", peers.shipped_info()}, {"same_settings", peers.same_info()}};
  j["iterations"] = iters;
  j["statistic"] = "median";
  j["step_ms"] = med(wall[0]);
  j["peer_as_shipped_step_ms"] = med(wall[1]);
  j["peer_same_settings_step_ms"] = med(wall[2]);
  j["ratio_vs_peer"] = paired_ratio(wall[0], wall[1]);
  j["ratio_vs_peer_same_settings"] = paired_ratio(wall[0], wall[2]);
  // The same from CPU time (all threads): steadier on a busy machine, blind to idle waits.
  j["cpu_ms"] = {{"robotrain", med(cpu[0])}, {"peer_as_shipped", med(cpu[1])}, {"peer_same_settings", med(cpu[2])}};
  j["cpu_ratio_vs_peer_same_settings"] = paired_ratio(cpu[0], cpu[2]);
  j["target_ratio_vs_peer_same_settings"] = 0.8;
  j["meets_target"] = j["ratio_vs_peer_same_settings"].get<double>() <= 0.8;
}

}  // namespace robotrain::bench
