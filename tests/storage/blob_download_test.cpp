// download_blob_prefix against an in-process Blob stand-in: paging, ranged GETs, retries on 503
// and cut connections, MD5 checks, skip/unsafe rules, staging and the no-overwrite rule; plus
// Azure ML data asset resolution through a stand-in of the REST API.
#include "storage/blob_download.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "fake_blob_service.h"
#include "storage/azureml_data.h"
#include "storage/blob_paths.h"
#include "storage/shared_key.h"
#include "storage_test_util.h"
#include "util/error.h"
#include "util/http.h"

using namespace robotrain;
using storage::testing::FakeBlobService;
using storage::testing::read_tree;
using ::testing::HasSubstr;

namespace {

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class BlobDownload : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-blobdl"};
  FakeBlobService service;
  storage::BlobDownloadOptions options;
  const std::string url = "https://acct.blob.core.windows.net/cont/datasets/pusht";

  void SetUp() override {
    util::set_retry_sleep_scale(0.0);
    options.access.endpoint = service.endpoint();
    options.access.account_key = storage::testing::kDevKey;
    options.progress = false;
    options.parallel = 3;
  }
  void TearDown() override { util::set_retry_sleep_scale(1.0); }

  std::vector<std::string> leftovers() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(tmp.path())) names.push_back(e.path().filename().string());
    return names;
  }
};

}  // namespace

TEST_F(BlobDownload, PagedListingRangedGetsRetriesAndSkipRules) {
  const std::string big = random_bytes(10'000, 1);
  service.put("cont", "datasets/pusht/meta/info.json", "{\"fps\": 10}");
  service.put("cont", "datasets/pusht/data/chunk-000/file-000.parquet", big);
  service.put("cont", "datasets/pusht/videos/empty.mp4", "", /*with_md5=*/false);
  service.put("cont", "datasets/pusht/.cache/huggingface/x.json", "cache");
  service.put("cont", "datasets/pusht/meta/info.json.lock", "");
  service.put("cont", "datasets/pusht/data/x.metadata", "meta");
  service.put("cont", "datasets/pusht//etc/passwd", "evil");
  service.put("cont", "datasets/pusht/../escape.parquet", "evil");
  service.put("cont", "datasets/pusht/a/../../escape2.parquet", "evil");
  service.put("cont", "datasets/pushtx/other.json", "not under the prefix");
  service.fail_next_gets("datasets/pusht/data/chunk-000/file-000.parquet", 2);
  service.truncate_next_get("datasets/pusht/meta/info.json");
  options.page_size = 2;
  options.chunk_bytes = 1000;

  auto dest = tmp.path() / "ds";
  auto report = storage::download_blob_prefix(url, dest, options);
  EXPECT_EQ(report.files, 3u);
  EXPECT_EQ(report.bytes, big.size() + 11);
  EXPECT_EQ(report.skipped, 3u);
  EXPECT_EQ(report.unsafe, 3u);
  auto tree = read_tree(dest);
  ASSERT_EQ(tree.size(), 3u);
  EXPECT_EQ(tree["meta/info.json"], "{\"fps\": 10}");
  EXPECT_EQ(tree["data/chunk-000/file-000.parquet"], big);
  EXPECT_EQ(tree["videos/empty.mp4"], "");
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "escape.parquet"));
  EXPECT_GE(service.list_calls(), 5) << "9 blobs in pages of 2";
  EXPECT_EQ(leftovers(), std::vector<std::string>{"ds"}) << "no staging directory left behind";

  int ranged = 0;
  for (const auto& r : service.server().requests()) {
    EXPECT_THAT(r.header("authorization"), HasSubstr("SharedKey acct:"));
    EXPECT_FALSE(r.header("x-ms-version").empty());
    if (!r.header("x-ms-range").empty()) ++ranged;
  }
  EXPECT_GE(ranged, 10 + 2 + 1) << "10 ranges, 2 answered 503, 1 cut short";
}

TEST_F(BlobDownload, ContentMd5MismatchFailsAndLeavesNothing) {
  service.put("cont", "datasets/pusht/meta/info.json", "{\"fps\": 10}");
  service.set_listed_md5("cont", "datasets/pusht/meta/info.json", util::base64_encode(util::md5_raw("other")));
  auto dest = tmp.path() / "ds";
  try {
    storage::download_blob_prefix(url, dest, options);
    ADD_FAILURE() << "no error";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Content-MD5 mismatch"));
    EXPECT_THAT(e.what(), HasSubstr("datasets/pusht/meta/info.json"));
  }
  EXPECT_FALSE(std::filesystem::exists(dest));
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(BlobDownload, RefusesAnExistingDatasetUnlessOverwriting) {
  service.put("cont", "datasets/pusht/meta/info.json", "new");
  auto dest = tmp.path() / "ds";
  std::filesystem::create_directories(dest);
  util::atomic_write_file(dest / "old.txt", "old");
  try {
    storage::download_blob_prefix(url, dest, options);
    ADD_FAILURE() << "no error";
  } catch (const util::InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("already exists"));
    EXPECT_THAT(e.what(), HasSubstr("--overwrite"));
  }
  EXPECT_TRUE(service.server().requests().empty()) << "checked before any network access";
  options.overwrite = true;
  storage::download_blob_prefix(url, dest, options);
  auto tree = read_tree(dest);
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree["meta/info.json"], "new");
}

TEST_F(BlobDownload, EmptyPrefixAndPersistentFailuresAreErrors) {
  EXPECT_THROW(storage::download_blob_prefix(url, tmp.path() / "ds", options), util::RuntimeError);
  service.put("cont", "datasets/pusht/meta/info.json", "x");
  service.fail_next_gets("datasets/pusht/meta/info.json", 100);
  try {
    storage::download_blob_prefix(url, tmp.path() / "ds", options);
    ADD_FAILURE() << "no error";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("HTTP 503"));
  }
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(BlobDownload, BearerTokenWhenNoKey) {
  service.put("cont", "datasets/pusht/meta/info.json", "x");
  options.access.account_key.clear();
  options.access.token = [] { return std::string("tok-1"); };
  storage::download_blob_prefix(url, tmp.path() / "ds", options);
  for (const auto& r : service.server().requests()) EXPECT_EQ(r.header("authorization"), "Bearer tok-1");
}

TEST_F(BlobDownload, ResolvesAnAzureMlDataAssetThroughRest) {
  service.put("cont", "UI/2026-01-01/pusht/meta/info.json", "{}");
  const std::string ws = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
  service.extra = [&](const test::TestRequest& r) -> std::optional<test::TestResponse> {
    if (!util::starts_with(r.path, "/subscriptions/")) return std::nullopt;
    if (r.header("authorization") != "Bearer mgmt") return test::TestResponse::json(401, "{}");
    if (r.path == ws + "/data/pusht/versions/3")
      return test::TestResponse::json(
          200, R"({"properties": {"dataType": "uri_folder", "dataUri": "azureml://subscriptions/sub/resourcegroups/rg/workspaces/w/datastores/workspaceblobstore/paths/UI/2026-01-01/pusht/"}})");
    if (r.path == ws + "/datastores/workspaceblobstore")
      return test::TestResponse::json(
          200, R"({"properties": {"datastoreType": "AzureBlob", "accountName": "acct", "containerName": "cont", "endpoint": "core.windows.net"}})");
    return test::TestResponse::json(404, R"({"error": {"code": "UserError"}})");
  };
  storage::AzureMLWorkspace workspace{"sub", "rg", "w", service.base(), [] { return std::string("mgmt"); }};
  auto loc = storage::resolve_data_asset_location(storage::parse_data_asset("azureml:pusht:3"), workspace);
  EXPECT_EQ(loc.account, "acct");
  EXPECT_EQ(loc.container, "cont");
  EXPECT_EQ(loc.prefix, "UI/2026-01-01/pusht");
  auto report = storage::download_data_asset("azureml:pusht:3", tmp.path() / "asset", workspace, options);
  EXPECT_EQ(report.files, 1u);
  EXPECT_EQ(read_tree(tmp.path() / "asset")["meta/info.json"], "{}");
  try {
    storage::resolve_data_asset_location(storage::parse_data_asset("azureml:pusht:4"), workspace);
    ADD_FAILURE() << "no error";
  } catch (const util::InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("data asset pusht:4 not found"));
  }
  storage::AzureMLWorkspace unnamed{"", "", "", service.base(), [] { return std::string("mgmt"); }};
  EXPECT_THROW(storage::resolve_data_asset_location(storage::parse_data_asset("azureml:pusht:3"), unnamed),
               util::InputError);
  EXPECT_EQ(storage::resolve_data_uri("wasbs://c@a.blob.core.windows.net/x/y/", unnamed).prefix, "x/y");
  EXPECT_EQ(storage::resolve_data_uri("https://a.blob.core.windows.net/c/x/y", unnamed).container, "c");
}

TEST(BlobNames, ClassifiesSkipAndUnsafeNames) {
  using storage::BlobNameVerdict;
  auto v = [](const std::string& name) { return storage::classify_blob_name(name, "p").verdict; };
  EXPECT_EQ(v("p/meta/info.json"), BlobNameVerdict::Keep);
  EXPECT_EQ(storage::classify_blob_name("p/meta/info.json", "p").relative, "meta/info.json");
  EXPECT_EQ(v("p/.cache/huggingface/download/x"), BlobNameVerdict::Skip);
  EXPECT_EQ(v("p/a/.cache/x"), BlobNameVerdict::Skip);
  EXPECT_EQ(v("p/x.lock"), BlobNameVerdict::Skip);
  EXPECT_EQ(v("p/x.metadata"), BlobNameVerdict::Skip);
  EXPECT_EQ(v("p/dir/"), BlobNameVerdict::Skip);
  EXPECT_EQ(v("p//etc/passwd"), BlobNameVerdict::Unsafe);
  EXPECT_EQ(v("p/../x"), BlobNameVerdict::Unsafe);
  EXPECT_EQ(v("p/a/../../x"), BlobNameVerdict::Unsafe);
  EXPECT_EQ(v("p/./x"), BlobNameVerdict::Unsafe);
  EXPECT_EQ(v("p/a\\..\\x"), BlobNameVerdict::Unsafe);
  EXPECT_EQ(v("q/x"), BlobNameVerdict::Unsafe);
}

TEST(BlobNames, SymlinkEscapesAreRefused) {
  util::TempDir tmp("rt-blobnames");
  std::filesystem::create_directories(tmp.path() / "root");
  std::filesystem::create_directories(tmp.path() / "outside");
  std::filesystem::create_directory_symlink(tmp.path() / "outside", tmp.path() / "root" / "link");
  EXPECT_FALSE(storage::contained_path(tmp.path() / "root", "link/escaped.parquet").has_value());
  EXPECT_TRUE(storage::contained_path(tmp.path() / "root", "data/x.parquet").has_value());
}

TEST(BlobListing, ParsesNamesEntitiesAndMarkers) {
  auto page = storage::parse_blob_list(
      "<?xml version=\"1.0\"?><EnumerationResults><Prefix>p/</Prefix><Blobs>"
      "<Blob><Name>p/a&amp;b.json</Name><Properties><Content-Length>12</Content-Length>"
      "<Content-MD5>abc=</Content-MD5><Etag>\"0x8\"</Etag></Properties></Blob>"
      "<Blob><Name Encoded=\"true\">p/%01x</Name><Properties><Content-Length>0</Content-Length><Content-MD5 />"
      "</Properties></Blob></Blobs><NextMarker>2!abc</NextMarker></EnumerationResults>");
  ASSERT_EQ(page.blobs.size(), 2u);
  EXPECT_EQ(page.blobs[0].name, "p/a&b.json");
  EXPECT_EQ(page.blobs[0].size, 12u);
  EXPECT_EQ(page.blobs[0].content_md5, "abc=");
  EXPECT_EQ(page.blobs[0].etag, "\"0x8\"");
  EXPECT_EQ(page.blobs[1].name, std::string("p/\x01x"));
  EXPECT_EQ(page.blobs[1].content_md5, "");
  EXPECT_EQ(page.next_marker, "2!abc");
  EXPECT_THROW(storage::parse_blob_list("<Error>denied</Error>"), util::RuntimeError);
}

TEST(SharedKey, StringToSignFollowsTheDocumentedLayout) {
  storage::SignedRequestParts r;
  r.method = "PUT";
  r.account = "acct";
  r.path = "/acct/cont/a%20b";
  r.query = {{"comp", "block"}, {"blockid", "AAA="}};
  r.headers = {{"x-ms-version", "2023-11-03"}, {"x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT"},
               {"Content-Type", "application/octet-stream"}, {"X-MS-Blob-Type", " BlockBlob "}};
  r.content_length = 5;
  EXPECT_EQ(storage::shared_key_string_to_sign(r),
            "PUT\n\n\n5\n\napplication/octet-stream\n\n\n\n\n\n\n"
            "x-ms-blob-type:BlockBlob\nx-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-version:2023-11-03\n"
            "/acct/acct/cont/a%20b\nblockid:AAA=\ncomp:block");
  EXPECT_THAT(storage::shared_key_authorization(r, storage::testing::kDevKey), HasSubstr("SharedKey acct:"));
  EXPECT_THROW(storage::shared_key_authorization(r, "not base64!"), util::InputError);
}

TEST(BlobAccessEnv, KeyFromEnvironmentAndEmulatorDefault) {
  storage::testing::ScopedEnv env{{"AZURE_STORAGE_KEY", "a2V5"}, {"AZURE_STORAGE_BLOB_ENDPOINT", std::nullopt}};
  auto a = storage::blob_access_from_env();
  EXPECT_EQ(a.account_key, "a2V5");
  EXPECT_TRUE(a.endpoint.empty());
  storage::testing::ScopedEnv no_key{{"AZURE_STORAGE_KEY", std::nullopt},
                                     {"AZURE_STORAGE_BLOB_ENDPOINT", "http://127.0.0.1:10000/devstoreaccount1"}};
  auto emu = storage::blob_access_from_env();
  EXPECT_EQ(emu.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(emu.account_key, storage::testing::kDevKey);
  auto explicit_token = storage::blob_access_from_env({"https://x.example/acct", "", [] { return std::string("t"); }});
  EXPECT_TRUE(explicit_token.account_key.empty());
  EXPECT_EQ(explicit_token.token(), "t");
}

TEST_F(BlobDownload, ABlobNamedLikeAFolderIsAClearError) {
  service.put("cont", "datasets/pusht/meta", "a file");
  service.put("cont", "datasets/pusht/meta/info.json", "{}");
  try {
    storage::download_blob_prefix(url, tmp.path() / "ds", options);
    ADD_FAILURE() << "no error";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("meta"));
  }
  EXPECT_TRUE(leftovers().empty());
}
