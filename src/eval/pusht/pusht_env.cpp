#include "eval/pusht/pusht_env.h"

#include <box2d/box2d.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "eval/pusht/raster.h"

namespace robotrain::eval::pusht {

namespace {

// Box2D is tuned for metre-sized bodies moving < 2 units per step: simulate in metres.
constexpr double kMetresPerUnit = 0.02;
constexpr double kAgentRadius = 15;
constexpr double kKp = 100, kKv = 20;  // gym-pusht's PD gains
constexpr double kWallLow = 5, kWallHigh = 506;  // gym-pusht's walls
// Quasi-static pushing: the block loses (almost) all velocity every physics step.
constexpr float kBlockDamping = 1000.0f;

b2Vec2 to_b2(Vec2 v) { return b2Vec2(static_cast<float>(v.x * kMetresPerUnit), static_cast<float>(v.y * kMetresPerUnit)); }
Vec2 from_b2(b2Vec2 v) { return {v.x / kMetresPerUnit, v.y / kMetresPerUnit}; }

}  // namespace

struct PushTEnv::Impl {
  PushTConfig config;
  std::unique_ptr<b2World> world;
  b2Body* agent = nullptr;
  b2Body* block = nullptr;
  Vec2 agent_velocity;  // units/s, integrated by the PD controller
  int steps = 0;

  void build(const PushTState& s) {
    world = std::make_unique<b2World>(b2Vec2(0, 0));
    b2BodyDef ground_def;
    b2Body* ground = world->CreateBody(&ground_def);
    // gym-pusht's walls run along x, y = 5 and 506. Thin edges let the kinematic agent squeeze
    // the block through them, so each wall is a thick slab outside the workspace instead.
    constexpr double kInner0 = kWallLow, kInner1 = kWallHigh, kThick = 60;
    const Vec2 slabs[4][2] = {{{kInner0 - kThick, kInner0 - kThick}, {kInner0, kInner1 + kThick}},
                              {{kInner1, kInner0 - kThick}, {kInner1 + kThick, kInner1 + kThick}},
                              {{kInner0 - kThick, kInner0 - kThick}, {kInner1 + kThick, kInner0}},
                              {{kInner0 - kThick, kInner1}, {kInner1 + kThick, kInner1 + kThick}}};
    for (const auto& slab : slabs) {
      const Vec2 lo = slab[0], hi = slab[1];
      b2PolygonShape box;
      box.SetAsBox(static_cast<float>((hi.x - lo.x) / 2 * kMetresPerUnit), static_cast<float>((hi.y - lo.y) / 2 * kMetresPerUnit),
                   to_b2({(lo.x + hi.x) / 2, (lo.y + hi.y) / 2}), 0.0f);
      ground->CreateFixture(&box, 0.0f);
    }

    b2BodyDef block_def;
    block_def.type = b2_dynamicBody;
    block_def.position = to_b2({s.block.x, s.block.y});
    block_def.angle = static_cast<float>(s.block.angle);
    block_def.linearDamping = kBlockDamping;
    block_def.angularDamping = kBlockDamping;
    block = world->CreateBody(&block_def);
    double area = 0;
    for (auto& piece : tee_pieces_local()) area += polygon_area(piece);
    for (auto& piece : tee_pieces_local()) {
      b2Vec2 verts[8];
      for (size_t i = 0; i < piece.size(); ++i) verts[i] = to_b2(piece[i]);
      b2PolygonShape shape;
      shape.Set(verts, static_cast<int32>(piece.size()));
      b2FixtureDef fd;
      fd.shape = &shape;
      fd.density = static_cast<float>(1.0 / (area * kMetresPerUnit * kMetresPerUnit));  // mass 1
      fd.friction = 1.0f;
      block->CreateFixture(&fd);
    }
    // gym-pusht puts the centre of gravity at the mean of the two pieces' centroids.
    b2MassData md;
    block->GetMassData(&md);
    b2Vec2 cog = to_b2(tee_center_of_gravity_local());
    md.I += md.mass * (b2Dot(cog, cog) - b2Dot(md.center, md.center));
    md.center = cog;
    block->SetMassData(&md);

    b2BodyDef agent_def;
    agent_def.type = b2_kinematicBody;
    agent_def.position = to_b2(s.agent);
    agent = world->CreateBody(&agent_def);
    b2CircleShape circle;
    circle.m_radius = static_cast<float>(kAgentRadius * kMetresPerUnit);
    b2FixtureDef afd;
    afd.shape = &circle;
    afd.friction = 1.0f;
    agent->CreateFixture(&afd);
    agent_velocity = s.agent_velocity;
    agent->SetLinearVelocity(to_b2(agent_velocity));
    steps = 0;
  }

  // The kinematic agent can squeeze the block into a wall, which no solver can resolve (two
  // infinite masses meet): move the block back inside, as the wall would if the agent yielded.
  void keep_block_inside() {
    double lo_x = 1e9, hi_x = -1e9, lo_y = 1e9, hi_y = -1e9;
    for (const auto& piece : tee_pieces(state().block))
      for (const auto& v : piece) {
        lo_x = std::min(lo_x, v.x), hi_x = std::max(hi_x, v.x);
        lo_y = std::min(lo_y, v.y), hi_y = std::max(hi_y, v.y);
      }
    const double dx = lo_x < kWallLow ? kWallLow - lo_x : hi_x > kWallHigh ? kWallHigh - hi_x : 0;
    const double dy = lo_y < kWallLow ? kWallLow - lo_y : hi_y > kWallHigh ? kWallHigh - hi_y : 0;
    if (dx == 0 && dy == 0) return;
    block->SetTransform(block->GetPosition() + to_b2({dx, dy}), block->GetAngle());
    block->SetLinearVelocity(b2Vec2(0, 0));
    block->SetAngularVelocity(0);
  }

  PushTState state() const {
    PushTState s;
    s.agent = from_b2(agent->GetPosition());
    s.agent_velocity = agent_velocity;
    s.block = {from_b2(block->GetPosition()).x, from_b2(block->GetPosition()).y, block->GetAngle()};
    return s;
  }

  PushTObservation observe() const {
    PushTObservation o;
    o.agent_pos = from_b2(agent->GetPosition());
    o.block = state().block;
    if (config.render) o.image = render(config.image_size);
    return o;
  }

  std::vector<uint8_t> render(int size) const {
    Canvas canvas(size, size / 512.0, {255, 255, 255});
    for (auto& piece : tee_pieces(goal_pose())) canvas.fill_polygon(piece, {144, 238, 144});
    auto s = state();
    for (auto& piece : tee_pieces(s.block)) canvas.fill_polygon(piece, {119, 136, 153});
    canvas.fill_circle(s.agent, kAgentRadius, {65, 105, 225});
    return canvas.take();
  }
};

PushTEnv::PushTEnv(PushTConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->build({{256, 400}, {0, 0}, {256, 300, 0}});
}
PushTEnv::~PushTEnv() = default;
PushTEnv::PushTEnv(PushTEnv&&) noexcept = default;
PushTEnv& PushTEnv::operator=(PushTEnv&&) noexcept = default;

std::vector<float> environment_state(const Pose& block) {
  return {static_cast<float>(block.x), static_cast<float>(block.y), static_cast<float>(std::cos(block.angle)),
          static_cast<float>(std::sin(block.angle))};
}

PushTObservation PushTEnv::reset(uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
  std::uniform_real_distribution<double> agent_xy(50, 450), block_xy(100, 400), angle(-M_PI, M_PI);
  PushTState s;
  for (int attempt = 0; attempt < 100; ++attempt) {
    s.agent = {agent_xy(rng), agent_xy(rng)};
    s.block = {block_xy(rng), block_xy(rng), angle(rng)};
    // Start apart and not already solved, so every episode has something to do.
    if (distance_to_tee(s.block, s.agent) > kAgentRadius + 5 && tee_coverage(s.block, goal_pose()) < 0.5) break;
  }
  return reset_to(s);
}

PushTObservation PushTEnv::reset_to(const PushTState& s) {
  impl_->build(s);
  return impl_->observe();
}

StepResult PushTEnv::step(Vec2 action) {
  auto& m = *impl_;
  action.x = std::clamp(action.x, 0.0, 512.0);
  action.y = std::clamp(action.y, 0.0, 512.0);
  int substeps = m.config.sim_hz / m.config.control_hz;
  double dt = 1.0 / m.config.sim_hz;
  for (int i = 0; i < substeps; ++i) {
    Vec2 pos = from_b2(m.agent->GetPosition());
    Vec2 accel = (action - pos) * kKp + (Vec2{0, 0} - m.agent_velocity) * kKv;
    m.agent_velocity = m.agent_velocity + accel * dt;
    m.agent->SetLinearVelocity(to_b2(m.agent_velocity));
    m.world->Step(static_cast<float>(dt), 8, 3);
    m.keep_block_inside();
  }
  ++m.steps;
  StepResult r;
  r.coverage = coverage();
  r.reward = std::clamp(r.coverage / m.config.success_threshold, 0.0, 1.0);
  r.success = r.coverage >= m.config.success_threshold;
  r.done = r.success || m.steps >= m.config.max_steps;
  r.observation = m.observe();
  return r;
}

PushTState PushTEnv::state() const { return impl_->state(); }
double PushTEnv::coverage() const { return tee_coverage(impl_->state().block, goal_pose()); }
int PushTEnv::steps_taken() const { return impl_->steps; }
const PushTConfig& PushTEnv::config() const { return impl_->config; }
std::vector<uint8_t> PushTEnv::render(int size) const { return impl_->render(size); }

}  // namespace robotrain::eval::pusht
