#pragma once
// NVIDIA OSMO workflows: the workflow YAML for one training task running robotrain in the
// image, and submission through the `osmo` CLI (which returns the workflow id to poll).
#include <string>

#include "platform/azureml_job.h"
#include "platform/submit_options.h"

namespace robotrain::platform {

std::string render_osmo_workflow_yaml(const SubmitOptions& options, const std::string& exec_timeout = "12h");

// `osmo workflow submit FILE -t json [forward args]`; the id is the JSON's "name".
SubmittedJob submit_osmo(const SubmitOptions& options, const std::string& yaml_path);

}  // namespace robotrain::platform
