// The Azure AD credential chain against local stand-ins: workload identity (token endpoint via
// AZURE_AUTHORITY_HOST), the Azure ML MSI endpoint, IMDS (ROBOTRAIN_IMDS_ENDPOINT), a fake `az`.
#include "util/azure_credential.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>

#include "storage/storage_test_util.h"
#include "support/http_server.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"

using namespace robotrain;
using storage::testing::ScopedEnv;
using test::TestHttpServer;
using test::TestRequest;
using test::TestResponse;
using ::testing::HasSubstr;

namespace {

std::string token_json(const std::string& token, int64_t expires_in_s, bool as_expires_on = true) {
  int64_t now = util::now_ms() / 1000;
  if (as_expires_on)
    return "{\"access_token\":\"" + token + "\",\"expires_on\":\"" + std::to_string(now + expires_in_s) +
           "\",\"token_type\":\"Bearer\"}";
  return "{\"access_token\":\"" + token + "\",\"expires_in\":" + std::to_string(expires_in_s) + ",\"token_type\":\"Bearer\"}";
}

class AzureCredential : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-cred"};
  // Nothing from the machine running the tests may leak into the chain.
  ScopedEnv clean{{"AZURE_FEDERATED_TOKEN_FILE", std::nullopt}, {"AZURE_CLIENT_ID", std::nullopt},
                  {"AZURE_TENANT_ID", std::nullopt},            {"AZURE_AUTHORITY_HOST", std::nullopt},
                  {"MSI_ENDPOINT", std::nullopt},               {"MSI_SECRET", std::nullopt},
                  {"IDENTITY_ENDPOINT", std::nullopt},          {"IDENTITY_HEADER", std::nullopt},
                  {"DEFAULT_IDENTITY_CLIENT_ID", std::nullopt}, {"ROBOTRAIN_IMDS_ENDPOINT", "http://127.0.0.1:1"},
                  {"PATH", (tmp.path() / "bin").string()}};
  void SetUp() override {
    std::filesystem::create_directories(tmp.path() / "bin");
    util::set_retry_sleep_scale(0.0);
  }
  void TearDown() override { util::set_retry_sleep_scale(1.0); }
};

}  // namespace

TEST_F(AzureCredential, MsiEndpointWithSecretAndClientId) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest& r) {
    ++calls;
    if (r.header("secret") != "s3cret") return TestResponse::json(401, "{}");
    return TestResponse::json(200, token_json("msi-token", 3600));
  });
  ScopedEnv env{{"MSI_ENDPOINT", server.url() + "/msi/token"},
                {"MSI_SECRET", "s3cret"},
                {"DEFAULT_IDENTITY_CLIENT_ID", "uami-1"}};
  auto provider = util::azure_token_provider(util::kStorageResource);
  EXPECT_EQ(provider(), "msi-token");
  EXPECT_EQ(provider(), "msi-token");
  EXPECT_EQ(calls, 1) << "a token valid for an hour is cached";
  auto req = server.requests().at(0);
  EXPECT_EQ(req.path, "/msi/token");
  EXPECT_EQ(req.query.at("api-version"), "2017-09-01");
  EXPECT_EQ(req.query.at("resource"), "https://storage.azure.com/");
  EXPECT_EQ(req.query.at("clientid"), "uami-1");
}

TEST_F(AzureCredential, RefreshesBeforeExpiry) {
  std::atomic<int> calls{0};
  std::atomic<int> lifetime{120};  // inside the five-minute refresh margin
  TestHttpServer server([&](const TestRequest&) {
    int n = ++calls;
    return TestResponse::json(200, token_json("t" + std::to_string(n), lifetime));
  });
  ScopedEnv env{{"MSI_ENDPOINT", server.url() + "/token"}};
  auto provider = util::azure_token_provider(util::kManagementResource);
  EXPECT_EQ(provider(), "t1");
  EXPECT_EQ(provider(), "t2") << "a token about to expire is fetched again";
  lifetime = 7200;
  EXPECT_EQ(provider(), "t3");
  EXPECT_EQ(provider(), "t3");
  EXPECT_EQ(calls, 3);
}

TEST_F(AzureCredential, ImdsWithMetadataHeader) {
  TestHttpServer server([&](const TestRequest& r) {
    if (r.header("metadata") != "true") return TestResponse::json(400, "{\"error\":\"missing Metadata\"}");
    if (r.path != "/metadata/identity/oauth2/token") return TestResponse::json(404, "{}");
    return TestResponse::json(200, token_json("imds-token", 3600));
  });
  ScopedEnv env{{"ROBOTRAIN_IMDS_ENDPOINT", server.url()}, {"AZURE_CLIENT_ID", "cid"}};
  auto provider = util::azure_token_provider(util::kStorageResource);
  EXPECT_EQ(provider(), "imds-token");
  auto req = server.requests().at(0);
  EXPECT_EQ(req.query.at("api-version"), "2018-02-01");
  EXPECT_EQ(req.query.at("client_id"), "cid");
}

TEST_F(AzureCredential, WorkloadIdentityPostsTheFederatedTokenAndRereadsIt) {
  std::vector<std::string> assertions;
  std::mutex mutex;
  TestHttpServer server([&](const TestRequest& r) {
    std::lock_guard lock(mutex);
    if (r.method != "POST" || r.path != "/tenant-1/oauth2/v2.0/token") return TestResponse::json(404, "{}");
    EXPECT_THAT(r.body, HasSubstr("grant_type=client_credentials"));
    EXPECT_THAT(r.body, HasSubstr("client_id=app-1"));
    EXPECT_THAT(r.body, HasSubstr("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"));
    EXPECT_THAT(r.body, HasSubstr("scope=https%3A%2F%2Fstorage.azure.com%2F.default"));
    size_t at = r.body.find("client_assertion=");
    assertions.push_back(r.body.substr(at + 17, r.body.find('&', at) - at - 17));
    // Short-lived so that the second call refreshes and must read the rotated file.
    return TestResponse::json(200, token_json("wi-" + std::to_string(assertions.size()), 60, false));
  });
  auto file = tmp.path() / "federated-token";
  util::atomic_write_file(file, "assertion-1\n");
  ScopedEnv env{{"AZURE_FEDERATED_TOKEN_FILE", file.string()},
                {"AZURE_CLIENT_ID", "app-1"},
                {"AZURE_TENANT_ID", "tenant-1"},
                {"AZURE_AUTHORITY_HOST", server.url()},
                {"MSI_ENDPOINT", "http://127.0.0.1:1/never-used"}};
  auto provider = util::azure_token_provider(util::kStorageResource);
  EXPECT_EQ(provider(), "wi-1");
  util::atomic_write_file(file, "assertion-2");
  EXPECT_EQ(provider(), "wi-2");
  ASSERT_EQ(assertions.size(), 2u);
  EXPECT_EQ(assertions[0], "assertion-1");
  EXPECT_EQ(assertions[1], "assertion-2");
}

TEST_F(AzureCredential, FallsThroughAFailingSourceToTheNext) {
  TestHttpServer server([&](const TestRequest& r) {
    if (r.path == "/msi") return TestResponse::json(400, "{\"error\":\"no identity assigned\"}");
    return TestResponse::json(200, token_json("imds-token", 3600));
  });
  ScopedEnv env{{"MSI_ENDPOINT", server.url() + "/msi"}, {"ROBOTRAIN_IMDS_ENDPOINT", server.url()}};
  EXPECT_EQ(util::azure_token_provider(util::kStorageResource)(), "imds-token");
}

TEST_F(AzureCredential, AzureCliIsTheLastResort) {
  auto az = tmp.path() / "bin" / "az";
  util::atomic_write_file(az,
                          "#!/bin/sh\n"
                          "[ \"$1 $2 $3 $4\" = \"account get-access-token --resource https://storage.azure.com/\" ] || exit 3\n"
                          "echo '{\"accessToken\": \"cli-token\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", "
                          "\"expires_on\": 4070908800}'\n");
  ::chmod(az.c_str(), 0755);
  EXPECT_EQ(util::azure_token_provider(util::kStorageResource)(), "cli-token");
}

TEST_F(AzureCredential, ErrorListsEverythingTried) {
  try {
    util::azure_token_provider(util::kStorageResource)();
    ADD_FAILURE() << "no error";
  } catch (const util::RuntimeError& e) {
    std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("no Azure credential for https://storage.azure.com/"));
    EXPECT_THAT(msg, HasSubstr("workload identity: AZURE_FEDERATED_TOKEN_FILE"));
    EXPECT_THAT(msg, HasSubstr("managed identity endpoint: MSI_ENDPOINT/IDENTITY_ENDPOINT not set"));
    EXPECT_THAT(msg, HasSubstr("IMDS managed identity: not reachable"));
    EXPECT_THAT(msg, HasSubstr("Azure CLI: `az` not found"));
    EXPECT_THAT(msg, HasSubstr("az login"));
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

TEST(TokenExpiry, ParsesTheFormsAzureUses) {
  EXPECT_EQ(util::parse_token_expiry("1700000000", "", 5), 1700000000);
  EXPECT_EQ(util::parse_token_expiry("", "3599", 100), 3699);
  EXPECT_EQ(util::parse_token_expiry("11/14/2023 22:13:20 +00:00", "", 0), 1700000000);
  EXPECT_EQ(util::parse_token_expiry("", "", 100), 700);
}

TEST(TokenExpiry, ALifetimeThatOverflowsIsReadAsUnknown) {
  EXPECT_EQ(util::parse_token_expiry("", "9223372036854775807", 100), 700);
}
