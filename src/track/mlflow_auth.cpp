#include "track/mlflow_auth.h"

#include <filesystem>
#include <fstream>

#include "util/azure_credential.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;

namespace {

// The [mlflow] section of ~/.mlflow/credentials (configparser syntax: "key = value" or
// "key: value", keys case-insensitive, # and ; comments).
std::map<std::string, std::string> credentials_file() {
  std::map<std::string, std::string> out;
  auto home = util::get_env("HOME");
  if (!home || home->empty()) return out;
  std::ifstream in(fs::path(*home) / ".mlflow" / "credentials");
  std::string line, section;
  while (std::getline(in, line)) {
    std::string t = util::trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = util::trim(t.substr(1, t.size() - 2));
      continue;
    }
    if (section != "mlflow") continue;
    auto sep = t.find_first_of("=:");
    if (sep == std::string::npos) continue;
    out[util::to_lower(util::trim(t.substr(0, sep)))] = util::trim(t.substr(sep + 1));
  }
  return out;
}

std::string env_or_file(const char* name, const std::map<std::string, std::string>& file) {
  auto v = util::get_env(name);
  if (v && !v->empty()) return *v;
  auto it = file.find(util::to_lower(name));
  return it == file.end() ? "" : it->second;
}

bool env_bool(const char* name) {
  auto v = util::get_env(name);
  if (!v) return false;
  std::string s = util::to_lower(*v);
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  throw util::InputError(cat(name, "='", *v, "': expected true, false, 1 or 0 (as MLflow's client reads it)"));
}

std::string existing_file(const char* name) {
  std::string path = util::get_env_or(name, "");
  std::error_code ec;
  if (!path.empty() && !fs::is_regular_file(path, ec))
    throw util::InputError(cat(name, "='", path, "': no such file; point it at a PEM file or unset it"));
  return path;
}

}  // namespace

void MlflowAuth::apply(util::HttpRequest& request) const {
  if (azure_token) {
    request.headers.push_back({"Authorization", "Bearer " + azure_token()});
  } else if (!username.empty() && !password.empty()) {
    request.headers.push_back({"Authorization", "Basic " + util::base64_encode(username + ":" + password)});
  } else if (!token.empty()) {
    request.headers.push_back({"Authorization", "Bearer " + token});
  }
  request.insecure_tls = insecure_tls;
  request.ca_bundle_path = ca_bundle_path;
  request.client_cert_path = client_cert_path;
}

MlflowAuth mlflow_auth_for(const TrackingTarget& target, AccessTokenProvider azure_token) {
  MlflowAuth auth;
  if (target.kind == TrackingKind::AzureMl) {
    auth.azure_token = azure_token ? std::move(azure_token) : util::azure_token_provider(util::kManagementResource);
    return auth;
  }
  if (target.kind != TrackingKind::Http) return auth;
  auto file = credentials_file();
  auth.username = env_or_file("MLFLOW_TRACKING_USERNAME", file);
  auth.password = env_or_file("MLFLOW_TRACKING_PASSWORD", file);
  auth.token = util::get_env_or("MLFLOW_TRACKING_TOKEN", "");
  auth.insecure_tls = env_bool("MLFLOW_TRACKING_INSECURE_TLS");
  auth.ca_bundle_path = existing_file("MLFLOW_TRACKING_SERVER_CERT_PATH");
  auth.client_cert_path = existing_file("MLFLOW_TRACKING_CLIENT_CERT_PATH");
  if (auth.insecure_tls && !auth.ca_bundle_path.empty())
    throw util::InputError(
        "MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set: keep one (MLflow refuses both)");
  return auth;
}

}  // namespace robotrain::track
