#include "platform/azureml_job.h"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <ctime>

#include "platform/job_command.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/http.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::platform {

namespace {

constexpr const char* kApiVersion = "2025-09-01";
constexpr const char* kCheckpointsOutput = "${{outputs.checkpoints}}";

std::string instance_type_or_empty(const SubmitOptions& o) { return o.instance_type; }

std::string compute_ref(const SubmitOptions& o) {
  return util::starts_with(o.compute, "azureml:") ? o.compute : "azureml:" + o.compute;
}

std::string compute_name(const SubmitOptions& o) {
  return util::starts_with(o.compute, "azureml:") ? o.compute.substr(8) : o.compute;
}

std::string environment_ref(const SubmitOptions& o) {
  return "azureml:" + o.environment_name + ":" + o.effective_environment_version();
}

std::map<std::string, std::string> job_tags(const SubmitOptions& o) {
  return {{"framework", "lerobot"},
          {"trainer", "robotrain"},
          {"policy_type", o.policy_type},
          {"job_name", o.job_name},
          {"dataset_source", o.dataset_source_tag()}};
}

}  // namespace

std::string azureml_job_command(const SubmitOptions& o) {
  auto cmd = build_train_command(o, "robotrain");
  std::string out = shell_quote(o.effective_output_dir() + "/checkpoints");
  // Every worker runs this command; only rank 0 writes checkpoints, so only it copies them.
  return shell_join(cmd.argv) + "; rc=$?; if [ \"${RANK:-0}\" = 0 ]; then mkdir -p " + kCheckpointsOutput + " && cp -a " + out +
         "/. " + kCheckpointsOutput + "/ 2>/dev/null; fi; exit $rc";
}

std::string render_azureml_job_yaml(const SubmitOptions& o) {
  auto cmd = build_train_command(o, "robotrain");
  AzureMLJobParts parts;
  parts.display_name = o.display_name.empty() ? o.job_name : o.display_name;
  parts.description = "robotrain " + o.policy_type + " training (LeRobot-compatible checkpoints, MLflow tracking)";
  parts.command = azureml_job_command(o);
  parts.env = cmd.env;
  if (!o.init_from_policy_model.empty()) parts.inputs.push_back({"init_from_policy_model", "custom_model", "download", o.init_from_policy_model});
  for (size_t i = 0; i < o.dataset_assets.size(); ++i)
    parts.inputs.push_back({"dataset_asset_" + std::to_string(i), "uri_folder", "ro_mount", o.dataset_assets[i]});
  parts.outputs = {"checkpoints"};
  parts.process_count = o.num_gpus;
  return render_azureml_command_job_yaml(o, parts);
}

std::string render_azureml_command_job_yaml(const SubmitOptions& o, const AzureMLJobParts& parts) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "$schema" << YAML::Value << "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json";
  y << YAML::Key << "type" << YAML::Value << "command";
  y << YAML::Key << "display_name" << YAML::Value << parts.display_name;
  y << YAML::Key << "experiment_name" << YAML::Value << o.effective_experiment_name();
  y << YAML::Key << "description" << YAML::Value << parts.description;
  y << YAML::Key << "tags" << YAML::Value << YAML::BeginMap;
  for (auto& [k, v] : job_tags(o)) y << YAML::Key << k << YAML::Value << v;
  y << YAML::EndMap;
  y << YAML::Key << "command" << YAML::Value << parts.command;
  y << YAML::Key << "environment" << YAML::Value << environment_ref(o);
  y << YAML::Key << "compute" << YAML::Value << compute_ref(o);
  y << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "instance_count" << YAML::Value << 1;
  if (!instance_type_or_empty(o).empty()) y << YAML::Key << "instance_type" << YAML::Value << o.instance_type;
  y << YAML::Key << "shm_size" << YAML::Value << "16g";
  y << YAML::EndMap;
  y << YAML::Key << "distribution" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "type" << YAML::Value << "pytorch";
  y << YAML::Key << "process_count_per_instance" << YAML::Value << parts.process_count;
  y << YAML::EndMap;
  y << YAML::Key << "identity" << YAML::Value << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "managed"
    << YAML::EndMap;
  y << YAML::Key << "environment_variables" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "AZURE_AUTHORITY_HOST" << YAML::Value << "https://login.microsoftonline.com";
  for (auto& [k, v] : parts.env) y << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  y << YAML::EndMap;
  if (!parts.inputs.empty()) {
    y << YAML::Key << "inputs" << YAML::Value << YAML::BeginMap;
    for (auto& in : parts.inputs) {
      y << YAML::Key << in.name << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "type" << YAML::Value << in.type;
      y << YAML::Key << "mode" << YAML::Value << in.mode;
      y << YAML::Key << "path" << YAML::Value << in.path;
      y << YAML::EndMap;
    }
    y << YAML::EndMap;
  }
  y << YAML::Key << "outputs" << YAML::Value << YAML::BeginMap;
  for (auto& out : parts.outputs) {
    y << YAML::Key << out << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "type" << YAML::Value << "uri_folder";
    y << YAML::Key << "mode" << YAML::Value << "upload";
    y << YAML::EndMap;
  }
  y << YAML::EndMap;
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

static std::string workspace_arm_id(const std::string& subscription, const std::string& resource_group, const std::string& workspace) {
  return "/subscriptions/" + subscription + "/resourceGroups/" + resource_group +
         "/providers/Microsoft.MachineLearningServices/workspaces/" + workspace;
}

std::string azureml_workspace_arm_id(const SubmitOptions& o) {
  return workspace_arm_id(o.subscription_id, o.resource_group, o.workspace_name);
}

util::Json render_azureml_job_rest_body(const SubmitOptions& o) {
  auto cmd = build_train_command(o, "robotrain");
  std::string ws = azureml_workspace_arm_id(o);
  util::Json p;
  p["jobType"] = "Command";
  p["displayName"] = o.display_name.empty() ? o.job_name : o.display_name;
  p["experimentName"] = o.effective_experiment_name();
  p["description"] = "robotrain " + o.policy_type + " training (LeRobot-compatible checkpoints, MLflow tracking)";
  p["tags"] = util::Json::object();
  for (auto& [k, v] : job_tags(o)) p["tags"][k] = v;
  p["command"] = azureml_job_command(o);
  p["environmentId"] = ws + "/environments/" + o.environment_name + "/versions/" + o.effective_environment_version();
  p["computeId"] = ws + "/computes/" + compute_name(o);
  util::Json env = util::Json::object();
  env["AZURE_AUTHORITY_HOST"] = "https://login.microsoftonline.com";
  for (auto& [k, v] : cmd.env) env[k] = v;
  p["environmentVariables"] = env;
  util::Json inputs = util::Json::object();
  if (!o.init_from_policy_model.empty())
    inputs["init_from_policy_model"] = {{"jobInputType", "custom_model"}, {"uri", o.init_from_policy_model}, {"mode", "Download"}};
  for (size_t i = 0; i < o.dataset_assets.size(); ++i)
    inputs["dataset_asset_" + std::to_string(i)] = {{"jobInputType", "uri_folder"}, {"uri", o.dataset_assets[i]}, {"mode", "ReadOnlyMount"}};
  p["inputs"] = inputs;
  p["outputs"] = {{"checkpoints", {{"jobOutputType", "uri_folder"}, {"mode", "Upload"}}}};
  util::Json resources = {{"instanceCount", 1}, {"shmSize", "16g"}};
  if (!o.instance_type.empty()) resources["instanceType"] = o.instance_type;
  p["resources"] = resources;
  p["distribution"] = {{"distributionType", "PyTorch"}, {"processCountPerInstance", o.num_gpus}};
  p["limits"] = {{"jobLimitsType", "Command"}, {"timeout", "PT24H"}};
  p["identity"] = {{"identityType", "Managed"}};
  return util::Json{{"properties", p}};
}

std::string azureml_studio_url(const SubmitOptions& o, const std::string& job_id) {
  return "https://ml.azure.com/runs/" + job_id + "?wsid=" + azureml_workspace_arm_id(o);
}

std::string make_azureml_job_id(const std::string& job_name) {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&t));
  std::string base = util::to_lower(job_name);
  for (char& c : base)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) c = '-';
  if (base.size() > 200) base.resize(200);
  return base + "-" + buf + "-" + util::random_uuid_hex().substr(0, 6);
}

namespace {

std::vector<std::string> az_context_args(const SubmitOptions& o) {
  return {"--subscription", o.subscription_id, "--resource-group", o.resource_group, "--workspace-name", o.workspace_name};
}

std::string run_az(std::vector<std::string> argv, const std::string& what) {
  auto az = util::find_in_path("az");
  if (!az) throw util::RuntimeError("the Azure CLI (az) is not on PATH: install it with the ml extension, or use --via rest");
  argv.insert(argv.begin(), *az);
  auto r = util::run_process(argv, {.timeout_s = 600});
  if (r.exit_code != 0)
    throw util::RuntimeError(what + " failed (az exit " + std::to_string(r.exit_code) + "): " + util::trim(r.err.empty() ? r.out : r.err));
  return util::trim(r.out);
}

}  // namespace

SubmittedJob submit_azureml_with_cli(const SubmitOptions& o, const std::string& yaml_path) {
  std::vector<std::string> env_args = {"ml", "environment", "create", "--name", o.environment_name, "--version",
                                       o.effective_environment_version(), "--image", o.effective_image()};
  auto ctx = az_context_args(o);
  env_args.insert(env_args.end(), ctx.begin(), ctx.end());
  // An existing version is fine (same image -> same version): only a failure to show it is fatal.
  std::vector<std::string> show = {"ml", "environment", "show", "--name", o.environment_name, "--version", o.effective_environment_version()};
  show.insert(show.end(), ctx.begin(), ctx.end());
  auto az = util::find_in_path("az");
  if (!az) throw util::RuntimeError("the Azure CLI (az) is not on PATH: install it with the ml extension, or use --via rest");
  std::vector<std::string> show_argv = show;
  show_argv.insert(show_argv.begin(), *az);
  if (util::run_process(show_argv, {.timeout_s = 120}).exit_code != 0) run_az(env_args, "registering environment " + o.environment_name);

  std::vector<std::string> create = {"ml", "job", "create", "--file", yaml_path};
  create.insert(create.end(), ctx.begin(), ctx.end());
  create.insert(create.end(), o.forward_args.begin(), o.forward_args.end());
  if (!o.save_as.empty()) create.insert(create.end(), {"--save-as", o.save_as});
  create.insert(create.end(), {"--query", "name", "-o", "tsv"});
  std::string id = run_az(create, "az ml job create");
  if (id.empty()) throw util::RuntimeError("az ml job create returned no job name: re-run with '-- --debug' to see the Azure CLI output");
  return {id, azureml_studio_url(o, id)};
}

namespace {

// One authenticated ARM call; a non-2xx answer is a RuntimeError naming `what`.
util::HttpResponse send_arm(const std::string& method, const std::string& url, const std::string& body, const TokenProvider& token,
                            const std::string& what) {
  util::HttpRequest req;
  req.method = method;
  req.url = url;
  req.headers = {{"Authorization", "Bearer " + token()}, {"Content-Type", "application/json"}};
  req.body = body;
  auto resp = util::http_send(req);
  if (resp.status < 200 || resp.status >= 300) throw util::RuntimeError(what + ": " + util::describe_http_failure(req, resp));
  return resp;
}

std::string job_arm_url(const AzureMlJobRef& j, const std::string& endpoint, const std::string& action = "") {
  if (j.subscription_id.empty() || j.resource_group.empty() || j.workspace_name.empty())
    throw util::RuntimeError("job " + j.job_id + " has no recorded subscription, resource group and workspace: install the az CLI to reach it");
  return endpoint + workspace_arm_id(j.subscription_id, j.resource_group, j.workspace_name) + "/jobs/" + j.job_id + action +
         "?api-version=" + kApiVersion;
}

}  // namespace

SubmittedJob submit_azureml_with_rest(const SubmitOptions& o, const std::string& job_id, const TokenProvider& token,
                                      const std::string& endpoint) {
  std::string ws = endpoint + azureml_workspace_arm_id(o);
  auto put = [&](const std::string& url, const util::Json& body, const std::string& what) {
    return send_arm("PUT", url, body.dump(), token, what);
  };
  util::Json env_body = {{"properties", {{"image", o.effective_image()}, {"osType", "Linux"}}}};
  put(ws + "/environments/" + o.environment_name + "/versions/" + o.effective_environment_version() + "?api-version=" + kApiVersion,
      env_body, "registering environment " + o.environment_name);
  put(ws + "/jobs/" + job_id + "?api-version=" + kApiVersion, render_azureml_job_rest_body(o), "creating Azure ML job " + job_id);
  return {job_id, azureml_studio_url(o, job_id)};
}

std::string azureml_management_endpoint() {
  return util::get_env_or("ROBOTRAIN_AZUREML_ENDPOINT", "https://management.azure.com");
}

std::string azureml_job_status_with_rest(const AzureMlJobRef& job, const TokenProvider& token, const std::string& endpoint) {
  auto resp = send_arm("GET", job_arm_url(job, endpoint), "", token, "reading Azure ML job " + job.job_id);
  try {
    return util::Json::parse(resp.body).at("properties").value("status", "");
  } catch (const std::exception&) {
    throw util::RuntimeError("reading Azure ML job " + job.job_id + ": the answer has no properties.status");
  }
}

void cancel_azureml_job_with_rest(const AzureMlJobRef& job, const TokenProvider& token, const std::string& endpoint) {
  send_arm("POST", job_arm_url(job, endpoint, "/cancel"), "{}", token, "cancelling Azure ML job " + job.job_id);
}

}  // namespace robotrain::platform
