#pragma once
// A peer process for the `--peer` modes of the benchmarks: LeRobot's own code (scripts under
// bench/peers/, run with the venv's Python) asked one line at a time, so that its work
// interleaves with robotrain's in one invocation. Torch-free (the loader benchmark uses it).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/json.h"
#include "util/native_runtime.h"

extern char** environ;

namespace robotrain::bench {

// Overridable so the benchmark runs against another LeRobot install.
inline std::string peer_python() {
  if (const char* p = std::getenv("ROBOTRAIN_PEER_PYTHON")) return p;
  return ROBOTRAIN_PYTHON;
}

inline std::string peer_script(const std::string& name) { return std::string(ROBOTRAIN_SOURCE_DIR) + "/bench/peers/" + name; }

// A child talking one line at a time over pipes (stdin / stdout); stderr is inherited.
class PeerProcess {
 public:
  PeerProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& set_env,
              const std::vector<std::string>& unset_env) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> env_store;
    for (char** e = environ; e && *e; ++e) {
      std::string kv = *e;
      std::string name = kv.substr(0, kv.find('='));
      if (set_env.count(name) || std::find(unset_env.begin(), unset_env.end(), name) != unset_env.end()) continue;
      env_store.push_back(kv);
    }
    for (const auto& [k, v] : set_env) env_store.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_store = argv;
    for (auto& s : argv_store) args.push_back(s.data());
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
  }
  ~PeerProcess() {
    if (to_child_ >= 0) {
      send("quit");
      close(to_child_);
    }
    if (from_child_ >= 0) close(from_child_);
    if (pid_ > 0) {
      int status = 0;
      for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(50000);
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
  }
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  void send(const std::string& line) {
    std::string s = line + "\n";
    if (write(to_child_, s.data(), s.size()) != static_cast<ssize_t>(s.size()))
      throw std::runtime_error("the peer process closed its input");
  }

  util::Json read_json(double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (true) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (line.empty() || line[0] != '{') continue;  // stray output of a library
        return util::Json::parse(line);
      }
      auto left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) throw std::runtime_error("the peer process did not answer in time");
      pollfd p{from_child_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
      char buf[4096];
      ssize_t n = read(from_child_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("the peer process exited (see its stderr above)");
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1, from_child_ = -1;
  std::string buffer_;
};

// The environment differences of the two ways a peer runs: "as shipped" drops the variables
// robotrain's native runtime added for itself (util/native_runtime.h); "same settings" keeps them.
inline std::vector<std::string> robotrain_runtime_variables() {
  auto added = util::native_runtime_defaults_added();
  added.push_back(util::kNativeDefaultsVariable);
  return added;
}

// CPU time of this process (all threads), in ms: on a machine shared with other work, a step's
// CPU time moves much less than its wall time, so both are reported.
inline double process_cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

inline double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Median of per-round ratios: each round's measurements ran next to each other, so a slow patch
// of the shared machine cancels out.
inline double paired_ratio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) r.push_back(a[i] / b[i]);
  return median_of(r);
}

}  // namespace robotrain::bench
