#pragma once
// Every submitted job (any platform) is recorded under $ROBOTRAIN_HOME/jobs/<id>/job.json
// (default ~/.robotrain), so `robotrain jobs list|status|logs|cancel` work the same way for
// Azure ML, OSMO and local runs.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "platform/job_status.h"
#include "platform/submit_options.h"
#include "util/json.h"

namespace robotrain::platform {

struct JobRecord {
  std::string id;          // the platform's id (Azure ML job name, OSMO workflow id, local-...)
  std::string platform;    // azureml | osmo | local
  std::string name;        // --job-name
  std::string kind = "train";  // train | eval
  std::string submitted_at;    // ISO 8601 UTC
  std::string portal_url;
  std::string spec_path;       // rendered YAML kept with the record
  std::string output_dir;
  util::Json context = util::Json::object();  // subscription/resource group/workspace, ...
  std::vector<std::string> argv;  // local: the command run
  int supervisor_pid = 0;         // local
  int worker_pid = 0;             // local
  std::optional<int> exit_code;   // local, once finished
  std::string state = "pending";  // last known state (job_state_name)
  std::string raw_status;         // last raw platform status
  int resubmissions = 0;
};

util::Json to_json(const JobRecord& r);
JobRecord job_record_from_json(const util::Json& j);

class JobStore {
 public:
  // Default root: $ROBOTRAIN_HOME/jobs, else ~/.robotrain/jobs.
  JobStore();
  explicit JobStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path job_dir(const std::string& id) const;
  void save(const JobRecord& record) const;  // atomic
  bool exists(const std::string& id) const;
  // InputError naming the id and `robotrain jobs list` when unknown.
  JobRecord load(const std::string& id) const;
  // Newest first.
  std::vector<JobRecord> list() const;

 private:
  std::filesystem::path root_;
};

std::string utc_now_iso8601();

}  // namespace robotrain::platform
