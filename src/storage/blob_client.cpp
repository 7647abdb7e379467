#include "storage/blob_client.h"

#include <ctime>

#include "storage/shared_key.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace {

std::string rfc1123_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

constexpr const char* kDevStoreKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string encode_path(const std::string& path) { return util::url_encode(path, /*keep_slash=*/true); }

}  // namespace

BlobAccess blob_access_from_env(BlobAccess access) {
  if (access.endpoint.empty()) access.endpoint = util::get_env_or("AZURE_STORAGE_BLOB_ENDPOINT", "");
  // The emulators' documented development account has a fixed, public key (like the SDKs'
  // UseDevelopmentStorage=true); it is never valid against real Azure.
  if (access.account_key.empty() && !access.token && util::ends_with(access.endpoint, "/devstoreaccount1"))
    access.account_key = util::get_env_or("AZURE_STORAGE_KEY", kDevStoreKey);
  if (access.account_key.empty() && !access.token) access.account_key = util::get_env_or("AZURE_STORAGE_KEY", "");
  if (access.account_key.empty() && !access.token) access.token = util::azure_token_provider(util::kStorageResource);
  return access;
}

BlobClient::BlobClient(BlobAccess access, std::string account) : access_(std::move(access)), account_(std::move(account)) {
  retry_.max_total_s = 300;  // per request: a dead or stalling service fails within minutes
  base_url_ = access_.endpoint.empty() ? util::cat("https://", account_, ".blob.core.windows.net") : access_.endpoint;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  size_t scheme = base_url_.find("://");
  size_t slash = scheme == std::string::npos ? std::string::npos : base_url_.find('/', scheme + 3);
  base_path_ = slash == std::string::npos ? "" : base_url_.substr(slash);
  if (access_.account_key.empty() && !access_.token)
    throw util::InputError(util::cat("no credential for storage account '", account_,
                                     "': set AZURE_STORAGE_KEY or use an Azure AD identity (az login)"));
}

util::HttpResponse BlobClient::send(const Call& call, util::HttpRequest* sent) const {
  util::HttpRequest req;
  req.method = call.method;
  std::string path = base_path_ + encode_path(call.path);
  std::string query;
  for (const auto& [k, v] : call.query) {
    query += query.empty() ? '?' : '&';
    query += util::url_encode(k) + "=" + util::url_encode(v);
  }
  req.url = base_url_ + encode_path(call.path) + query;
  req.headers = call.headers;
  req.headers.push_back({"x-ms-version", kBlobApiVersion});
  req.headers.push_back({"x-ms-date", rfc1123_now()});
  // libcurl would add a form Content-Type to bodies; name the real one so it is also signed.
  if (call.method != "GET" && call.method != "HEAD") {
    bool has_type = false;
    for (const auto& h : req.headers) has_type |= util::to_lower(h.first) == "content-type";
    if (!has_type) req.headers.push_back({"Content-Type", "application/octet-stream"});
  }
  req.body = call.body;
  req.timeout_s = 600;
  req.max_body_bytes = call.max_body_bytes;
  req.insecure_tls = access_.insecure_tls;
  if (!access_.account_key.empty()) {
    SignedRequestParts parts{call.method, account_, path, call.query, req.headers, call.body.size()};
    req.headers.push_back({"Authorization", shared_key_authorization(parts, access_.account_key)});
  } else {
    req.headers.push_back({"Authorization", "Bearer " + access_.token()});
  }
  util::RetryPolicy policy = retry_;
  if (!policy.on_retry)
    policy.on_retry = [&req](int attempt, double delay, const std::string& reason) {
      util::log_warn(req.method, " ", util::redact_url(req.url), ": ", reason, "; retry ", attempt, " in ", delay, " s");
    };
  // x-ms-date must be fresh on every attempt (the service rejects requests older than 15 minutes),
  // but retries here are short, so one signature serves all attempts.
  util::HttpResponse r = util::http_send(req, policy);
  if (sent) *sent = req;
  return r;
}

void BlobClient::fail(const util::HttpRequest& request, const util::HttpResponse& response, const std::string& what) const {
  std::string hint;
  if (response.status == 403)
    hint = access_.account_key.empty()
               ? "; grant the identity 'Storage Blob Data Reader' (or Contributor) on the account, or set AZURE_STORAGE_KEY"
               : "; check AZURE_STORAGE_KEY belongs to this account";
  else if (response.status == 404)
    hint = "; check the account, container and prefix of the URL";
  throw util::RuntimeError(util::cat(what, ": ", util::describe_http_failure(request, response), hint));
}

BlobPage BlobClient::list_page(const std::string& container, const std::string& prefix, const std::string& marker,
                               int max_results) const {
  Call call;
  call.path = "/" + container;
  call.query = {{"restype", "container"}, {"comp", "list"}, {"prefix", prefix}};
  if (!marker.empty()) call.query.push_back({"marker", marker});
  if (max_results > 0) call.query.push_back({"maxresults", std::to_string(max_results)});
  call.max_body_bytes = kMaxListingPageBytes;
  util::HttpRequest sent;
  auto r = send(call, &sent);
  if (!r.ok()) fail(sent, r, util::cat("listing ", account_, "/", container, "/", prefix));
  return parse_blob_listing(r.body);
}

std::string BlobClient::get_range(const std::string& container, const std::string& name, uint64_t offset,
                                  uint64_t length, const std::string& etag) const {
  Call call;
  call.path = "/" + container + "/" + name;
  call.max_body_bytes = length;  // never more than the range asked for
  if (!etag.empty()) call.headers.push_back({"If-Match", etag});
  call.headers.push_back({"x-ms-range", util::cat("bytes=", offset, "-", offset + length - 1)});
  // The service computes a range MD5 only for ranges up to 4 MiB.
  bool want_md5 = length <= (4u << 20);
  if (want_md5) call.headers.push_back({"x-ms-range-get-content-md5", "true"});
  util::HttpRequest sent;
  auto r = send(call, &sent);
  const std::string shown = util::one_line(name, 200);
  if (r.status == 412)
    throw util::RuntimeError(util::cat("downloading ", shown, ": the blob changed while it was being downloaded; ",
                                       "retry once writers have finished"));
  if (!r.ok()) fail(sent, r, util::cat("downloading ", shown));
  if (r.body.size() != length)
    throw BlobIntegrityError(util::cat("downloading ", shown, " bytes ", offset, "+", length, ": got ", r.body.size(),
                                       " bytes (connection cut?); retry"));
  std::string md5 = r.header("content-md5");
  // A range covering the whole blob may carry the blob's stored Content-MD5 instead of a computed
  // one (Azurite does); the caller checks whole blobs against the listing, so skip it here.
  std::string content_range = r.header("content-range");
  bool whole_blob = offset == 0 && util::ends_with(content_range, "/" + std::to_string(length));
  if (want_md5 && r.status == 206 && !whole_blob && !md5.empty() && util::base64_encode(util::md5_raw(r.body)) != md5)
    throw BlobIntegrityError(util::cat("downloading ", shown, " bytes ", offset, "+", length,
                                       ": Content-MD5 mismatch (corrupted in transit); retry"));
  return r.body;
}

std::string BlobClient::get_blob(const std::string& container, const std::string& name) const {
  Call call;
  call.path = "/" + container + "/" + name;
  util::HttpRequest sent;
  auto r = send(call, &sent);
  if (!r.ok()) fail(sent, r, util::cat("downloading ", util::one_line(name, 200)));
  return r.body;
}

void BlobClient::put_blob(const std::string& container, const std::string& name, const std::string& data,
                          const std::string& content_md5) const {
  Call call;
  call.method = "PUT";
  call.path = "/" + container + "/" + name;
  call.headers.push_back({"x-ms-blob-type", "BlockBlob"});
  if (!content_md5.empty()) call.headers.push_back({"x-ms-blob-content-md5", content_md5});
  call.body = data;
  util::HttpRequest sent;
  auto r = send(call, &sent);
  if (!r.ok()) fail(sent, r, util::cat("uploading ", util::one_line(name, 200)));
}

void BlobClient::put_block(const std::string& container, const std::string& name, const std::string& block_id,
                           const std::string& data) const {
  Call call;
  call.method = "PUT";
  call.path = "/" + container + "/" + name;
  call.query = {{"comp", "block"}, {"blockid", block_id}};
  call.body = data;
  util::HttpRequest sent;
  auto r = send(call, &sent);
  if (!r.ok()) fail(sent, r, util::cat("uploading a block of ", util::one_line(name, 200)));
}

void BlobClient::put_block_list(const std::string& container, const std::string& name,
                                const std::vector<std::string>& block_ids, const std::string& content_md5) const {
  Call call;
  call.method = "PUT";
  call.path = "/" + container + "/" + name;
  call.query = {{"comp", "blocklist"}};
  call.headers.push_back({"Content-Type", "application/xml"});
  if (!content_md5.empty()) call.headers.push_back({"x-ms-blob-content-md5", content_md5});
  call.body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const auto& id : block_ids) call.body += "<Latest>" + id + "</Latest>";
  call.body += "</BlockList>";
  util::HttpRequest sent;
  auto r = send(call, &sent);
  if (!r.ok()) fail(sent, r, util::cat("committing the blocks of ", util::one_line(name, 200)));
}

void BlobClient::create_container(const std::string& container) const {
  Call call;
  call.method = "PUT";
  call.path = "/" + container;
  call.query = {{"restype", "container"}};
  util::HttpRequest sent;
  auto r = send(call, &sent);
  if (r.status == 409) return;  // ContainerAlreadyExists
  if (!r.ok()) fail(sent, r, util::cat("creating container ", container));
}

}  // namespace robotrain::storage
