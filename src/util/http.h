#pragma once
// A small libcurl client shared by every network integration (MLflow, Azure, HF Hub).
// Transient failures (408/429/5xx, timeouts, stalls, connection resets) are retried with
// exponential backoff plus jitter, honouring Retry-After, within a bounded number of attempts
// and (optionally) a total time budget; other statuses are returned to the caller.
// Everything a server controls is bounded: redirects (hops, schemes, where credentials go),
// the size of a body kept in memory, the headers, and how long a transfer may stall.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace robotrain::util {

inline constexpr uint64_t kDefaultMaxBodyBytes = 64ull << 20;
inline constexpr int kDefaultMaxRedirects = 10;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double timeout_s = 120;  // the whole attempt; 0 = no limit (long downloads rely on the stall timeout)
  double connect_timeout_s = 15;
  // An attempt that moves fewer than stall_min_bytes_per_s bytes per second for this long
  // (including a server that never sends its headers) fails as a transport error and is
  // retried. 0 = the default: 30 s, or $ROBOTRAIN_HTTP_STALL_S; < 0 = never.
  double stall_timeout_s = 0;
  long stall_min_bytes_per_s = 1024;
  // Largest body kept in memory (API answers, ranged reads). A larger 2xx body fails the
  // request (util::RuntimeError, not retried); error bodies are cut to their first 64 KiB.
  // A streamed body (on_body) is bounded by its sink instead.
  uint64_t max_body_bytes = kDefaultMaxBodyBytes;
  // Redirects are followed to https, or to http on the same host when the request was http;
  // never to another scheme. Credentials (Authorization, cookies, identity secrets) are dropped
  // whenever scheme, host or port change. More than max_redirects hops fail the request.
  bool follow_redirects = true;
  int max_redirects = kDefaultMaxRedirects;
  // When set, a 2xx response body is streamed here instead of being kept in memory (other
  // bodies, redirects and errors, stay in HttpResponse::body).
  // Returning false aborts the transfer.
  std::function<bool(std::string_view chunk)> on_body;
  // Skip TLS verification (only for local test servers with self-signed certificates).
  bool insecure_tls = false;
  // TLS: a CA bundle to verify the server with instead of the system's, and a client
  // certificate (PEM holding the certificate and its key). Empty = not used.
  std::string ca_bundle_path;
  std::string client_cert_path;
  // Polled about once a second while the transfer runs (also while waiting for an answer);
  // returning true aborts it with a NetworkError. Lets a caller stop waiting on a server that
  // accepted the connection and never answers.
  std::function<bool()> cancelled;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;
  std::string effective_url;
  int attempts = 1;  // how many attempts http_send made to get this response
  std::string header(const std::string& lower_name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

// Retries a request makes unless its caller chose a number: $ROBOTRAIN_HTTP_MAX_RETRIES, else 5.
int default_http_max_retries();

struct RetryPolicy {
  int max_retries = default_http_max_retries();
  double base_delay_s = 1.0;
  double max_delay_s = 60.0;
  double jitter_s = 1.0;
  // Budget for all attempts and the waits between them (0 = only max_retries bounds it): each
  // attempt's timeouts are cut to what is left, and no wait runs past it. Interactive reads
  // use a short one ("connect timeout 5 s, total 30 s"); training keeps a long one.
  double max_total_s = 0;
  // When > 0, caps every attempt's connect timeout (a dead host fails in seconds).
  double connect_timeout_s = 0;
  std::vector<long> retry_statuses{408, 429, 500, 502, 503, 504};
  // Called before each sleep (attempt is 1-based) so callers can log.
  std::function<void(int attempt, double delay_s, const std::string& reason)> on_retry;
};

// One attempt (redirects included). Throws NetworkError on transport failures (DNS, refused,
// timeout, stall, reset) and RuntimeError on what retrying cannot fix (a refused redirect,
// too many redirects, a body over max_body_bytes).
HttpResponse http_send_once(const HttpRequest& request);
// Retries transport failures and retryable statuses. Returns the final response (which may
// still be an error status; attempts says how many were made); throws NetworkError when the
// last attempt failed in transport, its message saying retries were exhausted after N attempts.
HttpResponse http_send(const HttpRequest& request, const RetryPolicy& policy = {});

// Seconds to wait before the next attempt: Retry-After (seconds or HTTP date) if present,
// otherwise base·2^(attempt-1) capped, plus jitter.
double retry_delay_s(const HttpResponse* response, int attempt, const RetryPolicy& policy);
bool is_retryable_status(long status, const RetryPolicy& policy);

// Whether a redirect from `from` to `to` (absolute URLs) may be followed, and with the
// request's credentials. `refusal` says why not, for the error message.
struct RedirectRule {
  bool follow = false;
  bool keep_credentials = false;
  std::string refusal;
};
RedirectRule redirect_rule(std::string_view from, std::string_view to);
// `location` (absolute, scheme-relative "//host/p", absolute-path "/p" or relative "p")
// resolved against the URL it came from.
std::string resolve_location(std::string_view base_url, std::string_view location);

class NetworkError;

// Makes sleeps in retry loops instantaneous for tests (scale 0) or slower (scale > 1).
void set_retry_sleep_scale(double scale);
void sleep_for_retry(double seconds);

// Standard "what went wrong" message for a failed HTTP exchange, on one line: method, URL
// without secrets, status, attempts when several, and a short escaped excerpt of the body.
std::string describe_http_failure(const HttpRequest& request, const HttpResponse& response);
// The URL without what may hold secrets: the query string (SAS tokens), the fragment and
// any user:password@ before the host. Text without "://" only loses its query.
std::string redact_url(std::string_view url);

}  // namespace robotrain::util

#include "util/error.h"

namespace robotrain::util {
class NetworkError : public RuntimeError {
 public:
  explicit NetworkError(const std::string& message) : RuntimeError(message) {}
};
}  // namespace robotrain::util
