#pragma once
// What a submitted job runs: robotrain itself (no Python in the job), with every setting
// both as a flag and as an environment variable (the seed's names, for tooling that reads
// them and for lineage).
#include <map>
#include <string>
#include <vector>

#include "platform/submit_options.h"

namespace robotrain::platform {

struct JobCommand {
  std::vector<std::string> argv;               // robotrain train ...
  std::map<std::string, std::string> env;      // DATASET_REPO_ID, POLICY_TYPE, ...
};

// `robotrain_exe` is "robotrain" inside containers, the absolute binary path for local runs.
JobCommand build_train_command(const SubmitOptions& options, const std::string& robotrain_exe = "robotrain");

// POSIX-shell quoting of one word / a whole argv (for YAML command strings people read).
std::string shell_quote(const std::string& word);
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace robotrain::platform
