#pragma once
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace robotrain::util {

// Concatenates anything streamable: cat("step ", 3, " of ", 10).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

std::vector<std::string> split(std::string_view text, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string trim(std::string_view text);
std::string to_lower(std::string_view text);
bool starts_with(std::string_view text, std::string_view prefix);
bool ends_with(std::string_view text, std::string_view suffix);
std::string replace_all(std::string text, std::string_view from, std::string_view to);
// Human-readable quantities for logs: 2K, 1.5M / 12.3 MiB.
std::string human_count(double n);
std::string human_bytes(double bytes);
// Parses a whole string as a number, or returns false (no partial matches).
bool parse_int64(std::string_view text, int64_t& out);
bool parse_double(std::string_view text, double& out);
// True when `text` is well-formed UTF-8 (all that JSON files, MLflow and Azure can hold).
bool is_valid_utf8(std::string_view text);
// Percent-encodes for URL paths/queries (keeps unreserved characters; '/' kept when asked).
std::string url_encode(std::string_view text, bool keep_slash = false);
// Text from outside (a server's answer, a file or blob name) made safe for a one-line
// message: CR, LF, tab and other control characters are shown escaped (\n, \x1b), and so are
// bytes that are not UTF-8 (\xff), so the text can never start a forged log line or garble a
// terminal; cut to at most max_bytes (on a UTF-8 boundary, marked with "...").
std::string one_line(std::string_view text, size_t max_bytes = std::string_view::npos);

}  // namespace robotrain::util
