// A real Azure Blob emulator (npm azurite, started here on a loopback port): a generated LeRobot
// dataset goes up through upload_directory and comes back through download_blob_prefix with
// Shared Key signing, paged listings and ranged GETs, byte for byte.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "dataset/synth.h"
#include "util/azure_credential.h"
#include "storage/blob_download.h"
#include "storage_test_util.h"
#include "support/azurite.h"
#include "support/http_server.h"
#include "support/test_support.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/process.h"

using namespace robotrain;
using storage::testing::read_tree;
using ::testing::HasSubstr;

namespace {

using test::AzuriteServer;
using test::azurite_available;
using test::free_loopback_port;

// One emulator for the whole suite: starting node takes a few seconds.
class Azurite : public ::testing::Test {
 protected:
  static inline std::unique_ptr<AzuriteServer> server;
  util::TempDir tmp{"rt-azurite"};
  storage::BlobAccess access;

  static void SetUpTestSuite() {
    if (azurite_available()) server = std::make_unique<AzuriteServer>();
  }
  static void TearDownTestSuite() { server.reset(); }
  void SetUp() override {
    if (!server) FAIL() << "node or azurite missing (run scripts/install-deps.sh)";
    ASSERT_TRUE(server->error.empty()) << server->error;
    access.endpoint = server->endpoint;
    access.account_key = storage::testing::kDevKey;
  }
};

}  // namespace

TEST_F(Azurite, SynthDatasetRoundTripsByteForByte) {
  dataset::SynthOptions synth;
  synth.episodes = 2;
  synth.frames = 12;
  synth.height = 32;
  synth.width = 32;
  synth.codec = "mpeg4";
  synth.progress = false;
  auto src = tmp.path() / "src";
  dataset::synth_dataset(src, synth);
  // A file large enough for the block upload path and many ranged GETs.
  std::string big(33u << 20, '\0');
  std::mt19937 rng(7);
  for (auto& c : big) c = static_cast<char>(rng());
  util::atomic_write_file(src / "videos" / "big.bin", big);
  // Names that must be percent-encoded in the URL and signed exactly as sent.
  util::atomic_write_file(src / "meta" / "notes with spaces & plus+ü.txt", "notes");

  const std::string url = "https://devstoreaccount1.blob.core.windows.net/datasets/synth/v1";
  storage::BlobClient client(access, storage::testing::kDevAccount);
  client.create_container("datasets");
  client.create_container("datasets");  // already exists: fine
  storage::upload_directory(src, url, access);
  // Litter that tools leave next to datasets: never downloaded.
  client.put_blob("datasets", "synth/v1/.cache/huggingface/download/meta.json", "cache");
  client.put_blob("datasets", "synth/v1/meta/info.json.lock", "");
  client.put_blob("datasets", "synth/v1/data/chunk-000/file-000.parquet.metadata", "x");
  client.put_blob("datasets", "synth/v1x/other.json", "sibling prefix");

  storage::BlobDownloadOptions options;
  options.access = access;
  options.progress = false;
  options.parallel = 4;
  options.page_size = 3;
  options.chunk_bytes = 1u << 20;
  auto dest = tmp.path() / "out" / "synth";
  auto report = storage::download_blob_prefix(url, dest, options);
  auto expected = read_tree(src);
  auto got = read_tree(dest);
  EXPECT_EQ(report.files, expected.size());
  EXPECT_EQ(report.skipped, 3u);
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [rel, bytes] : expected) {
    SCOPED_TRACE(rel);
    ASSERT_TRUE(got.count(rel));
    EXPECT_TRUE(got[rel] == bytes) << "content differs";
  }
  EXPECT_TRUE(got.count("meta/info.json"));
  // Only the final directory remains next to it: staging was renamed, not copied.
  std::vector<std::string> siblings;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path() / "out")) siblings.push_back(e.path().filename());
  EXPECT_EQ(siblings, std::vector<std::string>{"synth"});

  // An existing dataset is kept unless overwriting is asked for.
  try {
    storage::download_blob_prefix(url, dest, options);
    ADD_FAILURE() << "overwrote an existing dataset";
  } catch (const util::InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("already exists"));
  }
  util::atomic_write_file(dest / "stale.txt", "stale");
  options.overwrite = true;
  storage::download_blob_prefix(url, dest, options);
  EXPECT_FALSE(std::filesystem::exists(dest / "stale.txt"));
  EXPECT_EQ(read_tree(dest).size(), expected.size());
}

TEST_F(Azurite, WrongKeyAndCorruptMd5AreReported) {
  storage::BlobClient client(access, storage::testing::kDevAccount);
  client.create_container("corrupt");
  // Content-MD5 stored for the blob does not match its bytes: the download must notice.
  // (Put Blob checks the MD5 it is given; a block list's whole-blob MD5 is stored as sent.)
  std::string id = util::base64_encode("block-000");
  client.put_block("corrupt", "p/meta/info.json", id, "{\"fps\": 10}");
  client.put_block_list("corrupt", "p/meta/info.json", {id}, util::base64_encode(util::md5_raw("something else")));
  storage::BlobDownloadOptions options;
  options.access = access;
  options.progress = false;
  const std::string url = "https://devstoreaccount1.blob.core.windows.net/corrupt/p";
  try {
    storage::download_blob_prefix(url, tmp.path() / "d1", options);
    ADD_FAILURE() << "corrupt blob accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Content-MD5 mismatch"));
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "d1"));

  options.access.account_key = util::base64_encode(std::string(64, 'k'));
  try {
    storage::download_blob_prefix(url, tmp.path() / "d2", options);
    ADD_FAILURE() << "wrong key accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("HTTP 403"));
    EXPECT_THAT(e.what(), HasSubstr("AZURE_STORAGE_KEY"));
  }
}

namespace {

std::string base64url(const std::string& s) {
  std::string b = util::base64_encode(s);
  for (auto& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

}  // namespace

// OAuth over HTTPS: Azurite checks the token's issuer, audience and lifetime (not its signature);
// the token reaches the client through the credential chain (a stand-in MSI endpoint).
TEST(AzuriteOAuth, BearerTokenFromTheCredentialChain) {
  if (!azurite_available()) FAIL() << "node or azurite missing (run scripts/install-deps.sh)";
  if (!util::find_in_path("openssl")) GTEST_SKIP() << "openssl CLI missing (needed for a self-signed certificate)";
  util::TempDir tmp("rt-azurite-oauth");
  auto cert = tmp.path() / "cert.pem", key = tmp.path() / "key.pem";
  auto gen = util::run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                                "/CN=127.0.0.1", "-keyout", key.string(), "-out", cert.string()});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  AzuriteServer server({"--oauth", "basic", "--cert", cert.string(), "--key", key.string()}, /*https=*/true);
  ASSERT_TRUE(server.error.empty()) << server.error;

  int64_t now = util::now_ms() / 1000;
  std::string jwt = base64url(R"({"alg":"RS256","typ":"JWT"})") + "." +
                    base64url(util::cat(R"({"aud":"https://storage.azure.com","iss":"https://sts.windows.net/)",
                                        R"(00000000-0000-0000-0000-000000000000/","iat":)", now - 60, R"(,"nbf":)",
                                        now - 60, R"(,"exp":)", now + 3600, "}")) +
                    "." + base64url("not-checked");
  test::TestHttpServer msi([&](const test::TestRequest&) {
    return test::TestResponse::json(200, util::cat(R"({"access_token":")", jwt, R"(","expires_on":")", now + 3600, R"("})"));
  });
  storage::testing::ScopedEnv env{{"AZURE_FEDERATED_TOKEN_FILE", std::nullopt}, {"MSI_ENDPOINT", msi.url() + "/token"}};

  storage::BlobAccess shared_key{server.endpoint, storage::testing::kDevKey, {}, /*insecure_tls=*/true};
  storage::BlobClient admin(shared_key, storage::testing::kDevAccount);
  admin.create_container("oauth");
  admin.put_blob("oauth", "ds/meta/info.json", "{\"fps\": 30}");

  storage::BlobDownloadOptions options;
  options.access = {server.endpoint, "", util::azure_token_provider(util::kStorageResource), true};
  options.progress = false;
  auto dest = tmp.path() / "out";
  storage::download_blob_prefix("https://devstoreaccount1.blob.core.windows.net/oauth/ds", dest, options);
  EXPECT_EQ(util::read_file(dest / "meta" / "info.json"), "{\"fps\": 30}");
  EXPECT_EQ(msi.requests().size(), 1u) << "one token for every request";

  // A token for another audience is refused by the emulator, and the error says so.
  std::string wrong = base64url(R"({"alg":"RS256"})") + "." +
                      base64url(util::cat(R"({"aud":"https://management.azure.com","iss":"https://sts.windows.net/t/","iat":)",
                                          now - 60, R"(,"nbf":)", now - 60, R"(,"exp":)", now + 3600, "}")) +
                      ".x";
  options.access.token = [&] { return wrong; };
  try {
    storage::download_blob_prefix("https://devstoreaccount1.blob.core.windows.net/oauth/ds", tmp.path() / "out2", options);
    ADD_FAILURE() << "wrong audience accepted";
  } catch (const util::RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("AuthenticationFailed"));
  }
}
