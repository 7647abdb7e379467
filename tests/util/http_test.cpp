#include "util/http.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

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

// A server that accepts the request and never answers within any stall timeout the tests set.
TestResponse never_answers(const TestRequest&) {
  TestResponse r{200, {}, "late"};
  r.delay_s = 120;
  return r;
}

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

TEST_F(HttpTest, RedirectToAnotherPortDropsCredentials) {
  TestHttpServer other([&](const TestRequest& req) {
    return TestResponse{200, {}, req.header("authorization") + "|" + req.header("secret") + "|" + req.header("x-keep")};
  });
  TestHttpServer origin([&](const TestRequest& req) {
    return TestResponse{302, {{"Location", other.url() + "/blob"}}, ""};
  });
  HttpRequest req{.url = origin.url() + "/file"};
  req.headers = {{"Authorization", "Bearer secret"}, {"secret", "msi"}, {"X-Keep", "yes"}};
  auto r = http_send(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "||yes") << "credentials never follow a redirect to another origin";
}

TEST_F(HttpTest, RedirectOnTheSameOriginKeepsAuthorization) {
  TestHttpServer server([&](const TestRequest& req) {
    if (req.path == "/old") return TestResponse{301, {{"Location", "/new"}}, ""};
    return TestResponse{200, {}, req.header("authorization")};
  });
  HttpRequest req{.url = server.url() + "/old"};
  req.headers = {{"Authorization", "Bearer t"}};
  EXPECT_EQ(http_send(req).body, "Bearer t");
}

TEST_F(HttpTest, RedirectToPlainHttpOnAnotherHostIsRefused) {
  std::atomic<int> other_calls{0};
  TestHttpServer other([&](const TestRequest&) {
    ++other_calls;
    return TestResponse{200, {}, "ok"};
  });
  TestHttpServer origin([&](const TestRequest&) {
    // "localhost" and "127.0.0.1" are different hosts for the redirect rule.
    return TestResponse{302, {{"Location", "http://localhost:" + std::to_string(other.port()) + "/x"}}, ""};
  });
  try {
    http_send({.url = origin.url() + "/file"});
    ADD_FAILURE() << "followed";
  } catch (const NetworkError&) {
    ADD_FAILURE() << "a refused redirect is not a transport failure to retry";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("plain http on another host"), std::string::npos) << e.what();
  }
  EXPECT_EQ(other_calls.load(), 0);
  EXPECT_EQ(origin.requests().size(), 1u) << "not retried";
}

TEST_F(HttpTest, RedirectToFileSchemeIsRefusedOnOneLine) {
  TestHttpServer server([&](const TestRequest&) {
    return TestResponse{302, {{"Location", "file:///etc/passwd"}}, ""};
  });
  try {
    http_send({.url = server.url() + "/x?sig=SECRET"});
    ADD_FAILURE() << "followed";
  } catch (const RuntimeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("file"), std::string::npos) << msg;
    EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("SECRET"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

TEST_F(HttpTest, RedirectLoopStopsAtTheHopLimitWithoutRecursion) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestRequest& req) {
    ++calls;
    return TestResponse{302, {{"Location", req.path == "/a" ? "/b" : "/a"}}, ""};
  });
  try {
    http_send({.url = server.url() + "/a"});
    ADD_FAILURE() << "no error";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("redirect loop"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls.load(), kDefaultMaxRedirects + 1) << "one request plus the allowed hops, not retried";
}

TEST(RedirectRule, OnlyHttpsOrSameHostHttpAndCredentialsOnlyOnTheSameOrigin) {
  auto rule = [](const char* from, const char* to) { return redirect_rule(from, to); };
  EXPECT_TRUE(rule("https://hub.example/a", "https://cdn.example/b").follow);
  EXPECT_FALSE(rule("https://hub.example/a", "https://cdn.example/b").keep_credentials);
  EXPECT_TRUE(rule("https://hub.example/a", "https://hub.example/b").keep_credentials);
  EXPECT_TRUE(rule("https://hub.example/a", "https://HUB.example:443/b").keep_credentials);
  EXPECT_FALSE(rule("https://hub.example/a", "https://hub.example:8443/b").keep_credentials);
  // A downgrade is never followed, even on the same host.
  EXPECT_FALSE(rule("https://hub.example/a", "http://hub.example/b").follow);
  EXPECT_NE(rule("https://hub.example/a", "http://hub.example/b").refusal.find("downgrade"), std::string::npos);
  // An upgrade is followed, but the scheme changed: no credentials.
  EXPECT_TRUE(rule("http://hub.example/a", "https://hub.example/b").follow);
  EXPECT_FALSE(rule("http://hub.example/a", "https://hub.example/b").keep_credentials);
  EXPECT_TRUE(rule("http://127.0.0.1:1/a", "http://127.0.0.1:2/b").follow);
  EXPECT_FALSE(rule("http://127.0.0.1:1/a", "http://127.0.0.1:2/b").keep_credentials);
  EXPECT_FALSE(rule("http://127.0.0.1/a", "http://localhost/b").follow);
  for (const char* bad : {"file:///etc/passwd", "ftp://hub.example/x", "gopher://x/", "javascript:alert(1)", "dict://x:11211/"})
    EXPECT_FALSE(rule("https://hub.example/a", bad).follow) << bad;
}

TEST(RedirectRule, LocationsResolveAgainstTheCurrentUrl) {
  EXPECT_EQ(resolve_location("https://h.example/a/b?q=1", "/c"), "https://h.example/c");
  EXPECT_EQ(resolve_location("https://h.example/a/b?q=1", "c/d"), "https://h.example/a/c/d");
  EXPECT_EQ(resolve_location("https://h.example/a/b", "?x=2"), "https://h.example/a/b?x=2");
  EXPECT_EQ(resolve_location("https://h.example/a/b", "//cdn.example/z"), "https://cdn.example/z");
  EXPECT_EQ(resolve_location("http://h.example", "x"), "http://h.example/x");
  EXPECT_EQ(resolve_location("https://h.example/a", "FILE:///etc/passwd"), "FILE:///etc/passwd");
}

TEST(RedactUrl, DropsUserinfoQueryAndFragment) {
  EXPECT_EQ(redact_url("https://user:p%40ss@mlflow.example:5000/api?token=x#frag"), "https://mlflow.example:5000/api");
  EXPECT_EQ(redact_url("http://tok@h.example"), "http://h.example");
  EXPECT_EQ(redact_url("https://a.blob.core.windows.net/c/p?sv=1&sig=abc"), "https://a.blob.core.windows.net/c/p");
  EXPECT_EQ(redact_url("https://h.example/path/with@sign"), "https://h.example/path/with@sign");
  EXPECT_EQ(redact_url("./mlruns"), "./mlruns");
  EXPECT_EQ(redact_url("azureml:name:1?x"), "azureml:name:1");
}

TEST_F(HttpTest, AServerThatNeverAnswersFailsAtTheStallTimeout) {
  TestHttpServer server(never_answers);
  HttpRequest req{.url = server.url() + "/x"};
  req.stall_timeout_s = 1;
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(http_send_once(req), NetworkError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(HttpTest, ASlowlorisBodyFailsAtTheStallTimeout) {
  TestHttpServer server([&](const TestRequest&) {
    TestResponse r{200, {}, std::string(100000, 'x')};
    r.dribble_interval_s = 0.2;  // 5 bytes a second
    return r;
  });
  HttpRequest req{.url = server.url() + "/x"};
  req.stall_timeout_s = 1;
  auto start = std::chrono::steady_clock::now();
  try {
    http_send_once(req);
    ADD_FAILURE() << "no error";
  } catch (const NetworkError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(HttpTest, TheTotalBudgetBoundsAllAttemptsAndTheMessageCountsThem) {
  set_retry_sleep_scale(1.0);
  TestHttpServer server(never_answers);
  HttpRequest req{.url = server.url() + "/x"};
  req.stall_timeout_s = 1;
  RetryPolicy policy;
  policy.max_retries = 1000;
  policy.base_delay_s = 0.1;
  policy.jitter_s = 0;
  policy.max_total_s = 3;
  auto start = std::chrono::steady_clock::now();
  try {
    http_send(req, policy);
    ADD_FAILURE() << "no error";
  } catch (const NetworkError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("retries exhausted after "), std::string::npos) << msg;
    EXPECT_NE(msg.find(" attempts"), std::string::npos) << msg;
    EXPECT_NE(msg.find("time budget 3 s"), std::string::npos) << msg;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
  EXPECT_GE(server.requests().size(), 2u);
}

TEST_F(HttpTest, ExhaustedRetriesOnAStatusAreCountedInTheDescription) {
  TestHttpServer server([&](const TestRequest&) { return TestResponse{503, {}, "busy\nERROR forged line"}; });
  RetryPolicy policy;
  policy.max_retries = 2;
  HttpRequest req{.url = server.url() + "/x"};
  auto r = http_send(req, policy);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.attempts, 3);
  std::string msg = describe_http_failure(req, r);
  EXPECT_NE(msg.find("after 3 attempts (retries exhausted)"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST_F(HttpTest, ABodyOverTheCapIsRefusedWhileItArrives) {
  TestHttpServer server([&](const TestRequest& req) {
    return TestResponse{req.path == "/ok" ? 200 : 500, {}, std::string(3 << 20, 'x')};
  });
  HttpRequest req{.url = server.url() + "/ok"};
  req.max_body_bytes = 1 << 20;
  try {
    http_send(req);
    ADD_FAILURE() << "no error";
  } catch (const NetworkError&) {
    ADD_FAILURE() << "an oversized answer is not retried";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("larger than 1.0 MiB"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.requests().size(), 1u);
  // An error body is cut, not an error in itself: the status still reaches the caller.
  RetryPolicy once;
  once.max_retries = 0;
  auto r = http_send({.url = server.url() + "/err"}, once);
  EXPECT_EQ(r.status, 500);
  EXPECT_LE(r.body.size(), 64u << 10);
}

TEST_F(HttpTest, OnlyHttpAndHttpsUrlsAreFetched) {
  try {
    http_send({.url = "file:///etc/passwd"});
    ADD_FAILURE() << "no error";
  } catch (const NetworkError&) {
    ADD_FAILURE() << "not a transport failure";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("only http:// and https://"), std::string::npos) << e.what();
  }
}

TEST_F(HttpTest, ConnectionRefusedIsNetworkErrorAfterRetries) {
  RetryPolicy policy;
  policy.max_retries = 1;
  try {
    http_send({.url = "http://u:pw@127.0.0.1:1/?token=t"}, policy);
    ADD_FAILURE() << "no error";
  } catch (const NetworkError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("retries exhausted after 2 attempts"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("pw"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("token"), std::string::npos) << msg;
  }
}
