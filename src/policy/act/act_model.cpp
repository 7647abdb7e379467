#include "policy/act/act_model.h"

#include <ATen/autocast_mode.h>

#include <algorithm>

namespace robotrain::policy::act {

namespace nn = torch::nn;

ActModelImpl::ActModelImpl(const ActConfig& c) : cfg(c) {
  const auto* state = c.state_feature();
  const auto* env = c.env_state_feature();
  const int64_t action_dim = c.action_feature().shape.at(0);
  const int64_t D = c.dim_model;
  if (c.use_vae) {
    vae_encoder = register_module("vae_encoder", Encoder(c, c.n_vae_encoder_layers));
    vae_encoder_cls_embed = register_module("vae_encoder_cls_embed", nn::Embedding(1, D));
    if (state) vae_encoder_robot_state_input_proj = register_module("vae_encoder_robot_state_input_proj", nn::Linear(state->shape.at(0), D));
    vae_encoder_action_input_proj = register_module("vae_encoder_action_input_proj", nn::Linear(action_dim, D));
    vae_encoder_latent_output_proj = register_module("vae_encoder_latent_output_proj", nn::Linear(D, 2 * c.latent_dim));
    int64_t n_tokens = 1 + c.chunk_size + (state ? 1 : 0);
    vae_encoder_pos_enc = register_buffer("vae_encoder_pos_enc", sinusoidal_position_table(n_tokens, D).unsqueeze(0));
  }
  if (!c.image_features().empty()) {
    backbone = register_module("backbone", ResNet18Backbone(c.replace_final_stride_with_dilation));
    int64_t largest_area = 0;
    for (const auto& f : c.image_features()) largest_area = std::max(largest_area, f.shape.at(1) * f.shape.at(2));
    backbone->channels_last = largest_area >= ResNet18BackboneImpl::kChannelsLastMinArea;
  }
  encoder = register_module("encoder", Encoder(c, c.n_encoder_layers));
  decoder = register_module("decoder", Decoder(c));
  if (state) encoder_robot_state_input_proj = register_module("encoder_robot_state_input_proj", nn::Linear(state->shape.at(0), D));
  if (env) encoder_env_state_input_proj = register_module("encoder_env_state_input_proj", nn::Linear(env->shape.at(0), D));
  encoder_latent_input_proj = register_module("encoder_latent_input_proj", nn::Linear(c.latent_dim, D));
  if (backbone) encoder_img_feat_input_proj = register_module("encoder_img_feat_input_proj", nn::Conv2d(nn::Conv2dOptions(512, D, 1)));
  int64_t n_1d = 1 + (state ? 1 : 0) + (env ? 1 : 0);
  encoder_1d_feature_pos_embed = register_module("encoder_1d_feature_pos_embed", nn::Embedding(n_1d, D));
  decoder_pos_embed = register_module("decoder_pos_embed", nn::Embedding(c.chunk_size, D));
  action_head = register_module("action_head", nn::Linear(D, action_dim));
  // LeRobot: xavier-uniform on the transformer's matrices only.
  torch::NoGradGuard ng;
  for (auto* m : {static_cast<nn::Module*>(encoder.get()), static_cast<nn::Module*>(decoder.get())})
    for (auto& p : m->parameters())
      if (p.dim() > 1) nn::init::xavier_uniform_(p);
}

namespace {

// A scope without autocast (CUDA's and CPU's), restoring what was on when it ends.
class AutocastOff {
 public:
  AutocastOff()
      : cuda_(at::autocast::is_autocast_enabled(at::kCUDA)), cpu_(at::autocast::is_autocast_enabled(at::kCPU)) {
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    at::autocast::set_autocast_enabled(at::kCPU, false);
  }
  ~AutocastOff() {
    at::autocast::set_autocast_enabled(at::kCUDA, cuda_);
    at::autocast::set_autocast_enabled(at::kCPU, cpu_);
  }

 private:
  bool cuda_, cpu_;
};

}  // namespace

ActOutputs ActModelImpl::forward(const ActInputs& in) { return forward_from_features(in, image_feature_maps(in.images)); }

std::vector<torch::Tensor> ActModelImpl::image_feature_maps(const std::vector<torch::Tensor>& images) {
  std::vector<torch::Tensor> out;
  for (auto& img : images) out.push_back(backbone(img));
  return out;
}

ActOutputs ActModelImpl::forward_from_features(const ActInputs& in, const std::vector<torch::Tensor>& feature_maps) {
  const int64_t B = !feature_maps.empty() ? feature_maps[0].size(0) : in.env_state.defined() ? in.env_state.size(0) : in.state.size(0);
  const bool has_state = static_cast<bool>(encoder_robot_state_input_proj);
  auto opts = encoder_latent_input_proj->weight.options();
  ActOutputs out;
  torch::Tensor latent = cfg.use_vae && in.actions.defined() && is_training() ? encode_latent(in, out)
                                                                              : torch::zeros({B, cfg.latent_dim}, opts);

  std::vector<torch::Tensor> tokens = {encoder_latent_input_proj(latent).unsqueeze(0)};
  auto pos_1d = encoder_1d_feature_pos_embed->weight.unsqueeze(1);  // (n_1d, 1, D)
  if (has_state) tokens.push_back(encoder_robot_state_input_proj(in.state).unsqueeze(0));
  if (encoder_env_state_input_proj) tokens.push_back(encoder_env_state_input_proj(in.env_state).unsqueeze(0));
  std::vector<torch::Tensor> pos = {pos_1d};
  for (auto& fm : feature_maps) {
    auto cam_pos = sine_position_embedding_2d(fm, cfg.dim_model / 2).to(fm.dtype());
    auto feats = encoder_img_feat_input_proj(fm);                 // (B, D, h, w)
    tokens.push_back(feats.flatten(2).permute({2, 0, 1}));         // (h*w, B, D)
    pos.push_back(cam_pos.flatten(2).permute({2, 0, 1}));          // (h*w, 1, D)
  }
  auto enc_in = torch::cat(tokens, 0);
  auto enc_pos = torch::cat(pos, 0);
  auto memory = encoder(enc_in, enc_pos);
  auto dec_in = torch::zeros({cfg.chunk_size, B, cfg.dim_model}, enc_in.options());
  auto dec_out = decoder(dec_in, memory, decoder_pos_embed->weight.unsqueeze(1), enc_pos);
  out.actions = action_head(dec_out.transpose(0, 1));
  return out;
}

torch::Tensor ActModelImpl::encode_latent(const ActInputs& in, ActOutputs& out) {
  // Float32 even under mixed precision: LibTorch's MultiheadAttention applies a key padding
  // mask to float/double attention weights only (bf16/fp16 ones throw).
  AutocastOff float32;
  const auto dtype = vae_encoder_cls_embed->weight.scalar_type();
  const int64_t B = in.actions.size(0);
  const bool has_state = static_cast<bool>(vae_encoder_robot_state_input_proj);
  std::vector<torch::Tensor> tokens = {vae_encoder_cls_embed->weight.unsqueeze(0).expand({B, 1, -1})};
  if (has_state) tokens.push_back(vae_encoder_robot_state_input_proj(in.state.to(dtype)).unsqueeze(1));
  tokens.push_back(vae_encoder_action_input_proj(in.actions.to(dtype)));
  auto x = torch::cat(tokens, 1).permute({1, 0, 2});
  auto pos = vae_encoder_pos_enc.permute({1, 0, 2});
  auto mask_options = torch::TensorOptions().dtype(torch::kBool).device(x.device());
  auto prefix_pad = torch::zeros({B, has_state ? 2 : 1}, mask_options);
  auto pad = in.action_is_pad.defined() ? in.action_is_pad.to(torch::kBool) : torch::zeros({B, cfg.chunk_size}, mask_options);
  auto cls_out = vae_encoder(x, pos, torch::cat({prefix_pad, pad}, 1)).select(0, 0);
  auto params = vae_encoder_latent_output_proj(cls_out);
  out.mu = params.narrow(1, 0, cfg.latent_dim);
  out.log_sigma_x2 = params.narrow(1, cfg.latent_dim, cfg.latent_dim);
  auto eps = in.latent_eps.defined() ? in.latent_eps.to(out.mu.options()) : torch::randn_like(out.mu);
  return out.mu + (out.log_sigma_x2 / 2).exp() * eps;
}

}  // namespace robotrain::policy::act
