#include "cli/registration.h"

#include "util/log.h"

namespace robotrain::cli {

util::Json register_evaluated_checkpoint(const std::string& name, const std::string&, const std::string&, const util::Json&) {
  util::log_warn("model registry not available in this build: " + name + " was not registered");
  return nullptr;
}

}  // namespace robotrain::cli
