// `robotrain dataset fetch`: any dataset source (Hugging Face Hub, Azure Blob prefixes, Azure
// ML data assets) into a local LeRobot dataset, merged when several — the same code path
// `robotrain train` uses before it trains.
#include <iostream>

#include "cli/command.h"
#include "storage/dataset_source.h"
#include "train/train_config.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::cli {
namespace {

struct FetchFlags {
  storage::DatasetSources sources;
  storage::FetchOptions options;
  std::string output, revision, episodes, blob_endpoint;
  bool json = false;
};

void run(FetchFlags& f) {
  f.options.output = f.output;
  f.options.hub.revision = f.revision;
  f.options.hub.parallel = f.options.parallel;
  if (!f.episodes.empty()) f.options.hub.episodes = train::parse_episode_list(f.episodes);
  if (!f.blob_endpoint.empty()) f.options.blob.endpoint = f.blob_endpoint;
  if (f.sources.empty())
    throw util::InputError("dataset fetch: no source; pass --dataset.repo_id OWNER/NAME, --blob-url URL or --dataset-asset URI");
  if (!f.revision.empty() && f.sources.repo_id.empty())
    throw util::InputError("--dataset.revision applies to --dataset.repo_id (Hugging Face Hub) only");
  storage::check_fetch_sources(f.sources, f.options);  // exit 2 before any network access
  f.options.progress = !f.json;
  auto result = storage::fetch_dataset_sources(f.sources, f.options);
  if (f.json) {
    std::cout << util::Json{{"root", result.root.string()},
                            {"source", storage::dataset_source_tag(f.sources)},
                            {"parts", result.parts},
                            {"merged", result.merged},
                            {"reused", result.reused}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << (result.reused ? "already fetched: " : "dataset ready: ") << result.root.string()
              << (result.merged ? util::cat(" (", result.parts, " sources merged)") : std::string()) << "\n";
  }
}

CommandRegistrar reg(11, [](CLI::App& root) {
  auto* cmd = group(root, "dataset", "Inspect and build datasets")
                  .add_subcommand("fetch", "Download a dataset from the Hugging Face Hub, Azure Blob or Azure ML data assets");
  cmd->footer(
      "Examples:\n"
      "  robotrain dataset fetch --dataset.repo_id lerobot/pusht\n"
      "  robotrain dataset fetch --blob-url https://acct.blob.core.windows.net/data/pusht --output data/pusht\n"
      "  robotrain dataset fetch --blob-url URL1 --blob-url URL2 --output data/merged   (merged into one v3.0 dataset)\n"
      "Credentials: HF_TOKEN for the Hub; AZURE_STORAGE_KEY or the Azure AD chain (workload identity, managed\n"
      "identity, az login) for Blob; AZURE_SUBSCRIPTION_ID / AZURE_RESOURCE_GROUP / AZUREML_WORKSPACE_NAME for assets.");
  auto f = std::make_shared<FetchFlags>();
  cmd->add_option("--dataset.repo_id,--dataset-repo-id,-d", f->sources.repo_id, "Hugging Face Hub dataset OWNER/NAME");
  cmd->add_option("--dataset.revision,--revision", f->revision,
                  "Hub branch, tag or commit (default: LeRobot's choice, the v3.0 tag or the newest compatible one)");
  cmd->add_option("--dataset.episodes,--episodes", f->episodes, "Hub: only the files these episodes need, e.g. [0,1,5]");
  cmd->add_option("--blob-url", f->sources.blob_urls, "https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX (repeatable)");
  cmd->add_option("--dataset-asset", f->sources.dataset_assets, "azureml:NAME:VERSION (repeatable)");
  cmd->add_option("--blob-endpoint", f->blob_endpoint,
                  "Blob service endpoint instead of https://ACCOUNT.blob.core.windows.net (Azurite: http://127.0.0.1:10000/devstoreaccount1)");
  cmd->add_option("--output,-o", f->output,
                  "Dataset directory to create (default: the hub cache for a Hub source, else ~/.robotrain/datasets/..., reused while its blob prefixes are unchanged)");
  cmd->add_flag("--overwrite", f->options.overwrite, "Replace an existing output directory (fetch again)");
  cmd->add_option("--parallel", f->options.parallel, "Concurrent downloads")->capture_default_str()->transform(int_in(1, 64));
  cmd->add_flag("--json", f->json, "Print the result as JSON");
  cmd->callback([f] { run(*f); });
});

}  // namespace
}  // namespace robotrain::cli
