#include "track/durable_append.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/strings.h"

namespace robotrain::track {

void append_line(const std::filesystem::path& file, std::string_view line, bool sync) {
  auto fail = [&](const char* what, int err) {
    return WriteError(util::cat(file.string(), ": cannot ", what, " (", std::strerror(err), ")"));
  };
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw fail("open for appending", errno);
  struct stat st {};
  off_t before = ::fstat(fd, &st) == 0 ? st.st_size : -1;
  // Takes back whatever part of the line made it, so the file still ends with a whole line
  // (best effort: if even this fails the reader skips the torn line).
  auto cut_back = [&] {
    if (before >= 0) {
      [[maybe_unused]] int ignored = ::ftruncate(fd, before);
    }
  };
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      cut_back();
      ::close(fd);
      throw fail("append", err);
    }
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    int err = errno;
    cut_back();
    ::close(fd);
    throw fail("sync", err);
  }
  if (::close(fd) != 0) throw fail("close", errno);
}

}  // namespace robotrain::track
