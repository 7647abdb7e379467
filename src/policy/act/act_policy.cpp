#include "policy/act/act_policy.h"

#include "policy/backbone_weights.h"
#include "policy/tensor_io.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::policy::act {

TemporalEnsembler::TemporalEnsembler(double coeff, int chunk) {
  weights_ = torch::exp(-coeff * torch::arange(chunk, torch::kFloat32));
  weights_cumsum_ = torch::cumsum(weights_, 0);
}

void TemporalEnsembler::reset() {
  ensembled_ = torch::Tensor();
  count_ = torch::Tensor();
}

torch::Tensor TemporalEnsembler::update(const torch::Tensor& actions) {
  auto w = weights_.to(actions.device()), wc = weights_cumsum_.to(actions.device());
  const int64_t chunk = w.size(0);
  if (!ensembled_.defined()) {
    ensembled_ = actions.clone();
    count_ = torch::ones({chunk, 1}, torch::TensorOptions().dtype(torch::kLong).device(actions.device()));
  } else {
    using torch::indexing::Slice;
    ensembled_ = ensembled_ * wc.index({count_ - 1});
    ensembled_ = ensembled_ + actions.index({Slice(), Slice(0, -1)}) * w.index({count_});
    ensembled_ = ensembled_ / wc.index({count_});
    count_ = torch::clamp(count_ + 1, c10::nullopt, chunk);
    ensembled_ = torch::cat({ensembled_, actions.index({Slice(), Slice(-1, torch::indexing::None)})}, 1);
    count_ = torch::cat({count_, torch::ones_like(count_.index({Slice(-1, torch::indexing::None)}))});
  }
  using torch::indexing::Slice;
  auto action = ensembled_.select(1, 0);
  ensembled_ = ensembled_.index({Slice(), Slice(1, torch::indexing::None)});
  count_ = count_.index({Slice(1, torch::indexing::None)});
  return action;
}

ActPolicy::ActPolicy(ActConfig config, StatsTensors stats) : cfg_(std::move(config)) {
  cfg_.validate();
  std::vector<PolicyFeature> all = cfg_.input_features;
  all.insert(all.end(), cfg_.output_features.begin(), cfg_.output_features.end());
  normalizer_ = Normalizer(all, cfg_.normalization_mapping, std::move(stats));
  normalizer_.check();
  model_ = register_module("model", ActModel(cfg_));
  reset();
}

std::map<std::string, std::vector<int>> ActPolicy::delta_indices() const {
  std::vector<int> chunk(cfg_.chunk_size);
  for (int i = 0; i < cfg_.chunk_size; ++i) chunk[i] = i;
  return {{cfg_.action_feature().key, chunk}};
}

ActInputs ActPolicy::normalized_inputs(const TensorMap& batch, bool with_actions) const {
  auto get = [&](const std::string& key) -> const torch::Tensor& {
    auto it = batch.find(key);
    if (it == batch.end()) throw util::InputError("act: the batch has no '" + key + "' (the dataset lacks a feature the policy was built for)");
    return it->second;
  };
  ActInputs in;
  for (auto& f : cfg_.input_features) {
    const auto& raw = get(f.key);
    auto x = raw.scalar_type() == torch::kByte ? raw.to(torch::kFloat32).div(255.0) : raw.to(torch::kFloat32);
    x = normalizer_.normalize(f.key, x);
    if (f.type == FeatureType::Visual) in.images.push_back(x);
    else if (f.type == FeatureType::Env) in.env_state = x;
    else if (&f == cfg_.state_feature()) in.state = x;
  }
  if (with_actions) {
    const auto& key = cfg_.action_feature().key;
    in.actions = normalizer_.normalize(key, get(key).to(torch::kFloat32));
    auto pad = batch.find(key + "_is_pad");
    if (pad != batch.end()) in.action_is_pad = pad->second.to(torch::kBool);
  }
  return in;
}

LossOutput ActPolicy::forward_loss(const TensorMap& batch) {
  auto in = normalized_inputs(batch, true);
  in.latent_eps = take_training_draws().latent_eps;
  auto out = model_->forward(in);
  auto err = (in.actions - out.actions).abs();
  if (in.action_is_pad.defined()) err = err * (~in.action_is_pad).unsqueeze(-1).to(err.dtype());
  auto l1 = err.mean();
  LossOutput r;
  r.parts["l1_loss"] = l1.detach();
  if (cfg_.use_vae && out.mu.defined()) {
    auto kld = (-0.5 * (1 + out.log_sigma_x2 - out.mu.pow(2) - out.log_sigma_x2.exp())).sum(-1).mean();
    r.parts["kld_loss"] = kld.detach();
    r.loss = l1 + kld * cfg_.kl_weight;
  } else {
    r.loss = l1;
  }
  return r;
}

torch::Tensor ActPolicy::predict_action_chunk(const TensorMap& observation) {
  torch::NoGradGuard ng;
  bool was_training = is_training();
  eval();
  auto out = model_->forward(normalized_inputs(observation, false));
  if (was_training) train();
  return normalizer_.unnormalize(cfg_.action_feature().key, out.actions);
}

torch::Tensor ActPolicy::select_action(const TensorMap& observation) {
  if (ensembler_) return ensembler_->update(predict_action_chunk(observation));
  if (queue_.empty()) {
    auto chunk = predict_action_chunk(observation).narrow(1, 0, cfg_.n_action_steps);
    for (int64_t i = 0; i < chunk.size(1); ++i) queue_.push_back(chunk.select(1, i));
  }
  auto a = queue_.front();
  queue_.pop_front();
  return a;
}

void ActPolicy::reset() {
  queue_.clear();
  if (cfg_.temporal_ensemble_coeff) {
    ensembler_.emplace(*cfg_.temporal_ensemble_coeff, cfg_.chunk_size);
  } else {
    ensembler_.reset();
  }
}

std::vector<ParamGroup> ActPolicy::param_groups() {
  ParamGroup main{"default", {}};
  ParamGroup backbone{"backbone", {}, cfg_.optimizer_lr_backbone};  // 0 freezes it
  for (auto& p : named_parameters()) {
    if (!p.value().requires_grad()) continue;
    (util::starts_with(p.key(), "model.backbone.") ? backbone : main).params.push_back(p.value());
  }
  std::vector<ParamGroup> out = {main};
  if (!backbone.params.empty()) out.push_back(backbone);
  return out;
}

OptimizerPreset ActPolicy::optimizer_preset() const {
  OptimizerPreset p;  // LeRobot's ACTConfig: AdamW, no scheduler
  p.optimizer.type = "adamw";
  p.optimizer.lr = cfg_.optimizer_lr;
  p.optimizer.weight_decay = cfg_.optimizer_weight_decay;
  return p;
}

std::vector<std::pair<std::string, torch::Tensor>> ActPolicy::lerobot_state_dict() {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& p : named_parameters()) out.emplace_back(p.key(), p.value());
  for (auto& b : named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

void ActPolicy::load_pretrained_backbone() {
  if (!cfg_.pretrained_backbone_weights || !model_->backbone) return;  // none asked for, or no camera
  auto weights = resolve_backbone_weights(*cfg_.pretrained_backbone_weights, cfg_.vision_backbone);
  if (weights.file.empty()) {
    cfg_.pretrained_backbone_weights.reset();  // config.json says what the model was built from
    return;
  }
  NamedTensors target;
  for (auto& p : model_->backbone->named_parameters()) target.emplace_back(p.key(), p.value());
  for (auto& b : model_->backbone->named_buffers()) target.emplace_back(b.key(), b.value());
  load_backbone_weights(target, weights.file, [](const std::string& name) { return name; });
  util::log_info("act: backbone weights from ", weights.file.string(), " (config.json: ", weights.lerobot_name, ")");
  cfg_.pretrained_backbone_weights = weights.lerobot_name;
}

}  // namespace robotrain::policy::act
