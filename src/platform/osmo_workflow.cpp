#include "platform/osmo_workflow.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <vector>

#include "platform/job_command.h"
#include "util/error.h"
#include "util/json.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::platform {

namespace {

// OSMO names: lowercase letters, digits and '-'.
std::string osmo_name(const std::string& s) {
  std::string out = util::to_lower(s);
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) c = '-';
  return out;
}

}  // namespace

namespace {

// One task: the image runs `robotrain ARGS...` with the job's environment.
void emit_task(YAML::Emitter& y, const SubmitOptions& o, const std::string& name, const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env, const std::string& input_task) {
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << name;
  y << YAML::Key << "image" << YAML::Value << o.effective_image();
  y << YAML::Key << "command" << YAML::Value << YAML::Flow << YAML::BeginSeq << argv[0] << YAML::EndSeq;
  y << YAML::Key << "args" << YAML::Value << YAML::BeginSeq;
  for (size_t i = 1; i < argv.size(); ++i) y << YAML::DoubleQuoted << argv[i];
  y << YAML::EndSeq;
  if (!input_task.empty())
    y << YAML::Key << "inputs" << YAML::Value << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "task" << YAML::Value << input_task
      << YAML::EndMap << YAML::EndSeq;
  if (o.needs_hub_token()) {
    y << YAML::Key << "credentials" << YAML::Value << YAML::BeginMap << YAML::Key << "huggingface" << YAML::Value << YAML::BeginMap
      << YAML::Key << "HF_TOKEN" << YAML::Value << "hf_token" << YAML::EndMap << YAML::EndMap;
  }
  y << YAML::Key << "environment" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "NVIDIA_DRIVER_CAPABILITIES" << YAML::Value << "all";
  y << YAML::Key << "AZURE_AUTHORITY_HOST" << YAML::Value << "https://login.microsoftonline.com";
  for (auto& [k, v] : env) y << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  if (!o.subscription_id.empty()) y << YAML::Key << "AZURE_SUBSCRIPTION_ID" << YAML::Value << YAML::DoubleQuoted << o.subscription_id;
  if (!o.resource_group.empty()) y << YAML::Key << "AZURE_RESOURCE_GROUP" << YAML::Value << YAML::DoubleQuoted << o.resource_group;
  if (!o.workspace_name.empty()) y << YAML::Key << "AZUREML_WORKSPACE_NAME" << YAML::Value << YAML::DoubleQuoted << o.workspace_name;
  y << YAML::EndMap;
  y << YAML::Key << "resource" << YAML::Value << "default";
  y << YAML::EndMap;
}

}  // namespace

std::string render_osmo_workflow_yaml(const SubmitOptions& options, const std::string& exec_timeout, const OsmoEvalTask* eval) {
  SubmitOptions o = options;
  // With an evaluation task, training writes into its task output, which OSMO hands to the
  // evaluation task as {{input:0}}.
  if (eval) o.output_dir = std::string("{{output}}/") + kOsmoTrainOutput;
  auto cmd = build_train_command(o, "robotrain");
  YAML::Emitter y;
  y << YAML::BeginMap << YAML::Key << "workflow" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << osmo_name(o.job_name);
  y << YAML::Key << "timeout" << YAML::Value << YAML::BeginMap << YAML::Key << "exec_timeout" << YAML::Value << exec_timeout
    << YAML::EndMap;
  y << YAML::Key << "resources" << YAML::Value << YAML::BeginMap << YAML::Key << "default" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "gpu" << YAML::Value << o.num_gpus;
  y << YAML::Key << "cpu" << YAML::Value << 8;
  y << YAML::Key << "memory" << YAML::Value << "48Gi";
  y << YAML::Key << "storage" << YAML::Value << "80Gi";
  y << YAML::Key << "platform" << YAML::Value << o.osmo_platform;
  y << YAML::EndMap << YAML::EndMap;
  y << YAML::Key << "tasks" << YAML::Value << YAML::BeginSeq;
  emit_task(y, o, kOsmoTrainTask, cmd.argv, cmd.env, "");
  if (eval) {
    std::vector<std::string> argv = {"robotrain"};
    argv.insert(argv.end(), eval->args.begin(), eval->args.end());
    emit_task(y, o, kOsmoEvalTask, argv, cmd.env, kOsmoTrainTask);
  }
  y << YAML::EndSeq;
  y << YAML::EndMap << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

SubmittedJob submit_osmo(const SubmitOptions& o, const std::string& yaml_path) {
  auto osmo = util::find_in_path("osmo");
  if (!osmo) throw util::RuntimeError("the OSMO CLI (osmo) is not on PATH: install it and run `osmo login` first");
  std::vector<std::string> argv = {*osmo, "workflow", "submit", yaml_path};
  argv.insert(argv.end(), o.forward_args.begin(), o.forward_args.end());
  argv.insert(argv.end(), {"-t", "json"});
  auto r = util::run_process(argv, {.timeout_s = 600});
  if (r.exit_code != 0)
    throw util::RuntimeError("osmo workflow submit failed (exit " + std::to_string(r.exit_code) + "): " + util::trim(r.err.empty() ? r.out : r.err));
  util::Json j;
  try {
    j = util::Json::parse(r.out);
  } catch (const std::exception&) {
    throw util::RuntimeError("osmo workflow submit printed no JSON (expected -t json output): " + util::trim(r.out).substr(0, 200));
  }
  std::string id = util::string_member(j, "name");
  if (id.empty()) throw util::RuntimeError("osmo workflow submit returned no workflow id (\"name\") in: " + util::trim(r.out).substr(0, 200));
  std::string url = util::string_member(j, "dashboard_url");
  if (url.empty()) url = util::string_member(j, "overview");
  return {id, url};
}

}  // namespace robotrain::platform
