#pragma once
// Appending a line to a store or journal file so that a reader never sees half of it: a write
// that fails part-way (ENOSPC, EFBIG, EIO) is cut back to the previous end of the file.
#include <filesystem>
#include <string_view>

#include "util/error.h"

namespace robotrain::track {

// A tracking write the disk refused (full, quota, I/O error). Trackers treat it like an
// unreachable server: the call is journaled for `robotrain track sync`.
class WriteError : public util::RuntimeError {
 public:
  using util::RuntimeError::RuntimeError;
};

// Appends `line` (ending in '\n') to `file`, creating it; fsyncs when `sync`. Throws WriteError.
void append_line(const std::filesystem::path& file, std::string_view line, bool sync);

}  // namespace robotrain::track
