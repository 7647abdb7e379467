#pragma once
// Azure Storage Shared Key authorization (the account key signs each request with HMAC-SHA256),
// used with AZURE_STORAGE_KEY and with the Azurite emulator's well-known key.
#include <string>
#include <utility>
#include <vector>

namespace robotrain::storage {

struct SignedRequestParts {
  std::string method;
  std::string account;
  std::string path;  // URL path as sent (percent-encoded), starting with '/'
  std::vector<std::pair<std::string, std::string>> query;    // decoded name/value pairs
  std::vector<std::pair<std::string, std::string>> headers;  // as sent
  size_t content_length = 0;
};

// The string-to-sign of the 2009-09-19+ Shared Key scheme (exposed for tests).
std::string shared_key_string_to_sign(const SignedRequestParts& request);
// "SharedKey ACCOUNT:SIGNATURE" for the request; account_key is the base64 key.
std::string shared_key_authorization(const SignedRequestParts& request, const std::string& account_key);

}  // namespace robotrain::storage
