#pragma once
// Azure ML command jobs: the CLI v2 YAML (for `az ml job create`) and the REST body (PUT
// jobs/{name}), rendered from the same SubmitOptions so both paths submit the same job.
#include <functional>
#include <map>
#include <vector>
#include <string>

#include "platform/submit_options.h"
#include "util/json.h"

namespace robotrain::platform {

// The shell command the job runs: robotrain train, then the checkpoints copied to the job's
// `checkpoints` output (also when training failed, so partial work is kept).
std::string azureml_job_command(const SubmitOptions& options);

std::string render_azureml_job_yaml(const SubmitOptions& options);

// The pieces that differ between the training and the evaluation job.
struct AzureMLJobParts {
  struct Input {
    std::string name, type, mode, path;
  };
  std::string display_name;
  std::string description;
  std::string command;
  std::map<std::string, std::string> env;
  std::vector<Input> inputs;
  std::vector<std::string> outputs;
  int process_count = 1;
};
std::string render_azureml_command_job_yaml(const SubmitOptions& context, const AzureMLJobParts& parts);

// ARM id of the workspace: /subscriptions/../resourceGroups/../providers/Microsoft.MachineLearningServices/workspaces/..
std::string azureml_workspace_arm_id(const SubmitOptions& options);
// Body of PUT {workspace}/jobs/{name}?api-version=...
util::Json render_azureml_job_rest_body(const SubmitOptions& options);

struct SubmittedJob {
  std::string id;          // what the platform returned (Azure ML job name / OSMO workflow id)
  std::string portal_url;  // where to watch it
};

// Through the Azure ML CLI: registers the environment version from the image, then
// `az ml job create -f YAML --query name -o tsv` (+ forward args).
SubmittedJob submit_azureml_with_cli(const SubmitOptions& options, const std::string& yaml_path);

using TokenProvider = std::function<std::string()>;  // AAD token for https://management.azure.com/

// Through the REST API (no az CLI needed): PUT environment version, PUT job.
// `endpoint` defaults to https://management.azure.com (tests point it at a local server).
SubmittedJob submit_azureml_with_rest(const SubmitOptions& options, const std::string& job_id, const TokenProvider& token,
                                      const std::string& endpoint = "https://management.azure.com");

// ARM endpoint: $ROBOTRAIN_AZUREML_ENDPOINT (tests, sovereign clouds) or https://management.azure.com.
std::string azureml_management_endpoint();

// A submitted job's ARM address, for status and cancel without the az CLI.
struct AzureMlJobRef {
  std::string subscription_id, resource_group, workspace_name, job_id;
};
// GET {workspace}/jobs/{id}: the job's properties.status ("Running", "Completed", ...).
std::string azureml_job_status_with_rest(const AzureMlJobRef& job, const TokenProvider& token,
                                         const std::string& endpoint = "https://management.azure.com");
// POST {workspace}/jobs/{id}/cancel (Azure ML accepts it and cancels asynchronously).
void cancel_azureml_job_with_rest(const AzureMlJobRef& job, const TokenProvider& token,
                                  const std::string& endpoint = "https://management.azure.com");

std::string azureml_studio_url(const SubmitOptions& options, const std::string& job_id);

// A unique, valid Azure ML job name derived from the job name.
std::string make_azureml_job_id(const std::string& job_name);

}  // namespace robotrain::platform
