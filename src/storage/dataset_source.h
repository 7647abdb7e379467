#pragma once
// Where a training dataset comes from: the Hugging Face Hub, Azure Blob prefixes, Azure ML data
// assets — or several of them. Every source ends as a local LeRobot dataset directory; several
// are merged into one (the seed system's rule). `robotrain dataset fetch` and `robotrain train`
// share this path, so what one fetches is what the other trains on.
#include <filesystem>
#include <string>
#include <vector>

#include "storage/blob_client.h"
#include "storage/hf_hub.h"

namespace robotrain::storage {

struct DatasetSources {
  std::string repo_id;                      // Hugging Face Hub (HubOptions::revision picks the revision)
  std::vector<std::string> blob_urls;       // https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX
  std::vector<std::string> dataset_assets;  // azureml:NAME:VERSION or azureml://…/data/NAME/versions/V

  size_t count() const { return (repo_id.empty() ? 0 : 1) + blob_urls.size() + dataset_assets.size(); }
  bool empty() const { return count() == 0; }
};

// Syntax only (no network, no files): the Hub id form and the seed's blob-URL and data-asset
// rules. util::InputError naming the flag.
void validate_dataset_sources(const DatasetSources& sources);

// The seed's dataset.source tag: huggingface | azure-blob | azureml-data-asset | mixed.
std::string dataset_source_tag(const DatasetSources& sources);

struct FetchOptions {
  // Final dataset directory. Empty: a Hub-only source is used in place from the hub cache;
  // anything else goes under $ROBOTRAIN_HOME/datasets/ (default ~/.robotrain/datasets/), named
  // after the sources, and is reused when a previous fetch completed it and its blob prefixes
  // still list the same blobs (names, sizes, ETags; a fetch.json beside it records them).
  std::filesystem::path output;
  bool overwrite = false;
  BlobAccess blob;  // unset parts come from the environment (blob_access_from_env)
  HubOptions hub;
  int parallel = 8;
  bool progress = true;
};

struct FetchResult {
  std::filesystem::path root;  // the LeRobot dataset to train on
  size_t parts = 0;            // datasets fetched
  bool merged = false;         // several parts merged into root
  bool reused = false;         // root was already complete from an earlier fetch
};

// Every static check of a fetch, before any network access (util::InputError, exit 2): the
// sources' syntax, the Hub options (revision name, episodes) and, for data assets that are
// not mounted, that an Azure ML workspace is named. A source that cannot work never waits
// for another source's download (or retries) first.
void check_fetch_sources(const DatasetSources& sources, const FetchOptions& options);

// Downloads (or finds mounted) every source, merges when there are several, and checks that
// the result is a dataset (meta/info.json with total_episodes, total_frames, features).
// check_fetch_sources runs first.
FetchResult fetch_dataset_sources(const DatasetSources& sources, const FetchOptions& options);

}  // namespace robotrain::storage
