#pragma once
// Who robotrain says it is to a tracking server, decided by the kind of tracking URI so that a
// credential only ever goes where it belongs:
//  http(s)://  MLflow's own client settings, read as mlflow.utils.credentials reads them:
//              Basic MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD (each from the
//              environment, else from ~/.mlflow/credentials [mlflow]), else Bearer
//              MLFLOW_TRACKING_TOKEN; MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH
//              (CA bundle) and MLFLOW_TRACKING_CLIENT_CERT_PATH (PEM with its key) for TLS.
//  azureml://  a bearer token for https://management.azure.com/ from the Azure AD chain.
// An Azure token is never sent to an http(s):// server, and MLflow's variables never to Azure.
#include <string>
#include <utility>
#include <vector>

#include "track/tracker.h"
#include "track/tracking_uri.h"
#include "util/http.h"

namespace robotrain::track {

struct MlflowAuth {
  std::string username, password;  // Basic when both are set
  std::string token;               // else Bearer
  AccessTokenProvider azure_token; // azureml:// only (asked per request: it refreshes itself)
  bool insecure_tls = false;
  std::string ca_bundle_path, client_cert_path;

  // Authorization header (if any) and TLS settings for one request.
  void apply(util::HttpRequest& request) const;
};

// Throws util::InputError for settings MLflow itself rejects (an INSECURE_TLS value other than
// true/false/1/0, INSECURE_TLS together with SERVER_CERT_PATH, a certificate file that does
// not exist). azure_token is used for azureml:// only; without one the Azure CLI is asked.
MlflowAuth mlflow_auth_for(const TrackingTarget& target, AccessTokenProvider azure_token = {});

}  // namespace robotrain::track
