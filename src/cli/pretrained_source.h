#pragma once
// --policy.path / --policy-repo-id: the pretrained policy a run fine-tunes from or `eval`
// evaluates. LeRobot's rule: an existing local path is used as it is (a pretrained_model/
// directory, a checkpoint or a run); anything else names a Hugging Face Hub model repository,
// owner/name or owner/name@revision, downloaded into the hub cache first (HF_ENDPOINT,
// HF_HOME / HF_HUB_CACHE, HF_TOKEN and HF_HUB_OFFLINE as huggingface_hub reads them).
#include <filesystem>
#include <map>
#include <string>

namespace robotrain::cli {

// `train`, `submit` and `pipeline` describe --policy-repo-id alike: it is where the weights
// come from (the seed system documents it so), never where anything is pushed.
inline constexpr const char* kPolicyRepoIdHelp =
    "Pre-trained policy to fine-tune: a Hugging Face Hub model OWNER/NAME[@REV], downloaded to the hub cache; "
    "the run starts from its config and weights (not its optimizer state or step), as with --policy.path; "
    "robotrain pushes nothing to the Hub";

struct PretrainedRef {
  std::string given;              // the value as passed
  std::string flag;               // the option that gave it, for messages
  std::filesystem::path local;    // a local path, when it is one
  std::string repo_id, revision;  // a Hub model (revision "" = main)
  bool is_hub() const { return !repo_id.empty(); }
  // What LeRobot records as the policy's pretrained_path: the path as given, or the repo id.
  std::string pretrained_path() const { return is_hub() ? repo_id : given; }
};

// No network. InputError (exit 2) for a value that is neither an existing path nor a
// well-formed repo id, or a revision given both as @rev and as `revision` (--policy.revision).
// `hub_only`: a local path is refused (--policy-repo-id names a Hub repository).
PretrainedRef parse_pretrained_ref(const std::string& value, const std::string& revision, const std::string& flag,
                                   bool hub_only = false);

struct PretrainedSource {
  PretrainedRef ref;
  std::filesystem::path dir;  // local: as given; Hub: the snapshot holding config.json + model.safetensors
  std::string commit;         // Hub: the commit downloaded
  // Where the weights came from, as MLflow run tags (warm_start.source, warm_start.hf_*).
  std::map<std::string, std::string> tags() const;
};

// A Hub model is downloaded (RuntimeError, exit 1, when the repository or its revision is not
// found, or it holds no config.json / model.safetensors); a local path is returned as it is.
PretrainedSource fetch_pretrained(const PretrainedRef& ref);

}  // namespace robotrain::cli
