#pragma once
// system/* metrics as MLflow's system metrics monitor names them, sampled from /proc, statvfs
// and nvidia-smi by a background thread (every 30 s by default).
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "track/tracker.h"

namespace robotrain::track {

// One sample: system/cpu_utilization_percentage, system/system_memory_usage_megabytes,
// system/system_memory_usage_percentage, system/disk_usage_percentage,
// system/disk_usage_megabytes, system/disk_available_megabytes and, per GPU i,
// system/gpu_<i>_utilization_percentage, _memory_usage_megabytes, _memory_usage_percentage,
// _power_usage_watts. CPU utilisation is measured since the previous call (first call: since boot).
class SystemSampler {
 public:
  explicit SystemSampler(std::string disk_path = "/");
  std::map<std::string, double> sample();

 private:
  std::string disk_path_;
  uint64_t prev_idle_ = 0, prev_total_ = 0;
  bool gpus_checked_ = false;
  bool have_nvidia_smi_ = false;
};

// Parses nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw
// --format=csv,noheader,nounits output into system/gpu_* metrics.
std::map<std::string, double> parse_nvidia_smi(const std::string& csv);

// Decorates `inner` with a thread logging SystemSampler samples every interval_s (steps 0, 1, …).
std::unique_ptr<Tracker> with_system_metrics(std::unique_ptr<Tracker> inner, double interval_s);

}  // namespace robotrain::track
