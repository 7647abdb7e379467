// The AAD token used to call Azure ML's management API from the CLI (REST submission, the
// Azure ML model registry, azureml:// tracking): the shared Azure AD credential chain
// (workload identity, Azure ML compute MSI, IMDS, then the Azure CLI).
#include "cli/submit_flags.h"
#include "util/azure_credential.h"

namespace robotrain::cli {

platform::TokenProvider azure_management_token_provider() { return util::azure_token_provider(util::kManagementResource); }

}  // namespace robotrain::cli
