#include "storage/hf_download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace fs = std::filesystem;
using util::cat;

namespace {

// flock() on <cache>/.locks/...: released when the descriptor closes, even on a crash.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fs::create_directories(path.parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw util::RuntimeError(cat(path.string(), ": cannot open lock file (", std::strerror(errno), ")"));
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// An attempt that brought at least this much, or half of what was missing, is progress (a
// flaky link cut mid-file), not a failed try; anything less counts against the retries. So a
// server that sends a few bytes per connection cannot keep a download going for ever: the
// resumptions are bounded by log2(size) plus size / 1 MiB.
constexpr int64_t kMinProgressBytes = 1 << 20;

bool made_progress(int64_t before, int64_t after, int64_t size) {
  int64_t wanted = size >= 0 ? std::min<int64_t>(kMinProgressBytes, (size - before) / 2) : kMinProgressBytes;
  return after > before && after - before >= wanted;
}

int64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// What every attempt at one blob shares.
struct BlobTransfer {
  const HubClient& client;
  const BlobRequest& blob;
  const fs::path& partial;
  const util::RetryPolicy& policy;
  const std::string& display;  // the repository path, cut to one line for messages
  const std::function<void(int64_t)>& on_bytes;
};

// What one attempt brought: why it must be retried ("" when it need not be), and the response,
// if one came, whose Retry-After paces the next try.
struct AttemptResult {
  std::string failure;
  util::HttpResponse response;
  bool have_response = false;
};

// Drops the partial file and takes its bytes back out of the progress count.
void discard_partial(const BlobTransfer& t) {
  t.on_bytes(-file_size_or_zero(t.partial));
  fs::remove(t.partial);
}

// Counts the bytes an earlier run left on disk as progress; a partial file longer than the
// blob cannot be a prefix of it, so it is dropped.
void resume_partial(const BlobTransfer& t) {
  int64_t start = file_size_or_zero(t.partial);
  if (t.blob.size >= 0 && start > t.blob.size) {
    fs::remove(t.partial);
    start = 0;
  }
  if (start > 0) {
    util::log_info("hub: resuming ", t.display, " at ", util::human_bytes(static_cast<double>(start)));
    t.on_bytes(start);
  }
}

util::HttpRequest range_request(const BlobTransfer& t, int64_t start) {
  util::HttpRequest req;
  req.url = t.blob.url;
  req.headers = t.client.headers_for(t.blob.url);
  req.headers.emplace_back("Accept-Encoding", "identity");  // byte ranges must address the stored bytes
  if (start > 0) req.headers.emplace_back("Range", cat("bytes=", start, "-"));
  // No overall limit (files can take hours on a slow link); a stall ends an attempt.
  req.timeout_s = 0;
  t.client.apply_timeouts(req, /*file_body=*/true);
  return req;
}

// Why a response that arrived did not bring the bytes after `start` ("" when it did). A status
// that retrying cannot fix throws.
std::string response_failure(const BlobTransfer& t, const util::HttpRequest& req, const util::HttpResponse& response,
                             int64_t start) {
  long s = response.status;
  if (s == 200 && start > 0) {
    // The server ignored the Range: its full body was appended; start over cleanly.
    discard_partial(t);
    return "server ignored the Range request";
  }
  if (s == 416 && start > 0) {
    discard_partial(t);
    return "range not satisfiable";
  }
  if (util::is_retryable_status(s, t.policy)) return cat("HTTP ", s);
  if (s != 200 && s != 206) t.client.fail(req, response, cat("downloading ", t.display));
  return "";
}

// One request for the bytes after `start`, appended to the partial file as they arrive.
AttemptResult fetch_missing_bytes(const BlobTransfer& t, int64_t start) {
  AttemptResult result;
  std::FILE* out = std::fopen(t.partial.c_str(), start > 0 ? "ab" : "wb");
  if (!out) throw util::RuntimeError(cat(t.partial.string(), ": cannot write (", std::strerror(errno), ")"));
  util::HttpRequest req = range_request(t, start);
  bool write_failed = false, too_long = false;
  int64_t written = start;
  req.on_body = [&](std::string_view chunk) {
    // Never more than the announced size: the excess is not even written.
    if (t.blob.size >= 0 && written + static_cast<int64_t>(chunk.size()) > t.blob.size) {
      too_long = true;
      return false;
    }
    if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
      write_failed = true;
      return false;
    }
    written += static_cast<int64_t>(chunk.size());
    t.on_bytes(static_cast<int64_t>(chunk.size()));
    return true;
  };
  try {
    result.response = util::http_send_once(req);
    result.have_response = true;
  } catch (const util::NetworkError& e) {
    result.failure = e.what();
  }
  std::fclose(out);
  if (write_failed) throw util::RuntimeError(cat(t.partial.string(), ": write failed (disk full?)"));
  if (too_long) {
    discard_partial(t);
    result.failure = cat("the server sent more than the announced ", t.blob.size, " bytes");
  } else if (result.have_response) {
    result.failure = response_failure(t, req, result.response, start);
  }
  return result;
}

// Why the partial file is not the blob ("" when it is): wrong length or wrong sha256. One hash
// mismatch may be a corrupted transfer and is retried from scratch; a second means the source
// itself is corrupt, so it throws.
std::string verify_partial(const BlobTransfer& t, bool& restarted_for_hash) {
  int64_t have = file_size_or_zero(t.partial);
  if (t.blob.size >= 0 && have < t.blob.size) return cat("incomplete body (", have, " of ", t.blob.size, " bytes)");
  if (t.blob.size >= 0 && have > t.blob.size) {
    t.on_bytes(-have);
    fs::remove(t.partial);
    return cat("body larger than expected (", have, " > ", t.blob.size, " bytes)");
  }
  if (t.blob.sha256.empty()) return "";
  std::string got = util::sha256_file_hex(t.partial);
  if (got == t.blob.sha256) return "";
  t.on_bytes(-have);
  fs::remove(t.partial);
  if (restarted_for_hash)
    throw util::RuntimeError(cat("hub: ", t.display, " failed its sha256 check twice (expected ", t.blob.sha256,
                                 ", got ", got, "); the download source is corrupt"));
  restarted_for_hash = true;
  return cat("sha256 mismatch (expected ", t.blob.sha256, ", got ", got, ")");
}

}  // namespace

void download_blob(const HubClient& client, const HubCache& cache, const BlobRequest& blob,
                   const std::function<void(int64_t)>& on_bytes) {
  const fs::path final_path = cache.blob_path(blob.etag);
  const fs::path partial = cache.incomplete_path(blob.etag);
  fs::create_directories(final_path.parent_path());
  FileLock lock(cache.lock_path(blob.etag));
  if (fs::exists(final_path)) return;  // another process finished it while we waited

  const util::RetryPolicy policy = client.retry_policy();
  const std::string display = util::one_line(blob.display_path, 200);
  const BlobTransfer t{client, blob, partial, policy, display, on_bytes};
  resume_partial(t);
  bool restarted_for_hash = false;
  for (int attempt = 1, tries = 1;; ++attempt, ++tries) {
    const int64_t start = file_size_or_zero(partial);
    AttemptResult result;
    if (blob.size < 0 || start < blob.size || blob.size == 0) result = fetch_missing_bytes(t, start);
    if (result.failure.empty()) result.failure = verify_partial(t, restarted_for_hash);
    if (result.failure.empty()) break;
    // A connection cut after a good part of the file arrived is not a failed attempt: a large
    // file over a flaky link keeps resuming as long as each try gets substantially further.
    if (made_progress(start, file_size_or_zero(partial), blob.size)) attempt = 1;
    if (attempt > policy.max_retries)
      throw util::RuntimeError(cat("hub: downloading ", display, " from ", util::redact_url(blob.url),
                                   " failed, retries exhausted after ", tries, " attempts: ",
                                   util::one_line(result.failure, 300)));
    double delay = util::retry_delay_s(result.have_response ? &result.response : nullptr, attempt, policy);
    if (policy.on_retry) policy.on_retry(attempt, delay, cat(display, ": ", result.failure));
    util::sleep_for_retry(delay);
  }
  fs::rename(partial, final_path);
}

}  // namespace robotrain::storage
