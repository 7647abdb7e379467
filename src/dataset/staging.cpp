#include "dataset/staging.h"

#include <signal.h>

#include <cerrno>
#include <string>

#include "util/log.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace fs = std::filesystem;

namespace {

// The pid in ".<name>.tmp-<pid>-<n>", or -1 when `file` is not a staging name of `name`.
long staging_pid(const std::string& file, const std::string& name) {
  const std::string prefix = "." + name + ".tmp-";
  if (!util::starts_with(file, prefix)) return -1;
  const std::string rest = file.substr(prefix.size());
  const auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0) return -1;
  int64_t pid = 0, n = 0;
  if (!util::parse_int64(rest.substr(0, dash), pid) || !util::parse_int64(rest.substr(dash + 1), n) || pid <= 0 || n < 0)
    return -1;
  return static_cast<long>(pid);
}

bool process_gone(long pid) { return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

int remove_stale_staging(const fs::path& output) {
  const fs::path dir = output.parent_path().empty() ? fs::path(".") : output.parent_path();
  const std::string name = output.filename().string();
  std::error_code ec;
  int removed = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const long pid = staging_pid(it->path().filename().string(), name);
    if (pid < 0 || !it->is_directory(ec) || it->is_symlink(ec) || !process_gone(pid)) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (!rm) {
      ++removed;
      util::log_info("removed ", it->path().string(), ", left behind by process ", pid, " (no longer running)");
    }
  }
  return removed;
}

}  // namespace robotrain::dataset
