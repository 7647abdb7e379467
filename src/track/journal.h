#pragma once
// Tracking calls that could not be delivered (an unreachable MLflow server, a full disk under
// the local store), one JSON object per line, replayed later by `robotrain track sync
// --journal FILE` or by the tracker itself once the destination works again. Entries name
// their run by a client token, so a run that could not even be created is created at replay,
// exactly once (the token is a run tag, searched for before creating). Entry forms:
//   {"op":"run","tracking_uri","experiment_name","run_name","start_time","tags":{},"client_token","run_id"}
//   {"op":"log_batch","client_token","metrics":[{key,value,timestamp,step}],"params":{},"tags":{}}
//   {"op":"update_run","client_token","status","end_time"}
//   {"op":"artifact","client_token","local","path"}
// A training run keeps its journal in OUTPUT/.robotrain/mlflow-journal.jsonl.
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "track/tracker.h"
#include "util/json.h"

namespace robotrain::track {

// Appends entries durably (write + fsync per entry); safe across threads. A failed write
// leaves no partial line behind.
class JournalWriter {
 public:
  explicit JournalWriter(std::filesystem::path path) : path_(std::move(path)) {}
  const std::filesystem::path& path() const { return path_; }
  // Appends `entry`, preceded by `header` when the file does not exist yet (a new journal, or
  // the previous one was replayed and archived). Throws util::RuntimeError on I/O failure.
  void append(const util::Json& entry, const util::Json& header);
  bool exists() const;

 private:
  std::filesystem::path path_;
  mutable std::mutex mutex_;
};

struct SyncOptions {
  std::string tracking_uri;          // "" = the URI recorded in the journal
  AccessTokenProvider access_token;  // for azureml:// targets only
  double budget_s = 0;               // per MLflow call, retries included (0 = the client's default policy)
  std::function<bool()> cancelled;   // polled during MLflow calls: true abandons the sync
  // Drop (with a warning) entries the destination rejects for good (a non-transient MLflow
  // error such as an invalid value) instead of stopping there.
  bool skip_rejected = false;
};

struct SyncResult {
  size_t replayed = 0;                               // entries delivered
  std::vector<std::string> run_ids;                  // runs written to
  std::map<std::string, std::string> run_by_token;   // client token -> run id
  std::filesystem::path archived;                    // where the replayed entries went (<file>.synced)
};

// Replays every entry in order. On success the entries are appended to <file>.synced and the
// journal removed; on a failure the journal is rewritten with the undelivered entries (plus
// the run entries they need, with run ids filled in) and the error is thrown, so a second
// sync resumes where this one stopped. A torn last line (a crash mid-write) is skipped.
SyncResult sync_journal(const std::filesystem::path& journal, const SyncOptions& options);

// ./.robotrain/mlflow-journal.jsonl (commands without an output directory).
std::filesystem::path default_journal_path();
// OUTPUT/.robotrain/mlflow-journal.jsonl.
std::filesystem::path journal_path_in(const std::filesystem::path& output_dir);

// A client-side run id ("offline-<client token>") names a run the server has not seen yet;
// it is printed, saved in checkpoints and mapped to the server's id when the journal is
// replayed. Returns the token, or "" when `run_id` is an ordinary id.
std::string client_token_of(const std::string& run_id);
std::string client_run_id(const std::string& client_token);

}  // namespace robotrain::track
