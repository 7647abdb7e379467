#pragma once
// Where this process sits in a data-parallel job, read from the environment the launcher left:
// torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), which Azure ML's `distribution: pytorch` and OSMO set too, or Open MPI's
// (OMPI_COMM_WORLD_*) with Azure ML's AZ_BATCH_MASTER_NODE / AZ_BATCHAI_MPI_MASTER_NODE for
// the rendezvous host when the job was launched by mpirun.
#include <functional>
#include <optional>
#include <string>

namespace robotrain::train {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool distributed() const { return world_size > 1; }
};

// nullopt when no launcher variables are set (a plain single process). InputError when they
// are set but inconsistent (rank outside [0, world size), a port that is not a port).
// `getenv` is injectable for tests.
std::optional<DistEnv> dist_env_from_environment(
    const std::function<std::optional<std::string>(const char*)>& getenv = {});

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it back).
int free_local_port();

}  // namespace robotrain::train
