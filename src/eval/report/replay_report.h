#pragma once
// Offline-replay evaluation results: per-episode and aggregate action errors and inference
// latency, and the files people look at (eval_results.json, metrics.json, per-dimension PNG
// plots of predicted vs recorded actions, predictions JSONL, one self-contained HTML report).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/json.h"

namespace robotrain::eval {

struct EpisodeReplay {
  int64_t episode_index = 0;
  std::vector<std::vector<double>> predicted;  // [step][dim]
  std::vector<std::vector<double>> recorded;   // [step][dim]
  std::vector<double> latency_ms;              // per select_action call
};

struct EpisodeMetrics {
  int64_t episode_index = 0;
  int64_t steps = 0;
  double mse = 0, mae = 0;
  std::vector<double> per_dim_mae;
  double avg_inference_ms = 0, p50_inference_ms = 0, p99_inference_ms = 0, throughput_hz = 0;
};

EpisodeMetrics episode_metrics(const EpisodeReplay& replay);
// Mean over episodes of every metric (per_dim_mae element-wise).
EpisodeMetrics aggregate_metrics(const std::vector<EpisodeMetrics>& episodes);
double percentile(std::vector<double> values, double q);

util::Json to_json(const EpisodeMetrics& m);

struct ReplayReportInfo {
  std::string policy_path, policy_type, dataset, device;
  std::vector<std::string> action_names;
  int fps = 0;
};

// Writes everything under `dir`; returns the aggregate JSON written to metrics.json.
util::Json write_replay_report(const std::filesystem::path& dir, const ReplayReportInfo& info, const std::vector<EpisodeReplay>& replays,
                               const std::vector<EpisodeMetrics>& metrics, const EpisodeMetrics& aggregate);

}  // namespace robotrain::eval
