#include "storage/data_asset.h"

#include <regex>

#include "util/error.h"
#include "util/http.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace {

constexpr const char* kForms = "azureml:NAME:VERSION or azureml://.../data/NAME/versions/VERSION";

bool canonical_version(const std::string& v) {
  static const std::regex re("^([1-9][0-9]*|0)$");
  return std::regex_match(v, re);
}

// Azure ML asset names: letters, digits, '_', '-', '.', starting with a letter, digit or '_'.
bool valid_name(const std::string& n) {
  static const std::regex re("^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$");
  return std::regex_match(n, re);
}

[[noreturn]] void reject(const std::string& flag, const std::string& uri, const std::string& why) {
  throw util::InputError(util::cat(flag, " ", why, ": '", util::one_line(util::redact_url(uri), 300), "' (use ", kForms,
                                   " with an integer version such as 3; 'latest' is not allowed)"));
}

// Segment after `key` in a '/'-separated path ("" when absent).
std::string segment_after(const std::vector<std::string>& parts, const std::string& key) {
  for (size_t i = 0; i + 1 < parts.size(); ++i)
    if (util::to_lower(parts[i]) == util::to_lower(key)) return parts[i + 1];
  return "";
}

DataAssetRef parse_with_label(const std::string& uri, const std::string& flag) {
  DataAssetRef ref;
  ref.uri = uri;
  for (unsigned char c : uri)
    if (c <= 0x20 || c == 0x7f) reject(flag, uri, "must not contain spaces or control characters");
  bool long_form = util::starts_with(uri, "azureml://") || util::starts_with(uri, "azureml:/");
  if (long_form) {
    size_t data = uri.find("/data/");
    size_t versions = uri.rfind("/versions/");
    if (data == std::string::npos || versions == std::string::npos || versions < data)
      reject(flag, uri, "must use azureml:NAME:VERSION or a full versioned Azure ML data URI");
    ref.version = uri.substr(versions + 10);
    ref.name = uri.substr(data + 6, versions - data - 6);
    if (!canonical_version(ref.version)) reject(flag, uri, "version must be a canonical integer");
    if (!valid_name(ref.name)) reject(flag, uri, "has an invalid data asset name");
    auto parts = util::split(uri.substr(0, data), '/');
    ref.subscription = segment_after(parts, "subscriptions");
    ref.resource_group = segment_after(parts, "resourceGroups");
    ref.workspace = segment_after(parts, "workspaces");
    if (!segment_after(parts, "locations").empty()) ref.workspace.clear();  // a workspace GUID, not a name
    if (!segment_after(parts, "registries").empty())
      reject(flag, uri, "registry data assets are not supported; use a workspace data asset");
    return ref;
  }
  if (!util::starts_with(uri, "azureml:"))
    reject(flag, uri, "must use azureml:NAME:VERSION or a full versioned Azure ML data URI");
  std::string body = uri.substr(8);
  size_t colon = body.rfind(':');
  if (colon == std::string::npos) reject(flag, uri, "must use azureml:NAME:VERSION or a full versioned Azure ML data URI");
  ref.name = body.substr(0, colon);
  ref.version = body.substr(colon + 1);
  if (!canonical_version(ref.version)) reject(flag, uri, "version must be a canonical integer");
  if (!valid_name(ref.name)) reject(flag, uri, "has an invalid data asset name");
  return ref;
}

}  // namespace

DataAssetRef parse_data_asset(const std::string& uri) { return parse_with_label(uri, "--dataset-asset"); }

void validate_data_assets(const std::vector<std::string>& uris) {
  if (uris.size() > kMaxDataAssets)
    throw util::InputError(util::cat("--dataset-asset: too many data assets (", uris.size(), "); maximum is ",
                                     kMaxDataAssets, " (merge them into fewer assets first)"));
  for (size_t i = 0; i < uris.size(); ++i) parse_with_label(uris[i], util::cat("--dataset-asset #", i + 1));
}

std::string data_asset_input_env(size_t index) { return util::cat("AZURE_ML_INPUT_dataset_asset_", index); }

std::vector<std::filesystem::path> mounted_data_asset_paths(size_t expected_count) {
  // DATASET_ASSET_COUNT is written into the job by the submitter; 0 from the caller means "trust it".
  size_t expected = expected_count;
  if (auto count = util::get_env("DATASET_ASSET_COUNT"); count && !util::trim(*count).empty()) {
    int64_t n = 0;
    if (!util::parse_int64(util::trim(*count), n) || n < 0)
      throw util::RuntimeError(util::cat("DATASET_ASSET_COUNT='", *count,
                                         "' is not a non-negative integer; fix the job's environment variables"));
    if (expected_count == 0) expected = static_cast<size_t>(n);
    else if (static_cast<size_t>(n) != expected_count)
      throw util::RuntimeError(util::cat("Expected ", expected_count, " AzureML data asset mount(s), but found ", n,
                                         ": DATASET_ASSET_COUNT=", n, " (the job was submitted with a different",
                                         " --dataset-asset list; resubmit it)"));
  }
  std::vector<std::filesystem::path> paths;
  std::vector<std::string> unset;
  for (size_t i = 0; i < expected; ++i) {
    std::string name = data_asset_input_env(i);
    auto value = util::get_env(name.c_str());
    if (!value || value->empty()) unset.push_back(name + "=<UNSET>");
    else paths.emplace_back(*value);
  }
  if (!unset.empty())
    throw util::RuntimeError(util::cat("Expected ", expected, " AzureML data asset mount(s), but found ", paths.size(),
                                       ": ", util::join(unset, ", "),
                                       " (declare one dataset_asset_<i> uri_folder input per --dataset-asset in the job)"));
  for (size_t i = 0; i < paths.size(); ++i)
    if (!std::filesystem::is_directory(paths[i]))
      throw util::RuntimeError(util::cat(data_asset_input_env(i), "=", paths[i].string(),
                                         " is not a mounted directory; check the job input dataset_asset_", i,
                                         " (type uri_folder, mode ro_mount)"));
  return paths;
}

}  // namespace robotrain::storage
