#pragma once
// A small libcurl client shared by every network integration (MLflow, Azure, HF Hub).
// Transient failures (408/429/5xx, timeouts, connection resets) are retried with exponential
// backoff plus jitter, honouring Retry-After; other statuses are returned to the caller.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace robotrain::util {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double timeout_s = 120;
  double connect_timeout_s = 15;
  bool follow_redirects = true;
  // Drop Authorization when a redirect leaves the original host (as browsers and
  // huggingface_hub do for CDN redirects).
  bool strip_auth_on_cross_host_redirect = true;
  // When set, a 2xx response body is streamed here instead of being kept in memory (other
  // bodies, redirects and errors, stay in HttpResponse::body).
  // Returning false aborts the transfer.
  std::function<bool(std::string_view chunk)> on_body;
  // Skip TLS verification (only for local test servers with self-signed certificates).
  bool insecure_tls = false;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;
  std::string effective_url;
  std::string header(const std::string& lower_name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

struct RetryPolicy {
  int max_retries = 5;
  double base_delay_s = 1.0;
  double max_delay_s = 60.0;
  double jitter_s = 1.0;
  std::vector<long> retry_statuses{408, 429, 500, 502, 503, 504};
  // Called before each sleep (attempt is 1-based) so callers can log.
  std::function<void(int attempt, double delay_s, const std::string& reason)> on_retry;
};

// One attempt. Throws NetworkError on transport failures (DNS, refused, timeout, reset).
HttpResponse http_send_once(const HttpRequest& request);
// Retries transport failures and retryable statuses. Returns the final response (which may
// still be an error status); throws NetworkError if the last attempt failed in transport.
HttpResponse http_send(const HttpRequest& request, const RetryPolicy& policy = {});

// Seconds to wait before the next attempt: Retry-After (seconds or HTTP date) if present,
// otherwise base·2^(attempt-1) capped, plus jitter.
double retry_delay_s(const HttpResponse* response, int attempt, const RetryPolicy& policy);
bool is_retryable_status(long status, const RetryPolicy& policy);

class NetworkError;

// Makes sleeps in retry loops instantaneous for tests (scale 0) or slower (scale > 1).
void set_retry_sleep_scale(double scale);
void sleep_for_retry(double seconds);

// Standard "what went wrong" message for a failed HTTP exchange: method, URL without query
// string, status and a short excerpt of the body.
std::string describe_http_failure(const HttpRequest& request, const HttpResponse& response);
// The URL with any query string (which may hold SAS tokens or secrets) removed.
std::string redact_url(std::string_view url);

}  // namespace robotrain::util

#include "util/error.h"

namespace robotrain::util {
class NetworkError : public RuntimeError {
 public:
  explicit NetworkError(const std::string& message) : RuntimeError(message) {}
};
}  // namespace robotrain::util
