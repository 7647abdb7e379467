#pragma once
// From validated options to a running job on any platform, recorded in the job store.
#include <string>

#include "platform/azureml_job.h"
#include "platform/job_store.h"
#include "platform/osmo_workflow.h"
#include "platform/submit_options.h"

namespace robotrain::platform {

// The platform's job spec as text (Azure ML YAML, OSMO YAML, or the local command line).
std::string render_job_spec(const SubmitOptions& options);

struct SubmitHooks {
  TokenProvider azure_token;  // used for Azure ML REST submission when `az` is absent
  std::string azureml_endpoint = "https://management.azure.com";
  bool force_rest = false;
};

// Submits (options must be validated) and records the job. On OSMO, `osmo_eval` adds the
// pipeline's evaluation as a second task of the same workflow.
JobRecord submit_job(const JobStore& store, const SubmitOptions& options, const SubmitHooks& hooks = {},
                     const OsmoEvalTask* osmo_eval = nullptr);

}  // namespace robotrain::platform
