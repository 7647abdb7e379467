// MLflow REST answers as a hostile tracking server may send them: the body parsed as the client
// parses it, then read by the same functions the client's calls use (runs/get, runs/search,
// metrics/get-history, model-versions/*, registered-models/*).
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "track/mlflow_client.h"
#include "util/json.h"

using namespace robotrain::track;
using robotrain::util::Json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool strict = robotrain::fuzz::strict_from_env();
  Json body;
  try {
    body = Json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size);
  } catch (const Json::exception&) {
    return 0;  // the client reports invalid JSON as such
  }
  if (!body.is_object()) return 0;  // and any answer but an object (MlflowClient::parse_reply)
  using robotrain::util::array_member;
  using robotrain::util::object_member;
  robotrain::fuzz::guarded(strict, [&] { run_from_json(object_member(body, "run")); });
  robotrain::fuzz::guarded(strict, [&] {
    for (auto& r : array_member(body, "runs")) run_from_json(r);
  });
  robotrain::fuzz::guarded(strict, [&] {
    for (auto& m : array_member(body, "metrics")) metric_from_json(m);
  });
  robotrain::fuzz::guarded(strict, [&] { run_info_from_json(object_member(body, "run_info")); });
  robotrain::fuzz::guarded(strict, [&] { model_version_from_json(object_member(body, "model_version")); });
  robotrain::fuzz::guarded(strict, [&] {
    for (auto& v : array_member(body, "model_versions")) model_version_from_json(v);
  });
  robotrain::fuzz::guarded(strict, [&] {
    for (auto& m : array_member(body, "registered_models"))
      for (auto& v : array_member(m, "latest_versions")) model_version_from_json(v);
  });
  robotrain::fuzz::guarded(strict, [&] { json_int64(body, "next_page_token"); });
  return 0;
}
