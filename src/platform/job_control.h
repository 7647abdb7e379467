#pragma once
// Status, logs and cancellation of a recorded job, whatever platform runs it. Remote jobs are
// always addressed by the id their platform returned at submission, never by name.
#include <string>

#include "platform/job_store.h"

namespace robotrain::platform {

struct StatusReport {
  JobState state = JobState::Unknown;
  std::string raw;  // the platform's own word ("Running", "FAILED_EVICTED", ...)
};

// Queries the platform and updates the stored record.
StatusReport refresh_status(const JobStore& store, JobRecord& record);

// Local: the log file; Azure ML: `az ml job stream`; OSMO: `osmo workflow logs`.
// osmo_task: one task of an OSMO workflow (`osmo workflow logs ID --task T`); ignored elsewhere.
std::string job_logs(const JobStore& store, const JobRecord& record, const std::string& osmo_task = "");

void cancel_job(const JobStore& store, JobRecord& record);

}  // namespace robotrain::platform
