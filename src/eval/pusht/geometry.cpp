#include "eval/pusht/geometry.h"

#include <algorithm>
#include <cmath>

namespace robotrain::eval::pusht {

double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
double cross(Vec2 a, Vec2 b) { return a.x * b.y - a.y * b.x; }
double norm(Vec2 a) { return std::sqrt(dot(a, a)); }

Vec2 to_world(const Pose& p, Vec2 l) {
  double c = std::cos(p.angle), s = std::sin(p.angle);
  return {p.x + c * l.x - s * l.y, p.y + s * l.x + c * l.y};
}

Vec2 to_local(const Pose& p, Vec2 w) {
  double c = std::cos(p.angle), s = std::sin(p.angle);
  double dx = w.x - p.x, dy = w.y - p.y;
  return {c * dx + s * dy, -s * dx + c * dy};
}

const std::array<Polygon, 2>& tee_pieces_local() {
  static const std::array<Polygon, 2> pieces = {
      Polygon{{-60, 0}, {60, 0}, {60, 30}, {-60, 30}},
      Polygon{{-15, 30}, {15, 30}, {15, 120}, {-15, 120}},
  };
  return pieces;
}

Vec2 tee_center_of_gravity_local() { return {0, 45}; }

std::array<Polygon, 2> tee_pieces(const Pose& pose) {
  std::array<Polygon, 2> out;
  for (int i = 0; i < 2; ++i)
    for (auto v : tee_pieces_local()[i]) out[i].push_back(to_world(pose, v));
  return out;
}

double polygon_area(const Polygon& p) {
  double a = 0;
  for (size_t i = 0; i < p.size(); ++i) a += cross(p[i], p[(i + 1) % p.size()]);
  return std::abs(a) / 2;
}

Polygon clip_convex(const Polygon& subject, const Polygon& clip) {
  Polygon out = subject;
  for (size_t i = 0; i < clip.size() && !out.empty(); ++i) {
    Vec2 a = clip[i], b = clip[(i + 1) % clip.size()];
    auto inside = [&](Vec2 p) { return cross(b - a, p - a) >= 0; };
    Polygon in = out;
    out.clear();
    for (size_t j = 0; j < in.size(); ++j) {
      Vec2 p = in[j], q = in[(j + 1) % in.size()];
      bool pi = inside(p), qi = inside(q);
      if (pi) out.push_back(p);
      if (pi != qi) {
        Vec2 d = q - p;
        // The point p + t*d on the clip edge's line: cross(b - a, p + t*d - a) = 0.
        double t = cross(b - a, a - p) / cross(b - a, d);
        out.push_back(p + d * t);
      }
    }
  }
  return out;
}

double tee_coverage(const Pose& block, const Pose& goal) {
  auto b = tee_pieces(block), g = tee_pieces(goal);
  double inter = 0;
  for (auto& gp : g)
    for (auto& bp : b) inter += polygon_area(clip_convex(gp, bp));
  double total = polygon_area(g[0]) + polygon_area(g[1]);
  return std::clamp(inter / total, 0.0, 1.0);
}

bool point_in_convex(const Polygon& p, Vec2 q) {
  for (size_t i = 0; i < p.size(); ++i)
    if (cross(p[(i + 1) % p.size()] - p[i], q - p[i]) < 0) return false;
  return true;
}

bool point_in_tee(const Pose& pose, Vec2 q) {
  for (auto& piece : tee_pieces(pose))
    if (point_in_convex(piece, q)) return true;
  return false;
}

namespace {
double segment_distance(Vec2 p, Vec2 a, Vec2 b) {
  Vec2 ab = b - a;
  double t = std::clamp(dot(p - a, ab) / dot(ab, ab), 0.0, 1.0);
  return norm(p - (a + ab * t));
}
}  // namespace

double distance_to_tee(const Pose& pose, Vec2 q) {
  if (point_in_tee(pose, q)) return 0;
  double best = 1e18;
  for (auto& piece : tee_pieces(pose))
    for (size_t i = 0; i < piece.size(); ++i) best = std::min(best, segment_distance(q, piece[i], piece[(i + 1) % piece.size()]));
  return best;
}

}  // namespace robotrain::eval::pusht
