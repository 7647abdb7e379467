#include "track/mlflow_client.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "track/entity_fields.h"
#include "track/file_store.h"
#include "track/file_tracker.h"
#include "track/validation.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;
using util::Json;

bool MlflowError::transient() const {
  return status_ == 0 || status_ == 408 || status_ == 429 || status_ >= 500 || error_code_ == "REQUEST_LIMIT_EXCEEDED" ||
         error_code_ == "TEMPORARILY_UNAVAILABLE" || error_code_ == "INTERNAL_ERROR";
}

int64_t json_int64(const Json& j, const char* key, int64_t fallback) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  const auto& v = j[key];
  if (v.is_string()) {
    int64_t out;
    return util::parse_int64(v.get<std::string>(), out) ? out : fallback;
  }
  // A hostile or broken server may send 1e40, NaN or 2^64-1: those read as absent.
  return util::integer_if_fits<int64_t>(v).value_or(fallback);
}

namespace {

std::string str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

Json number_json(double v) {
  // Protobuf's JSON mapping spells non-finite doubles as strings.
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

double number_from_json(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
    return std::strtod(s.c_str(), nullptr);
  }
  return std::nan("");
}

Json kv_list(const std::map<std::string, std::string>& m) {
  Json a = Json::array();
  for (auto& [k, v] : m) a.push_back({{"key", k}, {"value", v}});
  return a;
}

std::map<std::string, std::string> kv_map(const Json& a) {
  std::map<std::string, std::string> out;
  if (!a.is_array()) return out;
  for (auto& e : a) out[str(e, "key")] = str(e, "value");
  return out;
}

// The REST API's spelling of the fields entity_fields.h reads.
struct JsonFields {
  const Json& j;
  std::string text(const char* key) const { return str(j, key); }
  int64_t integer(const char* key) const { return json_int64(j, key); }
  std::string run_status(const char* key) const { return str(j, key); }
};

ExperimentInfo experiment_from_json(const Json& e) { return experiment_from_fields(JsonFields{e}); }

// MLflow's paging: `page(token)` fetches one page ("" for the first) and the loop follows
// next_page_token until a page has none or `enough()` says stop; each element of every page's
// `items` array goes to `take`.
template <class Page, class Take>
void each_paged_item(const Page& page, const char* items, const Take& take, const std::function<bool()>& enough = {}) {
  std::string token;
  do {
    Json r = page(token);
    for (auto& item : util::array_member(r, items)) take(item);
    token = str(r, "next_page_token");
  } while (!token.empty() && !(enough && enough()));
}

using Query = std::vector<std::pair<std::string, std::string>>;

Query with_page_token(Query q, const std::string& token) {
  if (!token.empty()) q.push_back({"page_token", token});
  return q;
}

// The path part of mlflow-artifacts:/p or mlflow-artifacts://host/p.
std::optional<std::string> mlflow_artifacts_path(const std::string& uri) {
  const std::string scheme = "mlflow-artifacts:";
  if (!util::starts_with(uri, scheme)) return std::nullopt;
  std::string rest = uri.substr(scheme.size());
  if (util::starts_with(rest, "//")) {
    auto slash = rest.find('/', 2);
    rest = slash == std::string::npos ? "" : rest.substr(slash);
  }
  while (util::starts_with(rest, "/")) rest = rest.substr(1);
  while (util::ends_with(rest, "/")) rest.pop_back();
  return rest;
}

}  // namespace

std::string mlflow_quote(const std::string& value) { return "'" + util::replace_all(value, "'", "\\'") + "'"; }

Json metric_to_json(const MetricPoint& m) {
  return {{"key", m.key}, {"value", number_json(m.value)}, {"timestamp", m.timestamp}, {"step", m.step}};
}

MetricPoint metric_from_json(const Json& j) {
  MetricPoint m;
  m.key = str(j, "key");
  m.value = j.contains("value") ? number_from_json(j["value"]) : 0.0;
  m.timestamp = json_int64(j, "timestamp", 0);
  m.step = json_int64(j, "step", 0);
  return m;
}

RunInfo run_info_from_json(const Json& i) { return run_info_from_fields(JsonFields{i}); }

RunRecord run_from_json(const Json& run) {
  RunRecord rec;
  rec.info = run_info_from_json(util::object_member(run, "info"));
  const Json& data = util::object_member(run, "data");
  rec.params = kv_map(util::array_member(data, "params"));
  rec.tags = kv_map(util::array_member(data, "tags"));
  for (auto& m : util::array_member(data, "metrics")) {
    auto p = metric_from_json(m);
    rec.metrics[p.key] = p;
  }
  if (rec.info.run_name.empty() && rec.tags.count("mlflow.runName")) rec.info.run_name = rec.tags["mlflow.runName"];
  return rec;
}

ModelVersionInfo model_version_from_json(const Json& j) {
  ModelVersionInfo v;
  v.name = str(j, "name");
  v.version = str(j, "version");
  v.source = str(j, "source");
  v.run_id = str(j, "run_id");
  v.status = str(j, "status");
  v.creation_timestamp = json_int64(j, "creation_timestamp");
  v.description = str(j, "description");
  v.tags = kv_map(util::array_member(j, "tags"));
  return v;
}

namespace {

RegisteredModelInfo registered_model_from_json(const Json& m) {
  RegisteredModelInfo info;
  info.name = str(m, "name");
  info.creation_timestamp = json_int64(m, "creation_timestamp");
  info.last_updated_timestamp = json_int64(m, "last_updated_timestamp");
  info.description = str(m, "description");
  info.tags = kv_map(util::array_member(m, "tags"));
  for (auto& v : util::array_member(m, "latest_versions")) info.latest_versions.push_back(model_version_from_json(v));
  return info;
}

}  // namespace

double interactive_budget_s() {
  auto raw = util::get_env("ROBOTRAIN_HTTP_BUDGET_S");
  if (!raw || raw->empty()) return 30;
  double v = 0;
  if (!util::parse_double(*raw, v) || !(v > 0) || v > 86400)
    throw util::InputError(cat("ROBOTRAIN_HTTP_BUDGET_S='", *raw, "': expected seconds in (0, 86400], e.g. 30"));
  return v;
}

MlflowClient::MlflowClient(const TrackingTarget& target, AccessTokenProvider azure_token)
    : base_url_(target.base_url), auth_(mlflow_auth_for(target, std::move(azure_token))) {
  while (util::ends_with(base_url_, "/")) base_url_.pop_back();
  policy_.max_retries = 7;
  policy_.base_delay_s = 2.0;
  policy_.max_delay_s = 120.0;
  policy_.jitter_s = 1.0;
}

MlflowClient MlflowClient::for_uri(const std::string& tracking_uri, AccessTokenProvider azure_token) {
  return MlflowClient(parse_tracking_uri(tracking_uri), std::move(azure_token));
}

void MlflowClient::make_interactive() {
  budget_s_ = interactive_budget_s();
  quiet_retries_ = true;
  policy_.max_retries = 100;  // the budget ends it first
  policy_.base_delay_s = 1.0;
  policy_.max_delay_s = 8.0;
  policy_.jitter_s = 0.5;
}

void MlflowClient::prepare(util::HttpRequest& request) const {
  auth_.apply(request);
  if (budget_s_ > 0) {
    request.timeout_s = std::min(request.timeout_s, budget_s_);
    request.connect_timeout_s = std::min(request.connect_timeout_s, 5.0);
  }
  if (cancelled_) request.cancelled = cancelled_;
}

util::HttpResponse MlflowClient::send_once(util::HttpRequest request) const {
  prepare(request);
  return util::http_send_once(request);
}

util::HttpResponse MlflowClient::send(util::HttpRequest request) const {
  prepare(request);
  const std::string call = cat("MLflow ", request.method, " ", util::redact_url(request.url));
  // "POST <url>: Couldn't connect (is the server reachable? ...)" -> "Couldn't connect": each
  // line names the call once.
  auto short_reason = [&](std::string reason) {
    for (std::string prefix : {call + ": ", cat(request.method, " ", util::redact_url(request.url), ": ")})
      if (util::starts_with(reason, prefix)) reason = reason.substr(prefix.size());
    return reason;
  };
  util::RetryPolicy policy = policy_;
  if (budget_s_ > 0) {
    policy.max_total_s = budget_s_;
    policy.connect_timeout_s = 5;
  }
  policy.on_retry = [&](int attempt, double delay, const std::string& reason) {
    if (cancelled_ && cancelled_()) throw util::NetworkError(cat(call, " abandoned (", short_reason(reason), ")"));
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", delay);
    if (quiet_retries_)
      util::log_debug(call, " failed (", short_reason(reason), "); retry ", attempt, " in ", secs, " s");
    else
      util::log_warn(call, " failed (", short_reason(reason), "); retry ", attempt, " in ", secs, " s");
  };
  const std::string hint = cat("; check that the server runs at ", util::redact_url(base_url_),
                               budget_s_ > 0 ? " or raise ROBOTRAIN_HTTP_BUDGET_S" : "");
  util::HttpResponse response;
  try {
    response = util::http_send(request, policy);
  } catch (const util::NetworkError& e) {
    if (cancelled_ && cancelled_()) throw;
    // http_send says how many attempts it made and that retries are exhausted.
    throw RetriesExhausted(cat(call, ": ", short_reason(e.what()), hint));
  }
  if (util::is_retryable_status(response.status, policy)) {
    try {
      parse_reply(request, response);
    } catch (const MlflowError& e) {
      throw MlflowError(cat(e.what(), " (after ", response.attempts, " attempts, retries exhausted)", hint), e.error_code(),
                        e.status());
    }
  }
  return response;
}

Json MlflowClient::parse_reply(const util::HttpRequest& request, const util::HttpResponse& response) const {
  Json body;
  try {
    body = response.body.empty() ? Json::object() : Json::parse(response.body);
  } catch (const std::exception&) {
    body = Json();
  }
  if (response.ok()) {
    // Every MLflow REST answer is a JSON object; anything else is not an MLflow server's.
    if (!body.is_object())
      throw MlflowError(cat("MLflow ", request.method, " ", util::redact_url(request.url), ": response is not a JSON object",
                            " (is the URL an MLflow tracking server?)"),
                        "INVALID_RESPONSE", response.status);
    return body;
  }
  std::string code = body.is_object() ? str(body, "error_code") : "";
  // Server messages may span lines (tracebacks): keep ours to one.
  std::string message = util::replace_all(util::replace_all(body.is_object() ? str(body, "message") : "", "\r", " "), "\n", " ");
  if (code.empty()) code = cat("HTTP_", response.status);
  std::string hint;
  if (code == "UNAUTHENTICATED" || response.status == 401)
    hint = "; set MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN (azureml://: az login or a managed identity)";
  else if (code == "PERMISSION_DENIED" || response.status == 403)
    hint = "; the identity lacks access to this workspace/experiment";
  throw MlflowError(cat(message.empty() ? util::describe_http_failure(request, response)
                                        : cat("MLflow ", request.method, " ", util::redact_url(request.url), ": ", code,
                                              ": ", message),
                        hint),
                    code, response.status);
}

Json MlflowClient::post(const std::string& endpoint, const Json& body) const {
  util::HttpRequest req;
  req.method = "POST";
  req.url = base_url_ + "/api/2.0/mlflow/" + endpoint;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body.dump();
  return parse_reply(req, send(req));
}

Json MlflowClient::get(const std::string& endpoint, const std::vector<std::pair<std::string, std::string>>& query) const {
  util::HttpRequest req;
  req.url = base_url_ + "/api/2.0/mlflow/" + endpoint;
  for (size_t i = 0; i < query.size(); ++i)
    req.url += cat(i ? "&" : "?", util::url_encode(query[i].first), "=", util::url_encode(query[i].second));
  return parse_reply(req, send(req));
}

bool MlflowClient::reachable(double timeout_s) const {
  util::HttpRequest req;
  req.method = "POST";
  req.url = base_url_ + "/api/2.0/mlflow/experiments/search";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = R"({"max_results":1})";
  req.timeout_s = timeout_s;
  req.connect_timeout_s = std::min(timeout_s, 3.0);
  try {
    auto resp = send_once(req);
    return resp.status > 0 && !util::is_retryable_status(resp.status, policy_);
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<ExperimentInfo> MlflowClient::get_experiment_by_name(const std::string& name) const {
  try {
    return experiment_from_json(util::object_member(get("experiments/get-by-name", {{"experiment_name", name}}), "experiment"));
  } catch (const MlflowError& e) {
    if (e.error_code() == "RESOURCE_DOES_NOT_EXIST" || e.status() == 404) return std::nullopt;
    throw;
  }
}

ExperimentInfo MlflowClient::get_experiment(const std::string& experiment_id) const {
  return experiment_from_json(util::object_member(get("experiments/get", {{"experiment_id", experiment_id}}), "experiment"));
}

std::vector<ExperimentInfo> MlflowClient::search_experiments() const {
  std::vector<ExperimentInfo> out;
  auto page = [&](const std::string& token) {
    Json body{{"max_results", 1000}};
    if (!token.empty()) body["page_token"] = token;
    return post("experiments/search", body);
  };
  each_paged_item(page, "experiments", [&](const Json& e) { out.push_back(experiment_from_json(e)); });
  return out;
}

std::string MlflowClient::get_or_create_experiment(const std::string& name) const {
  auto check = [&](const ExperimentInfo& e) {
    if (e.lifecycle_stage != "active")
      throw util::InputError(cat("MLflow experiment '", name, "' is deleted on ", base_url_,
                                 "; restore it (mlflow experiments restore) or choose another --experiment-name"));
    return e.experiment_id;
  };
  if (auto e = get_experiment_by_name(name)) return check(*e);
  try {
    Json r = post("experiments/create", {{"name", name}});
    return str(r, "experiment_id");
  } catch (const MlflowError& e) {
    if (e.error_code() != "RESOURCE_ALREADY_EXISTS") throw;
  }
  // Someone created it between our get and create: theirs is ours.
  if (auto e = get_experiment_by_name(name)) return check(*e);
  throw util::RuntimeError(cat("MLflow experiment '", name, "' reported as existing but cannot be read on ", base_url_));
}

std::optional<RunInfo> MlflowClient::find_run_by_client_token(const std::string& experiment_id,
                                                              const std::string& token) const {
  auto runs = search_runs({experiment_id}, "tags.robotrain_client_token = " + mlflow_quote(token), 1);
  if (runs.empty()) return std::nullopt;
  return runs.front().info;
}

RunInfo MlflowClient::create_run(const std::string& experiment_id, const std::string& run_name, int64_t start_time,
                                 const std::map<std::string, std::string>& tags, const std::string& client_token) const {
  auto all_tags = tags;
  all_tags["robotrain_client_token"] = client_token;
  if (!run_name.empty()) all_tags["mlflow.runName"] = run_name;
  Json body{{"experiment_id", experiment_id}, {"start_time", start_time}, {"tags", kv_list(all_tags)}};
  if (!run_name.empty()) body["run_name"] = run_name;
  if (all_tags.count("mlflow.user")) body["user_id"] = all_tags["mlflow.user"];
  util::HttpRequest req;
  req.method = "POST";
  req.url = base_url_ + "/api/2.0/mlflow/runs/create";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body.dump();
  const auto start = std::chrono::steady_clock::now();
  for (int attempt = 1;; ++attempt) {
    std::string reason;
    const util::HttpResponse* reply = nullptr;
    util::HttpResponse resp;
    try {
      resp = send_once(req);
      if (!util::is_retryable_status(resp.status, policy_)) {
        return run_info_from_json(util::object_member(util::object_member(parse_reply(req, resp), "run"), "info"));
      }
      reason = cat("HTTP ", resp.status);
      reply = &resp;
    } catch (const util::NetworkError& e) {
      reason = e.what();
    }
    double delay = util::retry_delay_s(reply, attempt, policy_);
    double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool out_of_time = budget_s_ > 0 && spent + delay > budget_s_;
    if (attempt > policy_.max_retries || out_of_time || (cancelled_ && cancelled_())) {
      if (reply) {
        try {
          parse_reply(req, resp);
        } catch (const MlflowError& e) {
          throw MlflowError(cat(e.what(), " (after ", attempt, " attempts, retries exhausted)"), e.error_code(), e.status());
        }
      }
      throw RetriesExhausted(cat("MLflow POST ", util::redact_url(req.url), ": gave up after ", attempt,
                                 " attempts, retries exhausted (last: ", reason, ")"));
    }
    if (quiet_retries_)
      util::log_debug("MLflow runs/create failed (", reason, "); retry ", attempt, " in ", delay, " s");
    else
      util::log_warn("MLflow runs/create failed (", reason, "); checking whether the run exists before retrying");
    util::sleep_for_retry(delay);
    // The failed attempt may still have created the run: look for our token first.
    if (auto existing = find_run_by_client_token(experiment_id, client_token)) return *existing;
  }
}

RunRecord MlflowClient::get_run(const std::string& run_id) const {
  return run_from_json(util::object_member(get("runs/get", {{"run_id", run_id}}), "run"));
}

std::vector<RunRecord> MlflowClient::search_runs(const std::vector<std::string>& experiment_ids,
                                                 const std::string& filter, int max_results) const {
  std::vector<RunRecord> out;
  auto page = [&](const std::string& token) {
    Json body{{"experiment_ids", experiment_ids}, {"max_results", std::min(max_results, 1000)},
              {"order_by", Json::array({"attributes.start_time DESC"})}};
    if (!filter.empty()) body["filter"] = filter;
    if (!token.empty()) body["page_token"] = token;
    return post("runs/search", body);
  };
  each_paged_item(page, "runs", [&](const Json& run) { out.push_back(run_from_json(run)); },
                  [&] { return static_cast<int>(out.size()) >= max_results; });
  return out;
}

void MlflowClient::update_run(const std::string& run_id, const std::string& status, int64_t end_time) const {
  Json body{{"run_id", run_id}, {"run_uuid", run_id}, {"status", status}};
  if (end_time >= 0) body["end_time"] = end_time;
  post("runs/update", body);
}

void MlflowClient::log_batch(const std::string& run_id, const std::vector<MetricPoint>& metrics,
                             const std::vector<std::pair<std::string, std::string>>& params,
                             const std::vector<std::pair<std::string, std::string>>& tags) const {
  constexpr size_t kBodyBudget = 900 * 1024;  // stay under the 1 MB request limit
  Json batch{{"run_id", run_id}, {"metrics", Json::array()}, {"params", Json::array()}, {"tags", Json::array()}};
  size_t items = 0, bytes = 0;
  auto flush = [&] {
    if (items == 0) return;
    post("runs/log-batch", batch);
    batch["metrics"] = Json::array();
    batch["params"] = Json::array();
    batch["tags"] = Json::array();
    items = bytes = 0;
  };
  auto add = [&](const char* field, size_t limit, Json entry) {
    size_t sz = entry.dump().size() + 1;
    if (batch[field].size() >= limit || items >= kMaxEntitiesPerBatch || bytes + sz > kBodyBudget) flush();
    batch[field].push_back(std::move(entry));
    ++items;
    bytes += sz;
  };
  for (auto& [k, v] : params) add("params", kMaxParamsPerBatch, {{"key", k}, {"value", clamp_value(v, kMaxParamValueLength)}});
  for (auto& [k, v] : tags) add("tags", kMaxTagsPerBatch, {{"key", k}, {"value", clamp_value(v, kMaxTagValueLength)}});
  for (auto& m : metrics) add("metrics", kMaxMetricsPerBatch, metric_to_json(m));
  flush();
}

void MlflowClient::set_tag(const std::string& run_id, const std::string& key, const std::string& value) const {
  post("runs/set-tag", {{"run_id", run_id}, {"run_uuid", run_id}, {"key", key}, {"value", clamp_value(value, kMaxTagValueLength)}});
}

std::vector<MetricPoint> MlflowClient::metric_history(const std::string& run_id, const std::string& key) const {
  std::vector<MetricPoint> out;
  const Query q{{"run_id", run_id}, {"metric_key", key}, {"max_results", "25000"}};
  each_paged_item([&](const std::string& token) { return get("metrics/get-history", with_page_token(q, token)); },
                  "metrics", [&](const Json& m) { out.push_back(metric_from_json(m)); });
  return out;
}

std::string MlflowClient::artifacts_url(const std::string& artifact_uri, const std::string& rel) const {
  auto path = mlflow_artifacts_path(artifact_uri);
  std::string full = *path;
  if (!rel.empty()) full += (full.empty() ? "" : "/") + rel;
  return base_url_ + "/api/2.0/mlflow-artifacts/artifacts/" + util::url_encode(full, true);
}

bool MlflowClient::upload_artifacts(const std::string& artifact_uri, const fs::path& local,
                                    const std::string& artifact_path) const {
  if (util::starts_with(artifact_uri, "file:") || (!artifact_uri.empty() && artifact_uri[0] == '/')) {
    fs::path root = file_uri_to_path(artifact_uri);
    std::error_code ec;
    if (fs::is_directory(root.parent_path(), ec)) {
      copy_artifact(local, root, artifact_path);
      return true;
    }
  }
  if (!mlflow_artifacts_path(artifact_uri)) {
    util::log_warn("artifact store ", util::redact_url(artifact_uri), " is not reachable through the MLflow server (start it with ",
                   "--serve-artifacts); ", local.string(), " was not uploaded");
    return false;
  }
  fs::path rel = fs::path(artifact_path).lexically_normal();
  if (rel == ".") rel.clear();
  if (rel.is_absolute() || util::starts_with(rel.generic_string(), ".."))
    throw util::InputError(cat("artifact path '", artifact_path, "' must be relative"));
  auto put = [&](const fs::path& file, const std::string& dest_rel) {
    util::HttpRequest req;
    req.method = "PUT";
    req.url = artifacts_url(artifact_uri, dest_rel);
    req.headers = {{"Content-Type", "application/octet-stream"}};
    req.body = util::read_file(file);
    // Checkpoints are large: 120 s, or longer at 2 MB/s.
    req.timeout_s = std::max(120.0, static_cast<double>(req.body.size()) / 2e6);
    parse_reply(req, send(req));
  };
  std::string base = rel.generic_string();
  auto join = [&](const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; };
  if (fs::is_directory(local)) {
    for (auto it = fs::recursive_directory_iterator(local); it != fs::recursive_directory_iterator(); ++it)
      if (it->is_regular_file()) put(it->path(), join(base, fs::relative(it->path(), local).generic_string()));
  } else {
    put(local, join(base, local.filename().string()));
  }
  return true;
}

void MlflowClient::download_artifacts(const std::string& artifact_uri, const fs::path& dest) const {
  if (util::starts_with(artifact_uri, "file:") || (!artifact_uri.empty() && artifact_uri[0] == '/')) {
    fs::path src = file_uri_to_path(artifact_uri);
    if (!fs::exists(src)) throw util::RuntimeError(cat(src.string(), ": model source not found on this machine"));
    fs::create_directories(dest);
    fs::copy(src, dest, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    return;
  }
  auto root = mlflow_artifacts_path(artifact_uri);
  if (!root)
    throw util::RuntimeError(cat("cannot download ", util::redact_url(artifact_uri),
                                 ": only mlflow-artifacts:/ (proxied) and local file sources are supported"));
  std::function<void(const std::string&, const fs::path&)> walk = [&](const std::string& rel, const fs::path& out) {
    util::HttpRequest req;
    std::string p = rel.empty() ? *root : *root + "/" + rel;
    req.url = base_url_ + "/api/2.0/mlflow-artifacts/artifacts?path=" + util::url_encode(p);
    Json listing = parse_reply(req, send(req));
    const Json& files = util::array_member(listing, "files");
    if (files.empty() && rel.empty()) {
      // A single file source: download it directly.
      util::HttpRequest one;
      one.url = artifacts_url(artifact_uri, "");
      auto resp = send(one);
      if (!resp.ok()) parse_reply(one, resp);
      util::atomic_write_file(out / fs::path(*root).filename(), resp.body);
      return;
    }
    fs::create_directories(out);
    for (auto& f : files) {
      std::string name = fs::path(str(f, "path")).filename().string();
      if (name.empty() || name == "." || name == "..") continue;
      std::string child = rel.empty() ? name : rel + "/" + name;
      if (f.is_object() && f.contains("is_dir") && f["is_dir"].is_boolean() && f["is_dir"].get<bool>()) {
        walk(child, out / name);
      } else {
        util::HttpRequest dl;
        dl.url = artifacts_url(artifact_uri, child);
        auto resp = send(dl);
        if (!resp.ok()) parse_reply(dl, resp);
        util::atomic_write_file(out / name, resp.body);
      }
    }
  };
  walk("", dest);
}

void MlflowClient::create_registered_model(const std::string& name, const std::map<std::string, std::string>& tags,
                                           const std::string& description) const {
  try {
    Json body{{"name", name}, {"tags", kv_list(tags)}};
    if (!description.empty()) body["description"] = description;
    post("registered-models/create", body);
  } catch (const MlflowError& e) {
    if (e.error_code() != "RESOURCE_ALREADY_EXISTS") throw;
  }
}

ModelVersionInfo MlflowClient::create_model_version(const std::string& name, const std::string& source,
                                                    const std::string& run_id,
                                                    const std::map<std::string, std::string>& tags,
                                                    const std::string& description) const {
  Json body{{"name", name}, {"source", source}, {"tags", kv_list(tags)}};
  if (!description.empty()) body["description"] = description;
  if (!run_id.empty()) body["run_id"] = run_id;
  return model_version_from_json(util::object_member(post("model-versions/create", body), "model_version"));
}

ModelVersionInfo MlflowClient::get_model_version(const std::string& name, const std::string& version) const {
  return model_version_from_json(
      util::object_member(get("model-versions/get", {{"name", name}, {"version", version}}), "model_version"));
}

std::optional<ModelVersionInfo> MlflowClient::get_latest_version(const std::string& name) const {
  auto versions = search_model_versions(name);
  std::optional<ModelVersionInfo> best;
  for (auto& v : versions) {
    int64_t n = 0, b = 0;
    util::parse_int64(v.version, n);
    if (best) util::parse_int64(best->version, b);
    if (!best || n > b) best = v;
  }
  return best;
}

std::vector<RegisteredModelInfo> MlflowClient::search_registered_models() const {
  std::vector<RegisteredModelInfo> out;
  const Query q{{"max_results", "1000"}};
  each_paged_item([&](const std::string& token) { return get("registered-models/search", with_page_token(q, token)); },
                  "registered_models", [&](const Json& m) { out.push_back(registered_model_from_json(m)); });
  return out;
}

RegisteredModelInfo MlflowClient::get_registered_model(const std::string& name) const {
  return registered_model_from_json(util::object_member(get("registered-models/get", {{"name", name}}), "registered_model"));
}

std::vector<ModelVersionInfo> MlflowClient::search_model_versions(const std::string& name) const {
  std::vector<ModelVersionInfo> out;
  const Query q{{"filter", "name=" + mlflow_quote(name)}, {"max_results", "1000"}};
  each_paged_item([&](const std::string& token) { return get("model-versions/search", with_page_token(q, token)); },
                  "model_versions", [&](const Json& v) { out.push_back(model_version_from_json(v)); });
  return out;
}

std::string MlflowClient::get_model_version_download_uri(const std::string& name, const std::string& version) const {
  return str(get("model-versions/get-download-uri", {{"name", name}, {"version", version}}), "artifact_uri");
}

}  // namespace robotrain::track
