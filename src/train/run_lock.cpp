#include "train/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::train {

namespace fs = std::filesystem;

namespace {

bool holds_only_lock_file(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return false;
  int entries = 0;
  for (const auto& e : it) {
    if (e.path().filename() != RunLock::kFileName) return false;
    ++entries;
  }
  return entries == 1;
}

std::string read_holder_pid(int fd) {
  char buf[32] = {0};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? util::trim(std::string(buf, static_cast<size_t>(n))) : "";
  return pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos ? "unknown" : pid;
}

util::InputError in_use(const fs::path& dir, const std::string& pid) {
  return util::InputError(util::cat("--output_dir ", dir.string(), " is in use by another robotrain run (pid ", pid,
                                    "); wait for it to end, or train into another --output_dir"));
}

// Creates a new run's directory; false when it was there already. mkdir is atomic, so of two
// new runs started on one directory only one creates it.
bool create_run_dir(const fs::path& dir) {
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0777) == 0) return true;
  if (errno == EEXIST) return false;
  throw util::RuntimeError(util::cat("cannot create --output_dir ", dir.string(), ": ", std::strerror(errno)));
}

}  // namespace

RunLock::RunLock(const fs::path& output_dir, bool resuming) : dir_(output_dir) {
  if (!resuming) {
    created_dir_ = create_run_dir(dir_);
    if (!created_dir_) check_new_run_dir(dir_);
  }
  // A resume of a directory that is not there fails next, naming the missing checkpoint.
  if (resuming && !fs::is_directory(dir_)) return;
  const fs::path file = dir_ / kFileName;
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    util::log_warn("cannot create ", file.string(), " (", std::strerror(errno),
                   "): this run does not lock its output directory; do not start another run on it");
    return;
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      std::string pid = read_holder_pid(fd_);
      ::close(fd_);
      fd_ = -1;
      throw in_use(dir_, pid);
    }
    util::log_warn("cannot lock ", file.string(), " (", std::strerror(err),
                   "; the file system may not support flock): do not start another run on this output directory");
    return;
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    util::log_debug("could not record the pid in ", file.string(), ": ", std::strerror(errno));
}

RunLock::~RunLock() {
  // Removed while still locked, so no run can take over a directory that is about to go.
  if (created_dir_ && holds_only_lock_file(dir_)) {
    std::error_code ec;
    fs::remove(dir_ / kFileName, ec);
    fs::remove(dir_, ec);
  }
  if (fd_ >= 0) ::close(fd_);
}

void check_new_run_dir(const fs::path& dir) {
  if (!fs::exists(dir)) return;
  int fd = ::open((dir / RunLock::kFileName).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    // A shared lock is refused only while a run holds the exclusive one.
    const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    const std::string pid = held ? read_holder_pid(fd) : "";
    ::close(fd);
    if (held) throw in_use(dir, pid);
  }
  if (!holds_only_lock_file(dir))
    throw util::InputError(util::cat("output directory ", dir.string(), " already exists and --resume is off; ",
                                     "continue that run with --resume --output_dir ", dir.string(),
                                     " or choose another --output_dir"));
}

}  // namespace robotrain::train
