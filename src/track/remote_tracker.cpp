#include "track/remote_tracker.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>
#include <variant>

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
using Clock = std::chrono::steady_clock;

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

// Opening waits a little for a flaky server, never long: training should start.
constexpr double kOpenBudgetS = 20;
// Once running, a call is retried for about 15 s (2, 4, 8 s) before the tracker goes offline:
// from then on the journal holds every call on disk (not in memory, where a crash would lose
// them) and the server is probed every offline_probe_interval_s until it answers. Short
// sleeps also keep finish() prompt: it abandons a call between two attempts.
constexpr int kOnlineRetries = 3;
constexpr double kOnlineMaxDelayS = 8;

bool is_transient(const std::exception& e) {
  if (dynamic_cast<const util::NetworkError*>(&e)) return true;
  if (auto* m = dynamic_cast<const MlflowError*>(&e)) return m->transient();
  return false;
}

// A run on an MLflow server. The trainer's calls only append to a queue; one sender thread
// delivers it in order. When the server stays unreachable, the tracker goes offline: that
// call and every later one are journaled (OUTPUT/.robotrain/mlflow-journal.jsonl for a
// training run), the server is probed every offline_probe_interval_s, and once it answers the
// journal is replayed and the tracker carries on online. A run created while offline has a
// client-side id (offline-<token>) until the replay maps it to the server's.
class RestTracker : public Tracker {
 public:
  RestTracker(const TrackingTarget& target, const TrackerOptions& options)
      : target_(target),
        azure_token_(target.kind == TrackingKind::AzureMl ? options.access_token : AccessTokenProvider{}),
        client_(target, azure_token_),
        journal_(options.journal_path.empty() ? default_journal_path() : options.journal_path),
        probe_interval_s_(options.offline_probe_interval_s),
        finish_grace_s_(options.finish_grace_s) {
    experiment_name_ = options.experiment_name.empty() ? "Default" : options.experiment_name;
    run_name_ = options.run_name;
    start_time_ = util::now_ms();
    tags_ = default_run_tags(options.run_name, options.tags);
    client_token_ = client_token_of(options.run_id);
    resumes_offline_run_ = !client_token_.empty();
    attached_ = !options.run_id.empty() && !resumes_offline_run_;
    if (client_token_.empty()) client_token_ = util::random_uuid_hex();
    client_.set_cancel([this] { return cancel_.load(); });
    open(options);
    util::RetryPolicy running = client_.retry_policy();
    running.max_retries = kOnlineRetries;
    running.max_delay_s = kOnlineMaxDelayS;
    client_.set_retry_policy(running);
    sender_ = std::thread([this] { send_loop(); });
  }

  ~RestTracker() override { stop_sender(); }

  std::string run_id() const override {
    std::lock_guard lock(run_mutex_);
    return run_.run_id.empty() ? client_run_id(client_token_) : run_.run_id;
  }
  std::string experiment_id() const override {
    std::lock_guard lock(run_mutex_);
    return run_.experiment_id;
  }
  std::string tracking_uri() const override { return target_.uri; }
  std::string artifact_uri() const override {
    std::lock_guard lock(run_mutex_);
    return run_.artifact_uri;
  }

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

  // Never waits out the retry budget: what the server has not taken within finish_grace_s
  // (a dead server, or one that accepts and never answers) is journaled, one quick attempt
  // replays it if the server is back, and otherwise the replay command is printed.
  void finish(RunStatus status) override {
    {
      std::lock_guard lock(mutex_);
      if (finished_) return;
      finished_ = true;
    }
    // An Azure ML job's run belongs to the job: its status is set by the platform.
    if (!(attached_ && target_.kind == TrackingKind::AzureMl)) enqueue(UpdateOp{run_status_name(status), util::now_ms()});
    finishing_ = true;
    if (!wait_idle(finish_grace_s_)) {
      util::log_warn("MLflow server ", util::redact_url(target_.base_url), " has not taken the last tracking calls in ",
                     finish_grace_s_, " s; journaling them");
      cancel_ = true;
      wait_idle(60);  // cancellation is polled about once a second
    }
    stop_sender();
    cancel_ = false;
    if (!offline_) return;
    if (client_.reachable(3) && replay_journal(15)) return;
    util::log_warn("MLflow calls of run ", run_id(), " remain journaled in ", journal_.path().string(),
                   "; replay them with `robotrain track sync --journal ", journal_.path().string(), "`");
  }

 private:
  void open(const TrackerOptions& options) {
    client_.set_budget_s(kOpenBudgetS);
    try {
      // A resumed run may have left calls behind: they go first, so the run continues in order.
      if (journal_.exists() && !replay_journal(kOpenBudgetS)) throw util::NetworkError("journal replay failed");
      RunInfo run;
      if (attached_) {
        run = client_.get_run(options.run_id).info;
      } else if (resumes_offline_run_) {
        run = resumed_offline_run();
      } else {
        run = client_.create_run(client_.get_or_create_experiment(experiment_name_), run_name_, start_time_, tags_,
                                 client_token_);
      }
      set_run(run);
      // A run continued by another process runs again (as mlflow.start_run(run_id) does); an
      // Azure ML job's run belongs to the platform.
      if ((attached_ || resumes_offline_run_) && target_.kind != TrackingKind::AzureMl)
        enqueue(UpdateOp{"RUNNING", -1});
      if (attached_ && !options.tags.empty()) enqueue(BatchOp{{}, {}, {options.tags.begin(), options.tags.end()}});
      util::log_info("tracking run ", run.run_id, " on ", util::redact_url(target_.base_url), " experiment ",
                     run.experiment_id);
    } catch (const std::exception& e) {
      if (!is_transient(e)) throw;
      if (attached_) {
        RunInfo known;
        known.run_id = options.run_id;
        set_run(known);
      }
      go_offline(e.what());
    }
    client_.set_budget_s(0);
  }

  // The run an offline-<token> id names: known from the journal just replayed, else the run
  // tagged with the token (in this experiment, else in any), else a new one with that token.
  RunInfo resumed_offline_run() {
    if (!known_run_id().empty()) return client_.get_run(known_run_id()).info;
    std::string exp = client_.get_or_create_experiment(experiment_name_);
    if (auto found = client_.find_run_by_client_token(exp, client_token_)) return *found;
    std::vector<std::string> all;
    for (auto& e : client_.search_experiments())
      if (e.lifecycle_stage == "active" && e.experiment_id != exp) all.push_back(e.experiment_id);
    if (!all.empty()) {
      auto runs = client_.search_runs(all, "tags.robotrain_client_token = " + mlflow_quote(client_token_), 1);
      if (!runs.empty()) return runs.front().info;
    }
    return client_.create_run(exp, run_name_, start_time_, tags_, client_token_);
  }

  void set_run(const RunInfo& run) {
    std::lock_guard lock(run_mutex_);
    run_ = run;
  }
  std::string known_run_id() const {
    std::lock_guard lock(run_mutex_);
    return run_.run_id;
  }

  void enqueue(Op op) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(op));
    cv_.notify_all();
  }

  // Waits until the sender has delivered or journaled everything queued; false on timeout.
  bool wait_idle(double timeout_s) {
    std::unique_lock lock(mutex_);
    cv_.notify_all();
    return idle_cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [this] { return queue_.empty() && !busy_; });
  }

  void send_loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      // Wait briefly so bursts of log_metrics calls coalesce into one request.
      cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_ || !queue_.empty(); });
      if (offline_ && !finishing_ && Clock::now() >= next_probe_) {
        busy_ = true;
        lock.unlock();
        try_go_online();
        lock.lock();
        busy_ = false;
      }
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
          util::log_warn("MLflow rejected a tracking call for run ", known_run_id(), " (dropped): ", e.what());
          return;
        }
        go_offline(e.what());
      }
    }
    journal(op);
  }

  void send(const Op& op) {
    const std::string id = known_run_id();
    if (auto* b = std::get_if<BatchOp>(&op)) {
      client_.log_batch(id, b->metrics, b->params, b->tags);
    } else if (auto* u = std::get_if<UpdateOp>(&op)) {
      client_.update_run(id, u->status, u->end_time);
    } else if (auto* a = std::get_if<ArtifactOp>(&op)) {
      client_.upload_artifacts(artifact_uri(), a->local, a->path);
    }
  }

  void go_offline(const std::string& why) {
    next_probe_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(probe_interval_s_));
    if (offline_.exchange(true)) return;
    util::log_warn("MLflow server ", util::redact_url(target_.base_url), " unreachable (", why, "); journaling run ",
                   run_id(), " to ", journal_.path().string(), " and replaying it when the server answers again (else: ",
                   "`robotrain track sync --journal ", journal_.path().string(), "`)");
  }

  // Offline: is the server back? Then replay the journal and carry on online.
  void try_go_online() {
    next_probe_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(probe_interval_s_));
    if (!client_.reachable(5)) return;
    if (!replay_journal(30)) return;
    if (known_run_id().empty()) {
      // Nothing was journaled yet (the run was never seen): create it now.
      try {
        std::string exp = client_.get_or_create_experiment(experiment_name_);
        auto existing = client_.find_run_by_client_token(exp, client_token_);
        set_run(existing ? *existing : client_.create_run(exp, run_name_, start_time_, tags_, client_token_));
      } catch (const std::exception& e) {
        util::log_debug("MLflow server answers but the run cannot be created yet: ", e.what());
        return;
      }
    }
    offline_ = false;
    util::log_info("MLflow server ", util::redact_url(target_.base_url), " reachable again: tracking run ", known_run_id(),
                   " online");
  }

  // Delivers the journal (if any); learns the run's server id when the run was created
  // offline. budget_s bounds each MLflow call (0: the client's policy). False on failure.
  bool replay_journal(double budget_s) {
    if (!journal_.exists()) return true;
    SyncOptions so;
    so.tracking_uri = target_.uri;  // the server this run is tracked on now (a resume may name another)
    so.access_token = azure_token_;
    so.budget_s = budget_s;
    so.cancelled = [this] { return cancel_.load(); };
    so.skip_rejected = true;  // as online: a call the server refuses for good is dropped, with a warning
    try {
      auto r = sync_journal(journal_.path(), so);
      std::string note;
      if (auto it = r.run_by_token.find(client_token_); it != r.run_by_token.end() && known_run_id() != it->second) {
        note = cat(" (run ", client_run_id(client_token_), " is MLflow run ", it->second, ")");
        set_run(client_.get_run(it->second).info);
      }
      util::log_info("MLflow server ", util::redact_url(target_.base_url), ": replayed ", r.replayed,
                     " journaled calls from ", journal_.path().string(), note);
      return true;
    } catch (const std::exception& e) {
      util::log_warn("replaying ", journal_.path().string(), " failed (", e.what(), "); the rest stays journaled");
      return false;
    }
  }

  void journal(const Op& op) {
    try {
      Json tags = Json::object();
      for (auto& [k, v] : tags_) tags[k] = v;
      // Never user:password@ or a query in a file: the replay authenticates with MLflow's
      // variables (or the Azure chain).
      Json header{{"op", "run"}, {"tracking_uri", util::redact_url(target_.uri)}, {"experiment_name", experiment_name_},
                  {"run_name", run_name_}, {"start_time", start_time_}, {"tags", tags},
                  {"client_token", client_token_}, {"run_id", known_run_id()}};
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
      journal_.append(e, header);
    } catch (const std::exception& ex) {
      util::log_error("cannot journal MLflow call: ", ex.what());
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
  AccessTokenProvider azure_token_;
  MlflowClient client_;
  JournalWriter journal_;
  double probe_interval_s_, finish_grace_s_;
  std::string client_token_;
  bool attached_ = false, resumes_offline_run_ = false;
  std::string experiment_name_, run_name_;
  int64_t start_time_ = 0;
  std::map<std::string, std::string> tags_;
  mutable std::mutex run_mutex_;
  RunInfo run_;
  std::mutex mutex_;
  std::condition_variable cv_, idle_cv_;
  std::deque<Op> queue_;
  bool busy_ = false, stop_ = false, finished_ = false;
  std::atomic<bool> offline_{false}, finishing_{false}, cancel_{false};
  Clock::time_point next_probe_{};
  std::thread sender_;
};

}  // namespace

std::unique_ptr<Tracker> open_remote_tracker(const TrackingTarget& target, const TrackerOptions& options) {
  return std::make_unique<RestTracker>(target, options);
}

}  // namespace robotrain::track
