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

}  // namespace

void download_blob(const HubClient& client, const HubCache& cache, const BlobRequest& blob,
                   const std::function<void(int64_t)>& on_bytes) {
  const fs::path final_path = cache.blob_path(blob.etag);
  const fs::path partial = cache.incomplete_path(blob.etag);
  fs::create_directories(final_path.parent_path());
  FileLock lock(cache.lock_path(blob.etag));
  if (fs::exists(final_path)) return;  // another process finished it while we waited

  const util::RetryPolicy policy = client.retry_policy();
  int64_t start = file_size_or_zero(partial);
  if (blob.size >= 0 && start > blob.size) {
    fs::remove(partial);
    start = 0;
  }
  if (start > 0) {
    util::log_info("hub: resuming ", util::one_line(blob.display_path, 200), " at ", util::human_bytes(static_cast<double>(start)));
    on_bytes(start);
  }
  bool restarted_for_hash = false;
  const std::string display = util::one_line(blob.display_path, 200);
  for (int attempt = 1, tries = 1;; ++attempt, ++tries) {
    start = file_size_or_zero(partial);
    std::string failure;
    util::HttpResponse response;
    bool have_response = false;
    if (blob.size < 0 || start < blob.size || blob.size == 0) {
      std::FILE* out = std::fopen(partial.c_str(), start > 0 ? "ab" : "wb");
      if (!out) throw util::RuntimeError(cat(partial.string(), ": cannot write (", std::strerror(errno), ")"));
      util::HttpRequest req;
      req.url = blob.url;
      req.headers = client.headers_for(blob.url);
      req.headers.emplace_back("Accept-Encoding", "identity");  // byte ranges must address the stored bytes
      if (start > 0) req.headers.emplace_back("Range", cat("bytes=", start, "-"));
      // No overall limit (files can take hours on a slow link); a stall ends an attempt.
      req.timeout_s = 0;
      client.apply_timeouts(req, /*file_body=*/true);
      bool write_failed = false, too_long = false;
      int64_t written = start;
      req.on_body = [&](std::string_view chunk) {
        // Never more than the announced size: the excess is not even written.
        if (blob.size >= 0 && written + static_cast<int64_t>(chunk.size()) > blob.size) {
          too_long = true;
          return false;
        }
        if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
          write_failed = true;
          return false;
        }
        written += static_cast<int64_t>(chunk.size());
        on_bytes(static_cast<int64_t>(chunk.size()));
        return true;
      };
      try {
        response = util::http_send_once(req);
        have_response = true;
      } catch (const util::NetworkError& e) {
        failure = e.what();
      }
      std::fclose(out);
      if (write_failed) throw util::RuntimeError(cat(partial.string(), ": write failed (disk full?)"));
      if (too_long) {
        on_bytes(-file_size_or_zero(partial));
        fs::remove(partial);
        failure = cat("the server sent more than the announced ", blob.size, " bytes");
      } else if (have_response) {
        long s = response.status;
        if (s == 200 && start > 0) {
          // The server ignored the Range: its full body was appended; start over cleanly.
          on_bytes(-file_size_or_zero(partial));
          fs::remove(partial);
          failure = "server ignored the Range request";
        } else if (s == 416 && start > 0) {
          on_bytes(-file_size_or_zero(partial));
          fs::remove(partial);
          failure = "range not satisfiable";
        } else if (util::is_retryable_status(s, policy)) {
          failure = cat("HTTP ", s);
        } else if (s != 200 && s != 206) {
          client.fail(req, response, cat("downloading ", display));
        }
      }
    }
    int64_t have = file_size_or_zero(partial);
    if (failure.empty() && blob.size >= 0 && have < blob.size)
      failure = cat("incomplete body (", have, " of ", blob.size, " bytes)");
    if (failure.empty() && blob.size >= 0 && have > blob.size) {
      on_bytes(-have);
      fs::remove(partial);
      failure = cat("body larger than expected (", have, " > ", blob.size, " bytes)");
    }
    if (failure.empty() && !blob.sha256.empty()) {
      std::string got = util::sha256_file_hex(partial);
      if (got != blob.sha256) {
        on_bytes(-have);
        fs::remove(partial);
        if (restarted_for_hash)
          throw util::RuntimeError(cat("hub: ", display, " failed its sha256 check twice (expected ", blob.sha256,
                                       ", got ", got, "); the download source is corrupt"));
        restarted_for_hash = true;
        failure = cat("sha256 mismatch (expected ", blob.sha256, ", got ", got, ")");
      }
    }
    if (failure.empty()) break;
    // A connection cut after a good part of the file arrived is not a failed attempt: a large
    // file over a flaky link keeps resuming as long as each try gets substantially further.
    if (made_progress(start, file_size_or_zero(partial), blob.size)) attempt = 1;
    if (attempt > policy.max_retries)
      throw util::RuntimeError(cat("hub: downloading ", display, " from ", util::redact_url(blob.url),
                                   " failed, retries exhausted after ", tries, " attempts: ", util::one_line(failure, 300)));
    double delay = util::retry_delay_s(have_response ? &response : nullptr, attempt, policy);
    if (policy.on_retry) policy.on_retry(attempt, delay, cat(display, ": ", failure));
    util::sleep_for_retry(delay);
  }
  fs::rename(partial, final_path);
}

}  // namespace robotrain::storage
