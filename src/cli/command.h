#pragma once
// Subcommands register themselves from their own files (cmd_<name>.cpp), so adding a command
// touches no shared list:
//
//   static robotrain::cli::CommandRegistrar reg(10, [](CLI::App& root) {
//     auto* cmd = robotrain::cli::group(root, "dataset", "Inspect and build datasets")
//                     .add_subcommand("info", "Summarise a dataset");
//     ...
//     cmd->callback([opts] { ... });
//   });
//
// Callbacks report failures by throwing util::InputError (exit 2) or util::RuntimeError (exit 1).
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace robotrain::cli {

using CommandSetup = std::function<void(CLI::App& root)>;

struct CommandRegistrar {
  // Lower `order` registers first (and is listed first in --help).
  CommandRegistrar(int order, CommandSetup setup);
};

// Get-or-create a command group under `parent` (e.g. "dataset", "runs"), requiring one of its
// subcommands.
CLI::App& group(CLI::App& parent, const std::string& name, const std::string& description);

// Adds an option under several names ("--policy.type,--policy-type"); thin wrapper kept so
// every command spells alias lists the same way.
void register_all(CLI::App& root);

// Exit code the process should return for a command callback that set one explicitly
// (e.g. `dataset validate` finding violations). 0 unless set.
void set_exit_code(int code);
int exit_code();

}  // namespace robotrain::cli
