#include "storage/blob_url.h"

#include <algorithm>

#include "util/error.h"
#include "util/http.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace {

constexpr const char* kExpected = "https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX";

// Control characters would let a URL inject lines into logs and job manifests; show them escaped.
std::string printable(const std::string& url) {
  std::string out;
  for (unsigned char c : url) {
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The URL as a message may show it: user:password@, the query (SAS signatures) and the
// fragment replaced by "***", so the warning about a secret never repeats the secret.
std::string shown(const std::string& url) {
  std::string out = util::redact_url(url);
  size_t sep = url.find("://");
  if (sep != std::string::npos) {
    size_t end = std::min(url.find_first_of("/?#", sep + 3), url.size());
    if (url.substr(sep + 3, end - sep - 3).find('@') != std::string::npos) out.insert(sep + 3, "***@");
  }
  size_t q = url.find_first_of("?#");
  if (q != std::string::npos) out += url.substr(q, 1) + "***";
  return printable(out);
}

[[noreturn]] void reject(const std::string& flag, const std::string& reason, const std::string& url,
                         const std::string& fix) {
  throw util::InputError(util::cat(flag, " ", reason, ": ", shown(url), " (", fix, ")"));
}

BlobLocation parse_with_label(const std::string& url, const std::string& flag) {
  for (unsigned char c : url)
    if (c < 0x20 || c == 0x7f)
      reject(flag, "must not contain control characters (CR, LF, NUL, ...)", url, "remove them from the URL");
  if (url.find('\'') != std::string::npos)
    reject(flag, "must not contain single-quote characters", url, "rename the blob prefix or percent-encode it");
  std::string lower = util::to_lower(url);
  if (util::starts_with(lower, "azureml:"))
    reject(flag, "does not accept AzureML asset identifiers", url,
           "pass it as --dataset-asset, or resolve the asset to a direct Azure Blob URL");
  if (util::starts_with(lower, "wasbs://") || util::starts_with(lower, "abfss://"))
    reject(flag, "supports HTTPS Azure Blob URLs only", url, util::cat("use ", kExpected));

  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || url.substr(0, scheme_end) != "https")
    reject(flag, "must be an HTTPS Azure Blob URL", url, util::cat("use ", kExpected));
  std::string rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string::npos && rest.find('?') > rest.find('#'))
    reject(flag, "must not include a fragment", url, "remove the '#...' part");
  if (rest.find('?') != std::string::npos)
    reject(flag, "must not include a query string", url,
           "remove the '?...' part; SAS tokens are not accepted, use a managed identity or az login");
  if (rest.find('#') != std::string::npos) reject(flag, "must not include a fragment", url, "remove the '#...' part");

  size_t slash = rest.find('/');
  std::string netloc = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  // The port check looks at the host after any userinfo, like urllib's parsed.port.
  std::string hostport = netloc.substr(netloc.rfind('@') == std::string::npos ? 0 : netloc.rfind('@') + 1);
  if (hostport.find(':') != std::string::npos)
    reject(flag, "must not include an explicit port", url, util::cat("use ", kExpected));
  if (netloc.find('@') != std::string::npos)
    reject(flag, "must not include userinfo (user:password@host)", url,
           "remove the credentials; they would leak into job manifests and logs");

  std::string host = util::to_lower(hostport);
  if (!util::ends_with(host, kBlobHostSuffix))
    reject(flag, util::cat("must target ", kExpected), url, "dfs/file/queue endpoints and other hosts are not supported");
  BlobLocation loc;
  loc.account = host.substr(0, host.size() - std::string(kBlobHostSuffix).size());
  std::string p = path;
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  size_t cut = p.find('/');
  loc.container = p.substr(0, cut);
  std::string prefix = cut == std::string::npos ? "" : p.substr(cut + 1);
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  loc.prefix = prefix;
  if (loc.account.empty() || loc.account.find('.') != std::string::npos)
    reject(flag, "has an invalid storage account name", url, "the host must be ACCOUNT.blob.core.windows.net");
  if (loc.container.empty()) reject(flag, "must include a Blob container", url, util::cat("use ", kExpected));
  if (loc.prefix.empty())
    reject(flag, "must include a non-empty Blob prefix under the container", url,
           "point at the dataset folder, e.g. .../CONTAINER/datasets/pusht");
  return loc;
}

}  // namespace

BlobLocation parse_blob_url(const std::string& url) { return parse_with_label(url, "--blob-url"); }

void validate_blob_urls(const std::vector<std::string>& urls) {
  if (urls.empty())
    throw util::InputError(util::cat("--blob-url: at least one Blob URL is required (use ", kExpected, ")"));
  if (urls.size() > kMaxBlobUrls)
    throw util::InputError(util::cat("--blob-url: too many Blob URLs (", urls.size(), "); maximum is ", kMaxBlobUrls,
                                     " (merge prefixes or pre-merge the datasets)"));
  for (size_t i = 0; i < urls.size(); ++i) parse_with_label(urls[i], util::cat("--blob-url #", i + 1));
}

std::string blob_url_of(const BlobLocation& location) {
  return util::cat("https://", location.account, kBlobHostSuffix, "/", location.container,
                   location.prefix.empty() ? "" : "/", location.prefix);
}

}  // namespace robotrain::storage
