#pragma once
// Diffusion Policy's networks, laid out so that named_parameters()/named_buffers() give
// LeRobot's state-dict names (and PyTorch's registration order, which fixes the optimizer's
// parameter ids): ResNet-18 Sequential "backbone.{0,1,4..7}", SpatialSoftmax "pool",
// "out"; U-Net "diffusion_step_encoder.{1,3}", "down_modules.i.{0,1,2}", "mid_modules",
// "up_modules", "final_conv".
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "policy/diffusion/config.h"

namespace robotrain::policy::diffusion {

// torchvision BasicBlock with BatchNorm2d or GroupNorm(C/16, C) as the norm layer.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride, bool group_norm);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::AnyModule bn1, bn2;
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

// A ResNet stage: two BasicBlocks named "0" and "1" (a Sequential can't nest in a Sequential).
class ResLayerImpl : public torch::nn::Module {
 public:
  ResLayerImpl(int64_t in, int64_t out, int64_t stride, bool group_norm);
  torch::Tensor forward(const torch::Tensor& x) { return b1->forward(b0->forward(x)); }

 private:
  BasicBlock b0{nullptr}, b1{nullptr};
};
TORCH_MODULE(ResLayer);

// ResNet-18 without avgpool/fc: children 0 conv1, 1 norm, 2 relu, 3 maxpool, 4..7 layer1..4.
torch::nn::Sequential make_resnet18_trunk(bool group_norm);
// Spatial size of the trunk's output for an input of `hw` (stride 32 overall).
std::array<int64_t, 2> resnet18_output_hw(std::array<int64_t, 2> hw);

// Expected (x, y) keypoint per channel over a linspace(-1, 1) grid (robomimic's port).
class SpatialSoftmaxImpl : public torch::nn::Module {
 public:
  SpatialSoftmaxImpl(int64_t in_channels, int64_t h, int64_t w, int64_t num_kp);
  torch::Tensor forward(const torch::Tensor& features);  // (B, C, H, W) -> (B, K, 2)

 private:
  torch::nn::Conv2d nets{nullptr};
  torch::Tensor pos_grid;  // [H*W, 2] buffer
  int64_t h_, w_, k_;
};
TORCH_MODULE(SpatialSoftmax);

// Image (B, C, H, W) in normalised pixel space -> feature (B, 2K).
class RgbEncoderImpl : public torch::nn::Module {
 public:
  RgbEncoderImpl(const DiffusionConfig& config, const std::vector<int64_t>& image_chw);
  torch::Tensor forward(torch::Tensor x);
  int64_t feature_dim() const { return feature_dim_; }
  torch::Tensor preprocess(torch::Tensor x);  // resize + (random|center) crop
  torch::Tensor encode(const torch::Tensor& x);  // backbone + pool + out + relu
  torch::nn::Sequential& trunk() { return backbone; }  // the ResNet without avgpool/fc

 private:
  std::optional<std::array<int64_t, 2>> resize_, crop_;
  bool crop_random_;
  torch::nn::Sequential backbone{nullptr};
  SpatialSoftmax pool{nullptr};
  torch::nn::Linear out{nullptr};
  int64_t feature_dim_;
};
TORCH_MODULE(RgbEncoder);

// Conv1d -> GroupNorm -> Mish as "block.{0,1,2}".
class Conv1dBlockImpl : public torch::nn::Module {
 public:
  Conv1dBlockImpl(int64_t in, int64_t out, int64_t kernel, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x) { return block->forward(x); }

 private:
  torch::nn::Sequential block{nullptr};
};
TORCH_MODULE(Conv1dBlock);

// Residual block with FiLM conditioning (scale and bias, or bias only).
class CondResBlockImpl : public torch::nn::Module {
 public:
  CondResBlockImpl(int64_t in, int64_t out, int64_t cond_dim, int64_t kernel, int64_t groups, bool film_scale);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond);

 private:
  Conv1dBlock conv1{nullptr}, conv2{nullptr};
  torch::nn::Sequential cond_encoder{nullptr};
  torch::nn::Conv1d residual_conv{nullptr};
  int64_t out_channels_;
  bool film_scale_;
};
TORCH_MODULE(CondResBlock);

// Sinusoidal timestep embedding (sin half then cos half), as a Sequential child.
torch::Tensor sinusoidal_embedding(const torch::Tensor& t, int64_t dim);

class ConditionalUnet1dImpl : public torch::nn::Module {
 public:
  ConditionalUnet1dImpl(const DiffusionConfig& config, int64_t action_dim, int64_t global_cond_dim);
  // x (B, T, A), timesteps (B,), global_cond (B, G) -> (B, T, A)
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& timesteps, const torch::Tensor& global_cond);

 private:
  torch::nn::Sequential diffusion_step_encoder{nullptr};
  torch::nn::ModuleList down_modules{nullptr}, mid_modules{nullptr}, up_modules{nullptr};
  torch::nn::Sequential final_conv{nullptr};
  // Typed views of the ModuleList entries for forward.
  struct Stage {
    CondResBlock a{nullptr}, b{nullptr};
    torch::nn::AnyModule resample;  // empty = Identity
  };
  std::vector<Stage> down_, up_;
  std::vector<CondResBlock> mid_;
};
TORCH_MODULE(ConditionalUnet1d);

}  // namespace robotrain::policy::diffusion
