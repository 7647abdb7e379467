// bench-area: train
// Data-parallel scaling on CPU: `robotrain train` throughput (samples/s) with 1 worker and
// with 2 Gloo workers (--nproc-per-node 2) at the same per-worker batch and threads, in the
// same run. Each configuration runs twice, for --steps and 2 x --steps, and the throughput
// comes from the difference, so start-up (model build, rendezvous, dataset open) cancels.
// Also a 1-worker run with the 2 workers' total threads: what the same cores give without DDP.
//   bench_ddp_scaling [--steps 10] [--batch 8] [--threads-per-worker 1] [--config tiny|small]
// Prints one JSON object: per configuration samples_per_s, and scaling_efficiency =
// throughput(2 workers) / (2 x throughput(1 worker)).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "util/fs.h"
#include "util/json.h"
#include "util/process.h"

using namespace robotrain;
using Clock = std::chrono::steady_clock;
using util::Json;

namespace {

struct Args {
  int steps = 10, batch = 8, threads = 1;
  std::string config = "tiny";
};

std::vector<std::string> policy_args(const std::string& config) {
  std::vector<std::string> a{"--policy.type", "act", "--policy.device", "cpu", "--policy.chunk_size", "10",
                             "--policy.n_action_steps", "10"};
  if (config == "tiny")
    a.insert(a.end(), {"--policy.dim_model", "64", "--policy.n_heads", "2", "--policy.dim_feedforward", "128",
                       "--policy.n_encoder_layers", "1", "--policy.n_decoder_layers", "1",
                       "--policy.n_vae_encoder_layers", "1", "--policy.latent_dim", "8"});
  return a;
}

// Wall seconds of one `robotrain train` run.
double run_train(const std::string& bin, const std::string& ds, const util::TempDir& tmp, const Args& a, int workers,
                 int threads, int steps, int idx) {
  std::vector<std::string> argv{bin, "train", "--dataset.root", ds, "--output_dir",
                                (tmp.path() / ("run" + std::to_string(idx))).string(), "--steps", std::to_string(steps),
                                "--batch_size", std::to_string(a.batch), "--num-threads", std::to_string(threads),
                                "--num_workers", "1", "--log_freq", "0", "--save_checkpoint", "false",
                                "--system-metrics", "false", "--tracking-uri", (tmp.path() / "mlruns").string(),
                                "--nproc-per-node", std::to_string(workers), "--seed", "1"};
  auto p = policy_args(a.config);
  argv.insert(argv.end(), p.begin(), p.end());
  auto t0 = Clock::now();
  auto r = util::run_process(argv);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (r.exit_code != 0) {
    std::cerr << r.err << "\n";
    std::exit(1);
  }
  return s;
}

Json measure(const std::string& bin, const std::string& ds, const util::TempDir& tmp, const Args& a, int workers,
             int threads, int& idx) {
  double t1 = run_train(bin, ds, tmp, a, workers, threads, a.steps, idx++);
  double t2 = run_train(bin, ds, tmp, a, workers, threads, 2 * a.steps, idx++);
  double dt = std::max(1e-6, t2 - t1);
  double samples = static_cast<double>(a.steps) * a.batch * workers;
  return Json{{"workers", workers},          {"threads_per_worker", threads}, {"batch_per_worker", a.batch},
              {"wall_s", {t1, t2}},          {"s_per_step", dt / a.steps},    {"samples_per_s", samples / dt}};
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--steps") a.steps = std::stoi(v);
    else if (k == "--batch") a.batch = std::stoi(v);
    else if (k == "--threads-per-worker") a.threads = std::stoi(v);
    else if (k == "--config") a.config = v;
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  const std::string bin = (std::filesystem::path(util::self_executable()).parent_path() / "robotrain").string();
  util::TempDir tmp("rt-bench-ddp");
  const std::string ds = (tmp.path() / "ds").string();
  auto synth = util::run_process({bin, "dataset", "synth", "--output", ds, "--episodes", "4", "--frames", "100",
                                  "--cameras", "1", "--height", "96", "--width", "96", "--codec", "h264"});
  if (synth.exit_code != 0) {
    std::cerr << synth.err << "\n";
    return 1;
  }
  int idx = 0;
  Json one = measure(bin, ds, tmp, a, 1, a.threads, idx);              // baseline
  Json two = measure(bin, ds, tmp, a, 2, a.threads, idx);              // DDP
  Json one_all = measure(bin, ds, tmp, a, 1, 2 * a.threads, idx);      // same cores, one process
  const double eff = two["samples_per_s"].get<double>() / (2 * one["samples_per_s"].get<double>());
  Json out{{"bench", "ddp_scaling"},
           {"config", a.config},
           {"hardware_threads", std::thread::hardware_concurrency()},
           {"baseline_1_worker", one},
           {"ddp_2_workers", two},
           {"one_worker_same_total_threads", one_all},
           {"scaling_efficiency", eff},
           {"speedup_vs_1_worker", two["samples_per_s"].get<double>() / one["samples_per_s"].get<double>()},
           {"speedup_vs_same_threads_1_worker",
            two["samples_per_s"].get<double>() / one_all["samples_per_s"].get<double>()}};
  std::cout << out.dump() << std::endl;
  return 0;
}
