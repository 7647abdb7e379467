#include "track/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>

#include "track/mlflow_client.h"
#include "track/tracking_uri.h"
#include "util/azure_credential.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;
using util::Json;

fs::path default_journal_path() { return fs::current_path() / ".robotrain" / "mlflow-journal.jsonl"; }

void JournalWriter::append(const Json& entry) {
  std::lock_guard lock(mutex_);
  if (!path_.parent_path().empty()) fs::create_directories(path_.parent_path());
  std::string line = entry.dump() + "\n";
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw util::RuntimeError(cat(path_.string(), ": cannot open MLflow journal (", std::strerror(errno), ")"));
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw util::RuntimeError(cat(path_.string(), ": cannot write MLflow journal (", std::strerror(errno), ")"));
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  written_ = true;
}

namespace {

std::vector<std::pair<std::string, std::string>> pairs(const Json& obj) {
  std::vector<std::pair<std::string, std::string>> out;
  if (obj.is_object())
    for (auto& [k, v] : obj.items()) out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

struct RunTarget {
  Json entry;  // the "run" entry (run_id filled in once known)
  std::string run_id;
  std::string artifact_uri;
};

}  // namespace

SyncResult sync_journal(const fs::path& journal, const SyncOptions& options) {
  if (!fs::exists(journal)) throw util::InputError(cat(journal.string(), ": journal not found"));
  std::vector<Json> entries;
  {
    std::ifstream in(journal);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (util::trim(line).empty()) continue;
      try {
        entries.push_back(Json::parse(line));
      } catch (const std::exception&) {
        // A torn last line (crash mid-write) is expected; anything else is corruption.
        util::log_warn(journal.string(), ":", n, ": skipping unreadable journal line");
      }
    }
  }
  std::map<std::string, std::unique_ptr<MlflowClient>> clients;  // by tracking URI
  std::map<std::string, RunTarget> runs;                        // by client token
  auto client_for = [&](const std::string& recorded) -> MlflowClient& {
    std::string uri = options.tracking_uri.empty() ? recorded : options.tracking_uri;
    auto& c = clients[uri];
    if (!c) {
      auto target = parse_tracking_uri(uri);
      if (target.kind == TrackingKind::File)
        throw util::InputError(cat("journal target ", util::redact_url(uri), " is a local store; pass --tracking-uri http(s)://… or azureml://…"));
      AccessTokenProvider token = options.access_token;
      if (target.kind == TrackingKind::AzureMl && !token) token = util::azure_token_provider(util::kManagementResource);
      c = std::make_unique<MlflowClient>(target.base_url, token);
    }
    return *c;
  };
  SyncResult result;
  size_t i = 0;
  try {
    for (; i < entries.size(); ++i) {
      const Json& e = entries[i];
      std::string op = e.value("op", "");
      std::string token = e.value("client_token", "");
      if (op == "run") {
        RunTarget t;
        t.entry = e;
        t.run_id = e.value("run_id", "");
        auto& client = client_for(e.value("tracking_uri", ""));
        if (t.run_id.empty()) {
          std::string exp = client.get_or_create_experiment(e.value("experiment_name", "Default").empty()
                                                                ? "Default"
                                                                : e.value("experiment_name", "Default"));
          std::map<std::string, std::string> tags;
          for (auto& [k, v] : pairs(e.value("tags", Json::object()))) tags[k] = v;
          auto existing = client.find_run_by_client_token(exp, token);
          RunInfo info = existing ? *existing
                                  : client.create_run(exp, e.value("run_name", ""), e.value("start_time", util::now_ms()),
                                                      tags, token);
          t.run_id = info.run_id;
          t.artifact_uri = info.artifact_uri;
          t.entry["run_id"] = t.run_id;
        } else {
          t.artifact_uri = client.get_run(t.run_id).info.artifact_uri;
        }
        runs[token] = t;
        result.run_ids.push_back(t.run_id);
        ++result.replayed;
        continue;
      }
      auto it = runs.find(token);
      if (it == runs.end()) throw util::RuntimeError(cat(journal.string(), ": entry ", i + 1, " refers to an unknown run"));
      auto& client = client_for(it->second.entry.value("tracking_uri", ""));
      const std::string& run_id = it->second.run_id;
      if (op == "log_batch") {
        std::vector<MetricPoint> metrics;
        for (auto& m : e.value("metrics", Json::array())) metrics.push_back(metric_from_json(m));
        client.log_batch(run_id, metrics, pairs(e.value("params", Json::object())), pairs(e.value("tags", Json::object())));
      } else if (op == "update_run") {
        client.update_run(run_id, e.value("status", "FINISHED"), e.value("end_time", int64_t{-1}));
      } else if (op == "artifact") {
        fs::path local = e.value("local", "");
        if (!fs::exists(local))
          util::log_warn("journaled artifact ", local.string(), " no longer exists; skipped");
        else
          client.upload_artifacts(it->second.artifact_uri, local, e.value("path", ""));
      } else {
        util::log_warn(journal.string(), ": unknown journal entry '", op, "' skipped");
      }
      ++result.replayed;
    }
  } catch (...) {
    // Keep what was not delivered, preceded by the run entries it needs (ids resolved).
    std::string rest;
    for (auto& [tok, t] : runs) rest += t.entry.dump() + "\n";
    for (size_t j = i; j < entries.size(); ++j)
      if (entries[j].value("op", "") != "run" || !runs.count(entries[j].value("client_token", "")))
        rest += entries[j].dump() + "\n";
    util::atomic_write_file(journal, rest);
    throw;
  }
  result.archived = journal;
  result.archived += ".synced";
  fs::rename(journal, result.archived);
  return result;
}

}  // namespace robotrain::track
