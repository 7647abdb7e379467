#include "util/error.h"

#include "util/strings.h"

namespace robotrain::util {

std::string one_line_message(const std::exception& e) {
  std::vector<std::string> lines;
  for (auto& line : split(e.what(), '\n')) {
    // Where c10 starts its location and backtrace, the message is over.
    if (starts_with(line, "Exception raised from") || starts_with(line, "frame #")) break;
    if (!line.empty()) lines.push_back(line);
  }
  return lines.empty() ? "unknown error" : join(lines, "; ");
}

}  // namespace robotrain::util
