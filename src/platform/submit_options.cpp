#include "platform/submit_options.h"

#include <regex>
#include <sstream>

#include "platform/source_checks.h"
#include "storage/hf_hub.h"
#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::platform {

using util::InputError;

Platform parse_platform(const std::string& name) {
  if (name == "azureml") return Platform::AzureML;
  if (name == "osmo") return Platform::Osmo;
  if (name == "local") return Platform::Local;
  throw InputError("unknown platform '" + name + "': use azureml, osmo or local");
}

const char* platform_name(Platform p) {
  switch (p) {
    case Platform::AzureML: return "azureml";
    case Platform::Osmo: return "osmo";
    default: return "local";
  }
}

std::string default_image() { return "ghcr.io/robotrain/robotrain:0.1.0-cuda"; }

std::string environment_version_from_image(const std::string& image) {
  std::string version;
  auto at = image.find("@sha256:");
  if (at != std::string::npos) {
    version = "sha256-" + image.substr(at + 8, 12);
  } else {
    auto slash = image.rfind('/');
    auto colon = image.rfind(':');
    version = (colon != std::string::npos && (slash == std::string::npos || colon > slash)) ? image.substr(colon + 1) : "latest";
  }
  // Azure ML versions: letters, digits, '-', '_', '.'
  for (char& c : version) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '-';
  }
  return version;
}

bool SubmitOptions::needs_hub_token() const { return uses_huggingface() || !policy_repo_id.empty(); }

bool SubmitOptions::uses_huggingface() const {
  return blob_urls.empty() && dataset_assets.empty() && dataset_root_path.empty() && !dataset_repo_id.empty() &&
         !(platform == Platform::Local && looks_like_local_path(dataset_repo_id));
}

std::string SubmitOptions::dataset_source_tag() const {
  if (!blob_urls.empty() && !dataset_assets.empty()) return "mixed";
  if (!blob_urls.empty()) return "azure-blob";
  if (!dataset_assets.empty()) return "azureml-data-asset";
  if (!dataset_root_path.empty() || (platform == Platform::Local && looks_like_local_path(dataset_repo_id))) return "local";
  return "huggingface";
}

std::string SubmitOptions::effective_output_dir() const {
  if (!output_dir.empty()) return output_dir;
  if (platform == Platform::Local) return "outputs/train/" + job_name;
  return "/workspace/outputs/train";
}

std::string SubmitOptions::effective_image() const { return image.empty() ? default_image() : image; }

std::string SubmitOptions::effective_environment_version() const {
  return environment_version.empty() ? environment_version_from_image(effective_image()) : environment_version;
}

std::string SubmitOptions::effective_experiment_name() const {
  return experiment_name.empty() ? "lerobot-" + policy_type + "-" + job_name : experiment_name;
}

bool looks_like_local_path(const std::string& s) {
  return !s.empty() && (s[0] == '/' || s[0] == '.' || s[0] == '~' || util::starts_with(s, "file://"));
}

namespace {

void check_dataset_sources(SubmitOptions& o) {
  bool has_remote = !o.blob_urls.empty() || !o.dataset_assets.empty();
  if (o.platform == Platform::Osmo) {
    if (!o.dataset_repo_id.empty() && !o.blob_urls.empty())
      throw InputError("--dataset-repo-id and --blob-url are mutually exclusive on OSMO: give one source kind");
    if (util::starts_with(util::to_lower(o.dataset_repo_id), "azureml:"))
      throw InputError("--dataset-repo-id '" + o.dataset_repo_id +
                       "' is an Azure ML data asset, not a HuggingFace repository: resolve the asset to a direct --blob-url for OSMO");
    if (!o.dataset_assets.empty())
      throw InputError("--dataset-asset is only available on Azure ML: use --blob-url on OSMO");
  }
  if (o.platform != Platform::Local && !o.dataset_root_path.empty())
    throw InputError("--dataset.root names a local directory, which a " + std::string(platform_name(o.platform)) +
                     " job cannot see: upload it and use --blob-url or --dataset-asset");
  if (has_remote) {
    if (o.dataset_repo_id.empty()) o.dataset_repo_id = "dataset";
  } else if (o.dataset_repo_id.empty() && o.dataset_root_path.empty()) {
    throw InputError(
        "no dataset source specified: use --dataset-repo-id (-d) for a HuggingFace Hub dataset"
        " (or a local path on the local platform), or one or more --blob-url / --dataset-asset sources");
  }
}

void check_choices(const SubmitOptions& o) {
  if (o.policy_type != "act" && o.policy_type != "diffusion")
    throw InputError("unsupported policy type: " + o.policy_type + " (use: act, diffusion)");
  check_mixed_precision(o.mixed_precision);
  if (o.num_gpus < 1) throw InputError("--num-gpus must be a positive integer (got '" + std::to_string(o.num_gpus) + "')");
  if (o.training_steps < 1) throw InputError("--training-steps must be a positive integer");
  if (o.batch_size < 1) throw InputError("--batch-size must be a positive integer");
  if (o.save_freq < 1) throw InputError("--save-freq must be a positive integer");
  if (o.eval_freq && *o.eval_freq < 1) throw InputError("--eval-freq must be a positive integer");
  if (o.log_freq && *o.log_freq < 1) throw InputError("--log-freq must be a positive integer");
  if (o.learning_rate && !(*o.learning_rate > 0)) throw InputError("--learning-rate must be positive");
  if (o.lr_warmup_steps && *o.lr_warmup_steps < 0) throw InputError("--lr-warmup-steps must be >= 0");
  if (o.val_split < 0 || o.val_split >= 1) throw InputError("--val-split must be in [0, 1) (got " + std::to_string(o.val_split) + ")");
  static const std::regex job_name_re("^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$");
  if (!std::regex_match(o.job_name, job_name_re))
    throw InputError("--job-name '" + o.job_name + "': use letters, digits, '.', '_' and '-' (start with a letter or digit, at most 255 characters)");
}

// --policy-repo-id OWNER/NAME[@REV]: the Hub model the job fine-tunes from (the job downloads it).
void check_policy_repo_id(const std::string& value) {
  auto at = value.find('@');
  if (at != std::string::npos && at + 1 == value.size())
    throw InputError("--policy-repo-id '" + value + "': empty revision after '@' (OWNER/NAME@REVISION)");
  storage::validate_repo_id(value.substr(0, at), "--policy-repo-id");
}

void check_platform_specific(const SubmitOptions& o) {
  if (o.platform == Platform::Osmo && !o.init_from_policy_model.empty())
    throw InputError("--init-from-policy-model is only available on Azure ML and local runs (OSMO jobs cannot mount Azure ML models)");
  if (o.platform == Platform::AzureML) {
    if (o.subscription_id.empty())
      throw InputError("AZURE_SUBSCRIPTION_ID required: pass --subscription-id or set it in the environment or .env");
    if (o.resource_group.empty())
      throw InputError("AZURE_RESOURCE_GROUP required: pass --resource-group or set it in the environment or .env");
    if (o.workspace_name.empty())
      throw InputError("AZUREML_WORKSPACE_NAME required: pass --workspace-name or set it in the environment or .env");
  }
}

}  // namespace

void validate_submit_options(SubmitOptions& o) {
  check_dataset_sources(o);
  if (o.uses_huggingface()) check_hub_repo_id(o.dataset_repo_id);
  check_choices(o);
  if (!o.init_from_policy_model.empty() && !o.policy_repo_id.empty())
    throw InputError("--init-from-policy-model and --policy-repo-id are mutually exclusive: pick one warm-start source");
  if (!o.policy_repo_id.empty()) check_policy_repo_id(o.policy_repo_id);
  if (!o.register_checkpoint.empty()) check_register_name(o.register_checkpoint);
  check_platform_specific(o);
  if (o.platform == Platform::AzureML && o.compute.empty())
    throw InputError("--compute is required on Azure ML (or set AZUREML_COMPUTE in the environment or .env)");
  if (!o.dataset_assets.empty()) check_dataset_assets(o.dataset_assets);
  if (!o.init_from_policy_model.empty()) check_warm_start_uri(o.init_from_policy_model);
  if (!o.blob_urls.empty()) check_blob_urls(o.blob_urls);
}

void resolve_azure_context(SubmitOptions& o, const std::map<std::string, std::string>& dotenv) {
  auto fill = [&](std::string& field, const char* var) {
    if (!field.empty()) return;
    if (auto v = util::get_env(var); v && !v->empty()) {
      field = *v;
      return;
    }
    if (auto it = dotenv.find(var); it != dotenv.end()) field = it->second;
  };
  fill(o.subscription_id, "AZURE_SUBSCRIPTION_ID");
  fill(o.resource_group, "AZURE_RESOURCE_GROUP");
  fill(o.workspace_name, "AZUREML_WORKSPACE_NAME");
  fill(o.compute, "AZUREML_COMPUTE");
}

std::string config_preview_text(const SubmitOptions& o) {
  std::ostringstream s;
  auto row = [&](const std::string& k, const std::string& v) { s << "  " << k << std::string(k.size() < 18 ? 18 - k.size() : 1, ' ') << v << "\n"; };
  auto or_none = [](const std::string& v) { return v.empty() ? std::string("<none>") : v; };
  s << "Configuration Preview (" << platform_name(o.platform) << ")\n";
  row("Dataset", o.dataset_root_path.empty() ? o.dataset_repo_id : o.dataset_root_path);
  row("Data Source", o.dataset_source_tag());
  if (!o.blob_urls.empty()) row("Blob URLs", std::to_string(o.blob_urls.size()) + " dataset(s)");
  if (!o.dataset_assets.empty()) row("Data Assets", std::to_string(o.dataset_assets.size()) + " asset(s) (ro_mount)");
  row("Policy Type", o.policy_type);
  row("Job Name", o.job_name);
  if (o.platform != Platform::Local) row("Image", o.effective_image());
  row("Output Dir", o.effective_output_dir());
  row("Training Steps", std::to_string(o.training_steps));
  row("Batch Size", std::to_string(o.batch_size));
  row("Save Freq", std::to_string(o.save_freq));
  row("Num GPUs", std::to_string(o.num_gpus));
  row("Mixed Precision", o.mixed_precision);
  row("Register Model", or_none(o.register_checkpoint));
  row("Init From Model", or_none(o.init_from_policy_model));
  row("Fine-tune From", o.policy_repo_id.empty() ? "<none>" : "hf://" + o.policy_repo_id);
  row("Experiment", o.effective_experiment_name());
  if (o.platform == Platform::AzureML) {
    row("Subscription", o.subscription_id);
    row("Resource Group", o.resource_group);
    row("Workspace", o.workspace_name);
    row("Compute", or_none(o.compute));
    row("Instance Type", o.instance_type);
    row("Environment", o.environment_name + ":" + o.effective_environment_version());
  }
  if (o.platform == Platform::Osmo) row("OSMO Platform", o.osmo_platform);
  return s.str();
}

void check_mixed_precision(const std::string& value) {
  if (value != "no" && value != "fp16" && value != "bf16")
    throw InputError("--mixed-precision must be one of: no, fp16, bf16 (got '" + value + "')");
}

}  // namespace robotrain::platform
