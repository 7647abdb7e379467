// The real binary against hostile local servers, as a user would meet them: a Hub that
// redirects to file:// or in circles, names its blobs "../../x", never answers, dribbles or
// floods; a Blob service whose listing never ends or hides names in XML; secrets in URLs; and
// source checks that must come before any download. Each case ends on one line with a non-zero
// exit, under a timeout, with peak RSS under 1 GiB and nothing written outside its folder.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "integration/train_support.h"
#include "support/http_server.h"
#include "support/test_support.h"
#include "support/mlflow_server.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace fs = std::filesystem;
namespace util = robotrain::util;
using robotrain::test::TestHttpServer;
using robotrain::test::TestRequest;
using robotrain::test::TestResponse;

namespace {

constexpr const char* kDevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const std::string kCommit = std::string(40, 'c');
const std::string kOid = std::string(40, 'e');

struct Outcome {
  util::ProcessResult r;
  double seconds = 0;
  long peak_rss_kib = 0;  // of every child this test process has waited for
};

// The error lines robotrain printed (stderr lines starting "robotrain: error:").
int error_lines(const std::string& err) {
  int n = 0;
  for (const auto& line : util::split(err, '\n')) n += util::starts_with(line, "robotrain: error:");
  return n;
}

class NetworkHostile : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-nethostile"};
  fs::path work = tmp.path() / "work";  // the command's working directory

  void SetUp() override { fs::create_directories(work); }

  // Everything that could point robotrain at a real service or a real cache is overridden.
  std::map<std::string, std::string> base_env() const {
    return {{"HOME", (tmp.path() / "home").string()},
            {"HF_HOME", (tmp.path() / "hf").string()},
            {"HF_HUB_CACHE", ""},
            {"HF_TOKEN", ""},
            {"HF_HUB_OFFLINE", ""},
            {"ROBOTRAIN_HOME", (tmp.path() / "rt").string()},
            {"AZURE_SUBSCRIPTION_ID", ""},
            {"AZURE_RESOURCE_GROUP", ""},
            {"AZUREML_WORKSPACE_NAME", ""},
            {"AZURE_STORAGE_KEY", ""},
            {"AZURE_STORAGE_BLOB_ENDPOINT", ""},
            {"MSI_ENDPOINT", ""},
            {"IDENTITY_ENDPOINT", ""},
            {"AZURE_FEDERATED_TOKEN_FILE", ""},
            {"ROBOTRAIN_IMDS_ENDPOINT", "http://127.0.0.1:1"},
            {"MLFLOW_TRACKING_URI", ""}};
  }

  Outcome run(const std::vector<std::string>& args, std::map<std::string, std::string> env, double timeout_s = 120) {
    auto full = base_env();
    for (auto& [k, v] : env) full[k] = v;
    std::vector<std::string> argv{robotrain::test::robotrain_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    util::ProcessOptions opts;
    opts.cwd = work.string();
    opts.env = full;
    opts.timeout_s = timeout_s;
    auto start = std::chrono::steady_clock::now();
    Outcome o;
    o.r = util::run_process(argv, opts);
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage usage{};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    o.peak_rss_kib = usage.ru_maxrss;
    return o;
  }

  // A clean failure: the exit code, one error line, in time, under 1 GiB.
  void expect_clean_failure(const Outcome& o, int exit_code, const std::string& needle, double max_s) {
    EXPECT_FALSE(o.r.timed_out) << o.r.err;
    EXPECT_EQ(o.r.exit_code, exit_code) << o.r.err;
    EXPECT_EQ(error_lines(o.r.err), 1) << o.r.err;
    EXPECT_NE(o.r.err.find(needle), std::string::npos) << o.r.err;
    EXPECT_LT(o.seconds, max_s) << o.r.err;
    EXPECT_LT(o.peak_rss_kib, 1 << 20) << "peak RSS " << o.peak_rss_kib << " KiB";
  }

  // Every file written under tmp lies under one of `allowed` (relative to tmp).
  void expect_only_under(const std::vector<std::string>& allowed) {
    for (auto it = fs::recursive_directory_iterator(tmp.path()); it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory()) continue;
      std::string rel = it->path().lexically_relative(tmp.path()).generic_string();
      bool ok = false;
      for (const auto& a : allowed) ok |= util::starts_with(rel, a + "/");
      EXPECT_TRUE(ok) << "written outside its folder: " << rel;
    }
  }

  std::vector<std::string> hub_fetch() const { return {"dataset", "fetch", "--dataset.repo_id", "owner/name"}; }
};

// A Hub whose answers are normal except where `hostile` says otherwise.
struct HubStandIn {
  std::function<std::optional<TestResponse>(const TestRequest&)> hostile;
  std::atomic<int> requests{0};
  TestHttpServer server{[this](const TestRequest& r) {
    ++requests;
    if (hostile)
      if (auto resp = hostile(r)) return *resp;
    const std::string api = "/api/datasets/owner/name/";
    if (r.path == api + "refs")
      return TestResponse::json(200, "{\"branches\":[{\"name\":\"main\",\"targetCommit\":\"" + kCommit +
                                         "\"}],\"tags\":[{\"name\":\"v3.0\",\"targetCommit\":\"" + kCommit + "\"}]}");
    if (util::starts_with(r.path, api + "revision/")) return TestResponse::json(200, "{\"sha\":\"" + kCommit + "\"}");
    if (util::starts_with(r.path, api + "tree/"))
      return TestResponse::json(200, "[{\"type\":\"file\",\"path\":\"meta/info.json\",\"size\":1000,\"oid\":\"" + kOid + "\"}]");
    if (util::starts_with(r.path, "/datasets/owner/name/resolve/"))
      return TestResponse{200, {{"ETag", "\"" + kOid + "\""}, {"X-Repo-Commit", kCommit}}, std::string(1000, 'x')};
    return TestResponse{404, {{"X-Error-Code", "EntryNotFound"}}, "{}"};
  }};
  std::string url() const { return server.url(); }
};

}  // namespace

TEST_F(NetworkHostile, HubRedirectToFileIsRefused) {
  HubStandIn hub;
  hub.hostile = [](const TestRequest&) { return TestResponse{302, {{"Location", "file:///etc/passwd"}}, ""}; };
  auto o = run(hub_fetch(), {{"HF_ENDPOINT", hub.url()}});
  expect_clean_failure(o, 1, "refused", 30);
  EXPECT_EQ(o.r.err.find("root:"), std::string::npos);
  EXPECT_EQ(hub.requests.load(), 1) << "a refused redirect is not retried";
  expect_only_under({"hf"});
}

TEST_F(NetworkHostile, HubRedirectLoopStopsAtTheHopLimit) {
  HubStandIn hub;
  hub.hostile = [](const TestRequest& r) {
    return TestResponse{302, {{"Location", r.path + "x"}}, ""};
  };
  auto o = run(hub_fetch(), {{"HF_ENDPOINT", hub.url()}});
  expect_clean_failure(o, 1, "redirect loop", 30);
  EXPECT_LE(hub.requests.load(), 11);
  expect_only_under({"hf"});
}

TEST_F(NetworkHostile, HubEtagThatIsAPathWritesNothingOutsideTheCache) {
  HubStandIn hub;
  hub.hostile = [](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.method != "HEAD") return std::nullopt;
    return TestResponse{200, {{"ETag", "\"../../x\""}, {"X-Repo-Commit", kCommit}}, std::string(1000, 'x')};
  };
  auto o = run(hub_fetch(), {{"HF_ENDPOINT", hub.url()}});
  expect_clean_failure(o, 1, "not 40 or 64 lowercase hex digits", 30);
  EXPECT_FALSE(fs::exists(tmp.path() / "hf" / "hub" / "x"));
  expect_only_under({"hf/hub/datasets--owner--name", "hf/hub/.locks/datasets--owner--name"});
}

TEST_F(NetworkHostile, HubThatNeverAnswersGivesUpAtItsTimeouts) {
  HubStandIn hub;
  hub.hostile = [](const TestRequest&) {
    TestResponse r = TestResponse::json(200, "{}");
    r.delay_s = 600;
    return r;
  };
  auto o = run(hub_fetch(), {{"HF_ENDPOINT", hub.url()}, {"HF_HUB_ETAG_TIMEOUT", "1"}, {"ROBOTRAIN_HTTP_MAX_RETRIES", "1"}});
  expect_clean_failure(o, 1, "retries exhausted after 2 attempts", 60);
  expect_only_under({"hf"});
}

TEST_F(NetworkHostile, SlowlorisHubDownloadGivesUpAtItsStallTimeout) {
  HubStandIn hub;
  hub.hostile = [](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.method != "GET" || !util::starts_with(r.path, "/datasets/")) return std::nullopt;
    TestResponse resp{200, {}, std::string(1000, 'x')};
    resp.dribble_interval_s = 0.5;
    return resp;
  };
  auto o = run(hub_fetch(), {{"HF_ENDPOINT", hub.url()}, {"HF_HUB_DOWNLOAD_TIMEOUT", "1"}, {"ROBOTRAIN_HTTP_MAX_RETRIES", "1"}});
  expect_clean_failure(o, 1, "retries exhausted", 60);
  expect_only_under({"hf/hub/datasets--owner--name", "hf/hub/.locks/datasets--owner--name"});
}

TEST_F(NetworkHostile, HubApiAnswerOverTheCapIsRefusedWithinMemory) {
  HubStandIn hub;
  const std::string flood = "[" + std::string(80 << 20, ' ') + "]";
  hub.hostile = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (!util::ends_with(r.path, "/refs")) return std::nullopt;
    return TestResponse::json(200, flood);
  };
  auto o = run(hub_fetch(), {{"HF_ENDPOINT", hub.url()}});
  expect_clean_failure(o, 1, "larger than 64.0 MiB", 60);
}

namespace {

// A Blob service stand-in (path-style /acct/CONTAINER) with scripted listings and bodies.
struct BlobStandIn {
  std::function<TestResponse(const TestRequest&)> list;
  std::function<TestResponse(const TestRequest&)> get;
  std::atomic<int> list_calls{0};
  TestHttpServer server{[this](const TestRequest& r) {
    if (r.query.count("comp") && r.query.at("comp") == "list") {
      ++list_calls;
      return list(r);
    }
    return get(r);
  }};
  std::string endpoint() const { return server.url() + "/acct"; }
};

std::string listing(const std::string& blobs, const std::string& next = "") {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>" + blobs + "</Blobs><NextMarker>" + next +
         "</NextMarker></EnumerationResults>";
}

std::string blob_xml(const std::string& name_xml, size_t size) {
  return "<Blob><Name>" + name_xml + "</Name><Properties><Content-Length>" + std::to_string(size) +
         "</Content-Length><Etag>0x1</Etag></Properties></Blob>";
}

}  // namespace

TEST_F(NetworkHostile, BlobListingWhoseMarkerRepeatsStops) {
  BlobStandIn blob;
  blob.list = [](const TestRequest&) { return TestResponse{200, {}, listing(blob_xml("p/meta/info.json", 2), "again")}; };
  blob.get = [](const TestRequest&) { return TestResponse{206, {}, "{}"}; };
  auto o = run({"dataset", "fetch", "--blob-url", "https://acct.blob.core.windows.net/cont/p", "--blob-endpoint", blob.endpoint(),
                "--output", (tmp.path() / "out").string()},
               {{"AZURE_STORAGE_KEY", kDevKey}});
  expect_clean_failure(o, 1, "twice", 30);
  EXPECT_EQ(blob.list_calls.load(), 2);
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));
}

TEST_F(NetworkHostile, BlobNamesHiddenInXmlNeverLeaveTheOutputOrForgeLogLines) {
  BlobStandIn blob;
  blob.list = [](const TestRequest&) {
    return TestResponse{200, {},
                        listing(blob_xml("p/&#46;&#46;/&#46;&#46;/escaped.txt", 5) + blob_xml("p/<![CDATA[..]]>/cdata.txt", 5) +
                                blob_xml("p/a&#10;ERROR forged line.txt", 5) + blob_xml("p/meta/info.json", 2))};
  };
  blob.get = [](const TestRequest& r) { return TestResponse{206, {}, r.path == "/acct/cont/p/meta/info.json" ? "{}" : "owned"}; };
  auto o = run({"dataset", "fetch", "--blob-url", "https://acct.blob.core.windows.net/cont/p", "--blob-endpoint", blob.endpoint(),
                "--output", (tmp.path() / "out").string()},
               {{"AZURE_STORAGE_KEY", kDevKey}});
  // The one safe file is no dataset: a clean failure after the download.
  expect_clean_failure(o, 1, "total_episodes", 30);
  EXPECT_NE(o.r.err.find("p/a\\nERROR forged line.txt"), std::string::npos) << o.r.err;
  EXPECT_EQ(o.r.err.find("\nERROR forged"), std::string::npos) << o.r.err;
  expect_only_under({"out"});
  EXPECT_EQ(util::read_file(tmp.path() / "out" / "meta" / "info.json"), "{}");
}

TEST_F(NetworkHostile, BlobRangedGetThatStallsOrFloodsFailsFast) {
  BlobStandIn blob;
  blob.list = [](const TestRequest&) { return TestResponse{200, {}, listing(blob_xml("p/meta/info.json", 1000))}; };
  std::atomic<bool> flood{false};
  blob.get = [&](const TestRequest&) {
    if (flood) return TestResponse{206, {}, std::string(16 << 20, 'x')};
    TestResponse r{206, {}, std::string(1000, 'x')};
    r.dribble_interval_s = 0.5;
    return r;
  };
  std::vector<std::string> args{"dataset", "fetch", "--blob-url", "https://acct.blob.core.windows.net/cont/p",
                                "--blob-endpoint", blob.endpoint(), "--output", (tmp.path() / "out").string()};
  auto o = run(args, {{"AZURE_STORAGE_KEY", kDevKey}, {"ROBOTRAIN_HTTP_STALL_S", "1"}, {"ROBOTRAIN_HTTP_MAX_RETRIES", "1"}});
  expect_clean_failure(o, 1, "retries exhausted after 2 attempts", 60);
  flood = true;
  o = run(args, {{"AZURE_STORAGE_KEY", kDevKey}});
  expect_clean_failure(o, 1, "larger than", 60);
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));
  expect_only_under({});
}

TEST_F(NetworkHostile, SecretsInRejectedBlobUrlsAreNeverEchoed) {
  for (std::string url : {"https://user:hunter2@acct.blob.core.windows.net/c/p",
                          "https://acct.blob.core.windows.net/c/p?sv=2024&sig=hunter2",
                          "https://acct.blob.core.windows.net/c/p#sig=hunter2", "http://acct.blob.core.windows.net/c/p?sig=hunter2"}) {
    auto o = run({"dataset", "fetch", "--blob-url", url}, {});
    expect_clean_failure(o, 2, "--blob-url", 30);
    EXPECT_EQ(o.r.err.find("hunter2"), std::string::npos) << o.r.err;
  }
}

TEST_F(NetworkHostile, EverySourceIsCheckedBeforeAnyDownload) {
  HubStandIn hub;
  auto o = run({"dataset", "fetch", "--dataset.repo_id", "a/b", "--dataset-asset", "azureml:x:1"}, {{"HF_ENDPOINT", hub.url()}});
  expect_clean_failure(o, 2, "AZUREML_WORKSPACE_NAME", 10);
  EXPECT_EQ(hub.requests.load(), 0) << "the Hub was asked before the asset's workspace was checked";
  o = run({"dataset", "fetch", "--dataset.repo_id", "a/b", "--dataset.revision", "../../etc"}, {{"HF_ENDPOINT", hub.url()}});
  expect_clean_failure(o, 2, "revision", 10);
  EXPECT_EQ(hub.requests.load(), 0);
}

TEST_F(NetworkHostile, SubmitDryRunValidatesHubIdsAsTrainDoes) {
  for (const char* bad : {"a/b/c", "no-slash", "a/b..c", "a/-b"}) {
    auto o = run({"submit", "osmo", "-d", bad, "--dry-run"}, {});
    expect_clean_failure(o, 2, "is not a Hub repository id", 10);
  }
  auto ok = run({"submit", "osmo", "-d", "lerobot/pusht", "--dry-run"}, {});
  EXPECT_EQ(ok.r.exit_code, 0) << ok.r.err;
}

TEST_F(NetworkHostile, TrackingCredentialsNeverReachLogsOrCheckpoints) {
  ASSERT_EQ(robotrain::test::mlflow_missing(), "");
  std::string uri = robotrain::test::shared_mlflow_url();  // a real MLflow server
  uri.insert(uri.find("://") + 3, "robot:s3cretpw@");
  fs::path out = tmp.path() / "run";
  auto args = robotrain::test::train::train_args(out.string(), 2, {"--save_freq", "2"});
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--tracking-uri") args[i + 1] = uri;
  auto o = run(args, {}, 600);
  ASSERT_EQ(o.r.exit_code, 0) << o.r.err;
  EXPECT_EQ(o.r.err.find("s3cretpw"), std::string::npos) << o.r.err;
  EXPECT_EQ(o.r.out.find("s3cretpw"), std::string::npos) << o.r.out;
  int checked = 0;
  for (const auto& root : {out, work})
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
      if (!it->is_regular_file()) continue;
      ++checked;
      EXPECT_EQ(util::read_file(it->path()).find("s3cretpw"), std::string::npos) << it->path();
    }
  EXPECT_GT(checked, 0);
}
