#include "support/test_support.h"

#include <filesystem>

namespace robotrain::test {

std::string robotrain_bin() { return ROBOTRAIN_BIN; }
std::string source_dir() { return ROBOTRAIN_SOURCE_DIR; }
std::string shared_dir() {
  std::filesystem::path p = std::filesystem::path(ROBOTRAIN_SHARED_DIR);
  return std::filesystem::exists(p) ? std::filesystem::canonical(p).string() : std::string();
}

util::ProcessResult run_robotrain(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                                  double timeout_s) {
  std::vector<std::string> argv{robotrain_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  util::ProcessOptions opts;
  opts.env = env;
  opts.timeout_s = timeout_s;
  return util::run_process(argv, opts);
}

bool node_available() { return util::find_in_path("node").has_value(); }

std::string node_modules_dir() { return source_dir() + "/tests/node/node_modules"; }

std::string peer_python() { return ROBOTRAIN_PYTHON; }

util::ProcessResult run_peer_script(const std::string& name, const std::vector<std::string>& args,
                                    const std::map<std::string, std::string>& env, double timeout_s) {
  std::vector<std::string> argv{peer_python(), source_dir() + "/tests/peers/" + name};
  argv.insert(argv.end(), args.begin(), args.end());
  util::ProcessOptions opts;
  opts.env = env;
  // The peers must not pick up a user's Hub token or write into their caches.
  opts.env.try_emplace("HF_HUB_DISABLE_TELEMETRY", "1");
  opts.env.try_emplace("PYTHONDONTWRITEBYTECODE", "1");
  opts.timeout_s = timeout_s;
  return util::run_process(argv, opts);
}

std::string peer_missing(const std::string& module) {
  if (!std::filesystem::exists(peer_python()))
    return "no Python at " + peer_python() + " (run scripts/install-deps.sh)";
  util::ProcessOptions opts;
  opts.timeout_s = 120;
  auto r = util::run_process({peer_python(), "-c", "import " + module}, opts);
  if (r.exit_code == 0) return "";
  return "python cannot import " + module + " (run scripts/install-deps.sh): " + r.err.substr(0, 300);
}

}  // namespace robotrain::test
