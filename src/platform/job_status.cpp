#include "platform/job_status.h"

#include "util/strings.h"

namespace robotrain::platform {

const char* job_state_name(JobState s) {
  switch (s) {
    case JobState::Pending: return "pending";
    case JobState::Running: return "running";
    case JobState::Completed: return "completed";
    case JobState::Failed: return "failed";
    case JobState::Canceled: return "canceled";
    default: return "unknown";
  }
}

bool is_terminal(JobState s) { return s == JobState::Completed || s == JobState::Failed || s == JobState::Canceled; }

JobState azureml_state(const std::string& raw) {
  std::string s = util::to_lower(util::trim(raw));
  if (s == "notstarted" || s == "starting" || s == "provisioning" || s == "preparing" || s == "queued") return JobState::Pending;
  if (s == "running" || s == "finalizing" || s == "cancelrequested") return JobState::Running;
  if (s == "completed") return JobState::Completed;
  if (s == "failed") return JobState::Failed;
  if (s == "canceled" || s == "cancelled") return JobState::Canceled;
  return JobState::Unknown;
}

JobState osmo_state(const std::string& raw) {
  std::string s = util::trim(raw);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s == "PENDING" || s == "WAITING" || s == "SCHEDULING" || s == "INITIALIZING") return JobState::Pending;
  if (s == "RUNNING") return JobState::Running;
  if (s == "COMPLETED") return JobState::Completed;
  if (s == "FAILED_CANCELED") return JobState::Canceled;
  if (util::starts_with(s, "FAILED")) return JobState::Failed;
  return JobState::Unknown;
}

bool osmo_retryable_failure(const std::string& raw) {
  std::string s = util::trim(raw);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s == "FAILED_BACKEND_ERROR" || s == "FAILED_EVICTED" || s == "FAILED_PREEMPTED";
}

}  // namespace robotrain::platform
