#pragma once
// A small in-memory MLflow tracking server speaking the REST protocol (service.proto and
// model_registry.proto JSON) for tests: experiments, runs, log-batch (enforcing MLflow's
// per-request limits), set-tag, metric history, search by tag, mlflow-artifacts and the
// model registry. `inject` may answer a request first (429/503, races).
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "support/http_server.h"
#include "util/crypto.h"
#include "util/json.h"
#include <memory>

namespace robotrain::test {

struct FakeRun {
  std::string run_id, experiment_id, run_name, status = "RUNNING", artifact_uri;
  int64_t start_time = 0, end_time = -1;
  std::map<std::string, std::string> params, tags;
  std::map<std::string, std::vector<util::Json>> metrics;  // key -> [{value,timestamp,step}]
};

struct FakeModelVersion {
  std::string version, source, run_id;
  std::map<std::string, std::string> tags;
};

class FakeMlflow {
 public:
  FakeMlflow();
  std::string url() const { return server_->url(); }
  std::vector<TestRequest> requests() { return server_->requests(); }

  // Called before the normal handler; returning a response short-circuits it.
  std::function<std::optional<TestResponse>(const TestRequest&)> inject;
  // When > 0, runs/create stores the run and then answers 503 this many times.
  int create_then_fail = 0;
  // Artifact proxying on (mlflow-artifacts:/ artifact URIs) or off (file:// URIs).
  bool serve_artifacts = true;

  std::mutex mutex;
  std::map<std::string, std::pair<std::string, std::string>> experiments;  // id -> (name, stage)
  std::map<std::string, FakeRun> runs;
  std::map<std::string, std::string> artifacts;                            // path -> bytes
  std::map<std::string, std::vector<FakeModelVersion>> models;
  int log_batch_calls = 0;

  FakeRun run(const std::string& id) {
    std::lock_guard lock(mutex);
    return runs.at(id);
  }

 private:
  TestResponse handle(const TestRequest& req);
  TestResponse api(const std::string& endpoint, const TestRequest& req);
  std::unique_ptr<TestHttpServer> server_;
  int next_experiment_ = 1;
};

inline TestResponse mlflow_error(int status, const std::string& code, const std::string& message) {
  return TestResponse::json(status, util::Json{{"error_code", code}, {"message", message}}.dump());
}

namespace fake_detail {
inline util::Json kv(const std::map<std::string, std::string>& m) {
  util::Json a = util::Json::array();
  for (auto& [k, v] : m) a.push_back({{"key", k}, {"value", v}});
  return a;
}
inline util::Json ok(const util::Json& j) { return j; }
}  // namespace fake_detail

inline FakeMlflow::FakeMlflow() {
  experiments["0"] = {"Default", "active"};
  server_ = std::make_unique<TestHttpServer>([this](const TestRequest& r) { return handle(r); });
}

inline TestResponse FakeMlflow::handle(const TestRequest& req) {
  if (inject)
    if (auto r = inject(req)) return *r;
  const std::string api_prefix = "/api/2.0/mlflow/";
  const std::string art_prefix = "/api/2.0/mlflow-artifacts/artifacts";
  if (req.path.rfind(api_prefix, 0) == 0) return api(req.path.substr(api_prefix.size()), req);
  if (req.path.rfind(art_prefix, 0) == 0) {
    std::lock_guard lock(mutex);
    std::string path = req.path.size() > art_prefix.size() ? req.path.substr(art_prefix.size() + 1) : "";
    if (req.method == "PUT") {
      artifacts[path] = req.body;
      return TestResponse::json(200, "{}");
    }
    if (path.empty()) {  // list ?path=
      std::string dir = req.query.count("path") ? req.query.at("path") : "";
      std::map<std::string, bool> entries;
      for (auto& [p, _] : artifacts) {
        if (p.rfind(dir + "/", 0) != 0) continue;
        std::string rest = p.substr(dir.size() + 1);
        auto slash = rest.find('/');
        entries[slash == std::string::npos ? rest : rest.substr(0, slash)] = slash != std::string::npos;
      }
      util::Json files = util::Json::array();
      for (auto& [n, is_dir] : entries) files.push_back({{"path", n}, {"is_dir", is_dir}});
      return TestResponse::json(200, util::Json{{"files", files}}.dump());
    }
    auto it = artifacts.find(path);
    if (it == artifacts.end()) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no artifact " + path);
    return TestResponse{200, {{"Content-Type", "application/octet-stream"}}, it->second};
  }
  return TestResponse{404, {}, "not found"};
}

inline TestResponse FakeMlflow::api(const std::string& ep, const TestRequest& req) {
  using util::Json;
  using fake_detail::kv;
  Json body = req.body.empty() ? Json::object() : Json::parse(req.body);
  auto q = [&](const std::string& k) { return req.query.count(k) ? req.query.at(k) : std::string(); };
  auto reply = [](const Json& j) { return TestResponse::json(200, j.dump()); };
  std::unique_lock lock(mutex);
  auto exp_json = [&](const std::string& id) {
    return Json{{"experiment_id", id}, {"name", experiments[id].first}, {"artifact_location", "mlflow-artifacts:/" + id},
                {"lifecycle_stage", experiments[id].second}, {"creation_time", 1}, {"last_update_time", 1}};
  };
  auto run_json = [&](const FakeRun& r) {
    Json metrics = Json::array();
    for (auto& [k, pts] : r.metrics) {
      Json last = pts.back();
      for (auto& p : pts)
        if (p["step"].get<int64_t>() >= last["step"].get<int64_t>()) last = p;
      metrics.push_back({{"key", k}, {"value", last["value"]}, {"timestamp", last["timestamp"]}, {"step", last["step"]}});
    }
    Json info{{"run_id", r.run_id}, {"run_uuid", r.run_id}, {"experiment_id", r.experiment_id}, {"run_name", r.run_name},
              {"status", r.status}, {"start_time", std::to_string(r.start_time)}, {"artifact_uri", r.artifact_uri},
              {"lifecycle_stage", "active"}};
    if (r.end_time >= 0) info["end_time"] = r.end_time;
    return Json{{"info", info}, {"data", {{"metrics", metrics}, {"params", kv(r.params)}, {"tags", kv(r.tags)}}}};
  };
  auto find_run = [&](const std::string& id) -> FakeRun* {
    auto it = runs.find(id);
    return it == runs.end() ? nullptr : &it->second;
  };
  if (ep == "experiments/get-by-name") {
    for (auto& [id, e] : experiments)
      if (e.first == q("experiment_name")) return reply({{"experiment", exp_json(id)}});
    return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name " + q("experiment_name"));
  }
  if (ep == "experiments/get") {
    if (!experiments.count(q("experiment_id"))) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no experiment");
    return reply({{"experiment", exp_json(q("experiment_id"))}});
  }
  if (ep == "experiments/search") {
    Json list = Json::array();
    for (auto& [id, e] : experiments) list.push_back(exp_json(id));
    return reply({{"experiments", list}});
  }
  if (ep == "experiments/create") {
    std::string name = body.value("name", "");
    for (auto& [id, e] : experiments)
      if (e.first == name) return mlflow_error(400, "RESOURCE_ALREADY_EXISTS", "Experiment '" + name + "' already exists.");
    std::string id = std::to_string(next_experiment_++);
    experiments[id] = {name, "active"};
    return reply({{"experiment_id", id}});
  }
  if (ep == "runs/create") {
    FakeRun r;
    r.run_id = util::random_uuid_hex();
    r.experiment_id = body.value("experiment_id", "0");
    if (!experiments.count(r.experiment_id)) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no experiment");
    r.run_name = body.value("run_name", "");
    r.start_time = body.value("start_time", int64_t{0});
    r.artifact_uri = serve_artifacts ? "mlflow-artifacts:/" + r.experiment_id + "/" + r.run_id + "/artifacts"
                                     : "file:///nonexistent-server-disk/" + r.run_id + "/artifacts";
    for (auto& t : body.value("tags", Json::array())) r.tags[t["key"]] = t["value"];
    runs[r.run_id] = r;
    if (create_then_fail > 0) {
      --create_then_fail;
      return mlflow_error(503, "TEMPORARILY_UNAVAILABLE", "created but the reply was lost");
    }
    return reply({{"run", run_json(r)}});
  }
  if (ep == "runs/get") {
    auto* r = find_run(q("run_id"));
    if (!r) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "Run '" + q("run_id") + "' not found");
    return reply({{"run", run_json(*r)}});
  }
  if (ep == "runs/search") {
    std::string filter = body.value("filter", "");
    std::string token;
    auto eq = filter.find("robotrain_client_token = '");
    if (eq != std::string::npos) token = filter.substr(eq + 26, filter.size() - eq - 27);
    Json list = Json::array();
    for (auto& [id, r] : runs) {
      bool in_exp = false;
      for (auto& e : body.value("experiment_ids", Json::array())) in_exp |= e.get<std::string>() == r.experiment_id;
      if (!in_exp) continue;
      if (!filter.empty() && (!r.tags.count("robotrain_client_token") || r.tags.at("robotrain_client_token") != token)) continue;
      list.push_back(run_json(r));
    }
    return reply({{"runs", list}});
  }
  if (ep == "runs/update") {
    auto* r = find_run(body.value("run_id", ""));
    if (!r) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no run");
    r->status = body.value("status", "");
    r->end_time = body.value("end_time", int64_t{-1});
    return reply({{"run_info", {{"run_id", r->run_id}, {"status", r->status}}}});
  }
  if (ep == "runs/log-batch") {
    ++log_batch_calls;
    auto* r = find_run(body.value("run_id", ""));
    if (!r) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no run");
    auto& ms = body["metrics"];
    auto& ps = body["params"];
    auto& ts = body["tags"];
    if (ms.size() > 1000 || ps.size() > 100 || ts.size() > 100 || ms.size() + ps.size() + ts.size() > 1000 ||
        req.body.size() > 1024 * 1024)
      return mlflow_error(400, "INVALID_PARAMETER_VALUE", "A batch logging request can contain at most 1000 metrics");
    for (auto& p : ps) {
      std::string k = p["key"], v = p["value"];
      if (r->params.count(k) && r->params[k] != v)
        return mlflow_error(400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
      r->params[k] = v;
    }
    for (auto& t : ts) r->tags[t["key"].get<std::string>()] = t["value"].get<std::string>();
    for (auto& m : ms)
      r->metrics[m["key"].get<std::string>()].push_back({{"value", m["value"]}, {"timestamp", m["timestamp"]}, {"step", m["step"]}});
    return reply(Json::object());
  }
  if (ep == "runs/set-tag") {
    auto* r = find_run(body.value("run_id", ""));
    if (!r) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no run");
    r->tags[body.value("key", "")] = body.value("value", "");
    return reply(Json::object());
  }
  if (ep == "metrics/get-history") {
    auto* r = find_run(q("run_id"));
    if (!r) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no run");
    Json list = Json::array();
    for (auto& p : r->metrics[q("metric_key")])
      list.push_back({{"key", q("metric_key")}, {"value", p["value"]}, {"timestamp", p["timestamp"]}, {"step", p["step"]}});
    return reply({{"metrics", list}});
  }
  auto mv_json = [&](const std::string& name, const FakeModelVersion& v) {
    return Json{{"name", name}, {"version", v.version}, {"source", v.source}, {"run_id", v.run_id}, {"status", "READY"},
                {"creation_timestamp", 1}, {"tags", kv(v.tags)}};
  };
  if (ep == "registered-models/create") {
    std::string name = body.value("name", "");
    if (models.count(name)) return mlflow_error(400, "RESOURCE_ALREADY_EXISTS", "Registered Model (name=" + name + ") already exists.");
    models[name];
    return reply({{"registered_model", {{"name", name}}}});
  }
  if (ep == "model-versions/create") {
    std::string name = body.value("name", "");
    if (!models.count(name)) return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no model");
    FakeModelVersion v;
    v.version = std::to_string(models[name].size() + 1);
    v.source = body.value("source", "");
    v.run_id = body.value("run_id", "");
    for (auto& t : body.value("tags", Json::array())) v.tags[t["key"]] = t["value"];
    models[name].push_back(v);
    return reply({{"model_version", mv_json(name, v)}});
  }
  if (ep == "model-versions/get" || ep == "model-versions/get-download-uri") {
    auto it = models.find(q("name"));
    size_t n = std::strtoul(q("version").c_str(), nullptr, 10);
    if (it == models.end() || n == 0 || n > it->second.size())
      return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=" + q("name") + ", version=" + q("version") + ") not found");
    if (ep == "model-versions/get-download-uri") return reply({{"artifact_uri", it->second[n - 1].source}});
    return reply({{"model_version", mv_json(q("name"), it->second[n - 1])}});
  }
  if (ep == "model-versions/search") {
    Json list = Json::array();
    std::string f = q("filter");
    for (auto& [name, vs] : models)
      if (f == "name='" + name + "'")
        for (auto& v : vs) list.push_back(mv_json(name, v));
    return reply({{"model_versions", list}});
  }
  if (ep == "registered-models/search" || ep == "registered-models/get") {
    Json list = Json::array();
    for (auto& [name, vs] : models) {
      Json latest = Json::array();
      if (!vs.empty()) latest.push_back(mv_json(name, vs.back()));
      Json m{{"name", name}, {"creation_timestamp", 1}, {"latest_versions", latest}};
      if (ep == "registered-models/get" && name == q("name")) return reply({{"registered_model", m}});
      list.push_back(m);
    }
    if (ep == "registered-models/get") return mlflow_error(404, "RESOURCE_DOES_NOT_EXIST", "no model");
    return reply({{"registered_models", list}});
  }
  return mlflow_error(404, "ENDPOINT_NOT_FOUND", "no endpoint " + ep);
}

}  // namespace robotrain::test
