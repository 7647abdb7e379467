#include <gtest/gtest.h>

#include <filesystem>

#include "eval/report/line_plot.h"
#include "dataset/png.h"
#include "eval/report/replay_report.h"
#include "util/fs.h"

using namespace robotrain::eval;
namespace fs = std::filesystem;

TEST(ReplayMetrics, MseMaePerDimAndLatency) {
  EpisodeReplay r;
  r.episode_index = 3;
  r.recorded = {{0, 0}, {1, 1}};
  r.predicted = {{1, 0}, {1, 3}};
  r.latency_ms = {1, 2, 3, 100};
  auto m = episode_metrics(r);
  EXPECT_DOUBLE_EQ(m.mse, (1.0 + 0 + 0 + 4) / 4);
  EXPECT_DOUBLE_EQ(m.mae, (1.0 + 0 + 0 + 2) / 4);
  ASSERT_EQ(m.per_dim_mae.size(), 2u);
  EXPECT_DOUBLE_EQ(m.per_dim_mae[0], 0.5);
  EXPECT_DOUBLE_EQ(m.per_dim_mae[1], 1.0);
  EXPECT_DOUBLE_EQ(m.avg_inference_ms, 26.5);
  EXPECT_DOUBLE_EQ(m.p50_inference_ms, 2.5);
  EXPECT_NEAR(m.throughput_hz, 1000 / 26.5, 1e-9);
  auto a = aggregate_metrics({m, m});
  EXPECT_DOUBLE_EQ(a.mse, m.mse);
  EXPECT_EQ(a.steps, 4);
}

TEST(ReplayReport, WritesEveryFileAndAPlotThatShowsBothSeries) {
  robotrain::util::TempDir tmp;
  EpisodeReplay r;
  r.episode_index = 0;
  for (int t = 0; t < 50; ++t) {
    r.recorded.push_back({std::sin(t * 0.1)});
    r.predicted.push_back({std::sin(t * 0.1) + 0.1});
    r.latency_ms.push_back(2.0);
  }
  auto m = episode_metrics(r);
  auto j = write_replay_report(tmp.path(), {"ckpt", "act", "ds", "cpu", {"joint0"}, 10}, {r}, {m}, aggregate_metrics({m}));
  for (auto f : {"eval_results.json", "metrics.json", "report.html", "plots/ep0_dim0.png", "predictions/episode_0.jsonl"})
    EXPECT_TRUE(fs::exists(tmp.path() / f)) << f;
  EXPECT_NEAR(j["action_accuracy_l2"].get<double>(), 0.01, 1e-9);
  auto html = robotrain::util::read_file(tmp.path() / "report.html");
  EXPECT_NE(html.find("data:image/png;base64,iVBOR"), std::string::npos) << "plots are embedded: the report is self-contained";
  EXPECT_NE(html.find("joint0"), std::string::npos);
  auto png = robotrain::util::read_file(tmp.path() / "plots/ep0_dim0.png");
  EXPECT_EQ(png.substr(1, 3), "PNG");

  auto img = plot_lines({{{0, 1, 0}, 31, 119, 180}, {{1, 0, 1}, 255, 127, 14}});
  size_t blue = 0, orange = 0;
  for (size_t i = 0; i < img.rgb.size(); i += 3) {
    blue += img.rgb[i] == 31 && img.rgb[i + 1] == 119 && img.rgb[i + 2] == 180;
    orange += img.rgb[i] == 255 && img.rgb[i + 1] == 127 && img.rgb[i + 2] == 14;
  }
  EXPECT_GT(blue, 200u);
  EXPECT_GT(orange, 200u);
}
