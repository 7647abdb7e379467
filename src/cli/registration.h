#pragma once
// Registering an evaluated checkpoint in the model registry the tracking URI points at.
#include <string>

#include "util/json.h"

namespace robotrain::cli {

// Returns {"name", "version"} of the new model version, or null when no registry is reachable.
util::Json register_evaluated_checkpoint(const std::string& name, const std::string& pretrained_dir, const std::string& tracking_uri,
                                         const util::Json& eval_metrics);

}  // namespace robotrain::cli
