#include "track/registry.h"

#include "track/local_registry.h"
#include "track/mlflow_client.h"
#include "track/model_uri.h"
#include "track/tracking_uri.h"
#include "track/validation.h"
#include "util/error.h"
#include "util/http.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;
using util::Json;

AzureMlWorkspace workspace_from_tracking_uri(const std::string& uri) {
  auto target = parse_tracking_uri(uri);
  if (target.kind != TrackingKind::AzureMl) throw util::InputError(cat(util::redact_url(uri), ": not an azureml:// tracking URI"));
  auto parts = util::split(target.base_url.substr(target.base_url.find("/mlflow/")), '/');
  return {parts[4], parts[6], parts[10]};
}

namespace {

std::string api_version() { return "2024-04-01"; }

RegisteredModelVersion register_azureml(const RegisterOptions& o, const std::map<std::string, std::string>& tags,
                                        const TrackingTarget& target) {
  if (!o.azureml_upload)
    throw util::RuntimeError("registering in Azure ML needs the storage upload hook (RegisterOptions::azureml_upload)");
  if (!o.access_token) throw util::RuntimeError("registering in Azure ML needs an Azure AD token provider");
  auto ws = workspace_from_tracking_uri(target.uri);
  std::string model = azureml_model_name(o.name);
  std::string base = cat(o.management_endpoint, "/subscriptions/", ws.subscription, "/resourceGroups/", ws.resource_group,
                         "/providers/Microsoft.MachineLearningServices/workspaces/", ws.workspace, "/models/",
                         util::url_encode(model));
  auto call = [&](const std::string& method, const std::string& url, const std::string& body) {
    util::HttpRequest req;
    req.method = method;
    req.url = url;
    req.headers = {{"Authorization", "Bearer " + o.access_token()}, {"Content-Type", "application/json"}};
    req.body = body;
    return std::make_pair(req, util::http_send(req));
  };
  // Next version: one more than the highest existing one (404: the model is new).
  int64_t next = 1;
  {
    auto [req, resp] = call("GET", base + "/versions?api-version=" + api_version() + "&$orderBy=createdtime%20desc&$top=10", "");
    if (resp.ok()) {
      Json listing;
      try {
        listing = Json::parse(resp.body);
      } catch (const Json::exception&) {
        throw util::RuntimeError(cat("Azure ML listed the versions of ", model, " in a body that is not JSON"));
      }
      for (auto& v : util::array_member(listing, "value")) {
        int64_t n = 0;
        if (util::parse_int64(util::string_member(v, "name"), n)) next = std::max(next, n + 1);
      }
    } else if (resp.status != 404) {
      throw util::RuntimeError(util::describe_http_failure(req, resp));
    }
  }
  std::string model_uri = o.azureml_upload(o.pretrained_model_dir, model);
  Json jtags = Json::object();
  for (auto& [k, v] : tags) jtags[k] = v;
  Json body{{"properties",
             {{"modelType", "custom_model"}, {"modelUri", model_uri}, {"description", lineage_description(o.lineage)},
              {"tags", jtags}, {"properties", Json::object()}}}};
  auto [req, resp] = call("PUT", cat(base, "/versions/", next, "?api-version=", api_version()), body.dump());
  if (!resp.ok()) throw util::RuntimeError(util::describe_http_failure(req, resp));
  return {"azureml", model, std::to_string(next), cat("azureml:", model, ":", next), model_uri, tags};
}

RegisteredModelVersion register_mlflow(const RegisterOptions& o, const std::map<std::string, std::string>& tags,
                                       const TrackingTarget& target) {
  MlflowClient client(target);
  client.set_budget_s(interactive_budget_s());

  std::string rel = "registered_model/" + (o.lineage.checkpoint.empty() ? std::string("final") : o.lineage.checkpoint);
  if (!client.upload_artifacts(o.artifact_uri, o.pretrained_model_dir, rel))
    throw util::RuntimeError(cat("cannot upload the checkpoint to ", util::redact_url(o.artifact_uri),
                                 "; start the MLflow server with --serve-artifacts"));
  std::string source = o.artifact_uri + "/" + rel;
  client.create_registered_model(o.name, {{"framework", "lerobot"}, {"policy_type", o.lineage.policy_type}},
                                 registered_model_description(o.lineage));
  auto v = client.create_model_version(o.name, source, o.lineage.mlflow_run_id, tags, lineage_description(o.lineage));
  for (int i = 0; v.status == "PENDING_REGISTRATION" && i < 60; ++i) {
    util::sleep_for_retry(1.0);
    v = client.get_model_version(o.name, v.version);
  }
  if (v.status == "FAILED_REGISTRATION") throw util::RuntimeError(cat("MLflow failed to register ", o.name, " v", v.version));
  return {"mlflow", o.name, v.version, cat("models:/", o.name, "/", v.version), source, tags};
}

}  // namespace

RegisteredModelVersion register_checkpoint(const RegisterOptions& o) {
  validate_register_name(o.name);
  require_pretrained_model_dir(o.pretrained_model_dir, "--register-checkpoint");
  auto target = parse_tracking_uri(o.tracking_uri);
  auto tags = lineage_tags(o.lineage);
  for (auto& [k, v] : o.version_tags) {
    validate_key("tag", k);
    tags[k] = bounded_tag_value(v);
  }
  // The full lineage travels with the weights (tags only hold capped summaries).
  util::write_json_file(o.pretrained_model_dir / "azureml_lineage.json", lineage_document(o.lineage), 2);
  if (target.kind == TrackingKind::Http && o.artifact_uri.empty())
    // Nothing to retry: the weights go into the run's artifacts, and there is no such run.
    throw util::RuntimeError(cat("registering '", o.name, "' in the MLflow registry of ", util::redact_url(target.base_url),
                                 " needs the run on the server (its artifacts hold the weights), and the run was never "
                                 "created there (server unreachable?); replay the run's journal with `robotrain track sync`, "
                                 "then register with `robotrain eval -r`"));
  double backoff = o.initial_backoff_s;
  for (int attempt = 1;; ++attempt) {
    try {
      RegisteredModelVersion r;
      if (target.kind == TrackingKind::File) {
        LocalRegistry registry(target.root);
        auto v = registry.register_version(o.name, o.pretrained_model_dir, o.lineage.mlflow_run_id, tags,
                                           lineage_description(o.lineage));
        r = {"local", o.name, v.version, cat("models:/", o.name, "/", v.version), v.source, tags};
      } else if (target.kind == TrackingKind::Http) {
        r = register_mlflow(o, tags, target);
      } else {
        r = register_azureml(o, tags, target);
      }
      util::log_info("registered ", r.uri, " (", r.registry, " registry) from ", o.pretrained_model_dir.string());
      return r;
    } catch (const util::InputError&) {
      throw;
    } catch (const RetriesExhausted& e) {
      // The client already spent the time budget retrying: another round would only triple it.
      throw util::RuntimeError(cat("registering checkpoint as '", o.name, "' failed: ", e.what()));
    } catch (const std::exception& e) {
      if (attempt >= o.attempts)
        throw util::RuntimeError(cat("registering checkpoint as '", o.name, "' failed after ", attempt, " attempts: ", e.what()));
      util::log_warn("registration attempt ", attempt, "/", o.attempts, " for ", o.name, " failed: ", e.what(),
                     "; retrying in ", backoff, " s");
      util::sleep_for_retry(backoff);
      backoff *= 2;
    }
  }
}

}  // namespace robotrain::track
