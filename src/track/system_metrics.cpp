#include "track/system_metrics.h"

#include <sys/statvfs.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::track {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

bool read_cpu_times(uint64_t& idle, uint64_t& total) {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  if (cpu != "cpu") return false;
  uint64_t v, i = 0;
  idle = total = 0;
  while (in.peek() != '\n' && in >> v) {
    total += v;
    if (i == 3 || i == 4) idle += v;  // idle + iowait
    ++i;
  }
  return total > 0;
}

bool read_meminfo(double& total_kb, double& available_kb) {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  double value;
  total_kb = available_kb = -1;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemTotal:") total_kb = value;
    if (key == "MemAvailable:") available_kb = value;
  }
  return total_kb > 0 && available_kb >= 0;
}

}  // namespace

SystemSampler::SystemSampler(std::string disk_path) : disk_path_(std::move(disk_path)) {}

std::map<std::string, double> parse_nvidia_smi(const std::string& csv) {
  std::map<std::string, double> out;
  std::istringstream lines(csv);
  std::string line;
  while (std::getline(lines, line)) {
    auto cols = util::split(line, ',');
    if (cols.size() < 4) continue;
    int64_t index;
    if (!util::parse_int64(util::trim(cols[0]), index)) continue;
    std::string p = util::cat("system/gpu_", index, "_");
    double util_pct, used, total, power;
    if (util::parse_double(util::trim(cols[1]), util_pct)) out[p + "utilization_percentage"] = util_pct;
    bool have_used = util::parse_double(util::trim(cols[2]), used);
    if (have_used) out[p + "memory_usage_megabytes"] = used;
    if (have_used && util::parse_double(util::trim(cols[3]), total) && total > 0)
      out[p + "memory_usage_percentage"] = 100.0 * used / total;
    if (cols.size() > 4 && util::parse_double(util::trim(cols[4]), power)) out[p + "power_usage_watts"] = power;
  }
  return out;
}

std::map<std::string, double> SystemSampler::sample() {
  std::map<std::string, double> m;
  uint64_t idle, total;
  if (read_cpu_times(idle, total)) {
    uint64_t d_total = total - prev_total_, d_idle = idle - prev_idle_;
    if (d_total > 0) m["system/cpu_utilization_percentage"] = 100.0 * static_cast<double>(d_total - d_idle) / d_total;
    prev_idle_ = idle;
    prev_total_ = total;
  }
  double mem_total, mem_avail;
  if (read_meminfo(mem_total, mem_avail)) {
    double used = mem_total - mem_avail;
    m["system/system_memory_usage_megabytes"] = used / 1024.0;
    m["system/system_memory_usage_percentage"] = 100.0 * used / mem_total;
  }
  struct statvfs st{};
  if (::statvfs(disk_path_.c_str(), &st) == 0 && st.f_blocks > 0) {
    double total_b = static_cast<double>(st.f_blocks) * st.f_frsize;
    double avail_b = static_cast<double>(st.f_bavail) * st.f_frsize;
    double used_b = total_b - static_cast<double>(st.f_bfree) * st.f_frsize;
    m["system/disk_usage_megabytes"] = used_b / kMiB;
    m["system/disk_available_megabytes"] = avail_b / kMiB;
    m["system/disk_usage_percentage"] = 100.0 * used_b / (used_b + avail_b);
  }
  if (!gpus_checked_) {
    gpus_checked_ = true;
    have_nvidia_smi_ = util::find_in_path("nvidia-smi").has_value();
  }
  if (have_nvidia_smi_) {
    util::ProcessOptions opt;
    opt.timeout_s = 10;
    auto r = util::run_process({"nvidia-smi", "--query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw",
                                "--format=csv,noheader,nounits"},
                               opt);
    if (r.exit_code == 0) {
      m.merge(parse_nvidia_smi(r.out));
    } else {
      have_nvidia_smi_ = false;  // no driver / no GPU: stop asking
    }
  }
  return m;
}

namespace {

class SystemMetricsTracker : public Tracker {
 public:
  SystemMetricsTracker(std::unique_ptr<Tracker> inner, double interval_s)
      : inner_(std::move(inner)), interval_s_(interval_s) {
    thread_ = std::thread([this] { loop(); });
  }
  ~SystemMetricsTracker() override { stop(); }
  std::string run_id() const override { return inner_->run_id(); }
  std::string experiment_id() const override { return inner_->experiment_id(); }
  void log_params(const std::map<std::string, std::string>& p) override { inner_->log_params(p); }
  void set_tags(const std::map<std::string, std::string>& t) override { inner_->set_tags(t); }
  void log_metrics(const std::map<std::string, double>& m, int64_t step, int64_t ts) override {
    inner_->log_metrics(m, step, ts);
  }
  void log_artifact(const std::filesystem::path& l, const std::string& a) override { inner_->log_artifact(l, a); }
  void finish(RunStatus status) override {
    stop();
    inner_->finish(status);
  }
  std::string tracking_uri() const override { return inner_->tracking_uri(); }
  std::string artifact_uri() const override { return inner_->artifact_uri(); }
  void flush() override { inner_->flush(); }

 private:
  void loop() {
    SystemSampler sampler;
    sampler.sample();  // prime the CPU counters so the first logged value covers one interval
    int64_t step = 0;
    std::unique_lock lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::duration<double>(interval_s_), [this] { return stopping_; })) {
      lock.unlock();
      try {
        inner_->log_metrics(sampler.sample(), step++, 0);
      } catch (const std::exception& e) {
        util::log_warn("system metrics: ", e.what());
      }
      lock.lock();
    }
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  std::unique_ptr<Tracker> inner_;
  double interval_s_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Tracker> with_system_metrics(std::unique_ptr<Tracker> inner, double interval_s) {
  return std::make_unique<SystemMetricsTracker>(std::move(inner), interval_s > 0 ? interval_s : 30);
}

}  // namespace robotrain::track
