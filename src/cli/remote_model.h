#pragma once
// Registered models and blob folders that live in Azure: downloaded through the storage area
// so that track's warm-start resolution (which must not depend on storage) can use them.
#include <filesystem>

#include "track/model_uri.h"

namespace robotrain::cli {

// track::ResolveOptions::remote: azureml:NAME:VERSION / azureml://…/models/NAME/versions/V
// (Azure ML REST: the version's modelUri) and https blob folders, into download_dir/model.
std::filesystem::path download_remote_model(const track::ModelSource& source, const std::filesystem::path& download_dir);

}  // namespace robotrain::cli
