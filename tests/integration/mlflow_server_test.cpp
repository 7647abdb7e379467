// `robotrain train/runs/model/track` through the real binary against a real `mlflow server`
// (the venv's MLflow, SQLite store, proxied artifacts), checked with MLflow's own Python
// client: runs, params, metrics and tags; checkpoints and registered weights byte-identical;
// warm start from models:/; credentials only where they belong; an outage mid-run replayed
// exactly once; dead and hanging servers that cannot hold a command for long; a run that
// starts offline keeping its identity.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>

#include "integration/train_support.h"
#include "support/http_server.h"
#include "support/mlflow_server.h"
#include "util/crypto.h"
#include "util/strings.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
namespace test = robotrain::test;
namespace util = robotrain::util;
using robotrain::test::run_robotrain;
using util::Json;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// tt::train_args with the tracking URI replaced and per-step metrics.
std::vector<std::string> train_to(const std::string& uri, const fs::path& out, int steps, std::vector<std::string> extra = {}) {
  auto a = tt::train_args(out.string(), steps, std::move(extra));
  for (size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == "--tracking-uri") a[i + 1] = uri;
  a.insert(a.end(), {"--log_freq", "1"});
  return a;
}

Json peer(const std::vector<std::string>& args) {
  auto r = test::run_peer_script("mlflow_inspect.py", args, {{"MLFLOW_ALLOW_FILE_STORE", "true"}}, 300);
  if (r.exit_code != 0) throw std::runtime_error("mlflow_inspect.py failed: " + r.err);
  return Json::parse(r.out);
}

std::string sha256_file(const fs::path& p) { return util::sha256_hex(util::read_file(p)); }

// Non-empty lines of a command's stderr.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (auto& l : util::split(text, '\n'))
    if (!util::trim(l).empty()) out.push_back(l);
  return out;
}

// The steps of one metric's history as MLflow's client returns it.
std::vector<int64_t> steps_of(const Json& run, const std::string& key) {
  std::vector<int64_t> out;
  for (auto& p : run["metrics"].value(key, Json::array())) out.push_back(p[0].get<int64_t>());
  return out;
}

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

// An Azure managed-identity endpoint that hands out a token, so that the Azure credential
// chain succeeds: the token must still never reach an MLflow server.
struct MsiStandIn {
  std::atomic<int> calls{0};
  test::TestHttpServer server{[this](const test::TestRequest&) {
    ++calls;
    Json token{{"access_token", "AZURE-AD-TOKEN"}, {"expires_on", std::to_string(std::time(nullptr) + 3600)},
               {"token_type", "Bearer"}};
    return test::TestResponse::json(200, token.dump());
  }};
};

class MlflowServerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(test::mlflow_missing(), "");
    ASSERT_NO_THROW(url = test::shared_mlflow_url());
  }
  util::TempDir tmp{"rt-mlflow-cli"};
  std::string url;
};

}  // namespace

// The whole path of a tracked training run on an MLflow server, with an Azure credential
// chain that works and MLflow's own token set: the server sees the MLflow token on every
// request and the Azure token on none.
TEST_F(MlflowServerCli, TrainTracksRegistersAndWarmStartsThroughTheServer) {
  test::MlflowProxy proxy(url);  // logs the headers the server gets
  MsiStandIn msi;
  const std::map<std::string, std::string> env{{"MSI_ENDPOINT", msi.server.url() + "/msi/token"},
                                               {"MLFLOW_TRACKING_TOKEN", "mlflow-token"}};
  const std::string exp = test::unique_name("cli");
  const std::string model = test::unique_name("tiny_act");
  auto r = run_robotrain(train_to(proxy.url(), tmp.path() / "a", 4,
                                  {"--save_freq", "2", "--experiment-name", exp, "--register-checkpoint", model}),
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("registered " + model + " version 1"), std::string::npos) << r.err;

  auto found = peer({"runs", url, exp, "--download", (tmp.path() / "peer").string()});
  ASSERT_EQ(found["runs"].size(), 1u);
  const Json& run = found["runs"][0];
  const std::string run_id = run["run_id"];
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_EQ(run["params"]["policy_type"], "act");
  EXPECT_EQ(run["params"]["batch_size"], "4");
  EXPECT_EQ(run["tags"]["lerobot.policy_type"], "act");
  EXPECT_EQ(run["tags"]["training_status"], "completed");
  EXPECT_EQ(run["tags"]["model.register_name"], model);
  EXPECT_EQ(steps_of(run, "train/loss"), range(1, 4)) << "every step once";
  EXPECT_NE(r.err.find("tracking run " + run_id), std::string::npos) << r.err;
  for (const char* step : {"000002", "000004"}) {
    // The pretrained_model directory's contents, as MLflow's log_artifacts(dir, path) lays them out.
    std::string key = std::string("checkpoints/") + step + "/model.safetensors";
    ASSERT_TRUE(run["artifacts"].contains(key)) << run["artifacts"].dump();
    EXPECT_EQ(run["artifacts"][key]["sha256"],
              sha256_file(tmp.path() / "a" / "checkpoints" / step / "pretrained_model" / "model.safetensors"));
  }
  auto m = peer({"model", url, model, "--download", (tmp.path() / "peer-model").string()});
  ASSERT_EQ(m["versions"].size(), 1u);
  EXPECT_EQ(m["versions"][0]["run_id"], run_id);
  EXPECT_EQ(m["versions"][0]["tags"]["checkpoint"], "000004");
  EXPECT_EQ(m["versions"][0]["tags"]["dataset_source"], "local");
  EXPECT_FALSE(m["versions"][0]["description"].get<std::string>().empty());
  EXPECT_FALSE(m["description"].get<std::string>().empty());
  EXPECT_EQ(m["versions"][0]["files"]["model.safetensors"]["sha256"],
            sha256_file(tmp.path() / "a" / "checkpoints" / "000004" / "pretrained_model" / "model.safetensors"));

  // runs / model read it back through the same server.
  auto list = run_robotrain({"runs", "list", "--tracking-uri", proxy.url(), "--experiment", exp, "--json"}, env);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto listed = Json::parse(list.out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["run_id"], run_id);
  auto show = run_robotrain({"runs", "show", run_id, "--tracking-uri", proxy.url()}, env);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("train/loss"), std::string::npos) << show.out;
  auto missing = run_robotrain({"runs", "show", "0123456789abcdef0123456789abcdef", "--tracking-uri", proxy.url()}, env);
  EXPECT_EQ(missing.exit_code, 2) << "an unknown id the user typed is invalid input: " << missing.err;
  EXPECT_EQ(lines_of(missing.err).size(), 1u) << missing.err;
  auto shown = run_robotrain({"model", "show", model, "--tracking-uri", proxy.url(), "--json"}, env);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(Json::parse(shown.out)["versions"][0]["tags"]["checkpoint"], "000004");
  EXPECT_EQ(run_robotrain({"model", "show", test::unique_name("nope"), "--tracking-uri", proxy.url()}, env).exit_code, 2);
  auto dl = run_robotrain({"model", "download", model + "/1", "-o", (tmp.path() / "dl").string(), "--tracking-uri", proxy.url()}, env);
  ASSERT_EQ(dl.exit_code, 0) << dl.err;
  EXPECT_EQ(sha256_file(tmp.path() / "dl" / "model.safetensors"),
            sha256_file(tmp.path() / "a" / "checkpoints" / "000004" / "pretrained_model" / "model.safetensors"));
  EXPECT_EQ(run_robotrain({"model", "download", model + "/9", "-o", (tmp.path() / "dl9").string(), "--tracking-uri", proxy.url()}, env)
                .exit_code,
            2);

  // Warm start from models:/ on the server: weights only, lr 0, so the first checkpoint is the
  // registered model.
  r = run_robotrain(train_to(proxy.url(), tmp.path() / "b", 1,
                             {"--experiment-name", exp, "--init-from-policy-model", "models:/" + model + "/1",
                              "--policy.optimizer_lr", "0", "--policy.optimizer_lr_backbone", "0",
                              "--policy.optimizer_weight_decay", "0"}),
                    env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(tt::max_abs_diff(tmp.path() / "a" / "checkpoints" / "000004" / "pretrained_model" / "model.safetensors",
                             tmp.path() / "b" / "checkpoints" / "000001" / "pretrained_model" / "model.safetensors"),
            1e-7);

  // Credentials: MLflow's token on every request, the Azure token on none.
  auto requests = proxy.requests();
  ASSERT_GT(requests.size(), 20u);
  for (auto& q : requests) EXPECT_EQ(q.header("authorization"), "Bearer mlflow-token") << q.method << " " << q.target;
  EXPECT_EQ(msi.calls.load(), 0) << "nothing even asked Azure for a token";
}

// A dead server: read commands give up within the budget (~30 s), exit 1, with one line that
// says retries are exhausted.
TEST_F(MlflowServerCli, ReadCommandsAgainstADeadServerGiveUpFast) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(test::free_port());
  // runs with the default budget, model with a shorter one (the test's time).
  for (auto [args, budget] : {std::pair<std::vector<std::string>, std::string>{{"runs", "list"}, ""}, {{"model", "list"}, "5"}}) {
    args.insert(args.end(), {"--tracking-uri", dead});
    std::map<std::string, std::string> env;
    if (!budget.empty()) env["ROBOTRAIN_HTTP_BUDGET_S"] = budget;
    auto start = Clock::now();
    auto r = run_robotrain(args, env, 120);
    double took = seconds_since(start);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_LT(took, 40) << args[0];
    auto lines = lines_of(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_NE(lines[0].find("retries exhausted"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("attempts"), std::string::npos) << lines[0];
  }
  // The budget is the user's to set; a malformed one is invalid input.
  auto r = run_robotrain({"runs", "list", "--tracking-uri", dead}, {{"ROBOTRAIN_HTTP_BUDGET_S", "-1"}}, 120);
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// A server that accepts and never answers after the last step: training still ends promptly,
// with the calls journaled in the run's output directory and the command that replays them.
TEST_F(MlflowServerCli, HangingServerAfterTheLastStepDoesNotHoldTraining) {
  test::MlflowProxy proxy(url);
  std::atomic<bool> hang{false};
  // Everything after the final status update starts hangs (the run's end).
  proxy.hang = [&](const test::TestRequest& q) {
    if (q.path.find("runs/update") != std::string::npos) hang = true;
    return hang.load();
  };
  const std::string exp = test::unique_name("hang");
  auto start = Clock::now();
  auto r = run_robotrain(train_to(proxy.url(), tmp.path() / "a", 3, {"--experiment-name", exp}), {}, 300);
  double took = seconds_since(start);
  proxy.release_hung();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path journal = tmp.path() / "a" / ".robotrain" / "mlflow-journal.jsonl";
  ASSERT_TRUE(fs::exists(journal)) << r.err;
  EXPECT_NE(r.err.find("robotrain track sync --journal " + journal.string()), std::string::npos) << r.err;
  EXPECT_LT(took, 120) << "3 steps of a tiny model and a bounded wait, not the retry budget";
  auto sync = run_robotrain({"track", "sync", "--journal", journal.string(), "--tracking-uri", url});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  auto found = peer({"runs", url, exp});
  ASSERT_EQ(found["runs"].size(), 1u);
  EXPECT_EQ(found["runs"][0]["status"], "FINISHED");
  EXPECT_EQ(steps_of(found["runs"][0], "train/loss"), range(1, 3));
}

// The server is unreachable when training starts: the run gets a client-side id, printed and
// saved in the checkpoint; the journal sits in the output directory (where `track sync --help`
// says); once the server is up, --resume replays it and continues the same run.
TEST(MlflowServerOffline, RunStartedOfflineKeepsItsIdentityThroughResume) {
  ASSERT_EQ(test::mlflow_missing(), "");
  util::TempDir tmp{"rt-mlflow-offline"};
  const int port = test::free_port();
  const std::string uri = "http://127.0.0.1:" + std::to_string(port);
  const std::string exp = test::unique_name("offline");
  const fs::path out = tmp.path() / "a";
  auto start = Clock::now();
  auto r = run_robotrain(train_to(uri, out, 2, {"--save_freq", "2", "--experiment-name", exp}), {}, 300);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(seconds_since(start), 120) << "an unreachable server does not hold training";
  std::string offline_id;
  for (auto& f : fs::recursive_directory_iterator(out / "checkpoints" / "000002" / "training_state")) {
    if (!f.is_regular_file() || f.path().extension() != ".json") continue;
    auto text = util::read_file(f.path());
    auto pos = text.find("offline-");
    if (pos != std::string::npos) offline_id = text.substr(pos, 8 + 32);
  }
  ASSERT_EQ(offline_id.size(), 40u) << "training_state records the client-side run id";
  EXPECT_NE(r.err.find("tracking run " + offline_id), std::string::npos) << "the training done line names it: " << r.err;
  const fs::path journal = out / ".robotrain" / "mlflow-journal.jsonl";
  EXPECT_TRUE(fs::exists(journal)) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / ".robotrain")) << "not in the working directory";
  auto help = run_robotrain({"track", "sync", "--help"});
  EXPECT_NE(help.out.find("OUTPUT/.robotrain/mlflow-journal.jsonl"), std::string::npos);

  test::MlflowServer server(tmp.path() / "server", port);  // the server comes up where the run said
  r = run_robotrain(train_to(uri, out, 4, {"--resume", "true", "--save_freq", "2", "--experiment-name", exp}), {}, 300);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(offline_id), std::string::npos) << "the replay maps the client id to the server's: " << r.err;
  auto found = peer({"runs", uri, exp});
  ASSERT_EQ(found["runs"].size(), 1u) << "the resumed run is the replayed one, not a new one";
  const Json& run = found["runs"][0];
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_EQ(steps_of(run, "train/loss"), range(1, 4));
  EXPECT_EQ(run["tags"]["robotrain_client_token"], offline_id.substr(8));
  EXPECT_FALSE(fs::exists(journal));
  auto show = run_robotrain({"runs", "show", offline_id, "--tracking-uri", uri});
  EXPECT_EQ(show.exit_code, 0) << "the offline id still finds the run: " << show.err;
  EXPECT_NE(show.out.find(run["run_id"].get<std::string>()), std::string::npos);
}

// The server dies mid-run and comes back on the same port and store: the tracker journals
// while it is gone and replays when it answers; MLflow's client then sees every step once.
TEST(MlflowServerOutage, TrainingThroughAnOutageLosesAndDuplicatesNothing) {
  ASSERT_EQ(test::mlflow_missing(), "");
  util::TempDir tmp{"rt-mlflow-outage"};
  test::MlflowServer server(tmp.path() / "server");
  const std::string exp = test::unique_name("outage");
  const fs::path out = tmp.path() / "a";
  const int steps = 120;
  auto args = train_to(server.url(), out, steps, {"--experiment-name", exp});
  args.insert(args.begin(), test::robotrain_bin());
  const std::string log = (tmp.path() / "train.log").string();
  util::ChildProcess train(args, {}, log, log);
  auto wait_for = [&](const std::string& what, double timeout_s) {
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (Clock::now() < deadline) {
      if (fs::exists(log) && util::read_file(log).find(what) != std::string::npos) return true;
      if (!train.running()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  ASSERT_TRUE(wait_for("step:5 ", 300)) << util::read_file(log);
  server.kill();
  const fs::path journal = out / ".robotrain" / "mlflow-journal.jsonl";
  if (wait_for("journaling run", 120)) {
    ::kill(train.pid(), SIGSTOP);  // the server takes ~15 s to start: keep the run from ending first
    server.start();
    ::kill(train.pid(), SIGCONT);
  }
  auto code = train.wait(600);
  ASSERT_TRUE(code.has_value());
  std::string text = util::read_file(log);
  ASSERT_EQ(*code, 0) << text;
  if (fs::exists(journal)) {
    // A machine fast enough to end the run before the server was back: the run ended with
    // its calls journaled and said how to deliver them.
    EXPECT_NE(text.find("robotrain track sync --journal " + journal.string()), std::string::npos) << text;
    server.start();
    auto sync = run_robotrain({"track", "sync", "--journal", journal.string()});
    ASSERT_EQ(sync.exit_code, 0) << sync.err;
  } else {
    EXPECT_NE(text.find("replayed"), std::string::npos) << "the tracker replayed its journal itself: " << text;
  }
  EXPECT_FALSE(fs::exists(journal)) << text;
  auto found = peer({"runs", server.url(), exp});
  ASSERT_EQ(found["runs"].size(), 1u);
  const Json& run = found["runs"][0];
  EXPECT_EQ(run["status"], "FINISHED");
  for (const char* key : {"train/loss", "train/grad_norm", "train/learning_rate"})
    EXPECT_EQ(steps_of(run, key), range(1, steps)) << key << ": every step exactly once";
}

// "Viewable with mlflow ui": MLflow's own client opens the local store robotrain wrote and
// finds the run, its params, metrics, tags and artifacts.
TEST(MlflowFileStore, MlflowReadsTheLocalStore) {
  util::TempDir tmp{"rt-mlflow-store"};
  const fs::path store = tmp.path() / "mlruns";
  const std::string exp = "local-exp";
  auto r = run_robotrain(train_to(store.string(), tmp.path() / "a", 3,
                                  {"--experiment-name", exp, "--save_freq", "3", "--log-checkpoints", "true"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto found = peer({"runs", "file://" + store.string(), exp, "--download", (tmp.path() / "peer").string()});
  ASSERT_EQ(found["runs"].size(), 1u) << found.dump();
  const Json& run = found["runs"][0];
  EXPECT_EQ(run["status"], "FINISHED");
  EXPECT_EQ(run["params"]["policy_type"], "act");
  EXPECT_EQ(run["tags"]["lerobot.policy_type"], "act");
  EXPECT_EQ(steps_of(run, "train/loss"), range(1, 3));
  const std::string key = "checkpoints/000003/model.safetensors";
  ASSERT_TRUE(run["artifacts"].contains(key)) << run["artifacts"].dump();
  EXPECT_EQ(run["artifacts"][key]["sha256"],
            sha256_file(tmp.path() / "a" / "checkpoints" / "000003" / "pretrained_model" / "model.safetensors"));

  // `runs list` prints the store's 18-digit experiment id whole; an unknown run id is invalid
  // input (exit 2) here as on a server.
  const std::string exp_id = run["experiment_id"];
  ASSERT_EQ(exp_id.size(), 18u);
  auto list = run_robotrain({"runs", "list", "--tracking-uri", store.string()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(" " + exp_id + " "), std::string::npos) << list.out;
  auto missing = run_robotrain({"runs", "show", "0123456789abcdef0123456789abcdef", "--tracking-uri", store.string()});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_EQ(lines_of(missing.err).size(), 1u) << missing.err;
  EXPECT_EQ(run_robotrain({"model", "show", "nope", "--tracking-uri", store.string()}).exit_code, 2);
  auto help = run_robotrain({"runs", "show", "--help"});
  EXPECT_NE(help.out.find("an unknown id exits 2"), std::string::npos) << help.out;
}
