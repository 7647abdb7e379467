#include "policy/diffusion/modules.h"

#include <cmath>

namespace robotrain::policy::diffusion {
namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

nn::AnyModule make_norm2d(int64_t channels, bool group_norm) {
  if (group_norm) return nn::AnyModule(nn::GroupNorm(nn::GroupNormOptions(channels / 16, channels)));
  return nn::AnyModule(nn::BatchNorm2d(channels));
}

nn::Conv2d conv2d(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// torchvision's ResNet init: kaiming_normal_(fan_out, relu) for convs, norms at (1, 0).
void init_resnet(nn::Module& root) {
  for (auto& m : root.modules(/*include_self=*/true)) {
    if (auto* c = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* g = m->as<nn::GroupNorm>()) {
      nn::init::ones_(g->weight);
      nn::init::zeros_(g->bias);
    } else if (auto* b = m->as<nn::BatchNorm2d>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t out, int64_t stride, bool gn) {
  conv1 = register_module("conv1", conv2d(in, out, 3, stride, 1));
  bn1 = make_norm2d(out, gn);
  register_module("bn1", bn1.ptr());
  conv2 = register_module("conv2", conv2d(out, out, 3, 1, 1));
  bn2 = make_norm2d(out, gn);
  register_module("bn2", bn2.ptr());
  if (stride != 1 || in != out) {
    auto norm = make_norm2d(out, gn);
    downsample = nn::Sequential();
    downsample->push_back(conv2d(in, out, 1, stride, 0));
    downsample->push_back(std::move(norm));
    register_module("downsample", downsample);
  }
}

ResLayerImpl::ResLayerImpl(int64_t in, int64_t out, int64_t stride, bool gn) {
  b0 = register_module("0", BasicBlock(in, out, stride, gn));
  b1 = register_module("1", BasicBlock(out, out, 1, gn));
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1.forward(conv1->forward(x)));
  y = bn2.forward(conv2->forward(y));
  auto identity = downsample ? downsample->forward(x) : x;
  return torch::relu(y + identity);
}

nn::Sequential make_resnet18_trunk(bool gn) {
  nn::Sequential s;
  s->push_back(nn::Conv2d(nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  s->push_back(make_norm2d(64, gn));
  s->push_back(nn::ReLU());
  s->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  s->push_back(ResLayer(64, 64, 1, gn));
  s->push_back(ResLayer(64, 128, 2, gn));
  s->push_back(ResLayer(128, 256, 2, gn));
  s->push_back(ResLayer(256, 512, 2, gn));
  init_resnet(*s);
  return s;
}

std::array<int64_t, 2> resnet18_output_hw(std::array<int64_t, 2> hw) {
  auto conv = [](int64_t n, int64_t k, int64_t s, int64_t p) { return (n + 2 * p - k) / s + 1; };
  for (auto& n : hw) {
    n = conv(n, 7, 2, 3);  // conv1
    n = conv(n, 3, 2, 1);  // maxpool
    for (int i = 0; i < 3; ++i) n = conv(n, 3, 2, 1);  // layer2..4 first conv
  }
  return hw;
}

SpatialSoftmaxImpl::SpatialSoftmaxImpl(int64_t c, int64_t h, int64_t w, int64_t k) : h_(h), w_(w), k_(k) {
  nets = register_module("nets", nn::Conv2d(nn::Conv2dOptions(c, k, 1)));
  // Row-major over (h, w): x follows the column, y the row (numpy meshgrid 'xy').
  auto xs = torch::linspace(-1.0, 1.0, w, torch::kFloat64);
  auto ys = torch::linspace(-1.0, 1.0, h, torch::kFloat64);
  auto grid_x = xs.view({1, w}).expand({h, w}).reshape({h * w, 1});
  auto grid_y = ys.view({h, 1}).expand({h, w}).reshape({h * w, 1});
  pos_grid = register_buffer("pos_grid", torch::cat({grid_x, grid_y}, 1).to(torch::kFloat32));
}

torch::Tensor SpatialSoftmaxImpl::forward(const torch::Tensor& features) {
  auto f = nets->forward(features).reshape({-1, h_ * w_});
  auto attention = torch::softmax(f, -1);
  return torch::matmul(attention, pos_grid).view({-1, k_, 2});
}

RgbEncoderImpl::RgbEncoderImpl(const DiffusionConfig& cfg, const std::vector<int64_t>& chw)
    : resize_(cfg.resize_shape), crop_(cfg.crop_shape), crop_random_(cfg.crop_is_random) {
  backbone = register_module("backbone", make_resnet18_trunk(cfg.use_group_norm));
  std::array<int64_t, 2> hw = crop_ ? *crop_ : resize_ ? *resize_ : std::array<int64_t, 2>{chw.at(1), chw.at(2)};
  auto fhw = resnet18_output_hw(hw);
  const int64_t k = cfg.spatial_softmax_num_keypoints;
  pool = register_module("pool", SpatialSoftmax(512, fhw[0], fhw[1], k));
  feature_dim_ = 2 * k;
  out = register_module("out", nn::Linear(2 * k, feature_dim_));
}

torch::Tensor RgbEncoderImpl::preprocess(torch::Tensor x) {
  if (resize_) {
    // torchvision Resize on tensors: bilinear, antialiased.
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{(*resize_)[0], (*resize_)[1]})
                              .mode(torch::kBilinear)
                              .align_corners(false)
                              .antialias(true));
  }
  if (crop_) {
    const int64_t h = x.size(-2), w = x.size(-1), th = (*crop_)[0], tw = (*crop_)[1];
    int64_t top, left;
    if (is_training() && crop_random_) {
      // torchvision RandomCrop: one offset for the whole batch.
      top = torch::randint(0, h - th + 1, {1}, torch::kLong).item<int64_t>();
      left = torch::randint(0, w - tw + 1, {1}, torch::kLong).item<int64_t>();
    } else {
      top = static_cast<int64_t>(std::round((h - th) / 2.0));
      left = static_cast<int64_t>(std::round((w - tw) / 2.0));
    }
    x = x.narrow(-2, top, th).narrow(-1, left, tw);
  }
  return x;
}

torch::Tensor RgbEncoderImpl::encode(const torch::Tensor& x) {
  auto kp = pool->forward(backbone->forward(x)).flatten(1);
  return torch::relu(out->forward(kp));
}

torch::Tensor RgbEncoderImpl::forward(torch::Tensor x) { return encode(preprocess(std::move(x))); }

Conv1dBlockImpl::Conv1dBlockImpl(int64_t in, int64_t out, int64_t k, int64_t groups) {
  block = register_module("block", nn::Sequential(nn::Conv1d(nn::Conv1dOptions(in, out, k).padding(k / 2)),
                                                  nn::GroupNorm(nn::GroupNormOptions(groups, out)), nn::Mish()));
}

CondResBlockImpl::CondResBlockImpl(int64_t in, int64_t out, int64_t cond_dim, int64_t k, int64_t groups,
                                   bool film_scale)
    : out_channels_(out), film_scale_(film_scale) {
  conv1 = register_module("conv1", Conv1dBlock(in, out, k, groups));
  cond_encoder = register_module("cond_encoder", nn::Sequential(nn::Mish(), nn::Linear(cond_dim, film_scale ? 2 * out : out)));
  conv2 = register_module("conv2", Conv1dBlock(out, out, k, groups));
  if (in != out) residual_conv = register_module("residual_conv", nn::Conv1d(nn::Conv1dOptions(in, out, 1)));
}

torch::Tensor CondResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  auto h = conv1->forward(x);
  auto c = cond_encoder->forward(cond).unsqueeze(-1);
  if (film_scale_)
    h = c.narrow(1, 0, out_channels_) * h + c.narrow(1, out_channels_, out_channels_);
  else
    h = h + c;
  h = conv2->forward(h);
  return h + (residual_conv ? residual_conv->forward(x) : x);
}

torch::Tensor sinusoidal_embedding(const torch::Tensor& t, int64_t dim) {
  const int64_t half = dim / 2;
  const double scale = std::log(10000.0) / static_cast<double>(half - 1);
  auto freqs = torch::exp(torch::arange(half, torch::TensorOptions().device(t.device())) * -scale);
  auto e = t.to(torch::kFloat32).unsqueeze(-1) * freqs.unsqueeze(0);
  return torch::cat({e.sin(), e.cos()}, -1);
}

ConditionalUnet1dImpl::ConditionalUnet1dImpl(const DiffusionConfig& cfg, int64_t action_dim, int64_t global_cond_dim) {
  const int64_t E = cfg.diffusion_step_embed_dim;
  diffusion_step_encoder = register_module(
      "diffusion_step_encoder",
      nn::Sequential(nn::Functional([E](const torch::Tensor& t) { return sinusoidal_embedding(t, E); }),
                     nn::Linear(E, 4 * E), nn::Mish(), nn::Linear(4 * E, E)));
  const int64_t cond_dim = E + global_cond_dim;
  auto res = [&](int64_t in, int64_t out) {
    return CondResBlock(in, out, cond_dim, cfg.kernel_size, cfg.n_groups, cfg.use_film_scale_modulation);
  };
  const auto& dims = cfg.down_dims;
  std::vector<std::pair<int64_t, int64_t>> in_out = {{action_dim, dims[0]}};
  for (size_t i = 1; i < dims.size(); ++i) in_out.emplace_back(dims[i - 1], dims[i]);

  down_modules = register_module("down_modules", nn::ModuleList());
  for (size_t i = 0; i < in_out.size(); ++i) {
    auto [din, dout] = in_out[i];
    Stage s{res(din, dout), res(dout, dout), {}};
    nn::ModuleList stage(s.a, s.b);
    if (i + 1 < in_out.size()) {
      nn::Conv1d down(nn::Conv1dOptions(dout, dout, 3).stride(2).padding(1));
      s.resample = nn::AnyModule(down);
      stage->push_back(down);
    } else {
      stage->push_back(nn::Identity());
    }
    down_modules->push_back(stage);
    down_.push_back(std::move(s));
  }
  mid_modules = register_module("mid_modules", nn::ModuleList());
  for (int i = 0; i < 2; ++i) {
    mid_.push_back(res(dims.back(), dims.back()));
    mid_modules->push_back(mid_.back());
  }
  up_modules = register_module("up_modules", nn::ModuleList());
  // LeRobot's is_last test never fires for the up path: every up stage upsamples.
  for (size_t r = in_out.size() - 1; r >= 1; --r) {
    auto [dout, din] = in_out[r];
    Stage s{res(din * 2, dout), res(dout, dout), {}};
    nn::ConvTranspose1d up(nn::ConvTranspose1dOptions(dout, dout, 4).stride(2).padding(1));
    s.resample = nn::AnyModule(up);
    up_modules->push_back(nn::ModuleList(s.a, s.b, up));
    up_.push_back(std::move(s));
  }
  final_conv = register_module(
      "final_conv", nn::Sequential(Conv1dBlock(dims[0], dims[0], cfg.kernel_size, /*groups=*/8),
                                   nn::Conv1d(nn::Conv1dOptions(dims[0], action_dim, 1))));
}

torch::Tensor ConditionalUnet1dImpl::forward(const torch::Tensor& x_btd, const torch::Tensor& timesteps,
                                             const torch::Tensor& global_cond) {
  auto x = x_btd.transpose(1, 2);
  auto t_emb = diffusion_step_encoder->forward(timesteps);
  auto cond = global_cond.defined() ? torch::cat({t_emb, global_cond}, -1) : t_emb;
  std::vector<torch::Tensor> skips;
  for (auto& s : down_) {
    x = s.b->forward(s.a->forward(x, cond), cond);
    skips.push_back(x);
    if (!s.resample.is_empty()) x = s.resample.forward(x);
  }
  for (auto& m : mid_) x = m->forward(x, cond);
  for (auto& s : up_) {
    x = torch::cat({x, skips.back()}, 1);
    skips.pop_back();
    x = s.b->forward(s.a->forward(x, cond), cond);
    x = s.resample.forward(x);
  }
  return final_conv->forward(x).transpose(1, 2);
}

}  // namespace robotrain::policy::diffusion
