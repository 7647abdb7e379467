#pragma once
// Calls a remote tracker could not deliver, one JSON object per line, replayed later by
// `robotrain track sync --journal FILE`. Entries refer to their run by a client token, so a
// run that could not even be created is created at replay (exactly once: the token is
// searched for before creating). Entry forms:
//   {"op":"run","tracking_uri","experiment_name","run_name","start_time","tags":{},"client_token","run_id"}
//   {"op":"log_batch","client_token","metrics":[{key,value,timestamp,step}],"params":{},"tags":{}}
//   {"op":"update_run","client_token","status","end_time"}
//   {"op":"artifact","client_token","local","path"}
#include <filesystem>
#include <mutex>
#include <string>

#include "track/tracker.h"
#include "util/json.h"

namespace robotrain::track {

// Appends entries durably (write + fsync per entry); safe across threads.
class JournalWriter {
 public:
  explicit JournalWriter(std::filesystem::path path) : path_(std::move(path)) {}
  const std::filesystem::path& path() const { return path_; }
  void append(const util::Json& entry);
  bool written() const { return written_; }

 private:
  std::filesystem::path path_;
  std::mutex mutex_;
  bool written_ = false;
};

struct SyncOptions {
  std::string tracking_uri;          // "" = the URI recorded in the journal
  AccessTokenProvider access_token;  // for azureml:// targets
};

struct SyncResult {
  size_t replayed = 0;                // entries delivered
  std::vector<std::string> run_ids;   // runs written to
  std::filesystem::path archived;     // the journal renamed to <file>.synced
};

// Replays every entry in order. On success the journal is renamed to <file>.synced; on a
// failure the journal is rewritten with the undelivered entries (plus the run entries they
// need, with run ids filled in) and the error is thrown, so a second sync resumes.
SyncResult sync_journal(const std::filesystem::path& journal, const SyncOptions& options);

std::filesystem::path default_journal_path();

}  // namespace robotrain::track
