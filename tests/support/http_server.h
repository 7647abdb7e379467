#pragma once
// A tiny threaded HTTP/1.1 server on 127.0.0.1 for tests: the stand-in for services that
// cannot run here (MLflow, HF Hub, Azure ML). Each request is answered by the handler.
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace robotrain::test {

struct TestRequest {
  std::string method;
  std::string target;  // path + query as sent
  std::string path;    // decoded path without query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? "" : it->second;
  }
};

struct TestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When > 0, only this many body bytes are sent (a truncated body) and the connection closes.
  long truncate_after = -1;
  // Hostile servers: wait this long before sending anything (a server that never answers),
  // then send the body one byte every dribble_interval_s (a slowloris). Both end early when
  // the client hangs up or the server stops.
  double delay_s = 0;
  double dribble_interval_s = 0;
  static TestResponse json(int status, const std::string& body) {
    return {status, {{"Content-Type", "application/json"}}, body};
  }
};

using TestHandler = std::function<TestResponse(const TestRequest&)>;

class TestHttpServer {
 public:
  explicit TestHttpServer(TestHandler handler);
  ~TestHttpServer();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Every request seen so far (method + target), for assertions.
  std::vector<TestRequest> requests();

 private:
  void serve();
  void handle(int fd);
  TestHandler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<TestRequest> seen_;
  std::vector<std::thread> workers_;
};

std::string url_decode(const std::string& s);

}  // namespace robotrain::test
