// MLflow REST answers read as a hostile or broken server may send them (fuzz/mlflow_json_fuzzer).
#include <gtest/gtest.h>

#include <cstdint>

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
