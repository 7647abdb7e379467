#include "eval/report/line_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace robotrain::eval {

namespace {

// 3x5 glyphs for tick labels: digits, '-', '.', 'e', '+'. Each row is 3 bits, MSB left.
const uint8_t* glyph(char c) {
  static const uint8_t digits[10][5] = {{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
                                        {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}};
  static const uint8_t minus[5] = {0, 0, 7, 0, 0}, dot[5] = {0, 0, 0, 0, 2}, e[5] = {0, 7, 7, 4, 7}, plus[5] = {0, 2, 7, 2, 0};
  if (c >= '0' && c <= '9') return digits[c - '0'];
  if (c == '-') return minus;
  if (c == '.') return dot;
  if (c == 'e') return e;
  if (c == '+') return plus;
  return nullptr;
}

struct Painter {
  PlotImage& img;
  void set(int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    uint8_t* p = &img.rgb[(static_cast<size_t>(y) * img.width + x) * 3];
    p[0] = r, p[1] = g, p[2] = b;
  }
  void line(double x0, double y0, double x1, double y1, uint8_t r, uint8_t g, uint8_t b) {
    int n = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
    for (int i = 0; i <= n; ++i) {
      double t = static_cast<double>(i) / n;
      int x = static_cast<int>(std::lround(x0 + (x1 - x0) * t)), y = static_cast<int>(std::lround(y0 + (y1 - y0) * t));
      set(x, y, r, g, b);
      set(x, y + 1, r, g, b);  // 2 px wide: readable when scaled down
    }
  }
  void text(int x, int y, const std::string& s, int scale = 2) {
    for (char c : s) {
      if (const uint8_t* g = glyph(c)) {
        for (int row = 0; row < 5; ++row)
          for (int col = 0; col < 3; ++col)
            if (g[row] & (4 >> col))
              for (int dy = 0; dy < scale; ++dy)
                for (int dx = 0; dx < scale; ++dx) set(x + col * scale + dx, y + row * scale + dy, 60, 60, 60);
      }
      x += 4 * scale;
    }
  }
};

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

PlotImage plot_lines(const std::vector<Series>& series, int width, int height) {
  PlotImage img{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3, 255)};
  Painter p{img};
  double lo = 1e300, hi = -1e300;
  size_t n = 0;
  for (auto& s : series) {
    for (double v : s.values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    n = std::max(n, s.values.size());
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
  double pad = (hi - lo) * 0.05;
  lo -= pad, hi += pad;
  const int left = 64, right = 12, top = 12, bottom = 28;
  int pw = width - left - right, ph = height - top - bottom;
  auto X = [&](double i) { return left + (n > 1 ? i / (n - 1) : 0.0) * pw; };
  auto Y = [&](double v) { return top + (hi - v) / (hi - lo) * ph; };
  for (int k = 0; k <= 4; ++k) {
    double v = lo + (hi - lo) * k / 4;
    p.line(left, Y(v), left + pw, Y(v), 225, 225, 225);
    p.text(4, static_cast<int>(Y(v)) - 5, tick_label(v));
  }
  for (int k = 0; k <= 4; ++k) {
    double i = (n > 1 ? (n - 1) : 0) * k / 4.0;
    p.line(X(i), top, X(i), top + ph, 235, 235, 235);
    p.text(static_cast<int>(X(i)) - 8, top + ph + 8, tick_label(std::round(i)));
  }
  p.line(left, top, left, top + ph, 80, 80, 80);
  p.line(left, top + ph, left + pw, top + ph, 80, 80, 80);
  for (auto& s : series)
    for (size_t i = 1; i < s.values.size(); ++i)
      if (std::isfinite(s.values[i - 1]) && std::isfinite(s.values[i]))
        p.line(X(i - 1), Y(s.values[i - 1]), X(i), Y(s.values[i]), s.r, s.g, s.b);
  return img;
}

}  // namespace robotrain::eval
