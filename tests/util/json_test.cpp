// util::Json reads numbers into integers only when they fit: JSON from servers and files is
// untrusted, and nlohmann's plain cast is undefined for 1e300 and wraps 2^40 into an int.
#include "util/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

namespace robotrain::util {
namespace {

TEST(JsonIntegers, FloatsOutOfRangeAreErrorsNotUndefinedCasts) {
  for (const char* text : {"1e300", "-1e300", "9223372036854775808.0", "1e19"}) {
    Json j = Json::parse(text);
    EXPECT_THROW(j.get<std::int64_t>(), nlohmann::json::out_of_range) << text;
  }
  EXPECT_THROW(Json::parse("3e9").get<int>(), nlohmann::json::out_of_range);
  EXPECT_THROW(Json::parse("-1.0").get<std::uint64_t>(), nlohmann::json::out_of_range);
}

TEST(JsonIntegers, FloatsInRangeTruncateTowardZero) {
  EXPECT_EQ(Json::parse("1.9").get<std::int64_t>(), 1);
  EXPECT_EQ(Json::parse("-1.9").get<int>(), -1);
  EXPECT_EQ(Json::parse("-9223372036854775808.0").get<std::int64_t>(), INT64_MIN);
  EXPECT_EQ(Json::parse("4294967295.0").get<std::uint32_t>(), 4294967295u);
}

TEST(JsonIntegers, IntegersThatDoNotFitTheTargetAreErrors) {
  EXPECT_THROW(Json::parse("1099511627776").get<int>(), nlohmann::json::out_of_range);
  EXPECT_THROW(Json::parse("-1").get<std::size_t>(), nlohmann::json::out_of_range);
  EXPECT_THROW(Json::parse("18446744073709551615").get<std::int64_t>(), nlohmann::json::out_of_range);
  EXPECT_EQ(Json::parse("18446744073709551615").get<std::uint64_t>(), UINT64_MAX);
  EXPECT_EQ(Json::parse("-2147483648").get<int>(), INT32_MIN);
}

TEST(JsonIntegers, TheCheckReachesValueDefaultsAndContainers) {
  Json j = Json::parse(R"({"size": 1e300, "ok": 7, "list": [1, 2e30], "map": {"a": 5e20}})");
  EXPECT_THROW(j.value("size", std::int64_t{0}), nlohmann::json::out_of_range);
  EXPECT_EQ(j.value("ok", 0), 7);
  EXPECT_EQ(j.value("missing", 3), 3);
  EXPECT_THROW(j["list"].get<std::vector<std::int64_t>>(), nlohmann::json::out_of_range);
  EXPECT_THROW((j["map"].get<std::map<std::string, int>>()), nlohmann::json::out_of_range);
}

TEST(JsonIntegers, ErrorsSayWhichNumberAndWhatItMissed) {
  try {
    Json::parse(R"({"size": 1e300})")["size"].get<std::int64_t>();
    FAIL() << "no error";
  } catch (const nlohmann::json::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("1e+300 does not fit in a 64-bit integer"), std::string::npos) << e.what();
  }
}

TEST(JsonIntegers, OtherTypesStillConvertAsBefore) {
  EXPECT_EQ(Json::parse("true").get<int>(), 1);
  EXPECT_THROW(Json::parse("\"12\"").get<int>(), nlohmann::json::type_error);
  EXPECT_DOUBLE_EQ(Json::parse("1e300").get<double>(), 1e300);
  Json out = {{"n", std::int64_t{-5}}, {"u", std::uint64_t{5}}};
  EXPECT_TRUE(out["n"].is_number_integer());
  EXPECT_EQ(out.dump(), R"({"n":-5,"u":5})");
}

TEST(JsonIntegers, IntegerIfFitsIsTheLenientFormOfTheSameCheck) {
  EXPECT_EQ(integer_if_fits<std::int64_t>(Json::parse("-7.9")), -7);
  EXPECT_EQ(integer_if_fits<std::int64_t>(Json::parse("9223372036854775807")), INT64_MAX);
  for (const char* text : {"1e300", "18446744073709551615", "true", "\"5\"", "null", "[1]"})
    EXPECT_EQ(integer_if_fits<std::int64_t>(Json::parse(text)), std::nullopt) << text;
  EXPECT_EQ(integer_if_fits<std::uint8_t>(Json::parse("256")), std::nullopt);
  EXPECT_EQ(integer_if_fits<std::uint8_t>(Json::parse("255.5")), 255);
}

TEST(JsonMembers, OnlyMembersOfTheWantedShapeAreReturned) {
  Json j = Json::parse(R"({"o": {"a": 1}, "a": [1], "s": "x", "n": 5})");
  EXPECT_EQ(object_member(j, "o"), Json::parse(R"({"a": 1})"));
  EXPECT_EQ(array_member(j, "a"), Json::parse("[1]"));
  EXPECT_EQ(string_member(j, "s"), "x");
  for (const char* key : {"a", "s", "n", "missing"}) EXPECT_TRUE(object_member(j, key).is_object() && object_member(j, key).empty()) << key;
  for (const char* key : {"o", "s", "n", "missing"}) EXPECT_TRUE(array_member(j, key).is_array() && array_member(j, key).empty()) << key;
  for (const char* key : {"o", "a", "n", "missing"}) EXPECT_EQ(string_member(j, key), "") << key;
  for (const Json& not_object : {Json(5), Json::array({1}), Json("o"), Json()}) {
    EXPECT_TRUE(object_member(not_object, "o").empty());
    EXPECT_TRUE(array_member(not_object, "a").empty());
    EXPECT_EQ(string_member(not_object, "s"), "");
  }
}

}  // namespace
}  // namespace robotrain::util
