#pragma once
// Push-T (after gym-pusht): a circular agent, driven by a PD controller toward the commanded
// target point, pushes a T-shaped block onto a fixed goal pose in a 512x512 walled workspace.
// Physics by Box2D (quasi-static: the block keeps no momentum between control steps, as with
// pymunk's damping 0). Reward = goal coverage / 0.95 clipped to 1; success at coverage >= 0.95.
// 10 Hz control, 100 Hz physics, 300 steps per episode, 96x96 RGB observation + agent position.
#include <cstdint>
#include <memory>
#include <vector>

#include "eval/pusht/geometry.h"

namespace robotrain::eval::pusht {

struct PushTState {
  Vec2 agent;
  Vec2 agent_velocity;
  Pose block;
};

struct PushTObservation {
  std::vector<uint8_t> image;  // HWC RGB, image_size x image_size
  Vec2 agent_pos;
  Pose block;                  // for state-based policies (gym-pusht's environment_state)
};

// observation.environment_state of a state-based Push-T dataset: block x, y and its angle as
// (cos, sin) so that the policy never sees the wrap-around at +-pi.
inline constexpr int kEnvironmentStateDim = 4;
std::vector<float> environment_state(const Pose& block);

struct StepResult {
  PushTObservation observation;
  double reward = 0;
  double coverage = 0;
  bool success = false;
  bool done = false;  // success or step limit
};

struct PushTConfig {
  int image_size = 96;
  int max_steps = 300;
  double success_threshold = 0.95;
  int control_hz = 10;
  int sim_hz = 100;
  bool render = true;  // off for planning rollouts
};

class PushTEnv {
 public:
  explicit PushTEnv(PushTConfig config = {});
  ~PushTEnv();
  PushTEnv(PushTEnv&&) noexcept;
  PushTEnv& operator=(PushTEnv&&) noexcept;

  // Random initial agent and block poses from the seed (deterministic).
  PushTObservation reset(uint64_t seed);
  PushTObservation reset_to(const PushTState& state);
  // Action: target position of the agent in workspace coordinates [0, 512]^2.
  StepResult step(Vec2 action);

  PushTState state() const;
  static Pose goal_pose() { return {256, 256, 0.7853981633974483}; }
  double coverage() const;
  int steps_taken() const;
  const PushTConfig& config() const;
  std::vector<uint8_t> render(int size) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace robotrain::eval::pusht
