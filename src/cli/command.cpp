#include "cli/command.h"

#include <algorithm>
#include <vector>

namespace robotrain::cli {

namespace {
struct Entry {
  int order;
  CommandSetup setup;
};
std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}
int g_exit_code = 0;
}  // namespace

CommandRegistrar::CommandRegistrar(int order, CommandSetup setup) {
  registry().push_back({order, std::move(setup)});
}

void register_all(CLI::App& root) {
  auto entries = registry();
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.order < b.order; });
  for (auto& e : entries) e.setup(root);
}

CLI::App& group(CLI::App& parent, const std::string& name, const std::string& description) {
  for (CLI::App* sub : parent.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return *sub;
  }
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->require_subcommand(1);
  return *sub;
}

void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

}  // namespace robotrain::cli
