#include "storage/dataset_source.h"

#include <optional>

#include "dataset/merge.h"
#include "storage/azureml_data.h"
#include "storage/blob_download.h"
#include "storage/blob_url.h"
#include "storage/data_asset.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::storage {

namespace fs = std::filesystem;

namespace {

fs::path robotrain_home() {
  if (auto h = util::get_env("ROBOTRAIN_HOME"); h && !h->empty()) return *h;
  if (auto h = util::get_env("HOME"); h && !h->empty()) return fs::path(*h) / ".robotrain";
  return ".robotrain";
}

// Named after what was asked for, so the same sources find the same directory again.
fs::path default_output(const DatasetSources& s) {
  util::Json key = {{"repo_id", s.repo_id}, {"blob_urls", s.blob_urls}, {"dataset_assets", s.dataset_assets}};
  return robotrain_home() / "datasets" / (dataset_source_tag(s) + "-" + util::sha256_hex(key.dump()).substr(0, 12));
}

bool is_dataset(const fs::path& root) { return fs::is_regular_file(root / "meta" / "info.json"); }

// The seed's post-fetch check: a dataset the trainer can open, not an empty or foreign prefix.
void require_dataset(const fs::path& root, const std::string& what) {
  if (!is_dataset(root))
    throw util::RuntimeError(util::cat(what, " holds no LeRobot dataset (", (root / "meta" / "info.json").string(),
                                       " is missing); point the source at the dataset's root folder"));
  util::Json info = util::read_json_file(root / "meta" / "info.json");
  for (const char* key : {"total_episodes", "total_frames", "features"})
    if (!info.contains(key))
      throw util::RuntimeError(util::cat(what, ": ", (root / "meta" / "info.json").string(), " has no '", key,
                                         "'; is this a LeRobot v2.1/v3.0 dataset?"));
}

bool inside_azureml_job_with_assets() {
  return util::get_env("DATASET_ASSET_COUNT").has_value() || util::get_env(data_asset_input_env(0).c_str()).has_value();
}

// Hidden scratch directory beside the output for the parts of a merge; removed however the
// fetch ends.
struct PartsDir {
  fs::path path;
  explicit PartsDir(const fs::path& output)
      : path(output.parent_path() / util::cat(".", output.filename().string(), ".parts")) {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  ~PartsDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Copies a dataset found elsewhere (hub cache snapshot, read-only mount) into `output`,
// following the cache's symlinks, staged and renamed.
void copy_dataset(const fs::path& from, const fs::path& output, bool overwrite) {
  util::StagedDir staged(output);
  fs::copy(from, staged.path(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  staged.commit(overwrite);
}

// Beside a fetched dataset (not inside it, so the dataset stays as the source had it): the
// listing fingerprints of its blob prefixes at fetch time.
fs::path fetch_manifest(const fs::path& output) { return output.parent_path() / (output.filename().string() + ".fetch.json"); }

void write_fetch_manifest(const fs::path& output, const std::vector<std::string>& blob_fingerprints) {
  util::write_json_file(fetch_manifest(output), util::Json{{"blob_fingerprints", blob_fingerprints}}, 2);
}

// A reused fetch is only as fresh as its blob prefixes, which can change under the same URL:
// re-list them (no downloads) and compare. Data asset versions and Hub revisions are fixed
// names. Offline, the earlier copy is used with a warning.
bool fetched_copy_is_current(const DatasetSources& s, const fs::path& output, const BlobAccess& access) {
  if (s.blob_urls.empty()) return true;
  std::vector<std::string> recorded;
  try {
    recorded = util::read_json_file(fetch_manifest(output)).at("blob_fingerprints").get<std::vector<std::string>>();
  } catch (const std::exception&) {
    return false;
  }
  std::vector<std::string> now;
  try {
    for (const auto& url : s.blob_urls) now.push_back(blob_prefix_fingerprint(url, access));
  } catch (const util::RuntimeError& e) {
    util::log_warn("cannot check the blob sources for changes (", e.what(), "); using the copy fetched earlier: ",
                   output.string());
    return true;
  }
  return now == recorded;
}

}  // namespace

void validate_dataset_sources(const DatasetSources& s) {
  if (!s.repo_id.empty()) {
    if (util::starts_with(util::to_lower(s.repo_id), "azureml:"))
      throw util::InputError(util::cat("--dataset.repo_id ", s.repo_id,
                                       " is an Azure ML data asset: pass it as --dataset-asset (or resolve it to a --blob-url)"));
    validate_repo_id(s.repo_id);
  }
  if (!s.blob_urls.empty()) validate_blob_urls(s.blob_urls);
  if (!s.dataset_assets.empty()) validate_data_assets(s.dataset_assets);
}

std::string dataset_source_tag(const DatasetSources& s) {
  int kinds = !s.repo_id.empty() + !s.blob_urls.empty() + !s.dataset_assets.empty();
  if (kinds > 1) return "mixed";
  if (!s.blob_urls.empty()) return "azure-blob";
  if (!s.dataset_assets.empty()) return "azureml-data-asset";
  return "huggingface";
}

void check_fetch_sources(const DatasetSources& s, const FetchOptions& o) {
  validate_dataset_sources(s);
  if (s.empty()) throw util::InputError("no dataset source: pass --dataset.repo_id, --blob-url or --dataset-asset");
  if (!s.repo_id.empty()) check_hub_options(o.hub);
  if (!s.dataset_assets.empty() && !inside_azureml_job_with_assets()) {
    const AzureMLWorkspace ws = azureml_workspace_from_env();  // the token is only fetched when used
    for (const auto& uri : s.dataset_assets) data_asset_workspace(parse_data_asset(uri), ws);
  }
}

namespace {

// A single Hub dataset is used where the hub cache holds it, and inside an Azure ML job a
// single data asset is a read-only mount: train on it in place. Nothing when the sources must
// be fetched into an output folder.
std::optional<fs::path> dataset_used_in_place(const DatasetSources& s, const FetchOptions& o) {
  const bool explicit_output = !o.output.empty();
  if (s.count() == 1 && !s.repo_id.empty() && !explicit_output) {
    fs::path root = fetch_hub_dataset(s.repo_id, o.hub);
    require_dataset(root, s.repo_id);
    return root;
  }
  if (s.count() == 1 && !s.dataset_assets.empty() && !explicit_output && inside_azureml_job_with_assets()) {
    fs::path root = mounted_data_asset_paths(1).front();
    require_dataset(root, s.dataset_assets[0]);
    return root;
  }
  return std::nullopt;
}

// An output that is already there is reused when it is this fetch's own earlier copy and still
// current, fetched again when its blob sources changed, and otherwise refused unless
// --overwrite. True when it is reused.
bool reuse_earlier_fetch(const DatasetSources& s, const FetchOptions& o, const fs::path& output) {
  if (!fs::exists(output) || (fs::is_directory(output) && fs::is_empty(output))) return false;
  const bool fetched_before = o.output.empty() && is_dataset(output);
  if (fetched_before && !o.overwrite && fetched_copy_is_current(s, output, blob_access_from_env(o.blob))) {
    util::log_info("dataset from ", dataset_source_tag(s), " already fetched: ", output.string());
    return true;
  }
  if (fetched_before && !o.overwrite)
    util::log_info("the blob sources changed since ", output.string(), " was fetched: fetching again");
  else if (!o.overwrite)
    throw util::InputError(util::cat(output.string(), " already exists; remove it, choose another --output, or pass --overwrite"));
  return false;
}

// What the downloads of one fetch share.
struct Downloads {
  BlobDownloadOptions blob;
  bool mounted = false;  // the data assets are read-only mounts of this Azure ML job
  std::vector<fs::path> mounts;
  std::vector<std::string> blob_prints;  // listing fingerprints of the blob prefixes fetched
};

Downloads prepare_downloads(const DatasetSources& s, const FetchOptions& o) {
  Downloads d;
  d.blob.access = blob_access_from_env(o.blob);
  d.blob.parallel = o.parallel;
  d.blob.progress = o.progress;
  d.blob.overwrite = true;  // an existing output was refused before any download unless it may be replaced
  d.mounted = !s.dataset_assets.empty() && inside_azureml_job_with_assets();
  if (d.mounted) d.mounts = mounted_data_asset_paths(s.dataset_assets.size());
  return d;
}

// The seed's post-fetch check, and (for a default output, which a later fetch may reuse) the
// blob fingerprints that tell whether it is still current.
void finish_output(const fs::path& output, const FetchOptions& o, const Downloads& d) {
  require_dataset(output, output.string());
  if (o.output.empty()) write_fetch_manifest(output, d.blob_prints);
}

// One remote source downloads straight into the output (the download stages itself).
void fetch_single_source(const DatasetSources& s, const FetchOptions& o, const fs::path& output, Downloads& d) {
  if (!s.blob_urls.empty()) {
    d.blob_prints.push_back(download_blob_prefix(s.blob_urls[0], output, d.blob).fingerprint);
  } else if (!s.dataset_assets.empty() && !d.mounted) {
    download_data_asset(s.dataset_assets[0], output, azureml_workspace_from_env(), d.blob);
  } else {
    fs::path from = !s.repo_id.empty() ? fetch_hub_dataset(s.repo_id, o.hub) : d.mounts[0];
    require_dataset(from, !s.repo_id.empty() ? s.repo_id : s.dataset_assets[0]);
    copy_dataset(from, output, true);
  }
  finish_output(output, o, d);
}

// Every source as one dataset: the Hub cache and mounts in place, downloads under `scratch`.
std::vector<fs::path> fetch_parts(const DatasetSources& s, const FetchOptions& o, const fs::path& scratch, Downloads& d) {
  std::vector<fs::path> parts;
  if (!s.repo_id.empty()) parts.push_back(fetch_hub_dataset(s.repo_id, o.hub));
  for (size_t i = 0; i < s.blob_urls.size(); ++i) {
    parts.push_back(scratch / util::cat("blob_", i));
    d.blob_prints.push_back(download_blob_prefix(s.blob_urls[i], parts.back(), d.blob).fingerprint);
  }
  for (size_t i = 0; i < s.dataset_assets.size(); ++i) {
    if (d.mounted) {
      parts.push_back(d.mounts[i]);
      continue;
    }
    parts.push_back(scratch / util::cat("asset_", i));
    download_data_asset(s.dataset_assets[i], parts.back(), azureml_workspace_from_env(), d.blob);
  }
  return parts;
}

void fetch_and_merge_sources(const DatasetSources& s, const FetchOptions& o, const fs::path& output, Downloads& d) {
  PartsDir scratch(output);
  std::vector<fs::path> parts = fetch_parts(s, o, scratch.path, d);
  for (size_t i = 0; i < parts.size(); ++i) require_dataset(parts[i], util::cat("dataset source ", i + 1, " (", parts[i].string(), ")"));
  util::log_info("merging ", parts.size(), " datasets into ", output.string());
  dataset::MergeOptions mo;
  mo.overwrite = true;
  dataset::merge_datasets(parts, output, mo);
  finish_output(output, o, d);
}

}  // namespace

FetchResult fetch_dataset_sources(const DatasetSources& s, const FetchOptions& o) {
  check_fetch_sources(s, o);
  FetchResult result;
  result.parts = s.count();
  if (auto root = dataset_used_in_place(s, o)) {
    result.root = *root;
    return result;
  }
  const fs::path output = o.output.empty() ? default_output(s) : o.output;
  result.root = output;
  if (reuse_earlier_fetch(s, o, output)) {
    result.reused = true;
    return result;
  }
  fs::create_directories(output.parent_path().empty() ? fs::path(".") : output.parent_path());
  Downloads downloads = prepare_downloads(s, o);
  if (s.count() == 1) {
    fetch_single_source(s, o, output, downloads);
    return result;
  }
  fetch_and_merge_sources(s, o, output, downloads);
  result.merged = true;
  return result;
}

}  // namespace robotrain::storage
