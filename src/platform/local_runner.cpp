#include "platform/local_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>

#include "util/crypto.h"
#include "util/error.h"
#include "util/process.h"

namespace robotrain::platform {

namespace {

std::atomic<int> g_worker_pid{0};

void forward_signal(int sig) {
  int pid = g_worker_pid.load();
  if (pid > 0) ::kill(pid, sig);
}

std::string make_local_id(const std::string& name) {
  std::string base;
  for (char c : name) base += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '-';
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&t));
  return "local-" + base + "-" + buf + "-" + util::random_uuid_hex().substr(0, 6);
}

// fork + setsid + exec: the supervisor survives our exit and our terminal.
int spawn_detached(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw util::RuntimeError(std::string("cannot start the local job supervisor: fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::setsid();
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    // Double fork so the supervisor is reparented to init and never becomes our zombie.
    if (::fork() != 0) ::_exit(0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return 0;
}

}  // namespace

std::string local_log_path(const JobStore& store, const std::string& id) { return (store.job_dir(id) / "job.log").string(); }

JobRecord start_local_job(const JobStore& store, const std::string& name, const std::string& kind,
                          const std::vector<std::string>& argv, const std::string& output_dir) {
  JobRecord r;
  r.id = make_local_id(name);
  r.platform = "local";
  r.name = name;
  r.kind = kind;
  r.submitted_at = utc_now_iso8601();
  r.output_dir = output_dir;
  r.argv = argv;
  r.state = "pending";
  store.save(r);
  spawn_detached({util::self_executable(), "jobs", "supervise", r.id, "--jobs-dir", store.root().string()});
  return r;
}

int supervise_local_job(const JobStore& store, const std::string& id) {
  JobRecord r = store.load(id);
  if (r.argv.empty()) throw util::InputError("job " + id + " has no command to run");
  r.supervisor_pid = static_cast<int>(::getpid());
  std::string log = local_log_path(store, id);
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log_fd < 0) throw util::RuntimeError("cannot open job log " + log + ": " + std::strerror(errno));

  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  std::vector<char*> args;
  for (auto& a : r.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execvp(args[0], args.data());
    dprintf(2, "robotrain: error: cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(log_fd);
  g_worker_pid = pid;
  r.worker_pid = pid;
  r.state = "running";
  store.save(r);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  JobRecord done = store.load(id);  // `jobs cancel` may have marked it canceled meanwhile
  done.exit_code = code;
  done.worker_pid = pid;
  done.supervisor_pid = r.supervisor_pid;
  if (done.state != "canceled") done.state = code == 0 ? "completed" : "failed";
  store.save(done);
  return code;
}

}  // namespace robotrain::platform
