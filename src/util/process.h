#pragma once
// Running other programs (az, osmo, node test servers) without a shell: argv is passed as-is,
// so nothing needs quoting and nothing user-supplied is ever interpreted by /bin/sh.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace robotrain::util {

struct ProcessOptions {
  std::string cwd{};
  std::map<std::string, std::string> env{};  // added to (or overriding) the current environment
  std::string stdin_data{};
  double timeout_s = 0;  // 0: no limit
  bool inherit_stdout = false;  // stream to our stdout/stderr instead of capturing
};

struct ProcessResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string out;
  std::string err;
  bool timed_out = false;
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});
// The absolute path of an executable found on PATH, if any.
std::optional<std::string> find_in_path(const std::string& name);
// Path of the running executable (/proc/self/exe).
std::string self_executable();

// A long-running child (a test server, a training worker). Killed on destruction.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {},
               const std::string& stdout_file = "", const std::string& stderr_file = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  int pid() const { return pid_; }
  // Reads one line of the child's stdout (only when stdout_file was empty). Throws after timeout.
  std::string read_line(double timeout_s = 30);
  bool running();
  // Sends `signal` and waits up to grace_s, then SIGKILL. Returns the exit code.
  int terminate(int signal = 15, double grace_s = 5);
  // Waits for exit; returns the exit code (128+signal when killed) or nullopt on timeout.
  std::optional<int> wait(double timeout_s = -1);

 private:
  int pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::optional<int> exit_code_;
};

std::optional<std::string> get_env(const char* name);
std::string get_env_or(const char* name, const std::string& fallback);

}  // namespace robotrain::util
