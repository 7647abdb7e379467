#include "cli/browse_flags.h"

#include "cli/submit_flags.h"

namespace robotrain::cli {

void BrowseFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--tracking-uri", tracking_uri,
                  "MLflow destination: directory/file:// (default ./mlruns or $MLFLOW_TRACKING_URI), http(s)://, azureml://");
  cmd->add_flag("--json", json, "Print JSON");
}

track::TrackingBrowser BrowseFlags::browser() const {
  return track::TrackingBrowser(tracking_uri, azure_management_token_provider());
}

std::string browse_group_help(const std::string& what, const std::string& invalid_input) {
  return what +
         ". Exit codes: 0 ok, 1 the store or server failed (an unreachable server gives up after "
         "ROBOTRAIN_HTTP_BUDGET_S, default 30 s), 2 invalid input (" +
         invalid_input + ")";
}

}  // namespace robotrain::cli
