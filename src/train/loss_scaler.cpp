#include "train/loss_scaler.h"

#include <cmath>

#include "util/error.h"

namespace robotrain::train {

LossScaler::LossScaler(bool enabled, double init_scale, double growth_factor, double backoff_factor, int growth_interval)
    : enabled_(enabled),
      scale_(init_scale),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval) {}

torch::Tensor LossScaler::scale_loss(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool LossScaler::unscale_gradients(const std::vector<torch::Tensor>& params) const {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  // One host sync for all gradients: sum the per-tensor "all finite" flags on the device.
  std::vector<torch::Tensor> finite;
  const double inv = 1.0 / scale_;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    auto g = p.mutable_grad();
    g.mul_(inv);
    finite.push_back(torch::isfinite(g).all());
  }
  if (finite.empty()) return true;
  return torch::stack(finite).all().item<bool>();
}

void LossScaler::update(bool gradients_finite) {
  if (!enabled_) return;
  if (!gradients_finite) {
    scale_ *= backoff_factor_;
    growth_tracker_ = 0;
    return;
  }
  if (++growth_tracker_ >= growth_interval_) {
    scale_ *= growth_factor_;
    growth_tracker_ = 0;
  }
}

util::Json LossScaler::state() const { return util::Json{{"scale", scale_}, {"growth_tracker", growth_tracker_}}; }

void LossScaler::load(const util::Json& state) {
  if (!state.is_object()) return;
  if (auto s = state.find("scale"); s != state.end() && s->is_number()) {
    if (!(s->get<double>() > 0) || !std::isfinite(s->get<double>()))
      throw util::RuntimeError("training_state: loss scale must be a positive number; remove it to start afresh");
    scale_ = s->get<double>();
  }
  if (auto t = state.find("growth_tracker"); t != state.end() && t->is_number_integer()) growth_tracker_ = t->get<int>();
}

}  // namespace robotrain::train
