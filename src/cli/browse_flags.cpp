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

}  // namespace robotrain::cli
