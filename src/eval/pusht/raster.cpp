#include "eval/pusht/raster.h"

#include <algorithm>
#include <cmath>

namespace robotrain::eval::pusht {

Canvas::Canvas(int size, double scale, Rgb bg) : size_(size), scale_(scale), pixels_(static_cast<size_t>(size) * size * 3) {
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = bg.r;
    pixels_[i + 1] = bg.g;
    pixels_[i + 2] = bg.b;
  }
}

template <class Inside>
void Canvas::fill(double x0, double y0, double x1, double y1, Rgb c, Inside inside) {
  constexpr int kSub = 4;
  int px0 = std::max(0, static_cast<int>(std::floor(x0 * scale_))), px1 = std::min(size_ - 1, static_cast<int>(std::ceil(x1 * scale_)));
  int py0 = std::max(0, static_cast<int>(std::floor(y0 * scale_))), py1 = std::min(size_ - 1, static_cast<int>(std::ceil(y1 * scale_)));
  for (int py = py0; py <= py1; ++py) {
    for (int px = px0; px <= px1; ++px) {
      int hits = 0;
      for (int sy = 0; sy < kSub; ++sy)
        for (int sx = 0; sx < kSub; ++sx)
          hits += inside(Vec2{(px + (sx + 0.5) / kSub) / scale_, (py + (sy + 0.5) / kSub) / scale_});
      if (!hits) continue;
      double a = static_cast<double>(hits) / (kSub * kSub);
      uint8_t* p = &pixels_[(static_cast<size_t>(py) * size_ + px) * 3];
      p[0] = static_cast<uint8_t>(std::lround(p[0] * (1 - a) + c.r * a));
      p[1] = static_cast<uint8_t>(std::lround(p[1] * (1 - a) + c.g * a));
      p[2] = static_cast<uint8_t>(std::lround(p[2] * (1 - a) + c.b * a));
    }
  }
}

void Canvas::fill_polygon(const Polygon& poly, Rgb color) {
  double x0 = 1e18, y0 = 1e18, x1 = -1e18, y1 = -1e18;
  for (auto v : poly) {
    x0 = std::min(x0, v.x), y0 = std::min(y0, v.y), x1 = std::max(x1, v.x), y1 = std::max(y1, v.y);
  }
  fill(x0, y0, x1, y1, color, [&](Vec2 q) { return point_in_convex(poly, q); });
}

void Canvas::fill_circle(Vec2 c, double r, Rgb color) {
  fill(c.x - r, c.y - r, c.x + r, c.y + r, color, [&](Vec2 q) { return norm(q - c) <= r; });
}

}  // namespace robotrain::eval::pusht
