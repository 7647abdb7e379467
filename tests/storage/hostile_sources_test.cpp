// Dataset sources against hostile servers: Blob listings whose XML tries to disguise names,
// continuation markers that never end, ranged reads that send more than asked, Hub answers
// whose ids are paths, downloads whose size does not match what was announced. Each fails on
// one line, quickly, and writes nothing outside its folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "storage/blob_client.h"
#include "storage/blob_download.h"
#include "storage/blob_listing.h"
#include "storage/blob_paths.h"
#include "storage/hf_api.h"
#include "storage/hf_cache.h"
#include "storage/hf_download.h"
#include "storage_test_util.h"
#include "support/http_server.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/strings.h"

using namespace robotrain;
using test::TestHttpServer;
using test::TestRequest;
using test::TestResponse;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

std::string listing(const std::string& blobs, const std::string& next_marker = "") {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"x\"><Blobs>" + blobs +
         "</Blobs><NextMarker>" + next_marker + "</NextMarker></EnumerationResults>";
}

std::string blob_xml(const std::string& name_xml, size_t size) {
  return "<Blob><Name>" + name_xml + "</Name><Properties><Content-Length>" + std::to_string(size) +
         "</Content-Length><Etag>0x1</Etag></Properties></Blob>";
}

// Every regular file or link under `root`, relative.
std::vector<std::string> files_under(const fs::path& root) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    if (!it->is_directory()) out.push_back(it->path().lexically_relative(root).generic_string());
  return out;
}

class Hostile : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-hostile"};
  void SetUp() override { util::set_retry_sleep_scale(0.0); }
  void TearDown() override { util::set_retry_sleep_scale(1.0); }
  storage::BlobAccess access(const TestHttpServer& server) {
    storage::BlobAccess a;
    a.endpoint = server.url() + "/acct";
    a.account_key = storage::testing::kDevKey;
    return a;
  }
};

}  // namespace

TEST(BlobListingXml, CdataCommentsAndEntitiesReadAsXmlDefinesThem) {
  auto page = storage::parse_blob_listing(listing(
      blob_xml("p/a<!-- not part of the name -->b.json", 1) + blob_xml("p/<![CDATA[c&d<e>]]>.bin", 2) +
      blob_xml("p/f&#x2F;g&#47;h&amp;i", 3) + "<!-- <Blob><Name>p/ghost</Name></Blob> -->",
      "m<!--x-->2"));
  ASSERT_EQ(page.blobs.size(), 3u);
  EXPECT_EQ(page.blobs[0].name, "p/ab.json");
  EXPECT_EQ(page.blobs[1].name, "p/c&d<e>.bin");
  EXPECT_EQ(page.blobs[2].name, "p/f/g/h&i");
  EXPECT_EQ(page.blobs[2].size, 3u);
  EXPECT_EQ(page.next_marker, "m2");
}

TEST(BlobListingXml, AnEntityEncodedDotDotIsStillUnsafe) {
  // "&#46;&#46;" is "..": after real XML decoding the name climbs out, and is refused.
  auto page = storage::parse_blob_listing(
      listing(blob_xml("p/&#46;&#46;/&#46;&#46;/escaped.txt", 1) + blob_xml("p/<![CDATA[..]]>/x", 1) +
              "<Blob><Name Encoded=\"true\">p/%2E%2E/y</Name><Properties><Content-Length>1</Content-Length></Properties></Blob>"));
  ASSERT_EQ(page.blobs.size(), 3u);
  for (const auto& b : page.blobs)
    EXPECT_EQ(storage::classify_blob_name(b.name, "p").verdict, storage::BlobNameVerdict::Unsafe) << b.name;
}

TEST(BlobListingXml, MalformedAndForeignDocumentsFailOnOneLine) {
  for (std::string bad : {std::string("<EnumerationResults><Blobs><Blob><Name>x</Blobs>"), std::string("not xml at all\nERROR forged"),
                          std::string("<Error><Code>AuthenticationFailed</Code>\n<Message>denied</Message></Error>"),
                          std::string("<EnumerationResults><Blobs><Blob><Properties/></Blob></Blobs></EnumerationResults>"),
                          listing(blob_xml("p/x", 1).replace(blob_xml("p/x", 1).find(">1<"), 3, ">-5<"))}) {
    try {
      storage::parse_blob_listing(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const util::RuntimeError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

TEST(BlobListingXml, ADoctypeCannotDefineEntities) {
  // No DTD is read: &big; is not expanded (no "billion laughs", no external entities).
  std::string xml =
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY big \"AAAAAAAAAAAAAAAA\"><!ENTITY ext SYSTEM \"file:///etc/passwd\">]>" +
      listing(blob_xml("p/&big;&ext;", 1)).substr(std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?>").size());
  auto page = storage::parse_blob_listing(xml);
  ASSERT_EQ(page.blobs.size(), 1u);
  EXPECT_EQ(page.blobs[0].name.find("AAAA"), std::string::npos) << page.blobs[0].name;
  EXPECT_EQ(page.blobs[0].name.find("root:"), std::string::npos) << page.blobs[0].name;
}

TEST_F(Hostile, ARepeatingNextMarkerStopsTheListing) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest&) {
    ++calls;
    return TestResponse{200, {{"Content-Type", "application/xml"}}, listing(blob_xml("p/a", 1), "same-marker")};
  });
  storage::BlobClient client(access(server), "acct");
  try {
    storage::list_blob_prefix(client, {"acct", "cont", "p"});
    ADD_FAILURE() << "no error";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("twice"));
  }
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(Hostile, AListingThatNeverEndsStopsAtItsLimits) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest&) {
    int n = ++calls;
    return TestResponse{200, {}, listing(blob_xml("p/f" + std::to_string(n), 1), "m" + std::to_string(n))};
  });
  storage::BlobClient client(access(server), "acct");
  storage::ListingLimits limits;
  limits.max_pages = 20;
  EXPECT_THROW(storage::list_blob_prefix(client, {"acct", "cont", "p"}, 5000, limits), util::RuntimeError);
  EXPECT_EQ(calls.load(), 20);
}

TEST_F(Hostile, ARangedGetNeverHoldsMoreThanTheRange) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest&) {
    ++calls;
    return TestResponse{206, {}, std::string(8 << 20, 'x')};  // asked for 1 KiB
  });
  storage::BlobClient client(access(server), "acct");
  try {
    client.get_range("cont", "p/a", 0, 1024);
    ADD_FAILURE() << "no error";
  } catch (const util::NetworkError& e) {
    ADD_FAILURE() << "retried as a transport failure: " << e.what();
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("larger than 1.0 KiB"));
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(HubIds, OnlyHexObjectAndCommitIdsBecomePaths) {
  util::TempDir tmp("rt-hubids");
  storage::HubCache cache(tmp.path() / "cache", "owner/name");
  const std::string sha1(40, 'a'), sha256(64, 'b');
  EXPECT_NO_THROW(cache.blob_path(sha1));
  EXPECT_NO_THROW(cache.blob_path(sha256));
  for (std::string bad : {std::string("../../x"), std::string(40, 'A'), std::string(39, 'a'), std::string(41, 'a'), std::string(),
                          std::string(38, 'a') + "/.", std::string(40, 'g')}) {
    EXPECT_THROW(cache.blob_path(bad), util::RuntimeError) << bad;
    EXPECT_THROW(cache.lock_path(bad), util::RuntimeError) << bad;
    EXPECT_THROW(cache.incomplete_path(bad), util::RuntimeError) << bad;
  }
  EXPECT_THROW(cache.snapshot_dir(sha256), util::RuntimeError) << "a commit is a sha1";
  EXPECT_THROW(cache.snapshot_dir("../x"), util::RuntimeError);
  EXPECT_THROW(cache.write_ref("../../escape", sha1), util::InputError);
  EXPECT_THROW(cache.write_ref("main", "../../x"), util::RuntimeError);
  EXPECT_TRUE(files_under(tmp.path()).empty());
}

TEST(HubAnswers, ASizeNoIntegerHoldsIsAMalformedListing) {
  const std::string oid(40, 'b');
  for (const char* size : {"1e300", "-1e300", "18446744073709551615", "NaN"}) {
    const std::string body = "[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"" + oid + "\",\"size\":" + size + "}]";
    try {
      storage::parse_tree_page(body, "dataset o/n");
      ADD_FAILURE() << size << " was accepted";
    } catch (const util::RuntimeError& e) {
      EXPECT_THAT(e.what(), testing::StartsWith("dataset o/n: the hub's tree listing is malformed")) << size;
    }
  }
  auto files = storage::parse_tree_page("[{\"type\":\"file\",\"path\":\"a\",\"oid\":\"" + oid + "\",\"size\":2.0}]", "d");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].size, 2);
}

// A Hub stand-in whose every id field is hostile in turn.
class HostileHub : public Hostile {
 protected:
  std::string commit = std::string(40, 'c');
  std::string bad_sha, bad_oid, bad_etag;
  TestHttpServer server{[this](const TestRequest& r) { return answer(r); }};

  TestResponse answer(const TestRequest& r) {
    if (r.path == "/api/datasets/o/n/revision/main")
      return TestResponse::json(200, "{\"sha\":\"" + (bad_sha.empty() ? commit : bad_sha) + "\"}");
    if (util::starts_with(r.path, "/api/datasets/o/n/tree/"))
      return TestResponse::json(200, "[{\"type\":\"file\",\"path\":\"meta/info.json\",\"size\":2,\"oid\":\"" +
                                         (bad_oid.empty() ? std::string(40, 'e') : bad_oid) + "\"}]");
    TestResponse resp{200, {{"ETag", "\"" + (bad_etag.empty() ? std::string(40, 'e') : bad_etag) + "\""},
                            {"X-Repo-Commit", commit}},
                      "{}"};
    return resp;
  }
};

TEST_F(HostileHub, ACommitShaThatIsAPathIsRefused) {
  bad_sha = "../../../../tmp/x";
  storage::HubClient client(server.url(), "", "o/n");
  try {
    client.resolve_commit("main");
    ADD_FAILURE() << "accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not 40 lowercase hex digits"));
  }
}

TEST_F(HostileHub, AListedObjectIdThatIsAPathIsRefused) {
  bad_oid = "../../x";
  storage::HubClient client(server.url(), "", "o/n");
  EXPECT_THROW(client.list_files(commit), util::RuntimeError);
}

TEST_F(HostileHub, AnETagThatIsAPathIsRefused) {
  bad_etag = "../../x";
  storage::HubClient client(server.url(), "", "o/n");
  try {
    client.file_metadata(commit, "meta/info.json");
    ADD_FAILURE() << "accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not 40 or 64 lowercase hex digits"));
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  bad_etag = std::string(64, 'f');
  EXPECT_EQ(client.file_metadata(commit, "meta/info.json").etag, std::string(64, 'f'));
}

TEST_F(Hostile, ADownloadThatKeepsComingUpShortRunsOutOfRetries) {
  // Announced 1 MiB; each connection sends one more byte and closes: progress of a byte is
  // not progress enough to keep retrying for ever.
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest& r) {
    ++calls;
    TestResponse resp{r.header("range").empty() ? 200 : 206, {}, std::string(1 << 20, 'x')};
    resp.truncate_after = 1;
    return resp;
  });
  storage::HubClient client(server.url(), "", "o/n");
  storage::HubCache cache(tmp.path() / "cache", "o/n");
  storage::BlobRequest blob{server.url() + "/f", std::string(64, 'a'), 1 << 20, "", "data/f.bin"};
  try {
    storage::download_blob(client, cache, blob, [](int64_t) {});
    ADD_FAILURE() << "no error";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("retries exhausted"));
  }
  EXPECT_LE(calls.load(), util::RetryPolicy{}.max_retries + 1);
}

TEST_F(Hostile, ADownloadLongerThanAnnouncedIsCutAndRefused) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest&) {
    ++calls;
    return TestResponse{200, {}, std::string(4 << 20, 'x')};  // announced: 1000 bytes
  });
  storage::HubClient client(server.url(), "", "o/n");
  storage::HubCache cache(tmp.path() / "cache", "o/n");
  storage::BlobRequest blob{server.url() + "/f", std::string(64, 'a'), 1000, "", "data/f.bin"};
  try {
    storage::download_blob(client, cache, blob, [](int64_t) {});
    ADD_FAILURE() << "no error";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("more than the announced 1000 bytes"));
  }
  EXPECT_FALSE(fs::exists(cache.blob_path(std::string(64, 'a'))));
  EXPECT_FALSE(fs::exists(cache.incomplete_path(std::string(64, 'a'))));
}
