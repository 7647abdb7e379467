// Azure ML without the az CLI: submission, status and cancel through the ARM REST API, with
// the token from the managed-identity endpoint. No Azure ML service can run here, so a local
// server answers as ARM and the MSI endpoint document their protocol (PUT/GET jobs/{id},
// POST jobs/{id}/cancel, properties.status).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "support/http_server.h"
#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"

namespace fs = std::filesystem;
using robotrain::test::run_robotrain;
using robotrain::test::TestHttpServer;
using robotrain::test::TestRequest;
using robotrain::test::TestResponse;
using robotrain::util::Json;

namespace {

const std::string kWorkspace =
    "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/workspaces/ws-1";

struct FakeArm {
  std::atomic<int> status_reads{0};
  std::atomic<bool> canceled{false};
  std::string job_id;
  TestResponse handle(const TestRequest& q) {
    if (q.path == "/msi/token") return TestResponse::json(200, R"({"access_token":"tok-1","expires_in":"3600"})");
    if (q.header("authorization") != "Bearer tok-1") return TestResponse::json(401, R"({"error":{"code":"AuthenticationFailed"}})");
    if (q.query.count("api-version") == 0) return TestResponse::json(400, R"({"error":{"code":"MissingApiVersionParameter"}})");
    const std::string jobs = kWorkspace + "/jobs/";
    if (q.method == "PUT" && q.path.rfind(kWorkspace + "/environments/", 0) == 0) return TestResponse::json(200, "{}");
    if (q.method == "PUT" && q.path.rfind(jobs, 0) == 0) {
      job_id = q.path.substr(jobs.size());
      return TestResponse::json(201, q.body);
    }
    if (q.method == "GET" && q.path == jobs + job_id) {
      // Throttled once: the client must honour Retry-After and ask again.
      if (status_reads++ == 0) return {429, {{"Retry-After", "0"}}, R"({"error":{"code":"TooManyRequests"}})"};
      return TestResponse::json(200, Json{{"name", job_id}, {"properties", {{"status", canceled ? "Canceled" : "Running"}}}}.dump());
    }
    if (q.method == "POST" && q.path == jobs + job_id + "/cancel") {
      canceled = true;
      return TestResponse::json(202, "");
    }
    return TestResponse::json(404, R"({"error":{"code":"NotFound"}})");
  }
};

}  // namespace

TEST(AzureMLRest, SubmitStatusAndCancelWithoutTheAzCli) {
  robotrain::util::TempDir tmp{"rt-aml-rest"};
  FakeArm arm;
  TestHttpServer server([&](const TestRequest& q) { return arm.handle(q); });
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"},  // no az here
                                            {"ROBOTRAIN_HOME", (tmp.path() / "home").string()},
                                            {"ROBOTRAIN_AZUREML_ENDPOINT", server.url()},
                                            {"MSI_ENDPOINT", server.url() + "/msi/token"},
                                            {"AZURE_SUBSCRIPTION_ID", ""},
                                            {"AZURE_RESOURCE_GROUP", ""},
                                            {"AZUREML_WORKSPACE_NAME", ""},
                                            {"AZUREML_COMPUTE", ""}};
  auto r = run_robotrain({"submit", "azureml", "-d", "lerobot/pusht", "--subscription-id", "sub-1", "--resource-group", "rg-1",
                          "--workspace-name", "ws-1", "--compute", "gpu-cl", "--json"},
                         env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = Json::parse(r.out)["id"];
  EXPECT_EQ(id, arm.job_id);

  auto s = run_robotrain({"jobs", "status", id, "--json"}, env);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Json::parse(s.out)["state"], "running");
  EXPECT_EQ(arm.status_reads.load(), 2) << "one throttled read, one answered";

  auto c = run_robotrain({"jobs", "cancel", id}, env);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(arm.canceled.load());
  s = run_robotrain({"jobs", "status", id, "--json"}, env);
  EXPECT_EQ(Json::parse(s.out)["state"], "canceled") << s.err;

  // Logs have no ARM endpoint: a one-line error naming what is needed instead.
  auto l = run_robotrain({"jobs", "logs", id}, env);
  EXPECT_EQ(l.exit_code, 1);
  EXPECT_NE(l.err.find("needs the az CLI"), std::string::npos) << l.err;
}
