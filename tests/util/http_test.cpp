#include "util/http.h"

#include <gtest/gtest.h>

#include <atomic>

#include "support/http_server.h"

using namespace robotrain::util;
using robotrain::test::TestHttpServer;
using robotrain::test::TestRequest;
using robotrain::test::TestResponse;

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override { set_retry_sleep_scale(0.0); }
  void TearDown() override { set_retry_sleep_scale(1.0); }
};

TEST_F(HttpTest, RetriesTransientStatusesThenSucceeds) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest&) {
    int n = ++calls;
    if (n == 1) return TestResponse{429, {{"Retry-After", "1"}}, "slow down"};
    if (n == 2) return TestResponse{503, {}, "busy"};
    return TestResponse{200, {}, "ok"};
  });
  int retries = 0;
  RetryPolicy policy;
  policy.on_retry = [&](int, double, const std::string&) { ++retries; };
  auto r = http_send({.url = server.url() + "/x"}, policy);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(retries, 2);
}

TEST_F(HttpTest, DoesNotRetryClientErrors) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest&) {
    ++calls;
    return TestResponse{404, {}, "nope"};
  });
  auto r = http_send({.url = server.url() + "/x"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpTest, RetryAfterSecondsIsHonoured) {
  HttpResponse r;
  r.headers["retry-after"] = "7";
  EXPECT_DOUBLE_EQ(retry_delay_s(&r, 1, RetryPolicy{}), 7.0);
}

TEST_F(HttpTest, RedirectToOtherHostDropsAuthorization) {
  TestHttpServer cdn([&](const TestRequest& req) { return TestResponse{200, {}, req.header("authorization")}; });
  TestHttpServer origin([&](const TestRequest& req) {
    // "localhost" vs "127.0.0.1" are different hosts for the redirect rule.
    return TestResponse{302, {{"Location", "http://localhost:" + std::to_string(cdn.port()) + "/blob"}}, ""};
  });
  HttpRequest req{.url = origin.url() + "/file"};
  req.headers.push_back({"Authorization", "Bearer secret"});
  auto r = http_send(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
}

TEST_F(HttpTest, ConnectionRefusedIsNetworkErrorAfterRetries) {
  RetryPolicy policy;
  policy.max_retries = 1;
  EXPECT_THROW(http_send({.url = "http://127.0.0.1:1/"}, policy), NetworkError);
}
