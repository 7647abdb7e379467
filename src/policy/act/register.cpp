// Makes "act" known to policy::make_policy.
#include "policy/act/act_policy.h"
#include "policy/factory.h"

namespace robotrain::policy::act {
namespace {
PolicyRegistrar reg("act", [](const util::Json& config, StatsTensors stats) -> std::shared_ptr<Policy> {
  return std::make_shared<ActPolicy>(ActConfig::from_json(config), std::move(stats));
});
}  // namespace
}  // namespace robotrain::policy::act
