#pragma once
// The Hugging Face Hub HTTP endpoints a dataset or model download needs (huggingface_hub hf_api.py /
// file_download.py): refs, revision info, the recursive tree listing, and file metadata from
// a HEAD on the resolve URL. Errors name the repository and say how to fix access.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/hf_repo_type.h"
#include "util/http.h"

namespace robotrain::storage {

struct HubRef {
  std::string name;
  std::string target_commit;
  bool is_tag = false;
};

struct HubFile {
  std::string path;
  int64_t size = 0;
  std::string oid;     // git blob sha1
  std::string sha256;  // LFS object id; empty for plain git files
  std::string etag() const { return sha256.empty() ? oid : sha256; }
};

struct HubFileMetadata {
  std::string commit;        // X-Repo-Commit
  std::string etag;          // X-Linked-Etag or ETag, quotes and W/ removed
  int64_t size = -1;         // X-Linked-Size or Content-Length
  std::string download_url;  // the CDN location for LFS files, else the resolve URL
};

class HubClient {
 public:
  HubClient(std::string endpoint, std::string token, std::string repo_id, HubRepoType type = HubRepoType::Dataset);

  const std::string& endpoint() const { return endpoint_; }
  std::vector<HubRef> list_refs() const;
  // The commit a branch, tag or commit resolves to.
  std::string resolve_commit(const std::string& revision) const;
  // Every file at `revision` (recursive, following Link: rel="next" pages). Paths are
  // checked (check_repo_path), object ids must be 40/64 lowercase hex; a listing that loops
  // or does not end is an error.
  std::vector<HubFile> list_files(const std::string& revision) const;
  // The HEAD of the resolve URL; its ETag and X-Repo-Commit must be object / commit ids, and
  // a redirect must be one util::redirect_rule follows.
  HubFileMetadata file_metadata(const std::string& commit, const std::string& path) const;
  std::string resolve_url(const std::string& revision, const std::string& path) const;

  // Authorization and client headers for a request to `url` (no token sent off the endpoint's host).
  std::vector<std::pair<std::string, std::string>> headers_for(const std::string& url) const;
  // Throws the hub-specific error for a failed response (repo not found / gated / revision).
  [[noreturn]] void fail(const util::HttpRequest& request, const util::HttpResponse& response,
                         const std::string& what) const;
  util::RetryPolicy retry_policy() const;
  // $HF_HUB_ETAG_TIMEOUT (API, metadata) or $HF_HUB_DOWNLOAD_TIMEOUT (file bodies), when set,
  // as the request's connect and stall timeouts.
  void apply_timeouts(util::HttpRequest& request, bool file_body) const;

 private:
  util::HttpResponse get(const std::string& url, const std::string& what) const;
  std::string api_base() const;
  std::string describe() const;  // "dataset owner/name" / "model owner/name"
  std::string endpoint_, token_, repo_id_;
  HubRepoType type_;
};

// The Hub's JSON answers, parsed (pure functions: the client calls them, the fuzzer too).
// A malformed answer is a RuntimeError naming `who`, the repository ("dataset owner/name").
std::vector<HubRef> parse_refs(const std::string& body, const std::string& who);
std::string parse_revision_sha(const std::string& body, const std::string& who, const std::string& revision);
std::vector<HubFile> parse_tree_page(const std::string& body, const std::string& who);

// huggingface_hub's etag normalisation: drop a weak "W/" prefix and surrounding quotes.
std::string normalize_etag(const std::string& etag);
// The URL in a Link header's rel="next" entry, or "".
std::string next_page_link(const std::string& link_header);

}  // namespace robotrain::storage
