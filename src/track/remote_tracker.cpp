#include "track/remote_tracker.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <thread>
#include <variant>

#include "util/azure_credential.h"
#include "track/file_tracker.h"
#include "track/journal.h"
#include "track/mlflow_client.h"
#include "track/run_context.h"
#include "track/validation.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;
using util::Json;

namespace {

struct BatchOp {
  std::vector<MetricPoint> metrics;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> tags;
};
struct UpdateOp {
  std::string status;
  int64_t end_time;
};
struct ArtifactOp {
  fs::path local;
  std::string path;
};
using Op = std::variant<BatchOp, UpdateOp, ArtifactOp>;

AccessTokenProvider token_for(const TrackingTarget& target, const TrackerOptions& options) {
  if (options.access_token || target.kind != TrackingKind::AzureMl) return options.access_token;
  return util::azure_token_provider(util::kManagementResource);
}

bool is_transient(const std::exception& e) {
  if (dynamic_cast<const util::NetworkError*>(&e)) return true;
  if (auto* m = dynamic_cast<const MlflowError*>(&e)) return m->transient();
  return false;
}

// A run on an MLflow server. The trainer's calls only append to a queue; one sender thread
// delivers it in order. When the server stays unreachable after the client's retries, the
// tracker goes offline: that call and every later one are journaled for `track sync`.
class RestTracker : public Tracker {
 public:
  RestTracker(const TrackingTarget& target, const TrackerOptions& options)
      : target_(target),
        client_access_token_(token_for(target, options)),
        client_(target.base_url, client_access_token_),
        journal_(options.journal_path.empty() ? default_journal_path() : options.journal_path),
        client_token_(util::random_uuid_hex()),
        attached_(!options.run_id.empty()) {
    experiment_name_ = options.experiment_name;
    run_name_ = options.run_name;
    start_time_ = util::now_ms();
    tags_ = default_run_tags(options.run_name, options.tags);
    // Opening may wait a little for a flaky server, but not the full retry budget.
    util::RetryPolicy opening = client_.retry_policy();
    util::RetryPolicy normal = opening;
    opening.max_retries = std::min(opening.max_retries, 3);
    client_.set_retry_policy(opening);
    try {
      if (attached_) {
        run_ = client_.get_run(options.run_id).info;
        if (!options.tags.empty()) enqueue(BatchOp{{}, {}, {options.tags.begin(), options.tags.end()}});
      } else {
        std::string exp = client_.get_or_create_experiment(experiment_name_.empty() ? "Default" : experiment_name_);
        run_ = client_.create_run(exp, run_name_, start_time_, tags_, client_token_);
      }
      util::log_info("tracking run ", run_.run_id, " on ", util::redact_url(target.base_url), " experiment ",
                     run_.experiment_id);
    } catch (const std::exception& e) {
      if (!is_transient(e)) throw;
      if (attached_) run_.run_id = options.run_id;
      go_offline(e.what());
    }
    client_.set_retry_policy(normal);
    sender_ = std::thread([this] { send_loop(); });
  }

  ~RestTracker() override { stop_sender(); }

  std::string run_id() const override { return run_.run_id; }
  std::string experiment_id() const override { return run_.experiment_id; }
  std::string tracking_uri() const override { return target_.uri; }
  std::string artifact_uri() const override { return run_.artifact_uri; }

  void log_params(const std::map<std::string, std::string>& params) override {
    for (auto& [k, v] : params) validate_key("param", k);
    enqueue(BatchOp{{}, {params.begin(), params.end()}, {}});
  }
  void set_tags(const std::map<std::string, std::string>& tags) override {
    for (auto& [k, v] : tags) validate_key("tag", k);
    enqueue(BatchOp{{}, {}, {tags.begin(), tags.end()}});
  }
  void log_metrics(const std::map<std::string, double>& metrics, int64_t step, int64_t timestamp_ms) override {
    int64_t ts = timestamp_ms ? timestamp_ms : util::now_ms();
    for (auto& [k, v] : metrics) validate_key("metric", k);
    std::lock_guard lock(mutex_);
    // Coalesce consecutive metric calls into one log-batch request.
    if (!queue_.empty() && std::holds_alternative<BatchOp>(queue_.back())) {
      auto& last = std::get<BatchOp>(queue_.back());
      if (last.params.empty() && last.tags.empty() && last.metrics.size() + metrics.size() <= kMaxMetricsPerBatch) {
        for (auto& [k, v] : metrics) last.metrics.push_back({k, v, ts, step});
        cv_.notify_all();
        return;
      }
    }
    BatchOp op;
    for (auto& [k, v] : metrics) op.metrics.push_back({k, v, ts, step});
    queue_.push_back(std::move(op));
    cv_.notify_all();
  }
  void log_artifact(const fs::path& local, const std::string& artifact_path) override {
    if (!fs::exists(local)) throw util::InputError(cat(local.string(), ": artifact to log does not exist"));
    enqueue(ArtifactOp{fs::absolute(local), artifact_path});
  }

  void flush() override {
    std::unique_lock lock(mutex_);
    cv_.notify_all();
    idle_cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
  }

  void finish(RunStatus status) override {
    {
      std::lock_guard lock(mutex_);
      if (finished_) return;
      finished_ = true;
    }
    // An Azure ML job's run belongs to the job: its status is set by the platform.
    if (!(attached_ && target_.kind == TrackingKind::AzureMl)) enqueue(UpdateOp{run_status_name(status), util::now_ms()});
    flush();
    stop_sender();
    if (offline_) try_replay_journal();
  }

 private:
  void enqueue(Op op) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(op));
    cv_.notify_all();
  }

  void send_loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      // Wait briefly so bursts of log_metrics calls coalesce into one request.
      cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) {
        idle_cv_.notify_all();
        if (stop_) return;
        continue;
      }
      Op op = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      deliver(op);
      lock.lock();
      busy_ = false;
      if (queue_.empty()) idle_cv_.notify_all();
    }
  }

  void deliver(const Op& op) {
    if (!offline_) {
      try {
        send(op);
        return;
      } catch (const std::exception& e) {
        if (!is_transient(e)) {
          util::log_warn("MLflow rejected a tracking call for run ", run_.run_id, " (dropped): ", e.what());
          return;
        }
        go_offline(e.what());
      }
    }
    journal(op);
  }

  void send(const Op& op) {
    if (auto* b = std::get_if<BatchOp>(&op)) {
      client_.log_batch(run_.run_id, b->metrics, b->params, b->tags);
    } else if (auto* u = std::get_if<UpdateOp>(&op)) {
      client_.update_run(run_.run_id, u->status, u->end_time);
    } else if (auto* a = std::get_if<ArtifactOp>(&op)) {
      client_.upload_artifacts(run_.artifact_uri, a->local, a->path);
    }
  }

  void go_offline(const std::string& why) {
    if (offline_) return;
    offline_ = true;
    util::log_warn("MLflow server ", util::redact_url(target_.base_url), " unreachable (", why, "); journaling to ",
                   journal_.path().string(), " — replay with `robotrain track sync --journal ", journal_.path().string(),
                   "`");
  }

  void journal(const Op& op) {
    try {
      if (!journal_.written()) {
        Json tags = Json::object();
        for (auto& [k, v] : tags_) tags[k] = v;
        journal_.append({{"op", "run"}, {"tracking_uri", util::redact_url(target_.uri)}, {"experiment_name", experiment_name_},
                         {"run_name", run_name_}, {"start_time", start_time_}, {"tags", tags},
                         {"client_token", client_token_}, {"run_id", run_.run_id}});
      }
      Json e{{"client_token", client_token_}};
      if (auto* b = std::get_if<BatchOp>(&op)) {
        e["op"] = "log_batch";
        e["metrics"] = Json::array();
        for (auto& m : b->metrics) e["metrics"].push_back(metric_to_json(m));
        e["params"] = Json::object();
        for (auto& [k, v] : b->params) e["params"][k] = v;
        e["tags"] = Json::object();
        for (auto& [k, v] : b->tags) e["tags"][k] = v;
      } else if (auto* u = std::get_if<UpdateOp>(&op)) {
        e["op"] = "update_run";
        e["status"] = u->status;
        e["end_time"] = u->end_time;
      } else if (auto* a = std::get_if<ArtifactOp>(&op)) {
        e["op"] = "artifact";
        e["local"] = a->local.string();
        e["path"] = a->path;
      }
      journal_.append(e);
    } catch (const std::exception& ex) {
      util::log_error("cannot journal MLflow call: ", ex.what());
    }
  }

  // At the end of an offline run, one quick attempt: if the server is back, deliver now.
  void try_replay_journal() {
    if (!journal_.written()) return;
    try {
      MlflowClient probe = client_;
      util::RetryPolicy quick = probe.retry_policy();
      quick.max_retries = 0;
      probe.set_retry_policy(quick);
      probe.search_experiments();
      SyncOptions so;
      so.access_token = client_access_token_;
      auto r = sync_journal(journal_.path(), so);
      util::log_info("MLflow server reachable again: replayed ", r.replayed, " journaled calls");
    } catch (const std::exception& e) {
      util::log_warn("MLflow calls remain journaled in ", journal_.path().string(), " (", e.what(),
                     "); replay with `robotrain track sync --journal ", journal_.path().string(), "`");
    }
  }

  void stop_sender() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (sender_.joinable()) sender_.join();
  }

  TrackingTarget target_;
  AccessTokenProvider client_access_token_;
  MlflowClient client_;
  JournalWriter journal_;
  std::string client_token_;
  bool attached_;
  std::string experiment_name_, run_name_;
  int64_t start_time_ = 0;
  std::map<std::string, std::string> tags_;
  RunInfo run_;
  std::mutex mutex_;
  std::condition_variable cv_, idle_cv_;
  std::deque<Op> queue_;
  bool busy_ = false, stop_ = false, finished_ = false;
  std::atomic<bool> offline_{false};
  std::thread sender_;
};

}  // namespace

std::unique_ptr<Tracker> open_remote_tracker(const TrackingTarget& target, const TrackerOptions& options) {
  return std::make_unique<RestTracker>(target, options);
}

}  // namespace robotrain::track
