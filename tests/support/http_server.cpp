#include "support/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "util/strings.h"

namespace robotrain::test {

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

TestHttpServer::TestHttpServer(TestHandler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("test server: bind/listen failed");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

TestHttpServer::~TestHttpServer() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  if (thread_.joinable()) thread_.join();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
}

std::vector<TestRequest> TestHttpServer::requests() {
  std::lock_guard<std::mutex> lock(mutex_);
  return seen_;
}

void TestHttpServer::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    workers_.emplace_back([this, fd] { handle(fd); });
  }
}

namespace {
bool read_more(int fd, std::string& buf) {
  char tmp[65536];
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10000) <= 0) return false;
  ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf.append(tmp, static_cast<size_t>(n));
  return true;
}

bool send_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Sleeps up to `seconds` in small steps; false when the server stops or the client hung up.
bool wait_while_connected(int fd, double seconds, const std::atomic<bool>& stop) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (stop) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) {
      char c;
      if (::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0 || (p.revents & (POLLHUP | POLLERR))) return false;
    }
  }
  return !stop;
}
}  // namespace

void TestHttpServer::handle(int fd) {
  std::string buf;
  while (!stop_) {
    size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos)
      if (!read_more(fd, buf)) {
        ::close(fd);
        return;
      }
    TestRequest req;
    auto lines = util::split(buf.substr(0, header_end), '\n');
    auto first = util::split(util::trim(lines[0]), ' ');
    if (first.size() < 2) break;
    req.method = first[0];
    req.target = first[1];
    for (size_t i = 1; i < lines.size(); ++i) {
      auto colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      req.headers[util::to_lower(util::trim(lines[i].substr(0, colon)))] = util::trim(lines[i].substr(colon + 1));
    }
    size_t content_length = 0;
    if (!req.header("content-length").empty()) content_length = std::stoul(req.header("content-length"));
    buf.erase(0, header_end + 4);
    while (buf.size() < content_length)
      if (!read_more(fd, buf)) break;
    req.body = buf.substr(0, content_length);
    buf.erase(0, std::min(content_length, buf.size()));
    size_t q = req.target.find('?');
    req.path = url_decode(req.target.substr(0, q));
    if (q != std::string::npos) {
      for (const auto& kv : util::split(req.target.substr(q + 1), '&')) {
        auto eq = kv.find('=');
        if (eq == std::string::npos)
          req.query[url_decode(kv)] = "";
        else
          req.query[url_decode(kv.substr(0, eq))] = url_decode(kv.substr(eq + 1));
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      seen_.push_back(req);
    }
    TestResponse resp;
    try {
      resp = handler_(req);
    } catch (const std::exception& e) {
      resp = {500, {}, std::string("handler threw: ") + e.what()};
    }
    std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " X\r\n";
    bool has_length = false;
    for (auto& [k, v] : resp.headers) {
      head += k + ": " + v + "\r\n";
      if (util::to_lower(k) == "content-length") has_length = true;
    }
    if (!has_length) head += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
    bool truncate = resp.truncate_after >= 0;
    if (truncate) head += "Connection: close\r\n";
    head += "\r\n";
    if (resp.delay_s > 0 && !wait_while_connected(fd, resp.delay_s, stop_)) break;
    send_all(fd, head);
    std::string body = truncate ? resp.body.substr(0, static_cast<size_t>(resp.truncate_after)) : resp.body;
    if (req.method != "HEAD" && resp.dribble_interval_s > 0) {
      bool connected = true;
      for (size_t i = 0; connected && i < body.size(); ++i)
        connected = send_all(fd, body.substr(i, 1)) && wait_while_connected(fd, resp.dribble_interval_s, stop_);
      if (!connected) break;
    } else if (req.method != "HEAD") {
      send_all(fd, body);
    }
    if (truncate || util::to_lower(req.header("connection")) == "close") break;
  }
  ::close(fd);
}

}  // namespace robotrain::test
