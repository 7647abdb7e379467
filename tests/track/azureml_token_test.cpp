// azureml:// tracking gets its Azure AD token from the shared credential chain, so that inside
// an Azure ML job (whose image has no `az`) the job's managed identity answers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "support/http_server.h"
#include "track/tracker.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"

using namespace robotrain;
using test::TestHttpServer;
using test::TestRequest;
using test::TestResponse;

namespace {

// Sets or unsets variables for the scope.
class Env {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~Env() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A workspace URI whose host is a closed local port: the token is fetched before connecting.
const char* kWorkspaceUri =
    "azureml://127.0.0.1:1/mlflow/v1.0/subscriptions/sub/resourceGroups/rg/providers/"
    "Microsoft.MachineLearningServices/workspaces/ws";

class AzureMlToken : public ::testing::Test {
 protected:
  util::TempDir tmp{"rt-amltoken"};
  Env env;
  void SetUp() override {
    util::set_retry_sleep_scale(0.0);
    std::filesystem::create_directories(tmp.path() / "empty-bin");
    env.set("PATH", (tmp.path() / "empty-bin").c_str());  // no `az` anywhere
    for (const char* v : {"AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "MSI_SECRET",
                          "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "DEFAULT_IDENTITY_CLIENT_ID", "MLFLOW_RUN_ID"})
      env.set(v, nullptr);
    env.set("ROBOTRAIN_IMDS_ENDPOINT", "http://127.0.0.1:1");
  }
  void TearDown() override { util::set_retry_sleep_scale(1.0); }
  track::TrackerOptions options() const {
    track::TrackerOptions o;
    o.tracking_uri = kWorkspaceUri;
    o.experiment_name = "e";
    o.run_name = "r";
    o.journal_path = tmp.path() / "journal.jsonl";
    return o;
  }
};

}  // namespace

TEST_F(AzureMlToken, TheTrackerGetsItsTokenFromTheJobsManagedIdentityWithoutAz) {
  std::atomic<int> token_calls{0};
  TestHttpServer msi([&](const TestRequest& r) {
    ++token_calls;
    EXPECT_EQ(r.query.at("resource"), "https://management.azure.com/");
    return TestResponse::json(200, "{\"access_token\":\"job-token\",\"expires_in\":3600}");
  });
  env.set("MSI_ENDPOINT", (msi.url() + "/msi/token").c_str());
  // The server cannot be reached, so the tracker journals; it must not fail for want of `az`.
  auto tracker = track::open_tracker(options());
  tracker->log_metrics({{"loss", 1.0}}, 1, 0);
  tracker->finish(track::RunStatus::Finished);
  EXPECT_GE(token_calls.load(), 1) << "the token came from the managed identity endpoint";
}

TEST_F(AzureMlToken, WithNoCredentialAnywhereTheErrorNamesTheWholeChain) {
  env.set("MSI_ENDPOINT", nullptr);
  try {
    auto tracker = track::open_tracker(options());
    tracker->finish(track::RunStatus::Finished);
    ADD_FAILURE() << "no error";
  } catch (const util::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("managed identity endpoint"), std::string::npos) << msg;
    EXPECT_NE(msg.find("IMDS"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("AZURE_STORAGE_KEY"), std::string::npos) << "no storage advice for a tracking token: " << msg;
  }
}
