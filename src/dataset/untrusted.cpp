#include "dataset/untrusted.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace fs = std::filesystem;
using util::cat;

std::string shown(std::string_view text) {
  constexpr size_t kMax = 200;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMax) out += cat("... (", text.size(), " bytes)");
  return out;
}

std::optional<int64_t> json_int_field(const util::Json& j, const char* key, int64_t lo, int64_t hi, const std::string& file) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return std::nullopt;
  const auto& v = j[key];
  auto bad = [&](const std::string& why) {
    return util::InputError(cat(file, ": \"", key, "\" ", why, "; fix the file or regenerate the dataset"));
  };
  int64_t out = 0;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) throw bad(cat("is ", u, ", more than ", hi));
    out = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    out = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) throw bad(cat("is ", d, ", not an integer"));
    out = static_cast<int64_t>(d);
  } else {
    throw bad(cat("is a JSON ", v.type_name(), " (", shown(v.dump()), "), an integer is expected"));
  }
  if (out < lo || out > hi) throw bad(cat("is ", out, ", outside [", lo, ", ", hi, "]"));
  return out;
}

int64_t checked_int(double v, int64_t lo, int64_t hi, const std::string& what) {
  if (!std::isfinite(v) || v != std::floor(v) || v < static_cast<double>(lo) || v > static_cast<double>(hi))
    throw util::InputError(cat(what, " is ", v, ", not an integer in [", lo, ", ", hi, "]; the dataset is corrupt"));
  return static_cast<int64_t>(v);
}

void check_feature_key(const std::string& key) {
  auto bad = [&](const char* why) {
    return util::InputError(cat("meta/info.json: feature key '", shown(key), "' ", why,
                                " (feature keys name parquet columns and video folders); rename the feature"));
  };
  if (key.empty()) throw bad("is empty");
  if (key == "." || key == "..") throw bad("is a relative directory name");
  if (key.size() > 255) throw bad("is longer than 255 characters");
  for (unsigned char c : key) {
    if (c == '/' || c == '\\') throw bad("holds a path separator");
    if (c < 0x20 || c == 0x7f) throw bad("holds a control character");
  }
}

fs::path path_inside(const fs::path& root, const std::string& relative, const std::string& what) {
  auto bad = [&](const char* why) {
    return util::InputError(cat(what, " '", shown(relative), "' ", why, "; a dataset may only refer to files under ",
                                root.string()));
  };
  if (relative.empty()) throw bad("is empty");
  if (relative.size() > kMaxPathLength) throw bad("is too long");
  if (relative.find('\0') != std::string::npos) throw bad("holds a NUL byte");
  const fs::path rel(relative);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory()) throw bad("is an absolute path");
  const fs::path norm = rel.lexically_normal();
  if (norm.empty() || *norm.begin() == ".." || norm == ".") throw bad("leaves the dataset folder");
  return root / norm;
}

bool regular_file_exists(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return false;  // missing, or a dangling link: absent
  if (S_ISREG(st.st_mode)) return true;
  const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                                            : "not a regular file";
  throw util::InputError(cat(p.string(), " is ", kind, ", not a regular file; replace it with the dataset's file"));
}

void require_regular_file(const fs::path& p) {
  if (!regular_file_exists(p)) throw util::InputError(cat(p.string(), " is missing"));
}

util::Json read_meta_json(const fs::path& p) {
  require_regular_file(p);
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (!ec && size > kMaxMetaJsonBytes)
    throw util::InputError(cat(p.string(), " is ", size, " bytes; metadata JSON is at most ", kMaxMetaJsonBytes, " bytes"));
  const std::string text = util::read_file(p);
  try {
    return util::Json::parse(text);
  } catch (const util::Json::exception& e) {
    throw util::InputError(cat(p.string(), ": invalid JSON (", shown(e.what()), "); re-download or regenerate it"));
  }
}

std::vector<util::Json> read_jsonl(const fs::path& path) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw util::RuntimeError(cat(path.string(), ": cannot open"));
  std::vector<util::Json> out;
  std::string line;
  int64_t n = 0;
  while (true) {
    line.clear();
    int ch;
    while ((ch = in.get()) != EOF && ch != '\n') {
      if (line.size() >= kMaxJsonlLineBytes)
        throw util::InputError(cat(path.string(), ":", n + 1, ": line longer than ", kMaxJsonlLineBytes, " bytes"));
      line.push_back(static_cast<char>(ch));
    }
    if (ch == EOF && line.empty()) break;
    ++n;
    if (!util::trim(line).empty()) {
      try {
        out.push_back(util::Json::parse(line));
      } catch (const util::Json::exception& e) {
        throw util::InputError(cat(path.string(), ":", n, ": invalid JSON line (", shown(e.what()), ")"));
      }
      if (!out.back().is_object())
        throw util::InputError(cat(path.string(), ":", n, ": a JSON ", out.back().type_name(), ", an object is expected"));
    }
    if (ch == EOF) break;
  }
  return out;
}

}  // namespace robotrain::dataset
