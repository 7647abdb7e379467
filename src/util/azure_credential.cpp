#include "util/azure_credential.h"

#include <ctime>
#include <memory>
#include <mutex>
#include <optional>

#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::util {

namespace {

constexpr int64_t kRefreshMarginS = 300;

int64_t now_s() { return now_ms() / 1000; }

std::string env(const char* name) { return get_env_or(name, ""); }

std::string json_string(const Json& j, const char* key) {
  if (!j.contains(key)) return "";
  const auto& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  // A number beyond int64_t is no time at all: read as absent (the short default lifetime).
  if (auto seconds = integer_if_fits<int64_t>(v)) return std::to_string(*seconds);
  return "";
}

// The JSON token answer shared by AAD, MSI and IMDS: {access_token, expires_on | expires_in}.
AccessToken token_from_json(const HttpResponse& r, const std::string& source) {
  Json j;
  try {
    j = Json::parse(r.body);
  } catch (const std::exception&) {
    throw RuntimeError(cat(source, " returned a body that is not JSON"));
  }
  AccessToken t;
  t.token = json_string(j, "access_token");
  if (t.token.empty()) throw RuntimeError(cat(source, " returned no access_token"));
  t.expires_on = parse_token_expiry(json_string(j, "expires_on"), json_string(j, "expires_in"), now_s());
  return t;
}

std::string scope_for(const std::string& resource) {
  std::string r = resource;
  while (!r.empty() && r.back() == '/') r.pop_back();
  return r + "/.default";
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : fields) parts.push_back(url_encode(k) + "=" + url_encode(v));
  return join(parts, "&");
}

// Token endpoints answer in well under a second: a few quick retries within a minute.
RetryPolicy short_retries() {
  RetryPolicy p;
  p.max_retries = 2;
  p.base_delay_s = 0.5;
  p.jitter_s = 0.25;
  p.max_total_s = 60;
  p.connect_timeout_s = 10;
  return p;
}

// A token answer is a few KiB; anything near this is not a token endpoint.
constexpr uint64_t kMaxTokenAnswerBytes = 1 << 20;

// One way of getting a token: nullopt when it does not apply here (with the reason in `why`).
using Source = std::function<std::optional<AccessToken>(const std::string& resource, std::string& why)>;

std::optional<AccessToken> workload_identity(const std::string& resource, std::string& why) {
  std::string file = env("AZURE_FEDERATED_TOKEN_FILE"), client = env("AZURE_CLIENT_ID"), tenant = env("AZURE_TENANT_ID");
  if (file.empty() || client.empty() || tenant.empty()) {
    why = "AZURE_FEDERATED_TOKEN_FILE/AZURE_CLIENT_ID/AZURE_TENANT_ID not set";
    return std::nullopt;
  }
  std::string authority = get_env_or("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/");
  if (authority.back() != '/') authority += '/';
  // Re-read on every refresh: kubelet rotates the projected token file.
  std::string assertion = trim(read_file(file));
  HttpRequest req;
  req.method = "POST";
  req.url = authority + tenant + "/oauth2/v2.0/token";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.max_body_bytes = kMaxTokenAnswerBytes;
  req.body = form_encode({{"grant_type", "client_credentials"},
                          {"client_id", client},
                          {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
                          {"client_assertion", assertion},
                          {"scope", scope_for(resource)}});
  auto r = http_send(req, short_retries());
  if (!r.ok()) throw RuntimeError(describe_http_failure(req, r));
  return token_from_json(r, "workload identity token endpoint");
}

std::optional<AccessToken> msi_endpoint(const std::string& resource, std::string& why) {
  std::string endpoint = env("MSI_ENDPOINT");
  bool identity_endpoint = endpoint.empty();
  if (identity_endpoint) endpoint = env("IDENTITY_ENDPOINT");
  if (endpoint.empty()) {
    why = "MSI_ENDPOINT/IDENTITY_ENDPOINT not set";
    return std::nullopt;
  }
  std::string client = get_env_or("DEFAULT_IDENTITY_CLIENT_ID", env("AZURE_CLIENT_ID"));
  HttpRequest req;
  std::string sep = endpoint.find('?') == std::string::npos ? "?" : "&";
  // App Service style (IDENTITY_ENDPOINT + IDENTITY_HEADER) uses a newer API and header name.
  if (identity_endpoint && !env("IDENTITY_HEADER").empty()) {
    req.url = cat(endpoint, sep, "api-version=2019-08-01&resource=", url_encode(resource),
                        client.empty() ? "" : "&client_id=" + url_encode(client));
    req.headers.push_back({"X-IDENTITY-HEADER", env("IDENTITY_HEADER")});
  } else {
    req.url = cat(endpoint, sep, "api-version=2017-09-01&resource=", url_encode(resource),
                        client.empty() ? "" : "&clientid=" + url_encode(client));
    if (!env("MSI_SECRET").empty()) req.headers.push_back({"secret", env("MSI_SECRET")});
  }
  req.headers.push_back({"Metadata", "true"});
  req.max_body_bytes = kMaxTokenAnswerBytes;
  auto r = http_send(req, short_retries());
  if (!r.ok()) throw RuntimeError(describe_http_failure(req, r));
  return token_from_json(r, "managed identity endpoint");
}

std::optional<AccessToken> imds(const std::string& resource, std::string&) {
  std::string base = get_env_or("ROBOTRAIN_IMDS_ENDPOINT", "http://169.254.169.254");
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string client = env("AZURE_CLIENT_ID");
  HttpRequest req;
  req.url = cat(base, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=", url_encode(resource),
                      client.empty() ? "" : "&client_id=" + url_encode(client));
  req.headers = {{"Metadata", "true"}};
  req.max_body_bytes = kMaxTokenAnswerBytes;
  // Off Azure the address is unroutable: fail fast instead of waiting for the usual timeouts.
  req.connect_timeout_s = 2;
  req.timeout_s = 20;
  RetryPolicy policy = short_retries();
  policy.retry_statuses.push_back(410);  // IMDS answers 410 while it is being updated
  HttpResponse r;
  try {
    r = http_send_once(req);
    if (is_retryable_status(r.status, policy)) r = http_send(req, policy);
  } catch (const NetworkError&) {
    throw RuntimeError(cat("not reachable at ", redact_url(base), " (not an Azure VM?)"));
  }
  if (!r.ok()) throw RuntimeError(describe_http_failure(req, r));
  return token_from_json(r, "IMDS");
}

std::optional<AccessToken> azure_cli(const std::string& resource, std::string& why) {
  if (!find_in_path("az")) {
    why = "`az` not found on PATH";
    return std::nullopt;
  }
  ProcessOptions opt;
  opt.timeout_s = 60;
  auto r = run_process({"az", "account", "get-access-token", "--resource", resource, "-o", "json"}, opt);
  if (r.exit_code != 0) {
    std::string err = trim(r.err);
    throw RuntimeError(cat("`az account get-access-token` failed: ", one_line(err, 300), " (run `az login`)"));
  }
  Json j = Json::parse(r.out);
  AccessToken t;
  t.token = json_string(j, "accessToken");
  if (t.token.empty()) throw RuntimeError("`az account get-access-token` returned no accessToken");
  std::string epoch = json_string(j, "expires_on");
  if (!epoch.empty()) {
    t.expires_on = parse_token_expiry(epoch, "", now_s());
  } else {
    // Older CLIs only give expiresOn in local time: "2026-11-25 02:23:21.000000".
    std::tm tm{};
    std::string local = json_string(j, "expiresOn");
    if (strptime(local.c_str(), "%Y-%m-%d %H:%M:%S", &tm)) {
      tm.tm_isdst = -1;
      t.expires_on = static_cast<int64_t>(std::mktime(&tm));
    } else {
      t.expires_on = now_s() + 1800;
    }
  }
  return t;
}

struct NamedSource {
  const char* name;
  Source fetch;
};

const std::vector<NamedSource>& chain() {
  static const std::vector<NamedSource> sources = {{"workload identity", workload_identity},
                                                   {"managed identity endpoint", msi_endpoint},
                                                   {"IMDS managed identity", imds},
                                                   {"Azure CLI", azure_cli}};
  return sources;
}

struct CredentialState {
  std::mutex mutex;
  std::string resource;
  std::optional<size_t> source;  // index into chain() once one worked
  AccessToken token;
};

AccessToken fetch_from_chain(CredentialState& s) {
  if (s.source) {
    std::string why;
    if (auto t = chain()[*s.source].fetch(s.resource, why)) return *t;
    throw RuntimeError(cat(chain()[*s.source].name, " no longer available for ", s.resource, ": ", why));
  }
  std::vector<std::string> tried;
  for (size_t i = 0; i < chain().size(); ++i) {
    std::string why;
    try {
      if (auto t = chain()[i].fetch(s.resource, why)) {
        s.source = i;
        log_debug("Azure token for ", s.resource, " from ", chain()[i].name);
        return *t;
      }
    } catch (const Error& e) {
      why = e.what();
    } catch (const std::exception& e) {
      why = e.what();
    }
    tried.push_back(cat(chain()[i].name, ": ", why));
  }
  const bool storage = starts_with(s.resource, kStorageResource);
  throw RuntimeError(cat("no Azure credential for ", s.resource, " (tried ", join(tried, "; "),
                         "); run `az login`, use a managed identity",
                         storage ? ", or set AZURE_STORAGE_KEY for storage" : ""));
}

}  // namespace

int64_t parse_token_expiry(const std::string& expires_on, const std::string& expires_in, int64_t now) {
  int64_t v = 0;
  if (!expires_on.empty() && parse_int64(trim(expires_on), v)) return v;
  if (!expires_on.empty()) {
    std::tm tm{};
    if (strptime(expires_on.c_str(), "%m/%d/%Y %H:%M:%S", &tm)) return static_cast<int64_t>(timegm(&tm));
  }
  int64_t at = 0;  // a lifetime so long that now + it overflows is read as unknown
  if (!expires_in.empty() && parse_int64(trim(expires_in), v) && !__builtin_add_overflow(now, v, &at)) return at;
  return now + 600;  // unknown: assume short-lived so it is refreshed soon
}

TokenProvider azure_token_provider(const std::string& resource) {
  auto state = std::make_shared<CredentialState>();
  state->resource = resource;
  return [state]() {
    std::lock_guard lock(state->mutex);
    if (!state->token.token.empty() && now_s() < state->token.expires_on - kRefreshMarginS) return state->token.token;
    state->token = fetch_from_chain(*state);
    return state->token.token;
  };
}

}  // namespace robotrain::util
