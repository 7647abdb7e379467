#pragma once
// An in-process stand-in for the Hugging Face Hub: the refs, revision, paginated tree and
// resolve endpoints on one loopback server, LFS files redirected to a second "CDN" server
// (another port, so another host for credential stripping), with injectable faults. One
// dataset repository (`repo`) and any number of model repositories (`models`), at the URLs
// huggingface_hub uses for each: /api/datasets/ID + /datasets/ID/resolve/, /api/models/ID +
// /ID/resolve/.
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "support/http_server.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::test {

struct FakeHubFile {
  std::string content;
  bool lfs = false;
  std::string oid;     // a 40-hex stand-in for the git blob sha1
  std::string sha256;  // LFS object id
  std::string etag() const { return lfs ? sha256 : oid; }
};

using FakeHubCommits = std::map<std::string, std::map<std::string, FakeHubFile>>;  // commit -> path -> file

struct FakeHubModel {
  std::map<std::string, std::string> branches, tags;  // ref name -> commit
  FakeHubCommits commits;
};

class FakeHub {
 public:
  std::string repo = "owner/name";
  std::map<std::string, std::string> branches, tags;                 // ref name -> commit
  FakeHubCommits commits;
  std::map<std::string, FakeHubModel> models;  // model repo id -> its refs and commits
  size_t page_size = 4;
  std::string required_token;  // when set, hub requests without "Bearer <token>" get 401
  bool gated = false;          // answer 403 GatedRepo instead
  // The CDN's host name in LFS redirects. "localhost" makes it another host for clients that
  // compare names, not ports: huggingface_hub follows a redirect to the same host name and
  // would take the CDN's answer (no X-Repo-Commit) for the file's metadata.
  std::string cdn_host = "127.0.0.1";
  // Faults, each consumed once (by repository path for the CDN).
  std::atomic<int> refs_429{0};
  std::set<std::string> cdn_503_once, cdn_corrupt_always;
  std::map<std::string, int> cdn_truncate;  // path -> how many more GETs are cut halfway

  FakeHub()
      : cdn_([this](const TestRequest& r) { return on_cdn(r); }),
        hub_([this](const TestRequest& r) { return on_hub(r); }) {}

  std::string url() const { return hub_.url(); }
  std::vector<TestRequest> hub_requests() { return hub_.requests(); }
  std::vector<TestRequest> cdn_requests() { return cdn_.requests(); }

  static std::string fake_commit(const std::string& seed) { return util::sha256_hex("commit " + seed).substr(0, 40); }

  // Every file under `dir` becomes part of `commit`; parquet and mp4 are LFS as on the Hub.
  void add_commit(const std::string& commit, const std::filesystem::path& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& files = commits[commit];
    for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::string rel = std::filesystem::relative(e.path(), dir).generic_string();
      bool lfs = util::ends_with(rel, ".parquet") || util::ends_with(rel, ".mp4");
      files[rel] = make_file(util::read_file(e.path()), lfs);
    }
    files["README.md"] = make_file("# test dataset\n", false);
    files[".gitattributes"] = make_file("*.parquet filter=lfs diff=lfs merge=lfs -text\n", false);
  }

  // Every file under `dir` (a pretrained_model directory) becomes `commit` of model `id`, and
  // its main branch; safetensors are LFS as on the Hub.
  void add_model(const std::string& id, const std::string& commit, const std::filesystem::path& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    FakeHubModel& m = models[id];
    auto& files = m.commits[commit];
    for (auto& e : std::filesystem::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::string name = e.path().filename().string();
      files[name] = make_file(util::read_file(e.path()), util::ends_with(name, ".safetensors"));
    }
    files["README.md"] = make_file("---\nlibrary_name: lerobot\n---\n# test policy\n", false);
    files[".gitattributes"] = make_file("*.safetensors filter=lfs diff=lfs merge=lfs -text\n", false);
    m.branches["main"] = commit;
  }

  static FakeHubFile make_file(std::string content, bool lfs) {
    FakeHubFile f;
    f.oid = util::sha256_hex("blob " + content).substr(0, 40);
    f.sha256 = util::sha256_hex(content);
    f.lfs = lfs;
    f.content = std::move(content);
    return f;
  }

 private:
  // One repository as the handlers see it.
  struct Repo {
    std::string id, api_prefix;  // api_prefix: "/api/datasets/ID" or "/api/models/ID"
    std::map<std::string, std::string>& branches;
    std::map<std::string, std::string>& tags;
    FakeHubCommits& commits;
  };

  static std::string resolve_commit(Repo& repo, const std::string& rev) {
    if (repo.commits.count(rev)) return rev;
    if (repo.branches.count(rev)) return repo.branches[rev];
    if (repo.tags.count(rev)) return repo.tags[rev];
    return "";
  }

  // "/OWNER/NAME/resolve/..." of a model repository this hub holds: that id, else "".
  std::string model_of_resolve_path(const std::string& path) const {
    for (const auto& [id, m] : models)
      if (util::starts_with(path, "/" + id + "/resolve/")) return id;
    return "";
  }

  static TestResponse error(int status, const std::string& code) {
    TestResponse r = TestResponse::json(status, "{\"error\":\"" + code + "\"}");
    r.headers.emplace_back("X-Error-Code", code);
    return r;
  }

  TestResponse on_hub(const TestRequest& r) {
    std::lock_guard<std::mutex> lock(mu_);
    if (gated) return error(403, "GatedRepo");
    if (!required_token.empty() && r.header("authorization") != "Bearer " + required_token)
      return error(401, "RepoNotFound");
    Repo dataset{repo, "/api/datasets/" + repo, branches, tags, commits};
    const std::string api = dataset.api_prefix + "/", resolve = "/datasets/" + repo + "/resolve/";
    if (util::starts_with(r.path, api)) return on_api(dataset, r, r.path.substr(api.size()));
    if (util::starts_with(r.path, resolve)) return on_resolve(dataset, r, r.path.substr(resolve.size()));
    for (auto& [id, m] : models) {
      Repo model{id, "/api/models/" + id, m.branches, m.tags, m.commits};
      if (util::starts_with(r.path, model.api_prefix + "/")) return on_api(model, r, r.path.substr(model.api_prefix.size() + 1));
    }
    if (std::string id = model_of_resolve_path(r.path); !id.empty()) {
      FakeHubModel& m = models[id];
      Repo model{id, "/api/models/" + id, m.branches, m.tags, m.commits};
      return on_resolve(model, r, r.path.substr(id.size() + 10));  // "/" + id + "/resolve/"
    }
    return error(401, "RepoNotFound");
  }

  TestResponse on_api(Repo& repo, const TestRequest& r, const std::string& rest) {
    if (rest == "refs") {
      if (refs_429 > 0) {
        --refs_429;
        return {429, {{"Retry-After", "1"}}, "slow down"};
      }
      util::Json j{{"branches", util::Json::array()}, {"tags", util::Json::array()}, {"converts", util::Json::array()}};
      for (auto& [n, c] : repo.branches) j["branches"].push_back({{"name", n}, {"ref", "refs/heads/" + n}, {"targetCommit", c}});
      for (auto& [n, c] : repo.tags) j["tags"].push_back({{"name", n}, {"ref", "refs/tags/" + n}, {"targetCommit", c}});
      return TestResponse::json(200, j.dump());
    }
    if (util::starts_with(rest, "revision/")) {
      std::string commit = resolve_commit(repo, rest.substr(9));
      if (commit.empty()) return error(404, "RevisionNotFound");
      util::Json siblings = util::Json::array();
      for (auto& [p, f] : repo.commits[commit]) siblings.push_back({{"rfilename", p}});
      return TestResponse::json(200, util::Json{{"id", repo.id}, {"sha", commit}, {"siblings", siblings}}.dump());
    }
    if (util::starts_with(rest, "tree/")) {
      std::string commit = resolve_commit(repo, rest.substr(5));
      if (commit.empty()) return error(404, "RevisionNotFound");
      util::Json all = util::Json::array();
      std::set<std::string> dirs;
      for (auto& [p, f] : repo.commits[commit]) {
        for (size_t s = p.find('/'); s != std::string::npos; s = p.find('/', s + 1))
          if (dirs.insert(p.substr(0, s)).second)
            all.push_back({{"type", "directory"}, {"oid", std::string(40, 'd')}, {"size", 0}, {"path", p.substr(0, s)}});
        util::Json e{{"type", "file"}, {"oid", f.oid}, {"size", f.content.size()}, {"path", p}};
        if (f.lfs) e["lfs"] = {{"oid", f.sha256}, {"size", f.content.size()}, {"pointerSize", 134}};
        all.push_back(e);
      }
      size_t cursor = r.query.count("cursor") ? std::stoul(r.query.at("cursor")) : 0;
      util::Json page = util::Json::array();
      for (size_t i = cursor; i < all.size() && i < cursor + page_size; ++i) page.push_back(all[i]);
      TestResponse resp = TestResponse::json(200, page.dump());
      if (cursor + page_size < all.size())
        resp.headers.emplace_back("Link", "<" + hub_.url() + repo.api_prefix + "/tree/" + commit +
                                              "?recursive=true&expand=false&cursor=" + std::to_string(cursor + page_size) +
                                              ">; rel=\"next\"");
      return resp;
    }
    return error(404, "EntryNotFound");
  }

  TestResponse on_resolve(Repo& repo, const TestRequest& r, const std::string& rest) {
    size_t slash = rest.find('/');
    std::string commit = resolve_commit(repo, rest.substr(0, slash));
    if (commit.empty() || slash == std::string::npos) return error(404, "RevisionNotFound");
    auto& files = repo.commits[commit];
    auto it = files.find(rest.substr(slash + 1));
    if (it == files.end()) return error(404, "EntryNotFound");
    const FakeHubFile& f = it->second;
    TestResponse resp;
    resp.headers.emplace_back("X-Repo-Commit", commit);
    if (f.lfs) {
      cdn_blobs_[f.sha256] = {it->first, f.content};
      resp.status = 302;
      resp.headers.emplace_back("Location", "http://" + cdn_host + ":" + std::to_string(cdn_.port()) + "/blobs/" + f.sha256 + "?X-Amz-Signature=abc");
      resp.headers.emplace_back("X-Linked-Etag", "\"" + f.sha256 + "\"");
      resp.headers.emplace_back("X-Linked-Size", std::to_string(f.content.size()));
      resp.headers.emplace_back("ETag", "W/\"pointer-etag\"");
      return resp;
    }
    resp.headers.emplace_back("ETag", "\"" + f.oid + "\"");
    resp.body = f.content;  // HEAD: the server sends only the headers (Content-Length included)
    return resp;
  }

  TestResponse on_cdn(const TestRequest& r) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string sha = r.path.substr(r.path.rfind('/') + 1);
    auto pit = cdn_blobs_.find(sha);
    if (!util::starts_with(r.path, "/blobs/") || pit == cdn_blobs_.end()) return {404, {}, "no such blob"};
    const std::string path = pit->second.first;
    std::string content = pit->second.second;
    if (cdn_503_once.erase(path)) return {503, {}, "<html>busy</html>"};
    if (cdn_corrupt_always.count(path)) content[content.size() / 2] ^= 0x5a;
    size_t from = 0;
    std::string range = r.header("range");
    TestResponse resp{200, {}, ""};
    if (util::starts_with(range, "bytes=")) {
      from = std::stoul(range.substr(6));
      if (from >= content.size()) return {416, {}, ""};
      resp.status = 206;
      resp.headers.emplace_back("Content-Range", "bytes " + std::to_string(from) + "-" +
                                                     std::to_string(content.size() - 1) + "/" + std::to_string(content.size()));
    }
    resp.body = content.substr(from);
    if (cdn_truncate[path] > 0) {
      --cdn_truncate[path];
      resp.truncate_after = static_cast<long>(resp.body.size() / 2);
    }
    return resp;
  }

  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> cdn_blobs_;  // sha256 -> repository path, content
  TestHttpServer cdn_, hub_;
};

}  // namespace robotrain::test
