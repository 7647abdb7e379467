#include "eval/report/replay_report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "eval/report/line_plot.h"
#include "dataset/png.h"
#include "util/crypto.h"
#include "util/fs.h"

namespace robotrain::eval {

namespace fs = std::filesystem;

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = q * (v.size() - 1);
  size_t i = static_cast<size_t>(pos);
  double frac = pos - i;
  return i + 1 < v.size() ? v[i] * (1 - frac) + v[i + 1] * frac : v[i];
}

EpisodeMetrics episode_metrics(const EpisodeReplay& r) {
  EpisodeMetrics m;
  m.episode_index = r.episode_index;
  m.steps = static_cast<int64_t>(std::min(r.predicted.size(), r.recorded.size()));
  size_t dims = m.steps ? r.recorded[0].size() : 0;
  m.per_dim_mae.assign(dims, 0.0);
  double se = 0, ae = 0;
  for (int64_t t = 0; t < m.steps; ++t)
    for (size_t d = 0; d < dims; ++d) {
      double e = r.predicted[t][d] - r.recorded[t][d];
      se += e * e;
      ae += std::abs(e);
      m.per_dim_mae[d] += std::abs(e);
    }
  double n = static_cast<double>(m.steps) * std::max<size_t>(dims, 1);
  if (m.steps) {
    m.mse = se / n;
    m.mae = ae / n;
    for (auto& v : m.per_dim_mae) v /= m.steps;
  }
  if (!r.latency_ms.empty()) {
    double sum = 0;
    for (double l : r.latency_ms) sum += l;
    m.avg_inference_ms = sum / r.latency_ms.size();
    m.p50_inference_ms = percentile(r.latency_ms, 0.5);
    m.p99_inference_ms = percentile(r.latency_ms, 0.99);
    m.throughput_hz = m.avg_inference_ms > 0 ? 1000.0 / m.avg_inference_ms : 0;
  }
  return m;
}

EpisodeMetrics aggregate_metrics(const std::vector<EpisodeMetrics>& eps) {
  EpisodeMetrics a;
  a.episode_index = -1;
  if (eps.empty()) return a;
  a.per_dim_mae.assign(eps[0].per_dim_mae.size(), 0.0);
  for (auto& e : eps) {
    a.steps += e.steps;
    a.mse += e.mse / eps.size();
    a.mae += e.mae / eps.size();
    a.avg_inference_ms += e.avg_inference_ms / eps.size();
    a.p50_inference_ms += e.p50_inference_ms / eps.size();
    a.p99_inference_ms += e.p99_inference_ms / eps.size();
    a.throughput_hz += e.throughput_hz / eps.size();
    for (size_t d = 0; d < a.per_dim_mae.size() && d < e.per_dim_mae.size(); ++d) a.per_dim_mae[d] += e.per_dim_mae[d] / eps.size();
  }
  return a;
}

util::Json to_json(const EpisodeMetrics& m) {
  return {{"mse", m.mse},
          {"mae", m.mae},
          {"per_dim_mae", m.per_dim_mae},
          {"avg_inference_ms", m.avg_inference_ms},
          {"p50_inference_ms", m.p50_inference_ms},
          {"p99_inference_ms", m.p99_inference_ms},
          {"throughput_hz", m.throughput_hz},
          {"steps", m.steps}};
}

namespace {

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

std::string dim_name(const ReplayReportInfo& info, size_t d) {
  return d < info.action_names.size() ? info.action_names[d] : "action[" + std::to_string(d) + "]";
}

}  // namespace

util::Json write_replay_report(const fs::path& dir, const ReplayReportInfo& info, const std::vector<EpisodeReplay>& replays,
                               const std::vector<EpisodeMetrics>& metrics, const EpisodeMetrics& agg) {
  fs::create_directories(dir / "plots");
  fs::create_directories(dir / "predictions");
  util::Json results;
  results["policy_path"] = info.policy_path;
  results["policy_type"] = info.policy_type;
  results["dataset"] = info.dataset;
  results["device"] = info.device;
  results["fps"] = info.fps;
  results["episodes"] = util::Json::array();
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset=\"utf-8\"><title>robotrain evaluation</title><style>"
          "body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}"
          "img{max-width:640px;display:block}.legend span{display:inline-block;width:14px;height:4px;margin:0 6px 3px 12px}"
          "</style></head><body>\n";
  html << "<h1>Offline replay evaluation</h1><p>policy <code>" << html_escape(info.policy_path) << "</code> ("
       << html_escape(info.policy_type) << ") on <code>" << html_escape(info.dataset) << "</code>, device " << html_escape(info.device)
       << "</p>\n<h2>Aggregate</h2><table><tr><th>episodes</th><th>steps</th><th>MSE</th><th>MAE</th><th>latency mean ms</th>"
          "<th>p50 ms</th><th>p99 ms</th><th>throughput Hz</th></tr><tr><td>"
       << metrics.size() << "</td><td>" << agg.steps << "</td><td>" << fmt(agg.mse) << "</td><td>" << fmt(agg.mae) << "</td><td>"
       << fmt(agg.avg_inference_ms) << "</td><td>" << fmt(agg.p50_inference_ms) << "</td><td>" << fmt(agg.p99_inference_ms)
       << "</td><td>" << fmt(agg.throughput_hz) << "</td></tr></table>\n";
  html << "<h3>MAE per action dimension</h3><table><tr>";
  for (size_t d = 0; d < agg.per_dim_mae.size(); ++d) html << "<th>" << html_escape(dim_name(info, d)) << "</th>";
  html << "</tr><tr>";
  for (double v : agg.per_dim_mae) html << "<td>" << fmt(v) << "</td>";
  html << "</tr></table>\n<p class=\"legend\"><span style=\"background:#1f77b4\"></span>recorded"
          "<span style=\"background:#ff7f0e\"></span>predicted</p>\n";
  for (size_t e = 0; e < replays.size(); ++e) {
    const auto& r = replays[e];
    const auto& m = metrics[e];
    util::Json ej = to_json(m);
    ej["episode_index"] = r.episode_index;
    results["episodes"].push_back(ej);
    std::string pred_lines;
    for (size_t t = 0; t < r.predicted.size(); ++t) {
      util::Json line = {{"step", t}, {"predicted", r.predicted[t]}, {"recorded", t < r.recorded.size() ? util::Json(r.recorded[t]) : util::Json()}};
      pred_lines += line.dump() + "\n";
    }
    util::atomic_write_file(dir / "predictions" / ("episode_" + std::to_string(r.episode_index) + ".jsonl"), pred_lines);
    html << "<h2>Episode " << r.episode_index << "</h2><p>MSE " << fmt(m.mse) << ", MAE " << fmt(m.mae) << ", " << m.steps
         << " steps, " << fmt(m.avg_inference_ms) << " ms per action</p>\n";
    size_t dims = r.recorded.empty() ? 0 : r.recorded[0].size();
    for (size_t d = 0; d < dims; ++d) {
      Series rec{{}, 31, 119, 180}, pred{{}, 255, 127, 14};
      for (auto& v : r.recorded) rec.values.push_back(v[d]);
      for (auto& v : r.predicted) pred.values.push_back(v[d]);
      auto img = plot_lines({rec, pred});
      std::string png = dataset::encode_png(img.rgb.data(), img.width, img.height);
      std::string name = "ep" + std::to_string(r.episode_index) + "_dim" + std::to_string(d) + ".png";
      util::atomic_write_file(dir / "plots" / name, png);
      html << "<h4>" << html_escape(dim_name(info, d)) << "</h4><img alt=\"" << html_escape(name) << "\" src=\"data:image/png;base64,"
           << util::base64_encode(png) << "\">\n";
    }
  }
  results["aggregate"] = to_json(agg);
  html << "</body></html>\n";
  util::write_json_file(dir / "eval_results.json", results, 2);
  util::Json metrics_json = {{"action_accuracy_l2", agg.mse},
                             {"action_accuracy_l1", agg.mae},
                             {"inference_latency_mean_ms", agg.avg_inference_ms},
                             {"inference_latency_p50_ms", agg.p50_inference_ms},
                             {"inference_latency_p99_ms", agg.p99_inference_ms},
                             {"throughput_hz", agg.throughput_hz},
                             {"episodes", metrics.size()}};
  util::write_json_file(dir / "metrics.json", metrics_json, 2);
  util::atomic_write_file(dir / "report.html", html.str());
  return metrics_json;
}

}  // namespace robotrain::eval
