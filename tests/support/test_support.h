#pragma once
// Shared helpers for tests: running the real robotrain binary, temp dirs, node test servers.
#include <string>
#include <vector>

#include "util/fs.h"
#include "util/process.h"

namespace robotrain::test {

// Path of the robotrain binary built alongside the tests.
std::string robotrain_bin();
std::string source_dir();
// ../shared next to the checkout (spec files); empty when absent.
std::string shared_dir();

// Runs `robotrain args...` and captures exit code, stdout and stderr.
util::ProcessResult run_robotrain(const std::vector<std::string>& args,
                                  const std::map<std::string, std::string>& env = {}, double timeout_s = 600);

// node and the npm packages installed by scripts/install-deps.sh under tests/node/.
bool node_available();
std::string node_modules_dir();

}  // namespace robotrain::test
