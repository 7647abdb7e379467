#pragma once
// Dynamic loss scaling for fp16 autocast (--mixed-precision fp16), with the policy of
// torch.cuda.amp.GradScaler that accelerate (and so lerobot-train) uses: the loss is
// multiplied by a large scale so small fp16 gradients do not flush to zero; gradients are
// divided back before clipping; a step whose gradients hold inf/nan is skipped and the scale
// halved; after `growth_interval` clean steps the scale doubles. bf16 and fp32 need none of
// this: a disabled scaler passes everything through.
#include <torch/torch.h>

#include <vector>

#include "util/json.h"

namespace robotrain::train {

class LossScaler {
 public:
  explicit LossScaler(bool enabled, double init_scale = 65536.0, double growth_factor = 2.0,
                      double backoff_factor = 0.5, int growth_interval = 2000);

  bool enabled() const { return enabled_; }
  double scale() const { return scale_; }
  torch::Tensor scale_loss(const torch::Tensor& loss) const;
  // Divides every gradient by the scale; false when any gradient is inf or nan (then the
  // optimizer step must be skipped). Always true when disabled.
  bool unscale_gradients(const std::vector<torch::Tensor>& params) const;
  // After each step: backs off on overflow, grows after growth_interval clean steps.
  void update(bool gradients_finite);

  // {"scale", "growth_tracker"}: kept in training_state/ so a resumed fp16 run continues with it.
  util::Json state() const;
  void load(const util::Json& state);

 private:
  bool enabled_;
  double scale_, growth_factor_, backoff_factor_;
  int growth_interval_, growth_tracker_ = 0;
};

}  // namespace robotrain::train
