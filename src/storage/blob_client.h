#pragma once
// The handful of Blob REST operations robotrain needs (list, ranged get, put, block upload,
// create container), signed with Shared Key or an AAD bearer token, retried through util/http.
#include <cstdint>
#include <string>
#include <vector>

#include "util/azure_credential.h"
#include "storage/blob_listing.h"
#include "util/http.h"

namespace robotrain::storage {

inline constexpr const char* kBlobApiVersion = "2023-11-03";
// A List Blobs page of 5000 long names is under 10 MiB.
inline constexpr uint64_t kMaxListingPageBytes = 16ull << 20;

// A complete answer with the wrong bytes (shorter than the range, Content-MD5 mismatch):
// worth another GET, unlike a transport failure, which util::http_send has already retried.
class BlobIntegrityError : public util::NetworkError {
 public:
  using util::NetworkError::NetworkError;
};

struct BlobAccess {
  // "" = https://ACCOUNT.blob.core.windows.net; e.g. http://127.0.0.1:PORT/devstoreaccount1 for Azurite.
  std::string endpoint;
  // Shared Key when set (e.g. from AZURE_STORAGE_KEY).
  std::string account_key;
  // Otherwise a bearer token for https://storage.azure.com/ (util::azure_token_provider(util::kStorageResource)).
  util::TokenProvider token;
  // Skip TLS verification: only for emulators on loopback with self-signed certificates.
  bool insecure_tls = false;
};

// Fills unset credentials from the environment: AZURE_STORAGE_KEY (Shared Key), then the
// Azure AD chain for storage; AZURE_STORAGE_BLOB_ENDPOINT sets the endpoint when empty. An
// endpoint ending in /devstoreaccount1 (Azurite) gets the emulator's well-known key by default.
BlobAccess blob_access_from_env(BlobAccess access = {});

class BlobClient {
 public:
  BlobClient(BlobAccess access, std::string account);
  // "https://ACCOUNT.blob.core.windows.net" or the custom endpoint, without trailing '/'.
  const std::string& base_url() const { return base_url_; }
  void set_retry_policy(util::RetryPolicy policy) { retry_ = std::move(policy); }

  BlobPage list_page(const std::string& container, const std::string& prefix, const std::string& marker,
                     int max_results) const;
  // Bytes [offset, offset + length); checks the range's Content-MD5 when the service sends one.
  // With an etag, a blob replaced since it was listed fails (412) instead of mixing versions.
  // A body longer than the range is refused as it arrives (util::RuntimeError); a shorter
  // one or a bad MD5 is a BlobIntegrityError.
  std::string get_range(const std::string& container, const std::string& name, uint64_t offset, uint64_t length,
                        const std::string& etag = "") const;
  std::string get_blob(const std::string& container, const std::string& name) const;
  // content_md5: base64 MD5 of the whole blob, stored as its Content-MD5 property ("" = none).
  void put_blob(const std::string& container, const std::string& name, const std::string& data,
                const std::string& content_md5 = "") const;
  void put_block(const std::string& container, const std::string& name, const std::string& block_id,
                 const std::string& data) const;
  void put_block_list(const std::string& container, const std::string& name, const std::vector<std::string>& block_ids,
                      const std::string& content_md5 = "") const;
  // Succeeds when the container already exists.
  void create_container(const std::string& container) const;

 private:
  struct Call {
    std::string method = "GET";
    std::string path;  // "/container/blob", unencoded
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    uint64_t max_body_bytes = util::kDefaultMaxBodyBytes;
  };
  util::HttpResponse send(const Call& call, util::HttpRequest* sent = nullptr) const;
  [[noreturn]] void fail(const util::HttpRequest& request, const util::HttpResponse& response,
                         const std::string& what) const;

  BlobAccess access_;
  std::string account_;
  std::string base_url_;
  std::string base_path_;  // path part of base_url_ ("/devstoreaccount1" for Azurite), for signing
  util::RetryPolicy retry_;
};

}  // namespace robotrain::storage
