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

}  // namespace robotrain::test
