#include "policy/backbone_weights.h"

#include "util/error.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::policy {

namespace fs = std::filesystem;
using util::cat;

namespace {

// "ResNet18_Weights.IMAGENET1K_V1": a torchvision weights enum, not a file.
bool is_torchvision_name(const std::string& v) {
  auto dot = v.find('.');
  if (dot == std::string::npos || v.find('/') != std::string::npos) return false;
  if (!util::ends_with(v.substr(0, dot), "_Weights")) return false;
  for (char c : v.substr(dot + 1))
    if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) return false;
  return dot + 1 < v.size();
}

const char* kConvertHint =
    "convert it with python -c \"import torch,safetensors.torch as s; s.save_file(torch.load('X.pth'), 'X.safetensors')\"";

}  // namespace

fs::path backbone_weights_dir() {
  if (auto dir = util::get_env("ROBOTRAIN_BACKBONE_DIR"); dir && !dir->empty()) return *dir;
  std::string xdg = util::get_env_or("XDG_CACHE_HOME", "");
  if (xdg.empty()) xdg = util::get_env_or("HOME", "/root") + "/.cache";
  return fs::path(xdg) / "robotrain" / "backbones";
}

std::string torchvision_weights_name(const std::string& vision_backbone) {
  // torchvision's class names capitalise the architecture: resnet18 -> ResNet18_Weights.
  std::string arch = vision_backbone;
  if (util::starts_with(arch, "resnet")) arch = "ResNet" + arch.substr(6);
  return arch + "_Weights.IMAGENET1K_V1";
}

BackboneWeights resolve_backbone_weights(const std::string& value, const std::string& vision_backbone) {
  const std::string flag = "--policy.pretrained_backbone_weights";
  if (is_torchvision_name(value)) {
    fs::path local = backbone_weights_dir() / (value + ".safetensors");
    if (fs::is_regular_file(local)) return {local, value};
    util::log_warn("pretrained_backbone_weights ", value, " has no local copy at ", local.string(),
                   " (robotrain downloads nothing): the ", vision_backbone,
                   " starts from random weights; put torchvision's weights there as safetensors, or pass "
                   "--policy.pretrained_backbone_weights FILE (null for no pretrained weights)");
    return {fs::path(), value};
  }
  fs::path file = value;
  if (util::ends_with(value, ".pth") || util::ends_with(value, ".pt"))
    throw util::InputError(cat(flag, " ", value, ": a PyTorch pickle, which robotrain does not read; ", kConvertHint,
                               " and give the .safetensors file"));
  if (!fs::is_regular_file(file))
    throw util::InputError(cat(flag, " ", value, ": no such file; give a safetensors file of torchvision ",
                               vision_backbone, " weights, a torchvision name such as ",
                               torchvision_weights_name(vision_backbone), ", or null"));
  // LeRobot builds the model from config.json and only knows torchvision names: record the
  // ImageNet weights the file stands for (the checkpoint's own weights overwrite them anyway).
  return {file, torchvision_weights_name(vision_backbone)};
}

void load_backbone_weights(const NamedTensors& target, const fs::path& file,
                           const std::function<std::string(const std::string&)>& to_target_name) {
  auto source = load_tensors(file);
  std::map<std::string, torch::Tensor> renamed;
  for (auto& [name, t] : source) {
    std::string n = name;
    for (const char* prefix : {"model.backbone.", "backbone."})
      if (util::starts_with(n, prefix)) n = n.substr(std::string(prefix).size());
    renamed[to_target_name(n)] = t;
  }
  // A running-batch counter is no weight: files without it (an ACT checkpoint) load too.
  NamedTensors weights;
  for (auto& [name, t] : target)
    if (!util::ends_with(name, "num_batches_tracked")) weights.emplace_back(name, t);
  assign_state(weights, renamed, cat("backbone weights ", file.string()), true,
               "give torchvision's ResNet state dict (conv1.weight, bn1.*, layer1.0.conv1.weight, ...) as safetensors");
}

}  // namespace robotrain::policy
