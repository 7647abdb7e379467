#include <gtest/gtest.h>

#include <cmath>

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
