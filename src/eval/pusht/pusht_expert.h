#pragma once
// A scripted Push-T expert for recording demonstrations and as an evaluation reference.
// It plans "push primitives": for candidate contact points on the T's outline and push
// directions it simulates the push (the real physics, no rendering) and picks the one that
// brings the block closest to the goal pose; it then walks around the block to the contact
// point and pushes.
#include <cstdint>
#include <deque>

#include "eval/pusht/pusht_env.h"

namespace robotrain::eval::pusht {

class PushTExpert {
 public:
  PushTExpert() = default;
  void reset() { plan_.clear(); }
  // The agent's target for the next control step.
  Vec2 act(const PushTState& state);

 private:
  struct Waypoint {
    Vec2 target;
    bool push = false;  // push waypoints advance every step; approach ones when reached
  };
  void plan(const PushTState& state);
  std::deque<Waypoint> plan_;
  int steps_on_waypoint_ = 0;
};

// Pose error used by the expert: centre-of-gravity distance plus a lever-weighted angle error.
double pose_cost(const Pose& block, const Pose& goal);

}  // namespace robotrain::eval::pusht
