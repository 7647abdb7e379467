#include "train/batch.h"

#include <algorithm>
#include <memory>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::train {

c10::ScalarType torch_dtype(dataset::DType dtype) {
  switch (dtype) {
    case dataset::DType::Float32: return torch::kFloat32;
    case dataset::DType::UInt8: return torch::kUInt8;
    case dataset::DType::Bool: return torch::kBool;
    case dataset::DType::Int64: return torch::kInt64;
  }
  throw util::RuntimeError("unknown dataset dtype");
}

torch::Tensor to_tensor(dataset::Array&& array) {
  auto holder = std::make_shared<std::vector<uint8_t>>(std::move(array.bytes));
  if (static_cast<int64_t>(holder->size()) != array.numel() * static_cast<int64_t>(dataset::dtype_size(array.dtype)))
    throw util::RuntimeError(util::cat("batch array of shape [", util::join([&] {
                                         std::vector<std::string> s;
                                         for (auto d : array.shape) s.push_back(std::to_string(d));
                                         return s;
                                       }(), ","), "] has ", holder->size(), " bytes; the loader produced a corrupt batch"));
  if (holder->empty()) return torch::empty(array.shape, torch::TensorOptions().dtype(torch_dtype(array.dtype)));
  void* data = holder->data();
  return torch::from_blob(data, array.shape, [holder](void*) mutable { holder.reset(); },
                          torch::TensorOptions().dtype(torch_dtype(array.dtype)));
}

torch::Tensor to_tensor_copy(const dataset::Array& array) {
  dataset::Array copy = array;
  return to_tensor(std::move(copy));
}

policy::TensorMap transfer_batch(dataset::Batch&& batch, const torch::Device& device) {
  policy::TensorMap out;
  for (auto& [key, array] : batch.arrays) {
    auto t = to_tensor(std::move(array));
    // To CUDA through page-locked memory, asynchronously on the current stream (as torch's
    // DataLoader(pin_memory=True) with .to(non_blocking=True)); the caching host allocator keeps
    // the pinned block until the copy has completed.
    if (device.is_cuda()) t = t.pin_memory().to(device, /*non_blocking=*/true);
    else if (!device.is_cpu()) t = t.to(device);
    out.emplace(key, std::move(t));
  }
  return out;
}

void prepare_cameras(policy::TensorMap& batch, const BatchAdapterOptions& options) {
  for (auto& [key, t] : batch) {
    bool camera = std::find(options.camera_keys.begin(), options.camera_keys.end(), key) != options.camera_keys.end();
    if (!camera) continue;
    if (t.scalar_type() == torch::kUInt8) t = t.to(torch::kFloat32).div_(255.0);
    if (options.transforms && options.transforms->enabled()) {
      // Parameters drawn on the CPU from a per-step seed: resumed runs augment identically.
      uint64_t h = 1469598103934665603ull;  // FNV-1a of the camera key: stable across builds
      for (unsigned char ch : key) h = (h ^ ch) * 1099511628211ull;
      auto gen = at::make_generator<at::CPUGeneratorImpl>(options.augment_seed ^ h);
      t = options.transforms->apply_batch(t, gen);
    }
  }
}

policy::TensorMap to_device_batch(dataset::Batch&& batch, const BatchAdapterOptions& options) {
  auto out = transfer_batch(std::move(batch), options.device);
  prepare_cameras(out, options);
  return out;
}

}  // namespace robotrain::train
