#include "policy/tensor_io.h"

#include <cstring>
#include <set>

#include "util/error.h"
#include "util/safetensors.h"
#include "util/strings.h"

namespace robotrain::policy {

namespace {

const char* dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "F32";
    case torch::kFloat64: return "F64";
    case torch::kFloat16: return "F16";
    case torch::kBFloat16: return "BF16";
    case torch::kInt64: return "I64";
    case torch::kInt32: return "I32";
    case torch::kInt16: return "I16";
    case torch::kInt8: return "I8";
    case torch::kUInt8: return "U8";
    case torch::kBool: return "BOOL";
    default: throw util::InputError(std::string("cannot store tensors of type ") + c10::toString(t) + " in safetensors");
  }
}

torch::ScalarType scalar_type(const std::string& d) {
  if (d == "F32") return torch::kFloat32;
  if (d == "F64") return torch::kFloat64;
  if (d == "F16") return torch::kFloat16;
  if (d == "BF16") return torch::kBFloat16;
  if (d == "I64") return torch::kInt64;
  if (d == "I32") return torch::kInt32;
  if (d == "I16") return torch::kInt16;
  if (d == "I8") return torch::kInt8;
  if (d == "U8") return torch::kUInt8;
  if (d == "BOOL") return torch::kBool;
  throw util::RuntimeError("unsupported safetensors dtype " + d);
}

}  // namespace

void save_tensors(const std::filesystem::path& path, const NamedTensors& tensors) {
  util::SafetensorsFile f;
  for (auto& [name, t] : tensors) {
    auto c = t.detach().to(torch::kCPU).contiguous();
    util::RawTensor r;
    r.dtype = dtype_name(c.scalar_type());
    r.shape = c.sizes().vec();
    r.bytes.assign(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
    if (!f.tensors.emplace(name, std::move(r)).second) throw util::RuntimeError("duplicate tensor name '" + name + "' while writing " + path.string());
  }
  util::write_safetensors(path, f);
}

std::map<std::string, torch::Tensor> load_tensors(const std::filesystem::path& path) {
  auto f = util::read_safetensors(path);
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, r] : f.tensors) {
    auto t = torch::empty(r.shape, torch::TensorOptions().dtype(scalar_type(r.dtype)));
    if (!r.bytes.empty()) std::memcpy(t.data_ptr(), r.bytes.data(), r.bytes.size());
    out.emplace(name, t);
  }
  return out;
}

void assign_state(const NamedTensors& target, const std::map<std::string, torch::Tensor>& source, const std::string& origin,
                  bool allow_unexpected, const std::string& hint) {
  std::vector<std::string> missing, mismatched, unexpected;
  std::set<std::string> known;
  for (auto& [name, t] : target) {
    known.insert(name);
    auto it = source.find(name);
    if (it == source.end()) {
      missing.push_back(name);
    } else if (it->second.sizes() != t.sizes()) {
      mismatched.push_back(util::cat(name, " (file ", it->second.sizes(), ", model ", t.sizes(), ")"));
    }
  }
  for (auto& [name, t] : source)
    if (!known.count(name)) unexpected.push_back(name);
  auto list = [](const std::vector<std::string>& v) {
    std::string s = util::join(std::vector<std::string>(v.begin(), v.begin() + std::min<size_t>(v.size(), 5)), ", ");
    return v.size() > 5 ? s + ", ... (" + std::to_string(v.size()) + " in all)" : s;
  };
  if (!missing.empty() || !mismatched.empty() || (!allow_unexpected && !unexpected.empty())) {
    std::string msg = origin + " does not match this policy's configuration:";
    if (!missing.empty()) msg += " missing keys: " + list(missing) + ";";
    if (!mismatched.empty()) msg += " shape mismatch: " + list(mismatched) + ";";
    if (!allow_unexpected && !unexpected.empty()) msg += " unexpected keys: " + list(unexpected) + ";";
    msg += " " + hint;
    throw util::RuntimeError(msg);
  }
  torch::NoGradGuard ng;
  for (auto& [name, t] : target) {
    auto& src = source.at(name);
    t.copy_(src.to(t.device(), t.scalar_type()));
  }
}

}  // namespace robotrain::policy
