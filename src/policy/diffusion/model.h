#pragma once
// LeRobot's DiffusionModel: observation encoders + conditional U-Net + noise scheduler, on
// normalised tensors. Registered in DiffusionPolicy as "diffusion", so its names carry the
// "diffusion." prefix of LeRobot's model.safetensors.
#include <torch/torch.h>

#include <optional>

#include "policy/diffusion/config.h"
#include "policy/diffusion/modules.h"
#include "policy/diffusion/scheduler.h"
#include "policy/policy.h"

namespace robotrain::policy::diffusion {

// Normalised inputs with a time dimension:
//   state (B, S, D), images (B, S, N, C, H, W) or undefined, env (B, S, E) or undefined.
struct Observations {
  torch::Tensor state, images, env;
};

class DiffusionModelImpl : public torch::nn::Module {
 public:
  explicit DiffusionModelImpl(const DiffusionConfig& config);

  // (B, global_cond_dim): [state, camera features..., env] per step, flattened over steps.
  torch::Tensor global_conditioning(const Observations& obs);
  // Denoising MSE (vs epsilon or the clean sample); actions (B, horizon, A) normalised,
  // action_is_pad (B, horizon) used only with do_mask_loss_for_padding. `noise` (B, horizon, A)
  // and `timesteps` (B,) replace the random draws when defined.
  torch::Tensor compute_loss(const Observations& obs, const torch::Tensor& actions,
                             const torch::Tensor& action_is_pad, const torch::Tensor& noise = {},
                             const torch::Tensor& timesteps = {});
  // Full reverse diffusion from `noise` (or fresh N(0, I)): (B, horizon, A).
  torch::Tensor conditional_sample(int64_t batch, const torch::Tensor& global_cond,
                                   std::optional<torch::Tensor> noise = std::nullopt,
                                   c10::optional<at::Generator> generator = c10::nullopt);
  // Actions [n_obs_steps - 1, + n_action_steps) of a sampled trajectory (normalised).
  torch::Tensor generate_actions(const Observations& obs, std::optional<torch::Tensor> noise = std::nullopt);

  NoiseScheduler& scheduler() { return scheduler_; }
  ConditionalUnet1d& unet_module() { return unet; }
  // Shared encoder (per_camera false) or one per camera.
  std::vector<RgbEncoder> encoders() const { return encoders_; }
  int64_t global_cond_dim() const { return global_cond_dim_; }

 private:
  DiffusionConfig cfg_;
  int64_t action_dim_;
  std::vector<RgbEncoder> encoders_;
  torch::nn::ModuleList rgb_encoder_list{nullptr};
  ConditionalUnet1d unet{nullptr};
  NoiseScheduler scheduler_;
  int64_t global_cond_dim_ = 0;
};
TORCH_MODULE(DiffusionModel);

}  // namespace robotrain::policy::diffusion
