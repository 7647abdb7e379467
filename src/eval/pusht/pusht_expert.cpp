#include "eval/pusht/pusht_expert.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace robotrain::eval::pusht {

namespace {

constexpr double kAgentRadius = 15;
constexpr double kOrbitRadius = 105;
constexpr double kPushStepUnits = 12;  // target advance per control step while pushing

double wrap_angle(double a) {
  while (a > M_PI) a -= 2 * M_PI;
  while (a < -M_PI) a += 2 * M_PI;
  return a;
}

Vec2 clamp_workspace(Vec2 p) { return {std::clamp(p.x, 20.0, 492.0), std::clamp(p.y, 20.0, 492.0)}; }

bool segment_clear(const Pose& block, Vec2 a, Vec2 b, double clearance) {
  int n = std::max(2, static_cast<int>(norm(b - a) / 4));
  for (int i = 0; i <= n; ++i)
    if (distance_to_tee(block, a + (b - a) * (static_cast<double>(i) / n)) < clearance) return false;
  return true;
}

struct Contact {
  Vec2 point;   // local
  Vec2 normal;  // local, outward
};

// Points along the T's outer outline with outward normals (local coordinates).
const std::vector<Contact>& outline_contacts() {
  static const std::vector<Contact> contacts = [] {
    const Vec2 outline[8] = {{-60, 0}, {60, 0}, {60, 30}, {15, 30}, {15, 120}, {-15, 120}, {-15, 30}, {-60, 30}};
    std::vector<Contact> out;
    for (int i = 0; i < 8; ++i) {
      Vec2 a = outline[i], b = outline[(i + 1) % 8];
      Vec2 e = b - a;
      double len = norm(e);
      Vec2 n = {e.y / len, -e.x / len};  // outline is clockwise in these coordinates: right normal points out
      int k = std::max(1, static_cast<int>(len / 22));
      for (int j = 0; j < k; ++j) out.push_back({a + e * ((j + 0.5) / k), n});
    }
    return out;
  }();
  return contacts;
}

Vec2 rotate(Vec2 v, double a) { return {std::cos(a) * v.x - std::sin(a) * v.y, std::sin(a) * v.x + std::cos(a) * v.y}; }

struct Candidate {
  Vec2 pre_contact;
  Vec2 direction;  // world
  int push_steps;
  double cost;
  double step_units = kPushStepUnits;
};

// Near the goal the coverage itself is the objective (it is what success measures).
double objective(const Pose& block, bool fine) {
  return fine ? 300.0 * (1.0 - tee_coverage(block, PushTEnv::goal_pose())) : pose_cost(block, PushTEnv::goal_pose());
}

double simulate_push(const PushTState& state, const Candidate& c, bool fine) {
  PushTConfig cfg;
  cfg.render = false;
  PushTEnv sim(cfg);
  PushTState s = state;
  s.agent = c.pre_contact;
  s.agent_velocity = {0, 0};
  sim.reset_to(s);
  for (int i = 1; i <= c.push_steps + 1; ++i) sim.step(c.pre_contact + c.direction * (c.step_units * std::min(i, c.push_steps)));
  return objective(sim.state().block, fine);
}

}  // namespace

double pose_cost(const Pose& block, const Pose& goal) {
  Vec2 cb = to_world(block, tee_center_of_gravity_local()), cg = to_world(goal, tee_center_of_gravity_local());
  return norm(cb - cg) + 60.0 * std::abs(wrap_angle(block.angle - goal.angle));
}

void PushTExpert::plan(const PushTState& state) {
  const Pose goal = PushTEnv::goal_pose();
  bool fine = tee_coverage(state.block, goal) > 0.75;
  double current = objective(state.block, fine);
  Candidate best{{}, {}, 0, current};
  double step_units = fine ? 4.0 : kPushStepUnits;
  for (auto& c : outline_contacts()) {
    Vec2 n = rotate(c.normal, state.block.angle);
    Vec2 contact = to_world(state.block, c.point);
    static const std::vector<double> coarse_tilts = {-0.35, 0.0, 0.35}, fine_tilts = {-0.6, -0.3, 0.0, 0.3, 0.6};
    for (double tilt : fine ? fine_tilts : coarse_tilts) {
      Vec2 dir = rotate(n * -1.0, tilt);
      Vec2 pre = contact - dir * (kAgentRadius + (fine ? 2.0 : 8.0));
      if (pre.x < 15 || pre.x > 497 || pre.y < 15 || pre.y > 497) continue;
      if (distance_to_tee(state.block, pre) < kAgentRadius + 1) continue;
      static const std::vector<int> coarse_steps = {3, 6}, fine_steps = {1, 2, 3};
      for (int steps : fine ? fine_steps : coarse_steps) {
        Candidate cand{pre, dir, steps, 0, step_units};
        cand.cost = simulate_push(state, cand, fine);
        if (cand.cost < best.cost - (fine ? 0.2 : 1.0)) best = cand;
      }
    }
  }
  if (best.push_steps == 0) {
    // Nothing improves the pose from here: nudge the block toward the goal's centre.
    Vec2 cog = to_world(state.block, tee_center_of_gravity_local());
    Vec2 to_goal = to_world(goal, tee_center_of_gravity_local()) - cog;
    double d = norm(to_goal);
    Vec2 dir = d > 1e-6 ? to_goal * (1.0 / d) : Vec2{1, 0};
    best = {clamp_workspace(cog - dir * 95), dir, 4, current, kPushStepUnits};
  }
  // Approach: straight when clear, otherwise around the block on an orbit.
  Vec2 cog = to_world(state.block, tee_center_of_gravity_local());
  if (!segment_clear(state.block, state.agent, best.pre_contact, kAgentRadius + 3)) {
    double a0 = std::atan2(state.agent.y - cog.y, state.agent.x - cog.x);
    double a1 = std::atan2(best.pre_contact.y - cog.y, best.pre_contact.x - cog.x);
    double delta = wrap_angle(a1 - a0);
    int n = std::max(1, static_cast<int>(std::ceil(std::abs(delta) / 0.45)));
    for (int i = 0; i <= n; ++i) {
      double a = a0 + delta * i / n;
      plan_.push_back({clamp_workspace({cog.x + kOrbitRadius * std::cos(a), cog.y + kOrbitRadius * std::sin(a)}), false});
    }
  }
  plan_.push_back({best.pre_contact, false});
  for (int i = 1; i <= best.push_steps; ++i) plan_.push_back({best.pre_contact + best.direction * (best.step_units * i), true});
}

Vec2 PushTExpert::act(const PushTState& state) {
  if (tee_coverage(state.block, PushTEnv::goal_pose()) >= 0.96) return state.agent;
  // Drop approach waypoints already reached (or given enough time).
  while (!plan_.empty() && !plan_.front().push &&
         (norm(plan_.front().target - state.agent) < 6 || steps_on_waypoint_ > 12)) {
    plan_.pop_front();
    steps_on_waypoint_ = 0;
  }
  if (plan_.empty()) {
    plan(state);
    steps_on_waypoint_ = 0;
  }
  Waypoint w = plan_.front();
  if (w.push) {
    plan_.pop_front();
  } else {
    ++steps_on_waypoint_;
  }
  return w.target;
}

}  // namespace robotrain::eval::pusht
