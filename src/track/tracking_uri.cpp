#include "track/tracking_uri.h"

#include "util/error.h"
#include "util/http.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::track {
namespace {

using util::InputError;

std::filesystem::path file_uri_path(const std::string& uri) {
  // file:///abs, file://localhost/abs, file:relative (MLflow's local_file_uri_to_path).
  std::string rest = uri.substr(5);
  if (util::starts_with(rest, "//")) {
    rest = rest.substr(2);
    auto slash = rest.find('/');
    std::string host = slash == std::string::npos ? rest : rest.substr(0, slash);
    if (!host.empty() && host != "localhost")
      throw InputError(util::cat("tracking URI '", util::redact_url(uri), "': remote file:// hosts are not supported; use file:///ABSOLUTE/PATH"));
    rest = slash == std::string::npos ? "" : rest.substr(slash);
  }
  if (rest.empty()) throw InputError(util::cat("tracking URI '", util::redact_url(uri), "': empty path; use file:///ABSOLUTE/PATH"));
  return std::filesystem::path(rest);
}

TrackingTarget azureml_target(const std::string& uri) {
  // azureml://<region>.api.azureml.ms/mlflow/v1.0/subscriptions/<s>/resourceGroups/<rg>/
  //   providers/Microsoft.MachineLearningServices/workspaces/<ws>
  std::string rest = uri.substr(std::string("azureml://").size());
  auto slash = rest.find('/');
  std::string host = slash == std::string::npos ? rest : rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  while (util::ends_with(path, "/")) path.pop_back();
  auto fail = [&](const std::string& why) {
    return InputError(util::cat("tracking URI '", util::redact_url(uri), "': ", why,
                                "; expected azureml://REGION.api.azureml.ms/mlflow/v1.0/subscriptions/SUB/resourceGroups/RG/"
                                "providers/Microsoft.MachineLearningServices/workspaces/WS (az ml workspace show --query mlflow_tracking_uri)"));
  };
  if (host.empty() || host.find('.') == std::string::npos) throw fail("missing workspace host");
  auto parts = util::split(path, '/');  // "", mlflow, v1.0, subscriptions, s, resourceGroups, rg, providers, p, workspaces, ws
  if (parts.size() != 11 || parts[1] != "mlflow" || parts[2] != "v1.0" || util::to_lower(parts[3]) != "subscriptions" ||
      util::to_lower(parts[5]) != "resourcegroups" || util::to_lower(parts[7]) != "providers" ||
      util::to_lower(parts[8]) != "microsoft.machinelearningservices" || util::to_lower(parts[9]) != "workspaces")
    throw fail("not a workspace MLflow URI");
  for (size_t i : {4u, 6u, 10u})
    if (parts[i].empty()) throw fail("empty subscription, resource group or workspace");
  TrackingTarget t;
  t.kind = TrackingKind::AzureMl;
  t.uri = uri;
  t.base_url = "https://" + host + path;
  return t;
}

}  // namespace

std::string default_tracking_uri(const std::string& given) {
  if (!given.empty()) return given;
  auto env = util::get_env("MLFLOW_TRACKING_URI");
  if (env && !env->empty()) return *env;
  return "./mlruns";
}

TrackingTarget parse_tracking_uri(const std::string& raw) {
  std::string uri = default_tracking_uri(raw);
  std::string lower = util::to_lower(uri);
  if (util::starts_with(lower, "http://") || util::starts_with(lower, "https://")) {
    TrackingTarget t;
    t.kind = TrackingKind::Http;
    t.uri = uri;
    t.base_url = uri;
    auto host_start = t.base_url.find("://") + 3;
    if (host_start >= t.base_url.size() || t.base_url[host_start] == '/')
      throw InputError(util::cat("tracking URI '", util::redact_url(uri), "': missing host; expected http(s)://HOST[:PORT][/PATH]"));
    while (util::ends_with(t.base_url, "/")) t.base_url.pop_back();
    return t;
  }
  if (util::starts_with(lower, "azureml://")) return azureml_target(uri);
  TrackingTarget t;
  t.kind = TrackingKind::File;
  t.uri = uri;
  if (util::starts_with(lower, "file:")) {
    t.root = file_uri_path(uri);
  } else if (uri.find("://") != std::string::npos || util::starts_with(lower, "databricks") ||
             util::starts_with(lower, "sqlite:") || util::starts_with(lower, "postgresql") || util::starts_with(lower, "mysql")) {
    throw InputError(util::cat("tracking URI '", uri,
                               "': unsupported scheme; use a directory or file:///PATH (local MLflow store), http(s)://HOST "
                               "(MLflow server) or azureml://... (Azure ML workspace)"));
  } else {
    t.root = std::filesystem::path(uri);
  }
  t.root = std::filesystem::absolute(t.root).lexically_normal();
  if (t.root.has_filename() == false && t.root != t.root.root_path()) t.root = t.root.parent_path();
  return t;
}

}  // namespace robotrain::track
