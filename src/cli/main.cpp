// robotrain: train LeRobot policies natively, track them in MLflow, run them on clusters.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "util/error.h"
#include "util/memory.h"
#include "util/strings.h"

#ifndef ROBOTRAIN_VERSION
#define ROBOTRAIN_VERSION "0.1.0"
#endif

using robotrain::util::one_line;

int main(int argc, char** argv) {
  robotrain::util::keep_freed_memory();

  CLI::App app{"robotrain: native training of LeRobot policies (ACT, Diffusion Policy)", "robotrain"};
  app.set_version_flag("--version", std::string("robotrain ") + ROBOTRAIN_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  robotrain::cli::register_all(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "robotrain: error: " << one_line(e.what()) << " (see --help)\n";
    return 2;
  } catch (const robotrain::util::Error& e) {
    // Messages quote paths, server replies and user input: one line whatever those hold.
    std::cerr << "robotrain: error: " << one_line(e.what()) << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    // Not one of ours (LibTorch, the standard library): its message, without a backtrace.
    // User input is checked where it is read, so this is a robotrain bug.
    std::cerr << "robotrain: error: " << one_line(robotrain::util::one_line_message(e))
              << " (an unexpected internal error; please report it with the output of `robotrain env`)\n";
    return 1;
  }
  return robotrain::cli::exit_code();
}
