#pragma once
// The safetensors format (torch-free): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw little-endian
// tensor bytes. Used for model weights, normalizer stats and training state.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
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

// One tensor of a parsed header: its bytes are data[data_start + begin, data_start + end).
struct SafetensorsEntry {
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

struct SafetensorsHeader {
  std::map<std::string, SafetensorsEntry> tensors;
  std::map<std::string, std::string> metadata;
  size_t data_start = 0;
};

// Validates a whole file's header against its bytes without copying any tensor: header length
// within the file (and 100 MB), known dtypes, integer non-negative shapes whose numel x
// itemsize does not overflow and equals the byte range, ranges that tile the data section
// (in range, no overlap, no gap), string metadata. RuntimeError naming `origin` otherwise.
SafetensorsHeader parse_safetensors_header(std::string_view data, const std::string& origin);
// The same, with each tensor's bytes copied out.
SafetensorsFile read_safetensors(const std::filesystem::path& path);
SafetensorsFile parse_safetensors(const std::string& data, const std::string& origin);
// Atomic write; metadata defaults to {"format": "pt"}.
void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file);
std::string serialize_safetensors(const SafetensorsFile& file);

}  // namespace robotrain::util
