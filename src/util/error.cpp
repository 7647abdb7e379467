#include "util/error.h"

namespace robotrain::util {

std::string one_line_message(const std::exception& e) {
  const std::string what = e.what();
  std::string out;
  size_t start = 0;
  while (start <= what.size()) {
    size_t end = what.find('\n', start);
    if (end == std::string::npos) end = what.size();
    std::string line = what.substr(start, end - start);
    // Where c10 starts its location and backtrace, the message is over.
    if (line.rfind("Exception raised from", 0) == 0 || line.rfind("frame #", 0) == 0) break;
    if (!line.empty()) out += (out.empty() ? "" : "; ") + line;
    start = end + 1;
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace robotrain::util
