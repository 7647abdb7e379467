#include "train/image_transforms.h"

#include <cmath>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::train {

namespace F = torch::nn::functional;
using torch::indexing::Slice;

namespace {

torch::Tensor blend(const torch::Tensor& a, const torch::Tensor& b, double ratio) {
  return (a * ratio + b * (1.0 - ratio)).clamp_(0.0, 1.0);
}

torch::Tensor grayscale(const torch::Tensor& img) {
  auto r = img.select(-3, 0), g = img.select(-3, 1), b = img.select(-3, 2);
  return (r * 0.2989 + g * 0.587 + b * 0.114).unsqueeze(-3);
}

std::pair<double, double> range_of(const util::Json& kwargs, const std::string& key, const std::string& tf) {
  auto it = kwargs.find(key);
  if (it == kwargs.end())
    throw util::InputError(util::cat("image transform '", tf, "': kwargs need '", key, "' (a [min, max] pair)"));
  if (it->is_number()) {
    // torchvision: a single number v means [max(0, 1 - v), 1 + v] (hue: [-v, v]).
    double v = it->get<double>();
    if (key == "hue") return {-v, v};
    return {std::max(0.0, 1.0 - v), 1.0 + v};
  }
  if (!it->is_array() || it->size() != 2)
    throw util::InputError(util::cat("image transform '", tf, "': '", key, "' must be a [min, max] pair"));
  return {(*it)[0].get<double>(), (*it)[1].get<double>()};
}

double uniform(torch::Generator& gen, double lo, double hi) {
  if (hi <= lo) return lo;
  return torch::empty({1}, torch::kDouble).uniform_(lo, hi, gen).item<double>();
}

torch::Tensor rgb_to_hsv(const torch::Tensor& img) {
  auto r = img.select(-3, 0), g = img.select(-3, 1), b = img.select(-3, 2);
  auto maxc = std::get<0>(img.max(-3));
  auto minc = std::get<0>(img.min(-3));
  auto eqc = maxc == minc;
  auto cr = maxc - minc;
  auto ones = torch::ones_like(maxc);
  auto s = cr / torch::where(eqc, ones, maxc);
  auto crd = torch::where(eqc, ones, cr);
  auto rc = (maxc - r) / crd, gc = (maxc - g) / crd, bc = (maxc - b) / crd;
  auto hr = (maxc == r).to(img.dtype()) * (bc - gc);
  auto hg = ((maxc == g) & (maxc != r)).to(img.dtype()) * (2.0 + rc - bc);
  auto hb = ((maxc != g) & (maxc != r)).to(img.dtype()) * (4.0 + gc - rc);
  auto h = torch::remainder((hr + hg + hb) / 6.0 + 1.0, 1.0);
  return torch::stack({h, s, maxc}, -3);
}

torch::Tensor hsv_to_rgb(const torch::Tensor& hsv) {
  auto h = hsv.select(-3, 0), s = hsv.select(-3, 1), v = hsv.select(-3, 2);
  auto h6 = h * 6.0;
  auto i = torch::floor(h6);
  auto f = h6 - i;
  auto idx = torch::remainder(i, 6.0).to(torch::kLong);
  auto p = (v * (1.0 - s)).clamp(0.0, 1.0);
  auto q = (v * (1.0 - s * f)).clamp(0.0, 1.0);
  auto t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0);
  auto pick = [&](std::array<torch::Tensor, 6> opts) {
    auto out = torch::zeros_like(v);
    for (int k = 0; k < 6; ++k) out = torch::where(idx == k, opts[k], out);
    return out;
  };
  return torch::stack({pick({v, q, p, p, t, v}), pick({t, v, v, q, p, p}), pick({p, p, t, v, v, q})}, -3);
}

}  // namespace

torch::Tensor adjust_brightness(const torch::Tensor& img, double factor) {
  return (img * factor).clamp_(0.0, 1.0);
}

torch::Tensor adjust_contrast(const torch::Tensor& img, double factor) {
  auto mean = grayscale(img).mean({-3, -2, -1}, /*keepdim=*/true);
  return blend(img, mean, factor);
}

torch::Tensor adjust_saturation(const torch::Tensor& img, double factor) {
  return blend(img, grayscale(img), factor);
}

torch::Tensor adjust_hue(const torch::Tensor& img, double hue_factor) {
  if (hue_factor == 0.0) return img;
  auto hsv = rgb_to_hsv(img);
  auto h = torch::remainder(hsv.select(-3, 0) + hue_factor, 1.0);
  hsv = torch::stack({h, hsv.select(-3, 1), hsv.select(-3, 2)}, -3);
  return hsv_to_rgb(hsv);
}

torch::Tensor adjust_sharpness(const torch::Tensor& img, double factor) {
  auto sizes = img.sizes().vec();
  int64_t c = sizes[sizes.size() - 3], h = sizes[sizes.size() - 2], w = sizes[sizes.size() - 1];
  if (h <= 2 || w <= 2) return img;
  auto flat = img.reshape({-1, c, h, w});
  auto kernel = torch::ones({3, 3}, img.options());
  kernel[1][1] = 5.0;
  kernel = (kernel / kernel.sum()).expand({c, 1, 3, 3});
  // The blurred image keeps the original border pixels (torchvision's degenerate image).
  auto blurred = F::conv2d(flat, kernel, F::Conv2dFuncOptions().groups(c));
  auto degenerate = flat.clone();
  degenerate.index_put_({Slice(), Slice(), Slice(1, -1), Slice(1, -1)}, blurred);
  return blend(flat, degenerate, factor).reshape(sizes);
}

torch::Tensor affine(const torch::Tensor& img, double angle_deg, double tx, double ty) {
  auto sizes = img.sizes().vec();
  int64_t c = sizes[sizes.size() - 3], h = sizes[sizes.size() - 2], w = sizes[sizes.size() - 1];
  auto flat = img.reshape({-1, c, h, w});
  const auto dtype = img.is_floating_point() ? img.scalar_type() : torch::kFloat32;
  const auto opts = torch::TensorOptions().dtype(dtype).device(img.device());
  // torchvision's _get_inverse_affine_matrix (centre at the image centre, scale 1, no shear):
  // output pixel -> input pixel, in pixels from the centre, computed in double as there, so
  // that nearest-neighbour picks the same pixel even at ties.
  const double rot = angle_deg * M_PI / 180.0;
  const double a = std::cos(rot), b = -std::sin(rot), cc = std::sin(rot), d = std::cos(rot);
  std::vector<double> m = {d, -b, 0.0, -cc, a, 0.0};
  m[2] += (0.0 - m[0] * tx) - m[1] * ty;
  m[5] += (0.0 - m[3] * tx) - m[4] * ty;
  auto theta = torch::tensor(m, torch::kDouble).to(opts).reshape({1, 2, 3});
  // torchvision's _affine_grid: pixel-centred base grid, normalised after applying theta.
  const double W = static_cast<double>(w), H = static_cast<double>(h);
  const auto on_device = torch::TensorOptions().device(img.device());
  auto base = torch::empty({1, h, w, 3}, opts);
  base.select(-1, 0).copy_(torch::linspace((1.0 - W) * 0.5, (W - 1.0) * 0.5, w, on_device));
  base.select(-1, 1).copy_(torch::linspace((1.0 - H) * 0.5, (H - 1.0) * 0.5, h, on_device).unsqueeze(-1));
  base.select(-1, 2).fill_(1);
  auto rescaled = theta.transpose(1, 2).div(torch::tensor({0.5 * W, 0.5 * H}, opts));
  auto grid = base.view({1, h * w, 3}).bmm(rescaled).view({1, h, w, 2}).expand({flat.size(0), h, w, 2});
  auto out = F::grid_sample(flat.to(dtype), grid,
                            F::GridSampleFuncOptions().mode(torch::kNearest).padding_mode(torch::kZeros).align_corners(false));
  return out.to(img.scalar_type()).reshape(sizes);
}

ImageTransforms::ImageTransforms(const ImageTransformsConfig& config) : random_order_(config.random_order) {
  for (const auto& spec : config.tfs) {
    if (spec.weight <= 0.0) continue;
    Tf tf;
    tf.type = spec.type;
    if (spec.type == "ColorJitter") {
      for (const char* key : {"brightness", "contrast", "saturation", "hue"}) {
        if (spec.kwargs.contains(key)) {
          tf.param = key;
          std::tie(tf.lo, tf.hi) = range_of(spec.kwargs, key, spec.name);
        }
      }
      if (tf.param.empty())
        throw util::InputError(util::cat("image transform '", spec.name,
                                         "': ColorJitter needs one of brightness, contrast, saturation, hue"));
    } else if (spec.type == "SharpnessJitter") {
      std::tie(tf.lo, tf.hi) = range_of(spec.kwargs, "sharpness", spec.name);
      tf.lo = std::max(0.0, tf.lo);
    } else if (spec.type == "RandomAffine") {
      std::tie(tf.degrees_lo, tf.degrees_hi) = range_of(spec.kwargs, "degrees", spec.name);
      if (spec.kwargs.contains("degrees") && spec.kwargs["degrees"].is_number()) {
        double d = spec.kwargs["degrees"].get<double>();
        tf.degrees_lo = -d, tf.degrees_hi = d;
      }
      if (auto t = spec.kwargs.find("translate"); t != spec.kwargs.end() && t->is_array() && t->size() == 2) {
        tf.translate_x = (*t)[0].get<double>();
        tf.translate_y = (*t)[1].get<double>();
      }
    } else if (spec.type != "Identity") {
      throw util::InputError(util::cat("image transform '", spec.name, "': type '", spec.type,
                                       "' is not supported; use ColorJitter, SharpnessJitter, RandomAffine or Identity"));
    }
    tfs_.push_back(tf);
    weights_.push_back(spec.weight);
  }
  if (config.max_num_transforms < 1)
    throw util::InputError("--dataset.image_transforms.max_num_transforms must be at least 1");
  n_subset_ = std::min<int>(static_cast<int>(tfs_.size()), config.max_num_transforms);
  enabled_ = config.enable && n_subset_ > 0;
}

torch::Tensor ImageTransforms::apply_one(const Tf& tf, const torch::Tensor& img, torch::Generator& gen) const {
  if (tf.type == "ColorJitter") {
    double v = uniform(gen, tf.lo, tf.hi);
    if (tf.param == "brightness") return adjust_brightness(img, v);
    if (tf.param == "contrast") return adjust_contrast(img, v);
    if (tf.param == "saturation") return adjust_saturation(img, v);
    return adjust_hue(img, v);
  }
  if (tf.type == "SharpnessJitter") return adjust_sharpness(img, uniform(gen, tf.lo, tf.hi));
  if (tf.type == "RandomAffine") {
    double angle = uniform(gen, tf.degrees_lo, tf.degrees_hi);
    double w = static_cast<double>(img.size(-1)), h = static_cast<double>(img.size(-2));
    double max_dx = tf.translate_x * w, max_dy = tf.translate_y * h;
    // Python's round(): halves to even.
    double tx = std::nearbyint(uniform(gen, -max_dx, max_dx)), ty = std::nearbyint(uniform(gen, -max_dy, max_dy));
    return affine(img, angle, tx, ty);
  }
  return img;
}

torch::Tensor ImageTransforms::apply(const torch::Tensor& images, torch::Generator& gen) const {
  if (!enabled_) return images;
  auto probs = torch::tensor(weights_, torch::kDouble);
  auto picked = torch::multinomial(probs, n_subset_, /*replacement=*/false, gen);
  if (!random_order_) picked = std::get<0>(picked.sort());
  torch::Tensor out = images;
  auto acc = picked.accessor<int64_t, 1>();
  for (int64_t i = 0; i < acc.size(0); ++i) out = apply_one(tfs_[static_cast<size_t>(acc[i])], out, gen);
  return out;
}

torch::Tensor ImageTransforms::apply_batch(const torch::Tensor& images, torch::Generator& gen) const {
  if (!enabled_) return images;
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<size_t>(images.size(0)));
  for (int64_t b = 0; b < images.size(0); ++b) out.push_back(apply(images[b], gen));
  return torch::stack(out);
}

}  // namespace robotrain::train
