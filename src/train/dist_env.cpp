#include "train/dist_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::train {

namespace {

int env_int(const std::function<std::optional<std::string>(const char*)>& getenv, const char* name, int fallback) {
  auto v = getenv(name);
  if (!v || util::trim(*v).empty()) return fallback;
  int64_t out = 0;
  if (!util::parse_int64(util::trim(*v), out) || out < 0 || out > 1 << 30)
    throw util::InputError(util::cat("environment variable ", name, "='", *v, "' is not a non-negative integer"));
  return static_cast<int>(out);
}

// "host:port" or "host" (AZ_BATCH_MASTER_NODE carries the port, the older
// AZ_BATCHAI_MPI_MASTER_NODE only the host).
void apply_master_node(DistEnv& e, const std::string& node) {
  auto colon = node.rfind(':');
  if (colon == std::string::npos) {
    e.master_addr = node;
    return;
  }
  e.master_addr = node.substr(0, colon);
  int64_t port = 0;
  if (util::parse_int64(node.substr(colon + 1), port)) e.master_port = static_cast<int>(port);
}

}  // namespace

std::optional<DistEnv> dist_env_from_environment(const std::function<std::optional<std::string>(const char*)>& getenv_in) {
  auto getenv = getenv_in ? getenv_in : [](const char* n) { return util::get_env(n); };
  const bool torchrun = getenv("RANK").has_value() && getenv("WORLD_SIZE").has_value();
  const bool mpi = getenv("OMPI_COMM_WORLD_RANK").has_value() && getenv("OMPI_COMM_WORLD_SIZE").has_value();
  if (!torchrun && !mpi) return std::nullopt;
  DistEnv e;
  if (torchrun) {
    e.rank = env_int(getenv, "RANK", 0);
    e.world_size = env_int(getenv, "WORLD_SIZE", 1);
    e.local_rank = env_int(getenv, "LOCAL_RANK", e.rank);
    e.local_world_size = env_int(getenv, "LOCAL_WORLD_SIZE", e.world_size);
  } else {
    e.rank = env_int(getenv, "OMPI_COMM_WORLD_RANK", 0);
    e.world_size = env_int(getenv, "OMPI_COMM_WORLD_SIZE", 1);
    e.local_rank = env_int(getenv, "OMPI_COMM_WORLD_LOCAL_RANK", e.rank);
    e.local_world_size = env_int(getenv, "OMPI_COMM_WORLD_LOCAL_SIZE", e.world_size);
  }
  if (auto node = getenv("AZ_BATCHAI_MPI_MASTER_NODE")) apply_master_node(e, *node);
  if (auto node = getenv("AZ_BATCH_MASTER_NODE")) apply_master_node(e, *node);
  if (auto addr = getenv("MASTER_ADDR"); addr && !addr->empty()) e.master_addr = *addr;
  e.master_port = env_int(getenv, "MASTER_PORT", e.master_port);
  if (e.world_size < 1) throw util::InputError("WORLD_SIZE must be at least 1");
  if (e.rank >= e.world_size)
    throw util::InputError(util::cat("RANK ", e.rank, " is outside WORLD_SIZE ", e.world_size,
                                     "; check the launcher's environment"));
  if (e.master_port <= 0 || e.master_port > 65535)
    throw util::InputError(util::cat("MASTER_PORT ", e.master_port, " is not a TCP port"));
  if (e.local_world_size < 1 || e.local_rank >= e.local_world_size) e.local_world_size = std::max(1, e.local_rank + 1);
  return e;
}

int free_local_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw util::RuntimeError("cannot open a socket to find a free port for the workers' rendezvous");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw util::RuntimeError("cannot bind a socket on 127.0.0.1 to find a free port for the workers' rendezvous");
  }
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace robotrain::train
