#include "storage/azureml_data.h"

#include "util/error.h"
#include "util/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace {

std::string workspace_url(const AzureMLWorkspace& ws) {
  std::string base = ws.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return util::cat(base, "/subscriptions/", ws.subscription, "/resourceGroups/", ws.resource_group,
                   "/providers/Microsoft.MachineLearningServices/workspaces/", ws.workspace);
}

util::Json arm_get(const AzureMLWorkspace& ws, const std::string& path, const std::string& what) {
  if (!ws.token)
    throw util::InputError(util::cat("resolving ", what, " needs an Azure AD token: run `az login` or use a managed identity"));
  util::HttpRequest req;
  req.url = util::cat(workspace_url(ws), path, "?api-version=", kAzureMLApiVersion);
  req.headers = {{"Authorization", "Bearer " + ws.token()}, {"Accept", "application/json"}};
  util::RetryPolicy policy;
  policy.max_total_s = 120;
  auto r = util::http_send(req, policy);
  if (r.status == 404)
    throw util::InputError(util::cat(what, " not found in workspace ", ws.workspace, " (resource group ", ws.resource_group,
                                     "); check the name and version with `az ml data list` or `az ml model list`"));
  if (!r.ok())
    throw util::RuntimeError(util::cat("resolving ", what, ": ", util::describe_http_failure(req, r),
                                       r.status == 403 ? " (the identity needs read access to the workspace)" : ""));
  try {
    return util::Json::parse(r.body);
  } catch (const std::exception&) {
    throw util::RuntimeError(util::cat("resolving ", what, ": the answer is not JSON"));
  }
}

// A URI from the service, as a message may show it.
std::string shown(const std::string& uri) { return util::one_line(util::redact_url(uri), 300); }

std::string strip_slashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// "CONTAINER@ACCOUNT.HOST/PATH" from wasbs:// and abfss:// URIs.
BlobLocation from_at_form(const std::string& rest, const std::string& uri) {
  size_t at = rest.find('@');
  size_t slash = rest.find('/');
  if (at == std::string::npos || (slash != std::string::npos && slash < at))
    throw util::RuntimeError(util::cat("data asset URI '", shown(uri), "' has no CONTAINER@ACCOUNT part"));
  BlobLocation loc;
  loc.container = rest.substr(0, at);
  std::string host = rest.substr(at + 1, slash == std::string::npos ? std::string::npos : slash - at - 1);
  loc.account = host.substr(0, host.find('.'));
  loc.prefix = slash == std::string::npos ? "" : strip_slashes(rest.substr(slash + 1));
  return loc;
}

}  // namespace

AzureMLWorkspace azureml_workspace_from_env() {
  AzureMLWorkspace ws;
  ws.subscription = util::get_env_or("AZURE_SUBSCRIPTION_ID", "");
  ws.resource_group = util::get_env_or("AZURE_RESOURCE_GROUP", "");
  ws.workspace = util::get_env_or("AZUREML_WORKSPACE_NAME", "");
  ws.token = util::azure_token_provider(util::kManagementResource);
  return ws;
}

namespace {

BlobLocation locate_data_uri(const std::string& data_uri, const AzureMLWorkspace& ws) {
  std::string lower = util::to_lower(data_uri);
  if (util::starts_with(lower, "https://")) {
    std::string rest = data_uri.substr(8);
    size_t slash = rest.find('/');
    std::string host = rest.substr(0, slash);
    if (host.find(".blob.") == std::string::npos && host.find(".dfs.") == std::string::npos)
      throw util::RuntimeError(util::cat("data asset URI '", shown(data_uri), "' is not an Azure Blob URL"));
    BlobLocation loc;
    loc.account = host.substr(0, host.find('.'));
    std::string path = slash == std::string::npos ? "" : strip_slashes(rest.substr(slash));
    loc.container = path.substr(0, path.find('/'));
    loc.prefix = path.find('/') == std::string::npos ? "" : strip_slashes(path.substr(path.find('/')));
    return loc;
  }
  if (util::starts_with(lower, "wasbs://") || util::starts_with(lower, "abfss://") ||
      util::starts_with(lower, "wasb://") || util::starts_with(lower, "abfs://"))
    return from_at_form(data_uri.substr(data_uri.find("://") + 3), data_uri);
  if (util::starts_with(lower, "azureml://")) {
    size_t ds = lower.find("/datastores/");
    size_t paths = lower.find("/paths/");
    if (ds == std::string::npos || paths == std::string::npos || paths < ds)
      throw util::RuntimeError(util::cat("data asset URI '", shown(data_uri),
                                         "' is not a datastore path (azureml://datastores/NAME/paths/PATH)"));
    std::string datastore = data_uri.substr(ds + 12, paths - ds - 12);
    std::string path = strip_slashes(data_uri.substr(paths + 7));
    util::Json j = arm_get(ws, "/datastores/" + util::url_encode(datastore), util::cat("datastore '", util::one_line(datastore, 100), "'"));
    const util::Json& p = j.contains("properties") ? j["properties"] : j;
    std::string type = util::string_member(p, "datastoreType");
    BlobLocation loc;
    loc.account = util::string_member(p, "accountName");
    loc.container = util::string_member(p, "containerName");
    if (loc.container.empty()) loc.container = util::string_member(p, "filesystem");  // ADLS Gen2 also serves the Blob API
    if (loc.account.empty() || loc.container.empty() || (type != "AzureBlob" && type != "AzureDataLakeGen2"))
      throw util::RuntimeError(util::cat("datastore '", util::one_line(datastore, 100), "' is of type '", util::one_line(type, 60),
                                         "'; only AzureBlob and AzureDataLakeGen2 datastores can be downloaded"));
    loc.prefix = path;
    return loc;
  }
  throw util::RuntimeError(util::cat("data asset URI '", shown(data_uri), "' has an unsupported scheme"));
}

bool all_of_chars(const std::string& s, const char* extra) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || std::string_view(extra).find(c) != std::string_view::npos))
      return false;
  return true;
}

}  // namespace

BlobLocation resolve_data_uri(const std::string& data_uri, const AzureMLWorkspace& ws) {
  BlobLocation loc = locate_data_uri(data_uri, ws);
  // The account and container come from the service and become the Blob host and path: only
  // the characters Azure Storage allows in them (so no host, port or userinfo can be smuggled in).
  if (loc.account.empty() || loc.account.size() > 24 || !all_of_chars(loc.account, "") || loc.container.empty() ||
      loc.container.size() > 63 || !all_of_chars(loc.container, "-"))
    throw util::RuntimeError(util::cat("data asset URI '", shown(data_uri), "' names storage account '",
                                       util::one_line(loc.account, 60), "' and container '", util::one_line(loc.container, 80),
                                       "', which Azure Storage does not allow; check the asset's registration"));
  return loc;
}

AzureMLWorkspace data_asset_workspace(const DataAssetRef& asset, const AzureMLWorkspace& workspace) {
  AzureMLWorkspace ws = workspace;
  if (!asset.subscription.empty()) ws.subscription = asset.subscription;
  if (!asset.resource_group.empty()) ws.resource_group = asset.resource_group;
  if (!asset.workspace.empty()) ws.workspace = asset.workspace;
  if (ws.subscription.empty() || ws.resource_group.empty() || ws.workspace.empty())
    throw util::InputError(util::cat("--dataset-asset ", util::one_line(asset.uri, 300),
                                     ": the Azure ML workspace is unknown; set AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP "
                                     "and AZUREML_WORKSPACE_NAME (or the matching flags)"));
  return ws;
}

BlobLocation resolve_data_asset_location(const DataAssetRef& asset, const AzureMLWorkspace& workspace) {
  AzureMLWorkspace ws = data_asset_workspace(asset, workspace);
  std::string what = util::cat("data asset ", asset.name, ":", asset.version);
  util::Json j = arm_get(ws, util::cat("/data/", asset.name, "/versions/", asset.version), what);
  const util::Json& p = j.contains("properties") ? j["properties"] : j;
  std::string type = util::to_lower(util::string_member(p, "dataType"));
  std::string uri = util::string_member(p, "dataUri");
  if (uri.empty()) throw util::RuntimeError(util::cat(what, " has no dataUri"));
  if (!type.empty() && type != "uri_folder")
    throw util::InputError(util::cat(what, " is a ", type, " asset; a LeRobot dataset must be a uri_folder asset"));
  BlobLocation loc = resolve_data_uri(uri, ws);
  util::log_info("Resolved ", what, " to ", util::one_line(util::cat(loc.account, "/", loc.container, "/", loc.prefix), 300));
  return loc;
}

BlobLocation resolve_model_location(const std::string& name, const std::string& version, const AzureMLWorkspace& ws) {
  if (ws.subscription.empty() || ws.resource_group.empty() || ws.workspace.empty())
    throw util::InputError(util::cat("model ", name, ":", version,
                                     ": the Azure ML workspace is unknown; set AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP "
                                     "and AZUREML_WORKSPACE_NAME"));
  std::string what = util::cat("model ", name, ":", version);
  util::Json j = arm_get(ws, util::cat("/models/", name, "/versions/", version), what);
  const util::Json& p = j.contains("properties") ? j["properties"] : j;
  std::string uri = util::string_member(p, "modelUri");
  if (uri.empty()) throw util::RuntimeError(util::cat(what, " has no modelUri"));
  BlobLocation loc = resolve_data_uri(uri, ws);
  util::log_info("Resolved ", what, " to ", util::one_line(util::cat(loc.account, "/", loc.container, "/", loc.prefix), 300));
  return loc;
}

BlobDownloadReport download_data_asset(const std::string& uri, const std::filesystem::path& dest,
                                       const AzureMLWorkspace& workspace, const BlobDownloadOptions& options) {
  DataAssetRef asset = parse_data_asset(uri);
  if (std::filesystem::is_directory(dest) && !std::filesystem::is_empty(dest) && !options.overwrite)
    throw util::InputError(util::cat(dest.string(), " already exists; remove it, choose another output, or pass --overwrite"));
  return download_blob_location(resolve_data_asset_location(asset, workspace), dest, options);
}

}  // namespace robotrain::storage
