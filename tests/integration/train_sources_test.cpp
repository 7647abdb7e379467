// Remote sources through the real binary against a real Azure Blob emulator (Azurite): warm
// starts from a blob folder, datasets fetched from blob prefixes (merged when several), and
// training on them.
#include <gtest/gtest.h>

#include <algorithm>

#include "integration/train_support.h"
#include "storage/blob_client.h"
#include "storage/blob_upload.h"
#include "storage/blob_url.h"
#include "support/azurite.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
using robotrain::test::run_robotrain;
namespace util = robotrain::util;
namespace storage = robotrain::storage;

namespace {

class BlobSources : public ::testing::Test {
 protected:
  static inline std::unique_ptr<robotrain::test::AzuriteServer> server;
  util::TempDir tmp{"rt-sources"};

  static void SetUpTestSuite() {
    if (robotrain::test::azurite_available()) server = std::make_unique<robotrain::test::AzuriteServer>();
  }
  static void TearDownTestSuite() { server.reset(); }
  void SetUp() override {
    if (!server) FAIL() << "node or azurite missing (run scripts/install-deps.sh)";
    ASSERT_TRUE(server->error.empty()) << server->error;
  }
  // What a user sets to point robotrain at the emulator (the account key defaults to
  // Azurite's well-known one).
  std::map<std::string, std::string> env() const { return {{"AZURE_STORAGE_BLOB_ENDPOINT", server->endpoint}}; }
  void upload(const fs::path& dir, const std::string& url) const {
    storage::BlobAccess access;
    access.endpoint = server->endpoint;
    access.account_key = robotrain::test::kAzuriteKey;
    auto location = storage::parse_blob_url(url);
    storage::BlobClient(access, location.account).create_container(location.container);
    storage::upload_directory(dir, url, access);
  }
  // `robotrain train` (2 steps into tmp/run) on the dataset fetched from `blob_urls` into
  // tmp/data rather than on --dataset.root, with TMPDIR at tmp/tmp; `extra` flags follow.
  util::ProcessResult train_on_blobs(const std::vector<std::string>& blob_urls, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> flags;
    for (const auto& url : blob_urls) flags.insert(flags.end(), {"--blob-url", url});
    flags.insert(flags.end(), extra.begin(), extra.end());
    flags.insert(flags.end(), {"--dataset-download-dir", (tmp.path() / "data").string()});
    auto args = tt::train_args((tmp.path() / "run").string(), 2, flags);
    auto at = std::find(args.begin(), args.end(), "--dataset.root");
    args.erase(at, at + 2);
    auto e = env();
    e["TMPDIR"] = (tmp.path() / "tmp").string();
    fs::create_directories(tmp.path() / "tmp");
    return run_robotrain(args, e);
  }
  // The fetched dataset merged both prefixes, and the hand-over marker did not outlive the job.
  void expect_merged_fetch_without_marker() const {
    EXPECT_EQ(util::read_json_file(tmp.path() / "data" / "meta" / "info.json")["total_episodes"], 4);
    for (const auto& entry : fs::directory_iterator(tmp.path() / "tmp"))
      EXPECT_EQ(entry.path().filename().string().find("robotrain-fetched-"), std::string::npos) << entry.path();
  }
};

const std::string kBlobRoot = "https://devstoreaccount1.blob.core.windows.net/";

}  // namespace

TEST_F(BlobSources, WarmStartFromABlobFolder) {
  auto r = run_robotrain(tt::train_args((tmp.path() / "a").string(), 2, {"--save_freq", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path pm = tmp.path() / "a" / "checkpoints" / "000002" / "pretrained_model";
  upload(pm, kBlobRoot + "models/tiny/pretrained_model");
  r = run_robotrain(tt::train_args((tmp.path() / "b").string(), 1,
                                   {"--init-from-policy-model", kBlobRoot + "models/tiny/pretrained_model", "--policy.optimizer_lr",
                                    "0", "--policy.optimizer_lr_backbone", "0", "--policy.optimizer_weight_decay", "0"}),
                    env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(tt::max_abs_diff(pm / "model.safetensors",
                             tmp.path() / "b" / "checkpoints" / "000001" / "pretrained_model" / "model.safetensors"),
            1e-7);
  // A folder without the weights is a clear runtime error.
  r = run_robotrain(tt::train_args((tmp.path() / "c").string(), 1, {"--init-from-policy-model", kBlobRoot + "models/none"}), env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "c"));
}

// One prefix downloads as is; two are merged into one v3.0 dataset with both datasets'
// episodes; a second fetch of the same sources reuses the finished directory.
TEST_F(BlobSources, DatasetFetchDownloadsAndMergesBlobPrefixes) {
  upload(tt::synth_dataset(), kBlobRoot + "data/a");
  upload(tt::synth_dataset(), kBlobRoot + "data/b");
  auto r = run_robotrain({"dataset", "fetch", "--blob-url", kBlobRoot + "data/a", "--output", (tmp.path() / "one").string(),
                          "--json"},
                         env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto one = util::Json::parse(r.out);
  EXPECT_EQ(one["source"], "azure-blob");
  EXPECT_FALSE(one["merged"].get<bool>());
  EXPECT_EQ(util::read_file(tmp.path() / "one" / "meta" / "info.json"),
            util::read_file(fs::path(tt::synth_dataset()) / "meta" / "info.json"));

  auto home = env();
  home["ROBOTRAIN_HOME"] = (tmp.path() / "home").string();
  const std::vector<std::string> both{"dataset", "fetch", "--blob-url", kBlobRoot + "data/a", "--blob-url", kBlobRoot + "data/b", "--json"};
  r = run_robotrain(both, home);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto merged = util::Json::parse(r.out);
  EXPECT_TRUE(merged["merged"].get<bool>());
  EXPECT_FALSE(merged["reused"].get<bool>());
  const fs::path root = merged["root"].get<std::string>();
  EXPECT_EQ(root.parent_path(), tmp.path() / "home" / "datasets");
  auto info = util::read_json_file(root / "meta" / "info.json");
  EXPECT_EQ(info["total_episodes"], 4);
  EXPECT_EQ(info["total_frames"], 160);
  auto listed = run_robotrain({"dataset", "validate", root.string()});
  EXPECT_EQ(listed.exit_code, 0) << listed.out << listed.err;
  // No scratch left beside it; only the record of what the blob prefixes held.
  const fs::path manifest = root.parent_path() / (root.filename().string() + ".fetch.json");
  for (const auto& e : fs::directory_iterator(root.parent_path()))
    EXPECT_TRUE(e.path() == root || e.path() == manifest) << "left behind: " << e.path();
  EXPECT_EQ(util::read_json_file(manifest)["blob_fingerprints"].size(), 2u);

  r = run_robotrain(both, home);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(util::Json::parse(r.out)["reused"].get<bool>());

  // A prefix rewritten since the fetch (new ETags) is fetched again, not silently reused.
  upload(tt::synth_dataset(), kBlobRoot + "data/b");
  r = run_robotrain(both, home);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(util::Json::parse(r.out)["reused"].get<bool>());
  EXPECT_NE(r.err.find("changed since"), std::string::npos) << r.err;
  EXPECT_EQ(util::read_json_file(root / "meta" / "info.json")["total_episodes"], 4);
  r = run_robotrain(both, home);
  EXPECT_TRUE(util::Json::parse(r.out)["reused"].get<bool>()) << r.err;

  // Offline (the service unreachable), the earlier copy is used with a warning.
  auto offline = home;
  offline["AZURE_STORAGE_BLOB_ENDPOINT"] = "http://127.0.0.1:9";
  r = run_robotrain(both, offline);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(util::Json::parse(r.out)["reused"].get<bool>());
  EXPECT_NE(r.err.find("cannot check the blob sources"), std::string::npos) << r.err;
}

TEST_F(BlobSources, TrainOnTwoBlobPrefixesTrainsOnTheirMerge) {
  upload(tt::synth_dataset(), kBlobRoot + "train/a");
  upload(tt::synth_dataset(), kBlobRoot + "train/b");
  auto r = train_on_blobs({kBlobRoot + "train/a", kBlobRoot + "train/b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_merged_fetch_without_marker();
  auto cfg = util::read_json_file(tmp.path() / "run" / "checkpoints" / "000002" / "pretrained_model" / "train_config.json");
  EXPECT_EQ(cfg["dataset"]["root"], (tmp.path() / "data").string());
}

TEST_F(BlobSources, SourceErrorsAreInputErrorsBeforeAnyDownload) {
  // Syntax: exit 2, nothing created.
  auto r = run_robotrain({"dataset", "fetch", "--blob-url", "http://example.com/x", "--output", (tmp.path() / "x").string()}, env());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--blob-url"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "x"));
  r = run_robotrain({"dataset", "fetch"}, env());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto args = tt::train_args((tmp.path() / "run").string(), 1, {"--blob-url", kBlobRoot + "data/a"});
  r = run_robotrain(args, env());  // --dataset.root and --blob-url together
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("keep one"), std::string::npos) << r.err;
  // A prefix holding no dataset: a runtime error naming it, and no half-written output.
  r = run_robotrain({"dataset", "fetch", "--blob-url", kBlobRoot + "data/empty-prefix", "--output", (tmp.path() / "y").string()}, env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "y"));
}

// Two local workers: local rank 0 fetches and merges once, the other waits for it and trains
// on the same directory.
TEST_F(BlobSources, TwoWorkersShareOneFetch) {
  upload(tt::synth_dataset(), kBlobRoot + "ddp/a");
  upload(tt::synth_dataset(), kBlobRoot + "ddp/b");
  auto r = train_on_blobs({kBlobRoot + "ddp/a", kBlobRoot + "ddp/b"}, {"--nproc-per-node", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_merged_fetch_without_marker();
  EXPECT_TRUE(fs::exists(tmp.path() / "run" / "checkpoints" / "000002" / "pretrained_model" / "model.safetensors"));
  // Only one worker downloaded: a second download into the same directory would have failed.
  EXPECT_EQ(r.err.find("already exists"), std::string::npos) << r.err;
}

// Inside an Azure ML job data assets are read-only mounts named by AZURE_ML_INPUT_*: one is used
// in place, several are merged into one dataset.
TEST(MountedDataAssets, OneIsUsedInPlaceSeveralAreMerged) {
  util::TempDir tmp{"rt-mounts"};
  const std::string mount = tt::synth_dataset();
  std::map<std::string, std::string> job{{"DATASET_ASSET_COUNT", "1"}, {"AZURE_ML_INPUT_dataset_asset_0", mount},
                                         {"ROBOTRAIN_HOME", (tmp.path() / "home").string()}};
  auto r = run_robotrain({"dataset", "fetch", "--dataset-asset", "azureml:pusht:3", "--json"}, job);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto one = util::Json::parse(r.out);
  EXPECT_EQ(one["root"], mount);
  EXPECT_EQ(one["source"], "azureml-data-asset");
  EXPECT_FALSE(fs::exists(tmp.path() / "home" / "datasets")) << "nothing copied";

  job["DATASET_ASSET_COUNT"] = "2";
  job["AZURE_ML_INPUT_dataset_asset_1"] = mount;
  r = run_robotrain({"dataset", "fetch", "--dataset-asset", "azureml:pusht:3", "--dataset-asset", "azureml:pusht:4", "--json"}, job);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto two = util::Json::parse(r.out);
  EXPECT_TRUE(two["merged"].get<bool>());
  EXPECT_EQ(util::read_json_file(fs::path(two["root"].get<std::string>()) / "meta" / "info.json")["total_episodes"], 4);

  // A mount the job did not set: the unset variable is named.
  job.erase("AZURE_ML_INPUT_dataset_asset_1");
  job["AZURE_ML_INPUT_dataset_asset_1"] = "";
  r = run_robotrain({"dataset", "fetch", "--dataset-asset", "azureml:pusht:3", "--dataset-asset", "azureml:pusht:4",
                     "--output", (tmp.path() / "x").string()},
                    job);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("AZURE_ML_INPUT_dataset_asset_1"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "x"));
}
