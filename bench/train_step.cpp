// bench-area: train
// One ACT training step as `robotrain train` runs it (loader wait + batch to device + forward
// + backward + clip + optimizer) against the sum of its parts timed alone in the same run on
// the same batch: data (loader wait + adapter), forward, backward, optimizer. Target: the
// whole step within 10% of the sum. Also reports which allocator is active; with
// --compare-allocators it re-runs itself linked without jemalloc (bench_train_step_glibc, same
// source) and under glibc with mallopt settings, and says which is faster; with
// --compare-native-defaults it measures each runtime setting util::native_runtime and
// util::memory can make (OpenMP spin, the glibc malloc policy, MKL's instruction set), alone
// and together, against the libraries' own defaults, in interleaved rounds.
//   bench_train_step [--config small|default] [--steps 20] [--threads N] [--compare-allocators]
//                    [--compare-native-defaults [--rounds 3]]
// Prints one JSON object.
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <map>
#include <thread>

#include "dataset/loader.h"
#include "dataset/synth.h"
#include "train/batch.h"
#include "train/optim.h"
#include "train/policy_io.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/memory.h"
#include "util/native_runtime.h"
#include "util/process.h"

using namespace robotrain;
using Clock = std::chrono::steady_clock;
using util::Json;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string allocator_name() { return dlsym(RTLD_DEFAULT, "mallctl") ? "jemalloc" : "glibc"; }

struct Cfg {
  std::string name;
  int height, width, batch;
  Json policy;
};

Cfg config_named(const std::string& name) {
  if (name == "default")  // LeRobot's ACT defaults, one 480x640 camera, batch 8
    return {"default", 480, 640, 8, Json{{"type", "act"}, {"device", "cpu"}}};
  return {"small", 96, 96, 8,
          Json{{"type", "act"}, {"device", "cpu"}, {"dim_model", 256}, {"chunk_size", 20}, {"n_action_steps", 20}}};
}

Json run_bench(const Cfg& cfg, int steps, int threads) {
  at::set_num_threads(threads);
  util::TempDir tmp("rt-bench-train");
  dataset::SynthOptions so;
  so.episodes = 2;
  so.frames = 40;
  so.height = cfg.height;
  so.width = cfg.width;
  so.progress = false;
  auto meta = dataset::synth_dataset(tmp.path() / "ds", so);
  torch::manual_seed(0);
  auto policy = train::build_policy(cfg.policy, meta, true);
  dataset::DatasetOptions dso;
  dso.delta_indices = policy->delta_indices();
  dso.images_as_uint8 = true;
  dataset::LeRobotDataset ds(tmp.path() / "ds", dso);
  dataset::LoaderOptions lo;
  lo.batch_size = cfg.batch;
  lo.num_workers = 2;
  dataset::DataLoader loader(ds, dataset::SamplerOptions{}, lo);
  train::BatchAdapterOptions adapter;
  adapter.camera_keys = meta.camera_keys();
  auto opt_cfg = policy->optimizer_preset().optimizer;
  train::Optimizer opt(opt_cfg, policy->param_groups());
  policy->train();

  auto full_step = [&](double* data_s) {
    auto t = Clock::now();
    auto batch = train::to_device_batch(loader.next(), adapter);
    if (data_s) *data_s = since(t);
    auto out = policy->forward_loss(batch);
    out.loss.backward();
    train::clip_grad_norm(opt.parameters(), opt_cfg.grad_clip_norm);
    opt.step();
    opt.zero_grad();
    (void)out.loss.item<double>();
  };
  for (int i = 0; i < 3; ++i) full_step(nullptr);  // warm-up: allocator, oneDNN kernels

  std::vector<double> full, data_in_full;
  for (int i = 0; i < steps; ++i) {
    double d = 0;
    auto t = Clock::now();
    full_step(&d);
    full.push_back(since(t));
    data_in_full.push_back(d);
  }
  // Parts alone, on a fixed batch.
  std::vector<double> data, fwd, bwd, optim;
  auto fixed = train::to_device_batch(loader.next(), adapter);
  for (int i = 0; i < steps; ++i) {
    auto t = Clock::now();
    auto b = train::to_device_batch(loader.next(), adapter);
    data.push_back(since(t));
    t = Clock::now();
    auto out = policy->forward_loss(fixed);
    (void)out.loss.item<double>();
    fwd.push_back(since(t));
    t = Clock::now();
    out.loss.backward();
    bwd.push_back(since(t));
    t = Clock::now();
    train::clip_grad_norm(opt.parameters(), opt_cfg.grad_clip_norm);
    opt.step();
    opt.zero_grad();
    optim.push_back(since(t));
  }
  double sum = median(data) + median(fwd) + median(bwd) + median(optim);
  double whole = median(full);
  return Json{{"config", cfg.name},
              {"image", {3, cfg.height, cfg.width}},
              {"batch_size", cfg.batch},
              {"threads", threads},
              {"allocator", allocator_name()},
              {"cpu", util::cpu_model()},
              {"blas", util::native_runtime_summary()},
              {"steps", steps},
              {"step_s", whole},
              {"data_wait_in_step_s", median(data_in_full)},
              {"parts_s", {{"data", median(data)}, {"forward", median(fwd)}, {"backward", median(bwd)}, {"optimizer", median(optim)}}},
              {"sum_of_parts_s", sum},
              {"step_over_parts", whole / sum},
              {"within_10_percent", whole <= 1.10 * sum}};
}

// --compare-native-defaults: each runtime setting util::native_runtime and util::memory can
// make, alone and together, measured by re-running this benchmark's glibc twin (allocator and
// runtime as the robotrain binary's) with ROBOTRAIN_NATIVE_DEFAULTS=0 and the settings given
// explicitly; the variants interleave round by round and the medians are compared with the
// libraries' own defaults.
Json compare_native_settings(const std::string& config, int steps, int threads, int rounds) {
  struct Variant {
    std::string name;
    std::map<std::string, std::string> env;
    bool mallopt;
  };
  const std::vector<Variant> variants = {
      {"libraries_defaults", {}, false},
      {"gomp_spincount_10000", {{"GOMP_SPINCOUNT", "10000"}}, false},
      {"mallopt_keep_freed_memory", {}, true},
      {"gomp_spincount_10000_and_mallopt", {{"GOMP_SPINCOUNT", "10000"}}, true},
      {"omp_wait_policy_passive_and_mallopt", {{"OMP_WAIT_POLICY", "passive"}}, true},
      {"mkl_avx512_spincount_and_mallopt", {{"GOMP_SPINCOUNT", "10000"}, {"MKL_ENABLE_INSTRUCTIONS", "AVX512"}}, true},
  };
  // The children get only what a variant names: drop what this process's own defaults added.
  for (const auto& name : util::native_runtime_defaults_added()) unsetenv(name.c_str());
  for (const char* name : {"GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "MKL_ENABLE_INSTRUCTIONS"}) unsetenv(name);
  const std::string twin = util::self_executable() + "_glibc";
  std::map<std::string, std::vector<double>> times;
  for (int r = 0; r < rounds; ++r)
    for (const auto& v : variants) {
      util::ProcessOptions po;
      po.env = v.env;
      po.env["ROBOTRAIN_NATIVE_DEFAULTS"] = "0";
      std::vector<std::string> args{twin, "--config", config, "--steps", std::to_string(steps), "--threads", std::to_string(threads)};
      if (v.mallopt) args.push_back("--mallopt");
      auto res = util::run_process(args, po);
      if (res.exit_code != 0) throw std::runtime_error("variant " + v.name + " failed: " + res.err.substr(0, 400));
      times[v.name].push_back(Json::parse(res.out)["step_s"].get<double>());
    }
  Json out = Json::object();
  const double base = median(times["libraries_defaults"]);
  for (const auto& v : variants) {
    const double m = median(times[v.name]);
    out[v.name] = {{"step_s", m}, {"speedup_vs_libraries_defaults", base / m}, {"rounds", times[v.name]}};
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config = "small";
  int steps = 20;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool compare = false, compare_native = false;
  int rounds = 3;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--config" && i + 1 < argc) config = argv[++i];
    else if (k == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (k == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (k == "--compare-allocators") compare = true;
    else if (k == "--compare-native-defaults") compare_native = true;
    else if (k == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (k == "--mallopt") {
      // glibc: keep freed blocks in the heap (util::keep_freed_memory, as the robotrain binary).
      robotrain::util::keep_freed_memory();
    }
  }
  try {
    Json result = run_bench(config_named(config), steps, threads);
    if (compare) {
      // The same measurement in the twin linked without jemalloc, with and without mallopt.
      std::string self = util::self_executable();
      std::string twin = self + "_glibc";
      Json allocs = Json::array();
      allocs.push_back({{"allocator", result["allocator"]}, {"step_s", result["step_s"]}});
      for (bool mo : {false, true}) {
        std::vector<std::string> args{twin, "--config", config, "--steps", std::to_string(steps), "--threads",
                                      std::to_string(threads)};
        if (mo) args.push_back("--mallopt");
        auto r = util::run_process(args);
        if (r.exit_code != 0) {
          allocs.push_back({{"allocator", mo ? "glibc+mallopt" : "glibc"}, {"error", r.err.substr(0, 400)}});
          continue;
        }
        auto j = Json::parse(r.out);
        allocs.push_back({{"allocator", mo ? "glibc+mallopt" : "glibc"}, {"step_s", j["step_s"]}});
      }
      std::string best;
      double best_s = 1e30;
      for (auto& a : allocs)
        if (a.contains("step_s") && a["step_s"].get<double>() < best_s) best_s = a["step_s"], best = a["allocator"];
      result["allocators"] = allocs;
      result["fastest_allocator"] = best;
    }
    if (compare_native) result["native_runtime_settings"] = compare_native_settings(config, steps, threads, rounds);
    std::cout << result.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_train_step: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
