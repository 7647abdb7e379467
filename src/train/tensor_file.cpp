#include "train/tensor_file.h"

#include <cstring>

#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::train {

namespace {

struct DTypeName {
  c10::ScalarType type;
  const char* name;
};
constexpr DTypeName kDTypes[] = {{torch::kFloat32, "F32"}, {torch::kFloat64, "F64"}, {torch::kFloat16, "F16"},
                                 {torch::kBFloat16, "BF16"}, {torch::kInt64, "I64"},  {torch::kInt32, "I32"},
                                 {torch::kInt16, "I16"},    {torch::kInt8, "I8"},     {torch::kUInt8, "U8"},
                                 {torch::kBool, "BOOL"}};

const char* dtype_name(c10::ScalarType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d.name;
  throw util::RuntimeError(util::cat("safetensors: dtype ", c10::toString(t), " cannot be stored"));
}

}  // namespace

void save_tensor_file(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  util::Json header = util::Json::object();
  header["__metadata__"] = {{"format", "pt"}};
  std::vector<torch::Tensor> cpu;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    auto c = t.detach().to(torch::kCPU).contiguous();
    size_t bytes = static_cast<size_t>(c.numel()) * c.element_size();
    header[name] = {{"dtype", dtype_name(c.scalar_type())}, {"shape", c.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    cpu.push_back(c);
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');  // data starts 8-byte aligned
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += h;
  out.reserve(out.size() + offset);
  for (const auto& c : cpu) out.append(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * c.element_size());
  util::atomic_write_file(path, out);
}

std::map<std::string, torch::Tensor> load_tensor_file(const std::filesystem::path& path) {
  std::string data = util::read_file(path);
  auto bad = [&](const std::string& why) {
    return util::RuntimeError(util::cat(path.string(), ": not a valid safetensors file (", why, ")"));
  };
  if (data.size() < 8) throw bad("shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(data[static_cast<size_t>(i)]);
  if (n > data.size() - 8) throw bad("header length beyond the end of the file");
  auto header = util::Json::parse(data.substr(8, n), nullptr, false);
  if (header.is_discarded() || !header.is_object()) throw bad("header is not a JSON object");
  const size_t base = 8 + n;
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    std::string dt = info.value("dtype", "");
    c10::ScalarType type = torch::kFloat32;
    bool found = false;
    for (const auto& d : kDTypes)
      if (dt == d.name) type = d.type, found = true;
    if (!found) throw bad(util::cat("tensor '", name, "' has unsupported dtype '", dt, "'"));
    auto shape = info.at("shape").get<std::vector<int64_t>>();
    auto offs = info.at("data_offsets").get<std::vector<uint64_t>>();
    if (offs.size() != 2 || offs[1] < offs[0] || base + offs[1] > data.size()) throw bad(util::cat("tensor '", name, "' lies outside the file"));
    auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
    if (static_cast<uint64_t>(t.numel()) * t.element_size() != offs[1] - offs[0])
      throw bad(util::cat("tensor '", name, "': shape and byte size disagree"));
    if (t.numel() > 0) std::memcpy(t.data_ptr(), data.data() + base + offs[0], offs[1] - offs[0]);
    out.emplace(name, t);
  }
  return out;
}

}  // namespace robotrain::train
