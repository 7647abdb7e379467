#pragma once
// NVIDIA OSMO workflows: the workflow YAML for one training task running robotrain in the
// image, and submission through the `osmo` CLI (which returns the workflow id to poll).
#include <string>
#include <vector>

#include "platform/azureml_job.h"
#include "platform/submit_options.h"

namespace robotrain::platform {

inline constexpr const char* kOsmoTrainTask = "robotrain-train";
inline constexpr const char* kOsmoEvalTask = "robotrain-eval";
inline constexpr const char* kOsmoTrainOutput = "train";  // the training run's folder in its task output

// The pipeline's evaluation as a second task of the training workflow: it receives the
// training task's output as {{input:0}} and runs `robotrain ARGS...`.
struct OsmoEvalTask {
  std::vector<std::string> args;
};

std::string render_osmo_workflow_yaml(const SubmitOptions& options, const std::string& exec_timeout = "12h",
                                      const OsmoEvalTask* eval = nullptr);

// `osmo workflow submit FILE -t json [forward args]`; the id is the JSON's "name".
SubmittedJob submit_osmo(const SubmitOptions& options, const std::string& yaml_path);

}  // namespace robotrain::platform
