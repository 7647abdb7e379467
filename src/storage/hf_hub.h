#pragma once
// `--dataset.repo_id owner/name`: a LeRobot dataset from the Hugging Face Hub into the
// standard hub cache, returning its snapshot directory (a dataset root). Revision choice as
// LeRobot, meta/ first, then only the data and video files the wanted episodes need.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dataset/lerobot_dataset.h"

namespace robotrain::storage {

struct HubOptions {
  // "" = LeRobot's choice: exact "v3.0" tag, else highest compatible tag (same major,
  // minor <= target), else a compatibility error; otherwise a branch, tag or commit.
  std::string revision;
  std::string endpoint;             // "" = $HF_ENDPOINT or https://huggingface.co
  std::string token;                // "" = $HF_TOKEN or $HF_HOME/token (none is fine for public repos)
  std::filesystem::path cache_dir;  // "" = $HF_HUB_CACHE or $HF_HOME/hub
  std::optional<bool> offline;      // unset = $HF_HUB_OFFLINE
  std::vector<int64_t> episodes;    // empty = all; otherwise only the files those episodes need
  int parallel = 8;
  bool progress = true;
};

// InputError for ids that are not "owner/name" as the Hub accepts them.
void validate_repo_id(const std::string& repo_id);

// The options' static checks (episode indices, revision name): InputError, no network.
void check_hub_options(const HubOptions& options);

// Returns <cache>/datasets--owner--name/snapshots/<commit>.
std::filesystem::path fetch_hub_dataset(const std::string& repo_id, const HubOptions& options);

// The options with the environment applied (endpoint, token, cache dir, offline).
HubOptions resolve_hub_options(const HubOptions& options);

// Repository paths (relative to the root) of the data and video files `episodes` need;
// InputError naming an episode the dataset does not have.
std::vector<std::string> files_for_episodes(const dataset::DatasetMeta& meta, const std::vector<int64_t>& episodes);

}  // namespace robotrain::storage
