#pragma once
// An in-memory file with a path (memfd), so harnesses can drive readers that open paths.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace robotrain::fuzz {

class MemFile {
 public:
  MemFile() : fd_(::memfd_create("robotrain-fuzz", 0)) {
    if (fd_ < 0) std::abort();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string& write(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0 || (size && ::pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size))) std::abort();
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace robotrain::fuzz
