#pragma once
// One training run per output directory. Two runs writing one --output_dir corrupt it (each
// removes the other's checkpoint staging directories and repoints `last`), so a run holds an
// exclusive flock on OUTPUT/.robotrain.lock for its whole life; the kernel releases it when
// the process ends, however it ends. The file holds the holder's pid for the error message.
#include <filesystem>

namespace robotrain::train {

class RunLock {
 public:
  // Locks `output_dir`, creating it for a new run (resuming=false). InputError, naming the
  // holder's pid, when another run holds it. A file system without flock (some network
  // mounts) gets a warning and no lock rather than a failed job.
  RunLock(const std::filesystem::path& output_dir, bool resuming);
  // Releases the lock; a new run's directory that never got more than the lock file (the
  // run failed before writing anything) is removed, so the same command can be run again.
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  static constexpr const char* kFileName = ".robotrain.lock";

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
  bool created_dir_ = false;
};

// For a new run (no --resume): InputError when `dir` exists with anything in it but an
// abandoned lock file (what a run killed before its first write leaves), naming the pid of a
// run that holds it now.
void check_new_run_dir(const std::filesystem::path& dir);

}  // namespace robotrain::train
