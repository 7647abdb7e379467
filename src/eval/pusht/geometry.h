#pragma once
// Plane geometry for Push-T: poses, the T block's convex pieces, convex clipping and the
// goal-coverage measure that defines reward and success.
#include <array>
#include <vector>

namespace robotrain::eval::pusht {

struct Vec2 {
  double x = 0, y = 0;
};
inline Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline Vec2 operator*(Vec2 a, double s) { return {a.x * s, a.y * s}; }
double dot(Vec2 a, Vec2 b);
double cross(Vec2 a, Vec2 b);
double norm(Vec2 a);

// Position of the block's body origin and its rotation (radians), in the 512x512 workspace.
struct Pose {
  double x = 0, y = 0, angle = 0;
};

Vec2 to_world(const Pose& pose, Vec2 local);
Vec2 to_local(const Pose& pose, Vec2 world);

using Polygon = std::vector<Vec2>;  // convex, counter-clockwise

// The T (gym-pusht's scale 30, length 4): a 120x30 bar and a 30x90 stem, in body coordinates.
const std::array<Polygon, 2>& tee_pieces_local();
// Centre of gravity of the T in body coordinates: (0, 45).
Vec2 tee_center_of_gravity_local();
std::array<Polygon, 2> tee_pieces(const Pose& pose);

double polygon_area(const Polygon& p);
// Intersection of two convex polygons (Sutherland-Hodgman).
Polygon clip_convex(const Polygon& subject, const Polygon& clip);
// Area of goal T covered by the block T, divided by the T's area (in [0, 1]).
double tee_coverage(const Pose& block, const Pose& goal);
bool point_in_convex(const Polygon& p, Vec2 q);
bool point_in_tee(const Pose& pose, Vec2 q);
// Distance from q to the T's boundary (0 inside).
double distance_to_tee(const Pose& pose, Vec2 q);

}  // namespace robotrain::eval::pusht
