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
    util::log_info("hub: resuming ", blob.display_path, " at ", util::human_bytes(static_cast<double>(start)));
    on_bytes(start);
  }
  bool restarted_for_hash = false;
  for (int attempt = 1;; ++attempt) {
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
      req.timeout_s = 3600;
      bool write_failed = false;
      req.on_body = [&](std::string_view chunk) {
        if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
          write_failed = true;
          return false;
        }
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
      if (have_response) {
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
          client.fail(req, response, cat("downloading ", blob.display_path));
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
          throw util::RuntimeError(cat("hub: ", blob.display_path, " failed its sha256 check twice (expected ", blob.sha256,
                                       ", got ", got, "); the download source is corrupt"));
        restarted_for_hash = true;
        failure = cat("sha256 mismatch (expected ", blob.sha256, ", got ", got, ")");
      }
    }
    if (failure.empty()) break;
    // A connection cut after new bytes arrived is progress, not a failed attempt: a large
    // file over a flaky link keeps resuming as long as each try gets further.
    if (file_size_or_zero(partial) > start) attempt = std::min(attempt, 1);
    if (attempt > policy.max_retries)
      throw util::RuntimeError(cat("hub: downloading ", blob.display_path, " from ", util::redact_url(blob.url),
                                   " failed after ", attempt, " attempts: ", failure));
    double delay = util::retry_delay_s(have_response ? &response : nullptr, attempt, policy);
    if (policy.on_retry) policy.on_retry(attempt, delay, cat(blob.display_path, ": ", failure));
    util::sleep_for_retry(delay);
  }
  fs::rename(partial, final_path);
}

}  // namespace robotrain::storage
