#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "eval/pusht/geometry.h"
#include "eval/pusht/pusht_env.h"
#include "eval/pusht/pusht_expert.h"

using namespace robotrain::eval::pusht;

TEST(PushTGeometry, CoverageIsOneAtGoalAndZeroFarAway) {
  Pose g = PushTEnv::goal_pose();
  EXPECT_NEAR(tee_coverage(g, g), 1.0, 1e-9);
  EXPECT_NEAR(tee_coverage({60, 60, 0}, g), 0.0, 1e-9);
  double partial = tee_coverage({g.x + 10, g.y, g.angle}, g);
  EXPECT_GT(partial, 0.7);
  EXPECT_LT(partial, 0.99);
}

TEST(PushTGeometry, TeeAreaAndClipping) {
  auto pieces = tee_pieces({0, 0, 0.3});
  EXPECT_NEAR(polygon_area(pieces[0]) + polygon_area(pieces[1]), 120 * 30 + 30 * 90, 1e-6);
  Polygon a{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, b{{5, 5}, {15, 5}, {15, 15}, {5, 15}};
  EXPECT_NEAR(polygon_area(clip_convex(a, b)), 25, 1e-9);
  EXPECT_TRUE(point_in_tee({100, 100, 0}, {100, 110}));
  EXPECT_FALSE(point_in_tee({100, 100, 0}, {170, 110}));
}

TEST(PushTEnv, ResetIsDeterministicPerSeed) {
  PushTEnv a, b;
  auto oa = a.reset(7);
  auto ob = b.reset(7);
  EXPECT_EQ(oa.image, ob.image);
  EXPECT_EQ(a.state().block.angle, b.state().block.angle);
  b.reset(8);
  EXPECT_NE(a.state().block.x, b.state().block.x);
  EXPECT_EQ(oa.image.size(), 96u * 96u * 3u);
}

TEST(PushTEnv, AgentFollowsTargetAndPushesBlock) {
  PushTEnv env;
  env.reset_to({{100, 256}, {0, 0}, {256, 256, 0}});
  for (int i = 0; i < 10; ++i) env.step({150, 256});
  EXPECT_NEAR(env.state().agent.x, 150, 3);
  // Push the block's bar from below (body y=0 edge) upward... from the left end: block moves right.
  env.reset_to({{170, 265}, {0, 0}, {256, 250, 0}});
  double x0 = env.state().block.x;
  for (int i = 0; i < 15; ++i) env.step({170 + 8.0 * (i + 1), 265});
  EXPECT_GT(env.state().block.x, x0 + 20) << "the agent should push the block";
  // Quasi-static: once the agent stops, the block stops.
  double x1 = env.state().block.x;
  for (int i = 0; i < 5; ++i) env.step({140, 265});
  EXPECT_NEAR(env.state().block.x, x1, 1.0);
}

// The walls hold: an agent that keeps pushing the block into a wall (and beyond, as actions
// may ask) never gets any part of it out of the workspace, whichever wall it is.
TEST(PushTEnv, WallsKeepTheBlockInsideTheWorkspace) {
  struct Push {
    Vec2 agent, dir;
    Pose block;
  };
  const Push pushes[] = {{{256, 330}, {0, 1}, {256, 420, 0}},
                         {{256, 180}, {0, -1}, {256, 90, 0.4}},
                         {{180, 256}, {-1, 0}, {90, 256, 1.2}},
                         {{330, 256}, {1, 0}, {420, 256, 2.5}}};
  for (const auto& p : pushes) {
    PushTEnv env;
    env.reset_to({p.agent, {0, 0}, p.block});
    // Start just behind the block so the agent is not inside it.
    Vec2 start{p.block.x - p.dir.x * 90, p.block.y - p.dir.y * 90};
    env.reset_to({start, {0, 0}, p.block});
    for (int i = 0; i < 150; ++i) {
      Vec2 target{std::clamp(start.x + p.dir.x * 6.0 * i, 0.0, 512.0), std::clamp(start.y + p.dir.y * 6.0 * i, 0.0, 512.0)};
      env.step(target);
      for (const auto& piece : tee_pieces(env.state().block))
        for (const auto& v : piece) {
          ASSERT_TRUE(v.x > -5 && v.x < 516 && v.y > -5 && v.y < 516)
              << "pushing (" << p.dir.x << ", " << p.dir.y << "), step " << i << ": vertex at " << v.x << ", " << v.y;
        }
    }
  }
}

// Random flailing near the walls (what an untrained policy does) must not squeeze the block
// out of the workspace either.
TEST(PushTEnv, RandomPushingNeverLeavesTheWorkspace) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 512);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    PushTEnv env(PushTConfig{.render = false});
    env.reset(seed);
    for (int i = 0; i < 300; ++i) {
      Pose b = env.state().block;
      // Aim through the block toward a random point, often beyond the walls.
      env.step({std::clamp(b.x + (u(rng) - 256) * 0.8, 0.0, 512.0), std::clamp(b.y + (u(rng) - 256) * 0.8, 0.0, 512.0)});
      for (const auto& piece : tee_pieces(env.state().block))
        for (const auto& v : piece)
          ASSERT_TRUE(v.x > -5 && v.x < 516 && v.y > -5 && v.y < 516)
              << "seed " << seed << ", step " << i << ": vertex at " << v.x << ", " << v.y;
    }
  }
}

TEST(PushTEnv, SuccessWhenBlockOnGoal) {
  PushTEnv env;
  Pose g = PushTEnv::goal_pose();
  env.reset_to({{40, 40}, {0, 0}, g});
  auto r = env.step({40, 40});
  EXPECT_TRUE(r.success);
  EXPECT_TRUE(r.done);
  EXPECT_DOUBLE_EQ(r.reward, 1.0);
}

TEST(PushTExpert, SolvesSomeEpisodes) {
  PushTConfig cfg;
  cfg.render = false;
  int successes = 0;
  const int episodes = 10;
  double mean_start = 0, mean_end = 0;
  for (int seed = 0; seed < episodes; ++seed) {
    PushTEnv env(cfg);
    env.reset(seed);
    PushTExpert expert;
    mean_start += env.coverage() / episodes;
    StepResult r;
    do {
      r = env.step(expert.act(env.state()));
    } while (!r.done);
    successes += r.success;
    mean_end += r.coverage / episodes;
  }
  EXPECT_GT(mean_end, mean_start + 0.3) << "expert should move blocks toward the goal";
  EXPECT_GE(successes, 2) << "expert success " << successes << "/" << episodes;
}
