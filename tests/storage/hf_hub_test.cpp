// The Hub source against a fake Hub (tests/storage/hf_fake_hub.h): revision choice, the
// cache layout file by file, faults (429, 503, a cut body, a corrupt blob), resume,
// episode subsets, offline mode and credentials.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "dataset/dataset_writer.h"
#include "dataset/lerobot_dataset.h"
#include "dataset/synth.h"
#include "dataset/validate.h"
#include "storage/hf_cache.h"
#include "storage/hf_fake_hub.h"
#include "storage/hf_hub.h"
#include "storage/hf_revision.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"

namespace robotrain::storage {
namespace {

namespace fs = std::filesystem;
using test::FakeHub;

// A synth dataset (one data file) and a writer dataset whose big state vector rolls the data
// file over after every episode (three data files), for episode subsets.
struct Datasets {
  util::TempDir dir{"hf-hub-data"};
  fs::path synth = dir.path() / "synth";
  fs::path rolled = dir.path() / "rolled";
  Datasets() {
    dataset::SynthOptions s;
    s.episodes = 2;
    s.frames = 8;
    s.height = s.width = 32;
    s.codec = "mpeg4";
    s.progress = false;
    dataset::synth_dataset(synth, s);

    dataset::WriterOptions w;
    w.fps = 10;
    w.data_files_size_in_mb = 1;
    w.video.codec = "mpeg4";
    const int64_t dim = 16384;  // 64 KiB a row: 16 rows reach the 1 MiB roll-over
    w.features = {{"observation.state", "float32", {dim}, nullptr, {}},
                  {"action", "float32", {2}, nullptr, {}},
                  {"observation.images.top", "video", {32, 32, 3}, nullptr, {}}};
    dataset::DatasetWriter writer(rolled, w);
    for (int e = 0; e < 3; ++e) {
      writer.begin_episode();
      for (int t = 0; t < 16; ++t) {
        dataset::Array s(dataset::DType::Float32, {dim}), a(dataset::DType::Float32, {2});
        for (int64_t i = 0; i < dim; ++i) s.data<float>()[i] = static_cast<float>(e);
        a.data<float>()[0] = a.data<float>()[1] = static_cast<float>(t);
        dataset::Array img(dataset::DType::UInt8, {32, 32, 3});
        for (auto& b : img.bytes) b = static_cast<uint8_t>(40 * e + t);
        writer.add_frame({{"observation.state", s}, {"action", a}, {"observation.images.top", img}}, "task");
      }
      writer.end_episode();
    }
    writer.finish();
  }
};

class HfHubTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    util::set_retry_sleep_scale(0);
    data_ = new Datasets();
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  void SetUp() override {
    for (const char* v : {"HF_TOKEN", "HF_HUB_OFFLINE", "HF_ENDPOINT", "HF_HUB_CACHE", "HF_TOKEN_PATH"}) ::unsetenv(v);
    ::setenv("HF_HOME", (tmp_.path() / "hf_home").c_str(), 1);
    commit_ = FakeHub::fake_commit("v3.0");
    hub_.add_commit(commit_, data_->synth);
    hub_.branches["main"] = commit_;
    hub_.tags["v3.0"] = commit_;
    hub_.tags["v2.1"] = FakeHub::fake_commit("old");
  }
  HubOptions options() {
    HubOptions o;
    o.endpoint = hub_.url();
    o.cache_dir = tmp_.path() / "cache";
    o.progress = false;
    o.parallel = 3;
    return o;
  }
  fs::path repo_dir() { return tmp_.path() / "cache" / "datasets--owner--name"; }
  // Every file of the commit is a relative link to its blob, whose bytes match.
  void expect_cache_matches(const std::string& commit, const std::set<std::string>& only = {}) {
    fs::path snap = repo_dir() / "snapshots" / commit;
    for (auto& [path, f] : hub_.commits[commit]) {
      if (!only.empty() && !only.count(path)) continue;
      fs::path link = snap / path;
      ASSERT_TRUE(fs::is_symlink(link)) << path;
      fs::path target = fs::read_symlink(link);
      EXPECT_TRUE(target.is_relative()) << path;
      std::string expected_target;
      for (size_t i = 0, n = util::split(path, '/').size() + 1; i < n; ++i) expected_target += "../";
      EXPECT_EQ(target.generic_string(), expected_target + "blobs/" + f.etag()) << path;
      fs::path blob = repo_dir() / "blobs" / f.etag();
      ASSERT_TRUE(fs::is_regular_file(blob)) << path;
      EXPECT_EQ(util::read_file(link), f.content) << path;
      if (f.lfs) EXPECT_EQ(util::sha256_file_hex(blob), f.etag()) << path;
    }
    for (auto& e : fs::directory_iterator(repo_dir() / "blobs"))
      EXPECT_FALSE(util::ends_with(e.path().filename().string(), ".incomplete")) << e.path();
  }
  static Datasets* data_;
  util::TempDir tmp_{"hf-hub-test"};
  FakeHub hub_;
  std::string commit_;
};
Datasets* HfHubTest::data_ = nullptr;

TEST(HfRevision, LeRobotRulesExactThenHighestCompatibleThenError) {
  EXPECT_EQ(choose_codebase_revision("o/n", {"main", "v2.1", "v3.0", "v3.1"}), "v3.0");
  EXPECT_EQ(choose_codebase_revision("o/n", {"main", "3.0.0"}), "3.0.0");  // equal versions
  EXPECT_EQ(choose_codebase_revision("o/n", {"v2.1", "v3.0.1", "v3.0.2", "v3.1"}), "v3.0.2");
  EXPECT_EQ(choose_codebase_revision("o/n", {"v3.0", "v3.1", "v3.5"}, "v3.2"), "v3.1");
  try {
    choose_codebase_revision("o/n", {"main", "v2.0", "v2.1"});
    FAIL() << "older majors accepted";
  } catch (const util::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("v2.0, v2.1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--dataset.revision"), std::string::npos) << e.what();
  }
  EXPECT_THROW(choose_codebase_revision("o/n", {"v3.1", "v4.0"}), util::InputError);
  try {
    choose_codebase_revision("o/n", {"main", "dev"});
    FAIL() << "untagged repo accepted";
  } catch (const util::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("main, dev"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(parse_ref_version("main"));
  EXPECT_FALSE(parse_ref_version("v3.0rc1"));
  EXPECT_EQ(parse_ref_version("v3")->compare(*parse_ref_version("3.0.0")), 0);
}

TEST(HfRepoId, AcceptsOwnerNameRejectsTheRest) {
  for (const char* ok : {"lerobot/pusht", "user_1/my-data.v2", "A/b"}) EXPECT_NO_THROW(validate_repo_id(ok)) << ok;
  for (const char* bad : {"", "pusht", "a/b/c", "/pusht", "lerobot/", "lero bot/pusht", "a--b/c", "a/b..c",
                          "a/b.git", "-a/b", "a/b-", "a/b?x=1", "a/b#c"})
    EXPECT_THROW(validate_repo_id(bad), util::InputError) << bad;
}

TEST_F(HfHubTest, DownloadsV30WithFaultsIntoTheStandardCache) {
  hub_.refs_429 = 1;
  auto& files = hub_.commits[commit_];
  std::string data_file = "data/chunk-000/file-000.parquet";
  std::string video_file;
  for (auto& [p, f] : files)
    if (util::ends_with(p, ".mp4")) video_file = p;
  ASSERT_FALSE(video_file.empty());
  hub_.cdn_503_once.insert(video_file);
  hub_.cdn_truncate[data_file] = 1;
  HubOptions o = options();
  o.token = "hf_test";

  fs::path snap = fetch_hub_dataset("owner/name", o);
  EXPECT_EQ(snap, repo_dir() / "snapshots" / commit_);
  EXPECT_EQ(util::read_file(repo_dir() / "refs" / "v3.0"), commit_);
  expect_cache_matches(commit_);

  // The snapshot is a dataset root that opens and validates.
  auto meta = dataset::load_metadata(snap);
  EXPECT_EQ(meta.total_episodes, 2);
  EXPECT_TRUE(dataset::validate_dataset(meta).ok());
  dataset::LeRobotDataset ds(snap);
  EXPECT_EQ(ds.num_frames(), 16);
  EXPECT_EQ(ds.get(3).arrays.count("observation.images.cam0"), 1u);

  int refs_calls = 0, tree_pages = 0;
  for (auto& r : hub_.hub_requests()) {
    EXPECT_EQ(r.header("authorization"), "Bearer hf_test") << r.target;
    refs_calls += util::ends_with(r.path, "/refs");
    tree_pages += r.path.find("/tree/") != std::string::npos;
  }
  EXPECT_EQ(refs_calls, 2);  // 429 then retried
  EXPECT_GT(tree_pages, 2);  // Link rel="next" followed
  bool resumed = false;
  size_t data_size = files[data_file].content.size();
  int video_gets = 0;
  for (auto& r : hub_.cdn_requests()) {
    EXPECT_EQ(r.header("authorization"), "") << "token leaked to the CDN: " << r.target;
    if (r.header("range") == "bytes=" + std::to_string(data_size / 2) + "-") resumed = true;
    video_gets += r.path == "/blobs/" + files[video_file].sha256;
  }
  EXPECT_TRUE(resumed) << "the cut body was not resumed with a Range request";
  EXPECT_EQ(video_gets, 2);  // 503 then retried

  // A second run finds everything in the cache: no blob is fetched again.
  size_t cdn_before = hub_.cdn_requests().size();
  EXPECT_EQ(fetch_hub_dataset("owner/name", o), snap);
  EXPECT_EQ(hub_.cdn_requests().size(), cdn_before);
}

TEST_F(HfHubTest, EpisodeSubsetDownloadsOnlyTheFilesItNeeds) {
  std::string commit = FakeHub::fake_commit("rolled");
  hub_.add_commit(commit, data_->rolled);
  hub_.tags["v3.0"] = commit;
  auto& files = hub_.commits[commit];
  ASSERT_TRUE(files.count("data/chunk-000/file-002.parquet")) << "the writer did not roll data files over";
  HubOptions o = options();
  o.episodes = {1};
  fs::path snap = fetch_hub_dataset("owner/name", o);

  std::set<std::string> expected;
  for (auto& [p, f] : files)
    if (util::starts_with(p, "meta/")) expected.insert(p);
  expected.insert("data/chunk-000/file-001.parquet");
  expected.insert("videos/observation.images.top/chunk-000/file-000.mp4");
  expect_cache_matches(commit, expected);
  for (auto& [p, f] : files)
    EXPECT_EQ(fs::exists(snap / p), expected.count(p) == 1) << p;
  for (auto& r : hub_.cdn_requests())
    for (const char* other : {"data/chunk-000/file-000.parquet", "data/chunk-000/file-002.parquet"})
      EXPECT_NE(r.path, "/blobs/" + files[other].sha256) << other << " downloaded for episode 1";

  dataset::DatasetOptions d;
  d.episodes = std::vector<int64_t>{1};
  dataset::LeRobotDataset ds(snap, d);
  EXPECT_EQ(ds.num_frames(), 16);
  EXPECT_FLOAT_EQ(ds.get(16).arrays.at("observation.state").data<float>()[0], 1.0f);

  o.episodes = {7};
  EXPECT_THROW(fetch_hub_dataset("owner/name", o), util::InputError);
}

TEST_F(HfHubTest, HighestCompatibleTagAndIncompatibleError) {
  hub_.tags.erase("v3.0");
  hub_.tags["v3.0.1"] = commit_;
  HubOptions o = options();
  fetch_hub_dataset("owner/name", o);
  EXPECT_EQ(util::read_file(repo_dir() / "refs" / "v3.0.1"), commit_);

  hub_.tags = {{"v2.1", commit_}, {"v2.0", commit_}};
  try {
    fetch_hub_dataset("owner/name", o);
    FAIL() << "a v2.x-only repo was accepted by default";
  } catch (const util::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("v2.0, v2.1"), std::string::npos) << e.what();
  }
  // An explicit revision (branch, tag, commit) is used as given.
  o.revision = "v2.1";
  EXPECT_EQ(fetch_hub_dataset("owner/name", o), repo_dir() / "snapshots" / commit_);
  o.revision = commit_;
  EXPECT_EQ(fetch_hub_dataset("owner/name", o), repo_dir() / "snapshots" / commit_);
  EXPECT_FALSE(fs::exists(repo_dir() / "refs" / commit_));
  o.revision = "nope";
  EXPECT_THROW(fetch_hub_dataset("owner/name", o), util::RuntimeError);
}

TEST_F(HfHubTest, ResumesAPartialBlobLeftByAnEarlierRun) {
  auto& f = hub_.commits[commit_]["data/chunk-000/file-000.parquet"];
  fs::create_directories(repo_dir() / "blobs");
  size_t half = f.content.size() / 3;
  util::atomic_write_file(repo_dir() / "blobs" / (f.sha256 + ".incomplete"), f.content.substr(0, half));
  fetch_hub_dataset("owner/name", options());
  expect_cache_matches(commit_);
  bool ranged = false;
  for (auto& r : hub_.cdn_requests()) ranged |= r.header("range") == "bytes=" + std::to_string(half) + "-";
  EXPECT_TRUE(ranged);
}

TEST_F(HfHubTest, ACutConnectionThatMakesProgressDoesNotUseUpRetries) {
  const std::string path = "data/chunk-000/file-000.parquet";
  hub_.cdn_truncate[path] = 8;  // more cuts than RetryPolicy::max_retries, each halfway
  fetch_hub_dataset("owner/name", options());
  expect_cache_matches(commit_);
  int gets = 0;
  for (auto& r : hub_.cdn_requests()) gets += r.path == "/blobs/" + hub_.commits[commit_][path].sha256;
  EXPECT_EQ(gets, 9);
}

TEST_F(HfHubTest, CorruptBlobFailsItsSha256Check) {
  hub_.cdn_corrupt_always.insert("data/chunk-000/file-000.parquet");
  try {
    fetch_hub_dataset("owner/name", options());
    FAIL() << "a corrupt blob was accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("sha256"), std::string::npos) << e.what();
  }
  auto& f = hub_.commits[commit_]["data/chunk-000/file-000.parquet"];
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / f.sha256));
  EXPECT_FALSE(fs::exists(repo_dir() / "snapshots" / commit_ / "data/chunk-000/file-000.parquet"));
}

TEST_F(HfHubTest, PrivateAndGatedReposAskForHfToken) {
  hub_.required_token = "hf_secret";
  try {
    fetch_hub_dataset("owner/name", options());
    FAIL() << "no token, yet it worked";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("HF_TOKEN"), std::string::npos) << e.what();
  }
  // The token comes from $HF_HOME/token when neither the option nor HF_TOKEN is set.
  fs::create_directories(tmp_.path() / "hf_home");
  util::atomic_write_file(tmp_.path() / "hf_home" / "token", "hf_secret\n");
  EXPECT_NO_THROW(fetch_hub_dataset("owner/name", options()));
  ::setenv("HF_TOKEN", "hf_other", 1);
  EXPECT_THROW(fetch_hub_dataset("owner/name", options()), util::RuntimeError);
  ::unsetenv("HF_TOKEN");

  hub_.gated = true;
  try {
    fetch_hub_dataset("owner/name", options());
    FAIL() << "gated repo accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("gated"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fetch_hub_dataset("not an id", options()), util::InputError);
}

TEST_F(HfHubTest, OfflineUsesTheCacheOnly) {
  HubOptions o = options();
  o.offline = true;
  try {
    fetch_hub_dataset("owner/name", o);
    FAIL() << "offline with an empty cache";
  } catch (const util::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("HF_HUB_OFFLINE"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(hub_.hub_requests().empty());

  fs::path snap = fetch_hub_dataset("owner/name", options());
  size_t before = hub_.hub_requests().size();
  EXPECT_EQ(fetch_hub_dataset("owner/name", o), snap);
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  HubOptions env_offline = options();
  env_offline.revision = "v3.0";
  EXPECT_EQ(fetch_hub_dataset("owner/name", env_offline), snap);
  env_offline.revision = commit_;
  EXPECT_EQ(fetch_hub_dataset("owner/name", env_offline), snap);
  env_offline.revision = "main";  // never resolved online, so not cached
  EXPECT_THROW(fetch_hub_dataset("owner/name", env_offline), util::RuntimeError);
  EXPECT_EQ(hub_.hub_requests().size(), before);
}

TEST_F(HfHubTest, OfflineReusesACacheWrittenByPythonTools) {
  // The layout huggingface_hub writes for snapshot_download(revision="main"), made by hand.
  const std::string commit = FakeHub::fake_commit("python");
  HubCache cache(tmp_.path() / "cache", "owner/name");
  for (auto& e : fs::recursive_directory_iterator(data_->synth)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), data_->synth).generic_string();
    std::string content = util::read_file(e.path());
    std::string etag = util::sha256_hex(content);
    fs::create_directories(cache.blob_path(etag).parent_path());
    util::atomic_write_file(cache.blob_path(etag), content);
    cache.link_snapshot_file(commit, rel, etag);
  }
  cache.write_ref("main", commit);
  HubOptions o = options();
  o.offline = true;
  o.revision = "main";
  o.episodes = {1};
  fs::path snap = fetch_hub_dataset("owner/name", o);
  EXPECT_EQ(snap, cache.snapshot_dir(commit));
  EXPECT_TRUE(dataset::validate_dataset(dataset::load_metadata(snap)).ok());
  EXPECT_TRUE(hub_.hub_requests().empty());
  // The default revision offline follows the same rule over the cached refs: only "main" -> error.
  o.revision = "";
  EXPECT_THROW(fetch_hub_dataset("owner/name", o), util::InputError);
}

TEST_F(HfHubTest, UnreachableHubFallsBackToACachedSnapshot) {
  fs::path snap = fetch_hub_dataset("owner/name", options());
  HubOptions o = options();
  o.endpoint = "http://127.0.0.1:1";  // nothing listens there
  EXPECT_EQ(fetch_hub_dataset("owner/name", o), snap);
  util::set_retry_sleep_scale(0);
}

}  // namespace
}  // namespace robotrain::storage
