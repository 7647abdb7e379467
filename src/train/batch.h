#pragma once
// dataset::Batch (torch-free host arrays) -> tensors on the training device. Arrays are
// wrapped without copying (torch::from_blob keeps the bytes alive), moved to the device in
// their stored dtype (uint8 images travel 4x smaller), then uint8 cameras become float in
// [0, 1] there. Optional LeRobot image augmentations run on the device afterwards.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "dataset/loader.h"
#include "policy/policy.h"
#include "train/image_transforms.h"

namespace robotrain::train {

// Zero-copy view of an array; the tensor owns (shares) `array`'s bytes.
torch::Tensor to_tensor(dataset::Array&& array);
// Copying variant for arrays that stay owned by the caller.
torch::Tensor to_tensor_copy(const dataset::Array& array);
c10::ScalarType torch_dtype(dataset::DType dtype);

struct BatchAdapterOptions {
  torch::Device device = torch::kCPU;
  std::vector<std::string> camera_keys;  // uint8 -> float/255, augmentations
  const ImageTransforms* transforms = nullptr;  // null or disabled: none
  uint64_t augment_seed = 0;                    // per step, so resumed runs draw the same
};

policy::TensorMap to_device_batch(dataset::Batch&& batch, const BatchAdapterOptions& options);

// to_device_batch in its two halves, for a feeder that copies on one CUDA stream and computes
// on another (train/device_feeder.h): the arrays to `device` in their stored dtype (through
// pinned memory, asynchronously on the current stream, for CUDA) ...
policy::TensorMap transfer_batch(dataset::Batch&& batch, const torch::Device& device);
// ... then, on the stream that will use them, uint8 cameras to float [0, 1] and augmentations.
void prepare_cameras(policy::TensorMap& batch, const BatchAdapterOptions& options);

}  // namespace robotrain::train
