#include "storage/hf_api.h"

#include <set>

#include "storage/hf_cache.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::storage {

using util::cat;

namespace {

std::string host_of(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t end = url.find_first_of("/?#", scheme + 3);
  return url.substr(scheme + 3, end == std::string::npos ? std::string::npos : end - scheme - 3);
}

// Pagination guards: a listing that never ends or loops is an error, not a hang.
constexpr int kMaxTreePages = 100000;
constexpr size_t kMaxTreeFiles = 2000000;

// Runs parse(json of body); invalid JSON, or JSON of unexpected types, is a RuntimeError.
template <class Fn>
auto parse_answer(const std::string& body, const std::string& who, const char* what, Fn&& parse) {
  try {
    return parse(util::Json::parse(body));
  } catch (const util::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw util::RuntimeError(cat(who, ": the hub's ", what, " is malformed (",
                                 util::one_line(e.what(), 200), ")"));
  }
}

// huggingface_hub's timeouts: HF_HUB_ETAG_TIMEOUT for API and metadata calls,
// HF_HUB_DOWNLOAD_TIMEOUT for file bodies; here both bound connecting and stalling.
double env_timeout_s(const char* name) {
  double v = 0;
  return util::parse_double(util::trim(util::get_env_or(name, "")), v) && v > 0 ? v : 0;
}

}  // namespace

std::vector<HubRef> parse_refs(const std::string& body, const std::string& who) {
  return parse_answer(body, who, "list of refs", [](const util::Json& j) {
    std::vector<HubRef> refs;
    for (const char* kind : {"branches", "tags"}) {
      if (!j.contains(kind) || !j[kind].is_array()) continue;
      for (const auto& r : j[kind])
        refs.push_back({r.value("name", ""), r.value("targetCommit", ""), std::string(kind) == "tags"});
    }
    return refs;
  });
}

std::string parse_revision_sha(const std::string& body, const std::string& who, const std::string& revision) {
  std::string sha = parse_answer(body, who, "revision info", [](const util::Json& j) {
    return j.is_object() && j.contains("sha") && j["sha"].is_string() ? j["sha"].get<std::string>() : std::string();
  });
  if (sha.empty()) throw util::RuntimeError(cat(who, ": revision ", revision, " has no commit sha in the hub's answer"));
  check_commit_id(sha, cat(who, " revision ", revision));
  return sha;
}

std::vector<HubFile> parse_tree_page(const std::string& body, const std::string& who) {
  return parse_answer(body, who, "tree listing", [&](const util::Json& j) {
    if (!j.is_array()) throw util::RuntimeError(cat(who, ": tree listing is not a JSON array"));
    std::vector<HubFile> files;
    for (const auto& e : j) {
      if (e.value("type", "") != "file") continue;
      HubFile f;
      f.path = e.value("path", "");
      f.size = e.value("size", int64_t{0});
      f.oid = e.value("oid", "");
      if (e.contains("lfs") && e["lfs"].is_object()) {
        f.sha256 = e["lfs"].value("oid", e["lfs"].value("sha256", ""));
        f.size = e["lfs"].value("size", f.size);
      }
      check_repo_path(f.path);
      std::string what = cat("the listing of ", util::one_line(f.path, 200));
      if (!f.oid.empty()) check_object_id(f.oid, what);
      if (!f.sha256.empty()) check_object_id(f.sha256, what);
      if (f.size < 0) throw util::RuntimeError(cat("hub: ", what, " gives a negative size"));
      files.push_back(std::move(f));
    }
    return files;
  });
}

std::string normalize_etag(const std::string& etag) {
  std::string e = util::trim(etag);
  if (util::starts_with(e, "W/")) e.erase(0, 2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

std::string next_page_link(const std::string& link_header) {
  // Link: <https://huggingface.co/api/...?cursor=...>; rel="next", <...>; rel="prev"
  for (const auto& entry : util::split(link_header, ',')) {
    size_t lt = entry.find('<'), gt = entry.find('>');
    if (lt == std::string::npos || gt == std::string::npos || gt < lt) continue;
    std::string params = util::replace_all(entry.substr(gt + 1), " ", "");
    if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos)
      return entry.substr(lt + 1, gt - lt - 1);
  }
  return "";
}

HubClient::HubClient(std::string endpoint, std::string token, std::string repo_id, HubRepoType type)
    : endpoint_(std::move(endpoint)), token_(std::move(token)), repo_id_(std::move(repo_id)), type_(type) {
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
}

std::string HubClient::api_base() const { return endpoint_ + "/api/" + repo_type_plural(type_) + "/" + repo_id_; }

std::string HubClient::describe() const { return repo_type_word(type_) + " " + repo_id_; }

std::string HubClient::resolve_url(const std::string& revision, const std::string& path) const {
  // Model repositories sit at the top of the Hub's URL space, datasets under /datasets/.
  std::string repo_path = type_ == HubRepoType::Model ? "/" + repo_id_ : "/datasets/" + repo_id_;
  return endpoint_ + repo_path + "/resolve/" + util::url_encode(revision) + "/" + util::url_encode(path, true);
}

std::vector<std::pair<std::string, std::string>> HubClient::headers_for(const std::string& url) const {
  std::vector<std::pair<std::string, std::string>> h{{"User-Agent", "robotrain/0.1; hf_hub/compatible"}};
  if (!token_.empty() && host_of(url) == host_of(endpoint_)) h.emplace_back("Authorization", "Bearer " + token_);
  return h;
}

void HubClient::apply_timeouts(util::HttpRequest& request, bool file_body) const {
  double t = env_timeout_s(file_body ? "HF_HUB_DOWNLOAD_TIMEOUT" : "HF_HUB_ETAG_TIMEOUT");
  if (t > 0) {
    request.connect_timeout_s = t;
    request.stall_timeout_s = t;
  }
}

util::RetryPolicy HubClient::retry_policy() const {
  util::RetryPolicy p;
  p.max_total_s = 300;  // per request; a file body is bounded by its stall timeout and size instead
  p.on_retry = [](int attempt, double delay, const std::string& reason) {
    util::log_warn("hub: ", reason, "; retry ", attempt, " in ", static_cast<int>(delay + 0.5), " s");
  };
  return p;
}

void HubClient::fail(const util::HttpRequest& req, const util::HttpResponse& resp, const std::string& what) const {
  std::string code = resp.header("x-error-code");
  std::string where = cat(describe(), " on ", util::redact_url(endpoint_));
  std::string auth_hint = token_.empty() ? "set HF_TOKEN (or $HF_HOME/token) to a token that can read it"
                                         : "check that HF_TOKEN can read it";
  if (code == "GatedRepo" || (resp.status == 403 && code.empty()))
    throw util::RuntimeError(cat(where, " is gated or forbidden (", what, ": HTTP ", resp.status,
                                 "): accept its conditions at ", util::redact_url(endpoint_),
                                 type_ == HubRepoType::Model ? "/" : "/datasets/", repo_id_, " and ", auth_hint));
  if (code == "RepoNotFound" || resp.status == 401)
    throw util::RuntimeError(cat(where, " was not found or is private (", what, ": HTTP ", resp.status,
                                 "): check the repo id, and ", auth_hint));
  if (code == "RevisionNotFound")
    throw util::RuntimeError(cat(where, ": revision not found (", what, "); check ", revision_flag(type_)));
  if (code == "EntryNotFound")
    throw util::RuntimeError(cat(where, ": file not found (", what, ")"));
  if (resp.status == 404)
    throw util::RuntimeError(cat(where, ": not found (", what, ": HTTP 404); check the repo id and revision, or ",
                                 auth_hint, " if it is private"));
  throw util::RuntimeError(cat(where, ": ", util::describe_http_failure(req, resp)));
}

util::HttpResponse HubClient::get(const std::string& url, const std::string& what) const {
  util::HttpRequest req;
  req.url = url;
  req.headers = headers_for(url);
  apply_timeouts(req, false);
  util::HttpResponse resp = util::http_send(req, retry_policy());
  if (!resp.ok()) fail(req, resp, what);
  return resp;
}

std::vector<HubRef> HubClient::list_refs() const {
  util::HttpRequest req;
  req.url = api_base() + "/refs";
  auto resp = get(req.url, "listing refs");
  return parse_refs(resp.body, describe());
}

std::string HubClient::resolve_commit(const std::string& revision) const {
  util::HttpRequest req;
  req.url = api_base() + "/revision/" + util::url_encode(revision);
  auto resp = get(req.url, cat("resolving revision ", revision));
  return parse_revision_sha(resp.body, describe(), revision);
}

std::vector<HubFile> HubClient::list_files(const std::string& revision) const {
  std::vector<HubFile> files;
  std::set<std::string> seen_pages;
  std::string url = api_base() + "/tree/" + util::url_encode(revision) + "?recursive=true&expand=false";
  for (int page = 0; !url.empty(); ++page) {
    if (page >= kMaxTreePages || files.size() > kMaxTreeFiles)
      throw util::RuntimeError(cat(describe(), ": the tree listing does not end (", page, " pages, ",
                                   files.size(), " files); is ", endpoint_, " a Hugging Face Hub?"));
    if (!seen_pages.insert(url).second)
      throw util::RuntimeError(cat(describe(), ": the tree listing loops (page ", util::one_line(util::redact_url(url), 200),
                                   " came back as its own next page); retry later"));
    auto resp = get(url, "listing files");
    for (auto& f : parse_tree_page(resp.body, describe())) files.push_back(std::move(f));
    std::string next = next_page_link(resp.header("link"));
    if (!next.empty() && next.find("://") == std::string::npos) next = endpoint_ + next;
    url = next;
  }
  return files;
}

HubFileMetadata HubClient::file_metadata(const std::string& commit, const std::string& path) const {
  std::string url = resolve_url(commit, path);
  for (int hop = 0; hop < 10; ++hop) {
    util::HttpRequest req;
    req.method = "HEAD";
    req.url = url;
    req.headers = headers_for(url);
    req.headers.emplace_back("Accept-Encoding", "identity");
    req.follow_redirects = false;
    apply_timeouts(req, false);
    auto resp = util::http_send(req, retry_policy());
    std::string location = resp.header("location");
    bool redirect = resp.status >= 300 && resp.status < 400 && !location.empty();
    if (!resp.ok() && !redirect) fail(req, resp, cat("HEAD ", path));
    if (redirect) {
      // Where the bytes are (the LFS CDN) obeys the same redirect rules as any other hop.
      std::string target = util::resolve_location(url, location);
      util::RedirectRule rule = util::redirect_rule(url, target);
      if (!rule.follow)
        throw util::RuntimeError(cat(describe(), ": ", util::one_line(path, 200), " redirects to ",
                                     util::one_line(util::redact_url(target), 200), "; refused (", rule.refusal, ")"));
      if (location.find("://") == std::string::npos) {
        // A relative redirect stays on the hub (renamed repository): ask again there.
        url = target;
        continue;
      }
      location = target;
    }
    HubFileMetadata m;
    m.commit = resp.header("x-repo-commit");
    m.etag = normalize_etag(!resp.header("x-linked-etag").empty() ? resp.header("x-linked-etag") : resp.header("etag"));
    std::string what = cat("the HEAD of ", util::one_line(path, 200));
    if (!m.etag.empty()) check_object_id(m.etag, what);
    if (!m.commit.empty()) check_commit_id(m.commit, what);
    std::string size = !resp.header("x-linked-size").empty() ? resp.header("x-linked-size") : resp.header("content-length");
    int64_t n = -1;
    if (util::parse_int64(size, n)) m.size = n;
    m.download_url = redirect ? location : url;
    return m;
  }
  throw util::RuntimeError(cat(describe(), ": too many redirects resolving ", path));
}

}  // namespace robotrain::storage
