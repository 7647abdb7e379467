#pragma once
// ACT's building blocks as torch::nn modules whose parameter names are LeRobot's
// (torchvision ResNet-18 with FrozenBatchNorm2d; DETR-style transformer layers).
#include <torch/torch.h>

#include "policy/act/config.h"

namespace robotrain::policy::act {

// BatchNorm with fixed statistics and affine terms, all buffers (as torchvision's
// FrozenBatchNorm2d): folded into one per-channel scale and shift at forward.
struct FrozenBatchNorm2dImpl : torch::nn::Module {
  explicit FrozenBatchNorm2dImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
  // (scale, shift) per channel: y = x * scale + shift.
  std::pair<torch::Tensor, torch::Tensor> scale_shift() const;
  torch::Tensor weight, bias, running_mean, running_var;
};
TORCH_MODULE(FrozenBatchNorm2d);

struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  FrozenBatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

// A bias-free convolution followed by a frozen batch norm, run as one convolution whose
// weight is scaled per output channel and whose bias is the BN shift: no full-size
// elementwise pass over the activations forward or backward (gradients still reach the
// convolution weight through the scaling).
torch::Tensor conv_frozen_bn(const torch::Tensor& x, torch::nn::Conv2d& conv, FrozenBatchNorm2d& bn);

// ResNet-18 up to layer4 (no avgpool/fc): (B, 3, H, W) -> (B, 512, H/32, W/32).
struct ResNet18BackboneImpl : torch::nn::Module {
  explicit ResNet18BackboneImpl(bool dilate_layer4);
  torch::Tensor forward(torch::Tensor x);
  // Channels-last memory format for the convolutions, chosen by image size: bench_act_step
  // (backbone fwd+bwd, batch 8, 2 cores, LibTorch 1.13 CPU) measured it 11% slower at 96x96,
  // even at 160x224, 8% faster at 240x320 and 12% faster at 480x640.
  static constexpr int64_t kChannelsLastMinArea = 224 * 224;
  bool channels_last = false;
  torch::nn::Conv2d conv1{nullptr};
  FrozenBatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(ResNet18Backbone);

// torch.nn.MultiheadAttention's forward (batch second, no attention weights returned) through
// at::scaled_dot_product_attention, with the module's own parameters (in_proj_weight/bias,
// out_proj: LeRobot's state-dict keys). LibTorch's C++ MultiheadAttention instead compares
// query, key and value element by element (torch::equal) to pick its projections, copies the
// heads into contiguous batches and always materialises the attention weights. When query
// and key are the same tensor (self-attention with positions, q = k = x + pos), their two
// projections run as one GEMM. key_padding_mask: (B, S), true where a key is padding.
torch::Tensor attend(torch::nn::MultiheadAttention& m, const torch::Tensor& query, const torch::Tensor& key,
                     const torch::Tensor& value, const torch::Tensor& key_padding_mask = {});

struct EncoderLayerImpl : torch::nn::Module {
  explicit EncoderLayerImpl(const ActConfig& c);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& pos, const torch::Tensor& key_padding_mask);
  torch::nn::MultiheadAttention self_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr};
  bool pre_norm;
  std::string activation;
};
TORCH_MODULE(EncoderLayer);

struct EncoderImpl : torch::nn::Module {
  EncoderImpl(const ActConfig& c, int n_layers);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& pos, const torch::Tensor& key_padding_mask = {});
  torch::nn::ModuleList layers;
  torch::nn::LayerNorm norm{nullptr};  // only with pre_norm (Identity otherwise, no parameters)
};
TORCH_MODULE(Encoder);

struct DecoderLayerImpl : torch::nn::Module {
  explicit DecoderLayerImpl(const ActConfig& c);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& memory, const torch::Tensor& query_pos, const torch::Tensor& memory_pos);
  torch::nn::MultiheadAttention self_attn{nullptr}, multihead_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr}, dropout3{nullptr};
  bool pre_norm;
  std::string activation;
};
TORCH_MODULE(DecoderLayer);

struct DecoderImpl : torch::nn::Module {
  explicit DecoderImpl(const ActConfig& c);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& memory, const torch::Tensor& query_pos, const torch::Tensor& memory_pos);
  torch::nn::ModuleList layers;
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(Decoder);

// Fixed sinusoid table (num_positions, dimension), computed in float64 as LeRobot does.
torch::Tensor sinusoidal_position_table(int64_t num_positions, int64_t dimension);
// DETR's 2-D sine embedding of a feature map (B, C, H, W) -> (1, 2*half_dim, H, W).
torch::Tensor sine_position_embedding_2d(const torch::Tensor& feature_map, int64_t half_dim);

}  // namespace robotrain::policy::act
