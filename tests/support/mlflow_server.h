#pragma once
// A real `mlflow server` (MLflow from the peers' venv) for tests: SQLite backend store and
// proxied artifacts (--serve-artifacts) in a directory of its own, on 127.0.0.1 and a free
// port. Startup takes 10-20 s, so CTest starts one per run of the MLflow tests (the
// `mlflow_server` fixture, see shared_mlflow_server()); tests that stop and restart a server
// make their own. A proxy in front of it injects the faults a real server cannot produce.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "support/http_server.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/process.h"

namespace robotrain::test {

class MlflowServer {
 public:
  // Starts the server on `port` (0: a free one) with its store in `dir` (a fresh temp dir when
  // empty) and waits until /health answers. Throws with the server's log when it does not start.
  explicit MlflowServer(std::filesystem::path dir = {}, int port = 0);
  ~MlflowServer();
  MlflowServer(const MlflowServer&) = delete;
  MlflowServer& operator=(const MlflowServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  // SIGKILL to the server and its workers (an outage, not a shutdown).
  void kill();
  // (Re)starts on the same port and the same store; waits for /health.
  void start();
  bool running();
  // The server's stdout/stderr so far (for failure messages).
  std::string log() const;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<util::TempDir> owned_dir_;
  int port_ = 0;
  std::unique_ptr<util::ChildProcess> process_;
};

// The server every MLflow test of this process shares: the one the CTest fixture started
// (ROBOTRAIN_TEST_MLFLOW_STATE names its state directory), else one started here on first use.
// Tests use their own experiment names, so they do not see each other's runs.
std::string shared_mlflow_url();

// The command line and environment of a test server (SQLite store and artifacts in dir).
std::vector<std::string> mlflow_server_argv(const std::filesystem::path& dir, int port);
std::map<std::string, std::string> mlflow_server_env();
// Whether GET url/health answers 200 within a few seconds.
bool mlflow_healthy(const std::string& url);
int free_port();

// Why the MLflow peer cannot run ("" when it can): the venv's `mlflow` executable is missing.
std::string mlflow_missing();
std::string mlflow_executable();

// A unique experiment / model name for one test.
std::string unique_name(const std::string& prefix);

// Forwards every request to `upstream` and records what it saw (headers included). `inject`
// may answer first (429, 503, a reply lost after the upstream handled it, ...); `hang`
// makes matching requests wait until released (a server that accepts and never answers).
class MlflowProxy {
 public:
  explicit MlflowProxy(std::string upstream);
  ~MlflowProxy();
  std::string url() const { return server_->url(); }
  int port() const { return server_->port(); }
  std::vector<TestRequest> requests() { return server_->requests(); }

  // Called before forwarding; a response returned here is sent instead.
  std::function<std::optional<TestResponse>(const TestRequest&)> inject;
  // Called after forwarding with the upstream's answer; may replace it (e.g. a lost reply).
  std::function<std::optional<TestResponse>(const TestRequest&, const TestResponse&)> after;
  // Requests for which this returns true are held without an answer until release_hung().
  std::function<bool(const TestRequest&)> hang;
  void release_hung();
  int hung_count() const { return hung_.load(); }

 private:
  TestResponse handle(const TestRequest& request);
  std::string upstream_;
  std::mutex mutex_;
  std::condition_variable released_cv_;
  bool released_ = false;
  std::atomic<int> hung_{0};
  std::unique_ptr<TestHttpServer> server_;
};

// An MLflow-shaped error reply.
TestResponse mlflow_error(int status, const std::string& code, const std::string& message);

// REST helpers straight against a server (no robotrain code), for arranging and checking.
util::Json mlflow_get(const std::string& url, const std::string& endpoint, const std::string& query = "");
util::Json mlflow_post(const std::string& url, const std::string& endpoint, const util::Json& body);

}  // namespace robotrain::test
