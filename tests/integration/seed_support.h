#pragma once
// Shared pieces of the seed-system tests: a policy saved by real LeRobot 0.5.1 for the
// generated dataset (tests/peers/seed_save_lerobot_policy.py), and reading what a run left in
// a local MLflow file store.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "integration/train_support.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace robotrain::test::seed {

namespace fs = std::filesystem;

// A small ACT that LeRobot built for train::synth_dataset() and saved with its processors, as
// a GPU machine writes it: config.json says device "cuda". Made once per test binary; fails
// the test (never skips) when the LeRobot peer is missing.
inline fs::path lerobot_act_dir() {
  static std::unique_ptr<util::TempDir> dir;
  static fs::path path;
  if (path.empty()) {
    std::string missing = peer_missing("lerobot");
    if (!missing.empty()) throw util::RuntimeError("LeRobot peer unusable: " + missing);
    auto d = std::make_unique<util::TempDir>("rt-lerobot-act");
    fs::path out = d->path() / "pretrained_model";
    auto r = run_peer_script("seed_save_lerobot_policy.py", {train::synth_dataset(), out.string(), "--device-in-config", "cuda"});
    if (r.exit_code != 0) throw util::RuntimeError("seed_save_lerobot_policy.py failed: " + r.err);
    dir = std::move(d);
    path = out;
  }
  return path;
}

// The only run in a file store (each test gives each run its own store).
inline fs::path only_run(const fs::path& mlruns) {
  std::vector<fs::path> runs;
  for (auto& exp : fs::directory_iterator(mlruns)) {
    if (!exp.is_directory() || exp.path().filename().string().front() == '.') continue;
    for (auto& run : fs::directory_iterator(exp.path()))
      if (run.is_directory() && fs::exists(run.path() / "meta.yaml")) runs.push_back(run.path());
  }
  if (runs.size() != 1) throw util::RuntimeError(util::cat(mlruns.string(), " holds ", runs.size(), " runs, expected 1"));
  return runs.front();
}

inline std::string run_value(const fs::path& run, const std::string& kind, const std::string& key) {
  fs::path p = run / kind / key;
  return fs::exists(p) ? util::trim(util::read_file(p)) : "<no " + kind + " " + key + ">";
}

// "timestamp value step" lines of a metric: the value logged at `step`, as written.
inline std::string metric_at(const fs::path& run, const std::string& key, int64_t step) {
  for (const auto& line : util::split(util::read_file(run / "metrics" / key), '\n')) {
    auto parts = util::split(util::trim(line), ' ');
    if (parts.size() == 3 && parts[2] == std::to_string(step)) return parts[1];
  }
  return "<no " + key + " at step " + std::to_string(step) + ">";
}

// True when this machine has a CUDA device (robotrain env says so).
inline bool machine_has_gpu() {
  auto r = run_robotrain({"env", "--json"});
  return r.exit_code == 0 && util::Json::parse(r.out).value("gpu_count", 0) > 0;
}

}  // namespace robotrain::test::seed
