#pragma once
// A dense, typed, host-memory array: what the (torch-free) dataset layer hands to training.
// The train layer wraps `bytes` with torch::from_blob, so layout is row-major, contiguous.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace robotrain::dataset {

enum class DType : uint8_t { Float32, UInt8, Bool, Int64 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Int64: return 8;
    default: return 1;
  }
}

struct Array {
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  Array() = default;
  Array(DType t, std::vector<int64_t> s) : dtype(t), shape(std::move(s)), bytes(numel() * dtype_size(t)) {}

  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  template <class T>
  T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <class T>
  const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }
};

}  // namespace robotrain::dataset
