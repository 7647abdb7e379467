#pragma once
// A minimal in-process Blob service (path-style: /ACCOUNT/CONTAINER/BLOB) for fault injection:
// List Blobs with maxresults/marker paging and ranged GETs, plus scripted failures.
#include <atomic>
#include <functional>
#include <optional>
#include <map>
#include <mutex>
#include <string>

#include "support/http_server.h"
#include "util/crypto.h"
#include "util/strings.h"

namespace robotrain::storage::testing {

class FakeBlobService {
 public:
  FakeBlobService() : server_([this](const test::TestRequest& r) { return handle(r); }) {}

  void put(const std::string& container, const std::string& name, const std::string& data, bool with_md5 = true) {
    std::lock_guard lock(mutex_);
    blobs_[container + "/" + name] = {data, with_md5 ? util::base64_encode(util::md5_raw(data)) : ""};
  }
  void set_listed_md5(const std::string& container, const std::string& name, const std::string& md5) {
    std::lock_guard lock(mutex_);
    blobs_[container + "/" + name].md5 = md5;
  }
  // The next `count` GETs of this blob answer 503 (with Retry-After: 0).
  void fail_next_gets(const std::string& name, int count) { fail_[name] = count; }
  // The next GET of this blob sends only half its body, then closes the connection.
  void truncate_next_get(const std::string& name) { truncate_[name] = 1; }
  std::string endpoint() const { return server_.url() + "/acct"; }
  std::string base() const { return server_.url(); }
  test::TestHttpServer& server() { return server_; }
  int list_calls() const { return list_calls_; }
  int get_calls() const { return get_calls_; }
  // Extra routes (Azure ML REST) answered before the blob ones.
  std::function<std::optional<test::TestResponse>(const test::TestRequest&)> extra;

 private:
  struct Blob {
    std::string data, md5;
  };

  test::TestResponse handle(const test::TestRequest& r) {
    if (extra)
      if (auto resp = extra(r)) return *resp;
    if (!util::starts_with(r.path, "/acct/")) return {404, {}, "no such account"};
    std::string rest = r.path.substr(6);
    size_t slash = rest.find('/');
    std::string container = rest.substr(0, slash);
    if (slash == std::string::npos) return list(container, r);
    std::string name = rest.substr(slash + 1);
    return get(container, name, r);
  }

  test::TestResponse list(const std::string& container, const test::TestRequest& r) {
    ++list_calls_;
    std::lock_guard lock(mutex_);
    auto q = [&](const char* k) { return r.query.count(k) ? r.query.at(k) : std::string(); };
    if (q("comp") != "list" || q("restype") != "container") return {400, {}, "bad list"};
    std::string prefix = container + "/" + q("prefix");
    size_t max = q("maxresults").empty() ? 5000 : std::stoul(q("maxresults"));
    std::string marker = q("marker");
    std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"x\"><Blobs>";
    size_t n = 0;
    std::string next;
    for (const auto& [key, blob] : blobs_) {
      if (!util::starts_with(key, prefix)) continue;
      std::string name = key.substr(container.size() + 1);
      if (!marker.empty() && name < marker) continue;
      if (n == max) {
        next = name;
        break;
      }
      ++n;
      xml += "<Blob><Name>" + name + "</Name><Properties><Etag>0x1</Etag><Content-Length>" +
             std::to_string(blob.data.size()) + "</Content-Length><Content-MD5>" + blob.md5 +
             "</Content-MD5></Properties></Blob>";
    }
    xml += "</Blobs><NextMarker>" + next + "</NextMarker></EnumerationResults>";
    return {200, {{"Content-Type", "application/xml"}}, xml};
  }

  test::TestResponse get(const std::string& container, const std::string& name, const test::TestRequest& r) {
    ++get_calls_;
    std::lock_guard lock(mutex_);
    auto it = blobs_.find(container + "/" + name);
    if (it == blobs_.end()) return {404, {}, "BlobNotFound"};
    if (fail_[name] > 0) {
      --fail_[name];
      return {503, {{"Retry-After", "0"}}, "ServerBusy"};
    }
    std::string body = it->second.data;
    int status = 200;
    std::string range = r.header("x-ms-range");
    if (!range.empty()) {
      auto dash = range.find('-');
      size_t a = std::stoul(range.substr(6, dash - 6)), b = std::stoul(range.substr(dash + 1));
      body = body.substr(a, b - a + 1);
      status = 206;
    }
    test::TestResponse resp{status, {{"Content-Type", "application/octet-stream"}}, body};
    if (r.header("x-ms-range-get-content-md5") == "true")
      resp.headers.push_back({"Content-MD5", util::base64_encode(util::md5_raw(body))});
    if (truncate_[name] > 0) {
      --truncate_[name];
      resp.truncate_after = static_cast<long>(body.size() / 2);
    }
    return resp;
  }

  std::mutex mutex_;
  std::map<std::string, Blob> blobs_;
  std::map<std::string, int> fail_, truncate_;
  std::atomic<int> list_calls_{0}, get_calls_{0};
  test::TestHttpServer server_;
};

}  // namespace robotrain::storage::testing
