// The remote tracker and the MLflow REST client against a real `mlflow server` (SQLite store,
// proxied artifacts), read back through MLflow's own Python client: what lands on the server
// equals what was logged, exactly once, through throttling, races, lost replies, outages and
// a server that stops answering. Faults a real server cannot produce come from a forwarding
// proxy in front of it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>

#include "support/mlflow_server.h"
#include "support/test_support.h"
#include "track/journal.h"
#include "track/mlflow_client.h"
#include "track/tracker.h"
#include "track/tracking_uri.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"

using namespace robotrain;
using namespace robotrain::track;
using robotrain::test::MlflowProxy;
using robotrain::test::TestRequest;
using robotrain::test::TestResponse;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class MlflowServerTracking : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN", "MLFLOW_RUN_ID",
                          "MLFLOW_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_CLIENT_CERT_PATH",
                          "ROBOTRAIN_HTTP_BUDGET_S"})
      ::unsetenv(v);
    ::setenv("HOME", tmp.path().c_str(), 1);  // no ~/.mlflow/credentials of the machine's user
    ASSERT_EQ(test::mlflow_missing(), "");
    ASSERT_NO_THROW(url = test::shared_mlflow_url());
    util::set_retry_sleep_scale(0.0);
  }
  void TearDown() override { util::set_retry_sleep_scale(1.0); }

  TrackerOptions options(const std::string& uri, const std::string& experiment) {
    TrackerOptions o;
    o.tracking_uri = uri;
    o.experiment_name = experiment;
    o.run_name = "job-1";
    o.journal_path = tmp.path() / "out" / ".robotrain" / "mlflow-journal.jsonl";
    return o;
  }
  MlflowClient client() { return MlflowClient::for_uri(url); }

  util::TempDir tmp;
  std::string url;
};

// What MLflow's Python client reads back (tests/peers/mlflow_inspect.py).
util::Json peer(const std::vector<std::string>& args) {
  auto r = test::run_peer_script("mlflow_inspect.py", args, {{"MLFLOW_ALLOW_FILE_STORE", "true"}}, 300);
  if (r.exit_code != 0) throw std::runtime_error("mlflow_inspect.py failed: " + r.err);
  return util::Json::parse(r.out);
}

// What a training run logs: many params (more than one batch), tags, and metric series.
struct Logged {
  std::map<std::string, std::string> params, tags;
  std::map<std::string, std::vector<std::pair<int64_t, double>>> series;  // key -> (step, value)
};

void log_steps(Tracker& t, Logged& l, int from, int to) {
  for (int s = from; s <= to; ++s) {
    std::map<std::string, double> m{{"train/loss", 1.0 / s}, {"train/grad_norm", 0.5 * s}, {"train/learning_rate", 1e-4}};
    t.log_metrics(m, s, 1700000000000 + s);
    for (auto& [k, v] : m) l.series[k].push_back({s, v});
  }
}

Logged log_training(Tracker& t, int steps) {
  Logged l;
  for (int i = 0; i < 150; ++i) l.params["p" + std::to_string(i)] = std::to_string(i * 7);
  l.params["dataset_repo_id"] = "lerobot/aloha_sim_insertion_human";
  t.log_params(l.params);
  l.tags = {{"lerobot.policy_type", "act"}, {"dataset.source", "huggingface"}};
  t.set_tags(l.tags);
  log_steps(t, l, 1, steps);
  t.set_tags({{"training_status", "completed"}});
  l.tags["training_status"] = "completed";
  return l;
}

// The run as MLflow's client sees it holds exactly what was logged: every metric point once.
void expect_run_has(const util::Json& run, const Logged& l) {
  for (auto& [k, v] : l.params) EXPECT_EQ(run["params"].value(k, "<missing>"), v) << k;
  EXPECT_EQ(run["params"].size(), l.params.size());
  for (auto& [k, v] : l.tags) EXPECT_EQ(run["tags"].value(k, "<missing>"), v) << k;
  for (auto& [k, pts] : l.series) {
    ASSERT_TRUE(run["metrics"].contains(k)) << k;
    auto& got = run["metrics"][k];
    ASSERT_EQ(got.size(), pts.size()) << k << ": lost or duplicated points";
    for (size_t i = 0; i < pts.size(); ++i) {
      EXPECT_EQ(got[i][0].get<int64_t>(), pts[i].first) << k;
      EXPECT_DOUBLE_EQ(got[i][1].get<double>(), pts[i].second) << k;
      EXPECT_EQ(got[i][2].get<int64_t>(), 1700000000000 + pts[i].first) << k;
    }
  }
}

std::string dead_url() { return "http://127.0.0.1:" + std::to_string(test::free_port()); }

}  // namespace

TEST_F(MlflowServerTracking, ServerRunEqualsWhatWasLogged) {
  std::string exp = test::unique_name("logged");
  auto opt = options(url, exp);
  auto t = open_tracker(opt);
  ASSERT_EQ(t->run_id().size(), 32u);
  auto logged = log_training(*t, 1200);
  t->finish(RunStatus::Finished);
  auto run = peer({"run", url, t->run_id()});
  expect_run_has(run, logged);
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_GT(run["end_time"].get<int64_t>(), 0);
  EXPECT_EQ(run["run_name"], "job-1");
  EXPECT_EQ(run["tags"]["mlflow.runName"], "job-1");
  EXPECT_EQ(run["tags"]["mlflow.source.type"], "LOCAL");
  EXPECT_FALSE(run["tags"]["mlflow.user"].get<std::string>().empty());
  EXPECT_EQ(run["experiment_id"], t->experiment_id());
  EXPECT_EQ(client().get_experiment_by_name(exp)->experiment_id, t->experiment_id());
  EXPECT_FALSE(fs::exists(opt.journal_path)) << "nothing journaled when the server is healthy";
  // Read back through our client as `robotrain runs show` does.
  auto rec = client().get_run(t->run_id());
  EXPECT_DOUBLE_EQ(rec.metrics.at("train/loss").value, 1.0 / 1200);
  EXPECT_EQ(client().metric_history(t->run_id(), "train/grad_norm").size(), 1200u);
}

TEST_F(MlflowServerTracking, ThrottlingAndUnavailabilityAreRetried) {
  MlflowProxy proxy(url);
  std::atomic<int> n{0};
  proxy.inject = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("log-batch") == std::string::npos) return std::nullopt;
    int i = ++n;
    if (i % 3 == 1) return TestResponse{429, {{"Retry-After", "1"}}, R"({"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow"})"};
    if (i % 3 == 2) return TestResponse{503, {{"Content-Type", "text/html"}}, "<html>proxy says no</html>"};
    return std::nullopt;
  };
  auto opt = options(proxy.url(), test::unique_name("throttled"));
  auto t = open_tracker(opt);
  auto logged = log_training(*t, 300);
  t->finish(RunStatus::Finished);
  expect_run_has(peer({"run", url, t->run_id()}), logged);
  EXPECT_GE(n.load(), 6);
  EXPECT_FALSE(fs::exists(opt.journal_path));
}

TEST_F(MlflowServerTracking, ExperimentCreationRaceResolvesToTheWinner) {
  std::string name = test::unique_name("raced");
  MlflowProxy proxy(url);
  std::atomic<bool> first_lookup{true};
  std::string winner;
  proxy.inject = [&](const TestRequest& r) -> std::optional<TestResponse> {
    // Another process creates the experiment between our get-by-name and our create.
    if (r.path.find("experiments/get-by-name") != std::string::npos && first_lookup.exchange(false)) {
      winner = test::mlflow_post(url, "experiments/create", {{"name", name}})["experiment_id"];
      return test::mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "not yet");
    }
    return std::nullopt;
  };
  EXPECT_EQ(MlflowClient::for_uri(proxy.url()).get_or_create_experiment(name), winner);
  int creates = 0;
  for (auto& r : proxy.requests()) creates += r.path.find("experiments/create") != std::string::npos;
  EXPECT_EQ(creates, 1) << "our create met RESOURCE_ALREADY_EXISTS from the real server";
}

TEST_F(MlflowServerTracking, DeletedExperimentIsAnInputError) {
  std::string name = test::unique_name("gone");
  std::string id = test::mlflow_post(url, "experiments/create", {{"name", name}})["experiment_id"];
  test::mlflow_post(url, "experiments/delete", {{"experiment_id", id}});
  EXPECT_THROW(client().get_or_create_experiment(name), util::InputError);
}

TEST_F(MlflowServerTracking, LostCreateReplyDoesNotDuplicateTheRun) {
  std::string exp = client().get_or_create_experiment(test::unique_name("lost-reply"));
  MlflowProxy proxy(url);
  std::atomic<int> lost{2};
  // The server creates the run, then the reply is lost (twice).
  proxy.after = [&](const TestRequest& r, const TestResponse&) -> std::optional<TestResponse> {
    if (r.path.find("runs/create") != std::string::npos && lost-- > 0)
      return test::mlflow_error(503, "TEMPORARILY_UNAVAILABLE", "reply lost");
    return std::nullopt;
  };
  auto run = MlflowClient::for_uri(proxy.url()).create_run(exp, "r", 123, {{"a", "b"}}, "tok-1");
  auto runs = client().search_runs({exp}, "");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(run.run_id, runs[0].info.run_id);
  EXPECT_EQ(runs[0].tags.at("robotrain_client_token"), "tok-1");
}

TEST_F(MlflowServerTracking, ErrorCodesAreClassified) {
  try {
    client().get_run("0123456789abcdef0123456789abcdef");
    FAIL() << "no such run";
  } catch (const MlflowError& e) {
    EXPECT_EQ(e.error_code(), "RESOURCE_DOES_NOT_EXIST");
    EXPECT_FALSE(e.transient());
  }
  MlflowProxy proxy(url);
  proxy.inject = [](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("runs/get") != std::string::npos)
      return test::mlflow_error(403, "PERMISSION_DENIED", "nope\nsecond line");
    return std::nullopt;
  };
  try {
    MlflowClient::for_uri(proxy.url()).get_run("x");
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_EQ(e.error_code(), "PERMISSION_DENIED");
    EXPECT_FALSE(e.transient());
    std::string what = e.what();
    EXPECT_NE(what.find("nope"), std::string::npos);
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line";
  }
}

TEST_F(MlflowServerTracking, BatchesRespectTheRealServersLimits) {
  auto c = client();
  auto run = c.create_run(c.get_or_create_experiment(test::unique_name("limits")), "", 1, {}, "t");
  std::vector<MetricPoint> ms;
  for (int i = 0; i < 2500; ++i) ms.push_back({"m", double(i), 1, i});
  std::vector<std::pair<std::string, std::string>> ps, ts;
  for (int i = 0; i < 250; ++i) ps.push_back({"p" + std::to_string(i), std::string(5000, 'x')});
  for (int i = 0; i < 120; ++i) ts.push_back({"t" + std::to_string(i), std::string(9000, 'y')});
  c.log_batch(run.run_id, ms, ps, ts);  // the server answers 400 to any oversized batch
  auto r = c.get_run(run.run_id);
  EXPECT_EQ(c.metric_history(run.run_id, "m").size(), 2500u);
  EXPECT_EQ(r.params.size(), 250u);
  EXPECT_EQ(r.params.at("p7").size(), 5000u);
  EXPECT_EQ(r.tags.at("t0").size(), 8000u) << "tag values clamped to MLflow's 8000";
}

TEST_F(MlflowServerTracking, CheckpointArtifactsComeBackByteIdentical) {
  auto t = open_tracker(options(url, test::unique_name("artifacts")));
  fs::path pm = tmp.path() / "ckpt" / "pretrained_model";
  fs::create_directories(pm);
  std::string weights(3 << 20, '\0');
  std::mt19937 rng(5);
  for (auto& c : weights) c = static_cast<char>(rng());
  util::atomic_write_file(pm / "config.json", "{\"type\":\"act\"}");
  util::atomic_write_file(pm / "model.safetensors", weights);
  t->log_artifact(tmp.path() / "ckpt", "checkpoints/000010");
  t->finish(RunStatus::Finished);
  // MLflow's client downloads exactly these bytes...
  auto run = peer({"run", url, t->run_id(), "--download", (tmp.path() / "peer").string()});
  auto& files = run["artifacts"];
  ASSERT_TRUE(files.contains("checkpoints/000010/pretrained_model/model.safetensors")) << files.dump();
  EXPECT_EQ(files["checkpoints/000010/pretrained_model/model.safetensors"]["sha256"], util::sha256_hex(weights));
  EXPECT_EQ(files["checkpoints/000010/pretrained_model/config.json"]["size"], 14);
  // ...and so does ours.
  client().download_artifacts(t->artifact_uri() + "/checkpoints/000010", tmp.path() / "down");
  EXPECT_EQ(util::read_file(tmp.path() / "down" / "pretrained_model" / "model.safetensors"), weights);
}

TEST_F(MlflowServerTracking, AttachesToMlflowRunIdFromTheEnvironment) {
  auto c = client();
  auto existing = c.create_run(c.get_or_create_experiment(test::unique_name("attach")), "job-run", 1, {}, "t");
  ::setenv("MLFLOW_RUN_ID", existing.run_id.c_str(), 1);
  auto opt = options(url, "");
  auto t = open_tracker(opt);
  ::unsetenv("MLFLOW_RUN_ID");
  EXPECT_EQ(t->run_id(), existing.run_id);
  t->log_metrics({{"m", 2.0}}, 1);
  t->finish(RunStatus::Finished);
  EXPECT_EQ(c.search_runs({existing.experiment_id}, "").size(), 1u);
  EXPECT_EQ(c.metric_history(existing.run_id, "m").size(), 1u);
}

// The server is down from the start: the run gets a client-side id, everything is journaled
// in the output directory, and `track sync` creates the run exactly as logged.
TEST_F(MlflowServerTracking, ServerDownJournalsThenSyncReplays) {
  std::string exp = test::unique_name("offline");
  auto opt = options(dead_url(), exp);
  opt.run_name = "offline-run";
  auto start = Clock::now();
  auto t = open_tracker(opt);
  std::string offline_id = t->run_id();
  EXPECT_EQ(offline_id.rfind("offline-", 0), 0u) << offline_id;
  EXPECT_EQ(offline_id.size(), 8u + 32u);
  auto logged = log_training(*t, 50);
  t->finish(RunStatus::Failed);
  EXPECT_LT(seconds_since(start), 60) << "a dead server never holds a run for long";
  ASSERT_TRUE(fs::exists(opt.journal_path));

  SyncOptions so;
  so.tracking_uri = url;
  auto result = sync_journal(opt.journal_path, so);
  ASSERT_EQ(result.run_ids.size(), 1u);
  EXPECT_EQ(result.run_by_token.at(client_token_of(offline_id)), result.run_ids[0]);
  auto run = peer({"run", url, result.run_ids[0]});
  expect_run_has(run, logged);
  EXPECT_EQ(run["status"], "FAILED");
  EXPECT_EQ(run["run_name"], "offline-run");
  EXPECT_EQ(client().get_experiment(run["experiment_id"]).name, exp);
  EXPECT_FALSE(fs::exists(opt.journal_path));
  EXPECT_TRUE(fs::exists(result.archived));
  // A second sync of the archived entries would duplicate metrics: the journal is gone instead.
  EXPECT_THROW(sync_journal(opt.journal_path, so), util::InputError);
}

// A run that started offline and is resumed (same output directory, its offline id from the
// checkpoint) continues as one run on the server: the journal goes first, then the new steps.
TEST_F(MlflowServerTracking, OfflineRunResumedOnlineIsOneRun) {
  const int port = test::free_port();
  const std::string offline_url = "http://127.0.0.1:" + std::to_string(port);
  std::string exp = test::unique_name("resumed");
  Logged logged;
  std::string offline_id;
  {
    auto t = open_tracker(options(offline_url, exp));
    offline_id = t->run_id();
    t->log_params({{"lr", "0.1"}});
    log_steps(*t, logged, 1, 5);
    t->finish(RunStatus::Killed);
  }
  // The resumed process reaches a server (the URI may change on resume: the journal goes to
  // the server the run is tracked on now).
  auto opt = options(url, exp);
  opt.run_id = offline_id;
  auto t = open_tracker(opt);
  EXPECT_EQ(t->run_id().size(), 32u) << "the server's id once the journal is replayed";
  log_steps(*t, logged, 6, 10);
  t->finish(RunStatus::Finished);
  auto found = peer({"runs", url, exp});
  ASSERT_EQ(found["runs"].size(), 1u) << "one run, not two";
  auto& run = found["runs"][0];
  EXPECT_EQ(run["run_id"], t->run_id());
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_EQ(run["params"]["lr"], "0.1");
  EXPECT_EQ(run["tags"]["robotrain_client_token"], client_token_of(offline_id));
  expect_run_has(run, Logged{{{"lr", "0.1"}}, {}, logged.series});
}

// The server goes away mid-run and comes back: the tracker journals, probes, replays the
// journal itself and carries on online. Nothing lost, nothing duplicated.
TEST_F(MlflowServerTracking, OutageMidRunReplaysWhenTheServerReturns) {
  MlflowProxy proxy(url);
  std::atomic<bool> down{false};
  proxy.inject = [&](const TestRequest&) -> std::optional<TestResponse> {
    if (down) return test::mlflow_error(503, "TEMPORARILY_UNAVAILABLE", "maintenance");
    return std::nullopt;
  };
  auto opt = options(proxy.url(), test::unique_name("outage"));
  opt.offline_probe_interval_s = 0.5;
  auto t = open_tracker(opt);
  Logged logged;
  log_steps(*t, logged, 1, 10);
  t->flush();
  down = true;
  log_steps(*t, logged, 11, 20);
  t->log_params({{"lr", "0.1"}});
  logged.params["lr"] = "0.1";
  t->flush();
  EXPECT_TRUE(fs::exists(opt.journal_path)) << "offline: the calls are on disk";
  down = false;
  for (int i = 0; i < 100 && fs::exists(opt.journal_path); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(fs::exists(opt.journal_path)) << "the tracker replayed its journal once the server answered";
  log_steps(*t, logged, 21, 30);
  t->finish(RunStatus::Finished);
  auto run = peer({"run", url, t->run_id()});
  expect_run_has(run, logged);
  EXPECT_EQ(run["status"], "FINISHED");
}

TEST_F(MlflowServerTracking, SyncFailureKeepsTheRestForNextTime) {
  fs::path j = tmp.path() / "j.jsonl";
  std::string tok = util::random_uuid_hex();
  MlflowProxy proxy(url);
  util::Json run{{"op", "run"}, {"tracking_uri", proxy.url()}, {"experiment_name", test::unique_name("sync")},
                 {"run_name", "r"}, {"start_time", 5}, {"tags", util::Json::object()}, {"client_token", tok}, {"run_id", ""}};
  util::Json b1{{"op", "log_batch"}, {"client_token", tok}, {"metrics", {{{"key", "a"}, {"value", 1.0}, {"timestamp", 1}, {"step", 1}}}},
                {"params", util::Json::object()}, {"tags", util::Json::object()}};
  util::Json b2 = b1;
  b2["metrics"][0]["step"] = 2;
  util::atomic_write_file(j, run.dump() + "\n" + b1.dump() + "\n" + b2.dump() + "\n");
  std::atomic<int> batches{0};
  proxy.inject = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("log-batch") != std::string::npos && ++batches == 2)
      return test::mlflow_error(400, "INVALID_PARAMETER_VALUE", "rejected");
    return std::nullopt;
  };
  EXPECT_THROW(sync_journal(j, {}), MlflowError);
  // The rewritten journal names the created run and holds only the undelivered batch.
  auto text = util::read_file(j);
  auto first = util::Json::parse(text.substr(0, text.find('\n')));
  std::string run_id = first["run_id"];
  ASSERT_EQ(run_id.size(), 32u);
  EXPECT_EQ(text.find("\"step\":1"), std::string::npos);
  proxy.inject = nullptr;
  auto r = sync_journal(j, {});
  EXPECT_EQ(r.run_ids, std::vector<std::string>{run_id});
  auto c = client();
  EXPECT_EQ(c.search_runs({c.get_run(run_id).info.experiment_id}, "").size(), 1u);
  EXPECT_EQ(c.metric_history(run_id, "a").size(), 2u);
}

// A server that accepts connections and never answers after the last step: finish() gives
// it finish_grace_s, journals the rest and returns; a later sync completes the run.
TEST_F(MlflowServerTracking, HangingServerAtFinishDoesNotHoldTheRun) {
  MlflowProxy proxy(url);
  std::atomic<bool> hang{false};
  proxy.hang = [&](const TestRequest&) { return hang.load(); };
  auto opt = options(proxy.url(), test::unique_name("hang"));
  opt.finish_grace_s = 2;
  auto t = open_tracker(opt);
  Logged logged;
  log_steps(*t, logged, 1, 5);
  t->flush();
  hang = true;
  log_steps(*t, logged, 6, 8);
  auto start = Clock::now();
  t->finish(RunStatus::Finished);
  EXPECT_LT(seconds_since(start), 20) << "finish must not wait on a server that never answers";
  EXPECT_GE(proxy.hung_count(), 1);
  ASSERT_TRUE(fs::exists(opt.journal_path));
  auto text = util::read_file(opt.journal_path);
  EXPECT_NE(text.find("\"update_run\""), std::string::npos) << text;
  hang = false;
  proxy.release_hung();
  SyncOptions so;
  so.tracking_uri = url;
  sync_journal(opt.journal_path, so);
  auto run = peer({"run", url, t->run_id()});
  expect_run_has(run, logged);
  EXPECT_EQ(run["status"], "FINISHED");
}

// Only the kind of server the URI names gets credentials: an http(s):// MLflow server gets
// MLflow's own variables (as mlflow.utils.credentials reads them), never an Azure token.
TEST_F(MlflowServerTracking, EachUriKindGetsItsOwnAuth) {
  MlflowProxy proxy(url);
  auto target = parse_tracking_uri(proxy.url());
  auto azure = [] { return std::string("AZURE-AD-TOKEN"); };
  auto auth_of_next = [&](const std::function<void()>& call) {
    size_t before = proxy.requests().size();
    call();
    auto reqs = proxy.requests();
    EXPECT_GT(reqs.size(), before);
    return reqs.size() > before ? reqs.back().header("authorization") : std::string("<no request>");
  };
  EXPECT_EQ(auth_of_next([&] { MlflowClient(target, azure).search_experiments(); }), "")
      << "an Azure token never goes to an MLflow server";
  ::setenv("MLFLOW_TRACKING_TOKEN", "tok123", 1);
  EXPECT_EQ(auth_of_next([&] { MlflowClient(target, azure).search_experiments(); }), "Bearer tok123");
  ::setenv("MLFLOW_TRACKING_USERNAME", "alice", 1);
  ::setenv("MLFLOW_TRACKING_PASSWORD", "s3cret", 1);
  EXPECT_EQ(auth_of_next([&] { MlflowClient(target).search_experiments(); }), "Basic YWxpY2U6czNjcmV0")
      << "Basic wins over the token, as in MLflow's client";
  ::unsetenv("MLFLOW_TRACKING_USERNAME");
  ::unsetenv("MLFLOW_TRACKING_PASSWORD");
  ::unsetenv("MLFLOW_TRACKING_TOKEN");
  // ~/.mlflow/credentials, as MLflow's client reads it.
  fs::create_directories(tmp.path() / ".mlflow");
  util::atomic_write_file(tmp.path() / ".mlflow" / "credentials",
                          "[mlflow]\nmlflow_tracking_username = bob\nmlflow_tracking_password: pw\n");
  EXPECT_EQ(auth_of_next([&] { MlflowClient(target).search_experiments(); }), "Basic " + util::base64_encode("bob:pw"));
  // The tracker too: a whole run without an Azure token reaching the server.
  auto opt = options(proxy.url(), test::unique_name("auth"));
  opt.access_token = azure;
  auto t = open_tracker(opt);
  t->log_metrics({{"m", 1}}, 1);
  t->finish(RunStatus::Finished);
  for (auto& r : proxy.requests()) EXPECT_EQ(r.header("authorization").find("AZURE"), std::string::npos) << r.target;
  // Settings MLflow's client refuses are refused before any request.
  ::setenv("MLFLOW_TRACKING_INSECURE_TLS", "yes", 1);
  EXPECT_THROW(MlflowClient{target}, util::InputError);
  ::setenv("MLFLOW_TRACKING_INSECURE_TLS", "true", 1);
  ::setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", (tmp.path() / ".mlflow" / "credentials").c_str(), 1);
  EXPECT_THROW(MlflowClient{target}, util::InputError);
  ::unsetenv("MLFLOW_TRACKING_INSECURE_TLS");
  ::setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", (tmp.path() / "missing.pem").c_str(), 1);
  EXPECT_THROW(MlflowClient{target}, util::InputError);
  ::unsetenv("MLFLOW_TRACKING_SERVER_CERT_PATH");
}

// Interactive reads give up within their budget, with one line that names the attempts.
TEST_F(MlflowServerTracking, InteractiveReadsGiveUpWithinTheirBudget) {
  util::set_retry_sleep_scale(1.0);
  ::setenv("ROBOTRAIN_HTTP_BUDGET_S", "4", 1);
  auto dead = MlflowClient::for_uri(dead_url());
  dead.make_interactive();
  auto start = Clock::now();
  try {
    dead.search_experiments();
    FAIL() << "nothing listens there";
  } catch (const RetriesExhausted& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("retries exhausted"), std::string::npos) << what;
    EXPECT_NE(what.find("attempts"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_LT(seconds_since(start), 6);
  // A server that accepts and never answers is bounded the same way.
  MlflowProxy proxy(url);
  proxy.hang = [](const TestRequest&) { return true; };
  auto hung = MlflowClient::for_uri(proxy.url());
  hung.make_interactive();
  start = Clock::now();
  EXPECT_THROW(hung.search_experiments(), RetriesExhausted);
  EXPECT_LT(seconds_since(start), 8);
  proxy.release_hung();
  ::setenv("ROBOTRAIN_HTTP_BUDGET_S", "soon", 1);
  EXPECT_THROW(dead.make_interactive(), util::InputError);
}

// TLS as MLflow's client configures it: the server's certificate is verified against the
// system's CAs, or MLFLOW_TRACKING_SERVER_CERT_PATH; MLFLOW_TRACKING_INSECURE_TLS=true skips it.
TEST_F(MlflowServerTracking, TlsSettingsAreMlflowsOwn) {
  std::vector<std::string> argv{test::peer_python(), test::source_dir() + "/tests/peers/mlflow_tls_proxy.py",
                                tmp.path().string(), url};
  util::ChildProcess tls(argv);
  std::string line = tls.read_line(60);
  ASSERT_EQ(line.rfind("PORT ", 0), 0u) << line;
  const std::string https = "https://127.0.0.1:" + line.substr(5);
  ::setenv("ROBOTRAIN_HTTP_BUDGET_S", "2", 1);
  auto reads = [&] {
    auto c = MlflowClient::for_uri(https);
    c.make_interactive();
    return c.get_or_create_experiment(test::unique_name("tls"));
  };
  EXPECT_THROW(reads(), RetriesExhausted) << "a self-signed certificate is not trusted by default";
  ::setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", (tmp.path() / "cert.pem").c_str(), 1);
  EXPECT_NO_THROW(reads());
  ::unsetenv("MLFLOW_TRACKING_SERVER_CERT_PATH");
  ::setenv("MLFLOW_TRACKING_INSECURE_TLS", "true", 1);
  EXPECT_NO_THROW(reads());
  ::unsetenv("MLFLOW_TRACKING_INSECURE_TLS");
}
