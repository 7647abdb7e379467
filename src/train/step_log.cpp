// The log stage: LeRobot's MetricsTracker line every log_freq steps, train/* and val/loss
// metrics to the tracker, and a progress bar when stderr is a terminal.
#include <cmath>
#include <cstdio>

#include "track/tracker.h"
#include "train/training_run.h"
#include "util/log.h"

namespace robotrain::train {

StepLog::StepLog(TrainingRun& run)
    : run_(run),
      metrics_(run.cfg.batch_size, run.train_data->num_frames(), static_cast<int64_t>(run.train_data->episodes_used().size()),
               run.step, run.world_size()) {
  if (run.primary() && util::stderr_is_terminal()) progress_.emplace("Training", run.cfg.steps - run.step);
}

void StepLog::record(const StepResult& s, double data_s) {
  metrics_.step();
  metrics_.meter("loss").update(s.loss);
  metrics_.meter("grad_norm").update(s.grad_norm);
  metrics_.meter("lr").update(s.lr);
  metrics_.meter("update_s").update(s.update_s);
  metrics_.meter("dataloading_s").update(data_s);
  for (const auto& [k, v] : s.parts) part_meters_.try_emplace(k, k, "%.3f").first->second.update(v.item<double>());
  if (progress_) progress_->advance(1, util::cat("loss ", util::Json(std::round(s.loss * 1000) / 1000).dump()));
}

void StepLog::log_if_due() {
  const int64_t step = run_.step;
  if (run_.cfg.log_freq <= 0 || step % run_.cfg.log_freq != 0) return;
  clear_progress_line();
  util::log_info(metrics_.line());
  std::map<std::string, double> m{{"train/loss", metrics_.meter("loss").avg()},
                                  {"train/grad_norm", metrics_.meter("grad_norm").avg()},
                                  {"train/learning_rate", metrics_.meter("lr").avg()},
                                  {"train/update_time_s", metrics_.meter("update_s").avg()},
                                  {"train/data_time_s", metrics_.meter("dataloading_s").avg()},
                                  {"train/samples", static_cast<double>(metrics_.samples())},
                                  {"train/episodes", metrics_.episodes()},
                                  {"train/epoch", metrics_.epochs()}};
  for (auto& [k, meter] : part_meters_) m["train/" + k] = meter.avg();
  run_.tracker->log_metrics(m, step);
  if (!have_first_) run_.outcome.first_loss = metrics_.meter("loss").avg(), have_first_ = true;
  run_.outcome.last_loss = metrics_.meter("loss").avg();
  metrics_.reset_averages();
  for (auto& [k, meter] : part_meters_) meter.reset();
}

void StepLog::log_validation(double val_loss) {
  clear_progress_line();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", val_loss);
  util::log_info("step:", format_big_number(static_cast<double>(run_.step)), " val_loss:", buf);
  run_.tracker->log_metrics({{"val/loss", val_loss}}, run_.step);
}

void StepLog::finish() {
  const AverageMeter& loss = metrics_.meter("loss");
  if (loss.count() > 0) {
    if (!have_first_) run_.outcome.first_loss = loss.avg(), have_first_ = true;
    run_.outcome.last_loss = loss.avg();
  }
  if (progress_) progress_->finish();
  progress_.reset();
}

// The bar shares stderr with the log: a log line first erases it.
void StepLog::clear_progress_line() const {
  if (progress_) std::fprintf(stderr, "\r\x1b[K");
}

}  // namespace robotrain::train
