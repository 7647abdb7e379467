#include "train/launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "train/dist_env.h"
#include "util/error.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

extern char** environ;

namespace robotrain::train {

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_launcher_signal(int sig) { g_signal = sig; }

// Installs the forwarding handlers for the launcher's lifetime.
struct SignalForwarding {
  struct sigaction old_term {}, old_int {};
  SignalForwarding() {
    g_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_launcher_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
  }
  ~SignalForwarding() {
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGINT, &old_int, nullptr);
  }
};

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  bool done = false;
  int code = 0;  // exit status, 128+signal when killed
};

std::string describe_exit(int code) {
  if (code > 128) return util::cat("was killed by signal ", code - 128, " (", strsignal(code - 128), ")");
  return util::cat("exited with code ", code);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// Built before fork: the child only calls async-signal-safe functions until execve.
struct ExecImage {
  std::vector<std::string> args, envs;
  std::vector<char*> argv, envp;
  void finish() {
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

pid_t spawn_worker(ExecImage& img, pid_t launcher) {
  pid_t pid = ::fork();
  if (pid < 0) throw util::RuntimeError(util::cat("fork failed starting a training worker: ", std::strerror(errno)));
  if (pid == 0) {
    // A worker must not outlive a launcher that was killed outright.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != launcher) ::_exit(127);
    ::execve(img.argv[0], img.argv.data(), img.envp.data());
    ::_exit(127);
  }
  return pid;
}

bool reap(Worker& w, bool block) {
  if (w.done) return true;
  int status = 0;
  pid_t r = ::waitpid(w.pid, &status, block ? 0 : WNOHANG);
  if (r == w.pid) {
    w.done = true;
    w.code = decode_status(status);
  }
  return w.done;
}

void signal_all(std::vector<Worker>& ws, int sig) {
  for (auto& w : ws)
    if (!w.done) ::kill(w.pid, sig);
}

// SIGTERM to every live worker, SIGKILL to those still alive after the grace period.
void stop_all(std::vector<Worker>& ws, double grace_s) {
  signal_all(ws, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (auto& w : ws) all = reap(w, false) && all;
    if (all) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& w : ws)
    if (!w.done) {
      util::log_warn("worker rank ", w.rank, " (pid ", w.pid, ") did not stop within ", grace_s, " s; killing it");
      ::kill(w.pid, SIGKILL);
    }
  for (auto& w : ws) reap(w, true);
}

}  // namespace

int launch_local_workers(const LaunchOptions& o) {
  if (o.nproc < 1) throw util::InputError(util::cat("--nproc-per-node must be at least 1 (got ", o.nproc, ")"));
  if (o.argv.empty()) throw util::InputError("launch_local_workers: no command line");
  const int port = free_local_port();
  const pid_t self = ::getpid();
  SignalForwarding forwarding;

  std::vector<Worker> workers;
  std::vector<ExecImage> images(static_cast<size_t>(o.nproc));
  for (int rank = 0; rank < o.nproc; ++rank) {
    std::map<std::string, std::string> env = o.env;
    env["RANK"] = std::to_string(rank);
    env["LOCAL_RANK"] = std::to_string(rank);
    env["WORLD_SIZE"] = std::to_string(o.nproc);
    env["LOCAL_WORLD_SIZE"] = std::to_string(o.nproc);
    env["GROUP_RANK"] = "0";
    env["MASTER_ADDR"] = "127.0.0.1";
    env["MASTER_PORT"] = std::to_string(port);
    ExecImage& img = images[static_cast<size_t>(rank)];
    img.args = o.argv;
    for (char** e = environ; *e; ++e) {
      std::string kv(*e);
      if (!env.count(kv.substr(0, kv.find('=')))) img.envs.push_back(kv);
    }
    for (const auto& [k, v] : env) img.envs.push_back(k + "=" + v);
    img.finish();
  }
  for (int rank = 0; rank < o.nproc; ++rank) {
    Worker w;
    w.rank = rank;
    try {
      w.pid = spawn_worker(images[static_cast<size_t>(rank)], self);
    } catch (...) {
      stop_all(workers, o.kill_grace_s);
      throw;
    }
    util::log_info("started worker rank ", rank, " (pid ", w.pid, ") of ", o.nproc, ", rendezvous 127.0.0.1:", port);
    workers.push_back(w);
  }

  int forwarded = 0;
  while (true) {
    if (int sig = g_signal.exchange(0)) {
      // The workers agree on the step to stop at and rank 0 writes the final checkpoint.
      util::log_warn("received signal ", sig, ": forwarding it to the ", o.nproc, " workers");
      signal_all(workers, sig);
      forwarded = sig;
    }
    bool all_done = true;
    for (auto& w : workers) {
      bool was_done = w.done;
      if (!reap(w, false)) {
        all_done = false;
        continue;
      }
      if (was_done || w.code == 0 || (forwarded && w.code == 128 + forwarded)) continue;
      // A worker failed: the others would wait for it in their next all-reduce.
      util::log_error("worker rank ", w.rank, " (pid ", w.pid, ") ", describe_exit(w.code),
                      "; stopping the other workers");
      stop_all(workers, o.kill_grace_s);
      throw util::RuntimeError(util::cat("distributed training failed: worker rank ", w.rank, " of ", o.nproc, " ",
                                         describe_exit(w.code), " (its messages are above); the other workers were "
                                         "stopped. Fix the cause and continue with --resume from the last checkpoint"));
    }
    if (all_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (forwarded) return workers.front().code;
  return 0;
}

std::vector<std::string> self_command_line() {
  // /proc files report size 0: read to the end instead of by size.
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i < raw.size(); ++i)
    if (raw[i] == '\0') {
      args.push_back(raw.substr(start, i - start));
      start = i + 1;
    }
  if (start < raw.size()) args.push_back(raw.substr(start));
  if (args.empty()) throw util::RuntimeError("cannot read this process's command line from /proc/self/cmdline");
  args[0] = util::self_executable();
  return args;
}

int launch_training(const TrainConfig& resolved, int nproc) {
  LaunchOptions o;
  o.nproc = nproc;
  o.argv = self_command_line();
  bool has_output = false;
  for (const auto& a : o.argv)
    for (const char* flag : {"--output_dir", "--output-dir"})
      if (a == flag || util::starts_with(a, std::string(flag) + "=")) has_output = true;
  if (!has_output) o.argv.insert(o.argv.end(), {"--output_dir", resolved.output_dir});
  util::log_info("launching ", nproc, " training workers (effective batch size ", resolved.batch_size * nproc,
                 " = ", resolved.batch_size, " x ", nproc, "); output dir ", resolved.output_dir);
  return launch_local_workers(o);
}

}  // namespace robotrain::train
