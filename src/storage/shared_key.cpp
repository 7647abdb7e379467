#include "storage/shared_key.h"

#include <algorithm>
#include <map>

#include "util/crypto.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace {

std::string header_value(const SignedRequestParts& r, const std::string& lower_name) {
  for (const auto& [k, v] : r.headers)
    if (util::to_lower(k) == lower_name) return v;
  return "";
}

}  // namespace

std::string shared_key_string_to_sign(const SignedRequestParts& r) {
  std::string s = r.method + "\n";
  for (const char* name : {"content-encoding", "content-language"}) s += header_value(r, name) + "\n";
  // Since 2015-02-21 a zero Content-Length is signed as the empty string.
  s += (r.content_length == 0 ? std::string() : std::to_string(r.content_length)) + "\n";
  for (const char* name : {"content-md5", "content-type", "date", "if-modified-since", "if-match", "if-none-match",
                           "if-unmodified-since", "range"})
    s += header_value(r, name) + "\n";
  std::map<std::string, std::string> ms;
  for (const auto& [k, v] : r.headers) {
    std::string lower = util::to_lower(k);
    if (util::starts_with(lower, "x-ms-")) ms[lower] = util::trim(v);
  }
  for (const auto& [k, v] : ms) s += k + ":" + v + "\n";
  s += "/" + r.account + r.path;
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [k, v] : r.query) params[util::to_lower(k)].push_back(v);
  for (auto& [k, values] : params) {
    std::sort(values.begin(), values.end());
    s += "\n" + k + ":" + util::join(values, ",");
  }
  return s;
}

std::string shared_key_authorization(const SignedRequestParts& request, const std::string& account_key) {
  std::string key;
  try {
    key = util::base64_decode(account_key);
  } catch (const util::Error&) {
    throw util::InputError(util::cat("storage account key for '", request.account,
                                     "' is not valid base64; copy it again from the portal (Access keys)"));
  }
  std::string sig = util::base64_encode(util::hmac_sha256_raw(key, shared_key_string_to_sign(request)));
  return "SharedKey " + request.account + ":" + sig;
}

}  // namespace robotrain::storage
