#pragma once
// Pretrained vision-backbone weights (LeRobot's `pretrained_backbone_weights`). LeRobot names
// torchvision weights ("ResNet18_Weights.IMAGENET1K_V1") that torchvision downloads; robotrain
// downloads nothing, so the weights come from a local safetensors file with torchvision's key
// names (conv1.weight, bn1.running_mean, layer1.0.conv1.weight, ...; fc.* and
// num_batches_tracked are ignored):
//   - the value itself when it is a path to such a file;
//   - for a torchvision name, <backbone dir>/<name>.safetensors, where the backbone dir is
//     $ROBOTRAIN_BACKBONE_DIR or $XDG_CACHE_HOME/robotrain/backbones (~/.cache/...).
// A PyTorch .pth converts with
//   python -c "import torch,safetensors.torch as s; s.save_file(torch.load('X.pth'), 'X.safetensors')"
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "policy/tensor_io.h"

namespace robotrain::policy {

std::filesystem::path backbone_weights_dir();

// torchvision's default weights name for a backbone ("resnet18" -> "ResNet18_Weights.IMAGENET1K_V1").
std::string torchvision_weights_name(const std::string& vision_backbone);

struct BackboneWeights {
  std::filesystem::path file;  // empty: no local copy of the named weights (warned)
  std::string lerobot_name;    // what config.json records: a torchvision name LeRobot can load
};

// Where the weights `value` names come from; a torchvision name without a local copy is
// warned about (the model then starts random). InputError for a path that does not exist or
// is not safetensors (a .pth says how to convert it).
BackboneWeights resolve_backbone_weights(const std::string& value, const std::string& vision_backbone);

// Copies torchvision-named ResNet weights from `file` into `target`, whose names are mapped
// from torchvision's by `to_target_name` (identity for ACT's backbone). Checkpoint prefixes
// ("model.backbone.", "backbone.") are stripped first, so a LeRobot ACT model.safetensors
// serves too. RuntimeError naming missing or mis-shaped keys.
void load_backbone_weights(const NamedTensors& target, const std::filesystem::path& file,
                           const std::function<std::string(const std::string&)>& to_target_name);

}  // namespace robotrain::policy
