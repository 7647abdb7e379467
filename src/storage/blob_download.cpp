#include "storage/blob_download.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>

#include "storage/blob_paths.h"
#include "storage/parallel.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace fs = std::filesystem;

namespace {

struct PlannedFile {
  BlobItem blob;
  fs::path path;
  std::atomic<size_t> chunks_left{0};
};

struct Chunk {
  PlannedFile* file;
  uint64_t offset, length;
};

bool is_nonempty_dir(const fs::path& p) { return fs::is_directory(p) && !fs::is_empty(p); }

void write_at(const fs::path& path, const std::string& data, uint64_t offset) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw util::RuntimeError(util::cat(path.string(), ": cannot open for writing"));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n <= 0) {
      ::close(fd);
      throw util::RuntimeError(util::cat(path.string(), ": write failed (disk full?)"));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// Creates the file at its final size so ranges can be written in any order.
void preallocate(const fs::path& path, uint64_t size) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec)
    throw util::RuntimeError(util::cat(path.parent_path().string(), ": cannot create folder (", ec.message(),
                                       "); a blob and a folder under the prefix share this name - rename one"));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw util::RuntimeError(util::cat(path.string(), ": cannot create (is a file in the way of a folder?)"));
  int rc = ::ftruncate(fd, static_cast<off_t>(size));
  ::close(fd);
  if (rc != 0) throw util::RuntimeError(util::cat(path.string(), ": cannot size to ", size, " bytes (disk full?)"));
}

// Transport failures were already retried by the client (within its time budget); only a
// complete answer with wrong bytes is worth asking again here.
std::string fetch_chunk(const BlobClient& client, const std::string& container, const Chunk& c, int attempts) {
  for (int attempt = 1;; ++attempt) {
    try {
      return c.length == 0 ? std::string() : client.get_range(container, c.file->blob.name, c.offset, c.length, c.file->blob.etag);
    } catch (const BlobIntegrityError& e) {
      if (attempt >= attempts)
        throw util::RuntimeError(util::cat(e.what(), " - retries exhausted after ", attempt, " attempts"));
      util::log_warn(e.what(), " (attempt ", attempt, " of ", attempts, ")");
      util::sleep_for_retry(0.5 * attempt);
    }
  }
}

void verify_md5(const PlannedFile& f) {
  if (f.blob.content_md5.empty()) return;
  std::string got = util::base64_encode(util::md5_file_raw(f.path));
  if (got != f.blob.content_md5)
    throw util::RuntimeError(util::cat("blob ", util::one_line(f.blob.name, 200), ": Content-MD5 mismatch (listed ",
                                       util::one_line(f.blob.content_md5, 40), ", got ", got,
                                       "); the blob is corrupt or changed during download - retry, or re-upload it"));
}

}  // namespace

std::vector<BlobItem> list_blob_prefix(const BlobClient& client, const BlobLocation& location, int page_size,
                                       const ListingLimits& limits) {
  std::vector<BlobItem> all;
  std::set<std::string> markers_seen;
  std::string marker;
  std::string prefix = location.prefix.empty() ? "" : location.prefix + "/";
  const std::string where = util::cat(location.account, "/", location.container, "/", location.prefix);
  for (int pages = 1;; ++pages) {
    BlobPage page = client.list_page(location.container, prefix, marker, page_size);
    for (auto& b : page.blobs) all.push_back(std::move(b));
    marker = page.next_marker;
    if (marker.empty()) return all;
    // The service never hands out a marker twice: a repeat would loop for ever.
    if (!markers_seen.insert(marker).second)
      throw util::RuntimeError(util::cat("listing ", where, ": the service returned the continuation marker '",
                                         util::one_line(marker, 80), "' twice (a listing loop); retry later"));
    if (pages >= limits.max_pages || all.size() > limits.max_blobs)
      throw util::RuntimeError(util::cat("listing ", where, ": more than ", all.size(), " blobs in ", pages,
                                         " pages and no end in sight; point the URL at the dataset's own folder"));
  }
}

std::string blob_listing_fingerprint(const std::vector<BlobItem>& listed) {
  std::vector<std::string> lines;
  lines.reserve(listed.size());
  for (const auto& b : listed) lines.push_back(util::cat(b.name, "\t", b.size, "\t", b.etag, "\n"));
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const auto& l : lines) all += l;
  return util::sha256_hex(all);
}

std::string blob_prefix_fingerprint(const std::string& blob_url, const BlobAccess& access) {
  BlobLocation location = parse_blob_url(blob_url);
  return blob_listing_fingerprint(list_blob_prefix(BlobClient(access, location.account), location));
}

BlobDownloadReport download_blob_prefix(const std::string& blob_url, const fs::path& dest,
                                        const BlobDownloadOptions& options) {
  return download_blob_location(parse_blob_url(blob_url), dest, options);
}

BlobDownloadReport download_blob_location(const BlobLocation& location, const fs::path& dest,
                                          const BlobDownloadOptions& options) {
  // Checked before any network access: an existing dataset is never silently replaced.
  if (fs::exists(dest) && !fs::is_directory(dest))
    throw util::InputError(util::cat(dest.string(), " exists and is not a directory; choose another output path"));
  if (is_nonempty_dir(dest) && !options.overwrite)
    throw util::InputError(util::cat(dest.string(), " already exists; remove it, choose another output, or pass --overwrite"));

  std::string where = util::cat(location.account, "/", location.container, "/", location.prefix);
  BlobClient client(options.access, location.account);
  std::vector<BlobItem> listed = list_blob_prefix(client, location, options.page_size);

  BlobDownloadReport report;
  report.fingerprint = blob_listing_fingerprint(listed);
  std::vector<std::unique_ptr<PlannedFile>> files;
  for (auto& blob : listed) {
    BlobNameDecision d = classify_blob_name(blob.name, location.prefix);
    if (d.verdict == BlobNameVerdict::Skip) {
      ++report.skipped;
      util::log_debug("Skipping blob ", util::one_line(blob.name, 200), " (", d.reason, ")");
      continue;
    }
    if (d.verdict == BlobNameVerdict::Unsafe) {
      ++report.unsafe;
      util::log_warn("Skipping unsafe blob name '", util::one_line(blob.name, 200), "' (", d.reason, ")");
      continue;
    }
    auto f = std::make_unique<PlannedFile>();
    f->blob = std::move(blob);
    f->path = d.relative;  // relative until the staging directory exists
    files.push_back(std::move(f));
  }
  if (files.empty())
    throw util::RuntimeError(util::cat("no blobs to download under ", where,
                                       "/ (check the URL's prefix and that the identity can list the container)"));

  util::StagedDir staging(dest);
  std::vector<Chunk> chunks;
  uint64_t total = 0;
  for (auto& f : files) {
    auto path = contained_path(staging.path(), f->path.string());
    if (!path) {
      ++report.unsafe;
      util::log_warn("Skipping blob outside the destination '", util::one_line(f->blob.name, 200), "'");
      continue;
    }
    f->path = *path;
    preallocate(f->path, f->blob.size);
    uint64_t step = std::max<uint64_t>(1, options.chunk_bytes);
    size_t n = 0;
    for (uint64_t off = 0; off < f->blob.size || (off == 0 && f->blob.size == 0); off += step) {
      chunks.push_back({f.get(), off, std::min(step, f->blob.size - off)});
      ++n;
      if (f->blob.size == 0) break;
    }
    f->chunks_left = n;
    total += f->blob.size;
    ++report.files;
  }
  util::log_info("Downloading ", report.files, " blobs (", util::human_bytes(static_cast<double>(total)), ") from ", where,
                 " to ", dest.string());

  std::unique_ptr<util::Progress> progress;
  if (options.progress) progress = std::make_unique<util::Progress>("blob download", static_cast<int64_t>(total));
  std::mutex progress_mutex;
  parallel_for_each(chunks.size(), options.parallel, [&](size_t i) {
    const Chunk& c = chunks[i];
    std::string data = fetch_chunk(client, location.container, c, options.chunk_attempts);
    if (!data.empty()) write_at(c.file->path, data, c.offset);
    if (--c.file->chunks_left == 0) verify_md5(*c.file);
    if (progress) {
      std::lock_guard lock(progress_mutex);
      progress->advance(static_cast<int64_t>(data.size()));
    }
  });
  if (progress) progress->finish();
  report.bytes = total;
  staging.commit(/*replace_existing=*/true);
  return report;
}

}  // namespace robotrain::storage
