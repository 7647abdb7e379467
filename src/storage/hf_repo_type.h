#pragma once
// The two kinds of Hugging Face Hub repository robotrain reads: LeRobot datasets and model
// repositories holding a policy's pretrained_model/ files. They differ only in their URLs,
// their cache folder and the words errors use.
#include <string>

namespace robotrain::storage {

enum class HubRepoType { Dataset, Model };

// "datasets" / "models": the API path segment and the cache folder prefix.
inline std::string repo_type_plural(HubRepoType type) { return type == HubRepoType::Model ? "models" : "datasets"; }
inline std::string repo_type_word(HubRepoType type) { return type == HubRepoType::Model ? "model" : "dataset"; }
// The flag that picks a revision of this kind of repository, for error hints.
inline std::string revision_flag(HubRepoType type) {
  return type == HubRepoType::Model ? "--policy.revision" : "--dataset.revision";
}

}  // namespace robotrain::storage
