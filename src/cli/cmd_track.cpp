// `robotrain track sync --journal FILE`: deliver MLflow calls that a training run journaled
// while the tracking server was unreachable.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/submit_flags.h"
#include "track/journal.h"
#include "util/json.h"

namespace robotrain::cli {
namespace {

struct SyncFlags {
  std::string journal;
  std::string tracking_uri;
  bool json = false;
};

CommandRegistrar reg(62, [](CLI::App& root) {
  auto& track = group(root, "track", "Experiment tracking maintenance");
  auto f = std::make_shared<SyncFlags>();
  auto* c = track.add_subcommand("sync", "Replay a journal of undelivered MLflow calls");
  c->add_option("--journal", f->journal, "Journal file (e.g. OUTPUT/.robotrain/mlflow-journal.jsonl)")->required();
  c->add_option("--tracking-uri", f->tracking_uri, "Send to this server instead of the one recorded in the journal");
  c->add_flag("--json", f->json, "Print JSON");
  c->callback([f] {
    track::SyncOptions o;
    o.tracking_uri = f->tracking_uri;
    o.access_token = azure_management_token_provider();
    auto r = track::sync_journal(f->journal, o);
    if (f->json) {
      std::cout << util::Json{{"replayed", r.replayed}, {"run_ids", r.run_ids}, {"archived", r.archived.string()}}.dump(2)
                << "\n";
      return;
    }
    std::cout << "replayed " << r.replayed << " journaled calls";
    for (auto& id : r.run_ids) std::cout << " (run " << id << ")";
    std::cout << "; journal archived as " << r.archived.string() << "\n";
  });
});

}  // namespace
}  // namespace robotrain::cli
