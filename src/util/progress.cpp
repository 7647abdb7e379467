#include "util/progress.h"

#include <cstdio>

#include "util/log.h"

namespace robotrain::util {

Progress::Progress(std::string label, int64_t total, double log_interval_s)
    : label_(std::move(label)),
      total_(total),
      tty_(stderr_is_terminal()),
      log_interval_s_(log_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_ && tty_ && done_ > 0) std::fprintf(stderr, "\n");
}

void Progress::update(int64_t done, const std::string& suffix) {
  done_ = done;
  if (!suffix.empty()) suffix_ = suffix;
  draw(false);
}

void Progress::advance(int64_t delta, const std::string& suffix) { update(done_ + delta, suffix); }

void Progress::finish(const std::string& suffix) {
  if (finished_) return;
  if (!suffix.empty()) suffix_ = suffix;
  draw(true);
  if (tty_) std::fprintf(stderr, "\n");
  finished_ = true;
}

void Progress::draw(bool force) {
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 0.0;
  if (tty_) {
    if (!force && since < 0.1) return;
    const int width = 30;
    int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    std::fprintf(stderr, "\r%s [%s] %lld/%lld %3.0f%% %.0fs<%.0fs %s\x1b[K", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), frac * 100, elapsed, eta,
                 suffix_.c_str());
    std::fflush(stderr);
  } else {
    if (!force && since < log_interval_s_) return;
    log_info(label_, ": ", done_, "/", total_, " (", static_cast<int>(frac * 100), "%) ", suffix_);
  }
  last_draw_ = now;
}

}  // namespace robotrain::util
