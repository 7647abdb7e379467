#pragma once
// torch::Tensor <-> safetensors (util/safetensors.h): model weights and normalizer stats.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace robotrain::policy {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

void save_tensors(const std::filesystem::path& path, const NamedTensors& tensors);
std::map<std::string, torch::Tensor> load_tensors(const std::filesystem::path& path);

// Copies `source` into the named tensors (same names and shapes, dtype converted); a
// RuntimeError lists missing, unexpected and mis-shaped keys, then `hint` (how to fix).
void assign_state(const NamedTensors& target, const std::map<std::string, torch::Tensor>& source, const std::string& origin,
                  bool allow_unexpected = true,
                  const std::string& hint = "check that config.json belongs to these weights");

}  // namespace robotrain::policy
