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
  robotrain::fuzz::guarded(strict, [&] { run_from_json(body.value("run", Json::object())); });
  robotrain::fuzz::guarded(strict, [&] {
    for (auto& r : body.value("runs", Json::array())) run_from_json(r);
  });
  robotrain::fuzz::guarded(strict, [&] {
    for (auto& m : body.value("metrics", Json::array())) metric_from_json(m);
  });
  robotrain::fuzz::guarded(strict, [&] { run_info_from_json(body.value("run_info", Json::object())); });
  robotrain::fuzz::guarded(strict, [&] { model_version_from_json(body.value("model_version", Json::object())); });
  robotrain::fuzz::guarded(strict, [&] {
    for (auto& v : body.value("model_versions", Json::array())) model_version_from_json(v);
  });
  robotrain::fuzz::guarded(strict, [&] {
    for (auto& m : body.value("registered_models", Json::array()))
      for (auto& v : m.value("latest_versions", Json::array())) model_version_from_json(v);
  });
  robotrain::fuzz::guarded(strict, [&] { json_int64(body, "next_page_token"); });
  return 0;
}
