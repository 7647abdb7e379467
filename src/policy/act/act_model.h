#pragma once
// LeRobot's ACT model (the `model.` part of the state dict): backbone, transformer encoder and
// decoder, optional VAE encoder over the action chunk. Inputs are already normalised.
#include <torch/torch.h>

#include <optional>

#include "policy/act/config.h"
#include "policy/act/modules.h"

namespace robotrain::policy::act {

struct ActInputs {
  torch::Tensor state;                 // (B, S) or undefined
  torch::Tensor env_state;             // (B, E) or undefined
  std::vector<torch::Tensor> images;   // per camera (B, 3, H, W)
  torch::Tensor actions;               // (B, chunk, A): training with the VAE
  torch::Tensor action_is_pad;         // (B, chunk) bool
  torch::Tensor latent_eps;            // (B, latent): the VAE sample's ε instead of a fresh draw
};

struct ActOutputs {
  torch::Tensor actions;  // (B, chunk, A)
  torch::Tensor mu, log_sigma_x2;  // (B, latent) when the VAE ran
};

struct ActModelImpl : torch::nn::Module {
  explicit ActModelImpl(const ActConfig& config);
  ActOutputs forward(const ActInputs& in);
  // The two halves of forward(), separate so bench/act_step can time them apart: backbone
  // feature maps per camera (B, 512, h, w), then everything after the backbone.
  std::vector<torch::Tensor> image_feature_maps(const std::vector<torch::Tensor>& images);
  ActOutputs forward_from_features(const ActInputs& in, const std::vector<torch::Tensor>& feature_maps);
  // The VAE encoder over [cls, state?, action chunk] with the chunk's padding masked: fills
  // out.mu and out.log_sigma_x2 (float32, also under autocast) and returns the sampled z.
  torch::Tensor encode_latent(const ActInputs& in, ActOutputs& out);

  ActConfig cfg;
  Encoder vae_encoder{nullptr};
  torch::nn::Embedding vae_encoder_cls_embed{nullptr};
  torch::nn::Linear vae_encoder_robot_state_input_proj{nullptr}, vae_encoder_action_input_proj{nullptr},
      vae_encoder_latent_output_proj{nullptr};
  torch::Tensor vae_encoder_pos_enc;
  ResNet18Backbone backbone{nullptr};
  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
  torch::nn::Linear encoder_robot_state_input_proj{nullptr}, encoder_env_state_input_proj{nullptr}, encoder_latent_input_proj{nullptr};
  torch::nn::Conv2d encoder_img_feat_input_proj{nullptr};
  torch::nn::Embedding encoder_1d_feature_pos_embed{nullptr}, decoder_pos_embed{nullptr};
  torch::nn::Linear action_head{nullptr};
};
TORCH_MODULE(ActModel);

}  // namespace robotrain::policy::act
