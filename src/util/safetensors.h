#pragma once
// The safetensors format (torch-free): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw little-endian
// tensor bytes. Used for model weights, normalizer stats and training state.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace robotrain::util {

struct RawTensor {
  std::string dtype;           // "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"
  std::vector<int64_t> shape;
  std::string bytes;           // little-endian, row-major
};

size_t safetensors_dtype_size(const std::string& dtype);  // InputError for an unknown dtype

// Tensors in file order is not preserved by the format; names are sorted as safetensors does.
struct SafetensorsFile {
  std::map<std::string, RawTensor> tensors;
  std::map<std::string, std::string> metadata;
};

// RuntimeError naming the file on truncation, overlapping or out-of-range offsets, bad JSON,
// dtype/shape/size mismatches.
SafetensorsFile read_safetensors(const std::filesystem::path& path);
SafetensorsFile parse_safetensors(const std::string& data, const std::string& origin);
// Atomic write; metadata defaults to {"format": "pt"}.
void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file);
std::string serialize_safetensors(const SafetensorsFile& file);

}  // namespace robotrain::util
