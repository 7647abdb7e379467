// robotrain's Hugging Face cache and the real huggingface_hub (the venv's) read each other's
// downloads offline: what `robotrain dataset fetch --dataset.repo_id` put in the cache is found
// by hf_hub_download / snapshot_download with HF_HUB_OFFLINE=1 (same snapshot, same bytes), and
// a snapshot huggingface_hub downloaded (from the local Hub stand-in) is used by robotrain with
// HF_HUB_OFFLINE=1, without a request to the Hub.
#include <gtest/gtest.h>

#include "integration/train_support.h"
#include "storage/hf_fake_hub.h"
#include "util/crypto.h"

namespace fs = std::filesystem;
namespace tt = robotrain::test::train;
namespace util = robotrain::util;
using robotrain::test::FakeHub;
using robotrain::test::run_peer_script;
using robotrain::test::run_robotrain;

namespace {

const std::vector<std::string> kFiles = {"meta/info.json", "meta/stats.json", "data/chunk-000/file-000.parquet",
                                         "videos/observation.images.cam0/chunk-000/file-000.mp4"};

class HfCachePeer : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-hf-peer"};
  FakeHub hub;
  std::string commit = FakeHub::fake_commit("peer");

  void SetUp() override {
    auto why = robotrain::test::peer_missing("huggingface_hub");
    ASSERT_TRUE(why.empty()) << "huggingface_hub is the peer of this test: " << why;
    hub.add_commit(commit, tt::synth_dataset());
    hub.branches["main"] = commit;
    hub.tags["v3.0"] = commit;  // the codebase-version tag both sides fetch by default
  }
  std::map<std::string, std::string> robotrain_env(const fs::path& hf_home, bool offline) const {
    std::map<std::string, std::string> env{{"HF_ENDPOINT", hub.url()}, {"HF_HOME", hf_home.string()}, {"HF_HUB_CACHE", ""},
                                           {"HF_TOKEN", ""}};
    if (offline) env["HF_HUB_OFFLINE"] = "1";
    return env;
  }
  util::Json peer(const std::string& mode, const fs::path& cache, bool offline) {
    std::vector<std::string> args{mode, hub.repo, "v3.0", cache.string()};
    args.insert(args.end(), kFiles.begin(), kFiles.end());
    std::map<std::string, std::string> env{{"HF_ENDPOINT", hub.url()}, {"HF_TOKEN", ""}, {"HF_HUB_DISABLE_XET", "1"},
                                           {"HF_HOME", (tmp.path() / "peer_home").string()}};
    if (offline) env["HF_HUB_OFFLINE"] = "1";
    auto r = run_peer_script("hf_cache_peer.py", args, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? util::Json::parse(r.out) : util::Json();
  }
};

}  // namespace

TEST_F(HfCachePeer, HuggingfaceHubFindsWhatRobotrainFetchedOffline) {
  const fs::path home = tmp.path() / "hf";
  auto r = run_robotrain({"dataset", "fetch", "--dataset.repo_id", hub.repo, "--json"}, robotrain_env(home, false));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path snapshot = util::Json::parse(r.out)["root"].get<std::string>();

  const size_t hub_requests = hub.hub_requests().size();
  auto j = peer("offline", home / "hub", true);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(fs::canonical(j["snapshot"].get<std::string>()), fs::canonical(snapshot));
  for (const auto& name : kFiles) {
    SCOPED_TRACE(name);
    const auto& f = j["files"][name];
    EXPECT_EQ(fs::path(f["path"].get<std::string>()), fs::path(j["snapshot"].get<std::string>()) / name);
    EXPECT_EQ(f["sha256"], util::sha256_hex(util::read_file(fs::path(tt::synth_dataset()) / name)));
    // The snapshot entry is robotrain's link into blobs/, which huggingface_hub resolves.
    EXPECT_EQ(fs::path(f["blob"].get<std::string>()).parent_path().filename(), "blobs");
  }
  EXPECT_EQ(hub.hub_requests().size(), hub_requests) << "huggingface_hub went online";
}

TEST_F(HfCachePeer, RobotrainUsesASnapshotHuggingfaceHubDownloadedOffline) {
  const fs::path home = tmp.path() / "hf";
  // The CDN on another host name, as on the Hub: huggingface_hub takes a file's metadata from
  // the redirect itself only when it leaves the Hub's host. (robotrain, above, refuses plain
  // http redirects to another host, so there the CDN keeps the Hub's name.)
  hub.cdn_host = "localhost";
  auto j = peer("download", home / "hub", false);
  ASSERT_TRUE(j.is_object());
  const fs::path snapshot = j["snapshot"].get<std::string>();
  ASSERT_TRUE(fs::exists(snapshot / "meta" / "info.json"));

  const size_t hub_requests = hub.hub_requests().size(), cdn_requests = hub.cdn_requests().size();
  auto r = run_robotrain({"dataset", "fetch", "--dataset.repo_id", hub.repo, "--json"}, robotrain_env(home, true));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::canonical(util::Json::parse(r.out)["root"].get<std::string>()), fs::canonical(snapshot));
  EXPECT_EQ(hub.hub_requests().size(), hub_requests);
  EXPECT_EQ(hub.cdn_requests().size(), cdn_requests);
  // And robotrain reads the whole dataset from huggingface_hub's files.
  r = run_robotrain({"dataset", "validate", snapshot.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}
