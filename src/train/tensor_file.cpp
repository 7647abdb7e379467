#include "train/tensor_file.h"

#include <cstring>

#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/safetensors.h"
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
  // Every size is checked (overflow included) before a tensor is allocated from it.
  const util::SafetensorsHeader header = util::parse_safetensors_header(data, path.string());
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, info] : header.tensors) {
    c10::ScalarType type = torch::kFloat32;
    bool found = false;
    for (const auto& d : kDTypes)
      if (info.dtype == d.name) type = d.type, found = true;
    if (!found)
      throw util::RuntimeError(util::cat(path.string(), ": tensor '", name, "' has unsupported dtype '", info.dtype, "'"));
    auto t = torch::empty(info.shape, torch::TensorOptions().dtype(type));
    if (t.numel() > 0) std::memcpy(t.data_ptr(), data.data() + header.data_start + info.begin, info.end - info.begin);
    out.emplace(name, t);
  }
  return out;
}

}  // namespace robotrain::train
