// The local store must be what MLflow's FileStore writes (mlflow/store/tracking/file_store.py)
// so `mlflow ui --backend-store-uri ./mlruns` shows robotrain runs: checked file by file.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "track/file_store.h"
#include "track/file_tracker.h"
#include "track/journal.h"
#include "track/tracker.h"
#include "track/tracking_uri.h"
#include "track/validation.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

using namespace robotrain;
using namespace robotrain::track;
namespace fs = std::filesystem;

namespace {

YAML::Node yaml(const fs::path& p) { return YAML::Load(util::read_file(p)); }

std::vector<std::string> lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

// The scalar's tag tells plain ("?") from quoted ("!") scalars: quoted means "string".
bool is_quoted_string(const YAML::Node& n) { return n.IsScalar() && n.Tag() == "!"; }

}  // namespace

TEST(FileStore, DefaultExperimentZeroIsCreatedWithEveryField) {
  util::TempDir tmp;
  FileStore store(tmp.path() / "mlruns");
  auto meta = yaml(tmp.path() / "mlruns" / "0" / "meta.yaml");
  ASSERT_TRUE(meta.IsMap());
  EXPECT_EQ(meta.size(), 6u);
  EXPECT_EQ(meta["experiment_id"].as<std::string>(), "0");
  EXPECT_TRUE(is_quoted_string(meta["experiment_id"])) << "experiment_id must stay a string";
  EXPECT_EQ(meta["name"].as<std::string>(), "Default");
  EXPECT_EQ(meta["lifecycle_stage"].as<std::string>(), "active");
  EXPECT_EQ(meta["artifact_location"].as<std::string>(), "file://" + (tmp.path() / "mlruns" / "0").string());
  EXPECT_GT(meta["creation_time"].as<int64_t>(), 1600000000000);
  EXPECT_EQ(meta["last_update_time"].as<int64_t>(), meta["creation_time"].as<int64_t>());
  EXPECT_TRUE(fs::is_directory(tmp.path() / "mlruns" / ".trash"));
  // Keys sorted, as PyYAML's dump(sort_keys=True).
  auto text = lines(tmp.path() / "mlruns" / "0" / "meta.yaml");
  ASSERT_EQ(text.size(), 6u);
  EXPECT_EQ(text[0].substr(0, 18), "artifact_location:");
  EXPECT_EQ(text[5], "name: Default");
}

TEST(FileStore, RunLayoutMatchesMlflowFieldByField) {
  util::TempDir tmp;
  fs::path root = tmp.path() / "mlruns";
  TrackerOptions opt;
  opt.tracking_uri = "file://" + root.string();
  opt.experiment_name = "lerobot-act-job";
  opt.run_name = "my-run";
  opt.tags = {{"lerobot.policy_type", "act"}};
  auto t = open_tracker(opt);
  std::string run_id = t->run_id(), exp_id = t->experiment_id();
  ASSERT_EQ(run_id.size(), 32u);
  ASSERT_EQ(exp_id.size(), 18u);
  EXPECT_NE(exp_id[0], '0');

  t->log_params({{"batch_size", "32"}, {"policy/type", "act"}});
  t->log_metrics({{"train/loss", 0.5}, {"lr", 1e-5}}, 10, 1700000000123);
  t->log_metrics({{"train/loss", 0.25}}, 20, 1700000000456);
  t->log_metrics({{"train/loss", 1.0}}, 30, 1700000000789);
  t->set_tags({{"training_status", "completed"}});

  fs::path edir = root / exp_id;
  auto emeta = yaml(edir / "meta.yaml");
  EXPECT_EQ(emeta["name"].as<std::string>(), "lerobot-act-job");
  EXPECT_EQ(emeta["experiment_id"].as<std::string>(), exp_id);
  EXPECT_TRUE(is_quoted_string(emeta["experiment_id"]));
  EXPECT_EQ(emeta["artifact_location"].as<std::string>(), "file://" + edir.string());

  fs::path rdir = edir / run_id;
  auto m = yaml(rdir / "meta.yaml");
  EXPECT_EQ(m.size(), 16u);
  EXPECT_EQ(m["artifact_uri"].as<std::string>(), "file://" + (rdir / "artifacts").string());
  EXPECT_TRUE(m["end_time"].IsNull());
  EXPECT_TRUE(m["deleted_time"].IsNull());
  EXPECT_EQ(m["entry_point_name"].as<std::string>(), "");
  EXPECT_TRUE(is_quoted_string(m["entry_point_name"]));
  EXPECT_EQ(m["experiment_id"].as<std::string>(), exp_id);
  EXPECT_TRUE(is_quoted_string(m["experiment_id"]));
  EXPECT_EQ(m["lifecycle_stage"].as<std::string>(), "active");
  EXPECT_EQ(m["run_id"].as<std::string>(), run_id);
  EXPECT_EQ(m["run_uuid"].as<std::string>(), run_id);
  EXPECT_EQ(m["run_name"].as<std::string>(), "my-run");
  EXPECT_EQ(m["source_name"].as<std::string>(), "");
  EXPECT_EQ(m["source_type"].as<int>(), 4);
  EXPECT_EQ(m["source_version"].as<std::string>(), "");
  EXPECT_GT(m["start_time"].as<int64_t>(), 1600000000000);
  EXPECT_EQ(m["status"].as<int>(), 1);
  EXPECT_TRUE(m["tags"].IsSequence());
  EXPECT_EQ(m["tags"].size(), 0u);
  EXPECT_FALSE(m["user_id"].as<std::string>().empty());
  EXPECT_TRUE(fs::is_directory(rdir / "artifacts"));
  EXPECT_TRUE(fs::is_directory(rdir / "params"));
  EXPECT_TRUE(fs::is_directory(rdir / "metrics"));

  // Params and tags: the file content is the value, no trailing newline; "/" nests.
  EXPECT_EQ(util::read_file(rdir / "params" / "batch_size"), "32");
  EXPECT_EQ(util::read_file(rdir / "params" / "policy" / "type"), "act");
  EXPECT_EQ(util::read_file(rdir / "tags" / "mlflow.runName"), "my-run");
  EXPECT_EQ(util::read_file(rdir / "tags" / "mlflow.source.type"), "LOCAL");
  EXPECT_FALSE(util::read_file(rdir / "tags" / "mlflow.source.name").empty());
  EXPECT_EQ(util::read_file(rdir / "tags" / "mlflow.user"), m["user_id"].as<std::string>());
  EXPECT_EQ(util::read_file(rdir / "tags" / "lerobot.policy_type"), "act");
  EXPECT_EQ(util::read_file(rdir / "tags" / "training_status"), "completed");

  // Metrics: "<timestamp_ms> <python repr of value> <step>" per line, appended.
  EXPECT_EQ(lines(rdir / "metrics" / "train" / "loss"),
            (std::vector<std::string>{"1700000000123 0.5 10", "1700000000456 0.25 20", "1700000000789 1.0 30"}));
  EXPECT_EQ(lines(rdir / "metrics" / "lr"), (std::vector<std::string>{"1700000000123 1e-05 10"}));

  t->finish(RunStatus::Failed);
  auto done = yaml(rdir / "meta.yaml");
  EXPECT_EQ(done["status"].as<int>(), 4);
  EXPECT_GE(done["end_time"].as<int64_t>(), done["start_time"].as<int64_t>());
  EXPECT_FALSE(done["deleted_time"]) << "MLflow's update omits deleted_time";
  EXPECT_EQ(done["run_name"].as<std::string>(), "my-run");

  // Read back through the store: latest metric = highest step.
  FileStore store(root);
  auto rec = store.read_run(store.get_run(run_id));
  EXPECT_EQ(rec.info.status, "FAILED");
  EXPECT_EQ(rec.params.at("policy/type"), "act");
  EXPECT_DOUBLE_EQ(rec.metrics.at("train/loss").value, 1.0);
  EXPECT_EQ(rec.metrics.at("train/loss").step, 30);
  EXPECT_EQ(store.metric_history(rec.info, "train/loss").size(), 3u);
}

TEST(FileStore, SecondRunReusesExperimentByName) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "store").string();
  opt.experiment_name = "exp";
  auto a = open_tracker(opt);
  auto b = open_tracker(opt);
  EXPECT_EQ(a->experiment_id(), b->experiment_id());
  EXPECT_NE(a->run_id(), b->run_id());
  FileStore store(tmp.path() / "store");
  EXPECT_EQ(store.list_runs(a->experiment_id()).size(), 2u);
  EXPECT_EQ(store.list_experiments().size(), 2u);  // Default + exp
}

TEST(FileStore, DefaultExperimentWhenNameEmpty) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "s").string();
  auto t = open_tracker(opt);
  EXPECT_EQ(t->experiment_id(), "0");
  EXPECT_TRUE(fs::exists(tmp.path() / "s" / "0" / t->run_id() / "meta.yaml"));
}

TEST(FileStore, ParamsAreWriteOnce) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "s").string();
  auto t = open_tracker(opt);
  t->log_params({{"lr", "0.1"}});
  EXPECT_NO_THROW(t->log_params({{"lr", "0.1"}}));
  EXPECT_THROW(t->log_params({{"lr", "0.2"}}), util::InputError);
}

TEST(FileStore, KeysThatEscapeTheRunDirectoryAreRejected) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "s").string();
  auto t = open_tracker(opt);
  for (std::string bad : std::vector<std::string>{"../x", "/abs", "a//b", "a/../b", "", std::string(251, 'a'), "semi;colon", "a/"})
    EXPECT_THROW(t->log_metrics({{bad, 1.0}}, 0), util::InputError) << bad;
  EXPECT_NO_THROW(t->log_metrics({{std::string(250, 'a'), 1.0}}, 0));
}

TEST(FileStore, ArtifactsCopyFilesAndDirectoriesLikeMlflow) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "s").string();
  auto t = open_tracker(opt);
  fs::create_directories(tmp.path() / "ckpt" / "pretrained_model");
  util::atomic_write_file(tmp.path() / "ckpt" / "pretrained_model" / "config.json", "{}");
  util::atomic_write_file(tmp.path() / "notes.txt", "hi");
  t->log_artifact(tmp.path() / "ckpt", "checkpoints/000100");
  t->log_artifact(tmp.path() / "notes.txt", "");
  fs::path art = file_uri_to_path(t->artifact_uri());
  EXPECT_EQ(util::read_file(art / "checkpoints" / "000100" / "pretrained_model" / "config.json"), "{}");
  EXPECT_EQ(util::read_file(art / "notes.txt"), "hi");
  EXPECT_THROW(t->log_artifact(tmp.path() / "notes.txt", "../up"), util::InputError);
}

TEST(FileStore, AttachesToAnExistingRun) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "s").string();
  auto first = open_tracker(opt);
  first->finish(RunStatus::Killed);
  opt.run_id = first->run_id();
  auto again = open_tracker(opt);
  EXPECT_EQ(again->run_id(), first->run_id());
  FileStore store(tmp.path() / "s");
  EXPECT_EQ(store.get_run(first->run_id()).status, "RUNNING");
  again->finish(RunStatus::Finished);
  EXPECT_EQ(store.get_run(first->run_id()).status, "FINISHED");
  opt.run_id = "0123456789abcdef0123456789abcdef";
  EXPECT_THROW(open_tracker(opt), util::InputError);
}

TEST(FileStore, DisabledTrackerWritesNothing) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "s").string();
  opt.disabled = true;
  auto t = open_tracker(opt);
  t->log_metrics({{"a", 1}}, 1);
  t->finish(RunStatus::Finished);
  EXPECT_EQ(t->run_id(), "");
  EXPECT_FALSE(fs::exists(tmp.path() / "s"));
}

TEST(FileStore, PythonFloatRepr) {
  EXPECT_EQ(python_float_repr(1.0), "1.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(1e-5), "1e-05");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(123456.0), "123456.0");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1.5e16), "1.5e+16");
  EXPECT_EQ(python_float_repr(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(python_float_repr(-2.5), "-2.5");
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(python_float_repr(std::nan("")), "nan");
  EXPECT_EQ(python_float_repr(-INFINITY), "-inf");
  EXPECT_EQ(python_float_repr(1.25e-7), "1.25e-07");
  EXPECT_EQ(python_float_repr(1e100), "1e+100");
}

TEST(TrackingUri, ParsesEveryForm) {
  auto f = parse_tracking_uri("file:///tmp/x/mlruns");
  EXPECT_EQ(f.kind, TrackingKind::File);
  EXPECT_EQ(f.root, fs::path("/tmp/x/mlruns"));
  EXPECT_EQ(parse_tracking_uri("file://localhost/tmp/y").root, fs::path("/tmp/y"));
  EXPECT_EQ(parse_tracking_uri("/tmp/z/").root, fs::path("/tmp/z"));
  EXPECT_EQ(parse_tracking_uri("rel/dir").root, fs::current_path() / "rel" / "dir");
  auto h = parse_tracking_uri("http://mlflow:5000/");
  EXPECT_EQ(h.kind, TrackingKind::Http);
  EXPECT_EQ(h.base_url, "http://mlflow:5000");
  auto a = parse_tracking_uri(
      "azureml://westus2.api.azureml.ms/mlflow/v1.0/subscriptions/sub-1/resourceGroups/rg/providers/"
      "Microsoft.MachineLearningServices/workspaces/ws");
  EXPECT_EQ(a.kind, TrackingKind::AzureMl);
  EXPECT_EQ(a.base_url,
            "https://westus2.api.azureml.ms/mlflow/v1.0/subscriptions/sub-1/resourceGroups/rg/providers/"
            "Microsoft.MachineLearningServices/workspaces/ws");
  for (std::string bad : {"sqlite:///mlflow.db", "databricks", "s3://bucket/x", "file://otherhost/x", "http://",
                          "azureml://westus2.api.azureml.ms/mlflow/v1.0/subscriptions/s",
                          "azureml://westus2.api.azureml.ms/mlflow/v1.0/subscriptions//resourceGroups/rg/providers/"
                          "Microsoft.MachineLearningServices/workspaces/ws"})
    EXPECT_THROW(parse_tracking_uri(bad), util::InputError) << bad;
}

// A line torn by a full disk or a crash (MLflow's own store or an older robotrain) costs that
// line, not the run and not the store: `runs list` used to fail on "malformed metric line".
TEST(FileStore, TornMetricLinesAreSkippedNotFatal) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "s").string();
  auto t = open_tracker(opt);
  t->log_metrics({{"train/loss", 0.5}}, 1, 1700000000001);
  t->log_metrics({{"train/loss", 0.25}}, 2, 1700000000002);
  t->finish(RunStatus::Finished);
  FileStore store(tmp.path() / "s");
  auto run = store.get_run(t->run_id());
  fs::path file = store.run_dir(run) / "metrics" / "train" / "loss";
  std::ofstream(file, std::ios::app) << "17";  // what ENOSPC left behind mid-line
  auto history = store.metric_history(run, "train/loss");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].step, 2);
  auto rec = store.read_run(run);
  EXPECT_DOUBLE_EQ(rec.metrics.at("train/loss").value, 0.25);
  std::ofstream(file, std::ios::app) << "\n1700000000003 garbage 3\n1700000000004 0.125 4\n";
  history = store.metric_history(run, "train/loss");
  ASSERT_EQ(history.size(), 3u) << "a bad line in the middle costs that line only";
  EXPECT_EQ(history[2].step, 4);
}

// A write the disk refuses (here: the metric's file cannot be opened) is handled like an
// unreachable server: journaled with one warning, later calls journaled in order, the run
// still ends FINISHED, and the journal replays into the store once it can be written.
TEST(FileStore, RefusedWritesAreJournaledAndTheRunStillEnds) {
  util::TempDir tmp;
  TrackerOptions opt;
  opt.tracking_uri = (tmp.path() / "s").string();
  opt.journal_path = tmp.path() / "out" / ".robotrain" / "mlflow-journal.jsonl";
  auto t = open_tracker(opt);
  t->log_metrics({{"train/loss", 1.0}}, 1, 1700000000001);
  FileStore store(tmp.path() / "s");
  auto run = store.get_run(t->run_id());
  fs::path blocked = store.run_dir(run) / "metrics" / "val" / "loss";
  fs::create_directories(blocked);  // appending to a directory fails like a full disk does
  t->log_metrics({{"val/loss", 0.9}, {"train/loss", 0.8}}, 2, 1700000000002);
  t->log_metrics({{"train/loss", 0.7}}, 3, 1700000000003);
  t->set_tags({{"training_status", "completed"}});
  t->finish(RunStatus::Finished);
  EXPECT_EQ(store.get_run(run.run_id).status, "FINISHED") << "the run does not stay RUNNING";
  ASSERT_TRUE(fs::exists(opt.journal_path)) << "the refused calls are kept";
  EXPECT_EQ(store.metric_history(run, "train/loss").size(), 2u) << "step 1, and step 2's point written before the failure";

  fs::remove_all(blocked);  // room again
  auto r = sync_journal(opt.journal_path, {});
  EXPECT_EQ(r.run_ids, std::vector<std::string>{run.run_id});
  auto loss = store.metric_history(run, "train/loss");
  ASSERT_EQ(loss.size(), 3u) << "nothing lost, nothing twice";
  EXPECT_EQ(loss[2].step, 3);
  EXPECT_EQ(store.metric_history(run, "val/loss").size(), 1u);
  EXPECT_EQ(store.read_run(run).tags.at("training_status"), "completed");
  EXPECT_FALSE(fs::exists(opt.journal_path));
}
