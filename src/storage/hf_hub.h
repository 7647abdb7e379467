#pragma once
// `--dataset.repo_id owner/name`: a LeRobot dataset from the Hugging Face Hub into the
// standard hub cache, returning its snapshot directory (a dataset root). Revision choice as
// LeRobot, meta/ first, then only the data and video files the wanted episodes need.
// `--policy.path owner/name`: a policy's pretrained_model/ files from a Hub model repository,
// the same way (huggingface_hub's models--owner--name cache folder).
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
  // Models: "" = main.
  std::string revision;
  std::string endpoint;             // "" = $HF_ENDPOINT or https://huggingface.co
  std::string token;                // "" = $HF_TOKEN or $HF_HOME/token (none is fine for public repos)
  std::filesystem::path cache_dir;  // "" = $HF_HUB_CACHE or $HF_HOME/hub
  std::optional<bool> offline;      // unset = $HF_HUB_OFFLINE
  std::vector<int64_t> episodes;    // empty = all; otherwise only the files those episodes need
  int parallel = 8;
  bool progress = true;
};

// InputError for ids that are not "owner/name" as the Hub accepts them; `flag` names the
// option in the message.
void validate_repo_id(const std::string& repo_id, const std::string& flag = "--dataset.repo_id");

// The options' static checks (episode indices, revision name): InputError, no network.
void check_hub_options(const HubOptions& options);

// Returns <cache>/datasets--owner--name/snapshots/<commit>.
std::filesystem::path fetch_hub_dataset(const std::string& repo_id, const HubOptions& options);

struct HubModelSnapshot {
  std::filesystem::path dir;  // <cache>/models--owner--name/snapshots/<commit>
  std::string revision;       // what was asked for ("main" by default)
  std::string commit;
};

// The top-level *.json and *.safetensors files of a model repository (config.json,
// model.safetensors, the processor files, train_config.json): what a pretrained_model/
// directory holds, nothing else (no README, no images). RuntimeError when the repository
// lacks config.json or model.safetensors; offline (HF_HUB_OFFLINE) the cached snapshot of the
// revision serves, as it does when the Hub is unreachable.
HubModelSnapshot fetch_hub_model(const std::string& repo_id, const HubOptions& options,
                                 const std::string& flag = "--policy.path");

// The options with the environment applied (endpoint, token, cache dir, offline).
HubOptions resolve_hub_options(const HubOptions& options);

// Repository paths (relative to the root) of the data and video files `episodes` need;
// InputError naming an episode the dataset does not have.
std::vector<std::string> files_for_episodes(const dataset::DatasetMeta& meta, const std::vector<int64_t>& episodes);

}  // namespace robotrain::storage
