#include "util/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "util/strings.h"

namespace robotrain::util {

namespace {

std::once_flag curl_init_once;
double g_sleep_scale = 1.0;

constexpr double kDefaultStallTimeoutS = 30;
constexpr size_t kMaxErrorBodyBytes = 64 << 10;
constexpr size_t kMaxHeaderBytes = 256 << 10;

// Headers that carry a credential and must not follow a redirect to another origin: the
// bearer/shared-key Authorization, cookies, and the managed identity endpoints' secrets.
bool is_credential_header(std::string_view name) {
  std::string n = to_lower(name);
  return n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "secret" ||
         n == "x-identity-header";
}

double steady_now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double default_stall_timeout_s() {
  static const double value = [] {
    const char* env = std::getenv("ROBOTRAIN_HTTP_STALL_S");
    double v = 0;
    return env && parse_double(trim(env), v) && v > 0 ? v : kDefaultStallTimeoutS;
  }();
  return value;
}

}  // namespace

int default_http_max_retries() {
  static const int value = [] {
    const char* env = std::getenv("ROBOTRAIN_HTTP_MAX_RETRIES");
    int64_t v = 0;
    return env && parse_int64(trim(env), v) && v >= 0 && v <= 100 ? static_cast<int>(v) : 5;
  }();
  return value;
}

namespace {

struct UrlParts {
  bool ok = false;
  std::string scheme, host;
  int port = 0;
};

UrlParts parse_url(std::string_view url) {
  UrlParts p;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return p;
  p.scheme = to_lower(url.substr(0, sep));
  size_t start = sep + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority = url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return p;
    p.host = to_lower(authority.substr(0, close + 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else {
    size_t colon = authority.rfind(':');
    p.host = to_lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (p.host.empty()) return p;
  int64_t n = 0;
  if (!port.empty()) {
    if (!parse_int64(port, n) || n <= 0 || n > 65535) return p;
    p.port = static_cast<int>(n);
  } else {
    p.port = p.scheme == "https" ? 443 : p.scheme == "http" ? 80 : 0;
  }
  p.ok = true;
  return p;
}

// scheme://authority of a URL ("" when it has none).
std::string_view origin_of(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return {};
  return url.substr(0, url.find_first_of("/?#", sep + 3));
}

bool has_scheme(std::string_view ref) {
  size_t colon = ref.find(':');
  if (colon == std::string_view::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(ref[0]))) return false;
  for (size_t i = 0; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(ref[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

struct CurlTransfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl = nullptr;
  bool aborted_by_sink = false;
  bool error_body_cut = false;  // an error body over kMaxErrorBodyBytes: the rest is not read
  bool body_too_large = false;
  bool headers_too_large = false;
  size_t header_bytes = 0;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  const bool success = status >= 200 && status < 300;
  // Only a 2xx body is the payload: redirect and error bodies stay in response.body so that
  // a streamed download never has them mixed into the file, and errors can be described.
  if (t->request->on_body && success) {
    if (!t->request->on_body(std::string_view(data, n))) {
      t->aborted_by_sink = true;
      return 0;
    }
    return n;
  }
  std::string& body = t->response->body;
  if (!success && body.size() + n > kMaxErrorBodyBytes) {
    body.append(data, kMaxErrorBodyBytes - body.size());
    t->error_body_cut = true;
    return 0;
  }
  if (success && body.size() + n > t->request->max_body_bytes) {
    t->body_too_large = true;
    return 0;
  }
  body.append(data, n);
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<CurlTransfer*>(user);
  return t->request->cancelled() ? 1 : 0;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;
  }
  std::string_view line(data, n);
  if (starts_with(line, "HTTP/")) {
    t->response->headers.clear();  // a new response after a 100-continue
    return n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response->headers[to_lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return n;
}

std::string what_failed(const HttpRequest& request) { return cat(request.method, " ", redact_url(request.url)); }

struct AttemptTimeouts {
  double total_s = 0;
  double connect_s = 0;
};

// The request's timeouts, cut to what is left of the caller's budget (`deadline_s`, steady
// clock, 0 = none); a spent budget fails before anything is sent.
AttemptTimeouts attempt_timeouts(const HttpRequest& request, double deadline_s) {
  AttemptTimeouts t{request.timeout_s, request.connect_timeout_s};
  if (deadline_s > 0) {
    double left = deadline_s - steady_now_s();
    if (left <= 0) throw NetworkError(cat(what_failed(request), ": the time budget for this request is spent"));
    t.total_s = t.total_s > 0 ? std::min(t.total_s, left) : left;
    t.connect_s = t.connect_s > 0 ? std::min(t.connect_s, left) : left;
  }
  return t;
}

curl_slist* header_list(const HttpRequest& request) {
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // libcurl adds "Expect: 100-continue" for large bodies; some servers mishandle it.
  return curl_slist_append(headers, "Expect:");
}

// Where the request goes and where the answer's headers and body are collected.
void set_exchange_options(CURL* curl, const HttpRequest& request, curl_slist* headers, CurlTransfer& transfer,
                          char* error_text) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // Redirects are followed by hand (send_once) so that each hop is checked; these only guard
  // against a future change turning curl's own following on.
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, static_cast<long>(request.max_redirects));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
}

void set_time_limits(CURL* curl, const HttpRequest& request, const AttemptTimeouts& timeouts) {
  const double stall_s = request.stall_timeout_s == 0 ? default_stall_timeout_s() : request.stall_timeout_s;
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(0.0, timeouts.total_s) * 1000));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max(0.0, timeouts.connect_s) * 1000));
  if (stall_s > 0) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, std::max(1L, request.stall_min_bytes_per_s));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, std::lround(stall_s)));
  }
}

// How this client presents itself, can be cancelled, and checks the server's TLS identity.
void set_client_options(CURL* curl, const HttpRequest& request, CurlTransfer& transfer) {
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "robotrain/0.1");
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // accept gzip/deflate, decoded for us
  if (request.cancelled) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  }
  if (!request.ca_bundle_path.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_bundle_path.c_str());
  if (!request.client_cert_path.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, request.client_cert_path.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, request.client_cert_path.c_str());
  }
  if (request.insecure_tls) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

void set_method(CURL* curl, const HttpRequest& request) {
  const std::string& m = request.method;
  if (m == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (m == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, m.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
}

// An oversized answer or a bad URL is not worth retrying (RuntimeError); a failed connection
// or transfer is (NetworkError). A write the body sink stopped on purpose is no failure here.
void throw_if_transfer_failed(const HttpRequest& request, const CurlTransfer& transfer, CURLcode rc,
                              const char* error_text) {
  if (transfer.body_too_large)
    throw RuntimeError(cat(what_failed(request), ": the answer is larger than ", human_bytes(static_cast<double>(request.max_body_bytes)),
                           ", more than this request can hold (is the URL the right service?)"));
  if (transfer.headers_too_large)
    throw RuntimeError(cat(what_failed(request), ": the answer's headers exceed ", kMaxHeaderBytes >> 10,
                           " KiB (is the URL the right service?)"));
  const bool write_stopped = rc == CURLE_WRITE_ERROR && (transfer.aborted_by_sink || transfer.error_body_cut);
  if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
    throw RuntimeError(cat(what_failed(request), ": ", error_text[0] ? error_text : curl_easy_strerror(rc),
                           " (only http:// and https:// URLs are used)"));
  if (rc != CURLE_OK && !write_stopped) {
    std::string why = error_text[0] ? trim(error_text) : curl_easy_strerror(rc);
    throw NetworkError(cat(what_failed(request), ": ", one_line(why, 300),
                           " (is the server reachable? check the URL, proxy and network)"));
  }
}

// One exchange with one URL (no redirects followed). `deadline_s` (steady clock, 0 = none)
// cuts the attempt's timeouts to the caller's remaining budget.
HttpResponse perform(const HttpRequest& request, double deadline_s) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  const AttemptTimeouts timeouts = attempt_timeouts(request, deadline_s);

  CURL* curl = curl_easy_init();
  if (!curl) throw NetworkError("curl_easy_init failed");
  HttpResponse response;
  CurlTransfer transfer{&request, &response, curl};
  curl_slist* headers = header_list(request);
  char error_text[CURL_ERROR_SIZE] = {0};
  set_exchange_options(curl, request, headers, transfer, error_text);
  set_time_limits(curl, request, timeouts);
  set_client_options(curl, request, transfer);
  set_method(curl, request);

  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  response.effective_url = effective ? effective : request.url;
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  throw_if_transfer_failed(request, transfer, rc, error_text);
  return response;
}

// One attempt, following redirects iteratively within the request's hop limit.
HttpResponse send_once(const HttpRequest& request, double deadline_s) {
  const HttpRequest* current = &request;
  HttpRequest hop_request;
  for (int hop = 0;; ++hop) {
    HttpResponse response = perform(*current, deadline_s);
    std::string location = response.header("location");
    if (!current->follow_redirects || response.status < 300 || response.status >= 400 || location.empty())
      return response;
    std::string target = resolve_location(current->url, location);
    if (hop >= current->max_redirects)
      throw RuntimeError(cat(what_failed(request), ": more than ", current->max_redirects, " redirects (the last to ",
                             one_line(redact_url(target), 200), "); the server is in a redirect loop"));
    RedirectRule rule = redirect_rule(current->url, target);
    if (!rule.follow)
      throw RuntimeError(cat(what_failed(request), ": refused to follow the redirect from ", redact_url(current->url), " to ",
                             one_line(redact_url(target), 200), " (", rule.refusal, ")"));
    HttpRequest next = *current;
    if (!rule.keep_credentials)
      next.headers.erase(std::remove_if(next.headers.begin(), next.headers.end(),
                                        [](const auto& h) { return is_credential_header(h.first); }),
                         next.headers.end());
    if (response.status == 303) {
      next.method = "GET";
      next.body.clear();
    }
    next.url = std::move(target);
    hop_request = std::move(next);
    current = &hop_request;
  }
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string redact_url(std::string_view url) {
  std::string_view kept = url.substr(0, url.find('?'));
  size_t sep = kept.find("://");
  if (sep == std::string_view::npos) return std::string(kept);
  kept = kept.substr(0, kept.find('#'));
  size_t start = sep + 3;
  size_t end = std::min(kept.find('/', start), kept.size());
  size_t at = kept.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::string(kept);
  return cat(kept.substr(0, start), kept.substr(start + at + 1));
}

std::string resolve_location(std::string_view base_url, std::string_view location) {
  std::string loc = trim(location);
  if (has_scheme(loc)) return loc;
  std::string_view origin = origin_of(base_url);
  if (starts_with(loc, "//")) return cat(base_url.substr(0, base_url.find(':')), ":", loc);
  if (starts_with(loc, "/")) return cat(origin, loc);
  std::string_view path = base_url.substr(origin.size());
  path = path.substr(0, path.find_first_of("?#"));
  if (starts_with(loc, "?")) return cat(origin, path, loc);
  size_t slash = path.rfind('/');
  std::string_view dir = slash == std::string_view::npos ? std::string_view("/") : path.substr(0, slash + 1);
  return cat(origin, dir, loc);
}

RedirectRule redirect_rule(std::string_view from, std::string_view to) {
  RedirectRule rule;
  UrlParts a = parse_url(from), b = parse_url(to);
  if (!b.ok || (b.scheme != "http" && b.scheme != "https")) {
    std::string scheme = b.ok ? b.scheme : to_lower(to.substr(0, std::min(to.find(':'), size_t{16})));
    rule.refusal = cat("a redirect to ", scheme.empty() ? "a malformed" : "a " + scheme, " URL; only https, or http on the same host, is followed");
    return rule;
  }
  if (b.scheme == "http" && !(a.ok && a.scheme == "http" && a.host == b.host)) {
    rule.refusal = a.ok && a.scheme == "https" ? "an https to http downgrade" : "a redirect to plain http on another host";
    return rule;
  }
  rule.follow = true;
  rule.keep_credentials = a.ok && a.scheme == b.scheme && a.host == b.host && a.port == b.port;
  return rule;
}

HttpResponse http_send_once(const HttpRequest& request) { return send_once(request, 0); }

bool is_retryable_status(long status, const RetryPolicy& policy) {
  return std::find(policy.retry_statuses.begin(), policy.retry_statuses.end(), status) !=
         policy.retry_statuses.end();
}

double retry_delay_s(const HttpResponse* response, int attempt, const RetryPolicy& policy) {
  if (response) {
    std::string ra = response->header("retry-after");
    if (!ra.empty()) {
      double secs = 0;
      if (parse_double(ra, secs)) return std::clamp(secs, 0.0, policy.max_delay_s);
      std::tm tm{};
      if (strptime(ra.c_str(), "%a, %d %b %Y %H:%M:%S", &tm)) {
        double delta = std::difftime(timegm(&tm), std::time(nullptr));
        return std::clamp(delta, 0.0, policy.max_delay_s);
      }
    }
  }
  static thread_local std::mt19937 rng{std::random_device{}()};
  double backoff = std::min(policy.max_delay_s, policy.base_delay_s * std::pow(2.0, attempt - 1));
  return backoff + std::uniform_real_distribution<double>(0, policy.jitter_s)(rng);
}

void set_retry_sleep_scale(double scale) { g_sleep_scale = scale; }

void sleep_for_retry(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds * g_sleep_scale));
}

HttpResponse http_send(const HttpRequest& request, const RetryPolicy& policy) {
  const double start = steady_now_s();
  const double deadline = policy.max_total_s > 0 ? start + policy.max_total_s : 0;
  HttpRequest capped;
  const HttpRequest* req = &request;
  if (policy.connect_timeout_s > 0 && !(request.connect_timeout_s > 0 && request.connect_timeout_s <= policy.connect_timeout_s)) {
    capped = request;
    capped.connect_timeout_s = policy.connect_timeout_s;
    req = &capped;
  }
  for (int attempt = 1;; ++attempt) {
    std::optional<HttpResponse> response;
    std::string failure;
    try {
      response = send_once(*req, deadline);
      response->attempts = attempt;
    } catch (const NetworkError& e) {
      failure = e.what();
    }
    if (response && !is_retryable_status(response->status, policy)) return *response;
    double delay = retry_delay_s(response ? &*response : nullptr, attempt, policy);
    const bool out_of_tries = attempt > policy.max_retries;
    const bool out_of_time = deadline > 0 && steady_now_s() + delay * g_sleep_scale >= deadline;
    if (out_of_tries || out_of_time) {
      if (response) return *response;
      throw NetworkError(cat(failure, "; retries exhausted after ", attempt, attempt == 1 ? " attempt" : " attempts", " in ",
                             std::lround(steady_now_s() - start), " s",
                             out_of_time && !out_of_tries ? cat(" (time budget ", policy.max_total_s, " s)") : ""));
    }
    if (policy.on_retry) policy.on_retry(attempt, delay, response ? cat("HTTP ", response->status) : failure);
    sleep_for_retry(delay);
  }
}

std::string describe_http_failure(const HttpRequest& request, const HttpResponse& response) {
  // Server text on one line: whitespace runs become one space, other control characters are escaped.
  std::string excerpt;
  for (char c : std::string_view(response.body).substr(0, 300)) {
    bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (excerpt.empty() || excerpt.back() == ' ')) continue;
    excerpt += space ? ' ' : c;
  }
  excerpt = one_line(trim(excerpt));
  return cat(request.method, " ", redact_url(request.url), " failed with HTTP ", response.status,
             response.attempts > 1 ? cat(" after ", response.attempts, " attempts (retries exhausted)") : "",
             excerpt.empty() ? "" : ": ", excerpt);
}

}  // namespace robotrain::util
