#include "cli/remote_model.h"

#include "storage/azureml_data.h"
#include "storage/blob_download.h"
#include "util/error.h"

namespace robotrain::cli {

std::filesystem::path download_remote_model(const track::ModelSource& source, const std::filesystem::path& download_dir) {
  storage::BlobDownloadOptions options;
  options.access = storage::blob_access_from_env();
  options.overwrite = true;  // a scratch directory of this command
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

}  // namespace robotrain::cli
