// Makes "diffusion" known to policy::make_policy.
#include "policy/diffusion/diffusion_policy.h"
#include "policy/factory.h"

namespace robotrain::policy::diffusion {
namespace {
PolicyRegistrar reg("diffusion", [](const util::Json& config, StatsTensors stats) -> std::shared_ptr<Policy> {
  return std::make_shared<DiffusionPolicy>(DiffusionConfig::from_json(config), std::move(stats));
});
}  // namespace
}  // namespace robotrain::policy::diffusion
