#include "track/journal.h"

#include <fstream>
#include <memory>

#include "track/durable_append.h"
#include "track/file_store.h"
#include "track/file_tracker.h"
#include "track/mlflow_client.h"
#include "track/tracking_uri.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;
using util::Json;

fs::path default_journal_path() { return journal_path_in(fs::current_path()); }

fs::path journal_path_in(const fs::path& output_dir) {
  return fs::absolute(output_dir).lexically_normal() / ".robotrain" / "mlflow-journal.jsonl";
}

std::string client_run_id(const std::string& client_token) { return "offline-" + client_token; }

std::string client_token_of(const std::string& run_id) {
  const std::string prefix = "offline-";
  return util::starts_with(run_id, prefix) && run_id.size() > prefix.size() ? run_id.substr(prefix.size()) : "";
}

bool JournalWriter::exists() const {
  std::error_code ec;
  return fs::exists(path_, ec);
}

void JournalWriter::append(const Json& entry, const Json& header) {
  std::lock_guard lock(mutex_);
  if (!path_.parent_path().empty()) fs::create_directories(path_.parent_path());
  std::string text = entry.dump() + "\n";
  std::error_code ec;
  if (!fs::exists(path_, ec)) text = header.dump() + "\n" + text;
  append_line(path_, text, true);
}

namespace {

std::vector<std::pair<std::string, std::string>> pairs(const Json& obj) {
  std::vector<std::pair<std::string, std::string>> out;
  if (obj.is_object())
    for (auto& [k, v] : obj.items()) out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

std::string experiment_name_of(const Json& run_entry) {
  std::string name = run_entry.value("experiment_name", "");
  return name.empty() ? "Default" : name;
}

// Where a journal is replayed: an MLflow server or a local store.
class ReplayTarget {
 public:
  virtual ~ReplayTarget() = default;
  // The run a "run" entry names: by id when it has one, else the run tagged with its client
  // token, else a new run (tagged, so a second replay finds it).
  virtual RunInfo resolve_run(const Json& run_entry) = 0;
  virtual void log_batch(const RunInfo& run, const std::vector<MetricPoint>& metrics,
                         const std::vector<std::pair<std::string, std::string>>& params,
                         const std::vector<std::pair<std::string, std::string>>& tags) = 0;
  virtual void update_run(const RunInfo& run, const std::string& status, int64_t end_time) = 0;
  virtual void log_artifact(const RunInfo& run, const fs::path& local, const std::string& path) = 0;
};

class ServerTarget : public ReplayTarget {
 public:
  ServerTarget(const TrackingTarget& target, const SyncOptions& o) : client_(target, o.access_token) {
    if (o.budget_s > 0) client_.set_budget_s(o.budget_s);
    if (o.cancelled) client_.set_cancel(o.cancelled);
  }
  RunInfo resolve_run(const Json& e) override {
    std::string run_id = e.value("run_id", "");
    if (!run_id.empty()) return client_.get_run(run_id).info;
    std::string token = e.value("client_token", "");
    std::string exp = client_.get_or_create_experiment(experiment_name_of(e));
    if (auto existing = client_.find_run_by_client_token(exp, token)) return *existing;
    std::map<std::string, std::string> tags;
    for (auto& [k, v] : pairs(util::object_member(e, "tags"))) tags[k] = v;
    return client_.create_run(exp, e.value("run_name", ""), e.value("start_time", util::now_ms()), tags, token);
  }
  void log_batch(const RunInfo& run, const std::vector<MetricPoint>& metrics,
                 const std::vector<std::pair<std::string, std::string>>& params,
                 const std::vector<std::pair<std::string, std::string>>& tags) override {
    client_.log_batch(run.run_id, metrics, params, tags);
  }
  void update_run(const RunInfo& run, const std::string& status, int64_t end_time) override {
    client_.update_run(run.run_id, status, end_time);
  }
  void log_artifact(const RunInfo& run, const fs::path& local, const std::string& path) override {
    client_.upload_artifacts(run.artifact_uri, local, path);
  }

 private:
  MlflowClient client_;
};

class StoreTarget : public ReplayTarget {
 public:
  explicit StoreTarget(const fs::path& root) : store_(root) {}
  RunInfo resolve_run(const Json& e) override {
    std::string run_id = e.value("run_id", "");
    if (!run_id.empty()) return store_.get_run(run_id);
    std::string token = e.value("client_token", "");
    std::string exp = store_.get_or_create_experiment(experiment_name_of(e));
    for (auto& r : store_.list_runs(exp))
      if (read_key_files(store_.run_dir(r) / "tags").count("robotrain_client_token") &&
          util::read_file(store_.run_dir(r) / "tags" / "robotrain_client_token") == token)
        return r;
    std::map<std::string, std::string> tags;
    for (auto& [k, v] : pairs(util::object_member(e, "tags"))) tags[k] = v;
    tags["robotrain_client_token"] = token;
    return store_.create_run(exp, e.value("run_name", ""), tags.count("mlflow.user") ? tags["mlflow.user"] : "",
                             e.value("start_time", util::now_ms()), tags);
  }
  void log_batch(const RunInfo& run, const std::vector<MetricPoint>& metrics,
                 const std::vector<std::pair<std::string, std::string>>& params,
                 const std::vector<std::pair<std::string, std::string>>& tags) override {
    for (auto& [k, v] : params) store_.log_param(run, k, v);
    for (auto& [k, v] : tags) store_.set_tag(run, k, v);
    for (auto& m : metrics) store_.log_metric(run, m);
  }
  void update_run(const RunInfo& run, const std::string& status, int64_t end_time) override {
    store_.update_run(run.run_id, status, end_time);
  }
  void log_artifact(const RunInfo& run, const fs::path& local, const std::string& path) override {
    copy_artifact(local, store_.artifacts_dir(run), path);
  }

 private:
  FileStore store_;
};

std::vector<Json> read_entries(const fs::path& journal) {
  std::vector<Json> entries;
  std::ifstream in(journal);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (util::trim(line).empty()) continue;
    Json entry;
    try {
      entry = Json::parse(line);
    } catch (const std::exception&) {
      // A torn last line (a crash mid-write) is expected; anything else is corruption.
    }
    if (entry.is_object()) entries.push_back(std::move(entry));
    else util::log_warn(journal.string(), ":", n, ": skipping unreadable journal line");
  }
  return entries;
}

void replay_entry(ReplayTarget& target, const RunInfo& run, const Json& e, const fs::path& journal) {
  std::string op = e.value("op", "");
  if (op == "log_batch") {
    std::vector<MetricPoint> metrics;
    for (auto& m : util::array_member(e, "metrics")) metrics.push_back(metric_from_json(m));
    target.log_batch(run, metrics, pairs(util::object_member(e, "params")), pairs(util::object_member(e, "tags")));
  } else if (op == "update_run") {
    target.update_run(run, e.value("status", "FINISHED"), e.value("end_time", int64_t{-1}));
  } else if (op == "artifact") {
    fs::path local = e.value("local", "");
    std::error_code ec;
    if (!fs::exists(local, ec))
      util::log_warn("journaled artifact ", local.string(), " no longer exists; skipped");
    else
      target.log_artifact(run, local, e.value("path", ""));
  } else {
    util::log_warn(journal.string(), ": unknown journal entry '", op, "' skipped");
  }
}

// Appends the replayed journal to <file>.synced (kept for the record) and removes it.
fs::path archive(const fs::path& journal) {
  fs::path archived = journal;
  archived += ".synced";
  std::error_code ec;
  if (!fs::exists(archived, ec)) {
    fs::rename(journal, archived);
    return archived;
  }
  std::ofstream out(archived, std::ios::app | std::ios::binary);
  out << util::read_file(journal);
  out.close();
  fs::remove(journal, ec);
  return archived;
}

}  // namespace

SyncResult sync_journal(const fs::path& journal, const SyncOptions& options) {
  std::error_code ec;
  if (!fs::exists(journal, ec)) throw util::InputError(cat(journal.string(), ": journal not found"));
  std::vector<Json> entries = read_entries(journal);
  std::map<std::string, std::unique_ptr<ReplayTarget>> targets;  // by tracking URI
  auto target_for = [&](const std::string& recorded) -> ReplayTarget& {
    std::string uri = options.tracking_uri.empty() ? recorded : options.tracking_uri;
    auto& t = targets[uri];
    if (!t) {
      auto target = parse_tracking_uri(uri);
      if (target.kind == TrackingKind::File)
        t = std::make_unique<StoreTarget>(target.root);
      else
        t = std::make_unique<ServerTarget>(target, options);
    }
    return *t;
  };
  struct Resolved {
    Json entry;  // the "run" entry, run_id filled in
    RunInfo run;
  };
  std::map<std::string, Resolved> runs;  // by client token
  SyncResult result;
  size_t i = 0;
  try {
    for (; i < entries.size(); ++i) {
      const Json& e = entries[i];
      std::string op = e.value("op", "");
      std::string token = e.value("client_token", "");
      if (op == "run") {
        if (!runs.count(token)) {  // a resumed run's journal repeats its run entry
          Resolved r{e, target_for(e.value("tracking_uri", "")).resolve_run(e)};
          r.entry["run_id"] = r.run.run_id;
          runs[token] = r;
          result.run_ids.push_back(r.run.run_id);
          result.run_by_token[token] = r.run.run_id;
        }
        ++result.replayed;
        continue;
      }
      auto it = runs.find(token);
      if (it == runs.end()) throw util::RuntimeError(cat(journal.string(), ": entry ", i + 1, " refers to an unknown run"));
      auto& target = target_for(it->second.entry.value("tracking_uri", ""));
      const RunInfo& run = it->second.run;
      try {
        replay_entry(target, run, e, journal);
      } catch (const MlflowError& err) {
        if (!options.skip_rejected || err.transient()) throw;
        util::log_warn(journal.string(), ": entry ", i + 1, " rejected by MLflow (dropped): ", err.what());
      }
      ++result.replayed;
    }
  } catch (...) {
    // Keep what was not delivered, preceded by the run entries it needs (ids resolved).
    std::string rest;
    for (auto& [tok, r] : runs) rest += r.entry.dump() + "\n";
    for (size_t j = i; j < entries.size(); ++j)
      if (entries[j].value("op", "") != "run" || !runs.count(entries[j].value("client_token", "")))
        rest += entries[j].dump() + "\n";
    util::atomic_write_file(journal, rest);
    throw;
  }
  result.archived = archive(journal);
  return result;
}

}  // namespace robotrain::track
