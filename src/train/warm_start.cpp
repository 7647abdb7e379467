#include "train/warm_start.h"

#include "storage/azureml_data.h"
#include "storage/blob_download.h"
#include "util/azure_credential.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

namespace robotrain::train {

namespace fs = std::filesystem;

namespace {

// Registered models and blob folders that live in Azure, downloaded through the storage area
// (track's resolution, which must not depend on storage, calls back here): azureml:NAME:VERSION
// and azureml://.../models/NAME/versions/V through the version's modelUri (Azure ML REST),
// https blob folders directly, into download_dir/model.
fs::path download_remote_model(const track::ModelSource& source, const fs::path& download_dir) {
  storage::BlobDownloadOptions options;
  options.access = storage::blob_access_from_env();
  options.overwrite = true;  // a scratch directory of this run
  const auto dest = download_dir / "model";
  switch (source.kind) {
    case track::ModelSourceKind::HttpsFolder:
      storage::download_blob_prefix(source.uri, dest, options);
      return dest;
    case track::ModelSourceKind::AzureMlName:
    case track::ModelSourceKind::AzureMlUri: {
      auto workspace = storage::azureml_workspace_from_env();
      storage::download_blob_location(storage::resolve_model_location(source.name, source.version, workspace), dest, options);
      return dest;
    }
    default:
      throw util::RuntimeError("internal: " + source.uri + " is not a remote model");
  }
}

}  // namespace

WarmStart::WarmStart(const track::ModelSource& source, const std::string& tracking_uri)
    : scratch_(std::make_unique<util::TempDir>("robotrain-warm-start")), tags_(track::warm_start_tags(source)) {
  track::ResolveOptions ro;
  ro.tracking_uri = tracking_uri;
  ro.access_token = util::azure_token_provider(util::kManagementResource);
  ro.download_dir = scratch_->path();
  ro.remote = download_remote_model;
  dir_ = track::resolve_warm_start(source, ro);
  util::log_info("warm start from ", source.uri, " (", dir_.string(), ")");
}

WarmStart::~WarmStart() = default;

}  // namespace robotrain::train
