#pragma once
// The local platform: a job is a detached supervisor process (`robotrain jobs supervise ID`)
// that runs the command, writes its output to the job's log and records the exit code, so the
// job outlives the terminal that started it and `jobs status|logs|cancel` work on it.
#include <string>
#include <vector>

#include "platform/job_store.h"

namespace robotrain::platform {

// Creates the record and starts the supervisor; returns the record (state running).
JobRecord start_local_job(const JobStore& store, const std::string& name, const std::string& kind,
                          const std::vector<std::string>& argv, const std::string& output_dir);

// Body of `robotrain jobs supervise ID`: runs the recorded argv, forwards SIGTERM/SIGINT to
// it, records the exit code and final state. Returns the job's exit code.
int supervise_local_job(const JobStore& store, const std::string& id);

std::string local_log_path(const JobStore& store, const std::string& id);

}  // namespace robotrain::platform
