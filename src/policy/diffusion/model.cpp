#include "policy/diffusion/model.h"

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy::diffusion {

DiffusionModelImpl::DiffusionModelImpl(const DiffusionConfig& config)
    : cfg_(config), action_dim_(config.action_feature().shape.at(0)), scheduler_(config) {
  const auto* state = cfg_.state_feature();
  if (!state) throw util::InputError("diffusion: the dataset must provide 'observation.state'");
  int64_t per_step = state->shape.at(0);
  auto images = cfg_.image_features();
  if (!images.empty()) {
    if (cfg_.use_separate_rgb_encoder_per_camera) {
      rgb_encoder_list = torch::nn::ModuleList();
      for (const auto& img : images) {
        encoders_.push_back(RgbEncoder(cfg_, img.shape));
        rgb_encoder_list->push_back(encoders_.back());
      }
      register_module("rgb_encoder", rgb_encoder_list);
    } else {
      encoders_.push_back(register_module("rgb_encoder", RgbEncoder(cfg_, images.front().shape)));
    }
    per_step += encoders_.front()->feature_dim() * static_cast<int64_t>(images.size());
  }
  if (const auto* env = cfg_.env_state_feature()) per_step += env->shape.at(0);
  global_cond_dim_ = per_step * cfg_.n_obs_steps;
  unet = register_module("unet", ConditionalUnet1d(cfg_, action_dim_, global_cond_dim_));
}

torch::Tensor DiffusionModelImpl::global_conditioning(const Observations& obs) {
  const int64_t B = obs.state.size(0), S = obs.state.size(1);
  std::vector<torch::Tensor> feats = {obs.state};
  if (!encoders_.empty()) {
    if (!obs.images.defined()) throw util::InputError("diffusion: batch has no camera images");
    const int64_t N = obs.images.size(2);
    if (cfg_.use_separate_rgb_encoder_per_camera) {
      // Camera n encodes its (B*S) images; features are laid out camera after camera per step.
      std::vector<torch::Tensor> per_cam;
      for (int64_t n = 0; n < N; ++n) {
        auto imgs = obs.images.select(2, n).flatten(0, 1);
        per_cam.push_back(encoders_[n]->forward(imgs).view({B, S, -1}));
      }
      feats.push_back(torch::cat(per_cam, -1));
    } else {
      auto imgs = obs.images.flatten(0, 2);  // (B*S*N, C, H, W)
      feats.push_back(encoders_.front()->forward(imgs).view({B, S, -1}));
    }
  }
  if (cfg_.env_state_feature()) {
    if (!obs.env.defined()) throw util::InputError("diffusion: batch has no observation.environment_state");
    feats.push_back(obs.env);
  }
  return torch::cat(feats, -1).flatten(1);
}

torch::Tensor DiffusionModelImpl::compute_loss(const Observations& obs, const torch::Tensor& actions,
                                               const torch::Tensor& action_is_pad, const torch::Tensor& noise,
                                               const torch::Tensor& timesteps) {
  if (actions.size(1) != cfg_.horizon)
    throw util::InputError(util::cat("diffusion: batch action has ", actions.size(1), " steps, horizon is ",
                                     cfg_.horizon, " (check the action delta indices)"));
  if (obs.state.size(1) != cfg_.n_obs_steps)
    throw util::InputError(util::cat("diffusion: batch state has ", obs.state.size(1), " steps, n_obs_steps is ",
                                     cfg_.n_obs_steps));
  auto global_cond = global_conditioning(obs);
  auto eps = noise.defined() ? noise.to(actions.options()) : torch::randn(actions.sizes(), actions.options());
  const auto long_options = torch::TensorOptions().dtype(torch::kLong).device(actions.device());
  auto t = timesteps.defined() ? timesteps.to(long_options)
                               : torch::randint(0, cfg_.num_train_timesteps, {actions.size(0)}, long_options);
  auto noisy = scheduler_.add_noise(actions, eps, t);
  auto pred = unet->forward(noisy, t, global_cond);
  auto target = cfg_.prediction_type == "epsilon" ? eps : actions;
  auto loss = torch::mse_loss(pred, target, at::Reduction::None);
  if (cfg_.do_mask_loss_for_padding) {
    if (!action_is_pad.defined())
      throw util::InputError("diffusion: do_mask_loss_for_padding needs 'action_is_pad' in the batch");
    loss = loss * action_is_pad.logical_not().unsqueeze(-1).to(loss.dtype());
  }
  return loss.mean();
}

torch::Tensor DiffusionModelImpl::conditional_sample(int64_t batch, const torch::Tensor& global_cond,
                                                     std::optional<torch::Tensor> noise,
                                                     c10::optional<at::Generator> generator) {
  auto opts = global_cond.options();
  auto sample = noise ? *noise : torch::randn({batch, cfg_.horizon, action_dim_}, generator, opts);
  scheduler_.set_timesteps(cfg_.effective_num_inference_steps());
  for (int64_t t : scheduler_.timesteps()) {
    auto ts = torch::full({batch}, t, torch::TensorOptions().dtype(torch::kLong).device(sample.device()));
    auto out = unet->forward(sample, ts, global_cond);
    sample = scheduler_.step(out, t, sample, generator);
  }
  return sample;
}

torch::Tensor DiffusionModelImpl::generate_actions(const Observations& obs, std::optional<torch::Tensor> noise) {
  const int64_t B = obs.state.size(0);
  auto global_cond = global_conditioning(obs);
  auto actions = conditional_sample(B, global_cond, std::move(noise));
  return actions.narrow(1, cfg_.n_obs_steps - 1, cfg_.n_action_steps);
}

}  // namespace robotrain::policy::diffusion
