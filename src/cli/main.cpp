// robotrain: train LeRobot policies natively, track them in MLflow, run them on clusters.
#include <malloc.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "util/error.h"

#ifndef ROBOTRAIN_VERSION
#define ROBOTRAIN_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  // Keep freed memory instead of handing large tensors back to the OS after every step
  // (page faults otherwise cost ~20% of a training step): blocks up to 32 MiB (the largest
  // mmap threshold glibc accepts) come from the heap, and the heap is never trimmed.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, -1);

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
    std::cerr << "robotrain: error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const robotrain::util::Error& e) {
    std::cerr << "robotrain: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "robotrain: error: " << e.what() << "\n";
    return 1;
  }
  return robotrain::cli::exit_code();
}
