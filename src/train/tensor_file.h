#pragma once
// Named tensors in safetensors files for the training state (optimizer_state.safetensors,
// rng_state.safetensors). Always written on the CPU, contiguous, atomically.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace robotrain::train {

void save_tensor_file(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors);
// RuntimeError naming the file when it is not a valid safetensors file.
std::map<std::string, torch::Tensor> load_tensor_file(const std::filesystem::path& path);

}  // namespace robotrain::train
