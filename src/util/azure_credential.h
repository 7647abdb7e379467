#pragma once
// Azure AD bearer tokens without an SDK, tried in the order DefaultAzureCredential uses on the
// platforms we run on: AKS workload identity (federated token file), the Azure ML compute MSI
// endpoint, the VM's IMDS managed identity, then the Azure CLI. The source that worked is
// remembered; its token is cached and refreshed five minutes before it expires. One chain
// serves every area: Blob storage, Azure ML data assets and registries, azureml:// tracking
// (inside an Azure ML job, whose image has no `az`, the job's managed identity answers).
#include <cstdint>
#include <functional>
#include <string>

namespace robotrain::util {

using TokenProvider = std::function<std::string()>;  // returns a bearer token, cached, refreshed before expiry

inline constexpr const char* kStorageResource = "https://storage.azure.com/";
inline constexpr const char* kManagementResource = "https://management.azure.com/";

// Environment read when a token is first needed (and on every refresh):
//   AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + AZURE_TENANT_ID [+ AZURE_AUTHORITY_HOST]
//   MSI_ENDPOINT or IDENTITY_ENDPOINT [+ MSI_SECRET | IDENTITY_HEADER], DEFAULT_IDENTITY_CLIENT_ID
//   IMDS at http://169.254.169.254 (ROBOTRAIN_IMDS_ENDPOINT overrides it, for tests), AZURE_CLIENT_ID
//   `az account get-access-token` on PATH
// When every source fails, util::RuntimeError lists what was tried and why each failed.
TokenProvider azure_token_provider(const std::string& resource);

// A token and its expiry (epoch seconds), as one source returns it.
struct AccessToken {
  std::string token;
  int64_t expires_on = 0;
};
// Parses expires_on the ways Azure endpoints write it: epoch seconds (number or string),
// "MM/DD/YYYY HH:MM:SS +00:00" (App Service MSI), or falls back to now + expires_in.
int64_t parse_token_expiry(const std::string& expires_on, const std::string& expires_in, int64_t now_s);

}  // namespace robotrain::util
