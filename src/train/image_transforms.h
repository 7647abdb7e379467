#pragma once
// LeRobot's training-time image augmentations (datasets/transforms.py, torchvision v2
// semantics on float images in [0, 1]): per sample and camera, a random subset of at most
// max_num_transforms transforms drawn by weight without replacement (applied in configured
// order unless random_order), each with its parameter drawn uniformly from its range.
#include <torch/torch.h>

#include <vector>

#include "train/train_config.h"

namespace robotrain::train {

class ImageTransforms {
 public:
  explicit ImageTransforms(const ImageTransformsConfig& config);  // InputError on bad config
  bool enabled() const { return enabled_; }
  // images: (C, H, W) or (T, C, H, W) float in [0, 1]; the same draw for every frame.
  torch::Tensor apply(const torch::Tensor& images, torch::Generator& gen) const;
  // Applies independently to each sample of a batch (B, ...).
  torch::Tensor apply_batch(const torch::Tensor& images, torch::Generator& gen) const;

 private:
  struct Tf {
    std::string type;     // ColorJitter | SharpnessJitter | RandomAffine | Identity
    std::string param;    // for ColorJitter: brightness|contrast|saturation|hue
    double lo = 0, hi = 0;
    double degrees_lo = 0, degrees_hi = 0, translate_x = 0, translate_y = 0;
  };
  torch::Tensor apply_one(const Tf& tf, const torch::Tensor& img, torch::Generator& gen) const;
  std::vector<Tf> tfs_;
  std::vector<double> weights_;
  int n_subset_ = 0;
  bool random_order_ = false;
  bool enabled_ = false;
};

// torchvision.transforms.v2.functional equivalents on float images (..., 3, H, W).
torch::Tensor adjust_brightness(const torch::Tensor& img, double factor);
torch::Tensor adjust_contrast(const torch::Tensor& img, double factor);
torch::Tensor adjust_saturation(const torch::Tensor& img, double factor);
torch::Tensor adjust_hue(const torch::Tensor& img, double hue_factor);
torch::Tensor adjust_sharpness(const torch::Tensor& img, double factor);
// torchvision's affine with scale 1 and no shear: rotation by angle_deg about the centre
// (clockwise on screen, y pointing down) and translation by (tx, ty) pixels, nearest-neighbour,
// zero fill.
torch::Tensor affine(const torch::Tensor& img, double angle_deg, double tx, double ty);

}  // namespace robotrain::train
