#pragma once
// Errors carry the process exit code the CLI reports: 2 for invalid input (checked before
// any network access or heavy work), 1 for failures at run time.
#include <stdexcept>
#include <string>

namespace robotrain::util {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, int exit_code) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Bad flags, malformed URLs, incompatible datasets: the user must change something.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(message, 2) {}
};

// Something failed while doing the work: I/O, network, a corrupt file.
class RuntimeError : public Error {
 public:
  explicit RuntimeError(const std::string& message) : Error(message, 1) {}
};

// One line for an exception robotrain did not raise itself (LibTorch's c10::Error carries a
// C++ backtrace and "Exception raised from ..." after its message): the message alone, its
// lines joined with "; ".
std::string one_line_message(const std::exception& e);

}  // namespace robotrain::util
