#include "policy/diffusion/scheduler.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy::diffusion {

torch::Tensor make_betas(const std::string& schedule, int T, double beta_start, double beta_end) {
  if (T < 1) throw util::InputError("diffusion: num_train_timesteps must be >= 1");
  if (schedule == "linear") return torch::linspace(beta_start, beta_end, T, torch::kFloat32);
  if (schedule == "squaredcos_cap_v2") {
    // Glide's cosine schedule discretised as diffusers does: in double, capped at 0.999,
    // then stored as float32.
    auto alpha_bar = [](double s) {
      double c = std::cos((s + 0.008) / 1.008 * M_PI / 2);
      return c * c;
    };
    std::vector<float> betas(T);
    for (int i = 0; i < T; ++i) {
      double t1 = static_cast<double>(i) / T, t2 = static_cast<double>(i + 1) / T;
      betas[i] = static_cast<float>(std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999));
    }
    return torch::tensor(betas, torch::kFloat32);
  }
  throw util::InputError(util::cat("diffusion: unknown beta_schedule '", schedule,
                                   "' (supported: squaredcos_cap_v2, linear)"));
}

NoiseScheduler::NoiseScheduler(const DiffusionConfig& config) : cfg_(config) {
  betas_ = make_betas(cfg_.beta_schedule, cfg_.num_train_timesteps, cfg_.beta_start, cfg_.beta_end);
  alphas_cumprod_ = torch::cumprod(1.0f - betas_, 0);
  auto acc = alphas_cumprod_.contiguous();
  abar_host_.assign(acc.data_ptr<float>(), acc.data_ptr<float>() + acc.numel());
  for (int64_t t = cfg_.num_train_timesteps - 1; t >= 0; --t) timesteps_.push_back(t);
}

torch::Tensor NoiseScheduler::add_noise(const torch::Tensor& x0, const torch::Tensor& noise,
                                        const torch::Tensor& timesteps) const {
  auto abar_t = alphas_cumprod_.to(x0.device()).index_select(0, timesteps.to(x0.device()).to(torch::kLong));
  std::vector<int64_t> shape(x0.dim(), 1);
  shape[0] = x0.size(0);
  auto a = abar_t.sqrt().view(shape).to(x0.dtype());
  auto b = (1.0f - abar_t).sqrt().view(shape).to(x0.dtype());
  return a * x0 + b * noise;
}

void NoiseScheduler::set_timesteps(int n) {
  if (n < 1 || n > cfg_.num_train_timesteps)
    throw util::InputError(util::cat("diffusion: num_inference_steps (", n, ") must be in [1, num_train_timesteps = ",
                                     cfg_.num_train_timesteps, "]"));
  num_inference_steps_ = n;
  const int64_t ratio = cfg_.num_train_timesteps / n;
  timesteps_.clear();
  for (int64_t i = n - 1; i >= 0; --i) timesteps_.push_back(i * ratio);
}

int64_t NoiseScheduler::previous_timestep(int64_t t) const {
  const int n = num_inference_steps_ ? num_inference_steps_ : cfg_.num_train_timesteps;
  return t - cfg_.num_train_timesteps / n;
}

double NoiseScheduler::abar(int64_t t) const { return abar_host_.at(static_cast<size_t>(t)); }

double NoiseScheduler::abar_prev(int64_t t) const {
  const int64_t p = previous_timestep(t);
  return p >= 0 ? abar(p) : 1.0;  // DDPM's `one`, DDIM's final_alpha_cumprod with set_alpha_to_one
}

torch::Tensor NoiseScheduler::step(const torch::Tensor& out, int64_t t, const torch::Tensor& sample,
                                   c10::optional<at::Generator> generator) const {
  // Scalar coefficients in float32, as diffusers computes them from 0-dim float32 tensors.
  const float a_t = static_cast<float>(abar(t)), a_prev = static_cast<float>(abar_prev(t));
  const float b_t = 1.0f - a_t, b_prev = 1.0f - a_prev;
  const double r = cfg_.clip_sample_range;

  torch::Tensor x0, eps;
  if (cfg_.prediction_type == "epsilon") {
    x0 = (sample - std::sqrt(b_t) * out) / std::sqrt(a_t);
    eps = out;
  } else {
    x0 = out;
    eps = (sample - std::sqrt(a_t) * x0) / std::sqrt(b_t);
  }
  if (cfg_.clip_sample) x0 = x0.clamp(-r, r);

  if (cfg_.noise_scheduler_type == "DDIM") {
    // eta = 0: deterministic; the direction uses the unclipped epsilon (use_clipped_model_output false).
    return std::sqrt(a_prev) * x0 + std::sqrt(1.0f - a_prev) * eps;
  }
  const float cur_alpha = a_t / a_prev, cur_beta = 1.0f - cur_alpha;
  const float c_x0 = std::sqrt(a_prev) * cur_beta / b_t;
  const float c_xt = std::sqrt(cur_alpha) * b_prev / b_t;
  auto prev = c_x0 * x0 + c_xt * sample;
  if (t > 0) {
    const float variance = std::max(b_prev / b_t * cur_beta, 1e-20f);  // "fixed_small"
    auto z = torch::randn(out.sizes(), generator, out.options());
    prev = prev + std::sqrt(variance) * z;
  }
  return prev;
}

}  // namespace robotrain::policy::diffusion
