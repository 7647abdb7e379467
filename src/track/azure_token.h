#pragma once
// Fallback bearer token for azureml:// when the caller injected no credential: the Azure CLI
// (`az account get-access-token`), cached until five minutes before it expires. Training
// inside Azure ML passes the storage area's managed-identity chain instead.
#include "track/tracker.h"

namespace robotrain::track {

AccessTokenProvider azure_cli_token_provider(const std::string& resource = "https://management.azure.com/");

}  // namespace robotrain::track
