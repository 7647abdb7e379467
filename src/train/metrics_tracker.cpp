#include "train/metrics_tracker.h"

#include <cmath>
#include <cstdio>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::train {

std::string format_big_number(double num, int precision) {
  static const char* suffixes[] = {"", "K", "M", "B", "T", "Q"};
  char buf[64];
  for (const char* s : suffixes) {
    if (std::fabs(num) < 1000.0) {
      std::snprintf(buf, sizeof buf, "%.*f%s", precision, num, s);
      return buf;
    }
    num /= 1000.0;
  }
  std::snprintf(buf, sizeof buf, "%g", num);
  return buf;
}

void AverageMeter::update(double value, int64_t n) {
  val_ = value;
  sum_ += value * static_cast<double>(n);
  count_ += n;
  avg_ = sum_ / static_cast<double>(count_);
}

void AverageMeter::reset() { val_ = sum_ = avg_ = 0, count_ = 0; }

std::string AverageMeter::str() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt_.c_str(), avg_);
  return name_ + ":" + buf;
}

MetricsTracker::MetricsTracker(int64_t batch_size, int64_t num_frames, int64_t num_episodes, int64_t initial_step,
                               int world_size)
    : batch_size_(batch_size),
      num_frames_(num_frames),
      avg_samples_per_ep_(num_episodes > 0 ? static_cast<double>(num_frames) / static_cast<double>(num_episodes) : 1.0),
      world_size_(world_size),
      steps_(initial_step) {
  meters_ = {{"loss", AverageMeter("loss", "%.3f")},
             {"grad_norm", AverageMeter("grdn", "%.3f")},
             {"lr", AverageMeter("lr", "%0.1e")},
             {"update_s", AverageMeter("updt_s", "%.3f")},
             {"dataloading_s", AverageMeter("data_s", "%.3f")}};
  samples_ = steps_ * batch_size_ * world_size_;
  episodes_ = static_cast<double>(samples_) / avg_samples_per_ep_;
  epochs_ = num_frames_ > 0 ? static_cast<double>(samples_) / static_cast<double>(num_frames_) : 0.0;
}

AverageMeter& MetricsTracker::meter(const std::string& key) {
  for (auto& [k, m] : meters_)
    if (k == key) return m;
  throw util::RuntimeError(util::cat("MetricsTracker: no meter named '", key, "'"));
}

void MetricsTracker::step() {
  steps_ += 1;
  samples_ += batch_size_ * world_size_;
  episodes_ = static_cast<double>(samples_) / avg_samples_per_ep_;
  epochs_ = num_frames_ > 0 ? static_cast<double>(samples_) / static_cast<double>(num_frames_) : 0.0;
}

std::string MetricsTracker::line() const {
  char epch[32];
  std::snprintf(epch, sizeof epch, "%.2f", epochs_);
  std::string out = util::cat("step:", format_big_number(static_cast<double>(steps_)),
                              " smpl:", format_big_number(static_cast<double>(samples_)),
                              " ep:", format_big_number(episodes_), " epch:", epch);
  for (const auto& [k, m] : meters_) {
    out += ' ';
    out += m.str();
  }
  return out;
}

void MetricsTracker::reset_averages() {
  for (auto& [k, m] : meters_) m.reset();
}

}  // namespace robotrain::train
