#include "support/mlflow_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

#include "support/test_support.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/strings.h"

namespace robotrain::test {

namespace fs = std::filesystem;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("mlflow test server: no free port");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool mlflow_healthy(const std::string& url) {
  util::HttpRequest req;
  req.url = url + "/health";
  req.timeout_s = 3;
  req.connect_timeout_s = 2;
  try {
    return util::http_send_once(req).status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

std::string mlflow_executable() { return (fs::path(peer_python()).parent_path() / "mlflow").string(); }

std::string mlflow_missing() {
  if (!fs::exists(mlflow_executable()))
    return "no mlflow at " + mlflow_executable() + " (run scripts/install-deps.sh: requirements.txt pins mlflow)";
  return "";
}

// What the tests need of the server and nothing more: no job-execution workers (a dozen
// Python processes), no telemetry.
std::vector<std::string> mlflow_server_argv(const fs::path& dir, int port) {
  return {mlflow_executable(), "server",
          "--backend-store-uri", "sqlite:///" + (dir / "mlflow.db").string(),
          "--artifacts-destination", (dir / "artifacts").string(), "--serve-artifacts",
          "--host", "127.0.0.1", "--port", std::to_string(port), "--workers", "1"};
}

std::map<std::string, std::string> mlflow_server_env() {
  return {{"MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false"}, {"MLFLOW_DISABLE_TELEMETRY", "true"},
          {"DO_NOT_TRACK", "true"}, {"MLFLOW_TRACKING_URI", ""}};
}

MlflowServer::MlflowServer(fs::path dir, int port) : dir_(std::move(dir)), port_(port) {
  if (auto why = mlflow_missing(); !why.empty()) throw std::runtime_error(why);
  if (dir_.empty()) {
    owned_dir_ = std::make_unique<util::TempDir>("rt-mlflow-server");
    dir_ = owned_dir_->path();
  }
  fs::create_directories(dir_);
  if (port_ == 0) port_ = free_port();
  start();
}

MlflowServer::~MlflowServer() {
  if (process_) process_->terminate(SIGTERM, 5);
}

void MlflowServer::kill() {
  if (process_) process_->terminate(SIGKILL, 5);
}

bool MlflowServer::running() { return process_ && process_->running(); }

std::string MlflowServer::log() const {
  std::error_code ec;
  if (!fs::exists(dir_ / "server.log", ec)) return "";
  std::string text = util::read_file(dir_ / "server.log");
  return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

void MlflowServer::start() {
  if (running()) return;
  util::ProcessOptions opts;
  opts.env = mlflow_server_env();
  const std::string log_file = (dir_ / "server.log").string();
  process_ = std::make_unique<util::ChildProcess>(mlflow_server_argv(dir_, port_), opts, log_file, log_file);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (!mlflow_healthy(url())) {
    if (!process_->running()) throw std::runtime_error("mlflow server exited during startup:\n" + log());
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("mlflow server did not answer /health in 180 s:\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::string shared_mlflow_url() {
  if (auto state = util::get_env("ROBOTRAIN_TEST_MLFLOW_STATE"); state && !state->empty()) {
    fs::path url_file = fs::path(*state) / "url";
    if (!fs::exists(url_file))
      throw std::runtime_error("the mlflow_server CTest fixture left no " + url_file.string() + " (did it fail?)");
    std::string url = util::trim(util::read_file(url_file));
    if (!mlflow_healthy(url)) throw std::runtime_error("the fixture's MLflow server at " + url + " does not answer /health");
    return url;
  }
  static std::unique_ptr<MlflowServer> server;
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (!server) server = std::make_unique<MlflowServer>();
  return server->url();
}

std::string unique_name(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000000);
}

TestResponse mlflow_error(int status, const std::string& code, const std::string& message) {
  return TestResponse::json(status, util::Json{{"error_code", code}, {"message", message}}.dump());
}

namespace {

util::Json call(const std::string& method, const std::string& url, const std::string& body) {
  util::HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  if (method == "POST") req.headers = {{"Content-Type", "application/json"}};
  auto resp = util::http_send_once(req);
  if (!resp.ok()) throw std::runtime_error(method + " " + url + ": HTTP " + std::to_string(resp.status) + " " + resp.body);
  return resp.body.empty() ? util::Json::object() : util::Json::parse(resp.body);
}

}  // namespace

util::Json mlflow_get(const std::string& url, const std::string& endpoint, const std::string& query) {
  return call("GET", url + "/api/2.0/mlflow/" + endpoint + (query.empty() ? "" : "?" + query), "");
}

util::Json mlflow_post(const std::string& url, const std::string& endpoint, const util::Json& body) {
  return call("POST", url + "/api/2.0/mlflow/" + endpoint, body.dump());
}

MlflowProxy::MlflowProxy(std::string upstream) : upstream_(std::move(upstream)) {
  server_ = std::make_unique<TestHttpServer>([this](const TestRequest& r) { return handle(r); });
}

MlflowProxy::~MlflowProxy() {
  release_hung();
  server_.reset();
}

void MlflowProxy::release_hung() {
  {
    std::lock_guard lock(mutex_);
    released_ = true;
  }
  released_cv_.notify_all();
}

TestResponse MlflowProxy::handle(const TestRequest& request) {
  if (hang && hang(request)) {
    ++hung_;
    std::unique_lock lock(mutex_);
    // Bounded, so a forgotten release cannot wedge the test binary.
    released_cv_.wait_for(lock, std::chrono::seconds(300), [this] { return released_; });
    return mlflow_error(503, "TEMPORARILY_UNAVAILABLE", "released after hanging");
  }
  if (inject)
    if (auto r = inject(request)) return *r;
  util::HttpRequest fwd;
  fwd.method = request.method;
  fwd.url = upstream_ + request.target;
  fwd.body = request.body;
  fwd.follow_redirects = false;
  fwd.timeout_s = 120;
  if (auto ct = request.header("content-type"); !ct.empty()) fwd.headers.push_back({"Content-Type", ct});
  TestResponse out;
  try {
    auto resp = util::http_send_once(fwd);
    out.status = static_cast<int>(resp.status);
    out.body = resp.body;
    if (auto ct = resp.header("content-type"); !ct.empty()) out.headers.push_back({"Content-Type", ct});
  } catch (const std::exception& e) {
    out = mlflow_error(502, "BAD_GATEWAY", e.what());
  }
  if (after)
    if (auto r = after(request, out)) return *r;
  return out;
}

}  // namespace robotrain::test
