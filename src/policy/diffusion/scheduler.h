#pragma once
// DDPM and DDIM noise schedulers with the semantics of diffusers' DDPMScheduler /
// DDIMScheduler as LeRobot configures them: variance "fixed_small", timestep_spacing
// "leading", steps_offset 0, DDIM with set_alpha_to_one and eta 0. Schedule tensors are
// float32 like diffusers'.
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/diffusion/config.h"

namespace robotrain::policy::diffusion {


// betas for the named schedule (float32, length T); InputError on unknown names.
torch::Tensor make_betas(const std::string& schedule, int num_train_timesteps, double beta_start, double beta_end);

class NoiseScheduler {
 public:
  // The noise_scheduler_type, num_train_timesteps, beta_*, prediction_type and clip_sample*
  // fields of a validated config (DiffusionConfig checks them).
  explicit NoiseScheduler(const DiffusionConfig& config);

  const torch::Tensor& betas() const { return betas_; }
  const torch::Tensor& alphas_cumprod() const { return alphas_cumprod_; }

  // x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, per batch element t (B,).
  torch::Tensor add_noise(const torch::Tensor& x0, const torch::Tensor& noise, const torch::Tensor& timesteps) const;

  // "leading" spacing: (arange(n) * (T / n))[::-1].
  void set_timesteps(int num_inference_steps);
  const std::vector<int64_t>& timesteps() const { return timesteps_; }

  // One reverse step from x_t to x_{prev}. DDPM adds sqrt(variance)·z for t > 0, z drawn from
  // `generator` (default generator when none).
  torch::Tensor step(const torch::Tensor& model_output, int64_t t, const torch::Tensor& sample,
                     c10::optional<at::Generator> generator = c10::nullopt) const;

  int64_t previous_timestep(int64_t t) const;

 private:
  double abar(int64_t t) const;       // alphas_cumprod[t] as float32 value
  double abar_prev(int64_t t) const;  // at previous_timestep(t), 1 for t < 0

  DiffusionConfig cfg_;
  torch::Tensor betas_, alphas_cumprod_;
  std::vector<float> abar_host_;
  int num_inference_steps_ = 0;  // 0 until set_timesteps
  std::vector<int64_t> timesteps_;
};

}  // namespace robotrain::policy::diffusion
