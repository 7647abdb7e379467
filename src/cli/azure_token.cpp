// The AAD token used to call Azure ML's management API from the CLI (REST submission, the
// Azure ML model registry, azureml:// tracking): the storage area's credential chain
// (workload identity, Azure ML compute MSI, IMDS, then the Azure CLI).
#include "cli/submit_flags.h"
#include "storage/azure_credential.h"

namespace robotrain::cli {

platform::TokenProvider azure_management_token_provider() { return storage::azure_token_provider(storage::kManagementResource); }

}  // namespace robotrain::cli
