#pragma once
// The flags shared by the commands that read a tracking destination (`runs`, `model`): which
// store or server to read and whether to print JSON.
#include <CLI/CLI.hpp>
#include <string>

#include "track/browse.h"

namespace robotrain::cli {

struct BrowseFlags {
  std::string tracking_uri;
  bool json = false;

  // Registers --tracking-uri and --json on `cmd`.
  void add_to(CLI::App* cmd);
  // The destination --tracking-uri names; azureml:// gets the Azure management token.
  track::TrackingBrowser browser() const;
};

// The help of a command group that reads a tracking destination: `what` it does, then the exit
// codes, with `invalid_input` saying what exits 2.
std::string browse_group_help(const std::string& what, const std::string& invalid_input);

}  // namespace robotrain::cli
