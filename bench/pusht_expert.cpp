// bench-area: eval
// Push-T: the scripted expert's success rate and mean final coverage over N seeds, against a
// zero-motion baseline (agent holds still) measured in the same run. Prints JSON.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "eval/pusht/pusht_env.h"
#include "eval/pusht/pusht_expert.h"

using namespace robotrain::eval::pusht;

struct Stats {
  int successes = 0;
  double coverage = 0;
  double seconds = 0;
};

template <class Policy>
Stats run(int episodes, Policy policy) {
  PushTConfig cfg;
  cfg.render = false;
  if (const char* m = std::getenv("PUSHT_MAX_STEPS")) cfg.max_steps = std::atoi(m);
  Stats s;
  auto t0 = std::chrono::steady_clock::now();
  for (int seed = 0; seed < episodes; ++seed) {
    PushTEnv env(cfg);
    env.reset(static_cast<uint64_t>(seed));
    PushTExpert expert;
    StepResult r;
    double best = 0;
    do {
      r = env.step(policy(env, expert));
      best = std::max(best, r.coverage);
    } while (!r.done);
    s.successes += r.success;
    s.coverage += best / episodes;
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

int main(int argc, char** argv) {
  int episodes = argc > 1 ? std::atoi(argv[1]) : 100;
  auto expert = run(episodes, [](PushTEnv& env, PushTExpert& e) { return e.act(env.state()); });
  auto still = run(episodes, [](PushTEnv& env, PushTExpert&) { return env.state().agent; });
  std::printf(
      "{\"bench\": \"pusht_expert\", \"episodes\": %d, \"expert_success_rate\": %.3f, \"expert_avg_max_coverage\": %.3f, "
      "\"expert_seconds\": %.2f, \"baseline_still_success_rate\": %.3f, \"baseline_still_avg_max_coverage\": %.3f}\n",
      episodes, static_cast<double>(expert.successes) / episodes, expert.coverage, expert.seconds,
      static_cast<double>(still.successes) / episodes, still.coverage);
}
