// Registration, models:/ resolution, lineage tag capping and every invalid name/URI form from
// the seed system's tests.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "support/mlflow_server.h"
#include "support/test_support.h"
#include "track/lineage.h"
#include "track/local_registry.h"
#include "track/model_uri.h"
#include "track/registry.h"
#include "track/tracker.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/json.h"

using namespace robotrain;
using namespace robotrain::track;
namespace fs = std::filesystem;

namespace {

fs::path make_pretrained(const fs::path& dir, const std::string& weights) {
  fs::create_directories(dir);
  util::atomic_write_file(dir / "config.json", R"({"type":"act"})");
  util::atomic_write_file(dir / "model.safetensors", weights);
  return dir;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const util::InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

}  // namespace

TEST(RegisterName, SeedRules) {
  for (std::string ok : std::vector<std::string>{"cp", "lerobot_act_v1", "lerobot-act.v1", "_underscore-start", std::string(255, 'X')})
    EXPECT_NO_THROW(validate_register_name(ok)) << ok;
  for (std::string bad : std::vector<std::string>{"model name with spaces", "model/with/slashes", "model@latest", "-leading-dash",
                                                  ".leading-dot", std::string(256, 'x'), ""}) {
    auto msg = error_of([&] { validate_register_name(bad); });
    EXPECT_NE(msg.find("--register-checkpoint"), std::string::npos) << bad << ": " << msg;
  }
  EXPECT_EQ(azureml_model_name("lerobot_act_v1"), "lerobot-act-v1");
}

TEST(WarmStartUri, AcceptedForms) {
  auto a = parse_warm_start_uri("azureml:my-act-policy:7");
  EXPECT_EQ(a.kind, ModelSourceKind::AzureMlName);
  EXPECT_EQ(a.name, "my-act-policy");
  EXPECT_EQ(a.version, "7");
  EXPECT_EQ(parse_warm_start_uri("azureml:m:0").version, "0");
  auto l = parse_warm_start_uri("azureml://locations/westus2/workspaces/0000-guid/models/mdl/versions/12");
  EXPECT_EQ(l.kind, ModelSourceKind::AzureMlUri);
  EXPECT_EQ(l.name, "mdl");
  EXPECT_EQ(l.version, "12");
  EXPECT_EQ(parse_warm_start_uri("azureml://subscriptions/x/resourceGroups/y/workspaces/z/models/mdl/versions/7").version, "7");
  EXPECT_EQ(parse_warm_start_uri("https://acct.blob.core.windows.net/models/act/run1").kind, ModelSourceKind::HttpsFolder);
  auto m = parse_warm_start_uri("models:/my_model/3");
  EXPECT_EQ(m.kind, ModelSourceKind::MlflowRegistry);
  EXPECT_EQ(m.name, "my_model");
  EXPECT_EQ(m.version, "3");
  auto p = parse_warm_start_uri("outputs/train/checkpoints/last");
  EXPECT_EQ(p.kind, ModelSourceKind::LocalPath);
  EXPECT_EQ(parse_warm_start_uri("file:///tmp/ckpt").path, fs::path("/tmp/ckpt"));
  auto tags = warm_start_tags(a);
  EXPECT_EQ(tags.at("warm_start.source"), "azureml:my-act-policy:7");
  EXPECT_EQ(tags.at("warm_start.model_name"), "my-act-policy");
  EXPECT_EQ(tags.at("warm_start.model_version"), "7");
  EXPECT_EQ(warm_start_tags(p).count("warm_start.model_name"), 0u);
}

TEST(WarmStartUri, EveryInvalidFormIsRejectedWithItsReason) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"azureml:mdl:latest", "version 'latest'"},
      {"azureml:mdl:@latest", "version '@latest'"},
      {"azureml:mdl:01", "version '01'"},
      {"azureml:mdl:1.0", "version '1.0'"},
      {"azureml:mdl:", "version ''"},
      {"azureml:mdl", "has no version"},
      {"azureml:mdl@latest", "@label"},
      {"azureml::3", "empty model name"},
      {"azureml://subscriptions/x/resourceGroups/y/workspaces/z/models/mdl/versions/latest", "version 'latest'"},
      {"azureml://subscriptions/x/resourceGroups/y/workspaces/z/models/mdl/versions/02", "version '02'"},
      {"azureml://subscriptions/x/resourceGroups/y/workspaces/z/data/ds/versions/2", "data asset"},
      {"azureml://subscriptions/x/resourceGroups/y/workspaces/z/models/mdl", "no /versions/"},
      {"models:/m", "has no version"},
      {"models:/m/latest", "version 'latest'"},
      {"models:/m@champion", "alias"},
      {"models:/m/007", "version '007'"},
      {"models:m/1", "models:/NAME/VERSION"},
      {"http://acct.blob.core.windows.net/c/p", "HTTPS only"},
      {"wasbs://c@acct.blob.core.windows.net/p", "HTTPS only"},
      {"https://acct.blob.core.windows.net/c/p?sv=2024&sig=x", "SAS"},
      {"https://acct.blob.core.windows.net/c/p#frag", "fragment"},
      {"https://acct.blob.core.windows.net:443/c/p", "port"},
      {"https://example.com/model", "not an Azure Blob URL"},
      {"https://acct.dfs.core.windows.net/c/p", "not an Azure Blob URL"},
      {"https://acct.blob.core.windows.net/c", "no folder"},
      {"https://acct.blob.core.windows.net/c//", "no folder"},
      {"hf://lerobot/act", "unsupported scheme"},
      {"s3://bucket/model", "unsupported scheme"},
      {"", "is empty"},
      {"azureml:m:1\n", "control characters"},
  };
  for (auto& [uri, why] : cases) {
    auto msg = error_of([&, &uri = uri] { parse_warm_start_uri(uri); });
    EXPECT_NE(msg.find("--init-from-policy-model"), std::string::npos) << uri << ": " << msg;
    EXPECT_NE(msg.find(why), std::string::npos) << uri << ": " << msg;
  }
}

TEST(Lineage, TagValuesAreCappedTheSeedWay) {
  std::string long_value(300, 'a');
  std::string bounded = bounded_tag_value(long_value);
  EXPECT_EQ(bounded.size(), 256u);
  EXPECT_EQ(bounded.substr(bounded.size() - 26), "...sha256:" + util::sha256_hex(long_value).substr(0, 16));
  EXPECT_EQ(bounded.substr(0, 230), long_value.substr(0, 230));
  EXPECT_EQ(bounded_tag_value(std::string(256, 'b')), std::string(256, 'b'));

  LineageInfo l;
  l.job_name = "job";
  l.checkpoint = "005000";
  for (int i = 1; i <= 7; ++i)
    l.dataset_assets.push_back("azureml://subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-long/"
                               "workspaces/ws-long/data/dataset-" + std::to_string(i) + "/versions/" + std::to_string(i));
  auto tags = lineage_tags(l);
  for (auto& [k, v] : tags) EXPECT_LE(v.size(), 256u) << k;
  EXPECT_EQ(tags.at("dataset_asset_count"), "7");
  // Python: hashlib.sha256(json.dumps(assets, sort_keys=True, separators=(",", ":"))).
  std::string json_list = util::Json(l.dataset_assets).dump();
  std::string h = util::sha256_hex(json_list);
  EXPECT_EQ(tags.at("dataset_assets"), "7 data assets; sha256:" + h.substr(0, 16));
  EXPECT_EQ(tags.at("dataset_lineage_sha256"), h);
  EXPECT_EQ(tags.at("dataset_source"), "azureml-data-asset");
  EXPECT_EQ(tags.at("dataset_uri"), "azureml-data-asset: 7 data asset(s), 0 blob URL(s); sha256:" + h.substr(0, 16));
  EXPECT_EQ(tags.at("framework"), "lerobot");

  LineageInfo blobs;
  blobs.blob_urls = {"https://a.blob.core.windows.net/c/one", "https://a.blob.core.windows.net/c/two"};
  blobs.dataset_assets = {"azureml:ds:1"};
  auto bt = lineage_tags(blobs);
  EXPECT_EQ(bt.at("dataset_source"), "mixed");
  EXPECT_EQ(bt.at("blob_urls").rfind("2 blob URLs; sha256:", 0), 0u);
  EXPECT_EQ(bt.at("dataset_assets"), "azureml:ds:1");
  LineageInfo hf;
  hf.dataset_repo_id = "lerobot/pusht";
  hf.dataset_root = "/home/u/.cache/huggingface/lerobot/lerobot/pusht";
  EXPECT_EQ(lineage_tags(hf).at("dataset_source"), "huggingface");
  EXPECT_EQ(lineage_tags(hf).at("dataset_uri"), "hf://lerobot/pusht");
  // A local --dataset.root is local, whether its repo id is empty or the directory's name.
  LineageInfo local;
  local.dataset_root = "/data/sets/my set";
  EXPECT_EQ(lineage_tags(local).at("dataset_source"), "local");
  EXPECT_EQ(lineage_tags(local).at("dataset_uri"), "file:///data/sets/my%20set");
  local.dataset_repo_id = "my set";
  EXPECT_EQ(lineage_tags(local).at("dataset_source"), "local");
  EXPECT_EQ(lineage_document(local)["dataset_uri"], "file:///data/sets/my%20set");
  local.dataset_repo_id = "owner/name";
  local.dataset_source = "local";  // what the caller knows beats the guess
  EXPECT_EQ(lineage_tags(local).at("dataset_source"), "local");
  auto doc = lineage_document(l);
  EXPECT_EQ(doc["dataset_assets"].size(), 7u);
  EXPECT_TRUE(doc["mlflow_run_id"].is_null());
}

TEST(LocalRegistry, RegisterResolveAndMlflowLayout) {
  util::TempDir tmp;
  fs::path store = tmp.path() / "mlruns";
  auto ckpt = make_pretrained(tmp.path() / "out" / "checkpoints" / "000100" / "pretrained_model", "WEIGHTS-1");
  RegisterOptions o;
  o.name = "act_policy";
  o.pretrained_model_dir = ckpt;
  o.tracking_uri = store.string();
  o.lineage.job_name = "job";
  o.lineage.checkpoint = "000100";
  o.lineage.dataset_repo_id = "lerobot/pusht";
  o.lineage.mlflow_run_id = "0123456789abcdef0123456789abcdef";
  auto r1 = register_checkpoint(o);
  EXPECT_EQ(r1.registry, "local");
  EXPECT_EQ(r1.uri, "models:/act_policy/1");
  EXPECT_TRUE(fs::exists(ckpt / "azureml_lineage.json"));
  EXPECT_EQ(util::read_json_file(ckpt / "azureml_lineage.json")["dataset_uri"], "hf://lerobot/pusht");

  util::atomic_write_file(ckpt / "model.safetensors", "WEIGHTS-2");
  auto r2 = register_checkpoint(o);
  EXPECT_EQ(r2.version, "2");

  // MLflow's registry FileStore layout.
  auto rm = YAML::Load(util::read_file(store / "models" / "act_policy" / "meta.yaml"));
  EXPECT_EQ(rm["name"].as<std::string>(), "act_policy");
  EXPECT_GT(rm["creation_timestamp"].as<int64_t>(), 0);
  EXPECT_GE(rm["last_updated_timestamp"].as<int64_t>(), rm["creation_timestamp"].as<int64_t>());
  auto mv = YAML::Load(util::read_file(store / "models" / "act_policy" / "version-1" / "meta.yaml"));
  EXPECT_EQ(mv["version"].as<int>(), 1);
  EXPECT_EQ(mv["name"].as<std::string>(), "act_policy");
  EXPECT_EQ(mv["status"].as<std::string>(), "READY");
  EXPECT_EQ(mv["current_stage"].as<std::string>(), "None");
  EXPECT_EQ(mv["run_id"].as<std::string>(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(mv["source"].as<std::string>(), mv["storage_location"].as<std::string>());
  EXPECT_EQ(mv["source"].as<std::string>().rfind("file://", 0), 0u);
  EXPECT_TRUE(mv["aliases"].IsSequence());
  EXPECT_TRUE(mv["run_link"].IsNull());
  EXPECT_EQ(util::read_file(store / "models" / "act_policy" / "version-1" / "tags" / "checkpoint"), "000100");
  EXPECT_EQ(util::read_file(store / "models" / "act_policy" / "version-1" / "tags" / "dataset_source"), "huggingface");

  // models:/NAME/VERSION resolves to each version's own copy of the weights.
  ResolveOptions ro;
  ro.tracking_uri = store.string();
  auto d1 = resolve_warm_start(parse_warm_start_uri("models:/act_policy/1"), ro);
  auto d2 = resolve_warm_start(parse_warm_start_uri("models:/act_policy/2"), ro);
  EXPECT_EQ(util::read_file(d1 / "model.safetensors"), "WEIGHTS-1");
  EXPECT_EQ(util::read_file(d2 / "model.safetensors"), "WEIGHTS-2");
  EXPECT_TRUE(fs::exists(d1 / "azureml_lineage.json"));
  EXPECT_THROW(resolve_warm_start(parse_warm_start_uri("models:/act_policy/3"), ro), util::RuntimeError);
  LocalRegistry reg(store);
  auto models = reg.list_models();
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0].latest_versions.at(0).version, "2");
  // A local checkpoint directory resolves to its pretrained_model.
  auto local = resolve_warm_start(parse_warm_start_uri((tmp.path() / "out" / "checkpoints" / "000100").string()), ro);
  EXPECT_EQ(local, fs::absolute(ckpt));
}

TEST(LocalRegistry, RejectsBadInputsBeforeWriting) {
  util::TempDir tmp;
  RegisterOptions o;
  o.tracking_uri = (tmp.path() / "s").string();
  o.pretrained_model_dir = make_pretrained(tmp.path() / "pm", "w");
  o.name = "bad name";
  EXPECT_THROW(register_checkpoint(o), util::InputError);
  o.name = "ok";
  fs::remove(o.pretrained_model_dir / "model.safetensors");
  auto msg = error_of([&] { register_checkpoint(o); });
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(tmp.path() / "s" / "models" / "ok"));
  // A directory that is no pretrained model cannot be a warm start either.
  EXPECT_THROW(resolve_warm_start(parse_warm_start_uri((tmp.path() / "pm").string()), {}), util::InputError);
  EXPECT_THROW(resolve_warm_start(parse_warm_start_uri("azureml:m:1"), {}), util::RuntimeError);
}

// The MLflow server's registry, read back by MLflow's Python client: the model and each
// version carry descriptions and tags, the weights come back byte-identical.
TEST(MlflowServerRegistry, RegisterUploadsWeightsWithDescriptionsAndTags) {
  ASSERT_EQ(test::mlflow_missing(), "");
  std::string url;
  ASSERT_NO_THROW(url = test::shared_mlflow_url());
  util::TempDir tmp;
  TrackerOptions to;
  to.tracking_uri = url;
  to.experiment_name = test::unique_name("registry");
  to.journal_path = tmp.path() / "j.jsonl";
  auto t = open_tracker(to);
  const std::string name = test::unique_name("remote_act");
  RegisterOptions o;
  o.name = name;
  o.pretrained_model_dir = make_pretrained(tmp.path() / "pm", "REMOTE-WEIGHTS-1");
  o.tracking_uri = url;
  o.artifact_uri = t->artifact_uri();
  o.lineage.checkpoint = "000200";
  o.lineage.job_name = "job";
  o.lineage.mlflow_run_id = t->run_id();
  o.lineage.dataset_root = "/data/my_local_set";
  o.version_tags = {{"quality_gate", "none"}};
  auto r1 = register_checkpoint(o);
  o.lineage.checkpoint = "000400";
  o.version_tags = {{"quality_gate", "max_action_mse<=0.5"}};
  util::atomic_write_file(o.pretrained_model_dir / "model.safetensors", "REMOTE-WEIGHTS-2");
  auto r2 = register_checkpoint(o);
  t->finish(RunStatus::Finished);
  EXPECT_EQ(r1.registry, "mlflow");
  EXPECT_EQ(r1.uri, "models:/" + name + "/1");
  EXPECT_EQ(r2.uri, "models:/" + name + "/2");

  auto peer = test::run_peer_script("mlflow_inspect.py", {"model", url, name, "--download", (tmp.path() / "peer").string()});
  ASSERT_EQ(peer.exit_code, 0) << peer.err;
  auto m = util::Json::parse(peer.out);
  EXPECT_NE(m["description"].get<std::string>().find("LeRobot act policy"), std::string::npos) << m.dump();
  EXPECT_EQ(m["tags"]["framework"], "lerobot");
  ASSERT_EQ(m["versions"].size(), 2u);
  auto& v1 = m["versions"][0];
  EXPECT_EQ(v1["run_id"], t->run_id());
  EXPECT_EQ(v1["tags"]["checkpoint"], "000200");
  EXPECT_EQ(v1["tags"]["quality_gate"], "none");
  EXPECT_EQ(v1["tags"]["dataset_source"], "local");
  EXPECT_EQ(v1["tags"]["dataset_uri"], "file:///data/my_local_set");
  EXPECT_NE(v1["description"].get<std::string>().find("checkpoint 000200"), std::string::npos) << v1.dump();
  EXPECT_EQ(v1["files"]["model.safetensors"]["sha256"], util::sha256_hex("REMOTE-WEIGHTS-1"));
  EXPECT_TRUE(v1["files"].contains("azureml_lineage.json"));
  EXPECT_EQ(m["versions"][1]["tags"]["quality_gate"], "max_action_mse<=0.5");
  EXPECT_EQ(m["versions"][1]["files"]["model.safetensors"]["sha256"], util::sha256_hex("REMOTE-WEIGHTS-2"));

  ResolveOptions ro;
  ro.tracking_uri = url;
  ro.download_dir = tmp.path() / "dl";
  auto dir = resolve_warm_start(parse_warm_start_uri("models:/" + name + "/1"), ro);
  EXPECT_EQ(util::read_file(dir / "model.safetensors"), "REMOTE-WEIGHTS-1");
  EXPECT_TRUE(fs::exists(dir / "azureml_lineage.json"));
  // A version tag key MLflow would refuse is refused before anything is registered.
  o.version_tags = {{"bad key!", "x"}};
  EXPECT_THROW(register_checkpoint(o), util::InputError);
}

TEST(AzureMlRegistry, PutsCustomModelVersionWithMappedNameAndRetries) {
  util::set_retry_sleep_scale(0.0);
  std::atomic<int> puts{0};
  std::string put_path, put_body, auth;
  test::TestHttpServer arm([&](const test::TestRequest& req) {
    if (req.method == "GET") return test::TestResponse::json(200, R"({"value":[{"name":"1"},{"name":"4"}]})");
    if (++puts == 1) return test::TestResponse::json(500, R"({"error":{"code":"InternalServerError"}})");
    put_path = req.path;
    put_body = req.body;
    auth = req.header("authorization");
    return test::TestResponse::json(201, "{}");
  });
  util::TempDir tmp;
  RegisterOptions o;
  o.name = "act_model_v2";
  o.pretrained_model_dir = make_pretrained(tmp.path() / "pm", "w");
  o.tracking_uri =
      "azureml://westus2.api.azureml.ms/mlflow/v1.0/subscriptions/sub1/resourceGroups/rg1/providers/"
      "Microsoft.MachineLearningServices/workspaces/ws1";
  o.access_token = [] { return std::string("aad"); };
  o.management_endpoint = arm.url();
  o.azureml_upload = [](const fs::path&, const std::string& model) {
    return "azureml://datastores/workspaceblobstore/paths/models/" + model;
  };
  o.lineage.dataset_repo_id = "lerobot/pusht";
  auto r = register_checkpoint(o);
  EXPECT_EQ(r.uri, "azureml:act-model-v2:5");
  EXPECT_EQ(put_path,
            "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/models/"
            "act-model-v2/versions/5");
  auto body = util::Json::parse(put_body);
  EXPECT_EQ(body["properties"]["modelType"], "custom_model");
  EXPECT_EQ(body["properties"]["modelUri"], "azureml://datastores/workspaceblobstore/paths/models/act-model-v2");
  EXPECT_EQ(body["properties"]["tags"]["dataset_source"], "huggingface");
  EXPECT_EQ(auth, "Bearer aad");
  util::set_retry_sleep_scale(1.0);
}
