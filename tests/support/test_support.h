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

// The Python environment scripts/install-deps.sh made from requirements.txt (torch, LeRobot
// 0.5.1, MLflow, pyarrow, duckdb, huggingface_hub): the real peers the tests compare against.
std::string peer_python();
// tests/peers/NAME (a Python script) run with peer_python(); stdout/stderr captured.
util::ProcessResult run_peer_script(const std::string& name, const std::vector<std::string>& args,
                                    const std::map<std::string, std::string>& env = {}, double timeout_s = 600);
// Empty when `import MODULE` works in peer_python(); else why not. Tests FAIL on a missing peer
// (never skip): CI must not pass without the peers it claims to test against.
std::string peer_missing(const std::string& module);

}  // namespace robotrain::test
