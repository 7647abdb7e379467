#include "track/azure_token.h"

#include <memory>
#include <mutex>

#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::track {

AccessTokenProvider azure_cli_token_provider(const std::string& resource) {
  struct Cache {
    std::mutex mutex;
    std::string token;
    int64_t expires_s = 0;
  };
  auto cache = std::make_shared<Cache>();
  return [cache, resource]() {
    std::lock_guard lock(cache->mutex);
    int64_t now_s = util::now_ms() / 1000;
    if (!cache->token.empty() && now_s < cache->expires_s - 300) return cache->token;
    if (!util::find_in_path("az"))
      throw util::InputError("azureml:// tracking needs an Azure AD token: install the Azure CLI and run `az login`, or "
                             "run inside Azure ML with a managed identity");
    util::ProcessOptions opt;
    opt.timeout_s = 60;
    auto r = util::run_process({"az", "account", "get-access-token", "--resource", resource, "-o", "json"}, opt);
    if (r.exit_code != 0)
      throw util::RuntimeError(util::cat("az account get-access-token failed: ", util::trim(r.err), "; run `az login`"));
    auto j = util::Json::parse(r.out);
    cache->token = j.value("accessToken", "");
    int64_t exp = 0;
    if (j.contains("expires_on")) {
      if (j["expires_on"].is_number()) exp = j["expires_on"].get<int64_t>();
      else util::parse_int64(j["expires_on"].get<std::string>(), exp);
    }
    cache->expires_s = exp > 0 ? exp : now_s + 1800;
    if (cache->token.empty()) throw util::RuntimeError("az account get-access-token returned no accessToken");
    return cache->token;
  };
}

}  // namespace robotrain::track
