#include "util/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace robotrain::util {

size_t safetensors_dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  throw InputError("unknown safetensors dtype '" + d + "'");
}

namespace {

// The reference implementation's limit: no real header is near 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr size_t kMaxRank = 64;

// A JSON number that is an exact non-negative integer (no floats, which would convert with
// rounding or, out of range, undefined behaviour).
bool non_negative_integer(const Json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(std::string_view data, const std::string& origin) {
  auto fail = [&](const std::string& why) { return RuntimeError(origin + ": not a valid safetensors file: " + why); };
  if (data.size() < 8) throw fail("shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(data[i]);
  if (n > data.size() - 8) throw fail("header length " + std::to_string(n) + " exceeds the file size (truncated?)");
  if (n > kMaxHeaderBytes) throw fail("header length " + std::to_string(n) + " exceeds 100 MB");
  if (n == 0 || data[8] != '{') throw fail("header does not start with '{'");
  Json header;
  try {
    header = Json::parse(data.begin() + 8, data.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const std::exception& e) {
    throw fail(std::string("header is not JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  SafetensorsHeader out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  const size_t base = 8 + n;
  out.data_start = base;
  const uint64_t body = data.size() - base;
  for (auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (v.is_null()) continue;
      if (!v.is_object()) throw fail("__metadata__ is not an object");
      for (auto& [k, mv] : v.items()) {
        if (!mv.is_string()) throw fail("__metadata__ value '" + k + "' is not a string");
        out.metadata[k] = mv.get<std::string>();
      }
      continue;
    }
    const std::string& tensor = name;  // (a structured binding: lambdas capture it only from C++20 compilers on)
    auto bad = [&](const std::string& why) { return fail("tensor '" + tensor + "' " + why); };
    if (!v.is_object()) throw bad("entry is not an object");
    SafetensorsEntry t;
    auto dtype = v.find("dtype");
    auto shape = v.find("shape");
    auto offsets = v.find("data_offsets");
    if (dtype == v.end() || !dtype->is_string()) throw bad("has no string 'dtype'");
    if (shape == v.end() || !shape->is_array()) throw bad("has no 'shape' array");
    if (offsets == v.end() || !offsets->is_array() || offsets->size() != 2) throw bad("has no 'data_offsets' pair");
    t.dtype = dtype->get<std::string>();
    uint64_t item = 0;
    try {
      item = safetensors_dtype_size(t.dtype);
    } catch (const Error& e) {
      throw bad(std::string("has ") + e.what());
    }
    if (shape->size() > kMaxRank) throw bad("has more than 64 dimensions");
    // numel x itemsize, each step checked for overflow before it is compared with the bytes.
    uint64_t bytes = item;
    for (const auto& d : *shape) {
      uint64_t dim;
      if (!non_negative_integer(d, dim)) throw bad("has a dimension that is not a non-negative integer: " + d.dump());
      if (dim > static_cast<uint64_t>(INT64_MAX)) throw bad("has a dimension beyond int64");
      if (__builtin_mul_overflow(bytes, dim, &bytes)) throw bad("has a shape whose size overflows 64 bits");
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t begin, end;
    if (!non_negative_integer((*offsets)[0], begin) || !non_negative_integer((*offsets)[1], end))
      throw bad("has data offsets that are not non-negative integers");
    if (begin > end || end > body) throw bad("has data offsets outside the file");
    if (bytes != end - begin)
      throw bad("has " + std::to_string(end - begin) + " bytes for its shape and dtype " + t.dtype + " (needs " +
                std::to_string(bytes) + ")");
    t.begin = begin;
    t.end = end;
    if (!out.tensors.emplace(name, std::move(t)).second) throw fail("tensor '" + name + "' appears twice");
    ranges.emplace_back(begin, end);
  }
  // As the reference reader demands, the byte ranges tile the data section: no gaps, no
  // overlaps, nothing left over (a shared or stray range means a corrupt or hostile file).
  std::sort(ranges.begin(), ranges.end());
  uint64_t pos = 0;
  for (auto& [b, e] : ranges) {
    if (b != pos) throw fail("tensor data ranges overlap or leave a gap at byte " + std::to_string(pos));
    pos = e;
  }
  if (pos != body) throw fail("the data section has " + std::to_string(body) + " bytes but the tensors cover " + std::to_string(pos));
  return out;
}

SafetensorsFile parse_safetensors(const std::string& data, const std::string& origin) {
  SafetensorsHeader h = parse_safetensors_header(data, origin);
  SafetensorsFile out;
  out.metadata = std::move(h.metadata);
  for (auto& [name, e] : h.tensors)
    out.tensors.emplace(name, RawTensor{std::move(e.dtype), std::move(e.shape),
                                        data.substr(h.data_start + e.begin, e.end - e.begin)});
  return out;
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw RuntimeError("safetensors file not found: " + path.string());
  return parse_safetensors(read_file(path), path.string());
}

std::string serialize_safetensors(const SafetensorsFile& f) {
  Json header = Json::object();
  Json meta = Json::object();
  if (f.metadata.empty()) meta["format"] = "pt";
  for (auto& [k, v] : f.metadata) meta[k] = v;
  header["__metadata__"] = meta;
  uint64_t offset = 0;
  for (auto& [name, t] : f.tensors) {
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h += ' ';  // align the data section to 8 bytes, as the reference writer does
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += h;
  out.reserve(out.size() + offset);
  for (auto& [name, t] : f.tensors) out += t.bytes;
  return out;
}

void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& f) { atomic_write_file(path, serialize_safetensors(f)); }

}  // namespace robotrain::util
