// The remote tracker against an in-process MLflow-protocol server: what lands on the server
// equals what was logged, through throttling, races, lost replies and outages.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "fake_mlflow.h"
#include "track/journal.h"
#include "track/mlflow_client.h"
#include "track/tracker.h"
#include "track/tracking_uri.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"

using namespace robotrain;
using namespace robotrain::track;
using robotrain::test::FakeMlflow;
using robotrain::test::TestRequest;
using robotrain::test::TestResponse;
namespace fs = std::filesystem;

namespace {

class RestTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    util::set_retry_sleep_scale(0.0);
    ::unsetenv("MLFLOW_TRACKING_USERNAME");
    ::unsetenv("MLFLOW_TRACKING_PASSWORD");
    ::unsetenv("MLFLOW_TRACKING_TOKEN");
    ::unsetenv("MLFLOW_RUN_ID");
  }
  void TearDown() override { util::set_retry_sleep_scale(1.0); }
  util::TempDir tmp;
};

// What a training run logs: many params (more than one batch), tags, and metric series.
struct Logged {
  std::map<std::string, std::string> params, tags;
  std::map<std::string, std::vector<std::pair<int64_t, double>>> series;  // key -> (step, value)
};

Logged log_training(Tracker& t, int steps) {
  Logged l;
  for (int i = 0; i < 150; ++i) l.params["p" + std::to_string(i)] = std::to_string(i * 7);
  l.params["dataset_repo_id"] = "lerobot/aloha_sim_insertion_human";
  t.log_params(l.params);
  l.tags = {{"lerobot.policy_type", "act"}, {"dataset.source", "huggingface"}};
  t.set_tags(l.tags);
  for (int s = 1; s <= steps; ++s) {
    std::map<std::string, double> m{{"train/loss", 1.0 / s}, {"train/grad_norm", 0.5 * s}, {"train/learning_rate", 1e-4}};
    t.log_metrics(m, s, 1700000000000 + s);
    for (auto& [k, v] : m) l.series[k].push_back({s, v});
  }
  t.set_tags({{"training_status", "completed"}});
  l.tags["training_status"] = "completed";
  return l;
}

void expect_server_has(const test::FakeRun& run, const Logged& l) {
  for (auto& [k, v] : l.params) EXPECT_EQ(run.params.count(k) ? run.params.at(k) : "<missing>", v) << k;
  EXPECT_EQ(run.params.size(), l.params.size());
  for (auto& [k, v] : l.tags) EXPECT_EQ(run.tags.count(k) ? run.tags.at(k) : "<missing>", v) << k;
  for (auto& [k, pts] : l.series) {
    ASSERT_TRUE(run.metrics.count(k)) << k;
    auto& got = run.metrics.at(k);
    ASSERT_EQ(got.size(), pts.size()) << k;
    for (size_t i = 0; i < pts.size(); ++i) {
      EXPECT_EQ(got[i]["step"].get<int64_t>(), pts[i].first);
      EXPECT_DOUBLE_EQ(got[i]["value"].get<double>(), pts[i].second);
      EXPECT_EQ(got[i]["timestamp"].get<int64_t>(), 1700000000000 + pts[i].first);
    }
  }
}

}  // namespace

TEST_F(RestTrackerTest, ServerRunEqualsWhatWasLogged) {
  FakeMlflow server;
  TrackerOptions opt;
  opt.tracking_uri = server.url();
  opt.experiment_name = "lerobot-act-job";
  opt.run_name = "job-1";
  opt.journal_path = tmp.path() / "journal.jsonl";
  auto t = open_tracker(opt);
  ASSERT_EQ(t->run_id().size(), 32u);
  auto logged = log_training(*t, 1200);
  t->finish(RunStatus::Finished);
  auto run = server.run(t->run_id());
  expect_server_has(run, logged);
  EXPECT_EQ(run.status, "FINISHED");
  EXPECT_GT(run.end_time, 0);
  EXPECT_EQ(run.run_name, "job-1");
  EXPECT_EQ(run.tags.at("mlflow.runName"), "job-1");
  EXPECT_EQ(run.tags.at("mlflow.source.type"), "LOCAL");
  EXPECT_FALSE(run.tags.at("mlflow.user").empty());
  EXPECT_EQ(server.experiments[run.experiment_id].first, "lerobot-act-job");
  EXPECT_FALSE(fs::exists(opt.journal_path)) << "nothing journaled when the server is healthy";
  // Read back through the client as `robotrain runs show` does.
  MlflowClient client(server.url());
  auto rec = client.get_run(t->run_id());
  EXPECT_DOUBLE_EQ(rec.metrics.at("train/loss").value, 1.0 / 1200);
  EXPECT_EQ(client.metric_history(t->run_id(), "train/grad_norm").size(), 1200u);
}

TEST_F(RestTrackerTest, ThrottlingAndUnavailabilityAreRetried) {
  FakeMlflow server;
  std::atomic<int> n{0};
  server.inject = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("log-batch") == std::string::npos) return std::nullopt;
    int i = ++n;
    if (i % 3 == 1) return TestResponse{429, {{"Retry-After", "1"}}, R"({"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow"})"};
    if (i % 3 == 2) return TestResponse{503, {{"Content-Type", "text/html"}}, "<html>proxy says no</html>"};
    return std::nullopt;
  };
  TrackerOptions opt;
  opt.tracking_uri = server.url();
  opt.experiment_name = "e";
  opt.journal_path = tmp.path() / "j.jsonl";
  auto t = open_tracker(opt);
  auto logged = log_training(*t, 300);
  t->finish(RunStatus::Finished);
  expect_server_has(server.run(t->run_id()), logged);
  EXPECT_GE(n.load(), 6);
  EXPECT_FALSE(fs::exists(opt.journal_path));
}

TEST_F(RestTrackerTest, ExperimentCreationRaceResolvesToTheWinner) {
  FakeMlflow server;
  std::atomic<bool> first_lookup{true};
  server.inject = [&](const TestRequest& r) -> std::optional<TestResponse> {
    // Another process creates the experiment between our get-by-name and our create.
    if (r.path.find("experiments/get-by-name") != std::string::npos && first_lookup.exchange(false)) {
      std::lock_guard lock(server.mutex);
      server.experiments["77"] = {"shared", "active"};
      return test::mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "not yet");
    }
    return std::nullopt;
  };
  MlflowClient client(server.url());
  EXPECT_EQ(client.get_or_create_experiment("shared"), "77");
  int creates = 0;
  for (auto& r : server.requests()) creates += r.path.find("experiments/create") != std::string::npos;
  EXPECT_EQ(creates, 1);
  EXPECT_EQ(server.experiments.size(), 2u);
}

TEST_F(RestTrackerTest, DeletedExperimentIsAnInputError) {
  FakeMlflow server;
  server.experiments["5"] = {"gone", "deleted"};
  MlflowClient client(server.url());
  EXPECT_THROW(client.get_or_create_experiment("gone"), util::InputError);
}

TEST_F(RestTrackerTest, LostCreateReplyDoesNotDuplicateTheRun) {
  FakeMlflow server;
  server.create_then_fail = 2;
  MlflowClient client(server.url());
  auto run = client.create_run("0", "r", 123, {{"a", "b"}}, "tok-1");
  EXPECT_EQ(server.runs.size(), 1u);
  EXPECT_EQ(run.run_id, server.runs.begin()->first);
  EXPECT_EQ(server.runs.begin()->second.tags.at("robotrain_client_token"), "tok-1");
}

TEST_F(RestTrackerTest, ErrorCodesAreClassified) {
  FakeMlflow server;
  server.inject = [](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("runs/get") != std::string::npos) return test::mlflow_error(403, "PERMISSION_DENIED", "nope");
    return std::nullopt;
  };
  MlflowClient client(server.url());
  try {
    client.get_run("x");
    FAIL();
  } catch (const MlflowError& e) {
    EXPECT_EQ(e.error_code(), "PERMISSION_DENIED");
    EXPECT_FALSE(e.transient());
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
}

TEST_F(RestTrackerTest, BasicAndBearerAuth) {
  FakeMlflow server;
  ::setenv("MLFLOW_TRACKING_USERNAME", "alice", 1);
  ::setenv("MLFLOW_TRACKING_PASSWORD", "s3cret", 1);
  MlflowClient basic(server.url());
  basic.search_experiments();
  ::unsetenv("MLFLOW_TRACKING_USERNAME");
  ::unsetenv("MLFLOW_TRACKING_PASSWORD");
  ::setenv("MLFLOW_TRACKING_TOKEN", "tok123", 1);
  MlflowClient bearer(server.url());
  bearer.search_experiments();
  ::unsetenv("MLFLOW_TRACKING_TOKEN");
  MlflowClient injected(server.url(), [] { return std::string("aad-token"); });
  injected.search_experiments();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].header("authorization"), "Basic YWxpY2U6czNjcmV0");
  EXPECT_EQ(reqs[1].header("authorization"), "Bearer tok123");
  EXPECT_EQ(reqs[2].header("authorization"), "Bearer aad-token");
}

TEST_F(RestTrackerTest, AzureMlUriIsCalledAsHttpsWithTheInjectedToken) {
  // azureml:// maps to https://…; the test cannot serve TLS, so check the mapping and that a
  // missing token provider is not silently ignored by the client.
  auto t = parse_tracking_uri(
      "azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/rg/providers/"
      "Microsoft.MachineLearningServices/workspaces/ws");
  EXPECT_EQ(t.base_url.rfind("https://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/s/", 0), 0u);
}

TEST_F(RestTrackerTest, AttachesToMlflowRunIdFromTheEnvironment) {
  FakeMlflow server;
  MlflowClient client(server.url());
  auto existing = client.create_run("0", "job-run", 1, {}, "t");
  ::setenv("MLFLOW_RUN_ID", existing.run_id.c_str(), 1);
  TrackerOptions opt;
  opt.tracking_uri = server.url();
  opt.journal_path = tmp.path() / "j.jsonl";
  auto t = open_tracker(opt);
  ::unsetenv("MLFLOW_RUN_ID");
  EXPECT_EQ(t->run_id(), existing.run_id);
  t->log_metrics({{"m", 2.0}}, 1);
  t->finish(RunStatus::Finished);
  EXPECT_EQ(server.runs.size(), 1u);
  EXPECT_EQ(server.run(existing.run_id).metrics.at("m").size(), 1u);
}

TEST_F(RestTrackerTest, ServerDownJournalsThenSyncReplays) {
  std::string url;
  {
    FakeMlflow gone;
    url = gone.url();
  }  // nothing listens there any more: connection refused
  TrackerOptions opt;
  opt.tracking_uri = url;
  opt.experiment_name = "offline-exp";
  opt.run_name = "offline-run";
  opt.journal_path = tmp.path() / ".robotrain" / "mlflow-journal.jsonl";
  auto t = open_tracker(opt);
  EXPECT_EQ(t->run_id(), "") << "no run id until the server has seen the run";
  auto logged = log_training(*t, 50);
  t->finish(RunStatus::Failed);
  ASSERT_TRUE(fs::exists(opt.journal_path));

  FakeMlflow server;
  SyncOptions so;
  so.tracking_uri = server.url();
  auto result = sync_journal(opt.journal_path, so);
  ASSERT_EQ(result.run_ids.size(), 1u);
  auto run = server.run(result.run_ids[0]);
  expect_server_has(run, logged);
  EXPECT_EQ(run.status, "FAILED");
  EXPECT_EQ(run.run_name, "offline-run");
  EXPECT_EQ(server.experiments[run.experiment_id].first, "offline-exp");
  EXPECT_FALSE(fs::exists(opt.journal_path));
  EXPECT_TRUE(fs::exists(result.archived));
  // A second sync of the archived file would duplicate metrics: the journal is gone instead.
  EXPECT_THROW(sync_journal(opt.journal_path, so), util::InputError);
}

TEST_F(RestTrackerTest, OutageMidRunJournalsAndReplaysWhenServerReturns) {
  FakeMlflow server;
  std::atomic<bool> down{false};
  server.inject = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (down) return test::mlflow_error(503, "TEMPORARILY_UNAVAILABLE", "maintenance");
    return std::nullopt;
  };
  TrackerOptions opt;
  opt.tracking_uri = server.url();
  opt.journal_path = tmp.path() / "j.jsonl";
  auto t = open_tracker(opt);
  t->log_metrics({{"loss", 1.0}}, 1, 1700000000001);
  t->flush();
  down = true;
  t->log_metrics({{"loss", 0.5}}, 2, 1700000000002);
  t->log_params({{"lr", "0.1"}});
  t->flush();
  EXPECT_TRUE(fs::exists(opt.journal_path));
  down = false;  // back before the end: finish replays the journal itself
  t->finish(RunStatus::Finished);
  auto run = server.run(t->run_id());
  ASSERT_EQ(run.metrics.at("loss").size(), 2u);
  EXPECT_EQ(run.metrics.at("loss")[1]["step"].get<int64_t>(), 2);
  EXPECT_EQ(run.params.at("lr"), "0.1");
  EXPECT_EQ(run.status, "FINISHED");
  EXPECT_FALSE(fs::exists(opt.journal_path));
}

TEST_F(RestTrackerTest, SyncFailureKeepsTheRestForNextTime) {
  FakeMlflow server;
  util::TempDir dir;
  fs::path j = dir.path() / "j.jsonl";
  std::string tok = "abc";
  util::Json run{{"op", "run"}, {"tracking_uri", server.url()}, {"experiment_name", "x"}, {"run_name", "r"},
                 {"start_time", 5}, {"tags", util::Json::object()}, {"client_token", tok}, {"run_id", ""}};
  util::Json b1{{"op", "log_batch"}, {"client_token", tok}, {"metrics", {{{"key", "a"}, {"value", 1.0}, {"timestamp", 1}, {"step", 1}}}},
                {"params", util::Json::object()}, {"tags", util::Json::object()}};
  util::Json b2 = b1;
  b2["metrics"][0]["step"] = 2;
  util::atomic_write_file(j, run.dump() + "\n" + b1.dump() + "\n" + b2.dump() + "\n");
  std::atomic<int> batches{0};
  server.inject = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("log-batch") != std::string::npos && ++batches == 2)
      return test::mlflow_error(400, "INVALID_PARAMETER_VALUE", "rejected");
    return std::nullopt;
  };
  EXPECT_THROW(sync_journal(j, {}), MlflowError);
  ASSERT_EQ(server.runs.size(), 1u);
  std::string run_id = server.runs.begin()->first;
  // The rewritten journal names the created run and holds only the undelivered batch.
  auto text = util::read_file(j);
  EXPECT_NE(text.find(run_id), std::string::npos);
  EXPECT_EQ(text.find("\"step\":1"), std::string::npos);
  server.inject = nullptr;
  auto r = sync_journal(j, {});
  EXPECT_EQ(r.run_ids, std::vector<std::string>{run_id});
  EXPECT_EQ(server.runs.size(), 1u);
  EXPECT_EQ(server.run(run_id).metrics.at("a").size(), 2u);
}

TEST_F(RestTrackerTest, ArtifactsGoThroughTheMlflowArtifactsProxy) {
  FakeMlflow server;
  TrackerOptions opt;
  opt.tracking_uri = server.url();
  opt.journal_path = tmp.path() / "j.jsonl";
  auto t = open_tracker(opt);
  fs::create_directories(tmp.path() / "ckpt" / "pretrained_model");
  util::atomic_write_file(tmp.path() / "ckpt" / "pretrained_model" / "config.json", "{\"type\":\"act\"}");
  util::atomic_write_file(tmp.path() / "ckpt" / "pretrained_model" / "model.safetensors", std::string(1000, 'w'));
  t->log_artifact(tmp.path() / "ckpt", "checkpoints/000010");
  t->finish(RunStatus::Finished);
  std::string base = "0/" + t->run_id() + "/artifacts/checkpoints/000010/pretrained_model/";
  EXPECT_EQ(server.artifacts.at(base + "config.json"), "{\"type\":\"act\"}");
  EXPECT_EQ(server.artifacts.at(base + "model.safetensors").size(), 1000u);
  // And back down through the listing API.
  MlflowClient client(server.url());
  client.download_artifacts(t->artifact_uri() + "/checkpoints/000010", tmp.path() / "down");
  EXPECT_EQ(util::read_file(tmp.path() / "down" / "pretrained_model" / "config.json"), "{\"type\":\"act\"}");
}

TEST_F(RestTrackerTest, BatchesRespectMlflowLimits) {
  FakeMlflow server;  // answers 400 to any oversized batch
  MlflowClient client(server.url());
  auto run = client.create_run("0", "", 1, {}, "t");
  std::vector<MetricPoint> ms;
  for (int i = 0; i < 2500; ++i) ms.push_back({"m", double(i), 1, i});
  std::vector<std::pair<std::string, std::string>> ps, ts;
  for (int i = 0; i < 250; ++i) ps.push_back({"p" + std::to_string(i), std::string(5000, 'x')});
  for (int i = 0; i < 120; ++i) ts.push_back({"t" + std::to_string(i), std::string(9000, 'y')});
  client.log_batch(run.run_id, ms, ps, ts);
  auto r = server.run(run.run_id);
  EXPECT_EQ(r.metrics.at("m").size(), 2500u);
  EXPECT_EQ(r.params.size(), 250u);
  EXPECT_EQ(r.tags.size(), 121u);  // + robotrain_client_token
  EXPECT_EQ(r.tags.at("t0").size(), 8000u) << "tag values clamped to MLflow's 8000";
  EXPECT_GE(server.log_batch_calls, 5);
}
