// The AAD token used to call Azure ML's management API from the CLI (REST submission, the
// Azure ML model registry, azureml:// tracking).
#include "cli/submit_flags.h"
#include "track/azure_token.h"

namespace robotrain::cli {

platform::TokenProvider azure_management_token_provider() { return track::azure_cli_token_provider(); }

}  // namespace robotrain::cli
