#pragma once
// Progress for long work: a redrawn bar on a terminal, otherwise a plain log line at most
// every `log_interval_s` seconds (and at the end), so CI logs stay readable.
#include <chrono>
#include <cstdint>
#include <string>

namespace robotrain::util {

class Progress {
 public:
  Progress(std::string label, int64_t total, double log_interval_s = 10.0);
  ~Progress();
  void update(int64_t done, const std::string& suffix = "");
  void advance(int64_t delta = 1, const std::string& suffix = "");
  void finish(const std::string& suffix = "");

 private:
  void draw(bool force);
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  std::string suffix_;
  bool tty_;
  bool finished_ = false;
  double log_interval_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace robotrain::util
