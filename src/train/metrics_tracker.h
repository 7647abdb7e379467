#pragma once
// LeRobot's MetricsTracker/AverageMeter: running averages between log lines and the
// samples/episodes/epochs counters derived from the step, printed in lerobot-train's shape:
//   step:200 smpl:2K ep:4 epch:0.31 loss:0.512 grdn:12.345 lr:1.0e-05 updt_s:0.123 data_s:0.004
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace robotrain::train {

// lerobot.utils.utils.format_big_number: 1234 -> "1K", 2.5e6 -> "2M" (precision 0).
std::string format_big_number(double num, int precision = 0);

class AverageMeter {
 public:
  AverageMeter(std::string name, std::string fmt) : name_(std::move(name)), fmt_(std::move(fmt)) {}
  void update(double value, int64_t n = 1);
  void reset();
  double avg() const { return avg_; }
  double val() const { return val_; }
  int64_t count() const { return count_; }
  std::string str() const;  // "loss:0.512"

 private:
  std::string name_, fmt_;  // fmt: printf spec for the average, e.g. "%.3f"
  double val_ = 0, sum_ = 0, avg_ = 0;
  int64_t count_ = 0;
};

class MetricsTracker {
 public:
  MetricsTracker(int64_t batch_size, int64_t num_frames, int64_t num_episodes, int64_t initial_step = 0,
                 int world_size = 1);
  // The meters of lerobot-train, in its order: loss, grad_norm, lr, update_s, dataloading_s.
  AverageMeter& meter(const std::string& key);
  void step();
  std::string line() const;
  void reset_averages();

  int64_t steps() const { return steps_; }
  int64_t samples() const { return samples_; }
  double episodes() const { return episodes_; }
  double epochs() const { return epochs_; }

 private:
  int64_t batch_size_, num_frames_;
  double avg_samples_per_ep_;
  int world_size_;
  int64_t steps_ = 0, samples_ = 0;
  double episodes_ = 0, epochs_ = 0;
  std::vector<std::pair<std::string, AverageMeter>> meters_;
};

}  // namespace robotrain::train
