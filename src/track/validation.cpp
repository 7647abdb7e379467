#include "track/validation.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::track {

void validate_key(const std::string& kind, const std::string& key) {
  auto fail = [&](const std::string& why) {
    return util::InputError(util::cat("invalid MLflow ", kind, " key '", key, "': ", why,
                                      "; keys are 1-250 characters of letters, digits, _ - . space / :"));
  };
  if (key.empty()) throw fail("empty");
  if (key.size() > kMaxKeyLength) throw fail("longer than 250 characters");
  for (char c : key) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ' ' || c == '/' ||
              c == ':';
    if (!ok) throw fail(util::cat("character '", c, "' not allowed"));
  }
  if (key.front() == '/' || key.back() == '/') throw fail("leading or trailing '/'");
  if (key.find("//") != std::string::npos) throw fail("empty path component");
  for (auto& part : util::split(key, '/'))
    if (part == "." || part == "..") throw fail("'.' or '..' path component");
}

std::string clamp_value(const std::string& value, size_t limit) {
  if (value.size() <= limit) return value;
  static const std::string marker = "...(truncated)";
  util::log_warn("MLflow value of ", value.size(), " characters truncated to ", limit);
  return value.substr(0, limit - marker.size()) + marker;
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, then Python's layout: fixed for 1e-4 <= |x| < 1e16 with at
  // least one fractional digit, otherwise d.ddde+XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  auto e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::atoi(sci.c_str() + e + 1);
  bool neg = !mant.empty() && mant[0] == '-';
  if (neg) mant = mant.substr(1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      std::string ip = digits.substr(0, std::min<size_t>(digits.size(), exp + 1));
      while (ip.size() < static_cast<size_t>(exp + 1)) ip += '0';
      std::string fp = digits.size() > static_cast<size_t>(exp + 1) ? digits.substr(exp + 1) : "0";
      out = ip + "." + fp;
    } else {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  }
  return neg ? "-" + out : out;
}

}  // namespace robotrain::track
