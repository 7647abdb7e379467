#include "util/safetensors.h"

#include <algorithm>
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

SafetensorsFile parse_safetensors(const std::string& data, const std::string& origin) {
  auto fail = [&](const std::string& why) { return RuntimeError(origin + ": not a valid safetensors file: " + why); };
  if (data.size() < 8) throw fail("shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(data[i]);
  if (n > data.size() - 8) throw fail("header length " + std::to_string(n) + " exceeds the file size (truncated?)");
  if (n == 0 || data[8] != '{') throw fail("header does not start with '{'");
  Json header;
  try {
    header = Json::parse(data.substr(8, n));
  } catch (const std::exception& e) {
    throw fail(std::string("header is not JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  SafetensorsFile out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  const size_t base = 8 + n;
  const size_t body = data.size() - base;
  for (auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (v.is_object())
        for (auto& [k, mv] : v.items()) out.metadata[k] = mv.is_string() ? mv.get<std::string>() : mv.dump();
      continue;
    }
    RawTensor t;
    try {
      t.dtype = v.at("dtype").get<std::string>();
      t.shape = v.at("shape").get<std::vector<int64_t>>();
      auto off = v.at("data_offsets").get<std::vector<uint64_t>>();
      if (off.size() != 2 || off[0] > off[1] || off[1] > body) throw fail("tensor '" + name + "' has data offsets outside the file");
      size_t numel = 1;
      for (auto d : t.shape) {
        if (d < 0) throw fail("tensor '" + name + "' has a negative dimension");
        numel *= static_cast<size_t>(d);
      }
      if (numel * safetensors_dtype_size(t.dtype) != off[1] - off[0])
        throw fail("tensor '" + name + "' has " + std::to_string(off[1] - off[0]) + " bytes for its shape and dtype " + t.dtype);
      t.bytes = data.substr(base + off[0], off[1] - off[0]);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw fail("tensor '" + name + "' entry is malformed (" + e.what() + ")");
    }
    if (!out.tensors.emplace(name, std::move(t)).second) throw fail("tensor '" + name + "' appears twice");
    ranges.emplace_back(v.at("data_offsets").at(0).get<uint64_t>(), v.at("data_offsets").at(1).get<uint64_t>());
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
