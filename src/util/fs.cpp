#include "util/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::util {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(cat(path.string(), ": cannot open for reading (", std::strerror(errno), ")"));
  std::string data;
  in.seekg(0, std::ios::end);
  auto size = in.tellg();
  if (size > 0) {
    data.resize(static_cast<size_t>(size));
    in.seekg(0);
    in.read(data.data(), size);
  }
  if (!in && size > 0) throw RuntimeError(cat(path.string(), ": read failed"));
  return data;
}

fs::path temp_sibling(const fs::path& target) {
  static std::atomic<uint64_t> counter{0};
  fs::path dir = target.parent_path();
  return dir / cat(".", target.filename().string(), ".tmp-", ::getpid(), "-", counter++);
}

void fsync_path(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void atomic_write_file(const fs::path& path, std::string_view data) {
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
  fs::path tmp = temp_sibling(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw RuntimeError(cat(tmp.string(), ": cannot create (", std::strerror(errno), ")"));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw RuntimeError(cat(path.string(), ": write failed (", std::strerror(err), ")"));
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw RuntimeError(cat(path.string(), ": rename failed (", std::strerror(err), ")"));
  }
}

void atomic_rename(const fs::path& src, const fs::path& dst) {
  std::error_code ec;
  if (fs::exists(dst) && fs::is_directory(dst) && !fs::is_symlink(dst)) {
    // rename(2) cannot replace a non-empty directory: move the old one aside first.
    fs::path old = temp_sibling(dst);
    fs::rename(dst, old, ec);
    if (ec) throw RuntimeError(cat(dst.string(), ": cannot move aside (", ec.message(), ")"));
    fs::rename(src, dst, ec);
    if (ec) {
      fs::rename(old, dst);
      throw RuntimeError(cat(dst.string(), ": rename failed (", ec.message(), ")"));
    }
    fs::remove_all(old);
    return;
  }
  fs::rename(src, dst, ec);
  if (ec) throw RuntimeError(cat(src.string(), " -> ", dst.string(), ": rename failed (", ec.message(), ")"));
}

void atomic_symlink(const fs::path& target, const fs::path& link) {
  fs::path tmp = temp_sibling(link);
  fs::create_symlink(target, tmp);
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    int err = errno;
    fs::remove(tmp);
    throw RuntimeError(cat(link.string(), ": cannot update link (", std::strerror(err), ")"));
  }
}

StagedDir::StagedDir(fs::path final_path) : final_(std::move(final_path)) {
  fs::path parent = final_.parent_path().empty() ? fs::path(".") : final_.parent_path();
  fs::create_directories(parent);
  staging_ = temp_sibling(final_);
  fs::create_directories(staging_);
}

StagedDir::~StagedDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

void StagedDir::commit(bool replace_existing) {
  if (fs::exists(final_) && !replace_existing)
    throw InputError(cat(final_.string(), ": already exists; remove it or pass --overwrite"));
  atomic_rename(staging_, final_);
  committed_ = true;
}

TempDir::TempDir(std::string_view prefix) {
  std::string tmpl = (fs::temp_directory_path() / cat(prefix, "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw RuntimeError(cat("cannot create temp dir ", tmpl));
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace robotrain::util
