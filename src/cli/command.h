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
//
// Numeric flags carry their range where they are declared:
//
//     cmd->add_option("--batch-size", *batch, "Samples per batch")->transform(int_in(1, 65536));
//
// register_all() then hardens every option of every command: a numeric one without a range
// still gets the strict parse below (so nothing is ever truncated, wrapped or read as octal),
// a value that is another flag (`--steps --output_dir X`) is "--steps needs a value", and a
// value that is not UTF-8 is refused (it would break the JSON files and tracking calls that
// record it, after the work is done); an empty path (--output "") is refused too.
#include <CLI/CLI.hpp>
#include <cstdint>
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

// Registers every command under `root`, then hardens their options (see above).
void register_all(CLI::App& root);

// A CLI11 transform for an integer flag: the whole value must be a decimal integer (no 0x, no
// leading 0 read as octal, no 1e3) in [min, max]. Errors name the flag (CLI11 prefixes it).
CLI::Validator int_in(int64_t min, int64_t max);
// The same for a real flag: a finite decimal number in [min, max].
CLI::Validator real_in(double min, double max);
// The checks of int_in / real_in for a flag read as a string and converted later (`train`
// applies its flags over a resumed run's configuration); InputError naming `flag`.
int64_t parse_int_flag(const std::string& flag, const std::string& text, int64_t min, int64_t max);
double parse_real_flag(const std::string& flag, const std::string& text, double min, double max);
// The most data-loader threads a command accepts: 4 per core, at least 16. Each thread holds
// its video decoders and a prefetched batch, so beyond the cores they only add memory.
int max_loader_workers();

// Exit code the process should return for a command callback that set one explicitly
// (e.g. `dataset validate` finding violations). 0 unless set.
void set_exit_code(int code);
int exit_code();

}  // namespace robotrain::cli
