#pragma once
// One status vocabulary over Azure ML, OSMO and local jobs, so `jobs status` and the
// pipeline can wait on any of them the same way.
#include <string>

namespace robotrain::platform {

enum class JobState { Pending, Running, Completed, Failed, Canceled, Unknown };

const char* job_state_name(JobState s);
bool is_terminal(JobState s);

// Azure ML: NotStarted, Starting, Provisioning, Preparing, Queued -> Pending; Running,
// Finalizing, CancelRequested -> Running; Completed; Failed; Canceled; NotResponding,
// Paused, Unknown, "" -> Unknown.
JobState azureml_state(const std::string& status);
// OSMO: PENDING, WAITING -> Pending; RUNNING; COMPLETED; FAILED_CANCELED -> Canceled; every
// other FAILED* -> Failed.
JobState osmo_state(const std::string& status);
// OSMO failures worth one automatic resubmission (infrastructure, not the job).
bool osmo_retryable_failure(const std::string& status);

}  // namespace robotrain::platform
