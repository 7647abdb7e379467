#pragma once
// Line charts for evaluation reports: recorded vs predicted trajectories of one action
// dimension, drawn into an RGB image with axes, grid and numeric tick labels.
#include <cstdint>
#include <string>
#include <vector>

namespace robotrain::eval {

struct Series {
  std::vector<double> values;
  uint8_t r, g, b;
};

struct PlotImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

PlotImage plot_lines(const std::vector<Series>& series, int width = 640, int height = 280);

}  // namespace robotrain::eval
