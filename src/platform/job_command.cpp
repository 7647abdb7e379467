#include "platform/job_command.h"

#include "util/json.h"
#include "util/strings.h"

namespace robotrain::platform {

namespace {

std::string format_double(double v) {
  std::string s = util::Json(v).dump();
  return s;
}

void add_dataset_args(const SubmitOptions& o, JobCommand& c) {
  auto& a = c.argv;
  if (!o.dataset_root_path.empty()) {
    a.insert(a.end(), {"--dataset.root", o.dataset_root_path});
  } else if (o.blob_urls.empty() && o.dataset_assets.empty()) {
    if (o.platform == Platform::Local && looks_like_local_path(o.dataset_repo_id))
      a.insert(a.end(), {"--dataset.root", o.dataset_repo_id});
    else
      a.insert(a.end(), {"--dataset.repo_id", o.dataset_repo_id});
  }
  for (auto& u : o.blob_urls) a.insert(a.end(), {"--blob-url", u});
  for (auto& d : o.dataset_assets) a.insert(a.end(), {"--dataset-asset", d});
  if (!o.blob_urls.empty() || !o.dataset_assets.empty()) a.insert(a.end(), {"--dataset-download-dir", o.dataset_root});
}

void add_env(const SubmitOptions& o, JobCommand& c) {
  auto& e = c.env;
  e["DATASET_REPO_ID"] = o.dataset_root_path.empty() ? o.dataset_repo_id : o.dataset_root_path;
  e["POLICY_TYPE"] = o.policy_type;
  e["JOB_NAME"] = o.job_name;
  e["OUTPUT_DIR"] = o.effective_output_dir();
  e["TRAINING_STEPS"] = std::to_string(o.training_steps);
  e["BATCH_SIZE"] = std::to_string(o.batch_size);
  e["SAVE_FREQ"] = std::to_string(o.save_freq);
  if (o.eval_freq) e["EVAL_FREQ"] = std::to_string(*o.eval_freq);
  if (o.log_freq) e["LOG_FREQ"] = std::to_string(*o.log_freq);
  if (o.learning_rate) e["LEARNING_RATE"] = format_double(*o.learning_rate);
  if (o.lr_warmup_steps) e["LR_WARMUP_STEPS"] = std::to_string(*o.lr_warmup_steps);
  e["VAL_SPLIT"] = o.val_split_enabled ? format_double(o.val_split) : "0";
  e["NUM_GPUS"] = std::to_string(o.num_gpus);
  e["MIXED_PRECISION"] = o.mixed_precision;
  e["SYSTEM_METRICS"] = o.system_metrics ? "true" : "false";
  e["EXPERIMENT_NAME"] = o.effective_experiment_name();
  if (!o.register_checkpoint.empty()) e["REGISTER_CHECKPOINT"] = o.register_checkpoint;
  if (!o.policy_repo_id.empty()) e["POLICY_REPO_ID"] = o.policy_repo_id;
  if (!o.init_from_policy_model.empty()) e["INIT_FROM_POLICY_MODEL_SOURCE"] = o.init_from_policy_model;
  if (!o.blob_urls.empty()) {
    e["BLOB_URLS"] = util::Json(o.blob_urls).dump();
    e["DATASET_ROOT"] = o.dataset_root;
  }
  if (!o.dataset_assets.empty()) {
    e["DATASET_ASSETS"] = util::Json(o.dataset_assets).dump();
    e["DATASET_ASSET_COUNT"] = std::to_string(o.dataset_assets.size());
  }
  if (o.platform == Platform::AzureML) {
    e["AZURE_SUBSCRIPTION_ID"] = o.subscription_id;
    e["AZURE_RESOURCE_GROUP"] = o.resource_group;
    e["AZUREML_WORKSPACE_NAME"] = o.workspace_name;
  }
}

}  // namespace

JobCommand build_train_command(const SubmitOptions& o, const std::string& exe) {
  JobCommand c;
  auto& a = c.argv;
  a = {exe, "train", "--policy.type", o.policy_type};
  add_dataset_args(o, c);
  a.insert(a.end(), {"--steps", std::to_string(o.training_steps), "--batch_size", std::to_string(o.batch_size),
                     "--save_freq", std::to_string(o.save_freq)});
  if (o.eval_freq) a.insert(a.end(), {"--eval_freq", std::to_string(*o.eval_freq)});
  if (o.log_freq) a.insert(a.end(), {"--log_freq", std::to_string(*o.log_freq)});
  if (o.learning_rate) a.insert(a.end(), {"--policy.optimizer_lr", format_double(*o.learning_rate)});
  if (o.lr_warmup_steps && o.policy_type == "diffusion")
    a.insert(a.end(), {"--policy.scheduler_warmup_steps", std::to_string(*o.lr_warmup_steps)});
  a.insert(a.end(), {"--val-split", o.val_split_enabled ? format_double(o.val_split) : "0"});
  a.insert(a.end(), {"--output_dir", o.effective_output_dir(), "--job_name", o.job_name});
  a.insert(a.end(), {"--experiment-name", o.effective_experiment_name()});
  // Azure ML's `distribution: pytorch` starts one process per GPU with the torchrun
  // environment itself; elsewhere robotrain launches its own workers.
  if (o.num_gpus > 1 && o.platform != Platform::AzureML) a.insert(a.end(), {"--nproc-per-node", std::to_string(o.num_gpus)});
  if (o.mixed_precision != "no") a.insert(a.end(), {"--mixed-precision", o.mixed_precision});
  if (!o.system_metrics) a.insert(a.end(), {"--system-metrics", "false"});
  if (!o.policy_repo_id.empty()) a.insert(a.end(), {"--policy-repo-id", o.policy_repo_id});
  if (!o.init_from_policy_model.empty()) a.insert(a.end(), {"--init-from-policy-model", o.init_from_policy_model});
  if (!o.register_checkpoint.empty()) a.insert(a.end(), {"--register-checkpoint", o.register_checkpoint});
  if (o.platform == Platform::Local && !o.tracking_uri.empty()) a.insert(a.end(), {"--tracking-uri", o.tracking_uri});
  a.insert(a.end(), o.extra_train_args.begin(), o.extra_train_args.end());
  add_env(o, c);
  return c;
}

std::string shell_quote(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=@,+%") == std::string::npos)
    return w;
  return "'" + util::replace_all(w, "'", "'\\''") + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::vector<std::string> q;
  for (auto& w : argv) q.push_back(shell_quote(w));
  return util::join(q, " ");
}

}  // namespace robotrain::platform
