#include "platform/job_store.h"

#include <algorithm>
#include <ctime>

#include "util/error.h"
#include "util/fs.h"
#include "util/process.h"

namespace robotrain::platform {

namespace fs = std::filesystem;

util::Json to_json(const JobRecord& r) {
  util::Json j;
  j["id"] = r.id;
  j["platform"] = r.platform;
  j["name"] = r.name;
  j["kind"] = r.kind;
  j["submitted_at"] = r.submitted_at;
  j["portal_url"] = r.portal_url;
  j["spec_path"] = r.spec_path;
  j["output_dir"] = r.output_dir;
  j["context"] = r.context;
  j["argv"] = r.argv;
  j["supervisor_pid"] = r.supervisor_pid;
  j["worker_pid"] = r.worker_pid;
  j["exit_code"] = r.exit_code ? util::Json(*r.exit_code) : util::Json(nullptr);
  j["state"] = r.state;
  j["raw_status"] = r.raw_status;
  j["resubmissions"] = r.resubmissions;
  return j;
}

JobRecord job_record_from_json(const util::Json& j) {
  JobRecord r;
  r.id = j.value("id", "");
  r.platform = j.value("platform", "");
  r.name = j.value("name", "");
  r.kind = j.value("kind", "train");
  r.submitted_at = j.value("submitted_at", "");
  r.portal_url = j.value("portal_url", "");
  r.spec_path = j.value("spec_path", "");
  r.output_dir = j.value("output_dir", "");
  if (j.contains("context")) r.context = j["context"];
  if (j.contains("argv")) r.argv = j["argv"].get<std::vector<std::string>>();
  r.supervisor_pid = j.value("supervisor_pid", 0);
  r.worker_pid = j.value("worker_pid", 0);
  if (j.contains("exit_code") && j["exit_code"].is_number_integer()) r.exit_code = j["exit_code"].get<int>();
  r.state = j.value("state", "unknown");
  r.raw_status = j.value("raw_status", "");
  r.resubmissions = j.value("resubmissions", 0);
  return r;
}

namespace {
fs::path default_root() {
  if (auto h = util::get_env("ROBOTRAIN_HOME"); h && !h->empty()) return fs::path(*h) / "jobs";
  if (auto h = util::get_env("HOME"); h && !h->empty()) return fs::path(*h) / ".robotrain" / "jobs";
  return fs::path(".robotrain") / "jobs";
}

bool valid_id(const std::string& id) {
  return !id.empty() && id.find('/') == std::string::npos && id != "." && id != "..";
}
}  // namespace

JobStore::JobStore() : root_(default_root()) {}
JobStore::JobStore(fs::path root) : root_(std::move(root)) {}

fs::path JobStore::job_dir(const std::string& id) const {
  if (!valid_id(id)) throw util::InputError("invalid job id '" + id + "': see `robotrain jobs list`");
  return root_ / id;
}

void JobStore::save(const JobRecord& r) const {
  fs::create_directories(job_dir(r.id));
  util::write_json_file(job_dir(r.id) / "job.json", to_json(r), 2);
}

bool JobStore::exists(const std::string& id) const { return valid_id(id) && fs::exists(root_ / id / "job.json"); }

JobRecord JobStore::load(const std::string& id) const {
  if (!exists(id))
    throw util::InputError("no job '" + id + "' in " + root_.string() + ": see `robotrain jobs list` for known jobs");
  return job_record_from_json(util::read_json_file(job_dir(id) / "job.json"));
}

std::vector<JobRecord> JobStore::list() const {
  std::vector<JobRecord> out;
  if (!fs::exists(root_)) return out;
  for (auto& e : fs::directory_iterator(root_)) {
    if (!fs::exists(e.path() / "job.json")) continue;
    try {
      out.push_back(job_record_from_json(util::read_json_file(e.path() / "job.json")));
    } catch (const std::exception&) {
      // A record being rewritten or damaged: skip it rather than failing the listing.
    }
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) { return a.submitted_at > b.submitted_at; });
  return out;
}

std::string utc_now_iso8601() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace robotrain::platform
