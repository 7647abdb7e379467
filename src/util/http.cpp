#include "util/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "util/strings.h"

namespace robotrain::util {

namespace {

std::once_flag curl_init_once;
double g_sleep_scale = 1.0;

struct CurlTransfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl = nullptr;
  bool aborted_by_sink = false;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  // Only a 2xx body is the payload: redirect and error bodies stay in response.body so that
  // a streamed download never has them mixed into the file, and errors can be described.
  if (t->request->on_body && status >= 200 && status < 300) {
    if (!t->request->on_body(std::string_view(data, n))) {
      t->aborted_by_sink = true;
      return 0;
    }
  } else {
    t->response->body.append(data, n);
  }
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  if (starts_with(line, "HTTP/")) {
    t->response->headers.clear();  // a new response after a redirect or 100-continue
    return n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response->headers[to_lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return n;
}

std::string host_of(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  return std::string(url.substr(start, end == std::string_view::npos ? url.npos : end - start));
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string redact_url(std::string_view url) {
  size_t q = url.find('?');
  return std::string(url.substr(0, q));
}

HttpResponse http_send_once(const HttpRequest& request) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (!curl) throw NetworkError("curl_easy_init failed");
  HttpResponse response;
  CurlTransfer transfer{&request, &response, curl};

  curl_slist* headers = nullptr;
  bool has_auth = false;
  for (const auto& [k, v] : request.headers) {
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
    if (to_lower(k) == "authorization") has_auth = true;
  }
  // libcurl adds "Expect: 100-continue" for large bodies; some servers mishandle it.
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "robotrain/0.1");
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // accept gzip/deflate, decoded for us
  if (request.insecure_tls) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  // Redirects are followed by hand below so that credentials can be dropped across hosts.
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);

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

  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  response.effective_url = effective ? effective : request.url;
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);

  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && transfer.aborted_by_sink)) {
    throw NetworkError(cat(m, " ", redact_url(request.url), ": ", curl_easy_strerror(rc),
                           " (is the server reachable? check the URL, proxy and network)"));
  }

  if (request.follow_redirects && response.status >= 300 && response.status < 400 &&
      !response.header("location").empty()) {
    HttpRequest next = request;
    std::string location = response.header("location");
    if (location.find("://") == std::string::npos) {
      // Relative redirect: resolve against scheme://host of the current URL.
      std::string base = request.url.substr(0, request.url.find('/', request.url.find("://") + 3));
      location = location.front() == '/' ? base + location : base + "/" + location;
    }
    if (has_auth && request.strip_auth_on_cross_host_redirect && host_of(location) != host_of(request.url)) {
      next.headers.erase(std::remove_if(next.headers.begin(), next.headers.end(),
                                        [](const auto& h) { return to_lower(h.first) == "authorization"; }),
                         next.headers.end());
    }
    if (response.status == 303) {
      next.method = "GET";
      next.body.clear();
    }
    next.url = location;
    return http_send_once(next);
  }
  return response;
}

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
  for (int attempt = 1;; ++attempt) {
    try {
      HttpResponse response = http_send_once(request);
      if (!is_retryable_status(response.status, policy) || attempt > policy.max_retries) return response;
      double delay = retry_delay_s(&response, attempt, policy);
      if (policy.on_retry) policy.on_retry(attempt, delay, cat("HTTP ", response.status));
      sleep_for_retry(delay);
    } catch (const NetworkError& e) {
      if (attempt > policy.max_retries) throw;
      double delay = retry_delay_s(nullptr, attempt, policy);
      if (policy.on_retry) policy.on_retry(attempt, delay, e.what());
      sleep_for_retry(delay);
    }
  }
}

std::string describe_http_failure(const HttpRequest& request, const HttpResponse& response) {
  std::string excerpt = response.body.substr(0, 300);
  for (char& c : excerpt)
    if (c == '\n' || c == '\r') c = ' ';
  return cat(request.method, " ", redact_url(request.url), " failed with HTTP ", response.status,
             excerpt.empty() ? "" : ": ", excerpt);
}

}  // namespace robotrain::util
