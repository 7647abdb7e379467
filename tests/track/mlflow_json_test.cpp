// MLflow REST answers read as a hostile or broken server may send them (fuzz/mlflow_json_fuzzer).
#include <gtest/gtest.h>

#include <cstdint>

#include "support/http_server.h"
#include "track/mlflow_client.h"
#include "util/json.h"

using namespace robotrain::track;
using robotrain::util::Json;

TEST(MlflowJson, Int64FieldsAcceptNumbersAndStrings) {
  auto j = Json::parse(R"({"a": 1700000000000, "b": "1700000000001", "c": -5, "d": 12.0})");
  EXPECT_EQ(json_int64(j, "a"), 1700000000000);
  EXPECT_EQ(json_int64(j, "b"), 1700000000001);
  EXPECT_EQ(json_int64(j, "c"), -5);
  EXPECT_EQ(json_int64(j, "d"), 12);
  EXPECT_EQ(json_int64(j, "missing", 7), 7);
}

// Found by mlflow_json_fuzzer: a timestamp of 1.7e44 was converted to int64 (undefined
// behaviour, an abort under UBSan). Out-of-range numbers now read as absent.
TEST(MlflowJson, OutOfRangeNumbersReadAsAbsent) {
  auto j = Json::parse(R"({"float": 170000000000000000000000000000000000000000000,
                           "unsigned": 18446744073709551615, "neg": -1e300, "edge": 9223372036854775808.0})");
  EXPECT_EQ(json_int64(j, "float"), -1);
  EXPECT_EQ(json_int64(j, "unsigned"), -1);
  EXPECT_EQ(json_int64(j, "neg", 3), 3);
  EXPECT_EQ(json_int64(j, "edge"), -1);
  EXPECT_EQ(json_int64(Json::parse(R"({"m": 9223372036854775807})"), "m"), INT64_MAX);
}

TEST(MlflowJson, MetricWithAHugeTimestampIsReadWithoutOverflow) {
  auto m = metric_from_json(Json::parse(
      R"({"key": "train/loss", "value": 0.5, "timestamp": 170000000000000000000000000000000000000000000, "step": 0})"));
  EXPECT_EQ(m.key, "train/loss");
  EXPECT_EQ(m.timestamp, 0);
  EXPECT_EQ(m.step, 0);
}

// Fields of the wrong JSON type read as absent, as missing ones do: a broken server gives an
// empty record, not nlohmann's "cannot use value() with number".
TEST(MlflowJson, MembersOfTheWrongShapeReadAsAbsent) {
  for (const char* body : {R"(5)", R"({"info": 5, "data": "x"})", R"({"info": [], "data": {"params": 5, "tags": {}, "metrics": "m"}})",
                           R"({"data": {"params": [5, "k", {"key": 1}], "tags": [[]], "metrics": [5, null]}})"}) {
    RunRecord r;
    EXPECT_NO_THROW(r = run_from_json(Json::parse(body))) << body;
    EXPECT_TRUE(r.info.run_id.empty()) << body;
  }
  auto v = model_version_from_json(Json::parse(R"({"name": "m", "version": "3", "tags": 7})"));
  EXPECT_EQ(v.name, "m");
  EXPECT_EQ(v.version, "3");
  EXPECT_TRUE(v.tags.empty());
}

// Every MLflow REST answer is an object: a 200 with anything else is refused with a message
// that says so, for each kind of read.
TEST(MlflowJson, AnAnswerThatIsNotAnObjectIsRefused) {
  robotrain::test::TestHttpServer server(
      [](const robotrain::test::TestRequest&) { return robotrain::test::TestResponse::json(200, "[1, 2]"); });
  auto client = MlflowClient::for_uri(server.url());
  try {
    client.get_run("0123456789abcdef0123456789abcdef");
    FAIL() << "a list was read as a run";
  } catch (const MlflowError& e) {
    EXPECT_NE(std::string(e.what()).find("response is not a JSON object"), std::string::npos) << e.what();
    EXPECT_EQ(e.error_code(), "INVALID_RESPONSE");
  }
  EXPECT_THROW(client.search_runs({"0"}, "", 10), MlflowError);
}
