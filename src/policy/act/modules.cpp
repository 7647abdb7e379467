#include "policy/act/modules.h"

#include <cmath>

namespace robotrain::policy::act {

namespace nn = torch::nn;

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(int64_t c) {
  weight = register_buffer("weight", torch::ones({c}));
  bias = register_buffer("bias", torch::zeros({c}));
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
}

std::pair<torch::Tensor, torch::Tensor> FrozenBatchNorm2dImpl::scale_shift() const {
  auto scale = weight * (running_var + 1e-5).rsqrt();
  return {scale, bias - running_mean * scale};
}

torch::Tensor FrozenBatchNorm2dImpl::forward(const torch::Tensor& x) {
  auto [scale, shift] = scale_shift();
  return x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1});
}

torch::Tensor conv_frozen_bn(const torch::Tensor& x, torch::nn::Conv2d& conv, FrozenBatchNorm2d& bn) {
  auto [scale, shift] = bn->scale_shift();
  const auto& o = conv->options;
  auto padding = std::get<torch::ExpandingArray<2>>(o.padding());
  return torch::conv2d(x, conv->weight * scale.view({-1, 1, 1, 1}), shift, *o.stride(), *padding, *o.dilation());
}

namespace {
nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t dilation = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).dilation(dilation).bias(false));
}

nn::Sequential make_layer(int64_t in, int64_t out, int64_t stride, int64_t dilation) {
  nn::Sequential s;
  s->push_back(BasicBlock(in, out, stride, dilation));
  s->push_back(BasicBlock(out, out, 1, dilation));
  return s;
}

torch::Tensor activate(const torch::Tensor& x, const std::string& a) {
  if (a == "gelu") return torch::gelu(x);
  if (a == "glu") return torch::glu(x, -1);
  return torch::relu(x);
}

nn::MultiheadAttention attention(const ActConfig& c) {
  return nn::MultiheadAttention(nn::MultiheadAttentionOptions(c.dim_model, c.n_heads).dropout(c.dropout));
}

torch::Tensor add_pos(const torch::Tensor& x, const torch::Tensor& pos) { return pos.defined() ? x + pos : x; }

// (L, B, H*hd) -> (B, H, L, hd), a view.
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).permute({1, 2, 0, 3});
}

// Between two sub-layers: post-norm normalizes the residual sum (which becomes the next skip);
// pre-norm keeps the sum as the skip and normalizes only the next sub-layer's input.
void between_sublayers(torch::Tensor& x, torch::Tensor& skip, bool pre_norm, nn::LayerNorm& post, nn::LayerNorm& next_pre) {
  if (pre_norm) {
    skip = x;
    x = next_pre(x);
  } else {
    x = post(x);
    skip = x;
  }
}
}  // namespace

torch::Tensor attend(nn::MultiheadAttention& m, const torch::Tensor& query, const torch::Tensor& key,
                     const torch::Tensor& value, const torch::Tensor& key_padding_mask) {
  const auto& o = m->options;
  const int64_t D = o.embed_dim(), H = o.num_heads();
  const auto& w = m->in_proj_weight;
  const auto& b = m->in_proj_bias;
  torch::Tensor q, k;
  if (query.is_same(key)) {
    auto qk = torch::nn::functional::linear(query, w.narrow(0, 0, 2 * D), b.narrow(0, 0, 2 * D));
    q = qk.narrow(-1, 0, D);
    k = qk.narrow(-1, D, D);
  } else {
    q = torch::nn::functional::linear(query, w.narrow(0, 0, D), b.narrow(0, 0, D));
    k = torch::nn::functional::linear(key, w.narrow(0, D, D), b.narrow(0, D, D));
  }
  auto v = torch::nn::functional::linear(value, w.narrow(0, 2 * D, D), b.narrow(0, 2 * D, D));
  std::optional<torch::Tensor> mask;
  // SDPA's boolean mask says which keys take part: the complement, broadcast over heads/queries.
  if (key_padding_mask.defined())
    mask = key_padding_mask.logical_not().view({key_padding_mask.size(0), 1, 1, key_padding_mask.size(1)});
  const double dropout = m->is_training() ? o.dropout() : 0.0;
  auto out = at::scaled_dot_product_attention(split_heads(q, H), split_heads(k, H), split_heads(v, H), mask, dropout);
  // (B, H, L, hd) -> (L, B, D)
  out = out.permute({2, 0, 1, 3}).reshape({query.size(0), query.size(1), D});
  return m->out_proj(out);
}

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t out, int64_t stride, int64_t dilation) {
  conv1 = register_module("conv1", conv(in, out, 3, stride, dilation, dilation));
  bn1 = register_module("bn1", FrozenBatchNorm2d(out));
  conv2 = register_module("conv2", conv(out, out, 3, 1, dilation, dilation));
  bn2 = register_module("bn2", FrozenBatchNorm2d(out));
  if (stride != 1 || in != out) {
    downsample = nn::Sequential(conv(in, out, 1, stride, 0), FrozenBatchNorm2d(out));
    register_module("downsample", downsample);
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto y = conv_frozen_bn(x, conv1, bn1).relu_();
  y = conv_frozen_bn(y, conv2, bn2);
  if (downsample) {
    nn::Conv2d ds_conv(std::dynamic_pointer_cast<nn::Conv2dImpl>(downsample->ptr(0)));
    FrozenBatchNorm2d ds_bn(std::dynamic_pointer_cast<FrozenBatchNorm2dImpl>(downsample->ptr(1)));
    return y.add_(conv_frozen_bn(x, ds_conv, ds_bn)).relu_();
  }
  return y.add_(x).relu_();
}

ResNet18BackboneImpl::ResNet18BackboneImpl(bool dilate_layer4) {
  conv1 = register_module("conv1", conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", FrozenBatchNorm2d(64));
  layer1 = register_module("layer1", make_layer(64, 64, 1, 1));
  layer2 = register_module("layer2", make_layer(64, 128, 2, 1));
  layer3 = register_module("layer3", make_layer(128, 256, 2, 1));
  layer4 = register_module("layer4", make_layer(256, 512, dilate_layer4 ? 1 : 2, dilate_layer4 ? 2 : 1));
}

torch::Tensor ResNet18BackboneImpl::forward(torch::Tensor x) {
  if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  x = conv_frozen_bn(x, conv1, bn1).relu_();
  x = torch::max_pool2d(x, 3, 2, 1);
  return layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
}

EncoderLayerImpl::EncoderLayerImpl(const ActConfig& c) : pre_norm(c.pre_norm), activation(c.feedforward_activation) {
  self_attn = register_module("self_attn", attention(c));
  linear1 = register_module("linear1", nn::Linear(c.dim_model, c.dim_feedforward));
  dropout = register_module("dropout", nn::Dropout(c.dropout));
  linear2 = register_module("linear2", nn::Linear(c.dim_feedforward, c.dim_model));
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({c.dim_model})));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({c.dim_model})));
  dropout1 = register_module("dropout1", nn::Dropout(c.dropout));
  dropout2 = register_module("dropout2", nn::Dropout(c.dropout));
}

torch::Tensor EncoderLayerImpl::forward(torch::Tensor x, const torch::Tensor& pos, const torch::Tensor& key_padding_mask) {
  auto skip = x;
  if (pre_norm) x = norm1(x);
  auto q = add_pos(x, pos);
  x = attend(self_attn, q, q, x, key_padding_mask);
  x = skip + dropout1(x);
  between_sublayers(x, skip, pre_norm, norm1, norm2);
  x = linear2(dropout(activate(linear1(x), activation)));
  x = skip + dropout2(x);
  if (!pre_norm) x = norm2(x);
  return x;
}

EncoderImpl::EncoderImpl(const ActConfig& c, int n) {
  for (int i = 0; i < n; ++i) layers->push_back(EncoderLayer(c));
  register_module("layers", layers);
  if (c.pre_norm) norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({c.dim_model})));
}

torch::Tensor EncoderImpl::forward(torch::Tensor x, const torch::Tensor& pos, const torch::Tensor& kpm) {
  for (auto& l : *layers) x = l->as<EncoderLayer>()->forward(x, pos, kpm);
  return norm ? norm(x) : x;
}

DecoderLayerImpl::DecoderLayerImpl(const ActConfig& c) : pre_norm(c.pre_norm), activation(c.feedforward_activation) {
  self_attn = register_module("self_attn", attention(c));
  multihead_attn = register_module("multihead_attn", attention(c));
  linear1 = register_module("linear1", nn::Linear(c.dim_model, c.dim_feedforward));
  dropout = register_module("dropout", nn::Dropout(c.dropout));
  linear2 = register_module("linear2", nn::Linear(c.dim_feedforward, c.dim_model));
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({c.dim_model})));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({c.dim_model})));
  norm3 = register_module("norm3", nn::LayerNorm(nn::LayerNormOptions({c.dim_model})));
  dropout1 = register_module("dropout1", nn::Dropout(c.dropout));
  dropout2 = register_module("dropout2", nn::Dropout(c.dropout));
  dropout3 = register_module("dropout3", nn::Dropout(c.dropout));
}

torch::Tensor DecoderLayerImpl::forward(torch::Tensor x, const torch::Tensor& memory, const torch::Tensor& qpos, const torch::Tensor& mpos) {
  auto skip = x;
  if (pre_norm) x = norm1(x);
  auto q = add_pos(x, qpos);
  x = attend(self_attn, q, q, x);
  x = skip + dropout1(x);
  between_sublayers(x, skip, pre_norm, norm1, norm2);
  x = attend(multihead_attn, add_pos(x, qpos), add_pos(memory, mpos), memory);
  x = skip + dropout2(x);
  between_sublayers(x, skip, pre_norm, norm2, norm3);
  x = linear2(dropout(activate(linear1(x), activation)));
  x = skip + dropout3(x);
  if (!pre_norm) x = norm3(x);
  return x;
}

DecoderImpl::DecoderImpl(const ActConfig& c) {
  for (int i = 0; i < c.n_decoder_layers; ++i) layers->push_back(DecoderLayer(c));
  register_module("layers", layers);
  norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({c.dim_model})));
}

torch::Tensor DecoderImpl::forward(torch::Tensor x, const torch::Tensor& memory, const torch::Tensor& qpos, const torch::Tensor& mpos) {
  for (auto& l : *layers) x = l->as<DecoderLayer>()->forward(x, memory, qpos, mpos);
  return norm(x);
}

torch::Tensor sinusoidal_position_table(int64_t n, int64_t d) {
  auto t = torch::empty({n, d}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (int64_t pos = 0; pos < n; ++pos)
    for (int64_t i = 0; i < d; ++i) {
      double angle = pos / std::pow(10000.0, 2.0 * (i / 2) / d);
      a[pos][i] = i % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  return t.to(torch::kFloat32);
}

torch::Tensor sine_position_embedding_2d(const torch::Tensor& fm, int64_t half) {
  const double two_pi = 2 * M_PI, eps = 1e-6, temperature = 10000;
  int64_t h = fm.size(2), w = fm.size(3);
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(fm.device());
  auto y = torch::arange(1, h + 1, opts).view({1, h, 1}).expand({1, h, w});
  auto x = torch::arange(1, w + 1, opts).view({1, 1, w}).expand({1, h, w});
  y = y / (h + eps) * two_pi;
  x = x / (w + eps) * two_pi;
  auto inv_freq = torch::pow(temperature, 2 * torch::div(torch::arange(half, opts), 2, "floor") / half);
  auto px = x.unsqueeze(-1) / inv_freq;  // (1, H, W, half)
  auto py = y.unsqueeze(-1) / inv_freq;
  using torch::indexing::Slice;
  px = torch::stack({px.index({"...", Slice(0, torch::indexing::None, 2)}).sin(), px.index({"...", Slice(1, torch::indexing::None, 2)}).cos()}, -1).flatten(3);
  py = torch::stack({py.index({"...", Slice(0, torch::indexing::None, 2)}).sin(), py.index({"...", Slice(1, torch::indexing::None, 2)}).cos()}, -1).flatten(3);
  return torch::cat({py, px}, 3).permute({0, 3, 1, 2});  // (1, 2*half, H, W)
}

}  // namespace robotrain::policy::act
