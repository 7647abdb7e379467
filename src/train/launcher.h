#pragma once
// `robotrain train --nproc-per-node N`: torchrun's job on one machine. Starts N copies of this
// program with the torchrun environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1,
// a free MASTER_PORT), forwards SIGTERM/SIGINT to them, and watches them: when one dies the
// others are stopped (SIGTERM, then SIGKILL after a grace period) and the job fails with a
// message naming the worker, so a dead worker never leaves the rest hanging.
#include <map>
#include <string>
#include <vector>

#include "train/train_config.h"

namespace robotrain::train {

struct LaunchOptions {
  int nproc = 2;
  std::vector<std::string> argv;  // each worker's command line; argv[0] is the executable
  std::map<std::string, std::string> env;  // added to every worker's environment
  double kill_grace_s = 15;  // after a failure: SIGTERM, then SIGKILL this much later
};

// Runs the workers to the end. Returns 0 when all succeeded, or rank 0's exit code when the
// job was stopped by a forwarded signal. Throws util::RuntimeError when a worker failed.
int launch_local_workers(const LaunchOptions& options);

// The command line this process was started with (/proc/self/cmdline), argv[0] replaced by
// /proc/self/exe so the workers run this very binary.
std::vector<std::string> self_command_line();

// `robotrain train --nproc-per-node N` in the launching process: the workers get this
// process's own command line plus the resolved --output_dir (so they agree on the default
// one). Returns the exit code for the command.
int launch_training(const TrainConfig& resolved, int nproc);

}  // namespace robotrain::train
