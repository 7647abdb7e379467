#include "util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "util/error.h"
#include "util/strings.h"

extern char** environ;

namespace robotrain::util {

namespace {

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Forks and execs; the child's stdin/stdout/stderr are the given fds (-1: inherit).
int spawn(const std::vector<std::string>& argv, const ProcessOptions& options, int in_fd, int out_fd, int err_fd) {
  if (argv.empty()) throw InputError("run_process: empty command");
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = merged_environment(options.env);
  auto cargs = c_strings(args);
  auto cenv = c_strings(envs);
  std::string exe = argv[0];
  if (exe.find('/') == std::string::npos) {
    auto found = find_in_path(exe);
    if (!found) throw RuntimeError(cat("'", exe, "' was not found on PATH; install it or add it to PATH"));
    exe = *found;
  }
  pid_t pid = ::fork();
  if (pid < 0) throw RuntimeError(cat("fork failed: ", std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);
    if (in_fd >= 0) ::dup2(in_fd, 0);
    if (out_fd >= 0) ::dup2(out_fd, 1);
    if (err_fd >= 0) ::dup2(err_fd, 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) _exit(127);
    ::execve(exe.c_str(), cargs.data(), cenv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

std::optional<std::string> get_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string get_env_or(const char* name, const std::string& fallback) {
  auto v = get_env(name);
  return v && !v->empty() ? *v : fallback;
}

std::optional<std::string> find_in_path(const std::string& name) {
  std::string path = get_env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
  for (const auto& dir : split(path, ':')) {
    if (dir.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate))
      return candidate.string();
  }
  return std::nullopt;
}

std::string self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
    throw RuntimeError("pipe failed");
  int pid = spawn(argv, options, in_pipe[0], options.inherit_stdout ? -1 : out_pipe[1],
                  options.inherit_stdout ? -1 : err_pipe[1]);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  std::thread writer([fd = in_pipe[1], data = options.stdin_data] {
    signal(SIGPIPE, SIG_IGN);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  ProcessResult result;
  auto start = std::chrono::steady_clock::now();
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    int wait_ms = 200;
    int rc = ::poll(fds, 2, wait_ms);
    if (rc < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
    if (options.timeout_s > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > options.timeout_s) {
      ::kill(-pid, SIGKILL);
      result.timed_out = true;
      for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
      break;
    }
  }
  writer.join();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = decode_status(status);
  return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const ProcessOptions& options,
                           const std::string& stdout_file, const std::string& stderr_file) {
  int out_fd = -1, err_fd = -1;
  int pipefd[2] = {-1, -1};
  if (stdout_file.empty()) {
    if (::pipe2(pipefd, O_CLOEXEC)) throw RuntimeError("pipe failed");
    out_fd = pipefd[1];
    stdout_fd_ = pipefd[0];
  } else {
    out_fd = ::open(stdout_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  if (!stderr_file.empty()) err_fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = spawn(argv, options, devnull, out_fd, err_fd);
  ::close(devnull);
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);
}

ChildProcess::~ChildProcess() {
  if (running()) terminate(SIGTERM, 3);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::string ChildProcess::read_line(double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || stdout_fd_ < 0) throw RuntimeError("child process: no output line within timeout");
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) throw RuntimeError("child process closed its output before printing a line");
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::optional<int> ChildProcess::wait(double timeout_s) {
  if (exit_code_) return exit_code_;
  auto start = std::chrono::steady_clock::now();
  while (true) {
    int status = 0;
    int rc = ::waitpid(pid_, &status, timeout_s < 0 ? 0 : WNOHANG);
    if (rc == pid_) {
      exit_code_ = decode_status(status);
      return exit_code_;
    }
    if (rc < 0 && errno != EINTR) return exit_code_ = -1;
    if (timeout_s >= 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= timeout_s)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool ChildProcess::running() { return pid_ > 0 && !wait(0).has_value(); }

int ChildProcess::terminate(int signal, double grace_s) {
  if (!running()) return *exit_code_;
  ::kill(-pid_, signal);
  ::kill(pid_, signal);
  if (auto code = wait(grace_s)) return *code;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  return wait(-1).value_or(-1);
}

}  // namespace robotrain::util
