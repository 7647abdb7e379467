#pragma once
// A tiny software rasterizer for the Push-T observation: filled convex polygons and circles
// with 4x4 supersampled coverage, into an RGB image.
#include <cstdint>
#include <vector>

#include "eval/pusht/geometry.h"

namespace robotrain::eval::pusht {

struct Rgb {
  uint8_t r, g, b;
};

class Canvas {
 public:
  // `scale` maps workspace units to pixels (e.g. 96/512).
  Canvas(int size, double scale, Rgb background);
  void fill_polygon(const Polygon& p, Rgb color);
  void fill_circle(Vec2 center, double radius, Rgb color);
  const std::vector<uint8_t>& pixels() const { return pixels_; }
  std::vector<uint8_t> take() { return std::move(pixels_); }

 private:
  template <class Inside>
  void fill(double x0, double y0, double x1, double y1, Rgb color, Inside inside);
  int size_;
  double scale_;
  std::vector<uint8_t> pixels_;
};

}  // namespace robotrain::eval::pusht
