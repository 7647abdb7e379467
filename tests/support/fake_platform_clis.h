#pragma once
// `az` and `osmo` executables first on PATH, standing in for the Azure ML and OSMO CLIs only
// because no such service can run here. Each appends its command line to DIR/calls.log, copies
// a submitted job spec to DIR/submitted.yaml and answers with the documented JSON / tsv
// shapes. Files in DIR steer the answers: aml_status, aml_logs, osmo_status,
// osmo_train_logs, osmo_eval_logs.
#include <filesystem>
#include <map>
#include <string>

namespace robotrain::test {

class FakePlatformClis {
 public:
  // Writes DIR/bin/az and DIR/bin/osmo.
  explicit FakePlatformClis(std::filesystem::path dir);

  // PATH (the stand-ins, then /usr/bin:/bin) and FAKE_DIR, for the robotrain under test.
  std::map<std::string, std::string> env() const;
  // Every call the stand-ins took, one a line; empty when none.
  std::string calls() const;
  // The job spec last submitted.
  std::string submitted() const;

 private:
  std::filesystem::path dir_;
};

}  // namespace robotrain::test
