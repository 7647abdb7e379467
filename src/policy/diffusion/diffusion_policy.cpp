#include "policy/diffusion/diffusion_policy.h"

#include <cmath>

#include "policy/backbone_weights.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::policy::diffusion {
namespace {

using util::cat;

constexpr double kEps = 1e-8;  // LeRobot's normalizer eps

const torch::Tensor& stat(const FeatureStats& stats, const std::string& key, const char* name) {
  auto f = stats.find(key);
  if (f == stats.end() || !f->second.count(name))
    throw util::InputError(cat("diffusion: dataset stats lack '", key, ".", name,
                               "' (needed for normalisation; recompute meta/stats.json)"));
  return f->second.at(name);
}

// torchvision ResNet names -> the encoder's Sequential of resnet children without avgpool/fc
// (conv1 0, bn1 1, relu 2, maxpool 3, layer1..4 at 4..7).
std::string torchvision_to_sequential(const std::string& name) {
  if (util::starts_with(name, "conv1.")) return "0." + name.substr(6);
  if (util::starts_with(name, "bn1.")) return "1." + name.substr(4);
  if (util::starts_with(name, "layer") && name.size() > 6 && name[6] == '.' && name[5] >= '1' && name[5] <= '4')
    return std::to_string(3 + (name[5] - '0')) + name.substr(6);
  return name;  // fc.* and the like: not part of the trunk, ignored
}

}  // namespace

DiffusionPolicy::DiffusionPolicy(DiffusionConfig config, FeatureStats stats)
    : cfg_(std::move(config)), stats_(std::move(stats)) {
  cfg_.validate();
  if (cfg_.output_features.empty()) throw util::InputError("diffusion: the config has no output features (action)");
  diffusion_ = register_module("diffusion", DiffusionModel(cfg_));
  // Check stats up front so a missing stat fails before training starts.
  // (normalize() of an undefined tensor only looks the stats up.)
  for (const auto& f : cfg_.input_features) normalize(f.key, f.type, torch::Tensor());
  normalize(cfg_.action_feature().key, FeatureType::Action, torch::Tensor());
  if (cfg_.use_ema) {
    ema_ = DiffusionModel(cfg_);
    torch::NoGradGuard ng;
    auto src = diffusion_->parameters();
    auto dst = ema_->parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
    for (auto& p : dst) p.set_requires_grad(false);
    ema_->eval();
  }
  reset();
}

const char* DiffusionPolicy::mode_for(FeatureType type) const {
  const char* name = type == FeatureType::Visual ? "VISUAL"
                     : type == FeatureType::State ? "STATE"
                     : type == FeatureType::Env   ? "ENV"
                                                  : "ACTION";
  for (const auto& [k, v] : cfg_.normalization_mapping)
    if (k == name) {
      if (v == "MEAN_STD") return "MEAN_STD";
      if (v == "MIN_MAX") return "MIN_MAX";
      if (v == "IDENTITY") return nullptr;
      throw util::InputError(cat("diffusion: normalization mode '", v, "' for ", k,
                                 " is not supported (use MEAN_STD, MIN_MAX or IDENTITY)"));
    }
  return nullptr;  // unmapped feature types pass through, as in LeRobot
}

torch::Tensor DiffusionPolicy::normalize(const std::string& key, FeatureType type, const torch::Tensor& x) const {
  const char* mode = mode_for(type);
  if (!mode) return x;
  if (std::string(mode) == "MEAN_STD") {
    const auto& mean = stat(stats_, key, "mean");
    const auto& std = stat(stats_, key, "std");
    if (!x.defined()) return x;
    auto m = mean.to(x.device(), x.dtype()), s = std.to(x.device(), x.dtype());
    return (x - m) / (s + kEps);
  }
  const auto& lo = stat(stats_, key, "min");
  const auto& hi = stat(stats_, key, "max");
  if (!x.defined()) return x;
  auto l = lo.to(x.device(), x.dtype()), h = hi.to(x.device(), x.dtype());
  auto denom = h - l;
  denom = torch::where(denom == 0, torch::full_like(denom, kEps), denom);
  return 2 * (x - l) / denom - 1;
}

torch::Tensor DiffusionPolicy::unnormalize_action(const torch::Tensor& x) const {
  const char* mode = mode_for(FeatureType::Action);
  if (!mode) return x;
  const std::string& key = cfg_.action_feature().key;
  if (std::string(mode) == "MEAN_STD")
    return x * stat(stats_, key, "std").to(x.device(), x.dtype()) + stat(stats_, key, "mean").to(x.device(), x.dtype());
  auto l = stat(stats_, key, "min").to(x.device(), x.dtype()), h = stat(stats_, key, "max").to(x.device(), x.dtype());
  auto denom = h - l;
  denom = torch::where(denom == 0, torch::full_like(denom, kEps), denom);
  return (x + 1) / 2 * denom + l;
}

std::map<std::string, std::vector<int>> DiffusionPolicy::delta_indices() const {
  std::map<std::string, std::vector<int>> out;
  for (const auto& f : cfg_.input_features) out[f.key] = cfg_.observation_delta_indices();
  out[cfg_.action_feature().key] = cfg_.action_delta_indices();
  return out;
}

Observations DiffusionPolicy::normalized_observations(const TensorMap& batch, bool with_time) const {
  auto get = [&](const std::string& key) -> const torch::Tensor& {
    auto it = batch.find(key);
    if (it == batch.end()) throw util::InputError(cat("diffusion: batch lacks '", key, "'"));
    return it->second;
  };
  Observations obs;
  std::vector<torch::Tensor> cams;
  for (const auto& f : cfg_.input_features) {
    auto raw = get(f.key);
    // Cameras are float in [0, 1] (LeRobot's convention); accept uint8 frames too.
    auto x = raw.scalar_type() == torch::kByte ? raw.to(torch::kFloat32) / 255.0 : raw.to(torch::kFloat32);
    x = normalize(f.key, f.type, x);
    if (!with_time) x = x.unsqueeze(1);
    if (f.type == FeatureType::Visual)
      cams.push_back(x);
    else if (f.type == FeatureType::Env)
      obs.env = x;
    else if (f.key == "observation.state")
      obs.state = x;
  }
  if (!cams.empty()) obs.images = torch::stack(cams, 2);  // (B, S, N, C, H, W)
  return obs;
}

LossOutput DiffusionPolicy::forward_loss(const TensorMap& batch) {
  auto obs = normalized_observations(batch, /*with_time=*/true);
  const auto& akey = cfg_.action_feature().key;
  auto a = batch.find(akey);
  if (a == batch.end()) throw util::InputError(cat("diffusion: batch lacks '", akey, "'"));
  auto actions = normalize(akey, FeatureType::Action, a->second.to(torch::kFloat32));
  auto pad = batch.find(akey + "_is_pad");
  torch::Tensor is_pad = pad == batch.end() ? torch::Tensor() : pad->second.to(torch::kBool);
  auto draws = take_training_draws();
  LossOutput out;
  out.loss = diffusion_->compute_loss(obs, actions, is_pad, draws.noise, draws.timesteps);
  return out;
}

void DiffusionPolicy::reset() {
  obs_queue_.clear();
  action_queue_.clear();
}

void DiffusionPolicy::push_observation(const TensorMap& observation) {
  auto obs = normalized_observations(observation, /*with_time=*/false);
  // LeRobot's populate_queues: the first observation fills the whole queue.
  if (obs_queue_.empty())
    while (static_cast<int>(obs_queue_.size()) < cfg_.n_obs_steps - 1) obs_queue_.push_back(obs);
  obs_queue_.push_back(std::move(obs));
  while (static_cast<int>(obs_queue_.size()) > cfg_.n_obs_steps) obs_queue_.pop_front();
}

torch::Tensor DiffusionPolicy::sample_from_queue() {
  Observations stacked;
  auto cat_field = [&](torch::Tensor Observations::*field) {
    std::vector<torch::Tensor> xs;
    for (const auto& o : obs_queue_)
      if ((o.*field).defined()) xs.push_back(o.*field);
    return xs.empty() ? torch::Tensor() : torch::cat(xs, 1);
  };
  stacked.state = cat_field(&Observations::state);
  stacked.images = cat_field(&Observations::images);
  stacked.env = cat_field(&Observations::env);
  torch::NoGradGuard ng;
  auto dev = diffusion_->parameters().front().device();
  if (ema_ && ema_->parameters().front().device() != dev) ema_->to(dev);
  return generate_actions(stacked);
}

torch::Tensor DiffusionPolicy::generate_actions(const Observations& obs) {
  auto& m = inference_model();
  const bool was_training = m->is_training();
  m->eval();
  std::optional<torch::Tensor> noise;
  if (next_noise_.defined()) noise = std::exchange(next_noise_, torch::Tensor());
  auto actions = m->generate_actions(obs, noise);
  if (was_training) m->train();
  return unnormalize_action(actions);
}

torch::Tensor DiffusionPolicy::predict_action_chunk(const TensorMap& observation) {
  const auto& state = observation.at("observation.state");
  if (state.dim() == 3) {
    torch::NoGradGuard ng;
    return generate_actions(normalized_observations(observation, /*with_time=*/true));
  }
  push_observation(observation);
  return sample_from_queue();
}

torch::Tensor DiffusionPolicy::select_action(const TensorMap& observation) {
  push_observation(observation);
  if (action_queue_.empty()) {
    auto chunk = sample_from_queue();  // (B, n_action_steps, A)
    for (int64_t i = 0; i < chunk.size(1); ++i) action_queue_.push_back(chunk.select(1, i));
  }
  auto a = action_queue_.front();
  action_queue_.pop_front();
  return a;
}

std::vector<ParamGroup> DiffusionPolicy::param_groups() {
  ParamGroup g;
  g.name = "default";
  g.params = diffusion_->parameters();  // the optimizer's lr and weight decay, as LeRobot's single group
  return {g};
}

OptimizerPreset DiffusionPolicy::optimizer_preset() const {
  OptimizerPreset p;  // LeRobot's DiffusionConfig: Adam and DiffuserSchedulerConfig(name="cosine")
  p.optimizer.type = "adam";
  p.optimizer.lr = cfg_.optimizer_lr;
  p.optimizer.beta1 = cfg_.optimizer_betas[0];
  p.optimizer.beta2 = cfg_.optimizer_betas[1];
  p.optimizer.eps = cfg_.optimizer_eps;
  p.optimizer.weight_decay = cfg_.optimizer_weight_decay;
  p.scheduler = policy::SchedulerConfig{.type = "diffuser", .name = "cosine", .num_warmup_steps = cfg_.scheduler_warmup_steps};
  return p;
}

namespace {
std::vector<std::pair<std::string, torch::Tensor>> prefixed_state(DiffusionModel& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m->named_parameters()) out.emplace_back("diffusion." + p.key(), p.value());
  for (const auto& b : m->named_buffers()) out.emplace_back("diffusion." + b.key(), b.value());
  return out;
}
}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> DiffusionPolicy::lerobot_state_dict() {
  return prefixed_state(diffusion_);
}

void DiffusionPolicy::load_pretrained_backbone() {
  if (!cfg_.pretrained_backbone_weights || diffusion_->encoders().empty()) return;
  auto weights = resolve_backbone_weights(*cfg_.pretrained_backbone_weights, cfg_.vision_backbone);
  if (weights.file.empty()) {
    cfg_.pretrained_backbone_weights.reset();  // config.json says what the model was built from
    return;
  }
  std::vector<RgbEncoder> encoders = diffusion_->encoders();
  if (ema_)
    for (auto& e : ema_->encoders()) encoders.push_back(e);
  for (auto& encoder : encoders) {
    NamedTensors target;
    for (auto& p : encoder->trunk()->named_parameters()) target.emplace_back(p.key(), p.value());
    for (auto& b : encoder->trunk()->named_buffers()) target.emplace_back(b.key(), b.value());
    load_backbone_weights(target, weights.file, torchvision_to_sequential);
  }
  util::log_info("diffusion: backbone weights from ", weights.file.string(), " (config.json: ", weights.lerobot_name, ")");
  cfg_.pretrained_backbone_weights = weights.lerobot_name;
}

std::vector<std::pair<std::string, torch::Tensor>> DiffusionPolicy::ema_state_dict() {
  if (!ema_) return {};
  return prefixed_state(ema_);
}

std::map<std::string, std::vector<std::pair<std::string, torch::Tensor>>> DiffusionPolicy::extra_weight_files() {
  if (!ema_) return {};
  return {{"ema.safetensors", ema_state_dict()}};
}

double DiffusionPolicy::ema_decay(int64_t step) const {
  if (step <= 0) return 0.0;
  const double d = 1.0 - std::pow(1.0 + static_cast<double>(step), -cfg_.ema_power);
  return std::clamp(d, 0.0, cfg_.ema_max_decay);
}

void DiffusionPolicy::ema_update(int64_t step) {
  if (!ema_) return;
  torch::NoGradGuard ng;
  auto dev = diffusion_->parameters().front().device();
  if (ema_->parameters().front().device() != dev) ema_->to(dev);
  const double d = ema_decay(step);
  auto src = diffusion_->parameters();
  auto dst = ema_->parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].mul_(d).add_(src[i].detach(), 1.0 - d);
  auto sb = diffusion_->buffers();
  auto db = ema_->buffers();
  for (size_t i = 0; i < sb.size(); ++i) db[i].copy_(sb[i]);
}

}  // namespace robotrain::policy::diffusion
